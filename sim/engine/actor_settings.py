"""What-if settings of an actor: ``--set US.rationality=0``, ``--set RU.foresight=2``.

``--set NAME=VALUE`` fixes a parameter or an initial value; ``--set ACTOR.SETTING=VALUE``
changes how an actor reasons, so a batch can ask how much that reasoning matters:

- ``rationality``: the logit lambda, a number >= 0 that replaces the scenario's
  (which may be an expression); 0 makes the actor choose uniformly among its open
  options, a large value makes it play its best reply;
- ``foresight``: how many rounds ahead the actor foresees branches (a whole number,
  0 = none);
- ``depth``: the k of a ``level-k`` actor (1 to 10);
- ``prior``: the weight of the uniform prior, in rounds, of a ``beliefs`` actor (>= 0);
- ``reasoning``: how the actor expects the others to move (``myopic``, ``level-k``,
  ``beliefs`` or ``equilibrium``), so ``--set RU.reasoning=myopic`` asks what Russia's
  reasoning changes. It is kept as the index of the mode in :data:`REASONINGS` (every
  ``--set`` value is a number) and shown by name; ``depth`` and ``prior`` go with the
  reasoning it sets.

The settings travel with the other ``--set`` values (``BatchOptions.overrides``, the
manifest's ``overrides`` and ``settings``), so a replay, a fork and a comparison see
them. :class:`~sim.engine.model.WargameModel` applies them by playing a copy of the
compiled scenario whose actors carry the new values: the decide phase reads them as it
reads the scenario's own, so nothing else changes and a run depends only on (seed, run,
settings) as before.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

from sim.errors import OptionsError
from sim.language.compiler import CompiledActor, CompiledScenario
from sim.language.expressions import Expression
from sim.language.schema import suggest

#: The reasoning modes, in the order ``--set ACTOR.reasoning`` keeps them by index.
REASONINGS = ("myopic", "level-k", "beliefs", "equilibrium")

#: Setting -> (what it is, which reasoning it goes with, or None for every actor).
ACTOR_SETTINGS: dict[str, tuple[str, str | None]] = {
    "rationality": ("the logit lambda, a number >= 0", None),
    "foresight": ("rounds of foresight, a whole number from 0 to 520", None),
    "depth": ("the k of level-k, a whole number from 1 to 10", "level-k"),
    "prior": ("the weight of the uniform prior in rounds, a number >= 0", "beliefs"),
    "reasoning": ("one of " + ", ".join(REASONINGS), None),
}
_LIMITS = {
    "rationality": (0.0, 1e12),
    "foresight": (0, 520),
    "depth": (1, 10),
    "prior": (0.0, 1e12),
}
_WHOLE = {"foresight", "depth"}


def is_actor_setting(name: str) -> bool:
    """Whether a ``--set`` name is ``ACTOR.SETTING`` rather than a parameter or variable."""
    return "." in name


def check_actor_setting(
    compiled: CompiledScenario,
    name: str,
    value: Any,
    reasoning_of: dict[str, str] | None = None,
) -> float:
    """Check ``--set ACTOR.SETTING=VALUE`` against a scenario and return the number.

    Args:
        compiled: The scenario.
        name: ``ACTOR.SETTING``.
        value: The value as given (a reasoning by name or by its index).
        reasoning_of: Reasonings set by ``--set`` alongside, by actor id (``depth`` and
            ``prior`` go with the reasoning an actor plays with).

    Raises:
        OptionsError: For an unknown actor or setting, a setting that does not go with
            the actor's reasoning, or a value out of range.
    """
    actor_id, _, setting = name.partition(".")
    ids = [a.id for a in compiled.actors]
    if actor_id not in ids:
        raise OptionsError(f"--set {name}: no actor '{actor_id}'" + suggest(actor_id, ids))
    if setting not in ACTOR_SETTINGS:
        known = ", ".join(ACTOR_SETTINGS)
        raise OptionsError(
            f"--set {name}: an actor's settings are {known}" + suggest(setting, ACTOR_SETTINGS)
        )
    what, reasoning = ACTOR_SETTINGS[setting]
    actor = compiled.actors[ids.index(actor_id)]
    if setting == "reasoning":
        return float(_reasoning_index(name, value))
    plays = (reasoning_of or {}).get(actor_id, actor.reasoning)
    if reasoning is not None and plays != reasoning:
        raise OptionsError(
            f"--set {name}: '{setting}' goes with reasoning {reasoning}; {actor_id} reasons {plays}"
        )
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise OptionsError(f"--set {name}={value}: not a number ({what})") from None
    low, high = _LIMITS[setting]
    whole = setting in _WHOLE
    if not math.isfinite(number) or not low <= number <= high or (whole and number % 1):
        raise OptionsError(f"--set {name}={value}: must be {what}")
    return number


def _reasoning_index(name: str, value: Any) -> int:
    """A reasoning given by name (``myopic``) or by its index in :data:`REASONINGS`."""
    text = str(value).strip()
    if text in REASONINGS:
        return REASONINGS.index(text)
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if number.is_integer() and 0 <= number < len(REASONINGS):
        return int(number)
    raise OptionsError(
        f"--set {name}={value}: must be one of {', '.join(REASONINGS)}" + suggest(text, REASONINGS)
    )


def reasonings_set(overrides: dict[str, Any]) -> dict[str, str]:
    """The reasonings ``--set ACTOR.reasoning=...`` gives, by actor id (checked by name)."""
    found = {}
    for name, value in overrides.items():
        actor_id, _, setting = name.partition(".")
        if is_actor_setting(name) and setting == "reasoning":
            found[actor_id] = REASONINGS[_reasoning_index(name, value)]
    return found


def setting_as_written(name: str, value: float) -> Any:
    """An actor setting as a user reads it: a reasoning by name, a whole number as one."""
    if name.partition(".")[2] == "reasoning":
        return REASONINGS[int(value)]
    return int(value) if float(value).is_integer() else value


def _constant(value: float, _ctx: Any, _state: Any, _params: Any, _expect: Any) -> float:
    return value


def _fixed_expression(value: float, like: Expression) -> Expression:
    """An expression that is the number ``value``, located where ``like`` stands."""
    return Expression(
        f"{value:g}",
        like.location,
        functools.partial(_constant, value),
        frozenset(),
        frozenset(),
        False,
        value,
    )


def _actor_with(actor: CompiledActor, settings: dict[str, float]) -> CompiledActor:
    changes: dict[str, Any] = {}
    for setting, value in settings.items():
        if setting == "rationality":
            changes["rationality"] = _fixed_expression(value, actor.rationality)
        elif setting == "reasoning":
            changes["reasoning"] = REASONINGS[int(value)]
        elif setting in _WHOLE:
            changes[setting] = int(value)
        else:
            changes[setting] = float(value)
    return dataclasses.replace(actor, **changes)


def with_actor_settings(
    compiled: CompiledScenario, overrides: dict[str, float] | None
) -> CompiledScenario:
    """The scenario with the actor settings among ``overrides`` applied.

    Args:
        compiled: The scenario.
        overrides: ``--set`` values; only ``ACTOR.SETTING`` names are used (checked by
            :func:`check_actor_setting` when they were given).

    Returns:
        ``compiled`` itself when there is no actor setting; otherwise a copy whose
        actors carry the new values (made once per set of settings and kept).
    """
    settings = {k: float(v) for k, v in (overrides or {}).items() if is_actor_setting(k)}
    if not settings:
        return compiled
    key = tuple(sorted(settings.items()))
    made: dict[tuple[tuple[str, float], ...], CompiledScenario] = compiled.__dict__.setdefault(
        "_with_actor_settings", {}
    )
    if key not in made:
        by_actor: dict[str, dict[str, float]] = {}
        reasoning_of = reasonings_set(settings)
        for name, value in settings.items():
            check_actor_setting(compiled, name, value, reasoning_of)
            actor_id, _, setting = name.partition(".")
            by_actor.setdefault(actor_id, {})[setting] = value
        actors = [
            _actor_with(a, by_actor[a.id]) if a.id in by_actor else a for a in compiled.actors
        ]
        # A new object, so nothing computed from the original actors (the interaction
        # map kept on the scenario) is reused.
        made[key] = dataclasses.replace(compiled, actors=actors)
    return made[key]

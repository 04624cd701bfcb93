"""What differs between the scenarios two batches ran: a readable list of changes.

Two batches are comparable only if the reader knows what was changed between them. A
results folder keeps the exact scenario text it ran and the ``--set`` values, so the
differences are recovered by parsing both texts into typed specs and walking them side
by side. Each change is one line naming where it is, the old value and the new one::

    parameters.dprk_shell_share: triangular(0.3, 0.4, 0.5) → triangular(0.4, 0.5, 0.6)
    actors.RU.rationality: 1.5 → 2
    actors.US.actions.blockade: added
    --set us_aid_cut: (not set: uniform(0.2, 0.8) in the file) → 0.6

Comments and layout are not part of the spec, so a text that differs only in them gives
no change lines (and says so).
"""

from __future__ import annotations

from typing import Any

from sim.engine.actor_settings import is_actor_setting, setting_as_written
from sim.errors import ScenarioError
from sim.language.schema import CategoricalVar, ChoiceParam, Scenario, parse_scenario

ARROW = "→"

#: Positional arguments of each distribution, then optional keyword ones.
DISTRIBUTION_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "fixed": (("value",), ()),
    "uniform": (("low", "high"), ()),
    "normal": (("mean", "sd"), ("low", "high")),
    "triangular": (("low", "mode", "high"), ()),
    "bernoulli": (("p",), ()),
    "choice": (("values",), ("weights",)),
}

#: Sections written as lists of items that carry an ``id``; compared item by item.
_LISTS_BY_ID = ("injects", "branches", "commitments", "endings", "metrics", "sources")


def format_value(value: Any) -> str:
    """A value as a reader expects to see it in a change line."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def format_distribution(parameter: dict[str, Any]) -> str:
    """A parameter's distribution in one short call-like form, e.g. ``uniform(0, 1)``.

    Args:
        parameter: The parameter as dumped from the spec (``dist`` plus its fields).

    Returns:
        For example ``triangular(0.2, 0.4, 0.6)`` or ``normal(1, 0.2, low=0)``.
    """
    dist = parameter["dist"]
    positional, optional = DISTRIBUTION_FIELDS.get(dist, ((), ()))
    args = [format_value(parameter.get(name)) for name in positional]
    args += [
        f"{name}={format_value(parameter[name])}"
        for name in optional
        if parameter.get(name) is not None
    ]
    return f"{dist}({', '.join(args)})"


def _by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: {k: v for k, v in item.items() if k != "id"} for item in items}


def _walk(path: str, before: Any, after: Any, lines: list[str]) -> None:
    if before == after:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in [*before, *(k for k in after if k not in before)]:
            where = f"{path}.{key}" if path else str(key)
            if key not in after:
                lines.append(f"{where}: removed")
            elif key not in before:
                lines.append(f"{where}: added" + _added_detail(after[key]))
            else:
                _walk(where, before[key], after[key], lines)
        return
    lines.append(f"{path}: {format_value(before)} {ARROW} {format_value(after)}")


def _added_detail(value: Any) -> str:
    if isinstance(value, dict):
        return ""
    return f" ({format_value(value)})"


def _diff_parameters(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]], lines: list[str]
) -> None:
    for name in [*before, *(k for k in after if k not in before)]:
        where = f"parameters.{name}"
        if name not in after:
            lines.append(f"{where}: removed (was {format_distribution(before[name])})")
            continue
        if name not in before:
            lines.append(f"{where}: added, {format_distribution(after[name])}")
            continue
        old, new = format_distribution(before[name]), format_distribution(after[name])
        if old != new:
            lines.append(f"{where}: {old} {ARROW} {new}")
        meta_before = {k: v for k, v in before[name].items() if k not in _dist_keys()}
        meta_after = {k: v for k, v in after[name].items() if k not in _dist_keys()}
        _walk(where, meta_before, meta_after, lines)


def _dist_keys() -> set[str]:
    keys = {"dist"}
    for positional, optional in DISTRIBUTION_FIELDS.values():
        keys.update(positional, optional)
    return keys


def spec_differences(before: Scenario, after: Scenario) -> list[str]:
    """List what differs between two scenario specs, one readable line per change.

    Parameters are compared by distribution (``uniform(0, 1) → uniform(0.5, 1)``), then
    by unit, source and confidence; lists of items with ids (endings, branches, ...) are
    compared item by item, and a change of order is reported where it matters (the first
    ending whose condition holds wins).

    Args:
        before: The baseline batch's scenario.
        after: The other batch's scenario.

    Returns:
        Change lines in the order of the scenario's sections; empty if the specs agree.
    """
    old = before.model_dump(mode="json", warnings=False)
    new = after.model_dump(mode="json", warnings=False)
    lines: list[str] = []
    _diff_parameters(old.pop("parameters"), new.pop("parameters"), lines)
    for section in [*old, *(k for k in new if k not in old)]:
        a, b = old.get(section), new.get(section)
        if section == "scenario":
            sources_a, sources_b = a.pop("sources"), b.pop("sources")
            _walk("scenario", a, b, lines)
            _walk("scenario.sources", _by_id(sources_a), _by_id(sources_b), lines)
            continue
        if section in _LISTS_BY_ID:
            a_ids, b_ids = [i["id"] for i in a], [i["id"] for i in b]
            _walk(section, _by_id(a), _by_id(b), lines)
            common_a = [i for i in a_ids if i in b_ids]
            common_b = [i for i in b_ids if i in a_ids]
            if common_a != common_b:
                lines.append(
                    f"{section}: order {', '.join(common_a)} {ARROW} {', '.join(common_b)}"
                )
            continue
        _walk(section, a, b, lines)
    return lines


def _override_value(spec: Scenario | None, name: str, value: Any) -> str:
    """An override as the user typed it (categorical values are stored by index)."""
    if is_actor_setting(name) and isinstance(value, int | float):
        return format_value(setting_as_written(name, float(value)))
    if spec is not None and isinstance(value, int | float):
        categories: tuple[Any, ...] | None = None
        param = spec.parameters.get(name)
        if isinstance(param, ChoiceParam) and param.values and isinstance(param.values[0], str):
            categories = param.values
        var = spec.state.get(name)
        if isinstance(var, CategoricalVar):
            categories = var.values
        if categories is not None and 0 <= int(value) < len(categories):
            return str(categories[int(value)])
    return format_value(value)


def override_differences(
    before: dict[str, Any],
    after: dict[str, Any],
    spec_before: Scenario | None = None,
    spec_after: Scenario | None = None,
) -> list[str]:
    """List the ``--set`` values that differ between two batches.

    Args:
        before: The baseline batch's overrides (manifest ``overrides``).
        after: The other batch's overrides.
        spec_before: The baseline's scenario, to show categorical values by name.
        spec_after: The other batch's scenario.

    Returns:
        Lines like ``--set aid_cut: 0.6 → 0.2`` or, where one batch did not set it,
        ``--set aid_cut: (not set: uniform(0, 1) in the file) → 0.2``.
    """
    lines = []
    for name in [*before, *(k for k in after if k not in before)]:
        if before.get(name) == after.get(name):
            continue
        old = (
            _override_value(spec_before, name, before[name])
            if name in before
            else _as_in_file(spec_before, name)
        )
        new = (
            _override_value(spec_after, name, after[name])
            if name in after
            else _as_in_file(spec_after, name)
        )
        lines.append(f"--set {name}: {old} {ARROW} {new}")
    return lines


def _as_in_file(spec: Scenario | None, name: str) -> str:
    """What a batch without ``--set name`` played: the scenario's own value, if known."""
    if spec is None:
        return "(not set)"
    written: str | None = None
    if is_actor_setting(name):
        actor_id, _, key = name.partition(".")
        actor = spec.actors.get(actor_id)
        value = getattr(actor, key, None) if actor is not None else None
        if value is not None:
            written = format_value(value)
    elif name in spec.parameters:
        param = spec.parameters[name].model_dump(mode="json", warnings=False)
        written = format_distribution(param)
    elif name in spec.state:
        initial = spec.state[name].initial  # a category's name, a number or an expression
        written = initial if isinstance(initial, str) else format_value(initial)
    return f"(not set: {written} in the file)" if written is not None else "(not set)"


def _spec_of(manifest: dict[str, Any]) -> Scenario:
    scenario = manifest["scenario"]
    return parse_scenario(scenario["text"], scenario.get("path") or "<scenario>").spec


def format_design(design: dict[str, Any] | None) -> str:
    """A sweep's design in one line, e.g. ``lhs design (1,000 runs, seed 3) over a, b``."""
    if not design:
        return "(none: parameters drawn independently per run)"
    runs = design.get("runs")
    size = f"{runs:,} runs, " if isinstance(runs, int) else ""
    params = ", ".join(design.get("params", [])) or "no parameters"
    return f"{design.get('kind', '?')} design ({size}seed {design.get('seed')}) over {params}"


def design_differences(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """A line saying how two batches' sweep designs differ (empty if they agree).

    Args:
        before: The baseline's design (manifest ``design``), or None.
        after: The other batch's design, or None.

    Returns:
        ``["design: ... → ..."]`` or ``[]``.
    """
    if (before or None) == (after or None):
        return []
    return [f"design: {format_design(before)} {ARROW} {format_design(after)}"]


def batch_differences(baseline: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """What differs between the scenarios and settings of two batches.

    Args:
        baseline: The baseline batch's manifest.
        other: The other batch's manifest.

    Returns:
        Scenario change lines (see :func:`spec_differences`), then ``--set`` lines, then
        the sweep design if it differs; empty when both batches ran the same text with
        the same settings.
    """
    same_text = baseline["scenario"]["sha256"] == other["scenario"]["sha256"]
    overrides_a = baseline.get("overrides") or {}
    overrides_b = other.get("overrides") or {}
    designs = design_differences(baseline.get("design"), other.get("design"))
    if same_text and overrides_a == overrides_b:
        return designs
    try:
        spec_a, spec_b = _spec_of(baseline), _spec_of(other)
    except ScenarioError as exc:
        first = exc.lines()[0] if exc.lines() else str(exc)
        return [
            f"(the scenario texts differ but one no longer parses, so they cannot be "
            f"compared item by item: {first})",
            *override_differences(overrides_a, overrides_b),
            *designs,
        ]
    lines = [] if same_text else spec_differences(spec_a, spec_b)
    if not same_text and not lines:
        lines.append("(the scenario texts differ only in comments or layout)")
    return lines + override_differences(overrides_a, overrides_b, spec_a, spec_b) + designs

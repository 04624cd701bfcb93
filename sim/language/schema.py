"""The scenario: who the actors are, what they want, what they can do, what happens.

A scenario is a YAML file (see ``docs/scenario-format.md``). :func:`load_scenario` reads
it, checks its shape against the typed, immutable models below, and reports every
problem as ``FILE:LINE:COL: message``. Names inside expressions are checked later, when
the scenario is compiled (:mod:`sim.language.compiler`), but still before anything runs.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import hashlib
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from sim.errors import Problem, ScenarioError
from sim.language.yamlsource import SourceMap, load_yaml

#: Largest magnitude a number in a scenario may have; larger values are almost always
#: typos and would overflow once multiplied in an expression.
MAX_MAGNITUDE = 1e12

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED = {"round", "rest", "True", "False", "and", "or", "not", "if", "else", "in", "is"}

Confidence = Literal["low", "medium", "high"]
Identifier = Annotated[str, Field(pattern=IDENTIFIER.pattern)]


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number (not NaN or infinity)")
    if abs(value) > MAX_MAGNITUDE:
        raise ValueError(f"{value:g} is too large (at most {MAX_MAGNITUDE:g} in magnitude)")
    return value


#: A number that is finite and not huge, checked field by field so an error points at it.
Finite = Annotated[float, AfterValidator(_finite)]
Expr = Finite | str


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Source(_Base):
    """Where a claim comes from."""

    id: Identifier
    title: str
    date: dt.date | None = None
    reliability: Confidence
    url: str | None = None
    note: str = ""


class Meta(_Base):
    """The scenario's identity and clock."""

    id: Identifier
    title: str
    description: str = ""
    start_date: dt.date
    round_days: int = Field(ge=1, le=366)
    rounds: int = Field(ge=1, le=520)
    sources: tuple[Source, ...] = ()


class _Param(_Base):
    unit: str = ""
    source: str | None = None
    confidence: Confidence | None = None
    description: str = ""
    #: True for a claim kept for the record that deliberately moves no outcome.
    context_only: bool = False


class FixedParam(_Param):
    """A parameter with one known value."""

    dist: Literal["fixed"]
    value: Finite | str


class UniformParam(_Param):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: Finite
    high: Finite

    @model_validator(mode="after")
    def _order(self) -> UniformParam:
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) must not exceed high ({self.high:g})")
        return self


class NormalParam(_Param):
    """Normal with mean and sd, optionally truncated to [low, high]."""

    dist: Literal["normal"]
    mean: Finite
    sd: Finite = Field(ge=0)
    low: Finite | None = None
    high: Finite | None = None

    @model_validator(mode="after")
    def _order(self) -> NormalParam:
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        return self


class TriangularParam(_Param):
    """Triangular on [low, high] with its peak at mode."""

    dist: Literal["triangular"]
    low: Finite
    mode: Finite
    high: Finite

    @model_validator(mode="after")
    def _order(self) -> TriangularParam:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if not self.low <= self.mode <= self.high:
            raise ValueError(
                f"mode ({self.mode:g}) must lie from low ({self.low:g}) to high ({self.high:g})"
            )
        return self


class BernoulliParam(_Param):
    """1 with probability p, else 0."""

    dist: Literal["bernoulli"]
    p: Finite = Field(ge=0, le=1)


class ChoiceParam(_Param):
    """One of a list of values (numbers, or names for a categorical parameter)."""

    dist: Literal["choice"]
    values: tuple[Finite, ...] | tuple[Identifier, ...] = Field(min_length=1)
    weights: tuple[Finite, ...] | None = None

    @model_validator(mode="after")
    def _weights(self) -> ChoiceParam:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("weights must have one entry per value")
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be non-negative and not all zero")
        if len(set(self.values)) != len(self.values):
            raise ValueError("values must be distinct")
        return self


Parameter = Annotated[
    FixedParam | UniformParam | NormalParam | TriangularParam | BernoulliParam | ChoiceParam,
    Field(discriminator="dist"),
]


class NumericVar(_Base):
    """A numeric state variable: initial value (number or expression), bounds, unit."""

    initial: Expr
    min: Finite | None = None
    max: Finite | None = None
    unit: str = ""
    title: str = ""
    description: str = ""

    @model_validator(mode="after")
    def _order(self) -> NumericVar:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class CategoricalVar(_Base):
    """A state variable taking one of a fixed set of named values."""

    values: tuple[Identifier, ...] = Field(min_length=1)
    initial: Identifier
    title: str = ""
    description: str = ""

    @model_validator(mode="after")
    def _initial(self) -> CategoricalVar:
        if len(set(self.values)) != len(self.values):
            raise ValueError("values must be distinct")
        if self.initial not in self.values:
            raise ValueError(f"initial '{self.initial}' is not one of {list(self.values)}")
        return self


def _var_kind(data: Any) -> str:
    if isinstance(data, dict) and "values" in data:
        return "categorical"
    return "numeric"


StateVar = Annotated[
    Annotated[NumericVar, Tag("numeric")] | Annotated[CategoricalVar, Tag("categorical")],
    Discriminator(_var_kind),
]


class Payoff(_Base):
    """How an actor values a state: weights over numeric state plus an optional expression."""

    weights: dict[Identifier, Finite] = {}
    expression: str | None = None


class Action(_Base):
    """Something an actor can do in a round."""

    description: str = ""
    when: str | None = None
    cost: Expr = 0.0
    effects: dict[Identifier, Expr] = {}


def _non_negative(value: float) -> float:
    if value < 0:
        raise ValueError("must be 0 or more (0 = a uniform choice)")
    return value


#: The ways an actor can reason about the others (see sim/engine/reasoning.py).
Reasoning = Literal["myopic", "equilibrium", "level-k", "beliefs"]


class Actor(_Base):
    """A state actor: payoff rule, rationality, reasoning and the actions open to it."""

    name: str
    rationality: Annotated[Finite, AfterValidator(_non_negative)] | str = 1.0
    decision: str = "logit"
    reasoning: Reasoning = "myopic"
    depth: int | None = Field(default=None, ge=1, le=10)
    prior: Finite | None = Field(default=None, ge=0)
    foresight: int = Field(default=0, ge=0, le=520)
    payoff: Payoff = Payoff()
    actions: dict[Identifier, Action] = Field(min_length=1)
    script: dict[int, Identifier] = {}

    @model_validator(mode="after")
    def _reasoning_keys(self) -> Actor:
        if self.depth is not None and self.reasoning != "level-k":
            raise ValueError(_at("depth", "'depth' goes with reasoning: level-k"))
        if self.prior is not None and self.reasoning != "beliefs":
            raise ValueError(_at("prior", "'prior' goes with reasoning: beliefs"))
        return self


class Inject(_Base):
    """Something that happens to the actors: at a round, or when a condition first holds.

    With ``hazard`` it happens by chance: in each round while ``when`` holds (every round
    without one) with that probability, until it has happened once.
    """

    id: Identifier
    round: int | None = Field(default=None, ge=1)
    when: str | None = None
    hazard: Expr | None = None
    text: str = ""
    prompt: str | None = None
    effects: dict[Identifier, Expr] = {}

    @model_validator(mode="after")
    def _trigger(self) -> Inject:
        if self.hazard is not None and self.round is not None:
            raise ValueError("an inject takes 'round' or 'hazard', not both")
        if self.round is None and self.when is None and self.hazard is None:
            raise ValueError("an inject needs 'round', 'when' or 'hazard'")
        return self


class Outcome(_Base):
    """One way a branch can go (its probability; none for a branch an actor decides)."""

    probability: Expr | None = None
    text: str = ""
    effects: dict[Identifier, Expr] = {}


class Branch(_Base):
    """A named decision point whose outcome is drawn from state-dependent probabilities.

    With ``hazard`` it resolves by chance: in each round while ``when`` holds, with that
    probability. With ``decided_by`` an actor chooses the outcome (a decision node): its
    options are the outcomes, each scored by what it is worth to the actor.
    """

    id: Identifier
    round: int | None = Field(default=None, ge=1)
    when: str | None = None
    hazard: Expr | None = None
    decided_by: Identifier | None = None
    variable: Identifier | None = None
    text: str = ""
    prompt: str | None = None
    outcomes: dict[Identifier, Outcome] = Field(min_length=2)

    @model_validator(mode="after")
    def _trigger(self) -> Branch:
        if self.hazard is not None and self.round is not None:
            raise ValueError("a branch takes 'round' or 'hazard', not both")
        if self.round is None and self.when is None and self.hazard is None:
            raise ValueError("a branch needs 'round', 'when' or 'hazard'")
        if self.decided_by is not None:
            given = [k for k, o in self.outcomes.items() if o.probability is not None]
            if given:
                raise ValueError(
                    _at(
                        f"outcomes/{given[0]}/probability",
                        f"outcome '{given[0]}' has a probability, but the branch is decided "
                        f"by {self.decided_by}: drop the probabilities",
                    )
                )
            return self
        missing = [k for k, o in self.outcomes.items() if o.probability is None]
        if missing:
            raise ValueError(
                f"outcome '{missing[0]}' needs a 'probability' (or 'rest'), or the branch a "
                "'decided_by' actor"
            )
        rests = [k for k, o in self.outcomes.items() if o.probability == "rest"]
        if len(rests) > 1:
            raise ValueError(
                _at(
                    f"outcomes/{rests[1]}/probability",
                    "at most one outcome may have probability 'rest'",
                )
            )
        return self


class Process(_Base):
    """A background process: effects applied at the start of every round (while ``when``)."""

    id: Identifier
    when: str | None = None
    description: str = ""
    effects: dict[Identifier, Expr] = Field(min_length=1)


class Commitment(_Base):
    """A conditional obligation: when ``trigger`` holds, ``actor`` is bound to ``action``.

    ``force: true`` makes the action certain whenever it is feasible; ``bonus`` adds to
    its score instead, so a rational actor may still break the commitment.
    """

    id: Identifier
    actor: Identifier
    action: Identifier
    trigger: str
    to: Identifier | None = None
    force: bool = False
    bonus: Expr | None = None
    source: str | None = None
    confidence: Confidence | None = None
    description: str = ""

    @model_validator(mode="after")
    def _strength(self) -> Commitment:
        if self.force == (self.bonus is not None):
            raise ValueError("a commitment needs exactly one of 'force: true' or 'bonus'")
        return self


class Ending(_Base):
    """A named end state: the first whose ``when`` holds wins; one without is the fallback.

    ``stop: true`` ends a run in the first round the condition holds (state frozen, later
    rounds unplayed); ``payoffs`` gives actors a one-off payoff when the run ends this way.
    """

    id: Identifier
    title: str = ""
    when: str | None = None
    description: str = ""
    stop: bool = False
    payoffs: dict[Identifier, Expr] = {}


class Metric(_Base):
    """A quantity recorded every round: a state variable or an expression."""

    id: Identifier
    expression: str | None = None
    title: str = ""
    unit: str = ""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"id": data} if isinstance(data, str) else data


class Scenario(_Base):
    """A whole scenario, as written in its YAML file (shape-checked, not yet compiled)."""

    format: Literal[1] = 1
    extends: str | None = None
    scenario: Meta
    parameters: dict[Identifier, Parameter] = {}
    state: dict[Identifier, StateVar] = {}
    define: dict[Identifier, Expr] = {}
    actors: dict[Identifier, Actor] = Field(min_length=1)
    every_round: tuple[Process, ...] = ()
    injects: tuple[Inject, ...] = ()
    branches: tuple[Branch, ...] = ()
    commitments: tuple[Commitment, ...] = ()
    endings: tuple[Ending, ...] = Field(min_length=1)
    metrics: tuple[Metric, ...] = ()

    @field_validator("endings")
    @classmethod
    def _fallback(cls, endings: tuple[Ending, ...]) -> tuple[Ending, ...]:
        fallbacks = [e.id for e in endings if e.when is None]
        if len(fallbacks) != 1 or endings[-1].when is not None:
            raise ValueError(
                "exactly one ending must have no 'when' (the fallback), and it must come last"
            )
        if endings[-1].stop:
            raise ValueError("the fallback ending cannot 'stop' a run (it has no condition)")
        return endings


class LoadedScenario:
    """A shape-checked scenario with its source text, positions and fingerprint.

    Attributes:
        spec: The typed, immutable scenario.
        source: Positions of every key and value in the file.
        text: The file's text exactly as read.
        sha256: Hex digest of ``text`` (UTF-8), the scenario's fingerprint in results.
        path: The file path as given.
    """

    def __init__(self, spec: Scenario, source: SourceMap, text: str, path: str):
        self.spec = spec
        self.source = source
        self.text = text
        self.path = path
        self.sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()


def _number(value: float) -> str:
    """A number as the author wrote it: 100000000 stays whole, not 1e+08; 1.5 stays 1.5."""
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return f"{int(value):,}" if abs(value) < 1e16 else f"{value:g}"
    return f"{value:g}"


def _at(where: str, message: str) -> str:
    """A validator's message that names the key it is about, below the model's own place.

    ``where`` is a ``/``-separated path (``outcomes/release/probability``); the error is
    then located there rather than at the start of the model (see :func:`parse_scenario`).
    """
    return f"@{where}|{message}"


def _describe(error: dict[str, Any]) -> tuple[str, bool]:
    kind = error["type"]
    loc = [str(p) for p in error["loc"]]
    if kind == "extra_forbidden":
        return f"unknown key '{loc[-1]}'", True
    if kind == "missing":
        return f"missing required key '{loc[-1]}'", False
    if kind == "union_tag_not_found":  # e.g. a parameter without 'dist'
        return f"missing required key {error['ctx']['discriminator']}", False
    if kind == "union_tag_invalid":  # e.g. dist: gaussian
        ctx = error["ctx"]
        tags = [t.strip("' ") for t in str(ctx["expected_tags"]).split(",")]
        key = str(ctx["discriminator"]).strip("'")
        message = f"unknown {key} '{ctx['tag']}'; choose one of {', '.join(tags)}"
        return message + suggest(str(ctx["tag"]), tags), False
    if kind in ("date_from_datetime_inexact", "date_from_datetime_parsing", "date_type"):
        given = error.get("input")
        shown = f"'{given}'" if isinstance(given, str) else str(given)
        return f"{shown} is not a date: write it as YYYY-MM-DD, e.g. 2025-08-15", False
    if kind in ("model_type", "dict_type"):  # pydantic: "... or instance of Action"
        given = error.get("input")
        if given is None:
            name = f"'{loc[-1]}'" if loc else "this"
            return (
                f"{name} has nothing under it: its keys go on the lines below, "
                f"indented two spaces more than {name}"
            ), False
        return f"expected keys and values here, not {_kind_of(given)}", False
    if kind == "literal_error":  # e.g. reasoning: belief
        expected = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        given = error.get("input")
        message = f"'{given}' is not one of {', '.join(expected)}"
        return message + (suggest(str(given), expected) if isinstance(given, str) else ""), False
    plain = _plain_type_error(kind, error.get("input"))
    if plain is not None:
        return plain, False
    bound = _BOUNDS.get(kind)
    if bound is not None:
        limit = error.get("ctx", {}).get(bound[0])
        given = error.get("input")
        shown = _number(given) if isinstance(given, int | float) else repr(given)
        return f"must be {bound[1]} {_number(limit)}, not {shown}", False
    message = error["msg"]
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return message, False


#: pydantic's error kinds for a number out of bounds: the bound's key, and its words.
_BOUNDS = {
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "less than"),
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "greater than"),
}

#: pydantic's error kinds for a value of the wrong type, and what was expected instead.
_EXPECTED = {
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "int_parsing": "a whole number, e.g. 6",
    "int_type": "a whole number, e.g. 6",
    "int_from_float": "a whole number, e.g. 6",
    "float_parsing": "a number, e.g. 0.5",
    "float_type": "a number, e.g. 0.5",
    "string_type": "text (put it in quotes if it looks like a number or true/false)",
}


def _plain_type_error(kind: str, given: Any) -> str | None:
    """A wrong-typed value in an author's words: "expected true or false, not the text 'maybe'"."""
    if kind == "string_pattern_mismatch":
        # An id (of an actor, action, value...), not "String should match pattern '^[A-...".
        return (
            f"'{given}' is not an id: ids are letters, digits and underscores, starting "
            "with a letter"
        )
    expected = _EXPECTED.get(kind)
    if expected is None:
        return None
    return f"expected {expected}, not {_kind_of(given)}"


def _kind_of(value: Any) -> str:
    """A YAML value as an author would name it: a list, the text 'x', the number 3."""
    if isinstance(value, list):
        return "a list (here each entry is 'name:' with its keys under it, not '- ...')"
    if isinstance(value, bool):
        return f"the value {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value:g}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text '{shown}'"
    return f"a {type(value).__name__}"


def _allowed_keys(model: Any, loc: tuple[Any, ...]) -> list[str]:
    """Names of the keys valid where an unknown key stands, for 'did you mean'."""
    target: Any = model
    for part in loc[:-1]:
        fields = getattr(target, "model_fields", None)
        if fields is None:
            return []
        if part in fields:
            annotation = fields[part].annotation
            target = _inner_model(annotation)
        else:
            target = target  # a dict key or list index: stay on the value model
        if target is None:
            return []
    fields = getattr(target, "model_fields", None)
    return list(fields) if fields else []


def _inner_model(annotation: Any) -> Any:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _path_in(data: Any, loc: tuple[Any, ...], absent_key: bool) -> tuple[Any, ...]:
    """Keep the parts of a pydantic error location that exist in the data (drop tags)."""
    path: list[Any] = []
    node = data
    for part in loc:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            path.append(part)
            node = node[part]
        elif absent_key and isinstance(node, dict) and isinstance(part, str) and loc[-1] == part:
            path.append(part)  # a missing or unknown key: locate at its parent or key
            break
    return tuple(path)


def _named(data: Any, path: tuple[Any, ...]) -> list[str]:
    """A path's parts as text, an item of a list (branches, endings) by its id if it has one."""
    parts = []
    node = data
    for part in path:
        node = node[part] if isinstance(node, dict | list) else None
        if isinstance(part, int) and isinstance(node, dict) and isinstance(node.get("id"), str):
            parts.append(node["id"])
        else:
            parts.append(str(part))
    return parts


def _not_an_id(data: Any, given: Any, message: str) -> str:
    """'not an id', pointing to the actor so named where ``given`` is an actor's name."""
    actors = data.get("actors") if isinstance(data, dict) else None
    if isinstance(actors, dict) and isinstance(given, str):
        names = {
            str(a): str(spec.get("name", ""))
            for a, spec in actors.items()
            if isinstance(spec, dict)
        }
        named = actor_named(given, names)
        if named is not None:
            return message + _named_actor_hint(named)
    if isinstance(given, str) and re.fullmatch(r"[A-Za-z_][\w ]*", given.strip()):
        example = re.sub(r"\W+", "_", given.strip())
        return message + f" (e.g. '{example}')"
    return message


def unknown_actor(given: str, names: dict[str, str]) -> str:
    """``unknown actor 'X'``, with the id of the actor named X or the nearest id.

    Args:
        given: What the author wrote.
        names: Each actor's id -> its name.
    """
    named = actor_named(given, names)
    if named is not None:
        return f"unknown actor '{given}'" + _named_actor_hint(named)
    return f"unknown actor '{given}'" + suggest(given, list(names))


def actor_named(given: str, names: dict[str, str]) -> str | None:
    """The id of the one actor whose name ``given`` is (or begins), else None.

    Not where ``given`` is an id in another case ('Asean' for 'ASEAN': a typo of the id).

    Args:
        given: What the author wrote.
        names: Each actor's id -> its name.
    """
    folded = given.strip().casefold()
    if any(a.casefold() == folded for a in names):
        return None
    named = [a for a, name in names.items() if name and name.casefold() == folded]
    named = named or [
        a for a, name in names.items() if name and name.casefold().startswith(folded + " ")
    ]
    return named[0] if len(named) == 1 else None


def _named_actor_hint(actor_id: str) -> str:
    return (
        f": that is the name of actor '{actor_id}'; actors are referred to by their id "
        f"('{actor_id}')"
    )


def suggest(name: str, choices: Any) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest of ``choices``, or ``""``.

    The same name in another case comes first (``Asean`` for ``ASEAN``), then the one
    name that starts with it (``ease`` for ``ease_sanctions``), then the closest by
    spelling, then the one name a single edit away after case folding (``Fl`` for
    ``FI``).
    """
    close = closest_name(name, list(choices))
    return f" (did you mean '{close}'?)" if close else ""


def closest_name(name: str, choices: list[str]) -> str | None:
    """The one of ``choices`` a user most likely meant by ``name``, or ``None``.

    Args:
        name: What the user wrote.
        choices: The names it may stand for.
    """
    folded = name.casefold()
    same = [c for c in choices if c.casefold() == folded]
    if same:
        return same[0]
    if len(folded) >= 3:
        starting = [c for c in choices if c.casefold().startswith(folded)]
        if len(starting) == 1:
            return starting[0]
    by_spelling = {c.casefold(): c for c in choices}
    close = difflib.get_close_matches(folded, list(by_spelling), n=1, cutoff=0.6)
    if close:
        return by_spelling[close[0]]
    # A short name is too short for a spelling ratio: "Fl" for "FI" (a lower-case L for
    # a capital i) shares half its letters. One edit is a slip when exactly one name is
    # that near; a name of one letter is one edit from every other such name.
    if len(folded) >= 2:
        near = [c for spelling, c in by_spelling.items() if _one_edit(folded, spelling)]
        if len(near) == 1:
            return near[0]
    return None


def _one_edit(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one letter changed, added, dropped, or two swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        i = diffs[0]
        return len(diffs) == 2 and diffs[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


#: Keys of an actor's parts, and where they go when one slips out to the actor's level.
_HOMES = {
    "weights": "'payoff:'",
    "expression": "'payoff:'",
    "effects": "an action",
    "cost": "an action",
}


def _misplaced_fields(errors: list[Any]) -> set[tuple[Any, ...]]:
    """Actions or outcomes named like one of their own fields that failed to validate.

    An ``effects:`` (or ``cost:``, ``probability:``...) one indent too shallow becomes an
    action or outcome of that name, and each of its lines an "unknown key" error below
    it; the slip is the key itself. A valid action that happens to be called ``cost``
    is left alone: only one with errors is reported.
    """
    found = set()
    for error in errors:
        loc = tuple(error["loc"])
        if len(loc) < 4:
            continue
        fields = {"actions": Action.model_fields, "outcomes": Outcome.model_fields}.get(loc[2])
        if loc[0] in ("actors", "branches") and fields is not None and loc[3] in fields:
            found.add(loc[:4])
    return found


def parse_scenario(text: str, path: str = "<scenario>") -> LoadedScenario:
    """Parse and shape-check scenario text.

    Args:
        text: The YAML text.
        path: The file name used in error messages.

    Returns:
        The loaded scenario (not yet compiled).

    Raises:
        ScenarioError: Listing every problem found, each as ``FILE:LINE:COL: message``.
    """
    data, source = load_yaml(text, path)
    if not isinstance(data, dict):
        raise ScenarioError([source.problem((), "a scenario must be a mapping of sections")])
    if "extends" in data:
        from sim.language.extends import dump, resolve

        data, source = resolve(data, source, _read_yaml)
        text = dump(data, path)
    try:
        spec = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = []
        errors = exc.errors()
        misplaced = _misplaced_fields(errors)
        for loc in sorted(misplaced, key=str):
            kind = "action" if loc[2] == "actions" else "outcome"
            problems.append(
                source.problem(
                    loc,
                    f"'{loc[3]}' stands where the {kind}s are named, so it is read as an "
                    f"{kind} called '{loc[3]}': indent it under the {kind} above it (two "
                    f"spaces more) to make it that {kind}'s {loc[3]}",
                    key=True,
                )
            )
        errors = [e for e in errors if tuple(e["loc"][:4]) not in misplaced]
        # A list whose only entry is wrong is also "too short" to pydantic: the entry's
        # own error says what to fix.
        inner = [tuple(e["loc"]) for e in errors]
        errors = [
            e
            for e in errors
            if e["type"] != "too_short"
            or not any(
                len(o) > len(e["loc"]) and o[: len(e["loc"])] == tuple(e["loc"]) for o in inner
            )
        ]
        located = [_path_in(data, tuple(e["loc"]), False) for e in errors]
        either = {w for e, w in zip(errors, located, strict=True) if e["type"] == "string_type"}
        for error, where_at in zip(errors, located, strict=True):
            if error["type"] == "string_type" and located.count(where_at) > 1:
                continue  # a number-or-expression field: the other error says more
            loc = tuple(error["loc"])
            message, at_key = _describe(error)
            if message.startswith("@") and "|" in message:
                below, message = message[1:].split("|", 1)
                loc = (*loc, *below.split("/"))
            if error["type"] == "float_type" and where_at in either:
                message = "must be a number or an expression (e.g. 1.5 or '0.5 + tension')"
            elif error["type"] == "float_parsing" and loc[-3:-1] == ("payoff", "weights"):
                message = (
                    "a weight is a number; a term that is an expression goes in the payoff's "
                    f"'expression' (e.g. expression: \"{error.get('input')} * {loc[-1]}\")"
                )
            if error["type"] == "extra_forbidden":
                home = _HOMES.get(str(loc[-1]))
                if home is not None and loc[0] == "actors":
                    message += f": it belongs under {home} (indented two spaces more)"
                else:
                    message += suggest(str(loc[-1]), _allowed_keys(Scenario, loc))
            if error["type"] == "union_tag_invalid":
                loc = (*loc, str(error["ctx"]["discriminator"]).strip("'"))
            if error["type"] == "string_pattern_mismatch":
                message = _not_an_id(data, error.get("input"), message)
                if loc and loc[-1] == "[key]":
                    # A key that is not an id: at the key, not at what is below it.
                    loc, at_key = loc[:-1], True
            spot = _path_in(data, loc, error["type"] in ("extra_forbidden", "missing"))
            if error["type"] in ("extra_forbidden", "missing") or (
                at_key and error["type"] == "string_pattern_mismatch"
            ):
                shown = spot[:-1]
            else:
                shown = spot
            where = ".".join(_named(data, shown))
            if where:
                message = f"{where}: {message}"
            problems.append(source.problem(spot, message, key=at_key))
        failure = ScenarioError(problems)
        failure.partial = _without_unknown_keys(data, errors, source, text, path)
        raise failure from None
    return LoadedScenario(spec, source, text, path)


def _without_unknown_keys(
    data: Any, errors: list[Any], source: SourceMap, text: str, path: str
) -> LoadedScenario | None:
    """The scenario without its unknown keys, if that is all that is wrong with it.

    So one ``validate`` reports a misspelt key and the names and expressions that are
    wrong elsewhere, not one after the other. Only keys inside an entry (an actor's, an
    action's, a branch's...) are dropped: a misspelt section (``paramters:``) would leave
    every name it defines unknown, errors the misspelling alone explains. A key that is
    not an id in an ending's ``payoffs`` or a payoff's ``weights`` (``South Korea: 1``)
    is dropped too: nothing else refers to it.
    """

    def droppable(error: Any) -> bool:
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            return len(loc) >= 3
        return (
            error["type"] == "string_pattern_mismatch"
            and len(loc) >= 3
            and loc[-1] == "[key]"
            and loc[-3] in ("payoffs", "weights")
        )

    if not errors or not all(droppable(e) for e in errors):
        return None
    repaired = copy.deepcopy(data)
    for error in errors:
        loc = tuple(error["loc"])
        where = _path_in(repaired, loc[:-1] if loc[-1] == "[key]" else loc, False)
        if loc[-1] == "[key]":
            loc = loc[:-1]
        if len(where) != len(loc) or not where:
            return None  # a tag in the location: not a plain key to drop
        node = repaired
        for part in where[:-1]:
            node = node[part]
        if not isinstance(node, dict):
            return None
        node.pop(where[-1], None)
    try:
        return LoadedScenario(Scenario.model_validate(repaired), source, text, path)
    except ValidationError:
        return None


def load_scenario(path: str | Path) -> LoadedScenario:
    """Read and shape-check a scenario file.

    Args:
        path: Path to the YAML file.

    Returns:
        The loaded scenario (not yet compiled; see :func:`sim.language.compiler.compile_scenario`).

    Raises:
        ScenarioError: If the file cannot be read or is invalid.
    """
    name = str(path)
    if Path(path).is_dir():
        raise ScenarioError([Problem(name, 0, 0, "is a folder: give a scenario file (.yaml)")])
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ScenarioError([Problem(name, 0, 0, f"cannot read file: {exc.strerror}")]) from None
    return parse_scenario(_decode(raw, name), name)


def _decode(raw: bytes, name: str) -> str:
    """A file's bytes as text, or a located error if they are not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = len(raw[raw.rfind(b"\n", 0, exc.start) + 1 : exc.start].decode("utf-8")) + 1
        bad = raw[exc.start : exc.end].hex(" ")
        message = f"not UTF-8 text (byte {bad}); save the file as UTF-8"
        raise ScenarioError([Problem(name, line, col, message)]) from None


def _read_yaml(path: str) -> tuple[Any, SourceMap]:
    """A scenario file another extends: its document and positions (OSError if absent)."""
    return load_yaml(_decode(Path(path).read_bytes(), path), path)

"""Compiling a loaded scenario: names resolved, expressions compiled, levers checked.

:func:`compile_scenario` turns a :class:`~sim.language.schema.LoadedScenario` into a
:class:`CompiledScenario`: every name is looked up, every expression is compiled once,
every cross-reference (an action in a commitment, an outcome in a branch's variable,
a source id) is checked, and all problems are reported together with their positions.

Looking for *dead levers* (a parameter nothing reads, an action no actor can ever take,
an ending no run can reach) needs sampled parameters, so it is not done here but by
:func:`sim.engine.loading.load`, which compiles and then attaches those warnings. Compiling
alone (:func:`compile_text`) is what a batch worker does with the text it is sent.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from sim.errors import Problem, ScenarioError
from sim.language.expressions import (
    FUNCTIONS,
    Expression,
    Location,
    Symbol,
    SymbolTable,
    compile_expression,
)
from sim.language.schema import (
    RESERVED,
    CategoricalVar,
    ChoiceParam,
    FixedParam,
    LoadedScenario,
    Scenario,
    parse_scenario,
    suggest,
    unknown_actor,
)
from sim.language.yamlsource import Position

DECISION_RULES = ("logit", "best_response", "scripted", "human")
EffectOp = Literal["add", "sub", "mul", "set"]
_OPS: dict[str, EffectOp] = {"+=": "add", "-=": "sub", "*=": "mul", "=": "set"}
#: Each effect operation as a scenario writes it (``add`` -> ``+=``).
EFFECT_OPERATORS: dict[EffectOp, str] = {op: text for text, op in _OPS.items()}


@dataclass(frozen=True)
class Effect:
    """A change to one state variable: ``target op= expression``."""

    target: int
    op: EffectOp
    expression: Expression


@dataclass(frozen=True)
class CompiledAction:
    """An action with its condition, cost and effects compiled."""

    id: str
    description: str
    when: Expression | None
    cost: Expression
    effects: tuple[Effect, ...]


@dataclass(frozen=True)
class CompiledActor:
    """An actor ready to play: payoff rule, reasoning and actions compiled.

    Attributes:
        rationality: The logit lambda, an expression of the observed state (a constant
            for a number); negative values count as 0.
        reasoning: ``myopic``, ``equilibrium``, ``level-k`` or ``beliefs``.
        depth: The k of level-k (1 otherwise).
        prior: The weight of the uniform prior, in rounds, for ``beliefs`` (1 otherwise).
        foresight: How many rounds ahead the actor foresees branches (0 = none).
    """

    id: str
    name: str
    rationality: Expression
    decision: str
    weights: tuple[tuple[int, float], ...]
    payoff_expression: Expression | None
    actions: tuple[CompiledAction, ...]
    script: dict[int, int]
    reasoning: str = "myopic"
    depth: int = 1
    prior: float = 1.0
    foresight: int = 0

    def action_index(self, action_id: str) -> int:
        """Index of an action by id."""
        return [a.id for a in self.actions].index(action_id)


@dataclass(frozen=True)
class CompiledInject:
    """An inject: fires once, at its round and/or when its condition first holds.

    With a ``hazard``, by chance: with that probability in each round its condition
    holds.
    """

    id: str
    round: int | None
    when: Expression | None
    text: str
    prompt: str | None
    effects: tuple[Effect, ...]
    hazard: Expression | None = None


@dataclass(frozen=True)
class CompiledOutcome:
    """One outcome of a branch; ``probability`` is ``None`` for 'rest'."""

    id: str
    probability: Expression | None
    text: str
    effects: tuple[Effect, ...]


@dataclass(frozen=True)
class CompiledBranch:
    """A decision point resolved once per run.

    Attributes:
        hazard: Chance of resolving in each round its condition holds (``None``: at its
            round, or the first round its condition holds).
        decided_by: Index of the actor that chooses the outcome (``None``: drawn from
            the outcomes' probabilities).
    """

    id: str
    round: int | None
    when: Expression | None
    variable: int | None
    text: str
    prompt: str | None
    outcomes: tuple[CompiledOutcome, ...]
    hazard: Expression | None = None
    decided_by: int | None = None


@dataclass(frozen=True)
class CompiledProcess:
    """A background process: effects at the start of every round while ``when`` holds."""

    id: str
    when: Expression | None
    effects: tuple[Effect, ...]


@dataclass(frozen=True)
class CompiledCommitment:
    """An obligation binding ``actor`` to ``action`` while ``trigger`` holds."""

    id: str
    actor: int
    action: int
    trigger: Expression
    force: bool
    bonus: Expression | None
    to: str | None
    description: str


@dataclass(frozen=True)
class CompiledEnding:
    """A named ending; ``when`` is ``None`` for the fallback.

    Attributes:
        stop: End a run in the first round ``when`` holds.
        payoffs: One-off payoff per actor index when a run ends this way.
    """

    id: str
    title: str
    when: Expression | None
    stop: bool = False
    payoffs: dict[int, Expression] = field(default_factory=dict)


@dataclass(frozen=True)
class CompiledMetric:
    """A quantity recorded each round."""

    id: str
    title: str
    unit: str
    expression: Expression


@dataclass
class CompiledScenario:
    """A scenario ready to run: everything resolved and compiled.

    Attributes:
        loaded: The loaded scenario (text, sha256, positions, typed spec).
        param_names: Parameters in order; their values live at the same index.
        param_categories: Categories of categorical parameters, else ``None``.
        state_names: State variables in order.
        state_categories: Categories of categorical state variables, else ``None``.
        state_units: Unit of each state variable ('' for categorical ones).
        state_initial: Expression giving each variable's initial value.
        state_low: Lower bound of each state variable (-inf if none).
        state_high: Upper bound of each state variable (+inf if none).
        actors: The actors in file order.
        injects: Injects in file order.
        branches: Branches in file order.
        commitments: Commitments in file order.
        endings: Endings in order (first match wins, fallback last).
        metrics: Metrics in order.
        warnings: Dead-lever warnings; empty until :func:`sim.engine.loading.load` looks for them.
    """

    loaded: LoadedScenario
    param_names: list[str]
    param_categories: list[tuple[str, ...] | None]
    state_names: list[str]
    state_categories: list[tuple[str, ...] | None]
    state_units: list[str]
    state_initial: list[Expression]
    state_low: np.ndarray
    state_high: np.ndarray
    actors: list[CompiledActor]
    injects: list[CompiledInject]
    branches: list[CompiledBranch]
    commitments: list[CompiledCommitment]
    endings: list[CompiledEnding]
    metrics: list[CompiledMetric]
    warnings: list[Problem] = field(default_factory=list)
    processes: list[CompiledProcess] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The scenario id."""
        return self.loaded.spec.scenario.id

    @property
    def title(self) -> str:
        """The scenario title."""
        return self.loaded.spec.scenario.title

    @property
    def rounds(self) -> int:
        """Number of rounds in a game."""
        return self.loaded.spec.scenario.rounds

    @property
    def sha256(self) -> str:
        """Fingerprint of the scenario text."""
        return self.loaded.sha256

    def actor_index(self, actor_id: str) -> int:
        """Index of an actor by id."""
        return [a.id for a in self.actors].index(actor_id)

    def summary_line(self) -> str:
        """One line: actors, actions, rounds, parameters."""
        actions = sum(len(a.actions) for a in self.actors)

        def count(n: int, noun: str) -> str:
            return f"{n} {noun}" + ("" if n == 1 else "es" if noun.endswith("ch") else "s")

        return (
            f"{self.loaded.path}: ok: scenario '{self.id}', {count(len(self.actors), 'actor')}, "
            f"{count(actions, 'action')}, {count(self.rounds, 'round')}, "
            f"{count(len(self.param_names), 'parameter')}, "
            f"{count(len(self.branches), 'branch')}, {count(len(self.endings), 'ending')}"
        )


def _align(
    file_text: str, pos: Position, skip: int, text: str
) -> tuple[tuple[int, int], ...] | None:
    """The file (line, col) of each character of ``text``, read from the scalar at ``pos``.

    YAML folds a value written over several lines, strips its indentation and removes
    its quotes; matching the expression's characters in order against the file, over
    whitespace, quotes and backslashes, undoes that. ``skip`` characters (an effect's
    operator) come first. Returns ``None`` if the characters cannot be matched.
    """
    starts = [0]
    for line in file_text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    if not 1 <= pos.line < len(starts):
        return None
    p = starts[pos.line - 1] + pos.col - 1
    if pos.style in ("|", ">"):
        p = starts[pos.line] if pos.line < len(starts) - 1 else len(file_text)
        while p < len(file_text) and file_text[p].isspace():
            p += 1
    elif pos.style in ('"', "'"):
        p += 1
    p += skip
    found: list[int | None] = []
    for char in text:
        if char.isspace():
            found.append(None)  # stands where the next character does
            continue
        while p < len(file_text) and file_text[p] != char:
            if not (file_text[p].isspace() or file_text[p] in "\"'\\"):
                return None
            p += 1
        if p >= len(file_text):
            return None
        found.append(p)
        p += 1
    for i in range(len(found) - 2, -1, -1):
        found[i] = found[i] if found[i] is not None else found[i + 1]
    out = []
    for index in found:
        line = bisect.bisect_right(starts, index)
        out.append((line, index - starts[line - 1] + 1))
    return tuple(out)


class _Compiler:
    def __init__(self, loaded: LoadedScenario):
        self.loaded = loaded
        self.spec = loaded.spec
        self.source = loaded.source
        self.problems: list[Problem] = []
        self.table = SymbolTable({})

    def problem(self, path: tuple[Any, ...], message: str, key: bool = False) -> None:
        self.problems.append(self.source.problem(path, message, key=key))

    def location(self, path: tuple[Any, ...], skip: int = 0, text: Any = None) -> Location:
        pos = self.source.where(path)
        file = self.source.file_of(pos)
        file_text = self.source.text_of(pos)
        if file_text is None:
            file_text = self.loaded.text
        chars = _align(file_text, pos, skip, text.strip()) if isinstance(text, str) else None
        if chars:
            return Location(file, chars[0][0], chars[0][1], chars)
        if pos.style in ('"', "'"):
            return Location(file, pos.line, pos.col + 1 + skip)
        if pos.style in ("|", ">"):
            return Location(file, pos.line + 1, pos.col + 2 + skip)
        return Location(file, pos.line, pos.col + skip)

    def expr(
        self,
        text: Any,
        path: tuple[Any, ...],
        *,
        skip: int = 0,
        categories: tuple[str, ...] | None = None,
        table: SymbolTable | None = None,
    ) -> Expression | None:
        site = ".".join(str(p) for p in path)
        expression, problems = compile_expression(
            text,
            self.location(path, skip, text),
            table or self.table,
            site=site,
            target_categories=categories,
        )
        self.problems.extend(problems)
        return expression

    def _a_probability(self, expression: Expression | None, path: tuple[Any, ...]) -> None:
        """A probability written as a number must lie in [0, 1] (0.15, not 1.5)."""
        constant = expression.constant if expression is not None else None
        if constant is not None and not 0.0 <= constant <= 1.0:
            self.problem(path, f"a probability is between 0 and 1, not {constant:g}")

    def before_choices(self, expression: Expression | None, path: tuple[Any, ...]) -> None:
        """Reject chose() where it is read before the round's choices are made."""
        if expression is not None and expression.choices_read:
            if path[-1] in ("when", "trigger", "rationality", "bonus", "hazard"):
                what = f"'{path[-1]}'"
            elif path[0] == "injects":
                what = "an inject's effect"
            elif path[0] == "every_round":
                what = "a background process's effect"
            else:
                what = "this expression"
            self.problem(
                path,
                f"{what} is evaluated before the round's choices are made, so chose() "
                "would always be 0 here; use last() for the previous round",
            )

    def effects(self, effects: dict[str, Any], path: tuple[Any, ...]) -> tuple[Effect, ...]:
        out = []
        for target, text in effects.items():
            where = (*path, target)
            if target not in self.table.symbols or self.table.symbols[target].kind != "state":
                names = [n for n, s in self.table.symbols.items() if s.kind == "state"]
                what = (
                    f"effect on '{target}', which is a parameter: only state variables change"
                    if target in self.table.symbols and self.table.symbols[target].kind == "param"
                    else f"effect on unknown state variable '{target}'" + suggest(target, names)
                )
                self.problem(where, what, key=True)
                continue
            if not isinstance(text, str):
                self.problem(
                    where,
                    f"write an effect with its operator, e.g. '+= {text}' to add or "
                    f"'= {text}' to set",
                )
                continue
            stripped = text.lstrip()
            lead = len(text) - len(stripped)
            op = next((o for o in ("+=", "-=", "*=", "=") if stripped.startswith(o)), None)
            if op is None:
                self.problem(
                    where,
                    f"effect '{text}' must start with an operator: '+=', '-=', '*=' or '='",
                )
                continue
            rest = stripped[len(op) :]
            skip = lead + len(op) + (len(rest) - len(rest.lstrip()))
            symbol = self.table.symbols[target]
            if symbol.categories is not None and op != "=":
                self.problem(where, f"categorical '{target}' can only be set with '='")
                continue
            expression = self.expr(rest, where, skip=skip, categories=symbol.categories)
            if expression is not None:
                out.append(Effect(symbol.index, _OPS[op], expression))
        return tuple(out)

    def run(self) -> CompiledScenario:
        spec = self.spec
        meta = spec.scenario
        source_ids = [s.id for s in meta.sources]
        symbols: dict[str, Symbol] = {"round": Symbol("round", 0)}
        param_names, param_categories = [], []
        for name, param in spec.parameters.items():
            if self._bad_name(name, ("parameters", name)):
                continue
            cats = None
            if isinstance(param, ChoiceParam) and isinstance(param.values[0], str):
                cats = tuple(str(v) for v in param.values)
            if isinstance(param, FixedParam) and isinstance(param.value, str):
                cats = (param.value,)
            symbols[name] = Symbol("param", len(param_names), cats)
            param_names.append(name)
            param_categories.append(cats)
            if param.source is not None and param.source not in source_ids:
                self.problem(
                    ("parameters", name, "source"),
                    f"unknown source '{param.source}'" + suggest(param.source, source_ids),
                )
        state_names, state_categories, state_units = [], [], []
        lows, highs = [], []
        for name, var in spec.state.items():
            if self._bad_name(name, ("state", name)):
                continue
            if name in symbols:
                self.problem(("state", name), f"'{name}' is already a parameter", key=True)
                continue
            cats = tuple(var.values) if isinstance(var, CategoricalVar) else None
            symbols[name] = Symbol("state", len(state_names), cats)
            state_names.append(name)
            state_categories.append(cats)
            state_units.append("" if cats else var.unit)
            low = -np.inf if cats or var.min is None else var.min
            high = np.inf if cats or var.max is None else var.max
            lows.append(low)
            highs.append(high)
        actions = {a: tuple(actor.actions) for a, actor in spec.actors.items()}
        not_values = _not_values(spec, symbols)
        names = {a: actor.name for a, actor in spec.actors.items()}
        self.table = SymbolTable(symbols, actions, withheld=not_values, actor_names=names)
        self._defines(symbols)
        params_only = SymbolTable(
            {n: s for n, s in symbols.items() if s.kind == "param"},
            actions,
            self.table.defines,
            self.table.broken,
            not_values
            | {
                n: "an initial value may read only parameters, not "
                + ("'round'" if s.kind == "round" else f"state variable '{n}'")
                + " (the state starts from the parameters in round 0)"
                for n, s in symbols.items()
                if s.kind != "param"
            },
        )

        initial = []
        for name, var in spec.state.items():
            if name not in symbols or symbols[name].kind != "state":
                continue
            if isinstance(var, CategoricalVar):
                value = float(var.values.index(var.initial))
                expr = self.expr(repr(value), ("state", name, "initial"))
            else:
                expr = self.expr(var.initial, ("state", name, "initial"), table=params_only)
            if expr is not None:
                initial.append(expr)

        actors = [self._actor(actor_id, actor) for actor_id, actor in spec.actors.items()]
        processes = [self._process(i, p) for i, p in enumerate(spec.every_round)]
        injects = [self._inject(i, inject) for i, inject in enumerate(spec.injects)]
        branches = [self._branch(i, branch) for i, branch in enumerate(spec.branches)]
        commitments = [self._commitment(i, c, actors) for i, c in enumerate(spec.commitments)]
        endings = []
        actor_ids = list(spec.actors)
        for i, ending in enumerate(spec.endings):
            when = self.expr(ending.when, ("endings", i, "when")) if ending.when else None
            payoffs = {}
            for actor_id, text in ending.payoffs.items():
                where = ("endings", i, "payoffs", actor_id)
                if actor_id not in actor_ids:
                    self.problem(
                        where,
                        self._unknown_actor(actor_id),
                        key=True,
                    )
                    continue
                expression = self.expr(text, where)
                if expression is not None:
                    payoffs[actor_ids.index(actor_id)] = expression
            endings.append(
                CompiledEnding(ending.id, ending.title or ending.id, when, ending.stop, payoffs)
            )
        metrics = [self._metric(i, m) for i, m in enumerate(spec.metrics)]
        for section in ("every_round", "injects", "branches", "commitments", "endings", "metrics"):
            self._unique_ids(section)
        for i, inject in enumerate(spec.injects):
            self._round_in_range(inject.round, ("injects", i, "round"))
        for i, branch in enumerate(spec.branches):
            self._round_in_range(branch.round, ("branches", i, "round"))
        if self.problems:
            raise ScenarioError(self.problems)
        compiled = CompiledScenario(
            loaded=self.loaded,
            param_names=param_names,
            param_categories=param_categories,
            state_names=state_names,
            state_categories=state_categories,
            state_units=state_units,
            state_initial=initial,
            state_low=np.array(lows, dtype=float),
            state_high=np.array(highs, dtype=float),
            actors=actors,  # type: ignore[arg-type]
            injects=injects,  # type: ignore[arg-type]
            branches=branches,  # type: ignore[arg-type]
            commitments=commitments,  # type: ignore[arg-type]
            endings=endings,
            metrics=metrics,  # type: ignore[arg-type]
            processes=processes,
        )
        return compiled

    def _defines(self, symbols: dict[str, Symbol]) -> None:
        """Register the named expressions, then check each where it is written."""
        for name, text in self.spec.define.items():
            where = ("define", name)
            if self._bad_name(name, where):
                continue
            if name in symbols:
                what = "parameter" if symbols[name].kind == "param" else "state variable"
                self.problem(where, f"'{name}' is already a {what}", key=True)
                continue
            if name in self.spec.actors:
                self.problem(where, f"'{name}' is already an actor", key=True)
                continue
            text = repr(text) if isinstance(text, int | float) else text
            self.table.defines[name] = (text, self.location(where, 0, text))
        for name in list(self.table.defines):
            before = len(self.problems)
            self.expr(self.spec.define[name], ("define", name))
            if len(self.problems) > before:
                self.table.broken.add(name)

    def _bad_name(self, name: str, path: tuple[Any, ...]) -> bool:
        if name in RESERVED or name in FUNCTIONS or name.startswith("__"):
            self.problem(path, f"'{name}' is a reserved word and cannot be a name", key=True)
            return True
        return False

    def _round_in_range(self, round_: int | None, path: tuple[Any, ...]) -> None:
        rounds = self.spec.scenario.rounds
        if round_ is not None and round_ > rounds:
            self.problem(path, f"round {round_} is after the last round ({rounds})")

    def _unique_ids(self, section: str) -> None:
        seen: set[str] = set()
        for i, item in enumerate(getattr(self.spec, section)):
            if item.id in seen:
                nouns = {"every_round": "process", "branches": "branch"}
                noun = nouns.get(section, section[:-1])
                self.problem((section, i, "id"), f"duplicate {noun} id '{item.id}'")
            seen.add(item.id)

    def _actor(self, actor_id: str, actor: Any) -> CompiledActor | None:
        path = ("actors", actor_id)
        if actor.decision not in DECISION_RULES:
            self.problem(
                (*path, "decision"),
                f"unknown decision rule '{actor.decision}'; choose one of "
                f"{list(DECISION_RULES)}" + suggest(actor.decision, DECISION_RULES),
            )
        weights = []
        for name, weight in actor.payoff.weights.items():
            symbol = self.table.symbols.get(name)
            if symbol is None or symbol.kind != "state" or symbol.categories is not None:
                numeric = [
                    n
                    for n, s in self.table.symbols.items()
                    if s.kind == "state" and s.categories is None
                ]
                self.problem(
                    (*path, "payoff", "weights", name),
                    f"payoff weight on '{name}', which is not a numeric state variable"
                    + suggest(name, numeric),
                    key=True,
                )
                continue
            weights.append((symbol.index, float(weight)))
        payoff_expr = None
        if actor.payoff.expression is not None:
            payoff_expr = self.expr(actor.payoff.expression, (*path, "payoff", "expression"))
        actions = []
        for action_id, action in actor.actions.items():
            where = (*path, "actions", action_id)
            when = self.expr(action.when, (*where, "when")) if action.when is not None else None
            self.before_choices(when, (*where, "when"))
            cost = self.expr(action.cost, (*where, "cost"))
            effects = self.effects(action.effects, (*where, "effects"))
            if cost is not None:
                actions.append(CompiledAction(action_id, action.description, when, cost, effects))
        script = {}
        action_ids = list(actor.actions)
        for round_, action_id in actor.script.items():
            if action_id not in action_ids:
                self.problem(
                    (*path, "script", round_),
                    f"'{actor_id}' has no action '{action_id}'" + suggest(action_id, action_ids),
                )
                continue
            self._round_in_range(round_, (*path, "script", round_))
            script[round_] = action_ids.index(action_id)
        if actor.decision == "scripted" and not actor.script:
            self.problem(
                (*path, "decision"), "decision 'scripted' needs a 'script' of round: action"
            )
        rationality = self.expr(actor.rationality, (*path, "rationality"))
        self.before_choices(rationality, (*path, "rationality"))
        return CompiledActor(
            actor_id,
            actor.name,
            rationality,  # type: ignore[arg-type]
            actor.decision,
            tuple(weights),
            payoff_expr,
            tuple(actions),
            script,
            actor.reasoning,
            actor.depth or 1,
            1.0 if actor.prior is None else float(actor.prior),
            actor.foresight,
        )

    def _inject(self, i: int, inject: Any) -> CompiledInject:
        path = ("injects", i)
        when = self.expr(inject.when, (*path, "when")) if inject.when is not None else None
        self.before_choices(when, (*path, "when"))
        effects = self.effects(inject.effects, (*path, "effects"))
        for target, effect in zip(inject.effects, effects, strict=False):
            self.before_choices(effect.expression, (*path, "effects", target))
        hazard = self.expr(inject.hazard, (*path, "hazard")) if inject.hazard is not None else None
        self._a_probability(hazard, (*path, "hazard"))
        self.before_choices(hazard, (*path, "hazard"))
        return CompiledInject(
            inject.id, inject.round, when, inject.text, inject.prompt, effects, hazard
        )

    def _process(self, i: int, process: Any) -> CompiledProcess:
        path = ("every_round", i)
        when = self.expr(process.when, (*path, "when")) if process.when is not None else None
        self.before_choices(when, (*path, "when"))
        effects = self.effects(process.effects, (*path, "effects"))
        for target, effect in zip(process.effects, effects, strict=False):
            self.before_choices(effect.expression, (*path, "effects", target))
        return CompiledProcess(process.id, when, effects)

    def _branch(self, i: int, branch: Any) -> CompiledBranch:
        path = ("branches", i)
        when = self.expr(branch.when, (*path, "when")) if branch.when is not None else None
        variable = None
        if branch.variable is not None:
            symbol = self.table.symbols.get(branch.variable)
            if symbol is None or symbol.kind != "state" or symbol.categories is None:
                cats = [
                    n for n, s in self.table.symbols.items() if s.categories and s.kind == "state"
                ]
                self.problem(
                    (*path, "variable"),
                    f"'{branch.variable}' is not a categorical state variable"
                    + suggest(branch.variable, cats),
                )
            else:
                variable = symbol.index
                for outcome_id in branch.outcomes:
                    if outcome_id not in symbol.categories:
                        self.problem(
                            (*path, "outcomes", outcome_id),
                            f"outcome '{outcome_id}' is not a value of '{branch.variable}' "
                            f"{list(symbol.categories)}" + suggest(outcome_id, symbol.categories),
                            key=True,
                        )
        outcomes = []
        for outcome_id, outcome in branch.outcomes.items():
            where = (*path, "outcomes", outcome_id)
            probability = None
            if outcome.probability not in ("rest", None):
                probability = self.expr(outcome.probability, (*where, "probability"))
                self._a_probability(probability, (*where, "probability"))
            effects = self.effects(outcome.effects, (*where, "effects"))
            outcomes.append(CompiledOutcome(outcome_id, probability, outcome.text, effects))
        hazard = self.expr(branch.hazard, (*path, "hazard")) if branch.hazard is not None else None
        self._a_probability(hazard, (*path, "hazard"))
        decided_by = None
        if branch.decided_by is not None:
            actor_ids = list(self.spec.actors)
            if branch.decided_by not in actor_ids:
                self.problem(
                    (*path, "decided_by"),
                    self._unknown_actor(branch.decided_by),
                )
            else:
                decided_by = actor_ids.index(branch.decided_by)
        return CompiledBranch(
            branch.id,
            branch.round,
            when,
            variable,
            branch.text,
            branch.prompt,
            tuple(outcomes),
            hazard,
            decided_by,
        )

    def _unknown_actor(self, given: str) -> str:
        """'unknown actor' with the nearest id, or the id of the actor so named.

        An author wrote ``decided_by: Norway`` for the actor ``NO`` named Norway.
        """
        return unknown_actor(given, self.table.actor_names)

    def _commitment(
        self, i: int, commitment: Any, actors: list[CompiledActor | None]
    ) -> CompiledCommitment | None:
        path = ("commitments", i)
        actor_ids = list(self.spec.actors)
        trigger = self.expr(commitment.trigger, (*path, "trigger"))
        if commitment.to is not None and commitment.to not in actor_ids:
            self.problem(
                (*path, "to"),
                self._unknown_actor(commitment.to),
            )
        if commitment.actor not in actor_ids:
            self.problem(
                (*path, "actor"),
                self._unknown_actor(commitment.actor),
            )
            return None
        actions = list(self.spec.actors[commitment.actor].actions)
        if commitment.action not in actions:
            self.problem(
                (*path, "action"),
                f"actor '{commitment.actor}' has no action '{commitment.action}'"
                + suggest(commitment.action, actions),
            )
            return None
        self.before_choices(trigger, (*path, "trigger"))
        bonus = None
        if commitment.bonus is not None:
            bonus = self.expr(commitment.bonus, (*path, "bonus"))
            self.before_choices(bonus, (*path, "bonus"))
        if trigger is None or (commitment.bonus is not None and bonus is None):
            return None
        return CompiledCommitment(
            commitment.id,
            actor_ids.index(commitment.actor),
            actions.index(commitment.action),
            trigger,
            commitment.force,
            bonus,
            commitment.to,
            commitment.description,
        )

    def _metric(self, i: int, metric: Any) -> CompiledMetric | None:
        path = ("metrics", i)
        text = metric.expression
        if text is None:
            symbol = self.table.symbols.get(metric.id)
            if symbol is None or symbol.kind != "state" or symbol.categories is not None:
                numeric = [
                    n
                    for n, s in self.table.symbols.items()
                    if s.kind == "state" and not s.categories
                ]
                self.problem(
                    path,
                    f"metric '{metric.id}' is not a numeric state variable; give it an "
                    "'expression'" + suggest(metric.id, numeric),
                )
                return None
            text = metric.id
        expression = self.expr(text, (*path, "expression") if metric.expression else path)
        if expression is None:
            return None
        unit, title = metric.unit, metric.title
        if metric.expression is None:
            # A metric of a state variable takes its unit and title unless it gives its own.
            unit = unit or self.spec.state[metric.id].unit  # type: ignore[union-attr]
            title = title or self.spec.state[metric.id].title
        return CompiledMetric(metric.id, title or metric.id, unit, expression)


def _not_values(spec: Scenario, symbols: dict[str, Symbol]) -> dict[str, str]:
    """Why a branch, actor, action, inject or ending id cannot be read as a value.

    An author who writes ``referendum == 'held'`` for a branch, or ``provoke > 0`` for an
    action, gets told how the scenario reads it instead.
    """
    why: dict[str, str] = {}

    def put(name: str, text: str) -> None:
        if name not in symbols and name not in spec.define and name not in why:
            why[name] = f"'{name}' is {text}"

    for branch in spec.branches:
        first = next(iter(branch.outcomes))
        if branch.variable is not None:
            how = f"read its outcome through its variable, e.g. {branch.variable} == '{first}'"
        else:
            how = (
                "give it a 'variable:' (a categorical state variable with its outcomes "
                f"as values) and read that, e.g. {branch.id}_outcome == '{first}'"
            )
        put(branch.id, f"a branch, not a value: {how}")
    owners: dict[str, list[str]] = {}
    for actor_id, actor in spec.actors.items():
        first = next(iter(actor.actions))
        put(
            actor_id,
            f"an actor, not a value: read its moves with chose('{actor_id}', '{first}'), "
            f"times('{actor_id}', '{first}') or last('{actor_id}', '{first}')",
        )
        for action in actor.actions:
            owners.setdefault(action, []).append(actor_id)
    for action, (owner, *others) in owners.items():
        put(
            action,
            f"an action of {', '.join([owner, *others])}, not a value: read it with "
            f"chose('{owner}', '{action}'), times('{owner}', '{action}') or "
            f"last('{owner}', '{action}')",
        )
    for inject in spec.injects:
        put(
            inject.id,
            "an inject, not a value: read a state variable its effects set "
            '(an effect such as "= 1" on a yes/no variable records that it fired)',
        )
    for ending in spec.endings:
        put(
            ending.id,
            "an ending, not a value: an ending is named when a run ends and nothing reads "
            "it; read the state its condition reads",
        )
    return why


def compile_scenario(loaded: LoadedScenario) -> CompiledScenario:
    """Resolve names, compile expressions and check cross-references.

    Args:
        loaded: A shape-checked scenario from :func:`sim.language.schema.load_scenario`.

    Returns:
        The compiled scenario (no dead-lever warnings yet; see :mod:`sim.engine.loading`).

    Raises:
        ScenarioError: Listing every problem with its position.
    """
    return _Compiler(loaded).run()


def compile_text(text: str, path: str = "<scenario>") -> CompiledScenario:
    """Check and compile scenario text (as stored in a results manifest).

    No dead-lever warnings are attached (a batch worker recompiling the text it was
    sent does not need them); :func:`sim.engine.loading.load_text` adds them.

    Args:
        text: The YAML text.
        path: The name to use in error messages.
    """
    return compile_checked(lambda: parse_scenario(text, path))


def compile_checked(load: Callable[[], LoadedScenario]) -> CompiledScenario:
    """Shape-check with ``load`` and compile, reporting both kinds of problem at once.

    Where the only shape errors are unknown keys inside entries, the scenario is also
    compiled without them, so the names and expressions wrong elsewhere are listed in
    the same error (an author fixed a scenario in two passes before).

    Args:
        load: :func:`~sim.language.schema.parse_scenario` or ``load_scenario`` of a file.

    Raises:
        ScenarioError: Listing every problem with its position.
    """
    try:
        loaded = load()
    except ScenarioError as failure:
        if failure.partial is None:
            raise
        try:
            compile_scenario(failure.partial)  # type: ignore[arg-type]
        except ScenarioError as more:
            raise ScenarioError([*failure.problems, *more.problems]) from None
        raise
    return compile_scenario(loaded)

"""Dead levers: parts of a scenario that cannot matter, reported as warnings.

A scenario author adds a parameter, an action or an ending because it should make a
difference. These checks find the ones that cannot:

- a parameter or state variable that no expression, payoff weight or metric reads;
- an action no actor can take (its ``when`` is false in every sampled run and round
  while reading only things that never change);
- an ending no run can reach for the same reason;
- a commitment whose trigger reads nothing that changes during a game.

"Changes" means: the target of some effect, a branch's variable, an actor's history
(``times``/``last``) or ``round``. "False in every sampled run" is decided on round 0 of
256 runs (:mod:`sim.engine.initial_state`), so these checks run after compiling, not inside it.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import numpy as np

from sim.engine.initial_state import initial_context
from sim.errors import Problem, WargameError
from sim.language.compiler import CompiledBranch, CompiledScenario
from sim.language.expressions import EvalContext, Expression, Location


def _expressions(compiled: CompiledScenario) -> list[Expression]:
    found: list[Expression] = []
    found += compiled.state_initial
    for actor in compiled.actors:
        found.append(actor.rationality)
        if actor.payoff_expression is not None:
            found.append(actor.payoff_expression)
        for action in actor.actions:
            found += [e for e in (action.when, action.cost) if e is not None]
            found += [effect.expression for effect in action.effects]
    for process in compiled.processes:
        found += [process.when] if process.when is not None else []
        found += [effect.expression for effect in process.effects]
    for inject in compiled.injects:
        found += [inject.when] if inject.when is not None else []
        found += [inject.hazard] if inject.hazard is not None else []
        found += [effect.expression for effect in inject.effects]
    for branch in compiled.branches:
        found += [branch.when] if branch.when is not None else []
        found += [branch.hazard] if branch.hazard is not None else []
        for outcome in branch.outcomes:
            found += [outcome.probability] if outcome.probability is not None else []
            found += [effect.expression for effect in outcome.effects]
    found += [c.trigger for c in compiled.commitments]
    found += [c.bonus for c in compiled.commitments if c.bonus is not None]
    found += [e.when for e in compiled.endings if e.when is not None]
    for ending in compiled.endings:
        found += list(ending.payoffs.values())
    found += [m.expression for m in compiled.metrics]
    return found


def changing_variables(compiled: CompiledScenario) -> set[str]:
    """Names of the state variables that some effect or branch can change."""
    targets: set[int] = set()
    for actor in compiled.actors:
        for action in actor.actions:
            targets |= {e.target for e in action.effects}
    for inject in compiled.injects:
        targets |= {e.target for e in inject.effects}
    for process in compiled.processes:
        targets |= {e.target for e in process.effects}
    for branch in compiled.branches:
        if branch.variable is not None:
            targets.add(branch.variable)
        for outcome in branch.outcomes:
            targets |= {e.target for e in outcome.effects}
    return {compiled.state_names[i] for i in targets}


def _static(expression: Expression, changing: set[str]) -> bool:
    """True if the expression reads nothing that changes during a game."""
    return (
        not (expression.reads & changing)
        and not expression.actors_read
        and "round" not in expression.text
    )


def sample_context(compiled: CompiledScenario, runs: int = 256, seed: int = 0) -> EvalContext:
    """An evaluation context at round 0 for ``runs`` sampled parameter sets."""
    return initial_context(compiled, seed, np.arange(runs, dtype=np.int64))


def _never_true(expression: Expression, compiled: CompiledScenario) -> bool:
    """True if a static condition is false in every one of 256 sampled runs."""
    try:
        ctx = sample_context(compiled)
        with np.errstate(all="ignore"):
            return not bool((expression(ctx) != 0).any())
    except WargameError:
        return False


def dead_levers(compiled: CompiledScenario) -> list[Problem]:
    """Warnings about levers that cannot make a difference.

    Args:
        compiled: A compiled scenario.

    Returns:
        One located warning per dead lever.
    """
    source = compiled.loaded.source
    warnings: list[Problem] = []
    reads: set[str] = set()
    for expression in _expressions(compiled):
        reads |= expression.reads
    for actor in compiled.actors:
        reads |= {compiled.state_names[i] for i, _ in actor.weights}
    for branch in compiled.branches:
        if branch.variable is not None:
            reads.add(compiled.state_names[branch.variable])
    for name in compiled.param_names:
        if name not in reads:
            warnings.append(
                source.problem(
                    ("parameters", name),
                    f"warning: parameter '{name}' is never read (a dead lever)",
                    key=True,
                )
            )
    for name in compiled.state_names:
        if name not in reads:
            warnings.append(
                source.problem(
                    ("state", name),
                    f"warning: state variable '{name}' is never read by any expression, "
                    "payoff or metric",
                    key=True,
                )
            )
    changing = changing_variables(compiled)
    for actor in compiled.actors:
        for action in actor.actions:
            when = action.when
            if when is not None and _static(when, changing) and _never_true(when, compiled):
                warnings.append(
                    source.problem(
                        ("actors", actor.id, "actions", action.id, "when"),
                        f"warning: no run lets {actor.id} take '{action.id}': its condition "
                        "reads nothing that changes and is false in every sampled run",
                    )
                )
    for i, ending in enumerate(compiled.endings):
        when = ending.when
        if when is not None and _static(when, changing) and _never_true(when, compiled):
            warnings.append(
                source.problem(
                    ("endings", i, "when"),
                    f"warning: ending '{ending.id}' cannot be reached: its condition reads "
                    "nothing that changes and is false in every sampled run",
                )
            )
    for i, commitment in enumerate(compiled.commitments):
        if _static(commitment.trigger, changing):
            warnings.append(
                source.problem(
                    ("commitments", i, "trigger"),
                    f"warning: commitment '{commitment.id}' has a trigger that reads nothing "
                    "that changes during a game",
                )
            )
    used: set[str] = set()
    for expression in _expressions(compiled):
        used |= expression.defines_used
    for name in compiled.loaded.spec.define:
        if name not in used:
            warnings.append(
                source.problem(
                    ("define", name),
                    f"warning: named expression '{name}' is never used",
                    key=True,
                )
            )
    warnings += idle_payoff_terms(compiled)
    for actor in compiled.actors:
        if actor.reasoning == "equilibrium" and actor.decision == "best_response":
            warnings.append(
                source.problem(
                    ("actors", actor.id, "decision"),
                    f"warning: {actor.id} plays best replies in an equilibrium: games with "
                    "no equilibrium in pure strategies have none to find (use logit with a "
                    "high rationality for a near-Nash choice)",
                )
            )
    warnings += idle_reasoning(compiled)
    warnings += inert_actions(compiled)
    warnings += unnormalised_outcomes(compiled)
    warnings += impossible_endings(compiled, changing)
    return warnings


#: Points of the grid over the state variables an ending's condition reads, and the
#: sampled parameter sets each point is tried with.
GRID_POINTS = 1024
GRID_PARAMETER_SETS = 16


def impossible_endings(compiled: CompiledScenario, changing: set[str]) -> list[Problem]:
    """Warnings about endings whose condition no value of the state it reads can meet.

    ``disruption > 12`` where disruption is at most 10, or ``truce == 'agreed' and truce
    == 'failed'``: the condition is tried on a grid over the bounds of each numeric
    variable it reads (its ends included) and every value of each categorical one,
    with a few sampled parameter sets. A condition that reads history (``times``,
    ``chose``), the round, chance or a variable without both bounds is left to the
    trial, and so is one that compares a number with ``==`` (a grid may miss it).
    """
    found: list[Problem] = []
    names = compiled.state_names
    sampled: EvalContext | None = None
    for index, ending in enumerate(compiled.endings):
        when = ending.when
        if when is None or _static(when, changing) or when.actors_read or when.random:
            continue
        if "round" in when.text or when.choices_read:
            continue
        read = [names.index(n) for n in sorted(when.reads) if n in names]
        numeric = [v for v in read if compiled.state_categories[v] is None]
        if not read or (("==" in when.text or "!=" in when.text) and numeric):
            continue
        if any(not np.isfinite([compiled.state_low[v], compiled.state_high[v]]).all()
               for v in numeric):  # fmt: skip
            continue
        side = max(2, int(GRID_POINTS ** (1 / len(read))))
        if side ** len(read) > GRID_POINTS:
            continue  # more than ten variables: a grid of two values each is too big
        axes = []
        for v in read:
            categories = compiled.state_categories[v]
            if categories is not None:
                axes.append(np.arange(len(categories), dtype=float))
            else:
                axes.append(np.linspace(compiled.state_low[v], compiled.state_high[v], side))
        grid = [a.ravel() for a in np.meshgrid(*axes, indexing="ij")]
        points = len(grid[0])
        if sampled is None:
            sampled = sample_context(compiled, runs=GRID_POINTS * GRID_PARAMETER_SETS)
        ctx = sampled.subset(np.arange(points * GRID_PARAMETER_SETS))
        state = list(ctx.state)
        for v, values in zip(read, grid, strict=True):
            state[v] = np.tile(values, GRID_PARAMETER_SETS)
        at = ctx.with_state(state)
        try:
            with np.errstate(all="ignore"):
                holds = bool((when(at) != 0).any())
        except WargameError:
            continue
        if holds:
            continue
        ranges = ", ".join(
            f"{names[v]} ({compiled.state_low[v]:g} to {compiled.state_high[v]:g})"
            if compiled.state_categories[v] is None
            else f"{names[v]} ({', '.join(compiled.state_categories[v] or ())})"
            for v in read
        )
        found.append(
            compiled.loaded.source.problem(
                ("endings", index, "when"),
                f"warning: ending '{ending.id}' cannot be reached: its condition is false "
                f"for every value of {ranges}"
                + (" with every sampled parameter set" if when.reads - set(names) else "")
                + (
                    ": check its threshold against the variable's min and max"
                    if numeric
                    else ": a variable has one value at a time; check the values it compares"
                ),
            )
        )
    return found


def _share(p: float) -> str:
    """A share to one decimal where a whole percent would be rounded (37.5%, not 37%)."""
    text = f"{p:.1%}"
    return text.replace(".0%", "%")


def _constant_probabilities(branch: CompiledBranch) -> list[float] | None:
    """The outcomes' probabilities where every one is a number (no ``rest``), else None."""
    constants = [o.probability.constant if o.probability else None for o in branch.outcomes]
    return None if any(c is None for c in constants) else constants  # type: ignore[return-value]


def unnormalised_outcomes(compiled: CompiledScenario) -> list[Problem]:
    """Warnings about branches whose outcomes are all numbers that do not add up to 1.

    An author who writes 0.3 and 0.2 may mean "nothing happens" half the time; the
    engine draws the outcomes in proportion (60% and 40%). A branch with a ``rest``
    outcome, or with a computed probability, is left to the trial (which sees the sums
    while playing).
    """
    found = []
    for index, branch in enumerate(compiled.branches):
        if branch.decided_by is not None:
            continue
        constants = _constant_probabilities(branch)
        if constants is None:
            continue
        total = float(sum(constants))
        if total <= 0 or abs(total - 1.0) <= 1e-9:
            continue
        shares = ", ".join(
            f"{o.id} {_share(c / total)}" for o, c in zip(branch.outcomes, constants, strict=True)
        )
        found.append(
            compiled.loaded.source.problem(
                ("branches", index, "outcomes"),
                f"warning: the outcome probabilities of {branch.id} add up to {total:g}, "
                f"not 1, so they are drawn in proportion ({shares}); give one outcome "
                "'probability: rest' (what the others leave) or make them add up to 1",
                key=True,
            )
        )
    return found


def consequential_variables(compiled: CompiledScenario) -> set[str]:
    """The state variables that can change a payoff, a choice, a branch or an ending.

    Read by a payoff (a weight or the expression), an action's condition or cost, an
    actor's rationality, a branch, a commitment or an ending; or read by an effect (an
    action's, an inject's, a background process's, a branch outcome's) on one of those,
    or by the condition or hazard of an inject or process with such an effect, and so
    on. A variable only metrics read is not one: it is recorded, and moves nothing.
    """
    names = compiled.state_names
    found: set[str] = set()
    for actor in compiled.actors:
        found |= {names[index] for index, _ in actor.weights}
        found |= actor.rationality.reads
        if actor.payoff_expression is not None:
            found |= actor.payoff_expression.reads
        for action in actor.actions:
            found |= action.cost.reads | (action.when.reads if action.when is not None else set())
    for branch in compiled.branches:
        found |= _reads(_branch_gates(branch))
    for commitment in compiled.commitments:
        found |= commitment.trigger.reads
        found |= commitment.bonus.reads if commitment.bonus is not None else set()
    for ending in compiled.endings:
        found |= ending.when.reads if ending.when is not None else set()
        found |= _reads(list(ending.payoffs.values()))
    # What changes a consequential variable is consequential too, to a fixed point.
    sources: list[tuple[set[int], list[Expression]]] = []
    for actor in compiled.actors:
        for action in actor.actions:
            sources += [({e.target}, [e.expression]) for e in action.effects]
    for event in (*compiled.injects, *compiled.processes):
        gates = [x for x in (event.when, getattr(event, "hazard", None)) if x is not None]
        sources += [({e.target}, [e.expression, *gates]) for e in event.effects]
    for branch in compiled.branches:
        for outcome in branch.outcomes:
            sources += [({e.target}, [e.expression]) for e in outcome.effects]
    while True:
        more = set(found)
        for targets, expressions in sources:
            if {names[t] for t in targets} & found:
                more |= _reads(expressions)
        if more == found:
            return found & set(names)
        found = more


def _branch_gates(branch: CompiledBranch) -> list[Expression]:
    found = [x for x in (branch.when, branch.hazard) if x is not None]
    return found + [o.probability for o in branch.outcomes if o.probability is not None]


def _reads(expressions: list[Expression]) -> set[str]:
    found: set[str] = set()
    for expression in expressions:
        found |= expression.reads
    return found


def _moves_read(
    compiled: CompiledScenario, expressions: list[Expression]
) -> set[tuple[str | None, str | None]]:
    """The (actor, action) pairs ``times``, ``last`` and ``chose`` read in expressions.

    None stands for any: an actor named ``me`` (whoever owns the expression) or an
    argument that is not a quoted name.
    """
    define = compiled.loaded.spec.define
    found: set[tuple[str | None, str | None]] = set()
    for expression in expressions:
        if not (expression.actors_read or expression.choices_read):
            continue
        texts = [expression.text] + [str(define[n]) for n in expression.defines_used if n in define]
        for text in texts:
            try:
                tree = ast.parse(" ".join(text.split()), mode="eval")
            except SyntaxError:  # pragma: no cover - compiled expressions parse
                found.add((None, None))
                continue
            for node in ast.walk(tree):
                found.update(_history_call(node))
    return found


def _history_call(node: ast.AST) -> list[tuple[str | None, str | None]]:
    """``[(actor, action)]`` if ``node`` is a ``times``/``last``/``chose`` call, else ``[]``.

    None stands for an argument that is not a quoted name (or is missing).
    """
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("times", "last", "chose")
    ):
        return []
    names = [
        a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None
        for a in node.args
    ] + [None, None]
    return [(names[0], names[1])]


def inert_actions(compiled: CompiledScenario) -> list[Problem]:
    """Warnings about actions whose effects change nothing that matters.

    An action with effects, each on a variable no payoff, choice, branch or ending can
    feel (:func:`consequential_variables`: only metrics read it, or nothing), and whose
    taking nothing reads (no ``chose``, ``times`` or ``last`` of it outside the
    metrics), differs from holding only by its cost: a lever that moves no outcome. So
    does a second action with no effects at all whose taking nothing reads (the first
    is the actor's way of doing nothing, its ``hold``).
    """
    consequential = consequential_variables(compiled)
    names = compiled.state_names
    metrics = [m.expression for m in compiled.metrics]
    read = _moves_read(
        compiled, [e for e in _expressions(compiled) if not any(e is m for m in metrics)]
    )
    found: list[Problem] = []
    for actor in compiled.actors:
        idle: str | None = None  # the first action with no effects whose taking nobody reads
        for action in actor.actions:
            targets = sorted({names[e.target] for e in action.effects})
            if read & {(actor.id, action.id), (actor.id, None), (None, action.id), (None, None)}:
                continue  # someone's payoff, a branch or an ending reads that it was taken
            if not targets:
                if idle is None:
                    idle = action.id  # the actor's way of doing nothing ('hold')
                    continue
                found.append(
                    compiled.loaded.source.problem(
                        ("actors", actor.id, "actions", action.id),
                        f"warning: {actor.id}'s action '{action.id}' has no effects and "
                        f"nothing reads that it was taken: it differs from '{idle}' only "
                        "by its cost and moves no outcome (a dead lever)",
                        key=True,
                    )
                )
                continue
            if set(targets) & consequential:
                continue
            changed = ", ".join(f"'{t}'" for t in targets)
            found.append(
                compiled.loaded.source.problem(
                    ("actors", actor.id, "actions", action.id),
                    f"warning: {actor.id}'s action '{action.id}' changes only {changed}, "
                    "which no payoff, choice, branch or ending reads (at most a metric): "
                    "taking it moves no outcome but its cost (a dead lever)",
                    key=True,
                )
            )
    return found


def idle_reasoning(compiled: CompiledScenario) -> list[Problem]:
    """Warnings for actors whose reasoning about the others cannot change a choice.

    ``level-k``, ``beliefs`` and ``equilibrium`` actors weigh what the others are
    expected to do, but only through what they value non-additively (see
    :class:`sim.engine.reasoning.Interactions`). When nothing an actor values, with
    every branch foreseen, depends on another actor's move, the engine gives it the
    reply a myopic actor makes: its reasoning (and its ``depth`` or ``prior``) is a
    dead lever.

    Args:
        compiled: A compiled scenario.

    Returns:
        One located warning per such actor.
    """
    from sim.engine.reasoning import interactions

    found: list[Problem] = []
    every_branch = list(range(len(compiled.branches)))
    for i, actor in enumerate(compiled.actors):
        if actor.reasoning == "myopic":
            continue
        foreseen = every_branch if actor.foresight > 0 else []
        if interactions(compiled).depends(i, foreseen):
            continue
        found.append(
            compiled.loaded.source.problem(
                ("actors", actor.id, "reasoning"),
                f"warning: {actor.id} reasons '{actor.reasoning}', but nothing it values "
                "depends on another actor's move, so it chooses as a myopic actor would "
                "(a dead lever): drop its reasoning, or let what it values depend on the "
                "others (a payoff expression reading what they change, or foresight of a "
                "branch their moves sway)",
            )
        )
    return found


def _influenced(compiled: CompiledScenario, i: int) -> set[str]:
    """What actor ``i``'s choice can change.

    Its actions' effect targets, what the branches it decides can set and, with
    foresight, what the branches whose odds its moves shift can set.
    """
    actor = compiled.actors[i]
    names = compiled.state_names
    own = {names[e.target] for action in actor.actions for e in action.effects}
    for branch in compiled.branches:
        # A branch the actor decides: its payoff chooses between the outcomes.
        if branch.decided_by == i:
            if branch.variable is not None:
                own.add(names[branch.variable])
            for outcome in branch.outcomes:
                own |= {names[e.target] for e in outcome.effects}
    if actor.foresight > 0:
        for branch in compiled.branches:
            expressions = [o.probability for o in branch.outcomes if o.probability is not None]
            expressions += [branch.when] if branch.when is not None else []
            # A hazard's chance in a round is odds too (an author's trial: patrols that
            # lowered a cable cut's hazard were said to change nothing the cut did).
            expressions += [branch.hazard] if branch.hazard is not None else []
            moved = any(
                (e.reads & own) or actor.id in e.actors_read or actor.id in e.choices_read
                for e in expressions
            )
            if moved:
                if branch.variable is not None:
                    own.add(names[branch.variable])
                for outcome in branch.outcomes:
                    own |= {names[e.target] for e in outcome.effects}
    return own


def _zero_point_counts(compiled: CompiledScenario, i: int, influenced: set[str]) -> bool:
    """Whether actor ``i``'s choices weigh its payoff's level, not only its differences.

    An actor that foresees or decides a branch values each outcome by its payoff over
    the rounds left, or, where the outcome meets a stopping ending, by one round's
    payoff plus the ending's (:func:`sim.engine.reasoning.outcome_worth`). When its
    choice can change whether a stopping ending holds after the branch (the ending
    reads something the actor's moves or the branches they sway can set), every term
    of its payoff, a constant too, counts in that trade-off.
    """
    actor = compiled.actors[i]
    weighs_branches = actor.foresight > 0 or any(b.decided_by == i for b in compiled.branches)
    if not weighs_branches or not compiled.branches:
        return False
    return any(
        ending.stop and ending.when is not None and ending.when.reads & influenced
        for ending in compiled.endings
    )


def _terms(node: ast.expr, sign: str = "+") -> list[tuple[ast.expr, str]]:
    """The top-level added or subtracted terms of an expression."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        right_sign = sign if isinstance(node.op, ast.Add) else ("-" if sign == "+" else "+")
        return [*_terms(node.left, sign), *_terms(node.right, right_sign)]
    return [(node, sign)]


def _term_reads(
    node: ast.expr, defines: dict[str, object] | None = None
) -> tuple[set[str], set[str]]:
    """Names a term reads and the actors whose history or choices it reads.

    A named expression (``define:``) counts as what its text reads.
    """
    names: set[str] = set()
    actors: set[str] = set()
    defines = defines or {}
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            names.add(sub.id)
            if sub.id in defines:
                text = " ".join(str(defines[sub.id]).split())
                try:
                    inner = ast.parse(text, mode="eval").body
                except SyntaxError:  # pragma: no cover - compiled definitions parse
                    continue
                rest = {k: v for k, v in defines.items() if k != sub.id}
                inner_names, inner_actors = _term_reads(inner, rest)
                names |= inner_names
                actors |= inner_actors
        actors.update(actor for actor, _ in _history_call(sub) if actor is not None)
    return names, actors


def idle_payoff_terms(compiled: CompiledScenario) -> list[Problem]:
    """Warnings about payoff terms that cannot change any of their actor's choices.

    A term can steer a choice only if its value can differ between the actor's options:
    it reads a variable one of the actor's actions changes (or, with foresight, that a
    branch whose odds its moves shift can set), or the actor's own history or choice.
    Anything else adds the same to every option's score: it still counts in the actor's
    payoff, but it never changes what the actor does.

    Not so where a branch the actor weighs (foresees or decides) can end the game: a
    run that stops forgoes the payoff of the rounds it does not play, so even a constant
    term weighs ending early against playing on (:func:`_zero_point_counts`).
    """
    source = compiled.loaded.source
    names = compiled.state_names
    warnings: list[Problem] = []
    for i, actor in enumerate(compiled.actors):
        if len(actor.actions) < 2:
            continue
        influenced = _influenced(compiled, i)
        if _zero_point_counts(compiled, i, influenced):
            continue
        for index, _ in actor.weights:
            if names[index] not in influenced:
                warnings.append(
                    source.problem(
                        ("actors", actor.id, "payoff", "weights", names[index]),
                        f"warning: {actor.id}'s payoff weight on '{names[index]}' cannot change "
                        f"any of its choices: none of its actions"
                        + (" or foreseen branches" if actor.foresight else "")
                        + " changes it (it still counts in the payoff)",
                        key=True,
                    )
                )
        expression = actor.payoff_expression
        if expression is None:
            continue
        try:
            tree = ast.parse(expression.text, mode="eval")
        except SyntaxError:  # pragma: no cover - compiled expressions parse
            continue
        for term, _ in _terms(tree.body):
            reads, actors = _term_reads(term, dict(compiled.loaded.spec.define))
            if reads & influenced or actor.id in actors:
                continue
            text = ast.get_source_segment(expression.text, term) or expression.text
            where = expression.location.at(term, expression.text)
            warnings.append(
                Problem(
                    where.file,
                    where.line,
                    where.col,
                    f"warning: {actor.id}'s payoff term '{text}' cannot change any of its "
                    "choices: it reads nothing its actions"
                    + (" or foreseen branches" if actor.foresight else "")
                    + " change (it still counts in the payoff)",
                )
            )
    return warnings


#: An action whose chance of being chosen stayed under this wherever it was open in a
#: trial is reported as an option its actor never takes.
NEVER_TAKEN = 0.01


def untaken_actions(
    compiled: CompiledScenario, chances: dict[tuple[int, int], tuple[float, int]], runs: int
) -> list[Problem]:
    """Warnings about actions their actor was never likely to choose in a trial.

    An option nobody takes changes nothing: its effects never happen, and the actors
    who expect it expect nothing. Reported when its chance of being chosen stayed under
    :data:`NEVER_TAKEN` (1%) in every choice of the trial where it was open and the
    actor followed its scores (not scripted or forced); an action never open in the
    trial is not judged (it may open rarely).

    Args:
        compiled: The scenario.
        chances: From a trial model's ``option_chances``.
        runs: Runs of the trial.
    """
    source = compiled.loaded.source
    found: list[Problem] = []
    for (i, a), (best, count) in sorted(chances.items()):
        if best >= NEVER_TAKEN:
            continue
        actor = compiled.actors[i]
        action = actor.actions[a]
        choices = f"{count:,} choice" + ("" if count == 1 else "s")
        found.append(
            source.problem(
                ("actors", actor.id, "actions", action.id),
                f"warning: {actor.id} is never likely to choose '{action.id}': "
                + (
                    f"at most a {_chance(best)} chance in the {choices}"
                    if best > 0
                    else f"no chance in any of the {choices}"
                )
                + f" of {runs:,} trial runs where it was open; an option never taken "
                f"changes nothing (make it cheaper, or worth more to {actor.id})",
                key=True,
            )
        )
    return found


def _chance(p: float) -> str:
    """A small probability as a percentage a reader takes in: 0.4%, 0.003%."""
    return f"{100 * p:.1g}%"


def clipped_probabilities(
    compiled: CompiledScenario, issues: dict[tuple[str, str | None], int], runs: int
) -> list[Problem]:
    """Warnings about branch probabilities a trial found outside 0..1 or above 1 in all.

    The engine clips each outcome's probability to 0..1 and, where the explicit ones
    add up to more than 1, draws in proportion to them; a literal above 1 is an error,
    but a computed one (``mine_lethality * 3``) is only seen while playing.

    Args:
        compiled: The scenario.
        issues: From a trial model's ``probability_issues``.
        runs: Runs of the trial.
    """
    source = compiled.loaded.source
    index = {b.id: i for i, b in enumerate(compiled.branches)}
    # Outcomes that are all numbers are warned about when the scenario loads.
    constant = {b.id for b in compiled.branches if _constant_probabilities(b) is not None}
    found: list[Problem] = []
    for (branch, outcome), count in issues.items():
        if outcome is None and branch in constant:
            continue
        if outcome is not None:
            found.append(
                source.problem(
                    ("branches", index[branch], "outcomes", outcome, "probability"),
                    f"warning: the probability of {branch} = {outcome} was outside 0 to 1 "
                    f"when {branch} came up, in {count} of {runs} trial runs (clipped)",
                )
            )
        else:
            found.append(
                source.problem(
                    ("branches", index[branch], "outcomes"),
                    f"warning: the outcome probabilities of {branch} added up to more than 1 "
                    f"when it came up, in {count} of {runs} trial runs (drawn in proportion "
                    "to them)",
                    key=True,
                )
            )
    return found


#: What to do about a round whose equilibrium was not found; said by ``validate``'s trial
#: and by a batch's summary alike.
UNCONVERGED_ADVICE = (
    "often a threshold read on the expected state (in a payoff, branch or ending: "
    "'3 if x > 8 else 0') makes a reply jump and leaves no equilibrium to find: smooth it "
    "('3 * clip((x - 7) / 2, 0, 1)'), make its term smaller, lower those actors' "
    "rationality, or let one reason level-k"
)


def unconverged_equilibria(
    compiled: CompiledScenario, unconverged: np.ndarray, runs: int
) -> list[Problem]:
    """A warning where a trial's equilibrium was not found in some runs.

    Such a run-round costs Newton's method (a tenth of a second or more, against
    microseconds) and plays the last iterate, not a QRE: an author's scenario validated
    clean and then played 21 runs/s. Located at the first equilibrium actor's
    ``reasoning``.

    Args:
        compiled: The scenario.
        unconverged: The trial model's rounds without an equilibrium, per run.
        runs: Runs of the trial.
    """
    missed = int(np.count_nonzero(np.asarray(unconverged) > 0))
    members = [a for a in compiled.actors if a.reasoning == "equilibrium"]
    if not missed or not members:
        return []
    who = ", ".join(a.id for a in members)
    found = thresholds_read(compiled, members)
    # Where to look, by line (an author hunted the cause by hand: an ending's when).
    listed = "; ".join(f"{what} at {at.line}:{at.col} ('{text}')" for at, what, text in found[:4])
    where = (
        f"; thresholds they read on the state: {listed}"
        + (f" and {len(found) - 4} more" if len(found) > 4 else "")
        if found
        else ""
    )
    stopping = (
        # Tried on an author's scenario: smaller ending payoffs made it worse (the
        # rounds not played weigh the more); less foresight or level-k cured it.
        "; a stopping ending's condition cannot be smoothed: give those actors less "
        "foresight (it jumps where the expected state meets the ending), or let one "
        "reason level-k"
        if any(what.startswith("stopping ending") for _, what, _ in found)
        else ""
    )
    return [
        compiled.loaded.source.problem(
            ("actors", members[0].id, "reasoning"),
            f"warning: the equilibrium of {who} was not found in {missed} of {runs} trial "
            "runs: such rounds are slow to play (Newton's method) and play the QRE at the "
            f"highest rationality the search reached; {UNCONVERGED_ADVICE}{where}{stopping}",
        )
    ]


_THRESHOLD = re.compile(r"[<>]")


def thresholds_read(
    compiled: CompiledScenario, members: list[Any]
) -> list[tuple[Location, str, str]]:
    """Comparisons on the state that equilibrium actors' scores read, in the file's order.

    Where a reply jumps is where such a threshold is crossed by the expected state: in
    a member's payoff, and, for a member with foresight, in a branch's condition, hazard
    or outcome odds, or an ending's condition (a stopping one, or one with payoffs for a
    member). A threshold inside a ``defines`` entry is not seen (its text is inlined).

    Args:
        compiled: The scenario.
        members: The actors that reason by equilibrium.

    Returns:
        (location, what, text) for each expression that reads a state variable and
        compares with ``<``, ``>``, ``<=`` or ``>=`` (a categorical ``==`` is an
        outcome foresight weighs as such, not a threshold of the expected state).
    """
    state = set(compiled.state_names)
    indices = {compiled.actor_index(a.id) for a in members}
    found: list[tuple[Location, str, str]] = []

    def add(expression: Expression | None, what: str) -> None:
        if (
            expression is not None
            and expression.reads & state
            and _THRESHOLD.search(expression.text)
        ):
            found.append((expression.location, what, " ".join(expression.text.split())))

    for actor in members:
        add(actor.payoff_expression, f"{actor.id}'s payoff")
    if any(a.foresight > 0 for a in members):
        for branch in compiled.branches:
            add(branch.when, f"branch {branch.id}'s when")
            add(branch.hazard, f"branch {branch.id}'s hazard")
            for outcome in branch.outcomes:
                add(outcome.probability, f"branch {branch.id}'s {outcome.id} odds")
        for ending in compiled.endings:
            if ending.stop:
                add(ending.when, f"stopping ending {ending.id}")
            elif indices & set(ending.payoffs):
                add(ending.when, f"ending {ending.id}")
    return sorted(found, key=lambda item: (item[0].line, item[0].col))


def unreached_endings(
    compiled: CompiledScenario, ending: np.ndarray, runs: int, already: list[Problem]
) -> list[Problem]:
    """Warnings about endings with a condition that ended none of a trial's runs.

    An ending meant to be rare may not come up in a short trial, so the warning says
    both what to check (a condition that cannot hold: a bound, a value nothing sets)
    and how to tell (a longer trial). The fallback ending is not judged, nor an ending
    warned about already at its condition (unreachable, or shadowed by an earlier one).

    Args:
        compiled: The scenario.
        ending: The trial's ending index per run.
        runs: Runs of the trial.
        already: Warnings given already (:attr:`CompiledScenario.warnings`,
            :func:`shadowed_endings`).
    """
    source = compiled.loaded.source
    counts = np.bincount(ending[ending >= 0], minlength=len(compiled.endings))
    warned = {(p.file, p.line, p.col) for p in already}
    found: list[Problem] = []
    for i, end in enumerate(compiled.endings):
        if end.when is None or counts[i]:
            continue
        problem = source.problem(
            ("endings", i, "when"),
            f"warning: ending '{end.id}' ended none of the {runs:,} trial runs: check "
            "that its condition can hold (a bound it cannot pass, a value nothing "
            "sets); if it is meant to be rare, a longer trial (--trial-runs 5000) tells",
        )
        if (problem.file, problem.line, problem.col) not in warned:
            found.append(problem)
    return found


def shadowed_endings(
    compiled: CompiledScenario, ctx: EvalContext, ended: np.ndarray
) -> list[Problem]:
    """Warnings about endings that earlier endings take from them, seen in a trial.

    Endings are checked in order, so an ending whose condition only ever holds where an
    earlier one's holds too never ends a run (the same condition copied, or a narrower
    one placed after a broader one). Judged on the final state of a trial batch's runs
    that reached the last round: an ending whose condition held in some of them, and in
    each of those an earlier ending's held too, gets a warning. An ending whose
    condition held in no trial run is not judged (it may be rare).

    Args:
        compiled: The scenario.
        ctx: The final state of the trial's runs.
        ended: Runs whose ending was decided after the last round (not stopped early).

    Returns:
        One located warning per shadowed ending.
    """
    source = compiled.loaded.source
    warnings: list[Problem] = []
    earlier = np.zeros(ctx.size, dtype=bool)
    held: list[tuple[str, np.ndarray]] = []
    with np.errstate(all="ignore"):
        for i, ending in enumerate(compiled.endings):
            if ending.when is None:
                break
            holds = (ending.when(ctx) != 0) & ended
            if holds.any() and not (holds & ~earlier).any():
                first = next(name for name, other in held if (other & holds).any())
                count = int(holds.sum())
                where = (
                    "in the one run where its condition held"
                    if count == 1
                    else f"in each of the {count:,} runs where its condition held"
                )
                warnings.append(
                    source.problem(
                        ("endings", i, "when"),
                        f"warning: ending '{ending.id}' never ended a trial run: {where}, "
                        f"an earlier ending's held too ('{first}'); endings are checked "
                        "in order",
                    )
                )
            earlier |= holds
            held.append((ending.id, holds))
    return warnings

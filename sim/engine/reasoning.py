"""How actors reason: what each expects the others to do, which branches it foresees.

Every round, after the injects, the model builds one :class:`RoundReasoning` from the
observed state. Each actor's decide step (Mesa's ``agents.do("decide")``) asks it for that
actor's :class:`Strategy`. What several actors share (the myopic strategies, the level-k
hierarchy, the round's equilibrium) is computed once, on first demand, with no random
draw, so the order in which the actors decide changes nothing.

**Scoring an action against expectations.** An actor ``i`` scores its action ``a`` on the
*projected* state: the observed state, then the expected moves of the others it reasons
about (each other actor ``j`` with a mixed strategy ``p_j``: the state after ``j``'s action
``b`` weighted by ``p_j(b)``, actors in file order), then ``a``'s own effects (amounts
from the observed state, random terms at their expected value; bounds applied after each
change). History seen while projecting counts this round's moves as made:
``times(i, a)`` is one higher, ``last(i, a)`` and ``chose(i, a)`` are 1 and ``i``'s other
actions 0; for another actor, ``chose(j, b)`` and ``last(j, b)`` are ``p_j(b)`` and
``times(j, b)`` grows by ``p_j(b)``. An actor expected not to move keeps its history and
``chose(j, b) = 0``. Then::

    score(a) = U_i(projected(a)) - cost(a) + commitment bonus + foresight(a)

where ``U_i`` is the payoff rule (weights and expression) and ``cost(a)`` is evaluated on
the observed state with this round's ``chose`` as above.

**Reasoning modes** (an actor's ``reasoning``):

- ``myopic``: nobody else moves (the rule of version 0.1, and the level 0 of level-k);
- ``level-k`` with ``depth`` k >= 1: every other actor plays its level k-1 strategy
  (level 0 = myopic; each level a logit reply with that actor's own rationality);
- ``beliefs``: smooth fictitious play; actor ``j``'s mix is the frequency of its past
  choices over its feasible actions, with ``prior`` rounds of uniform play added;
- ``equilibrium``: the actors with this mode play the round's logit quantal response
  equilibrium among themselves, each knowing the strategies of all the others.

**Foresight** (an actor's ``foresight``, a horizon in rounds, 0 = none): see
:meth:`RoundReasoning._foresight` and ``docs/scenario-format.md``.

**The equilibrium** is found deterministically: simultaneous logit replies from the
uniform strategy (which converge at once when the actors' payoffs interact weakly);
where that has not converged after :data:`PLAIN_ITERATIONS` sweeps, Newton's method
follows the QRE from lambda = 0 (where the uniform strategy is the unique QRE) to the
actors' rationality in :data:`HOMOTOPY_STEPS` steps, as Gambit's logit solver does, then
polishes. A run whose residual is still above :data:`TOLERANCE` counts as not converged
(its strategies are the last iterate) and is reported in the batch manifest.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.engine.decision import RULES
from sim.language.expressions import clip_values

if TYPE_CHECKING:
    from sim.language.compiler import CompiledBranch, CompiledScenario, Effect
    from sim.language.expressions import EvalContext, Expression

MODES = ("myopic", "level-k", "beliefs", "equilibrium")

#: Largest change of any choice probability between two sweeps at a fixed point.
TOLERANCE = 1e-7
#: Sweeps of simultaneous logit replies before Newton's method takes over, how many
#: past sweeps Anderson's step uses, and how many sweeps in a row without contraction
#: send a run to Newton's method.
PLAIN_ITERATIONS = 60
ANDERSON_MEMORY = 3
STALL_SWEEPS = 4
#: Anderson's step is taken only once replies change by less than this: it speeds up
#: the last approach, never picking which equilibrium the replies head for.
ANDERSON_FROM = 1e-2
#: The first step of lambda (as a share of the actors' rationality) on the Newton path
#: from lambda = 0, how many steps a run may take, and how close to the path the
#: intermediate points must come.
HOMOTOPY_STEPS = 10
CONTINUATION_STEPS = 200
PATH_TOLERANCE = 1e-6
#: Newton corrections per step of the path.
NEWTON_ITERATIONS = 6
#: A run whose step of lambda falls below this gives up (not converged): the path met
#: a jump in the replies (a threshold in a payoff or an ending) that no smaller step
#: passes. Halving on to 1e-7 cost a scenario with such jumps 100 times alaska's time.
MIN_STEP = 1e-3
#: Finite-difference step for the Jacobian of the scores.
FD_STEP = 1e-6


def apply_effect(values: np.ndarray, effect: Effect, amount: np.ndarray) -> np.ndarray:
    """The new values of a state variable after ``effect`` with the given amount."""
    if effect.op == "add":
        return values + amount
    if effect.op == "sub":
        return values - amount
    if effect.op == "mul":
        return values * amount
    return amount


def clip_state(compiled: CompiledScenario, index: int, values: np.ndarray) -> np.ndarray:
    """Clip new values of state variable ``index`` to its bounds."""
    low, high = compiled.state_low[index], compiled.state_high[index]
    if low > -np.inf:
        if high < np.inf:
            return clip_values(values, low, high)
        return np.maximum(values, low)
    if high < np.inf:
        return np.minimum(values, high)
    return values


def outcome_weights(
    branch: CompiledBranch, ctx: EvalContext, expect: bool, normalise: bool = True
) -> np.ndarray:
    """Each outcome's probability in each run, shape (outcomes, R).

    Probabilities are clipped to [0, 1]; an outcome with probability ``rest`` takes what
    the others leave; a column of zeros becomes uniform, so a branch always resolves once
    it is due. With ``normalise`` the columns are divided by their sums (the model draws
    from the weights as they are, which comes to the same).
    """
    weights = np.zeros((len(branch.outcomes), ctx.size))
    rest = None
    for o, outcome in enumerate(branch.outcomes):
        if outcome.probability is None:
            rest = o
        else:
            weights[o] = clip_values(outcome.probability(ctx, expect=expect), 0.0, 1.0)
    if rest is not None:
        weights[rest] = clip_values(1.0 - weights.sum(axis=0), 0.0, 1.0)
    total = weights.sum(axis=0)
    weights = np.where(total > 0, weights, 1.0)
    return weights / weights.sum(axis=0) if normalise else weights


def _solve(matrix: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Solve one linear system per run: matrix (R, D, D), right (R, D) -> (D, R).

    A singular system (rare: a degenerate game) gets a least-squares step.
    """
    try:
        return np.linalg.solve(matrix, right[:, :, None])[:, :, 0].T
    except np.linalg.LinAlgError:
        # Run by run, so that a singular system in one run does not change the others'
        # steps (nothing a run gets depends on its block).
        return np.stack([_solve_one(m, r) for m, r in zip(matrix, right, strict=True)], axis=1)


def _solve_one(matrix: np.ndarray, right: np.ndarray) -> np.ndarray:
    """One run's system, least squares where it is singular."""
    try:
        return np.linalg.solve(matrix[None], right[None, :, None])[0, :, 0]
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(matrix, right, rcond=None)[0]


def first_ending(compiled: CompiledScenario, ctx: EvalContext, stopping: bool) -> np.ndarray:
    """Index of the first ending whose condition holds in each run (-1 for none).

    Args:
        compiled: The scenario.
        ctx: The state to check.
        stopping: Check only the endings that stop a run; otherwise all, in order, with
            the fallback for runs that match none.
    """
    found = np.full(ctx.size, -1)
    for e, ending in enumerate(compiled.endings):
        if stopping and not ending.stop:
            continue
        if ending.when is None:
            if not stopping:
                found = np.where(found < 0, e, found)
            break
        hit = (found < 0) & (ending.when(ctx) != 0)
        found = np.where(hit, e, found)
    return found


def ending_payoff(
    compiled: CompiledScenario, actor: int, ending: np.ndarray, ctx: EvalContext
) -> np.ndarray:
    """The one-off payoff ``actor`` gets from each run's ending (0 for -1 or none set)."""
    value = np.zeros(ctx.size)
    for e, spec in enumerate(compiled.endings):
        expression = spec.payoffs.get(actor)
        hit = ending == e
        if expression is not None and hit.any():
            value = np.where(hit, expression(ctx, expect=True), value)
    return value


def utility(
    compiled: CompiledScenario, i: int, ctx: EvalContext, expect: bool = True
) -> np.ndarray:
    """Actor ``i``'s payoff rule on the state in ``ctx`` (shape (R,)).

    Args:
        compiled: The scenario.
        i: The actor.
        ctx: The state (projected, or as it is at the end of a round).
        expect: Take random terms at their expected value (when projecting).
    """
    actor = compiled.actors[i]
    total: np.ndarray | float = 0.0
    for index, weight in actor.weights:
        total = total + weight * ctx.state[index]
    if actor.payoff_expression is not None:
        total = total + actor.payoff_expression(ctx, expect=expect)
    if isinstance(total, float):
        return np.full(ctx.size, total)
    return total


def outcome_state(
    compiled: CompiledScenario,
    branch: CompiledBranch,
    o: int,
    ctx: EvalContext,
    amounts: list[np.ndarray] | None = None,
    code: np.ndarray | None = None,
) -> EvalContext:
    """The state after outcome ``o`` of a branch: its variable set, its effects applied.

    Effect amounts are computed at their expected values unless given.
    """
    outcome = branch.outcomes[o]
    state = list(ctx.state)
    if branch.variable is not None:
        if code is None:
            categories = compiled.state_categories[branch.variable]
            assert categories is not None
            code = np.full(ctx.size, float(categories.index(outcome.id)))
        state[branch.variable] = code
    after = ctx.with_state(state)
    if outcome.effects:
        if amounts is None:
            amounts = [e.expression(after, expect=True) for e in outcome.effects]
        state = list(state)
        for effect, amount in zip(outcome.effects, amounts, strict=True):
            new = apply_effect(state[effect.target], effect, amount)
            state[effect.target] = clip_state(compiled, effect.target, new)
        after = ctx.with_state(state)
    return after


def outcome_worth(
    compiled: CompiledScenario, i: int, after: EvalContext, remaining: int, last: bool
) -> np.ndarray:
    """What an outcome's state is worth to actor ``i``: its payoff over the rounds left.

    ``remaining * U(state)``, plus the ending's payoff in the last round; if the state
    meets a stopping ending, ``U(state)`` plus that ending's payoff instead.
    """
    value = utility(compiled, i, after)
    worth = remaining * value
    if last:
        worth = worth + ending_payoff(compiled, i, first_ending(compiled, after, False), after)
    if any(e.stop for e in compiled.endings):
        stop = first_ending(compiled, after, stopping=True)
        if (stop >= 0).any():
            worth = np.where(stop >= 0, value + ending_payoff(compiled, i, stop, after), worth)
    return worth


def inject_state(compiled: CompiledScenario, k: int, ctx: EvalContext) -> EvalContext:
    """The state after inject ``k``'s effects (amounts at their expected values)."""
    inject = compiled.injects[k]
    state = list(ctx.state)
    amounts = [e.expression(ctx, expect=True) for e in inject.effects]
    for effect, amount in zip(inject.effects, amounts, strict=True):
        state[effect.target] = clip_state(
            compiled, effect.target, apply_effect(state[effect.target], effect, amount)
        )
    return ctx.with_state(state)


def holding(open_now: np.ndarray, when: Expression | None, ctx: EvalContext) -> np.ndarray:
    """Runs where an event is still open and its condition (if any) holds on ``ctx``.

    Args:
        open_now: Runs where the event can still happen.
        when: Its condition, or None for always.
        ctx: The state to check it on.
    """
    return open_now if when is None else open_now & (when(ctx) != 0)


def chance_events(
    compiled: CompiledScenario,
    i: int,
    ctx: EvalContext,
    open_branches: np.ndarray,
    open_injects: np.ndarray,
    exclude: int | None = None,
) -> np.ndarray:
    """What the chance events the state in ``ctx`` makes possible are worth to actor ``i``.

    The branches with a hazard (resolving this round) and the injects with a hazard
    (firing at the start of the next round), each still open and with its condition
    holding on ``ctx``: ``chance * (expected worth after it - worth without it)``, with
    worth as in :func:`outcome_worth`. Used by an actor with foresight that decides a
    branch, to see the dangers an outcome switches on.
    """
    t, rounds = ctx.round, compiled.rounds
    value = np.zeros(ctx.size)
    for b, branch in enumerate(compiled.branches):
        if b == exclude or branch.hazard is None or branch.decided_by is not None:
            continue
        due = holding(open_branches[b], branch.when, ctx)
        if not due.any():
            continue
        chance = clip_values(branch.hazard(ctx, expect=True), 0.0, 1.0)
        remaining, last = rounds - t + 1, t == rounds
        base = outcome_worth(compiled, i, ctx, remaining, last)
        weights = outcome_weights(branch, ctx, expect=True)
        expected = np.zeros(ctx.size)
        for o in range(len(branch.outcomes)):
            after = outcome_state(compiled, branch, o, ctx)
            expected += weights[o] * outcome_worth(compiled, i, after, remaining, last)
        value += np.where(due, chance * (expected - base), 0.0)
    if t < rounds:
        for k, inject in enumerate(compiled.injects):
            if inject.hazard is None:
                continue
            due = holding(open_injects[k], inject.when, ctx)
            if not due.any():
                continue
            chance = clip_values(inject.hazard(ctx, expect=True), 0.0, 1.0)
            remaining = rounds - t
            base = outcome_worth(compiled, i, ctx, remaining, False)
            after = outcome_worth(compiled, i, inject_state(compiled, k, ctx), remaining, False)
            value += np.where(due, chance * (after - base), 0.0)
    return value


def decided_probabilities(
    compiled: CompiledScenario,
    branch: CompiledBranch,
    ctx: EvalContext,
    afters: list[EvalContext],
    remaining: int,
    last: bool,
    open_branches: np.ndarray | None = None,
    open_injects: np.ndarray | None = None,
) -> np.ndarray:
    """How likely the deciding actor is to choose each outcome of a decision node.

    Its options are the outcomes, each scored by what the state after it is worth to
    it (:func:`outcome_worth`), plus, if it has foresight, what the chance events that
    outcome makes possible are worth (:func:`chance_events`: a retaliation that switches
    on a war hazard is seen as such), turned into probabilities by its decision rule
    with its rationality (a logit choice; ``best_response`` takes the best).
    """
    i = branch.decided_by
    assert i is not None
    actor = compiled.actors[i]
    scores = np.array([outcome_worth(compiled, i, after, remaining, last) for after in afters])
    if actor.foresight > 0 and open_branches is not None and open_injects is not None:
        b = compiled.branches.index(branch)
        for o, after in enumerate(afters):
            scores[o] += chance_events(compiled, i, after, open_branches, open_injects, b)
    feasible = np.ones(scores.shape, dtype=bool)
    rule = RULES["best_response" if actor.decision == "best_response" else "logit"]
    return rule(scores, feasible, np.maximum(actor.rationality(ctx), 0.0))


def branch_weights(
    compiled: CompiledScenario,
    branch: CompiledBranch,
    ctx: EvalContext,
    expect: bool,
    normalise: bool = True,
    open_branches: np.ndarray | None = None,
    open_injects: np.ndarray | None = None,
) -> np.ndarray:
    """Each outcome's weight in each run when the branch resolves now, (outcomes, R).

    Drawn branches: :func:`outcome_weights`. A branch an actor decides: that actor's
    choice probabilities over the outcomes (:func:`decided_probabilities`).
    """
    if branch.decided_by is None:
        return outcome_weights(branch, ctx, expect, normalise)
    afters = [outcome_state(compiled, branch, o, ctx) for o in range(len(branch.outcomes))]
    remaining = compiled.rounds - ctx.round + 1
    return decided_probabilities(
        compiled,
        branch,
        ctx,
        afters,
        remaining,
        ctx.round == compiled.rounds,
        open_branches,
        open_injects,
    )


@dataclass
class Foreseen:
    """A branch an actor foresaw while scoring its actions.

    Attributes:
        branch: Index of the branch.
        round: The round it resolves in.
        due: Whether it was foreseen for each action in each run, shape (A, R).
        probabilities: Each outcome's probability if the actor takes each action,
            shape (A, outcomes, R).
        value: The expected change in the actor's value from the branch, shape (A, R).
        chance: For a branch that happens by chance (``hazard``), its chance of
            happening this round if the actor takes each action, shape (A, R).
        inject: True for an inject with a hazard (then ``branch`` is the inject's
            index and it fires at the start of round ``round``).
    """

    branch: int
    round: int
    due: np.ndarray
    probabilities: np.ndarray
    value: np.ndarray
    chance: np.ndarray | None = None
    inject: bool = False


@dataclass
class Scored:
    """An actor's scores of its actions against one set of expectations, term by term.

    Every array has shape (A, R); ``total`` is the sum of the others.

    Attributes:
        payoff: The payoff rule on the projected state.
        cost: The action's cost (subtracted).
        bonus: The commitment bonus.
        foresight: Expected change in value from the branches foreseen (``None`` for an
            actor without foresight).
        ending: One-off ending payoffs the action makes certain (with foresight; else
            ``None``).
        foreseen: The branches foreseen, with their odds per action.
    """

    payoff: np.ndarray
    cost: np.ndarray
    bonus: np.ndarray
    foresight: np.ndarray | None = None
    ending: np.ndarray | None = None
    foreseen: list[Foreseen] = field(default_factory=list)

    @property
    def total(self) -> np.ndarray:
        """The score of each action."""
        found = self.__dict__.get("_total")
        if found is None:
            found = self.payoff - self.cost
            if self.bonus.any():
                found = found + self.bonus
            for extra in (self.foresight, self.ending):
                if extra is not None:
                    found = found + extra
            self.__dict__["_total"] = found
        return found

    def merged(self, index: np.ndarray, other: Scored) -> Scored:
        """These scores with the runs at ``index`` taken from ``other`` (a sub-block)."""
        size = self.payoff.shape[1]

        def put(mine: np.ndarray | None, theirs: np.ndarray | None) -> np.ndarray | None:
            if mine is None and theirs is None:
                return None
            base = np.zeros((self.payoff.shape[0], size)) if mine is None else mine.copy()
            if theirs is not None:
                base[:, index] = theirs
            return base

        foreseen = {(f.inject, f.branch): f for f in self.foreseen}
        for record in other.foreseen:
            mine = foreseen.get((record.inject, record.branch))
            if mine is None:
                count, outcomes = record.probabilities.shape[:2]
                mine = Foreseen(
                    record.branch,
                    record.round,
                    np.zeros((count, size), dtype=bool),
                    np.zeros((count, outcomes, size)),
                    np.zeros((count, size)),
                    None if record.chance is None else np.zeros((count, size)),
                    record.inject,
                )
            else:
                mine = Foreseen(
                    mine.branch,
                    mine.round,
                    mine.due.copy(),
                    mine.probabilities.copy(),
                    mine.value.copy(),
                    None if mine.chance is None else mine.chance.copy(),
                    mine.inject,
                )
            mine.due[:, index] = record.due
            mine.probabilities[:, :, index] = record.probabilities
            mine.value[:, index] = record.value
            if mine.chance is not None and record.chance is not None:
                mine.chance[:, index] = record.chance
            foreseen[(record.inject, record.branch)] = mine
        return Scored(
            put(self.payoff, other.payoff),  # type: ignore[arg-type]
            put(self.cost, other.cost),  # type: ignore[arg-type]
            put(self.bonus, other.bonus),  # type: ignore[arg-type]
            put(self.foresight, other.foresight),
            put(self.ending, other.ending),
            list(foreseen.values()),
        )


@dataclass
class _Iteration:
    """Where each run of a block stands in the search for the round's equilibrium.

    Attributes:
        members: The actors reasoning ``equilibrium``.
        mixes: The members' current mixes, (A_i, R) each.
        scored: The members' scores against the mixes the last replies answered.
        done: Runs whose replies have settled (frozen).
        stalled: Runs whose replies stopped contracting (for Newton's method).
        previous: Each run's last change, to tell contraction from a cycle.
        slow: Sweeps in a row in which each run's change did not shrink.
        past: The last few (residual, replies), stacked (D, R), for Anderson's step.
        iteration: Sweeps made.
    """

    members: list[int]
    mixes: dict[int, np.ndarray]
    scored: dict[int, Scored]
    done: np.ndarray
    stalled: np.ndarray
    previous: np.ndarray
    slow: np.ndarray
    past: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    iteration: int = 0

    @classmethod
    def begin(cls, reasoning: RoundReasoning, members: list[int]) -> _Iteration:
        size = reasoning.size
        return cls(
            members,
            {i: reasoning._start(i) for i in members},
            {},
            np.zeros(size, dtype=bool),
            np.zeros(size, dtype=bool),
            np.full(size, np.inf),
            np.zeros(size, dtype=np.int64),
        )

    @property
    def moving(self) -> np.ndarray:
        return ~(self.done | self.stalled)

    def advance(
        self,
        reasoning: RoundReasoning,
        moving: np.ndarray,
        replies: dict[int, np.ndarray],
        scored: dict[int, Scored],
    ) -> None:
        """Take one sweep of replies for the moving runs (Anderson-accelerated)."""
        x = np.concatenate([self.mixes[i] for i in self.members])
        g = np.concatenate([replies[i] for i in self.members])
        residual = g - x
        change = np.abs(residual).max(axis=0)
        self.past = [*self.past[-ANDERSON_MEMORY:], (residual, g)]
        step = g
        near = change < ANDERSON_FROM
        if len(self.past) >= 2 and (near & ~(change < TOLERANCE)).any():
            extrapolated = _anderson(self.past)
            offsets = np.concatenate([[0], np.cumsum([len(replies[i]) for i in self.members])])
            step = np.where(near, reasoning._project(self.members, offsets, extrapolated), g)
        settled = moving & (change < TOLERANCE)
        # A settled run takes its replies exactly; a moving one the accelerated step.
        new = np.where(settled, g, np.where(moving, step, x))
        start = 0
        for i in self.members:
            width = len(replies[i])
            self.mixes[i] = new[start : start + width]
            start += width
        # Frozen runs' scores are recomputed from the same frozen mixes: identical.
        self.scored = dict(scored)
        self.done |= settled
        shrinking = change < 0.9 * self.previous
        self.slow = np.where(moving & ~shrinking, self.slow + 1, 0)
        self.stalled |= moving & ~settled & (self.slow >= STALL_SWEEPS)
        self.previous = np.where(moving, change, self.previous)
        self.iteration += 1

    def take(self, index: np.ndarray) -> _Iteration:
        """The state of the runs at ``index`` (for a sub-block)."""
        return _Iteration(
            self.members,
            {i: m[:, index] for i, m in self.mixes.items()},
            {},
            self.done[index],
            self.stalled[index],
            self.previous[index],
            self.slow[index],
            [(f[:, index], g[:, index]) for f, g in self.past],
            self.iteration,
        )

    def put(self, index: np.ndarray, other: _Iteration) -> None:
        """Write a sub-block's state back at ``index``."""
        for i in self.mixes:
            self.mixes[i] = self.mixes[i].copy()
            self.mixes[i][:, index] = other.mixes[i]
            if other.scored:
                self.scored[i] = self.scored[i].merged(index, other.scored[i])
        self.done[index] = other.done
        self.stalled[index] = other.stalled
        self.iteration = other.iteration


def _put(base: np.ndarray, index: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A copy of ``base`` (A, R) with the columns at ``index`` replaced."""
    out = base.copy()
    out[:, index] = values
    return out


def _anderson(past: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Anderson's extrapolation from the last (g(x) - x, g(x)) pairs, per run, (D, R).

    The step mixes the last replies with the weights that best cancel the last
    residuals ``g - x`` (least squares, per run); for a linear map it is GMRES.
    """
    d_f = [later[0] - earlier[0] for earlier, later in itertools.pairwise(past)]
    d_g = [later[1] - earlier[1] for earlier, later in itertools.pairwise(past)]
    last_f, last_g = past[-1]
    m, size = len(d_f), last_f.shape[1]
    gram = np.empty((size, m, m))
    for i in range(m):
        for j in range(i, m):
            gram[:, i, j] = gram[:, j, i] = np.einsum("dr,dr->r", d_f[i], d_f[j])
    scale = np.trace(gram, axis1=1, axis2=2)[:, None, None] + 1e-300
    gram = gram + 1e-10 * scale * np.eye(m)[None]
    right = np.stack([np.einsum("dr,dr->r", d, last_f) for d in d_f], axis=1)
    gamma = _solve(gram, right)  # (m, R)
    step = last_g.copy()
    for i in range(m):
        step -= gamma[i] * d_g[i]
    return step


@dataclass
class Strategy:
    """What an actor decided to play this round, and on what grounds.

    Attributes:
        probabilities: Choice probability of each action, shape (A, R).
        scored: The scores the probabilities come from.
        expected: Each actor's mix as this actor expected it, shape (A_j, R), or ``None``
            for an actor it expected not to move (itself included).
        unconverged: For an actor in the round's equilibrium, the runs in which the
            equilibrium was not found (its probabilities are then the last iterate).
    """

    probabilities: np.ndarray
    scored: Scored
    expected: list[np.ndarray | None]
    unconverged: np.ndarray | None = None


def _branch_expressions(branch: CompiledBranch) -> list:
    """Every expression of a branch: when, hazard, probabilities, outcome effects."""
    found = [branch.when] if branch.when is not None else []
    found += [branch.hazard] if branch.hazard is not None else []
    for outcome in branch.outcomes:
        if outcome.probability is not None:
            found.append(outcome.probability)
        found += [effect.expression for effect in outcome.effects]
    return found


class Interactions:
    """Which actors' moves can change which actors' score differences (a static map).

    An actor's choice depends on another's expected move only through what it values
    non-additively: a variable its payoff expression or a foreseen branch reads, a
    weighted variable it changes other than by adding, or the other's history and
    choices. Weighted variables everybody changes by adding shift every option's score
    alike. (Bounds are ignored here: near a bound additive changes interact too.)
    """

    def __init__(self, compiled: CompiledScenario):
        names = compiled.state_names
        actors = compiled.actors
        n = len(actors)
        ids = [a.id for a in actors]
        self.changers: dict[str, set[int]] = {name: set() for name in names}
        additive_only: list[dict[str, bool]] = []
        for j, actor in enumerate(actors):
            ops: dict[str, bool] = {}
            for action in actor.actions:
                for effect in action.effects:
                    name = names[effect.target]
                    self.changers[name].add(j)
                    ops[name] = ops.get(name, True) and effect.op in ("add", "sub")
            additive_only.append(ops)

        def moved_by(reads: frozenset[str], actors_read: frozenset[str]) -> set[int]:
            found = {ids.index(a) for a in actors_read}
            for name in reads:
                found |= self.changers.get(name, set())
            return found

        self.static: list[set[int]] = []
        self.values: list[set[int]] = []
        for i, actor in enumerate(actors):
            deps: set[int] = set()
            valued: set[int] = set()
            if actor.payoff_expression is not None:
                expr = actor.payoff_expression
                deps |= moved_by(expr.reads, expr.actors_read | expr.choices_read)
                valued |= moved_by(expr.reads, frozenset())
            for index, _ in actor.weights:
                name = names[index]
                valued |= self.changers[name]
                if not additive_only[i].get(name, True):
                    deps |= self.changers[name]
            for action in actor.actions:
                deps |= {ids.index(a) for a in action.cost.choices_read}
            self.static.append(deps - {i})
            self.values.append(valued)
        # Whether scoring an actor's options needs this round's moves in its history
        # (anything it evaluates on a projected state reads times, last or chose).
        foreseen = [e for b in compiled.branches for e in _branch_expressions(b)]
        for ending in compiled.endings:
            foreseen += [ending.when] if ending.when is not None else []
            foreseen += list(ending.payoffs.values())
        reads_moves = any(e.actors_read or e.choices_read for e in foreseen)
        self.history: list[bool] = []
        for actor in actors:
            expr = actor.payoff_expression
            own = expr is not None and bool(expr.actors_read or expr.choices_read)
            costs = any(a.cost.choices_read for a in actor.actions)
            self.history.append(own or costs or (actor.foresight > 0 and reads_moves))
        # Outcome effects whose amount reads no state and no history: the same for every
        # projected state of a round, so foresight computes them once.
        state_names = set(compiled.state_names)
        self.fixed_amount: dict[tuple[int, int, int], bool] = {}
        for b, branch in enumerate(compiled.branches):
            for o, outcome in enumerate(branch.outcomes):
                for e, effect in enumerate(outcome.effects):
                    expr = effect.expression
                    free = not (expr.reads & state_names or expr.actors_read or expr.choices_read)
                    self.fixed_amount[(b, o, e)] = free
        self.stoppable = any(ending.stop for ending in compiled.endings)
        # A branch condition that no actor's move can change: whether it holds is known
        # before the round's choices.
        moved = {name for name, who in self.changers.items() if who}
        self.settled_when: list[bool] = [
            branch.when is not None
            and not (branch.when.reads & moved)
            and not branch.when.actors_read
            and not branch.when.choices_read
            for branch in compiled.branches
        ]
        self.branch: list[set[int]] = []
        for branch in compiled.branches:
            found: set[int] = set()
            for expr in _branch_expressions(branch):
                found |= moved_by(expr.reads, expr.actors_read | expr.choices_read)
            self.branch.append(found)
        self.count = n

    def depends(self, i: int, branches: list[int]) -> set[int]:
        """Actors whose expected moves can change actor ``i``'s choice this round.

        Args:
            i: The actor.
            branches: Indices of the branches it foresees this round.
        """
        deps = set(self.static[i])
        for b in branches:
            deps |= self.branch[b] | self.values[i]
        return deps - {i}


def interactions(compiled: CompiledScenario) -> Interactions:
    """The scenario's interaction map, computed once and kept on the scenario."""
    found = getattr(compiled, "_interactions", None)
    if found is None:
        found = Interactions(compiled)
        compiled._interactions = found  # type: ignore[attr-defined]
    return found


class _Moves:
    """``times``, ``last`` or ``chose`` as an actor sees them while projecting an action.

    Its own move (``own_action``) counts as made, the others' at their expected mix.
    Read entry by entry by compiled expressions (``c.times[a, x]``), so nothing is
    copied.
    """

    __slots__ = ("base", "kind", "mixes", "own", "own_action")

    def __init__(
        self,
        kind: str,
        base: np.ndarray,
        mixes: list[np.ndarray | None],
        own: int,
        own_action: int,
    ):
        self.kind = kind
        self.base = base
        self.mixes = mixes
        self.own = own
        self.own_action = own_action

    def __getitem__(self, key: tuple[int, int]) -> np.ndarray | float:
        actor, action = key
        if actor == self.own:
            hit = 1.0 if action == self.own_action else 0.0
            return self.base[actor, action] + hit if self.kind == "times" else hit
        mix = self.mixes[actor]
        if mix is None:
            return 0.0 if self.kind == "chose" else self.base[actor, action]
        value = mix[action] if action < mix.shape[0] else 0.0
        return self.base[actor, action] + value if self.kind == "times" else value


class RoundReasoning:
    """The decide phase of one round for a block of runs.

    Args:
        compiled: The scenario.
        ctx: The observed state (after this round's injects), with history so far; the
            reasoning keeps a snapshot of it.
        open_branches: Whether each branch is still unresolved (and the run still
            playing) in each run, shape (branches, R).
        open_injects: Whether each inject has yet to fire (and the run still playing)
            in each run, shape (injects, R); all open if not given.

    Attributes:
        feasible: Each actor's open actions, shape (A, R).
        rationality: Each actor's logit lambda this round, shape (R,).
        bonus: Each actor's commitment bonus per action, shape (A, R).
        bound: The forcing commitment binding each actor (-1 for none), shape (R,).
        commitment_active: Whether each commitment binds its actor, shape (C, R).
        unconverged: Runs whose equilibrium did not converge this round.
    """

    def __init__(
        self,
        compiled: CompiledScenario,
        ctx: EvalContext,
        open_branches: np.ndarray,
        open_injects: np.ndarray | None = None,
    ):
        self.compiled = compiled
        if open_injects is None:
            open_injects = np.ones((len(compiled.injects), ctx.size), dtype=bool)
        self.open_injects = open_injects
        # The model replaces the arrays in its state list rather than writing into
        # them, so a copy of the list keeps this round's observed state. (A model that
        # keeps history passes copies of its history arrays.)
        self.ctx = ctx.with_state(list(ctx.state))
        self.size = ctx.size
        self.open_branches = open_branches
        self.map = interactions(compiled)
        actors = compiled.actors
        self.n = len(actors)
        self.feasible: list[np.ndarray] = []
        self.rationality: list[np.ndarray] = []
        self.bonus: list[np.ndarray] = []
        self.forced: list[np.ndarray] = []
        self.bound: list[np.ndarray] = []
        self.commitment_active = np.zeros((len(compiled.commitments), self.size), dtype=bool)
        size = self.size
        for i, actor in enumerate(actors):
            feasible = np.ones((len(actor.actions), size), dtype=bool)
            for a, action in enumerate(actor.actions):
                if action.when is not None:
                    feasible[a] = action.when(ctx) != 0
            self.feasible.append(feasible)
            rationality = actor.rationality(ctx)
            self.rationality.append(np.maximum(rationality, 0.0))
            bound = np.full(size, -1)
            forced = np.full(size, -1)
            bonus = np.zeros((len(actor.actions), size))
            for c, commitment in enumerate(compiled.commitments):
                if commitment.actor != i:
                    continue
                active = (commitment.trigger(ctx) != 0) & feasible[commitment.action]
                self.commitment_active[c] = active
                if commitment.force:
                    forced = np.where(active & (forced < 0), commitment.action, forced)
                    bound = np.where(active & (bound < 0), c, bound)
                else:
                    strength = commitment.bonus(ctx)
                    bonus[commitment.action] += np.where(active, strength, 0.0)
            self.bonus.append(bonus)
            self.forced.append(forced)
            self.bound.append(bound)
        # Effect amounts of every action, from the observed state at expected values.
        self.amounts = [
            [
                [effect.expression(ctx, expect=True) for effect in action.effects]
                for action in a.actions
            ]
            for a in actors
        ]
        self.costs: list[np.ndarray | None] = []
        for actor in actors:
            if any(action.cost.choices_read for action in actor.actions):
                self.costs.append(None)  # depends on this round's choices: per expectation
            else:
                self.costs.append(
                    np.array([action.cost(ctx, expect=True) for action in actor.actions])
                )
        self.none: list[np.ndarray | None] = [None] * self.n
        self._delta_cache: dict[int, dict[int, np.ndarray]] = {}
        self._round_cache: dict[tuple, np.ndarray] = {}
        self._mix_cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._strategies: dict[int, Strategy] = {}
        self._levels: dict[tuple[int, int], Strategy] = {}
        self._relevant: dict[int, set[int]] = {}
        self._equilibrium: dict[int, Strategy] | None = None
        self.unconverged = np.zeros(size, dtype=bool)

    # --- subsets of runs (for the Newton phase) -----------------------------------------

    def subset(self, index: np.ndarray) -> RoundReasoning:
        """The same round restricted to the runs at ``index``."""
        other = object.__new__(RoundReasoning)
        other.compiled = self.compiled
        other.ctx = self.ctx.subset(index)
        other.size = len(index)
        other.open_branches = self.open_branches[:, index]
        other.open_injects = self.open_injects[:, index]
        other.map = self.map
        other.n = self.n
        other.feasible = [f[:, index] for f in self.feasible]
        other.rationality = [r[index] for r in self.rationality]
        other.bonus = [b[:, index] for b in self.bonus]
        other.forced = [f[index] for f in self.forced]
        other.bound = [b[index] for b in self.bound]
        other.commitment_active = self.commitment_active[:, index]
        other.amounts = [[[x[index] for x in action] for action in actor] for actor in self.amounts]
        other.costs = [None if c is None else c[:, index] for c in self.costs]
        other.none = self.none
        other._delta_cache = {}
        other._round_cache = {}
        other._mix_cache = {}
        other._strategies = {}
        other._levels = {}
        other._relevant = self._relevant
        other._equilibrium = None
        other.unconverged = np.zeros(other.size, dtype=bool)
        return other

    # --- projection and scores ----------------------------------------------------------

    def _deltas(self, k: int) -> dict[int, np.ndarray]:
        """The change each of actor ``k``'s actions makes to each variable it touches.

        Each action is applied to the observed state on its own; shape (A_k, R) per
        variable.
        """
        found = self._delta_cache.get(k)
        if found is None:
            actions = self.compiled.actors[k].actions
            state = self.ctx.state
            found = {}
            for b, action in enumerate(actions):
                moved: dict[int, np.ndarray] = {}
                for effect, amount in zip(action.effects, self.amounts[k][b], strict=True):
                    current = moved.get(effect.target, state[effect.target])
                    new = apply_effect(current, effect, amount)
                    moved[effect.target] = clip_state(self.compiled, effect.target, new)
                for target, value in moved.items():
                    if target not in found:
                        found[target] = np.zeros((len(actions), self.size))
                    found[target][b] = value - state[target]
            self._delta_cache[k] = found
        return found

    def _no_moves(self) -> np.ndarray:
        """``chose`` when nobody moves: zeros."""
        found = self._round_cache.get(("no moves",))
        if found is None:
            found = np.zeros_like(self.ctx.chose)
            self._round_cache[("no moves",)] = found
        return found

    def _outcome_code(self, b: int, o: int) -> np.ndarray:
        """The value a branch's variable takes with outcome ``o``, one per run."""
        key = ("code", b, o)
        found = self._round_cache.get(key)
        if found is None:
            branch = self.compiled.branches[b]
            categories = self.compiled.state_categories[branch.variable]  # type: ignore[index]
            assert categories is not None
            found = np.full(self.size, float(categories.index(branch.outcomes[o].id)))
            self._round_cache[key] = found
        return found

    def _fixed_amount(self, b: int, o: int, e: int, r: int, ctx: EvalContext) -> np.ndarray:
        """An outcome effect's amount that reads no state or history (computed once)."""
        key = ("amount", b, o, e, r)
        found = self._round_cache.get(key)
        if found is None:
            found = self.compiled.branches[b].outcomes[o].effects[e].expression(ctx, expect=True)
            self._round_cache[key] = found
        return found

    def _others_moved(self, i: int, expect: list[np.ndarray | None]) -> list[np.ndarray]:
        """The observed state plus the expected change of every other actor's move.

        Each other actor's actions change the observed state by what they would do on
        their own (effects in order, bounds applied); the expected change is their
        probability-weighted sum, added over the actors, then bounds applied.
        """
        change: dict[int, np.ndarray] = {}
        for k, mix in enumerate(expect):
            if k == i or mix is None:
                continue
            targets, stacked = self._stacked_deltas(k)
            if not targets:
                continue
            # The same mix (an actor outside the equilibrium, say) recurs across sweeps.
            cached = self._mix_cache.get(k)
            if cached is not None and cached[0] is mix:
                steps = cached[1]
            else:
                steps = np.einsum("ar,tar->tr", mix, stacked)
                self._mix_cache[k] = (mix, steps)
            for target, step in zip(targets, steps, strict=True):
                change[target] = change[target] + step if target in change else step
        if not change:
            return self.ctx.state
        state = list(self.ctx.state)
        for target, step in change.items():
            state[target] = clip_state(self.compiled, target, state[target] + step)
        return state

    def _stacked_deltas(self, k: int) -> tuple[list[int], np.ndarray]:
        """Actor ``k``'s deltas as (targets, array of shape (T, A_k, R))."""
        key = ("stacked", k)
        found = self._round_cache.get(key)
        if found is None:
            deltas = self._deltas(k)
            targets = list(deltas)
            stacked = np.stack([deltas[t] for t in targets]) if targets else np.zeros(0)
            found = (targets, stacked)
            self._round_cache[key] = found  # type: ignore[assignment]
        return found  # type: ignore[return-value]

    def _own_move(self, i: int, a: int, base: list[np.ndarray]) -> list[np.ndarray]:
        action = self.compiled.actors[i].actions[a]
        if not action.effects:
            return base
        state = list(base)
        for effect, amount in zip(action.effects, self.amounts[i][a], strict=True):
            new = apply_effect(state[effect.target], effect, amount)
            state[effect.target] = clip_state(self.compiled, effect.target, new)
        return state

    def utility(self, i: int, ctx: EvalContext, expect: bool = True) -> np.ndarray:
        """Actor ``i``'s payoff rule on the state in ``ctx``.

        Args:
            i: The actor.
            ctx: The state (projected, or as it is at the end of a round).
            expect: Take random terms at their expected value (when projecting).
        """
        return utility(self.compiled, i, ctx, expect)

    def score(self, i: int, expect: list[np.ndarray | None]) -> Scored:
        """Score every action of actor ``i`` against the expected moves ``expect``."""
        actor = self.compiled.actors[i]
        count = len(actor.actions)
        size = self.size
        base = self._others_moved(i, expect)
        history = self.map.history[i]
        payoff = np.empty((count, size))
        cost = np.empty((count, size)) if self.costs[i] is None else self.costs[i]
        sees = actor.foresight > 0
        foresight = np.zeros((count, size)) if sees else None
        ending = np.zeros((count, size)) if sees else None
        foreseen: dict[int, Foreseen] = {}
        for a in range(count):
            projected = self.ctx.with_state(self._own_move(i, a, base))
            if history:
                ctx = self.ctx
                projected.times = _Moves("times", ctx.times, expect, i, a)
                projected.last = _Moves("last", ctx.last, expect, i, a)
                projected.chose = _Moves("chose", ctx.chose, expect, i, a)
            payoff[a] = self.utility(i, projected)
            if self.costs[i] is None:
                observed = self.ctx.with_state(self.ctx.state)
                observed.chose = _Moves("chose", self.ctx.chose, expect, i, a)
                cost[a] = actor.actions[a].cost(observed, expect=True)
            if sees:
                self._foresight(i, a, projected, payoff[a], foresight, ending, foreseen)
        return Scored(payoff, cost, self.bonus[i], foresight, ending, list(foreseen.values()))

    def _foresight(
        self,
        i: int,
        a: int,
        projected: EvalContext,
        value_now: np.ndarray,
        foresight: np.ndarray,
        ending: np.ndarray,
        foreseen: dict[int, Foreseen],
    ) -> None:
        """Add what actor ``i`` foresees if it takes action ``a`` (``projected`` state).

        With the state after this round held (nobody moves again), the actor values:

        - a stopping ending that holds on the projected state: its one-off payoff (the
          run ends this round, no branch follows); in the last round, the ending the
          projected state would get;
        - each open branch due within the horizon (its round r in t .. t+h-1, or a
          branch with only a ``when``, due this round if it holds on the projected
          state): the expected change in the actor's total payoff over rounds r..T,
          ``sum_o p_o(a) * W(s_o) - W(s)``, where ``s_o`` is the projected state after
          outcome ``o``'s effects, ``W(x) = (T - r + 1) * U(x)`` (plus the ending payoff
          if r = T) or, if ``x`` meets a stopping ending, ``U(x) + ending payoff``.
        """
        compiled = self.compiled
        t = self.ctx.round
        rounds = compiled.rounds
        horizon = compiled.actors[i].foresight
        stoppable = self.map.stoppable
        stop = first_ending(compiled, projected, stopping=True) if stoppable else None
        stops = stop >= 0 if stop is not None else np.zeros(self.size, dtype=bool)
        if stop is not None and stops.any():
            ending[a] += ending_payoff(compiled, i, stop, projected)
        if t == rounds:
            final = first_ending(compiled, projected, stopping=False)
            ending[a] += np.where(stops, 0.0, ending_payoff(compiled, i, final, projected))
        for b, branch in enumerate(compiled.branches):
            r = branch.round if branch.round is not None else t
            if not t <= r <= t + horizon - 1:
                continue
            due = self.open_branches[b] & ~stops
            if not due.any():
                continue
            at = projected.with_state(projected.state)
            at.round = r
            if r > t:
                # Nobody moves again: in a later round's branch, chose() is 0 for all.
                at.chose = self._no_moves()
            due = holding(due, branch.when, at)
            if not due.any():
                continue
            remaining = rounds - r + 1
            last = r == rounds
            base_value = remaining * (value_now if r == t else self.utility(i, at))
            if last:
                base_value = base_value + ending_payoff(
                    compiled, i, first_ending(compiled, at, stopping=False), at
                )
            afters = []
            for o, outcome in enumerate(branch.outcomes):
                amounts = [
                    self._fixed_amount(b, o, e, r, at) if self.map.fixed_amount[(b, o, e)] else None
                    for e in range(len(outcome.effects))
                ]
                code = self._outcome_code(b, o) if branch.variable is not None else None
                if any(x is None for x in amounts):
                    # Amounts that read the state are computed on the state with the
                    # outcome's variable set (as the model does).
                    partial = at
                    if code is not None:
                        partial_state = list(at.state)
                        partial_state[branch.variable] = code  # type: ignore[index]
                        partial = at.with_state(partial_state)
                    amounts = [
                        x if x is not None else effect.expression(partial, expect=True)
                        for x, effect in zip(amounts, outcome.effects, strict=True)
                    ]
                afters.append(outcome_state(compiled, branch, o, at, amounts, code))
            if branch.decided_by is None:
                weights = outcome_weights(branch, at, expect=True)
            else:
                # An actor foresees its own decision as it will make it, chance events
                # included; another actor's from what each outcome's state is worth to
                # the decider. (Weighing the decider's chance events too made a hazard's
                # condition on the projected state jump with the mixes: the round's
                # equilibrium failed in 0.1% of taiwan-strait's runs, 30 times slower.)
                own = branch.decided_by == i
                weights = decided_probabilities(
                    compiled,
                    branch,
                    at,
                    afters,
                    remaining,
                    last,
                    self.open_branches if own else None,
                    self.open_injects if own else None,
                )
            expected = np.zeros(self.size)
            for o, after in enumerate(afters):
                if branch.decided_by is None and not stoppable and not last:
                    worth = remaining * self.utility(i, after)
                else:
                    worth = outcome_worth(compiled, i, after, remaining, last)
                expected += weights[o] * worth
            chance = None
            if branch.hazard is not None:
                # A chance event: it happens this round with its hazard's probability.
                chance = clip_values(branch.hazard(at, expect=True), 0.0, 1.0)
                expected = base_value + chance * (expected - base_value)
            change = np.where(due, expected - base_value, 0.0)
            foresight[a] += change
            record = foreseen.get(b)
            if record is None:
                count = len(compiled.actors[i].actions)
                record = Foreseen(
                    b,
                    r,
                    np.zeros((count, self.size), dtype=bool),
                    np.zeros((count, len(branch.outcomes), self.size)),
                    np.zeros((count, self.size)),
                    np.zeros((count, self.size)) if branch.hazard is not None else None,
                )
                foreseen[b] = record
            record.due[a] = due
            record.probabilities[a] = weights
            record.value[a] = change
            if record.chance is not None and chance is not None:
                record.chance[a] = chance
        if t < rounds:
            self._foresee_injects(i, a, projected, stops, foresight, foreseen)

    def _foresee_injects(
        self,
        i: int,
        a: int,
        projected: EvalContext,
        stops: np.ndarray,
        foresight: np.ndarray,
        foreseen: dict[int, Foreseen],
    ) -> None:
        """Add the chance events that are injects with a hazard (firing next round).

        An inject with a hazard fires at the start of the next round, on the state this
        round leaves: with its chance there, it changes the actor's worth over the
        rounds left, ``chance * (W(after it) - W(s))`` with ``T - t`` rounds.
        """
        compiled = self.compiled
        t, rounds = self.ctx.round, compiled.rounds
        for k, inject in enumerate(compiled.injects):
            if inject.hazard is None:
                continue
            due = holding(self.open_injects[k] & ~stops, inject.when, projected)
            if not due.any():
                continue
            chance = clip_values(inject.hazard(projected, expect=True), 0.0, 1.0)
            remaining = rounds - t
            base = outcome_worth(compiled, i, projected, remaining, False)
            after = outcome_worth(
                compiled, i, inject_state(compiled, k, projected), remaining, False
            )
            change = np.where(due, chance * (after - base), 0.0)
            foresight[a] += change
            key = -1 - k  # injects keyed apart from branches
            record = foreseen.get(key)
            if record is None:
                count = len(compiled.actors[i].actions)
                record = Foreseen(
                    k,
                    t + 1,
                    np.zeros((count, self.size), dtype=bool),
                    np.ones((count, 1, self.size)),
                    np.zeros((count, self.size)),
                    np.zeros((count, self.size)),
                    inject=True,
                )
                foreseen[key] = record
            record.due[a] = due
            record.value[a] = change
            record.chance[a] = chance  # type: ignore[index]

    # --- replies ------------------------------------------------------------------------

    def respond(self, i: int, scores: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """Actor ``i``'s choice probabilities given its scores (rule, script, commitments)."""
        actor = self.compiled.actors[i]
        feasible = self.feasible[i]
        rule = RULES[actor.decision]
        probabilities = rule(scores, feasible, self.rationality[i] * scale)
        script_action = actor.script.get(self.ctx.round)
        if actor.decision == "scripted" and script_action is not None:
            scripted = feasible[script_action]
            probabilities[:, scripted] = 0.0
            probabilities[script_action, scripted] = 1.0
        forced = self.forced[i]
        if (forced >= 0).any():
            rows = np.arange(len(actor.actions))[:, None]
            one_hot = (rows == forced[None, :]).astype(float)
            probabilities = np.where(forced >= 0, one_hot, probabilities)
        return probabilities

    def fixed(self, i: int) -> np.ndarray:
        """Runs in which actor ``i``'s choice does not follow its scores (forced, scripted).

        Args:
            i: The actor.
        """
        fixed = self.forced[i] >= 0
        actor = self.compiled.actors[i]
        script_action = actor.script.get(self.ctx.round)
        if actor.decision == "scripted" and script_action is not None:
            fixed = fixed | self.feasible[i][script_action]
        return fixed

    def _reply(self, i: int, expect: list[np.ndarray | None]) -> Strategy:
        scored = self.score(i, expect)
        return Strategy(self.respond(i, scored.total), scored, expect)

    def strategy(self, i: int) -> Strategy:
        """Actor ``i``'s strategy this round, by its reasoning mode."""
        found = self._strategies.get(i)
        if found is not None:
            return found
        actor = self.compiled.actors[i]
        if actor.reasoning == "myopic":
            found = self.level(0, i)
        elif actor.reasoning == "level-k":
            found = self.level(actor.depth, i)
        elif actor.reasoning == "beliefs":
            found = self._reply(i, self.beliefs(i))
        else:
            found = self.equilibrium()[i]
        self._strategies[i] = found
        return found

    def relevant(self, i: int) -> set[int]:
        """The actors whose expected moves can change actor ``i``'s choice this round.

        An actor reasons about these only; the others' moves would add the same to
        every one of its options (see :class:`Interactions`).
        """
        found = self._relevant.get(i)
        if found is None:
            found = self.map.depends(i, self._foreseen_branches(i))
            self._relevant[i] = found
        return found

    def level(self, k: int, j: int) -> Strategy:
        """Actor ``j``'s level-k strategy: a logit reply to the others at level k-1.

        Level 0 is myopic (nobody else moves).
        """
        found = self._levels.get((k, j))
        if found is None:
            if k == 0:
                found = self._reply(j, self.none)
            else:
                relevant = self.relevant(j)
                expect = [
                    self.level(k - 1, m).probabilities if m in relevant else None
                    for m in range(self.n)
                ]
                found = self._reply(j, expect)
            self._levels[(k, j)] = found
        return found

    def beliefs(self, i: int) -> list[np.ndarray | None]:
        """Actor ``i``'s beliefs: the others' past choice frequencies with a uniform prior."""
        prior = self.compiled.actors[i].prior
        relevant = self.relevant(i)
        expect: list[np.ndarray | None] = []
        for j, actor in enumerate(self.compiled.actors):
            if j not in relevant:
                expect.append(None)
                continue
            feasible = self.feasible[j]
            count = len(actor.actions)
            open_count = np.maximum(feasible.sum(axis=0), 1)
            weights = np.where(feasible, prior / open_count + self.ctx.times[j, :count], 0.0)
            total = weights.sum(axis=0)
            expect.append(np.divide(weights, total, out=np.zeros_like(weights), where=total > 0))
        return expect

    # --- the equilibrium ----------------------------------------------------------------

    def _foreseen_branches(self, i: int) -> list[int]:
        """Branches actor ``i`` may foresee this round (by round alone, not by run)."""
        horizon = self.compiled.actors[i].foresight
        t = self.ctx.round
        found = []
        for b, branch in enumerate(self.compiled.branches):
            r = branch.round if branch.round is not None else t
            if horizon > 0 and t <= r <= t + horizon - 1:
                found.append(b)
        return found

    def equilibrium(self) -> dict[int, Strategy]:
        """The strategies of the actors reasoning ``equilibrium``: the round's logit QRE."""
        if self._equilibrium is not None:
            return self._equilibrium
        members = [i for i, a in enumerate(self.compiled.actors) if a.reasoning == "equilibrium"]
        wanted = set().union(*(self.relevant(i) for i in members))
        outside: list[np.ndarray | None] = [
            self.strategy(j).probabilities if j in wanted and j not in members else None
            for j in range(self.n)
        ]
        interacting = any(self.relevant(i) & set(members) for i in members)
        live = self._live_runs(members) if interacting else np.zeros(self.size, dtype=bool)
        if not live.all():
            # Where nothing a member values depends on another member's move (this round,
            # in these runs), each replies to the non-members; the members' mixes are
            # then what it expects.
            replies = {i: self._reply(i, outside) for i in members}
            mixes = {i: replies[i].probabilities for i in members}
            result = {}
            for i in members:
                expect = [
                    None if j == i else (mixes[j] if j in mixes else outside[j])
                    for j in range(self.n)
                ]
                result[i] = Strategy(replies[i].probabilities, replies[i].scored, expect)
            if live.any():
                index = np.flatnonzero(live)
                sub = self.subset(index)
                sub_outside = [None if o is None else o[:, index] for o in outside]
                solved = sub._equilibrium_of(members, sub_outside)
                for i in members:
                    probabilities = result[i].probabilities.copy()
                    probabilities[:, index] = solved[i].probabilities
                    expect = [
                        None if e is None else _put(e, index, solved[i].expected[j])  # type: ignore[arg-type]
                        for j, e in enumerate(result[i].expected)
                    ]
                    scored = result[i].scored.merged(index, solved[i].scored)
                    missed = np.zeros(self.size, dtype=bool)
                    missed[index] = sub.unconverged
                    result[i] = Strategy(probabilities, scored, expect, missed)
                self.unconverged[index] = sub.unconverged
            self._equilibrium = result
            return result
        self._equilibrium = self._equilibrium_of(members, outside)
        return self._equilibrium

    def _live_runs(self, members: list[int]) -> np.ndarray:
        """Runs in which the members' moves can interact this round.

        If they interact only through foreseen branches (not through their payoffs), a
        run counts only if one of those branches can be due in it: still open and, for
        a branch whose condition no move of this round can change, that condition
        holding now.
        """
        member_set = set(members)
        if any(self.map.static[i] & member_set for i in members):
            return np.ones(self.size, dtype=bool)
        live = np.zeros(self.size, dtype=bool)
        for b in sorted({b for i in members for b in self._foreseen_branches(i)}):
            branch = self.compiled.branches[b]
            can = self.open_branches[b].copy()
            if branch.when is not None and self.map.settled_when[b]:
                at = self.ctx.with_state(self.ctx.state)
                at.round = branch.round if branch.round is not None else self.ctx.round
                can &= branch.when(at) != 0
            live |= can
        return live

    def _equilibrium_of(
        self, members: list[int], outside: list[np.ndarray | None]
    ) -> dict[int, Strategy]:
        """The members' QRE in every run of this block (they interact in all of them)."""
        state = _Iteration.begin(self, members)
        self._iterate(members, outside, state)
        self.unconverged = ~state.done
        result = {}
        for i in members:
            expect = self._without(self._combine(outside, state.mixes), i)
            result[i] = Strategy(state.mixes[i], state.scored[i], expect, ~state.done)
        return result

    def _iterate(
        self, members: list[int], outside: list[np.ndarray | None], state: _Iteration
    ) -> None:
        """Solve for the members' QRE mixes in every run of this block, in place.

        Each run iterates on its own: simultaneous logit replies from the uniform
        strategy, each step extrapolated from the last few (Anderson acceleration);
        where the replies stop contracting (a cycle, as in matching pennies), Newton's
        method. A run is frozen once its replies change by less than
        :data:`TOLERANCE`. The runs still moving are gathered into a smaller block as
        the others freeze. Nothing a run gets depends on the other runs of its block.
        """
        while state.iteration < PLAIN_ITERATIONS:
            moving = state.moving
            if not moving.any():
                break
            if state.iteration >= 2 and moving.sum() <= self.size // 2:
                index = np.flatnonzero(moving)
                sub = self.subset(index)
                sub_outside = [None if o is None else o[:, index] for o in outside]
                sub_state = state.take(index)
                sub._iterate(members, sub_outside, sub_state)
                state.put(index, sub_state)
                break
            expect = self._combine(outside, state.mixes)
            scored = {i: self.score(i, self._without(expect, i)) for i in members}
            replies = {i: self.respond(i, scored[i].total) for i in members}
            state.advance(self, moving, replies, scored)
        left = state.moving | state.stalled
        if not left.any():
            return
        # Newton's method for the runs the replies did not settle.
        index = np.flatnonzero(left)
        sub = self.subset(index)
        sub_outside = [None if o is None else o[:, index] for o in outside]
        solved, converged = sub._newton(
            members, sub_outside, {i: m[:, index] for i, m in state.mixes.items()}
        )
        expect = sub._combine(sub_outside, solved)
        scored = {i: sub.score(i, sub._without(expect, i)) for i in members}
        for i in members:
            state.mixes[i] = state.mixes[i].copy()
            state.mixes[i][:, index] = solved[i]
            state.scored[i] = state.scored[i].merged(index, scored[i])
        state.done[index] = converged
        state.stalled[index] = False

    def _start(self, i: int) -> np.ndarray:
        """The lambda = 0 strategy: uniform over the feasible actions (or the fixed one)."""
        feasible = self.feasible[i]
        count = np.maximum(feasible.sum(axis=0), 1)
        start = feasible / count
        if (self.forced[i] >= 0).any() or self.compiled.actors[i].decision == "scripted":
            return self.respond(i, np.zeros(feasible.shape), scale=0.0)
        return start

    def _combine(
        self, outside: list[np.ndarray | None], mixes: dict[int, np.ndarray]
    ) -> list[np.ndarray | None]:
        return [mixes.get(j, outside[j]) for j in range(self.n)]

    @staticmethod
    def _without(expect: list[np.ndarray | None], i: int) -> list[np.ndarray | None]:
        return [None if j == i else e for j, e in enumerate(expect)]

    def _newton(
        self,
        members: list[int],
        outside: list[np.ndarray | None],
        start: dict[int, np.ndarray],
    ) -> tuple[dict[int, np.ndarray], np.ndarray]:
        """Newton's method where simultaneous replies stalled.

        First from where the replies stalled, at the actors' rationality; runs that do
        not converge so follow the principal branch of the QRE from lambda = 0 (the
        uniform strategy) to the actors' rationality, as Gambit's logit solver does:
        each run advances lambda by its own step, Newton-corrects, and halves the step
        where the correction fails (doubling it back as it succeeds). A run whose step
        falls below :data:`MIN_STEP` keeps the QRE at the highest rationality it
        reached, and counts as not converged.
        """
        widths = [len(self.compiled.actors[i].actions) for i in members]
        offsets = np.concatenate([[0], np.cumsum(widths)])
        x = np.concatenate([start[i] for i in members])
        moving = np.ones(self.size, dtype=bool)
        x, residual = self._correct(
            members,
            offsets,
            outside,
            x,
            np.ones(self.size),
            moving,
            TOLERANCE,
            NEWTON_ITERATIONS + 2,
        )
        converged = residual < TOLERANCE
        if not converged.all():
            index = np.flatnonzero(~converged)
            sub = self.subset(index)
            sub_outside = [None if o is None else o[:, index] for o in outside]
            found, found_ok = sub._follow(members, offsets, sub_outside)
            x = x.copy()
            x[:, index] = found
            converged[index] = found_ok
        solved = {i: x[offsets[m] : offsets[m + 1]] for m, i in enumerate(members)}
        return solved, converged

    def _follow(
        self, members: list[int], offsets: np.ndarray, outside: list[np.ndarray | None]
    ) -> tuple[np.ndarray, np.ndarray]:
        """The principal branch from lambda = 0 to the actors' rationality, run by run."""
        x = np.concatenate([self._start(i) for i in members])
        t = np.zeros(self.size)
        step = np.full(self.size, 1.0 / HOMOTOPY_STEPS)
        going = np.ones(self.size, dtype=bool)
        reached = np.zeros(self.size, dtype=bool)
        for _ in range(CONTINUATION_STEPS):
            if not going.any():
                break
            target = np.minimum(t + step, 1.0)
            final = target >= 1.0
            tolerance = np.where(final, TOLERANCE, PATH_TOLERANCE)
            trial, residual = self._correct(
                members, offsets, outside, x, target, going, tolerance, NEWTON_ITERATIONS
            )
            ok = going & (residual < tolerance)
            x = np.where(ok, trial, x)
            t = np.where(ok, target, t)
            step = np.where(ok, np.minimum(step * 2.0, 0.25), step * 0.5)
            reached |= ok & final
            going &= ~reached & (step > MIN_STEP)
        return x, reached

    def _correct(
        self,
        members: list[int],
        offsets: np.ndarray,
        outside: list[np.ndarray | None],
        x: np.ndarray,
        t: np.ndarray,
        moving: np.ndarray,
        tolerance: np.ndarray | float,
        iterations: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Newton corrections towards the QRE at rationality scale ``t`` (per run).

        Only the runs in ``moving`` change; a run stops once its residual is below
        ``tolerance`` (so nothing a run gets depends on its block), or once two
        corrections in a row have not halved it (Newton's method does not converge
        there: a jump in the replies), and then fails.
        """
        dim = x.shape[0]
        residual = np.full(self.size, np.inf)
        tiled = self.subset(np.tile(np.arange(self.size), dim))
        tiled_outside = [None if o is None else np.tile(o, (1, dim)) for o in outside]
        past: list[np.ndarray] = []
        hopeless = np.zeros(self.size, dtype=bool)
        for n in range(iterations + 1):
            gap, scores, probabilities = self._residual(members, offsets, outside, x, t)
            residual = np.abs(gap).max(axis=0)
            if len(past) >= 2:
                # Two corrections that did not halve the residual: Newton is not
                # converging here (a jump in the replies); the run stops failing.
                hopeless |= residual > 0.5 * past[-2]
            past.append(residual)
            left = moving & (residual >= tolerance) & ~hopeless
            if not left.any() or n == iterations:
                break
            jacobian = self._jacobian(
                members, offsets, tiled, tiled_outside, x, t, scores, probabilities
            )
            matrix = np.eye(dim)[None, :, :] - jacobian  # (R, D, D)
            change = _solve(matrix, -gap.T)
            change = np.where(np.isfinite(change), change, -gap)
            x = np.where(left, self._project(members, offsets, x + change), x)
        return x, residual

    def _project(self, members: list[int], offsets: np.ndarray, x: np.ndarray) -> np.ndarray:
        x = x.copy()
        for m, i in enumerate(members):
            block = np.where(self.feasible[i], np.maximum(x[offsets[m] : offsets[m + 1]], 0.0), 0.0)
            total = block.sum(axis=0)
            block = np.where(total > 0, block / np.where(total > 0, total, 1.0), self._start(i))
            x[offsets[m] : offsets[m + 1]] = block
        return x

    def _expect_from(
        self,
        members: list[int],
        offsets: np.ndarray,
        outside: list[np.ndarray | None],
        x: np.ndarray,
    ) -> list[np.ndarray | None]:
        mixes = {i: x[offsets[m] : offsets[m + 1]] for m, i in enumerate(members)}
        return self._combine(outside, mixes)

    def _residual(
        self,
        members: list[int],
        offsets: np.ndarray,
        outside: list[np.ndarray | None],
        x: np.ndarray,
        t: float,
    ) -> tuple[np.ndarray, dict[int, np.ndarray], dict[int, np.ndarray]]:
        expect = self._expect_from(members, offsets, outside, x)
        gap = np.empty_like(x)
        scores, probabilities = {}, {}
        for m, i in enumerate(members):
            scores[i] = self.score(i, self._without(expect, i)).total
            probabilities[i] = self.respond(i, scores[i], scale=t)
            gap[offsets[m] : offsets[m + 1]] = x[offsets[m] : offsets[m + 1]] - probabilities[i]
        return gap, scores, probabilities

    def _jacobian(
        self,
        members: list[int],
        offsets: np.ndarray,
        tiled: RoundReasoning,
        tiled_outside: list[np.ndarray | None],
        x: np.ndarray,
        t: float,
        scores: dict[int, np.ndarray],
        probabilities: dict[int, np.ndarray],
    ) -> np.ndarray:
        """d(reply)/d(mix), shape (R, D, D): softmax derivative times score differences.

        The score differences come from one finite difference per mix entry, all
        evaluated at once on a block that repeats the runs once per entry.
        """
        dim, size = x.shape
        bumped = np.tile(x, (1, dim))  # column block c holds x with entry c bumped
        for column in range(dim):
            bumped[column, column * size : (column + 1) * size] += FD_STEP
        expect = tiled._expect_from(members, offsets, tiled_outside, bumped)
        d_scores = np.zeros((size, dim, dim))  # d score_row / d x_col
        for n, i in enumerate(members):
            moved = tiled.score(i, self._without(expect, i)).total  # (A_i, dim * size)
            width = moved.shape[0]
            change = (moved.reshape(width, dim, size) - scores[i][:, None, :]) / FD_STEP
            d_scores[:, offsets[n] : offsets[n + 1], :] = change.transpose(2, 0, 1)
            own = slice(offsets[n], offsets[n + 1])
            d_scores[:, own, own] = 0.0  # an actor's own mix does not enter its scores
        d_reply = np.zeros((size, dim, dim))  # d reply_row / d score_col (block diagonal)
        for n, i in enumerate(members):
            if self.compiled.actors[i].decision == "best_response":
                continue
            p = probabilities[i]  # (A, R)
            lam = self.rationality[i] * t * ~self.fixed(i)  # (R,)
            block = lam[:, None, None] * (
                np.einsum("ar,ab->rab", p, np.eye(p.shape[0])) - np.einsum("ar,br->rab", p, p)
            )
            lo, hi = offsets[n], offsets[n + 1]
            d_reply[:, lo:hi, lo:hi] = block
        return d_reply @ d_scores


def score_terms(
    reasoning: RoundReasoning, i: int, a: int, expect: list[np.ndarray | None], run: int
) -> dict[str, tuple[float, str]]:
    """The terms of one action's score in one run, for explanations.

    Args:
        reasoning: The round's decide phase.
        i: The actor.
        a: The action.
        expect: What the actor expected the others to do.
        run: Which run of the block.

    Returns:
        Label -> (contribution to the score, what it is made of). Weighted variables are
        labelled by name and carry the projected value; comparing two actions' terms
        label by label says why one scored higher.
    """
    actor = reasoning.compiled.actors[i]
    names = reasoning.compiled.state_names
    base = reasoning._others_moved(i, expect)
    state = reasoning._own_move(i, a, base)
    terms: dict[str, tuple[float, str]] = {}
    for index, weight in actor.weights:
        value = float(state[index][run])
        terms[names[index]] = (weight * value, f"{value:.6g}|{weight:g}")
    scored = reasoning.score(i, expect)
    if actor.payoff_expression is not None:
        weighted = sum(w * float(state[k][run]) for k, w in actor.weights)
        terms["payoff expression"] = (float(scored.payoff[a, run]) - weighted, "")
    terms["cost"] = (-float(scored.cost[a, run]), "")
    terms["commitment bonus"] = (float(scored.bonus[a, run]), "")
    if scored.ending is not None:
        terms["ending payoff"] = (float(scored.ending[a, run]), "")
    for record in scored.foreseen:
        if record.inject:
            inject = reasoning.compiled.injects[record.branch]
            terms[f"foresight of {inject.id}"] = (float(record.value[a, run]), "")
            continue
        branch = reasoning.compiled.branches[record.branch]
        terms[f"foresight of {branch.id}"] = (float(record.value[a, run]), "")
    return terms

"""The world and its round: a Mesa model that plays a block of R independent runs at once.

Every state variable is a numpy array of shape (R,); a seminar is the R = 1 case of the
same code. A round resolves in this fixed order:

1. **Injects.** Each inject not yet fired fires if its round has come (and its ``when``
   holds) or, with only a ``when``, the first round its condition holds. Injects fire in
   file order, each seeing the effects of the ones before.
2. **Decide.** Every actor looks at the same observed state and chooses (Mesa's
   ``AgentSet.do("decide")``; the order does not matter because nobody writes).
3. **Actions.** The effects of every chosen action are computed from the observed state,
   then applied in actor order (``+=``/``-=``/``*=`` accumulate; with ``=`` the later
   actor wins). State is clipped to its bounds after every change.
4. **Branches.** Each unresolved branch whose round has come (and whose ``when`` holds
   on the state after actions) draws an outcome from its probabilities (normalised; an
   outcome with probability ``rest`` takes what the others leave), sets its variable and
   applies that outcome's effects.
5. **Payoffs.** Each actor earns its payoff rule on the new state minus its action's cost.
6. **Metrics** are recorded.

After the last round the endings are checked in order; the first whose condition holds
names the run's ending, the fallback otherwise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.engine.actor_settings import with_actor_settings
from sim.engine.actors import Actor, Decision
from sim.engine.decision import draw_choice
from sim.engine.initial_state import initial_context
from sim.engine.mesa_core import mesa
from sim.engine.reasoning import (
    RoundReasoning,
    apply_effect,
    branch_weights,
    clip_state,
    ending_payoff,
    first_ending,
    holding,
)
from sim.engine.streams import site_key
from sim.errors import OptionsError
from sim.language.compiler import CompiledBranch, CompiledScenario, Effect


@dataclass
class RoundRecord:
    """What happened in one round (kept only when the model keeps history).

    Attributes:
        round: The round number (1-based).
        injects: Ids of injects that fired in each run (list per run).
        observed: The state the actors decided on (after injects).
        decisions: Each actor's decision, by actor id.
        after: The state at the end of the round.
        branches: Branch id -> outcome index per run (-1 where it did not resolve).
        payoffs: Each actor's payoff this round, by actor id.
        before: The state at the start of the round, before injects.
        reasoning: The round's decide phase (observed state and history as the actors
            saw them, their expectations and foresight), for explanations.
        stopped: Runs whose game ended this round by a stopping ending.
        decided: For each branch an actor decided this round, the probability it gave
            each outcome, shape (outcomes, R), and whether people chose it instead.
    """

    round: int
    injects: list[list[str]]
    observed: list[np.ndarray]
    decisions: dict[str, Decision]
    after: list[np.ndarray] = field(default_factory=list)
    branches: dict[str, np.ndarray] = field(default_factory=dict)
    payoffs: dict[str, np.ndarray] = field(default_factory=dict)
    before: list[np.ndarray] = field(default_factory=list)
    reasoning: RoundReasoning | None = None
    stopped: np.ndarray | None = None
    decided: dict[str, tuple[np.ndarray, bool]] = field(default_factory=dict)


class WargameModel(mesa.Model):
    """A Mesa model playing a block of runs of one scenario, round by round.

    Args:
        compiled: The compiled scenario.
        seed: The batch seed; every draw is a function of (seed, run, round, site).
        runs: Global indices of the runs in this block (default: just run 0).
        overrides: Parameter or initial-state values fixed by the user (``--set``), and
            actors' settings such as ``US.rationality`` (:mod:`sim.engine.actor_settings`).
        choices: Choices fixed in advance, ``{(round, actor_id): action_id}``, applied to
            every run of the block (a seminar's human moves, a replayed fork).
        keep_history: Keep a :class:`RoundRecord` per round (for small blocks).
        keep_trajectories: Record every metric and every actor's choice every round.
        design: Parameter values per run of the block set by a sweep's design.
        streams: The key of each run's random streams (default: its index in
            ``runs``). Runs with the same key draw the same game chance: a Sobol
            sweep gives every row of one base sample the same key (common random
            numbers), while each row keeps its own index for the records.

    Attributes:
        ctx: The current state of every run.
        round: The last round played (0 before the first).
        history: Round records when ``keep_history`` is set.
        active: Runs still playing (a stopping ending ends a run early).
        rounds_played: Rounds each run played.
        unconverged: Rounds in which each run's equilibrium did not converge.
        reasoning: The current round's decide phase.
        choices: Each actor's choice in each round, shape (actors, rounds, R): the
            action's index in the actor's list, -1 where it chose nothing (no open
            action, or the run had stopped). Filled when ``keep_trajectories``.
    """

    def __init__(
        self,
        compiled: CompiledScenario,
        seed: int = 0,
        runs: np.ndarray | list[int] | None = None,
        overrides: dict[str, float] | None = None,
        choices: dict[tuple[int, str], str] | None = None,
        keep_history: bool = False,
        keep_trajectories: bool = True,
        design: dict[str, np.ndarray] | None = None,
        streams: np.ndarray | list[int] | None = None,
    ):
        super().__init__(rng=seed)
        # `--set ACTOR.rationality=...`: the actors play with the settings given.
        compiled = with_actor_settings(compiled, overrides)
        self.compiled = compiled
        self.seed = int(seed)
        run_array = np.arange(1) if runs is None else np.asarray(runs, dtype=np.int64)
        stream_keys = None if streams is None else np.asarray(streams, dtype=np.int64)
        if stream_keys is not None and stream_keys.shape != run_array.shape:
            raise OptionsError("one stream key per run is needed")
        self.ctx = initial_context(compiled, seed, run_array, overrides, design, stream_keys)
        #: The key of each run's random streams (its index unless told otherwise).
        self.stream_keys = run_array.copy() if stream_keys is None else stream_keys
        self.size = len(run_array)
        self.round = 0
        self.keep_history = keep_history
        self.history: list[RoundRecord] = []
        self._choices = self._resolve_choices(choices or {})
        self.actors = [Actor(self, spec, i) for i, spec in enumerate(compiled.actors)]
        # Mesa < 3.4 keeps every model alive in the class-level id counter
        # `Agent._ids` (mesa issue #3179); no agent is added after this point, so the
        # entry can go and a finished model is garbage-collected.
        ids = getattr(mesa.Agent, "_ids", None)
        if isinstance(ids, dict):
            ids.pop(self, None)
        self._choice_sites = [site_key(f"choice.{a.id}") for a in compiled.actors]
        self._branch_sites = [site_key(f"branch.{b.id}") for b in compiled.branches]
        self._branch_hazard_sites = [site_key(f"branch.{b.id}.hazard") for b in compiled.branches]
        self._inject_hazard_sites = [site_key(f"inject.{i.id}.hazard") for i in compiled.injects]
        self._branch_choices: dict[tuple[int, int], int] = {}
        self.inject_fired = np.zeros((len(compiled.injects), self.size), dtype=bool)
        self.branch_outcome = np.full((len(compiled.branches), self.size), -1)
        self.branch_round = np.zeros((len(compiled.branches), self.size), dtype=np.int64)
        n_commit = len(compiled.commitments)
        self.commitment_invoked = np.zeros((n_commit, self.size), dtype=np.int64)
        self.commitment_honoured = np.zeros((n_commit, self.size), dtype=np.int64)
        self._active_commitments = np.zeros((n_commit, self.size), dtype=bool)
        self.payoff_total = np.zeros((len(compiled.actors), self.size))
        self.ending: np.ndarray | None = None
        self._ending = np.full(self.size, -1)
        self.active = np.ones(self.size, dtype=bool)
        self.rounds_played = np.zeros(self.size, dtype=np.int64)
        self.unconverged = np.zeros(self.size, dtype=np.int64)
        self.reasoning: RoundReasoning | None = None
        #: Set to a dict to count, per (branch, outcome or None for their sum), the
        #: runs in which a branch came up with an outcome probability outside 0..1 or
        #: explicit probabilities adding up to more than 1 (``validate``'s trial).
        self.probability_issues: dict[tuple[str, str | None], int] | None = None
        #: Set to a dict to record, per (actor, action) index pair, the highest chance the
        #: action had of being chosen and in how many choices it was open, over the
        #: choices that follow the actor's scores (not scripted or forced; ``validate``'s
        #: trial).
        self.option_chances: dict[tuple[int, int], tuple[float, int]] | None = None
        self.keep_trajectories = keep_trajectories
        self.trajectories = np.zeros((len(compiled.metrics), compiled.rounds + 1, self.size))
        most = max((len(a.actions) for a in compiled.actors), default=1)
        self.choices = np.full(
            (len(compiled.actors), compiled.rounds if keep_trajectories else 0, self.size),
            -1,
            dtype=np.int8 if most < 128 else np.int16,
        )
        if keep_trajectories:
            self._record_metrics()

    # --- helpers used by the actors ---------------------------------------------------

    def _resolve_choices(self, choices: dict[tuple[int, str], str]) -> dict[tuple[int, int], int]:
        resolved = {}
        ids = [a.id for a in self.compiled.actors]
        for (round_, actor_id), action_id in choices.items():
            if actor_id not in ids:
                raise OptionsError(f"unknown actor '{actor_id}' in fixed choices")
            actor = self.compiled.actors[ids.index(actor_id)]
            if action_id not in [a.id for a in actor.actions]:
                raise OptionsError(f"actor '{actor_id}' has no action '{action_id}'")
            resolved[(int(round_), ids.index(actor_id))] = actor.action_index(action_id)
        return resolved

    def set_choice(self, round_: int, actor_id: str, action_id: str | None) -> None:
        """Fix (or, with ``None``, release) an actor's choice in a future round."""
        index = self.compiled.actor_index(actor_id)
        if action_id is None:
            self._choices.pop((round_, index), None)
            return
        self._choices.update(self._resolve_choices({(round_, actor_id): action_id}))

    def set_branch_choice(self, round_: int, branch_id: str, outcome_id: str | None) -> None:
        """Fix (or, with ``None``, release) the outcome a deciding actor's person chooses.

        For a branch decided by an actor (``decided_by``) whose seat a person takes: the
        outcome applies if the branch resolves in ``round_``.
        """
        ids = [b.id for b in self.compiled.branches]
        if branch_id not in ids:
            raise OptionsError(f"unknown branch '{branch_id}'")
        b = ids.index(branch_id)
        if outcome_id is None:
            self._branch_choices.pop((round_, b), None)
            return
        outcomes = [o.id for o in self.compiled.branches[b].outcomes]
        if outcome_id not in outcomes:
            raise OptionsError(f"branch '{branch_id}' has no outcome '{outcome_id}'")
        self._branch_choices[(round_, b)] = outcomes.index(outcome_id)

    def override_for(self, round_: int, actor_index: int) -> int | None:
        """The fixed choice of an actor in a round, if any."""
        return self._choices.get((round_, actor_index))

    def clip(self, index: int, values: np.ndarray) -> np.ndarray:
        """Clip new values of state variable ``index`` to its bounds."""
        return clip_state(self.compiled, index, values)

    def draw_choice(self, actor_index: int, probabilities: np.ndarray) -> np.ndarray:
        """Draw each run's choice from its probabilities with the actor's stream."""
        u = self.ctx.streams.uniform(self._choice_sites[actor_index], self.ctx.round)
        return draw_choice(probabilities, u)

    def date_of(self, round_: int) -> dt.date:
        """The calendar date on which a round starts."""
        meta = self.compiled.loaded.spec.scenario
        return meta.start_date + dt.timedelta(days=meta.round_days * (round_ - 1))

    # --- the round --------------------------------------------------------------------

    def _apply(self, effects: tuple[Effect, ...], mask: np.ndarray) -> None:
        """Apply effects to the runs in ``mask``, all computed from the current state."""
        if not effects or not mask.any():
            return
        self._apply_amounts(effects, [effect.expression(self.ctx) for effect in effects], mask)

    def _apply_amounts(
        self, effects: tuple[Effect, ...], amounts: list[np.ndarray], mask: np.ndarray
    ) -> None:
        """Apply effects with amounts already computed, in order, to the runs in ``mask``."""
        state = self.ctx.state
        for effect, amount in zip(effects, amounts, strict=True):
            new = self.clip(effect.target, apply_effect(state[effect.target], effect, amount))
            state[effect.target] = np.where(mask, new, state[effect.target])

    def _run_processes(self) -> None:
        """Background processes (``every_round``): their effects, where ``when`` holds."""
        for process in self.compiled.processes:
            due = holding(self.active, process.when, self.ctx)
            self._apply(process.effects, due)

    def _fire_injects(self) -> list[list[str]]:
        # Only a model that keeps history names the injects run by run (a list per run
        # would cost more than the whole round in a large block).
        fired: list[list[str]] = [[] for _ in range(self.size)] if self.keep_history else []
        round_ = self.ctx.round
        for i, inject in enumerate(self.compiled.injects):
            if inject.round is not None and inject.round != round_:
                continue
            due = holding(~self.inject_fired[i] & self.active, inject.when, self.ctx)
            if inject.hazard is not None and due.any():
                u = self.ctx.streams.uniform(self._inject_hazard_sites[i], round_)
                due &= u < inject.hazard(self.ctx)
            if not due.any():
                continue
            self._apply(inject.effects, due)
            self.inject_fired[i] |= due
            if self.keep_history:
                for run in np.flatnonzero(due):
                    fired[run].append(inject.id)
        return fired

    def _resolve_branches(self) -> dict[str, np.ndarray]:
        self._decided: dict[str, tuple[np.ndarray, bool]] = {}
        resolved = {}
        round_ = self.ctx.round
        for b, branch in enumerate(self.compiled.branches):
            if branch.round is not None and branch.round != round_:
                continue
            due = holding((self.branch_outcome[b] < 0) & self.active, branch.when, self.ctx)
            if branch.hazard is not None and due.any():
                u = self.ctx.streams.uniform(self._branch_hazard_sites[b], round_)
                due &= u < branch.hazard(self.ctx)
            if not due.any():
                continue
            if self.probability_issues is not None:
                self._count_probability_issues(branch, due)
            weights = branch_weights(
                self.compiled,
                branch,
                self.ctx,
                expect=False,
                normalise=False,
                open_branches=self.branch_outcome < 0,
                open_injects=~self.inject_fired,
            )
            u = self.ctx.streams.uniform(self._branch_sites[b], round_)
            drawn = draw_choice(weights, u)
            fixed = self._branch_choices.get((round_, b))
            if fixed is not None:
                drawn = np.full(self.size, fixed)
            if branch.decided_by is not None and self.keep_history:
                total = weights.sum(axis=0)
                self._decided[branch.id] = (
                    weights / np.where(total > 0, total, 1.0),
                    fixed is not None,
                )
            outcome_index = np.where(due, drawn, -1)
            self.branch_outcome[b] = np.where(due, outcome_index, self.branch_outcome[b])
            self.branch_round[b] = np.where(due, round_, self.branch_round[b])
            if branch.variable is not None:
                categories = self.compiled.state_categories[branch.variable]
                assert categories is not None
                codes = np.array([categories.index(o.id) for o in branch.outcomes], dtype=float)
                current = self.ctx.state[branch.variable]
                self.ctx.state[branch.variable] = np.where(
                    due, codes[np.maximum(outcome_index, 0)], current
                )
            for o, outcome in enumerate(branch.outcomes):
                self._apply(outcome.effects, outcome_index == o)
            resolved[branch.id] = outcome_index
        return resolved

    def _note_option_chances(self, reasoning: RoundReasoning, active: np.ndarray) -> None:
        """Add this round's choices to :attr:`option_chances`."""
        assert self.option_chances is not None
        for actor in self.actors:
            decision = actor.decision
            assert decision is not None
            free = active & ~reasoning.fixed(actor.index)
            for a in range(len(actor.spec.actions)):
                open_ = decision.feasible[a] & free
                count = int(open_.sum())
                if not count:
                    continue
                key = (actor.index, a)
                best, seen = self.option_chances.get(key, (0.0, 0))
                chance = float(decision.probabilities[a][open_].max())
                self.option_chances[key] = (max(best, chance), seen + count)

    def _count_probability_issues(self, branch: CompiledBranch, due: np.ndarray) -> None:
        """Count the due runs whose outcome probabilities the engine has to clip or scale.

        The draw clips each probability to 0..1 and, where the explicit ones add up to
        more than 1, draws in proportion to them; an author is usually better told.
        """
        assert self.probability_issues is not None
        total = np.zeros(self.size)
        for outcome in branch.outcomes:
            if outcome.probability is None:
                continue
            p = np.broadcast_to(outcome.probability(self.ctx, expect=False), (self.size,))
            outside = int(np.count_nonzero(due & ((p < 0) | (p > 1))))
            if outside:
                key = (branch.id, outcome.id)
                self.probability_issues[key] = self.probability_issues.get(key, 0) + outside
            total = total + np.clip(p, 0.0, 1.0)
        over = int(np.count_nonzero(due & (total > 1 + 1e-9)))
        if over:
            key = (branch.id, None)
            self.probability_issues[key] = self.probability_issues.get(key, 0) + over

    def step(self) -> None:
        """Play one round for every run of the block (see the module docstring)."""
        if self.finished:
            raise OptionsError(f"the game is over after round {self.round}")
        self.round += 1
        ctx = self.ctx
        ctx.round = self.round
        active = self.active.copy()
        before = list(ctx.state) if self.keep_history else []
        ctx.chose = np.zeros_like(ctx.chose)
        self._run_processes()
        injects = self._fire_injects()
        observed = list(ctx.state)
        seen = ctx
        if self.keep_history:
            # The round's record keeps the history the actors saw; the model updates
            # its own history arrays in place below.
            seen = ctx.with_state(ctx.state)
            seen.times, seen.last, seen.chose = ctx.times.copy(), ctx.last.copy(), ctx.chose.copy()
        self.reasoning = reasoning = RoundReasoning(
            self.compiled,
            seen,
            (self.branch_outcome < 0) & active,
            ~self.inject_fired & active,
        )
        self.agents.do("decide")
        self.unconverged += reasoning.unconverged & active
        if self.option_chances is not None:
            self._note_option_chances(reasoning, active)
        decisions = {actor.actor_id: actor.decision for actor in self.actors}
        every = active.all()
        for actor in self.actors:
            choice = actor.decision.choice  # type: ignore[union-attr]
            for a in range(len(actor.spec.actions)):
                hit = choice == a
                ctx.chose[actor.index, a] = hit if every else hit & active
        # Actions: every amount from the observed state, then applied in actor order.
        pending = []
        for actor in self.actors:
            decision = actor.decision
            assert decision is not None
            for a, action in enumerate(actor.spec.actions):
                chosen = (decision.choice == a) & active
                if action.effects and chosen.any():
                    amounts = [e.expression(ctx) for e in action.effects]
                    pending.append((action.effects, amounts, chosen))
        costs = self._chosen_costs(observed)
        for effects, amounts, chosen in pending:
            self._apply_amounts(effects, amounts, chosen)
        ctx.times += ctx.chose
        if every:
            # This round's choices are now the last ones: share the array (a new one
            # holds the next round's choices).
            ctx.last = ctx.chose
        else:
            ctx.last = np.where(active, ctx.chose, ctx.last)
        for c, commitment in enumerate(self.compiled.commitments):
            invoked = reasoning.commitment_active[c] & active
            self.commitment_invoked[c] += invoked
            chose = self.actors[commitment.actor].decision.choice == commitment.action  # type: ignore[union-attr]
            self.commitment_honoured[c] += invoked & chose
        branches = self._resolve_branches()
        payoffs = {}
        for actor in self.actors:
            value = reasoning.utility(actor.index, ctx, expect=False)
            earned = np.where(active, value - costs[actor.index], 0.0)
            self.payoff_total[actor.index] += earned
            payoffs[actor.actor_id] = earned
        self.rounds_played += active
        stopped = self._stop_runs(active)
        if self.keep_trajectories:
            self._record_metrics(active)
            for actor in self.actors:
                choice = actor.decision.choice  # type: ignore[union-attr]
                self.choices[actor.index, self.round - 1] = np.where(active, choice, -1)
        if self.keep_history:
            self.history.append(
                RoundRecord(
                    self.round,
                    injects,
                    observed,
                    decisions,
                    list(ctx.state),
                    branches,
                    payoffs,
                    before,
                    reasoning,
                    stopped,
                    self._decided,
                )
            )
        if self.round == self.compiled.rounds or not self.active.any():
            self._decide_endings()

    def _chosen_costs(self, observed: list[np.ndarray]) -> list[np.ndarray]:
        """What each actor's choice costs it, on the observed state.

        A cost that reads chose() is evaluated again with the choices actually made.
        """
        costs = []
        ctx = self.ctx.with_state(observed)
        for actor in self.actors:
            decision = actor.decision
            assert decision is not None
            table = decision.costs
            if any(a.cost.choices_read for a in actor.spec.actions):
                table = np.array([a.cost(ctx, expect=True) for a in actor.spec.actions])
            choice = decision.choice
            chosen = np.take_along_axis(table, np.maximum(choice, 0)[None], 0)[0]
            costs.append(np.where(choice >= 0, chosen, 0.0))
        return costs

    def _stop_runs(self, active: np.ndarray) -> np.ndarray:
        """End the runs in which a stopping ending first holds; return them."""
        if not any(e.stop for e in self.compiled.endings):
            return np.zeros(self.size, dtype=bool)
        hit = first_ending(self.compiled, self.ctx, stopping=True)
        stopped = active & (hit >= 0)
        if stopped.any():
            self._ending = np.where(stopped, hit, self._ending)
            for a in range(len(self.compiled.actors)):
                extra = ending_payoff(self.compiled, a, np.where(stopped, hit, -1), self.ctx)
                self.payoff_total[a] += extra
            self.active = self.active & ~stopped
        return stopped

    def _record_metrics(self, active: np.ndarray | None = None) -> None:
        for m, metric in enumerate(self.compiled.metrics):
            value = metric.expression(self.ctx)
            if active is not None and not active.all():
                value = np.where(active, value, self.trajectories[m, self.round - 1])
            self.trajectories[m, self.round] = value
        if not self.active.any():
            # Every run has stopped: each keeps its last value in the rounds not played.
            for later in range(self.round + 1, self.compiled.rounds + 1):
                self.trajectories[:, later] = self.trajectories[:, self.round]

    def _decide_endings(self) -> None:
        open_runs = self._ending < 0
        final = first_ending(self.compiled, self.ctx, stopping=False)
        ending = np.where(open_runs, final, self._ending)
        for a in range(len(self.compiled.actors)):
            extra = ending_payoff(self.compiled, a, np.where(open_runs, final, -1), self.ctx)
            self.payoff_total[a] += extra
        self._ending = ending
        self.ending = ending
        self.active[:] = False

    def run_model(self) -> None:
        """Play every remaining round."""
        while not self.finished:
            self.step()

    @property
    def finished(self) -> bool:
        """Whether the game is over: the last round played, or every run stopped."""
        return self.ending is not None

    # --- results ----------------------------------------------------------------------

    def _branch_paths(self) -> np.ndarray:
        """Each run's branch outcomes in the order they resolved, e.g. 'summit=collapse > x=y'.

        Runs share few distinct paths, so each distinct (outcomes, rounds) combination is
        spelled once and mapped back to its runs.
        """
        branches = self.compiled.branches
        if not branches:
            return np.full(self.size, "", dtype=object)
        key = np.vstack([self.branch_outcome, self.branch_round])
        combos, inverse = np.unique(key, axis=1, return_inverse=True)
        spelled = []
        for combo in combos.T:
            outcomes, rounds = combo[: len(branches)], combo[len(branches) :]
            steps = sorted(
                (rounds[b], b, f"{branch.id}={branch.outcomes[outcomes[b]].id}")
                for b, branch in enumerate(branches)
                if outcomes[b] >= 0
            )
            spelled.append(" > ".join(step for _, _, step in steps))
        return np.array(spelled, dtype=object)[inverse.reshape(-1)]

    def records(self) -> dict[str, Any]:
        """One value per run for each column of ``runs.parquet`` (after the last round).

        Returns:
            Column name -> numpy array of length R (strings for names).
        """
        if self.ending is None:
            raise OptionsError("the game is not finished")
        compiled = self.compiled
        columns: dict[str, Any] = {"run": self.ctx.runs.copy()}
        for p, name in enumerate(compiled.param_names):
            values = self.ctx.params[p]
            categories = compiled.param_categories[p]
            if categories is not None:
                columns[f"param.{name}"] = np.array(categories, dtype=object)[values.astype(int)]
            else:
                columns[f"param.{name}"] = values.copy()
        for b, branch in enumerate(compiled.branches):
            labels = np.array(["", *[o.id for o in branch.outcomes]], dtype=object)
            columns[f"branch.{branch.id}"] = labels[self.branch_outcome[b] + 1]
            columns[f"branch_round.{branch.id}"] = self.branch_round[b].copy()
        columns["branch_path"] = self._branch_paths()
        columns["ending"] = np.array([e.id for e in compiled.endings], dtype=object)[self.ending]
        for metric in compiled.metrics:
            columns[f"metric.{metric.id}"] = metric.expression(self.ctx).copy()
        for a, actor in enumerate(compiled.actors):
            columns[f"payoff.{actor.id}"] = self.payoff_total[a].copy()
        if any(e.stop for e in compiled.endings):
            columns["rounds_played"] = self.rounds_played.copy()
        if any(a.reasoning == "equilibrium" for a in compiled.actors):
            columns["unconverged_rounds"] = self.unconverged.copy()
        for c, commitment in enumerate(compiled.commitments):
            columns[f"commitment.{commitment.id}.invoked"] = self.commitment_invoked[c].copy()
            columns[f"commitment.{commitment.id}.honoured"] = self.commitment_honoured[c].copy()
        return columns


def play(
    compiled: CompiledScenario,
    seed: int,
    runs: np.ndarray | list[int],
    overrides: dict[str, float] | None = None,
    keep_trajectories: bool = True,
    design: dict[str, np.ndarray] | None = None,
    streams: np.ndarray | list[int] | None = None,
) -> WargameModel:
    """Play a block of runs to the end and return the finished model.

    Args:
        compiled: The scenario.
        seed: The batch seed.
        runs: Global run indices of the block.
        overrides: Parameter or initial-state values fixed by the user.
        keep_trajectories: Record every metric and choice every round.
        design: Parameter values per run of the block set by a sweep's design.
        streams: The key of each run's random streams (default: the run index).
    """
    model = WargameModel(
        compiled,
        seed,
        runs,
        overrides=overrides,
        keep_trajectories=keep_trajectories,
        design=design,
        streams=streams,
    )
    with np.errstate(all="ignore"):
        model.run_model()
    return model

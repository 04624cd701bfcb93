"""The rules of one actor: what it can do, how it scores each option, how it chooses.

An :class:`Actor` is a Mesa agent standing for one state actor across a whole block of
runs. In the decide phase of a round it looks at the observed state (the same for every
actor), finds its feasible actions, scores each by its payoff rule on the *projected*
state (the observed state with that action's expected effects applied), adds the bonus
of any commitment that binds it, and turns the scores into probabilities with its
decision rule. The model then draws the choice.

The score of action ``a`` is::

    score(a) = sum_i w_i * projected_i(a) + payoff_expression(projected(a))
               - cost(a) + commitment bonus

so only differences between actions matter. :meth:`Actor.explain` breaks a score into
these terms so a seminar can say why an actor chose what it did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.engine.decision import RULES
from sim.language.compiler import CompiledActor, Effect
from sim.language.expressions import EvalContext

if TYPE_CHECKING:
    from sim.engine.model import WargameModel


@dataclass
class Decision:
    """One actor's decision in one round, for every run of the block.

    Attributes:
        feasible: Whether each action was open, shape (A, R).
        scores: Each action's score, shape (A, R) (-inf where infeasible).
        probabilities: Each action's choice probability, shape (A, R).
        costs: Each action's cost, shape (A, R).
        bound: Index of the commitment that forced the choice, -1 if none, shape (R,).
        bonus: Commitment bonus added to each action's score, shape (A, R).
        choice: The chosen action (-1 for none), shape (R,).
        overridden: True where a person or a replayed fork fixed the choice.
    """

    feasible: np.ndarray
    scores: np.ndarray
    probabilities: np.ndarray
    costs: np.ndarray
    bound: np.ndarray
    bonus: np.ndarray
    choice: np.ndarray
    overridden: bool = False


def apply_effect(values: np.ndarray, effect: Effect, amount: np.ndarray) -> np.ndarray:
    """The new values of a state variable after ``effect`` with the given amount."""
    if effect.op == "add":
        return values + amount
    if effect.op == "sub":
        return values - amount
    if effect.op == "mul":
        return values * amount
    return amount


class Actor(mesa.Agent):
    """A state actor playing a block of runs.

    Args:
        model: The model it belongs to.
        spec: The compiled actor.
        index: Its position in the scenario's list of actors.
    """

    def __init__(self, model: WargameModel, spec: CompiledActor, index: int):
        super().__init__(model)
        self.spec = spec
        self.index = index
        self.decision: Decision | None = None

    @property
    def actor_id(self) -> str:
        """The scenario id of the actor (e.g. 'US')."""
        return self.spec.id

    def utility(self, ctx: EvalContext) -> np.ndarray:
        """The actor's payoff rule evaluated on the state in ``ctx`` (shape (R,))."""
        total = np.zeros(ctx.size)
        for index, weight in self.spec.weights:
            total = total + weight * ctx.state[index]
        if self.spec.payoff_expression is not None:
            total = total + self.spec.payoff_expression(ctx)
        return total

    def project(self, ctx: EvalContext, action_index: int) -> EvalContext:
        """The observed state with the expected effects of one action applied."""
        model = self.model
        state = list(ctx.state)
        for effect in self.spec.actions[action_index].effects:
            amount = effect.expression(ctx, expect=True)
            new = apply_effect(state[effect.target], effect, amount)
            state[effect.target] = model.clip(effect.target, new)
        return ctx.with_state(state)

    def decide(self) -> None:
        """Score the feasible actions and set :attr:`decision` (the Mesa step of an actor)."""
        model = self.model
        ctx = model.ctx
        actions = self.spec.actions
        size = ctx.size
        feasible = np.ones((len(actions), size), dtype=bool)
        scores = np.zeros((len(actions), size))
        costs = np.zeros((len(actions), size))
        for a, action in enumerate(actions):
            if action.when is not None:
                feasible[a] = action.when(ctx) != 0
            costs[a] = action.cost(ctx, expect=True)
            scores[a] = self.utility(self.project(ctx, a)) - costs[a]
        bound = np.full(size, -1)
        forced = np.full(size, -1)
        bonus = np.zeros((len(actions), size))
        for c, commitment in enumerate(model.compiled.commitments):
            if commitment.actor != self.index:
                continue
            active = (commitment.trigger(ctx) != 0) & feasible[commitment.action]
            model.note_commitment(c, active)
            if commitment.force:
                forced = np.where(active & (forced < 0), commitment.action, forced)
                bound = np.where(active & (bound < 0), c, bound)
            else:
                bonus[commitment.action] += np.where(active, commitment.bonus, 0.0)
        scores += bonus
        rule = RULES[self.spec.decision]
        probabilities = rule(scores, feasible, self.spec.rationality)
        script_action = self.spec.script.get(ctx.round)
        if self.spec.decision == "scripted" and script_action is not None:
            scripted = feasible[script_action]
            probabilities[:, scripted] = 0.0
            probabilities[script_action, scripted] = 1.0
        if (forced >= 0).any():
            rows = np.arange(len(actions))[:, None]
            one_hot = (rows == forced[None, :]).astype(float)
            probabilities = np.where(forced >= 0, one_hot, probabilities)
        scores = np.where(feasible, scores, -np.inf)
        choice = model.draw_choice(self.index, probabilities)
        override = model.override_for(ctx.round, self.index)
        overridden = override is not None
        if overridden:
            choice = np.full(size, override)
        self.decision = Decision(
            feasible, scores, probabilities, costs, bound, bonus, choice, overridden
        )

    def explain(self, ctx: EvalContext, action_index: int, run: int = 0) -> list[tuple[str, float]]:
        """The terms of one action's score in one run, largest effect first.

        Each term is the change the action makes to a weighted state variable (weight
        times projected change), the payoff expression's change, and minus the cost.

        Args:
            ctx: The observed state the decision was made on.
            action_index: Which action.
            run: Which run of the block.

        Returns:
            (label, contribution) pairs, sorted by absolute contribution.
        """
        projected = self.project(ctx, action_index)
        names = self.model.compiled.state_names
        terms = []
        for index, weight in self.spec.weights:
            change = float(projected.state[index][run] - ctx.state[index][run])
            if change:
                terms.append((f"{names[index]} {change:+.3g} x weight {weight:g}", weight * change))
        if self.spec.payoff_expression is not None:
            before = float(self.spec.payoff_expression(ctx)[run])
            after = float(self.spec.payoff_expression(projected)[run])
            if after != before:
                terms.append(("payoff expression", after - before))
        cost = float(self.spec.actions[action_index].cost(ctx, expect=True)[run])
        if cost:
            terms.append(("cost", -cost))
        return sorted(terms, key=lambda t: -abs(t[1]))

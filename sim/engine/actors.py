"""The rules of one actor: what it can do, how it scores each option, how it chooses.

An :class:`Actor` is a Mesa agent standing for one state actor across a whole block of
runs. In the decide phase of a round it asks the round's reasoning
(:class:`~sim.engine.reasoning.RoundReasoning`) for its strategy: which actions are
open, what it expects the others to do (by its ``reasoning`` mode), the score of each
option on the projected state (plus cost, commitment bonus and foresight of branches),
and the choice probabilities its decision rule gives. The model then draws the choice
from the actor's own random stream, or takes the one a person or a replayed fork fixed.

The score of action ``a`` is::

    score(a) = sum_i w_i * projected_i(a) + payoff_expression(projected(a))
               - cost(a) + commitment bonus + foresight(a)

so only differences between actions matter. The terms are kept (:class:`Decision`) so a
seminar can say why an actor chose what it did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.engine.mesa_core import mesa
from sim.engine.reasoning import Strategy
from sim.language.compiler import CompiledActor

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
        strategy: The reasoning behind the probabilities: the scores term by term, the
            branches foreseen and what the actor expected the others to do.
    """

    feasible: np.ndarray
    scores: np.ndarray
    probabilities: np.ndarray
    costs: np.ndarray
    bound: np.ndarray
    bonus: np.ndarray
    choice: np.ndarray
    overridden: bool = False
    strategy: Strategy | None = None


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

    def decide(self) -> None:
        """Take this round's strategy and draw the choice (the Mesa step of an actor)."""
        model = self.model
        reasoning = model.reasoning
        strategy = reasoning.strategy(self.index)
        feasible = reasoning.feasible[self.index]
        probabilities = strategy.probabilities
        scores = np.where(feasible, strategy.scored.total, -np.inf)
        choice = model.draw_choice(self.index, probabilities)
        override = model.override_for(reasoning.ctx.round, self.index)
        overridden = override is not None
        if overridden:
            choice = np.full(reasoning.size, override)
        self.decision = Decision(
            feasible,
            scores,
            probabilities,
            strategy.scored.cost,
            reasoning.bound[self.index],
            reasoning.bonus[self.index],
            choice,
            overridden,
            strategy,
        )

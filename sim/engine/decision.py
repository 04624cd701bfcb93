"""Decision rules: how an actor turns the scores of its options into a choice.

Each rule maps a score matrix of shape (actions, R) and a feasibility mask of the same
shape to choice probabilities. The logit (quantal response) rule is the default:

    p(a) = exp(lambda * s(a)) / sum over feasible b of exp(lambda * s(b))

with the actor's rationality ``lambda``: 0 gives a uniform choice among feasible
actions, a large value gives a best response. Rules are registered by name in
:data:`RULES`; the model draws the choice from the probabilities with the run's own
stream, so every rule is reproducible.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Ties within this tolerance count as equal for the best-response rule.
TIE_TOLERANCE = 1e-9


def logit_probabilities(scores: np.ndarray, feasible: np.ndarray, rationality: float) -> np.ndarray:
    """Quantal-response (softmax) choice probabilities over feasible actions.

    Args:
        scores: Score of each action in each run, shape (A, R).
        feasible: Whether each action is open in each run, shape (A, R).
        rationality: The logit lambda (>= 0).

    Returns:
        Probabilities of shape (A, R); a column with no feasible action is all zero.
    """
    every = feasible.all()  # the common case: no masking (same numbers, fewer passes)
    masked = scores if every else np.where(feasible, scores, -np.inf)
    top = masked.max(axis=0)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(invalid="ignore", over="ignore"):
        weights = np.exp(rationality * (masked - top))
    if not every:
        weights = np.where(feasible, weights, 0.0)
    total = weights.sum(axis=0)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


def best_response_probabilities(
    scores: np.ndarray, feasible: np.ndarray, rationality: float
) -> np.ndarray:
    """Uniform over the feasible actions with the highest score (ties share)."""
    masked = np.where(feasible, scores, -np.inf)
    top = masked.max(axis=0)
    best = feasible & (masked >= top - TIE_TOLERANCE)
    count = best.sum(axis=0)
    return np.divide(best, count, out=np.zeros(best.shape), where=count > 0)


RuleFunction = Callable[[np.ndarray, np.ndarray, float], np.ndarray]

#: Decision rules by name. ``scripted`` plays the actor's script where it has an entry
#: for the round and the action is feasible, and logit otherwise; ``human`` is played by
#: a person in the seminar and by the logit rule in a batch.
RULES: dict[str, RuleFunction] = {
    "logit": logit_probabilities,
    "best_response": best_response_probabilities,
    "scripted": logit_probabilities,
    "human": logit_probabilities,
}


def draw_choice(probabilities: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Pick one action per run by inverse transform of uniform draws.

    Args:
        probabilities: Shape (A, R), columns summing to 1 (or all zero).
        u: Uniform draws in (0, 1), shape (R,).

    Returns:
        Chosen action index per run, -1 where no action was feasible.
    """
    cumulative = np.cumsum(probabilities, axis=0)
    total = cumulative[-1]
    index = np.sum(cumulative <= u * total, axis=0)
    index = np.minimum(index, probabilities.shape[0] - 1)
    return np.where(total > 0, index, -1)

"""What the model expects from here: the room's game continued a few thousand times.

At any moment of a seminar the model can say how the game is likely to go on from where
the room has brought it: its history fixed (state, hidden parameter values, the moves,
branches and payoffs so far), its future drawn. :func:`outlook` copies the game into a
block of continuations (:func:`sim.engine.continuation.continue_runs`), plays them to the
end by the rules and counts, for each branch still open, how often it resolves and how,
and for each ending how often it is reached, with each actor's mean total payoff.

This conditional forecast is what a room's prediction is scored against: taken at the
moment the question was asked, it knows everything the room could know then (and the
hidden parameter values, which the room does not), so "the room was closer" means the
room read the situation better than a well-informed model, not merely better than the
odds before the game began.

The same game at the same round always gets the same continuations (their streams are
keyed by the run, the round and the copy's number), so an outlook is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.engine.continuation import continuation_keys, continue_runs
from sim.engine.model import WargameModel

#: Continuations behind one outlook: a probability's standard error is at most 1.1%.
DEFAULT_CONTINUATIONS = 2_000
_BLOCK = 2_000


@dataclass(frozen=True)
class Outlook:
    """The model's conditional forecast from one round of a game.

    Attributes:
        round: The round the game had reached (its last round played; 0 before round 1).
        runs: Continuations played.
        branches: For each branch still open: outcome id -> probability among the
            continuations in which the branch resolves.
        resolves: For each branch still open: the share of continuations in which it
            resolves at all.
        endings: Ending id -> share of continuations ending so.
        payoffs: Actor id -> mean total payoff over the continuations.
    """

    round: int
    runs: int
    branches: dict[str, dict[str, float]]
    resolves: dict[str, float]
    endings: dict[str, float]
    payoffs: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        """The outlook as plain JSON data."""
        return {
            "round": self.round,
            "runs": self.runs,
            "branches": self.branches,
            "resolves": self.resolves,
            "endings": self.endings,
            "payoffs": self.payoffs,
        }


def outlook(model: WargameModel, runs: int = DEFAULT_CONTINUATIONS, run: int = 0) -> Outlook:
    """Continue run ``run`` of ``model`` ``runs`` times from where it stands.

    Args:
        model: The game's model (at any round; it is not changed).
        runs: How many continuations.
        run: Which run of the model's block.

    Returns:
        The conditional forecast.
    """
    compiled = model.compiled
    game_run = int(model.ctx.runs[run])
    keys = continuation_keys(game_run, model.round, runs)
    open_branch = model.branch_outcome[:, run] < 0
    counts = {
        b.id: np.zeros(len(b.outcomes)) for i, b in enumerate(compiled.branches) if open_branch[i]
    }
    endings = np.zeros(len(compiled.endings))
    payoffs = np.zeros(len(compiled.actors))
    for start in range(0, runs, _BLOCK):
        block = continue_runs(model, keys[start : start + _BLOCK], run)
        with np.errstate(all="ignore"):
            block.run_model()
        for b, branch in enumerate(compiled.branches):
            if branch.id in counts:
                outcome = block.branch_outcome[b]
                counts[branch.id] += np.bincount(
                    outcome[outcome >= 0], minlength=len(branch.outcomes)
                )
        assert block.ending is not None
        endings += np.bincount(block.ending, minlength=len(compiled.endings))
        payoffs += block.payoff_total.sum(axis=1)
    branches, resolves = {}, {}
    for branch in compiled.branches:
        if branch.id not in counts:
            continue
        total = counts[branch.id].sum()
        shares = counts[branch.id] / total if total else counts[branch.id]
        branches[branch.id] = {o.id: float(p) for o, p in zip(branch.outcomes, shares, strict=True)}
        resolves[branch.id] = float(total / runs)
    return Outlook(
        round=int(model.round),
        runs=int(runs),
        branches=branches,
        resolves=resolves,
        endings={e.id: float(n / runs) for e, n in zip(compiled.endings, endings, strict=True)},
        payoffs={a.id: float(p / runs) for a, p in zip(compiled.actors, payoffs, strict=True)},
    )

"""Continuations: one run's game, as it stands, copied into a block whose futures differ.

A seminar asks "what does the model expect from here?". The answer is a block of R
copies of the room's game at the round it reached: the same state, the same parameter
values (they were drawn at round 0, so they are part of its history), the same history
of moves, branches, commitments and payoffs so far; only the random draws of the rounds
still to play differ, because each copy gets its own random stream. Played to the end,
the block gives each unresolved branch's and each ending's probability conditional on
everything that has happened.

Every copy's stream is keyed by (seed, continuation key), where the key is a pure
function of the game's run, the round reached and the copy's number, so the same game at
the same round always gets the same continuations. Passing the game's own run index as
the only key gives back the game itself: :func:`continue_runs` with ``keys=[run]``
retraces that run's future exactly (a test checks this).

The copies play by the rules: choices people fixed for later rounds are not carried
over, since in a classroom they are secret until they are revealed.
"""

from __future__ import annotations

import numpy as np

from sim.engine.model import WargameModel
from sim.engine.streams import Streams, splitmix64

#: Continuation keys live above this bit, so they never collide with a batch's run index.
CONTINUATION_BIT = 1 << 62


def continuation_keys(run: int, round_: int, count: int) -> np.ndarray:
    """The stream keys of ``count`` continuations of run ``run`` from round ``round_``.

    Args:
        run: The game's run index.
        round_: The round the game has reached (its last round played).
        count: How many continuations.

    Returns:
        ``count`` distinct int64 keys at or above :data:`CONTINUATION_BIT`.
    """
    base = splitmix64(np.array([(int(run) << 8) ^ int(round_)], dtype=np.uint64))[0]
    with np.errstate(over="ignore"):
        mixed = splitmix64(np.arange(count, dtype=np.uint64) + base)
    return ((mixed >> np.uint64(2)) | np.uint64(CONTINUATION_BIT)).astype(np.int64)


def continue_runs(model: WargameModel, keys: np.ndarray | list[int], run: int = 0) -> WargameModel:
    """A new block holding copies of run ``run`` of ``model`` as it stands now.

    Args:
        model: The model to copy from (any round, history kept or not).
        keys: One stream key per copy: a copy draws its future as run ``key`` would.
        run: Which run of ``model`` to copy.

    Returns:
        A model of ``len(keys)`` runs at ``model``'s round, keeping no history and no
        trajectories, ready to :meth:`~sim.engine.model.WargameModel.step` on.
    """
    keys = np.asarray(keys, dtype=np.int64)
    count = len(keys)
    copy = WargameModel(
        model.compiled,
        model.seed,
        keys,
        keep_history=False,
        keep_trajectories=False,
    )

    def one(values: np.ndarray) -> np.ndarray:
        return np.repeat(values[..., run : run + 1], count, axis=-1).copy()

    ctx, source = copy.ctx, model.ctx
    ctx.state = [one(values) for values in source.state]
    ctx.params = [one(values) for values in source.params]
    ctx.times = one(source.times)
    ctx.last = one(source.last)
    ctx.chose = one(source.chose)
    ctx.round = source.round
    ctx.streams = Streams(model.seed, keys)
    copy.round = model.round
    copy.inject_fired = one(model.inject_fired)
    copy.branch_outcome = one(model.branch_outcome)
    copy.branch_round = one(model.branch_round)
    copy.commitment_invoked = one(model.commitment_invoked)
    copy.commitment_honoured = one(model.commitment_honoured)
    copy._active_commitments = one(model._active_commitments)
    copy.payoff_total = one(model.payoff_total)
    copy._ending = one(model._ending)
    copy.active = one(model.active)
    copy.rounds_played = one(model.rounds_played)
    copy.unconverged = one(model.unconverged)
    if model.ending is not None:
        copy.ending = copy._ending.copy()
    return copy

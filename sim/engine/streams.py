"""Counter-based random streams: every draw is a pure function of where it is used.

A draw is ``hash(seed, run, site, round, slot)`` mapped to a uniform number in (0, 1),
where ``site`` is a 64-bit key naming what the draw is for (a parameter, a random term
at a given place in the scenario, an actor's choice, a branch). The hash is splitmix64
chained over the integers, vectorised over the runs of a block with numpy.

Because nothing is sequential, run k gets the same numbers whether it is played alone,
in a block of 100,000, in any order or on any worker, and adding a random term to one
action does not shift the draws of any other (useful for common random numbers).
"""

from __future__ import annotations

import numpy as np

# A site's key is a name's hash; the language names sites, so the hash lives there.
from sim.language.sites import site_key

__all__ = ["Streams", "site_key", "splitmix64"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(n) for n in (30, 27, 31, 11))
_TO_UNIT = 2.0**-53


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser applied element-wise to a uint64 array (wrapping)."""
    z = x + _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


class Streams:
    """The random streams of a block of runs of one batch.

    Args:
        seed: The batch seed (any non-negative integer below 2**63).
        runs: Global run indices of the block, shape (R,).
    """

    def __init__(self, seed: int, runs: np.ndarray):
        self.seed = int(seed)
        seed_key = splitmix64(np.array([self.seed], dtype=np.uint64))
        self._run_keys = splitmix64(seed_key ^ np.asarray(runs, dtype=np.uint64))

    def subset(self, index: np.ndarray) -> Streams:
        """The streams of the runs at ``index`` only."""
        other = object.__new__(Streams)
        other.seed = self.seed
        other._run_keys = self._run_keys[index]
        return other

    def uniform(self, site: int, round_: int, slot: int = 0) -> np.ndarray:
        """Uniform draws in the open interval (0, 1), one per run.

        Args:
            site: Key of what the draw is for (see :func:`site_key`).
            round_: The round (0 for draws made before the first round).
            slot: A further index when one site needs several draws in a round.
        """
        with np.errstate(over="ignore"):
            h = splitmix64(self._run_keys ^ np.uint64(site))
            h = splitmix64(h ^ np.uint64((round_ << 20) | slot))
        return ((h >> _S11).astype(np.float64) + 0.5) * _TO_UNIT

"""explain's two helper processes: they count rules' resamples and draw the charts.

Kept apart from :mod:`sim.analysis.explanation` so that the command can start their
forkserver (:func:`start_early`) before it imports the analysis: the forkserver imports
PRIM and matplotlib (about a second of CPU) on the second core while this process
imports pandas and scipy on the first.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from concurrent.futures import Executor

#: Explaining at least this many outcomes, two helper processes draw the charts and count
#: the rules' resamples while this one ranks and peels the next outcomes.
PARALLEL_TARGETS = 2


def preload(plots: bool) -> list[str]:
    """The modules the helpers' forkserver imports (matplotlib only for charts)."""
    modules = ["sim.analysis.discovery"]
    if plots:
        modules += ["sim.analysis.explainplots", "matplotlib.pyplot"]
    return modules


def start_early(plots: bool) -> None:
    """Start the helpers' forkserver now, if this machine has two cores to use it on.

    For a command that will explain several outcomes (without ``--measure``, whose
    runs want another preload); the pool opened later forks from it.

    Args:
        plots: Whether charts will be drawn.
    """
    if (os.cpu_count() or 1) < 2:
        return
    from sim.batch.executors import start_forkserver

    start_forkserver(preload(plots))


@contextlib.contextmanager
def helper_processes(plots: bool, targets: int) -> Iterator[Executor | None]:
    """Two helper processes (PRIM, and matplotlib when charts are drawn), or None.

    None when there are fewer than :data:`PARALLEL_TARGETS` outcomes or one core.

    Args:
        plots: Whether charts will be drawn.
        targets: How many outcomes are explained.
    """
    if targets < PARALLEL_TARGETS or (os.cpu_count() or 1) < 2:
        yield None
        return
    from sim.batch.executors import open_pool, start_workers

    with open_pool("process", 2, preload=preload(plots)) as (pool, count):
        starting = start_workers(pool, count)
        try:
            yield pool
        finally:
            starting.join()

"""Where a batch's tasks are played: in this process, a local process pool, or Dask.

Every task is the same pure function of its arguments (see :mod:`sim.batch.tasks`), so
the executor changes how fast a batch plays, never what it writes. :func:`run_tasks`
plays a sequence of tasks and hands each result to a callback in the calling process
as it finishes; with a pool, at most two tasks per worker are in flight, so memory
stays flat however many runs the batch has.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from typing import Any

from sim.errors import OptionsError


@contextlib.contextmanager
def open_pool(
    executor: str,
    workers: int,
    scheduler: str | None = None,
    preload: Iterable[str] = (),
) -> Iterator[tuple[Executor, int]]:
    """A concurrent.futures executor for the batch, and how many tasks it runs at once.

    ``process`` is a local process pool (forkserver, so workers start from a clean
    interpreter with the ``preload`` modules imported once). ``dask`` submits to a Dask
    distributed scheduler at ``scheduler`` (its workers need this package installed),
    or to a local Dask cluster of ``workers`` processes. Either way a task is the same
    pure function of (scenario text, seed, run range), so the results are the same
    bytes.
    """
    if executor == "process":
        context = multiprocessing.get_context("forkserver" if sys.platform != "win32" else "spawn")
        if sys.platform != "win32":
            context.set_forkserver_preload(list(preload))
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            yield pool, workers
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise OptionsError(
            "--executor dask needs Dask distributed: pip install 'wargame[dask]'"
        ) from None
    with contextlib.ExitStack() as stack:
        if scheduler:
            try:
                client = stack.enter_context(Client(scheduler, timeout="5s"))
            except (OSError, TimeoutError) as exc:
                raise OptionsError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        else:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            )
            client = stack.enter_context(Client(cluster))
        slots = max(1, sum(client.nthreads().values()))
        yield client.get_executor(pure=False), slots


def check_scheduler(scheduler: str) -> None:
    """Connect to a Dask scheduler and leave, so a batch fails before writing anything.

    Raises:
        OptionsError: If Dask is missing or the scheduler cannot be reached.
    """
    with open_pool("dask", 1, scheduler):
        pass


def run_tasks(
    task: Callable[..., Any],
    arguments: Iterable[tuple[Any, ...]],
    finished: Callable[[Any], None],
    *,
    executor: str,
    workers: int,
    scheduler: str | None = None,
) -> None:
    """Play ``task(*args)`` for each argument tuple; call ``finished`` with each result.

    Results arrive in the order tasks finish (in order, in-process). ``task`` must be a
    module-level function (workers import it by name); its module is preloaded by the
    process pool's forkserver. Arguments are produced lazily, as slots free up.

    Args:
        task: The function to play, e.g. :func:`sim.batch.tasks.play_task`.
        arguments: One tuple of positional arguments per task.
        finished: Called in this process with each task's return value.
        executor: ``inprocess``, ``process`` or ``dask`` (already resolved).
        workers: Worker processes for ``process`` or a local Dask cluster.
        scheduler: A Dask scheduler's address, for ``dask``.
    """
    queue = iter(arguments)
    if executor == "inprocess":
        for args in queue:
            finished(task(*args))
        return
    with open_pool(executor, workers, scheduler, preload=[task.__module__]) as (pool, slots):
        pending: set[Future[Any]] = set()
        exhausted = False
        while not exhausted or pending:
            # Keep at most two tasks per worker in flight: memory stays flat.
            while not exhausted and len(pending) < 2 * slots:
                args = next(queue, None)
                if args is None:
                    exhausted = True
                else:
                    pending.add(pool.submit(task, *args))
            if not pending:
                break
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                finished(future.result())

"""Where a batch's tasks are played: in this process, a local process pool, or Dask.

Every task is the same pure function of its arguments (see :mod:`sim.batch.tasks`), so
the executor changes how fast a batch plays, never what it writes. :func:`run_tasks`
plays a sequence of tasks and hands each result to a callback in the calling process
as it finishes; with a pool, at most two tasks per worker are in flight, so memory
stays flat however many runs the batch has.

Workers never outlive the batch. Each process-pool worker watches the process that
started the batch (a thread polls it a few times a second) and exits as soon as it is
gone, whatever killed it: SIGKILL, SIGTERM, SIGHUP, a crash. Then the pool's forkserver
and resource tracker, which live only as long as someone holds their pipes, exit too,
and nothing is left holding the caller's terminal or pipe (``wargame run ... | tee``
returns). Workers ignore SIGINT: Ctrl-C in a terminal reaches every process of the
group, and the batch, not each worker, decides what an interrupt means. When the batch
is interrupted (Ctrl-C, or SIGTERM/SIGHUP turned into an interrupt by the CLI), the
tasks not started are cancelled and the workers are stopped at once rather than
waited for. A local Dask cluster is closed the same way, and its worker processes
watch their parent as Dask's nannies do.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from typing import Any

from sim.errors import OptionsError

#: How often a worker checks that the batch's process is still there, in seconds.
WATCH_INTERVAL = 0.2
#: A worker's exit code when the batch's process is gone.
ORPHANED = 75


def process_start_time(pid: int) -> str | None:
    """When a process started (Linux: its start time in clock ticks), None if unknown.

    Kept with the pid, so that a worker does not mistake a new process that reused the
    pid for the batch's.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            fields = file.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[19].decode() if len(fields) > 19 else None


def process_alive(pid: int, started: str | None) -> bool:
    """Whether the process ``pid`` that started at ``started`` still runs (not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            fields = file.read().rsplit(b")", 1)[1].split()
        return fields[0] not in (b"Z", b"X") and (started is None or fields[19].decode() == started)
    except FileNotFoundError:
        return False
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch_parent(parent: int, started: str | None) -> None:
    while True:
        time.sleep(WATCH_INTERVAL)
        if not process_alive(parent, started):
            os._exit(ORPHANED)


def worker_start(parent: int, started: str | None) -> None:
    """Run in each pool worker before its first task: ignore SIGINT, watch the parent.

    Args:
        parent: The pid of the process that runs the batch.
        started: Its start time (:func:`process_start_time`).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watcher = threading.Thread(
        target=_watch_parent, args=(parent, started), name="wargame-watch-parent", daemon=True
    )
    watcher.start()


_INTERRUPTED_POOLS: list[int] = []


def pool_was_interrupted() -> bool:
    """Whether this process stopped a process pool on an interrupt.

    Its caller should then leave with ``os._exit`` once its files are written: at the
    interpreter's exit ``concurrent.futures`` joins the pool's manager thread, which can
    wait for ever on a worker the interrupt caught while it was being spawned. Workers
    end with this process whatever way it ends (:func:`worker_start`).
    """
    return bool(_INTERRUPTED_POOLS)


def _stop_workers(pool: Any) -> None:
    """Stop a process pool's workers now (an interrupted batch), not after their tasks."""
    _INTERRUPTED_POOLS.append(id(pool))
    # ProcessPoolExecutor has no public way to stop running tasks; its processes do.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            process.kill()
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError, AssertionError):
            process.join(timeout=5)


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
        me = os.getpid()
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=worker_start,
            initargs=(me, process_start_time(me)),
        )
        try:
            yield pool, workers
        except BaseException:
            _stop_workers(pool)
            raise
        pool.shutdown(wait=True)
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
            # An interrupt while the cluster starts would leave it half made (and Dask
            # would print tracebacks closing it at exit): it is held until the cluster
            # is up and the way to stop it is in place, then delivered.
            with _interrupts_held():
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                    )
                )
                client = stack.enter_context(Client(cluster))
                # Interrupted: the local workers are stopped at once (a graceful close
                # would wait for their tasks, then log every broken connection).
                stack.push(lambda kind, _exc, _tb: _kill_local_workers(cluster, kind))
        slots = max(1, sum(client.nthreads().values()))
        yield client.get_executor(pure=False), slots


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP for a while; deliver the first one held afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []

    def hold(signum: int, _frame: Any) -> None:
        held.append(signum)

    names = ("SIGINT", "SIGTERM", "SIGHUP")
    wanted = [getattr(signal, name) for name in names if hasattr(signal, name)]
    previous = {signum: signal.signal(signum, hold) for signum in wanted}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if held:
            # Delivered again, now to the handler that was in place (an interrupt).
            os.kill(os.getpid(), held[0])


def _kill_local_workers(cluster: Any, kind: type[BaseException] | None) -> None:
    """Stop a local Dask cluster's worker processes now, quietly, if the batch was interrupted."""
    if kind is None or not issubclass(kind, KeyboardInterrupt):
        return
    import logging

    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    for nanny in list(getattr(cluster, "workers", {}).values()):
        pid = getattr(nanny, "pid", None)
        if pid:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def check_scheduler(scheduler: str) -> None:
    """Connect to a Dask scheduler and leave, so a batch fails before writing anything.

    Raises:
        OptionsError: If Dask is missing or the scheduler cannot be reached.
    """
    with open_pool("dask", 1, scheduler):
        pass


def start_workers(pool: Executor, count: int) -> threading.Thread:
    """Start a process pool's ``count`` workers from a thread; return the thread.

    A pool starts a process per task waiting while none is idle, so one no-op task each
    starts them all. Starting one waits until the forkserver has imported its preload
    modules (a second for matplotlib): the thread waits for that, not the caller, who
    goes on working meanwhile and joins the thread before closing the pool.

    Args:
        pool: A pool from :func:`open_pool` (``process``).
        count: Its number of workers.
    """

    def start() -> None:
        with contextlib.suppress(Exception):  # a pool stopped meanwhile (an interrupt)
            for _ in range(count):
                pool.submit(os.getpid)

    thread = threading.Thread(target=start, name="wargame-start-workers", daemon=True)
    thread.start()
    return thread


def start_forkserver(preload: Iterable[str]) -> threading.Thread | None:
    """Start the process pools' forkserver now, from a thread, with ``preload`` imported.

    The forkserver (one per process) imports the preload modules once, and every pool
    worker is forked from it. Started while the command still loads and checks its
    scenario, those imports (about 0.3 s, and 1 s with matplotlib) are not waited for
    when the first pool opens: a pool opened later uses the running forkserver and its
    preload (:func:`open_pool` then sets a preload that no longer matters).

    Args:
        preload: Module names to import in the forkserver.

    Returns:
        The starting thread (daemon), or None where there is no forkserver (Windows).
    """
    if sys.platform == "win32":
        return None
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(list(preload))

    def start() -> None:
        with contextlib.suppress(Exception):  # the pool will report it if it matters
            forkserver.ensure_running()

    thread = threading.Thread(target=start, name="wargame-start-forkserver", daemon=True)
    thread.start()
    return thread


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

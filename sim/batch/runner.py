"""Batches: play a scenario many times, in chunks, on one or several processes.

The runs 0..N-1 are cut into *tasks* (contiguous ranges); a task is played in blocks of
``chunk_size`` runs by one :class:`~sim.engine.model.WargameModel` per block. Every random draw
depends only on (seed, run, round, site), so the rows of ``runs.parquet`` are the same
for any chunk size, any number of workers and either executor; the final files are
merged with fixed row groups, so even their bytes are.

Finished tasks are written to ``DIR/.parts/`` at once; memory stays flat as runs grow,
and an interrupted batch resumes with ``resume=True``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.batch.results import (
    RESULTS_FORMAT,
    Results,
    atomic_write_bytes,
    atomic_write_json,
    merge_parts,
    prepare_folder,
)
from sim.batch.summary import summarize
from sim.engine.model import play
from sim.errors import OptionsError, ResultsError, WargameError
from sim.language.compiler import CompiledScenario, compile_text
from sim.version import __version__

if TYPE_CHECKING:
    from sim.batch.designs import Design

DEFAULT_CHUNK_SIZE = 10_000
#: Below this many runs a batch plays in-process by default: starting worker processes
#: (about 1.5 s) and moving results between them costs more than a second core saves.
PROCESS_THRESHOLD = 200_000
#: A task holds at least this many runs, so tiny chunks do not mean thousands of files.
MIN_TASK_RUNS = 5_000
MAX_RUNS = 100_000_000

Progress = Callable[[int, int], None]
EXECUTORS = ("auto", "inprocess", "process", "dask")


@contextlib.contextmanager
def open_pool(
    executor: str, workers: int, scheduler: str | None = None
) -> Iterator[tuple[Executor, int]]:
    """A concurrent.futures executor for the batch, and how many tasks it runs at once.

    ``process`` is a local process pool (forkserver, so workers start from a clean
    interpreter with the engine imported once). ``dask`` submits to a Dask distributed
    scheduler at ``scheduler`` (its workers need this package installed), or to a local
    Dask cluster of ``workers`` processes. Either way a task is the same pure function
    of (scenario text, seed, run range), so the results are the same bytes.
    """
    if executor == "process":
        context = multiprocessing.get_context("forkserver" if sys.platform != "win32" else "spawn")
        if sys.platform != "win32":
            context.set_forkserver_preload(["sim.batch.runner"])
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


@dataclass
class BatchOptions:
    """How to play a batch.

    Attributes:
        runs: Number of runs.
        seed: The batch seed.
        chunk_size: Runs per model block (memory and speed; never the results).
        workers: Worker processes; 0 chooses (1 for small batches, else the CPU count).
        executor: ``auto``, ``inprocess``, ``process`` or ``dask``.
        scheduler: Address of a Dask scheduler (``tcp://HOST:PORT``) for ``dask``; without
            one a local Dask cluster of ``workers`` processes is started.
        overrides: Parameter or initial-state values fixed with ``--set``.
        keep_rounds: Write per-round trajectories (rounds.parquet).
        plots: Draw the standard plots.
        command_line: The command that started the batch, for the manifest.
        design: An experimental design fixing some parameters run by run (a sweep, see
            :mod:`sim.batch.designs`); ``runs`` must equal its number of rows.
    """

    runs: int = 10_000
    seed: int = 20250815
    chunk_size: int = DEFAULT_CHUNK_SIZE
    workers: int = 0
    executor: str = "auto"
    scheduler: str | None = None
    overrides: dict[str, float] = field(default_factory=dict)
    keep_rounds: bool = True
    plots: bool = True
    command_line: list[str] = field(default_factory=list)
    design: Design | None = None

    def check(self) -> None:
        """Reject impossible settings with a message a user can act on."""
        if self.design is not None:
            if self.runs != self.design.runs:
                kind, rows = self.design.kind, self.design.runs
                raise OptionsError(f"the {kind} design has {rows:,} runs, not {self.runs:,}")
            both = sorted(set(self.design.params) & set(self.overrides))
            if both:
                raise OptionsError(f"--set {both[0]}: the parameter is also swept by the design")
        if not 1 <= self.runs <= MAX_RUNS:
            raise OptionsError(f"--runs must be between 1 and {MAX_RUNS:,}")
        if not 0 <= self.seed < 2**63:
            raise OptionsError("--seed must be a non-negative integer below 2**63")
        if self.chunk_size < 1:
            raise OptionsError("--chunk-size must be at least 1")
        if self.workers < 0:
            raise OptionsError("--workers must be 0 (automatic) or more")
        if self.executor not in EXECUTORS:
            raise OptionsError(f"--executor must be one of {', '.join(EXECUTORS)}")
        if self.scheduler and self.executor != "dask":
            raise OptionsError("--scheduler goes with --executor dask")

    def resolved(self) -> tuple[str, int]:
        """The executor and worker count actually used."""
        many = min(os.cpu_count() or 1, 8)
        workers = self.workers or (
            many if self.runs >= PROCESS_THRESHOLD or self.executor == "dask" else 1
        )
        executor = self.executor
        if executor == "auto":
            executor = "process" if workers > 1 else "inprocess"
        if executor == "inprocess":
            workers = 1
        return executor, workers


def task_ranges(runs: int, chunk_size: int) -> list[tuple[int, int]]:
    """Cut runs 0..runs-1 into contiguous tasks of whole chunks."""
    per_task = (
        chunk_size * max(1, -(-MIN_TASK_RUNS // chunk_size))
        if chunk_size < MIN_TASK_RUNS
        else chunk_size
    )
    return [(start, min(start + per_task, runs)) for start in range(0, runs, per_task)]


def layout_of(compiled: CompiledScenario) -> dict[str, Any]:
    """The scenario's structure as stored in the manifest (for plots and comparisons)."""
    spec = compiled.loaded.spec
    parameters = []
    for name, param in spec.parameters.items():
        described = param.model_dump(mode="json")
        described["id"] = name
        parameters.append(described)
    return {
        "start_date": spec.scenario.start_date.isoformat(),
        "round_days": spec.scenario.round_days,
        "rounds": compiled.rounds,
        "sources": [s.model_dump(mode="json") for s in spec.scenario.sources],
        "parameters": parameters,
        "actors": [{"id": a.id, "name": a.name} for a in compiled.actors],
        "branches": [
            {"id": b.id, "round": b.round, "outcomes": [o.id for o in b.outcomes], "text": b.text}
            for b in compiled.branches
        ],
        "endings": [{"id": e.id, "title": e.title} for e in compiled.endings],
        "metrics": [{"id": m.id, "title": m.title, "unit": m.unit} for m in compiled.metrics],
        "commitments": [c.id for c in compiled.commitments],
    }


def settings_as_written(compiled: CompiledScenario, overrides: dict[str, float]) -> dict[str, Any]:
    """``--set`` values as a user reads them: categorical ones by name, not by index."""
    shown: dict[str, Any] = {}
    for name, value in overrides.items():
        if name in compiled.param_names:
            categories = compiled.param_categories[compiled.param_names.index(name)]
        else:
            categories = compiled.state_categories[compiled.state_names.index(name)]
        shown[name] = categories[int(value)] if categories is not None else value
    return shown


def check_overrides(compiled: CompiledScenario, overrides: dict[str, Any]) -> dict[str, float]:
    """Check ``--set`` names and turn their values into numbers.

    A categorical parameter or state variable may be set to one of its values by name.
    """
    from sim.language.schema import suggest

    checked: dict[str, float] = {}
    names = compiled.param_names + compiled.state_names
    for name, value in overrides.items():
        if name not in names:
            raise OptionsError(
                f"--set {name}: no parameter or state variable '{name}'" + suggest(name, names)
            )
        if name in compiled.param_names:
            categories = compiled.param_categories[compiled.param_names.index(name)]
        else:
            categories = compiled.state_categories[compiled.state_names.index(name)]
        if categories is not None:
            if str(value) not in categories:
                raise OptionsError(f"--set {name}: must be one of {list(categories)}")
            checked[name] = float(categories.index(str(value)))
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise OptionsError(f"--set {name}={value}: not a number") from None
        if not np.isfinite(number):
            raise OptionsError(f"--set {name}={value}: must be finite")
        checked[name] = number
    return checked


def records_to_tables(model: Any, keep_rounds: bool) -> tuple[pa.Table, pa.Table | None]:
    """Turn a finished model's records into the runs table and the rounds table."""
    columns = model.records()
    runs = pa.table({k: pa.array(v) for k, v in columns.items()})
    if not keep_rounds:
        return runs, None
    compiled = model.compiled
    rounds = compiled.rounds + 1
    size = model.size
    data: dict[str, Any] = {
        "run": np.repeat(model.ctx.runs, rounds),
        "round": np.tile(np.arange(rounds, dtype=np.int16), size),
    }
    for m, metric in enumerate(compiled.metrics):
        data[f"metric.{metric.id}"] = model.trajectories[m].T.reshape(-1).astype(np.float32)
    return runs, pa.table(data)


_COMPILED: dict[str, CompiledScenario] = {}


def _compiled_for(text: str, path: str) -> CompiledScenario:
    key = f"{path}\0{text}"
    if key not in _COMPILED:
        _COMPILED.clear()
        _COMPILED[key] = compile_text(text, path)
    return _COMPILED[key]


def play_task(
    text: str,
    path: str,
    seed: int,
    start: int,
    stop: int,
    chunk_size: int,
    overrides: dict[str, float],
    keep_rounds: bool,
    design: dict[str, np.ndarray] | None = None,
) -> tuple[int, pa.Table, pa.Table | None]:
    """Play runs start..stop-1 in blocks of ``chunk_size`` (runs in a worker process).

    ``design`` holds the design's parameter values for runs start..stop-1 (a sweep).
    """
    compiled = _compiled_for(text, path)
    runs_parts, rounds_parts = [], []
    for block in range(start, stop, chunk_size):
        end = min(block + chunk_size, stop)
        model = play(
            compiled,
            seed,
            np.arange(block, end),
            overrides,
            keep_trajectories=keep_rounds,
            design={k: v[block - start : end - start] for k, v in design.items()}
            if design
            else None,
        )
        runs_table, rounds_table = records_to_tables(model, keep_rounds)
        runs_parts.append(runs_table)
        if rounds_table is not None:
            rounds_parts.append(rounds_table)
    runs = pa.concat_tables(runs_parts)
    rounds = pa.concat_tables(rounds_parts) if rounds_parts else None
    return start, runs, rounds


def _part_paths(parts: Path, start: int) -> tuple[Path, Path]:
    return parts / f"runs-{start:012d}.parquet", parts / f"rounds-{start:012d}.parquet"


def _write_part(parts: Path, start: int, runs: pa.Table, rounds: pa.Table | None) -> None:
    # Parts are temporary: fast lz4; the merged files are zstd.
    runs_path, rounds_path = _part_paths(parts, start)
    if rounds is not None:
        tmp = rounds_path.with_name("." + rounds_path.name)
        pq.write_table(rounds, tmp, compression="lz4")
        os.replace(tmp, rounds_path)
    # The runs part is written last: its presence marks the task as done.
    tmp = runs_path.with_name("." + runs_path.name)
    pq.write_table(runs, tmp, compression="lz4")
    os.replace(tmp, runs_path)


def default_out(compiled: CompiledScenario, base: Path = Path("results")) -> Path:
    """``results/<scenario-id>-<timestamp>``, made unique if needed."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = base / f"{compiled.id}-{stamp}"
    n = 2
    while out.exists():
        out = base / f"{compiled.id}-{stamp}-{n}"
        n += 1
    return out


def _same_batch(
    manifest: dict[str, Any], compiled: CompiledScenario, options: BatchOptions
) -> str | None:
    checks = {
        "scenario sha256": (manifest["scenario"]["sha256"], compiled.sha256),
        "seed": (manifest["seed"], options.seed),
        "runs": (manifest["runs"], options.runs),
        "settings (--set)": (manifest.get("overrides", {}), options.overrides),
        "chunk size": (manifest["chunk_size"], options.chunk_size),
        "design": (manifest.get("design"), options.design.describe() if options.design else None),
        "rounds kept": (manifest["keep_rounds"], options.keep_rounds),
    }
    for what, (before, now) in checks.items():
        if before != now:
            return f"{what} differs ({before} before, {now} now)"
    return None


def run_batch(
    compiled: CompiledScenario,
    out: str | Path | None,
    options: BatchOptions,
    *,
    force: bool = False,
    resume: bool = False,
    progress: Progress | None = None,
) -> Results:
    """Play a batch and write its results folder.

    Args:
        compiled: The scenario.
        out: The results folder (default ``results/<id>-<timestamp>``).
        options: Runs, seed, chunking, executor and settings.
        force: Replace an earlier results folder at ``out``.
        resume: Finish an interrupted batch at ``out`` (same scenario and options).
        progress: Called with (runs done, runs in all) as tasks finish.

    Returns:
        The finished results folder.

    Raises:
        OptionsError: For impossible options.
        ResultsError: If ``out`` would lose data or cannot be resumed.
    """
    options.check()
    executor, workers = options.resolved()
    if executor == "dask" and options.scheduler:
        # Fail before anything is written if the scheduler cannot be reached.
        with open_pool(executor, workers, options.scheduler):
            pass
    folder = Path(out) if out is not None else default_out(compiled)
    parts = folder / ".parts"
    started = time.time()
    created = False
    if resume:
        try:
            previous = Results(folder)
        except ResultsError:
            raise ResultsError(f"{folder}: nothing to resume (no manifest.json)") from None
        if previous.complete:
            raise ResultsError(f"{folder}: the batch already finished; nothing to resume")
        mismatch = _same_batch(previous.manifest, compiled, options)
        if mismatch:
            raise ResultsError(f"{folder}: cannot resume: {mismatch}")
        parts.mkdir(exist_ok=True)
    else:
        created = not folder.exists()
        prepare_folder(folder, force=force)
        parts.mkdir()
    manifest: dict[str, Any] = {
        "format": RESULTS_FORMAT,
        "status": "running",
        "program": {"name": "wargame", "version": __version__},
        "scenario": {
            "id": compiled.id,
            "title": compiled.title,
            "path": compiled.loaded.path,
            "sha256": compiled.sha256,
            "text": compiled.loaded.text,
        },
        "seed": options.seed,
        "runs": options.runs,
        "chunk_size": options.chunk_size,
        "executor": executor,
        "scheduler": options.scheduler,
        "workers": workers,
        "overrides": options.overrides,
        "settings": settings_as_written(compiled, options.overrides),
        "keep_rounds": options.keep_rounds,
        "command_line": options.command_line,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "layout": layout_of(compiled),
    }
    if options.design is not None:
        manifest["design"] = options.design.describe()
    atomic_write_json(folder / "manifest.json", manifest)
    atomic_write_bytes(folder / "scenario.yaml", compiled.loaded.text.encode("utf-8"))

    tasks = task_ranges(options.runs, options.chunk_size)
    todo = [(a, b) for a, b in tasks if not _part_paths(parts, a)[0].exists()]
    done = options.runs - sum(b - a for a, b in todo)
    if progress:
        progress(done, options.runs)
    text, path = compiled.loaded.text, compiled.loaded.path
    design = options.design

    def task(a: int, b: int) -> tuple[Any, ...]:
        """The arguments of play_task for runs a..b-1."""
        block = design.block(a, b) if design else None
        chunk, overrides, rounds_kept = options.chunk_size, options.overrides, options.keep_rounds
        return (text, path, options.seed, a, b, chunk, overrides, rounds_kept, block)

    play_started = time.time()
    try:
        if executor == "inprocess":
            for a, b in todo:
                _, runs, rounds = play_task(*task(a, b))
                _write_part(parts, a, runs, rounds)
                done += b - a
                if progress:
                    progress(done, options.runs)
        else:
            with open_pool(executor, workers, options.scheduler) as (pool, slots):
                pending: set[Future[Any]] = set()
                queue = list(todo)
                sizes = {a: b - a for a, b in todo}
                while queue or pending:
                    # Keep at most two tasks per worker in flight: memory stays flat.
                    while queue and len(pending) < 2 * slots:
                        a, b = queue.pop(0)
                        pending.add(pool.submit(play_task, *task(a, b)))
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        start, runs, rounds = future.result()
                        _write_part(parts, start, runs, rounds)
                        done += sizes[start]
                        if progress:
                            progress(done, options.runs)
    except WargameError:
        # The scenario failed while playing (a NaN, a division by zero): remove what
        # this batch wrote, so no half-written folder is left behind. A resumed batch
        # keeps its earlier parts.
        if not resume:
            _remove_batch_files(folder, created=created)
        raise
    play_seconds = time.time() - play_started

    write_started = time.time()
    merge_parts([_part_paths(parts, a)[0] for a, _ in tasks], folder / "runs.parquet")
    if options.keep_rounds:
        merge_parts([_part_paths(parts, a)[1] for a, _ in tasks], folder / "rounds.parquet")
    for item in parts.iterdir():
        item.unlink()
    parts.rmdir()
    table = pq.read_table(folder / "runs.parquet", columns=_summary_columns(manifest["layout"]))
    summary = summarize(table, manifest)
    atomic_write_json(folder / "summary.json", summary)
    write_seconds = time.time() - write_started

    plot_seconds = 0.0
    if options.plots:
        from sim.plots import make_plots

        plot_started = time.time()
        make_plots(folder, manifest=manifest, summary=summary)
        plot_seconds = time.time() - plot_started
    total = time.time() - started
    manifest["status"] = "complete"
    manifest["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    manifest["timings"] = {
        "play_s": round(play_seconds, 3),
        "write_s": round(write_seconds, 3),
        "plots_s": round(plot_seconds, 3),
        "total_s": round(total, 3),
        "runs_per_s": round(options.runs / play_seconds, 1) if play_seconds > 0 else None,
    }
    atomic_write_json(folder / "manifest.json", manifest)
    return Results(folder)


def _remove_batch_files(folder: Path, *, created: bool) -> None:
    """Remove the files a failed batch wrote (and the folder, if the batch made it)."""
    for name in ("manifest.json", "scenario.yaml"):
        (folder / name).unlink(missing_ok=True)
    shutil.rmtree(folder / ".parts", ignore_errors=True)
    if created and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def _summary_columns(layout: dict[str, Any]) -> list[str]:
    columns = ["ending", "branch_path"]
    columns += [f"branch.{b['id']}" for b in layout["branches"]]
    columns += [f"payoff.{a['id']}" for a in layout["actors"]]
    columns += [f"metric.{m['id']}" for m in layout["metrics"]]
    return columns

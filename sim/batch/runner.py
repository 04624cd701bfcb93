"""Playing a batch: a scenario many times, in tasks, written to a results folder.

:func:`run_batch` goes through five steps, one function each:

1. **prepare the folder**: a new folder (or an earlier batch's, with ``force``), or an
   interrupted batch's to resume; the manifest (status ``running``) and the scenario
   text are written first;
2. **plan the tasks**: runs 0..N-1 cut into contiguous tasks (:mod:`sim.batch.tasks`),
   minus those an interrupted batch already finished;
3. **execute**: the tasks play in-process, in a process pool or on Dask
   (:mod:`sim.batch.executors`); each finished task is written to ``DIR/.parts/`` at
   once, so memory stays flat as runs grow and an interrupted batch resumes;
4. **merge** the parts into ``runs.parquet``, ``rounds.parquet`` and
   ``choices.parquet`` with fixed row groups, so the bytes do not depend on chunk
   size, workers or executor;
5. **finish**: ``summary.json`` written, and the manifest marked complete with its
   timings.

Every random draw depends only on (seed, run, round, site), so the rows are the same
for any chunk size, number of workers and executor. The batch draws no plots: who runs
it asks for them (:func:`sim.api.run_batch`).
"""

from __future__ import annotations

import datetime as dt
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim.batch.executors import check_scheduler, run_tasks
from sim.batch.options import BatchOptions, Progress, settings_as_written
from sim.batch.results import (
    RESULTS_FORMAT,
    Results,
    atomic_write_bytes,
    atomic_write_json,
    merge_parts,
    part_paths,
    prepare_folder,
    write_part,
)
from sim.batch.summary import summarize, summary_columns
from sim.batch.tasks import play_task, task_ranges
from sim.errors import ResultsError, WargameError
from sim.language.compiler import CompiledScenario
from sim.version import __version__

Task = tuple[int, int]


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
        # An actor's actions in order: choices.parquet stores the index into this list.
        "actors": [
            {
                "id": a.id,
                "name": a.name,
                "reasoning": a.reasoning,
                "foresight": a.foresight,
                "actions": [action.id for action in a.actions],
            }
            for a in compiled.actors
        ],
        "stops": any(e.stop for e in compiled.endings),
        "equilibrium": any(a.reasoning == "equilibrium" for a in compiled.actors),
        "branches": [
            {"id": b.id, "round": b.round, "outcomes": [o.id for o in b.outcomes], "text": b.text}
            for b in compiled.branches
        ],
        "endings": [{"id": e.id, "title": e.title} for e in compiled.endings],
        "metrics": [{"id": m.id, "title": m.title, "unit": m.unit} for m in compiled.metrics],
        "commitments": [c.id for c in compiled.commitments],
    }


def default_out(compiled: CompiledScenario, base: Path = Path("results")) -> Path:
    """``results/<scenario-id>-<timestamp>``, made unique if needed."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = base / f"{compiled.id}-{stamp}"
    n = 2
    while out.exists():
        out = base / f"{compiled.id}-{stamp}-{n}"
        n += 1
    return out


def run_batch(
    compiled: CompiledScenario,
    out: str | Path | None,
    options: BatchOptions,
    *,
    force: bool = False,
    resume: bool = False,
    progress: Progress | None = None,
) -> Results:
    """Play a batch and write its results folder (summary included, plots not).

    ``options.plots`` is not read here: :func:`sim.api.run_batch` (``sim.run_batch``)
    runs this and then draws the plots.

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
        check_scheduler(options.scheduler)  # fail before anything is written
    started = time.time()
    folder = Path(out) if out is not None else default_out(compiled)
    created = _prepare_folder(folder, compiled, options, force=force, resume=resume)
    manifest = _start_manifest(folder, compiled, options, executor, workers)
    tasks = task_ranges(options.runs, options.chunk_size)
    todo = _plan(folder, tasks)
    play_started = time.time()
    try:
        _execute(folder, compiled, options, todo, executor, workers, progress)
    except WargameError:
        # The scenario failed while playing (a NaN, a division by zero): remove what
        # this batch wrote, so no half-written folder is left behind. A resumed batch
        # keeps its earlier parts.
        if not resume:
            _remove_batch_files(folder, created=created)
        raise
    play_seconds = time.time() - play_started
    write_started = time.time()
    _merge(folder, tasks, options.keep_rounds)
    summary = _write_summary(folder, manifest)
    if "reasoning" in summary:
        manifest["reasoning"] = summary["reasoning"]
    write_seconds = time.time() - write_started
    _finish(folder, manifest, play_seconds, write_seconds, time.time() - started)
    return Results(folder)


# --------------------------------------------------------------------- 1. prepare folder


def _prepare_folder(
    folder: Path, compiled: CompiledScenario, options: BatchOptions, *, force: bool, resume: bool
) -> bool:
    """Make ``folder`` ready for the batch; True if this batch created the folder.

    Raises:
        ResultsError: If the folder holds someone's data, or cannot be resumed.
    """
    parts = folder / ".parts"
    if not resume:
        created = not folder.exists()
        prepare_folder(folder, force=force)
        parts.mkdir()
        return created
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
    return False


def _same_batch(
    manifest: dict[str, Any], compiled: CompiledScenario, options: BatchOptions
) -> str | None:
    """Why an interrupted batch's manifest does not match this one (None if it does)."""
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


def _start_manifest(
    folder: Path, compiled: CompiledScenario, options: BatchOptions, executor: str, workers: int
) -> dict[str, Any]:
    """Write the manifest (status ``running``) and the scenario text; return the manifest."""
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
    return manifest


# ------------------------------------------------------------------------ 2. plan tasks


def _plan(folder: Path, tasks: list[Task]) -> list[Task]:
    """The tasks still to play: those without a finished part (all, for a new batch)."""
    parts = folder / ".parts"
    return [(a, b) for a, b in tasks if not part_paths(parts, a)[0].exists()]


# --------------------------------------------------------------------------- 3. execute


def _execute(
    folder: Path,
    compiled: CompiledScenario,
    options: BatchOptions,
    todo: list[Task],
    executor: str,
    workers: int,
    progress: Progress | None,
) -> None:
    """Play the tasks in ``todo`` and write each one's part as soon as it finishes."""
    parts = folder / ".parts"
    sizes = {a: b - a for a, b in todo}
    done = options.runs - sum(sizes.values())
    if progress:
        progress(done, options.runs)
    text, path, design = compiled.loaded.text, compiled.loaded.path, options.design

    def arguments(a: int, b: int) -> tuple[Any, ...]:
        """The arguments of play_task for runs a..b-1."""
        block = design.block(a, b) if design else None
        streams = design.stream_keys(a, b) if design else None
        chunk, overrides, rounds_kept = options.chunk_size, options.overrides, options.keep_rounds
        return (text, path, options.seed, a, b, chunk, overrides, rounds_kept, block, streams)

    def finished(result: tuple[int, pa.Table, pa.Table | None, pa.Table | None]) -> None:
        nonlocal done
        start, runs, rounds, choices = result
        write_part(parts, start, runs, rounds, choices)
        done += sizes[start]
        if progress:
            progress(done, options.runs)

    run_tasks(
        play_task,
        (arguments(a, b) for a, b in todo),
        finished,
        executor=executor,
        workers=workers,
        scheduler=options.scheduler,
    )


def _remove_batch_files(folder: Path, *, created: bool) -> None:
    """Remove the files a failed batch wrote (and the folder, if the batch made it)."""
    for name in ("manifest.json", "scenario.yaml"):
        (folder / name).unlink(missing_ok=True)
    shutil.rmtree(folder / ".parts", ignore_errors=True)
    if created and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


# ----------------------------------------------------------------------------- 4. merge


def _merge(folder: Path, tasks: list[Task], keep_rounds: bool) -> None:
    """Merge every task's parts into runs.parquet (and rounds, choices); drop the parts."""
    parts = folder / ".parts"
    merge_parts([part_paths(parts, a)[0] for a, _ in tasks], folder / "runs.parquet")
    if keep_rounds:
        merge_parts([part_paths(parts, a)[1] for a, _ in tasks], folder / "rounds.parquet")
        merge_parts([part_paths(parts, a)[2] for a, _ in tasks], folder / "choices.parquet")
    for item in parts.iterdir():
        item.unlink()
    parts.rmdir()


# ---------------------------------------------------------------------------- 5. finish


def _write_summary(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Summarise runs.parquet into summary.json (probabilities, intervals, payoffs)."""
    columns = summary_columns(manifest["layout"])
    summary = summarize(pq.read_table(folder / "runs.parquet", columns=columns), manifest)
    atomic_write_json(folder / "summary.json", summary)
    return summary


def _finish(
    folder: Path,
    manifest: dict[str, Any],
    play_seconds: float,
    write_seconds: float,
    total_seconds: float,
) -> None:
    """Mark the manifest complete, with the batch's timings."""
    manifest["status"] = "complete"
    manifest["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    runs = manifest["runs"]
    manifest["timings"] = {
        "play_s": round(play_seconds, 3),
        "write_s": round(write_seconds, 3),
        "total_s": round(total_seconds, 3),
        "runs_per_s": round(runs / play_seconds, 1) if play_seconds > 0 else None,
    }
    atomic_write_json(folder / "manifest.json", manifest)

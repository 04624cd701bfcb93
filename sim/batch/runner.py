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
   timings; only then are the parts removed.

The manifest records each file's sha256 as it is written (and seals itself with a
checksum, :mod:`sim.batch.manifest`), so a batch interrupted in any step resumes
(``resume=True``) by redoing only what is missing: the tasks without a part, the merge
unless its files are recorded, the summary unless it is. A temporary file a killed
writer left (``.runs.parquet.tmp-PID``) is removed first.

Every random draw depends only on (seed, run, round, site), so the rows are the same
for any chunk size, number of workers and executor. The batch draws no plots: who runs
it asks for them (:func:`sim.api.run_batch`).
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa

from sim.batch.executors import check_scheduler, run_tasks
from sim.batch.manifest import RESULTS_FORMAT, file_record, write_manifest
from sim.batch.options import BatchOptions, Progress, settings_as_written
from sim.batch.outputs import (
    TEMPORARY,
    drop_replaced,
    prepare_results_folder,
    restore_replaced,
)
from sim.batch.results import (
    Results,
    atomic_write_bytes,
    atomic_write_json,
    merge_parts,
    part_paths,
    release_memory,
    write_part,
)
from sim.batch.summary import summarize_file
from sim.batch.tasks import play_task, play_task_into, share_compiled, task_ranges
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


class BatchFinishedError(ResultsError):
    """``--resume`` of a batch that already finished (nothing left to play or write).

    Attributes:
        results: The finished batch: whoever resumes may still draw its plots.
    """

    def __init__(self, results: Results):
        super().__init__(f"{results.folder}: the batch already finished; nothing to resume")
        self.results = results


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

    A resumed batch redoes only what is missing: the tasks without a part, then the
    merge unless ``runs.parquet`` (and ``rounds.parquet``) were already written and
    recorded, then the summary unless it was recorded. The parts are removed only once
    the manifest says the batch is complete.

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
        BatchFinishedError: On ``resume`` of a batch that already finished.
    """
    options.check()
    executor, workers = options.resolved()
    if executor == "dask" and options.scheduler:
        check_scheduler(options.scheduler)  # fail before anything is written
    started = time.time()
    folder = Path(out) if out is not None else default_out(compiled)
    created, earlier = _prepare_folder(folder, compiled, options, force=force, resume=resume)
    manifest = _start_manifest(folder, compiled, options, executor, workers, earlier)
    tasks = task_ranges(options.runs, options.chunk_size)
    merged = _merged(folder, manifest, options.keep_rounds)
    todo = [] if merged else _plan(folder, tasks)
    play_started = time.time()
    try:
        _execute(folder, compiled, options, todo, executor, workers, progress)
    except WargameError:
        # The scenario failed while playing (a NaN, a division by zero): remove what
        # this batch wrote, so no half-written folder is left behind. A resumed batch
        # keeps its earlier parts.
        if not resume:
            _remove_batch_files(folder, created=created)
            restore_replaced(folder)
        raise
    played = sum(b - a for a, b in todo)
    _record_play(folder, manifest, played, time.time() - play_started)
    write_started = time.time()
    if not merged:
        _merge(folder, tasks, manifest, options.keep_rounds)
    summary = _write_summary(folder, manifest)
    if "reasoning" in summary:
        manifest["reasoning"] = summary["reasoning"]
    write_seconds = time.time() - write_started
    _finish(folder, manifest, write_seconds, time.time() - started)
    drop_replaced(folder)
    return Results(folder)


# --------------------------------------------------------------------- 1. prepare folder


def _prepare_folder(
    folder: Path, compiled: CompiledScenario, options: BatchOptions, *, force: bool, resume: bool
) -> tuple[bool, dict[str, Any] | None]:
    """Make ``folder`` ready for the batch.

    Returns:
        Whether this batch created the folder, and the interrupted batch's manifest
        when resuming.

    Raises:
        ResultsError: If the folder holds someone's data, or cannot be resumed.
        BatchFinishedError: If the batch to resume already finished.
    """
    parts = folder / ".parts"
    if not resume:
        created = prepare_results_folder(folder, force=force)
        parts.mkdir()
        return created, None
    if not (folder / "manifest.json").is_file():
        raise ResultsError(f"{folder}: nothing to resume (no manifest.json)")
    previous = Results(folder)
    mismatch = _same_batch(previous.manifest, compiled, options)
    if mismatch:
        raise ResultsError(f"{folder}: cannot resume: {mismatch}")
    _remove_temporary_files(folder)
    if previous.complete:
        shutil.rmtree(parts, ignore_errors=True)  # a kill after the last write
        raise BatchFinishedError(previous)
    parts.mkdir(exist_ok=True)
    return False, previous.manifest


def _remove_temporary_files(folder: Path) -> None:
    """Remove what a killed writer left: ``.NAME.tmp-PID`` files and half-written parts."""
    for directory in (folder, folder / ".parts"):
        if not directory.is_dir():
            continue
        for path in directory.iterdir():
            half_part = directory.name == ".parts" and path.name.startswith(".")
            if path.is_file() and (TEMPORARY.match(path.name) or half_part):
                path.unlink()


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
    folder: Path,
    compiled: CompiledScenario,
    options: BatchOptions,
    executor: str,
    workers: int,
    earlier: dict[str, Any] | None,
) -> dict[str, Any]:
    """Write the manifest (status ``running``) and the scenario text; return the manifest.

    A resumed batch keeps what the interrupted one recorded: when it started, the
    files it already wrote and the runs it played.
    """
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
        "files": {},
    }
    if options.design is not None:
        manifest["design"] = options.design.describe()
    if earlier is not None:
        manifest["started"] = earlier["started"]
        manifest["files"] = dict(earlier.get("files", {}))
        if "played" in earlier:
            manifest["played"] = earlier["played"]
    scenario_path = folder / "scenario.yaml"
    atomic_write_bytes(scenario_path, compiled.loaded.text.encode("utf-8"))
    manifest["files"]["scenario.yaml"] = file_record(scenario_path)
    write_manifest(folder, manifest)
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

    def finished(result: tuple[int, pa.Table | None, pa.Table | None, pa.Table | None]) -> None:
        nonlocal done
        start, runs, rounds, choices = result
        if runs is not None:  # a local worker wrote its part itself
            write_part(parts, start, runs, rounds, choices)
        done += sizes[start]
        if progress:
            progress(done, options.runs)

    if executor == "inprocess":
        share_compiled(compiled)
    local = executor == "process"
    run_tasks(
        play_task_into if local else play_task,
        (((str(parts),) if local else ()) + arguments(a, b) for a, b in todo),
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


def _merged(folder: Path, manifest: dict[str, Any], keep_rounds: bool) -> bool:
    """Whether an interrupted batch already merged its parts (files written and recorded)."""
    names = ["runs.parquet", *(["rounds.parquet", "choices.parquet"] if keep_rounds else [])]
    for name in names:
        record = manifest["files"].get(name)
        path = folder / name
        if record is None or not path.is_file() or file_record(path) != record:
            return False
    return True


def _merge(folder: Path, tasks: list[Task], manifest: dict[str, Any], keep_rounds: bool) -> None:
    """Merge every task's parts into runs.parquet (and rounds, choices) and record them.

    The parts stay until the batch is complete, so a kill from here on never costs the
    play again.
    """
    parts = folder / ".parts"
    missing = [a for a, _ in tasks if not part_paths(parts, a)[0].is_file()]
    if missing:
        raise ResultsError(
            f"{folder}: cannot merge: the part of runs {missing[0]}.. is missing; "
            "resume the batch with --resume"
        )
    for name in ("runs.parquet", "rounds.parquet", "choices.parquet", "summary.json"):
        manifest["files"].pop(name, None)
    files = ["runs.parquet", *(["rounds.parquet", "choices.parquet"] if keep_rounds else [])]

    def merge(k: int) -> None:
        merge_parts([part_paths(parts, a)[k] for a, _ in tasks], folder / files[k])

    if len(files) == 1:
        merge(0)
    else:
        # The files are independent and Arrow works outside the GIL: on two cores the
        # runs and the rounds are merged side by side (the choices are small). Each
        # file's bytes are what merging it alone writes.
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="wargame-merge") as merging:
            for done in [merging.submit(merge, k) for k in range(len(files))]:
                done.result()
    for name in files:
        manifest["files"][name] = file_record(folder / name)
    write_manifest(folder, manifest)
    release_memory()


# ---------------------------------------------------------------------------- 5. finish


def _record_play(folder: Path, manifest: dict[str, Any], runs: int, seconds: float) -> None:
    """Add this session's playing to the manifest (a resumed batch plays in several)."""
    played = manifest.setdefault("played", {"runs": 0, "seconds": 0.0})
    played["runs"] += runs
    played["seconds"] = round(played["seconds"] + seconds, 3)
    write_manifest(folder, manifest)


def _write_summary(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Summarise runs.parquet into summary.json (probabilities, intervals, payoffs).

    An interrupted batch that already wrote and recorded it reads it back.
    """
    path = folder / "summary.json"
    record = manifest["files"].get("summary.json")
    if record is not None and path.is_file() and file_record(path) == record:
        return json.loads(path.read_text("utf-8"))
    summary = summarize_file(folder / "runs.parquet", manifest)
    release_memory()
    atomic_write_json(path, summary)
    manifest["files"]["summary.json"] = file_record(path)
    write_manifest(folder, manifest)
    return summary


def _finish(
    folder: Path,
    manifest: dict[str, Any],
    write_seconds: float,
    total_seconds: float,
) -> None:
    """Mark the manifest complete, with the batch's timings; then drop the parts."""
    manifest["status"] = "complete"
    manifest["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    played = manifest["played"]
    manifest["timings"] = {
        "play_s": played["seconds"],
        "write_s": round(write_seconds, 3),
        "total_s": round(total_seconds, 3),
        # Runs played over the time spent playing them, in every session of the batch.
        "runs_per_s": round(played["runs"] / played["seconds"], 1)
        if played["runs"] and played["seconds"] > 0
        else None,
    }
    write_manifest(folder, manifest)
    shutil.rmtree(folder / ".parts", ignore_errors=True)

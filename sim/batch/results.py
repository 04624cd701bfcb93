"""The results folder: a self-describing record of one batch.

::

    DIR/
      manifest.json    what was run: scenario (id, sha256, full text), seed, runs,
                       settings, program version, command line, executor, timings
      scenario.yaml    the scenario text exactly as run
      runs.parquet     one row per run: run, param.*, branch.<id> (the outcome; ""
                       where the branch was never reached), branch_round.<id> (the
                       round it resolved in, from 1; 0 where never reached),
                       branch_path, ending, metric.* (final values), payoff.*
                       (totals), rounds_played, unconverged_rounds, commitment.*
      rounds.parquet   one row per (run, round): metric.* every round (if kept)
      choices.parquet  one row per (run, round): choice.<actor>, the index of the
                       action each actor chose (layout.actors[].actions; -1: none)
                       (if kept)
      summary.json     branch and ending probabilities with 95% intervals, payoffs
      plots/           PNG charts

Files are written to a temporary name and renamed into place, so a reader never sees a
half-written file. While a batch runs, finished chunks wait in ``DIR/.parts/`` and the
manifest says ``"status": "running"``; an interrupted batch resumes from them. The
manifest records the sha256 of every file the batch wrote and a checksum of itself;
:class:`Results` checks them before anything is read (:mod:`sim.batch.manifest`), and
:mod:`sim.batch.outputs` says where commands may write.
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc
import pyarrow.parquet as pq

from sim.batch.manifest import file_sha256, read_manifest, write_manifest
from sim.errors import ResultsError, WargameWarning


def use_system_allocator() -> None:
    """Let Arrow allocate with the system allocator, which gives freed memory back.

    pyarrow's default pool (mimalloc) keeps freed memory for reuse, so after a million
    runs have been read batch by batch the process keeps its peak for the rest of the
    command. With the system allocator memory stays flat as runs grow. A pool chosen by
    the user (``ARROW_DEFAULT_MEMORY_POOL``) is kept. The CLI sets that variable before
    Arrow starts, which also covers Arrow's own C++ readers and the worker processes.
    """
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        pa.set_memory_pool(pa.system_memory_pool())


use_system_allocator()


def release_memory() -> None:
    """Give memory freed by a finished step back to the system.

    Arrow's pool and the C allocator both keep freed memory for reuse; between the
    steps of a batch (a task, the merge, the summary, a chart) that is memory the next
    step may not need, and it would make a long batch look like it grows.
    """
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return None


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file under a temporary name, then rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_json(path: Path, value: Any) -> None:
    """Write JSON atomically (UTF-8, indented, keys in insertion order)."""
    atomic_write_bytes(path, (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode())


def part_paths(parts: Path, start: int) -> tuple[Path, Path, Path]:
    """The runs, rounds and choices part files of the task that starts at run ``start``.

    Parts are Arrow IPC files (``.arrow``): a part is written while the workers play and
    read once by the merge, and IPC costs a tenth of Parquet to write (4 ms against 66 ms
    for a 10,000-run task of alaska), CPU the workers would otherwise lose.
    """
    return (
        parts / f"runs-{start:012d}.arrow",
        parts / f"rounds-{start:012d}.arrow",
        parts / f"choices-{start:012d}.arrow",
    )


def write_part(
    parts: Path,
    start: int,
    runs: pa.Table,
    rounds: pa.Table | None,
    choices: pa.Table | None = None,
) -> None:
    """Write one finished task's tables into ``parts``; the runs part marks it done."""
    # Parts are temporary: Arrow IPC with lz4; the merged files are Parquet with zstd.
    runs_path, rounds_path, choices_path = part_paths(parts, start)
    for table, path in ((rounds, rounds_path), (choices, choices_path)):
        if table is not None:
            tmp = path.with_name("." + path.name)
            _write_ipc(table, tmp)
            os.replace(tmp, path)
    # The runs part is written last: its presence marks the task as done.
    tmp = runs_path.with_name("." + runs_path.name)
    _write_ipc(runs, tmp)
    os.replace(tmp, runs_path)


def _write_ipc(table: pa.Table, path: Path) -> None:
    # pyarrow.feather.write_feather would ask whether the table is a pandas DataFrame,
    # and that imports pandas (0.2 s): the IPC file writer is the same format without.
    options = pa.ipc.IpcWriteOptions(compression="lz4")
    with (
        pa.OSFile(str(path), "wb") as sink,
        pa.ipc.new_file(sink, table.schema, options=options) as writer,
    ):
        writer.write_table(table)


def read_part(path: Path) -> pa.Table:
    """A part written by :func:`write_part` (Arrow IPC), or a Parquet file of rows."""
    if path.suffix == ".arrow":
        with pa.OSFile(str(path), "rb") as source:
            return pa.ipc.open_file(source).read_all()
    return pq.read_table(path)


def write_parquet(path: Path, table: pa.Table, row_group_size: int = 65536) -> None:
    """Write a Parquet file atomically."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        pq.write_table(table, tmp, row_group_size=row_group_size, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def merge_parts(parts: list[Path], target: Path, row_group_size: int = 65536) -> int:
    """Concatenate parts (Arrow IPC or Parquet) in order into one file with fixed-size row groups.

    Row groups are cut every ``row_group_size`` rows whatever the parts' sizes, so the
    file's bytes do not depend on how the batch was chunked. Memory holds at most one
    row group plus one part.

    Returns:
        The number of rows written.
    """
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    writer = None
    pending: list[pa.Table] = []
    pending_rows = 0
    rows = 0
    try:
        for part in parts:
            table = read_part(part)
            pending.append(table)
            pending_rows += table.num_rows
            while pending_rows >= row_group_size:
                combined = pa.concat_tables(pending)
                head, tail = combined.slice(0, row_group_size), combined.slice(row_group_size)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, head.schema, compression="zstd")
                writer.write_table(head, row_group_size=row_group_size)
                rows += head.num_rows
                pending, pending_rows = [tail], tail.num_rows
        if pending_rows or writer is None:
            combined = pa.concat_tables(pending) if pending else None
            if combined is not None:
                if writer is None:
                    writer = pq.ParquetWriter(tmp, combined.schema, compression="zstd")
                writer.write_table(combined, row_group_size=row_group_size)
                rows += combined.num_rows
    except BaseException:
        # Interrupted or failed: leave no half-written temporary file behind.
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
        raise
    if writer is not None:
        writer.close()
    os.replace(tmp, target)
    return rows


class Results:
    """A results folder, checked before anything is read from it.

    Opening one checks the manifest (its schema and checksum, see
    :mod:`sim.batch.manifest`) and, for a finished batch, that ``scenario.yaml`` and
    ``runs.parquet`` are the files the batch wrote (size and sha256); ``rounds.parquet``
    is checked the first time it is read. ``summary.json`` is derived data: when it is
    missing or not the file the batch wrote, the summary is recomputed from
    ``runs.parquet`` and a :class:`~sim.errors.WargameWarning` says so.

    Args:
        folder: The results folder.

    Raises:
        ResultsError: If the folder is not a results folder, or is damaged (one line).
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.manifest: dict[str, Any] = read_manifest(self.folder)
        self._checked: set[str] = set()
        self._summary: dict[str, Any] | None = None
        if self.complete:
            self.check_file("scenario.yaml")
            self.check_file("runs.parquet")

    @property
    def complete(self) -> bool:
        """Whether the batch finished."""
        return self.manifest.get("status") == "complete"

    def check_file(self, name: str) -> Path:
        """Check that a file is the one the batch wrote (size and sha256); return its path.

        Raises:
            ResultsError: If it is missing, or not the file the manifest vouches for.
        """
        path = self.folder / name
        if name in self._checked:
            return path
        record = self.manifest.get("files", {}).get(name)
        if record is None:
            raise ResultsError(f"{self.folder}: damaged results folder: no checksum of {name}")
        damaged = f"{self.folder}: damaged results folder: {name}"
        if not path.is_file():
            raise ResultsError(f"{damaged} is missing (the batch wrote it)")
        size = path.stat().st_size
        if size != record["bytes"]:
            raise ResultsError(
                f"{damaged} is not the file the batch wrote ({size:,} bytes, not "
                f"{record['bytes']:,})"
            )
        if file_sha256(path) != record["sha256"]:
            raise ResultsError(
                f"{damaged} is not the file the batch wrote (its sha256 differs from the "
                "manifest's: edited, corrupted or copied from another batch)"
            )
        self._checked.add(name)
        return path

    def _require_complete(self) -> None:
        if not self.complete:
            raise ResultsError(
                f"{self.folder}: the batch did not finish; resume it with "
                f"`wargame run ... --out {self.folder} --resume`"
            )

    def runs_table(self, columns: list[str] | None = None) -> pa.Table:
        """The runs as a pyarrow Table (optionally only some columns)."""
        self._require_complete()
        path = self.check_file("runs.parquet")
        try:
            from sim.batch.summary import read_columns

            return read_columns(path, columns)
        except (OSError, pa.ArrowException) as exc:
            raise ResultsError(f"{path}: cannot read ({exc})") from None

    def runs(self, columns: list[str] | None = None) -> Any:
        """The runs as a pandas DataFrame, one row per run."""
        return self.runs_table(columns).to_pandas()

    def rounds_path(self) -> Path:
        """The checked ``rounds.parquet``.

        Raises:
            ResultsError: If the batch kept no trajectories, or the file is damaged.
        """
        self._require_complete()
        if not self.manifest.get("keep_rounds"):
            raise ResultsError(f"{self.folder}: no rounds.parquet (run without --no-rounds)")
        return self.check_file("rounds.parquet")

    def rounds(self, columns: list[str] | None = None) -> Any:
        """The per-round metric trajectories as a pandas DataFrame (run, round, metric.*).

        Raises:
            ResultsError: If the batch was run without keeping trajectories.
        """
        path = self.rounds_path()
        try:
            return pq.read_table(path, columns=columns).to_pandas()
        except (OSError, pa.ArrowException) as exc:
            raise ResultsError(f"{path}: cannot read ({exc})") from None

    def choices_path(self) -> Path:
        """The checked ``choices.parquet``.

        Raises:
            ResultsError: If the batch kept no choices (``--no-rounds``), or the file is
                damaged.
        """
        self._require_complete()
        if not self.manifest.get("keep_rounds"):
            raise ResultsError(
                f"{self.folder}: no choices.parquet (the batch was run with --no-rounds)"
            )
        return self.check_file("choices.parquet")

    def choices(self, columns: list[str] | None = None) -> Any:
        """Each actor's choice in each round as a pandas DataFrame (run, round, choice.*).

        ``choice.<actor>`` is the index of the action in ``layout["actors"][i]["actions"]``
        (-1: no choice, e.g. after the run stopped).

        Raises:
            ResultsError: If the batch kept no choices (``--no-rounds``, or an older batch).
        """
        path = self.choices_path()
        try:
            return pq.read_table(path, columns=columns).to_pandas()
        except (OSError, pa.ArrowException) as exc:
            raise ResultsError(f"{path}: cannot read ({exc})") from None

    @property
    def summary(self) -> dict[str, Any]:
        """The batch summary: summary.json, or recomputed (with a warning) if it is damaged."""
        self._require_complete()
        if self._summary is None:
            self._summary = self._read_summary()
        return self._summary

    def _read_summary(self) -> dict[str, Any]:
        path = self.folder / "summary.json"
        record = self.manifest["files"]["summary.json"]
        problem = None
        if not path.is_file():
            problem = "is missing"
        elif path.stat().st_size != record["bytes"] or file_sha256(path) != record["sha256"]:
            problem = "is not the file the batch wrote (edited or truncated)"
        else:
            try:
                return json.loads(path.read_text("utf-8"))
            except (OSError, ValueError):  # pragma: no cover - the hash matched
                problem = "cannot be read"
        from sim.batch.summary import summarize_file

        warnings.warn(
            WargameWarning(f"{path}: {problem}; using a summary recomputed from runs.parquet"),
            stacklevel=3,
        )
        return summarize_file(self.check_file("runs.parquet"), self.manifest)

    def add_timing(self, step: str, seconds: float) -> None:
        """Record the time of a step run on the finished batch (e.g. drawing its plots).

        The manifest's ``timings`` gain ``<step>_s`` and ``total_s`` grows by it, so the
        time a user waited for a command is still the total.
        """
        timings = self.manifest.setdefault("timings", {})
        timings[f"{step}_s"] = round(seconds, 3)
        timings["total_s"] = round(timings.get("total_s", 0.0) + seconds, 3)
        write_manifest(self.folder, self.manifest)

    @property
    def layout(self) -> dict[str, Any]:
        """The scenario's structure: actors, branches, endings, metrics, parameters."""
        return self.manifest["layout"]

    @property
    def scenario_text(self) -> str:
        """The exact scenario text the batch ran."""
        return self.manifest["scenario"]["text"]


def load_results(folder: str | Path) -> Results:
    """Open a results folder (see :class:`Results`)."""
    return Results(folder)

"""A task: runs start..stop-1 of a batch, played in blocks, as two Arrow tables.

A batch's runs 0..N-1 are cut into *tasks* (contiguous ranges of whole chunks); a task
is played in blocks of ``chunk_size`` runs by one
:class:`~sim.engine.model.WargameModel` per block. :func:`play_task` is what an
executor sends to a worker: a pure function of (scenario text, seed, run range,
settings), importable by name, so a process pool or a Dask worker unpickles it and
returns the same rows as the calling process would.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from sim.batch.options import MIN_TASK_RUNS
from sim.batch.results import release_memory, use_system_allocator, write_part
from sim.engine.model import play
from sim.language.compiler import CompiledScenario, compile_text


def task_ranges(runs: int, chunk_size: int) -> list[tuple[int, int]]:
    """Cut runs 0..runs-1 into contiguous tasks of whole chunks."""
    per_task = (
        chunk_size * max(1, -(-MIN_TASK_RUNS // chunk_size))
        if chunk_size < MIN_TASK_RUNS
        else chunk_size
    )
    return [(start, min(start + per_task, runs)) for start in range(0, runs, per_task)]


def arrow_column(values: np.ndarray) -> pa.Array:
    """One column of results as an Arrow array, built without ``pa.array``.

    ``pa.array`` asks whether a numpy array is a pandas object, and that imports pandas
    (0.2 to 0.4 s, in the batch's process and in every worker) though nothing here uses
    it. Numbers are wrapped from their buffer; strings (an object array of a few
    distinct labels) are a dictionary of their labels cast to plain strings. The arrays
    are equal to ``pa.array``'s, so the files are the same bytes.

    Args:
        values: A one-dimensional numpy array of numbers, or of ``str`` (object dtype).
    """
    if values.dtype == object and len(values):
        labels: dict[str, int] = {}
        codes = np.fromiter(
            (labels.setdefault(v, len(labels)) for v in values), dtype=np.int32, count=len(values)
        )
        if not all(type(label) is str for label in labels):
            return pa.array(values)
        data = [label.encode() for label in labels]
        offsets = np.zeros(len(data) + 1, dtype=np.int32)
        offsets[1:] = np.cumsum([len(d) for d in data])
        dictionary = pa.Array.from_buffers(
            pa.string(), len(data), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))]
        )
        indices = pa.Array.from_buffers(pa.int32(), len(codes), [None, pa.py_buffer(codes)])
        return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())
    if values.dtype.kind in "iuf":
        values = np.ascontiguousarray(values)
        kind = pa.from_numpy_dtype(values.dtype)
        return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])
    return pa.array(values)


def records_to_tables(
    model: Any, keep_rounds: bool
) -> tuple[pa.Table, pa.Table | None, pa.Table | None]:
    """Turn a finished model's records into the runs, rounds and choices tables.

    The choices table has one row per run and round (rounds 1 to the last): ``run``,
    ``round`` and one integer column ``choice.<actor>`` per actor, the index of the
    action chosen in the actor's list of actions (the manifest's layout lists them),
    -1 where it chose nothing (no open action, or the run had stopped).
    """
    columns = model.records()
    runs = pa.table({k: arrow_column(np.asarray(v)) for k, v in columns.items()})
    if not keep_rounds:
        return runs, None, None
    compiled = model.compiled
    rounds = compiled.rounds + 1
    size = model.size
    data: dict[str, Any] = {
        "run": np.repeat(model.ctx.runs, rounds),
        "round": np.tile(np.arange(rounds, dtype=np.int16), size),
    }
    for m, metric in enumerate(compiled.metrics):
        data[f"metric.{metric.id}"] = model.trajectories[m].T.reshape(-1).astype(np.float32)
    played = compiled.rounds
    choices: dict[str, Any] = {
        "run": np.repeat(model.ctx.runs, played),
        "round": np.tile(np.arange(1, played + 1, dtype=np.int16), size),
    }
    for a, actor in enumerate(compiled.actors):
        choices[f"choice.{actor.id}"] = model.choices[a].T.reshape(-1)
    return (
        runs,
        pa.table({k: arrow_column(v) for k, v in data.items()}),
        pa.table({k: arrow_column(v) for k, v in choices.items()}),
    )


# A worker (which imports this module, not the results folder's) allocates the same way.
use_system_allocator()

_COMPILED: dict[str, CompiledScenario] = {}


def share_compiled(compiled: CompiledScenario) -> None:
    """Let tasks played in this process use ``compiled`` rather than compile its text.

    The batch's own process already compiled the text it sends with each task; an
    in-process task would compile it again (a fifth of a second for alaska).

    Args:
        compiled: The batch's scenario, compiled from ``compiled.loaded.text``.
    """
    _COMPILED.clear()
    _COMPILED[f"{compiled.loaded.path}\0{compiled.loaded.text}"] = compiled


def _compiled_for(text: str, path: str) -> CompiledScenario:
    # A worker plays many tasks of one batch: compile the text once. Only compiled, not
    # linted: dead-lever warnings were shown when the batch was started.
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
    streams: np.ndarray | None = None,
) -> tuple[int, pa.Table, pa.Table | None, pa.Table | None]:
    """Play runs start..stop-1 in blocks of ``chunk_size`` (runs in a worker process).

    ``design`` holds the design's parameter values for runs start..stop-1 (a sweep),
    ``streams`` the key of each run's random streams (default: the run index; a Sobol
    sweep shares one key among the rows of a base sample).

    Returns:
        (start, runs table, rounds table, choices table); the last two are ``None``
        without ``keep_rounds``.
    """
    compiled = _compiled_for(text, path)
    runs_parts, rounds_parts, choices_parts = [], [], []
    for block in range(start, stop, chunk_size):
        end = min(block + chunk_size, stop)
        here = slice(block - start, end - start)
        model = play(
            compiled,
            seed,
            np.arange(block, end),
            overrides,
            keep_trajectories=keep_rounds,
            design={k: v[here] for k, v in design.items()} if design else None,
            streams=None if streams is None else streams[here],
        )
        runs_table, rounds_table, choices_table = records_to_tables(model, keep_rounds)
        runs_parts.append(runs_table)
        if rounds_table is not None and choices_table is not None:
            rounds_parts.append(rounds_table)
            choices_parts.append(choices_table)
        del model
    runs = pa.concat_tables(runs_parts)
    rounds = pa.concat_tables(rounds_parts) if rounds_parts else None
    choices = pa.concat_tables(choices_parts) if choices_parts else None
    # A finished model is a web of reference cycles holding large arrays: collect it
    # now rather than when the collector next runs, so a worker's memory stays flat.
    gc.collect()
    release_memory()
    return start, runs, rounds, choices


def play_task_into(
    parts: str, *arguments: Any
) -> tuple[int, pa.Table | None, pa.Table | None, pa.Table | None]:
    """Play a task as :func:`play_task` does and write its part into ``parts`` here.

    What a local process pool sends its workers: the worker writes the part itself
    (4 to 20 ms) instead of pickling the tables back through a pipe for the batch's
    process to write (about 50 ms of the worker's time and 30 ms of the batch's process
    for 10,000 runs of alaska, both taken from playing). A Dask worker, perhaps on
    another machine, returns the tables instead.

    Args:
        parts: The batch's ``.parts`` folder (on this machine).
        *arguments: :func:`play_task`'s arguments.

    Returns:
        (start, None, None, None): the part is on disk.
    """
    start, runs, rounds, choices = play_task(*arguments)
    write_part(Path(parts), start, runs, rounds, choices)
    del runs, rounds, choices
    release_memory()
    return start, None, None, None

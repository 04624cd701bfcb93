"""Paired batches in memory: the same runs of a scenario under several ``--set`` variants.

Every draw depends only on (seed, run, round, site), so runs 0..M-1 played at one seed
with ``aid_cut = 0.2`` and again with ``aid_cut = 0.5`` share all their random numbers
(common random numbers): run k differs between the two only because of the setting. A
difference measured run by run is then far more precise than between two independent
batches. :func:`play_variants` plays such a family of batches without writing a
results folder (``wargame explain --measure`` uses it to measure each parameter's
effect) and returns only the columns asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from sim.batch.executors import run_tasks
from sim.batch.options import DEFAULT_CHUNK_SIZE, Progress
from sim.batch.tasks import play_task, task_ranges


def play_variants(
    text: str,
    path: str,
    seed: int,
    runs: int,
    variants: Sequence[dict[str, float]],
    *,
    columns: Sequence[str] | None = None,
    keep_rounds: bool = False,
    workers: int = 1,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Progress | None = None,
) -> list[tuple[pa.Table, pa.Table | None]]:
    """Play runs 0..runs-1 of a scenario once per variant of its settings.

    Args:
        text: The scenario text.
        path: Its path (for messages).
        seed: The seed shared by every variant.
        runs: Runs per variant.
        variants: The ``--set`` values of each variant (numbers; a category's index).
        columns: The runs-table columns to keep (default: all).
        keep_rounds: Also return each variant's rounds table.
        workers: Worker processes (1: in this process).
        chunk_size: Runs per model block.
        progress: Called with (runs played, runs in all, over every variant) as tasks
            finish.

    Returns:
        (runs table, rounds table or ``None``) per variant, in order, rows in run order.
    """
    ranges = task_ranges(runs, chunk_size)
    arguments: list[tuple[Any, ...]] = [
        (v, text, path, seed, start, stop, chunk_size, dict(overrides), keep_rounds)
        for v, overrides in enumerate(variants)
        for start, stop in ranges
    ]
    found: dict[int, dict[int, tuple[pa.Table, pa.Table | None]]] = {}
    total = runs * len(variants)
    done = 0
    if progress:
        progress(0, total)

    def finished(result: tuple[int, int, pa.Table, pa.Table | None]) -> None:
        nonlocal done
        variant, start, table, rounds = result
        if columns is not None:
            table = table.select(list(columns))
        found.setdefault(variant, {})[start] = (table, rounds)
        done += table.num_rows
        if progress:
            progress(done, total)

    run_tasks(
        play_variant_task,
        arguments,
        finished,
        executor="process" if workers > 1 else "inprocess",
        workers=max(1, workers),
    )
    results = []
    for v in range(len(variants)):
        parts = [found[v][start] for start, _ in ranges]
        tables = pa.concat_tables([p[0] for p in parts])
        rounds = [p[1] for p in parts if p[1] is not None]
        results.append((tables, pa.concat_tables(rounds) if rounds else None))
    return results


def play_variant_task(variant: int, *arguments: Any) -> tuple[int, int, pa.Table, pa.Table | None]:
    """Play one task of one variant (runs in a worker; see :func:`play_task`)."""
    start, runs, rounds, _ = play_task(*arguments)
    return variant, start, runs, rounds

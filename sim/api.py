"""The public Python API where it spans layers: play a batch, then draw its plots.

A batch (:mod:`sim.batch`) writes its results folder and summary and stops there; the
charts belong to analysis (:mod:`sim.analysis.plots`), which sits above it. Whoever runs
a batch asks for them, and for the Python API and the CLI that is this module:
:func:`run_batch` and :func:`sweep` are the batch layer's functions followed by
:func:`draw_plots` when the options ask for plots. ``sim.run_batch`` and ``sim.sweep``
are these.

May import every layer below it; only ``cli.py`` is above.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from sim.analysis.plotworker import draw_part
from sim.batch import runner
from sim.batch import sweep as sweeps
from sim.batch.options import DEFAULT_CHUNK_SIZE, BatchOptions, Progress
from sim.batch.outputs import MAX_FAN_METRICS, check_group_by
from sim.batch.results import Results
from sim.language.compiler import CompiledScenario

#: A batch of at least this many runs draws its charts in two worker processes that
#: start (and import matplotlib) while it plays; smaller ones draw them here.
PARALLEL_PLOTS_RUNS = 5_000
#: The other charts (endings, branch tree, payoffs) take about as long to draw as this
#: many fan charts: the two workers share the work by it (see :func:`plot_shares`).
_OTHER_CHARTS_AS_FANS = 3.5
#: Processes drawing a big batch's charts.
_PLOT_WORKERS = 2
#: What the plot workers' forkserver imports: the charts and what the workers are
#: handed (:func:`sim.analysis.plotworker.draw_part`); not the engine.
_PLOT_PRELOAD = ["sim.analysis.plots", "sim.analysis.plotworker"]
#: What a batch's process pool needs, forked from the same forkserver.
_TASK_PRELOAD = ["sim.batch.tasks"]


def draw_plots(
    results: Results, group_by: str | None = None, workers: Executor | None = None
) -> list[Path]:
    """Draw a finished batch's standard charts into ``plots/``; record the time taken.

    Args:
        results: The finished batch.
        group_by: The branch whose outcomes split the fan charts; the first if None.
        workers: Worker processes to share the charts between (see
            :func:`plot_workers`); drawn in this process if None.

    Returns:
        The PNG files written.
    """
    started = time.time()
    if workers is None:
        from sim.analysis.plots import make_plots

        written = make_plots(
            results.folder, manifest=results.manifest, summary=results.summary, group_by=group_by
        )
    else:
        from sim.batch.outputs import remove_stale_plots

        folder, manifest, summary = str(results.folder), results.manifest, results.summary
        shares = [
            workers.submit(draw_part, folder, manifest, summary, group_by, parts, fans)
            for parts, fans in plot_shares(manifest["layout"])
        ]
        written = []
        for share in shares:
            paths, caught = share.result()
            written += paths
            for message, category in caught:
                warnings.warn(message, category, stacklevel=2)
        remove_stale_plots(results.folder, written)
    results.add_timing("plots", time.time() - started)
    return written


def plot_shares(layout: dict[str, Any]) -> list[tuple[tuple[str, ...], slice]]:
    """How two plot workers share a batch's charts: (parts, fan charts) for each.

    The first draws the first fan charts; the second the endings, the branch tree, the
    payoffs and the fan charts left, so that both take about as long.

    Args:
        layout: The batch's layout (its metrics give the fan charts).
    """
    fans = min(len(layout["metrics"]), MAX_FAN_METRICS)
    first = min(fans, round((fans + _OTHER_CHARTS_AS_FANS) / 2))
    return [
        (("fans",), slice(0, first)),
        (("endings", "branch_tree", "payoffs", "fans"), slice(first, None)),
    ]


def _plots_in_workers(options: BatchOptions) -> bool:
    # Worth two processes: a batch with plots, big enough, on two cores or more.
    return options.plots and options.runs >= PARALLEL_PLOTS_RUNS and (os.cpu_count() or 1) >= 2


@contextlib.contextmanager
def plot_workers(options: BatchOptions) -> Iterator[Executor | None]:
    """Two processes that will draw a batch's charts, started before it plays.

    They start from a forkserver that imports the charts (matplotlib, Arrow), and the
    batch's task module if it plays in a process pool, while the batch is loaded and
    played, so neither the import nor, on a machine with two cores or more, half the
    drawing is waited for. The forkserver stays for the batch's own process pool, whose
    workers then start warm.
    Yields None (draw here) for small batches, without plots, or on one core.

    Args:
        options: The batch's options (runs, plots).
    """
    if not _plots_in_workers(options):
        yield None
        return
    from sim.batch.executors import open_pool, start_workers

    with open_pool("process", _PLOT_WORKERS, preload=_preload(options)) as (pool, count):
        starting = start_workers(pool, count)
        try:
            yield pool
        finally:
            starting.join()


def start_early(options: BatchOptions) -> None:
    """Start what a batch with these options will need from other processes, now.

    Call it before loading the scenario: the forkserver that the plot workers and the
    batch's process pool are forked from imports numpy, Arrow, the engine (and
    matplotlib for plots) while this process loads and checks the scenario. Nothing is
    started for a batch that plays in this process and draws its plots here.

    Args:
        options: The batch's options (runs, workers, executor, plots); the scenario's
            settings are not needed.
    """
    try:
        preload = _preload(options)
    except Exception:  # bad options are reported by the batch itself
        return
    if preload:
        from sim.batch.executors import start_forkserver

        start_forkserver(preload)


def _preload(options: BatchOptions) -> list[str]:
    """What the forkserver imports for a batch: the charts, the tasks, both or neither.

    One forkserver serves the plot workers and the batch's process pool, and it
    imports its preload once, when it starts: a batch that plays in this process does
    not make it import the engine (0.13 s of CPU beside the play, on a core the batch needs).
    """
    executor, _ = options.resolved()
    plots = _PLOT_PRELOAD if _plots_in_workers(options) else []
    return plots + (_TASK_PRELOAD if executor == "process" else [])


def run_batch(
    compiled: CompiledScenario,
    out: str | Path | None,
    options: BatchOptions,
    *,
    force: bool = False,
    resume: bool = False,
    progress: Progress | None = None,
) -> Results:
    """Play a batch, write its results folder and (if ``options.plots``) its charts.

    Args:
        compiled: The scenario.
        out: The results folder (default ``results/<id>-<timestamp>``).
        options: Runs, seed, chunking, executor, settings and whether to draw plots.
        force: Replace an earlier results folder at ``out``.
        resume: Finish an interrupted batch at ``out`` (same scenario and options).
        progress: Called with (runs done, runs in all) as tasks finish.

    Returns:
        The finished results folder.

    Raises:
        OptionsError: For impossible options (a ``group_by`` that names no branch is
            refused before anything is played).
        ResultsError: If ``out`` would lose data or cannot be resumed.
    """
    if options.plots:
        _check_group_by(compiled, options.group_by)
    with plot_workers(options) as workers:
        try:
            results = runner.run_batch(
                compiled, out, options, force=force, resume=resume, progress=progress
            )
        except runner.BatchFinishedError as finished:
            # Interrupted while drawing: the batch is written, only the plots are missing.
            if not (options.plots and _plots_missing(finished.results)):
                raise
            results = finished.results
        if options.plots:
            draw_plots(results, options.group_by, workers)
    return results


def _check_group_by(compiled: CompiledScenario, group_by: str | None) -> None:
    # From the batch's options, not the charts: checking costs no matplotlib import.
    check_group_by([b.id for b in compiled.branches], group_by)


def _plots_missing(results: Results) -> bool:
    """Whether a finished batch's plots were never completed (they are timed when done)."""
    return "plots_s" not in (results.manifest.get("timings") or {})


def sweep(
    scenario: str | Path | CompiledScenario,
    design: str,
    n: int,
    *,
    seed: int = 20250815,
    out: str | Path | None = None,
    params: Sequence[str] | None = None,
    replicates: int | None = None,
    workers: int = 0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    executor: str = "auto",
    settings: dict[str, Any] | None = None,
    keep_rounds: bool = True,
    plots: bool = True,
    group_by: str | None = None,
    force: bool = False,
    resume: bool = False,
    command_line: list[str] | None = None,
    progress: Progress | None = None,
) -> Results:
    """Play a scenario over an experimental design and write a results folder.

    Args:
        scenario: A scenario file or a compiled scenario.
        design: ``lhs``, ``sobol`` or ``grid``.
        n: Runs (lhs), base samples N (sobol: N*(2D+2)*replicates runs, N a power of 2) or
            levels per numeric parameter (grid).
        seed: Seed of the design and of every other draw of the batch.
        out: The results folder (default ``results/<id>-<timestamp>``).
        params: The parameters to sweep (default: every uncertain parameter).
        replicates: Times each Sobol row is played with fresh game chance (default 2;
            only for sobol). The rows of one base sample share their chance.
        workers: Worker processes (0: automatic).
        chunk_size: Runs per model block (memory and speed, never the results).
        executor: ``auto``, ``inprocess`` or ``process``.
        settings: Parameters or initial values fixed for every run (like ``--set``).
        keep_rounds: Write per-round trajectories.
        plots: Draw the standard plots.
        group_by: The branch whose outcomes split the fan charts; the first if None.
        force: Replace an earlier results folder at ``out``.
        resume: Finish an interrupted sweep at ``out`` (same scenario, design and seed).
        command_line: The command line, for the manifest.
        progress: Called with (runs done, runs in all).

    Returns:
        The finished results folder; its manifest has ``"design"``.

    Raises:
        OptionsError: For a bad design, size or parameter list.
        ScenarioError: If the scenario file is invalid.
        ResultsError: If ``out`` would lose data.

    Example:
        >>> results = sweep("scenarios/alaska.yaml", "sobol", 512, seed=1,
        ...                 out="results/alaska-sobol")  # doctest: +SKIP
    """
    if plots and group_by is not None:
        if not isinstance(scenario, CompiledScenario):
            from sim.engine.loading import load

            scenario = load(scenario)
        _check_group_by(scenario, group_by)
    try:
        results = sweeps.sweep(
            scenario,
            design,
            n,
            seed=seed,
            out=out,
            params=params,
            replicates=replicates,
            workers=workers,
            chunk_size=chunk_size,
            executor=executor,
            settings=settings,
            keep_rounds=keep_rounds,
            force=force,
            resume=resume,
            command_line=command_line,
            progress=progress,
        )
    except runner.BatchFinishedError as finished:
        if not (plots and _plots_missing(finished.results)):
            raise
        results = finished.results
    if plots:
        draw_plots(results, group_by)
    return results

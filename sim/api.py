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

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.batch import runner
from sim.batch import sweep as sweeps
from sim.batch.options import DEFAULT_CHUNK_SIZE, BatchOptions, Progress
from sim.batch.results import Results
from sim.language.compiler import CompiledScenario


def draw_plots(results: Results, group_by: str | None = None) -> list[Path]:
    """Draw a finished batch's standard charts into ``plots/``; record the time taken.

    Args:
        results: The finished batch.
        group_by: The branch whose outcomes split the fan charts; the first if None.

    Returns:
        The PNG files written.
    """
    from sim.analysis.plots import make_plots

    started = time.time()
    written = make_plots(
        results.folder, manifest=results.manifest, summary=results.summary, group_by=group_by
    )
    results.add_timing("plots", time.time() - started)
    return written


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
        draw_plots(results, options.group_by)
    return results


def _check_group_by(compiled: CompiledScenario, group_by: str | None) -> None:
    from sim.analysis.plots import check_group_by

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

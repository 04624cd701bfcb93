"""A sweep: a batch whose runs follow an experimental design instead of random draws.

:func:`sweep_options` draws the design (:mod:`sim.batch.designs`) and turns it into
:class:`~sim.batch.options.BatchOptions`; :func:`sweep` plays them with the batch runner
and writes the results folder, whose manifest records the design. Plots are not drawn
here: :func:`sim.api.sweep` (``sim.sweep``, ``wargame sweep``) asks for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.batch.designs import make_design
from sim.batch.options import DEFAULT_CHUNK_SIZE, BatchOptions, Progress, check_overrides
from sim.batch.results import Results
from sim.batch.runner import run_batch
from sim.engine.loading import load
from sim.language.compiler import CompiledScenario


def sweep_options(
    compiled: CompiledScenario,
    design: str,
    n: int,
    *,
    seed: int = 20250815,
    params: Sequence[str] | None = None,
    replicates: int | None = None,
    workers: int = 0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    executor: str = "auto",
    settings: dict[str, Any] | None = None,
    keep_rounds: bool = True,
    command_line: list[str] | None = None,
) -> BatchOptions:
    """The options of a batch that plays a scenario over an experimental design.

    Arguments as for :func:`sweep`. The options ask for no plots (``plots=False``):
    :func:`sim.api.sweep` draws them once the batch is written.

    Raises:
        OptionsError: For a bad design, size, parameter list or setting.
    """
    drawn = make_design(compiled, design, n, seed, params, replicates=replicates)
    return BatchOptions(
        runs=drawn.runs,
        seed=seed,
        chunk_size=chunk_size,
        workers=workers,
        executor=executor,
        overrides=check_overrides(compiled, settings or {}),
        keep_rounds=keep_rounds,
        plots=False,
        command_line=list(command_line or []),
        design=drawn,
    )


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
    force: bool = False,
    resume: bool = False,
    command_line: list[str] | None = None,
    progress: Progress | None = None,
) -> Results:
    """Play a scenario over an experimental design and write a results folder (no plots).

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
    """
    compiled = scenario if isinstance(scenario, CompiledScenario) else load(scenario)
    options = sweep_options(
        compiled,
        design,
        n,
        seed=seed,
        params=params,
        replicates=replicates,
        workers=workers,
        chunk_size=chunk_size,
        executor=executor,
        settings=settings,
        keep_rounds=keep_rounds,
        command_line=command_line,
    )
    return run_batch(compiled, out, options, force=force, resume=resume, progress=progress)

"""How to play a batch: runs, seed, chunking, executor and ``--set`` values.

:class:`BatchOptions` is what a user chooses; :meth:`BatchOptions.check` rejects what
cannot work with a message a user can act on, and :func:`check_overrides` turns
``--set NAME=VALUE`` into numbers against a scenario (a categorical value by name).
None of these change which numbers a run draws except ``seed``, ``--set`` values and a
design: chunk size, workers and executor only change speed and memory.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.engine.actor_settings import (
    check_actor_setting,
    is_actor_setting,
    reasonings_set,
    setting_as_written,
)
from sim.errors import OptionsError, WargameWarning
from sim.language.compiler import CompiledScenario
from sim.language.schema import BernoulliParam, ChoiceParam, FixedParam, suggest

if TYPE_CHECKING:
    # designs.py imports MAX_RUNS from here; BatchOptions only names the type.
    from sim.batch.designs import Design

DEFAULT_CHUNK_SIZE = 10_000
#: Below this many runs a batch plays in-process by default: starting worker processes
#: and moving results between them costs more than a second core saves. Measured on 2
#: cores (alaska, with plots): 20,000 runs 1.9 s in-process, 2.6 s in two workers;
#: 50,000 runs 4.1 s and 2.8 s; 100,000 runs 7.9 s and 4.7 s (playing).
PROCESS_THRESHOLD = 50_000
#: A task holds at least this many runs, so tiny chunks do not mean thousands of files.
MIN_TASK_RUNS = 5_000
MAX_RUNS = 100_000_000

#: Called with (runs done, runs in all) as a batch's tasks finish.
Progress = Callable[[int, int], None]
EXECUTORS = ("auto", "inprocess", "process", "dask")


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
        plots: Draw the standard plots once the batch is written. The batch itself
            never draws: :func:`sim.api.run_batch` (what ``sim.run_batch`` and
            ``wargame run`` call) reads this and asks the analysis layer for them.
        group_by: The branch whose outcomes split the fan charts (and colour the payoff
            histograms); the scenario's first branch if None. Plots only.
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
    group_by: str | None = None
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


def _categories(compiled: CompiledScenario, name: str) -> tuple[str, ...] | None:
    """The values of a categorical parameter or state variable; None if it is numeric."""
    if name in compiled.param_names:
        return compiled.param_categories[compiled.param_names.index(name)]
    return compiled.state_categories[compiled.state_names.index(name)]


def check_overrides(compiled: CompiledScenario, overrides: dict[str, Any]) -> dict[str, float]:
    """Check ``--set`` names and turn their values into numbers.

    A categorical parameter or state variable may be set to one of its values by name;
    ``ACTOR.SETTING`` sets an actor's rationality, foresight, depth, prior or reasoning (see
    :mod:`sim.engine.actor_settings`).
    """
    checked: dict[str, float] = {}
    names = compiled.param_names + compiled.state_names
    reasoning_of = reasonings_set(overrides)
    for name, value in overrides.items():
        if is_actor_setting(name):
            checked[name] = check_actor_setting(compiled, name, value, reasoning_of)
            continue
        if name not in names:
            raise OptionsError(
                f"--set {name}: no parameter or state variable '{name}'" + suggest(name, names)
            )
        categories = _categories(compiled, name)
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
        outside = _outside_range(compiled, name, number)
        if outside:
            warnings.warn(
                WargameWarning(f"--set {name}={value} is {outside}; the runs play it as set"),
                stacklevel=2,
            )
        beyond = _beyond_bounds(compiled, name, number)
        if beyond:
            warnings.warn(WargameWarning(f"--set {name}={value} is {beyond}"), stacklevel=2)
        checked[name] = number
    return checked


def _outside_range(compiled: CompiledScenario, name: str, value: float) -> str | None:
    """Words for a parameter value no draw of the scenario could give, else None.

    A ``--set`` may leave the scenario's range on purpose (a stress test), but a
    probability of 1.7 is more often a slip: it is played, with a warning.
    """
    param = compiled.loaded.spec.parameters.get(name)
    if param is None or isinstance(param, FixedParam):
        return None  # a state variable's start, or a fixed parameter: set at will
    if isinstance(param, BernoulliParam):
        return None if value in (0.0, 1.0) else f"not 0 or 1, the values of yes/no '{name}'"
    if isinstance(param, ChoiceParam):
        values = [float(v) for v in param.values]
        shown = ", ".join(f"{v:g}" for v in values)
        return None if value in values else f"not one of the values of '{name}' ({shown})"
    low = getattr(param, "low", None)
    high = getattr(param, "high", None)
    if (low is None or value >= low) and (high is None or value <= high):
        return None
    kind = type(param).__name__.removesuffix("Param").lower()
    span = f"{'-inf' if low is None else f'{low:g}'} to {'inf' if high is None else f'{high:g}'}"
    return f"outside the range of '{name}' in the scenario ({kind}, {span})"


def _beyond_bounds(compiled: CompiledScenario, name: str, value: float) -> str | None:
    """Words for a state variable's start beyond its ``min``/``max``, else None.

    A state variable is clipped to its bounds from the start, so such a start is played
    at the bound, not as set (the manifest keeps the value as typed).
    """
    var = compiled.loaded.spec.state.get(name)
    low, high = getattr(var, "min", None), getattr(var, "max", None)
    if low is not None and value < low:
        return f"below the min of state variable '{name}' ({low:g}); the runs start at {low:g}"
    if high is not None and value > high:
        return f"above the max of state variable '{name}' ({high:g}); the runs start at {high:g}"
    return None


def settings_as_written(compiled: CompiledScenario, overrides: dict[str, float]) -> dict[str, Any]:
    """``--set`` values as a user reads them: categorical ones by name, not by index."""
    shown: dict[str, Any] = {}
    for name, value in overrides.items():
        if is_actor_setting(name):
            shown[name] = setting_as_written(name, value)
            continue
        categories = _categories(compiled, name)
        shown[name] = categories[int(value)] if categories is not None else value
    return shown

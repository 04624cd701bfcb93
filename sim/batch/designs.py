"""Experimental designs: which parameter values each run of a sweep plays.

A plain batch is Monte Carlo: every parameter is drawn independently in every run. A
*sweep* sets chosen parameters by a design instead, so that the runs cover the space of
assumptions on purpose:

- ``lhs``: a Latin hypercube of ``n`` runs; each parameter's range is cut into ``n``
  equally likely slices and every slice is played exactly once.
- ``sobol``: Saltelli's scheme for Sobol sensitivity indices; ``n`` base samples (a
  power of 2) give ``n * (2D + 2)`` rows for D swept parameters (A, the D rows AB_i,
  the D rows BA_i and B of each base sample), each played ``replicates`` times, from
  which ``wargame explain`` estimates first-order, total and second-order indices.
- ``grid``: a full factorial over ``n`` levels of each numeric parameter (the midpoints
  of ``n`` equally likely slices) and every value of each categorical one.

**The game's chance in a Sobol sweep.** The game is stochastic: the same parameter
values can end differently. If every row drew its own chance, that noise would land in
every index (a parameter that changes nothing would get a total index near 1). So the
rows of one base sample share their game randomness (common random numbers): every row
of base sample i in replicate r plays with the random streams keyed ``r * n + i``,
whatever its parameter values. Two rows of a base sample then differ only through the
parameters that differ between them. Replicate r + 1 plays every row again with fresh
chance; two replicates let the analysis separate what the parameters explain from the
game's own chance (see :mod:`sim.analysis.sensitivity`). Runs are numbered row by row
within a replicate, replicate after replicate; the keys are a pure function of the run
number, so run K of a sweep still replays alone.

Designs are drawn in the unit cube by SALib and each column is mapped to its
parameter's distribution by :func:`sim.engine.parameters.sample_parameter` (the inverse CDF),
so a triangular or truncated-normal parameter keeps its own marginal. Parameters left
out of the design keep their per-run random draw. The design is a pure function of
(scenario, kind, parameters, n, seed): the same seed gives the same runs whatever the
workers or chunk size.

A design is drawn here and played by the batch runner (:mod:`sim.batch.sweep` puts the
two together), so this module never imports the runner.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.batch.options import MAX_RUNS
from sim.engine.parameters import sample_parameter
from sim.errors import OptionsError
from sim.language.compiler import CompiledScenario
from sim.language.schema import BernoulliParam, ChoiceParam, FixedParam, NormalParam, suggest

DESIGN_KINDS = ("lhs", "sobol", "grid")
#: How a Sobol sweep draws the game's chance (recorded in the manifest).
SHARED_RANDOMNESS = "shared by the rows of a base sample"
PER_RUN_RANDOMNESS = "per run"
#: Replicates of each Sobol row unless told otherwise: two is the fewest that separate
#: what the parameters explain from the game's own chance.
DEFAULT_REPLICATES = 2
#: Unit draws are kept this far inside (0, 1), where every inverse CDF is finite.
_EDGE = 1e-12


@dataclass(frozen=True)
class Design:
    """An experimental design: one row of parameter values per run.

    Attributes:
        kind: ``lhs``, ``sobol`` or ``grid``.
        params: The swept parameters, in column order.
        n: The size asked for (runs for lhs, base samples for sobol, levels for grid).
        seed: The seed the design was drawn with.
        values: Shape (runs, len(params)); parameter values (the category's index for
            a categorical parameter).
        levels: For a grid, the number of levels of each parameter.
        replicates: Times each row is played (sobol); the values repeat replicate by
            replicate.
        shared: Whether the rows of a Sobol base sample share their game randomness
            (common random numbers); otherwise every run draws its own.
    """

    kind: str
    params: tuple[str, ...]
    n: int
    seed: int
    values: np.ndarray
    levels: tuple[int, ...] = ()
    replicates: int = 1
    shared: bool = False

    @property
    def runs(self) -> int:
        """Number of runs (rows times replicates)."""
        return int(self.values.shape[0])

    @property
    def rows_per_sample(self) -> int:
        """Rows of one Saltelli base sample (2D + 2); 1 for other designs."""
        return 2 * len(self.params) + 2 if self.kind == "sobol" else 1

    def block(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """The design's values for runs start..stop-1, by parameter name."""
        return {name: self.values[start:stop, j].copy() for j, name in enumerate(self.params)}

    def stream_keys(self, start: int, stop: int) -> np.ndarray:
        """The random-stream key of runs start..stop-1 (see the module docstring)."""
        return stream_keys(self.describe(), np.arange(start, stop, dtype=np.int64))

    def describe(self) -> dict[str, Any]:
        """The design as recorded in the manifest (JSON-ready)."""
        described: dict[str, Any] = {
            "kind": self.kind,
            "params": list(self.params),
            "n": self.n,
            "seed": self.seed,
            "runs": self.runs,
        }
        if self.kind == "sobol":
            described["second_order"] = True
            described["scheme"] = "Saltelli (SALib.sample.sobol), scrambled Sobol sequence"
            described["rows_per_sample"] = self.rows_per_sample
            described["replicates"] = self.replicates
            described["randomness"] = SHARED_RANDOMNESS if self.shared else PER_RUN_RANDOMNESS
        elif self.kind == "lhs":
            described["scheme"] = "Latin hypercube (SALib.sample.latin)"
        else:
            described["levels"] = list(self.levels)
            described["scheme"] = "full factorial; numeric levels at slice midpoints (quantiles)"
        return described


def stream_keys(described: dict[str, Any] | None, runs: np.ndarray) -> np.ndarray:
    """The random-stream key of each run of a batch, from its manifest's design.

    A run's key is its own index except in a Sobol sweep whose rows share their
    randomness: there run k, row ``k % (n * rows)`` of replicate ``k // (n * rows)``,
    plays with key ``replicate * n + base sample``.

    Args:
        described: The manifest's ``design`` entry (``None`` for a plain batch).
        runs: Run indices.

    Returns:
        One key per run (int64).
    """
    runs = np.asarray(runs, dtype=np.int64)
    if not described or described.get("randomness") != SHARED_RANDOMNESS:
        return runs.copy()
    n, per = int(described["n"]), int(described["rows_per_sample"])
    replicate, row = np.divmod(runs, n * per)
    return replicate * n + row // per


def independent_runs(described: dict[str, Any] | None, runs: np.ndarray) -> np.ndarray:
    """Which runs are independent of one another: their values and their chance.

    A Sobol design repeats each value of A and B in the rows AB_i and BA_i, and every
    row in each replicate. Where the rows of a base sample share their chance, its A
    and B rows of one replicate share more: the game's chance and every unswept
    parameter, so an unswept parameter that does nothing looks like a driver to a test
    that treats them as two runs (in 27 of 100 seeds where 5 were promised). Tests
    that treat runs as exchangeable (a permutation test, PRIM's densities) therefore
    use one row per base sample and replicate: the row A of the first replicate and
    the row B of the second, whose values are independent and whose chance keys
    differ. With one replicate, only the rows A. A sweep whose runs each drew their own
    chance (older results) keeps A and B of the first replicate. Every run of another
    design or of a plain batch counts.

    Args:
        described: The manifest's ``design`` entry (``None`` for a plain batch).
        runs: Run indices.

    Returns:
        A boolean mask over ``runs``.
    """
    runs = np.asarray(runs, dtype=np.int64)
    if not described or described.get("kind") != "sobol":
        return np.ones(runs.shape, dtype=bool)
    per = int(described.get("rows_per_sample") or 2 * len(described["params"]) + 2)
    replicate = runs // (int(described["n"]) * per)
    position = runs % per
    is_a, is_b = position == 0, position == per - 1
    if described.get("randomness") != SHARED_RANDOMNESS:
        return (replicate == 0) & (is_a | is_b)
    if int(described.get("replicates", 1)) < 2:
        return (replicate == 0) & is_a
    return ((replicate == 0) & is_a) | ((replicate == 1) & is_b)


def independent_rows_text(described: dict[str, Any] | None) -> str:
    """Which rows of a Sobol sweep the ranking and rules use, in words (empty otherwise)."""
    if not described or described.get("kind") != "sobol":
        return ""
    if described.get("randomness") != SHARED_RANDOMNESS:
        return "A and B of the first replicate"
    if int(described.get("replicates", 1)) < 2:
        return "A of each base sample (one replicate: its B shares A's chance)"
    return (
        "A of the first replicate and B of the second: one row per base sample and "
        "replicate, since A and B of one replicate share the game's chance and every "
        "unswept parameter"
    )


def swept_parameters(compiled: CompiledScenario, names: Sequence[str] | None) -> tuple[str, ...]:
    """The parameters a design sweeps: the named ones, or every uncertain one.

    Raises:
        OptionsError: For an unknown or fixed parameter, or when none is left.
    """
    spec = compiled.loaded.spec.parameters
    uncertain = [n for n, p in spec.items() if not isinstance(p, FixedParam)]
    if not names:
        if not uncertain:
            raise OptionsError("the scenario has no uncertain parameter to sweep")
        return tuple(uncertain)
    chosen: list[str] = []
    for name in names:
        if name not in spec:
            raise OptionsError(f"--params: no parameter '{name}'" + suggest(name, list(spec)))
        if isinstance(spec[name], FixedParam):
            raise OptionsError(f"--params: '{name}' is fixed; there is nothing to sweep")
        if name in chosen:
            raise OptionsError(f"--params: '{name}' is named twice")
        chosen.append(name)
    return tuple(chosen)


def _grid_units(param: object, levels: int) -> np.ndarray:
    """Unit values whose images are the grid levels of one parameter."""
    if isinstance(param, ChoiceParam):
        weights = np.ones(len(param.values)) if param.weights is None else np.array(param.weights)
        cumulative = np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
        centres = (cumulative[:-1] + cumulative[1:]) / 2
        return centres[weights > 0]
    if isinstance(param, BernoulliParam):
        # u < p gives 1: the middle of each side of p gives each outcome once.
        sides = ((param.p / 2, param.p > 0), ((1 + param.p) / 2, param.p < 1))
        return np.array([u for u, possible in sides if possible])
    if isinstance(param, NormalParam) and param.sd == 0:
        return np.array([0.5])
    return (np.arange(levels) + 0.5) / levels


def make_design(
    compiled: CompiledScenario,
    kind: str,
    n: int,
    seed: int,
    params: Sequence[str] | None = None,
    *,
    replicates: int | None = None,
    shared: bool = True,
) -> Design:
    """Draw an experimental design over a scenario's parameters.

    Args:
        compiled: The scenario.
        kind: ``lhs``, ``sobol`` or ``grid``.
        n: Runs (lhs), base samples N giving N*(2D+2) rows (sobol; a power of 2), or
            levels per numeric parameter (grid).
        seed: The seed (the batch seed).
        params: The parameters to sweep (default: every uncertain parameter).
        replicates: Times each Sobol row is played, with fresh chance each time
            (default 2); only for sobol.
        shared: Whether the rows of a Sobol base sample share their game randomness
            (the default). ``False`` gives every run its own, as earlier sweeps
            did; kept to show what that does to the indices.

    Returns:
        The design.

    Raises:
        OptionsError: For an unknown kind, a bad ``n`` or an unknown parameter.
    """
    from SALib.sample import latin
    from SALib.sample import sobol as saltelli

    if kind not in DESIGN_KINDS:
        raise OptionsError(f"--design must be one of {', '.join(DESIGN_KINDS)}, not '{kind}'")
    if replicates is not None and kind != "sobol":
        raise OptionsError("--replicates goes with --design sobol")
    copies = DEFAULT_REPLICATES if replicates is None else int(replicates)
    if kind != "sobol":
        copies = 1
    if not 1 <= copies <= 100:
        raise OptionsError("--replicates must be between 1 and 100")
    if not 0 <= seed < 2**63:
        raise OptionsError("--seed must be a non-negative integer below 2**63")
    names = swept_parameters(compiled, params)
    spec = compiled.loaded.spec.parameters
    d = len(names)
    problem = {"num_vars": d, "names": list(names), "bounds": [[0.0, 1.0]] * d}
    # SALib takes a 32-bit seed; fold the 63-bit batch seed into it.
    salib_seed = int(seed % (2**32 - 1))
    levels: tuple[int, ...] = ()
    if kind == "lhs":
        if not 1 <= n <= MAX_RUNS:
            raise OptionsError(f"-n for an lhs design is the number of runs (1 to {MAX_RUNS:,})")
        units = latin.sample(problem, n, seed=salib_seed)
    elif kind == "sobol":
        if n < 2 or n & (n - 1):
            below = 2 ** max(1, int(math.log2(max(n, 2))))
            raise OptionsError(
                f"-n for a sobol design is the number of base samples N and must be a power "
                f"of 2 (e.g. {below} or {2 * below}); the sweep plays N*(2D+2) runs"
            )
        if d < 2:
            raise OptionsError("a sobol design needs at least 2 swept parameters")
        if n * (2 * d + 2) * copies > MAX_RUNS:
            total = n * (2 * d + 2) * copies
            raise OptionsError(f"N*(2D+2)*replicates = {total:,} runs is more than {MAX_RUNS:,}")
        units = saltelli.sample(problem, n, calc_second_order=True, seed=salib_seed)
        units = np.tile(units, (copies, 1))
    else:
        if not 1 <= n <= 1000:
            raise OptionsError("-n for a grid design is the number of levels (1 to 1000)")
        axes = [_grid_units(spec[name], n) for name in names]
        levels = tuple(len(a) for a in axes)
        total = math.prod(levels)
        if total > MAX_RUNS:
            raise OptionsError(f"the grid has {total:,} points, more than {MAX_RUNS:,}")
        mesh = np.meshgrid(*axes, indexing="ij")
        units = np.column_stack([m.reshape(-1) for m in mesh])
    units = np.clip(np.asarray(units, dtype=float), _EDGE, 1 - _EDGE)
    values = np.column_stack(
        [sample_parameter(spec[name], units[:, j]) for j, name in enumerate(names)]
    )
    return Design(
        kind, names, int(n), int(seed), values, levels, copies, shared and kind == "sobol"
    )


def design_of(manifest: dict[str, Any], runs_frame: Any, compiled: CompiledScenario) -> dict:
    """The design values of some runs of a finished sweep, read back from runs.parquet.

    Used to replay run K of a sweep: the values are the exact float64s the run played
    (a categorical parameter's name is turned back into its index).

    Args:
        manifest: The sweep's manifest.
        runs_frame: Rows of runs.parquet (pandas) for the runs to replay, in order.
        compiled: The scenario.

    Returns:
        Parameter name -> values per run; empty for a batch that is not a sweep.
    """
    described = manifest.get("design")
    if not described:
        return {}
    values = {}
    for name in described["params"]:
        column = runs_frame[f"param.{name}"]
        categories = compiled.param_categories[compiled.param_names.index(name)]
        if categories is not None:
            values[name] = np.array([categories.index(str(v)) for v in column], dtype=float)
        else:
            values[name] = column.to_numpy(dtype=float)
    return values

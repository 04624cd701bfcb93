"""Standard charts of a batch, drawn into ``DIR/plots/`` as PNGs for slides.

Every chart is about 10 × 6 in at 150 dpi (taller or wider when there are many branches
or actors) with fonts of 12 pt or more, is titled with the scenario title and the
number of runs, and carries a small footer
``seed S · scenario 1a2b3c4d · wargame vX`` (plus any ``--set`` values) so a slide can
be traced back to the batch that made it. Colours come from colour-blind-safe palettes
and are fixed by the scenario's layout order, so two batches of one scenario always use
the same colour for the same ending or branch outcome and can be shown side by side.

``endings.png``
    How likely each ending is: one horizontal bar per ending (in scenario order) with
    its share of runs, and a black whisker for the 95% Wilson interval (in a Sobol sweep,
    Wilson's at the effective number of runs, the base samples being the independent
    units: :mod:`sim.batch.summary`). The label gives the share and the interval. A
    short bar with a long whisker means "rare, and we do not know how rare": play more
    runs before quoting it.

``branch_tree.png``
    What the branch points decide. For each branch a root node on the left splits into
    one box per outcome (and "(not reached)" where the branch did not happen in every
    run), giving that outcome's share of runs and run count. To the right of each box a
    100% bar shows the mix of endings *among the runs that took that outcome*: compare
    the bars to see how much the outcome moves the endings. A scenario without branches
    shows the ending mix of all runs.

``fan_<metric>.png``
    How a key metric evolves (the first six metrics of the scenario, one chart each):
    over rounds (and calendar dates, from the scenario's start date and round length),
    the median as a line, the middle 50% of runs as a darker band and the middle 90% as
    a lighter band, separately for each outcome of one branch (the scenario's first,
    or the one named by ``group_by``: ``wargame run --group-by BRANCH``; dotted
    vertical lines mark the rounds of the branches). Round 0 is the initial state. Bands
    that separate after the branch show the branch driving the metric; overlapping
    bands mean the outcome does not tell the runs apart. Not drawn if the batch kept no
    trajectories (``--no-rounds``).

``payoffs.png``
    Each actor's total payoff over the game: one histogram per actor (own scale: the
    actors' payoffs are in their own units and are not comparable), stacked by the
    outcome of the same branch as the fan charts, with the mean marked by a black line
    and given in the panel title.

``wargame report`` adds each actor's payoff *by ending*
(:func:`plot_payoffs_by_ending`): one panel per actor and ending, each on its own scale,
so a catastrophic ending leaves the others readable.

Only the needed columns of ``runs.parquet`` are read (text columns dictionary-coded, two
bytes a run once coded). The fan charts of a batch with more than
:data:`EXACT_FAN_ROWS` rows of trajectories are drawn from per-(outcome, round)
histograms of :data:`FAN_BINS` bins over each metric's range, filled in one pass over
``rounds.parquet`` batch by batch: memory stays flat however many runs the batch has,
and each quantile is within 1/4096 of the metric's range of the exact one (a fraction
of a pixel on the chart); smaller batches get exact quantiles.

The numbers behind the charts come from :func:`branch_tree` and :func:`fan_quantiles`,
which are public so that tests and comparisons can use them. :func:`ending_colours` and
:func:`outcome_colours` give the fixed colours.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import textwrap
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure, SubFigure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.textpath import text_to_path
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    MaxNLocator,
    MultipleLocator,
    PercentFormatter,
)

from sim.analysis.chartkit import lay_out_once, save_png
from sim.batch.outputs import MAX_FAN_METRICS, check_group_by, remove_stale_plots
from sim.batch.results import release_memory
from sim.batch.summary import as_numpy, interval_label, read_column, read_columns, row_groups

#: Okabe–Ito colours for endings (black replaced by grey so error whiskers stay visible).
ENDING_PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
    "#999999",  # grey
)
#: Paul Tol's "muted" colours for branch outcomes (kept apart from the ending colours).
OUTCOME_PALETTE = (
    "#332288",  # indigo
    "#CC6677",  # rose
    "#117733",  # green
    "#DDCC77",  # sand
    "#88CCEE",  # cyan
    "#882255",  # wine
    "#44AA99",  # teal
    "#999933",  # olive
    "#AA4499",  # purple
)
NOT_REACHED = "(not reached)"
NOT_REACHED_COLOUR = "#8C8C8C"
ALL_RUNS_COLOUR = "#0072B2"
#: Quantiles drawn in a fan chart: the 90% band, the 50% band and the median.
FAN_PROBS = (0.05, 0.25, 0.5, 0.75, 0.95)
#: Above this many rows of rounds.parquet, fan-chart quantiles are streamed (histograms).
EXACT_FAN_ROWS = 2_000_000
#: Bins per (outcome, round) cell of a streamed fan chart, over the metric's range.
FAN_BINS = 4096
DPI = 150
#: Height of the strip under the layout that holds the footer.
FOOTER_INCHES = 0.3
WIDTH = 10.0
HEIGHT = 6.0
STYLE = {
    "font.size": 13,
    "axes.titlesize": 15,
    "axes.labelsize": 14,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 12,
    "legend.title_fontsize": 12,
    "figure.titlesize": 16,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": DPI,
}
#: The charts of a batch, in groups that take about as long to draw (the fan charts
#: are six or so figures; the others one each), so two processes can share them.
PLOT_PARTS = ("endings", "branch_tree", "fans", "payoffs")


# ---------------------------------------------------------------------------------------
# Colours


def ending_colours(layout: dict[str, Any]) -> dict[str, str]:
    """The fixed colour of each ending.

    Colours follow the endings' order in the scenario, so every batch of a scenario
    (and every chart of a batch) shows an ending in the same colour.

    Args:
        layout: The scenario layout (``manifest["layout"]``).

    Returns:
        Ending id -> hex colour.
    """
    return {
        e["id"]: ENDING_PALETTE[i % len(ENDING_PALETTE)] for i, e in enumerate(layout["endings"])
    }


def outcome_colours(layout: dict[str, Any], branch: str | None = None) -> dict[str, str]:
    """The fixed colour of each outcome of a branch (and of "(not reached)").

    Args:
        layout: The scenario layout (``manifest["layout"]``).
        branch: The branch id; the first branch if None.

    Returns:
        Outcome id -> hex colour, including ``"(not reached)"`` (grey). Empty if the
        scenario has no branches.
    """
    branches = layout["branches"]
    if not branches:
        return {}
    chosen = branches[0] if branch is None else next(b for b in branches if b["id"] == branch)
    colours = {
        o: OUTCOME_PALETTE[i % len(OUTCOME_PALETTE)] for i, o in enumerate(chosen["outcomes"])
    }
    colours[NOT_REACHED] = NOT_REACHED_COLOUR
    return colours


def _text_colour(background: str) -> str:
    """Black or white, whichever reads better on ``background``."""
    r, g, b = (int(background[i : i + 2], 16) / 255 for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "black" if luminance > 0.45 else "white"


# ---------------------------------------------------------------------------------------
# Numbers behind the charts


def _codes(column: pa.ChunkedArray | pa.Array, values: Sequence[str]) -> np.ndarray:
    """Index of each entry of a string column in ``values`` (-1 if absent), as int16.

    A dictionary-coded column (as read with ``read_dictionary``) is coded through its
    small dictionary, never decoded into one string per run (and in Python: Arrow's
    ``pa.array`` for the value set would import pandas, a quarter of a second).
    """
    if pa.types.is_dictionary(column.type):
        chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
        out = np.empty(len(column), dtype=np.int16)
        lookup = {value: i for i, value in enumerate(values)}
        at = 0
        for chunk in chunks:
            labels = chunk.dictionary.to_pylist()
            mapping = np.array([lookup.get(label, -1) for label in labels], dtype=np.int16)
            indices = as_numpy(chunk.indices)
            out[at : at + len(chunk)] = mapping[indices] if mapping.size else -1
            at += len(chunk)
        return out
    index = pc.index_in(column, value_set=pa.array(list(values), type=pa.string()))
    return as_numpy(pc.fill_null(index, -1)).astype(np.int16)


def branch_tree(table: pa.Table, layout: dict[str, Any]) -> list[dict[str, Any]]:
    """Each branch's outcome shares and the ending mix within each outcome.

    Args:
        table: Runs with the columns ``ending`` and ``branch.<id>`` of every branch
            (runs where a branch did not resolve hold an empty string).
        layout: The scenario layout (``manifest["layout"]``).

    Returns:
        One entry per branch, in scenario order: ``{"id", "round", "text", "outcomes"}``,
        where ``outcomes`` lists ``{"id", "count", "share", "ending_counts",
        "ending_shares"}`` for each outcome in scenario order, then ``"(not reached)"``
        if any run did not reach the branch (with ``"because": "summit = success"`` when
        the runs that missed it are exactly those of one earlier branch's outcome).
        ``ending_counts``/``ending_shares`` map every ending id (scenario order) to the
        count/share of the outcome's runs with that ending (shares are 0 when the
        outcome has no runs). With no branches, one pseudo-branch ``{"id": None, ...}``
        with a single outcome ``"all runs"``.
    """
    endings = [e["id"] for e in layout["endings"]]
    n = table.num_rows
    ending_code = _codes(table.column("ending"), endings)
    n_endings = len(endings)
    specs = layout["branches"] or [{"id": None, "round": None, "text": "", "outcomes": []}]
    result = []
    earlier: list[tuple[str, list[str], np.ndarray]] = []
    for spec in specs:
        because = None
        if spec["id"] is None:
            labels = ["all runs"]
            code = np.zeros(n, dtype=np.int16)
        else:
            labels = [*spec["outcomes"], NOT_REACHED]
            code = _codes(table.column(f"branch.{spec['id']}"), [*spec["outcomes"], ""])
            code[code < 0] = len(labels) - 1
            because = _not_reached_because(code == len(labels) - 1, earlier)
            earlier.append((spec["id"], list(spec["outcomes"]), code))
        valid = ending_code >= 0
        cross = np.bincount(
            code[valid].astype(np.int64) * n_endings + ending_code[valid],
            minlength=len(labels) * n_endings,
        ).reshape(len(labels), n_endings)
        per_outcome = np.bincount(code.astype(np.int64), minlength=len(labels))
        outcomes = []
        for i, label in enumerate(labels):
            count = int(per_outcome[i])
            if label == NOT_REACHED and count == 0:
                continue
            outcomes.append(
                {
                    "id": label,
                    **({"because": because} if label == NOT_REACHED and because else {}),
                    "count": count,
                    "share": count / n if n else 0.0,
                    "ending_counts": {e: int(cross[i, j]) for j, e in enumerate(endings)},
                    "ending_shares": {
                        e: (float(cross[i, j]) / count if count else 0.0)
                        for j, e in enumerate(endings)
                    },
                }
            )
        result.append(
            {
                "id": spec["id"],
                "round": spec.get("round"),
                "text": spec.get("text", ""),
                "outcomes": outcomes,
            }
        )
    return result


def _not_reached_because(
    missed: np.ndarray, earlier: list[tuple[str, list[str], np.ndarray]]
) -> str | None:
    """Why a branch was not reached, e.g. ``"summit = success"``, if one outcome says it.

    That is when the runs that missed the branch are exactly the runs where an earlier
    branch took one outcome (the branch follows another's other outcome); else None.
    """
    if not missed.any():
        return None
    for branch, outcomes, code in earlier:
        for o, outcome in enumerate(outcomes):
            if np.array_equal(missed, code == o):
                return f"{branch} = {outcome}"
    return None


def fan_quantiles(
    values: np.ndarray,
    rounds: np.ndarray,
    groups: np.ndarray,
    n_rounds: int,
    n_groups: int,
    probs: Sequence[float] = FAN_PROBS,
) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles of a metric for every (group, round) cell.

    Args:
        values: Metric values, one per (run, round) row.
        rounds: The round of each row, 0..n_rounds-1.
        groups: The group of each row (e.g. the run's branch outcome), 0..n_groups-1;
            rows with a group outside that range are ignored.
        n_rounds: Number of rounds (including round 0).
        n_groups: Number of groups.
        probs: The quantiles wanted, in [0, 1].

    Returns:
        ``(quantiles, counts)``: quantiles of shape (n_groups, n_rounds, len(probs)),
        NaN for a cell without finite values; counts of shape (n_groups, n_rounds), the
        finite values in each cell.
    """
    return _Cells(rounds, groups, n_rounds, n_groups).quantiles(values, probs)


class _Cells:
    """Rows sorted by (group, round) once, to take quantiles of several metrics."""

    def __init__(self, rounds: np.ndarray, groups: np.ndarray, n_rounds: int, n_groups: int):
        self.shape = (n_groups, n_rounds)
        rounds = np.asarray(rounds)
        groups = np.asarray(groups)
        cells = n_groups * n_rounds
        dtype = np.int16 if cells < np.iinfo(np.int16).max else np.int32
        key = groups.astype(dtype) * dtype(n_rounds) + rounds.astype(dtype)
        outside = (groups < 0) | (groups >= n_groups) | (rounds < 0) | (rounds >= n_rounds)
        key[outside] = cells  # sorts last, then dropped
        # A stable sort of small integers is a radix sort: fast even for 13M rows.
        self.order = np.argsort(key, kind="stable")
        bounds = np.bincount(key, minlength=cells + 1)[:cells]
        self.stops = np.cumsum(bounds)
        self.starts = self.stops - bounds

    def quantiles(
        self, values: np.ndarray, probs: Sequence[float] = FAN_PROBS
    ) -> tuple[np.ndarray, np.ndarray]:
        ordered = np.asarray(values)[self.order]
        out = np.full((*self.shape, len(probs)), np.nan)
        counts = np.zeros(self.shape, dtype=np.int64)
        for cell, (start, stop) in enumerate(zip(self.starts, self.stops, strict=True)):
            chunk = ordered[start:stop].astype(np.float64)
            chunk = chunk[np.isfinite(chunk)]
            g, r = divmod(cell, self.shape[1])
            counts[g, r] = chunk.size
            if chunk.size:
                out[g, r] = np.quantile(chunk, probs)
        return out, counts


class _RunBlocks:
    """Rows that come run by run, rounds 0..R-1 in order (as a batch writes them).

    Quantiles then need no sort: the values are a (runs, R) grid and each (group, round)
    cell is one column of the group's rows, so memory stays at a few MB beyond the
    values even for a million runs.
    """

    def __init__(self, run_groups: np.ndarray, n_rounds: int, n_groups: int):
        self.shape = (n_groups, n_rounds)
        self.run_groups = run_groups

    def quantiles(
        self, values: np.ndarray, probs: Sequence[float] = FAN_PROBS
    ) -> tuple[np.ndarray, np.ndarray]:
        grid = np.asarray(values).reshape(-1, self.shape[1])
        out = np.full((*self.shape, len(probs)), np.nan)
        counts = np.zeros(self.shape, dtype=np.int64)
        for g in range(self.shape[0]):
            rows = grid[self.run_groups == g]
            if not rows.size:
                continue
            for r in range(self.shape[1]):
                column = rows[:, r].astype(np.float64)
                column = column[np.isfinite(column)]
                counts[g, r] = column.size
                if column.size:
                    out[g, r] = np.quantile(column, probs)
        return out, counts


def _column_ranges(file: pq.ParquetFile, columns: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Each column's finite (min, max): from the row groups' statistics, else by a pass."""
    names = file.schema_arrow.names
    ranges: dict[str, tuple[float, float]] = {}
    for column in columns:
        index = names.index(column)
        low, high = math.inf, -math.inf
        for group in range(file.metadata.num_row_groups):
            stats = file.metadata.row_group(group).column(index).statistics
            if stats is None or not stats.has_min_max:
                low, high = math.nan, math.nan
                break
            low, high = min(low, float(stats.min)), max(high, float(stats.max))
        if math.isfinite(low) and math.isfinite(high):
            ranges[column] = (low, high)
            continue
        low, high = math.inf, -math.inf
        for group in range(file.metadata.num_row_groups):
            read = file.read_row_group(group, columns=[column], use_threads=False)
            values = as_numpy(read.column(0))
            finite = values[np.isfinite(values)]
            if finite.size:
                low, high = min(low, float(finite.min())), max(high, float(finite.max()))
        ranges[column] = (low, high) if low <= high else (0.0, 0.0)
    return ranges


def streamed_fan_quantiles(
    path: Path,
    run_groups: np.ndarray,
    n_rounds: int,
    n_groups: int,
    columns: Sequence[str],
    probs: Sequence[float] = FAN_PROBS,
    bins: int = FAN_BINS,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-(group, round) quantiles of metrics of a rounds file, in flat memory.

    One pass over the file, batch by batch: each value lands in one of ``bins`` equal
    bins of its metric's range (taken from the file's statistics) in its (group, round)
    cell; a quantile is read off the cell's histogram, interpolating within the bin.
    Each is within ``(max - min) / bins`` of the exact quantile.

    Args:
        path: A rounds.parquet (columns ``run``, ``round`` and the metrics).
        run_groups: The group of each run index (-1 for none), indexed by run.
        n_rounds: Number of rounds (including round 0).
        n_groups: Number of groups.
        columns: The metric columns.
        probs: The quantiles wanted.
        bins: Bins per cell.

    Returns:
        Column -> ``(quantiles, counts)`` as :func:`fan_quantiles` gives them.
    """
    cells = n_groups * n_rounds
    with pq.ParquetFile(path) as file:
        ranges = _column_ranges(file, columns)
        hists = {column: np.zeros(cells * bins, dtype=np.int64) for column in columns}
        for at in range(file.metadata.num_row_groups):
            # One row group at a time: iter_batches would buffer ahead (tens of MB).
            batch = file.read_row_group(at, columns=["run", "round", *columns], use_threads=False)
            run = as_numpy(batch.column(0))
            round_ = as_numpy(batch.column(1)).astype(np.int64)
            inside = (run >= 0) & (run < run_groups.size)
            group = np.full(run.size, -1, dtype=np.int64)
            group[inside] = run_groups[run[inside]]
            valid = (group >= 0) & (group < n_groups) & (round_ >= 0) & (round_ < n_rounds)
            cell = group * n_rounds + round_
            for k, column in enumerate(columns):
                values = as_numpy(batch.column(2 + k)).astype(np.float64)
                ok = valid & np.isfinite(values)
                low, high = ranges[column]
                scale = bins / (high - low) if high > low else 0.0
                slot = np.clip(((values[ok] - low) * scale).astype(np.int64), 0, bins - 1)
                hists[column] += np.bincount(cell[ok] * bins + slot, minlength=cells * bins)
    pa.default_memory_pool().release_unused()
    out = {}
    for column in columns:
        hist = hists[column].reshape(n_groups, n_rounds, bins)
        out[column] = _histogram_quantiles(hist, *ranges[column], probs)
    return out


def _histogram_quantiles(
    hist: np.ndarray, low: float, high: float, probs: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles (numpy's linear rule) read off per-cell histograms over [low, high]."""
    bins = hist.shape[-1]
    width = (high - low) / bins
    counts = hist.sum(axis=-1)
    out = np.full((*hist.shape[:-1], len(probs)), np.nan)
    for cell in np.ndindex(hist.shape[:-1]):
        n = int(counts[cell])
        if n == 0:
            continue
        cumulative = np.cumsum(hist[cell])

        def value(rank: int, cumulative: np.ndarray = cumulative, cell: tuple = cell) -> float:
            slot = int(np.searchsorted(cumulative, rank, side="right"))
            before = int(cumulative[slot - 1]) if slot else 0
            inside = (rank - before + 0.5) / int(hist[cell][slot])
            return low + width * (slot + inside)

        for i, prob in enumerate(probs):
            position = prob * (n - 1)
            rank = math.floor(position)
            here = value(rank)
            after = value(min(rank + 1, n - 1))
            out[(*cell, i)] = min(high, max(low, here + (position - rank) * (after - here)))
    return out, counts


def _cells_for(
    rounds: np.ndarray, groups: np.ndarray, n_rounds: int, n_groups: int
) -> _Cells | _RunBlocks:
    """The cheapest way to take per-(group, round) quantiles of these rows."""
    if n_rounds > 0 and rounds.size % n_rounds == 0:
        grid_rounds = rounds.reshape(-1, n_rounds)
        grid_groups = groups.reshape(-1, n_rounds)
        if (grid_rounds == np.arange(n_rounds, dtype=rounds.dtype)).all() and (
            grid_groups == grid_groups[:, :1]
        ).all():
            return _RunBlocks(grid_groups[:, 0].copy(), n_rounds, n_groups)
    return _Cells(rounds, groups, n_rounds, n_groups)


def _far_cluster(values: np.ndarray) -> tuple[float, float] | None:
    """The range of a small, distant cluster of payoffs (a catastrophic ending), if any.

    Payoffs split by a gap wider than the rest of their range put together, with the
    smaller side holding under a quarter of the runs, are drawn apart: otherwise one
    ending's -100 squeezes every other run into a bar or two.

    Returns:
        (low, high) of the far cluster's values, or ``None``.
    """
    finite = np.sort(values[np.isfinite(values)])
    if finite.size < 2:
        return None
    distinct = np.unique(finite)
    if distinct.size < 3:
        return None
    gaps = np.diff(distinct)
    i = int(np.argmax(gaps))
    span = float(distinct[-1] - distinct[0])
    if gaps[i] < 0.5 * span:
        return None
    below = int(np.searchsorted(finite, distinct[i], side="right"))
    if below <= finite.size - below:
        if below > 0.25 * finite.size:
            return None
        return float(distinct[0]), float(distinct[i])
    if finite.size - below > 0.25 * finite.size:
        return None
    return float(distinct[i + 1]), float(distinct[-1])


def _payoff_bins(values: np.ndarray, max_bins: int = 40) -> tuple[np.ndarray, np.ndarray, bool]:
    """Bin edges, bar centres and whether the payoff is discrete (never zero-width bins).

    A payoff with few distinct values (e.g. -2, -1, 0) is discrete: one bar per value.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.array([-0.5, 0.5]), np.array([0.0]), True
    distinct = np.unique(finite)
    if distinct.size == 1:
        v = float(distinct[0])
        half = max(abs(v) * 0.05, 0.5)
        return np.array([v - half, v + half]), np.array([v]), True
    if distinct.size <= 25:
        gap = float(np.min(np.diff(distinct)))
        edges = np.concatenate(
            [[distinct[0] - gap / 2], (distinct[:-1] + distinct[1:]) / 2, [distinct[-1] + gap / 2]]
        )
        return edges, distinct, True
    low, high = float(distinct[0]), float(distinct[-1])
    edges = np.linspace(low, high, max_bins + 1)
    return edges, (edges[:-1] + edges[1:]) / 2, False


# ---------------------------------------------------------------------------------------
# Figure furniture


def _plural(n: int) -> str:
    # A no-break space keeps "(10,000 runs)" together when a long title wraps.
    return f"{n:,}\u00a0run" if n == 1 else f"{n:,}\u00a0runs"


def _title(manifest: dict[str, Any], summary: dict[str, Any], what: str) -> str:
    scenario = manifest["scenario"].get("title") or manifest["scenario"]["id"]
    return f"{scenario} — {what} ({_plural(int(summary['runs']))})"


def _footer(manifest: dict[str, Any]) -> str:
    version = manifest.get("program", {}).get("version", "?")
    parts = [
        f"seed {manifest['seed']}",
        f"scenario {manifest['scenario']['sha256'][:8]}",
        f"wargame v{version}",
    ]
    overrides = manifest.get("settings") or manifest.get("overrides") or {}
    if overrides:
        settings = ", ".join(
            f"{k}={v:g}" if isinstance(v, int | float) else f"{k}={v}" for k, v in overrides.items()
        )
        parts.append("set " + (settings if len(settings) <= 60 else settings[:59] + "…"))
    return " · ".join(parts)


def _new_figure(
    manifest: dict[str, Any],
    summary: dict[str, Any],
    what: str,
    height: float = HEIGHT,
    width: float = WIDTH,
) -> tuple[Figure, SubFigure]:
    """A titled figure with the footer, and the panel to draw in (above the footer)."""
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    # Agg's canvas from the start: the layout then measures the texts with the renderer
    # that draws them, and the drawing finds every measure cached (another renderer
    # measured them all again, a tenth of a chart's time).
    FigureCanvasAgg(fig)
    fig.get_layout_engine().set(h_pad=0.06, w_pad=0.06)
    title = textwrap.fill(_title(manifest, summary, what), 70, break_on_hyphens=False)
    fig.suptitle(title, fontweight="bold")
    body, foot = fig.subfigures(
        2, 1, height_ratios=[height - FOOTER_INCHES, FOOTER_INCHES], hspace=0
    )
    foot.text(0.995, 0.15, _footer(manifest), ha="right", va="bottom", fontsize=10, color="#555555")
    return fig, body


def _text_inches(text: str, size: float, bold: bool = False) -> float:
    """The width of a (multi-line) label in inches, measured from the font."""
    prop = FontProperties(size=size, weight="bold" if bold else "normal")
    widths = [
        text_to_path.get_text_width_height_descent(line, prop, ismath=False)[0]
        for line in text.split("\n")
    ]
    return max(widths, default=0.0) / 72


def _bottom_legend(panel: SubFigure, handles: list[Any], ncols: int, **kwargs: Any) -> None:
    """A legend under the axes (and above the footer), in as many columns as fit."""
    size = matplotlib.rcParams["legend.fontsize"]
    size = size if isinstance(size, int | float) else 12
    entry = max(_text_inches(h.get_label(), size) for h in handles) + 1.0  # handle, gaps
    fits = int((panel.get_figure(root=True).get_figwidth() - 0.4) // entry)
    panel.legend(
        handles=handles,
        loc="outside lower center",
        ncols=max(1, min(ncols, fits, len(handles))),
        frameon=False,
        **kwargs,
    )


def _wrap(text: str, width: int, lines: int = 3) -> str:
    """Wrap a label to ``width`` characters and at most ``lines`` lines (then "…").

    Identifiers break after an underscore rather than mid-word.
    """
    # A marked space after each underscore lets textwrap break there; it is removed after.
    spaced = text.replace("_", "_\0 ")
    wrapped = [
        line.replace("\0 ", "").replace("\0", "")
        for line in textwrap.wrap(spaced, width, break_on_hyphens=False)
    ] or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 1] + "…"
    return "\n".join(wrapped)


def _save(fig: Figure, path: Path, manifest: dict[str, Any]) -> Path:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    lay_out_once(fig)
    try:
        # The figure is made at DPI: savefig's pixels, encoded in 40% of its time.
        metadata = {"Title": path.stem, "Description": _footer(manifest)}
        save_png(fig, tmp, facecolor="white", metadata=metadata)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _number(x: float) -> str:
    """A number for a label: three significant figures, a true minus sign."""
    text = f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"
    return text.replace("-", "\u2212")


def _pct(x: float) -> str:
    """A share as a percentage: 0%, 0.05%, 6.8%, 43.1%, 100%."""
    value = 100 * x
    if value in (0, 100):
        return f"{value:.0f}%"
    return f"{value:.2f}%" if value < 1 else f"{value:.1f}%"


# ---------------------------------------------------------------------------------------
# The charts


def plot_endings(manifest: dict[str, Any], summary: dict[str, Any]) -> Figure:
    """Ending probabilities as horizontal bars with 95% Wilson intervals.

    Args:
        manifest: The batch manifest.
        summary: The batch summary (``summary["endings"]``).

    Returns:
        The figure.
    """
    layout = manifest["layout"]
    colours = ending_colours(layout)
    rows = summary["endings"]
    fig, panel = _new_figure(manifest, summary, "ending probabilities")
    ax = panel.add_subplot()
    y = np.arange(len(rows))
    p = np.array([r["p"] for r in rows], dtype=float)
    low = np.array([r["low"] for r in rows], dtype=float)
    high = np.array([r["high"] for r in rows], dtype=float)
    ax.barh(
        y,
        p,
        height=0.62 if len(rows) > 1 else 0.4,
        color=[colours.get(r["id"], "#999999") for r in rows],
        edgecolor="white",
    )
    ax.errorbar(
        p,
        y,
        xerr=np.vstack([np.clip(p - low, 0, None), np.clip(high - p, 0, None)]),
        fmt="none",
        ecolor="#222222",
        elinewidth=1.6,
        capsize=6,
        capthick=1.6,
    )
    for yi, row in zip(y, rows, strict=True):
        label = f"{_pct(row['p'])}  [{_pct(row['low'])}–{_pct(row['high'])}]"
        ax.text(
            row["high"] + 0.012, yi, label, va="center", ha="left", fontsize=13, color="#222222"
        )
    ax.set_yticks(y, [_wrap(r.get("title") or r["id"], 26, 2) for r in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)  # first ending at the top
    right = min(1.0, float(high.max()) if len(high) else 1.0) + 0.3
    ax.set_xlim(0, right)
    ax.xaxis.set_major_locator(FixedLocator([t for t in np.arange(0, 1.01, 0.1) if t <= right]))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(f"Share of runs (whiskers: {interval_label(summary)})")
    ax.grid(axis="x", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(axis="y", length=0)
    return fig


def plot_branch_tree(
    manifest: dict[str, Any], summary: dict[str, Any], tree: list[dict[str, Any]]
) -> Figure:
    """The branch tree: outcome shares and, per outcome, the ending mix.

    Args:
        manifest: The batch manifest.
        summary: The batch summary (for the title).
        tree: The numbers from :func:`branch_tree`.

    Returns:
        The figure.
    """
    layout = manifest["layout"]
    colours = ending_colours(layout)
    titles = {e["id"]: e.get("title") or e["id"] for e in layout["endings"]}
    endings = [e["id"] for e in layout["endings"]]
    has_branches = tree[0]["id"] is not None
    # Row positions: the outcomes of each branch, a gap between branches.
    positions: list[list[float]] = []
    y = 0.0
    for branch in tree:
        positions.append([y + i for i in range(len(branch["outcomes"]))])
        y += len(branch["outcomes"]) + 0.8
    total_rows = y - 0.8
    height = max(HEIGHT, 2.4 + 0.85 * total_rows)
    what = "branch tree and ending mix" if has_branches else "ending mix"
    fig, panel = _new_figure(manifest, summary, what, height=height)
    # Lay the tree out in inches, measured from its labels, so no box is ever cut off.
    roots, boxes = {}, {}
    for branch in tree:
        if branch["id"] is None:
            continue
        when = f"round {branch['round']}" if branch.get("round") is not None else ""
        roots[branch["id"]] = "\n".join(x for x in (_wrap(str(branch["id"]), 16, 2), when) if x)
        for outcome in branch["outcomes"]:
            name = _wrap(outcome["id"], 18, 2)
            if outcome.get("because"):  # the runs another branch's outcome took elsewhere
                name += "\n" + _wrap(f"({outcome['because']})", 22, 2)
            boxes[(branch["id"], outcome["id"])] = (
                f"{name}\n{_pct(outcome['share'])} · n={outcome['count']:,}"
            )
    pad = 2 * 0.5 * 13 / 72  # box padding on both sides (pad=0.5 em at 13 pt)
    root_w = max([_text_inches(t, 13, bold=True) for t in roots.values()] or [1.0]) + pad
    box_w = max([_text_inches(t, 13) for t in boxes.values()] or [1.4]) + pad
    root_x = 0.05 + root_w / 2
    elbow_x = root_w + 0.35
    box_x = elbow_x + 0.3 + box_w / 2
    tree_width = box_x + box_w / 2 + 0.15
    bar_width = max(3.5, WIDTH - 0.8 - tree_width)
    tree_ax, bar_ax = panel.subplots(
        1, 2, sharey=True, width_ratios=[tree_width, bar_width], gridspec_kw={"wspace": 0.02}
    )

    tree_ax.set_xlim(0, tree_width)
    tree_ax.axis("off")
    for branch, ys in zip(tree, positions, strict=True):
        if branch["id"] is None:
            continue
        outcome_colour = outcome_colours(layout, branch["id"])
        root_y = (ys[0] + ys[-1]) / 2
        for yi in ys:
            tree_ax.plot(
                [root_x, elbow_x, elbow_x, box_x],
                [root_y, root_y, yi, yi],
                color="#777777",
                linewidth=1.8,
                zorder=1,
                solid_capstyle="round",
            )
        tree_ax.text(
            root_x,
            root_y,
            roots[branch["id"]],
            ha="center",
            va="center",
            fontsize=13,
            fontweight="bold",
            zorder=3,
            bbox={"boxstyle": "round,pad=0.5", "fc": "#f2f2f2", "ec": "#555555", "lw": 1.5},
        )
        for yi, outcome in zip(ys, branch["outcomes"], strict=True):
            tree_ax.text(
                box_x,
                yi,
                boxes[(branch["id"], outcome["id"])],
                ha="center",
                va="center",
                fontsize=13,
                zorder=3,
                bbox={
                    "boxstyle": "round,pad=0.45",
                    "fc": "white",
                    "ec": outcome_colour.get(outcome["id"], NOT_REACHED_COLOUR),
                    "lw": 3,
                },
            )
    if not has_branches:
        outcome = tree[0]["outcomes"][0]
        tree_ax.text(
            tree_width / 2,
            positions[0][0],
            f"All runs\nn={outcome['count']:,}",
            ha="center",
            va="center",
            fontsize=13,
            bbox={"boxstyle": "round,pad=0.45", "fc": "white", "ec": "#555555", "lw": 2},
        )

    for branch, ys in zip(tree, positions, strict=True):
        for yi, outcome in zip(ys, branch["outcomes"], strict=True):
            left = 0.0
            if outcome["count"] == 0:
                bar_ax.barh(yi, 1.0, height=0.6, color="white", edgecolor="#bbbbbb", hatch="//")
                bar_ax.text(0.5, yi, "no runs", ha="center", va="center", color="#555555")
                continue
            for ending in endings:
                share = outcome["ending_shares"][ending]
                if share <= 0:
                    continue
                colour = colours[ending]
                bar_ax.barh(yi, share, left=left, height=0.6, color=colour, edgecolor="white", lw=1)
                if share >= 0.06:
                    bar_ax.text(
                        left + share / 2,
                        yi,
                        f"{100 * share:.0f}%",
                        ha="center",
                        va="center",
                        fontsize=12,
                        color=_text_colour(colour),
                    )
                left += share
    bar_ax.set_xlim(0, 1)
    slack = max(0.0, (2.5 - total_rows) / 2)  # keep one or two bars from getting fat
    bar_ax.set_ylim(total_rows - 0.5 + slack, -0.5 - slack)
    bar_ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    bar_ax.xaxis.set_major_locator(FixedLocator([0, 0.25, 0.5, 0.75, 1.0]))
    bar_ax.set_xlabel("Ending mix within the outcome" if has_branches else "Ending mix of all runs")
    bar_ax.tick_params(axis="y", left=False, labelleft=False)
    bar_ax.spines["left"].set_visible(False)
    handles = [Patch(color=colours[e], label=_wrap(titles[e], 36, 2)) for e in endings]
    _bottom_legend(panel, handles, min(len(handles), 4), title="Ending")
    return fig


def _exact_cells(
    path: Path, by_run: np.ndarray, rows: int, n_groups: int
) -> tuple[_Cells | _RunBlocks, int]:
    """Each row's (group, round) cell for exact quantiles, and the number of rounds."""
    # Read by row groups so the int64 run column is never whole in memory.
    groups = np.empty(rows, dtype=np.int16)
    rounds = np.empty(rows, dtype=np.int16)
    at = 0
    for batch in row_groups(path, ["run", "round"]):
        run = as_numpy(batch.column("run"))
        inside = run < by_run.size
        group = np.full(run.size, -1, dtype=np.int16)
        group[inside] = by_run[run[inside]]
        groups[at : at + run.size] = group
        rounds[at : at + run.size] = as_numpy(batch.column("round"))
        at += run.size
    pa.default_memory_pool().release_unused()
    n_rounds = int(rounds.max()) + 1 if rows else 1
    return _cells_for(rounds, groups, n_rounds, n_groups), n_rounds


def _grouping_branch(layout: dict[str, Any], group_by: str | None) -> dict[str, Any] | None:
    """The branch whose outcomes split the charts: ``group_by``, else the first (or None)."""
    branches = layout["branches"]
    check_group_by([b["id"] for b in branches], group_by)
    if not branches:
        return None
    if group_by is None:
        return branches[0]
    return next(b for b in branches if b["id"] == group_by)


def _branch_groups(
    runs: pa.Table, layout: dict[str, Any], n: int, group_by: str | None = None
) -> tuple[np.ndarray, list[str], list[str]]:
    """Each run's group (outcome of the grouping branch), the group labels and colours."""
    branch = _grouping_branch(layout, group_by)
    if branch is None:
        return np.zeros(n, dtype=np.int16), ["All runs"], [ALL_RUNS_COLOUR]
    labels = [*branch["outcomes"], NOT_REACHED]
    codes = _codes(runs.column(f"branch.{branch['id']}"), [*branch["outcomes"], ""])
    codes[codes < 0] = len(labels) - 1
    colours = outcome_colours(layout, branch["id"])
    # In a legend "(not reached)" was a puzzle to an author: the branch never came up
    # in those runs (the game ended first, or its condition never held).
    shown = [*branch["outcomes"], f"{branch['id']} did not come up"]
    return codes, shown, [colours[label] for label in labels]


def _round_formatter(layout: dict[str, Any]) -> tuple[Callable[[float, Any], str], str]:
    """Tick labels 'round / date' and the axis label.

    Point r of a fan chart is the state at the end of round r, so it carries the date
    on which round r ends (the next one starts): an analyst read the last point, labelled
    with the last round's start, as a month early. Point 0, before anyone moved, is
    labelled "start".
    """
    try:
        start = dt.date.fromisoformat(str(layout.get("start_date")))
        step = float(layout.get("round_days") or 0)
    except ValueError:
        start, step = None, 0.0
    if start is None or step <= 0:
        return (lambda x, _pos: f"{x:.0f}"), "Round"

    def date_of(r: float) -> dt.date:  # the end of round r
        return start + dt.timedelta(days=r * step)

    end = date_of(int(layout.get("rounds") or 1))
    years = f"{start.year}" if end.year == start.year else f"{start.year}–{end.year}"

    def fmt(x: float, _pos: Any) -> str:
        if abs(x - round(x)) > 1e-9:
            return ""
        if round(x) < 0:
            return ""
        if round(x) == 0:
            return "0\nstart"
        d = date_of(round(x))
        return f"{x:.0f}\n{d.day} {d:%b}"

    return fmt, f"Round (and the date it ends, {years})"


def plot_fans(
    folder: Path,
    manifest: dict[str, Any],
    summary: dict[str, Any],
    runs: pa.Table,
    group_by: str | None = None,
    which: slice = slice(None),
) -> list[tuple[str, Figure]]:
    """Fan charts of the first few metrics, split by a branch's outcome.

    Args:
        folder: The results folder (``rounds.parquet`` is read from it).
        manifest: The batch manifest.
        summary: The batch summary (for titles).
        runs: Runs with the columns ``run`` and ``branch.<id>`` of the grouping branch.
        group_by: The branch whose outcomes split the runs; the first branch if None.
        which: Which of the fan charts to draw (of the first
            :data:`~sim.batch.outputs.MAX_FAN_METRICS` metrics); all by default.

    Returns:
        (file stem, figure) per metric; empty if there is no ``rounds.parquet`` or no
        metric.

    Raises:
        OptionsError: If ``group_by`` names no branch of the scenario.
    """
    layout = manifest["layout"]
    metrics = layout["metrics"][:MAX_FAN_METRICS][which]
    path = folder / "rounds.parquet"
    if not metrics or not path.is_file():
        return []
    n = runs.num_rows
    codes, labels, colours = _branch_groups(runs, layout, n, group_by)
    run_ids = as_numpy(runs.column("run"))
    by_run = np.full(int(run_ids.max()) + 1 if n else 0, -1, dtype=np.int16)
    by_run[run_ids] = codes
    with pq.ParquetFile(path) as file:
        columns = set(file.schema_arrow.names)
        rows = file.metadata.num_rows
    wanted = [f"metric.{m['id']}" for m in metrics if f"metric.{m['id']}" in columns]
    if rows > EXACT_FAN_ROWS:
        n_rounds = int(layout.get("rounds") or 0) + 1
        streamed = streamed_fan_quantiles(path, by_run, n_rounds, len(labels), wanted)
        cells: Any = None
    else:
        streamed = None
        cells, n_rounds = _exact_cells(path, by_run, rows, len(labels))
    group_counts = np.bincount(codes.astype(np.int64), minlength=len(labels))

    formatter, xlabel = _round_formatter(layout)
    grouping = _grouping_branch(layout, group_by)
    figures = []
    for metric in metrics:
        column = f"metric.{metric['id']}"
        if column not in columns:
            continue
        if streamed is not None:
            quantiles, counts = streamed[column]
        else:
            values = read_column(path, column, np.float32)
            quantiles, counts = cells.quantiles(values)
            del values
        name = metric.get("title") or metric["id"]
        fig, panel = _new_figure(manifest, summary, f"{name} by round")
        ax = panel.add_subplot()
        x = np.arange(n_rounds)
        handles = []
        shown = int(np.count_nonzero(group_counts))
        # Fewer layers of colour when many groups overlap, so the bands do not turn grey.
        faint, dark = (0.14, 0.3) if shown <= 2 else (0.09, 0.2)
        for g, label in enumerate(labels):
            if group_counts[g] == 0:
                continue
            q = quantiles[g]
            ok = counts[g] > 0
            colour = colours[g]
            ax.fill_between(x, q[:, 0], q[:, 4], where=ok, color=colour, alpha=faint, lw=0)
            ax.fill_between(x, q[:, 1], q[:, 3], where=ok, color=colour, alpha=dark, lw=0)
            ax.plot(x, q[:, 2], color=colour, linewidth=2.8, marker="o", markersize=4)
            share = group_counts[g] / n
            handles.append(
                Line2D(
                    [],
                    [],
                    color=colour,
                    linewidth=2.8,
                    label=f"{_wrap(label, 28, 2)} ({_pct(share)}, n={group_counts[g]:,})",
                )
            )
        handles += [
            Line2D([], [], color="#444444", linewidth=2.8, label="median"),
            Patch(color="#444444", alpha=0.45, label="middle 50% of runs"),
            Patch(color="#444444", alpha=0.16, label="middle 90% of runs"),
        ]
        for branch in layout["branches"]:
            if branch.get("round") is None or not 0 <= branch["round"] < n_rounds:
                continue
            ax.axvline(branch["round"], color="#555555", linestyle=":", linewidth=1.6)
            right_edge = branch["round"] > 0.75 * (n_rounds - 1)
            ax.annotate(
                _wrap(str(branch["id"]), 20, 1),
                xy=(branch["round"], 1),
                xytext=(-4 if right_edge else 4, 0),
                textcoords="offset points",
                xycoords=("data", "axes fraction"),
                ha="right" if right_edge else "left",
                va="top",
                fontsize=12,
                color="#444444",
                bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
            )
        ax.set_xlim(-0.15, max(n_rounds - 1, 1) + 0.15)
        # Two-line labels (round, date) fit about ten times across; every round gets a tick.
        ax.xaxis.set_major_locator(MaxNLocator(nbins=min(max(n_rounds, 2), 9), integer=True))
        if n_rounds <= 60:
            ax.xaxis.set_minor_locator(MultipleLocator(1))
        ax.xaxis.set_major_formatter(FuncFormatter(formatter))
        ax.set_xlabel(xlabel)
        unit = metric.get("unit") or ""
        label = f"{name} ({unit})" if unit else name
        if unit and len(label) > 34:
            label = f"{_wrap(name, 34, 2)}\n({unit})"
        ax.set_ylabel(label if "\n" in label else _wrap(label, 34, 2))
        ax.grid(color="#e3e3e3", linewidth=0.8)
        ax.set_axisbelow(True)
        legend_title = None if grouping is None else _wrap(f"Outcome of {grouping['id']}", 70, 1)
        _bottom_legend(panel, handles, 3, title=legend_title)
        stem = "fan_" + re.sub(r"[^A-Za-z0-9_.-]+", "_", str(metric["id"]))
        figures.append((stem, fig))
    return figures


def _grid(n: int) -> tuple[int, int]:
    cols = {1: 1, 2: 2, 3: 3, 4: 2}.get(n, 3 if n in (5, 6, 9) else 4)
    return cols, math.ceil(n / cols)


def plot_payoffs(
    manifest: dict[str, Any],
    summary: dict[str, Any],
    folder: Path,
    runs: pa.Table,
    group_by: str | None = None,
) -> Figure:
    """Each actor's total payoff: histograms stacked by a branch's outcome.

    Args:
        manifest: The batch manifest.
        summary: The batch summary (for the title).
        folder: The results folder (payoff columns are read one at a time).
        runs: Runs with the column ``branch.<id>`` of the grouping branch (if any).
        group_by: The branch whose outcomes colour the bars; the first branch if None.

    Returns:
        The figure.
    """
    layout = manifest["layout"]
    actors = layout["actors"]
    n = runs.num_rows
    codes, labels, colours = _branch_groups(runs, layout, n, group_by)
    present = [g for g in range(len(labels)) if np.any(codes == g)]
    cols, rows = _grid(max(len(actors), 1))
    height = HEIGHT if rows <= 2 else 2.6 * rows + 1.2
    width = WIDTH if cols <= 3 else 12.0
    fig, panel = _new_figure(
        manifest, summary, "total payoff per actor", height=height, width=width
    )
    axes = np.atleast_1d(panel.subplots(rows, cols, squeeze=False)).ravel()
    for ax in axes[len(actors) :]:
        ax.set_visible(False)
    for i, (actor, ax) in enumerate(zip(actors, axes, strict=False)):
        column = f"payoff.{actor['id']}"
        values = read_column(folder / "runs.parquet", column)
        far = _far_cluster(values)
        in_far = (
            np.isfinite(values) & (values >= far[0]) & (values <= far[1])
            if far is not None
            else np.zeros(n, dtype=bool)
        )
        edges, centres, discrete = _payoff_bins(np.where(in_far, np.nan, values))
        widths = np.diff(edges)
        bar_width = (0.7 * widths.min()) if discrete else widths
        bottom = np.zeros(centres.size)
        for g in present:
            counts, _ = np.histogram(values[(codes == g) & ~in_far], bins=edges)
            share = counts / n
            _bars(ax, centres, share, bar_width, bottom, colours[g],
                  edgecolor="white" if discrete else colours[g], linewidth=0.4)  # fmt: skip
            bottom += share
        finite = values[np.isfinite(values)]
        mean = float(finite.mean()) if finite.size else None
        if mean is not None:
            if edges[0] <= mean <= edges[-1]:
                ax.axvline(mean, color="black", linewidth=2.2)
            mean_text = f"mean {_number(mean)}"
        else:
            mean_text = "no values"
        name = actor.get("name") or actor["id"]
        ax.set_title(f"{_wrap(name, 34 if cols <= 2 else 26, 2)}\n{mean_text}", fontsize=13)
        if discrete and centres.size <= 6:
            ax.set_xticks(centres, [_number(c) for c in centres])
        else:
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5 if cols <= 2 else 4))
        if far is not None:
            _draw_far_cluster(ax, values, in_far, far, edges, codes, present, colours, n)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 5, 10]))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{round(100 * v, 6):g}%"))
        if i % cols == 0:
            ax.set_ylabel("% of runs")
        ax.grid(axis="y", color="#e3e3e3", linewidth=0.8)
        ax.set_axisbelow(True)
    handles: list[Any] = [Line2D([], [], color="black", linewidth=2.2, label="mean")]
    grouping = _grouping_branch(layout, group_by)
    title = "Total payoff over all rounds (each actor on its own scale)"
    if grouping is not None:
        handles += [Patch(color=colours[g], label=_wrap(labels[g], 30, 1)) for g in present]
        title += "\n" + _wrap(f"bars coloured by the outcome of {grouping['id']}", 80, 1)
    _bottom_legend(panel, handles, min(len(handles), 5), title=title)
    return fig


def _bars(
    ax: Any,
    centres: np.ndarray,
    heights: np.ndarray,
    width: float | np.ndarray,
    bottom: np.ndarray,
    colour: str,
    edgecolor: str,
    linewidth: float,
) -> PolyCollection:
    """Bars as ``ax.bar`` draws them (centred, from ``bottom``), as one collection.

    A histogram of 40 bins for each of 7 actors and 2 groups is 560 bars: drawn as
    rectangles one by one they took half a second of the payoff chart's 0.7 s, as one
    collection per colour a few milliseconds, for the same picture. (One difference:
    ``ax.bar`` makes every bar's base sticky, so a stack whose top bar was empty could
    pin the axis to the tallest bar with no headroom; here only 0 is sticky.)
    """
    left = centres - np.asarray(width) / 2
    right = left + width
    top = bottom + heights
    corners = np.stack(
        [
            np.column_stack([left, bottom]),
            np.column_stack([left, top]),
            np.column_stack([right, top]),
            np.column_stack([right, bottom]),
        ],
        axis=1,
    )
    bars = PolyCollection(corners, facecolors=colour, edgecolors=edgecolor, linewidths=linewidth)
    ax.add_collection(bars, autolim=True)
    if 0.0 not in ax.sticky_edges.y:  # the axis starts at 0, as a bar chart's does
        ax.sticky_edges.y.append(0.0)
    ax.autoscale_view()
    return bars


def plot_payoffs_by_ending(
    manifest: dict[str, Any], summary: dict[str, Any], folder: Path
) -> Figure | None:
    """Each actor's total payoff among the runs of each ending, one panel per pair.

    One catastrophic ending (a war at -1,000 when peace pays +20) squashes every other
    ending into a bar or two on a shared axis, and when it is common it is no small far
    cluster :func:`plot_payoffs` could set apart. Here every (actor, ending) panel has
    its own scale and shows the share of *that ending's* runs per bin, so each ending's
    distribution is readable whatever the others do; the mean is marked and written in
    the panel, so endings can still be compared by their numbers. Rows are actors,
    columns endings (in scenario order, those that occurred); each panel's Axes has the
    gid ``"ACTOR|ENDING"``.

    Args:
        manifest: The batch manifest.
        summary: The batch summary (for the title and the endings' counts).
        folder: The results folder (``ending`` and payoff columns are read one at a time).

    Returns:
        The figure, or ``None`` when the scenario has no actors or no run ended.
    """
    layout = manifest["layout"]
    actors = layout["actors"]
    n = int(summary["runs"])
    endings = [e for e in summary["endings"] if e["count"] > 0]
    if not actors or not endings or n == 0:
        return None
    table = read_columns(folder / "runs.parquet", ["ending"])
    ending_of = np.asarray(table.column("ending").to_pylist(), dtype=object).astype(str)
    colours = ending_colours(layout)
    cols, rows = len(endings), len(actors)
    width = max(WIDTH, 2.5 * cols + 1.6)
    height = 1.9 * rows + 2.2
    fig, panel = _new_figure(manifest, summary, "total payoff by ending", height, width)
    axes = panel.subplots(rows, cols, squeeze=False)
    for i, actor in enumerate(actors):
        values = read_column(folder / "runs.parquet", f"payoff.{actor['id']}")
        for j, ending in enumerate(endings):
            ax = axes[i, j]
            ax.set_gid(f"{actor['id']}|{ending['id']}")
            mine = values[(ending_of == ending["id"]) & np.isfinite(values)]
            edges, centres, discrete = _payoff_bins(mine, max_bins=20)
            widths = np.diff(edges)
            counts, _ = np.histogram(mine, bins=edges)
            _bars(
                ax,
                centres,
                counts / max(mine.size, 1),
                (0.7 * widths.min()) if discrete else widths,
                np.zeros(centres.size),
                colours.get(ending["id"], ALL_RUNS_COLOUR),
                edgecolor="white",
                linewidth=0.3,
            )
            if mine.size:
                mean = float(mine.mean())
                ax.axvline(mean, color="black", linewidth=1.6)
                ax.text(0.02, 0.97, f"mean {_number(mean)}", transform=ax.transAxes,
                        ha="left", va="top", fontsize=9.5,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                              "alpha": 0.8})  # fmt: skip
            ax.set_ylim(bottom=0)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=3))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _number(v)))
            ax.yaxis.set_major_locator(MaxNLocator(nbins=3, steps=[1, 2, 5, 10]))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{round(100 * v, 6):g}%"))
            ax.tick_params(labelsize=9.5)
            ax.grid(axis="y", color="#e3e3e3", linewidth=0.7)
            ax.set_axisbelow(True)
            if i == 0:
                title = ending.get("title") or ending["id"]
                ax.set_title(
                    f"{_wrap(title, 22, 2)}\n{_plural(ending['count'])} ({_pct(ending['p'])})",
                    fontsize=10.5,
                )
            if j == 0:
                ax.set_ylabel(_wrap(actor["id"], 12, 1), fontsize=11)
    caption = (
        "Bars: share of the ending's runs; black line: mean. Each panel has its own scale "
        "(read the values on its axis), so a catastrophic ending squashes no other."
    )
    panel.supxlabel(_wrap(caption, int(11 * width), 3), fontsize=10, color="#444444")
    return fig


def payoffs_by_ending_png(
    folder: str | Path,
    manifest: dict[str, Any] | None = None,
    summary: dict[str, Any] | None = None,
) -> bytes | None:
    """:func:`plot_payoffs_by_ending` of a results folder as PNG bytes (for the report).

    Args:
        folder: A finished results folder.
        manifest: Its manifest, as checked by the results loader (read if None).
        summary: Its summary, as checked (or recomputed) by the loader; pass it, since
            ``summary.json`` itself may be damaged (read if None).

    Returns:
        The PNG, or ``None`` when there is nothing to draw.
    """
    import io

    folder = Path(folder)
    manifest, summary = _load_inputs(folder, manifest, summary)
    with matplotlib.rc_context(STYLE):
        fig = plot_payoffs_by_ending(manifest, summary, folder)
        if fig is None:
            return None
        buffer = io.BytesIO()
        lay_out_once(fig)
        fig.savefig(buffer, format="png", dpi=DPI, facecolor="white",
                    pil_kwargs={"compress_level": 1})  # fmt: skip
    return buffer.getvalue()


def _draw_far_cluster(
    ax: Any,
    values: np.ndarray,
    in_far: np.ndarray,
    far: tuple[float, float],
    edges: np.ndarray,
    codes: np.ndarray,
    present: list[int],
    colours: list[str],
    n: int,
) -> None:
    """One bar for a distant cluster of payoffs, set just beyond the main histogram.

    The axis is broken (a // mark and the cluster's true value as its tick): the bar
    stands for every run in the cluster, at its own, far-away value.
    """
    span = float(edges[-1] - edges[0]) or 1.0
    left = far[1] < edges[0]
    position = edges[0] - 0.18 * span if left else edges[-1] + 0.18 * span
    width = 0.06 * span
    bottom = 0.0
    for g in present:
        share = np.count_nonzero(in_far & (codes == g)) / n
        ax.bar([position], [share], width=width, bottom=bottom, color=colours[g],
               edgecolor="black", linewidth=0.6, hatch="//")  # fmt: skip
        bottom += share
    value = float(np.mean(values[in_far]))
    label = _number(far[0]) if far[0] == far[1] else f"{_number(far[0])} to {_number(far[1])}"
    ax.annotate(
        f"{label}\n{np.count_nonzero(in_far) / n:.1%} of runs",
        (position, bottom),
        xytext=(0, 4),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=10,
    )
    # Axis break: the gap between the histogram and the far bar is not to scale.
    gap = (edges[0] + position + width / 2) / 2 if left else (edges[-1] + position - width / 2) / 2
    ax.annotate("//", (gap, 0), xytext=(0, -2), textcoords="offset points", ha="center",
                va="top", fontsize=12, fontweight="bold", annotation_clip=False)  # fmt: skip
    ticks = [t for t in ax.get_xticks() if edges[0] <= t <= edges[-1]]
    ax.set_xticks([*ticks, position], [*(_number(t) for t in ticks), _number(value)])
    low = min(edges[0], position - width)
    high = max(edges[-1], position + width)
    ax.set_xlim(low - 0.03 * span, high + 0.03 * span)


# ---------------------------------------------------------------------------------------
# Entry point


def _load_inputs(
    folder: Path, manifest: dict[str, Any] | None, summary: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    if manifest is None:
        from sim.batch.results import Results

        manifest = Results(folder).manifest
    if summary is None:
        path = folder / "summary.json"
        if path.is_file():
            summary = json.loads(path.read_text("utf-8"))
        else:
            from sim.batch.summary import summarize_file

            summary = summarize_file(folder / "runs.parquet", manifest)
    return manifest, summary


def make_plots(
    folder: str | Path,
    manifest: dict[str, Any] | None = None,
    summary: dict[str, Any] | None = None,
    *,
    strict: bool = False,
    group_by: str | None = None,
    parts: Sequence[str] | None = None,
    fans: slice = slice(None),
) -> list[Path]:
    """Draw the standard charts of a batch into ``folder/plots/``.

    Reads ``runs.parquet`` (only the needed columns) and ``rounds.parquet`` (if
    present) directly, so it works on a batch that is not yet marked complete. Each
    PNG is written under a temporary name and renamed into place; charts of an earlier
    call that were not drawn this time (e.g. fan charts after ``--no-rounds``) are
    removed.

    Args:
        folder: The results folder.
        manifest: The batch manifest; read from ``folder`` if None.
        summary: The batch summary; read from ``folder/summary.json`` (or computed) if
            None.
        strict: Raise if a chart fails. Otherwise a failing chart is skipped with a
            warning, so a long batch is never lost to a drawing problem.
        group_by: The branch whose outcomes split the fan charts and colour the payoff
            histograms; the scenario's first branch if None.
        parts: Draw only these of :data:`PLOT_PARTS` (and remove no stale chart: the
            caller drawing the rest does, with :func:`remove_stale_plots`); all if None.
        fans: Which of the fan charts to draw, if ``parts`` has them (the caller
            drawing the rest draws the others); all by default.

    Returns:
        The paths of the PNGs written.

    Raises:
        ResultsError: If ``folder`` is not a results folder (and no manifest is given).
        OptionsError: If ``group_by`` names no branch of the scenario.
    """
    folder = Path(folder)
    manifest, summary = _load_inputs(folder, manifest, summary)
    layout = manifest["layout"]
    check_group_by([b["id"] for b in layout["branches"]], group_by)
    out = folder / "plots"
    out.mkdir(exist_ok=True)
    written: list[Path] = []

    columns = ["run", "ending", *(f"branch.{b['id']}" for b in layout["branches"])]
    # Text columns stay dictionary-coded: a few bytes a run, not one string each.
    runs = read_columns(folder / "runs.parquet", columns, dictionary=columns[1:])

    def attempt(name: str, draw: Callable[[], list[tuple[str, Figure]]]) -> None:
        try:
            with matplotlib.rc_context(STYLE):
                for stem, fig in draw():
                    written.append(_save(fig, out / f"{stem}.png", manifest))
        except Exception as exc:
            if strict:
                raise
            warnings.warn(f"plot {name} not drawn: {exc!r}", RuntimeWarning, stacklevel=3)
        finally:
            release_memory()

    wanted = set(PLOT_PARTS if parts is None else parts)
    if "endings" in wanted:
        attempt("endings", lambda: [("endings", plot_endings(manifest, summary))])
    if "branch_tree" in wanted:
        attempt(
            "branch_tree",
            lambda: [
                ("branch_tree", plot_branch_tree(manifest, summary, branch_tree(runs, layout)))
            ],
        )
    if "fans" in wanted:
        attempt("fan charts", lambda: plot_fans(folder, manifest, summary, runs, group_by, fans))
    if "payoffs" in wanted and layout["actors"]:
        attempt(
            "payoffs",
            lambda: [("payoffs", plot_payoffs(manifest, summary, folder, runs, group_by))],
        )
    if parts is None:
        remove_stale_plots(folder, written)
    return written


def draw_part(
    folder: str,
    manifest: dict[str, Any],
    summary: dict[str, Any],
    group_by: str | None,
    parts: Sequence[str],
    fans: slice = slice(None),
) -> tuple[list[Path], list[tuple[str, type[Warning]]]]:
    """:func:`make_plots` of some parts, for a worker process: paths and warnings.

    A chart that fails is skipped with a warning, as in :func:`make_plots`; the
    warnings are returned, so the process that asked can give them to its user.

    Args:
        folder: The results folder.
        manifest: The batch manifest.
        summary: The batch summary.
        group_by: As for :func:`make_plots`.
        parts: Which of :data:`PLOT_PARTS` to draw.
        fans: Which of the fan charts, as for :func:`make_plots`.

    Returns:
        The PNGs written, and each warning raised while drawing (text, category).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        written = make_plots(folder, manifest, summary, group_by=group_by, parts=parts, fans=fans)
    return written, [(str(w.message), w.category) for w in caught]

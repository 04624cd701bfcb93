"""Charts of a comparison of batches, drawn as PNGs for slides.

Each chart uses one colour per batch (the baseline in dark grey, the others in
colour-blind-safe Okabe–Ito colours), the fonts of the batch charts (:mod:`sim.analysis.plots`),
a title, and a footer naming the batches with their seeds and ``--set`` values.

``compare-endings.png`` / ``compare-branches.png``
    Each ending (each branch outcome, one panel per branch) as a group of horizontal
    bars, one per batch, with the batch's own 95% Wilson interval as a whisker.
``compare-differences.png``
    The change from the baseline of every probability (percentage points, left) and of
    every actor's mean payoff (right), with 95% intervals; a filled marker is
    significant at 5% after Holm's adjustment. The subtitle says whether the
    comparison is paired (common random numbers: narrower intervals), partly paired
    (how many runs in common are matched) or independent.
``compare-metrics.png``
    Fan charts of the key metrics, one panel per metric: for each batch the median over
    runs by round, with the middle 50% and 90% of runs as bands.
"""

from __future__ import annotations

import math
import os
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import Formatter, MaxNLocator, PercentFormatter

from sim.analysis.chartkit import lay_out_once, save_png
from sim.analysis.comparetext import places, signed
from sim.analysis.comparison import Comparison
from sim.analysis.plots import DPI, STYLE

if TYPE_CHECKING:
    import pandas as pd

#: The baseline in dark grey, then Okabe–Ito colours (yellow left out: unreadable on a projector).
BATCH_PALETTE = (
    "#4D4D4D",
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
)
MAX_METRIC_PANELS = 9
WIDTH = 12.0


def batch_colours(labels: list[str]) -> dict[str, str]:
    """The colour of each batch: the baseline (first) dark grey, then distinct colours.

    Args:
        labels: The batches' labels, baseline first.

    Returns:
        Label -> hex colour.
    """
    return {label: BATCH_PALETTE[i % len(BATCH_PALETTE)] for i, label in enumerate(labels)}


def _wrap(text: str, width: int, lines: int = 2) -> str:
    wrapped = textwrap.wrap(str(text), width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 1] + "…"
    return "\n".join(wrapped)


def _pct(x: float) -> str:
    value = 100 * x
    if value in (0, 100):
        return f"{value:.0f}%"
    return f"{value:.1f}%" if value >= 1 else f"{value:.2f}%"


class _SignedTicks(Formatter):
    """Signed tick labels with the decimals the ticks need: +0.5 stays +0.5.

    An analyst's trial read "-1, -0, 0, +0, +1, +2, +2" under ticks at half steps.
    """

    def __call__(self, x: float, pos: int | None = None) -> str:
        if not x:
            return "0"
        locs = [t for t in self.locs if t] or [x]
        decimals = next(
            (
                d
                for d in range(4)
                if all(abs(round(t, d) - t) < 1e-9 * max(1, abs(t)) for t in locs)
            ),
            3,
        )
        return _signed(x, decimals)


def _signed(x: float, decimals: int) -> str:
    """A signed number with a true minus sign."""
    return signed(x, decimals).replace("-", "\u2212")


def _scenario_title(comparison: Comparison) -> str:
    titles = dict.fromkeys(
        m["scenario"].get("title") or m["scenario"]["id"] for m in comparison.manifests
    )
    return " / ".join(titles)


def _footer(comparison: Comparison) -> str:
    parts = []
    for label, manifest in zip(comparison.labels, comparison.manifests, strict=True):
        overrides = manifest.get("settings") or manifest.get("overrides") or {}
        settings = ", ".join(
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in overrides.items()
        )
        parts.append(
            f"{label}: seed {manifest['seed']}, {manifest['runs']:,} runs"
            + (f", set {settings}" if settings else "")
        )
    version = comparison.manifests[0].get("program", {}).get("version", "?")
    text = " · ".join(parts) + f" · wargame v{version}"
    return text if len(text) <= 170 else text[:169] + "…"


def _pairing_subtitle(comparison: Comparison) -> str:
    clustered = bool(comparison.clustered)
    sobol = " · Sobol sweeps compared by their base samples" if clustered else ""
    paired = [lab for lab, p in zip(comparison.labels, comparison.paired, strict=True) if p]
    if paired and len(paired) == len(comparison.labels) - 1:
        return (
            "Paired comparison (common random numbers): run k vs run k, "
            "so the intervals of the differences are narrower" + sobol
        )
    kinds: dict[str, list[str]] = {}
    for label, matching, shared in zip(
        comparison.labels[1:], comparison.matching[1:], comparison.common_runs[1:], strict=True
    ):
        kind = {
            "paired": "paired (common random numbers), narrower intervals",
            "partly paired": f"partly paired ({shared:,} common runs matched)",
        }.get(matching, "independent batches")
        kinds.setdefault(kind, []).append(label)
    if list(kinds) != ["independent batches"]:
        return " · ".join(f"{', '.join(labels)}: {kind}" for kind, labels in kinds.items()) + sobol
    forced = any("--unpaired" in note for note in comparison.pairing_notes)
    return (
        "Independent batches"
        + (" (forced with --unpaired)" if forced else "")
        + (
            ": Welch t over base samples"
            if clustered
            else ": two-proportion z-test; Welch t for payoffs"
        )
    )


FOOTER_INCHES = 0.35


def _bars_subtitle(comparison: Comparison) -> str:
    text = "Share of runs, each batch with its own 95% Wilson interval"
    if comparison.any_paired:
        text += (
            "\nPaired (common random numbers): the differences have narrower intervals "
            "(compare-differences.png)"
        )
    elif "partly paired" in comparison.matching:
        text += (
            "\nPartly paired (the common runs matched): the differences have narrower "
            "intervals (compare-differences.png)"
        )
    return text


def _new_figure(
    comparison: Comparison, title: str, subtitle: str, height: float
) -> tuple[Figure, SubFigure]:
    """A figure with a bold title, a subtitle and a footer; returns the panel to draw in."""
    fig = Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)  # one renderer lays out and draws (see plots._new_figure)
    fig.get_layout_engine().set(h_pad=0.06, w_pad=0.06)
    fig.suptitle(title, fontsize=17, fontweight="bold")
    body, foot = fig.subfigures(
        2, 1, height_ratios=[height - FOOTER_INCHES, FOOTER_INCHES], hspace=0
    )
    body.suptitle(subtitle, fontsize=13, color="#333333")
    foot.text(
        0.995, 0.2, _footer(comparison), ha="right", va="bottom", fontsize=10, color="#555555"
    )
    return fig, body


def _legend(panel: SubFigure, comparison: Comparison, extra: list[Any] | None = None) -> None:
    colours = batch_colours(comparison.labels)
    handles: list[Any] = [
        Patch(
            color=colours[label],
            label=_wrap(label + (" (baseline)" if i == 0 and label != "baseline" else ""), 36, 1),
        )
        for i, label in enumerate(comparison.labels)
    ]
    handles += extra or []
    panel.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(len(handles), 4),
        frameon=False,
        fontsize=13,
    )


def _save(fig: Figure, path: Path) -> Path:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    lay_out_once(fig)
    save_png(fig, tmp, facecolor="white")  # savefig's pixels, encoded in 40% of its time
    os.replace(tmp, path)
    return path


def _grouped_bars(ax: Any, comparison: Comparison, rows: pd.DataFrame, names: list[str]) -> None:
    """One group of bars per outcome (top to bottom), one bar per batch, with whiskers."""
    colours = batch_colours(comparison.labels)
    k = len(comparison.labels)
    height = 0.8 / k
    outcomes = list(dict.fromkeys(rows["outcome"]))
    for j, label in enumerate(comparison.labels):
        mine = rows[rows["label"] == label].set_index("outcome").reindex(outcomes)
        y = np.arange(len(outcomes)) - 0.4 + height * (j + 0.5)
        p = mine["p"].to_numpy(dtype=float)
        low, high = mine["low"].to_numpy(dtype=float), mine["high"].to_numpy(dtype=float)
        ax.barh(y, p, height=height * 0.92, color=colours[label], edgecolor="white")
        ax.errorbar(
            p,
            y,
            xerr=np.vstack([np.clip(p - low, 0, None), np.clip(high - p, 0, None)]),
            fmt="none",
            ecolor="#111111",
            elinewidth=1.4,
            capsize=min(5, 30 * height),
            capthick=1.4,
        )
        fontsize = 13 if k <= 3 else 11
        for yi, pi, hi in zip(y, p, high, strict=True):
            ax.text(hi + 0.008, yi, _pct(pi), va="center", ha="left", fontsize=fontsize)
    ax.set_yticks(np.arange(len(outcomes)), [_wrap(n, 24, 2) for n in names])
    ax.set_ylim(len(outcomes) - 0.5, -0.5)
    right = min(1.0, float(rows["high"].max())) * 1.12 + 0.06
    ax.set_xlim(0, right)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=7, steps=[1, 2, 2.5, 5, 10]))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.grid(axis="x", color="#e3e3e3", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(axis="y", length=0)


def plot_endings(comparison: Comparison) -> Figure:
    """Ending probabilities by batch, with each batch's 95% Wilson interval.

    Args:
        comparison: The comparison.

    Returns:
        The figure.
    """
    rows = comparison.probabilities[comparison.probabilities["kind"] == "ending"]
    titles = list(dict.fromkeys(rows["title"]))
    n_outcomes = len(titles)
    height = max(5.5, 1.6 + n_outcomes * (0.35 + 0.22 * len(comparison.labels)))
    fig, panel = _new_figure(
        comparison,
        f"{_scenario_title(comparison)} — endings by batch",
        _bars_subtitle(comparison),
        height,
    )
    ax = panel.add_subplot()
    _grouped_bars(ax, comparison, rows, titles)
    ax.set_xlabel("Share of runs")
    _legend(panel, comparison)
    return fig


def plot_branches(comparison: Comparison) -> Figure | None:
    """Branch outcome probabilities by batch, one panel per branch.

    Args:
        comparison: The comparison.

    Returns:
        The figure, or None if no batch has branches.
    """
    rows = comparison.probabilities[comparison.probabilities["kind"] == "branch"]
    if rows.empty:
        return None
    groups = list(dict.fromkeys(rows["group"]))
    sizes = [rows[rows["group"] == g]["outcome"].nunique() for g in groups]
    per_outcome = 0.35 + 0.22 * len(comparison.labels)
    height = max(5.5, 1.8 + sum(sizes) * per_outcome + 0.6 * len(groups))
    fig, panel = _new_figure(
        comparison,
        f"{_scenario_title(comparison)} — branch outcomes by batch",
        _bars_subtitle(comparison),
        height,
    )
    axes = panel.subplots(len(groups), 1, height_ratios=sizes, squeeze=False)[:, 0]
    for ax, group in zip(axes, groups, strict=True):
        mine = rows[rows["group"] == group]
        _grouped_bars(ax, comparison, mine, list(dict.fromkeys(mine["outcome"])))
        ax.set_title(f"Branch: {group}", loc="left", fontsize=14, fontweight="bold")
    right = max(ax.get_xlim()[1] for ax in axes)
    for ax in axes:  # one scale for every branch, so bars compare across panels
        ax.set_xlim(0, right)
    axes[-1].set_xlabel("Share of runs")
    _legend(panel, comparison)
    return fig


def _forest(
    ax: Any, comparison: Comparison, rows: pd.DataFrame, names: list[str], *, percent: bool
) -> None:
    """Differences from the baseline with 95% intervals, one row per item."""
    colours = batch_colours(comparison.labels)
    others = comparison.labels[1:]
    k = len(others)
    step = 0.7 / k
    items = list(dict.fromkeys(zip(rows["group"], rows["outcome"], strict=True)))
    scale = 100.0 if percent else 1.0
    for j, label in enumerate(others):
        mine = rows[rows["label"] == label].set_index(["group", "outcome"]).reindex(items)
        y = np.arange(len(items)) - 0.35 + step * (j + 0.5)
        diff = mine["diff"].to_numpy(dtype=float) * scale
        low = mine["low"].to_numpy(dtype=float) * scale
        high = mine["high"].to_numpy(dtype=float) * scale
        significant = mine["significant"].to_numpy(dtype=bool)
        colour = colours[label]
        ax.hlines(y, low, high, color=colour, linewidth=3)
        ax.scatter(diff[significant], y[significant], s=90, color=colour, zorder=3)
        ax.scatter(
            diff[~significant],
            y[~significant],
            s=90,
            facecolor="white",
            edgecolor=colour,
            linewidth=2.2,
            zorder=3,
        )
        for yi, d, lo, hi in zip(y, diff, low, high, strict=True):
            if math.isnan(d):
                continue
            text = _signed(d, places(d, lo, hi, 1 if percent else 2))
            ax.annotate(
                text,
                (hi, yi),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=12 if k <= 2 else 10,
                color="#222222",
                bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none"},
                zorder=5,
            )
    ax.axvline(0, color="#222222", linewidth=1.2)
    ax.set_yticks(np.arange(len(items)), [_wrap(n, 24, 2) for n in names])
    ax.set_ylim(len(items) - 0.5, -0.5)
    ax.grid(axis="x", color="#e3e3e3", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(axis="y", length=0)
    lo, hi = ax.get_xlim()
    span = hi - lo
    ax.set_xlim(lo - 0.02 * span, hi + 0.18 * span)  # room for the labels
    # Signed on both panels, probabilities and payoffs alike (an analyst's re-trial).
    ax.xaxis.set_major_formatter(_SignedTicks())


def plot_differences(comparison: Comparison) -> Figure:
    """Change from the baseline of every probability and mean payoff, with 95% intervals.

    Args:
        comparison: The comparison.

    Returns:
        The figure.
    """
    frame = comparison.differences
    probability = frame[frame["kind"] != "payoff"]
    payoff = frame[frame["kind"] == "payoff"]
    names = [
        row.title if row.kind == "ending" else f"{row.group}: {row.outcome}"
        for row in probability.drop_duplicates(["group", "outcome"]).itertuples(index=False)
    ]
    rows_left = len(names)
    rows_right = payoff["outcome"].nunique()
    height = max(
        6.0, 2.2 + 0.55 * max(rows_left, rows_right) * max(1.0, 0.6 * (len(comparison.labels) - 1))
    )
    fig, panel = _new_figure(
        comparison,
        f"Change from the baseline ({comparison.baseline}), with 95% intervals",
        _pairing_subtitle(comparison),
        height,
    )
    if rows_right:
        left, right = panel.subplots(1, 2, width_ratios=[1.35, 1])
    else:
        left, right = panel.add_subplot(), None
    _forest(left, comparison, probability, names, percent=True)
    left.set_xlabel("Difference in share of runs (percentage points)")
    left.set_title("Endings and branch outcomes", loc="left", fontsize=14, fontweight="bold")
    if right is not None:
        actors = [
            f"{row.outcome}" for row in payoff.drop_duplicates(["outcome"]).itertuples(index=False)
        ]
        _forest(right, comparison, payoff, actors, percent=False)
        right.set_xlabel("Difference in mean total payoff")
        right.set_title("Mean payoff per actor", loc="left", fontsize=14, fontweight="bold")
    extra = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=10,
            color="#444444",
            label="significant (Holm, 5%)",
        ),
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=10,
            markerfacecolor="white",
            markeredgecolor="#444444",
            markeredgewidth=2,
            label="not significant",
        ),
    ]
    colours = batch_colours(comparison.labels)
    handles: list[Any] = [
        Patch(color=colours[label], label=_wrap(f"{label} − {comparison.baseline}", 44, 1))
        for label in comparison.labels[1:]
    ]
    panel.legend(
        handles=handles + extra,
        loc="outside lower center",
        ncols=min(len(handles) + 2, 4),
        frameon=False,
        fontsize=13,
    )
    return fig


def plot_metrics(comparison: Comparison) -> Figure | None:
    """Fan charts of the key metrics by round, one panel per metric, one colour per batch.

    Args:
        comparison: The comparison.

    Returns:
        The figure, or None if no batch kept trajectories.
    """
    fans = comparison.fans
    if fans.empty:
        return None
    metrics = [m for m in comparison.metrics if m["id"] in set(fans["metric"])]
    shown = metrics[:MAX_METRIC_PANELS]
    cols = 1 if len(shown) == 1 else 2 if len(shown) in (2, 4) else 3
    rows = math.ceil(len(shown) / cols)
    height = max(5.5, 1.9 + 3.4 * rows)
    subtitle = "Median over runs (line), middle 50% of runs (band) and middle 90% (dashed)"
    fig, panel = _new_figure(
        comparison, f"{_scenario_title(comparison)} — key metrics by round", subtitle, height
    )
    axes = np.atleast_1d(panel.subplots(rows, cols, squeeze=False)).ravel()
    colours = batch_colours(comparison.labels)
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    for i, (ax, metric) in enumerate(zip(axes, shown, strict=False)):
        for label in comparison.labels:
            fan = fans[(fans["label"] == label) & (fans["metric"] == metric["id"])]
            if fan.empty:
                continue
            x = fan["round"].to_numpy()
            colour = colours[label]
            # The 90% band as dashed edges, not a fill: several batches' fills mix into mud.
            ax.plot(x, fan["q05"], color=colour, linewidth=1.4, linestyle="--")
            ax.plot(x, fan["q95"], color=colour, linewidth=1.4, linestyle="--")
            ax.fill_between(x, fan["q25"], fan["q75"], color=colour, alpha=0.2, lw=0)
            ax.plot(x, fan["q50"], color=colour, linewidth=2.8, marker="o", markersize=5)
        title = metric.get("title") or metric["id"]
        unit = metric.get("unit") or ""
        ax.set_title(_wrap(title, 34 if cols <= 2 else 26, 2), fontsize=14)
        if unit:
            ax.set_ylabel(_wrap(unit, 24, 1))
        if i >= len(shown) - cols:
            ax.set_xlabel("Round")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.grid(color="#e3e3e3", linewidth=0.8)
        ax.set_axisbelow(True)
    extra = [
        Line2D([], [], color="#444444", linewidth=2.8, label="median"),
        Patch(color="#444444", alpha=0.3, label="middle 50%"),
        Line2D([], [], color="#444444", linewidth=1.4, linestyle="--", label="middle 90%"),
    ]
    _legend(panel, comparison, extra)
    return fig


def draw_comparison(comparison: Comparison, folder: Path) -> list[Path]:
    """Draw every comparison chart into ``folder``.

    Args:
        comparison: The comparison.
        folder: Where to write the PNGs.

    Returns:
        The PNGs written (charts without data, e.g. no branches, are skipped).
    """
    written = []
    charts = (
        ("compare-endings.png", plot_endings),
        ("compare-branches.png", plot_branches),
        ("compare-differences.png", plot_differences),
        ("compare-metrics.png", plot_metrics),
    )
    with matplotlib.rc_context(STYLE):
        for name, draw in charts:
            fig = draw(comparison)
            if fig is not None:
                written.append(_save(fig, folder / name))
    return written

"""Charts of an explanation: tornado charts of the drivers and PRIM's peeling trajectory.

Both are drawn from one outcome's entry of :func:`sim.analysis.explanation.explain`.
Axis ticks on probabilities get as many decimals as their spacing needs, so a rare
outcome's axis reads ``0.5% 1.0% 1.5%`` rather than ``0% 1% 2% 2%``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

#: The tornado chart shows at most this many parameters.
TORNADO_TOP = 12

LOW_COLOUR, HIGH_COLOUR = "#4C72B0", "#DD8452"


def percent_decimals(values: list[float]) -> int:
    """The fewest decimals that show every tick (a probability) exactly as a percentage."""
    for decimals in range(5):
        shown = [round(100 * v, decimals) for v in values]
        if all(abs(s - 100 * v) < 1e-7 for s, v in zip(shown, values, strict=True)):
            return decimals
    return 4


def percent_axis(axis: Any, low: float, high: float, ticks: int = 6) -> None:
    """Limits and ticks of a probability axis, every tick label distinct.

    Args:
        axis: A matplotlib x or y axis.
        low: Lower limit.
        high: Upper limit.
        ticks: About how many ticks.
    """
    from matplotlib.ticker import FixedLocator, MaxNLocator, PercentFormatter

    locator = MaxNLocator(nbins=ticks, steps=[1, 2, 2.5, 5, 10])
    values = [v for v in locator.tick_values(low, high) if low - 1e-12 <= v <= high + 1e-12]
    values = [v for v in values if -1e-9 <= v <= 1 + 1e-9] or [low, high]
    axis.set_major_locator(FixedLocator(values))
    axis.set_major_formatter(PercentFormatter(1.0, decimals=percent_decimals(values)))


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    from sim.analysis.chartkit import lay_out_once, save_png

    tmp = path.with_name(f".{path.name}.tmp")
    lay_out_once(fig)
    save_png(fig, tmp)  # savefig's pixels, encoded in 40% of its time
    plt.close(fig)
    tmp.replace(path)


def _header(fig: Any, height: float, title: str, subtitle: str) -> float:
    """Title and subtitle at the top of a figure, wrapped to its width; returns inches."""
    width = fig.get_size_inches()[0]
    title_lines = textwrap.wrap(title, width=int(width * 7.2)) or [""]
    sub_lines = textwrap.wrap(subtitle, width=int(width * 11.5))
    top = 0.15
    fig.text(0.015, 1 - top / height, "\n".join(title_lines), fontsize=14, fontweight="bold",
             ha="left", va="top", linespacing=1.25)  # fmt: skip
    top += 0.27 * len(title_lines) + 0.08
    fig.text(0.015, 1 - top / height, "\n".join(sub_lines), fontsize=9.5, color="#555555",
             ha="left", va="top", linespacing=1.3)  # fmt: skip
    return top + 0.19 * len(sub_lines) + 0.15


def _tornado_rows(entry: dict[str, Any], measured: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The bars: one per parameter, (label, low end, high end, significant, note)."""
    rows = []
    if measured is not None:
        found = entry.get("measured", {}).get("parameters", {})
        if not found:
            parameters = measured["parameters"]
            found = {n: e["outcomes"][entry["id"]] for n, e in parameters.items()}
        ordered = sorted(found.items(), key=lambda kv: -abs(kv[1]["change"]))
        for name, m in ordered[:TORNADO_TOP]:
            note = f"{100 * m['change']:+.1f} pts [{100 * m['low']:+.1f}, {100 * m['high']:+.1f}]"
            rows.append(
                {
                    "name": name,
                    "low": {"label": f"= {m['low_label']}", "p": m["p_low"]},
                    "high": {"label": f"= {m['high_label']}", "p": m["p_high"]},
                    "significant": m["significant"],
                    "note": note if m["significant"] else f"{note}, not significant",
                }
            )
        return rows
    parameters = [r for r in entry.get("ranking", []) if r["kind"] == "parameter"]
    for row in parameters[:TORNADO_TOP]:
        note = f"{100 * row['effect']:+.1f} pts"
        rows.append(
            {
                "name": row["input"],
                "low": row["low"],
                "high": row["high"],
                "significant": row["significant"],
                "note": note if row["significant"] else f"{note}, not significant",
            }
        )
    return rows


def tornado_chart(
    entry: dict[str, Any], path: Path, measured: dict[str, Any] | None = None
) -> bool:
    """Draw one outcome's tornado chart: P(outcome) at each parameter's low and high end.

    Args:
        entry: One outcome of :func:`sim.analysis.explanation.explain` (with its ranking).
        path: The PNG to write.
        measured: The measured effects, if any: the bars then show them.

    Returns:
        Whether a chart was drawn (False when no parameter varies).
    """
    fig = tornado_figure(entry, measured)
    if fig is None:
        return False
    _save(fig, path)
    return True


def _bar_labels(row: dict[str, Any], base: float) -> list[tuple[str, float, int]]:
    """A tornado row's two labels: (text, x where it is put, side: -1 left, 1 right).

    The lower end's label goes left of its bar (or of the line), the higher's right.
    """
    left, right = sorted((row["low"], row["high"]), key=lambda e: e["p"])
    return [
        (f"{end['label']}: {end['p']:.1%}", x, side)
        for end, x, side in ((left, min(left["p"], base), -1), (right, max(right["p"], base), 1))
    ]


def _room_for_labels(
    rows: list[dict[str, Any]], base: float, left: float, right: float
) -> tuple[float, float]:
    """The x-limits widened so each bar's label fits inside the plot area.

    A label takes a share ``k`` of the plot's width (about 6.2 of the figure's 10
    inches; a character of DejaVu Sans at 10 points about 0.55 em, plus the 4-point
    gap), so a label left of ``x`` fits if ``x - k (right - left) >= left``. An analyst's
    trial read "≤ -1.39: 2.9%" over the parameter's name: the axis had stopped at -2%.
    Below 0 the axis has no ticks (:func:`percent_axis`), so the room is blank.
    """
    needs = [
        (x, side, min((len(text) * 0.55 * 10 + 4) / 72 / 6.2, 0.45))
        for row in rows
        for text, x, side in _bar_labels(row, base)
    ]
    for _ in range(3):  # each side's room depends on the other's; settles in two
        for x, side, k in needs:
            if side < 0:
                left = min(left, (x - k * right) / (1 - k))
            else:
                right = max(right, (x - k * left) / (1 - k))
    return left, right


def tornado_figure(entry: dict[str, Any], measured: dict[str, Any] | None = None) -> Any:
    """The tornado chart's figure (see :func:`tornado_chart`); ``None`` without rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = _tornado_rows(entry, measured)
    if not rows:
        return None
    base = entry["p"]
    # Measured bars are set against the measured runs' own baseline, not the batch's
    # (the chart is drawn before the entry gets its "measured" part).
    baseline = (measured or {}).get("baseline", {}).get(entry["id"])
    if measured is not None and baseline is not None:
        base = baseline
    height = 2.5 + 0.62 * len(rows)
    fig, ax = plt.subplots(figsize=(10, height), dpi=150)
    shown = [base] + [row[end]["p"] for row in rows for end in ("low", "high")]
    lo, hi = min(shown), max(shown)
    span = max(hi - lo, 0.01)
    margin = 0.25 * span / (1 - 2 * 0.25)
    left_limit, right_limit = max(-0.02, lo - margin), hi + margin
    left_limit, right_limit = _room_for_labels(rows, base, left_limit, right_limit)
    for i, row in enumerate(rows):
        y = len(rows) - 1 - i
        ends = [(row["low"], LOW_COLOUR), (row["high"], HIGH_COLOUR)]
        # The longer bar first, so a shorter one on the same side stays visible on top.
        for end, colour in sorted(ends, key=lambda e: -abs(e[0]["p"] - base)):
            ax.barh(y, end["p"] - base, left=base, height=0.62, color=colour,
                    alpha=0.92 if row["significant"] else 0.3)  # fmt: skip
        for text, x, side in _bar_labels(row, base):
            ax.annotate(text, (x, y), xytext=(4 * side, 0),
                        textcoords="offset points", ha="left" if side > 0 else "right",
                        va="center", fontsize=10, color="#333333")  # fmt: skip
    ax.axvline(base, color="#222222", linewidth=1.2)
    labels = [f"{row['name']}\n{row['note']}" for row in rows]
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(list(reversed(labels)), fontsize=10.5)
    ax.tick_params(axis="x", labelsize=11)
    ax.set_xlim(left_limit, right_limit)
    percent_axis(ax.xaxis, left_limit, right_limit)
    ax.set_xlim(left_limit, right_limit)
    ax.set_xlabel(f"P({entry['title']})", fontsize=12)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if measured is not None:
        subtitle = (
            f"Measured: each parameter at the low (blue) and high (orange) end of its range "
            f"on the same {measured['runs']:,} runs (common random numbers); line: "
            "baseline. Change with 95% interval; faded: not significant (Holm, 5%)."
        )
    else:
        subtitle = (
            "Bar ends: probability among runs with the parameter in its lowest fifth "
            "(blue) and highest fifth (orange); line: all runs. Faded: not significant "
            "(permutation test, Holm, 5%)."
        )
    where = "baseline" if measured is not None and baseline is not None else "all runs"
    title = f"P(“{entry['title']}”) at each parameter's low and high end ({where}: {base:.1%})"
    top = _header(fig, height, title, subtitle)
    from sim.analysis.chartkit import tight_layout

    tight_layout(fig, rect=(0, 0, 1, 1 - top / height))
    return fig


def trajectory_chart(entry: dict[str, Any], path: Path) -> None:
    """Draw PRIM's peeling trajectory (coverage against density) with the chosen box.

    Args:
        entry: One outcome of :func:`sim.analysis.explanation.explain` (with its rule).
        path: The PNG to write.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rule = entry["rule"]
    points = rule["trajectory"]
    coverage = [p["coverage"] for p in points]
    density = [p["density"] for p in points]
    restricted = [p["restricted"] for p in points]
    height = 6.2
    fig, ax = plt.subplots(figsize=(9, height), dpi=150)
    most = max(restricted) if restricted else 1
    cmap = plt.get_cmap("viridis", max(most, 1) + 1)
    dots = ax.scatter(coverage, density, c=restricted, cmap=cmap, vmin=-0.5,
                      vmax=max(most, 1) + 0.5, s=22, zorder=3)  # fmt: skip
    ax.plot(coverage, density, color="#999999", linewidth=0.8, zorder=2)
    # Box numbers (for --box) on every fifth dot and the last.
    for i, (x, y) in enumerate(zip(coverage, density, strict=True)):
        if i % 5 == 0 or i == len(points) - 1:
            ax.annotate(str(i), (x, y), xytext=(3, 3), textcoords="offset points",
                        fontsize=8, color="#555555")  # fmt: skip
    chosen = points[rule["chosen"]]
    ax.scatter([chosen["coverage"]], [chosen["density"]], marker="*", s=320, color="#d62728",
               edgecolor="black", linewidth=0.8, zorder=4)  # fmt: skip
    box = rule["box"]
    ax.annotate(
        f"chosen box {rule['chosen']}\ndensity {chosen['density']:.1%}, "
        f"coverage {chosen['coverage']:.0%}\nafter the tests: {box['density']:.1%}, "
        f"{box['coverage']:.0%}",
        (chosen["coverage"], chosen["density"]),
        # Towards the middle of the chart, so the label never leaves it.
        xytext=(-14, -14) if chosen["coverage"] > 0.5 else (14, 14),
        textcoords="offset points",
        ha="right" if chosen["coverage"] > 0.5 else "left",
        va="top" if chosen["coverage"] > 0.5 else "bottom",
        fontsize=10,
        bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#bbbbbb"},
    )
    ax.axhline(rule["base_density"], color="#444444", linestyle="--", linewidth=1)
    ax.annotate(f"base rate {rule['base_density']:.1%}", (0.01, rule["base_density"]),
                xycoords=("axes fraction", "data"), xytext=(0, 4), textcoords="offset points",
                fontsize=9.5, color="#444444")  # fmt: skip
    colourbar = fig.colorbar(dots, ax=ax, ticks=range(max(most, 1) + 1))
    colourbar.set_label("inputs restricted")
    ax.set_xlim(0, 1.02)
    percent_axis(ax.xaxis, 0, 1.02)
    ax.set_xlim(0, 1.02)
    low = min([*density, rule["base_density"]])
    high = max(density)
    pad = max(0.02, 0.08 * (high - low))
    ax.set_ylim(max(0, low - pad), min(1, high + pad))
    percent_axis(ax.yaxis, max(0, low - pad), min(1, high + pad))
    ax.set_ylim(max(0, low - pad), min(1, high + pad))
    ax.set_xlabel("coverage: share of the outcome's runs inside the box")
    ax.set_ylabel("density: share of the box's runs with the outcome")
    ax.grid(color="#e3e3e3", linewidth=0.7)
    ax.set_axisbelow(True)
    top = _header(
        fig,
        height,
        f"PRIM peeling trajectory for “{entry['title']}”",
        "Each dot is a box along the peeling, from all runs (right, box 0) to the smallest "
        "(left), numbered for --box; the star is the box chosen (highest support × "
        "(density − base rate), or the one named by --box), before its limits are tested.",
    )
    from sim.analysis.chartkit import tight_layout

    tight_layout(fig, rect=(0, 0, 1, 1 - top / height))
    _save(fig, path)

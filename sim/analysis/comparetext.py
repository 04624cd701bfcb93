"""A comparison of batches as text: a terminal table and a Markdown document.

Probabilities are shown in percent and their differences in percentage points (pts);
payoffs in the scenario's own units. Every number of a table (probabilities; payoffs)
has the same decimal places: as many as its finest difference needs. Every difference
carries its 95% interval and raw p-value; ``*`` marks those significant at 5% after
Holm's adjustment.
"""

from __future__ import annotations

import math
from typing import Any

from sim.analysis.comparison import Comparison


def format_p(p: float) -> str:
    """A p-value for reading: ``<0.001`` for tiny ones, three decimals otherwise."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _pct(p: float, decimals: int = 1) -> str:
    return f"{100 * p:.{decimals}f}%"


def table_places(rows: Any, percent: bool) -> int:
    """Decimal places for every number of one table: its values, differences, intervals.

    The most any row needs (see :func:`places`): a table never shows ``12.3%`` in one
    row and ``12.34%`` in the next, nor a value to fewer places than its difference.

    Args:
        rows: The table's rows of ``Comparison.differences`` (a DataFrame).
        percent: Probabilities (percent and points, at least 1 place) rather than
            payoffs (at least 2).
    """
    scale, at_least = (100, 1) if percent else (1, 2)
    return max(
        [at_least]
        + [
            places(scale * d, scale * lo, scale * hi, at_least)
            for d, lo, hi in zip(rows["diff"], rows["low"], rows["high"], strict=True)
        ]
    )


def signed(x: float, decimals: int) -> str:
    """A signed number with ``decimals`` places; exactly zero is ``±0.00``.

    Every entry of a differences column carries a sign, so the column stays aligned;
    ``±`` tells a difference of exactly zero from a small one rounded to ``+0.00``.
    """
    if math.isnan(x):
        return "n/a"
    if x == 0:
        return f"±{0:.{decimals}f}"
    return f"{x:+.{decimals}f}"


def places(diff: float, low: float, high: float, at_least: int) -> int:
    """Decimal places that show a difference and its interval to about two figures.

    Matched batches can differ by a hair that is still certain: ``-0.0026 [-0.0039,
    -0.0013]`` says more than ``-0.00 [-0.00, -0.00]``.
    """
    spread = max(abs(high - low) / 2, abs(diff)) if math.isfinite(high - low) else abs(diff)
    if not spread > 0:
        return at_least
    return min(6, max(at_least, 1 - math.floor(math.log10(spread))))


def difference_text(
    diff: float, low: float, high: float, at_least: int, exactly: int | None = None
) -> tuple[str, str]:
    """A difference and its 95% interval as text, with matching decimal places.

    Args:
        diff: The difference.
        low: Lower end of its interval.
        high: Upper end.
        at_least: Fewest decimal places (more where the numbers need them).
        exactly: These decimal places instead (a table's, see :func:`table_places`).
    """
    n = places(diff, low, high, at_least) if exactly is None else exactly
    return signed(diff, n), f"[{signed(low, n)}, {signed(high, n)}]"


def _settings(manifest: dict[str, Any]) -> str:
    # As written (a reasoning or a category by name), where the manifest has them.
    overrides = manifest.get("settings") or manifest.get("overrides") or {}
    return " ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in overrides.items()
    )


def pairing_sentence(comparison: Comparison) -> str | None:
    """The sentence that says a comparison is paired, or None if no batch is."""
    paired = [
        label
        for label, is_paired in zip(comparison.labels, comparison.paired, strict=True)
        if is_paired
    ]
    if not paired:
        return None
    return (
        f"Paired comparison (common random numbers): {', '.join(paired)} and "
        f"{comparison.baseline} share the seed and the runs, so run k is compared with "
        "run k; the draws the change does not touch cancel, which usually makes the "
        "intervals narrower than for independent batches."
    )


def _header(comparison: Comparison, width: int) -> list[str]:
    lines = [f"Comparison of {len(comparison.labels)} batches; baseline: {comparison.baseline}"]
    label_width = max(len(label) for label in comparison.labels)
    for i, label in enumerate(comparison.labels):
        manifest = comparison.manifests[i]
        settings = _settings(manifest)
        text = (
            f"  {label:<{label_width}}  {manifest['scenario']['id']}  "
            f"seed {manifest['seed']}  {manifest['runs']:,} runs"
            + (f"  --set {settings}" if settings else "")
            + f"  {comparison.folders[i]}"
        )
        if len(text) <= width:
            lines.append(text)
        else:  # the folder (never cut) on a line of its own, under the label
            lines.append(text.removesuffix(f"  {comparison.folders[i]}"))
            lines.append(f"  {'':<{label_width}}  {comparison.folders[i]}")
    scenarios = sorted({m["scenario"]["id"] for m in comparison.manifests})
    if len(scenarios) > 1:
        # Said first, not only under Methods (an analyst's trial).
        lines += [
            "",
            *_wrap(
                f"Note: the batches play different scenarios ({', '.join(scenarios)}); an "
                "ending or branch missing from one counts as probability 0 there.",
                width,
            ),
        ]
    sentence = pairing_sentence(comparison)
    if sentence:
        lines += ["", *_wrap(sentence, width)]
    common = comparison.common_runs
    independent = [
        f"{label} ({note.removeprefix('independent: ')})"
        for label, is_paired, note, c in zip(
            comparison.labels[1:],
            comparison.paired[1:],
            comparison.pairing_notes[1:],
            common[1:],
            strict=True,
        )
        if not is_paired and not c
    ]
    partly = partly_paired_sentence(comparison)
    if partly:
        lines += ["", *_wrap(partly, width)]
    if independent and (comparison.any_paired or partly):
        lines += _wrap("Compared as independent batches: " + "; ".join(independent), width)
    return lines


def partly_paired_sentence(comparison: Comparison) -> str | None:
    """The sentence on batches matched with the baseline in part, or None if none is.

    Such a batch has the baseline's seed and another runs count: the runs both have
    played the same draws.
    """
    common = comparison.common_runs
    parts = [
        f"{label} ({c:,} of its {manifest['runs']:,} runs)"
        for label, c, manifest in zip(
            comparison.labels[1:], common[1:], comparison.manifests[1:], strict=True
        )
        if c
    ]
    if not parts:
        return None
    return (
        f"Partly paired: {'; '.join(parts)} share the seed of {comparison.baseline}, so "
        "the runs both have played the same draws: they are matched run by run and "
        "their covariance enters the standard error; the other runs count as independent."
    )


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    from sim.analysis.wrapping import wrap_terms

    return wrap_terms(text, width, initial_indent=indent, subsequent_indent=indent + "  ")


def _differences_block(comparison: Comparison, width: int) -> list[str]:
    frame = comparison.differences
    # Titles are never cut: the columns are as wide as their longest entry.
    names = [
        f"{o} ({t})" if k == "payoff" else (o if k == "branch" else t)
        for k, o, t in zip(frame["kind"], frame["outcome"], frame["title"], strict=True)
    ]
    name_width = max([24, *(len(str(n)) for n in names)])
    label_width = max(len(label) for label in comparison.labels)
    # One number of decimal places for all probabilities, another for all payoffs.
    decimals = {
        kind: table_places(frame[chosen], kind == "probability")
        for kind, chosen in (
            ("probability", frame["kind"] != "payoff"),
            ("payoff", frame["kind"] == "payoff"),
        )
        if chosen.any()
    }
    cells = []
    for row in frame.itertuples(index=False):
        if row.kind == "payoff":
            n = decimals["payoff"]
            value, base = f"{row.value:.{n}f}", f"{row.baseline_value:.{n}f}"
            diff, interval = difference_text(row.diff, row.low, row.high, 2, n)
        else:
            n = decimals["probability"]
            value, base = _pct(row.value, n), _pct(row.baseline_value, n)
            diff, interval = difference_text(100 * row.diff, 100 * row.low, 100 * row.high, 1, n)
        cells.append((value, base, diff, interval))
    value_width = max([7, *(len(c[0]) for c in cells)])
    base_width = max([8, *(len(c[1]) for c in cells)])
    diff_width = max([8, *(len(c[2]) for c in cells)])
    interval_width = max([20, *(len(c[3]) for c in cells)])
    lines = [
        "",
        f"  {'':<{name_width}} {'batch':<{label_width}} {'value':>{value_width}} "
        f"{'baseline':>{base_width}} {'diff':>{diff_width}}  "
        f"{'95% interval':<{interval_width}} {'p':>6}",
    ]
    text_of = dict(zip(frame.index, cells, strict=True))
    stacked = [""]
    baseline = comparison.labels[0]
    for kind, group in dict.fromkeys(zip(frame["kind"], frame["group"], strict=True)):
        rows = frame[(frame["kind"] == kind) & (frame["group"] == group)]
        if len(lines) > 2:
            lines.append("")
        if kind == "ending":
            heading = "Endings (share of runs; diff in percentage points)"
        elif kind == "branch":
            heading = f"Branch {group} (share of runs; diff in percentage points)"
        else:
            heading = "Mean payoff per actor (total over rounds)"
        stacked += ["", heading] if len(stacked) > 1 else [heading]
        lines.append(heading)
        shown = None
        for index, row in zip(rows.index, rows.itertuples(index=False), strict=True):
            name = row.outcome if kind == "branch" else row.title
            if kind == "payoff":
                name = f"{row.outcome} ({row.title})"
            name, shown = ("" if name == shown else name), name
            value, base, diff, interval = text_of[index]
            star = " *" if row.significant else ""
            lines.append(
                f"  {name:<{name_width}} "
                f"{row.label:<{label_width}} {value:>{value_width}} {base:>{base_width}} "
                f"{diff:>{diff_width}}  {interval:<{interval_width}} "
                f"{format_p(row.p_value):>6}{star}"
            )
            stacked += [f"  {name}"] if name else []
            stacked.append(
                f"      {row.label} {value.strip()} against {baseline} {base.strip()}: diff "
                f"{diff.strip()} {interval.strip()}, p {format_p(row.p_value).strip()}{star}"
            )
    if max(len(line) for line in lines) <= width:
        return lines
    # A narrow terminal: each outcome on its line, each batch's numbers on the next.
    return stacked


def format_comparison(comparison: Comparison, width: int = 100) -> str:
    """The comparison as a plain-text report for a terminal.

    Args:
        comparison: The comparison.
        width: Where prose wraps (tables are as wide as their longest title; nothing
            is cut).

    Returns:
        Header (batches, pairing), what differs between the scenarios, the differences
        table and the methods used.
    """
    lines = _header(comparison, width)
    differing = {k: v for k, v in comparison.scenario_differences.items() if v}
    lines.append("")
    if differing:
        lines.append(f"What differs from {comparison.baseline}")
        for label, changes in differing.items():
            for change in changes:
                lines += _wrap(f"{label}: {change}", width, indent="  ")
    else:
        lines.append(f"Same scenario text and --set values as {comparison.baseline}.")
    lines += _differences_block(comparison, width)
    lines.append("")
    lines.append("Methods")
    for method in [*comparison.methods, *comparison.notes]:
        lines += _wrap(method, width, indent="  ")
    return "\n".join(lines)


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|")


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _md_test(row: Any) -> list[str]:
    return [
        format_p(row.p_value),
        format_p(row.p_holm),
        "*" if row.significant else "",
        row.method,
    ]


def comparison_markdown(comparison: Comparison) -> str:
    """The comparison as Markdown: batches, scenario differences, tables, methods.

    Args:
        comparison: The comparison.

    Returns:
        A Markdown document.
    """
    out = [f"# Comparison: {' vs '.join(comparison.labels)}", ""]
    out += [
        "| batch | scenario | seed | runs | --set | folder | compared |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, label in enumerate(comparison.labels):
        manifest = comparison.manifests[i]
        out.append(
            f"| {_md_escape(label)} | {manifest['scenario']['id']} | {manifest['seed']} | "
            f"{manifest['runs']:,} | {_md_escape(_settings(manifest)) or '–'} | "
            f"`{comparison.folders[i]}` | {_md_escape(comparison.pairing_notes[i])} |"
        )
    sentence = pairing_sentence(comparison)
    if sentence:
        out += ["", f"**{sentence}**"]
    partly = partly_paired_sentence(comparison)
    if partly:
        out += ["", f"**{_md_escape(partly)}**"]
    out += ["", f"## What differs from {_md_escape(comparison.baseline)}", ""]
    differing = {k: v for k, v in comparison.scenario_differences.items() if v}
    if not differing:
        out.append("Nothing: same scenario text and `--set` values.")
    for label, changes in differing.items():
        out.append(f"**{_md_escape(label)}**")
        out.append("")
        out += [f"- `{change}`" for change in changes]
        out.append("")
    frame = comparison.differences
    probability = frame[frame["kind"] != "payoff"]
    columns = ["p-value", "Holm p", "sig.", "test"]
    out += [
        "",
        "## Endings and branch outcomes",
        "",
        "Probabilities in percent, differences in percentage points (batch − baseline).",
        "",
        _md_row(["outcome", "batch", "p", "baseline p", "diff (pts)", "95% interval", *columns]),
        _md_row(["---", "---", "--:", "--:", "--:", "---", "--:", "--:", ":-:", "---"]),
    ]
    n = table_places(probability, percent=True) if len(probability) else 1
    for row in probability.itertuples(index=False):
        title = row.title if row.kind == "ending" else f"{row.group}: {row.outcome}"
        out.append(
            _md_row(
                [
                    _md_escape(title),
                    _md_escape(row.label),
                    _pct(row.value, n),
                    _pct(row.baseline_value, n),
                    *difference_text(100 * row.diff, 100 * row.low, 100 * row.high, 1, n),
                    *_md_test(row),
                ]
            )
        )
    payoff = frame[frame["kind"] == "payoff"]
    if len(payoff):
        out += [
            "",
            "## Mean payoff per actor (total over rounds)",
            "",
            _md_row(["actor", "batch", "mean", "baseline mean", "diff", "95% interval", *columns]),
            _md_row(["---", "---", "--:", "--:", "--:", "---", "--:", "--:", ":-:", "---"]),
        ]
        n = table_places(payoff, percent=False)
        for row in payoff.itertuples(index=False):
            out.append(
                _md_row(
                    [
                        f"{_md_escape(row.outcome)} ({_md_escape(row.title)})",
                        _md_escape(row.label),
                        f"{row.value:.{n}f}",
                        f"{row.baseline_value:.{n}f}",
                        *difference_text(row.diff, row.low, row.high, 2, n),
                        *_md_test(row),
                    ]
                )
            )
    out += ["", "## Methods", ""]
    out += [f"- {_md_escape(line)}" for line in [*comparison.methods, *comparison.notes]]
    return "\n".join(out) + "\n"

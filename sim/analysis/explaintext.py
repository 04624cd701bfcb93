"""An explanation as plain text for a terminal (what ``wargame explain`` prints).

Drivers (inputs significant after Holm's adjustment) are listed with their effect in
percentage points and its 95% interval; the inputs that are not drivers are named in
one line, so nothing without evidence reads as a driver. Long titles and rules wrap,
they are never cut.
"""

from __future__ import annotations

import math
from typing import Any

from sim.analysis.wrapping import wrap_terms

#: How the parameters that fail the test are introduced (text and report).
NOT_DRIVERS = "Not drivers (not significant at 5% after Holm's adjustment)"


def pvalue_text(p: float | None, bound: bool = False) -> str:
    """A p-value to three decimals; ``bound``: at most this (``≤ 0.011``), see below.

    A p-value from permutations is at least 1/(permutations + 1) whatever the data; at
    that floor (or a Holm-adjusted one made by it) the number is an upper bound.
    """
    if p is None:
        return "–"
    if p < 0.001:
        return "<0.001"
    # An upper bound is rounded up (0.0115 is "≤ 0.012"), never below what it bounds.
    return f"≤ {math.ceil(p * 1000 - 1e-9) / 1000:.3f}" if bound else f"{p:.3f}"


def _points(x: float) -> str:
    return f"{100 * x:+.1f}"


def _effect(row: dict[str, Any]) -> tuple[str, str, str]:
    """(effect with interval, adjusted p, basis) of a ranking row."""
    measured = row.get("measured")
    if measured is not None:
        return (
            f"{_points(measured['change'])} [{_points(measured['low'])}, "
            f"{_points(measured['high'])}]",
            pvalue_text(measured.get("p_holm")),
            "measured",
        )
    return (
        f"{_points(row['effect'])} [{_points(row['effect_low'])}, {_points(row['effect_high'])}]",
        pvalue_text(row.get("p_holm"), bool(row.get("p_holm_bound"))),
        "fifths" if row["kind"] == "parameter" else "move",
    )


def _ends(row: dict[str, Any]) -> str:
    measured = row.get("measured")
    if measured is not None:
        return (
            f"{measured['p_low']:.1%} (= {measured['low_label']}) → "
            f"{measured['p_high']:.1%} (= {measured['high_label']})"
        )
    low, high = row["low"], row["high"]
    text = f"{low['p']:.1%} ({low['label']}) → {high['p']:.1%} ({high['label']})"
    return "".join([text, *ends_notes(row)])


def ends_notes(row: dict[str, Any]) -> list[str]:
    """What a driver's low-end-to-high-end figures need said beside them.

    The runs the ends were counted in (a move in a late round: the runs still open then)
    and, for a driver whose interval holds 0, that its ends differ little: the
    permutation test found a link of another shape (rising then falling, say); an
    author read such a row as a contradiction. Shared by the text and the HTML report.

    Args:
        row: One row of the ranking (not a measured one).

    Returns:
        Clauses to append to the ends, each starting with its separator.
    """
    notes = []
    if row.get("runs_settled"):
        notes.append(f", in the runs still open then ({row['runs_settled']:,} were settled before)")
    if row.get("significant") and row["effect_low"] <= 0 <= row["effect_high"]:
        notes.append("; the ends differ little: a link of another shape (see the top)")
    return notes


def _wrap(text: str, width: int, indent: str = "  ", more: str = "    ") -> list[str]:
    # Never between a name and its bound, nor inside a name (see sim.analysis.wrapping).
    return wrap_terms(text, width, initial_indent=indent, subsequent_indent=more)


def format_explanation(found: dict[str, Any], top: int = 5, width: int = 100) -> str:
    """The explanation as plain text for a terminal.

    Args:
        found: The result of :func:`sim.analysis.explanation.explain`.
        top: Drivers listed per outcome.
        width: Wrap prose at this width (tables are as wide as their content).
    """
    out = []
    batch = found["batch"]
    out.extend(
        _wrap(
            f"{batch['title']} ({batch['scenario']}): {batch['runs']:,} runs, seed {batch['seed']}",
            width,
            indent="",
            more="  ",
        )
    )
    if found.get("independent_rows_only"):
        out.extend(
            _wrap(
                f"Ranking and rules use the {found['runs_analysed']:,} rows of the Sobol "
                "design that are independent of one another ("
                + found.get("independent_rows", "A and B of the first replicate")
                + "); the Sobol indices use every run.",
                width,
                indent="",
                more="",
            )
        )
    elif found["runs_analysed"] < batch["runs"]:
        out.append(f"ranking and rules use a random subset of {found['runs_analysed']:,} runs")
    out.extend(
        _wrap(
            "Drivers: inputs (parameters; moves of the actors, where recorded) whose link "
            "with the outcome survives a permutation test with Holm's adjustment (5% per "
            "outcome); the test sees a link of any shape, so an input rising then falling "
            "can drive an outcome while its ends differ little. Effect in percentage points, "
            "high end against low end (a move: made against not made), with a 95% interval. "
            "The number before a driver is its rank among all the inputs (a move made in "
            "several rounds is listed once, at its best round, so ranks skip). "
            "Rule: a PRIM box whose every "
            "limit has a quasi-p-value of at most 0.05.",
            width,
            indent="",
            more="",
        )
    )
    if found.get("settings", {}).get("decisions") and not found.get("choices_kept"):
        out.extend(
            _wrap(
                "Moves: not ranked, the batch kept no choices (it was run with --no-rounds).",
                width,
                indent="",
                more="",
            )
        )
    measured = found.get("measured")
    if measured is not None:
        out.extend(
            _wrap(
                f"Measured (--measure): each parameter at the low and high end of its range "
                f"on the same {measured['runs']:,} runs at seed {measured['seed']}.",
                width,
                indent="",
                more="",
            )
        )
        if measured["dead"]:
            out.extend(
                _wrap(
                    "Dead (change no ending and no branch outcome in any paired run): "
                    + ", ".join(
                        name
                        + (
                            " (context only)"
                            if measured["parameters"][name]["context_only"]
                            else ""
                        )
                        for name in measured["dead"]
                    ),
                    width,
                    indent="",
                    more="  ",
                )
            )
        if measured["not_measurable"]:
            out.extend(
                _wrap(
                    f"No measurable effect on {measured_scope(found)}: "
                    + ", ".join(measured["not_measurable"]),
                    width,
                    indent="",
                    more="  ",
                )
            )
        out.extend(_reasoning_lines(measured, found, width))
    for entry in found["targets"]:
        out.append("")
        kind = {"ending": "Ending", "branch": "Branch outcome"}.get(entry["kind"], "Outcome")
        out.extend(
            _wrap(
                f"{kind}: {entry['title']}  (P = {entry['p']:.1%}, {entry['count']:,} "
                f"{'run' if entry['count'] == 1 else 'runs'})",
                width,
                indent="",
                more="  ",
            )
        )
        if "note" in entry:
            out.append(f"  {entry['note']}")
        else:
            out.extend(
                _ranking_lines(
                    entry, top, width, found.get("settings", {}).get("rule_inputs", "parameters")
                )
            )
            out.extend(_rule_lines(entry["rule"], width))
        if entry.get("sobol"):
            out.extend(_sobol_lines(entry["sobol"], width))
    return "\n".join(out)


def measured_scope(found: dict[str, Any]) -> str:
    """What "no measurable effect on ..." covers: every outcome, or those explained.

    ``--measure`` tests the changes of the outcomes explained; with ``--ending``,
    ``--branch`` or ``--outcome`` those are not all of them, and a parameter with no
    measurable effect on one ending may still move another.

    Args:
        found: The explanation (its ``scope`` and ``targets``).
    """
    scope = found.get("scope") or {}
    if not any(scope.get(key) for key in ("ending", "branch", "outcome")):
        return "any outcome"
    titles = [t["title"] for t in found["targets"]]
    which = "the outcome explained" if len(titles) == 1 else "the outcomes explained"
    return (
        f"{which} ({', '.join(titles)}; explain without --ending, --branch or --outcome "
        "measures the others)"
    )


def _reasoning_lines(measured: dict[str, Any], found: dict[str, Any], width: int) -> list[str]:
    """What each actor's reasoning does, measured against the same actor myopic."""
    reasoned = measured.get("reasoning") or {}
    if not reasoned:
        return []
    titles = {t["id"]: t["title"] for t in found["targets"]}
    out = _wrap(
        "Reasoning (--measure): each actor that reasons, against the same actor myopic on "
        "the same runs; effect = as written − myopic, points [95%]; only the changes "
        "significant after Holm's adjustment over the actors are listed:",
        width,
        indent="",
        more="",
    )
    runs = measured["runs"]
    for actor, entry in reasoned.items():
        head = f"{actor} ({entry['reasoning']}): "
        if entry["dead"]:
            out.extend(
                _wrap(
                    head + f"dead: changes no ending and no branch outcome in any of {runs:,} "
                    f"runs; {actor} chooses as a myopic actor would",
                    width,
                )
            )
            continue
        share = f"{entry['changed_runs']:,} of {runs:,} runs change"
        effects = sorted(
            ((k, o) for k, o in entry["outcomes"].items() if o["significant"]),
            key=lambda item: -abs(item[1]["change"]),
        )
        if not effects:
            out.extend(
                _wrap(head + share + f"; no measurable effect on {measured_scope(found)}", width)
            )
            continue
        named = [
            f"{titles.get(k, k)} {_points(o['change'])} [{_points(o['low'])}, {_points(o['high'])}]"
            for k, o in effects[:3]
        ]
        more = f" and {len(effects) - 3} more" if len(effects) > 3 else ""
        out.extend(_wrap(head + share + "; " + ", ".join(named) + more, width))
    return out


def _rounds(row: dict[str, Any]) -> str:
    """A move's title, with the other rounds where the same move says the same."""
    from sim.analysis.ranking import round_spans

    also = row.get("also_rounds", [])
    if not also:
        return row["title"]
    return f"{row['title']} (also {'round' if len(also) == 1 else 'rounds'} {round_spans(also)})"


def _table(rows: list[dict[str, Any]], heading: str, width: int = 100) -> list[str]:
    """A table of drivers: rank, input, effect with interval, p, MI, low → high.

    Where a row would be wider than ``width`` (an 80-column terminal), each driver is
    a block of lines instead: its rank and title, then its effect, p and MI, then its
    low and high ends, each wrapped to ``width``.
    """
    titles = [_rounds(r) for r in rows]
    name_width = max(len(heading), *(len(t) for t in titles))
    effects = [_effect(r) for r in rows]
    effect_width = max(len("effect, points [95%]"), *(len(e[0]) for e in effects))
    out = [
        f"  {'#':>3} {heading:<{name_width}}  {'effect, points [95%]':<{effect_width}}"
        f"  {'p (Holm)':>8}  {'MI bits':>7}  low → high"
    ]
    for row, title, (effect, p, basis) in zip(rows, titles, effects, strict=True):
        out.append(
            f"  {row['rank']:>3} {title:<{name_width}}  {effect:<{effect_width}}  "
            f"{p:>8}  {row['mi_bits']:>7.4f}  {_ends(row)}"
            + ("  (measured)" if basis == "measured" else "")
        )
    if max(len(line) for line in out) <= width:
        return out
    stacked = []
    for row, title, (effect, p, basis) in zip(rows, titles, effects, strict=True):
        stacked += _wrap(title, width, indent=f"  {row['rank']:>3} ", more="        ")
        measured = " (measured)" if basis == "measured" else ""
        mi = row["mi_bits"]
        numbers = f"effect {effect} points{measured}, p (Holm) {p.strip()}, MI {mi:.4f} bits"
        stacked += _wrap(numbers, width, indent="        ", more="          ")
        stacked += _wrap(_ends(row), width, indent="        ", more="          ")
    return stacked


def _by_measured(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parameters by the size of their measured change, when every one was measured."""
    if rows and all("measured" in r for r in rows):
        return sorted(rows, key=lambda r: -abs(r["measured"]["change"]))
    return rows


def _ranking_lines(
    entry: dict[str, Any], top: int, width: int, rule_inputs: str = "parameters"
) -> list[str]:
    from sim.analysis.ranking import collapse_moves

    out = []
    ranking = entry["ranking"]
    drivers = [r for r in ranking if r["significant"]]
    shown: list[dict[str, Any]] = []  # the drivers in the tables
    if not drivers:
        out.extend(
            _wrap(
                "No driver: no input is significant (permutation test, Holm's adjustment, 5%).",
                width,
            )
        )
    else:
        first = drivers[0]
        move = (
            " (a move: a cause of the outcome, or a consequence)"
            if first["kind"] == "decision"
            else ""
        )
        out.extend(
            _wrap(
                f"Ranked first of {len(ranking)} inputs (significant; by mutual information): "
                f"{first['title']}{move}.",
                width,
            )
        )
        parameters = _by_measured([r for r in drivers if r["kind"] == "parameter"])
        if parameters:
            out.append("  Parameters:")
            out.extend(_table(parameters[:top], "parameter", width))
            if len(parameters) > top:
                out.append(f"      ... and {len(parameters) - top} more in explain.json")
        moves = collapse_moves([r for r in drivers if r["kind"] == "decision"])
        shown = [*parameters[:top], *moves[:top]]
        if moves:
            out.append("  Moves (played in the game: a cause of the outcome, or a consequence):")
            out.extend(_table(moves[:top], "move", width))
            if len(moves) > top:
                out.append(f"      ... and {len(moves) - top} more in explain.json")
            likely = next((r for r in moves if r["effect"] > 0), None)
            if likely is not None:
                # Said as a move's reach, not a rule: the rule below restricts parameters
                # unless --rule-inputs lets it name moves (an analyst's trial read this
                # line and then "No rule" as a contradiction).
                by_parameters = rule_inputs == "parameters"
                out.extend(
                    _wrap(
                        f"Where {likely['title']}: {entry['title']} in "
                        f"{likely['density']:.0%} of runs, covering {likely['coverage']:.0%} "
                        f"of {entry['title']} runs"
                        + (
                            " (a move: the rule below names parameters only)."
                            if by_parameters
                            else "."
                        ),
                        width,
                        indent="      ",
                        more="      ",
                    )
                )
    if any(r.get("p_holm_bound") and "measured" not in r for r in shown):
        from sim.analysis.ranking import PERMUTATIONS

        out.extend(
            _wrap(
                f"≤: no permutation of {PERMUTATIONS:,} was as extreme as the runs, so the "
                f"p-value is at its floor, 1/{PERMUTATIONS + 1:,} times Holm's factor; the "
                "true one may be smaller.",
                width,
                more="    ",
            )
        )
    quiet = [r["title"] for r in ranking if not r["significant"] and r["kind"] == "parameter"]
    if quiet:
        out.extend(_wrap(f"{NOT_DRIVERS}: " + ", ".join(quiet), width, more="    "))
    return out


def quasi_p_text(restriction: dict[str, Any], pvalue: Any = None) -> str:
    """A restriction's quasi-p-value; a two-sided one's per limit, e.g. ``0.001 low, 0.020 high``.

    Args:
        restriction: A restriction of a rule (``as_json`` of
            :class:`sim.analysis.discovery.Restriction`).
        pvalue: How to print one p-value (default: three decimals, ``<0.001``).
    """
    show = pvalue or pvalue_text
    if restriction.get("quasi_p_low") is not None and restriction.get("quasi_p_high") is not None:
        return (
            f"{show(restriction['quasi_p_low'])} low end, "
            f"{show(restriction['quasi_p_high'])} high end"
        )
    return show(restriction.get("quasi_p"))


def dropped_text(dropped: dict[str, Any]) -> str:
    """A limit a rule dropped, e.g. ``x ≤ 0.97`` (an earlier explain.json: the input's name)."""
    from sim.analysis.inputs import input_name

    return dropped.get("text") or input_name(dropped["parameter"])


def dropped_groups(rule: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The limits a rule dropped, under a heading saying why: chance, or too many inputs."""
    from sim.analysis.discovery import MAX_QUASI_P, MAX_RESTRICTIONS

    groups = []
    chance = [d for d in rule.get("dropped", []) if d.get("reason", "quasi_p") == "quasi_p"]
    if chance:
        groups.append((f"Dropped (quasi-p above {MAX_QUASI_P:g}: chance could have made them)",
                       chance))  # fmt: skip
    crowded = [d for d in rule.get("dropped", []) if d.get("reason") == "max_restrictions"]
    if crowded:
        groups.append((f"Dropped to name at most {MAX_RESTRICTIONS} inputs", crowded))
    return groups


def _rule_lines(rule: dict[str, Any], width: int) -> list[str]:
    out = _wrap(f"Rule: {rule['text']}", width, more="        ")
    restrictions = rule["box"]["restrictions"]
    if rule["clear"] and restrictions:
        parts = []
        for r in restrictions:
            part = f"{r['text']} (quasi-p {quasi_p_text(r)}"
            if "stability" in r:
                part += f"; in {r['stability']:.0%} of {rule['resamples']} resamples"
            parts.append(part + ")")
        out.extend(_wrap("Restrictions: " + "; ".join(parts), width, indent="        ",
                         more="          "))  # fmt: skip
    for heading, dropped in dropped_groups(rule):
        listed = ", ".join(
            f"{dropped_text(d)} (quasi-p {pvalue_text(d['quasi_p'])})" for d in dropped
        )
        out.extend(_wrap(f"{heading}: {listed}", width, indent="        ",
                         more="          "))  # fmt: skip
    second = rule.get("second")
    if second and second.get("clear"):
        out.extend(_wrap(f"Second box: {second['text']}", width, more="        "))
    return out


def _sobol_lines(sobol: dict[str, Any], width: int) -> list[str]:
    out = []
    explained = sobol.get("explained")
    if explained is not None:
        out.extend(
            _wrap(
                "Sobol indices (shares of the outcome's variance, 95% intervals): the "
                f"parameters explain {explained_text(explained)}; the rest is the game's "
                "own chance.",
                width,
            )
        )
    elif sobol.get("estimator") == "SALib, chance per run":
        out.extend(
            _wrap(
                "Sobol indices (SALib, 95% intervals): warning: every run of this sweep drew "
                "its own game chance, so the chance is in every index (a total index near 1 "
                "can mean nothing); sweep again to share the chance within base samples.",
                width,
            )
        )
    else:
        out.extend(
            _wrap(
                "Sobol indices (shares of the outcome's variance, 95% intervals): one "
                "replicate, so what the parameters explain cannot be told from chance; the "
                "indices include how each parameter's effect depends on the game's chance.",
                width,
            )
        )
    few = few_informative_text(sobol)
    if few:
        out.extend(_wrap(few, width, more="    "))
    indices = sobol["indices"]
    counted = all("S1_informative" in s for s in indices.values())
    name_width = max(len("parameter"), *(len(n) for n in indices))
    header = (
        f"    {'parameter':<{name_width}}  {'S1 first-order [95%]':<23}  {'ST total [95%]':<23}"
    )
    header += "  informative S1/ST" if counted else ""
    # Wider than the text: each parameter's name on its line, its numbers under it.
    stacked = len(header) > width
    if not stacked:
        out.append(header)
    for name, s in sorted(indices.items(), key=lambda kv: -kv[1]["ST"]):
        first, total = sobol_index_text(s, "S1"), sobol_index_text(s, "ST")
        informative = f"{s['S1_informative']}/{s['ST_informative']}" if counted else ""
        if stacked:
            out.append(f"    {name}")
            numbers = f"S1 {first}; ST {total}" + (
                f"; informative {informative}" if counted else ""
            )
            out.extend(_wrap(numbers, width, indent="      ", more="        "))
            continue
        line = f"    {name:<{name_width}}  {first:<23}  {total:<23}"
        if counted:
            line += f"  {informative}"
        out.append(line.rstrip())
    pairs = [p for p in sobol.get("S2", []) if p["S2_low"] > 0][:3]
    for pair in pairs:
        out.append(f"    S2 {' × '.join(pair['pair'])}: {sobol_index_text(pair, 'S2')}")
    if any(s.get("S1_bound") or s.get("ST_bound") for s in indices.values()):
        out.extend(
            _wrap(
                f"* fewer than {sobol.get('min_informative', 20)} informative base samples "
                "(whose contribution to the estimate is not zero): the interval runs from 0 "
                "to the most the index can be with so few, not from the bootstrap.",
                width,
                more="    ",
            )
        )
    for note in crossing_notes(sobol):
        out.extend(_wrap(note, width, more="    "))
    if sobol_clipped(sobol):
        out.extend(_wrap(CLIPPED_NOTE, width, more="    "))
    return out


#: Said under Sobol indices printed with an estimate or interval end below 0 as 0.
CLIPPED_NOTE = (
    "Estimates and interval ends below 0 are printed as 0: a share of variance is at "
    "least 0 (explain.json keeps the unclipped estimates, which chance can take below 0)."
)


def _share(value: float) -> float:
    """A share of variance as printed: never below 0 (``-0.0`` too is 0; NaN stays)."""
    return 0.0 if value <= 0 else value


def explained_text(explained: dict[str, Any]) -> str:
    """The share explained with its 95% interval, e.g. ``12.3% [8.1%, 16.0%]`` (* a bound).

    An estimate or interval end below 0 is printed as 0 (see :data:`CLIPPED_NOTE`).

    Args:
        explained: The ``explained`` entry of a Sobol result (``value``, ``low``,
            ``high``, ``bound``).
    """
    low, high = explained.get("low"), explained.get("high")
    text = f"{_share(explained['value']):.1%}"
    if low is not None and high is not None and math.isfinite(low) and math.isfinite(high):
        text += f" [{_share(low):.1%}, {_share(high):.1%}]"
    return text + ("*" if explained.get("bound") else "")


def _below_zero(*values: Any) -> bool:
    return any(isinstance(v, int | float) and v < 0 for v in values)


def sobol_clipped(sobol: dict[str, Any], pairs: int = 3) -> bool:
    """Whether a Sobol result prints an estimate or interval end below 0 (as 0).

    Args:
        sobol: One outcome's Sobol result.
        pairs: Second-order indices printed (those whose interval is above 0).
    """
    explained = sobol.get("explained") or {}
    if _below_zero(explained.get("value"), explained.get("low"), explained.get("high")):
        return True
    for entry in sobol.get("indices", {}).values():
        for key in ("S1", "ST"):
            if _below_zero(entry.get(key), entry.get(f"{key}_low"), entry.get(f"{key}_high")):
                return True
    shown = [p for p in sobol.get("S2", []) if (p.get("S2_low") or 0) > 0][:pairs]
    return any(_below_zero(p.get("S2")) for p in shown)


def crossings(sobol: dict[str, Any]) -> dict[str, list[str]]:
    """Parameters whose estimates cross where the indices cannot (S1 ≤ ST ≤ explained).

    Args:
        sobol: One outcome's Sobol result.

    Returns:
        ``{"st_above_explained": [...], "s1_above_st": [...], "beyond": [...]}``: the
        parameters whose ST estimate is above the share explained, whose S1 estimate
        is above their ST, and, of those, the ones whose crossing the 95% intervals do
        not cover (one estimate outside the other's interval): the estimates are noisy.
    """
    explained = sobol.get("explained") or {}
    # As printed (below 0 as 0): an estimate of 0 above one of -0.01 crosses nothing.
    share, share_high = _clipped(explained.get("value")), _clipped(explained.get("high"))
    found: dict[str, list[str]] = {"st_above_explained": [], "s1_above_st": [], "beyond": []}
    for name, e in sobol.get("indices", {}).items():
        first, total = _clipped(e.get("S1")), _clipped(e.get("ST"))
        if total is None:
            continue
        beyond = False
        if share is not None and total > share + ZERO:
            found["st_above_explained"].append(name)
            low = _clipped(e.get("ST_low"))
            beyond |= _outside(total, share_high) or _outside(share, None, low)
        if first is not None and first > total + ZERO:
            found["s1_above_st"].append(name)
            beyond |= _outside(first, _clipped(e.get("ST_high"))) or _outside(
                total, None, _clipped(e.get("S1_low"))
            )
        if beyond:
            found["beyond"].append(name)
    return found


def _clipped(value: float | None) -> float | None:
    return None if value is None else _share(value)


#: Estimates this close count as equal (products of 0/1 outcomes are exact).
ZERO = 1e-12


def _outside(value: float, high: float | None, low: float | None = None) -> bool:
    """Whether ``value`` lies above ``high`` or below ``low`` (a missing end: no)."""
    if high is not None and math.isfinite(high) and value > high + ZERO:
        return True
    return low is not None and math.isfinite(low) and value < low - ZERO


def crossing_notes(sobol: dict[str, Any]) -> list[str]:
    """The notes on estimates that cross (ST above the share explained, S1 above ST).

    Each index is estimated from different base samples, so estimates can cross; a
    crossing beyond the 95% intervals says the estimates are noisy: more runs.

    Args:
        sobol: One outcome's Sobol result.
    """
    found = crossings(sobol)
    notes = []
    if found["st_above_explained"]:
        notes.append(
            f"ST above the share explained for {', '.join(found['st_above_explained'])}: a "
            "total index is at most the share the parameters explain, but the two are "
            "estimated from different products of the runs, so the estimates can cross. "
            "Read the intervals."
        )
    if found["s1_above_st"]:
        notes.append(
            f"S1 above ST for {', '.join(found['s1_above_st'])}: each is estimated from "
            "different base samples (S1 from those whose rows end differently in one "
            "replicate, ST in two), so the estimates can cross; the indices themselves "
            "have S1 ≤ ST ≤ explained. Read the intervals."
        )
    if found["beyond"]:
        notes.append(
            f"For {', '.join(found['beyond'])} the estimates cross beyond their 95% "
            "intervals: they are noisy at this size; sweep with a larger -n (or more "
            "--replicates) before reading them."
        )
    return notes


def few_informative_text(sobol: dict[str, Any]) -> str:
    """The warning of a Sobol estimate that few base samples inform, or ``""``."""
    if not sobol.get("few_informative"):
        return ""
    n = sobol["base_samples"]
    informative = sobol["informative"]
    flips = sobol.get("flip_share", 0.0)
    if flips <= 0:
        return (
            f"In none of the {n:,} base samples did the rows A and B end differently in any "
            "replicate: the swept parameters may not move this outcome at all, and the "
            "intervals are bounds from that count."
        )
    text = (
        f"Few base samples carry information on this outcome: {informative} of {n:,} ended "
        f"differently in their rows A and B in two replicates (the rows differ in "
        f"{flips:.1%} of base samples and replicates), too few for the bootstrap; the "
        "intervals marked * are bounds from those counts."
    )
    recommend = sobol.get("recommend")
    if recommend:
        ways = []
        if recommend.get("n"):
            ways.append(f"-n {recommend['n']:,}")
        if recommend.get("replicates"):
            ways.append(f"--replicates {recommend['replicates']} at -n {recommend['at_n']:,}")
        if ways:
            text += (
                f" For about {sobol.get('min_informative', 20)} informative base samples "
                f"and bootstrap intervals, sweep with {' or '.join(ways)}."
            )
    return text


def sobol_index_text(entry: dict[str, Any], key: str) -> str:
    """A Sobol index with its 95% interval, e.g. ``0.081 [0.042, 0.120]`` (* a bound).

    A share of variance is at least 0: an estimate or interval end below 0 is printed
    as 0 (see :data:`CLIPPED_NOTE`).

    Args:
        entry: One parameter's indices (``S1``, ``S1_low``, ``S1_high``, ``S1_bound``...).
        key: The index: ``S1``, ``ST`` or ``S2``.
    """
    value = entry.get(key)
    if value is None:
        return "–"
    low, high = entry.get(f"{key}_low"), entry.get(f"{key}_high")
    if low is None or high is None:
        return f"{_share(value):.3f}"
    return f"{_share(value):.3f} [{_share(low):.3f}, {_share(high):.3f}]" + (
        "*" if entry.get(f"{key}_bound") else ""
    )

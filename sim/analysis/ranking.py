"""Ranking inputs by how much they tell about an outcome, with false positives controlled.

For one 0/1 outcome and each input (a parameter, or a decision: see
:mod:`sim.analysis.inputs`):

- **Score**: the *mutual information* (bits) between the input's levels and the
  outcome, minus what it would be by chance alone ((k - 1) / (2 n ln 2) for k levels,
  the Miller-Madow bias), so a 16-bin parameter and a yes/no decision compare fairly.
  Inputs are ranked by it.
- **Test**: a permutation test of "the outcome does not depend on the input". Under
  that hypothesis every assignment of the outcome's runs to the input's levels is
  equally likely, so the number of outcome runs per level follows a multivariate
  hypergeometric law, which is sampled directly (no shuffling of runs). For a
  two-level input (a decision, a yes/no parameter) the law is enumerated: the p-value
  is exact (Fisher's conditional test, ordered by mutual information). For a numeric
  parameter two statistics are combined by their smaller p-value (min-P, itself
  calibrated by the same permutations): the mutual information, which catches any
  shape, and the rank-sum trend across bins, which has the power for monotone
  effects. Holm's step-down adjustment then keeps the chance of calling any input
  without effect a driver at most ``alpha`` (5%) per outcome, separately for the
  parameters and for the decisions. Only inputs significant after the adjustment are
  called drivers.
- **Effect size**, in percentage points: the outcome's probability among runs with
  the parameter in its highest fifth minus in its lowest fifth (a yes/no parameter:
  1 minus 0; a categorical one: its most minus its least favourable value; a
  decision: runs where the actor made the move minus runs where it did not), with a
  95% interval (Newcombe's hybrid score interval).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from scipy.special import gammaln, xlogy

from sim.analysis.discovery import number_text
from sim.analysis.inputs import Feature
from sim.batch.summary import wilson_interval

#: Family-wise error rate of the drivers named per outcome.
DEFAULT_ALPHA = 0.05
#: Permutations behind the p-value of a parameter with more than two levels.
PERMUTATIONS = 1999


def mutual_information(codes: np.ndarray, k: int, outcome: np.ndarray) -> float:
    """Mutual information in bits between a coded input and a 0/1 outcome.

    Args:
        codes: The input's level per run, in 0..k-1.
        k: Number of levels.
        outcome: 0/1 per run.

    Returns:
        I(input; outcome) in bits (0 when independent in the sample).
    """
    sizes = np.bincount(codes, minlength=k)
    ones = np.bincount(codes, weights=np.asarray(outcome, dtype=float), minlength=k)
    return _mutual_information(sizes, ones, int(np.sum(outcome)), len(codes))


def _mutual_information(sizes: np.ndarray, ones: np.ndarray, hits: int, n: int) -> float:
    """:func:`mutual_information` from the runs and outcome runs per level."""
    return float(_mi_from_counts(ones[None, :], sizes, hits, n)[0])


def _mi_from_counts(ones: np.ndarray, sizes: np.ndarray, hits: int, n: int) -> np.ndarray:
    """Mutual information (bits) from outcome counts per level; rows are tables."""
    zeros = sizes[None, :] - ones
    misses = n - hits
    with np.errstate(divide="ignore", invalid="ignore"):
        part = xlogy(ones, ones * n / np.maximum(sizes * hits, 1)) + xlogy(
            zeros, zeros * n / np.maximum(sizes * misses, 1)
        )
    # np.nansum's own steps (NaN to 0, then the sum), without its wrapper's overhead.
    np.copyto(part, 0.0, where=np.isnan(part))
    return np.maximum(part.sum(axis=1) / (n * math.log(2)), 0.0)


def entropy_bits(p: float) -> float:
    """Entropy in bits of a 0/1 outcome with probability p."""
    if p <= 0 or p >= 1:
        return 0.0
    return float(-(p * math.log2(p) + (1 - p) * math.log2(1 - p)))


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (same order as given)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def newcombe_interval(a: int, n_a: int, b: int, n_b: int) -> tuple[float, float]:
    """95% interval of p_a - p_b for independent proportions (Newcombe's hybrid score)."""
    if n_a == 0 or n_b == 0:
        return -1.0, 1.0
    pa, pb = a / n_a, b / n_b
    la, ua = wilson_interval(a, n_a)
    lb, ub = wilson_interval(b, n_b)
    diff = pa - pb
    low = diff - math.sqrt((pa - la) ** 2 + (ub - pb) ** 2)
    high = diff + math.sqrt((ua - pa) ** 2 + (pb - lb) ** 2)
    return max(-1.0, low), min(1.0, high)


def _log_choose(n: float, k: np.ndarray) -> np.ndarray:
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def _two_level_p(sizes: np.ndarray, observed: int, hits: int, n: int) -> float:
    """Exact p-value of a 2-level input: P(MI >= observed MI) under the hypergeometric.

    The law of the outcome runs at level 1 is enumerated over mean ± 15 sd (beyond,
    probabilities are below 1e-40), with its log-probabilities from log-gamma.
    """
    size = int(sizes[1])
    mean = hits * size / n
    sd = math.sqrt(max(mean * (1 - size / n) * (n - hits) / max(n - 1, 1), 1e-12))
    low = max(0, hits - (n - size), int(mean - 15 * sd - 2))
    high = min(hits, size, int(mean + 15 * sd + 2))
    support = np.arange(low, high + 1, dtype=float)
    log_pmf = (
        _log_choose(size, support)
        + _log_choose(n - size, hits - support)
        - _log_choose(n, np.array(float(hits)))
    )
    # Every possible table, and the observed one last: one pass for their information.
    at_level_1 = np.append(support, float(observed))
    mi = _mi_from_counts(np.column_stack([hits - at_level_1, at_level_1]), sizes, hits, n)
    mi, mine = mi[:-1], mi[-1]
    pmf = np.exp(log_pmf)
    return float(min(1.0, pmf[mi >= mine * (1 - 1e-9) - 1e-15].sum()))


def permutation_p(
    feature: Feature, outcome: np.ndarray, rng: np.random.Generator, permutations: int
) -> float:
    """The p-value of "the outcome does not depend on this input" (see the module doc).

    Args:
        feature: The input.
        outcome: 0/1 per run.
        rng: Random numbers for the permutations.
        permutations: Permutations for inputs with more than two levels.
    """
    y = np.asarray(outcome, dtype=float)
    sizes = np.bincount(feature.codes, minlength=feature.levels)
    ones = np.bincount(feature.codes, weights=y, minlength=feature.levels)
    return _permutation_p(feature, sizes, ones, int(y.sum()), len(y), rng, permutations)


def _permutation_p(
    feature: Feature,
    sizes: np.ndarray,
    ones: np.ndarray,
    hits: int,
    n: int,
    rng: np.random.Generator,
    permutations: int,
) -> float:
    """:func:`permutation_p` from the runs and outcome runs per level of the input."""
    present = sizes > 0
    sizes, ones = sizes[present], ones[present]
    if len(sizes) < 2 or hits in (0, n):
        return 1.0
    if len(sizes) == 2:
        return _two_level_p(sizes, int(ones[1]), hits, n)
    drawn = rng.multivariate_hypergeometric(sizes, hits, size=permutations).astype(float)
    mi = _mi_from_counts(drawn, sizes, hits, n)
    mine = _mi_from_counts(ones[None, :], sizes, hits, n)[0]
    if not feature.ordered:
        return float((1 + np.sum(mi >= mine * (1 - 1e-9))) / (permutations + 1))
    # Mid-rank of each bin: the trend statistic is the rank sum of the outcome's runs.
    scores = np.cumsum(sizes) - (sizes - 1) / 2
    expected = hits * np.sum(scores * sizes) / n
    trend = np.abs(drawn @ scores - expected)
    trend_mine = abs(float(ones @ scores) - expected)
    # min-P: each statistic's p-value among the permutations, then the smaller one's.
    everything_mi = np.append(mi, mine)
    everything_trend = np.append(trend, trend_mine)
    p_mi = _upper_share(everything_mi)
    p_trend = _upper_share(everything_trend)
    smallest = np.minimum(p_mi, p_trend)
    return float(np.mean(smallest <= smallest[-1] * (1 + 1e-9)))


def _upper_share(values: np.ndarray) -> np.ndarray:
    """For each value, the share of all values at least as large (its permutation p)."""
    ordered = np.sort(values)
    at_least = len(values) - np.searchsorted(ordered, values * (1 - 1e-9), side="left")
    return at_least / len(values)


def _ends(
    feature: Feature,
    outcome: np.ndarray,
    counts: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The outcome's rate at the input's low and high end, with labels and run counts.

    ``counts`` (runs and outcome runs per level), when given, spares a decision's
    two ends a pass over the runs each.
    """
    y = np.asarray(outcome, dtype=bool)

    def counted(runs: int, hits: int, label: str) -> dict[str, Any]:
        return {"label": label, "p": hits / runs if runs else 0.0, "runs": runs, "hits": hits}

    def end(mask: np.ndarray, label: str) -> dict[str, Any]:
        return counted(int(mask.sum()), int(y[mask].sum()), label)

    if feature.kind == "decision" and counts is not None and feature.levels == 2:
        sizes, ones = counts
        return (
            counted(int(sizes[0]), int(ones[0]), f"not {feature.action}"),
            counted(int(sizes[1]), int(ones[1]), str(feature.action)),
        )
    if feature.kind == "decision":
        chose = feature.codes == 1
        return end(~chose, f"not {feature.action}"), end(chose, str(feature.action))
    if feature.values is not None:
        x = feature.values
        levels = np.unique(x)
        if len(levels) == 2:
            return (
                end(x == levels[0], f"= {number_text(levels[0])}"),
                end(x == levels[1], f"= {number_text(levels[1])}"),
            )
        q20, q80 = np.quantile(x, [0.2, 0.8])
        return end(x <= q20, f"≤ {number_text(q20)}"), end(x >= q80, f"≥ {number_text(q80)}")
    assert feature.labels is not None
    rates = []
    for c, label in enumerate(feature.labels):
        mask = feature.codes == c
        if mask.any():
            rates.append((float(y[mask].mean()), c, label))
    lowest, highest = min(rates), max(rates)
    return (
        end(feature.codes == lowest[1], f"= {lowest[2]}"),
        end(feature.codes == highest[1], f"= {highest[2]}"),
    )


def rank_inputs(
    features: list[Feature],
    outcome: np.ndarray,
    *,
    seed: int = 0,
    alpha: float = DEFAULT_ALPHA,
    permutations: int = PERMUTATIONS,
    coefficients: dict[str, float] | None = None,
) -> list[dict[str, Any]]:
    """Score and test every input for one outcome: drivers first, each group by score.

    Args:
        features: The inputs (parameters and decisions).
        outcome: 0/1 per run.
        seed: Seed of the permutations.
        alpha: Family-wise error rate (Holm), per kind of input.
        permutations: Permutations for inputs with more than two levels.
        coefficients: Standardised logistic coefficient per parameter (direction).

    Returns:
        One row per input: ``input`` (its name), ``kind``, ``title`` (in words),
        ``mi_bits``, ``mi_excess_bits``, ``share_of_uncertainty``, ``p_value``,
        ``p_holm``, ``p_at_floor`` (the p-value is the least the permutations can give,
        1/(permutations + 1): the true one may be smaller), ``p_holm_bound`` (the
        adjusted p-value is made by such floors, so it too is an upper bound: read
        "≤"), ``significant``, ``effect`` (percentage points as a fraction) with
        ``effect_low``/``effect_high``, ``low``/``high`` ends, ``direction``, ``rank``;
        decisions add ``actor``, ``round``, ``action``, ``coverage``, ``density`` and
        ``runs_playing`` and ``runs_settled`` (a move is set against the other moves
        of the runs still open in its round: a run that had ended made none, and in a
        run where the branch explained had resolved the move came too late).
    """
    everything = np.asarray(outcome, dtype=np.int64)
    all_runs = (everything, everything.astype(float), everything.astype(bool))
    total = int(everything.sum())
    counted = (len(everything), total, entropy_bits(total / len(everything)) if total else 0.0)
    rng = np.random.default_rng(seed)
    rows = []
    for feature in features:
        y, y_float, y_bool = all_runs
        n, hits, h = counted
        if feature.played is not None:
            # A move of a round some runs never reached: among the runs playing it.
            y, y_float, y_bool = (a[feature.played] for a in all_runs)
            feature = replace(feature, codes=feature.codes[feature.played], played=None)
            n, hits = len(y), int(y.sum())
            h = entropy_bits(hits / n) if n else 0.0
        # The input's runs and outcome runs per level, counted once for its score, its
        # test and its ends (the same numbers each of them would count).
        sizes = np.bincount(feature.codes, minlength=feature.levels)
        ones = np.bincount(feature.codes, weights=y_float, minlength=feature.levels)
        mi = _mutual_information(sizes, ones, hits, n)
        occupied = int(np.count_nonzero(sizes))
        low, high = _ends(feature, y_bool, (sizes, ones))
        effect = high["p"] - low["p"]
        effect_low, effect_high = newcombe_interval(
            high["hits"], high["runs"], low["hits"], low["runs"]
        )
        row: dict[str, Any] = {
            "input": feature.name,
            "kind": feature.kind,
            "title": feature.describe(),
            "levels": occupied,
            "mi_bits": mi,
            "mi_excess_bits": mi - (occupied - 1) / (2 * n * math.log(2)),
            "share_of_uncertainty": mi / h if h > 0 else 0.0,
            "p_value": _permutation_p(feature, sizes, ones, hits, n, rng, permutations),
            "effect": effect,
            "effect_low": effect_low,
            "effect_high": effect_high,
            "low": low,
            "high": high,
        }
        if feature.kind == "parameter":
            row["parameter"] = feature.name
            row["type"] = "numeric" if feature.values is not None else "categorical"
            coefficient = (coefficients or {}).get(feature.name)
            row["logit_coefficient"] = coefficient
            if feature.values is not None:
                row["direction"] = "+" if effect > 0 else "-"
            else:
                row["direction"] = "by value"
        else:
            row.update(
                {
                    "actor": feature.actor,
                    "round": feature.round,
                    "action": feature.action,
                    "direction": "+" if effect > 0 else "-",
                    # Of the runs with the outcome, the share where the move was made;
                    # of the runs with the move, the share with the outcome.
                    "coverage": high["hits"] / hits if hits else 0.0,
                    "density": high["p"],
                    # The runs where the move counts, and those settled before its
                    # round (ended, or the branch explained had resolved).
                    "runs_playing": n,
                    "runs_settled": len(everything) - n,
                }
            )
        rows.append(row)
    floor = 1 / (permutations + 1)
    for kind in ("parameter", "decision"):
        family = [r for r in rows if r["kind"] == kind]
        raw = [r["p_value"] for r in family]
        # A p-value from permutations is at least 1/(permutations + 1): where it is
        # there, the test saw nothing as extreme and the p-value may be smaller. Where
        # such floors make a Holm-adjusted p-value (it would be lower with them lower),
        # the adjusted p-value too is an upper bound.
        at_floor = [
            r["levels"] > 2 and p <= floor * (1 + 1e-9) for r, p in zip(family, raw, strict=True)
        ]
        lowest = holm([0.0 if f else p for p, f in zip(raw, at_floor, strict=True)])
        for row, adjusted, least, f in zip(family, holm(raw), lowest, at_floor, strict=True):
            row["p_holm"] = adjusted
            row["significant"] = bool(adjusted <= alpha)
            row["p_at_floor"] = f
            row["p_holm_bound"] = bool(least < adjusted * (1 - 1e-9))
    # Drivers (significant) first, each group by its score.
    rows.sort(key=lambda r: (not r["significant"], -r["mi_excess_bits"], r["p_value"], r["input"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def collapse_moves(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ranking rows with a move repeated over rounds shown once, at its best round.

    An actor that makes the same move round after round gives one row per round, all
    saying the same thing; the first (best-scored) stays, with ``also_rounds`` listing
    the other rounds where the same move points the same way.
    """
    kept: list[dict[str, Any]] = []
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        if row["kind"] != "decision":
            kept.append(row)
            continue
        key = (row["actor"], row["action"], row["effect"] > 0, row["significant"])
        if key in seen:
            seen[key].setdefault("also_rounds", []).append(row["round"])
            continue
        shown = dict(row)
        seen[key] = shown
        kept.append(shown)
    return kept


def round_spans(rounds: list[int]) -> str:
    """Rounds as spans, e.g. ``3, 5–13``."""
    spans: list[list[int]] = []
    for r in sorted(rounds):
        if spans and r == spans[-1][1] + 1:
            spans[-1][1] = r
        else:
            spans.append([r, r])
    return ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in spans)

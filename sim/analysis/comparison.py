"""Comparing batches: how the odds of each ending and branch, and each actor's payoff, move.

The first batch is the *baseline*; every other batch is compared with it. For each
ending, each branch outcome and each actor's mean payoff the comparison gives the
value in every batch, the difference from the baseline with a 95% interval, and a
p-value. Two designs are told apart:

* **Independent batches** (different seeds). A probability difference is tested with
  the two-proportion z-test, whose standard error pools both batches (the null
  hypothesis says the proportions are equal); its 95% interval uses the unpooled
  standard error (the proportions need not be equal). A payoff difference uses Welch's
  t-test and interval (unequal variances).
* **Matched batches** (common random numbers). Every random draw is a function of
  (seed, run, round, who, what), so two batches with the same seed and the same number
  of runs play run k with the same draws wherever the change between them does not
  reach. Run k of one is then compared with run k of the other: for a probability the
  per-run difference of indicators d_k = 1[B_k = e] - 1[A_k = e] has mean p_B - p_A and
  standard error sd(d)/sqrt(n), and the test is McNemar's (exact binomial, with an
  exact interval that agrees with it, when fewer than 25 runs disagree); for a payoff
  the paired t-test and interval. The shared draws
  cancel, so the intervals are narrower than for independent batches of the same size.
  Pairing is detected automatically (same seed, same runs count, same run indices);
  ``paired=False`` (``--unpaired``) forces the independent analysis.
* **Partly matched batches** (the same seed, different runs counts, no sweep design).
  Run k draws from the stream (seed, k), so the runs the two batches have in common
  (say runs 0..1,999 of a batch of 2,000 and one of 3,000) are matched as above, and
  the others are independent. Every run still counts: the difference of the two means
  has variance s_A²/n_A + s_B²/n_B − 2 n_c cov_c(A, B)/(n_A n_B), the covariance
  taken over the n_c common runs (it is the paired variance when every run is common,
  the independent one when none is); the interval and the test are normal (z) with
  this standard error. Treating them as independent would ignore that covariance.
* **Sobol sweeps.** A Sobol design's runs come in base samples whose rows share
  parameter values and random streams, so runs are not independent draws; the base
  samples are (:func:`sim.batch.summary.batch_clusters`). Any comparison with a Sobol
  sweep uses cluster-robust standard errors over its base samples: for matched batches
  the variance of the mean per-run difference, C/(C-1) Σ_c (Σ_{k in c} (d_k - d̄))² / n²
  over the C base samples; for independent ones the sum of the two batches' variances
  of the mean (a plain batch's s²/n). The interval and the test are Student's t with
  C - 1 degrees of freedom (Welch-Satterthwaite's for two independent batches). With
  run-level tests the intervals of alaska's sweeps came out about 1.8 times too narrow.

Multiple comparisons: every p-value reported is the raw one. A difference is marked
significant when its Holm-adjusted p-value, adjusted over all the tests in the
differences table, is below 5%; Holm's step-down procedure keeps the chance of any false
flag at 5% whatever the dependence between the tests.

When the batches ran different scenario texts or ``--set`` values, the comparison lists
what differs (see :mod:`sim.analysis.scenariodiff`).

This module computes; it neither prints nor draws. :mod:`sim.analysis.comparetext`
turns a :class:`Comparison` into text, :mod:`sim.analysis.compareplots` into charts,
and :func:`sim.analysis.comparefolder.write_comparison` writes all of them to a folder.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.scenariodiff import batch_differences
from sim.batch.results import Results
from sim.batch.summary import Z95, Clusters, batch_clusters, wilson_interval
from sim.errors import OptionsError, ResultsError

COMPARE_FORMAT = "wargame-compare/1"
ALPHA = 0.05
#: Below this many disagreeing runs McNemar's test uses the exact binomial distribution.
MCNEMAR_EXACT_BELOW = 25
NOT_REACHED = "(not reached)"
FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)

METHOD_INDEPENDENT = (
    "independent batches: two-proportion z-test (pooled SE for the test, unpooled SE for "
    "the 95% interval); payoffs: Welch t-test and interval"
)
METHOD_PAIRED = (
    "paired (common random numbers): run k matched with run k; probability: mean of "
    "per-run differences d_k with SE = sd(d)/sqrt(n), McNemar test (when fewer than "
    f"{MCNEMAR_EXACT_BELOW} runs disagree, the exact binomial test, and as interval "
    "r(2t − 1) over the Clopper-Pearson intervals of r, the share of runs that disagree, "
    "and t, the share of those that went B's way); payoffs: paired t-test and interval"
)
METHOD_PARTLY = (
    "partly paired (same seed, different runs counts): the runs both batches have are "
    "matched run by run (the same draws), the others independent; SE of the difference "
    "= sqrt(s_A²/n_A + s_B²/n_B − 2 n_c cov_c/(n_A n_B)), covariance over the n_c common "
    "runs; z-test and interval, for probabilities and payoffs"
)
METHOD_CLUSTERED = (
    "a Sobol sweep: its base samples are the independent units; cluster-robust SE of the "
    "mean (or of the mean per-run difference, for matched batches), t-test and interval "
    "with base samples - 1 degrees of freedom (Welch-Satterthwaite for independent batches)"
)
MULTIPLE_NOTE = (
    "p-values are raw; * marks a difference significant at 5% after Holm adjustment over "
    "all {m} tests in the table"
)


# --------------------------------------------------------------------------- statistics


def _stats() -> Any:
    # scipy.stats takes a third of a second to import: only pay for it when comparing,
    # not on every `import sim`.
    from scipy import stats

    return stats


@dataclass(frozen=True)
class Difference:
    """A difference between two batches with its 95% interval and test.

    Attributes:
        diff: Other minus baseline.
        low: Lower end of the 95% interval.
        high: Upper end of the 95% interval.
        se: Standard error used for the interval.
        p_value: Two-sided p-value of the test of no difference (raw).
    """

    diff: float
    low: float
    high: float
    se: float
    p_value: float


def _degenerate(diff: float) -> Difference:
    # No spread at all: the difference is known exactly.
    return Difference(diff, diff, diff, 0.0, 1.0 if diff == 0 else 0.0)


def proportion_difference_independent(count_a: int, n_a: int, count_b: int, n_b: int) -> Difference:
    """Difference p_B - p_A of two independent proportions (two-proportion z-test).

    The test's standard error pools the batches, as the null hypothesis (equal
    proportions) implies; the interval's standard error does not pool, since the
    proportions need not be equal.

    Args:
        count_a: Runs with the outcome in the baseline.
        n_a: Runs in the baseline.
        count_b: Runs with the outcome in the other batch.
        n_b: Runs in the other batch.

    Returns:
        The difference, its 95% (Wald, unpooled) interval and the z-test's p-value.
    """
    p_a, p_b = count_a / n_a, count_b / n_b
    diff = p_b - p_a
    se = math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
    pooled = (count_a + count_b) / (n_a + n_b)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se_pooled == 0:
        return _degenerate(diff)
    p_value = float(2 * _stats().norm.sf(abs(diff) / se_pooled))
    return Difference(diff, diff - Z95 * se, diff + Z95 * se, se, p_value)


def proportion_difference_paired(in_a: np.ndarray, in_b: np.ndarray) -> Difference:
    """Difference p_B - p_A of two proportions measured on matched runs.

    Args:
        in_a: Whether each run of the baseline had the outcome (bool, run order).
        in_b: The same for the other batch, run k matched with run k.

    Returns:
        The mean of d_k = 1[B_k] - 1[A_k], its 95% interval from SE = sd(d)/sqrt(n), and
        McNemar's p-value; below 25 disagreeing runs both exact (:func:`_few_disagree`).
    """
    n = len(in_a)
    d = in_b.astype(np.int8) - in_a.astype(np.int8)
    diff = float(d.mean())
    only_a = int(np.count_nonzero(d < 0))
    only_b = int(np.count_nonzero(d > 0))
    discordant = only_a + only_b
    if n < 2:
        return _degenerate(diff)
    se = float(d.std(ddof=1)) / math.sqrt(n) if discordant else 0.0
    if discordant < MCNEMAR_EXACT_BELOW:
        return _few_disagree(diff, se, n, only_a, only_b)
    p_value = float(2 * _stats().norm.sf(abs(only_b - only_a) / math.sqrt(discordant)))
    return Difference(diff, diff - Z95 * se, diff + Z95 * se, se, p_value)


def _few_disagree(diff: float, se: float, n: int, only_a: int, only_b: int) -> Difference:
    """A paired difference where fewer than 25 runs disagree: exact and conservative.

    The difference is r (2 t - 1), with r the share of runs that disagree and t the
    share of those that went B's way. Each gets its exact (Clopper-Pearson) 95%
    interval and the difference ranges over both: an interval whose sign agrees with
    the exact McNemar test (t's interval holds 1/2 exactly when the test does not
    reject) and that widens as fewer runs disagree, down to +-r_high when none does
    (an analyst found an interval of t alone narrower for 1 disagreeing run than for
    none, since it took their number as fixed).
    """
    stats = _stats()
    discordant = only_a + only_b
    rate = stats.binomtest(discordant, n).proportion_ci(confidence_level=0.95, method="exact")
    if discordant == 0:
        return Difference(0.0, -rate.high, rate.high, se, 1.0)
    test = stats.binomtest(only_b, discordant, 0.5)
    share = test.proportion_ci(confidence_level=0.95, method="exact")
    ends = [r * (2 * t - 1) for r in (rate.low, rate.high) for t in (share.low, share.high)]
    return Difference(diff, min(ends), max(ends), se, float(test.pvalue))


def _t_difference(diff: float, se: float, df: float) -> Difference:
    if not se > 0 or not math.isfinite(df):
        return _degenerate(diff)
    q = float(_stats().t.ppf(0.975, df))
    p_value = float(2 * _stats().t.sf(abs(diff) / se, df))
    return Difference(diff, diff - q * se, diff + q * se, se, p_value)


def mean_difference_independent(a: np.ndarray, b: np.ndarray) -> Difference:
    """Difference mean(B) - mean(A) of independent samples (Welch's t).

    Args:
        a: The baseline's values.
        b: The other batch's values.

    Returns:
        The difference, its 95% Welch interval and the Welch t-test's p-value.
    """
    diff = float(b.mean() - a.mean())
    if len(a) < 2 or len(b) < 2:
        return Difference(diff, math.nan, math.nan, math.nan, math.nan)
    var_a, var_b = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(var_a + var_b)
    if se == 0:
        return _degenerate(diff)
    df = (var_a + var_b) ** 2 / (var_a**2 / (len(a) - 1) + var_b**2 / (len(b) - 1))
    return _t_difference(diff, se, df)


def mean_difference_paired(a: np.ndarray, b: np.ndarray) -> Difference:
    """Difference mean(B) - mean(A) of matched samples (paired t).

    Args:
        a: The baseline's values in run order.
        b: The other batch's values, run k matched with run k.

    Returns:
        The mean of the per-run differences, its 95% paired-t interval and p-value.
    """
    d = b - a
    diff = float(d.mean())
    if len(d) < 2:
        return Difference(diff, math.nan, math.nan, math.nan, math.nan)
    se = float(d.std(ddof=1)) / math.sqrt(len(d))
    return _t_difference(diff, se, len(d) - 1)


def mean_difference_partly_paired(
    a: np.ndarray, b: np.ndarray, common_a: np.ndarray, common_b: np.ndarray
) -> Difference:
    """Difference mean(B) - mean(A) where some runs of A and B are matched.

    The runs ``a[common_a]`` and ``b[common_b]`` are matched in order (they played the
    same draws); every other run is independent. Var(mean B - mean A) = s_A²/n_A +
    s_B²/n_B - 2 n_c cov_c/(n_A n_B), with cov_c the covariance of the n_c matched runs.

    Args:
        a: The baseline's values (0/1 for a probability).
        b: The other batch's values.
        common_a: Which runs of ``a`` are matched (as many as ``common_b``).
        common_b: Which runs of ``b`` are matched, in the same order.

    Returns:
        The difference, its 95% normal interval and the z-test's two-sided p-value.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n_a, n_b = len(a), len(b)
    diff = float(b.mean() - a.mean())
    if n_a < 2 or n_b < 2:
        return Difference(diff, math.nan, math.nan, math.nan, math.nan)
    variance = a.var(ddof=1) / n_a + b.var(ddof=1) / n_b
    n_c = int(np.count_nonzero(common_a))
    if n_c >= 2:
        covariance = float(np.cov(a[common_a], b[common_b], ddof=1)[0, 1])
        variance -= 2 * n_c * covariance / (n_a * n_b)
    se = math.sqrt(max(float(variance), 0.0))
    if se == 0:
        return _degenerate(diff)
    p_value = float(2 * _stats().norm.sf(abs(diff) / se))
    return Difference(diff, diff - Z95 * se, diff + Z95 * se, se, p_value)


def _variance_of_mean(values: np.ndarray, clusters: Clusters | None) -> tuple[float, float]:
    """The variance of a mean and its degrees of freedom: by clusters if given, else runs."""
    if clusters is not None:
        return clusters.variance_of_mean(values), float(clusters.count - 1)
    return float(values.var(ddof=1)) / len(values), float(len(values) - 1)


def mean_difference_clustered(
    a: np.ndarray,
    b: np.ndarray,
    clusters_a: Clusters | None,
    clusters_b: Clusters | None,
    paired: bool,
) -> Difference:
    """Difference mean(B) - mean(A) where a batch's runs come in clusters (a Sobol sweep).

    Matched batches (``paired``: run k with run k, the same design): the per-run
    differences d = b - a, with the cluster-robust variance of their mean over the
    clusters (``clusters_a``, or ``clusters_b`` where the baseline has none) and t with
    clusters - 1 degrees of freedom. Independent batches: the sum of each batch's
    variance of its mean (cluster-robust where it has clusters, s²/n otherwise), with
    Welch-Satterthwaite's degrees of freedom.

    Args:
        a: The baseline's values (0/1 for a probability), in run order.
        b: The other batch's values.
        clusters_a: The baseline's clusters (base samples), or ``None``.
        clusters_b: The other batch's clusters, or ``None``.
        paired: Whether run k of ``a`` is matched with run k of ``b``.

    Returns:
        The difference, its 95% t interval and the two-sided t-test's p-value.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = float(b.mean() - a.mean())
    if paired:
        clusters = clusters_a if clusters_a is not None else clusters_b
        variance, df = _variance_of_mean(b - a, clusters)
        return _t_difference(diff, math.sqrt(max(variance, 0.0)), df)
    if len(a) < 2 or len(b) < 2:
        return Difference(diff, math.nan, math.nan, math.nan, math.nan)
    var_a, df_a = _variance_of_mean(a, clusters_a)
    var_b, df_b = _variance_of_mean(b, clusters_b)
    total = var_a + var_b
    if not total > 0:
        return _degenerate(diff)
    df = total**2 / ((var_a**2 / df_a if var_a else 0.0) + (var_b**2 / df_b if var_b else 0.0))
    return _t_difference(diff, math.sqrt(total), df)


def holm_adjust(p_values: list[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of p-values (missing values count as 1).

    Args:
        p_values: Raw p-values.

    Returns:
        Adjusted p-values in the same order; reject where adjusted < alpha.
    """
    p = np.nan_to_num(np.asarray(p_values, dtype=float), nan=1.0)
    m = len(p)
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(stepped) if m else stepped
    return adjusted


# --------------------------------------------------------------------------- batches


@dataclass
class _Batch:
    label: str
    results: Results
    runs: pd.DataFrame

    @property
    def manifest(self) -> dict[str, Any]:
        return self.results.manifest

    @property
    def n(self) -> int:
        return len(self.runs)

    @functools.cached_property
    def clusters(self) -> Clusters | None:
        """A Sobol sweep's base samples, aligned with ``runs``; ``None`` for other batches."""
        return batch_clusters(
            self.manifest, list(self.runs.columns), lambda: self.runs["run"].to_numpy()
        )


def _load_batch(folder: str | Path, label: str) -> _Batch:
    results = Results(folder)
    layout = results.layout
    columns = ["run", "ending"]
    columns += [f"branch.{b['id']}" for b in layout["branches"]]
    columns += [f"payoff.{a['id']}" for a in layout["actors"]]
    runs = results.runs(columns)
    if not runs["run"].is_monotonic_increasing:
        runs = runs.sort_values("run", kind="stable").reset_index(drop=True)
    if len(runs) == 0:
        raise ResultsError(f"{results.folder}: the batch has no runs")
    return _Batch(label, results, runs)


def _default_labels(folders: list[Path]) -> list[str]:
    labels = [f.resolve().name or str(f) for f in folders]
    if len(set(labels)) < len(labels):
        labels = [f"{f.resolve().parent.name}/{f.resolve().name}" for f in folders]
    if len(set(labels)) < len(labels):
        labels = [f"{label} #{i + 1}" for i, label in enumerate(labels)]
    return labels


def _check_labels(labels: list[str] | None, folders: list[Path]) -> list[str]:
    if labels is None:
        return _default_labels(folders)
    labels = [str(label).strip() for label in labels]
    if len(labels) != len(folders):
        raise OptionsError(
            f"--labels: {len(labels)} label(s) for {len(folders)} folders; give one per folder"
        )
    if any(not label for label in labels):
        raise OptionsError("--labels: a label is empty")
    if len(set(labels)) < len(labels):
        raise OptionsError("--labels: labels must be different from each other")
    return labels


def pairing(baseline: dict[str, Any], other: dict[str, Any]) -> str | None:
    """Why two batches cannot be matched run by run, or None if they can.

    Two batches are a common-random-numbers pair when they share the seed and the runs
    count (so run k of each used the same draws wherever the change did not reach).

    Args:
        baseline: The baseline's manifest.
        other: The other batch's manifest.

    Returns:
        None if the batches pair, else a reason such as ``"seeds differ: 1 vs 2"``.
    """
    if baseline["seed"] != other["seed"]:
        return f"seeds differ: {baseline['seed']} vs {other['seed']}"
    if baseline["runs"] != other["runs"]:
        return f"runs counts differ: {baseline['runs']:,} vs {other['runs']:,}"
    return None


def _common_runs(base: _Batch, other: _Batch) -> tuple[np.ndarray, np.ndarray] | None:
    """Which runs of two batches with the same seed played the same draws, or None.

    Run k of a plain batch draws from the stream (seed, k) (a sweep's streams follow
    its design, so sweeps are left out): with the same seed, the runs both batches
    have are matched.
    """
    if base.manifest["seed"] != other.manifest["seed"]:
        return None
    if base.manifest.get("design") or other.manifest.get("design"):
        return None
    runs_a, runs_b = base.runs["run"].to_numpy(), other.runs["run"].to_numpy()
    in_a, in_b = np.isin(runs_a, runs_b), np.isin(runs_b, runs_a)
    if np.count_nonzero(in_a) < 2:
        return None
    return in_a, in_b


def _check_comparable(base: _Batch, other: _Batch) -> None:
    """Refuse batches of two scenarios that share no ending and no branch.

    Batches of variants of one scenario (another file, the same endings) compare; a
    batch of Korea against one of Alaska would only show every outcome of each as
    "significantly" absent from the other (an analyst's trial).

    Raises:
        OptionsError: If the two have no ending id and no branch id in common.
    """
    scenario_a, scenario_b = base.manifest["scenario"]["id"], other.manifest["scenario"]["id"]
    if scenario_a == scenario_b:
        return

    def ids(batch: _Batch) -> set[str]:
        layout = batch.results.layout
        endings = {f"ending {e['id']}" for e in layout["endings"]}
        return endings | {f"branch {b['id']}" for b in layout["branches"]}

    if not ids(base) & ids(other):
        raise OptionsError(
            f"{other.label} plays {scenario_b} and {base.label} plays {scenario_a}, which "
            "share no ending and no branch: there is nothing to compare"
        )


def _pair_reason(base: _Batch, other: _Batch) -> str | None:
    reason = pairing(base.manifest, other.manifest)
    if reason is None and not np.array_equal(
        base.runs["run"].to_numpy(), other.runs["run"].to_numpy()
    ):
        reason = "run indices differ"
    return reason


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class _Outcome:
    kind: str  # "ending" or "branch"
    group: str  # "ending" or the branch id
    outcome: str
    title: str
    column: str
    value: str

    def indicator(self, batch: _Batch) -> np.ndarray:
        if self.column not in batch.runs:
            return np.zeros(batch.n, dtype=bool)
        return (batch.runs[self.column] == self.value).to_numpy()


def _outcomes(batches: list[_Batch]) -> list[_Outcome]:
    """Every ending and branch outcome of any batch, in the baseline's order first."""
    endings: dict[str, str] = {}
    branches: dict[str, list[str]] = {}
    for batch in batches:
        for ending in batch.results.layout["endings"]:
            endings.setdefault(ending["id"], ending.get("title") or ending["id"])
        for branch in batch.results.layout["branches"]:
            known = branches.setdefault(branch["id"], [])
            known.extend(o for o in branch["outcomes"] if o not in known)
    outcomes = [_Outcome("ending", "ending", e, title, "ending", e) for e, title in endings.items()]
    for branch_id, values in branches.items():
        column = f"branch.{branch_id}"
        outcomes += [
            _Outcome("branch", branch_id, o, f"{branch_id}: {o}", column, o) for o in values
        ]
        unreached = any(column in b.runs and (b.runs[column] == "").any() for b in batches)
        if unreached:
            outcomes.append(
                _Outcome(
                    "branch", branch_id, NOT_REACHED, f"{branch_id}: {NOT_REACHED}", column, ""
                )
            )
    return outcomes


def _actors(batches: list[_Batch]) -> dict[str, str]:
    actors: dict[str, str] = {}
    for batch in batches:
        for actor in batch.results.layout["actors"]:
            actors.setdefault(actor["id"], actor.get("name") or actor["id"])
    return actors


# --------------------------------------------------------------------------- comparison


@dataclass
class Comparison:
    """Batches compared with the first (the baseline).

    Attributes:
        labels: The batches' names, baseline first.
        folders: The results folders, in the same order.
        manifests: Their manifests.
        paired: For each batch, whether it is compared with the baseline run by run
            (common random numbers); False for the baseline itself and for a batch
            matched in part (:attr:`matching` tells those apart).
        pairing_notes: For each batch, why it is or is not paired.
        probabilities: One row per (outcome, batch): kind (``ending``/``branch``),
            group, outcome, title, label, count, n, p, and the 95% Wilson interval
            low/high.
        payoffs: One row per (actor, batch): actor, name, label, n, mean, sd, and the
            95% t interval low/high of the mean.
        differences: One row per (outcome or actor, non-baseline batch): kind
            (``ending``/``branch``/``payoff``), group, outcome, title, label, baseline,
            baseline_value, value, diff (value - baseline_value), low, high (95%), se,
            p_value (raw), p_holm, significant (p_holm < 0.05), paired, method.
        scenario_differences: For each non-baseline batch, what differs in its scenario
            and ``--set`` values from the baseline's (empty list: nothing).
        fans: Metric trajectories: label, metric, round and the 5/25/50/75/95%
            quantiles over runs (empty where a batch kept no trajectories).
        metrics: The metrics (id, title, unit) of the fan charts, baseline's order first.
        notes: Things the reader should know (methods, batches without trajectories).
        common_runs: For each batch, how many of its runs are matched with the
            baseline's in a partly paired comparison (same seed, different runs
            counts); 0 where it is paired or independent.
    """

    labels: list[str]
    folders: list[Path]
    manifests: list[dict[str, Any]]
    paired: list[bool]
    pairing_notes: list[str]
    probabilities: pd.DataFrame
    payoffs: pd.DataFrame
    differences: pd.DataFrame
    scenario_differences: dict[str, list[str]]
    fans: pd.DataFrame
    metrics: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    common_runs: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.common_runs:  # none given: no batch is partly paired
            self.common_runs = [0] * len(self.labels)

    @property
    def clustered(self) -> list[str]:
        """The batches compared with the baseline by the base samples of a Sobol sweep."""
        frame = self.differences
        if not len(frame):
            return []
        found = set(frame.loc[frame["method"].str.contains("clustered"), "label"])
        return [label for label in self.labels[1:] if label in found]

    @property
    def baseline(self) -> str:
        """The baseline batch's label."""
        return self.labels[0]

    @property
    def matching(self) -> list[str]:
        """For each batch, how its runs are matched with the baseline's.

        ``"baseline"``, ``"paired"`` (run k with run k), ``"partly paired"`` (the
        ``common_runs`` both have are matched, the others independent) or
        ``"independent"``. A partly paired batch has ``paired`` False: only some of its
        runs are matched.
        """
        kinds = ["baseline"]
        for is_paired, common in zip(self.paired[1:], self.common_runs[1:], strict=True):
            kinds.append("paired" if is_paired else "partly paired" if common else "independent")
        return kinds

    @property
    def any_paired(self) -> bool:
        """Whether any batch is compared with the baseline run by run."""
        return any(self.paired)

    @property
    def methods(self) -> list[str]:
        """One line per method used, naming the batches it applies to."""
        lines = []
        clustered = self.clustered
        paired = [
            lab
            for lab, p in zip(self.labels[1:], self.paired[1:], strict=True)
            if p and lab not in clustered
        ]
        common = self.common_runs
        partly = [lab for lab, c in zip(self.labels[1:], common[1:], strict=True) if c]
        unpaired = [
            lab
            for lab, p, c in zip(self.labels[1:], self.paired[1:], common[1:], strict=True)
            if not p and not c and lab not in clustered
        ]
        if clustered:
            lines.append(f"{', '.join(clustered)} vs {self.baseline}: {METHOD_CLUSTERED}")
        if paired:
            lines.append(f"{', '.join(paired)} vs {self.baseline}: {METHOD_PAIRED}")
        if partly:
            lines.append(f"{', '.join(partly)} vs {self.baseline}: {METHOD_PARTLY}")
        if unpaired:
            lines.append(f"{', '.join(unpaired)} vs {self.baseline}: {METHOD_INDEPENDENT}")
        lines.append(MULTIPLE_NOTE.format(m=len(self.differences)))
        return lines

    def to_dict(self) -> dict[str, Any]:
        """The comparison as JSON-serialisable data (what compare.json holds)."""
        batches = []
        matching = self.matching
        for i, label in enumerate(self.labels):
            manifest = self.manifests[i]
            batches.append(
                {
                    "label": label,
                    "folder": str(self.folders[i]),
                    "scenario": {k: manifest["scenario"].get(k) for k in ("id", "title", "sha256")},
                    "seed": manifest["seed"],
                    "runs": manifest["runs"],
                    "overrides": manifest.get("overrides") or {},
                    "baseline": i == 0,
                    "paired": self.paired[i],
                    "matching": matching[i],
                    "common_runs": self.common_runs[i],
                    "pairing": self.pairing_notes[i],
                    "scenario_differences": self.scenario_differences.get(label, []),
                }
            )
        return {
            "format": COMPARE_FORMAT,
            "baseline": self.baseline,
            "batches": batches,
            "methods": self.methods,
            "alpha": ALPHA,
            "p_value_adjustment": "none on p_value; significance from Holm-adjusted p_holm",
            "probabilities": _records(self.probabilities),
            "payoffs": _records(self.payoffs),
            "differences": _records(self.differences),
            "notes": self.notes,
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    records = json.loads(frame.to_json(orient="records", double_precision=15))
    return records


def _probability_rows(batches: list[_Batch], outcomes: list[_Outcome]) -> pd.DataFrame:
    rows = []
    for outcome in outcomes:
        for batch in batches:
            count = int(outcome.indicator(batch).sum())
            low, high = wilson_interval(count, batch.n)
            rows.append(
                {
                    "kind": outcome.kind,
                    "group": outcome.group,
                    "outcome": outcome.outcome,
                    "title": outcome.title,
                    "label": batch.label,
                    "count": count,
                    "n": batch.n,
                    "p": count / batch.n,
                    "low": low,
                    "high": high,
                }
            )
    return pd.DataFrame(rows)


def _payoff_rows(batches: list[_Batch], actors: dict[str, str]) -> pd.DataFrame:
    rows = []
    for actor, name in actors.items():
        for batch in batches:
            column = f"payoff.{actor}"
            if column not in batch.runs:
                continue
            values = batch.runs[column].to_numpy(dtype=float)
            mean = float(values.mean())
            sd = float(values.std(ddof=1)) if len(values) > 1 else math.nan
            half = (
                float(_stats().t.ppf(0.975, len(values) - 1)) * sd / math.sqrt(len(values))
                if len(values) > 1
                else math.nan
            )
            rows.append(
                {
                    "actor": actor,
                    "name": name,
                    "label": batch.label,
                    "n": len(values),
                    "mean": mean,
                    "sd": sd,
                    "low": mean - half,
                    "high": mean + half,
                }
            )
    return pd.DataFrame(rows)


def _difference_rows(
    batches: list[_Batch],
    paired: list[bool],
    outcomes: list[_Outcome],
    actors: dict[str, str],
    common: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> pd.DataFrame:
    base = batches[0]
    common = common or {}
    rows = []
    clusters = [batch.clusters for batch in batches]
    clustered = [clusters[0] is not None or c is not None for c in clusters]

    def row(
        kind: str,
        group: str,
        outcome: str,
        title: str,
        other: _Batch,
        is_paired: bool,
        base_value: float,
        value: float,
        result: Difference,
        method: str,
    ) -> None:
        rows.append(
            {
                "kind": kind,
                "group": group,
                "outcome": outcome,
                "title": title,
                "label": other.label,
                "baseline": base.label,
                "baseline_value": base_value,
                "value": value,
                "diff": result.diff,
                "low": result.low,
                "high": result.high,
                "se": result.se,
                "p_value": result.p_value,
                "paired": is_paired,
                "method": method,
            }
        )

    def tested(
        a: np.ndarray, b: np.ndarray, i: int, is_paired: bool, proportion: bool
    ) -> tuple[Difference, str]:
        """The difference of batch ``i`` from the baseline, by the design they share."""
        if clustered[i]:
            result = mean_difference_clustered(a, b, clusters[0], clusters[i], is_paired)
            return result, ("paired" if is_paired else "Welch") + " t, clustered by base sample"
        if is_paired:
            if proportion:
                return proportion_difference_paired(a, b), "paired difference, McNemar"
            return mean_difference_paired(a, b), "paired t"
        if batches[i].label in common:
            return mean_difference_partly_paired(a, b, *common[batches[i].label]), "partly paired z"
        if proportion:
            counts = (int(a.sum()), len(a), int(b.sum()), len(b))
            return proportion_difference_independent(*counts), "two-proportion z"
        return mean_difference_independent(a, b), "Welch t"

    for outcome in outcomes:
        in_base = outcome.indicator(base)
        for i, (other, is_paired) in enumerate(zip(batches[1:], paired[1:], strict=True), 1):
            in_other = outcome.indicator(other)
            result, method = tested(in_base, in_other, i, is_paired, proportion=True)
            row(
                outcome.kind,
                outcome.group,
                outcome.outcome,
                outcome.title,
                other,
                is_paired,
                float(in_base.mean()),
                float(in_other.mean()),
                result,
                method,
            )
    for actor, name in actors.items():
        column = f"payoff.{actor}"
        if column not in base.runs:
            continue
        a = base.runs[column].to_numpy(dtype=float)
        for i, (other, is_paired) in enumerate(zip(batches[1:], paired[1:], strict=True), 1):
            if column not in other.runs:
                continue
            b = other.runs[column].to_numpy(dtype=float)
            result, method = tested(a, b, i, is_paired, proportion=False)
            row(
                "payoff",
                "payoff",
                actor,
                name,
                other,
                is_paired,
                float(a.mean()),
                float(b.mean()),
                result,
                method,
            )
    frame = pd.DataFrame(rows)
    frame["p_holm"] = holm_adjust(frame["p_value"].to_numpy()) if len(frame) else []
    frame["significant"] = frame["p_holm"] < ALPHA
    order = [*frame.columns[:-5], "p_value", "p_holm", "significant", "paired", "method"]
    return frame[order]


def _metrics(batches: list[_Batch]) -> list[dict[str, Any]]:
    metrics: dict[str, dict[str, Any]] = {}
    for batch in batches:
        for metric in batch.results.layout["metrics"]:
            metrics.setdefault(metric["id"], metric)
    return list(metrics.values())


def fan_quantiles(results: Results, metric_ids: list[str]) -> pd.DataFrame:
    """Quantiles over runs of each metric, round by round, for fan charts.

    Args:
        results: A finished batch that kept trajectories.
        metric_ids: The metrics wanted (those the batch lacks are skipped).

    Returns:
        One row per (metric, round): metric, round, q05, q25, q50, q75, q95.
    """
    available = {f"metric.{m['id']}" for m in results.layout["metrics"]}
    wanted = [m for m in metric_ids if f"metric.{m}" in available]
    if not wanted:
        return pd.DataFrame()
    rounds = results.rounds(["round"])["round"].to_numpy()
    n_rounds = int(rounds.max()) + 1 if len(rounds) else 0
    # A batch writes every run's rounds 0..R in order, so each metric reshapes to a
    # (runs, rounds) array whose column quantiles are fast even for millions of runs.
    regular = n_rounds > 0 and len(rounds) % n_rounds == 0
    regular = regular and np.array_equal(
        rounds, np.tile(np.arange(n_rounds), len(rounds) // n_rounds)
    )
    names = [f"q{round(100 * q):02d}" for q in FAN_QUANTILES]
    frames = []
    for metric in wanted:
        column = f"metric.{metric}"
        values = results.rounds([column])[column].to_numpy(dtype=float)
        if regular:
            grid = values.reshape(-1, n_rounds)
            # nanquantile falls back to a slow per-column loop: use it only if needed.
            finite = np.isfinite(grid).all()
            quantile = np.quantile if finite else np.nanquantile
            quantiles = quantile(grid, FAN_QUANTILES, axis=0).T
            table = pd.DataFrame(quantiles, columns=names)
            table.insert(0, "round", np.arange(n_rounds))
        else:
            frame = pd.DataFrame({"round": rounds, column: values})
            table = frame.groupby("round")[column].quantile(list(FAN_QUANTILES)).unstack()
            table.columns = names
            table = table.reset_index()
        table.insert(0, "metric", metric)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def _fans(batches: list[_Batch], metrics: list[dict[str, Any]], notes: list[str]) -> pd.DataFrame:
    frames = []
    missing = []
    for batch in batches:
        if not batch.manifest.get("keep_rounds"):
            missing.append(batch.label)
            continue
        fan = fan_quantiles(batch.results, [m["id"] for m in metrics])
        if len(fan):
            fan.insert(0, "label", batch.label)
            frames.append(fan)
    if missing:
        notes.append(
            "no trajectories (run with --no-rounds), left out of the fan charts: "
            + ", ".join(missing)
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def compare(
    dirs: list[str | Path],
    labels: list[str] | None = None,
    paired: bool | None = None,
    *,
    fans: bool = True,
) -> Comparison:
    """Compare batches with the first one (the baseline).

    Args:
        dirs: Two or more results folders; the first is the baseline.
        labels: A name for each batch (default: the folders' names).
        paired: None to pair batches that share the baseline's seed and runs count
            (common random numbers), False to treat every batch as independent, True to
            require pairing.
        fans: Compute metric quantiles per round for fan charts (reads rounds.parquet).

    Returns:
        The comparison: probabilities, payoffs, differences with intervals and tests,
        scenario differences and fan-chart data.

    Raises:
        OptionsError: Fewer than two folders, wrong labels, or pairing required but
            impossible.
        ResultsError: A folder is not a finished results folder.
    """
    folders = [Path(d) for d in dirs]
    if len(folders) < 2:
        raise OptionsError(
            f"compare needs at least two results folders (got {len(folders)}); the first is "
            "the baseline"
        )
    labels = _check_labels(labels, folders)
    seen: set[Path] = set()
    for folder in folders:
        if folder.resolve() in seen:
            raise OptionsError(
                f"{folder} is given twice: compare a batch with another one (a batch "
                "against itself differs by nothing)"
            )
        seen.add(folder.resolve())
    batches = [_load_batch(folder, label) for folder, label in zip(folders, labels, strict=True)]
    base = batches[0]
    for batch in batches[1:]:
        _check_comparable(base, batch)
    pair_flags = [False]
    pairing_notes = ["baseline"]
    common: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for batch in batches[1:]:
        reason = _pair_reason(base, batch)
        if paired is True and reason is not None:
            raise OptionsError(f"cannot pair {batch.label} with {base.label} run by run: {reason}")
        shared = _common_runs(base, batch) if reason is not None and paired is None else None
        if shared is not None:
            common[batch.label] = shared
            pair_flags.append(False)
            pairing_notes.append(
                f"partly paired: same seed {batch.manifest['seed']}, {reason}; the "
                f"{int(shared[0].sum()):,} runs both have played the same draws and are "
                "matched run by run, the others are independent"
            )
        elif paired is False:
            pair_flags.append(False)
            pairing_notes.append(
                "independent (forced with --unpaired)"
                if reason is None
                else f"independent: {reason}"
            )
        else:
            pair_flags.append(reason is None)
            pairing_notes.append(
                f"paired (common random numbers): same seed {batch.manifest['seed']} and "
                f"{batch.n:,} runs; run k matched with run k"
                if reason is None
                else f"independent: {reason}"
            )
    notes: list[str] = []
    scenario_differences = {
        batch.label: batch_differences(base.manifest, batch.manifest) for batch in batches[1:]
    }
    sobol = [b.label for b in batches if b.clusters is not None]
    if sobol:
        notes.append(
            f"{', '.join(sobol)}: a Sobol sweep's runs come in base samples that share "
            "parameter values and draws; intervals and tests with it treat the base samples "
            "as the independent units (cluster-robust)"
        )
    swept = [b.label for b in batches if b.manifest.get("design") and b.label not in sobol]
    if swept:
        notes.append(
            f"{', '.join(swept)}: runs follow a sweep design, not independent draws; the "
            "intervals and tests assume independent runs, so treat them as approximate"
        )
    ids = {b.manifest["scenario"]["id"] for b in batches}
    if len(ids) > 1:
        notes.append(
            f"the batches play different scenarios ({', '.join(sorted(ids))}); an outcome "
            "missing from a scenario counts as probability 0 there"
        )
    outcomes = _outcomes(batches)
    actors = _actors(batches)
    metrics = _metrics(batches)
    return Comparison(
        labels=labels,
        folders=folders,
        manifests=[b.manifest for b in batches],
        paired=pair_flags,
        pairing_notes=pairing_notes,
        probabilities=_probability_rows(batches, outcomes),
        payoffs=_payoff_rows(batches, actors),
        differences=_difference_rows(batches, pair_flags, outcomes, actors, common),
        scenario_differences=scenario_differences,
        fans=_fans(batches, metrics, notes) if fans else pd.DataFrame(),
        metrics=metrics,
        notes=notes,
        common_runs=[0]
        + [int(common[b.label][1].sum()) if b.label in common else 0 for b in batches[1:]],
    )

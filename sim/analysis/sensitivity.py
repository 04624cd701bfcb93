"""Sobol indices of a stochastic game: what the parameters explain, and what is chance.

A run's outcome Y (say, 1 if it ends in war) depends on the swept parameters X and on
the game's own chance w (every random draw of the run): Y = f(X, w). Its variance
splits into what the parameters explain, the variance of the *probability*
g(X) = E[Y | X], and the game's chance around it:

    Var(Y) = Var(g(X)) + E[Var(Y | X)]

Sobol indices are defined here on g, as shares of Var(Y):

- ``explained`` = Var(g) / Var(Y): how much of the outcome's variance the parameters
  explain at all (the rest, ``chance``, no choice of parameter values would remove);
- ``S1`` of X_i = Var(E[Y | X_i]) / Var(Y): what X_i explains alone;
- ``ST`` of X_i = E[Var(g | X_~i)] / Var(Y): what X_i explains alone or together with
  other parameters (``ST - S1`` is its interactions);
- ``S2`` of (X_i, X_j): what the pair explains together beyond their first-order parts.

So ``S1 <= ST <= explained <= 1``; a parameter that changes nothing gets exactly 0
(with an interval up to the most the sweep's size can rule out).

**Why the design shares the game's chance.** Saltelli's estimators assume a
deterministic model. If every row of the design draws its own chance (as sweeps did
before sweeps shared it), the chance lands in every index: Jansen's total index of a
parameter that does nothing becomes ``1 - explained``, and the first-order
estimators, unbiased but fed with noise, need enormous samples. The sweep
(:mod:`sim.batch.designs`) therefore plays every row of a base sample (A, B, each AB_i
and BA_i) with the same chance w_r, and each row again in every replicate r with
fresh chance. Two rows of a base sample in one replicate differ only through the
parameters that differ between them, so differences such as f(A) - f(AB_i) are exact
for a parameter that does nothing, and small for one that does little.

**The estimators.** Products of two runs with independent chance average to the
product of their probabilities: E[f(X, w) f(X', w')] = E[g(X) g(X')]. Every product
below therefore takes its two factors from two different replicates r != s, and is
averaged over every ordered pair of replicates and over both roles of A and B:

- Var(g) = E[f(A)_r (f(A)_s - f(B)_s)]
- V_i = E[f(B)_s (f(AB_i)_r - f(A)_r)]  (Saltelli et al. 2010, noise-free)
- T_i = E[(f(A)_r - f(AB_i)_r) (f(A)_s - f(AB_i)_s)] / 2  (Jansen's, two independent
  copies of the difference instead of its square)
- V_ij (closed) = E[f(BA_i)_r f(AB_j)_s - f(A)_r f(B)_s]  (Saltelli 2002)

and Var(Y) is the sample variance of f(A) and f(B). Every f is first centred on the
mean of the A and B rows, which leaves each expectation as it is (the factor multiplied
by a constant averages 0) and makes the terms steadier, and those of an outcome and of
its complement the same (SALib's ``sobol.analyze`` centres too). With a single replicate the
products cannot be crossed: the same formulas with r = s give the indices of f(., w)
averaged over w, which count how a parameter's effect depends on the chance
(parameter x chance interactions) and cannot say what the parameters explain at all;
the result says so. A sweep whose runs each drew their own chance (an older
results folder) is analysed by SALib's estimators, with a note that chance is in
every index.

**Intervals.** Base samples are independent, the rows within one are not, so the
bootstrap resamples whole base samples (with all their rows and replicates): 95%
percentile intervals and, for compatibility with SALib, ``*_conf`` = 1.96 bootstrap
standard deviations.

**Few informative base samples.** Every estimate is a mean over base samples of a
term that is zero unless the sample's rows end differently: the explained variance and
a total index need rows that end differently in two replicates, a first-order index in
one. For a rare outcome, or a parameter that rarely changes it, only a handful of base
samples are *informative*, and the bootstrap cannot see the uncertainty of such a mean
(with none, it says [0, 0] while the truth may be well above 0). Below
:data:`MIN_INFORMATIVE` informative samples the interval is therefore widened to what
the count allows: every index is at least 0, and at most the largest a term can be
(:data:`CEILING`, for a 0/1 outcome) times the share of base samples whose term is
positive, bounded above by Clopper-Pearson. The three bounds are chained (S1 <= ST
<= explained), each at 1 - 0.05/3, so together they hold with 95%. The result counts
the informative base samples of every index, and how many base samples or replicates
would give enough.

The indices satisfy S1 <= ST <= explained; their *estimates* need not, since each
comes from different base samples (a parameter that rarely changes a rare outcome can
get S1 > 0 from one informative sample and ST = 0 from none): the result lists such
crossings.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: Bootstrap resamples behind the intervals.
SOBOL_RESAMPLES = 500
#: Level of the intervals.
CONFIDENCE = 0.95
Z95 = 1.959963984540054
#: Below this many informative base samples an interval is the bound their count allows
#: (the bootstrap cannot see the uncertainty of a mean of a few non-zero terms).
MIN_INFORMATIVE = 20
#: Most replicates a sweep may have (the sweep's own limit).
MAX_REPLICATES = 100
#: A contribution this close to 0 counts as 0 (products of 0/1 outcomes are exact).
CONTRIBUTION_ZERO = 1e-12
#: The largest a base sample's contribution can be, for an outcome in [0, 1] centred on
#: its mean c: the explained variance and the total index average products of two
#: differences (halved), the first-order index a centred value (at most max(c, 1 - c))
#: times a difference, the second-order one a closed index (a difference of two
#: products of centred values, each in [-1/4, 1]: at most 5/4) less two first-order ones.
CEILING = {"explained": 0.5, "ST": 0.5, "S1": 1.0, "S2": 3.25}


def _pairs(replicates: int) -> list[tuple[int, int]]:
    """Ordered pairs of distinct replicates (or (0, 0) when there is only one)."""
    if replicates == 1:
        return [(0, 0)]
    return [(r, s) for r in range(replicates) for s in range(replicates) if r != s]


def _contributions(y: np.ndarray, d: int) -> dict[str, np.ndarray]:
    """Per-base-sample terms whose means are the estimators' moments.

    Args:
        y: Outcomes shaped (replicates, N, 2D+2): A, AB_1..AB_D, BA_1..BA_D, B.
        d: Number of parameters.

    Returns:
        Arrays with N rows (first axis), one per moment.
    """
    replicates = y.shape[0]
    a, b = y[:, :, 0], y[:, :, 2 * d + 1]
    ab, ba = y[:, :, 1 : d + 1], y[:, :, d + 1 : 2 * d + 1]
    n = y.shape[1]
    explained = np.zeros(n)
    first = np.zeros((n, d))
    total = np.zeros((n, d))
    closed = np.zeros((n, d, d))
    pairs = _pairs(replicates)
    for r, s in pairs:
        explained += 0.5 * (a[r] * (a[s] - b[s]) + b[r] * (b[s] - a[s]))
        first += 0.5 * (
            b[s][:, None] * (ab[r] - a[r][:, None]) + a[s][:, None] * (ba[r] - b[r][:, None])
        )
        total += 0.25 * (
            (a[r][:, None] - ab[r]) * (a[s][:, None] - ab[s])
            + (b[r][:, None] - ba[r]) * (b[s][:, None] - ba[s])
        )
        base = 0.5 * (a[r] * b[s] + b[r] * a[s])
        closed += (
            0.5 * (ba[r][:, :, None] * ab[s][:, None, :] + ab[r][:, :, None] * ba[s][:, None, :])
            - base[:, None, None]
        )
    k = len(pairs)
    both = np.concatenate([a, b], axis=0)  # (2 * replicates, N)
    return {
        "mean": both.mean(axis=0),
        "square": (both**2).mean(axis=0),
        "explained": explained / k,
        "first": first / k,
        "total": total / k,
        "closed": closed.reshape(n, d * d) / k,
    }


def _estimates(moments: dict[str, np.ndarray], d: int) -> dict[str, np.ndarray]:
    """Indices from moments averaged over base samples (any leading axes kept)."""
    variance = moments["square"] - moments["mean"] ** 2
    safe = np.where(variance > 1e-15, variance, np.nan)
    first = moments["first"] / safe[..., None]
    closed = moments["closed"].reshape(*moments["closed"].shape[:-1], d, d) / safe[..., None, None]
    second = closed - first[..., :, None] - first[..., None, :]
    return {
        "variance": variance,
        "explained": moments["explained"] / safe,
        "S1": first,
        "ST": moments["total"] / safe[..., None],
        "S2": second,
    }


def _upper_share(hits: int, n: int, level: float) -> float:
    """One-sided Clopper-Pearson upper bound of a share: ``hits`` of ``n`` at ``level``."""
    from scipy.stats import beta

    if hits >= n:
        return 1.0
    return float(beta.ppf(level, hits + 1, n - hits))


def _recommend(flips: float, n: int, replicates: int) -> dict[str, Any] | None:
    """Base samples, or replicates at this N, that would give enough informative ones.

    A base sample informs the crossed estimators when its rows end differently in at
    least two replicates; with a share ``flips`` of (base sample, replicate) pairs
    ending differently, that is P(at least 2 of R) (taking replicates as independent,
    which understates it when some base samples flip far more often than others).
    """
    if flips <= 0:
        return None

    def informative(r: int) -> float:
        return 1 - (1 - flips) ** r - r * flips * (1 - flips) ** (r - 1)

    wanted = MIN_INFORMATIVE
    share = informative(max(replicates, 2))
    base = 2 ** math.ceil(math.log2(max(2.0, wanted / share))) if share > 0 else None
    more = next(
        (r for r in range(max(replicates, 2), MAX_REPLICATES + 1) if n * informative(r) >= wanted),
        None,
    )
    return {"n": base, "replicates": more, "at_n": n, "flip_share": flips}


def stochastic_sobol(
    y: np.ndarray,
    names: list[str],
    n: int,
    replicates: int,
    *,
    resamples: int = SOBOL_RESAMPLES,
    seed: int = 0,
) -> dict[str, Any] | None:
    """Sobol indices of an outcome from a sweep whose base samples share their chance.

    Args:
        y: The outcome per run, in run order: ``replicates`` blocks of N*(2D+2) rows in
            SALib's order (A, AB_1..AB_D, BA_1..BA_D, B for each base sample).
        names: The D swept parameters.
        n: Base samples N.
        replicates: Times each row was played.
        resamples: Bootstrap resamples of the base samples.
        seed: Seed of the bootstrap.

    Returns:
        ``{"explained": {value, conf, low, high, informative, bound} or None,
        "chance": ..., "indices": {name: {S1, S1_conf, S1_low, S1_high,
        S1_informative, S1_bound, ST, ...}}, "S2": [{"pair", "S2", "S2_conf",
        "S2_low", "S2_high", "S2_informative", "S2_bound"}], "replicates", "crossed",
        "base_samples", "informative", "few_informative", "recommend"}``; ``None``
        when the outcome never varies. ``informative`` counts the base samples whose
        contribution to an estimator is not zero; below :data:`MIN_INFORMATIVE` the
        interval is widened to the bound those counts allow (``bound`` true).
    """
    d = len(names)
    per = 2 * d + 2
    values = np.asarray(y, dtype=float).reshape(replicates, n, per)
    if values.min() == values.max():
        return None
    # Centred on the mean of the A and B rows: the moments' expectations do not change
    # (each first-order and second-order term multiplies a value by differences that
    # average 0), but their spread does: for a 0/1 outcome of probability p a term's
    # factor has mean square p(1 - p) instead of p, so a common outcome's S1 is several
    # times steadier, and an outcome and its complement (1 - Y) get the same terms, so
    # the same indices, counts and intervals.
    centre = float(np.concatenate([values[:, :, 0], values[:, :, -1]]).mean())
    parts = _contributions(values - centre, d)
    point = _estimates({k: v.mean(axis=0) for k, v in parts.items()}, d)
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples) / n  # (B, N)
    boot = _estimates({k: weights @ v for k, v in parts.items()}, d)
    crossed = replicates > 1
    variance = float(point["variance"])
    # Bounds need an outcome in [0, 1] (a 0/1 indicator): then each contribution is
    # at most CEILING[kind] (see _contributions).
    bounded = bool(values.min() >= 0 and values.max() <= 1 and variance > 1e-15)
    first = parts["first"]
    second = parts["closed"].reshape(n, d, d) - first[:, :, None] - first[:, None, :]
    per_sample = {
        "explained": parts["explained"],
        "S1": first,
        "ST": parts["total"],
        "S2": second,
    }
    level = 1 - (1 - CONFIDENCE) / 3  # three bounds chained: S1 <= ST <= explained

    def upper(kind: str) -> np.ndarray:
        positive = np.sum(per_sample[kind] > CONTRIBUTION_ZERO, axis=0)
        shares = np.vectorize(lambda h: _upper_share(int(h), n, level))(positive)
        # A share of variance is at most 1 (an author's sweep printed [0, 407%]).
        return np.minimum(CEILING[kind] * np.asarray(shares, dtype=float) / variance, 1.0)

    counts = {kind: np.sum(np.abs(v) > CONTRIBUTION_ZERO, axis=0) for kind, v in per_sample.items()}
    ceilings: dict[str, Any] = {}
    if bounded:
        ceilings["explained"] = float(upper("explained")) if crossed else math.inf
        ceilings["ST"] = np.minimum(upper("ST"), ceilings["explained"])
        ceilings["S1"] = np.minimum(upper("S1"), ceilings["ST"])
        ceilings["S2"] = np.minimum(upper("S2"), ceilings["explained"])

    def interval(
        estimate: float, draws: np.ndarray, informative: int, ceiling: float | None
    ) -> dict[str, Any]:
        finite = draws[np.isfinite(draws)]
        found: dict[str, Any] = {
            "value": float(estimate),
            "conf": float("nan"),
            "low": float("nan"),
            "high": float("nan"),
            "informative": int(informative),
            "bound": False,
        }
        if finite.size >= 2:
            low, high = np.quantile(finite, [0.025, 0.975])
            found.update(conf=float(Z95 * finite.std(ddof=1)), low=float(low), high=float(high))
        if ceiling is not None and informative < MIN_INFORMATIVE:
            # Too few base samples for the bootstrap to see the uncertainty (with none,
            # it says [0, 0]): the index lies between 0 (every true index is at least
            # 0) and what the count of informative base samples allows.
            low = min(0.0, found["low"]) if math.isfinite(found["low"]) else 0.0
            high = max(float(ceiling), found["high"]) if math.isfinite(found["high"]) else ceiling
            found.update(low=low, high=float(high), bound=True)
            found["conf"] = (found["high"] - found["low"]) / 2
        return found

    def ceiling_of(kind: str, *index: int) -> float | None:
        if not bounded:
            return None
        value = ceilings[kind][index] if index else ceilings[kind]
        return float(value) if math.isfinite(value) else None

    indices: dict[str, dict[str, Any]] = {}
    for j, name in enumerate(names):
        entry: dict[str, Any] = {}
        for key in ("S1", "ST"):
            found = interval(point[key][j], boot[key][:, j], counts[key][j], ceiling_of(key, j))
            entry[key] = found["value"]
            for part in ("conf", "low", "high", "informative", "bound"):
                entry[f"{key}_{part}"] = found[part]
        indices[name] = entry
    pairs = []
    for i in range(d):
        for j in range(i + 1, d):
            found = interval(
                point["S2"][i, j], boot["S2"][:, i, j], counts["S2"][i, j], ceiling_of("S2", i, j)
            )
            pair: dict[str, Any] = {"pair": [names[i], names[j]], "S2": found["value"]}
            for part in ("conf", "low", "high", "informative", "bound"):
                pair[f"S2_{part}"] = found[part]
            pairs.append(pair)
    pairs.sort(key=lambda p: -abs(p["S2"]))
    explained = None
    if crossed:
        explained = interval(
            point["explained"], boot["explained"], int(counts["explained"]),
            ceiling_of("explained"),
        )  # fmt: skip
    chance = None
    if explained is not None:
        chance = {
            "value": 1 - explained["value"],
            "conf": explained["conf"],
            "low": 1 - explained["high"],
            "high": 1 - explained["low"],
        }
    # How often the rows A and B of a base sample end differently, replicate by replicate.
    a, b = values[:, :, 0], values[:, :, per - 1]
    flips = float(np.mean(a != b))
    few = bool(crossed and counts["explained"] < MIN_INFORMATIVE)
    return {
        "variance": variance,
        "mean": float(parts["mean"].mean()),
        "replicates": replicates,
        "crossed": crossed,
        "estimator": "shared chance, crossed replicates"
        if crossed
        else "shared chance, one replicate",
        "explained": explained,
        "chance": chance,
        "indices": indices,
        "S2": pairs,
        "base_samples": n,
        "min_informative": MIN_INFORMATIVE,
        "informative": int(counts["explained"]) if crossed else None,
        "flip_share": flips,
        "few_informative": few,
        "recommend": _recommend(flips, n, replicates) if few else None,
        "s1_above_st": [
            name for name, e in indices.items() if e["S1"] > e["ST"] + CONTRIBUTION_ZERO
        ],
    }


def salib_sobol(
    y: np.ndarray, names: list[str], *, resamples: int = SOBOL_RESAMPLES, seed: int = 0
) -> dict[str, Any] | None:
    """SALib's Sobol indices, for a sweep whose runs each drew their own chance.

    The estimators assume a deterministic model, so the game's chance is in every
    index (see the module docstring); kept for results folders of earlier sweeps (no
    ``randomness`` in their design).

    Returns:
        The same shape as :func:`stochastic_sobol` (``explained`` is ``None``).
    """
    from SALib.analyze import sobol

    values = np.asarray(y, dtype=float)
    if values.min() == values.max():
        return None
    d = len(names)
    problem = {"num_vars": d, "names": list(names), "bounds": [[0.0, 1.0]] * d}
    with np.errstate(all="ignore"):
        analysed = sobol.analyze(
            problem,
            values,
            calc_second_order=True,
            num_resamples=resamples,
            conf_level=0.95,
            seed=seed,
        )
    indices = {}
    for j, name in enumerate(names):
        entry = {}
        for key in ("S1", "ST"):
            value, conf = float(analysed[key][j]), float(analysed[f"{key}_conf"][j])
            entry.update(
                {
                    key: value,
                    f"{key}_conf": conf,
                    f"{key}_low": value - conf,
                    f"{key}_high": value + conf,
                }
            )
        indices[name] = entry
    pairs = []
    for i in range(d):
        for j in range(i + 1, d):
            value, conf = float(analysed["S2"][i, j]), float(analysed["S2_conf"][i, j])
            pairs.append(
                {
                    "pair": [names[i], names[j]],
                    "S2": value,
                    "S2_conf": conf,
                    "S2_low": value - conf,
                    "S2_high": value + conf,
                }
            )
    pairs.sort(key=lambda p: -abs(p["S2"]))
    return {
        "variance": float(np.var(values)),
        "mean": float(values.mean()),
        "replicates": 1,
        "crossed": False,
        "estimator": "SALib, chance per run",
        "explained": None,
        "chance": None,
        "indices": indices,
        "S2": pairs,
    }

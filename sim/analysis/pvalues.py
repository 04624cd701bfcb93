"""Exact tail probabilities from ``scipy.special``, without importing ``scipy.stats``.

``scipy.stats`` takes 0.35 to 0.45 s to import, longer than `wargame explain` spends on
some of its outcomes; the three tails it was imported for are one call each to the
special functions ``scipy.stats`` evaluates them with, so the p-values are the same
numbers (``tests/test_pvalues.py`` compares them with ``scipy.stats`` bit for bit).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from scipy import special

try:  # what scipy.stats.binom evaluates (Boost's binomial, in scipy.special)
    from scipy.special._ufuncs import _binom_cdf, _binom_pmf, _binom_sf
except ImportError:  # an older scipy, whose binom used the Cephes functions
    _binom_sf, _binom_cdf = special.bdtrc, special.bdtr

    def _binom_pmf(k: float, n: int, p: float) -> float:
        return float(special.binom(n, k) * p**k * (1 - p) ** (n - k))


def binomial_sf(k: int, n: int, p: float) -> float:
    """P(X > k) for X ~ Binomial(n, p): ``scipy.stats.binom.sf(k, n, p)``.

    Args:
        k: The count (any integer; below 0 the tail is 1, from n on it is 0).
        n: Trials (>= 0).
        p: Success probability in [0, 1].
    """
    if k < 0:
        return 1.0
    if k >= n:
        return 0.0
    return float(_binom_sf(k, n, p))


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p): ``scipy.stats.binom.cdf(k, n, p)``."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return float(_binom_cdf(k, n, p))


def sign_test(k: int, n: int) -> float:
    """Two-sided exact binomial test of k successes in n trials against p = 1/2.

    The p-value of ``scipy.stats.binomtest(k, n, 0.5)``, computed as it computes it: the
    probability of the counts no likelier than k (within a relative 1e-7), found by a
    binary search on the other side of the mode.

    Args:
        k: Successes (0 <= k <= n).
        n: Trials (>= 1).
    """
    p = 0.5
    d = float(_binom_pmf(k, n, p))
    rerr = 1 + 1e-7
    if k == p * n:
        return 1.0
    if k < p * n:
        ix = _search(lambda x: -float(_binom_pmf(x, n, p)), -d * rerr, math.ceil(p * n), n)
        y = n - ix + int(d * rerr == float(_binom_pmf(ix, n, p)))
        value = binomial_cdf(k, n, p) + binomial_sf(n - y, n, p)
    else:
        ix = _search(lambda x: float(_binom_pmf(x, n, p)), d * rerr, 0, math.floor(p * n))
        y = ix + 1
        value = binomial_cdf(y - 1, n, p) + binomial_sf(k - 1, n, p)
    return min(1.0, value)


def _search(a: Callable[[int], float], d: float, lo: int, hi: int) -> int:
    """The i in lo..hi with a(i) <= d < a(i + 1), ``a`` ascending (scipy's search)."""
    while lo < hi:
        mid = lo + (hi - lo) // 2
        value = a(mid)
        if value < d:
            lo = mid + 1
        elif value > d:
            hi = mid - 1
        else:
            return mid
    return lo if a(lo) <= d else lo - 1


def chi2_sf(q: float, df: int) -> float:
    """P(X > q) for X ~ chi-squared with ``df`` degrees of freedom (``chi2.sf``)."""
    if q < 0:
        return 1.0
    return float(special.chdtrc(df, q))

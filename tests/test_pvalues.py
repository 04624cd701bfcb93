"""The exact tails explain uses equal scipy.stats's, number for number."""

import numpy as np
from scipy import stats

from sim.analysis.pvalues import binomial_sf, chi2_sf, sign_test


def test_binomial_tail_equals_scipy_stats():
    rng = np.random.default_rng(5)
    cases = [(-1, 10, 0.3), (0, 0, 0.5), (0, 1, 0.0), (3, 3, 0.2), (9, 10, 1.0), (5, 10, 0.0)]
    for _ in range(300):
        n = int(rng.integers(1, 200_000))
        cases.append((int(rng.integers(-2, n + 2)), n, float(rng.random())))
    for k, n, p in cases:
        assert binomial_sf(k, n, p) == float(stats.binom.sf(k, n, p)), (k, n, p)


def test_sign_test_equals_scipy_binomtest():
    rng = np.random.default_rng(6)
    cases = [(0, 1), (1, 1), (1, 2), (0, 7), (7, 7), (3, 7), (4, 7), (50, 100), (49, 100)]
    for _ in range(300):
        n = int(rng.integers(1, 50_000))
        cases.append((int(rng.integers(0, n + 1)), n))
    for k, n in cases:
        assert sign_test(k, n) == float(stats.binomtest(k, n, 0.5).pvalue), (k, n)


def test_chi2_tail_equals_scipy_stats():
    rng = np.random.default_rng(7)
    for _ in range(300):
        df = int(rng.integers(1, 12))
        q = float(rng.exponential(5 * df)) * float(rng.choice([-1.0, 1.0, 1.0]))
        assert chi2_sf(q, df) == float(stats.chi2.sf(q, df)), (q, df)
    assert chi2_sf(0.0, 3) == float(stats.chi2.sf(0.0, 3)) == 1.0

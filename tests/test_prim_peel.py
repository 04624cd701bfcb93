"""PRIM's peel from sorted inputs gives the very cuts of the plain, one-input-at-a-time rule.

The fast peel keeps each input's inside values sorted and reads quantiles and counts by
position; the reference below is the textbook step written out per input (quantile from
np.quantile, counts from comparisons). Every step of a whole peeling must agree exactly,
on data with many ties (integers, yes/no, a few levels) as on continuous data.
"""

import numpy as np
import pytest

from sim.analysis.discovery import _Peeler, prim


def reference_sides(peeler, inside, alpha):
    """Each numeric input's (low bound, removed, hits, high bound, removed, hits)."""
    index = np.flatnonzero(inside)
    y = peeler.outcome[index]
    sides = []
    for name in peeler.names:
        x = peeler.numeric[name][index]
        lowest, highest = x.min(), x.max()
        if lowest == highest:
            sides.append(None)
            continue
        below = x < np.quantile(x, alpha)
        if not below.any():
            below = x <= lowest
        low = (None, None, None)
        if not below.all():
            bound = peeler._bound(name, x[below].max(), x[~below].min(), keep="above")
            removed = x < bound
            low = (bound, int(removed.sum()), int(y[removed].sum()))
        above = x > np.quantile(x, 1 - alpha)
        if not above.any():
            above = x >= highest
        high = (None, None, None)
        if not above.all():
            bound = peeler._bound(name, x[~above].max(), x[above].min(), keep="below")
            removed = x > bound
            high = (bound, int(removed.sum()), int(y[removed].sum()))
        sides.append(low + high)
    return sides


def inputs(rng, n):
    numeric = {
        "continuous": rng.random(n),
        "integers": rng.integers(0, 7, n).astype(float),
        "yes_no": rng.integers(0, 2, n).astype(float),
        "levels": rng.choice([0.1, 0.25, 0.5], n),
        "skewed": np.where(rng.random(n) < 0.9, 1.0, rng.random(n)),
        "constant": np.full(n, 3.0),
        # Every run different (the positional fast path), as integers too, and as
        # neighbouring floats, whose midpoints round onto one of them.
        "ranks": rng.permutation(n).astype(float),
        # Two values, not integers: a yes/no input's bound is their midpoint.
        "halves": rng.choice([0.25, 0.75], n, p=[0.97, 0.03]),
        "neighbours": rng.permutation(1.0 + np.arange(n) * 2.0**-52),
    }
    outcome = rng.random(n) < 0.2 + 0.5 * (numeric["continuous"] > 0.6) * numeric["yes_no"]
    return numeric, outcome


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_every_step_of_a_peeling_matches_the_plain_rule(seed):
    rng = np.random.default_rng(seed)
    numeric, outcome = inputs(rng, 1500)
    if seed % 2:  # inputs in another order: the first and the last row matter too
        numeric = dict(reversed(numeric.items()))
    peeler = _Peeler(numeric, {}, outcome)
    distinct = {peeler.names[row] for row in peeler._distinct_rows}
    assert distinct == {"continuous", "ranks", "neighbours"}
    assert {peeler.names[row] for row in peeler._two_valued_rows} == {"yes_no", "halves"}
    inside = peeler.mask()
    steps = 0
    while True:
        fast = peeler._numeric_peels(inside, int(inside.sum()), 0.05)
        assert fast == reference_sides(peeler, inside, 0.05)
        step = peeler.peel(inside, 0.05, 50)
        if step is None:
            break
        name, limit, inside = step
        peeler.apply(name, limit)
        steps += 1
    assert steps > 20


def test_a_box_found_after_another_prim_call_is_unchanged():
    # The sorted view is kept between steps: a second peeling on other runs of the same
    # data must not reuse what the first one narrowed.
    rng = np.random.default_rng(7)
    numeric, outcome = inputs(rng, 2000)
    first = prim(numeric, {}, outcome, second_box=True)
    again = prim(numeric, {}, outcome, second_box=True)
    assert first.as_json() == again.as_json()
    assert first.box.restrictions


def test_ranking_counts_each_input_once_and_gets_the_same_numbers():
    # rank_inputs shares each input's per-level counts between its score, its test and
    # its ends; the public one-at-a-time functions must give the very same numbers.
    from sim.analysis.inputs import Feature
    from sim.analysis.ranking import _ends, mutual_information, permutation_p, rank_inputs

    rng = np.random.default_rng(5)
    n = 3000
    x = rng.random(n)
    outcome = (rng.random(n) < 0.2 + 0.4 * (x > 0.7)).astype(np.int64)
    features = [
        Feature("x", "parameter", np.minimum((x * 8).astype(np.int64), 7), 8, ordered=True,
                values=x),
        Feature("mood", "parameter", rng.integers(0, 3, n), 3, labels=("calm", "tense", "hot")),
        Feature("A@1=strike", "decision", (rng.random(n) < 0.3).astype(np.int64), 2,
                actor="A", round=1, action="strike"),
    ]  # fmt: skip
    rows = {r["input"]: r for r in rank_inputs(features, outcome, seed=11)}
    again = np.random.default_rng(11)
    for feature in features:
        row = rows[feature.name]
        assert row["mi_bits"] == mutual_information(feature.codes, feature.levels, outcome)
        assert row["p_value"] == permutation_p(feature, outcome, again, 1999)
        low, high = _ends(feature, outcome)
        assert (row["low"], row["high"]) == (low, high)
    assert rows["x"]["significant"] and rows["x"]["effect"] > 0.3


@pytest.mark.parametrize("seed", [1, 2])
def test_a_peeling_keeping_scores_only_chooses_and_tests_the_same_box(seed):
    # resample_stability peels without the boxes' restrictions: only their scores
    # choose the box, so the rule it counts must be the full peeling's.
    rng = np.random.default_rng(seed)
    numeric, outcome = inputs(rng, 3000)
    full = prim(numeric, {}, outcome)
    lean = prim(numeric, {}, outcome, scores_only=True)
    assert lean.chosen == full.chosen
    assert lean.box == full.box and full.box.restrictions
    assert [(b.density, b.coverage, b.support, b.runs) for b in lean.trajectory] == [
        (b.density, b.coverage, b.support, b.runs) for b in full.trajectory
    ]
    assert all(not b.restrictions for b in lean.trajectory)

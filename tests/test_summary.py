"""Summary statistics: Wilson intervals and the terminal table."""

import math

import numpy as np
import pytest

from sim.api import run_batch
from sim.batch.options import BatchOptions
from sim.batch.summary import Z95, format_summary, wilson_interval
from sim.engine.loading import load
from tests.conftest import ROOT, TINY


def test_wilson_interval_at_the_edges_matches_the_closed_form():
    # With 0 successes the Wilson upper bound is z^2 / (n + z^2).
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(Z95**2 / (10 + Z95**2))
    low, high = wilson_interval(10, 10)
    assert high == pytest.approx(1.0) and low == pytest.approx(10 / (10 + Z95**2))
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_wilson_interval_covers_the_true_proportion_95_percent_of_the_time():
    rng = np.random.default_rng(12345)
    trials, n, p = 4000, 60, 0.07
    hits = rng.binomial(n, p, size=trials)
    covered = np.mean([low <= p <= high for low, high in (wilson_interval(h, n) for h in hits)])
    # Coverage is close to (not exactly) 95% for small n; allow 3 standard errors plus
    # the known discreteness wobble of about one point.
    assert abs(covered - 0.95) < 3 * math.sqrt(0.95 * 0.05 / trials) + 0.01


def test_summary_table_fits_80_columns_and_shows_the_whole_seed(tmp_path):
    results = run_batch(
        load(TINY),
        tmp_path / "out",
        BatchOptions(
            runs=500, seed=20250815, executor="inprocess", plots=False, overrides={"aid_cut": 0.3}
        ),
    )
    text = format_summary(results.summary)
    assert "seed 20250815" in text and "aid_cut=0.3" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    summary = results.summary
    assert sum(e["count"] for e in summary["endings"]) == 500
    for ending in summary["endings"]:
        assert ending["low"] <= ending["p"] <= ending["high"]


def test_a_categorical_setting_is_shown_by_name(tmp_path):
    results = run_batch(
        load(TINY),
        tmp_path / "out",
        BatchOptions(runs=50, seed=1, executor="inprocess", plots=False, overrides={"summit": 2.0}),
    )
    assert results.manifest["settings"] == {"summit": "collapse"}
    assert "summit=collapse" in format_summary(results.summary)


def test_long_ending_and_actor_titles_are_never_cut(tmp_path):
    from sim.language.compiler import compile_text

    long_ending = "Escalation to a regional war with NATO forces engaged on the ground"
    long_actor = "The Democratic People's Republic of Korea (Pyongyang)"
    text = (
        TINY.read_text()
        .replace("title: Escalation to war", f"title: {long_ending}")
        .replace("name: Treaty Ally", f"name: {long_actor}")
    )
    results = run_batch(
        compile_text(text, "long.yaml"),
        tmp_path / "out",
        BatchOptions(runs=200, seed=1, executor="inprocess", plots=False),
    )
    shown = format_summary(results.summary)
    assert long_ending in shown
    assert f"Ally ({long_actor})" in shown
    assert "…" not in shown
    # The columns line up: every probability row has its numbers at the same place.
    rows = [line for line in shown.splitlines() if line.rstrip().endswith("%]")]
    assert len({line.index("[") for line in rows}) == 1


def test_runs_stopped_before_the_last_round_are_counted_as_such(tmp_path):
    # An author's trial: "1,444 runs ended early" beside an ending of 1,810 runs (the
    # other 366 stopped in the last round, which is not early).
    import pyarrow.parquet as pq

    results = run_batch(
        load(ROOT / "scenarios" / "korea-deterrence.yaml"),
        tmp_path / "out",
        BatchOptions(runs=400, seed=3, executor="inprocess", plots=False),
    )
    played = pq.read_table(results.folder / "runs.parquet").column("rounds_played").to_numpy()
    rounds = results.manifest["layout"]["rounds"]
    early = int((played < rounds).sum())
    assert early > 0
    text = format_summary(results.summary)
    assert f"{early:,} runs were stopped before the last round by a stopping ending" in text
    assert f"{played.mean():.1f} rounds played on average" in text


def test_the_unconverged_warning_names_the_actors_and_the_usual_cause(tmp_path):
    # An author's trial: the warning named neither the actors nor the thresholds that
    # usually leave no equilibrium, and said "in 1 rounds of 1 runs".
    compiled = load(ROOT / "scenarios" / "textbook" / "mixed_2x2.yaml")
    results = run_batch(compiled, tmp_path / "b", BatchOptions(runs=20, seed=1, plots=False))
    summary = results.summary
    assert summary["reasoning"]["equilibrium_actors"] == ["ROW", "COL"]
    assert summary["reasoning"]["unconverged_runs"] == 0
    assert "was not found" not in format_summary(summary)  # nothing to warn about
    summary["reasoning"].update(unconverged_runs=1, unconverged_rounds=1)
    text = " ".join(format_summary(summary).split())
    assert "warning: the round's equilibrium (ROW, COL) was not found in 1 round of 1 run;" in text
    assert "smooth it ('3 * clip((x - 7) / 2, 0, 1)')" in text
    summary["reasoning"].update(unconverged_runs=3, unconverged_rounds=5)
    assert "in 5 rounds of 3 runs;" in " ".join(format_summary(summary).split())


def test_a_share_too_small_to_show_is_not_printed_as_zero():
    # A trial: an ending reached in 1 of 5,000 runs read "1  0.0%", as if none.
    from sim.batch.summary import _pct

    assert _pct(1 / 5000) == " <0.1%" and _pct(0.0) == "  0.0%"
    assert _pct(4999 / 5000) == ">99.9%" and _pct(1.0) == "100.0%"
    assert _pct(0.0005) == "  0.1%" and _pct(0.5) == " 50.0%"
    assert len({len(_pct(x)) for x in (0.0, 1 / 5000, 0.5, 4999 / 5000)}) == 1  # columns align

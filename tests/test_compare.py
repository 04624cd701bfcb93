"""Comparing batches: calibrated tests, detected changes, paired (CRN) intervals, scenario
diffs and the `wargame compare` command."""

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from cli import cli
from sim import compare
from sim.analysis.comparison import (
    COMPARE_FORMAT,
    holm_adjust,
    mean_difference_independent,
    mean_difference_paired,
    proportion_difference_independent,
    proportion_difference_paired,
)
from sim.api import run_batch
from sim.batch.options import BatchOptions, check_overrides
from sim.engine.loading import load
from sim.errors import OptionsError
from sim.language.compiler import compile_text
from tests.conftest import ROOT, TESTS, TINY

TINY_TEXT = TINY.read_text("utf-8")
HAWKISH_TEXT = TINY_TEXT.replace(
    "    dist: uniform\n    low: 0.0\n", "    dist: uniform\n    low: 0.5\n", 1
)


def make_batch(out, *, seed, runs=2000, text=None, overrides=None, keep_rounds=False):
    """Play a small batch in-process (no plots) and return its folder."""
    compiled = load(TINY) if text is None else compile_text(text, str(out) + ".yaml")
    options = BatchOptions(
        runs=runs,
        seed=seed,
        executor="inprocess",
        plots=False,
        keep_rounds=keep_rounds,
        overrides=check_overrides(compiled, overrides or {}),
    )
    run_batch(compiled, out, options)
    return out


# --------------------------------------------------------------------- the statistics


def test_two_proportion_test_matches_hand_computation():
    # 50/100 vs 60/100: pooled p = 0.55, SE0 = sqrt(.55 * .45 * (1/100 + 1/100)) = 0.070356,
    # z = 0.1 / SE0 = 1.4213, two-sided p = 0.1552. Unpooled SE = sqrt(.0025 + .0024) = 0.07.
    result = proportion_difference_independent(50, 100, 60, 100)
    assert result.diff == pytest.approx(0.1)
    assert result.p_value == pytest.approx(0.1552, abs=1e-4)
    assert result.se == pytest.approx(0.07)
    assert (result.low, result.high) == pytest.approx(
        (0.1 - 1.96 * 0.07, 0.1 + 1.96 * 0.07), abs=1e-4
    )


def test_paired_proportion_uses_discordant_runs():
    # 100 matched runs: 10 only in A, 30 only in B, 60 agree. d has 30 ones and 10 minus
    # ones: mean 0.2, var = (40 - 100 * 0.04) / 99. McNemar z = (30 - 10) / sqrt(40).
    in_a = np.array([True] * 10 + [False] * 30 + [True] * 20 + [False] * 40)
    in_b = np.array([False] * 10 + [True] * 30 + [True] * 20 + [False] * 40)
    result = proportion_difference_paired(in_a, in_b)
    assert result.diff == pytest.approx(0.2)
    assert result.se == pytest.approx(math.sqrt(36 / 99) / 10)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(20 / math.sqrt(40)))
    # Few disagreeing runs: exact binomial, 8 of 9 one way: 2 * (9 + 1) / 2**9.
    small_a = np.array([False] * 8 + [True] + [False] * 20)
    small_b = np.array([True] * 8 + [False] + [False] * 20)
    assert proportion_difference_paired(small_a, small_b).p_value == pytest.approx(20 / 512)


def test_payoff_tests_agree_with_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 300), rng.normal(0.2, 2, 300)
    welch = mean_difference_independent(a, b)
    reference = stats.ttest_ind(b, a, equal_var=False)
    assert welch.p_value == pytest.approx(reference.pvalue)
    interval = reference.confidence_interval(0.95)
    assert (welch.low, welch.high) == pytest.approx((interval.low, interval.high))
    paired = mean_difference_paired(a, b)
    reference = stats.ttest_rel(b, a)
    assert paired.p_value == pytest.approx(reference.pvalue)
    interval = reference.confidence_interval(0.95)
    assert (paired.low, paired.high) == pytest.approx((interval.low, interval.high))


def test_holm_adjustment_by_hand():
    # Sorted 0.01, 0.03, 0.04 times 3, 2, 1 = 0.03, 0.06, 0.04; made monotone: 0.03, 0.06, 0.06.
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


# ------------------------------------------------------------------ on real batches


PAIRS = 20


@pytest.fixture(scope="module")
def null_pairs(tmp_path_factory):
    base = tmp_path_factory.mktemp("null")
    comparisons = []
    for i in range(PAIRS):
        a = make_batch(base / f"a{i}", seed=1000 + 2 * i)
        b = make_batch(base / f"b{i}", seed=1001 + 2 * i)
        comparisons.append(compare([a, b], fans=False))
    return comparisons


def test_same_scenario_different_seeds_flags_no_more_than_the_test_allows(null_pairs):
    # Every batch has its own seed, so the 20 pairs are independent and every difference
    # is truly zero. Each row of the table (3 endings, 2 summit outcomes, 3 payoffs) is a
    # 5%-level test, so its raw flags over the 20 pairs are Binomial(20, 0.05): mean 1,
    # P(>= 6) = 0.0003. Rows within a pair are dependent (the endings share runs, the
    # two summit outcomes are complements), so each row is bounded separately: the chance
    # that any of the 8 rows reaches 6 is below 8 * 0.0003 = 0.003.
    assert all(not c.paired[1] for c in null_pairs)
    flags: dict[tuple[str, str], int] = {}
    for comparison in null_pairs:
        for row in comparison.differences.itertuples(index=False):
            key = (row.group, row.outcome)
            flags[key] = flags.get(key, 0) + int(row.p_value < 0.05)
    assert len(flags) == 8
    assert max(flags.values()) <= 5, flags
    # Holm keeps the chance of any flag in a pair's table at 5% whatever the dependence,
    # so pairs with a significant (starred) row are at most Binomial(20, 0.05):
    # P(>= 5) = 0.0026.
    flagged_pairs = sum(bool(c.differences["significant"].any()) for c in null_pairs)
    assert flagged_pairs <= 4


def test_a_more_hawkish_scenario_lowers_the_deal_and_compare_says_so(tmp_path):
    # Red's hawkishness drawn from U(0.5, 1) instead of U(0, 1): tension starts higher
    # (2 + 2h), so the summit succeeds less often (0.7 - 0.08 * tension) and the game
    # ends in fewer deals. 6,000 runs a side: the effect is about 4.5 points.
    base = make_batch(tmp_path / "base", seed=11, runs=6000)
    hawkish = make_batch(tmp_path / "hawkish", seed=12, text=HAWKISH_TEXT, runs=6000)
    comparison = compare([base, hawkish], labels=["base", "hawkish"], fans=False)
    diff = comparison.differences
    deal = diff[(diff["kind"] == "ending") & (diff["outcome"] == "deal")].iloc[0]
    assert deal["significant"] and deal["diff"] < 0 and deal["high"] < 0
    assert deal["method"] == "two-proportion z"
    assert not comparison.paired[1]
    assert comparison.scenario_differences == {
        "hawkish": ["parameters.hawkishness: uniform(0, 1) → uniform(0.5, 1)"]
    }


@pytest.fixture(scope="module")
def matched(tmp_path_factory):
    base = tmp_path_factory.mktemp("crn")
    a = make_batch(base / "aid60", seed=5, overrides={"aid_cut": "0.6"}, keep_rounds=True)
    b = make_batch(base / "aid20", seed=5, overrides={"aid_cut": "0.2"}, keep_rounds=True)
    return a, b


def test_matched_pair_gives_narrower_intervals_than_unpaired(matched):
    paired = compare(list(matched), fans=False)
    unpaired = compare(list(matched), paired=False, fans=False)
    assert paired.paired == [False, True]
    assert unpaired.paired == [False, False]
    assert "common random numbers" in paired.pairing_notes[1]
    p, u = paired.differences, unpaired.differences
    assert list(p["outcome"]) == list(u["outcome"])
    np.testing.assert_allclose(p["diff"], u["diff"])
    width_paired = (p["high"] - p["low"]).to_numpy()
    width_unpaired = (u["high"] - u["low"]).to_numpy()
    assert np.all(width_paired < width_unpaired), (width_paired, width_unpaired)
    # A lower aid cut makes the summit succeed more often: a real, detected effect.
    success = p[(p["group"] == "summit") & (p["outcome"] == "success")].iloc[0]
    assert success["diff"] > 0 and success["significant"]
    assert paired.scenario_differences == {"aid20": ["--set aid_cut: 0.6 → 0.2"]}


def test_pairing_can_be_required_but_not_faked(tmp_path, matched):
    other = make_batch(tmp_path / "other", seed=6, runs=500)
    with pytest.raises(OptionsError, match="seeds differ"):
        compare([matched[0], other], paired=True)


def test_scenario_diff_names_every_kind_of_change(tmp_path):
    text = (
        HAWKISH_TEXT.replace("rationality: 2.0", "rationality: 3.0")
        .replace(
            "weights: {tension: 0.3, troops_k: 0.01}", "weights: {tension: 0.5, troops_k: 0.01}"
        )
        .replace(
            "      wait:\n        description: Wait and see.\n",
            "      wait:\n        description: Wait and see.\n"
            "      protest:\n        description: Protest loudly.\n",
        )
        .replace("initial: 2 + 2 * hawkishness", "initial: 3 + 2 * hawkishness")
        .replace("# A two-actor standoff", "# A comment changes nothing")
    )
    a = make_batch(tmp_path / "a", seed=1, runs=200)
    b = make_batch(tmp_path / "b", seed=1, runs=200, text=text, overrides={"summit": "collapse"})
    comparison = compare([a, b], labels=["A", "B"], fans=False)
    assert comparison.scenario_differences["B"] == [
        "parameters.hawkishness: uniform(0, 1) → uniform(0.5, 1)",
        'state.tension.initial: "2 + 2 * hawkishness" → "3 + 2 * hawkishness"',
        "actors.Blue.rationality: 2 → 3",
        "actors.Red.payoff.weights.tension: 0.3 → 0.5",
        "actors.Ally.actions.protest: added",
        "--set summit: (not set: pending in the file) → collapse",
    ]


def test_comment_only_edit_is_reported_as_such(tmp_path):
    a = make_batch(tmp_path / "a", seed=1, runs=100)
    b = make_batch(tmp_path / "b", seed=1, runs=100, text="# an extra comment\n" + TINY_TEXT)
    comparison = compare([a, b], fans=False)
    assert comparison.scenario_differences["b"] == [
        "(the scenario texts differ only in comments or layout)"
    ]
    # Same draws, same game: every difference is exactly zero and nothing is flagged.
    assert comparison.paired[1]
    assert (comparison.differences["diff"] == 0).all()
    assert not comparison.differences["significant"].any()


# ------------------------------------------------------------------------- the CLI


def run_cli(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_cli_compare_writes_tables_and_charts(tmp_path, matched):
    out = tmp_path / "cmp"
    result = run_cli("compare", *matched, "--out", out, "--labels", "aid 60%,aid 20%")
    assert result.exit_code == 0, result.output
    assert "Paired comparison (common random numbers)" in result.output
    assert "Holm" in result.output
    names = {p.name for p in out.iterdir()}
    assert names == {
        "compare.json",
        "compare.md",
        "compare-endings.png",
        "compare-branches.png",
        "compare-differences.png",
        "compare-metrics.png",
    }
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((out / "compare.json").read_text())
    assert data["format"] == COMPARE_FORMAT
    assert [b["label"] for b in data["batches"]] == ["aid 60%", "aid 20%"]
    assert data["batches"][1]["paired"] is True
    assert data["batches"][1]["matching"] == "paired"
    assert "Holm" in (out / "compare.md").read_text()
    # Redoing a comparison into its own folder is allowed and keeps the user's files.
    (out / "notes.txt").write_text("mine")
    result = run_cli("compare", *matched, "--out", out, "--unpaired", "--no-plots", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["batches"][1]["paired"] is False
    assert (out / "notes.txt").read_text() == "mine"
    assert not (out / "compare-endings.png").exists()


def one_line_error(result):
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_cli_compare_bad_input_is_one_line_and_exit_2(tmp_path, matched):
    a, b = matched
    out = tmp_path / "cmp"
    assert "at least two" in one_line_error(run_cli("compare", a, "--out", out))
    assert "no manifest.json" in one_line_error(run_cli("compare", a, tmp_path, "--out", out))
    assert "1 label(s) for 2 folders" in one_line_error(
        run_cli("compare", a, b, "--out", out, "--labels", "only-one")
    )
    assert "--out" in one_line_error(run_cli("compare", a, b))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "thesis.docx").write_text("precious")
    assert "--force" in one_line_error(run_cli("compare", a, b, "--out", busy))
    assert "is the results folder" in one_line_error(run_cli("compare", a, b, "--out", a))
    result = run_cli("compare", a, b, "--out", busy, "--force", "--no-plots")
    assert result.exit_code == 0, result.output
    assert (busy / "thesis.docx").read_text() == "precious"


def test_readme_analysis_example_runs(tmp_path, monkeypatch, capsys):
    section = (ROOT / "README.md").read_text("utf-8").split("## Analysis from Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "[False, True]" in printed
    assert "--set us_aid_cut: 0.3 → 0.5" in printed
    assert (tmp_path / "results" / "aid-30-vs-50" / "compare.md").is_file()


def test_a_sweep_design_is_listed_as_a_difference():
    from sim.analysis.scenariodiff import design_differences

    lhs = {"kind": "lhs", "params": ["hawkishness", "aid_cut"], "seed": 3, "runs": 1000}
    assert design_differences(None, None) == []
    assert design_differences(lhs, dict(lhs)) == []
    assert design_differences(None, lhs) == [
        "design: (none: parameters drawn independently per run) → "
        "lhs design (1,000 runs, seed 3) over hawkishness, aid_cut"
    ]


def test_long_titles_and_labels_are_never_cut_in_the_comparison(tmp_path):
    from sim.analysis.comparetext import format_comparison

    long_ending = "Escalation to a regional war with NATO forces engaged on the ground"
    text = TINY.read_text().replace("title: Escalation to war", f"title: {long_ending}")
    a = make_batch(tmp_path / "a", seed=1, runs=300, text=text)
    b = make_batch(tmp_path / "b", seed=1, runs=300, text=text, overrides={"aid_cut": 0.6})
    labels = ["the baseline with a long name", "aid cut at sixty percent"]
    shown = format_comparison(compare([a, b], labels=labels))
    assert long_ending in shown
    assert "aid cut at sixty percent" in shown
    assert "…" not in shown


def test_a_set_value_no_draw_could_give_is_played_with_a_warning(tmp_path):
    # alaska: summit_base_odds is uniform on 0.25..0.55, us_aid_cut triangular on 0.2..0.5.
    import warnings

    from click.testing import CliRunner

    from cli import cli
    from sim.errors import WargameWarning

    alaska = load(ROOT / "scenarios" / "alaska.yaml")
    for name, value, words in [
        ("summit_base_odds", 1.7, "outside the range of 'summit_base_odds' in the scenario "
                                  "(uniform, 0.25 to 0.55)"),
        ("us_aid_cut", 0.1, "(triangular, 0.2 to 0.5)"),
    ]:  # fmt: skip
        with pytest.warns(WargameWarning, match=re.escape(words)):
            assert check_overrides(alaska, {name: value}) == {name: value}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_overrides(alaska, {"summit_base_odds": 0.55, "us_aid_cut": 0.2})
    out = tmp_path / "b"
    args = ["run", str(ROOT / "scenarios" / "alaska.yaml"), "-n", "20", "--no-plots"]
    result = CliRunner().invoke(cli, [*args, "--out", str(out), "--set", "summit_base_odds=-3"])
    assert result.exit_code == 0
    assert "warning: --set summit_base_odds=-3 is outside the range" in result.output


def test_a_set_state_start_beyond_its_bounds_warns_that_it_is_clipped(tmp_path):
    # alaska: dprk_shell_share_now is a state variable with min 0 and max 0.8; a start
    # beyond a bound is clipped to it, so the warning says where the runs start.
    import warnings

    from sim.errors import WargameWarning

    alaska = load(ROOT / "scenarios" / "alaska.yaml")
    name = "dprk_shell_share_now"
    for value, words in [
        (0.9, "above the max of state variable 'dprk_shell_share_now' (0.8); "
              "the runs start at 0.8"),
        (-1, "below the min of state variable 'dprk_shell_share_now' (0); the runs start at 0"),
    ]:  # fmt: skip
        with pytest.warns(WargameWarning, match=re.escape(words)):
            assert check_overrides(alaska, {name: value}) == {name: value}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_overrides(alaska, {name: 0.8})
    # What the warning claims: the runs start at the bound.
    from sim.engine.initial_state import initial_context

    index = alaska.state_names.index(name)
    for value, start in [(0.9, 0.8), (-1.0, 0.0), (0.5, 0.5)]:
        ctx = initial_context(alaska, 1, np.arange(3), {name: value})
        assert ctx.state[index].tolist() == [start] * 3


def test_the_comparison_fits_an_80_column_terminal_as_blocks(tmp_path):
    # A lecturer's terminal at 80 columns: the table was 92 to 95 columns wide, so
    # every row broke in two. Narrower than its table, it shows each outcome on its
    # line and each batch's numbers under it, every number kept.
    from sim.analysis.comparetext import format_comparison

    long_ending = "Escalation to a regional war with NATO forces engaged on the ground"
    text = TINY.read_text().replace("title: Escalation to war", f"title: {long_ending}")
    a = make_batch(tmp_path / "a", seed=1, runs=300, text=text)
    b = make_batch(tmp_path / "b", seed=1, runs=300, text=text, overrides={"aid_cut": 0.6})
    comparison = compare([a, b], labels=["base", "cut"])
    wide = format_comparison(comparison, width=200).splitlines()
    narrow = format_comparison(comparison, width=80).splitlines()
    assert max(len(line) for line in wide) > 80  # the table: the check below can fail
    assert [line for line in narrow if len(line) > 80] == []
    rows = [line for line in wide if re.match(r"^  \S.*\s(cut)\s", line)]
    numbers = [line for line in narrow if line.startswith("      cut ")]
    assert rows and len(numbers) == len(comparison.differences)
    assert any(long_ending in line for line in narrow)
    for line in numbers:
        assert re.search(r" against base -?[\d.]+%?: diff [+±-]?[\d.]+ \[.*\], p ", line), line


def test_a_difference_of_exactly_zero_is_signed_like_the_others(tmp_path, matched):
    # A user's trial: "0.00" stood unsigned in a column of "+0.12" and "-0.30". Exactly
    # zero is "±", which keeps the column's width and tells it from a hair rounded to
    # "+0.00".
    from sim.analysis.comparetext import comparison_markdown, format_comparison, signed

    assert signed(0.0, 2) == "±0.00" and signed(-0.0, 1) == "±0.0"
    assert signed(0.001, 2) == "+0.00" and signed(-0.3, 2) == "-0.30"
    import shutil

    a, _ = matched
    copy = shutil.copytree(a, tmp_path / "copy")  # the folder itself twice is refused
    same = compare([a, copy], labels=["x", "y"], fans=False)
    assert (same.differences["diff"] == 0).all()
    text = format_comparison(same, width=200)
    rows = [line for line in text.splitlines() if re.match(r"^  \S.*\sy\s", line)]
    assert len(rows) == len(same.differences)
    n = same.manifests[0]["runs"]
    # In points: no run changed, so within the exact upper bound of the share that did.
    bound = f"{100 * (1 - 0.025 ** (1 / n)):.2f}"
    for line in rows:
        assert re.search(rf"\s±0\.0+\s+\[(±0\.0+, ±0\.0+|-{bound}, \+{bound})\]", line), line
    assert "±0.0" in comparison_markdown(same)


def test_every_number_of_a_table_has_the_same_decimal_places(tmp_path, matched):
    # A paired pair differing by a hair needs two decimals where an independent batch
    # needs one: the table showed "12.3%" next to "12.34%" and "-5.8" next to "-0.10".
    # Now every probability (value, baseline, diff, interval) has the table's places,
    # and every payoff.
    from sim.analysis.comparetext import comparison_markdown, format_comparison

    other = make_batch(tmp_path / "other", seed=6, overrides={"aid_cut": "0.6"})
    a, b = matched
    near = make_batch(tmp_path / "near", seed=5, overrides={"aid_cut": "0.59"})
    comparison = compare([a, near, b, other], labels=["base", "near", "far", "other"],
                         fans=False)  # fmt: skip
    text = format_comparison(comparison, width=300)
    number = r"[+±-]?\d+\.(\d+)"
    row = re.compile(
        rf"^  .*?(?:near|far|other)\s+({number}%?)\s+({number}%?)\s+({number})\s+"
        rf"\[({number}), ({number})\]"
    )
    seen = {"probability": set(), "payoff": set()}
    section = None
    for line in text.splitlines():
        if line.startswith(("Endings", "Branch")):
            section = "probability"
        elif line.startswith("Mean payoff"):
            section = "payoff"
        found = row.match(line)
        if found and section:
            seen[section] |= {len(g) for g in found.groups()[1::2]}
    assert len(seen["probability"]) == 1 and len(seen["payoff"]) == 1, seen
    # The paired hair needed more than one place: the independent rows have it too.
    assert seen["probability"] != {1} or seen["payoff"] != {2}
    markdown = comparison_markdown(comparison)
    for table in markdown.split("## Endings")[1].split("## Mean"):
        decimals = set()
        for line in table.splitlines():
            cells = line.split(" | ")
            if line.startswith("| ") and re.search(r"\d", cells[2]):
                # p (or mean), baseline, diff and the interval's two ends.
                numbers = [*cells[2:5], *cells[5].strip("[]").split(", ")]
                decimals |= {len(x.rstrip("%").split(".")[1]) for x in numbers}
        assert len(decimals) == 1, decimals


def test_the_partly_paired_standard_error_is_the_spread_of_the_difference():
    # 4,000 simulated pairs of batches: A has 200 runs, B 300, the first 200 matched
    # (correlation about 0.8, as common draws give). The standard error must be the
    # spread of mean(B) - mean(A) over the simulations: within 3 standard errors of a
    # standard deviation, sd / sqrt(2 (R - 1)) = 1.1%, and well below the independent
    # (Welch) one, which ignores the covariance.
    from sim.analysis.comparison import mean_difference_partly_paired

    rng = np.random.default_rng(12)
    sims, n_a, n_b, n_c = 4000, 200, 300, 200
    diffs, ses, welch = [], [], []
    common_a = np.ones(n_a, dtype=bool)
    common_b = np.arange(n_b) < n_c
    for _ in range(sims):
        shared = rng.random(n_b) < 0.3
        a = shared[:n_a] ^ (rng.random(n_a) < 0.05)
        b = shared ^ (rng.random(n_b) < 0.05)
        found = mean_difference_partly_paired(a, b, common_a, common_b)
        diffs.append(found.diff)
        ses.append(found.se)
        welch.append(mean_difference_independent(a.astype(float), b.astype(float)).se)
    spread = np.std(diffs, ddof=1)
    assert np.mean(ses) == pytest.approx(spread, rel=3 / math.sqrt(2 * (sims - 1)))
    assert np.mean(welch) > 1.5 * spread
    # Every run common: the paired standard error, sd(d)/sqrt(n); none: Welch's.
    a, b = rng.random(500) < 0.4, rng.random(500) < 0.45
    every = mean_difference_partly_paired(a, b, np.ones(500, bool), np.ones(500, bool))
    d = b.astype(float) - a
    assert every.se == pytest.approx(d.std(ddof=1) / math.sqrt(500))
    assert every.se == pytest.approx(proportion_difference_paired(a, b).se)
    none = mean_difference_partly_paired(a, b, np.zeros(500, bool), np.zeros(500, bool))
    assert none.se == pytest.approx(mean_difference_independent(a * 1.0, b * 1.0).se)


def test_batches_with_one_seed_and_other_runs_counts_are_partly_paired(tmp_path):
    from sim.analysis.comparetext import comparison_markdown, format_comparison

    a = make_batch(tmp_path / "a", seed=5, runs=1000, overrides={"aid_cut": "0.6"})
    b = make_batch(tmp_path / "b", seed=5, runs=1500, overrides={"aid_cut": "0.2"})
    partly = compare([a, b], labels=["a", "b"], fans=False)
    apart = compare([a, b], labels=["a", "b"], paired=False, fans=False)
    assert partly.common_runs == [0, 1000] and partly.paired == [False, False]
    assert set(partly.differences["method"]) == {"partly paired z"}
    widths = partly.differences["high"] - partly.differences["low"]
    independent = apart.differences["high"] - apart.differences["low"]
    moved = partly.differences["diff"] != 0
    assert (widths[moved] < independent[moved]).all()
    flat = " ".join(format_comparison(partly, width=80).split())
    assert "Partly paired: b (1,000 of its 1,500 runs) share the seed of a" in flat
    assert "partly paired (same seed, different runs counts)" in flat
    assert "Partly paired" in comparison_markdown(partly)
    # compare.json says which analysis a partly paired batch got (a user's trial: it
    # read only "paired": false, as for an independent batch).
    entry = partly.to_dict()["batches"][1]
    assert entry["common_runs"] == 1000 and entry["paired"] is False
    assert entry["matching"] == "partly paired"
    assert partly.to_dict()["batches"][0]["matching"] == "baseline"
    # --unpaired still forces the independent analysis.
    assert apart.common_runs == [0, 0]
    assert apart.to_dict()["batches"][1]["matching"] == "independent"
    # The charts' subtitles say so too, with how many runs are matched.
    from sim.analysis.compareplots import _bars_subtitle, _pairing_subtitle

    assert _pairing_subtitle(partly) == "b: partly paired (1,000 common runs matched)"
    assert "Partly paired" in _bars_subtitle(partly)
    assert _pairing_subtitle(apart).startswith("Independent batches")
    assert "aired" not in _bars_subtitle(apart)


def _cluster_se(values: pd.Series, base_sample: pd.Series) -> float:
    """The cluster-robust standard error of a mean, by hand (pandas)."""
    clusters = base_sample.nunique()
    sums = (values - values.mean()).groupby(base_sample).sum()
    return math.sqrt(clusters / (clusters - 1) * (sums**2).sum()) / len(values)


@pytest.mark.parametrize("seeds", [(7, 7), (7, 8)], ids=["matched", "independent"])
def test_sobol_sweeps_are_compared_by_their_base_samples(tmp_path, seeds):
    # An analyst's trial: compare used run-level tests on Sobol sweeps, whose runs come
    # in base samples sharing parameter values and draws: intervals ~1.8x too narrow.
    from sim.api import sweep

    dud = TESTS / "scenarios" / "unswept_dud.yaml"
    folders = []
    for label, seed, c in (("low", seeds[0], 0), ("high", seeds[1], 1)):
        folders.append(tmp_path / label)
        sweep(dud, "sobol", 64, seed=seed, params=["a", "b"], out=folders[-1],
              settings={"c": c}, plots=False, keep_rounds=False)  # fmt: skip
    found = compare(folders, fans=False)
    row = found.differences.query("kind == 'ending' and outcome == 'deal'").iloc[0]
    frames = [pd.read_parquet(f / "runs.parquet").sort_values("run") for f in folders]
    base_sample = [(f["run"] % (64 * 6)) // 6 for f in frames]  # 2 parameters: 6 rows each
    y = [(f["ending"] == "deal").astype(float).reset_index(drop=True) for f in frames]
    diff = y[1].mean() - y[0].mean()
    if seeds[0] == seeds[1]:
        se = _cluster_se(y[1] - y[0], base_sample[0].reset_index(drop=True))
        df = 63
        assert row["method"] == "paired t, clustered by base sample"
    else:
        va, vb = (
            _cluster_se(v, s.reset_index(drop=True)) ** 2
            for v, s in zip(y, base_sample, strict=True)
        )
        se = math.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / 63 + vb**2 / 63)
        assert row["method"] == "Welch t, clustered by base sample"
    q = stats.t.ppf(0.975, df)
    assert row["diff"] == pytest.approx(diff)
    assert row["se"] == pytest.approx(se, rel=1e-9)
    assert (row["low"], row["high"]) == pytest.approx((diff - q * se, diff + q * se), rel=1e-9)
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(diff) / se, df), rel=1e-6)
    # Far wider than the run-level standard error of 384 runs taken as independent.
    naive = math.sqrt(sum(v.var(ddof=1) / len(v) for v in y))
    if seeds[0] != seeds[1]:
        assert se > 1.3 * naive
    assert any("treat the base samples as the independent units" in n for n in found.notes)
    assert not any("treat them as approximate" in n for n in found.notes)
    assert any("cluster-robust SE" in line for line in found.methods)


def test_a_set_value_one_batch_lacks_is_shown_against_the_files_own():
    from sim.analysis.scenariodiff import override_differences
    from sim.language.schema import parse_scenario

    spec = parse_scenario(TINY.read_text(), str(TINY)).spec
    after = {"hawkishness": 0.3, "Blue.foresight": 0, "summit": 2}
    assert override_differences({}, after, spec, spec) == [
        "--set hawkishness: (not set: uniform(0, 1) in the file) → 0.3",
        "--set Blue.foresight: (not set: 2 in the file) → 0",
        "--set summit: (not set: pending in the file) → collapse",
    ]
    # Without the scenario nothing is claimed about it.
    assert override_differences({"x": 1.0}, {}) == ["--set x: 1 → (not set)"]


def _bundled_batch(scenario: str, out):
    """200 runs of a bundled scenario at seed 7, through the command, without plots."""
    made = CliRunner().invoke(
        cli,
        ["run", str(ROOT / "scenarios" / f"{scenario}.yaml"), "-n", "200", "--seed", "7",
         "--out", str(out), "--no-plots", "-q"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    return out


def test_a_batch_against_itself_and_batches_with_nothing_in_common_are_refused(tmp_path):
    # An analyst's trial: `compare b1 b1` printed a table of zeros, and a Korea batch
    # against an Alaska one printed every outcome of each as significantly absent from
    # the other, matched "run by run".
    korea = _bundled_batch("korea-deterrence", tmp_path / "korea")
    alaska = _bundled_batch("alaska", tmp_path / "alaska")
    runner = CliRunner()
    twice = runner.invoke(cli, ["compare", str(korea), f"{korea}/", "--out", str(tmp_path / "c")])
    assert twice.exit_code == 2
    assert "is given twice" in twice.output and "Traceback" not in twice.output
    apart = runner.invoke(cli, ["compare", str(korea), str(alaska), "--out", str(tmp_path / "c")])
    assert apart.exit_code == 2
    assert apart.output.strip().endswith(
        "alaska plays alaska and korea plays korea_deterrence, which share no ending and no "
        "branch: there is nothing to compare"
    )
    assert not (tmp_path / "c").exists()


def test_variants_of_a_scenario_compare_with_the_note_first(tmp_path):
    # alaska and alaska-collapse share endings and branches: they compare, and the note
    # that they are different scenarios comes before the tables, not under Methods.
    runner = CliRunner()
    folders = [str(_bundled_batch(s, tmp_path / s)) for s in ("alaska", "alaska-collapse")]
    result = runner.invoke(cli, ["compare", *folders, "--out", str(tmp_path / "c"), "--no-plots"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    note = text.index("Note: the batches play different scenarios (alaska, alaska_collapse)")
    assert note < text.index("Endings")


def test_the_differences_charts_ticks_are_labelled_with_the_decimals_they_need(matched):
    # An analyst's trial: ticks at half points read "-1, -0, 0, +0, +1, +2, +2".
    from sim.analysis.compareplots import _SignedTicks, plot_differences

    a, b = matched
    figure = plot_differences(compare([a, b], fans=False))
    figure.canvas.draw()
    checked = 0
    for ax in figure.axes:
        formatter = ax.xaxis.get_major_formatter()
        if not isinstance(formatter, _SignedTicks):
            continue
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        labels = [formatter(t) for t in ticks]
        # Each label reads back as its tick (a true minus sign, "+" kept).
        read = [float(s.replace("\u2212", "-")) for s in labels]
        assert read == pytest.approx(ticks, abs=1e-9), labels
        checked += 1
    assert checked >= 2  # both panels: probabilities and payoffs
    ticks = _SignedTicks()
    ticks.set_locs([-1, -0.5, 0, 0.5, 1, 1.5, 2])
    assert [ticks(t) for t in ticks.locs] == ["−1.0", "−0.5", "0", "+0.5", "+1.0", "+1.5", "+2.0"]


def test_a_paired_interval_agrees_with_its_exact_test_when_few_runs_disagree():
    # An analyst's trial: with 0 against 5 disagreeing runs the interval excluded 0
    # while the exact test gave p = 0.0625. Below 25 disagreeing runs the interval is
    # r (2 t - 1) over the exact intervals of r (share disagreeing) and t (share of
    # those that went B's way), checked against scipy's beta quantiles here.
    from scipy.stats import beta

    def clopper_pearson(k, n):
        low = 0.0 if k == 0 else beta.ppf(0.025, k, n - k + 1)
        high = 1.0 if k == n else beta.ppf(0.975, k + 1, n - k)
        return low, high

    n = 20_000
    in_a = np.zeros(n, dtype=bool)
    in_b = np.zeros(n, dtype=bool)
    in_a[:5] = True  # 5 runs lost the outcome in B, none gained it
    found = proportion_difference_paired(in_a, in_b)
    assert found.p_value == pytest.approx(0.0625, abs=1e-12)
    (r_low, r_high), (t_low, t_high) = clopper_pearson(5, n), clopper_pearson(0, 5)
    ends = [r * (2 * t - 1) for r in (r_low, r_high) for t in (t_low, t_high)]
    assert found.low == pytest.approx(min(ends), rel=1e-9)
    assert found.high == pytest.approx(max(ends), rel=1e-9)
    assert found.low < 0 < found.high  # agrees with p > 0.05
    # None disagree: within the exact upper bound of the share that disagrees (about
    # 3.7/n); one disagreeing run is no narrower than none (the analyst's second find).
    none = proportion_difference_paired(in_a, in_a.copy())
    assert (none.diff, none.p_value) == (0.0, 1.0)
    assert none.high == pytest.approx(clopper_pearson(0, n)[1], rel=1e-9) == -none.low
    one = in_a.copy()
    one[100] = True
    single = proportion_difference_paired(in_a, one)
    assert single.high - single.low > none.high - none.low
    # Many disagreeing runs: the normal interval, as before.
    in_b[10:60] = True
    wide = proportion_difference_paired(in_a, in_b)
    d = in_b.astype(float) - in_a.astype(float)
    se = d.std(ddof=1) / np.sqrt(n)
    assert wide.low == pytest.approx(d.mean() - 1.959963984540054 * se, rel=1e-9)


def test_the_few_disagreeing_runs_interval_covers_at_least_95_percent():
    # Coverage of the true difference over 2,000 simulated paired batches of 1,000 runs
    # in which about 5 runs disagree (p_only_a = 0.004, p_only_b = 0.001). Fixed seed;
    # the interval is conservative by construction, so coverage must reach 95% less
    # two binomial standard errors (sqrt(0.95 * 0.05 / 2000) = 0.0049).
    rng = np.random.default_rng(20251204)
    n, p_a, p_b = 1000, 0.004, 0.001
    truth = p_b - p_a
    covered = 0
    trials = 2000
    for _ in range(trials):
        u = rng.random(n)
        in_a = u < p_a
        in_b = (u >= p_a) & (u < p_a + p_b)
        found = proportion_difference_paired(in_a, in_b)
        covered += found.low <= truth <= found.high
    assert covered / trials >= 0.95 - 2 * np.sqrt(0.95 * 0.05 / trials), covered / trials

"""Terminal text wraps only between terms: never between a name and its bound, inside a
comparison such as ``<=``, or inside a name."""

import re

import pytest
from click.testing import CliRunner

from cli import cli
from sim.analysis.explaintext import format_explanation
from sim.analysis.explanation import explain
from sim.analysis.wrapping import COMPARISONS, wrap_terms
from sim.api import run_batch
from sim.batch.options import BatchOptions
from sim.engine.loading import load
from tests.conftest import TESTS

KNOWN = TESTS / "scenarios" / "known_driver.yaml"
ALASKA = TESTS.parent / "scenarios" / "alaska.yaml"
TERMS = [
    "0.361 ≤ dprk_casualty_rate ≤ 0.596",
    "dprk_shell_share ≤ 0.534",
    "payoff.US <= 0",
    "branch.summit == 'collapse'",
    "metric.ru_manpower_gap_k[any] >= 150",
    "congress_majority_end_aid = 0",
    "(quasi-p 0.359)",
]
TEXT = (
    "Dropped (quasi-p above 0.05: chance could have made them): "
    + ", ".join(TERMS)
    + ", and a-hyphenated-name-longer-than-the-narrowest-line_with_underscores."
)
OPERATOR_AT_EDGE = re.compile(
    r"(^\s*(" + "|".join(map(re.escape, COMPARISONS)) + r")(\s|$))"
    r"|(\s(" + "|".join(map(re.escape, COMPARISONS)) + r")\s*$)"
)


def check_lines(lines, terms, width):
    assert lines, "nothing printed"
    for line in lines:
        assert not OPERATOR_AT_EDGE.search(line), (width, line)
    joined = "\n".join(lines)
    for term in terms:
        # Each term is on one line, whole.
        assert any(term in line for line in lines), (width, term, joined)


@pytest.mark.parametrize("width", range(16, 101, 3))
def test_wrap_terms_breaks_only_between_terms(width):
    lines = wrap_terms(TEXT, width, initial_indent="  ", subsequent_indent="    ")
    check_lines(lines, TERMS, width)
    # Nothing lost or cut: the words are the text's words, in order.
    assert " ".join(lines).split() == TEXT.split()
    # A line is longer than the width only if it holds one unbreakable term (no two
    # items of the list).
    for line in lines:
        if len(line) > width:
            assert ", " not in line.strip().rstrip(","), (width, line)


def test_plain_textwrap_would_split_these_terms():
    # The check above can fail: textwrap itself puts "≤" at a line's end here.
    import textwrap

    broken = [
        w
        for w in range(16, 101, 3)
        if any(OPERATOR_AT_EDGE.search(line) for line in textwrap.wrap(TEXT, w))
    ]
    assert broken


@pytest.fixture(scope="module")
def found(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wrap") / "mc"
    run_batch(load(KNOWN), folder, BatchOptions(runs=2000, seed=5, plots=False))
    return explain(folder, plots=False, resamples=2)


@pytest.mark.parametrize("width", [40, 52, 61, 70, 83, 100])
def test_explain_text_keeps_each_rule_restriction_on_one_line(found, width):
    lines = format_explanation(found, width=width).splitlines()
    terms = []
    for entry in found["targets"]:
        rule = entry.get("rule") or {}
        terms += [r["text"] for r in rule.get("box", {}).get("restrictions", [])]
        terms += [d["text"] for d in rule.get("dropped", []) if d.get("text")]
    assert terms
    # Tables (lines starting with a rank) are as wide as they need; prose is checked.
    prose = [line for line in lines if not re.match(r"^\s+\d+ ", line)]
    check_lines(prose, terms, width)


def test_the_sweep_heading_wraps_at_80_columns(tmp_path):
    result = CliRunner().invoke(
        cli,
        ["sweep", str(ALASKA), "--design", "lhs", "-n", "8", "--seed", "2", "--out",
         str(tmp_path / "s"), "--no-plots"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    start = [i for i, line in enumerate(result.output.splitlines()) if "design over" in line]
    assert start
    lines = result.output.splitlines()[start[0] :]
    block = lines[: next(i for i, line in enumerate(lines) if "runs" in line) + 1]
    assert len(block) > 1 and all(len(line) <= 80 for line in block), block
    # 23 parameters, each name whole.
    assert "lhs design over " in block[0] and block[-1].endswith("8 runs")
    names = re.findall(r"[a-z0-9_]+", " ".join(block))
    assert {"summit_base_odds", "dprk_fx_usd_bn_per_year", "hwasong19_range_after_km"} <= set(names)


def test_explain_fits_an_80_column_terminal_and_keeps_its_tables_in_a_wide_one(tmp_path):
    # A lecturer's terminal at 80 columns: explain's driver tables were 112 to 170
    # columns wide and its prose wrapped at 100, so every line broke in two.
    folder = tmp_path / "alaska"
    run_batch(load(ALASKA), folder, BatchOptions(runs=1500, seed=4, plots=False))
    found = explain(folder, plots=False, resamples=0)
    wide = format_explanation(found, width=200)
    assert "low → high" in wide  # a table, as wide as it needs
    narrow = format_explanation(found, width=80).splitlines()
    too_long = [line for line in narrow if len(line) > 80]
    assert too_long == [], too_long
    # Every driver is still there, each with its effect and its ends, as a block.
    ranks = [line for line in wide.splitlines() if re.match(r"^\s+\d+ \S", line)]
    assert ranks
    blocks = [line for line in narrow if re.match(r"^\s+\d+ \S", line)]
    assert len(blocks) == len(ranks)
    assert sum(line.strip().startswith("effect ") for line in narrow) == len(ranks)
    assert sum(" → " in line for line in narrow) >= len(ranks)


def test_the_cli_wraps_at_the_terminals_width_and_at_100_in_a_file(monkeypatch):
    import sys

    from cli import _text_width

    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    assert _text_width() == 100  # a pipe or a file: the same text wherever typed
    # ... unless COLUMNS is exported, on purpose (an analyst's trial: a piped compare
    # ignored COLUMNS=80).
    monkeypatch.setenv("COLUMNS", "80")
    assert _text_width() == 80
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert _text_width() == 80
    monkeypatch.setenv("COLUMNS", "30")
    assert _text_width() == 60
    monkeypatch.setenv("COLUMNS", "250")
    assert _text_width() == 100

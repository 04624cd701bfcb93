"""Scenario text that used to escape as a traceback, a hint meant for Python programmers,
or silent nonsense: each is now a located error, or computes what it says.

The located load errors of whole files are in ``tests/broken/`` (checked by
``test_bad_input.py``); these tests look at the expression language and the YAML
reader directly.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from sim.errors import ScenarioError, ScenarioRuntimeError
from sim.language import yamlsource
from sim.language.expressions import MAX_EXPRESSION_CHARS
from tests.conftest import scenario
from tests.test_expressions import CTX, compiled, context, errors

# --- boolean arithmetic ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # numpy refuses `-` on booleans; these are 0/1 numbers to the author.
        ("(x > 0) - (y > 0)", [0.0, 1.0, -1.0]),
        ("(round > 1) - (summit == 'collapse')", [1.0, 0.0, 1.0]),
        ("-(x > 0)", [-1.0, -1.0, 0.0]),
        # numpy adds booleans as a logical or: True + True must be 2, not 1.
        ("(x > 0) + (y > 0)", [2.0, 1.0, 1.0]),
        ("(x > 0) * 3 + (not y > 0)", [3.0, 4.0, 0.0]),
        ("(x > 0) ** 2 + (x > 0) // 1 + (x > 0) % 2", [3.0, 3.0, 0.0]),
        ("max(x > 0, y > 3) + min(x > 0, y > 3)", [2.0, 1.0, 0.0]),
    ],
)
def test_comparisons_count_as_numbers_in_arithmetic(text: str, expected: list[float]) -> None:
    # CTX: x = [0.5, 2, -1], y = [4, 0, 3], summit = [pending, collapse, success], round 3
    np.testing.assert_array_equal(compiled(text)(CTX), expected)


def test_a_scenario_with_boolean_arithmetic_plays(tmp_path) -> None:
    from sim.engine.model import play

    compiled_scenario = scenario(
        """
        state:
          x: {initial: 0}
          summit: {values: [pending, collapse], initial: collapse}
        actors:
          A:
            name: A
            actions:
              wait:
                effects: {x: "+= (round > 1) - (summit == 'collapse') + 2 * (round > 0)"}
        endings:
          - id: done
        metrics: [x]
        """,
        rounds=3,
    )
    model = play(compiled_scenario, 1, np.arange(4))
    # round 1: 0 - 1 + 2 = 1; round 2: 1 - 1 + 2 = 2; round 3 likewise: x = 5
    np.testing.assert_array_equal(model.ctx.state[0], [5.0] * 4)


# --- distribution and function arguments ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("bernoulli(2)", "bernoulli(p) needs 0 <= p <= 1, got p = 2"),
        ("bernoulli(-1)", "got p = -1"),
        ("bernoulli(1 + 0.5)", "got p = 1.5"),
        ("uniform(1, 0)", "uniform(low, high) needs low <= high, got low = 1, high = 0"),
        ("normal(0, -1)", "normal(mean, sd) needs sd >= 0, got sd = -1"),
        ("normal(0, 0 - 2)", "got sd = -2"),
        ("x + clip(x, 0.95, 0.05)", "clip(x, low, high) needs low <= high"),
    ],
)
def test_literal_arguments_out_of_range_are_load_errors(text: str, fragment: str) -> None:
    (problem,) = errors(text)
    # HERE is f.yaml:10:7; the call's column is where the function name starts.
    column = 7 + text.index(text.split("(")[0].split()[-1])
    assert problem.startswith(f"f.yaml:10:{column}: ")
    assert fragment in problem


@pytest.mark.parametrize(
    "text",
    ["bernoulli(0)", "bernoulli(1)", "uniform(1, 1)", "normal(3, 0)", "clip(x, 0.5, 0.5)"],
)
def test_arguments_on_the_edge_of_the_domain_are_fine(text: str) -> None:
    assert compiled(text)(CTX).shape == (3,)


@pytest.mark.parametrize(
    ("text", "run", "fragment"),
    [
        # x = [0.5, 2, -1] in runs [10, 11, 12]: the first bad run is named.
        ("bernoulli(x)", 11, "bernoulli(p) needs 0 <= p <= 1, got p = 2"),
        ("uniform(x, 1)", 11, "uniform(low, high) needs low <= high, got low = 2, high = 1"),
        ("normal(0, x)", 12, "normal(mean, sd) needs sd >= 0, got sd = -1"),
        ("clip(y, x, 1)", 11, "clip(x, low, high) needs low <= high, got low = 2, high = 1"),
    ],
)
@pytest.mark.parametrize("expect", [False, True])
def test_computed_arguments_out_of_range_stop_with_position_run_and_round(
    text: str, run: int, fragment: str, expect: bool
) -> None:
    ctx = context([0.5, 2.0, -1.0], [4.0, 0.0, 3.0], [0, 2, 1], [0.25, 0.5, 1.0], 5, [10, 11, 12])
    with pytest.raises(ScenarioRuntimeError) as caught:
        compiled(text)(ctx, expect=expect)
    message = str(caught.value)
    assert message.startswith(f"f.yaml:10:7: '{text}': {fragment}")
    assert message.endswith(f"in run {run} at round 5")


# --- numbers and lengths ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1 + " + "9" * 5000,  # beyond Python's own limit on reading whole numbers
        "1 + " + "9" * 4000,  # within it, but no float can hold it
        "x * 0x" + "f" * 3000,
        "x * 12345678901234",
    ],
)
def test_huge_whole_numbers_are_too_large_not_a_python_hint(text: str) -> None:
    (problem,) = errors(text)
    assert "too large (at most 1e+12)" in problem
    assert "set_int_max_str_digits" not in problem and "hexadecimal" not in problem
    at = text.index("0x") if "0x" in text else text.rindex(" ") + 1
    assert problem.startswith(f"f.yaml:10:{7 + at}: ")


def test_long_decimals_are_not_huge_numbers() -> None:
    assert compiled("x * 0.12345678901234567890")(CTX)[0] == pytest.approx(0.0617283950617)


def test_an_expression_too_long_is_refused_before_it_is_parsed(monkeypatch) -> None:
    import ast

    def no_parse(*_args, **_kwargs):
        raise AssertionError("parsed")

    monkeypatch.setattr(ast, "parse", no_parse)
    (problem,) = errors(" + ".join(["x"] * (MAX_EXPRESSION_CHARS // 4 + 1)))
    assert problem.startswith("f.yaml:10:7: expression has ")
    assert "at most 10,000" in problem


def test_a_nul_character_is_a_syntax_error() -> None:
    (problem,) = errors("x +\x00 1")
    assert problem.startswith("f.yaml:10:") and "syntax error in expression" in problem


# --- the YAML reader ----------------------------------------------------------------------


def test_a_huge_file_is_refused_before_yaml_reads_it(monkeypatch) -> None:
    def no_compose(*_args, **_kwargs):
        raise AssertionError("composed")

    monkeypatch.setattr(yaml, "compose", no_compose)
    text = "scenario:\n  id: x\nstate:\n  x:\n    initial: " + "1 + " * 3_000_000 + "1\n"
    with pytest.raises(ScenarioError) as caught:
        yamlsource.load_yaml(text, "big.yaml")
    (line,) = caught.value.lines()
    long_line = text.split("\n")[4]
    assert line.startswith(f"big.yaml:5:1: this line has {len(long_line):,} characters")


@pytest.mark.parametrize(
    ("char", "name"),
    [("\x0c", "U+000C (form feed)"), ("\x07", "U+0007 (bell)"), ("\x1b", "U+001B (escape)")],
)
def test_a_control_character_is_located_on_its_line(char: str, name: str) -> None:
    lines = [f"key{i}: value {i}" for i in range(300)]
    lines[169] = f"key169: val{char}ue"
    with pytest.raises(ScenarioError) as caught:
        yamlsource.load_yaml("\n".join(lines), "f.yaml")
    assert caught.value.lines() == [
        f"f.yaml:170:12: character {name} is not allowed in a YAML file; delete it"
    ]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("!!timestamp tomorrow", "'tomorrow' cannot be read as timestamp"),
        ("!!timestamp 2025-13-45", "bad value"),
        ("!!bool maybe", "'maybe' cannot be read as bool"),
        ("!!int 1.5", "bad value"),
        ("!!float abc", "bad value"),
        ("!!binary aGVsbG8=", "the YAML tag '!!binary' is not allowed"),
        ("!!python/name:os.system", "the YAML tag '!!python/name:os.system' is not allowed"),
        ("!custom thing", "the YAML tag '!custom' is not allowed"),
        ("!!set {a, b}", "the YAML tag '!!set' is not allowed"),
        ("!!omap [a: 1]", "the YAML tag '!!omap' is not allowed"),
        ("!!python/object/apply:os.system [ls]", "is not allowed"),
    ],
)
def test_yaml_tags_are_located_errors_never_tracebacks(value: str, fragment: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        yamlsource.load_yaml(f"a: 1\nb: {value}\n", "f.yaml")
    (line,) = caught.value.lines()
    assert line.startswith("f.yaml:2:4: ")
    assert fragment in line


def test_a_tag_on_a_key_is_a_located_error() -> None:
    with pytest.raises(ScenarioError) as caught:
        yamlsource.load_yaml("a: 1\n!!timestamp soon : 2\n", "f.yaml")
    (line,) = caught.value.lines()
    assert line.startswith("f.yaml:2:1: bad key: ")


def test_plain_tags_still_read() -> None:
    data, _ = yamlsource.load_yaml(
        "a: !!str 12\nb: !!int '7'\nc: !!float 1\nd: !!timestamp 2025-08-15\ne: !!null ''\n",
        "f.yaml",
    )
    assert data["a"] == "12" and data["b"] == 7 and data["c"] == 1.0
    assert str(data["d"]) == "2025-08-15" and data["e"] is None

"""The expression language: every allowed construct computes what Python would, every
forbidden one is a load error with its position."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.streams import Streams
from sim.language.expressions import (
    EvalContext,
    Location,
    Symbol,
    SymbolTable,
    compile_expression,
)

CATS = ("pending", "success", "collapse")
TABLE = SymbolTable(
    {
        "x": Symbol("state", 0),
        "y": Symbol("state", 1),
        "summit": Symbol("state", 2, CATS),
        "p": Symbol("param", 0),
        "round": Symbol("round", 0),
    },
    {"US": ("talk", "press"), "RU": ("hold",)},
)
HERE = Location("f.yaml", 10, 7)


def context(x, y, summit, p, round_=3, runs=None):
    x, y, summit, p = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (x, y, summit, p))
    size = len(x)
    runs = np.arange(size) if runs is None else np.asarray(runs)
    times = np.zeros((2, 2, size))
    last = np.zeros((2, 2, size))
    ctx = EvalContext([x, y, summit], [p], runs, Streams(1, runs), times, last)
    ctx.round = round_
    return ctx


def compiled(text, **kwargs):
    expression, problems = compile_expression(text, HERE, TABLE, site="t", **kwargs)
    assert not problems, problems
    return expression


def errors(text, **kwargs):
    expression, problems = compile_expression(text, HERE, TABLE, site="t", **kwargs)
    assert expression is None
    return [str(p) for p in problems]


CTX = context([0.5, 2.0, -1.0], [4.0, 0.0, 3.0], [0, 2, 1], [0.25, 0.5, 1.0])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x + y", [4.5, 2.0, 2.0]),
        ("x - y * 2", [-7.5, 2.0, -7.0]),
        ("y / 4", [1.0, 0.0, 0.75]),
        ("y // 3", [1.0, 0.0, 1.0]),
        ("y % 3", [1.0, 0.0, 0.0]),
        ("x ** 2", [0.25, 4.0, 1.0]),
        ("-x", [-0.5, -2.0, 1.0]),
        ("+x", [0.5, 2.0, -1.0]),
        ("x < y", [1, 0, 1]),
        ("x <= 0.5", [1, 0, 1]),
        ("x > 0.5", [0, 1, 0]),
        ("x >= 2", [0, 1, 0]),
        ("x == 2", [0, 1, 0]),
        ("x != 2", [1, 0, 1]),
        ("0 < x < 3", [1, 1, 0]),
        ("x > 0 and y > 0", [1, 0, 0]),
        ("x > 0 or y > 0", [1, 1, 1]),
        ("not x > 0", [0, 0, 1]),
        ("x if y > 1 else 10", [0.5, 10.0, -1.0]),
        ("True + False", [1, 1, 1]),
        ("min(x, y)", [0.5, 0.0, -1.0]),
        ("min(x, y, 0.1)", [0.1, 0.0, -1.0]),
        ("max(x, y)", [4.0, 2.0, 3.0]),
        ("max(x, y, 2.5)", [4.0, 2.5, 3.0]),
        ("clip(x, 0, 1)", [0.5, 1.0, 0.0]),
        ("abs(x)", [0.5, 2.0, 1.0]),
        ("exp(y)", [math.exp(4), 1.0, math.exp(3)]),
        ("log(y + 1)", [math.log(5), 0.0, math.log(4)]),
        ("sqrt(y)", [2.0, 0.0, math.sqrt(3)]),
        ("logistic(0 * x)", [0.5, 0.5, 0.5]),
        ("logistic(y)", [1 / (1 + math.exp(-4)), 0.5, 1 / (1 + math.exp(-3))]),
        ("summit == 'collapse'", [0, 1, 0]),
        ("summit != 'pending'", [0, 1, 1]),
        ("'success' == summit", [0, 0, 1]),
        ("summit == summit", [1, 1, 1]),
        ("round * 2", [6, 6, 6]),
        ("p * 4", [1.0, 2.0, 4.0]),
        ("times('US', 'press')", [0, 0, 0]),
        ("last('US', 'talk')", [0, 0, 0]),
    ],
)
def test_allowed_construct_computes_what_python_would(text, expected):
    assert np.allclose(compiled(text)(CTX), expected)


def test_history_functions_read_counts_and_previous_choice():
    ctx = context([0, 0], [0, 0], [0, 0], [0, 0])
    ctx.times[0, 1] = [2, 5]
    ctx.last[0, 1] = [1, 0]  # one-hot: run 0 last chose 'press', run 1 'talk'
    ctx.last[0, 0] = [0, 1]
    assert list(compiled("times('US', 'press')")(ctx)) == [2, 5]
    assert list(compiled("last('US', 'press')")(ctx)) == [1, 0]
    assert list(compiled("last('US', 'talk')")(ctx)) == [0, 1]


def test_chose_reads_this_rounds_choice_or_the_expected_probability():
    ctx = context([0, 0], [0, 0], [0, 0], [0, 0])
    ctx.chose[0, 1] = [1.0, 0.25]  # run 0: US chose press; run 1: US presses with p 0.25
    expression = compiled("2 * chose('US', 'press') - chose('US', 'talk')")
    assert list(expression(ctx)) == [2.0, 0.5]
    assert expression.choices_read == {"US"} and not expression.actors_read


@pytest.mark.parametrize(
    ("text", "fragment", "col"),
    [
        ("x.real", "attribute access", 7),
        ("x[0]", "subscripts", 7),
        ("__import__('os')", "dunder", 7),
        ("__builtins__", "dunder", 7),
        ("lambda: 1", "lambda", 7),
        ("[i for i in x]", "comprehensions", 7),
        ("{i: 1 for i in x}", "comprehensions", 7),
        ("(i for i in x)", "comprehensions", 7),
        ("[1, 2]", "lists", 7),
        ("(x, y)", "tuples", 7),
        ("{1: 2}", "dicts", 7),
        ("{1, 2}", "sets", 7),
        ("(z := 1)", "assignment", 8),
        ("f'{x}'", "f-strings", 7),
        ("min(x, y=1)", "keyword", 7),
        ("print(x)", "unknown function 'print'", 7),
        ("x @ y", "not allowed", 7),
        ("x in y", "not allowed", 7),
        ("x is y", "not allowed", 7),
        ("x << 1", "not allowed", 7),
        ("~x", "not allowed", 7),
        ("x + tensoin", "unknown name 'tensoin'", 11),
        # Nothing close: what an expression can read, and where to see every name.
        (
            "x + ru_escalation",
            "reads parameters, state variables and named expressions "
            "(`wargame doc f.yaml` lists them)",
            11,
        ),
        ("x +", "syntax error", 10),
        ("summit == 'colapse'", "did you mean 'collapse'", 17),
        ("summit > 'pending'", "use == or !=", 7),
        ("summit + 1", "categorical", 7),
        ("'abc'", "string", 7),
        ("x == 'abc'", "categorical", 7),
        ("1 / 0", "division by zero", 11),
        ("x // (1 - 1)", "division by zero", 13),
        ("log(0)", "not positive", 7),
        ("1e400", "too large", 7),
        ("clip(x, 1)", "takes 3 arguments", 7),
        ("abs(x, y)", "takes 1 arguments", 7),
        ("times('UK', 'talk')", "unknown actor 'UK'", 13),
        ("times('US', 'tallk')", "did you mean 'talk'", 19),
        ("times(US, 'talk')", "actor's id as a string", 13),
        ("min", "is a function", 7),
        ("None", "not allowed", 7),
        ("x if y", "syntax error", 7),
        ("await x", "not allowed", 7),
    ],
)
def test_forbidden_construct_is_a_load_error_with_its_position(text, fragment, col):
    found = errors(text)
    assert any(fragment in line for line in found), found
    assert any(line.startswith(f"f.yaml:10:{col}:") for line in found), found


def test_yield_and_imports_cannot_even_parse_as_expressions():
    for text in ("import os", "yield x", "x = 1", "def f(): pass"):
        assert any("syntax error" in line for line in errors(text))


def test_a_categorical_target_takes_its_values_by_name():
    expression = compiled("'collapse'", target_categories=CATS)
    assert list(expression(CTX)) == [2, 2, 2]
    expression = compiled("'success' if x > 1 else 'pending'", target_categories=CATS)
    assert list(expression(CTX)) == [0, 1, 0]
    assert any("did you mean" in e for e in errors("'sucess'", target_categories=CATS))


def test_nan_at_run_time_names_the_position_run_and_round():
    from sim.errors import ScenarioRuntimeError

    ctx = context([1, 1], [1, 0], [0, 0], [0, 0], runs=[40, 41], round_=5)
    with pytest.raises(ScenarioRuntimeError, match=r"f\.yaml:10:7: .* run 41 at round 5"):
        compiled("x / y")(ctx)


def test_nan_and_infinity_at_run_time_name_their_own_likely_causes():
    # An author's trial: log of a negative number got "division by zero, log of 0, or
    # overflow?", none of which it was.
    from sim.errors import ScenarioRuntimeError

    ctx = context([1, -2], [1, 0], [0, 0], [0, 0], runs=[40, 41], round_=5)
    with pytest.raises(ScenarioRuntimeError, match=r"gave NaN in run 41 .*log or sqrt of a neg"):
        compiled("log(x)")(ctx)
    with pytest.raises(ScenarioRuntimeError, match=r"gave an infinite value in run 41 .*division"):
        compiled("x / y")(ctx)


def test_constant_expression_is_folded_at_load():
    assert compiled("2 * 3 + 1").constant == 7.0
    assert compiled("x + 1").constant is None
    assert compiled("round + 1").constant is None
    assert compiled("normal(0, 1)").constant is None


def test_reads_lists_parameters_and_state_read():
    expression = compiled("x + p if summit == 'success' else 0")
    assert expression.reads == {"x", "p", "summit"}
    assert compiled("times('US', 'talk')").actors_read == {"US"}


def test_random_terms_draw_from_the_runs_stream_and_project_to_their_mean():
    ctx = context(np.zeros(20000), np.zeros(20000), np.zeros(20000), np.full(20000, 0.3))
    normal = compiled("normal(2, 0.5)")
    draws = normal(ctx)
    assert abs(draws.mean() - 2) < 3 * 0.5 / math.sqrt(20000)
    assert np.all(normal(ctx, expect=True) == 2)
    bern = compiled("bernoulli(p)")(ctx)
    assert abs(bern.mean() - 0.3) < 3 * math.sqrt(0.3 * 0.7 / 20000)
    assert np.all(compiled("uniform(1, 3)")(ctx, expect=True) == 2)
    # Two random terms in one expression draw independently.
    both = compiled("normal(0, 1) - normal(0, 1)")(ctx)
    assert abs(both.std() - math.sqrt(2)) < 0.05
    # The same expression, round and runs give the same draws; another round does not.
    assert np.array_equal(normal(ctx), draws)
    ctx.round += 1
    assert not np.array_equal(normal(ctx), draws)


_OPS = ["+", "-", "*"]


@st.composite
def arithmetic(draw, depth=0):
    if depth > 3 or draw(st.booleans()):
        return draw(st.sampled_from(["x", "y", "p", "1.5", "2", "0.25"]))
    op = draw(st.sampled_from([*_OPS, "min", "max", "abs", "if"]))
    a, b = draw(arithmetic(depth + 1)), draw(arithmetic(depth + 1))
    if op in ("min", "max"):
        return f"{op}({a}, {b})"
    if op == "abs":
        return f"abs({a})"
    if op == "if":
        return f"({a} if {b} > 1 else {a} - {b})"
    return f"({a} {op} {b})"


@settings(max_examples=150, deadline=None)
@given(arithmetic(), st.floats(-5, 5), st.floats(-5, 5), st.floats(0, 1))
def test_compiled_arithmetic_equals_python_on_every_run(text, x, y, p):
    ctx = context([x, y], [y, x], [0, 0], [p, p])
    got = compiled(text)(ctx)
    for run, (xv, yv) in enumerate([(x, y), (y, x)]):
        expected = eval(text, {"min": min, "max": max, "abs": abs}, {"x": xv, "y": yv, "p": p})
        assert got[run] == pytest.approx(expected, rel=1e-12, abs=1e-12)

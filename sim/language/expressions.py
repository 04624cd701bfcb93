"""The scenario expression language: small, safe, vectorised.

Conditions, probabilities, costs, payoffs and effects in a scenario are written as
Python-like expressions, for example ``0.6 - 0.2 * times('US', 'press_ukraine')`` or
``summit == 'collapse' and dprk_troops_k > 50``. They are parsed with :mod:`ast`, checked
against a whitelist, their names resolved against the scenario, and compiled once into a
Python function over numpy arrays of shape ``(runs,)``.

Allowed: numbers, ``True``/``False``, names of parameters and state variables, ``round``,
``+ - * / // % **``, comparisons (chains too), ``and``/``or``/``not``, ``a if c else b``,
and the functions in :data:`FUNCTIONS`. A categorical variable can only be compared with
``==``/``!=`` to one of its values written as a string. Random terms (``normal``,
``uniform``, ``bernoulli``) draw from the run's own stream (:mod:`sim.engine.streams`), keyed by
where the term stands in the scenario; when an actor projects the effect of an action
they take their expected value instead.

Everything else (attributes, subscripts, imports, lambdas, comprehensions, keyword
arguments, dunder names, unknown names) is a load-time error with the file position.
"""

from __future__ import annotations

import ast
import copy
import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

try:  # np.clip's ufunc without np.clip's Python wrapper (1 µs a call, thousands a round)
    from numpy._core.umath import clip as clip_values
except ImportError:  # numpy 1
    clip_values = np.clip

from sim.errors import Problem, ScenarioRuntimeError
from sim.language.schema import MAX_MAGNITUDE, closest_name, suggest, unknown_actor
from sim.language.sites import site_key

#: Function name -> (min args, max args or None for any, one-line description).
FUNCTIONS: dict[str, tuple[int, int | None, str]] = {
    "min": (2, None, "smallest of the arguments, run by run"),
    "max": (2, None, "largest of the arguments, run by run"),
    "clip": (3, 3, "clip(x, low, high)"),
    "abs": (1, 1, "absolute value"),
    "exp": (1, 1, "e to the power x"),
    "log": (1, 1, "natural logarithm"),
    "sqrt": (1, 1, "square root"),
    "logistic": (1, 1, "1 / (1 + exp(-x))"),
    "normal": (2, 2, "normal(mean, sd): a random draw (expected value: mean)"),
    "uniform": (2, 2, "uniform(low, high): a random draw (expected value: midpoint)"),
    "bernoulli": (1, 1, "bernoulli(p): 1 with probability p, else 0 (expected value: p)"),
    "times": (2, 2, "times('ACTOR', 'action'): rounds so far in which ACTOR chose action"),
    "last": (2, 2, "last('ACTOR', 'action'): 1 if ACTOR chose action in the previous round"),
    "chose": (
        2,
        2,
        "chose('ACTOR', 'action'): 1 if ACTOR chooses action this round (while an actor "
        "weighs its options: its own option 1, another's choice probability)",
    ),
}
RANDOM_FUNCTIONS = {"normal", "uniform", "bernoulli"}
HISTORY_FUNCTIONS = {"times", "last", "chose"}

_FORBIDDEN = {
    ast.Attribute: "attribute access (a.b) is not allowed",
    ast.Subscript: "subscripts (a[b]) are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.List: "lists are not allowed",
    ast.Tuple: "tuples are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.Set: "sets are not allowed",
    ast.NamedExpr: "assignment (:=) is not allowed",
    ast.Starred: "* unpacking is not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.Slice: "slices are not allowed",
}

_BINOPS: dict[type, str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}
_CMPOPS: dict[type, str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}


@dataclass(frozen=True)
class Symbol:
    """What a name in an expression refers to.

    Attributes:
        kind: ``param``, ``state`` or ``round``.
        index: Position in the model's parameter or state list.
        categories: The allowed values of a categorical variable, else ``None``.
    """

    kind: Literal["param", "state", "round"]
    index: int
    categories: tuple[str, ...] | None = None


@dataclass
class SymbolTable:
    """The names an expression may use, and the actors' actions for times()/last().

    Attributes:
        symbols: Parameters, state variables and ``round``.
        actions: Each actor's action ids (for ``times``, ``last``, ``chose``).
        defines: Named expressions (``define:``): name -> (text, location), inlined
            where they are used.
        broken: Named expressions that have errors of their own (reported once, where
            they are defined).
        withheld: Names the scenario has but this kind of expression may not read, with
            why (an initial value reads parameters only, not the state).
    """

    symbols: dict[str, Symbol]
    actions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    defines: dict[str, tuple[str, Location]] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)
    withheld: dict[str, str] = field(default_factory=dict)
    #: Each actor's id -> its name (to point from a name to the id).
    actor_names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Location:
    """Where an expression starts in its file (1-based)."""

    file: str
    line: int
    col: int
    #: The (line, col) in the file of each character of the expression's (stripped)
    #: text, when known: YAML may have folded it from several lines or unquoted it.
    chars: tuple[tuple[int, int], ...] | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def at(self, node: ast.AST, text: str) -> Location:
        """The location of ``node`` inside an expression starting here."""
        lineno = getattr(node, "lineno", 1)
        offset = getattr(node, "col_offset", 0)
        line_text = text.splitlines()[lineno - 1] if text.splitlines() else ""
        col = len(line_text.encode("utf-8")[:offset].decode("utf-8", "ignore"))
        if self.chars:
            index = sum(len(line) + 1 for line in text.split("\n")[: lineno - 1]) + col
            line, char_col = self.chars[min(index, len(self.chars) - 1)]
            return Location(self.file, line, char_col + max(0, index - len(self.chars) + 1))
        if lineno == 1:
            return Location(self.file, self.line, self.col + col)
        return Location(self.file, self.line + lineno - 1, col + 1)


class EvalContext:
    """What a compiled expression reads: the state of a block of runs at one moment.

    Attributes:
        state: One float64 array of shape (R,) per state variable (categorical values as
            their index in the variable's list of values).
        params: One float64 array of shape (R,) per parameter.
        round: The current round (0 before the first).
        runs: The global run indices of the block, shape (R,).
        streams: The block's random streams.
        times: Counts of past choices, shape (actors, max actions, R).
        last: 1 for each actor's previous choice, else 0, shape (actors, max actions, R).
        chose: 1 for each actor's choice this round once made, else 0 (while an actor
            weighs its options, the others' expected choice probabilities), shape
            (actors, max actions, R).
    """

    def __init__(
        self,
        state: list[np.ndarray],
        params: list[np.ndarray],
        runs: np.ndarray,
        streams: Any,
        times: np.ndarray,
        last: np.ndarray,
        chose: np.ndarray | None = None,
    ):
        self.state = state
        self.params = params
        self.runs = runs
        self.streams = streams
        self.times = times
        self.last = last
        self.chose = np.zeros_like(times) if chose is None else chose
        self.round = 0

    @property
    def size(self) -> int:
        """Number of runs in the block."""
        return len(self.runs)

    def with_state(self, state: list[np.ndarray]) -> EvalContext:
        """A context identical to this one but reading ``state`` (for projections)."""
        other = copy.copy(self)
        other.state = state
        return other

    def subset(self, index: np.ndarray) -> EvalContext:
        """The same moment for the runs at ``index`` only (copies, not views)."""
        other = copy.copy(self)
        other.state = [values[index] for values in self.state]
        other.params = [values[index] for values in self.params]
        other.runs = self.runs[index]
        other.streams = self.streams.subset(index)
        other.times = self.times[..., index]
        other.last = self.last[..., index]
        other.chose = self.chose[..., index]
        return other


# --- helpers the compiled code calls -------------------------------------------------


def _fold(ufunc: Any) -> Callable[..., Any]:
    """A function of two or more arguments applying a binary ufunc left to right."""

    def folded(*args: Any) -> Any:
        return functools.reduce(ufunc, args[1:], args[0])

    return folded


_and = _fold(np.logical_and)
_or = _fold(np.logical_or)
_min = _fold(np.minimum)
_max = _fold(np.maximum)


def _logistic(x: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


class ArgumentError(Exception):
    """A function got an argument outside its domain while playing (not a user error type).

    Raised by the helpers compiled expressions call; :class:`Expression` turns it into a
    :class:`~sim.errors.ScenarioRuntimeError` naming the expression, the run and the round.

    Attributes:
        message: What is wrong, e.g. ``bernoulli(p) needs 0 <= p <= 1, got p = 2``.
        index: The first run of the block (its position in the block) where it is wrong.
    """

    def __init__(self, message: str, index: int):
        super().__init__(message)
        self.message = message
        self.index = index


def _first(bad: Any) -> int | None:
    """The position of the first True in a boolean array or scalar, else None."""
    bad = np.asarray(bad)
    if not bad.any():
        return None
    return int(np.flatnonzero(bad.reshape(-1))[0]) if bad.ndim else 0


def _at(value: Any, index: int) -> float:
    value = np.asarray(value, dtype=float)
    return float(value.reshape(-1)[index] if value.ndim else value)


def _check_order(name: str, low: Any, high: Any, first: str, second: str) -> None:
    with np.errstate(invalid="ignore"):
        bad = _first(np.asarray(low) > np.asarray(high))
    if bad is not None:
        size = max(np.asarray(low).size, np.asarray(high).size)
        at = bad if size > 1 else 0
        got = f"{first} = {_at(low, min(at, np.asarray(low).size - 1)):g}"
        got += f", {second} = {_at(high, min(at, np.asarray(high).size - 1)):g}"
        raise ArgumentError(f"{name} needs {first} <= {second}, got {got}", bad)


def _normal(c: EvalContext, expect: bool, site: int, mean: Any, sd: Any) -> Any:
    with np.errstate(invalid="ignore"):
        bad = _first(np.asarray(sd) < 0)
    if bad is not None:
        raise ArgumentError(f"normal(mean, sd) needs sd >= 0, got sd = {_at(sd, bad):g}", bad)
    if expect:
        return mean
    # scipy.special costs 0.2 s to import: paid only by scenarios that draw a normal.
    from scipy.special import ndtri

    return mean + sd * ndtri(c.streams.uniform(site, c.round))


def _uniform(c: EvalContext, expect: bool, site: int, low: Any, high: Any) -> Any:
    _check_order("uniform(low, high)", low, high, "low", "high")
    if expect:
        return (low + high) / 2.0
    return low + (high - low) * c.streams.uniform(site, c.round)


def _bernoulli(c: EvalContext, expect: bool, site: int, p: Any) -> Any:
    with np.errstate(invalid="ignore"):
        bad = _first((np.asarray(p) < 0) | (np.asarray(p) > 1))
    if bad is not None:
        raise ArgumentError(f"bernoulli(p) needs 0 <= p <= 1, got p = {_at(p, bad):g}", bad)
    if expect:
        return p
    return (c.streams.uniform(site, c.round) < p).astype(float)


def _clip(x: Any, low: Any, high: Any) -> Any:
    _check_order("clip(x, low, high)", low, high, "low", "high")
    return clip_values(x, low, high)


def _float(value: Any) -> Any:
    """A comparison's True/False as 1.0/0.0, so arithmetic on it counts (True + True = 2)."""
    return np.asarray(value, dtype=np.float64)


_HELPERS: dict[str, Any] = {
    "_and": _and,
    "_or": _or,
    "_not": np.logical_not,
    "_where": np.where,
    "_min": _min,
    "_max": _max,
    "_clip": _clip,
    "_float": _float,
    "_abs": np.abs,
    "_exp": np.exp,
    "_log": np.log,
    "_sqrt": np.sqrt,
    "_logistic": _logistic,
    "_normal": _normal,
    "_uniform": _uniform,
    "_bernoulli": _bernoulli,
    "_floordiv": np.floor_divide,
    "_mod": np.mod,
    "_pow": np.power,
}


class Expression:
    """A compiled expression, ready to evaluate on a block of runs.

    Attributes:
        text: The source text.
        location: Where it starts in the scenario file.
        reads: Names of parameters and state variables it reads.
        actors_read: Actors whose history it reads through times()/last().
        choices_read: Actors whose choice this round it reads through chose().
        defines_used: Named expressions it uses (inlined).
        random: Whether it contains a random term.
        constant: Its value if it reads nothing and draws nothing, else ``None``.
    """

    def __init__(
        self,
        text: str,
        location: Location,
        function: Callable[..., Any],
        reads: frozenset[str],
        actors_read: frozenset[str],
        random: bool,
        constant: float | None,
        choices_read: frozenset[str] = frozenset(),
        defines_used: frozenset[str] = frozenset(),
    ):
        self.text = text
        self.defines_used = defines_used
        self.location = location
        self._function = function
        self.reads = reads
        self.actors_read = actors_read
        self.choices_read = choices_read
        self.random = random
        self.constant = constant

    def __repr__(self) -> str:
        return f"Expression({self.text!r} at {self.location})"

    def __call__(self, ctx: EvalContext, expect: bool = False) -> np.ndarray:
        """Evaluate on every run of the block.

        Args:
            ctx: The block's state.
            expect: Replace random terms by their expected values (for projections).

        Returns:
            A float64 array of shape (R,).

        Raises:
            ScenarioRuntimeError: If any run gets NaN or an infinite value.
        """
        try:
            with np.errstate(all="ignore"):
                value = np.asarray(self._function(ctx, ctx.state, ctx.params, expect), dtype=float)
        except ArgumentError as exc:
            raise ScenarioRuntimeError(
                f"{self.location}: '{_excerpt(self.text)}': {exc.message} in run "
                f"{self._run(ctx, exc.index)} at round {ctx.round}"
            ) from None
        except (TypeError, ValueError, ArithmeticError, IndexError) as exc:
            # The checks at load time should make this impossible; if not, the author
            # still gets the expression's position rather than a traceback.
            why = str(exc).splitlines()[0] if str(exc) else ""
            raise ScenarioRuntimeError(
                f"{self.location}: '{_excerpt(self.text)}' cannot be computed at round "
                f"{ctx.round} ({type(exc).__name__}: {why})"
            ) from None
        if value.shape != (ctx.size,):
            if value.ndim == 0 and np.isfinite(value):
                return np.broadcast_to(value, (ctx.size,))
            value = np.broadcast_to(value, (ctx.size,))
        if not np.isfinite(value).all():
            bad = int(np.flatnonzero(~np.isfinite(value))[0])
            if np.isnan(value[bad]):
                what, causes = "NaN", "log or sqrt of a negative number, 0 / 0, or inf - inf?"
            else:
                what, causes = "an infinite value", "division by zero, log of 0, or overflow?"
            raise ScenarioRuntimeError(
                f"{self.location}: '{_excerpt(self.text)}' gave {what} in run "
                f"{int(ctx.runs[bad])} at round {ctx.round} ({causes})"
            )
        return value

    @staticmethod
    def _run(ctx: EvalContext, index: int) -> int:
        runs = np.asarray(ctx.runs)
        return int(runs[min(index, runs.size - 1)]) if runs.size else 0


def _excerpt(text: str, limit: int = 200) -> str:
    """An expression as quoted in a message: in full unless it is very long."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Checker:
    """Checks an expression's AST and turns it into Python source over numpy."""

    def __init__(
        self,
        text: str,
        location: Location,
        table: SymbolTable,
        site: str,
        target_categories: tuple[str, ...] | None,
    ):
        self.text = text
        self.location = location
        self.table = table
        self.site = site
        self.target_categories = target_categories
        self.problems: list[Problem] = []
        self.inlining: list[str] = []  # named expressions being inlined (for cycles)
        self.silent = False  # failed only for a named expression whose error is reported
        self.defines_used: set[str] = set()
        self.reads: set[str] = set()
        self.actors_read: set[str] = set()
        self.choices_read: set[str] = set()
        self.random_count = 0

    def fail(self, node: ast.AST, message: str) -> None:
        loc = self.location.at(node, self.text)
        self.problems.append(Problem(loc.file, loc.line, loc.col, message))

    # Each visit returns (python source, type) where type is "num", "bool" (a comparison
    # or logical result: numpy booleans, which must become floats before arithmetic),
    # "str:<value>", or a tuple of categories for a categorical value. None means an
    # error was recorded.
    def visit(self, node: ast.AST) -> tuple[str, Any] | None:
        for kind, message in _FORBIDDEN.items():
            if isinstance(node, kind):
                self.fail(node, message)
                return None
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            self.fail(node, f"'{type(node).__name__}' is not allowed in an expression")
            return None
        return method(node)

    def visit_Expression(self, node: ast.Expression) -> tuple[str, Any] | None:  # noqa: N802
        return self.visit(node.body)

    def visit_Constant(self, node: ast.Constant) -> tuple[str, Any] | None:  # noqa: N802
        value = node.value
        if isinstance(value, bool):
            return ("1.0" if value else "0.0"), "num"
        if isinstance(value, int | float):
            # An int is compared as an int: a huge one cannot become a float.
            infinite = isinstance(value, float) and not math.isfinite(value)
            if infinite or abs(value) > MAX_MAGNITUDE:
                shown = f"{value:g}" if isinstance(value, float) else _digits(value)
                self.fail(node, f"number {shown} is too large (at most {MAX_MAGNITUDE:g})")
                return None
            return repr(float(value)), "num"
        if isinstance(value, str):
            return repr(value), f"str:{value}"
        self.fail(node, f"constant {value!r} is not allowed")
        return None

    def visit_Name(self, node: ast.Name) -> tuple[str, Any] | None:  # noqa: N802
        name = node.id
        if name.startswith("__"):
            self.fail(node, f"dunder names such as '{name}' are not allowed")
            return None
        if name in FUNCTIONS:
            self.fail(node, f"'{name}' is a function: call it, e.g. {name}(...)")
            return None
        if name in self.table.defines and name not in self.table.symbols:
            return self._define(node, name)
        symbol = self.table.symbols.get(name)
        if symbol is None and name in self.table.withheld:
            # A name a value sits close to may be a typo for it ('nuclear_test' for the
            # variable 'nuclear_tests', also an action's id): say both (a trial).
            close = closest_name(name, [n for n in self.table.symbols if n != name])
            self.fail(
                node,
                self.table.withheld[name] + (f"; or did you mean '{close}'?" if close else ""),
            )
            return None
        if symbol is None:
            owners = [
                var
                for var, sym in self.table.symbols.items()
                if sym.categories is not None and name in sym.categories
            ]
            if owners:
                self.fail(
                    node,
                    f"unknown name '{name}': a value of '{owners[0]}' is written in quotes, "
                    f"e.g. {owners[0]} == '{name}'",
                )
                return None
            known = [*self.table.symbols, *self.table.defines]
            hint = suggest(name, known)
            if not hint:
                # Nothing close: say what an expression can read, and where to see them.
                hint = (
                    ": an expression reads parameters, state variables and named "
                    f"expressions (`wargame doc {self.location.file}` lists them)"
                )
            self.fail(node, f"unknown name '{name}'" + hint)
            return None
        if symbol.kind != "round":
            self.reads.add(name)
        source = {"param": f"P[{symbol.index}]", "state": f"S[{symbol.index}]"}.get(
            symbol.kind, "c.round"
        )
        if symbol.categories is not None:
            return source, symbol.categories
        return source, "num"

    def _define(self, node: ast.AST, name: str) -> tuple[str, Any] | None:
        """Inline a named expression where it is used (its own errors are reported once)."""
        if name in self.inlining:
            chain = " -> ".join([*self.inlining[self.inlining.index(name) :], name])
            self.fail(node, f"named expression '{name}' refers to itself ({chain})")
            return None
        if name in self.table.broken:
            self.silent = True  # its own error is reported once, at its definition
            return None
        self.defines_used.add(name)
        text, location = self.table.defines[name]
        try:
            tree = ast.parse(_as_one_expression(text), mode="eval")
        except SyntaxError:
            self.fail(node, f"'{name}' cannot be used: its definition has an error")
            return None
        saved = (self.text, self.location)
        self.text, self.location = _as_one_expression(text), location
        self.inlining.append(name)
        try:
            result = self.visit(tree.body)
        finally:
            self.inlining.pop()
            self.text, self.location = saved
        if result is None:
            return None
        source, kind = result
        return f"({source})", kind

    def _number(self, node: ast.AST, arithmetic: bool = False) -> str | None:
        """The source of a numeric operand; a boolean one as 0/1 floats for arithmetic.

        numpy refuses ``-`` on booleans and adds them as a logical or (True + True is
        True), so ``(round > 1) - (summit == 'collapse')`` converts both sides first.
        """
        result = self.visit(node)
        if result is None:
            return None
        source, kind = result
        if kind == "bool":
            return f"_float({source})" if arithmetic else source
        if kind == "num":
            return source
        if isinstance(kind, tuple):
            self.fail(
                node,
                "a categorical value can only be compared with == or != to one of its "
                f"values {list(kind)}",
            )
        else:
            self.fail(node, "a string can only be compared with a categorical variable")
        return None

    def visit_BinOp(self, node: ast.BinOp) -> tuple[str, Any] | None:  # noqa: N802
        op = _BINOPS.get(type(node.op))
        left, right = self._number(node.left, True), self._number(node.right, True)
        if op is None:
            self.fail(node, f"operator '{type(node.op).__name__}' is not allowed")
            return None
        if left is None or right is None:
            return None
        if op in ("/", "//", "%") and _constant_value(right) == 0.0:
            self.fail(node.right, "division by zero")
            return None
        if op == "//":
            return f"_floordiv({left}, {right})", "num"
        if op == "%":
            return f"_mod({left}, {right})", "num"
        if op == "**":
            return f"_pow({left}, {right})", "num"
        return f"({left} {op} {right})", "num"

    def visit_UnaryOp(self, node: ast.UnaryOp) -> tuple[str, Any] | None:  # noqa: N802
        operand = self._number(node.operand, not isinstance(node.op, ast.Not))
        if operand is None:
            return None
        if isinstance(node.op, ast.Not):
            return f"_not({operand})", "bool"
        if isinstance(node.op, ast.USub):
            return f"(-{operand})", "num"
        if isinstance(node.op, ast.UAdd):
            return operand, "num"
        self.fail(node, f"operator '{type(node.op).__name__}' is not allowed")
        return None

    def visit_BoolOp(self, node: ast.BoolOp) -> tuple[str, Any] | None:  # noqa: N802
        parts = [self._number(v) for v in node.values]
        if any(p is None for p in parts):
            return None
        helper = "_and" if isinstance(node.op, ast.And) else "_or"
        return f"{helper}({', '.join(parts)})", "bool"  # type: ignore[arg-type]

    def visit_IfExp(self, node: ast.IfExp) -> tuple[str, Any] | None:  # noqa: N802
        test = self._number(node.test)
        body, orelse = self._value(node.body), self._value(node.orelse)
        if test is None or body is None or orelse is None:
            return None
        return f"_where({test}, {body}, {orelse})", "num"

    def _value(self, node: ast.AST) -> str | None:
        """A number, or a category name when the target is categorical."""
        if (
            self.target_categories is not None
            and isinstance(node, ast.Constant)
            and isinstance(node.value, str)
        ):
            return self._category_code(node, node.value, self.target_categories)
        return self._number(node)

    def _category_code(self, node: ast.AST, value: str, categories: tuple[str, ...]) -> str | None:
        if value not in categories:
            self.fail(
                node,
                f"'{value}' is not one of the values {list(categories)}"
                + suggest(value, categories),
            )
            return None
        return repr(float(categories.index(value)))

    def visit_Compare(self, node: ast.Compare) -> tuple[str, Any] | None:  # noqa: N802
        operands = [node.left, *node.comparators]
        results = [self.visit(o) for o in operands]
        if any(r is None for r in results):
            return None
        parts = []
        for i, op_node in enumerate(node.ops):
            op = _CMPOPS.get(type(op_node))
            if op is None:
                self.fail(node, f"comparison '{type(op_node).__name__}' is not allowed")
                return None
            (a_src, a_kind), (b_src, b_kind) = results[i], results[i + 1]  # type: ignore[misc]
            if a_kind in _NUMERIC and b_kind in _NUMERIC:
                parts.append(f"({a_src} {op} {b_src})")
                continue
            if op not in ("==", "!="):
                self.fail(node, f"'{op}' cannot compare categorical values; use == or !=")
                return None
            if isinstance(a_kind, str) and a_kind.startswith("str:"):
                (a_src, a_kind, _), (b_src, b_kind, b_node) = (
                    (b_src, b_kind, operands[i + 1]),
                    (a_src, a_kind, operands[i]),
                )
            else:
                b_node = operands[i + 1]
            if not isinstance(a_kind, tuple):
                self.fail(node, "a string can only be compared with a categorical variable")
                return None
            if isinstance(b_kind, str) and b_kind.startswith("str:"):
                code = self._category_code(b_node, b_kind[4:], a_kind)
                if code is None:
                    return None
                parts.append(f"({a_src} {op} {code})")
            elif b_kind == a_kind:
                parts.append(f"({a_src} {op} {b_src})")
            else:
                self.fail(node, "only a categorical variable's own values can be compared to it")
                return None
        return (parts[0] if len(parts) == 1 else f"_and({', '.join(parts)})"), "bool"

    def visit_Call(self, node: ast.Call) -> tuple[str, Any] | None:  # noqa: N802
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, tuple(_FORBIDDEN)):
                return self.visit(node.func)  # say what is wrong: a lambda, a.b, ...
            self.fail(node, "only the built-in functions can be called")
            return None
        name = node.func.id
        if name.startswith("__"):
            self.fail(node, f"dunder names such as '{name}' are not allowed")
            return None
        spec = FUNCTIONS.get(name)
        if spec is None:
            self.fail(node, f"unknown function '{name}'" + suggest(name, FUNCTIONS))
            return None
        if node.keywords:
            self.fail(node, f"{name}() takes no keyword arguments")
            return None
        low, high, _ = spec
        count = len(node.args)
        if count < low or (high is not None and count > high):
            wanted = f"{low}" if low == high else f"at least {low}"
            self.fail(node, f"{name}() takes {wanted} arguments, got {count}")
            return None
        if name in HISTORY_FUNCTIONS:
            return self._history(node, name)
        args = [self._number(a, True) for a in node.args]
        if any(a is None for a in args):
            return None
        wrong = _literal_argument_problem(name, [_constant_value(a) for a in args])  # type: ignore[arg-type]
        if wrong is not None:
            self.fail(node, wrong)
            return None
        joined = ", ".join(args)  # type: ignore[arg-type]
        if name in RANDOM_FUNCTIONS:
            key = site_key(f"{self.site}#{self.random_count}")
            self.random_count += 1
            return f"_{name}(c, E, {key}, {joined})", "num"
        argument = _constant_value(args[0]) if name in ("log", "sqrt") else None  # type: ignore[arg-type]
        if argument is not None and (argument < 0 or (name == "log" and argument == 0)):
            self.fail(node, f"{name} of a number that is not positive")
            return None
        return f"_{name}({joined})", "num"

    def _history(self, node: ast.Call, name: str) -> tuple[str, Any] | None:
        actor_node, action_node = node.args
        if not (isinstance(actor_node, ast.Constant) and isinstance(actor_node.value, str)):
            self.fail(actor_node, f"{name}() needs the actor's id as a string, e.g. 'US'")
            return None
        if not (isinstance(action_node, ast.Constant) and isinstance(action_node.value, str)):
            self.fail(action_node, f"{name}() needs the action's id as a string")
            return None
        actor, action = actor_node.value, action_node.value
        actors = list(self.table.actions)
        if actor not in self.table.actions:
            names = {a: self.table.actor_names.get(a, "") for a in actors}
            self.fail(actor_node, unknown_actor(actor, names))
            return None
        actions = self.table.actions[actor]
        if action not in actions:
            owners = [other for other, theirs in self.table.actions.items() if action in theirs]
            hint = (
                f" (it is an action of {' and '.join(owners)}: did you mean "
                f"{name}('{owners[0]}', '{action}')?)"
                if owners
                else suggest(action, actions)
            )
            self.fail(action_node, f"actor '{actor}' has no action '{action}'" + hint)
            return None
        a, x = actors.index(actor), actions.index(action)
        if name == "chose":
            self.choices_read.add(actor)
            return f"c.chose[{a}, {x}]", "num"
        self.actors_read.add(actor)
        if name == "times":
            return f"c.times[{a}, {x}]", "num"
        return f"c.last[{a}, {x}]", "num"


_NUMERIC = ("num", "bool")


def _digits(value: int) -> str:
    """A whole number as quoted in a message (a huge one by its number of digits)."""
    text = str(abs(value)) if value.bit_length() < 4000 else ""
    return text if 0 < len(text) <= 24 else "with more than 24 digits"


def _literal_argument_problem(name: str, constants: list[float | None]) -> str | None:
    """Why literal arguments are outside a function's domain (None if they are not).

    Computed arguments are checked while playing (:class:`ArgumentError`).
    """

    def both(i: int, j: int) -> bool:
        return constants[i] is not None and constants[j] is not None

    if name == "bernoulli" and constants[0] is not None and not 0 <= constants[0] <= 1:
        return f"bernoulli(p) needs 0 <= p <= 1, got p = {constants[0]:g}"
    if name == "normal" and constants[1] is not None and constants[1] < 0:
        return f"normal(mean, sd) needs sd >= 0, got sd = {constants[1]:g}"
    if name in ("uniform", "clip"):
        low, high = (0, 1) if name == "uniform" else (1, 2)
        if both(low, high) and constants[low] > constants[high]:  # type: ignore[operator]
            signature = "uniform(low, high)" if name == "uniform" else "clip(x, low, high)"
            return (
                f"{signature} needs low <= high, got low = {constants[low]:g}, "
                f"high = {constants[high]:g}"
            )
    return None


def _constant_value(source: str) -> float | None:
    """The value of generated source that reads no state, parameter or context, else None."""
    if any(token in source for token in ("S[", "P[", "c.", "c,")):
        return None
    try:
        with np.errstate(all="ignore"):
            value = eval(source, {"__builtins__": {}, **_HELPERS})
        return float(value)
    except (ArithmeticError, TypeError, ValueError):
        return None


_TOO_DEEP = "expression is too long or nested too deeply; split it up"
#: Longest expression, in characters (the longest in scenarios/alaska.yaml has about
#: 600): checked before parsing, which would take seconds and gigabytes on megabytes.
MAX_EXPRESSION_CHARS = 10_000
#: A whole number written with more significant digits than this exceeds 1e12.
_LONG_NUMBER = re.compile(r"(?<![\w.])\d[\d_]*")


def _located(location: Location, text: str, index: int, message: str) -> Problem:
    """A problem at character ``index`` of an expression's (stripped) text."""
    lineno = text.count("\n", 0, index) + 1
    line_start = text.rfind("\n", 0, index) + 1
    offset = len(text[line_start:index].encode("utf-8"))
    loc = location.at(ast.Constant(0, lineno=lineno, col_offset=offset), text)
    return Problem(loc.file, loc.line, loc.col, message)


def _text_problem(text: str, location: Location) -> Problem | None:
    """Problems found in the text before parsing: too long, a number far too large."""
    if len(text) > MAX_EXPRESSION_CHARS:
        return Problem(
            location.file,
            location.line,
            location.col,
            f"expression has {len(text):,} characters; at most {MAX_EXPRESSION_CHARS:,} "
            "(split it into metrics or state variables)",
        )
    for match in _LONG_NUMBER.finditer(text):
        digits = match.group().replace("_", "").lstrip("0")
        if len(digits) > len(str(int(MAX_MAGNITUDE))):
            shown = digits if len(digits) <= 24 else f"with {len(digits):,} digits"
            return _located(
                location,
                text,
                match.start(),
                f"number {shown} is too large (at most {MAX_MAGNITUDE:g})",
            )
    return None


def _as_one_expression(text: str) -> str:
    """The expression's text with line breaks that YAML kept (``|`` blocks) made spaces.

    Python would read a bare line break as the end of the expression; an author who
    writes a formula over several lines means one expression. The character count is
    unchanged, so positions map back to the file exactly.
    """
    return text.strip().replace("\r\n", "  ").replace("\n", " ").replace("\r", " ")


def compile_expression(
    text: Any,
    location: Location,
    table: SymbolTable,
    *,
    site: str,
    target_categories: tuple[str, ...] | None = None,
) -> tuple[Expression | None, list[Problem]]:
    """Check and compile one expression.

    Args:
        text: The expression (a string, or a number written directly in YAML).
        location: Where the expression text starts in the file.
        table: The names it may use.
        site: A stable name for where it stands (keys its random streams).
        target_categories: Values allowed as strings when the expression sets a
            categorical variable.

    Returns:
        The compiled expression (or ``None``) and the problems found.
    """
    if isinstance(text, bool) or text is None:
        return None, [Problem(location.file, location.line, location.col, "expected an expression")]
    if isinstance(text, int | float):
        text = repr(text)
    if not text.strip():
        return None, [Problem(location.file, location.line, location.col, "empty expression")]
    text = _as_one_expression(text)
    found = _text_problem(text, location)
    if found is not None:
        return None, [found]
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        line = exc.lineno or 1
        # Python reports offset 0 when the text ends too early: point at its end.
        col = exc.offset - 1 if exc.offset and exc.offset > 0 else len(text.strip())
        loc = location.at(ast.Constant(0, lineno=line, col_offset=col), text.strip())
        message = f"syntax error in expression: {exc.msg}"
        if re.search(r"(?<![=<>!])=(?!=)", text):
            message += " (compare with ==; a single = only starts an effect)"
        return None, [Problem(loc.file, loc.line, loc.col, message)]
    except (RecursionError, MemoryError):
        return None, [Problem(location.file, location.line, location.col, _TOO_DEEP)]
    except ValueError:  # a NUL character (Python 3.11 raises ValueError, not SyntaxError)
        message = "syntax error in expression: it contains a NUL character"
        return None, [Problem(location.file, location.line, location.col, message)]
    checker = _Checker(text.strip(), location, table, site, target_categories)
    try:
        result = checker.visit(tree)
    except RecursionError:
        return None, [Problem(location.file, location.line, location.col, _TOO_DEEP)]
    if result is None or checker.problems:
        if not checker.problems and checker.silent:
            return None, []
        return None, checker.problems or [
            Problem(location.file, location.line, location.col, "invalid expression")
        ]
    source, kind = result
    here = Problem(location.file, location.line, location.col, "")
    if target_categories is None and kind not in _NUMERIC:
        message = (
            "a categorical value is not a number; compare it with == or !="
            if isinstance(kind, tuple)
            else "a string is not a value here; did you mean a comparison?"
        )
        return None, [Problem(here.file, here.line, here.col, message)]
    if target_categories is not None:
        if isinstance(kind, str) and kind.startswith("str:"):
            code = checker._category_code(tree.body, kind[4:], target_categories)
            if code is None:
                return None, checker.problems
            source = code
        elif kind != target_categories and not isinstance(tree.body, ast.IfExp):
            message = f"set a categorical variable to one of {list(target_categories)}, quoted"
            return None, [Problem(here.file, here.line, here.col, message)]
    try:
        code = compile(f"lambda c, S, P, E: {source}", str(location), "eval")
    except (RecursionError, MemoryError, SyntaxError):
        return None, [Problem(location.file, location.line, location.col, _TOO_DEEP)]
    function = eval(code, {"__builtins__": {}, **_HELPERS})
    constant = None
    reads_history = checker.actors_read or checker.choices_read
    if not (checker.reads or checker.random_count or reads_history or "c.round" in source):
        with np.errstate(all="ignore"):
            value = np.asarray(function(None, [], [], True), dtype=float)
        if not np.isfinite(value).all():
            message = f"'{text}' evaluates to {float(value)} (division by zero or overflow)"
            return None, [Problem(location.file, location.line, location.col, message)]
        constant = float(value)
    expression = Expression(
        text.strip(),
        location,
        function,
        frozenset(checker.reads),
        frozenset(checker.actors_read),
        checker.random_count > 0,
        constant,
        frozenset(checker.choices_read),
        frozenset(checker.defines_used),
    )
    return expression, []

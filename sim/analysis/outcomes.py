"""The outcomes ``wargame explain`` explains: endings, branch outcomes, or any condition.

An *outcome* is 0 or 1 per run. By default they are the scenario's endings and each
outcome of each branch; ``--outcome`` takes any condition on a run's recorded values,
written like a scenario expression:

    metric.ru_manpower_gap_k > 150               the metric's final value
    metric.ru_manpower_gap_k[6] > 150            its value at the end of round 6
    metric.ru_manpower_gap_k[any] > 150          above 150 at the end of some round
    metric.tension[all] < 8                      below 8 at the end of every round
    payoff.US < 0 and branch.summit == 'collapse'
    ending != 'muddling_through'

Names are runs.parquet's columns (``metric.*``, ``payoff.*``, ``param.*``,
``branch.*``, ``ending``, ``rounds_played``, ``commitment.*``); a subscript reads the
metric per round from rounds.parquet. ``and``, ``or``, ``not``, comparisons (also
chained) and numbers or quoted names are allowed, nothing else.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import OptionsError

_COMPARE = {
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
}


@dataclass(frozen=True)
class _Column:
    """A column reference: runs.parquet's ``name``, or a metric per round."""

    name: str
    per_round: str | int | None = None  # None, a round number, "any" or "all"


class Condition:
    """A parsed ``--outcome`` condition.

    Args:
        text: The condition as written.

    Raises:
        OptionsError: For anything but the allowed forms.
    """

    def __init__(self, text: str):
        self.text = text.strip()
        try:
            tree = ast.parse(self.text, mode="eval")
        except SyntaxError as exc:
            raise OptionsError(f"--outcome: not a condition ({exc.msg}): {self.text}") from None
        self._tree = tree.body
        self.columns: list[_Column] = []
        # (column, quoted name) for each comparison of a column with a quoted name.
        self._named: list[tuple[_Column, str]] = []
        self._check(self._tree)
        if not any(True for _ in self.columns):
            raise OptionsError(f"--outcome: names no recorded value: {self.text}")

    # --- checking ---------------------------------------------------------------------

    def _check(self, node: ast.AST) -> None:
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                self._check(value)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self._check(node.operand)
        elif isinstance(node, ast.Compare):
            if not all(type(op) in _COMPARE for op in node.ops):
                raise OptionsError(f"--outcome: only <, <=, >, >=, ==, != compare: {self.text}")
            operands = [node.left, *node.comparators]
            columns = [self._operand(operand) for operand in operands]
            rounds = {c.per_round for c in columns if c is not None} & {"any", "all"}
            for i in range(len(operands) - 1):
                for column, other in ((columns[i], operands[i + 1]), (columns[i + 1], operands[i])):
                    quoted = isinstance(other, ast.Constant) and isinstance(other.value, str)
                    if column is not None and quoted:
                        self._named.append((column, other.value))
            if len(rounds) > 1:
                raise OptionsError(f"--outcome: [any] and [all] in one comparison: {self.text}")
        else:
            raise OptionsError(
                f"--outcome: a condition is comparisons joined by and/or: {self.text}"
            )

    def _operand(self, node: ast.AST) -> _Column | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str):
            return None
        if _negative_number(node):
            return None
        per_round: str | int | None = None
        if isinstance(node, ast.Subscript):
            index = node.slice
            if isinstance(index, ast.Constant) and isinstance(index.value, int):
                per_round = int(index.value)
            elif isinstance(index, ast.Name) and index.id in ("any", "all"):
                per_round = index.id
            else:
                raise OptionsError(
                    f"--outcome: a metric's round is a number, [any] or [all]: {self.text}"
                )
            node = node.value
        name = _dotted(node)
        if name is None:
            raise OptionsError(
                f"--outcome: compare recorded values (e.g. metric.x) with numbers or "
                f"quoted names: {self.text}"
            )
        if per_round is not None and not name.startswith("metric."):
            raise OptionsError(f"--outcome: only metrics are recorded per round: {name}")
        column = _Column(name, per_round)
        self.columns.append(column)
        return column

    # --- what it needs ----------------------------------------------------------------

    def runs_columns(self) -> list[str]:
        """runs.parquet columns the condition reads."""
        return sorted({c.name for c in self.columns if c.per_round is None})

    def rounds_columns(self) -> list[str]:
        """rounds.parquet metric columns the condition reads."""
        return sorted({c.name for c in self.columns if c.per_round is not None})

    def check_against(self, runs_names: list[str], rounds: int) -> None:
        """Check the names and rounds against a batch.

        Raises:
            OptionsError: For an unknown column (with the nearest names) or round.
        """
        from sim.language.schema import suggest

        for column in self.columns:
            if column.name not in runs_names:
                hint = suggest(column.name, runs_names)
                raise OptionsError(f"--outcome: no recorded value '{column.name}'{hint}")
            if isinstance(column.per_round, int) and not 0 <= column.per_round <= rounds:
                raise OptionsError(
                    f"--outcome: {column.name}[{column.per_round}]: rounds are 0 to {rounds}"
                )

    def check_values(self, layout: dict[str, Any]) -> None:
        """Check every quoted name against the values its column can take in a batch.

        A misspelt outcome (``branch.summit == 'sucess'``) would otherwise hold in no
        run and read as an outcome that never happens.

        Args:
            layout: The batch's layout (its branches' outcomes and its endings).

        Raises:
            OptionsError: For a name the column never holds (with the nearest ones),
                or a name compared with a number.
        """
        from sim.language.schema import suggest

        known: dict[str, list[str]] = {
            "ending": [e["id"] for e in layout.get("endings") or []],
        }
        for branch in layout.get("branches") or []:
            known[f"branch.{branch['id']}"] = list(branch.get("outcomes") or [])
        for column, value in self._named:
            if column.name in known:
                allowed = known[column.name]
                if value not in allowed and not (value == "" and column.name != "ending"):
                    values = ", ".join(
                        [*allowed, *(["'' (not reached)"] if column.name != "ending" else [])]
                    )
                    raise OptionsError(
                        f"--outcome: {column.name} is never '{value}'"
                        f"{suggest(value, allowed)}; its values: {values}"
                    )
            elif column.name.startswith(("metric.", "payoff.", "param.", "commitment.")) or (
                column.name in ("rounds_played", "unconverged_rounds")
            ):
                raise OptionsError(
                    f"--outcome: {column.name} is a number, compared with the name '{value}'"
                )

    # --- evaluation -------------------------------------------------------------------

    def evaluate(self, runs: pd.DataFrame, rounds: pd.DataFrame | None = None) -> np.ndarray:
        """The condition per run (rows of ``runs``), as booleans.

        Args:
            runs: Rows of runs.parquet with ``run`` and the columns read.
            rounds: Rows of rounds.parquet for the same runs, if a metric is read per
                round.
        """
        self._runs = runs
        self._per_round = _per_round(runs["run"].to_numpy(), rounds, self.rounds_columns())
        try:
            return np.asarray(self._value(self._tree), dtype=bool)
        finally:
            del self._runs, self._per_round

    def _value(self, node: ast.AST) -> np.ndarray:
        if isinstance(node, ast.BoolOp):
            values = [self._value(v) for v in node.values]
            combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            result = values[0]
            for value in values[1:]:
                result = combine(result, value)
            return result
        if isinstance(node, ast.UnaryOp):
            return np.logical_not(self._value(node.operand))
        assert isinstance(node, ast.Compare)
        operands = [node.left, *node.comparators]
        reduce = None
        values = []
        for operand in operands:
            value, how = self._operand_value(operand)
            reduce = reduce or how
            values.append(value)
        result = None
        for op, left, right in zip(node.ops, values, values[1:], strict=False):
            try:
                step = _COMPARE[type(op)](left, right)
            except TypeError:
                raise OptionsError(
                    f"--outcome: cannot compare {ast.unparse(node)} (a name with a number?)"
                ) from None
            result = step if result is None else np.logical_and(result, step)
        assert result is not None
        if reduce == "any":
            return np.asarray(result).any(axis=1)
        if reduce == "all":
            return np.asarray(result).all(axis=1)
        return np.asarray(result)

    def _operand_value(self, node: ast.AST) -> tuple[Any, str | None]:
        if isinstance(node, ast.Constant):
            return node.value, None
        if isinstance(node, ast.UnaryOp):
            return -node.operand.value, None  # type: ignore[attr-defined]
        if isinstance(node, ast.Subscript):
            name = _dotted(node.value)
            table = self._per_round[name]
            index = node.slice
            if isinstance(index, ast.Constant):
                return table[:, int(index.value)], None
            assert isinstance(index, ast.Name)
            # Rounds 1..T (round 0 is the start, before anyone moved).
            return table[:, 1:], index.id
        name = _dotted(node)
        column = self._runs[name]
        if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
            return column.astype(str).to_numpy(), None
        return column.to_numpy(dtype=float), None


def _negative_number(node: ast.AST) -> bool:
    """Whether a node is a negative number literal such as ``-3``."""
    return (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float)
    )


def _dotted(node: ast.AST) -> str | None:
    """``metric.x`` from an attribute chain (``None`` for anything else)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _per_round(
    runs: np.ndarray, rounds: pd.DataFrame | None, columns: list[str]
) -> dict[str, np.ndarray]:
    """Metric -> (runs, rounds + 1) table of its value at the end of each round."""
    if not columns:
        return {}
    if rounds is None:
        raise OptionsError("--outcome reads a metric per round, but the batch kept no rounds")
    ordered = rounds.sort_values(["run", "round"], kind="stable")
    count = int(ordered["round"].max()) + 1
    played = ordered["run"].to_numpy()[::count]
    position = np.searchsorted(played, runs)
    return {
        c: ordered[c].to_numpy(dtype=float).reshape(len(played), count)[position] for c in columns
    }


def file_id(text: str) -> str:
    """A file-name-safe id for an outcome condition."""
    return "outcome_" + re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:60]


def outcome_targets(
    frame: pd.DataFrame,
    layout: dict[str, Any],
    ending: str | None = None,
    branch: str | None = None,
    condition: Condition | None = None,
    rounds: pd.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """The outcomes to explain, each with its 0/1 array over ``frame``'s rows.

    Args:
        frame: Rows of runs.parquet (with the columns the outcomes read).
        layout: The manifest's layout.
        ending: Only this ending.
        branch: Only this branch's outcomes.
        condition: Only this condition (``--outcome``).
        rounds: rounds.parquet rows, if the condition reads a metric per round.

    Raises:
        OptionsError: For an unknown ending or branch.
    """
    from sim.language.schema import suggest

    endings = [e["id"] for e in layout["endings"]]
    branches = [b["id"] for b in layout["branches"]]
    if ending is not None and ending not in endings:
        raise OptionsError(f"--ending: no ending '{ending}'" + suggest(ending, endings))
    if branch is not None and branch not in branches:
        raise OptionsError(f"--branch: no branch '{branch}'" + suggest(branch, branches))
    targets: list[dict[str, Any]] = []
    if condition is not None:
        targets.append(
            {
                "kind": "condition",
                "id": condition.text,
                "title": condition.text,
                "file_id": file_id(condition.text),
                "outcome": condition.evaluate(frame, rounds),
            }
        )
    everything = ending is None and branch is None and condition is None
    if ending is not None or everything:
        for e in layout["endings"]:
            if ending is None or e["id"] == ending:
                targets.append(
                    {
                        "kind": "ending",
                        "id": e["id"],
                        "title": e.get("title") or e["id"],
                        "file_id": e["id"],
                        "outcome": (frame["ending"] == e["id"]).to_numpy(),
                    }
                )
    if branch is not None or everything:
        for b in layout["branches"]:
            if branch is not None and b["id"] != branch:
                continue
            column = frame[f"branch.{b['id']}"]
            for outcome in b["outcomes"]:
                targets.append(
                    {
                        "kind": "branch",
                        "id": f"{b['id']}={outcome}",
                        "title": f"{b['id']} = {outcome}",
                        "file_id": f"branch_{b['id']}_{outcome}",
                        "outcome": (column == outcome).to_numpy(),
                        # Moves after a branch of fixed round cannot have decided it,
                        # nor, in each run, moves after a branch resolved there.
                        "last_round": b.get("round"),
                        "resolved_round": _resolved_round(frame, b),
                    }
                )
    return targets


def _resolved_round(frame: pd.DataFrame, branch: dict[str, Any]) -> np.ndarray | None:
    """Per run, the round a branch without a fixed round resolved in (None: fixed or unknown).

    A run where the branch never resolved gets a round past any game's end: every move
    of that run may bear on it.
    """
    column = f"branch_round.{branch['id']}"
    if branch.get("round") is not None or column not in frame.columns:
        return None
    rounds = frame[column].to_numpy(dtype=np.int64)
    return np.where(rounds > 0, rounds, np.iinfo(np.int64).max)

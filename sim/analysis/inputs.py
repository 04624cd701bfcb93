"""What can explain an outcome: the batch's uncertain parameters and the actors' moves.

Two kinds of *inputs* stand next to each other in ``wargame explain``:

- **parameters** (the ``param.*`` columns of runs.parquet), drawn before the game: a
  numeric one is cut into equal-frequency bins for scoring and kept as numbers for
  PRIM's intervals; a categorical one is taken value by value;
- **decisions** (choices.parquet): what each actor chose in each round. For ranking,
  a decision is "ACTOR chose ACTION in round R" (1 or 0 per run); for PRIM, each
  (actor, round) is a categorical input whose values are the actions (and
  ``(none)`` where the actor had no open action or the run had stopped).

A decision is not an assumption: it is played inside the game, so it can be a cause
of the outcome or a consequence of what caused it (a move made after a branch has
decided the ending). The explanation says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: The value of a decision input where the actor chose nothing.
NO_CHOICE = "(none)"


def input_name(name: str) -> str:
    """An input's name for people: "RU's move in round 3" for PRIM's ``RU@3``.

    A parameter keeps its name.
    """
    if "@" not in name:
        return name
    actor, round_ = name.rsplit("@", 1)
    return f"{actor}'s move in round {round_}"


def bin_count(n: int) -> int:
    """Equal-frequency bins for a numeric parameter: about n^(1/3), between 4 and 16."""
    return int(min(16, max(4, round(n ** (1 / 3)))))


def bin_codes(values: np.ndarray, bins: int) -> tuple[np.ndarray, int]:
    """Integer codes of values cut into equal-frequency bins (few-valued: by value).

    Args:
        values: Numeric values per run.
        bins: Number of bins wanted.

    Returns:
        (codes per run, number of codes).
    """
    unique = np.unique(values)
    if len(unique) <= bins:
        return np.searchsorted(unique, values), len(unique)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))
    return np.searchsorted(edges, values, side="right"), len(edges) + 1


@dataclass
class Feature:
    """One input coded for scoring: a parameter, or one action of one actor in a round.

    Attributes:
        name: The input's id: the parameter's name, or ``ACTOR@ROUND=ACTION``.
        kind: ``parameter`` or ``decision``.
        codes: Level of each run, in 0..levels-1 (bins for a numeric parameter; 0/1 for
            a decision: whether the actor chose the action).
        levels: Number of levels.
        ordered: Whether the levels are ordered (numeric bins), so a trend means
            something.
        values: The numbers (numeric parameters only).
        labels: The value names (categorical parameters only).
        actor: The actor (decisions only).
        round: The round (decisions only).
        action: The action (decisions only).
        played: For a move, the runs where it counts (None: every run): those still
            playing in its round and, for a branch's outcome, where the branch had not
            resolved before it. A run that had already ended made no move, and a move
            after the branch resolved did not decide it: counting either as "not made"
            would tie the move to the outcome itself.
    """

    name: str
    kind: str
    codes: np.ndarray
    levels: int
    ordered: bool = False
    values: np.ndarray | None = None
    labels: tuple[str, ...] | None = None
    actor: str | None = None
    round: int | None = None
    action: str | None = None
    played: np.ndarray | None = None

    def describe(self) -> str:
        """The input in words: ``pressure`` or ``RU chose offensive in round 3``."""
        if self.kind == "decision":
            return f"{self.actor} chose {self.action} in round {self.round}"
        return self.name


@dataclass
class Inputs:
    """The inputs of an analysed set of runs.

    Attributes:
        n: Runs.
        names: Parameters that vary, in scenario order.
        constant: Parameters that do not vary (not analysed).
        numeric: Numeric parameter -> values per run.
        categorical: Categorical parameter -> (codes per run, labels).
        bins: Bins per numeric parameter.
        decisions: (actor, round) -> (codes per run, labels): each actor's move in each
            round where it varies; empty when the batch kept no choices.
        choices_kept: Whether the batch recorded choices at all.
    """

    n: int
    names: list[str] = field(default_factory=list)
    constant: list[str] = field(default_factory=list)
    numeric: dict[str, np.ndarray] = field(default_factory=dict)
    categorical: dict[str, tuple[np.ndarray, tuple[str, ...]]] = field(default_factory=dict)
    bins: int = 4
    decisions: dict[tuple[str, int], tuple[np.ndarray, tuple[str, ...]]] = field(
        default_factory=dict
    )
    choices_kept: bool = False

    def parameter_features(self) -> list[Feature]:
        """Every varying parameter as a feature for scoring."""
        features = []
        for name in self.names:
            if name in self.numeric:
                codes, k = bin_codes(self.numeric[name], self.bins)
                features.append(
                    Feature(name, "parameter", codes, k, ordered=True, values=self.numeric[name])
                )
            else:
                codes, labels = self.categorical[name]
                features.append(Feature(name, "parameter", codes, len(labels), labels=labels))
        return features

    def decision_features(
        self,
        outcome: np.ndarray,
        last_round: int | None = None,
        until: np.ndarray | None = None,
    ) -> list[Feature]:
        """Every (actor, round, action) that varies, as a 0/1 feature.

        Where an actor had only two moves in a round, "chose a" and "chose b" say the
        same thing: only the one after which the outcome is more common is kept.

        Args:
            outcome: The outcome per run (0/1), to choose between two complements.
            last_round: Only moves up to this round (a branch's outcome cannot follow
                from a move made after the branch resolved).
            until: Per run, the last round whose moves count (the round a branch
                resolved in that run); every round if None.
        """
        features = []
        y = np.asarray(outcome, dtype=float)
        for (actor, round_), (codes, labels) in self.decisions.items():
            if last_round is not None and round_ > last_round:
                continue
            # Runs that had ended before this round made no move in it, and in runs
            # where the branch had resolved the move came too late: the move is set
            # against the other moves of the runs where it counts, not against them.
            none = labels.index(NO_CHOICE) if NO_CHOICE in labels else -1
            played = codes != none
            if until is not None:
                played &= until >= round_
            playing = int(played.sum())
            counts = np.bincount(codes[played], minlength=len(labels))
            present = [c for c in range(len(labels)) if c != none and 0 < counts[c] < playing]
            if len(present) == 2 and counts[present].sum() == playing:
                rates = [y[played & (codes == c)].mean() for c in present]
                present = [present[int(np.argmax(rates))]]
            for c in present:
                features.append(
                    Feature(
                        f"{actor}@{round_}={labels[c]}",
                        "decision",
                        (codes == c).astype(np.int64),
                        2,
                        actor=actor,
                        round=round_,
                        action=labels[c],
                        played=None if playing == self.n else played,
                    )
                )
        return features

    def prim_inputs(
        self, decisions: bool, parameters: bool = True
    ) -> tuple[dict[str, np.ndarray], dict[str, tuple[np.ndarray, tuple[str, ...]]]]:
        """Numeric and categorical inputs for PRIM (decisions as ``ACTOR@ROUND``)."""
        numeric = dict(self.numeric) if parameters else {}
        categorical = dict(self.categorical) if parameters else {}
        if decisions:
            for (actor, round_), coded in self.decisions.items():
                categorical[f"{actor}@{round_}"] = coded
        return numeric, categorical


def read_inputs(
    frame: pd.DataFrame,
    layout: dict[str, Any],
    choices: pd.DataFrame | None = None,
) -> Inputs:
    """The inputs of some runs: their parameters, and the actors' moves if recorded.

    Args:
        frame: Rows of runs.parquet (with ``run`` and the ``param.*`` columns).
        layout: The manifest's layout (parameter values' order, actors' actions).
        choices: Rows of choices.parquet for the same runs (any order), or ``None``.

    Returns:
        The inputs, aligned with ``frame``'s rows.
    """
    declared = {p["id"]: p for p in layout.get("parameters", [])}
    inputs = Inputs(n=len(frame), bins=bin_count(len(frame)))
    for column in frame.columns:
        if not column.startswith("param."):
            continue
        name = column.removeprefix("param.")
        series = frame[column]
        if series.nunique(dropna=False) < 2:
            inputs.constant.append(name)
            continue
        inputs.names.append(name)
        if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            order = [str(v) for v in declared.get(name, {}).get("values", [])]
            seen = [str(v) for v in pd.unique(series)]
            labels = tuple([v for v in order if v in seen] + sorted(set(seen) - set(order)))
            lookup = {label: i for i, label in enumerate(labels)}
            codes = np.array([lookup[str(v)] for v in series], dtype=np.int64)
            inputs.categorical[name] = (codes, labels)
        else:
            inputs.numeric[name] = series.to_numpy(dtype=float)
    if choices is not None:
        inputs.choices_kept = True
        inputs.decisions = _decisions(frame["run"].to_numpy(), layout, choices)
    return inputs


def _decisions(
    runs: np.ndarray, layout: dict[str, Any], choices: pd.DataFrame
) -> dict[tuple[str, int], tuple[np.ndarray, tuple[str, ...]]]:
    """(actor, round) -> (codes per run, labels) for each move that varies."""
    if choices.empty:
        return {}
    ordered = choices.sort_values(["run", "round"], kind="stable")
    rounds = np.sort(ordered["round"].unique())
    played = ordered["run"].to_numpy()[:: len(rounds)]
    position = np.searchsorted(played, runs)
    found: dict[tuple[str, int], tuple[np.ndarray, tuple[str, ...]]] = {}
    for actor in layout["actors"]:
        column = f"choice.{actor['id']}"
        if column not in ordered.columns:
            continue
        table = ordered[column].to_numpy().astype(np.int64).reshape(len(played), len(rounds))
        table = table[position]
        labels = (*actor.get("actions", []), NO_CHOICE)
        none = len(labels) - 1
        for t, round_ in enumerate(rounds):
            codes = np.where(table[:, t] < 0, none, table[:, t])
            if np.all(codes == codes[0]):
                continue
            found[(actor["id"], int(round_))] = (codes, labels)
    return found

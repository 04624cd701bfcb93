"""Scenario discovery: a simple box of assumptions inside which an outcome is common.

An analyst asks "when does collapse happen?" and wants an answer a person can say aloud:
"collapse in 81% of runs where dprk_shell_share > 0.42 and us_flexibility < 0.3,
covering 63% of collapses". Such a rule is a *box*: an interval on some numeric
parameters and a set of values on some categorical ones. Two numbers grade it:

- **density**: the share of runs inside the box that have the outcome (precision);
- **coverage**: the share of all runs with the outcome that fall inside the box (recall).

PRIM (the Patient Rule Induction Method, Friedman and Fisher 1999) finds boxes by
*peeling*: starting from every run, it repeatedly cuts away a thin slice (``alpha`` of
the runs still inside) from the bottom or top of one numeric parameter, or one value of
a categorical one, choosing the cut that gains the most density per run removed, until
the box holds less than ``min_support`` of the runs. The boxes along the way trade
coverage for density; we pick the one with the highest weighted relative accuracy
(support × (density − base rate)) and then drop the restrictions that barely change the
density, so the rule names only the parameters that matter.

PRIM is written here by hand rather than taken from a library: EMA Workbench's PRIM
would bring scikit-learn, statsmodels, seaborn, platypus-opt and tqdm for about a
hundred lines of peeling, and the small ``PRIM`` package on PyPI is GPL-3 (this project
is MIT) and no longer maintained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.batch.summary import wilson_interval

#: Share of the runs inside the box cut away by one peel.
DEFAULT_ALPHA = 0.05
#: Peeling stops before the box holds less than this share of all runs.
DEFAULT_MIN_SUPPORT = 0.05
#: A rule names at most this many parameters.
MAX_RESTRICTIONS = 4


@dataclass(frozen=True)
class Restriction:
    """One limit of a box: an interval on a numeric parameter or a set of values.

    Attributes:
        parameter: The parameter's name.
        low: Inclusive lower bound (numeric; ``None`` when unbounded below).
        high: Inclusive upper bound (numeric; ``None`` when unbounded above).
        values: The values kept (categorical), in the parameter's order.
        excluded: The values cut away (categorical).
    """

    parameter: str
    low: float | None = None
    high: float | None = None
    values: tuple[str, ...] | None = None
    excluded: tuple[str, ...] = ()
    equals: float | None = None

    def text(self) -> str:
        """The restriction in words, e.g. ``pressure ≥ 0.7`` or ``mood is calm or tense``."""
        name = self.parameter
        if self.equals is not None:
            return f"{name} = {number_text(self.equals)}"
        if self.values is not None:
            if len(self.values) == 1:
                return f"{name} = {self.values[0]}"
            if len(self.excluded) == 1:
                return f"{name} ≠ {self.excluded[0]}"
            return f"{name} is {', '.join(self.values[:-1])} or {self.values[-1]}"
        if self.low is not None and self.high is not None:
            if self.low == self.high:
                return f"{name} = {number_text(self.low)}"
            return f"{number_text(self.low)} ≤ {name} ≤ {number_text(self.high)}"
        if self.low is not None:
            return f"{name} ≥ {number_text(self.low)}"
        return f"{name} ≤ {number_text(self.high)}"

    def as_json(self) -> dict[str, Any]:
        """The restriction as JSON-ready data."""
        data: dict[str, Any] = {"parameter": self.parameter, "text": self.text()}
        if self.values is not None:
            data["values"] = list(self.values)
            data["excluded"] = list(self.excluded)
        else:
            data["low"] = self.low
            data["high"] = self.high
        return data


def number_text(value: float | None) -> str:
    """A parameter value for people: 3 significant digits, whole numbers from 1,000 up."""
    if value is None:
        return ""
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


@dataclass(frozen=True)
class Box:
    """A box of parameter values and how well it captures the outcome.

    Attributes:
        restrictions: The limits, one per restricted parameter.
        density: Share of the runs in the box with the outcome.
        coverage: Share of the runs with the outcome that are in the box.
        support: Share of all runs in the box.
        runs: Runs in the box.
    """

    restrictions: tuple[Restriction, ...]
    density: float
    coverage: float
    support: float
    runs: int

    def as_json(self) -> dict[str, Any]:
        """The box as JSON-ready data."""
        return {
            "restrictions": [r.as_json() for r in self.restrictions],
            "density": self.density,
            "coverage": self.coverage,
            "support": self.support,
            "runs": self.runs,
        }


@dataclass
class Discovery:
    """What PRIM found for one outcome.

    Attributes:
        box: The chosen box after dropping restrictions that barely matter.
        peeled: The chosen box as peeled (before dropping).
        trajectory: Every box along the peeling, largest first.
        chosen: Index of the chosen box in ``trajectory``.
        base_density: Share of all runs with the outcome.
        dropped: Parameters whose restriction was dropped, with the density lost.
    """

    box: Box
    peeled: Box
    trajectory: list[Box]
    chosen: int
    base_density: float
    dropped: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The discovery as JSON-ready data (trajectory as coverage/density pairs)."""
        return {
            "box": self.box.as_json(),
            "peeled": self.peeled.as_json(),
            "chosen": self.chosen,
            "base_density": self.base_density,
            "dropped": self.dropped,
            "trajectory": [
                {
                    "coverage": b.coverage,
                    "density": b.density,
                    "support": b.support,
                    "restricted": len(b.restrictions),
                }
                for b in self.trajectory
            ],
        }


class _Peeler:
    """The state of one PRIM run: the data and the current box as per-feature limits."""

    def __init__(
        self,
        numeric: dict[str, np.ndarray],
        categorical: dict[str, tuple[np.ndarray, tuple[str, ...]]],
        outcome: np.ndarray,
    ):
        self.numeric = {k: np.asarray(v, dtype=float) for k, v in numeric.items()}
        self.categorical = categorical
        self.outcome = np.asarray(outcome, dtype=bool)
        self.n = len(self.outcome)
        self.hits = int(self.outcome.sum())
        self.integer = {k: bool(np.all(v == np.round(v))) for k, v in self.numeric.items()}
        # Two-valued parameters (yes/no) are stated as "= value", not as a bound.
        self.two_valued = {k: u for k, v in self.numeric.items() if len(u := np.unique(v)) == 2}
        # Current limits: numeric name -> [low, high] (None: open); categorical -> kept codes.
        self.limits: dict[str, list[float | None]] = {k: [None, None] for k in self.numeric}
        self.kept: dict[str, set[int]] = {
            k: set(np.unique(codes).tolist()) for k, (codes, _) in categorical.items()
        }
        self.all_codes = {k: set(v) for k, v in self.kept.items()}

    def mask(self, skip: str | None = None) -> np.ndarray:
        """Runs inside the current box (optionally ignoring one parameter's limit)."""
        inside = np.ones(self.n, dtype=bool)
        for name, (low, high) in self.limits.items():
            if name == skip:
                continue
            x = self.numeric[name]
            if low is not None:
                inside &= x >= low
            if high is not None:
                inside &= x <= high
        for name, kept in self.kept.items():
            if name == skip or kept == self.all_codes[name]:
                continue
            inside &= np.isin(self.categorical[name][0], list(kept))
        return inside

    def box(self, inside: np.ndarray) -> Box:
        """The current box and its scores."""
        runs = int(inside.sum())
        hits = int(self.outcome[inside].sum())
        restrictions = []
        for name, (low, high) in self.limits.items():
            if low is not None or high is not None:
                equals = None
                if name in self.two_valued:
                    levels = self.two_valued[name]
                    inside_levels = levels[
                        (levels >= (low if low is not None else -np.inf))
                        & (levels <= (high if high is not None else np.inf))
                    ]
                    equals = float(inside_levels[0]) if len(inside_levels) == 1 else None
                restrictions.append(Restriction(name, low, high, equals=equals))
        for name, kept in self.kept.items():
            if kept != self.all_codes[name]:
                labels = self.categorical[name][1]
                restrictions.append(
                    Restriction(
                        name,
                        values=tuple(labels[c] for c in sorted(kept)),
                        excluded=tuple(labels[c] for c in sorted(self.all_codes[name] - kept)),
                    )
                )
        return Box(
            tuple(restrictions),
            density=hits / runs if runs else 0.0,
            coverage=hits / self.hits if self.hits else 0.0,
            support=runs / self.n,
            runs=runs,
        )

    def candidates(self, inside: np.ndarray, alpha: float) -> list[tuple[str, Any, np.ndarray]]:
        """Every possible next peel: (parameter, new limit, runs it removes)."""
        found = []
        for name, x_all in self.numeric.items():
            x = x_all[inside]
            if len(x) < 2 or x.min() == x.max():
                continue
            low, high = self.limits[name]
            for side in ("low", "high"):
                if side == "low":
                    cut = np.quantile(x, alpha)
                    removed_here = x < cut
                    if not removed_here.any():
                        removed_here = x <= x.min()  # ties at the bottom: peel the lowest value
                    rest = x[~removed_here]
                    if len(rest) == 0:
                        continue
                    bound = self._bound(name, x[removed_here].max(), rest.min(), keep="above")
                    limit = ("low", bound)
                    removed = inside & (x_all < bound)
                else:
                    cut = np.quantile(x, 1 - alpha)
                    removed_here = x > cut
                    if not removed_here.any():
                        removed_here = x >= x.max()
                    rest = x[~removed_here]
                    if len(rest) == 0:
                        continue
                    bound = self._bound(name, rest.max(), x[removed_here].min(), keep="below")
                    limit = ("high", bound)
                    removed = inside & (x_all > bound)
                if low is not None and limit[0] == "low" and bound <= low:
                    continue
                if high is not None and limit[0] == "high" and bound >= high:
                    continue
                found.append((name, limit, removed))
        for name, kept in self.kept.items():
            if len(kept) < 2:
                continue
            codes = self.categorical[name][0]
            for code in sorted(kept):
                removed = inside & (codes == code)
                if removed.any() and (inside & ~removed).any():
                    found.append((name, ("drop", code), removed))
        return found

    def _bound(self, name: str, below: float, above: float, keep: str) -> float:
        """A cut between two data values: their midpoint, or the kept value for integers."""
        if self.integer[name]:
            return float(above if keep == "above" else below)
        return float((below + above) / 2)

    def apply(self, name: str, limit: tuple[str, Any]) -> None:
        """Narrow the box by one peel."""
        kind, value = limit
        if kind == "low":
            self.limits[name][0] = value
        elif kind == "high":
            self.limits[name][1] = value
        else:
            self.kept[name].discard(value)


def prim(
    numeric: dict[str, np.ndarray],
    categorical: dict[str, tuple[np.ndarray, tuple[str, ...]]],
    outcome: np.ndarray,
    *,
    alpha: float = DEFAULT_ALPHA,
    min_support: float = DEFAULT_MIN_SUPPORT,
    max_restrictions: int = MAX_RESTRICTIONS,
) -> Discovery:
    """Find a box of parameter values where ``outcome`` is common (PRIM peeling).

    The box reported is the one along the peeling trajectory with the highest weighted
    relative accuracy, support × (density − base rate). Then, greedily, a restriction is
    dropped while dropping it lowers the density by less than a tenth of the box's lift
    over the base rate (at least one percentage point), and at most
    ``max_restrictions`` are kept.

    Args:
        numeric: Numeric parameter name -> values per run.
        categorical: Categorical parameter name -> (integer codes per run, labels).
        outcome: True in the runs with the outcome.
        alpha: Share of the box's runs cut away by one peel.
        min_support: Peeling stops before the box holds less than this share of runs.
        max_restrictions: Most parameters a rule may name.

    Returns:
        The discovery (chosen box, peeling trajectory, base rate).
    """
    peeler = _Peeler(numeric, categorical, outcome)
    inside = peeler.mask()
    trajectory = [peeler.box(inside)]
    snapshots = [_snapshot(peeler)]
    base = trajectory[0].density
    min_runs = max(1, int(np.ceil(min_support * peeler.n)))
    while True:
        best = None
        before_runs = int(inside.sum())
        before = peeler.outcome[inside].sum() / before_runs
        for name, limit, removed in peeler.candidates(inside, alpha):
            rest = inside & ~removed
            runs = int(rest.sum())
            if runs < min_runs:
                continue
            density = peeler.outcome[rest].sum() / runs
            # Friedman and Fisher's criterion: density gained per run peeled away, so that
            # cutting half the box off for a yes/no parameter must earn ten times what a
            # 5% slice does. On a tie, the gentler peel (more runs left).
            key = ((density - before) / (before_runs - runs), runs)
            if best is None or key > best[0]:
                best = (key, name, limit, rest)
        if best is None:
            break
        _, name, limit, inside = best
        peeler.apply(name, limit)
        trajectory.append(peeler.box(inside))
        snapshots.append(_snapshot(peeler))
    chosen = _best_box(trajectory, base)
    _restore(peeler, snapshots[chosen])
    peeled = trajectory[chosen]
    dropped = _simplify(peeler, base, max_restrictions)
    box = peeler.box(peeler.mask())
    return Discovery(box, peeled, trajectory, chosen, base, dropped)


def _snapshot(peeler: _Peeler) -> tuple[dict[str, list[float | None]], dict[str, set[int]]]:
    return (
        {k: list(v) for k, v in peeler.limits.items()},
        {k: set(v) for k, v in peeler.kept.items()},
    )


def _restore(
    peeler: _Peeler, snapshot: tuple[dict[str, list[float | None]], dict[str, set[int]]]
) -> None:
    limits, kept = snapshot
    peeler.limits = {k: list(v) for k, v in limits.items()}
    peeler.kept = {k: set(v) for k, v in kept.items()}


def density_floor(box: Box) -> float:
    """Lower end of the 95% Wilson interval of a box's density."""
    return wilson_interval(round(box.density * box.runs), box.runs)[0]


def _best_box(trajectory: list[Box], base: float) -> int:
    """Index of the box with the highest weighted relative accuracy.

    WRAcc = support × (density − base rate), the standard quality measure of subgroup
    discovery: it rewards a box for being denser than the base rate *and* for holding
    many runs, so it stops where the outcome becomes concentrated (a threshold effect)
    and takes a balanced cut of a gradual one, while the small, noisy boxes at the end
    of the peeling score little.
    """
    scores = [b.support * (b.density - base) for b in trajectory]
    return int(np.argmax(scores))


def _simplify(peeler: _Peeler, base: float, max_restrictions: int) -> list[dict[str, Any]]:
    """Drop restrictions that barely change the density; return what was dropped."""
    dropped = []
    while True:
        inside = peeler.mask()
        current = peeler.box(inside)
        restricted = [r.parameter for r in current.restrictions]
        if not restricted:
            break
        losses = {}
        for name in restricted:
            without = peeler.mask(skip=name)
            runs = int(without.sum())
            losses[name] = current.density - (peeler.outcome[without].sum() / runs if runs else 0)
        name = min(losses, key=lambda k: (losses[k], k))
        tolerance = max(0.01, 0.1 * (current.density - base))
        if losses[name] >= tolerance and len(restricted) <= max_restrictions:
            break
        dropped.append({"parameter": name, "density_lost": float(losses[name])})
        if name in peeler.limits:
            peeler.limits[name] = [None, None]
        else:
            peeler.kept[name] = set(peeler.all_codes[name])
    return dropped

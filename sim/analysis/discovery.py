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
a categorical one, choosing the cut that gains the most density per run removed. As in
the EMA Workbench it stops when the best cut would leave the box with less than
``min_support`` of the runs, or would not raise its density. The boxes along the way
(the *peeling trajectory*) trade coverage for density; we pick the one with the highest
weighted relative accuracy (support × (density − base rate)), or the one asked for
(:meth:`Discovery.select`), and then test each of its limits.

**Which limits a rule keeps.** As in the EMA Workbench's ``inspect``, each limit of the
box (the lower and the upper bound of a numeric parameter separately; the values kept of
a categorical one) gets a *quasi-p-value*: the chance, if the limit did not matter, of
finding at least as many outcome runs in the box as it holds. With the limit removed the
box has density p0; the box holds n runs with h outcome runs; quasi-p =
P(Binomial(n, p0) >= h). A limit whose quasi-p is above ``max_quasi_p`` (5%) is
dropped, the weakest first, and the others are tested again (so "0.2 ≤ x ≤ 0.9" can
become "x ≥ 0.2"); a rule names at most ``max_restrictions`` parameters (beyond that the
parameter with the weakest limit goes, however significant). A small limit that is
clearly there stays, however little density it adds; a large one that chance could have
made goes. A restriction's ``quasi_p`` is that of its weaker limit.

**How stable a rule is.** :func:`resample_stability` runs the whole procedure again on
random halves of the runs (at most ``RESAMPLE_RUNS`` runs each) and counts how often
each parameter is restricted: a restriction kept in 9 of 10 halves is a finding, one
kept in 3 is a coincidence.

**What the first box leaves.** :func:`prim` also looks for a second box among the runs
outside the first (the covering approach of the Workbench's ``find_box``): where the
outcome happens for another reason.

PRIM is written here by hand rather than taken from a library: EMA Workbench's PRIM
would bring scikit-learn, statsmodels, seaborn, platypus-opt and tqdm for about a
hundred lines of peeling, and the small ``PRIM`` package on PyPI is GPL-3 (this project
is MIT) and no longer maintained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.analysis.pvalues import binomial_sf
from sim.batch.summary import wilson_interval

#: Share of the runs inside the box cut away by one peel.
DEFAULT_ALPHA = 0.05
#: Peeling stops before the box holds less than this share of all runs.
DEFAULT_MIN_SUPPORT = 0.05
#: A rule names at most this many parameters.
MAX_RESTRICTIONS = 4
#: A restriction is kept only if its quasi-p-value is at most this.
MAX_QUASI_P = 0.05
#: Random halves of the runs behind the stability of a rule.
RESAMPLES = 10
#: Most runs in one resample (a random half, at most this many).
RESAMPLE_RUNS = 20_000

#: One limit of a box: (numeric input, ``"low"`` or ``"high"``) or (categorical input, None).
Limit = tuple[str, str | None]


@dataclass(frozen=True)
class Restriction:
    """One limit of a box: an interval on a numeric parameter or a set of values.

    Attributes:
        parameter: The parameter's name.
        low: Inclusive lower bound (numeric; ``None`` when unbounded below).
        high: Inclusive upper bound (numeric; ``None`` when unbounded above).
        values: The values kept (categorical), in the parameter's order.
        excluded: The values cut away (categorical).
        equals: The one value left of a two-valued (yes/no) parameter.
        quasi_p: Quasi-p-value of the restriction: of its weaker limit when it has two.
        quasi_p_low: Quasi-p-value of the lower bound alone (numeric, when bounded below).
        quasi_p_high: Quasi-p-value of the upper bound alone (numeric, when bounded above).
    """

    parameter: str
    low: float | None = None
    high: float | None = None
    values: tuple[str, ...] | None = None
    excluded: tuple[str, ...] = ()
    equals: float | None = None
    quasi_p: float | None = None
    quasi_p_low: float | None = None
    quasi_p_high: float | None = None

    def text(self) -> str:
        """The restriction in words, e.g. ``pressure ≥ 0.7`` or ``mood is calm or tense``."""
        name = self.parameter
        if self.values is not None and "@" in name:
            # A decision input, ACTOR@ROUND: say what the actor did.
            actor, round_ = name.rsplit("@", 1)
            if len(self.values) == 1:
                return f"{actor} chose {self.values[0]} in round {round_}"
            if len(self.excluded) == 1:
                return f"{actor} did not choose {self.excluded[0]} in round {round_}"
            chosen = f"{', '.join(self.values[:-1])} or {self.values[-1]}"
            return f"{actor} chose {chosen} in round {round_}"
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
        if self.quasi_p is not None:
            data["quasi_p"] = self.quasi_p
        # Both limits of a two-sided restriction are tested, each on its own.
        if self.quasi_p_low is not None and self.quasi_p_high is not None:
            data["quasi_p_low"] = self.quasi_p_low
            data["quasi_p_high"] = self.quasi_p_high
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
        box: The chosen box after its restrictions were tested (quasi-p).
        peeled: The chosen box as peeled (before testing).
        trajectory: Every box along the peeling, largest first.
        chosen: Index of the chosen box in ``trajectory``.
        base_density: Share of all runs with the outcome.
        dropped: Limits dropped (``parameter``; ``side``: ``low``, ``high`` or ``None``
            for the whole restriction; ``text``; ``quasi_p``; ``density_lost``;
            ``reason``: ``quasi_p`` above the threshold, or ``max_restrictions``).
        second: A second box among the runs outside the first, if one was looked for.
        stability: Parameter -> share of resamples whose rule restricts it.
        resamples: How many resamples ``stability`` counts.
        max_restrictions: Most parameters a rule may name (as :func:`prim` was asked).
    """

    box: Box
    peeled: Box
    trajectory: list[Box]
    chosen: int
    base_density: float
    dropped: list[dict[str, Any]] = field(default_factory=list)
    second: Discovery | None = None
    stability: dict[str, float] = field(default_factory=dict)
    resamples: int = 0
    max_restrictions: int = MAX_RESTRICTIONS
    _data: Any = None

    def select(
        self,
        index: int,
        max_quasi_p: float = MAX_QUASI_P,
        max_restrictions: int | None = None,
    ) -> Discovery:
        """The same peeling with box ``index`` of the trajectory chosen instead.

        Its limits are tested as the chosen box's are (quasi-p, at most
        ``max_restrictions`` parameters, by default as :func:`prim` was asked); pass
        ``max_quasi_p=1`` and a ``max_restrictions`` as large as the box's to keep every
        restriction as peeled.

        Raises:
            IndexError: If there is no such box.
        """
        limit = self.max_restrictions if max_restrictions is None else max_restrictions
        if not 0 <= index < len(self.trajectory):
            raise IndexError(
                f"box {index}: the trajectory has boxes 0 to {len(self.trajectory) - 1}"
            )
        peeler, snapshots = self._data
        _restore(peeler, snapshots[index])
        dropped = _simplify(peeler, limit, max_quasi_p)
        return Discovery(
            _with_quasi_p(peeler),
            self.trajectory[index],
            self.trajectory,
            index,
            self.base_density,
            dropped,
            max_restrictions=limit,
            _data=self._data,
        )

    def inspect(self, index: int | None = None) -> list[dict[str, Any]]:
        """Each restriction of the chosen box with its quasi-p-value (``inspect``).

        A two-sided numeric restriction also has ``quasi_p_low`` and ``quasi_p_high``,
        the quasi-p-values of its two limits, as the Workbench's ``inspect`` shows them.

        Args:
            index: A box of the trajectory to inspect as peeled, instead.
        """
        if index is None:
            return [r.as_json() for r in self.box.restrictions]
        peeler, snapshots = self._data
        _restore(peeler, snapshots[index])
        return [r.as_json() for r in _with_quasi_p(peeler).restrictions]

    def as_json(self) -> dict[str, Any]:
        """The discovery as JSON-ready data (trajectory as coverage/density pairs)."""
        data: dict[str, Any] = {
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
        if self.resamples:
            data["stability"] = self.stability
            data["resamples"] = self.resamples
        if self.second is not None:
            data["second"] = {
                "box": self.second.box.as_json(),
                "base_density": self.second.base_density,
                "dropped": self.second.dropped,
            }
        return data


class _Peeler:
    """The data of one PRIM run and its current box as per-input limits."""

    def __init__(
        self,
        numeric: dict[str, np.ndarray],
        categorical: dict[str, tuple[np.ndarray, tuple[str, ...]]],
        outcome: np.ndarray,
    ):
        self.numeric = {k: np.asarray(v, dtype=float) for k, v in numeric.items()}
        # The same values as one (inputs, runs) matrix, sorted row by row once per
        # peeling (see _sorted_view).
        self.names = list(self.numeric)
        self.matrix = (
            np.stack([self.numeric[k] for k in self.names])
            if self.names
            else np.empty((0, len(outcome)))
        )
        self._view: tuple[np.ndarray, ...] | None = None
        self.categorical = categorical
        self.outcome = np.asarray(outcome, dtype=bool)
        self.n = len(self.outcome)
        self.hits = int(self.outcome.sum())
        self.integer = {k: bool(np.all(v == np.round(v))) for k, v in self.numeric.items()}
        self._integer_rows = np.array([self.integer[k] for k in self.names], dtype=bool)
        # Each input's runs in ascending order of its value: the first view of the
        # peeling (see _sorted_view), and how many values each input takes.
        index = np.int32 if self.n < 2**31 else np.int64
        self._order = np.argsort(self.matrix, axis=1).astype(index)
        self._ascending = np.take_along_axis(self.matrix, self._order, axis=1)
        steps = self._ascending[:, 1:] > self._ascending[:, :-1]
        levels = 1 + np.count_nonzero(steps, axis=1)
        # Inputs with a different value in every run (drawn from a continuous range).
        self._distinct_rows = np.flatnonzero(np.all(steps, axis=1))
        # Two-valued parameters (yes/no) are stated as "= value", not as a bound.
        self.two_valued = {
            name: self._ascending[row, [0, -1]]
            for row, name in enumerate(self.names)
            if levels[row] == 2
        }
        self._two_valued_rows = np.array(
            [row for row, name in enumerate(self.names) if name in self.two_valued], dtype=np.intp
        )
        # Current limits: numeric name -> [low, high] (None: open); categorical -> kept codes.
        self.limits: dict[str, list[float | None]] = {k: [None, None] for k in self.numeric}
        self.kept: dict[str, set[int]] = {
            k: set(np.unique(codes).tolist()) for k, (codes, _) in categorical.items()
        }
        self.all_codes = {k: set(v) for k, v in self.kept.items()}

    def restricted(self) -> list[str]:
        """The inputs the current box restricts."""
        names = [k for k, (low, high) in self.limits.items() if low is not None or high is not None]
        return names + [k for k, kept in self.kept.items() if kept != self.all_codes[k]]

    def restricted_limits(self) -> list[Limit]:
        """The current box's limits: (numeric input, ``low``/``high``) or (categorical, None)."""
        found: list[Limit] = []
        for name, (low, high) in self.limits.items():
            if low is not None:
                found.append((name, "low"))
            if high is not None:
                found.append((name, "high"))
        return found + [(k, None) for k, kept in self.kept.items() if kept != self.all_codes[k]]

    def release(self, name: str, side: str | None = None) -> None:
        """Remove the box's restriction on one input (or only its lower or upper bound)."""
        if name in self.limits:
            if side == "low":
                self.limits[name][0] = None
            elif side == "high":
                self.limits[name][1] = None
            else:
                self.limits[name] = [None, None]
        else:
            self.kept[name] = set(self.all_codes[name])

    def mask(self, skip: Limit | None = None) -> np.ndarray:
        """Runs inside the current box (optionally ignoring one of its limits)."""
        inside = np.ones(self.n, dtype=bool)
        for name, (low, high) in self.limits.items():
            x = self.numeric[name]
            if low is not None and skip != (name, "low"):
                inside &= x >= low
            if high is not None and skip != (name, "high"):
                inside &= x <= high
        for name, kept in self.kept.items():
            if skip == (name, None) or kept == self.all_codes[name]:
                continue
            inside &= np.isin(self.categorical[name][0], list(kept))
        return inside

    def _equals(self, name: str, low: float | None, high: float | None) -> float | None:
        """The one value left of a two-valued parameter between ``low`` and ``high``."""
        if name not in self.two_valued:
            return None
        levels = self.two_valued[name]
        inside_levels = levels[
            (levels >= (low if low is not None else -np.inf))
            & (levels <= (high if high is not None else np.inf))
        ]
        return float(inside_levels[0]) if len(inside_levels) == 1 else None

    def limit_text(self, name: str, side: str | None) -> str:
        """One limit in words, e.g. ``x ≤ 0.5`` (``side`` None: the input's whole restriction)."""
        if name in self.limits:
            low, high = self.limits[name]
            if side == "low":
                high = None
            elif side == "high":
                low = None
            return Restriction(name, low, high, equals=self._equals(name, low, high)).text()
        labels = self.categorical[name][1]
        kept = self.kept[name]
        return Restriction(
            name,
            values=tuple(labels[c] for c in sorted(kept)),
            excluded=tuple(labels[c] for c in sorted(self.all_codes[name] - kept)),
        ).text()

    def box(self, inside: np.ndarray, quasi_p: dict[Limit, float] | None = None) -> Box:
        """The current box and its scores (its limits' quasi-p-values, if given)."""
        runs = int(inside.sum())
        hits = int(self.outcome[inside].sum())
        quasi_p = quasi_p or {}
        restrictions = []
        for name, (low, high) in self.limits.items():
            if low is not None or high is not None:
                bounds = (("low", low), ("high", high))
                sides = [quasi_p.get((name, side)) for side, v in bounds if v is not None]
                tested = [p for p in sides if p is not None]
                both = low is not None and high is not None and len(tested) == 2
                restrictions.append(
                    Restriction(
                        name,
                        low,
                        high,
                        equals=self._equals(name, low, high),
                        quasi_p=max(tested) if tested else None,
                        quasi_p_low=quasi_p.get((name, "low")) if both else None,
                        quasi_p_high=quasi_p.get((name, "high")) if both else None,
                    )
                )
        for name, kept in self.kept.items():
            if kept != self.all_codes[name]:
                labels = self.categorical[name][1]
                restrictions.append(
                    Restriction(
                        name,
                        values=tuple(labels[c] for c in sorted(kept)),
                        excluded=tuple(labels[c] for c in sorted(self.all_codes[name] - kept)),
                        quasi_p=quasi_p.get((name, None)),
                    )
                )
        return Box(
            tuple(restrictions),
            density=hits / runs if runs else 0.0,
            coverage=hits / self.hits if self.hits else 0.0,
            support=runs / self.n,
            runs=runs,
        )

    def scores(self, inside: np.ndarray) -> Box:
        """The current box's scores alone (:meth:`box` without its restrictions)."""
        runs = int(inside.sum())
        hits = int(self.outcome[inside].sum())
        return Box(
            (),
            density=hits / runs if runs else 0.0,
            coverage=hits / self.hits if self.hits else 0.0,
            support=runs / self.n,
            runs=runs,
        )

    def peel(self, inside: np.ndarray, alpha: float, min_runs: int) -> tuple[Any, ...] | None:
        """The best next peel: (input, new limit, runs left inside), or ``None``.

        Only the runs still inside are looked at, so each step costs less than the one
        before. Each candidate's score comes from counts of runs and outcome runs it
        would remove, exactly as from the runs it would leave.
        """
        index = np.flatnonzero(inside)
        y = self.outcome[index]
        before_runs = len(index)
        hits = int(y.sum())
        before = hits / before_runs
        best: tuple[Any, ...] | None = None

        def consider(name: str, limit: tuple[str, Any], removed: int, removed_hits: int) -> None:
            nonlocal best
            left = before_runs - removed
            if left < min_runs or left == before_runs:
                return
            density = (hits - removed_hits) / left
            # Friedman and Fisher's criterion: density gained per run peeled away, so
            # cutting half the box off for a yes/no parameter must earn ten times what
            # a 5% slice does. On a tie, the gentler peel (more runs left).
            key = ((density - before) / (before_runs - left), left)
            if best is None or key > best[0]:
                best = (key, name, limit)

        sides = self._numeric_peels(inside, before_runs, alpha) if self.names else []
        for row, name in enumerate(self.names):
            if sides[row] is None:
                continue
            low, high = self.limits[name]
            low_bound, low_removed, low_hits, high_bound, high_removed, high_hits = sides[row]
            if low_bound is not None and (low is None or low_bound > low):
                consider(name, ("low", low_bound), low_removed, low_hits)
            if high_bound is not None and (high is None or high_bound < high):
                consider(name, ("high", high_bound), high_removed, high_hits)
        for name, kept in self.kept.items():
            if len(kept) < 2:
                continue
            codes = self.categorical[name][0][index]
            for code in sorted(kept):
                removed = codes == code
                if removed.any():
                    consider(name, ("drop", code), int(removed.sum()), int(y[removed].sum()))
        # As in the EMA Workbench: stop when even the best peel does not raise the density.
        if best is None or best[0][0] <= 0:
            return None
        _, name, (kind, value) = best
        if kind == "drop":
            removed = self.categorical[name][0][index] == value
        elif kind == "low":
            removed = self.numeric[name][index] < value
        else:
            removed = self.numeric[name][index] > value
        rest = np.zeros(self.n, dtype=bool)
        rest[index[~removed]] = True
        return name, (kind, value), rest

    def _numeric_peels(
        self, inside: np.ndarray, m: int, alpha: float
    ) -> list[tuple[Any, ...] | None]:
        """Each numeric input's two candidate peels among the ``m`` runs ``inside``.

        Per input (None if it is constant there): the bound that cuts its lowest
        ``alpha`` share away, with the runs and outcome runs that cut removes, and the
        same for its highest share (a bound of None where no such cut exists).

        The runs still inside are kept as each input's values in ascending order (with
        the outcome alongside), narrowed as the box shrinks: then quantiles are order
        statistics read by position and every count is a binary search, the same
        numbers a partial sort and comparisons give. Inputs whose runs all differ and
        yes/no inputs are done for all of them at once (:func:`_distinct_peels`,
        :func:`_two_valued_peels`).
        """
        _, values, outcome = self._sorted_view(inside, m)
        at_low, at_high = alpha * (m - 1), (1 - alpha) * (m - 1)
        sides: list[tuple[Any, ...] | None] = [None] * len(self.names)
        general = range(len(self.names))
        distinct = self._distinct_rows
        if m >= 3 and len(distinct):
            # Inputs whose runs all differ: every count is a position (see _distinct_peels).
            found = _distinct_peels(
                values[distinct], outcome[distinct], at_low, at_high, self._integer_rows[distinct]
            )
            for row, side in zip(distinct.tolist(), found, strict=True):
                sides[row] = side
        paired = self._two_valued_rows
        if len(paired):
            # Yes/no inputs: each peel cuts one of the two values away.
            found = _two_valued_peels(values[paired], outcome[paired], self._integer_rows[paired])
            for row, side in zip(paired.tolist(), found, strict=True):
                sides[row] = side
        if len(distinct) or len(paired):
            # What is left: inputs of a few values, and any the fast rules gave up (None
            # from a yes/no input means one value is left: nothing to peel).
            done = set(paired.tolist())
            general = [r for r, side in enumerate(sides) if side is None and r not in done]
        for row in general:
            name = self.names[row]
            v, y = values[row], outcome[row]
            lowest, highest = v[0], v[m - 1]
            if lowest == highest:
                continue
            # The lowest share: the runs below the alpha quantile (or the lowest value).
            below = int(v.searchsorted(_order_quantile(v, at_low), "left"))
            if below == 0:
                below = int(v.searchsorted(lowest, "right"))
            low_bound = low_removed = low_hits = None
            if below < m:
                low_bound = self._bound(name, v[below - 1], v[below], keep="above")
                low_removed = int(v.searchsorted(low_bound, "left"))
                # Counted over the slice cut away (a few per cent of the runs, usually).
                low_hits = int(np.count_nonzero(y[:low_removed]))
            # The highest share: the runs above the 1 - alpha quantile (or the highest).
            above = m - int(v.searchsorted(_order_quantile(v, at_high), "right"))
            if above == 0:
                above = m - int(v.searchsorted(highest, "left"))
            high_bound = high_removed = high_hits = None
            if above < m:
                high_bound = self._bound(name, v[m - above - 1], v[m - above], keep="below")
                kept = int(v.searchsorted(high_bound, "right"))
                high_removed = m - kept
                high_hits = int(np.count_nonzero(y[kept:]))
            sides[row] = (low_bound, low_removed, low_hits, high_bound, high_removed, high_hits)
        return sides

    def _sorted_view(self, inside: np.ndarray, m: int) -> tuple[np.ndarray, ...]:
        """The inside runs of every input in ascending order: (runs, values, outcome).

        Each row holds one input's ``m`` inside runs sorted by value, their values and
        their outcomes. Narrowed from the previous view when the box only shrank (as
        peeling does), rebuilt from all runs otherwise.
        """
        view = self._view
        rows = len(self.names)
        if view is not None and view[0].shape[1] != m:
            keep = inside[view[0]]
            if int(np.count_nonzero(keep[0])) == m:
                # One list of positions, taken from each part (faster than three masks).
                kept = np.flatnonzero(keep)
                view = tuple(part.reshape(-1).take(kept).reshape(rows, m) for part in view)
            else:
                view = None
        if view is None or not inside[view[0][0]].all():
            # Ties may come in any order: counts are only taken over whole runs of
            # equal values, where the order within one does not matter.
            order = self._order
            if m == self.n:
                values = self._ascending
            else:
                order = order[inside[order]].reshape(rows, m)
                values = np.take_along_axis(self.matrix, order, axis=1)
            view = (order, values, self.outcome[order])
        self._view = view
        return view

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

    def quasi_p(self) -> dict[Limit, float]:
        """Each limit's quasi-p-value (see the module docstring)."""
        inside = self.mask()
        runs = int(inside.sum())
        hits = int(self.outcome[inside].sum())
        found = {}
        for limit in self.restricted_limits():
            without = self.mask(skip=limit)
            p0 = self.outcome[without].mean() if without.any() else 0.0
            found[limit] = binomial_sf(hits - 1, runs, float(p0)) if runs else 1.0
        return found


def _order_quantile(ascending: np.ndarray, position: float) -> float:
    """The linear quantile at ``position`` of values already in ascending order."""
    low = int(np.floor(position))
    high = min(low + 1, len(ascending) - 1)
    return float(ascending[low] + (ascending[high] - ascending[low]) * (position - low))


def _distinct_peels(
    values: np.ndarray, outcome: np.ndarray, at_low: float, at_high: float, integer: np.ndarray
) -> list[tuple[Any, ...] | None]:
    """:meth:`_Peeler._numeric_peels` for inputs whose inside runs all differ, at once.

    Each row of ``values`` is strictly ascending (``m`` >= 3 runs), so how many runs lie
    below a quantile or a bound is a position: the quantile at ``at`` lies between the
    values at ``floor(at)`` and the next one, and a bound between two neighbours. The
    numbers are those of the general rule's binary searches, without a search per input;
    a row whose interpolated quantile was rounded past its upper neighbour gets None
    (left to the general rule).
    """
    k, m = values.shape
    rows = np.arange(k)
    low, high = int(np.floor(at_low)), int(np.floor(at_high))
    quantile = values[:, low] + (values[:, low + 1] - values[:, low]) * (at_low - low)
    top = values[:, high] + (values[:, high + 1] - values[:, high]) * (at_high - high)
    exact = (quantile <= values[:, low + 1]) & (top <= values[:, high + 1])
    # The lowest share: runs below the quantile (at least the lowest run).
    below = np.maximum(low + (values[:, low] < quantile), 1)
    under, over = values[rows, below - 1], values[rows, below]
    low_bound = np.where(integer, over, (under + over) / 2)
    low_removed = below - (low_bound <= under)
    width = int(low_removed.max())
    low_hits = np.count_nonzero(outcome[:, :width] & (np.arange(width) < low_removed[:, None]), 1)
    # The highest share: runs above the 1 - alpha quantile (at least the highest run).
    above = np.maximum(m - high - 2 + (values[:, high + 1] > top), 1)
    under, over = values[rows, m - above - 1], values[rows, m - above]
    high_bound = np.where(integer, under, (under + over) / 2)
    kept = m - above + (high_bound >= over)
    width = int((m - kept).max())
    columns = np.arange(m - width, m)
    high_hits = np.count_nonzero(outcome[:, m - width :] & (columns >= kept[:, None]), 1)
    return _sides(exact, low_bound, low_removed, low_hits, high_bound, m - kept, high_hits)


def _two_valued_peels(
    values: np.ndarray, outcome: np.ndarray, integer: np.ndarray
) -> list[tuple[Any, ...] | None]:
    """:meth:`_Peeler._numeric_peels` for inputs with two values in all, at once.

    Where both values are still inside, the general rule's quantiles fall on them so that
    a peel from below cuts every run of the lower value and one from above every run of
    the higher (the bound between them: the kept value for integers, else the midpoint);
    None where one value is left (nothing to peel).
    """
    m = values.shape[1]
    lower, higher = values[:, 0], values[:, m - 1]
    at_lower = values == lower[:, None]
    low_runs = np.count_nonzero(at_lower, 1)
    low_hits = np.count_nonzero(at_lower & outcome, 1)
    high_hits = np.count_nonzero(outcome, 1) - low_hits
    middle = (lower + higher) / 2
    low_bound = np.where(integer, higher, middle)
    high_bound = np.where(integer, lower, middle)
    return _sides(
        lower != higher, low_bound, low_runs, low_hits, high_bound, m - low_runs, high_hits
    )


def _sides(found: np.ndarray, *columns: np.ndarray) -> list[tuple[Any, ...] | None]:
    """Per input, its candidate peels as Python numbers (from ``columns``), or None."""
    rows = zip(*(column.tolist() for column in columns), strict=True)
    return [side if ok else None for ok, side in zip(found.tolist(), rows, strict=True)]


def _with_quasi_p(peeler: _Peeler) -> Box:
    return peeler.box(peeler.mask(), peeler.quasi_p())


def prim(
    numeric: dict[str, np.ndarray],
    categorical: dict[str, tuple[np.ndarray, tuple[str, ...]]],
    outcome: np.ndarray,
    *,
    alpha: float = DEFAULT_ALPHA,
    min_support: float = DEFAULT_MIN_SUPPORT,
    max_restrictions: int = MAX_RESTRICTIONS,
    max_quasi_p: float = MAX_QUASI_P,
    select: int | None = None,
    second_box: bool = False,
    scores_only: bool = False,
) -> Discovery:
    """Find a box of input values where ``outcome`` is common (PRIM peeling).

    Peeling stops when the best peel would leave less than ``min_support`` of the runs
    in the box or would not raise its density. The box reported is the one along the
    peeling trajectory with the highest weighted relative accuracy, support × (density −
    base rate), or box ``select``. Then each of its limits is tested by its quasi-p-value
    and dropped above ``max_quasi_p`` (see the module docstring).

    Args:
        numeric: Numeric input name -> values per run.
        categorical: Categorical input name -> (integer codes per run, labels).
        outcome: True in the runs with the outcome.
        alpha: Share of the box's runs cut away by one peel.
        min_support: Peeling stops before the box holds less than this share of runs.
        max_restrictions: Most inputs a rule may name.
        max_quasi_p: A limit with a larger quasi-p-value is dropped.
        select: Choose this box of the trajectory instead.
        second_box: Also look for a second box among the runs outside the first.
        scores_only: Keep only the scores of the trajectory's boxes (their density,
            coverage, support and runs, not their restrictions): enough to choose a
            box, as the resamples of :func:`resample_stability` need.

    Returns:
        The discovery (chosen box, peeling trajectory, base rate, second box).

    Raises:
        IndexError: If ``select`` is not a box of the trajectory.
    """
    peeler = _Peeler(numeric, categorical, outcome)
    inside = peeler.mask()
    scored = peeler.scores if scores_only else peeler.box
    trajectory = [scored(inside)]
    snapshots = [_snapshot(peeler)]
    base = trajectory[0].density
    min_runs = max(1, int(np.ceil(min_support * peeler.n)))
    while True:
        step = peeler.peel(inside, alpha, min_runs)
        if step is None:
            break
        name, limit, inside = step
        peeler.apply(name, limit)
        trajectory.append(scored(inside))
        snapshots.append(_snapshot(peeler))
    chosen = _best_box(trajectory, base) if select is None else select
    if not 0 <= chosen < len(trajectory):
        raise IndexError(f"box {chosen}: the trajectory has boxes 0 to {len(trajectory) - 1}")
    _restore(peeler, snapshots[chosen])
    peeled = trajectory[chosen]
    dropped = _simplify(peeler, max_restrictions, max_quasi_p)
    box = _with_quasi_p(peeler)
    found = Discovery(
        box,
        peeled,
        trajectory,
        chosen,
        base,
        dropped,
        max_restrictions=max_restrictions,
        _data=(peeler, snapshots),
    )
    if second_box and box.restrictions:
        outside = ~peeler.mask()
        rest = outcome[outside]
        if outside.sum() > 2 * min_runs and 0 < rest.sum() < outside.sum():
            found.second = prim(
                {k: v[outside] for k, v in numeric.items()},
                {k: (codes[outside], labels) for k, (codes, labels) in categorical.items()},
                rest,
                alpha=alpha,
                min_support=min_support * peeler.n / outside.sum(),
                max_restrictions=max_restrictions,
                max_quasi_p=max_quasi_p,
            )
    return found


def resample_stability(
    numeric: dict[str, np.ndarray],
    categorical: dict[str, tuple[np.ndarray, tuple[str, ...]]],
    outcome: np.ndarray,
    *,
    resamples: int = RESAMPLES,
    seed: int = 0,
    max_runs: int = RESAMPLE_RUNS,
    **options: Any,
) -> dict[str, float]:
    """How often each input is restricted when PRIM runs on random halves of the runs.

    Args:
        numeric: As for :func:`prim`.
        categorical: As for :func:`prim`.
        outcome: As for :func:`prim`.
        resamples: Random halves to try.
        seed: Seed of the halves.
        max_runs: Most runs in one half.
        **options: ``alpha``, ``min_support``, ``max_restrictions``, ``max_quasi_p``.

    Returns:
        Input name -> share of the resamples whose rule restricts it.
    """
    outcome = np.asarray(outcome, dtype=bool)
    n = len(outcome)
    size = min(n // 2, max_runs)
    rng = np.random.default_rng(seed)
    counts: dict[str, int] = {}
    for _ in range(resamples):
        chosen = np.sort(rng.choice(n, size, replace=False))
        if outcome[chosen].all() or not outcome[chosen].any():
            continue
        found = prim(
            {k: v[chosen] for k, v in numeric.items()},
            {k: (codes[chosen], labels) for k, (codes, labels) in categorical.items()},
            outcome[chosen],
            scores_only=True,
            **options,
        )
        for restriction in found.box.restrictions:
            counts[restriction.parameter] = counts.get(restriction.parameter, 0) + 1
    return {k: v / resamples for k, v in sorted(counts.items(), key=lambda kv: -kv[1])}


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


def _simplify(peeler: _Peeler, max_restrictions: int, max_quasi_p: float) -> list[dict[str, Any]]:
    """Drop limits chance could explain (quasi-p), the weakest first; return them.

    Each limit (a numeric parameter's lower or upper bound, a categorical one's values)
    is tested on its own, as the Workbench's ``inspect`` does. When every limit passes
    but the rule names more than ``max_restrictions`` parameters, the parameter with the
    weakest limit is released whole.
    """
    dropped = []
    while True:
        restricted = peeler.restricted()
        if not restricted:
            break
        quasi = peeler.quasi_p()
        name, side = max(quasi, key=lambda k: (quasi[k], k[0], k[1] or ""))
        weakest = quasi[(name, side)]
        reason = "quasi_p"
        if weakest <= max_quasi_p:
            if len(restricted) <= max_restrictions:
                break
            side, reason = None, "max_restrictions"  # too many parameters: it goes whole
        density = peeler.box(peeler.mask()).density
        text = peeler.limit_text(name, side)
        peeler.release(name, side)
        after = peeler.box(peeler.mask()).density
        dropped.append(
            {
                "parameter": name,
                "side": side,
                "text": text,
                "quasi_p": weakest,
                "density_lost": float(density - after),
                "reason": reason,
            }
        )
    return dropped

"""Measured effects: each parameter set low and high on the same runs, outcome by outcome.

The ranking of :mod:`sim.analysis.ranking` reads associations in one batch, where every
parameter varies at once and the game's chance is loud: a 2-point effect hides in it.
``wargame explain --measure`` asks the model directly instead. For each uncertain
parameter it plays runs 0..M-1 at the batch's own seed (and ``--set`` values) twice,
once with the parameter fixed at the low end of its range and once at the high end
(a categorical parameter: once per value). Every other draw is the same in both
(common random numbers), so run k changes only because of the parameter, and each
outcome's change is measured run by run:

- **change** = P(outcome | high) - P(outcome | low), with a 95% interval from the
  paired differences (normal; when no run changes, the rule of three: within ±3/M);
- **test**: the exact sign test on the runs that changed (McNemar's exact test;
  Cochran's Q for a categorical parameter with more than two values), Holm-adjusted
  over the parameters for each outcome at 5%;
- a parameter that changes no ending and no branch outcome in any of the M runs is
  **dead**: a claim of the scenario that moves nothing it is meant to explain (unless
  the scenario marks it ``context_only``); one that changes runs but no outcome
  significantly has **no measurable effect** at this M.

Ends: the range's ends where it has them (uniform, triangular, a normal truncated on
both sides), 0 and 1 for a yes/no parameter, the smallest and largest value of a
numeric choice; an unbounded normal is taken at its 2.5% and 97.5% quantiles.

Each actor's **reasoning** is measured the same way: the batch's runs as written against
the same runs with that one actor myopic (``--set ACTOR.reasoning=myopic``), change =
P(as written) - P(myopic), Holm-adjusted over the actors. A reasoning that changes no
ending and no branch outcome in any run is dead too: the actor chooses as a myopic one
would, so the scenario's claim about how it thinks reaches no outcome.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.outcomes import Condition
from sim.analysis.pvalues import chi2_sf, sign_test
from sim.analysis.ranking import holm
from sim.batch.options import Progress
from sim.batch.results import Results
from sim.batch.summary import Z95
from sim.engine.actor_settings import REASONINGS
from sim.errors import OptionsError

#: Paired runs per variant unless told otherwise (at most the batch's runs).
DEFAULT_MEASURE_RUNS = 2000


def parameter_ends(param: dict[str, Any]) -> tuple[list[float], list[str]] | None:
    """The values a parameter is measured at, and their labels; ``None`` if fixed.

    Args:
        param: The parameter as stored in the manifest's layout.
    """
    from scipy.special import ndtr, ndtri

    dist = param.get("dist")
    if dist in ("uniform", "triangular"):
        low, high = float(param["low"]), float(param["high"])
        if low == high:
            return None
        return [low, high], [_label(low), _label(high)]
    if dist == "normal":
        mean, sd = float(param["mean"]), float(param["sd"])
        if sd == 0:
            return None
        lo = 0.0 if param.get("low") is None else float(ndtr((param["low"] - mean) / sd))
        hi = 1.0 if param.get("high") is None else float(ndtr((param["high"] - mean) / sd))
        ends = []
        sides = ((param.get("low"), 0.025), (param.get("high"), 0.975))
        for edge, q in sides:
            quantile = mean + sd * ndtri(lo + (hi - lo) * q)
            ends.append(float(edge) if edge is not None else float(quantile))
        return ends, [_label(v) for v in ends]
    if dist == "bernoulli":
        if param["p"] in (0, 1):
            return None
        return [0.0, 1.0], ["0", "1"]
    if dist == "choice":
        values = list(param["values"])
        if len(set(map(str, values))) < 2:
            return None
        if isinstance(values[0], str):
            return [float(i) for i in range(len(values))], [str(v) for v in values]
        low, high = float(min(values)), float(max(values))
        return [low, high], [_label(low), _label(high)]
    return None


def _label(value: float) -> str:
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.0f}"


def _paired(low: np.ndarray, high: np.ndarray) -> dict[str, Any]:
    """Change P(high) - P(low) with its 95% interval and exact sign-test p-value."""
    m = len(low)
    gained = int(np.sum(high & ~low))
    lost = int(np.sum(low & ~high))
    change = (gained - lost) / m
    if gained + lost == 0:
        half = 3.0 / m  # rule of three: no change seen in m runs
        interval = (-half, half)
        p_value = 1.0
    else:
        d = high.astype(float) - low.astype(float)
        se = d.std(ddof=1) / math.sqrt(m) if m > 1 else 0.0
        interval = (change - Z95 * se, change + Z95 * se)
        p_value = sign_test(gained, gained + lost)
    return {
        "p_low": float(low.mean()),
        "p_high": float(high.mean()),
        "change": change,
        "low": interval[0],
        "high": interval[1],
        "gained": gained,
        "lost": lost,
        "p_value": p_value,
    }


def _cochran_q(columns: list[np.ndarray]) -> float:
    """p-value of Cochran's Q test that k paired 0/1 samples have equal rates."""
    table = np.column_stack(columns).astype(float)
    k = table.shape[1]
    rows = table.sum(axis=1)
    cols = table.sum(axis=0)
    total = rows.sum()
    denominator = k * total - np.sum(rows**2)
    if denominator <= 0:
        return 1.0
    q = (k - 1) * (k * np.sum(cols**2) - total**2) / denominator
    return chi2_sf(float(q), k - 1)


def measure_effects(
    results: Results,
    targets: list[dict[str, Any]],
    *,
    runs: int | None = None,
    condition: Condition | None = None,
    workers: int = 1,
    alpha: float = 0.05,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Measure each uncertain parameter's effect on every outcome (see the module doc).

    Args:
        results: The batch (its scenario text, seed and ``--set`` values are used).
        targets: The outcomes (from :func:`sim.analysis.outcomes.outcome_targets`).
        runs: Paired runs per variant (default: 2,000, at most the batch's runs).
        condition: The ``--outcome`` condition, if one of the targets is one.
        workers: Worker processes for the variants.
        alpha: Family-wise error rate per outcome (Holm over the parameters).
        progress: Called with (runs played, runs in all) as the variants are played.

    Returns:
        ``{"runs", "seed", "parameters": {name: {"values", "labels", "changed_runs",
        "dead", "measurable", "context_only", "outcomes": {outcome id: {...}}}},
        "reasoning": {actor id: {"reasoning", "changed_runs", "dead", "measurable",
        "outcomes": {outcome id: {...}}}}, "baseline": {outcome id: p}}``; a reasoning's
        change is P(outcome as written) - P(outcome with the actor myopic).

    Raises:
        OptionsError: For a bad number of runs.
    """
    from sim.batch.variants import play_variants

    manifest = results.manifest
    m = runs if runs is not None else min(DEFAULT_MEASURE_RUNS, int(manifest["runs"]))
    if not 10 <= m <= 1_000_000:
        raise OptionsError("--measure-runs must be between 10 and 1,000,000")
    overrides = dict(manifest.get("overrides") or {})
    layout = results.layout
    plans: list[tuple[str, list[float], list[str], bool]] = []
    for param in layout.get("parameters", []):
        if param["id"] in overrides:
            continue
        ends = parameter_ends(param)
        if ends is not None:
            plans.append((param["id"], ends[0], ends[1], bool(param.get("context_only"))))
    variants: list[dict[str, float]] = [dict(overrides)]
    for name, values, _, _ in plans:
        variants += [{**overrides, name: value} for value in values]
    reasonings = reasoning_levers(layout, overrides)
    myopic = float(REASONINGS.index("myopic"))
    variants += [{**overrides, f"{actor}.reasoning": myopic} for actor, _ in reasonings]
    decided = ["ending"] + [f"branch.{b['id']}" for b in layout["branches"]]
    columns = ["run", *decided]
    if condition is not None:
        columns += [c for c in condition.runs_columns() if c not in columns]
    played = play_variants(
        results.scenario_text,
        manifest["scenario"]["path"],
        int(manifest["seed"]),
        m,
        variants,
        columns=columns,
        keep_rounds=bool(condition and condition.rounds_columns()),
        workers=workers,
        progress=progress,
    )
    frames = [(table.to_pandas(), rounds) for table, rounds in played]

    def outcomes_of(index: int) -> dict[str, np.ndarray]:
        frame, rounds = frames[index]
        found = {}
        for target in targets:
            if target["kind"] == "ending":
                found[target["id"]] = (frame["ending"] == target["id"]).to_numpy()
            elif target["kind"] == "branch":
                branch, outcome = target["id"].split("=", 1)
                found[target["id"]] = (frame[f"branch.{branch}"] == outcome).to_numpy()
            else:
                assert condition is not None
                rounds_frame = rounds.to_pandas() if rounds is not None else None
                found[target["id"]] = condition.evaluate(frame, rounds_frame)
        return found

    def path_of(index: int) -> np.ndarray:
        frame = frames[index][0]
        # What the run ended in and which way each branch went: a dead parameter
        # changes none of them in any run.
        return frame[decided].astype(str).agg("|".join, axis=1).to_numpy()

    baseline = outcomes_of(0)
    measured: dict[str, Any] = {}
    at = 1
    for name, values, labels, context_only in plans:
        indices = list(range(at, at + len(values)))
        at += len(values)
        per_variant = [outcomes_of(i) for i in indices]
        paths = [path_of(i) for i in indices]
        changed = np.zeros(m, dtype=bool)
        for other in paths[1:]:
            changed |= other != paths[0]
        entry: dict[str, Any] = {
            "values": values,
            "labels": labels,
            "changed_runs": int(changed.sum()),
            "dead": not changed.any(),
            "context_only": context_only,
            "outcomes": {},
        }
        for target in targets:
            key = target["id"]
            ys = [v[key] for v in per_variant]
            if len(ys) == 2:
                found = _paired(ys[0], ys[1])
                found["low_label"], found["high_label"] = labels
            else:
                rates = [float(y.mean()) for y in ys]
                lo, hi = int(np.argmin(rates)), int(np.argmax(rates))
                found = _paired(ys[lo], ys[hi])
                found["low_label"], found["high_label"] = labels[lo], labels[hi]
                found["p_value"] = _cochran_q(ys)
            entry["outcomes"][key] = found
        measured[name] = entry
    _adjust(measured, targets, alpha)
    # Each actor's reasoning: as written (the baseline) against the same actor myopic,
    # so a change is what the reasoning does. Holm over the actors, outcome by outcome.
    reasoned: dict[str, Any] = {}
    base_path = path_of(0)
    for actor, mode in reasonings:
        myopic_outcomes = outcomes_of(at)
        changed = path_of(at) != base_path
        at += 1
        reasoned[actor] = {
            "reasoning": mode,
            "changed_runs": int(changed.sum()),
            "dead": not changed.any(),
            "outcomes": {},
        }
        for target in targets:
            key = target["id"]
            found = _paired(myopic_outcomes[key], baseline[key])
            found["low_label"], found["high_label"] = "myopic", mode
            reasoned[actor]["outcomes"][key] = found
    _adjust(reasoned, targets, alpha)
    return {
        "runs": m,
        "seed": int(manifest["seed"]),
        "overrides": overrides,
        "baseline": {k: float(v.mean()) for k, v in baseline.items()},
        "parameters": measured,
        "reasoning": reasoned,
    }


def _adjust(entries: dict[str, Any], targets: list[dict[str, Any]], alpha: float) -> None:
    """Holm-adjust one family (the parameters, or the actors) outcome by outcome."""
    for target in targets:
        key = target["id"]
        family = [entry["outcomes"][key] for entry in entries.values()]
        for found, adjusted in zip(family, holm([f["p_value"] for f in family]), strict=True):
            found["p_holm"] = adjusted
            found["significant"] = bool(adjusted <= alpha)
    for entry in entries.values():
        entry["measurable"] = any(o["significant"] for o in entry["outcomes"].values())


def reasoning_levers(layout: dict[str, Any], overrides: dict[str, float]) -> list[tuple[str, str]]:
    """The actors whose reasoning ``--measure`` measures: (actor id, reasoning as written).

    Every actor that reasons (level-k, beliefs or equilibrium) in the batch, unless its
    reasoning, depth or prior was set with ``--set`` (the batch then asks about it
    already, and a depth without its reasoning would not play).

    Args:
        layout: The manifest's layout (each actor's reasoning as written).
        overrides: The batch's ``--set`` values.
    """
    found = []
    for actor in layout.get("actors", []):
        if any(f"{actor['id']}.{s}" in overrides for s in ("reasoning", "depth", "prior")):
            continue
        mode = actor.get("reasoning", "myopic")
        if mode != "myopic":
            found.append((actor["id"], mode))
    return found


def measured_frame(measured: dict[str, Any], outcome: str) -> pd.DataFrame:
    """One outcome's measured effects as a table (one row per parameter), largest first."""
    rows = []
    for name, entry in measured["parameters"].items():
        found = entry["outcomes"].get(outcome)
        if found is None:
            continue
        rows.append({"parameter": name, **found, "dead": entry["dead"]})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.reindex(frame["change"].abs().sort_values(ascending=False).index)

"""Which claims move which outcomes: each parameter at the two ends of its range.

For every parameter with a range, plays the scenario with the parameter fixed at its
low end and at its high end (same seed, so the two batches share their random numbers)
and prints the largest change in the share of any ending or branch outcome, with the
outcome that moved most. A claim that moves nothing by a point is a dead lever unless
the file marks it ``context_only``. The same method backs the test
``test_every_article_claim_moves_an_outcome_or_is_marked_context_only``.

Usage: ``python bench/claims.py [SCENARIO] [--runs 2000] [--seed 11]``. Prints a
Markdown table. Not part of the test suite.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from sim import load
from sim.engine.model import play

ROOT = Path(__file__).resolve().parent.parent


def shares(model) -> dict[str, float]:
    records = model.records()
    found = {}
    columns = ["ending"] + [f"branch.{b.id}" for b in model.compiled.branches]
    for column in columns:
        values, counts = np.unique(records[column], return_counts=True)
        for value, count in zip(values, counts, strict=True):
            found[f"{column.removeprefix('branch.')}={value or '(none)'}"] = count / len(
                records[column]
            )
    return found


def extremes(param) -> tuple[float, float] | None:
    if getattr(param, "low", None) is not None and getattr(param, "high", None) is not None:
        return float(param.low), float(param.high)
    if hasattr(param, "p"):
        return 0.0, 1.0
    if hasattr(param, "values") and not isinstance(param.values[0], str):
        return float(min(param.values)), float(max(param.values))
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "alaska.yaml"))
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    compiled = load(args.scenario)
    runs = np.arange(args.runs)
    print("| parameter | low | high | largest change | outcome |")
    print("|---|---|---|---|---|")
    for name, param in compiled.loaded.spec.parameters.items():
        ends = extremes(param)
        if ends is None:
            continue
        low = shares(play(compiled, args.seed, runs, {name: ends[0]}, keep_trajectories=False))
        high = shares(play(compiled, args.seed, runs, {name: ends[1]}, keep_trajectories=False))
        keys = set(low) | set(high)
        key = max(keys, key=lambda k: abs(low.get(k, 0) - high.get(k, 0)))
        change = high.get(key, 0) - low.get(key, 0)
        note = " (context only)" if param.context_only else ""
        print(
            f"| `{name}`{note} | {ends[0]:g} | {ends[1]:g} | {100 * change:+.1f} points | {key} |"
        )


if __name__ == "__main__":
    main()

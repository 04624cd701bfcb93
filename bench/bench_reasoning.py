"""Benchmark: what each reasoning mode costs, in runs per second of play on one core.

Plays blocks of runs in-process (no files, no plots) and reports the playing rate of:
1. alaska as shipped (four equilibrium actors with foresight, a level-1 DPRK, two
   learners), and variants of it in which every actor reasons the same way: all
   myopic, all myopic with the summit parties' foresight, the summit parties at level 2
   instead of equilibrium, all with beliefs;
2. the 2x2 textbook game (mixed_2x2.yaml) under each reasoning mode.

A second table gives where alaska's time goes, round by round. Figures go in
docs/benchmarks.md. Usage: ``python bench/bench_reasoning.py [--runs 20000]
[--repeat 3]``. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import numpy as np

from sim.engine.model import WargameModel
from sim.language.compiler import compile_text

ROOT = Path(__file__).resolve().parent.parent
ALASKA = (ROOT / "scenarios" / "alaska.yaml").read_text()
MIXED = (ROOT / "scenarios" / "textbook" / "mixed_2x2.yaml").read_text()


def all_myopic(text: str, keep_foresight: bool = False) -> str:
    text = re.sub(r"\n    reasoning: [a-z-]+\n", "\n", text)
    text = re.sub(r"\n    depth: \d+\n", "\n", text)
    if not keep_foresight:
        text = re.sub(r"\n    foresight: \d+\n", "\n", text)
    return text


def as_before_measuring(text: str) -> str:
    """Alaska as it was before explain --measure found three idle reasonings: Russia in
    the equilibrium, Japan and South Korea learning habits (docs/alaska.md)."""
    for actor, mode in (("RU", "equilibrium"), ("JP", "beliefs"), ("ROK", "beliefs")):
        head = f"\n  {actor}:\n"
        start = text.index(head)
        at = text.index("    decision: logit\n", start) + len("    decision: logit\n")
        text = text[:at] + f"    reasoning: {mode}\n" + text[at:]
    return text


VARIANTS = {
    "alaska as shipped": ALASKA,
    "alaska before --measure (RU equilibrium; JP, ROK beliefs)": as_before_measuring(ALASKA),
    "alaska, all myopic, no foresight": all_myopic(ALASKA),
    "alaska, all myopic, summit parties foresee": all_myopic(ALASKA, keep_foresight=True),
    "alaska, summit parties level-2 instead of equilibrium": ALASKA.replace(
        "    reasoning: equilibrium\n", "    reasoning: level-k\n    depth: 2\n"
    ),
    "alaska, everyone beliefs (summit parties foresee)": re.sub(
        r"\n    depth: \d+\n",
        "\n",
        re.sub(r"\n    reasoning: [a-z-]+\n", "\n    reasoning: beliefs\n", ALASKA),
    ),
}
for mode in ("myopic", "level-k\n    depth: 2", "beliefs", "equilibrium"):
    label = mode.split("\n")[0] + (" (depth 2)" if "depth" in mode else "")
    VARIANTS[f"mixed_2x2, {label}"] = MIXED.replace("reasoning: equilibrium", f"reasoning: {mode}")


def rate(text: str, runs: int, repeat: int) -> tuple[float, int]:
    compiled = compile_text(text, "bench.yaml")
    best = np.inf
    unconverged = 0
    for _ in range(repeat):
        model = WargameModel(compiled, 20250815, np.arange(runs), keep_trajectories=True)
        started = time.perf_counter()
        with np.errstate(all="ignore"):
            model.run_model()
        model.records()
        best = min(best, time.perf_counter() - started)
        unconverged = int((model.unconverged > 0).sum())
    return runs / best, unconverged


def rounds(text: str, runs: int) -> list[float]:
    compiled = compile_text(text, "bench.yaml")
    model = WargameModel(compiled, 20250815, np.arange(runs))
    seconds = []
    with np.errstate(all="ignore"):
        while not model.finished:
            started = time.perf_counter()
            model.step()
            seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"| scenario and reasoning | runs/s playing, one core ({args.runs:,} runs) | "
        "runs whose equilibrium did not converge |"
    )
    print("|---|---|---|")
    for label, text in VARIANTS.items():
        per_second, unconverged = rate(text, args.runs, args.repeat)
        print(f"| {label} | {per_second:,.0f} | {unconverged} |")
    print()
    seconds = rounds(ALASKA, args.runs)
    total = sum(seconds)
    print("| alaska round | seconds | share |")
    print("|---|---|---|")
    for r, s in enumerate(seconds, 1):
        print(f"| {r} | {s:.3f} | {s / total:.0%} |")


if __name__ == "__main__":
    main()

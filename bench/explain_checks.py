"""Heavy checks of `wargame explain`'s statistics, too slow for the test suite.

1. **Sobol coverage**: the known_sobol scenario (p = 0.05 + 0.5 x1 + 0.4 x2 x3, indices
   by hand) swept again and again with fresh seeds; how often each 95% bootstrap
   interval holds the true index, for the sweep with shared chance (now) and
   with chance per run analysed by SALib (before).
2. **False drivers**: the effects scenario (P(crisis) = 0.1 + 0.3 driver + 0.02 nudge,
   dud read by nothing) at many seeds; how often `dud` is named a driver (Holm at 5%:
   at most 5%), and how often the 30-point `driver` and the 2-point `nudge` are found,
   without and with --measure.
3. **Timing** of `explain` on an alaska batch.

Usage: ``python bench/explain_checks.py [--repeats 200] [--seeds 400]``. Prints Markdown.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sim import BatchOptions, load, run_batch
from sim.analysis.explanation import explain
from sim.api import sweep
from sim.batch.designs import make_design

ROOT = Path(__file__).resolve().parent.parent
SOBOL = ROOT / "tests" / "scenarios" / "known_sobol.yaml"
EFFECTS = ROOT / "tests" / "scenarios" / "effects.yaml"
VAR_Y = 0.24
V1, V2 = 0.25 / 12, 0.16 / 48
V23 = 0.16 * (1 / 9 - 1 / 16) - 2 * V2
TRUTH = {
    "x1": (V1 / VAR_Y, V1 / VAR_Y),
    "x2": (V2 / VAR_Y, (V2 + V23) / VAR_Y),
    "x3": (V2 / VAR_Y, (V2 + V23) / VAR_Y),
    "dud": (0.0, 0.0),
}


def sobol_coverage(repeats: int, n: int, work: Path) -> None:
    compiled = load(SOBOL)
    print(f"### Sobol coverage: known_sobol, N = {n}, {repeats} sweeps per design\n")
    print("| design | index | x1 | x2 | x3 | dud |")
    print("|---|---|---|---|---|---|")
    for label, shared in (("shared chance, 2 replicates", True), ("chance per run (SALib)", False)):
        hits = {(name, key): 0 for name in TRUTH for key in ("S1", "ST")}
        for r in range(repeats):
            folder = work / f"s{shared}-{r}"
            if shared:
                sweep(compiled, "sobol", n, seed=1000 + r, out=folder, plots=False,
                      keep_rounds=False)  # fmt: skip
            else:
                design = make_design(compiled, "sobol", n, 1000 + r, replicates=1, shared=False)
                options = BatchOptions(runs=design.runs, seed=1000 + r, plots=False,
                                       keep_rounds=False, design=design)  # fmt: skip
                run_batch(compiled, folder, options)
            found = explain(folder, ending="heads", plots=False, resamples=0, decisions=False)
            indices = found["targets"][0]["sobol"]["indices"]
            for name, (s1, st) in TRUTH.items():
                for key, truth in (("S1", s1), ("ST", st)):
                    entry = indices[name]
                    low, high = entry[f"{key}_low"], entry[f"{key}_high"]
                    # A dud's interval is [0, 0]: it holds the truth exactly.
                    hits[(name, key)] += bool(low - 1e-12 <= truth <= high + 1e-12)
        for key in ("S1", "ST"):
            cells = " | ".join(f"{hits[(name, key)] / repeats:.0%}" for name in TRUTH)
            print(f"| {label} | {key} | {cells} |")
    print()


def false_drivers(seeds: int, runs: int, work: Path) -> None:
    compiled = load(EFFECTS)
    named = {"driver": 0, "nudge": 0, "dud": 0}
    measured = {"driver": 0, "nudge": 0, "dud": 0}
    measure_every = 10
    for seed in range(seeds):
        folder = work / f"e{seed}"
        run_batch(compiled, folder, BatchOptions(runs=runs, seed=seed, plots=False,
                                                 keep_rounds=False))  # fmt: skip
        found = explain(folder, ending="crisis", plots=False, resamples=0)
        drivers = found["targets"][0]["drivers"]
        for name in named:
            named[name] += name in drivers
        if seed % measure_every == 0:
            found = explain(folder, ending="crisis", plots=False, resamples=0, measure=True,
                            out=work / f"m{seed}")  # fmt: skip
            for name in measured:
                measured[name] += name in found["targets"][0]["drivers"]
    print(f"### Drivers named: effects scenario, {runs:,} runs per batch\n")
    print("| parameter | true effect | named (ranking), of seeds | named with --measure |")
    print("|---|---|---|---|")
    measured_seeds = len(range(0, seeds, measure_every))
    for name, effect in (("driver", "30 points"), ("nudge", "2 points"), ("dud", "none")):
        print(f"| `{name}` | {effect} | {named[name]} of {seeds} | "
              f"{measured[name]} of {measured_seeds} |")  # fmt: skip
    print()


def timing(work: Path) -> None:
    compiled = load(ROOT / "scenarios" / "alaska.yaml")
    folder = work / "alaska"
    run_batch(compiled, folder, BatchOptions(runs=10_000, seed=1, plots=False))
    print("### explain on alaska, 10,000 runs (wall seconds)\n")
    print("| call | s |")
    print("|---|---|")
    for label, kwargs in (
        ("every outcome, defaults (charts, 10 resamples)", {}),
        ("every outcome, --measure --measure-runs 1000", {"measure": True, "measure_runs": 1000}),
    ):
        started = time.time()
        explain(folder, out=work / f"x{len(label)}", **kwargs)
        print(f"| {label} | {time.time() - started:.1f} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--seeds", type=int, default=400)
    parser.add_argument("--runs", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sobol_coverage(args.repeats, args.n, work)
        false_drivers(args.seeds, args.runs, work)
        timing(work)


if __name__ == "__main__":
    main()

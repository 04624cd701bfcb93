"""Benchmark: runs per second of `wargame run scenarios/alaska.yaml`.

Measures, on this machine:
1. a 100,000-run batch with the default chunk size and worker count, end to end (the
   whole command: start-up, playing, writing Parquet, summary and plots) and the
   playing rate the manifest records;
2. the same engine on 2,000 runs with ``--chunk-size 1`` (one model per run, the
   "no vectorisation" baseline) and the ratio of the two playing rates.

Targets on a 2-core machine: at least 25,000 runs/s playing (issue 8, with alaska's
reasoning modes; 19,863 measured on 2026-12-02, not met) and a ratio of at least 50.
The fixed costs of every command (issue 12) are measured by bench/bench_commands.py.
Usage: ``python bench/bench_run.py [--runs 100000] [--repeat 3]``. Prints a Markdown
table to paste into docs/benchmarks.md. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "alaska.yaml"


def wargame(*args: str) -> float:
    """Run the wargame command; return its wall time in seconds."""
    command = [sys.executable, "-c", "from cli import main; main()", *args]
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def batch(out: Path, runs: int, *extra: str) -> tuple[float, dict]:
    wall = wargame(
        "run",
        str(SCENARIO),
        "-n",
        str(runs),
        "--seed",
        "20250815",
        "--out",
        str(out),
        "--force",
        "-q",
        *extra,
    )
    manifest = json.loads((out / "manifest.json").read_text())
    return wall, manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--small-runs", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wargame-bench-"))
    try:
        big = [batch(work / "big", args.runs) for _ in range(args.repeat)]
        big_no_plots = [batch(work / "big", args.runs, "--no-plots") for _ in range(args.repeat)]
        small = [
            batch(
                work / "small", args.small_runs, "--chunk-size", "1", "--workers", "1", "--no-plots"
            )
            for _ in range(args.repeat)
        ]
        small_default = [
            batch(work / "small", args.small_runs, "--workers", "1", "--no-plots")
            for _ in range(args.repeat)
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def best(results: list[tuple[float, dict]]) -> tuple[float, float, dict]:
        wall, manifest = min(results, key=lambda r: r[0])
        return wall, manifest["timings"]["runs_per_s"], manifest

    big_wall, big_play, manifest = best(big)
    big_np_wall, big_np_play, _ = best(big_no_plots)
    small_wall, small_play, _ = best(small)
    _, small_default_play, _ = best(small_default)
    cpu = platform.processor() or platform.machine()
    print(
        f"machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.platform()}"
    )
    print(
        f"executor for {args.runs:,} runs: {manifest['executor']} x {manifest['workers']}, chunk {manifest['chunk_size']}"
    )
    print()
    print("| measurement | runs | wall s | runs/s end to end | runs/s playing |")
    print("|---|---|---|---|---|")
    print(
        f"| default, with plots | {args.runs:,} | {big_wall:.2f} | {args.runs / big_wall:,.0f} | {big_play:,.0f} |"
    )
    print(
        f"| default, --no-plots | {args.runs:,} | {big_np_wall:.2f} | {args.runs / big_np_wall:,.0f} | {big_np_play:,.0f} |"
    )
    print(
        f"| --chunk-size 1, 1 worker | {args.small_runs:,} | {small_wall:.2f} | {args.small_runs / small_wall:,.0f} | {small_play:,.0f} |"
    )
    print(f"| default chunk, 1 worker | {args.small_runs:,} | | | {small_default_play:,.0f} |")
    print()
    print(
        f"ratio (playing rate, default at {args.runs:,} / chunk-size 1 at {args.small_runs:,}): {big_play / small_play:,.0f}"
    )
    print(
        f"ratio (end to end with plots / chunk-size 1 end to end): {(args.runs / big_wall) / (args.small_runs / small_wall):,.0f}"
    )


if __name__ == "__main__":
    main()

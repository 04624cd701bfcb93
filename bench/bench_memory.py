"""Peak memory of `wargame run` (the whole process tree) as the runs grow.

Usage:
    python bench/bench_memory.py                       # 10k, 100k and 1M runs, in-process
    python bench/bench_memory.py --executor process --workers 2 --chunk-size 5000
    python bench/bench_memory.py --runs 10000 100000 --scenario scenarios/alaska.yaml

Starts `wargame run SCENARIO -n N --seed 1 --out TMP` in a subprocess for each N and
samples, every 50 ms, the memory of the process and every process below it (a process
pool's forkserver, workers and resource tracker, a Dask cluster's workers): the peak of
the tree's summed RSS, of its summed PSS (shared pages counted once, from
/proc/PID/smaps_rollup; the fairer figure when forked workers share pages), and of the
main process's RSS. Prints a Markdown table for docs/benchmarks.md. Linux only.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _children() -> dict[int, list[int]]:
    table: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_bytes().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            table.setdefault(parent, []).append(int(entry.name))
    return table


def tree(pid: int) -> list[int]:
    table = _children()
    found, todo = [pid], [pid]
    while todo:
        for child in table.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kb(path: Path, field: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.rss = self.pss = self.main = 0
        self.processes = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            pids = tree(self.pid)
            rss = sum(_kb(Path(f"/proc/{p}/status"), "VmRSS") for p in pids)
            pss = sum(_kb(Path(f"/proc/{p}/smaps_rollup"), "Pss") for p in pids)
            main = _kb(Path(f"/proc/{self.pid}/status"), "VmRSS")
            self.rss, self.pss, self.main = (
                max(self.rss, rss),
                max(self.pss, pss),
                max(self.main, main),
            )
            self.processes = max(self.processes, len(pids))
            time.sleep(self.every)


def measure(
    scenario: str, runs: int, executor: str, workers: int, plots: bool, chunk_size: int
) -> dict:
    out = Path(tempfile.mkdtemp(prefix="wargame-mem-")) / "batch"
    command = [
        sys.executable, "-c", "from cli import main; main()", "run", scenario, "-n", str(runs),
        "--seed", "1", "--out", str(out), "--executor", executor, "--workers", str(workers),
        "--chunk-size", str(chunk_size), "-q",
    ]  # fmt: skip
    if not plots:
        command.append("--no-plots")
    started = time.time()
    process = subprocess.Popen(command, cwd=ROOT)
    sampler = Sampler(process.pid)
    sampler.start()
    code = process.wait()
    sampler.done.set()
    sampler.join()
    seconds = time.time() - started
    sizes = {p.name: p.stat().st_size for p in out.glob("*.parquet")}
    shutil.rmtree(out.parent, ignore_errors=True)
    if code:
        raise SystemExit(f"wargame run failed with exit code {code}")
    return {
        "runs": runs,
        "seconds": seconds,
        "rss": sampler.rss / 1024,
        "pss": sampler.pss / 1024,
        "main": sampler.main / 1024,
        "processes": sampler.processes,
        "runs_mb": sizes.get("runs.parquet", 0) / 1e6,
        "rounds_mb": sizes.get("rounds.parquet", 0) / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="scenarios/alaska.yaml")
    parser.add_argument("--runs", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--executor", default="inprocess")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-plots", action="store_true")
    # A pool starts a worker per task in flight: at 10,000 runs the default chunk is
    # one task, so one worker; --chunk-size 5000 gives every size both workers.
    parser.add_argument("--chunk-size", type=int, default=10_000)
    args = parser.parse_args()
    rows = []
    for runs in args.runs:
        row = measure(
            args.scenario, runs, args.executor, args.workers, not args.no_plots, args.chunk_size
        )
        rows.append(row)
        print(
            f"{runs:>10,} runs  {row['seconds']:7.1f} s  tree RSS {row['rss']:6.0f} MB  "
            f"tree PSS {row['pss']:6.0f} MB  main RSS {row['main']:6.0f} MB  "
            f"({row['processes']} processes)",
            flush=True,
        )
    low = min(r["pss"] for r in rows)
    print()
    flags = f"--executor {args.executor} --workers {args.workers} --chunk-size {args.chunk_size}"
    print(f"`{flags}`" + (" --no-plots" if args.no_plots else ""))
    print()
    print(
        "| runs | wall s | peak RSS, process tree | peak PSS, process tree | peak RSS, main process | vs smallest (PSS) | runs.parquet | rounds.parquet |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['runs']:,} | {r['seconds']:.1f} | {r['rss']:.0f} MB | {r['pss']:.0f} MB | "
            f"{r['main']:.0f} MB | {100 * (r['pss'] / low - 1):+.0f}% | {r['runs_mb']:.0f} MB | "
            f"{r['rounds_mb']:.0f} MB |"
        )


if __name__ == "__main__":
    main()

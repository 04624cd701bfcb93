"""Benchmark: what a user waits for, command by command (issue 12's goals).

Times each command as a user runs it (a fresh ``python`` process, wall clock, best of
``--repeat``) next to a pure-Python reference measured in the same run, ``python -c
"import numpy, yaml"``, so figures from a busy machine can still be compared as ratios:

- ``wargame --help``;
- ``wargame validate scenarios/alaska.yaml``;
- ``wargame run -n 10000 --no-plots`` (``-n 500`` with ``--quick``), and ``wargame
  replay DIR --run K`` on that batch;
- ``wargame step scenarios/alaska.yaml``: time until its first screen asks for a key
  (run on a pseudo-terminal);
- ``wargame run -n 10000`` with plots, and ``-n 100000`` with plots (runs/s end to end);
- ``wargame explain`` on the 10,000- and 100,000-run batches;
- ``wargame compare`` of two 100,000-run batches;
- with ``--million``, ``wargame run -n 1000000`` (about a minute).

Usage::

    python bench/bench_commands.py                 # every goal; a few minutes
    python bench/bench_commands.py --quick         # the fast commands only
    python bench/bench_commands.py --quick --check # exit 1 on a regression (CI)
    python bench/bench_commands.py --quick --write-baseline

``--check`` compares each command's ratio to the reference with the ratio recorded in
``bench/quick_baseline.json`` and fails when one is more than ``--tolerance`` (2) times
it: a command that regressed by more than 2x, whatever the machine's speed.
``--write-baseline`` records the ratios, keeping the larger of the recorded and the
measured one (run it a few times; delete the file to start over). Prints a
Markdown table for docs/benchmarks.md. Linux (the step timing needs a pty).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "alaska.yaml"
BASELINE = Path(__file__).with_name("quick_baseline.json")
WARGAME = [sys.executable, "-c", "from cli import main; main()"]
#: Each goal of issue 12: command -> (limit, unit, "max" for times / "min" for rates).
GOALS: dict[str, tuple[float, str, str]] = {
    "help": (0.1, "s", "max"),
    "validate": (0.5, "s", "max"),
    "replay": (0.7, "s", "max"),
    "step first screen": (1.0, "s", "max"),
    "run 10k with plots": (1.5, "s", "max"),
    "run 100k with plots": (40_000, "runs/s", "min"),
    "run 1M with plots": (20.0, "s", "max"),
    "explain 10k": (3.0, "s", "max"),
    "explain 100k": (15.0, "s", "max"),
    "compare 2 x 100k": (5.0, "s", "max"),
}


#: The commands' environment: Python writes and reads its bytecode caches, as it does for
#: a user (this machine's shell sets PYTHONDONTWRITEBYTECODE=1, which made every earlier
#: measurement compile the package's sources again: 0.06 to 0.1 s a command).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str], **kwargs: object) -> float:
    """Wall seconds of one command (stdout discarded); raises if it fails."""
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, env=ENV, **kwargs)
    return time.perf_counter() - started


def until_prompt(command: list[str], prompt: bytes = b"[n]ext", limit: float = 60.0) -> float:
    """Seconds from starting ``command`` on a pseudo-terminal until ``prompt`` appears."""
    import pty

    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the command
        os.chdir(ROOT)
        os.environ.update({"COLUMNS": "100", "LINES": "40"})
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.execvp(command[0], command)
    seen = b""
    try:
        while prompt not in seen:
            ready, _, _ = select.select([fd], [], [], limit)
            if not ready:
                raise TimeoutError(f"no {prompt!r} within {limit} s: {seen[-300:]!r}")
            try:
                seen += os.read(fd, 65536)
            except OSError as exc:  # the command ended without asking
                raise RuntimeError(f"ended before {prompt!r}: {seen[-300:]!r}") from exc
        return time.perf_counter() - started
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)


def best(measure: Callable[[], float], repeat: int) -> float:
    """The fastest of ``repeat`` measurements (the least disturbed by other work)."""
    return min(measure() for _ in range(repeat))


def batch(out: Path, runs: int, *extra: str) -> list[str]:
    """The command line of a batch of alaska at seed 1 into ``out``."""
    return [
        *WARGAME, "run", str(SCENARIO), "-n", str(runs), "--seed", "1",
        "--out", str(out), "--force", "-q", *extra,
    ]  # fmt: skip


def measure(quick: bool, repeat: int, million: bool, work: Path) -> dict[str, float]:
    """Every figure: name -> best wall seconds (or runs/s for a rate)."""
    found: dict[str, float] = {}
    # The package's bytecode cached first, as after a user's first command.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "sim", "cli.py"], cwd=ROOT, env=ENV)
    found["reference"] = best(lambda: timed([sys.executable, "-c", "import numpy, yaml"]), repeat)
    found["help"] = best(lambda: timed([*WARGAME, "--help"]), repeat)
    found["validate"] = best(lambda: timed([*WARGAME, "validate", str(SCENARIO)]), repeat)
    small = work / "small"
    runs = 500 if quick else 10_000
    found[f"run {runs:,}, no plots"] = best(lambda: timed(batch(small, runs, "--no-plots")), repeat)
    replay = [*WARGAME, "replay", str(small), "--run", str(runs - 7)]
    found["replay"] = best(lambda: timed(replay), repeat)
    step = [*WARGAME, "step", str(SCENARIO)]
    found["step first screen"] = best(lambda: until_prompt(step), repeat)
    if quick:
        return found
    found["run 10k with plots"] = best(lambda: timed(batch(small, 10_000)), repeat)
    explain = [*WARGAME, "explain", str(small), "--force"]
    found["explain 10k"] = best(lambda: timed(explain), repeat)
    big, other = work / "big", work / "other"
    wall = best(lambda: timed(batch(big, 100_000)), repeat)
    found["run 100k with plots"] = 100_000 / wall
    found["run 100k with plots, wall"] = wall
    timed(batch(other, 100_000, "--set", "summit_base_odds=0.4", "--no-plots"))
    explain = [*WARGAME, "explain", str(big), "--force"]
    found["explain 100k"] = best(lambda: timed(explain), 1)
    compare = [*WARGAME, "compare", str(big), str(other), "--out", str(work / "cmp"), "--force"]
    found["compare 2 x 100k"] = best(lambda: timed(compare), repeat)
    if million:
        found["run 1M with plots"] = timed(batch(work / "million", 1_000_000))
    return found


def table(found: dict[str, float]) -> str:
    """The figures as a Markdown table: measured, ratio to the reference, goal, met."""
    reference = found["reference"]
    lines = [
        f'reference `python -c "import numpy, yaml"`: {reference:.3f} s',
        "",
        "| command | measured | x reference | goal | met? |",
        "|---|---|---|---|---|",
    ]
    for name, value in found.items():
        if name == "reference" or name.endswith(", wall"):
            continue
        limit, unit, kind = GOALS.get(name, (None, "s", "max"))
        if unit == "runs/s":
            shown = f"{value:,.0f} runs/s ({found[name + ', wall']:.2f} s)"
            ratio = f"{found[name + ', wall'] / reference:.1f}"
        else:
            shown, ratio = f"{value:.2f} s", f"{value / reference:.1f}"
        if limit is None:
            goal = met = ""
        else:
            goal = f"{'≥' if kind == 'min' else '≤'} {limit:,g} {unit}"
            met = "yes" if (value >= limit if kind == "min" else value <= limit) else "no"
        lines.append(f"| {name} | {shown} | {ratio} | {goal} | {met} |")
    return "\n".join(lines)


def check(found: dict[str, float], tolerance: float) -> list[str]:
    """The commands whose ratio to the reference grew more than ``tolerance`` times."""
    baseline = json.loads(BASELINE.read_text())["ratios"]
    reference = found["reference"]
    slow = []
    for name, recorded in baseline.items():
        ratio = found[name] / reference
        if ratio > tolerance * recorded:
            slow.append(
                f"{name}: {found[name]:.2f} s is {ratio:.1f} x the reference, "
                f"more than {tolerance:g} x the {recorded:.1f} x recorded"
            )
    return slow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the fast commands only")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--million", action="store_true", help="also a 1,000,000-run batch")
    parser.add_argument("--check", action="store_true", help="fail on a regression")
    parser.add_argument("--tolerance", type=float, default=2.0)
    parser.add_argument("--write-baseline", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wargame-bench-"))
    try:
        found = measure(args.quick, args.repeat, args.million, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}; best of {args.repeat}")  # fmt: skip
    print(table(found))
    if args.write_baseline:
        # The largest ratio seen over the runs that wrote the baseline: the reference's
        # own noise (0.09 to 0.2 s on a shared machine) must not make the check flaky.
        # Delete the file to record from scratch (after a command got faster).
        old = json.loads(BASELINE.read_text())["ratios"] if BASELINE.exists() else {}
        ratios = {
            k: round(max(v / found["reference"], old.get(k, 0.0)), 2)
            for k, v in found.items()
            if k != "reference"
        }
        BASELINE.write_text(json.dumps({"ratios": ratios}, indent=2) + "\n")
    if args.check:
        slow = check(found, args.tolerance)
        for line in slow:
            print(f"regression: {line}", file=sys.stderr)
        sys.exit(1 if slow else 0)


if __name__ == "__main__":
    main()

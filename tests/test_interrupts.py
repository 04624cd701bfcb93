"""An interrupted batch: no orphan workers, a clean stop, a complete resume command, and
a resume that redoes only what is missing.

Real processes are killed here (``wargame run`` in a subprocess, SIGKILL / SIGTERM /
SIGHUP); the phases of a resume are interrupted in-process by making one step raise
KeyboardInterrupt, as Ctrl-C would.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim import api
from sim.batch import runner, tasks
from sim.batch.options import BatchOptions
from sim.engine.loading import load
from tests.conftest import ALASKA, ROOT, TINY
from tests.test_bad_input import invoke, wargame_command

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(b")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in (b"Z", b"X")


def start_batch(out: Path, *extra: str, executor: str = "process") -> subprocess.Popen:
    return subprocess.Popen(
        [
            *wargame_command(), "run", str(ALASKA), "-n", "200000", "--seed", "3",
            "--out", str(out), "--executor", executor, "--workers", "2", "--no-plots", *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip


def wait_for_workers(
    batch: subprocess.Popen, count: int, timeout: float = 90, settle: float = 1.0
) -> set[int]:
    """The batch's process tree once ``count`` worker processes are playing."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        below = descendants(batch.pid)
        # Workers: descendants that are not the resource tracker (and, for the pool,
        # not the forkserver itself but its children).
        # (Every process's command line has "resource_tracker" in its -W option.)
        tracker = "from multiprocessing.resource_tracker import"
        workers = [p for p in below if _cmdline(p) and tracker not in _cmdline(p)]
        grandchildren = [p for p in workers if _parent(p) != batch.pid]
        playing = grandchildren if executor_of(batch) == "process" else workers
        if len(playing) >= count:
            time.sleep(settle)  # let them import and take a task
            return descendants(batch.pid)
        if batch.poll() is not None:
            raise AssertionError(f"the batch ended early: {batch.stderr.read().decode()}")
        time.sleep(0.2)
    raise AssertionError("the workers did not start")


def executor_of(batch: subprocess.Popen) -> str:
    args = batch.args
    return args[args.index("--executor") + 1]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[1])
    except OSError:
        return -1


@pytest.mark.parametrize(
    ("executor", "signum", "starting"),
    [
        ("process", signal.SIGKILL, False),
        ("process", signal.SIGTERM, False),
        ("process", signal.SIGHUP, False),
        ("dask", signal.SIGKILL, False),
        ("dask", signal.SIGTERM, False),
        ("dask", signal.SIGTERM, True),
    ],
    ids=[
        "pool-SIGKILL",
        "pool-SIGTERM",
        "pool-SIGHUP",
        "dask-SIGKILL",
        "dask-SIGTERM",
        "dask-SIGTERM-while-the-cluster-starts",
    ],
)
def test_no_worker_outlives_a_killed_batch(
    executor: str, signum: int, starting: bool, tmp_path: Path
) -> None:
    batch = start_batch(tmp_path / "out", executor=executor)
    try:
        if starting:
            tree = wait_for_workers(batch, 1, settle=0.0)
        else:
            tree = wait_for_workers(batch, 2)
            assert len(tree) >= 3, tree  # the workers and at least the resource tracker
        os.kill(batch.pid, signum)
        # Whoever reads the batch's output (`wargame run ... | tee log`) sees it end:
        # no orphan holds the pipe.
        _stdout, stderr = batch.communicate(timeout=20)
        time.sleep(3)
        tree |= descendants(batch.pid)
        survivors = [p for p in tree if alive(p)]
        assert not survivors, [(p, _cmdline(p)[:120]) for p in survivors]
    finally:
        if batch.poll() is None:
            batch.kill()
        for pid in descendants(batch.pid):
            os.kill(pid, signal.SIGKILL)
    if signum != signal.SIGKILL:
        text = stderr.decode()
        assert batch.returncode == 1, text
        assert f"terminated ({signal.Signals(signum).name}); finished chunks are kept" in text
        assert "Traceback" not in text
        assert "leaked semaphore" not in text  # the resource tracker's warning


def test_sigterm_stops_cleanly_and_the_printed_command_resumes_it(tmp_path: Path) -> None:
    out = tmp_path / "batch"
    args = [
        *wargame_command(), "run", str(TINY), "-n", "30000", "--seed", "4", "--out", str(out),
        "--executor", "process", "--workers", "2", "--chunk-size", "50", "--no-rounds",
        "--set", "Blue.rationality=0.5", "--set", "hawkishness=0.3", "--no-plots",
    ]  # fmt: skip
    batch = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not list((out / ".parts").glob("runs-*.arrow")) and time.time() < deadline:
        time.sleep(0.1)
    batch.send_signal(signal.SIGTERM)
    _, stderr = batch.communicate(timeout=30)
    text = stderr.decode()
    assert batch.returncode == 1, text
    command = text.split("resume with `", 1)[1].split("`", 1)[0]
    words = shlex.split(command)
    assert words[:2] == ["wargame", "run"]
    for expected in (
        ["--chunk-size", "50"],
        ["--set", "Blue.rationality=0.5"],
        ["--set", "hawkishness=0.3"],
        ["--no-rounds"],
        ["--no-plots"],
        ["--out", str(out)],
        ["--resume"],
    ):
        assert any(words[at : at + len(expected)] == expected for at in range(len(words))), (
            expected,
            words,
        )
    played_before = len(list((out / ".parts").glob("runs-*.arrow")))
    assert played_before >= 1
    resumed = subprocess.run(
        [*wargame_command(), *words[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    # This session's seconds are not put on all the runs.
    assert "30,000 runs, finished by this resume in " in resumed.stdout
    assert "runs/s, over every session)" in resumed.stdout
    reference = tmp_path / "reference"
    options = BatchOptions(
        runs=30000,
        seed=4,
        chunk_size=10000,
        executor="inprocess",
        overrides={"Blue.rationality": 0.5, "hawkishness": 0.3},
        keep_rounds=False,
        plots=False,
    )
    runner.run_batch(load(TINY), reference, options)
    assert (out / "runs.parquet").read_bytes() == (reference / "runs.parquet").read_bytes()
    assert not (out / ".parts").exists()


# --- a resume after each phase redoes only what is missing -------------------------------


#: Three tasks: runs 0-4999, 5000-9999, 10000-11999.
OPTIONS = {"runs": 12000, "seed": 8, "chunk_size": 1000, "executor": "inprocess"}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reference") / "batch"
    runner.run_batch(load(TINY), folder, BatchOptions(**OPTIONS, plots=False))
    return folder


class Counter:
    def __init__(self) -> None:
        self.runs = 0


@pytest.fixture
def played(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Counts the runs played (every task goes through play_task)."""
    counter = Counter()
    play = tasks.play_task

    def counting(*args, **kwargs):
        result = play(*args, **kwargs)
        counter.runs += result[1].num_rows
        return result

    monkeypatch.setattr(runner, "play_task", counting)
    return counter


def interrupt(monkeypatch: pytest.MonkeyPatch, module, name: str, after: int = 0) -> None:
    """Make ``module.name`` raise KeyboardInterrupt on call number ``after`` + 1."""
    real = getattr(module, name)
    calls = {"n": 0}

    def stop(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > after:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, stop)


def _same_as(folder: Path, reference: Path) -> None:
    for name in ("runs.parquet", "rounds.parquet", "summary.json"):
        assert (folder / name).read_bytes() == (reference / name).read_bytes(), name
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    rate = manifest["timings"]["runs_per_s"]
    assert rate is None or rate < 10_000_000, rate
    assert not (folder / ".parts").exists()


@pytest.mark.parametrize(
    ("module", "name", "after", "replayed"),
    [
        (runner, "write_part", 1, 7000),  # during play: 1 task of 5,000 kept
        (runner, "merge_parts", 1, 0),  # runs.parquet merged, rounds.parquet not
        (runner, "summarize_file", 0, 0),  # merged, summary not written
        (runner, "_finish", 0, 0),  # everything written but the final manifest
    ],
    ids=["play", "merge", "summary", "finish"],
)
def test_a_resume_after_any_phase_redoes_only_what_is_missing(
    module,
    name: str,
    after: int,
    replayed: int,
    reference: Path,
    played: Counter,
    tmp_path,
    monkeypatch,
) -> None:
    folder = tmp_path / "batch"
    compiled = load(TINY)
    with monkeypatch.context() as patch:
        interrupt(patch, module, name, after)
        with pytest.raises(KeyboardInterrupt):
            runner.run_batch(compiled, folder, BatchOptions(**OPTIONS, plots=False))
    assert (folder / ".parts").is_dir()  # the parts stay until the batch is complete
    merged_before = (folder / "runs.parquet").stat().st_mtime_ns if name != "write_part" else None
    played.runs = 0
    runner.run_batch(compiled, folder, BatchOptions(**OPTIONS, plots=False), resume=True)
    assert played.runs == replayed
    if name in ("summarize_file", "_finish"):
        assert (folder / "runs.parquet").stat().st_mtime_ns == merged_before  # not merged again
    _same_as(folder, reference)


def test_a_resume_after_a_kill_during_the_plots_draws_only_the_plots(
    reference: Path, played: Counter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.analysis import plots

    folder = tmp_path / "batch"
    compiled = load(TINY)
    with monkeypatch.context() as patch:
        # Drawn in this process (not by plot workers), where the interrupt is planted.
        patch.setattr(api, "PARALLEL_PLOTS_RUNS", 10**9)
        interrupt(patch, plots, "plot_fans")
        with pytest.raises(KeyboardInterrupt):
            api.run_batch(compiled, folder, BatchOptions(**OPTIONS))
    played.runs = 0
    results = api.run_batch(compiled, folder, BatchOptions(**OPTIONS), resume=True)
    assert played.runs == 0
    assert "plots_s" in results.manifest["timings"]
    assert (folder / "plots" / "fan_tension.png").is_file()
    _same_as(folder, reference)
    # Now there is nothing left to do.
    line = invoke("run", TINY, "-n", "12000", "--seed", "8", "--chunk-size", "1000",
                  "--out", folder, "--resume", "-q")  # fmt: skip
    assert line.exit_code == 2 and "already finished" in line.stderr


def test_temporary_files_of_a_killed_writer_do_not_break_a_resume(
    reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "batch"
    compiled = load(TINY)
    with monkeypatch.context() as patch:
        interrupt(patch, runner, "merge_parts")
        with pytest.raises(KeyboardInterrupt):
            runner.run_batch(compiled, folder, BatchOptions(**OPTIONS, plots=False))
    # What SIGKILL leaves: a half-merged file and a half-written part.
    (folder / ".runs.parquet.tmp-99999").write_bytes(b"PAR1 half")
    (folder / ".manifest.json.tmp-99999").write_text("{")
    (folder / ".parts" / ".runs-000000099999.arrow").write_bytes(b"half")
    runner.run_batch(compiled, folder, BatchOptions(**OPTIONS, plots=False), resume=True)
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []
    _same_as(folder, reference)


def test_ctrl_c_prints_a_complete_resume_command(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "batch"
    interrupt(monkeypatch, runner, "write_part", 1)
    result = invoke(
        "run", TINY, "-n", "9000", "--seed", "2", "--chunk-size", "1000", "--out", out,
        "--executor", "inprocess", "--no-rounds", "--set", "Blue.foresight=0",
        "--set", "aid_cut=0.5", "--no-plots", "--json", "--force",
    )  # fmt: skip
    assert result.exit_code == 1
    command = result.stderr.split("resume with `", 1)[1].split("`", 1)[0]
    words = shlex.split(command)
    assert "--force" not in words and words[-1] == "--resume"
    monkeypatch.undo()
    assert words[:3] == ["wargame", "run", str(TINY)]
    resumed = invoke(*words[1:])
    assert resumed.exit_code == 0, resumed.output
    summary = json.loads(resumed.stdout)
    assert summary["overrides"] == {"Blue.foresight": 0, "aid_cut": 0.5}

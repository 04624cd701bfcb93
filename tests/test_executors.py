"""Executors play every task exactly once and hand back every result, whatever the pool.

The task here is a plain module-level function (``task_ranges``), so the test is about
the executor's queue (more tasks than the two-per-worker window), not about the game.
"""

from pathlib import Path

import pytest

from sim.batch.executors import run_tasks
from sim.batch.tasks import task_ranges

ROOT = Path(__file__).resolve().parent.parent

ARGUMENTS = [(runs, chunk) for runs in (1, 7, 5000, 12_345) for chunk in (1, 3, 10_000)]


def play_all(executor, workers):
    results = []
    run_tasks(task_ranges, iter(ARGUMENTS), results.append, executor=executor, workers=workers)
    return results


def test_in_process_results_come_in_task_order():
    assert play_all("inprocess", 1) == [task_ranges(*args) for args in ARGUMENTS]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_process_pool_returns_every_task_once(workers):
    # 12 tasks through a window of 2 per worker: the queue refills as tasks finish.
    results = play_all("process", workers)
    expected = [task_ranges(*args) for args in ARGUMENTS]
    assert sorted(results) == sorted(expected)
    assert len(results) == len(ARGUMENTS)


def test_no_task_means_no_call():
    results = []
    run_tasks(task_ranges, iter([]), results.append, executor="process", workers=2)
    assert results == []


def test_start_early_starts_the_forkserver_only_for_a_batch_that_will_use_it(monkeypatch):
    """`wargame run` starts the forkserver before loading, with what the batch will need."""
    import os

    import sim.api
    import sim.batch.executors
    from sim.batch.options import PROCESS_THRESHOLD, BatchOptions

    calls = []
    monkeypatch.setattr(sim.batch.executors, "start_forkserver", calls.append)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    cases = [
        (BatchOptions(runs=100, plots=False), None),  # in this process, no workers
        (BatchOptions(runs=1_000, plots=True), None),  # charts drawn here
        (BatchOptions(runs=PROCESS_THRESHOLD, plots=False), ["sim.batch.tasks"]),
        # In this process, charts in workers: the charts only, not the engine.
        (BatchOptions(runs=10_000, plots=True), ["sim.analysis.plots", "sim.analysis.plotworker"]),
        (
            BatchOptions(runs=PROCESS_THRESHOLD, plots=True),
            ["sim.analysis.plots", "sim.analysis.plotworker", "sim.batch.tasks"],
        ),
        (BatchOptions(runs=PROCESS_THRESHOLD, executor="inprocess", plots=False), None),
        (BatchOptions(runs=100, workers=2, plots=False), ["sim.batch.tasks"]),
    ]
    for options, wanted in cases:
        calls.clear()
        sim.api.start_early(options)
        assert calls == ([] if wanted is None else [wanted]), options


def test_a_forkserver_started_early_serves_the_pool(tmp_path):
    """A pool opened after start_forkserver plays the same rows as one played here."""
    from sim.batch.executors import open_pool, start_forkserver
    from sim.batch.tasks import play_task

    thread = start_forkserver(["sim.batch.tasks"])
    if thread is not None:
        thread.join(timeout=60)
    text = (ROOT / "scenarios" / "textbook" / "mixed_2x2.yaml").read_text()
    arguments = (text, "m.yaml", 3, 0, 300, 100, {}, False)
    with open_pool("process", 1, preload=["sim.batch.tasks"]) as (pool, _):
        _, remote, _, _ = pool.submit(play_task, *arguments).result(timeout=120)
    _, local, _, _ = play_task(*arguments)
    assert remote.equals(local)


def test_charts_drawn_by_workers_import_no_matplotlib_here(tmp_path):
    """The batch's process hands the charts to the plot workers without importing them.

    Nor pandas: neither playing nor writing nor summarising the batch needs it.
    """
    import subprocess
    import sys

    code = (
        "import os, sys; os.cpu_count = lambda: 2\n"
        "from sim.api import run_batch\n"
        "from sim.batch.options import BatchOptions\n"
        "from sim.engine.loading import load\n"
        "c = load('scenarios/textbook/prisoners_dilemma.yaml')\n"
        f"r = run_batch(c, {str(tmp_path / 'out')!r}, BatchOptions(runs=5000, plots=True))\n"
        "print(len(list((r.folder / 'plots').glob('*.png'))), 'matplotlib' in sys.modules,"
        " 'pandas' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    charts, matplotlib, pandas = out.stdout.split()
    assert int(charts) >= 3 and matplotlib == pandas == "False", out.stderr

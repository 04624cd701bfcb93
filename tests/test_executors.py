"""Executors play every task exactly once and hand back every result, whatever the pool.

The task here is a plain module-level function (``task_ranges``), so the test is about
the executor's queue (more tasks than the two-per-worker window), not about the game.
"""

import pytest

from sim.batch.executors import run_tasks
from sim.batch.tasks import task_ranges

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

"""Flat memory: the pieces that keep a batch's memory from growing with its runs.

The measurement itself (peak RSS of the process tree at 10k, 100k and 1M runs) is in
``bench/bench_memory.py`` and ``docs/benchmarks.md``; here, that each streaming piece
gives the numbers the whole-table version gives.
"""

from __future__ import annotations

import weakref
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.analysis import plots
from sim.batch import tasks
from sim.batch.options import BatchOptions
from sim.batch.results import Results
from sim.batch.runner import run_batch
from sim.batch.summary import summarize, summarize_file
from sim.engine.loading import load
from tests.conftest import TINY


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("memory") / "batch"
    run_batch(load(TINY), folder, BatchOptions(runs=3000, seed=21, executor="inprocess"))
    return folder


def test_the_streamed_summary_is_the_whole_table_summary(batch: Path) -> None:
    manifest = Results(batch).manifest
    whole = summarize(pq.read_table(batch / "runs.parquet"), manifest)
    assert summarize_file(batch / "runs.parquet", manifest) == whole


def test_streamed_fan_quantiles_are_within_a_bin_of_the_exact_ones(batch: Path) -> None:
    results = Results(batch)
    layout = results.layout
    runs = pq.read_table(batch / "runs.parquet", columns=["run", "branch.summit"])
    codes, labels, _ = plots._branch_groups(runs, layout, runs.num_rows)
    by_run = np.full(runs.num_rows, -1, dtype=np.int16)
    by_run[runs.column("run").to_numpy()] = codes
    rounds = pq.read_table(batch / "rounds.parquet")
    n_rounds = layout["rounds"] + 1
    columns = [f"metric.{m['id']}" for m in layout["metrics"]]
    streamed = plots.streamed_fan_quantiles(
        batch / "rounds.parquet", by_run, n_rounds, len(labels), columns
    )
    row_groups = by_run[rounds.column("run").to_numpy()]
    for column in columns:
        values = rounds.column(column).to_numpy().astype(np.float64)
        exact, exact_counts = plots.fan_quantiles(
            values, rounds.column("round").to_numpy(), row_groups, n_rounds, len(labels)
        )
        quantiles, counts = streamed[column]
        np.testing.assert_array_equal(counts, exact_counts)
        bin_width = (values.max() - values.min()) / plots.FAN_BINS
        seen = counts > 0
        # Within one bin of the exact quantile (plus float32 rounding of the values).
        assert np.abs(quantiles[seen] - exact[seen]).max() <= bin_width + 1e-6 * (
            1 + np.abs(values).max()
        ), column
        assert np.isnan(quantiles[~seen]).all()


def test_large_batches_draw_streamed_fans(batch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = plots.streamed_fan_quantiles

    def spy(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(plots, "EXACT_FAN_ROWS", 0)
    monkeypatch.setattr(plots, "streamed_fan_quantiles", spy)
    written = plots.make_plots(batch, strict=True)
    assert calls == [batch / "rounds.parquet"]
    assert {p.name for p in written} >= {"fan_tension.png", "fan_troops_k.png"}


def test_dictionary_coded_columns_code_like_plain_ones() -> None:
    values = ["success", "collapse", "", "success", "elsewhere"]
    plain = pa.chunked_array([pa.array(values[:2]), pa.array(values[2:])])
    coded = pa.chunked_array([pa.array(values[:2]).dictionary_encode(),
                              pa.array(values[2:]).dictionary_encode()])  # fmt: skip
    wanted = ["success", "collapse", ""]
    np.testing.assert_array_equal(plots._codes(coded, wanted), [0, 1, 2, 0, -1])
    np.testing.assert_array_equal(plots._codes(plain, wanted), [0, 1, 2, 0, -1])


def test_a_task_leaves_no_model_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    # A model is a web of reference cycles holding large arrays; the task collects it,
    # so a worker's memory does not climb task after task.
    models: list[weakref.ref] = []
    real = tasks.play

    def keep(*args, **kwargs):
        model = real(*args, **kwargs)
        models.append(weakref.ref(model))
        return model

    monkeypatch.setattr(tasks, "play", keep)
    compiled = load(TINY)
    text, path = compiled.loaded.text, compiled.loaded.path
    tasks.play_task(text, path, 1, 0, 600, 200, {}, True)
    assert len(models) == 3
    assert all(ref() is None for ref in models)

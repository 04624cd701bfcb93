"""The public API composes the layers: a batch writes, whoever runs it asks for plots."""

import subprocess
import sys

from sim.batch.options import BatchOptions
from sim.batch.runner import run_batch as write_batch
from sim.engine.loading import load
from tests.conftest import TINY

OPTIONS = dict(runs=300, seed=4, executor="inprocess")


def test_the_documented_imports_work_in_a_fresh_interpreter():
    code = (
        "from sim import load, run_batch, compare, explain, report, sweep, make_design, "
        "Design, BatchOptions, Results, load_results, WargameModel, play, CompiledScenario, "
        "compile_text, load_text, Comparison, write_comparison, ScenarioError, OptionsError, "
        "ResultsError, ScenarioRuntimeError, WargameError, __version__\n"
        "import sim.api\n"
        "assert run_batch is sim.api.run_batch and sweep is sim.api.sweep\n"
        "print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_the_batch_layer_writes_results_and_summary_but_no_plots(tmp_path):
    results = write_batch(load(TINY), tmp_path / "b", BatchOptions(**OPTIONS, plots=True))
    assert results.complete and (tmp_path / "b" / "summary.json").is_file()
    assert not (tmp_path / "b" / "plots").exists()
    assert "plots_s" not in results.manifest["timings"]


def test_sim_run_batch_draws_the_plots_it_is_asked_for_and_times_them(tmp_path):
    from sim import run_batch

    results = run_batch(load(TINY), tmp_path / "b", BatchOptions(**OPTIONS, plots=True))
    assert sorted(p.name for p in (tmp_path / "b" / "plots").iterdir())
    timings = results.manifest["timings"]
    assert timings["plots_s"] > 0
    assert timings["total_s"] >= timings["plots_s"] + timings["play_s"]

    bare = run_batch(load(TINY), tmp_path / "c", BatchOptions(**OPTIONS, plots=False))
    assert not (tmp_path / "c" / "plots").exists()
    assert "plots_s" not in bare.manifest["timings"]

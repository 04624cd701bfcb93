"""The fixed costs a user waits on: which libraries each command's path imports.

validate, replay and step play the engine and nothing else; Mesa's package __init__
(pandas, scipy, networkx) and the charting and Arrow libraries stay off their path.
"""

import json
import subprocess
import sys

import pytest

HEAVY = ("pandas", "scipy", "networkx", "matplotlib", "pyarrow", "SALib")


def imported_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(sorted(set({HEAVY!r}) & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return eval(out.stdout.strip().splitlines()[-1])


def test_playing_a_game_imports_no_heavy_library():
    code = (
        "import numpy as np\n"
        "from sim.engine.loading import load\n"
        "from sim.engine.model import play\n"
        "play(load('scenarios/alaska.yaml'), 0, np.arange(3), keep_trajectories=True)"
    )
    assert imported_after(code) == []


def test_the_model_is_a_mesa_model_and_the_rest_of_mesa_loads_on_demand():
    code = (
        "import numpy as np\n"
        "from sim.engine.loading import load\n"
        "from sim.engine.model import WargameModel\n"
        "import sys\n"
        "assert 'pandas' not in sys.modules\n"
        "import mesa\n"
        "model = WargameModel(load('tests/scenarios/tiny.yaml'), seed=1, runs=np.arange(2))\n"
        "assert isinstance(model, mesa.Model)\n"
        "assert all(isinstance(actor, mesa.Agent) for actor in model.agents)\n"
        "assert mesa.model.Model is mesa.Model\n"
        # Asking for the rest of Mesa runs its package __init__ in place.
        "assert mesa.DataCollector.__module__ == 'mesa.datacollection'\n"
        "assert mesa.__version__.startswith('3.')\n"
        "from mesa import batch_run, space\n"
        "assert mesa.Model is sys.modules['mesa.model'].Model"
    )
    assert "pandas" in imported_after(code)


def test_mesa_imported_first_is_used_as_it_is():
    code = (
        "import mesa\n"
        "from sim.engine.model import WargameModel\n"
        "assert WargameModel.__mro__[1] is mesa.Model\n"
        "assert type(mesa).__name__ == 'module'"
    )
    assert "pandas" in imported_after(code)


def test_plot_workers_draw_the_same_charts_as_this_process(tmp_path):
    import warnings
    from types import SimpleNamespace

    from sim import api
    from sim.analysis import plots
    from sim.batch.options import BatchOptions
    from sim.engine.loading import load

    options = BatchOptions(runs=api.PARALLEL_PLOTS_RUNS, seed=3)
    with api.plot_workers(options) as workers:
        assert workers is not None
        results = api.run_batch(load("tests/scenarios/tiny.yaml"), tmp_path / "b", options)
        # A chart that fails in a worker is a warning here, as when drawn here.
        stale = tmp_path / "b" / "plots" / "fan_gone.png"
        stale.write_bytes(b"old")
        broken = SimpleNamespace(
            folder=results.folder,
            manifest=results.manifest,
            summary={**results.summary, "endings": None},
            add_timing=lambda name, seconds: None,
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            drawn = api.draw_plots(broken, None, workers)
    assert any("plot endings not drawn" in str(w.message) for w in caught)
    assert "endings.png" not in {p.name for p in drawn}
    assert not stale.exists()
    by_workers = {p.name: p.read_bytes() for p in (tmp_path / "b" / "plots").iterdir()}
    here = plots.make_plots(tmp_path / "b")
    assert {p.name for p in here} == set(by_workers) | {"endings.png"}
    for path in here:
        if path.name in by_workers:
            assert path.read_bytes() == by_workers[path.name], path.name


def test_drawing_a_batchs_charts_imports_no_pandas(tmp_path):
    # A plot worker reads runs.parquet; pq.read_table would import pyarrow.dataset and
    # with it pandas, a quarter of a second of each worker's time.
    from sim import api
    from sim.batch.options import BatchOptions
    from sim.engine.loading import load

    options = BatchOptions(runs=200, seed=3, plots=False)
    api.run_batch(load("tests/scenarios/tiny.yaml"), tmp_path / "b", options)
    code = f"from sim.analysis.plots import make_plots\nmake_plots({str(tmp_path / 'b')!r})"
    assert imported_after(code) == ["matplotlib", "pyarrow"]


def test_the_chart_workers_forkserver_imports_the_engine_only_for_a_process_pool():
    # One forkserver serves the chart workers and a batch's process pool. For a batch
    # that plays in its own process it imported the language and the engine
    # (0.13 s of CPU, measured) beside the play, on the core the batch needs.
    from sim import api
    from sim.batch.options import BatchOptions

    assert api._preload(BatchOptions(runs=10_000)) == api._PLOT_PRELOAD
    assert api._preload(BatchOptions(runs=10_000, plots=False)) == []
    pool = BatchOptions(runs=10_000, executor="process", workers=2)
    assert api._preload(pool) == [*api._PLOT_PRELOAD, "sim.batch.tasks"]
    probe = (
        "".join(f"import {name}\n" for name in api._PLOT_PRELOAD)
        + "import sys\n"
        + "print(sorted(m for m in sys.modules if m.startswith(('sim.engine', "
        + "'sim.language', 'sim.batch.tasks', 'mesa'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_two_plot_workers_share_every_chart_once():
    from sim import api
    from sim.analysis.plots import PLOT_PARTS
    from sim.batch.outputs import MAX_FAN_METRICS

    for metrics in range(10):
        shares = api.plot_shares({"metrics": [{"id": f"m{k}"} for k in range(metrics)]})
        assert len(shares) == 2
        drawn = range(min(metrics, MAX_FAN_METRICS))
        fans = [k for parts, which in shares if "fans" in parts for k in drawn[which]]
        assert sorted(fans) == list(drawn)
        others = [p for parts, _ in shares for p in parts if p != "fans"]
        assert sorted(others) == sorted(p for p in PLOT_PARTS if p != "fans")
    # Six fan charts (each about a fifth of a second) are too many for one worker
    # while the other draws only the three other charts: one of them moves over.
    first, second = api.plot_shares({"metrics": [{"id": f"m{k}"} for k in range(6)]})
    assert len(range(6)[first[1]]) == 5 and len(range(6)[second[1]]) == 1


def test_fan_charts_drawn_in_two_shares_are_the_charts_drawn_at_once(tmp_path):
    from sim import api
    from sim.analysis import plots
    from sim.batch.options import BatchOptions
    from sim.engine.loading import load

    options = BatchOptions(runs=300, seed=3, plots=False)
    results = api.run_batch(load("tests/scenarios/tiny.yaml"), tmp_path / "b", options)
    once = {p.name: p.read_bytes() for p in plots.make_plots(results.folder, parts=["fans"])}
    assert len(once) == 3
    shared = plots.make_plots(results.folder, parts=["fans"], fans=slice(0, 2))
    shared += plots.make_plots(results.folder, parts=["fans"], fans=slice(2, None))
    assert {p.name: p.read_bytes() for p in shared} == once


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="times step on a pty")
def test_no_command_got_twice_as_slow_against_plain_python():
    # Ratios to `python -c "import numpy, yaml"` measured in the same run, against those
    # recorded in bench/quick_baseline.json: a busy or slow machine slows both alike.
    out = subprocess.run(
        [sys.executable, "bench/bench_commands.py", "--quick", "--check", "--repeat", "3"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "| validate |" in out.stdout


@pytest.mark.parametrize("plots", [True, False])
def test_explain_gives_the_same_charts_and_rules_from_helpers(tmp_path, monkeypatch, plots):
    from sim.analysis import explainpool, explanation
    from sim.api import run_batch
    from sim.batch.options import BatchOptions
    from sim.engine.loading import load

    folder = tmp_path / "b"
    run_batch(load("tests/scenarios/tiny.yaml"), folder, BatchOptions(runs=600, plots=False))
    options = {"resamples": 2, "plots": plots}
    monkeypatch.setattr(explainpool.os, "cpu_count", lambda: 2)  # helpers even on one core
    by_workers = explanation.explain(folder, out=tmp_path / "workers", **options)
    monkeypatch.setattr(explainpool, "PARALLEL_TARGETS", 10**9)
    here = explanation.explain(folder, out=tmp_path / "here", **options)
    # The rules' resamples were counted (by the helpers, in the first explain).
    assert any(t.get("rule", {}).get("stability") for t in by_workers["targets"])
    assert json.dumps(here["targets"]) == json.dumps(by_workers["targets"])
    pngs = sorted(p.name for p in (tmp_path / "here").glob("*.png"))
    assert pngs == sorted(p.name for p in (tmp_path / "workers").glob("*.png"))
    assert bool(pngs) == plots
    for name in pngs:
        assert (tmp_path / "here" / name).read_bytes() == (tmp_path / "workers" / name).read_bytes()


def test_replaying_a_run_imports_no_pandas_scipy_or_charts(tmp_path):
    """replay reads its row of runs.parquet with Arrow alone (filters= imported pandas)."""
    folder = tmp_path / "batch"
    run = (
        "from sim.api import run_batch\n"
        "from sim.batch.options import BatchOptions\n"
        "from sim.engine.loading import load\n"
        f"run_batch(load('scenarios/alaska.yaml'), {str(folder)!r}, "
        "BatchOptions(runs=300, seed=3, plots=False))"
    )
    subprocess.run([sys.executable, "-c", run], check=True, capture_output=True)
    code = f"from sim.seminar.replay import replay\nreplay({str(folder)!r}, 217)"
    assert imported_after(code) == ["pyarrow"]


@pytest.mark.parametrize("preset", [None, "4"])
def test_the_command_keeps_numpys_blas_to_one_thread_unless_the_user_says(preset):
    # OpenBLAS starts a spinning thread per core when numpy is imported: 0.08 s of CPU
    # in every process of a batch, on the cores it plays and draws on.
    import os

    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if preset:
        env["OPENBLAS_NUM_THREADS"] = preset
    probe = (
        "import os, sys\n"
        "sys.argv = ['wargame', '--version']\n"
        "import cli\n"
        "try:\n"
        "    cli.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['MKL_NUM_THREADS'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split()[-2:] == [preset or "1", "1"]


def test_tight_layout_measuring_once_gives_matplotlibs_layout_and_pixels():
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from sim.analysis.chartkit import tight_layout

    def chart() -> Figure:
        fig = Figure(figsize=(8, 5), dpi=80)
        ax = fig.add_subplot()
        dots = ax.scatter([0.1, 0.5, 0.9], [0.2, 0.4, 0.3], c=[0, 1, 2])
        fig.colorbar(dots, ax=ax).set_label("inputs restricted")
        ax.set_yticks([0, 1, 2], ["a long label\nover two lines", "b", "c"])
        ax.set_xlabel("coverage")
        fig.text(0.01, 0.99, "A title at the top", va="top", fontsize=14)
        return fig

    pictures, positions = [], []
    for lay_out in (tight_layout, lambda fig, rect: fig.tight_layout(rect=rect)):
        fig = chart()
        lay_out(fig, (0, 0, 1, 0.9))
        positions.append([tuple(ax.get_position().bounds) for ax in fig.axes])
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        pictures.append(buffer.getvalue())
    assert positions[0] == positions[1]
    assert positions[0][0][1] > 0.05  # the axes moved up for the label: a layout was made
    assert pictures[0] == pictures[1]


def test_drawing_explains_charts_imports_no_batch_reader(tmp_path):
    # The helper processes draw explain's charts: importing the run's chart module
    # (for a layout helper) brought pyarrow and pydantic, 0.3 s in each of them.
    entry = {
        "id": "war",
        "title": "war",
        "p": 0.3,
        "ranking": [
            {
                "input": "pressure",
                "kind": "parameter",
                "effect": 0.2,
                "significant": True,
                "low": {"label": "≤ 0.2", "p": 0.2},
                "high": {"label": "≥ 0.8", "p": 0.4},
            }
        ],
    }
    code = (
        "import matplotlib.pyplot\n"
        "from pathlib import Path\n"
        "from sim.analysis.explainplots import tornado_chart\n"
        f"assert tornado_chart({entry!r}, Path({str(tmp_path / 't.png')!r}))\n"
        "import sys\n"
        "print(sorted({'pyarrow', 'pydantic', 'pandas'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "t.png").stat().st_size > 1000


def test_explain_starts_its_helpers_forkserver_before_importing_the_analysis(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cli import cli
    from sim.analysis import explainpool
    from sim.api import run_batch
    from sim.batch import executors
    from sim.batch.options import BatchOptions
    from sim.engine.loading import load

    folder = tmp_path / "b"
    run_batch(load("tests/scenarios/tiny.yaml"), folder, BatchOptions(runs=300, plots=False))
    started: list[list[str]] = []
    monkeypatch.setattr(executors, "start_forkserver", lambda preload: started.append(preload))
    monkeypatch.setattr(explainpool.os, "cpu_count", lambda: 2)
    runner = CliRunner()
    result = runner.invoke(cli, ["explain", str(folder), "--resamples", "2", "--no-plots"])
    assert result.exit_code == 0, result.output
    assert started == [["sim.analysis.discovery"]]
    result = runner.invoke(cli, ["explain", str(folder), "--resamples", "2", "--force"])
    assert result.exit_code == 0, result.output
    assert started[1] == explainpool.preload(plots=True)
    assert "matplotlib.pyplot" in started[1]
    # One outcome has no helpers: nothing to start.
    ending = load("tests/scenarios/tiny.yaml").endings[0].id
    args = ["explain", str(folder), "--ending", ending, "--force", "--no-plots"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert len(started) == 2


def test_explain_counts_here_the_resamples_no_helper_has_started():
    from concurrent.futures import Future

    import numpy as np

    from sim.analysis.discovery import resample_stability
    from sim.analysis.explanation import _collect_stability

    rng = np.random.default_rng(3)
    x = rng.random(2000)
    outcome = rng.random(2000) < 0.05 + 0.8 * (x > 0.7)
    arguments = ({"x": x, "noise": rng.random(2000)}, {}, outcome)
    settings = {"resamples": 4, "seed": 2}
    started = Future()  # a helper's, already under way
    started.set_running_or_notify_cancel()
    started.set_result({"x": 0.25})
    waiting: Future = Future()  # no helper has taken it yet
    rules = [{"box": {"restrictions": [{"parameter": "x"}]}} for _ in range(2)]
    _collect_stability(
        [(rules[0], started, arguments, settings), (rules[1], waiting, arguments, settings)]
    )
    assert waiting.cancelled()
    expected = resample_stability(*arguments, **settings)
    assert expected["x"] > 0.5
    assert rules[1]["stability"] == expected
    assert rules[1]["box"]["restrictions"][0]["stability"] == expected["x"]
    assert rules[0]["stability"] == {"x": 0.25}

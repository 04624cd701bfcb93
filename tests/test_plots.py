"""The standard plots: files, numbers behind them, and tiny or odd batches."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim import BatchOptions, load, run_batch
from sim.analysis.plots import (
    NOT_REACHED,
    branch_tree,
    ending_colours,
    fan_quantiles,
    make_plots,
    outcome_colours,
)

TINY = Path(__file__).parent / "scenarios" / "tiny.yaml"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TINY_PNGS = {
    "endings.png",
    "branch_tree.png",
    "fan_tension.png",
    "fan_troops_k.png",
    "fan_risk.png",
    "payoffs.png",
}
# A plot that fails inside a batch is only a warning; in these tests it is an error.
pytestmark = pytest.mark.filterwarnings("error:plot .* not drawn:RuntimeWarning")

SOLO = """\
format: 1
scenario:
  id: solo
  title: One actor, no branches, no metrics
  start_date: 2025-01-01
  round_days: 30
  rounds: 3
state:
  tension:
    initial: 1
    min: 0
    max: 10
actors:
  Blue:
    name: Blue
    payoff:
      weights: {tension: -1.0}
    actions:
      talk:
        effects:
          tension: "-= 0.5"
      wait: {}
endings:
  - id: calm
    title: Calm
"""


def png_text(path: Path) -> dict[str, str]:
    """The tEXt/zTXt/iTXt chunks of a PNG."""
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    out, at = {}, 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        body = data[at + 8 : at + 8 + length]
        if kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            out[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"zTXt":
            key, _, rest = body.partition(b"\0")
            out[key.decode("latin-1")] = zlib.decompress(rest[1:]).decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\0")
            compressed = rest[0]
            rest = rest[2:]
            _lang, _, rest = rest.partition(b"\0")
            _translated, _, text = rest.partition(b"\0")
            out[key.decode("latin-1")] = (zlib.decompress(text) if compressed else text).decode()
        at += 12 + length
    return out


def assert_valid_png(path: Path) -> None:
    assert path.is_file(), path
    assert path.read_bytes()[:8] == PNG_MAGIC
    image = mpimg.imread(path)
    height, width = image.shape[:2]
    assert height > 400 and width > 400


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plots") / "out"
    run_batch(load(TINY), out, BatchOptions(runs=2000, seed=1, executor="inprocess"))
    return out


def test_every_plot_is_a_valid_png(batch: Path) -> None:
    names = {p.name for p in (batch / "plots").iterdir()}
    assert names == TINY_PNGS
    for name in TINY_PNGS:
        assert_valid_png(batch / "plots" / name)
    assert not [p for p in (batch / "plots").iterdir() if p.name.startswith(".")]


def test_plots_carry_the_batch_footer(batch: Path) -> None:
    manifest = json.loads((batch / "manifest.json").read_text())
    text = png_text(batch / "plots" / "endings.png")
    footer = text["Description"]
    assert "seed 1" in footer
    assert f"scenario {manifest['scenario']['sha256'][:8]}" in footer
    assert f"wargame v{manifest['program']['version']}" in footer


def test_branch_tree_matches_an_independent_count(batch: Path) -> None:
    manifest = json.loads((batch / "manifest.json").read_text())
    layout = manifest["layout"]
    table = pq.read_table(batch / "runs.parquet", columns=["ending", "branch.summit"])
    (tree,) = branch_tree(table, layout)
    frame = pd.read_parquet(batch / "runs.parquet", columns=["ending", "branch.summit"])
    n = len(frame)
    crosstab = pd.crosstab(frame["branch.summit"], frame["ending"])
    assert tree["id"] == "summit" and tree["round"] == 2
    ids = [o["id"] for o in tree["outcomes"]]
    expected_ids = ["success", "collapse"] + ([NOT_REACHED] if "" in crosstab.index else [])
    assert ids == expected_ids
    for outcome in tree["outcomes"]:
        key = "" if outcome["id"] == NOT_REACHED else outcome["id"]
        row = crosstab.loc[key]
        assert outcome["count"] == row.sum()
        assert outcome["share"] == pytest.approx(row.sum() / n)
        assert list(outcome["ending_counts"]) == ["war", "deal", "standoff"]
        for ending, count in outcome["ending_counts"].items():
            assert count == row.get(ending, 0)
            assert outcome["ending_shares"][ending] == pytest.approx(row.get(ending, 0) / row.sum())
        assert sum(outcome["ending_shares"].values()) == pytest.approx(1.0)
    # The tree agrees with the summary's branch counts.
    summary = json.loads((batch / "summary.json").read_text())
    assert {o["id"]: o["count"] for o in summary["branches"][0]["outcomes"]} == {
        o["id"]: o["count"] for o in tree["outcomes"]
    }


def test_branch_tree_without_branches_is_the_ending_mix() -> None:
    import pyarrow as pa

    layout = {
        "branches": [],
        "endings": [{"id": "a", "title": "A"}, {"id": "b", "title": "B"}],
    }
    table = pa.table({"ending": ["a", "b", "b", "b"]})
    (tree,) = branch_tree(table, layout)
    assert tree["id"] is None
    (outcome,) = tree["outcomes"]
    assert outcome["count"] == 4
    assert outcome["ending_counts"] == {"a": 1, "b": 3}
    assert outcome["ending_shares"] == {"a": 0.25, "b": 0.75}


def test_a_branch_that_follows_another_says_which_outcome_its_missed_runs_took() -> None:
    # An analyst's trial: the counteroffensive, which only follows a collapse, showed
    # "(not reached)" beside the summit's tree with nothing to say why.
    import pyarrow as pa

    layout = {
        "branches": [
            {"id": "summit", "round": 2, "outcomes": ["success", "collapse"]},
            {"id": "offensive", "round": 5, "outcomes": ["launched", "held"]},
            {"id": "talks", "round": 6, "outcomes": ["yes", "no"]},
        ],
        "endings": [{"id": "a", "title": "A"}],
    }
    table = pa.table({
        "ending": ["a"] * 6,
        "branch.summit": ["success", "collapse", "collapse", "success", "collapse", "success"],
        "branch.offensive": ["", "launched", "held", "", "held", ""],
        "branch.talks": ["", "yes", "", "no", "", "yes"],  # missed by no one outcome
    })  # fmt: skip
    _, offensive, talks = branch_tree(table, layout)
    missed = offensive["outcomes"][-1]
    assert missed["id"] == NOT_REACHED and missed["because"] == "summit = success"
    assert missed["count"] == 3
    assert talks["outcomes"][-1]["id"] == NOT_REACHED and "because" not in talks["outcomes"][-1]


def test_fan_quantiles_against_numpy() -> None:
    rng = np.random.default_rng(7)
    rows = 5000
    rounds = rng.integers(0, 4, rows)
    groups = rng.integers(0, 3, rows)
    values = rng.normal(size=rows).astype(np.float32)
    values[:10] = np.nan  # ignored
    groups[-5:] = -1  # outside every group: ignored
    # Group 2 has nothing in round 3: NaN, count 0.
    groups[(groups == 2) & (rounds == 3)] = 1
    probs = (0.05, 0.25, 0.5, 0.75, 0.95)
    q, counts = fan_quantiles(values, rounds, groups, 4, 3, probs)
    assert q.shape == (3, 4, 5) and counts.shape == (3, 4)
    for g in range(3):
        for r in range(4):
            cell = values[(groups == g) & (rounds == r)].astype(np.float64)
            cell = cell[np.isfinite(cell)]
            assert counts[g, r] == cell.size
            if cell.size:
                np.testing.assert_allclose(q[g, r], np.quantile(cell, probs))
            else:
                assert np.isnan(q[g, r]).all()
    assert counts[2, 3] == 0


def test_fan_quantiles_of_single_values() -> None:
    q, counts = fan_quantiles(np.array([3.0]), np.array([0]), np.array([0]), 2, 1)
    assert counts.tolist() == [[1, 0]]
    assert q[0, 0].tolist() == [3.0] * 5
    assert np.isnan(q[0, 1]).all()


def test_fan_quantiles_match_the_batch_by_outcome(batch: Path) -> None:
    """The join of rounds.parquet with the runs' branch outcomes, done independently."""
    rounds = pd.read_parquet(batch / "rounds.parquet", columns=["run", "round", "metric.tension"])
    runs = pd.read_parquet(batch / "runs.parquet", columns=["run", "branch.summit"])
    joined = rounds.merge(runs, on="run")
    outcomes = ["success", "collapse", ""]
    groups = joined["branch.summit"].map({o: i for i, o in enumerate(outcomes)}).to_numpy()
    q, _ = fan_quantiles(
        joined["metric.tension"].to_numpy(), joined["round"].to_numpy(), groups, 5, 3
    )
    expected = (
        joined.astype({"metric.tension": "float64"})
        .groupby(["branch.summit", "round"])["metric.tension"]
        .quantile(0.5)
    )
    for (outcome, round_), median in expected.items():
        assert q[outcomes.index(outcome), round_, 2] == pytest.approx(median)


def test_run_by_run_fast_path_agrees_with_the_general_one(batch: Path) -> None:
    from sim.analysis.plots import _cells_for, _RunBlocks

    rounds = pd.read_parquet(batch / "rounds.parquet", columns=["run", "round", "metric.risk"])
    runs = pd.read_parquet(batch / "runs.parquet", columns=["run", "branch.summit"])
    code = runs.set_index("run")["branch.summit"].map({"success": 0, "collapse": 1, "": 2})
    groups = code.loc[rounds["run"]].to_numpy().astype(np.int16)
    rounds_ = rounds["round"].to_numpy()
    values = rounds["metric.risk"].to_numpy()
    cells = _cells_for(rounds_, groups, 5, 3)
    assert isinstance(cells, _RunBlocks)
    fast, fast_counts = cells.quantiles(values)
    general, general_counts = fan_quantiles(values, rounds_, groups, 5, 3)
    np.testing.assert_array_equal(fast_counts, general_counts)
    np.testing.assert_allclose(fast, general)
    # Rows out of run order fall back to the general path, with the same answer.
    shuffled = np.random.default_rng(0).permutation(len(values))
    cells = _cells_for(rounds_[shuffled], groups[shuffled], 5, 3)
    assert not isinstance(cells, _RunBlocks)
    again, _ = cells.quantiles(values[shuffled])
    np.testing.assert_allclose(again, general)


def test_colours_follow_the_layout_and_are_stable() -> None:
    layout = load(TINY)
    from sim.batch.runner import layout_of

    first, second = layout_of(layout), layout_of(load(TINY))
    assert ending_colours(first) == ending_colours(second)
    colours = ending_colours(first)
    assert list(colours) == ["war", "deal", "standoff"]
    assert len(set(colours.values())) == 3
    outcomes = outcome_colours(first)
    assert list(outcomes) == ["success", "collapse", NOT_REACHED]
    assert len(set(outcomes.values())) == 3
    assert outcome_colours(first, "summit") == outcomes
    assert outcome_colours({"branches": []}) == {}


def test_make_plots_on_a_finished_folder_reads_what_it_needs(batch: Path) -> None:
    written = make_plots(batch, strict=True)
    assert {p.name for p in written} == TINY_PNGS
    assert all(p.parent == batch / "plots" for p in written)


@pytest.mark.parametrize("runs", [1, 3])
def test_tiny_batches_draw_every_plot(tmp_path: Path, runs: int) -> None:
    out = tmp_path / "out"
    run_batch(load(TINY), out, BatchOptions(runs=runs, seed=3, executor="inprocess"))
    assert {p.name for p in (out / "plots").iterdir()} == TINY_PNGS
    assert_valid_png(out / "plots" / "payoffs.png")
    title = png_text(out / "plots" / "endings.png")
    assert title["Title"] == "endings"


def test_batch_without_rounds_has_no_fan_charts(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_batch(
        load(TINY), out, BatchOptions(runs=200, seed=2, executor="inprocess", keep_rounds=False)
    )
    names = {p.name for p in (out / "plots").iterdir()}
    assert names == {"endings.png", "branch_tree.png", "payoffs.png"}


def test_one_actor_without_branches_or_metrics(tmp_path: Path) -> None:
    path = tmp_path / "solo.yaml"
    path.write_text(SOLO)
    out = tmp_path / "out"
    run_batch(load(path), out, BatchOptions(runs=20, seed=1, executor="inprocess"))
    names = {p.name for p in (out / "plots").iterdir()}
    assert names == {"endings.png", "branch_tree.png", "payoffs.png"}
    for name in names:
        assert_valid_png(out / "plots" / name)


def _tick_labels(ax) -> list[str]:
    """The x tick labels a reader sees (ticks inside the axis limits)."""
    ax.figure.canvas.draw()
    low, high = sorted(ax.get_xlim())
    return [
        t.get_text()
        for t, x in zip(ax.get_xticklabels(), ax.get_xticks(), strict=True)
        if t.get_text() and low - 1e-9 <= x <= high + 1e-9
    ]


def test_fan_chart_dates_are_the_dates_each_round_ends(batch: Path) -> None:
    # Point r is the state at the end of round r: it carries the date the next round
    # starts as replay gives it (an analyst read the last point, labelled with its
    # round's start, as a month early).
    import matplotlib.pyplot as plt

    from sim.analysis.plots import plot_fans
    from sim.seminar.replay import replay, replay_record

    manifest = json.loads((batch / "manifest.json").read_text())
    summary = json.loads((batch / "summary.json").read_text())
    runs = pq.read_table(batch / "runs.parquet", columns=["run", "branch.summit"])
    [(_, fig), *rest] = plot_fans(batch, manifest, summary, runs)
    for _, other in rest:
        plt.close(other)
    ax = fig.axes[0]
    labels = _tick_labels(ax)
    plt.close(fig)
    rounds = replay_record(replay(batch, 0))["rounds"]
    dates = {r["round"]: __import__("datetime").date.fromisoformat(r["date"]) for r in rounds}
    assert labels[0] == "0\nstart"
    step = __import__("datetime").timedelta(days=manifest["layout"]["round_days"])
    checked = 0
    for label in labels[1:]:
        number, date = label.split("\n")
        r = int(number)
        d = dates[r + 1] if r + 1 in dates else dates[r] + step
        assert date == f"{d.day} {d:%b}", (label, d)
        checked += 1
    assert checked >= 3
    # Round 1 starts on the scenario's start date, 2025-08-08.
    assert dates[1].isoformat() == "2025-08-08"


@pytest.mark.parametrize(
    ("low", "high"), [(0.0, 0.021), (0.0031, 0.0102), (0.17, 0.24), (0.0, 1.0), (0.49, 0.5)]
)
def test_probability_axes_have_distinct_ticks_that_say_their_value(low, high) -> None:
    import matplotlib.pyplot as plt

    from sim.analysis.explainplots import percent_axis

    fig, ax = plt.subplots()
    ax.set_xlim(low, high)
    percent_axis(ax.xaxis, low, high)
    labels = _tick_labels(ax)
    plt.close(fig)
    assert len(labels) >= 3
    assert len(set(labels)) == len(labels), labels
    ticks = [float(label.rstrip("%")) / 100 for label in labels]
    assert ticks == sorted(ticks)
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0]), labels  # read at face value, evenly spaced


def _end(p: float, label: str) -> dict:
    """One end of a tornado row: its probability among 100 runs, and its label."""
    return {"p": p, "label": label, "runs": 100, "hits": round(100 * p)}


def test_a_rare_outcomes_tornado_axis_reads_evenly() -> None:
    import matplotlib.pyplot as plt

    from sim.analysis.explainplots import tornado_figure

    entry = {
        "id": "war",
        "title": "War",
        "p": 0.011,
        "ranking": [
            {"kind": "parameter", "input": f"x{i}", "low": _end(0.004 + 0.001 * i, "≤ 0.2"),
             "high": _end(0.019 - 0.001 * i, "≥ 0.8"), "significant": i < 2,
             "effect": 0.015 - 0.002 * i}
            for i in range(5)
        ],
    }  # fmt: skip
    fig = tornado_figure(entry)
    labels = _tick_labels(fig.axes[0])
    plt.close(fig)
    assert len(set(labels)) == len(labels) >= 3, labels
    assert all("." in label for label in labels), labels  # 0.5% steps, not 0% 0% 1%


def test_a_catastrophic_ending_does_not_squash_the_payoff_histogram(tmp_path: Path) -> None:
    from sim.analysis.plots import _far_cluster, plot_payoffs

    values = np.concatenate([np.full(50, -100.0), np.linspace(20, 40, 950)])
    assert _far_cluster(values) == (-100.0, -100.0)
    assert _far_cluster(np.linspace(0, 1, 100)) is None
    # A quarter or more far away is a second mode, drawn as it is.
    assert _far_cluster(np.concatenate([np.full(400, -100.0), np.linspace(20, 40, 600)])) is None
    text = SOLO.replace("  - id: calm", "  - id: doom\n    title: Doom\n    when: tension > 0.9\n"
                        "    payoffs: {Blue: -100}\n  - id: calm")  # fmt: skip
    from sim.language.compiler import compile_text

    out = tmp_path / "b"
    run_batch(compile_text(text, "doom.yaml"), out, BatchOptions(runs=400, seed=3, plots=False))
    manifest = json.loads((out / "manifest.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    runs = pq.read_table(out / "runs.parquet", columns=["run"])
    payoffs = pq.read_table(out / "runs.parquet", columns=["payoff.Blue"]).column(0).to_numpy()
    far = _far_cluster(payoffs)
    assert far is not None and far[1] < -50  # some runs, not most, meet the doom
    fig = plot_payoffs(manifest, summary, out, runs)
    ax = fig.axes[0]
    labels = _tick_labels(ax)
    import matplotlib.pyplot as plt

    plt.close(fig)
    # The main histogram keeps its own scale: its ticks span only the main values,
    # and the far cluster gets one tick of its own.
    main = payoffs[(payoffs < far[0]) | (payoffs > far[1])]
    numbers = []
    for label in labels:
        plain = label.replace("−", "-")
        if plain.lstrip("-").replace(".", "").isdigit():
            numbers.append(float(plain))
    far_mean = payoffs[payoffs <= far[1]].mean()
    assert any(abs(number - far_mean) < 1 for number in numbers), (labels, far_mean)
    assert main.max() - main.min() < 0.5 * (payoffs.max() - payoffs.min())


def figure_texts(figure) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in figure.findobj(Text)]


@pytest.fixture(scope="module")
def alaska_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import ALASKA

    out = tmp_path_factory.mktemp("alaska") / "out"
    options = BatchOptions(runs=300, seed=5, executor="inprocess", plots=False)
    run_batch(load(ALASKA), out, options)
    return out


def test_fan_charts_are_split_by_the_first_branch_unless_told(alaska_batch: Path) -> None:
    from sim.analysis.plots import plot_fans
    from sim.batch.results import Results

    results = Results(alaska_batch)
    runs = pq.read_table(alaska_batch / "runs.parquet")
    first = plot_fans(alaska_batch, results.manifest, results.summary, runs)
    texts = figure_texts(first[0][1])
    assert "Outcome of summit" in texts
    assert any(t.startswith("collapse (") for t in texts)
    chosen = plot_fans(alaska_batch, results.manifest, results.summary, runs, "counteroffensive")
    texts = figure_texts(chosen[0][1])
    assert "Outcome of counteroffensive" in texts
    # The three groups hold every run once: launched + held back + not reached (the
    # runs where the summit succeeded).
    records = runs.to_pandas()
    launched = int((records["branch.counteroffensive"] == "launched").sum())
    assert any(t.startswith("launched (") and f"n={launched:,})" in t for t in texts)
    assert not any(t.startswith("collapse (") for t in texts)


def test_group_by_an_unknown_branch_is_one_line_with_did_you_mean(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli import cli
    from tests.conftest import ALASKA

    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["run", str(ALASKA), "-n", "50", "--out", str(out), "--group-by", "sumit"]
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [
        "--group-by sumit: no branch 'sumit' (did you mean 'summit'?); "
        "the branches are summit, counteroffensive"
    ]
    assert not out.exists()  # refused before anything was played


def test_group_by_colours_the_payoffs_by_that_branch_too(alaska_batch: Path) -> None:
    from sim.analysis.plots import plot_payoffs
    from sim.batch.results import Results

    results = Results(alaska_batch)
    runs = pq.read_table(alaska_batch / "runs.parquet")
    figure = plot_payoffs(results.manifest, results.summary, alaska_batch, runs, "counteroffensive")
    texts = figure_texts(figure)
    assert any("bars coloured by the outcome of counteroffensive" in t for t in texts)


def test_payoff_bars_stack_to_every_run_with_headroom_above(alaska_batch: Path) -> None:
    from matplotlib.collections import PolyCollection

    from sim.analysis.plots import plot_payoffs
    from sim.batch.results import Results

    results = Results(alaska_batch)
    runs = pq.read_table(alaska_batch / "runs.parquet")
    figure = plot_payoffs(results.manifest, results.summary, alaska_batch, runs)
    actors = [a["id"] for a in results.manifest["layout"]["actors"]]
    for actor, ax in zip(actors, figure.axes, strict=False):
        groups = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(groups) == 2, actor  # the summit's two outcomes, one colour each
        heights = [np.ptp(p.vertices[:, 1]) for c in groups for p in c.get_paths()]
        tops = [p.vertices[:, 1].max() for c in groups for p in c.get_paths()]
        # Every run is in one bar (no far cluster here): the shares add up to 1 ...
        assert sum(heights) == pytest.approx(1.0), actor
        # ... and the tallest stack has the axis's 5% headroom, from 0 up.
        low, high = ax.get_ylim()
        assert low == 0 and high == pytest.approx(1.05 * max(tops)), actor
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_sweep_refuses_an_unknown_group_by_before_playing(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli import cli

    out = tmp_path / "out"
    args = ["sweep", str(TINY), "--design", "lhs", "-n", "20", "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--group-by", "sumit"])
    assert result.exit_code == 2
    assert "did you mean 'summit'?" in result.output
    assert not out.exists()


def test_payoffs_by_ending_keep_each_ending_readable_beside_a_common_catastrophe(
    tmp_path: Path,
) -> None:
    from sim.analysis.plots import _far_cluster, plot_payoffs_by_ending

    scenario = Path(__file__).parent / "scenarios" / "common_catastrophe.yaml"
    out = tmp_path / "b"
    run_batch(load(scenario), out, BatchOptions(runs=2000, seed=1, plots=False))
    manifest = json.loads((out / "manifest.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    frame = pd.read_parquet(out / "runs.parquet", columns=["ending", "payoff.Blue", "payoff.Red"])
    blue = frame["payoff.Blue"].to_numpy()
    doom = (frame["ending"] == "doom").to_numpy()
    # The case the payoff chart on one axis cannot draw: a catastrophe in ~40% of runs
    # (no small far cluster to set apart), so on its 40 bins over -1,000..20 every calm
    # run falls into one bar.
    assert 0.3 < doom.mean() < 0.5 and _far_cluster(blue) is None
    one_axis, _ = np.histogram(blue[~doom], bins=np.linspace(blue.min(), blue.max(), 41))
    assert np.count_nonzero(one_axis) == 1
    fig = plot_payoffs_by_ending(manifest, summary, out)
    panels = {ax.get_gid(): ax for ax in fig.axes if ax.get_gid()}
    assert set(panels) == {"Blue|doom", "Blue|calm", "Red|doom", "Red|calm"}
    for key, ax in panels.items():
        actor, ending = key.split("|")
        values = frame.loc[frame["ending"] == ending, f"payoff.{actor}"].to_numpy()
        low, high = ax.get_xlim()
        # Each panel spans its own ending's values (not the -1,000..20 of all runs) ...
        spread = values.max() - values.min()
        assert low <= values.min() and values.max() <= high
        assert high - low < 1.5 * spread, (key, (low, high), spread)
        # ... and the runs spread over many bars: 20 bins over a uniform payoff.
        heights = [np.ptp(p.vertices[:, 1]) for c in ax.collections for p in c.get_paths()]
        assert sum(h > 0 for h in heights) >= 15, key
        # Bars are shares of that ending's runs.
        assert sum(heights) == pytest.approx(1.0)
    import matplotlib.pyplot as plt

    plt.close(fig)


def _pixels(figure, path: Path, lay_out_first: bool) -> np.ndarray:
    from sim.analysis.plots import lay_out_once

    if lay_out_first:
        lay_out_once(figure)
        assert figure.get_layout_engine() is None
    figure.savefig(path, format="png", dpi=150, facecolor="white")
    return mpimg.imread(path)


def test_laying_out_before_saving_draws_the_same_pixels(alaska_batch: Path, tmp_path) -> None:
    """lay_out_once saves savefig's layout pass; what it draws must not move a pixel."""
    import matplotlib

    from sim.analysis.explainplots import tornado_figure
    from sim.analysis.plots import STYLE, plot_endings, plot_payoffs, plot_payoffs_by_ending
    from sim.batch.results import Results

    results = Results(alaska_batch)
    manifest, summary = results.manifest, results.summary
    runs = pq.read_table(alaska_batch / "runs.parquet")
    entry = {
        "id": "wider_war",
        "title": "Wider war",
        "p": 0.2,
        "ranking": [
            {"kind": "parameter", "input": f"knob_{k}", "effect": 0.05 * k,
             "significant": k % 2 == 0, "low": {"label": "≤ 1", "p": 0.2 - 0.01 * k},
             "high": {"label": "≥ 9", "p": 0.2 + 0.02 * k}}
            for k in range(1, 6)
        ],
    }  # fmt: skip
    drawings = {
        # Constrained layout with subfigures, a grid of panels, a legend outside.
        "endings": lambda: plot_endings(manifest, summary),
        "payoffs": lambda: plot_payoffs(manifest, summary, alaska_batch, runs),
        "by_ending": lambda: plot_payoffs_by_ending(manifest, summary, alaska_batch),
        # pyplot's tight_layout, which leaves a placeholder engine behind.
        "tornado": lambda: tornado_figure(entry),
    }
    for name, draw in drawings.items():
        with matplotlib.rc_context(STYLE):
            plain = _pixels(draw(), tmp_path / f"{name}_plain.png", lay_out_first=False)
            once = _pixels(draw(), tmp_path / f"{name}_once.png", lay_out_first=True)
        assert plain.shape == once.shape, name
        assert np.array_equal(plain, once), name


def test_save_png_writes_savefigs_pixels_and_metadata(alaska_batch: Path, tmp_path) -> None:
    """save_png encodes faster than savefig; the image must be savefig's, pixel for pixel."""
    import matplotlib
    from PIL import Image

    from sim.analysis.chartkit import lay_out_once, save_png
    from sim.analysis.explainplots import tornado_figure
    from sim.analysis.plots import STYLE, plot_endings, plot_payoffs_by_ending
    from sim.batch.results import Results

    results = Results(alaska_batch)
    manifest, summary = results.manifest, results.summary
    entry = {
        "id": "wider_war",
        "title": "Wider war",
        "p": 0.2,
        "ranking": [
            {"kind": "parameter", "input": "knob", "effect": 0.1, "significant": True,
             "low": {"label": "≤ 1", "p": 0.15}, "high": {"label": "≥ 9", "p": 0.25}},
        ],
    }  # fmt: skip
    drawings = {
        "endings": lambda: plot_endings(manifest, summary),  # a Figure, no pyplot canvas
        "by_ending": lambda: plot_payoffs_by_ending(manifest, summary, alaska_batch),
        "tornado": lambda: tornado_figure(entry),  # pyplot's Agg canvas
    }
    text = {"Title": "endings", "Description": "Alaska — “summit”, seed 1"}
    for name, draw in drawings.items():
        with matplotlib.rc_context(STYLE):
            figure = draw()
            lay_out_once(figure)
            figure.savefig(tmp_path / f"{name}_savefig.png", format="png", facecolor="white")
            save_png(figure, tmp_path / f"{name}.png", facecolor="white", metadata=text)
        theirs = Image.open(tmp_path / f"{name}_savefig.png")
        mine = Image.open(tmp_path / f"{name}.png")
        assert mine.mode == theirs.mode == "RGBA", name
        assert np.array_equal(np.asarray(mine), np.asarray(theirs)), name
        assert mine.info["dpi"] == theirs.info["dpi"], name
        assert mine.info["Software"] == theirs.info["Software"]
        assert mine.info["Title"] == "endings" and mine.info["Description"] == text["Description"]
        # The background is white, however the figure's own face was set.
        assert tuple(np.asarray(mine)[2, 2]) == (255, 255, 255, 255), name


def test_a_tornado_label_near_zero_stays_clear_of_the_parameter_names() -> None:
    # An analyst's trial: "≤ -1.39: 2.9%" was printed over "dprk_talks_appetite": the
    # axis stops at -2%, leaving no room left of a bar that ends near 0%.
    import matplotlib.pyplot as plt

    from sim.analysis.explainplots import tornado_figure

    entry = {
        "id": "freeze",
        "title": "freeze",
        "p": 0.332,
        "ranking": [
            {"kind": "parameter", "input": "dprk_talks_appetite", "low": _end(0.029, "≤ -1.39"),
             "high": _end(0.402, "≥ 0.35"), "significant": True, "effect": 0.373},
            {"kind": "parameter", "input": "freeze_odds", "low": _end(0.227, "≤ 0.31"),
             "high": _end(0.415, "≥ 0.49"), "significant": True, "effect": 0.188},
            # The re-trial's case: both ends close to the line, drawn over each other
            # when a label had been moved inside a bar too short to hold it.
            {"kind": "parameter", "input": "us_resolve", "low": _end(0.232, "≤ 2"),
             "high": _end(0.208, "≥ 4.98"), "significant": False, "effect": -0.024},
            {"kind": "parameter", "input": "dprk_talks_appetite_2", "low": _end(0.936, "≤ -1.39"),
             "high": _end(0.0, "≥ 0.394"), "significant": True, "effect": -0.936},
        ],
    }  # fmt: skip
    fig = tornado_figure(entry)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    left = ax.get_window_extent(renderer).x0
    names = [t.get_window_extent(renderer) for t in ax.get_yticklabels()]
    right = ax.get_window_extent(renderer).x1
    labels = [t for t in ax.texts if ":" in t.get_text()]
    assert len(labels) == 8
    boxes = [label.get_window_extent(renderer) for label in labels]
    for label, box in zip(labels, boxes, strict=True):
        assert left - 1 <= box.x0 and box.x1 <= right + 1, label.get_text()  # in the plot
        assert not any(box.overlaps(name) for name in names), label.get_text()
    for i, box in enumerate(boxes):  # and never over each other
        assert not any(box.overlaps(other) for other in boxes[i + 1 :]), labels[i].get_text()
    plt.close(fig)

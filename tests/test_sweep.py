"""Sweeps: designs over the parameters, recorded in the manifest, deterministic whatever
the workers or chunk size, replayable run by run."""

import numpy as np
import pytest
from click.testing import CliRunner

from cli import cli
from sim.api import run_batch, sweep
from sim.batch.designs import make_design
from sim.batch.options import BatchOptions
from sim.engine.loading import load
from sim.errors import OptionsError, ResultsError
from sim.seminar.replay import replay
from tests.conftest import TESTS

KNOWN = TESTS / "scenarios" / "known_driver.yaml"
#: pressure, support, noise_a, noise_b, mood: every uncertain parameter of known_driver.
D = 5


@pytest.fixture(scope="module")
def compiled():
    return load(KNOWN)


def test_sobol_sweep_plays_n_times_2d_plus_2_rows_twice_and_records_the_design(tmp_path, compiled):
    results = sweep(compiled, "sobol", 16, seed=3, out=tmp_path / "s", plots=False)
    design = results.manifest["design"]
    # Two replicates by default: every row is played twice, with fresh chance.
    runs = 16 * (2 * D + 2) * 2
    assert results.manifest["runs"] == runs
    assert design["kind"] == "sobol"
    assert design["params"] == ["pressure", "support", "noise_a", "noise_b", "mood"]
    assert (design["n"], design["seed"], design["runs"]) == (16, 3, runs)
    assert (design["replicates"], design["rows_per_sample"]) == (2, 2 * D + 2)
    frame = results.runs()
    assert len(frame) == runs
    # The second replicate repeats the first's parameter values row by row.
    half = runs // 2
    for name in design["params"]:
        column = frame[f"param.{name}"]
        assert list(column[:half]) == list(column[half:])


def test_rows_of_a_sobol_base_sample_share_their_game_chance(compiled):
    design = make_design(compiled, "sobol", 8, seed=1, replicates=3)
    per = 2 * D + 2
    keys = design.stream_keys(0, design.runs)
    # Run k is row k % (8 * per) of replicate k // (8 * per): key = replicate * 8 + sample.
    expected = [(k // (8 * per)) * 8 + (k % (8 * per)) // per for k in range(design.runs)]
    assert keys.tolist() == expected
    assert len(set(keys.tolist())) == 8 * 3
    independent = make_design(compiled, "sobol", 8, seed=1, replicates=1, shared=False)
    assert independent.stream_keys(5, 9).tolist() == [5, 6, 7, 8]
    with pytest.raises(OptionsError, match="--replicates goes with --design sobol"):
        make_design(compiled, "lhs", 8, seed=1, replicates=2)


def test_a_sobol_base_sample_plays_the_same_chance_in_every_row(tmp_path, compiled):
    # noise_a only feeds `chatter`, which no draw reads: rows of one base sample that
    # differ only in parameters no random draw reads must draw the same speeches.
    results = sweep(
        compiled,
        "sobol",
        8,
        seed=2,
        out=tmp_path / "s",
        params=["pressure", "support"],
        replicates=1,
        plots=False,
    )
    choices = results.choices()
    per = 2 * 2 + 2
    by_run = choices.pivot(index="run", columns="round", values="choice.Gov").to_numpy()
    # The actor's choice depends on its rationality and payoffs, which the swept
    # parameters do not touch, and on its draw: equal within a base sample.
    for sample in range(8):
        rows = by_run[sample * per : (sample + 1) * per]
        assert (rows == rows[0]).all()
    # ... and unswept parameters are shared within a base sample too.
    frame = results.runs()
    for sample in range(8):
        assert frame["param.noise_a"][sample * per : (sample + 1) * per].nunique() == 1


def test_sobol_size_must_be_a_power_of_two(compiled):
    with pytest.raises(OptionsError, match="power of 2"):
        make_design(compiled, "sobol", 100, seed=1)


def test_lhs_puts_one_run_in_each_equally_likely_slice_of_every_parameter(compiled):
    n = 60
    design = make_design(compiled, "lhs", n, seed=9)
    values = dict(zip(design.params, design.values.T, strict=True))
    # uniform(0, 1): slice k is [k/n, (k+1)/n).
    assert sorted(np.floor(values["pressure"] * n).astype(int)) == list(range(n))
    # triangular(0, 0.2, 1): the CDF maps each value back into its own slice.
    a, c, b = 0.0, 0.2, 1.0
    x = values["noise_b"]
    cdf = np.where(
        x < c, (x - a) ** 2 / ((b - a) * (c - a)), 1 - (b - x) ** 2 / ((b - a) * (b - c))
    )
    assert sorted(np.floor(cdf * n).astype(int)) == list(range(n))
    # three equally likely moods: exactly n/3 runs each.
    assert np.bincount(values["mood"].astype(int)).tolist() == [20, 20, 20]


def test_grid_is_a_full_factorial_at_slice_midpoints(compiled):
    design = make_design(compiled, "grid", 3, seed=1, params=["pressure", "mood"])
    assert design.runs == 3 * 3
    assert design.levels == (3, 3)
    assert sorted(set(np.round(design.values[:, 0], 12))) == pytest.approx([1 / 6, 1 / 2, 5 / 6])
    pairs = {(round(p, 6), int(m)) for p, m in design.values}
    assert len(pairs) == 9


def test_unswept_parameters_keep_their_own_random_draw(tmp_path, compiled):
    swept = sweep(
        compiled, "lhs", 500, seed=4, out=tmp_path / "s", params=["pressure"], plots=False
    ).runs()
    plain = run_batch(
        compiled, tmp_path / "p", BatchOptions(runs=500, seed=4, plots=False, keep_rounds=False)
    ).runs()
    for name in ("support", "noise_a", "noise_b", "mood"):
        assert swept[f"param.{name}"].equals(plain[f"param.{name}"])
    assert not np.allclose(swept["param.pressure"], plain["param.pressure"])


def test_same_seed_same_bytes_for_one_worker_in_process_and_two_worker_processes(
    tmp_path, compiled
):
    # N = 512 gives 6,144 rows, 12,288 runs: with chunks of 1,000, three tasks.
    common = {"seed": 21, "plots": False}
    one = sweep(compiled, "sobol", 512, out=tmp_path / "one", workers=1, **common)
    two = sweep(
        compiled,
        "sobol",
        512,
        out=tmp_path / "two",
        workers=2,
        executor="process",
        chunk_size=1000,
        **common,
    )
    assert two.manifest["executor"] == "process"
    for name in ("runs.parquet", "rounds.parquet", "choices.parquet"):
        assert (one.folder / name).read_bytes() == (two.folder / name).read_bytes()
    assert one.manifest["design"] == two.manifest["design"]


def test_a_different_seed_gives_a_different_design(compiled):
    first = make_design(compiled, "lhs", 50, seed=1)
    second = make_design(compiled, "lhs", 50, seed=2)
    again = make_design(compiled, "lhs", 50, seed=1)
    assert np.array_equal(first.values, again.values)
    assert not np.array_equal(first.values, second.values)


def test_run_k_of_a_sweep_replays_alone(tmp_path, compiled):
    results = sweep(compiled, "lhs", 200, seed=8, out=tmp_path / "s", plots=False)
    frame = results.runs()
    for k in (0, 77, 199):
        record = replay(results.folder, k).records()
        for column in ("param.pressure", "param.noise_b", "param.mood", "ending", "metric.chatter"):
            assert record[column][0] == frame[column][k], column


def test_run_k_of_a_sobol_sweep_replays_alone_with_its_base_samples_chance(tmp_path, compiled):
    results = sweep(compiled, "sobol", 8, seed=8, out=tmp_path / "s", plots=False)
    frame = results.runs()
    choices = results.choices()
    # A run of the second replicate, and rows in the middle of a base sample.
    for k in (0, 13, 8 * 12 + 29, 191):
        model = replay(results.folder, k)
        record = model.records()
        for column in ("param.noise_a", "param.noise_b", "param.mood", "ending", "metric.chatter"):
            assert record[column][0] == frame[column][k], column
        played = [r.decisions["Gov"].choice[0] for r in model.history]
        assert played == choices[choices["run"] == k]["choice.Gov"].tolist()


def test_a_swept_parameter_cannot_also_be_set(tmp_path, compiled):
    with pytest.raises(OptionsError, match="also swept"):
        sweep(compiled, "lhs", 10, out=tmp_path / "s", settings={"pressure": "0.5"}, plots=False)


def test_cli_sweep_prints_the_design_and_summary(tmp_path):
    out = tmp_path / "cli"
    result = CliRunner().invoke(
        cli,
        [
            "sweep",
            str(KNOWN),
            "--design",
            "grid",
            "-n",
            "4",
            "--params",
            "pressure,support",
            "--seed",
            "2",
            "--out",
            str(out),
            "--no-plots",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "grid design over pressure, support: 16 runs" in result.output
    assert "Crisis" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--design", "sobol", "-n", "100"], "power of 2"),
        (["--design", "lhs", "-n", "10", "--params", "presure"], "did you mean 'pressure'"),
    ],
)
def test_cli_sweep_reports_bad_options_in_one_line_with_exit_2(tmp_path, args, message):
    result = CliRunner().invoke(cli, ["sweep", str(KNOWN), *args, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_sobol_runs_count_in_help():
    result = CliRunner().invoke(cli, ["sweep", "--help"])
    assert "N*(2D+2)" in result.output


def test_an_interrupted_sweep_resumes_to_the_same_bytes(tmp_path, compiled):
    common = {"seed": 6, "plots": False, "chunk_size": 1000, "workers": 1}
    whole = sweep(compiled, "sobol", 512, out=tmp_path / "whole", **common)

    def stop_after_first_task(done, total):
        if 0 < done < total:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(
            compiled, "sobol", 512, out=tmp_path / "cut", progress=stop_after_first_task, **common
        )
    # Same number of runs, another design: resuming would mix two designs.
    with pytest.raises(ResultsError, match="design differs"):
        sweep(compiled, "lhs", 512 * 12 * 2, out=tmp_path / "cut", resume=True, **common)
    resumed = sweep(compiled, "sobol", 512, out=tmp_path / "cut", resume=True, **common)
    assert (resumed.folder / "runs.parquet").read_bytes() == (
        whole.folder / "runs.parquet"
    ).read_bytes()

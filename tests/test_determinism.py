"""Same seed, same results: whatever the worker count, chunk size or executor, and run K
replays alone bit for bit."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from cli import cli
from sim.api import run_batch
from sim.batch.options import BatchOptions
from sim.engine.loading import load
from tests.conftest import TINY

RUNS = 3000


def run_cli(*args):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output + str(result.exception)
    return result


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    base = tmp_path_factory.mktemp("det")
    variants = {
        "default": [],
        "workers1": ["--workers", "1"],
        "workers2": ["--workers", "2", "--executor", "process"],
        "chunk1": ["--chunk-size", "1"],
        "chunk1000": ["--chunk-size", "1000"],
        "chunk7_process": ["--chunk-size", "7", "--workers", "2", "--executor", "process"],
    }
    for name, extra in variants.items():
        run_cli(
            "run",
            str(TINY),
            "-n",
            str(RUNS),
            "--seed",
            "42",
            "--out",
            str(base / name),
            "--no-plots",
            "-q",
            *extra,
        )
    return base, list(variants)


def test_runs_are_identical_for_any_workers_chunks_and_executor(batches):
    base, names = batches
    reference = pq.read_table(base / "default" / "runs.parquet")
    assert reference.num_rows == RUNS
    assert reference.column("run").to_pylist() == list(range(RUNS))
    for name in names[1:]:
        other = pq.read_table(base / name / "runs.parquet")
        assert other.equals(reference), name
        # Fixed row groups make even the bytes equal.
        assert (base / name / "runs.parquet").read_bytes() == (
            base / "default" / "runs.parquet"
        ).read_bytes()
        assert (base / name / "rounds.parquet").read_bytes() == (
            base / "default" / "rounds.parquet"
        ).read_bytes()
        assert (base / name / "choices.parquet").read_bytes() == (
            base / "default" / "choices.parquet"
        ).read_bytes()


def test_choices_record_every_actor_in_every_round_as_replay_plays_them(batches):
    from sim.batch.results import Results
    from sim.seminar.replay import replay

    base, _ = batches
    results = Results(base / "chunk7_process")
    choices = results.choices()
    actors = results.layout["actors"]
    assert [a["id"] for a in actors] == ["Blue", "Red", "Ally"]
    assert actors[0]["actions"] == ["talk", "sanction"]
    assert list(choices.columns) == ["run", "round", "choice.Blue", "choice.Red", "choice.Ally"]
    assert len(choices) == RUNS * 4
    assert str(choices["choice.Blue"].dtype) == "int8"
    for run in (0, 17, RUNS - 1):
        model = replay(results.folder, run)
        mine = choices[choices["run"] == run]
        assert mine["round"].tolist() == [1, 2, 3, 4]
        for actor in actors:
            played = [int(r.decisions[actor["id"]].choice[0]) for r in model.history]
            assert mine[f"choice.{actor['id']}"].tolist() == played


def test_manifest_records_what_was_run(batches):
    base, _ = batches
    manifest = json.loads((base / "workers2" / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["seed"] == 42 and manifest["runs"] == RUNS
    assert manifest["executor"] == "process" and manifest["workers"] == 2
    assert manifest["scenario"]["text"] == TINY.read_text()
    assert manifest["layout"]["actors"][2]["actions"] == ["wait", "send_troops"]
    assert (
        manifest["command_line"][:2] == ["wargame", "run"]
        or manifest["command_line"][0] == "wargame"
    )
    assert (base / "workers2" / "scenario.yaml").read_text() == TINY.read_text()


def test_another_seed_gives_other_runs(tmp_path, batches):
    base, _ = batches
    run_cli(
        "run",
        str(TINY),
        "-n",
        "300",
        "--seed",
        "43",
        "--out",
        str(tmp_path / "s43"),
        "--no-plots",
        "-q",
    )
    a = pq.read_table(base / "default" / "runs.parquet").slice(0, 300)
    b = pq.read_table(tmp_path / "s43" / "runs.parquet")
    assert not np.array_equal(
        a.column("param.hawkishness").to_numpy(), b.column("param.hawkishness").to_numpy()
    )


@pytest.mark.parametrize("run", [0, 1, 17, 1234, RUNS - 1])
def test_replay_of_run_k_equals_its_row(batches, run):
    base, _ = batches
    result = run_cli("replay", str(base / "chunk1000"), "--run", str(run), "--json")
    record = json.loads(result.output)
    row = pq.read_table(base / "default" / "runs.parquet").slice(run, 1).to_pylist()[0]
    for column, value in row.items():
        assert record[column] == value, column
    assert len(record["rounds"]) == 4


def test_interrupted_batch_resumes_to_the_same_result(tmp_path, batches):
    base, _ = batches
    compiled = load(TINY)
    options = BatchOptions(runs=RUNS, seed=42, chunk_size=1000, executor="inprocess", plots=False)
    calls = []

    def interrupt_after_first_task(done, total):
        calls.append(done)
        if done > 0:
            raise KeyboardInterrupt

    out = tmp_path / "resumable"
    with pytest.raises(KeyboardInterrupt):
        run_batch(compiled, out, options, progress=interrupt_after_first_task)
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    assert len(list((out / ".parts").glob("runs-*.arrow"))) == 1
    with pytest.raises(Exception, match="differs"):
        run_batch(
            compiled,
            out,
            BatchOptions(runs=RUNS, seed=43, chunk_size=1000, plots=False),
            resume=True,
        )
    results = run_batch(compiled, out, options, resume=True)
    assert results.complete
    assert (out / "runs.parquet").read_bytes() == (base / "default" / "runs.parquet").read_bytes()


def test_no_rounds_keeps_neither_trajectories_nor_choices(tmp_path):
    from sim.batch.results import Results
    from sim.errors import ResultsError

    run_cli(
        "run",
        str(TINY),
        "-n",
        "50",
        "--out",
        str(tmp_path / "b"),
        "--no-plots",
        "-q",
        "--no-rounds",
    )
    assert not (tmp_path / "b" / "choices.parquet").exists()
    with pytest.raises(ResultsError, match=r"no choices\.parquet"):
        Results(tmp_path / "b").choices()

"""A distributed batch (Dask) equals a local one, byte for byte."""

from click.testing import CliRunner

from cli import cli
from tests.conftest import TINY


def run(*args):
    return CliRunner().invoke(cli, ["run", str(TINY), "--seed", "5", "--no-plots", "-q", *args])


def test_batch_on_a_dask_scheduler_equals_the_local_batch(tmp_path):
    from distributed import LocalCluster

    local = run("-n", "4000", "--out", str(tmp_path / "local"), "--executor", "inprocess")
    assert local.exit_code == 0, local.output
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        remote = run(
            "-n",
            "4000",
            "--chunk-size",
            "700",
            "--out",
            str(tmp_path / "dask"),
            "--executor",
            "dask",
            "--scheduler",
            cluster.scheduler_address,
        )
    assert remote.exit_code == 0, remote.output
    for name in ("runs.parquet", "rounds.parquet", "choices.parquet"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()


def test_an_unreachable_scheduler_is_a_one_line_error(tmp_path):
    result = run(
        "-n",
        "10",
        "--out",
        str(tmp_path / "x"),
        "--executor",
        "dask",
        "--scheduler",
        "tcp://127.0.0.1:9",
    )
    assert result.exit_code == 2
    assert "cannot connect" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "x").exists()


def test_scheduler_without_the_dask_executor_is_rejected(tmp_path):
    result = run("-n", "10", "--out", str(tmp_path / "x"), "--scheduler", "tcp://127.0.0.1:9")
    assert result.exit_code == 2
    assert "--executor dask" in result.stderr

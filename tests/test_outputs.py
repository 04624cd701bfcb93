"""No command writes over a user's file or into a batch's files without being told to.

The rule (``sim/batch/outputs.py``): new paths, or paths the command made itself; a
batch's files never, even with ``--force``; a user's file or folder only with
``--force``, and then nothing is deleted that the command did not make; a path under
an existing file is a clean error.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import TINY
from tests.test_bad_input import invoke


def one_error(result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("outputs")
    made = []
    for name, seed in (("a", 1), ("b", 2)):
        folder = root / name
        result = invoke(
            "run", TINY, "-n", "30", "--seed", seed, "--out", folder, "--executor",
            "inprocess", "--no-plots", "-q",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        made.append(folder)
    return made[0], made[1]


@pytest.fixture
def batch(batches: tuple[Path, Path], tmp_path: Path) -> Path:
    folder = tmp_path / "batch"
    shutil.copytree(batches[0], folder)
    return folder


@pytest.fixture
def other(batches: tuple[Path, Path], tmp_path: Path) -> Path:
    folder = tmp_path / "other"
    shutil.copytree(batches[1], folder)
    return folder


# --- run --force -------------------------------------------------------------------------


def test_force_never_deletes_a_folder_that_merely_holds_a_manifest_json(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (project / ".env").write_text("SECRET=1\n")
    (project / "manifest.json").write_text(json.dumps({"name": "my-web-app"}))
    before = snapshot(project)
    for extra in ([], ["--force"]):
        line = one_error(invoke("run", TINY, "-n", "5", "--out", project, "-q", *extra))
        assert str(project) in line
    assert snapshot(project) == before


@pytest.mark.parametrize("hidden", [".git", ".env", ".DS_Store", ".notes"])
def test_force_never_deletes_hidden_files_it_did_not_make(batch: Path, hidden: str) -> None:
    if hidden == ".git":
        (batch / hidden).mkdir()
        (batch / hidden / "config").write_text("[core]\n")
    else:
        (batch / hidden).write_text("mine\n")
    before = snapshot(batch)
    line = one_error(invoke("run", TINY, "-n", "5", "--out", batch, "-q", "--force"))
    assert hidden in line
    assert snapshot(batch) == before


def test_force_replaces_a_results_folder_and_its_own_leftovers(batch: Path) -> None:
    (batch / ".manifest.json.tmp-4242").write_text("half")
    (batch / ".parts").mkdir()
    (batch / ".parts" / "runs-000000000000.arrow").write_bytes(b"old part")
    result = invoke(
        "run", TINY, "-n", "7", "--seed", "9", "--out", batch, "--force", "--no-plots", "-q"
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in batch.iterdir())
    assert names == [
        "choices.parquet", "manifest.json", "rounds.parquet", "runs.parquet", "scenario.yaml",
        "summary.json",
    ]  # fmt: skip
    assert json.loads((batch / "manifest.json").read_text())["runs"] == 7


@pytest.mark.parametrize(
    "mine", ["plots/my.png", "plots/fan_notes.txt", "plots/old/a.png", "explain/my.csv"]
)
def test_force_never_deletes_a_users_file_in_the_batchs_own_folders(batch: Path, mine: str) -> None:
    # plots/ and explain/ are the batch's, but only what the program wrote there is.
    (batch / mine).parent.mkdir(parents=True, exist_ok=True)
    (batch / mine).write_text("mine\n")
    before = snapshot(batch)
    line = one_error(invoke("run", TINY, "-n", "5", "--out", batch, "-q", "--force"))
    assert mine.split("/")[0] in line and "refusing" in line
    assert snapshot(batch) == before


def test_a_batch_that_fails_while_playing_puts_back_the_batch_it_was_replacing(
    batch: Path, tmp_path: Path
) -> None:
    # A computed sd below zero stops the batch in round 1, after --force has cleared
    # the way: the earlier batch must survive it, byte for byte.
    text = TINY.read_text()
    assert "        cost: 0.3\n" in text
    failing = tmp_path / "failing.yaml"
    failing.write_text(
        text.replace("        cost: 0.3\n", "        cost: normal(0, -1 + 0 * round)\n", 1)
    )
    before = snapshot(batch)
    result = invoke("run", failing, "-n", "20", "--out", batch, "--force", "-q")
    line = one_error(result)
    assert "sd" in line and "round" in line
    assert snapshot(batch) == before
    assert not (batch / ".replaced").exists()


def test_run_never_goes_inside_a_results_folder(batch: Path) -> None:
    before = snapshot(batch)
    for inside in (batch / "plots", batch / "sub" / "deeper"):
        line = one_error(invoke("run", TINY, "-n", "5", "--out", inside, "-q", "--force"))
        assert f"inside the results folder {batch}" in line
    assert snapshot(batch) == before


# --- report --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["runs.parquet", "manifest.json", "summary.json", "scenario.yaml"])
@pytest.mark.parametrize("force", [False, True])
def test_report_never_writes_a_batch_file(batch: Path, name: str, force: bool) -> None:
    before = snapshot(batch)
    args = ["report", batch, "--out", batch / name, *(["--force"] if force else [])]
    line = one_error(invoke(*args))
    assert f"inside the results folder {batch}" in line
    assert snapshot(batch) == before


def test_report_never_writes_into_another_batch(batch: Path, other: Path) -> None:
    before = snapshot(other)
    line = one_error(invoke("report", batch, "--out", other / "report.html", "--force"))
    assert f"inside the results folder {other}" in line
    assert snapshot(other) == before


@pytest.mark.parametrize("name", ["thesis.html", "notes.docx"])
def test_report_asks_for_force_before_replacing_a_users_file(
    batch: Path, tmp_path: Path, name: str
) -> None:
    mine = tmp_path / name
    mine.write_text("two years of work\n")
    line = one_error(invoke("report", batch, "--out", mine))
    assert "--force" in line and str(mine) in line
    assert mine.read_text() == "two years of work\n"
    assert not (batch / "explain").exists()  # refused before anything was written
    result = invoke("report", batch, "--out", mine, "--force")
    assert result.exit_code == 0, result.output
    assert "wargame report" in mine.read_text()


def test_report_replaces_its_own_earlier_report(batch: Path, tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    for _ in range(2):
        result = invoke("report", batch, "--out", target)
        assert result.exit_code == 0, result.output
    # ...and its default place inside the batch it reports.
    for _ in range(2):
        assert invoke("report", batch).exit_code == 0
    assert (batch / "report.html").is_file()


# --- explain and compare ----------------------------------------------------------------------


@pytest.mark.parametrize("where", ["the batch", "plots", "another batch", "another's explain"])
def test_explain_never_writes_into_a_batch(batch: Path, other: Path, where: str) -> None:
    out = {
        "the batch": batch,
        "plots": batch / "plots",
        "another batch": other,
        "another's explain": other / "explain",
    }[where]
    before = snapshot(batch), snapshot(other)
    line = one_error(invoke("explain", batch, "--out", out, "--force"))
    assert "results folder" in line and str(out) in line
    assert (snapshot(batch), snapshot(other)) == before


def test_explain_into_a_users_folder_needs_force_and_deletes_nothing(
    batch: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "analysis"
    folder.mkdir()
    (folder / "draft.md").write_text("mine\n")
    (folder / ".git").mkdir()
    line = one_error(invoke("explain", batch, "--out", folder))
    assert "--force" in line
    assert sorted(p.name for p in folder.iterdir()) == [".git", "draft.md"]
    result = invoke("explain", batch, "--out", folder, "--force")
    assert result.exit_code == 0, result.output
    assert (folder / "draft.md").read_text() == "mine\n" and (folder / ".git").is_dir()
    assert (folder / "explain.json").is_file()
    # A second explanation into the same folder is its own earlier output: no --force.
    assert invoke("explain", batch, "--out", folder).exit_code == 0


@pytest.mark.parametrize("where", ["first", "second", "inside first", "another batch"])
def test_compare_never_writes_into_a_batch(
    batch: Path, other: Path, tmp_path: Path, where: str
) -> None:
    third = tmp_path / "third"
    shutil.copytree(other, third)
    out = {
        "first": batch,
        "second": other,
        "inside first": batch / "compare",
        "another batch": third,
    }[where]
    before = [snapshot(f) for f in (batch, other, third)]
    line = one_error(invoke("compare", batch, other, "--out", out, "--force", "--no-plots"))
    assert "results folder" in line
    assert [snapshot(f) for f in (batch, other, third)] == before


def test_compare_into_a_users_folder_needs_force(batch: Path, other: Path, tmp_path: Path) -> None:
    folder = tmp_path / "slides"
    folder.mkdir()
    (folder / "talk.pptx").write_text("slides")
    line = one_error(invoke("compare", batch, other, "--out", folder, "--no-plots"))
    assert "--force" in line
    result = invoke("compare", batch, other, "--out", folder, "--no-plots", "--force")
    assert result.exit_code == 0, result.output
    assert (folder / "talk.pptx").read_text() == "slides"


# --- a path under a file --------------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "sweep", "report", "explain", "compare", "doc", "new"])
def test_out_under_an_existing_file_is_one_line(
    command: str, batch: Path, other: Path, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    out = notes / "deeper" / ("r.html" if command == "report" else "out")
    args = {
        "run": ["run", TINY, "-n", "5", "--out", out, "-q"],
        "sweep": ["sweep", TINY, "--design", "lhs", "-n", "4", "--out", out, "-q"],
        "report": ["report", batch, "--out", out],
        "explain": ["explain", batch, "--out", out],
        "compare": ["compare", batch, other, "--out", out, "--no-plots"],
        "doc": ["doc", TINY, "--out", out],
        "new": ["new", "starter", "--out", out],
        "step": ["step", TINY, "--no-input", "--format", "html", "--out", out],
    }[command]
    line = one_error(invoke(*args))
    assert f"{notes} is a file, not a folder" in line
    assert notes.read_text() == "mine\n"


@pytest.mark.parametrize("command", ["doc", "new"])
def test_doc_and_new_never_write_into_a_batch(batch: Path, command: str) -> None:
    before = snapshot(batch)
    args = {
        "doc": ["doc", TINY, "--out", batch / "tiny.md", "--force"],
        "new": ["new", "starter", "--out", batch, "--force"],
    }[command]
    line = one_error(invoke(*args))
    assert f"inside the results folder {batch}" in line
    assert snapshot(batch) == before


@pytest.mark.parametrize("name", ["runs.parquet", "manifest.json", "handout.html"])
def test_step_out_never_writes_into_a_batch(batch: Path, name: str) -> None:
    before = snapshot(batch)
    line = one_error(
        invoke("step", TINY, "--no-input", "--format", "html", "--out", batch / name, "--force")
    )
    assert f"inside the results folder {batch}" in line
    assert snapshot(batch) == before


def test_step_out_asks_for_force_before_replacing_a_users_file(tmp_path: Path) -> None:
    mine = tmp_path / "notes.html"
    mine.write_text("my notes\n")
    line = one_error(invoke("step", TINY, "--no-input", "--format", "html", "--out", mine))
    assert "--force" in line
    assert mine.read_text() == "my notes\n"
    result = invoke("step", TINY, "--no-input", "--format", "html", "--out", mine, "--force")
    assert result.exit_code == 0, result.output
    assert "<html" in mine.read_text()


# --- the seminar's saved games ---------------------------------------------------------------


def test_a_game_is_never_saved_inside_a_results_folder(batch: Path, tmp_path: Path) -> None:
    from sim.errors import OptionsError
    from sim.seminar.game import Game

    game = Game.from_results(batch, 2)
    before = snapshot(batch)
    for path in (batch / "fork.json", batch / "plots" / "fork.json", batch / "runs.parquet"):
        with pytest.raises(OptionsError, match="inside the results folder"):
            game.save(path)
    assert snapshot(batch) == before
    assert game.save(tmp_path / "fork.json").is_file()


def test_the_stepper_fork_refuses_a_users_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.json").write_text("mine\n")
    from click.testing import CliRunner

    from cli import cli

    result = CliRunner().invoke(cli, ["step", str(TINY)], input="f\nnotes\nq\ny\n")
    assert "notes.json exists already: [f]ork again with another name" in result.stdout, (
        result.stdout
    )
    assert (tmp_path / "notes.json").read_text() == "mine\n"

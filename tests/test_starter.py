"""`wargame new`: a commented starter scenario that validates cleanly and plays."""

from pathlib import Path

import numpy as np
from click.testing import CliRunner

from cli import cli
from sim.engine.loading import load
from sim.engine.model import play


def write(tmp_path: Path, name: str = "border-crisis") -> Path:
    result = CliRunner().invoke(cli, ["new", name, "--out", str(tmp_path / "lib")])
    assert result.exit_code == 0, result.output
    path = tmp_path / "lib" / f"{name}.yaml"
    assert f"wrote {path}" in result.output
    return path


def test_the_starter_validates_with_no_warning(tmp_path: Path) -> None:
    path = write(tmp_path)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines() == [
        f"{path}: ok: scenario 'border_crisis', 2 actors, 6 actions, 8 rounds, "
        "2 parameters, 1 branch, 3 endings"
    ]
    assert load(path).warnings == []


def test_the_starter_runs_and_reaches_every_ending(tmp_path: Path) -> None:
    path = write(tmp_path)
    out = tmp_path / "results"
    result = CliRunner().invoke(cli, ["run", str(path), "-n", "200", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert (out / "runs.parquet").is_file() and (out / "plots" / "fan_tension.png").is_file()
    compiled = load(path)
    endings = play(compiled, 20250815, np.arange(2000)).records()["ending"]
    assert set(endings) == {e.id for e in compiled.endings}


def test_the_starter_shows_the_parts_an_author_needs_first(tmp_path: Path) -> None:
    compiled = load(write(tmp_path))
    spec = compiled.loaded.spec
    assert len(spec.actors) == 2
    for actor in compiled.actors:
        assert actor.reasoning != "myopic" and actor.foresight > 0, actor.id
    assert len(compiled.branches) == 1
    stopping = [e for e in spec.endings if e.stop]
    assert stopping and stopping[0].payoffs
    assert spec.metrics and spec.scenario.sources
    for name, param in spec.parameters.items():
        assert param.source and param.confidence and param.description, name
    text = (tmp_path / "lib" / "border-crisis.yaml").read_text()
    assert text.count("\n#") + text.count("  # ") >= 20  # it explains itself
    assert "docs/scenario-format.md" in text


def test_new_never_writes_over_a_file_without_force(tmp_path: Path) -> None:
    path = write(tmp_path)
    path.write_text("my edits\n")
    again = CliRunner().invoke(cli, ["new", "border-crisis", "--out", str(path.parent)])
    assert again.exit_code == 2
    assert again.output.strip() == f"{path} exists; pass --force to replace it"
    assert path.read_text() == "my edits\n"
    forced = CliRunner().invoke(cli, ["new", "border-crisis", "--out", str(path.parent), "--force"])
    assert forced.exit_code == 0
    assert "id: border_crisis" in path.read_text()


def test_a_name_that_cannot_be_an_id_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["new", "9 lives", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "must start with a letter" in result.output
    assert list(tmp_path.iterdir()) == []


def test_validate_warns_of_an_ending_an_earlier_one_always_takes(tmp_path: Path) -> None:
    # The starter's settlement given war's condition: endings are checked in order, so it
    # can never end a run. Located at its condition; a warning, not an error.
    path = write(tmp_path)
    text = path.read_text()
    original = "when: talks == 'agreed' and tension < 5"
    assert original in text
    path.write_text(text.replace(original, "when: tension >= 9"))
    result = CliRunner().invoke(cli, ["validate", str(path), "--trial-runs", "400"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if "warning" in line]
    assert len(warnings) == 1, result.output
    rows = path.read_text().splitlines()
    line = max(n for n, row in enumerate(rows, 1) if "tension >= 9" in row)  # settlement's
    assert warnings[0].startswith(f"{path}:{line}:")
    assert "ending 'settlement' never ended a trial run" in warnings[0]
    assert "('war')" in warnings[0]

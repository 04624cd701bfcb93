"""The worked examples in the help of `doc`, `new` and `run --group-by` work as written."""

import os
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from tests.conftest import ROOT


def examples(command: str) -> list[list[str]]:
    text = CliRunner().invoke(cli, [command, "--help"], terminal_width=100).output
    tail = text.rstrip().split("Example", 1)[1]
    joined = tail.replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        line = line.strip().removeprefix("(then: ").removesuffix(")")
        if line.startswith("wargame "):
            found.append(shlex.split(line)[1:])
    return found


@pytest.fixture
def workdir(tmp_path: Path):
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    before = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(before)


@pytest.mark.parametrize("command", ["doc", "new"])
def test_the_help_examples_run(command: str, workdir: Path) -> None:
    commands = examples(command)
    assert commands, command
    for args in commands:
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, (args, result.output)


def test_the_group_by_example_runs(workdir: Path) -> None:
    args = next(a for a in examples("run") if "--group-by" in a)
    result = CliRunner().invoke(cli, [*args, "--quiet", "--out", "results/example"])
    assert result.exit_code == 0, result.output
    assert (workdir / "results" / "example" / "plots" / "fan_ru_manpower_gap_k.png").is_file()

"""Every command's help ends with a worked example that would actually work."""

import itertools
import re
import shlex

import pytest
from click.testing import CliRunner

from cli import cli
from sim.engine.loading import load
from tests.conftest import ALASKA

COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_ends_with_a_worked_example(command):
    result = CliRunner().invoke(cli, [command, "--help"], terminal_width=80)
    assert result.exit_code == 0
    tail = result.output.rstrip().split("\n\n")[-1]
    assert re.search(r"Examples?:", tail), tail
    assert f"wargame {command}" in tail


def test_examples_name_real_endings_and_actors():
    alaska = load(ALASKA)
    endings = {e.id for e in alaska.endings}
    actors = {a.id for a in alaska.actors}
    for command in COMMANDS:
        text = CliRunner().invoke(cli, [command, "--help"]).output
        for line in text.splitlines():
            words = shlex.split(line.replace("\\", "")) if "wargame" in line else []
            for flag, value in itertools.pairwise(words):
                if flag == "--ending":
                    assert value in endings, (command, value)
                if flag == "--play":
                    assert value in actors, (command, value)


def test_the_group_lists_every_command():
    text = CliRunner().invoke(cli, ["--help"]).output
    for command in COMMANDS:
        assert command in text


def test_documented_alaska_commands_name_real_parameters_and_actors():
    from tests.conftest import ROOT

    alaska = load(ALASKA)
    names = set(alaska.param_names) | set(alaska.state_names)
    actors = {a.id for a in alaska.actors}
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for line in doc.read_text().splitlines():
            if "wargame" not in line or "scenarios/alaska.yaml" not in line:
                continue
            words = line.split("#")[0].split()
            for flag, value in itertools.pairwise(words):
                if flag == "--set":
                    assert value.split("=")[0] in names, (doc.name, line)
                if flag == "--play":
                    assert value in actors, (doc.name, line)


def test_the_cli_starts_without_importing_the_engine():
    # `wargame --help` and shell completion run the program on every TAB: importing
    # Mesa, pandas and scipy would cost over a second each time.
    import subprocess
    import sys

    code = "import sys, cli, sim; print(sorted({'mesa', 'pandas', 'scipy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_public_name_of_sim_resolves():
    import sim

    for name in sim.__all__:
        assert getattr(sim, name) is not None, name
    assert callable(sim.explain) and callable(sim.compare) and callable(sim.report)


def test_wargame_alone_shows_the_help_and_exits_0():
    bare = CliRunner().invoke(cli, [], prog_name="wargame")
    asked = CliRunner().invoke(cli, ["--help"], prog_name="wargame")
    assert bare.exit_code == 0, bare.output
    assert bare.output == asked.output
    assert "Commands:" in bare.output and "Error" not in bare.output

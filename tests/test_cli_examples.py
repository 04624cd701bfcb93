"""Every example in every command's help, run as a user would copy it.

The examples are read from the help texts themselves, so an example that stops working
(a renamed flag, an ending or folder that no longer exists) fails here. They run in
order in a scratch folder holding a copy of ``scenarios/``, with fewer runs than the
help shows (``-n 100000`` becomes ``-n 3000``) and, for ``serve``, a free port; the
interactive ones are given keys to quit. The two batches ``compare``'s example compares
are made first, as its help says they are (two runs of alaska with the aid cut at 60%
and 20%).
"""

from __future__ import annotations

import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from tests.conftest import ROOT

#: Fewer runs than the help shows, everything else as written.
SMALLER = {
    "-n 100000": "-n 3000",
    "-n 2000": "-n 300",
    "-n 512": "-n 8",
    "-n 256": "-n 4",
    "--measure-runs 1000": "--measure-runs 100",
}
#: Keys for the examples that ask questions: play a round, fork it, quit.
KEYS = {
    ("step", "scenarios/alaska.yaml"): "n\n1\n1\nf\nclass-a\nq\ny\n",
    ("step", "--resume"): "q\ny\n",
    ("replay", "results/alaska-7"): "q\ny\n",
}


def help_examples() -> dict[str, list[list[str]]]:
    """Each command's examples, as argument lists (without the leading ``wargame``)."""
    found: dict[str, list[list[str]]] = {}
    for command in sorted(cli.commands):
        text = CliRunner().invoke(cli, [command, "--help"], terminal_width=80).output
        tail = text[text.rindex("Example") :].replace("\\\n", " ")
        examples = []
        for line in tail.splitlines():
            if "wargame " not in line:
                continue
            line = line[line.index("wargame ") :].removesuffix(")")
            for many, few in SMALLER.items():
                line = line.replace(many, few)
            examples.append(shlex.split(line)[1:])
        found[command] = examples
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(args: list[str], folder: Path) -> None:
    """Start the classroom server as the example says, load its page, stop it."""
    port = free_port()
    args = [*args[: args.index("--port")], "--port", str(port)]
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", *args],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
                    assert page.status == 200
                    break
            except OSError:
                assert server.poll() is None, server.communicate()[0]
                assert time.monotonic() < deadline, "the server did not answer in 60 s"
                time.sleep(0.2)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    for team in ("US", "RU", "UA", "EU"):
        assert f"team {team}" in output, output


def test_every_example_in_the_help_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    examples = help_examples()
    assert all(examples.values()), {c: e for c, e in examples.items() if not e}
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def wargame(args: list[str]) -> str:
        keys = next((k for (c, first), k in KEYS.items() if args[:2] == [c, first]), None)
        result = runner.invoke(cli, args, input=keys, env={"COLUMNS": "80"})
        assert result.exit_code == 0, (args, result.output)
        return result.output

    # The two batches compare's example compares (the help calls them aid cut 60% and 20%).
    for cut in ("60", "20"):
        base = ["run", "scenarios/alaska.yaml", "-n", "300", "--no-plots"]
        wargame([*base, "--set", f"us_aid_cut=0.{cut}", "--out", f"results/aid-{cut}"])
    order = ["new", "validate", "doc", "run", "replay", "explain", "report", "sweep"]
    order += ["compare", "step", "serve"]
    assert sorted(order) == sorted(examples), "a new command: give its examples a place"
    ran = 0
    for command in order:
        for args in examples[command]:
            # (new's help goes on to "then: wargame validate ..." the file it made)
            assert args[0] in (command, "validate"), args
            if command == "serve":
                serve(args, tmp_path)
            else:
                wargame(args)
            ran += 1
    assert ran == sum(len(e) for e in examples.values())
    # What the examples say they make is there.
    for made in [
        "scenarios/border-crisis.yaml",
        "alaska.md",
        "docs/scenarios",
        "results/alaska-7/runs.parquet",
        "results/alaska-7/explain/explain.json",
        "alaska-7.html",
        "results/a-lhs/runs.parquet",
        "results/a-sobol-3/runs.parquet",
        "results/aid-60-vs-20",
        "class-a.json",
        "class-a.html",
    ]:
        assert (tmp_path / made).exists(), made

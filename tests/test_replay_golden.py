"""A golden replay transcript of the small test scenario at a fixed seed.

The file tests/golden/tiny_replay_seed7_run3.txt is the program's own output, committed
and reviewed by eye: any change to the engine's numbers or wording shows up here. After
an intended change, regenerate it with ``WARGAME_UPDATE_GOLDEN=1 pytest
tests/test_replay_golden.py`` and review the diff before committing.
"""

import os
from pathlib import Path

from click.testing import CliRunner

from cli import cli
from tests.conftest import TINY

GOLDEN = Path(__file__).parent / "golden" / "tiny_replay_seed7_run3.txt"


def test_replay_transcript_matches_the_golden_file(tmp_path):
    runner = CliRunner()
    out = tmp_path / "batch"
    result = runner.invoke(
        cli, ["run", str(TINY), "-n", "50", "--seed", "7", "--out", str(out), "--no-plots", "-q"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["replay", str(out), "--run", "3"])
    assert result.exit_code == 0, result.output
    # The scenario path is as the test found it; make the transcript location-free.
    text = result.output
    if os.environ.get("WARGAME_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()
    assert max(len(line) for line in text.splitlines()) <= 80

"""Shared fixtures: small scenarios written inline, and paths to the committed ones."""

from pathlib import Path
from textwrap import dedent

import pytest

from sim.language.compiler import compile_text

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_exported_columns(monkeypatch):
    """Tests see no exported COLUMNS unless they set it: a CI runner's must not narrow
    the text that the CLI writes to a pipe (100 columns), which tests read."""
    monkeypatch.delenv("COLUMNS", raising=False)


TESTS = ROOT / "tests"
TINY = TESTS / "scenarios" / "tiny.yaml"
ALASKA = ROOT / "scenarios" / "alaska.yaml"

HEADER = """\
scenario:
  id: t
  title: Test
  start_date: 2025-08-08
  round_days: 7
  rounds: {rounds}
"""


def scenario(*sections: str, rounds: int = 1):
    """Compile a scenario from its sections (the metadata header is added)."""
    body = "".join(dedent(section) for section in sections)
    return compile_text(HEADER.format(rounds=rounds) + body, "inline.yaml")


@pytest.fixture
def tiny_path() -> Path:
    return TINY

"""Property: whatever is done to a real scenario or a real results folder, only the
project's own errors come out, each with a location. Never a traceback.

Hypothesis mutates ``tests/scenarios/tiny.yaml`` (characters inserted, deleted or
replaced, YAML tags, control characters, huge numbers, lines swapped or repeated) and a
real results folder (bytes flipped, files truncated or deleted, manifest keys removed or
given values of another type). A scenario must load and play a short trial, or fail
with :class:`ScenarioError` / :class:`ScenarioRuntimeError` lines ``FILE:LINE:COL:
message``; a results folder must read back exactly, or fail with a one-line
:class:`ResultsError` naming the folder. Bounded: a fixed number of examples, each with
a deadline, derandomised so CI sees the same examples every time.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.batch.options import BatchOptions
from sim.batch.results import Results
from sim.batch.runner import run_batch
from sim.engine.loading import load
from sim.engine.model import play
from sim.errors import ResultsError, ScenarioError, ScenarioRuntimeError, WargameWarning
from sim.language.compiler import compile_text
from sim.seminar.replay import replay, replay_record
from tests.conftest import TINY

TEXT = TINY.read_text(encoding="utf-8")
LINES = TEXT.split("\n")
NAME = "mutant.yaml"
LOCATED = re.compile(rf"^{re.escape(NAME)}:(\d+):(\d+): \S")

PIECES = [
    "\x0c", "\x00", "\x1b", "\t", "\r", "\u2028", "\ufeff", ":", "- ", "'", '"', "{", "}",
    "[", "]", "&a ", "*a", "!!timestamp tomorrow", "!!binary aGk=", "!!set {a}", "!custom ",
    "!!python/object/apply:os.system [ls]", "9" * 5000, "1e400", "nan", "-.inf", "0x" + "f" * 40,
    "bernoulli(2)", "uniform(1, 0)", "normal(0, -1)", "clip(tension, 0.9, 0.1)",
    "(round > 1) - (summit == 'collapse')", "__import__('os')", "tension / 0", "log(0)",
    "x" * 20000, "round", "summit", "~", "null", "<<: *a", "? ", "%YAML 1.1\n", "---\n", "...\n",
]  # fmt: skip

mutations = st.one_of(
    # insert a piece somewhere
    st.tuples(st.just("insert"), st.integers(0, len(TEXT)), st.sampled_from(PIECES)),
    # insert any character
    st.tuples(st.just("insert"), st.integers(0, len(TEXT)), st.characters()),
    # delete a span
    st.tuples(st.just("delete"), st.integers(0, len(TEXT)), st.integers(1, 40)),
    # replace a value after a colon on a line
    st.tuples(st.just("value"), st.integers(0, len(LINES) - 1), st.sampled_from(PIECES)),
    # swap or repeat lines
    st.tuples(st.just("swap"), st.integers(0, len(LINES) - 1), st.integers(0, len(LINES) - 1)),
    st.tuples(st.just("repeat"), st.integers(0, len(LINES) - 1), st.integers(1, 3)),
)


def mutate(text: str, change: tuple) -> str:
    kind, a, b = change
    if kind == "insert":
        return text[:a] + b + text[a:]
    if kind == "delete":
        return text[:a] + text[a + b :]
    lines = text.split("\n")
    a %= len(lines)
    if kind == "value":
        if ":" in lines[a]:
            key, _, _ = lines[a].partition(":")
            lines[a] = f"{key}: {b}"
        else:
            lines[a] = lines[a] + b
    elif kind == "swap":
        b %= len(lines)
        lines[a], lines[b] = lines[b], lines[a]
    else:
        lines[a:a] = [lines[a]] * b
    return "\n".join(lines)


@settings(
    max_examples=60,
    deadline=10_000,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(mutations, min_size=1, max_size=3))
def test_a_mutated_scenario_loads_plays_or_says_where_it_is_wrong(changes: list) -> None:
    text = TEXT
    for change in changes:
        text = mutate(text, change)
    try:
        compiled = compile_text(text, NAME)
        play(compiled, 0, np.arange(8), keep_trajectories=True)
    except ScenarioError as exc:
        lines = exc.lines()
        assert lines
        for line in lines:
            match = LOCATED.match(line)
            assert match, line
            assert int(match[1]) >= 1 and int(match[2]) >= 1, line
            assert "Traceback" not in line and "set_int_max_str_digits" not in line
    except ScenarioRuntimeError as exc:
        assert LOCATED.match(str(exc)), str(exc)
        assert " in run " in str(exc) or "at round" in str(exc), str(exc)


# --- results folders -----------------------------------------------------------------------

FILES = ["manifest.json", "runs.parquet", "rounds.parquet", "summary.json", "scenario.yaml"]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    folder = tmp_path_factory.mktemp("fuzz") / "batch"
    run_batch(load(TINY), folder, BatchOptions(runs=30, seed=12, executor="inprocess"))
    results = Results(folder)
    return folder, results.summary, replay_record(replay(folder, 7))


def _any_json() -> st.SearchStrategy:
    return st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=5,
    )


folder_mutations = st.one_of(
    st.tuples(st.just("flip"), st.sampled_from(FILES), st.integers(0, 10**9), st.integers(1, 64)),
    st.tuples(st.just("truncate"), st.sampled_from(FILES), st.floats(0, 1), st.just(0)),
    st.tuples(st.just("delete"), st.sampled_from(FILES), st.just(0), st.just(0)),
    st.tuples(st.just("drop-key"), st.just("manifest.json"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("set-key"), st.just("manifest.json"), st.integers(0, 10**6), _any_json()),
)


def _paths(value: object, path: tuple = ()) -> list[tuple]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*path, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value[:3]):
            found += _paths(inner, (*path, i))
    return found


def damage(folder: Path, change: tuple) -> None:
    kind, name, where, what = change
    path = folder / name
    if not path.exists():
        return
    if kind == "flip":
        data = bytearray(path.read_bytes())
        if data:
            start = where % len(data)
            for i in range(start, min(start + what, len(data))):
                data[i] ^= 0x5A
            path.write_bytes(bytes(data))
    elif kind == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * where)])
    elif kind == "delete":
        path.unlink()
    else:
        try:
            manifest = json.loads(path.read_text())
        except ValueError:
            return
        paths = _paths(manifest)
        if not paths:
            return
        target = paths[where % len(paths)]
        holder = manifest
        for part in target[:-1]:
            holder = holder[part]
        if kind == "drop-key":
            del holder[target[-1]]
        else:
            holder[target[-1]] = what
        path.write_text(json.dumps(manifest))


@settings(
    max_examples=50,
    deadline=10_000,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(folder_mutations, min_size=1, max_size=3))
def test_a_damaged_results_folder_reads_back_exactly_or_says_so(
    batch: tuple[Path, dict, dict], changes: list
) -> None:
    pristine, summary, record = batch
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "batch"
        shutil.copytree(pristine, folder)
        for change in changes:
            damage(folder, change)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", WargameWarning)
                results = Results(folder)
                # What it reads is what the batch wrote, or it refused to read it.
                assert results.summary == summary
                assert replay_record(replay(folder, 7)) == record
                results.rounds(["run"])
                assert results.runs_table().num_rows == 30
        except ResultsError as exc:
            lines = exc.lines()
            assert len(lines) == 1 and "\n" not in lines[0]
            assert lines[0].startswith(str(folder)), lines[0]

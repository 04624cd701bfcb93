"""``--set ACTOR.rationality=X`` (and foresight, depth, prior, reasoning): what-if batches about how
an actor reasons, recorded like any other setting and exact in replays."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sim.batch.options import BatchOptions, check_overrides
from sim.batch.runner import run_batch
from sim.engine.loading import load
from sim.engine.model import WargameModel
from sim.errors import OptionsError
from sim.seminar.replay import replay, replay_record
from tests.conftest import TINY
from tests.test_bad_input import invoke

COMPILED = load(TINY)


def first_round(overrides: dict[str, float], runs: int = 400) -> WargameModel:
    model = WargameModel(COMPILED, 3, np.arange(runs), overrides=overrides, keep_history=True)
    with np.errstate(all="ignore"):
        model.step()
    return model


def test_rationality_zero_makes_the_choice_uniform_among_open_options() -> None:
    model = first_round({"Blue.rationality": 0.0})
    blue = model.history[0].decisions["Blue"]
    # Both of Blue's options are open in round 1: each has probability exactly 1/2.
    assert blue.feasible.all()
    np.testing.assert_array_equal(blue.probabilities, np.full_like(blue.probabilities, 0.5))
    # The scenario's own lambda (2.0) does not choose uniformly.
    plain = first_round({}).history[0].decisions["Blue"]
    assert np.abs(plain.probabilities - 0.5).max() > 0.05


def test_a_large_rationality_is_the_best_reply() -> None:
    model = first_round({"Red.rationality": 1e6})
    red = model.history[0].decisions["Red"]
    best = np.argmax(red.scores, axis=0)
    np.testing.assert_array_equal(np.argmax(red.probabilities, axis=0), best)
    assert red.probabilities.max(axis=0).min() > 0.999


def test_the_setting_is_a_number_even_where_the_scenario_has_an_expression() -> None:
    from sim.engine.actor_settings import with_actor_settings

    changed = with_actor_settings(COMPILED, {"Blue.rationality": 0.25, "Blue.foresight": 0})
    blue = changed.actors[0]
    assert blue.rationality.constant == 0.25 and blue.foresight == 0
    assert COMPILED.actors[0].foresight == 2  # the scenario itself is untouched
    assert changed is with_actor_settings(COMPILED, {"Blue.foresight": 0, "Blue.rationality": 0.25})
    assert with_actor_settings(COMPILED, {"hawkishness": 0.5}) is COMPILED


def test_foresight_off_changes_the_game() -> None:
    runs = np.arange(300)
    seen = WargameModel(COMPILED, 5, runs)
    blind = WargameModel(COMPILED, 5, runs, overrides={"Blue.foresight": 0})
    with np.errstate(all="ignore"):
        seen.run_model()
        blind.run_model()
    assert not np.array_equal(seen.payoff_total, blind.payoff_total)


@pytest.mark.parametrize(
    ("setting", "fragment"),
    [
        ("Blue.rationality=-1", "must be the logit lambda, a number >= 0"),
        ("Blue.rationality=nan", "must be the logit lambda"),
        ("Blue.rationality=lots", "not a number"),
        ("Bleu.rationality=1", "no actor 'Bleu' (did you mean 'Blue'?)"),
        ("Blue.rationalty=1", "did you mean 'rationality'?"),
        ("Blue.foresight=1.5", "a whole number from 0 to 520"),
        ("Blue.foresight=600", "a whole number from 0 to 520"),
        ("Red.depth=2", "'depth' goes with reasoning level-k; Red reasons beliefs"),
        ("Blue.prior=2", "'prior' goes with reasoning beliefs"),
        ("Blue.reasoning=mypoic", "must be one of myopic, level-k, beliefs, equilibrium"),
        ("Blue.reasoning=7", "must be one of myopic"),
    ],
)
def test_bad_actor_settings_are_one_line_errors(setting: str, fragment: str, tmp_path) -> None:
    result = invoke("run", TINY, "-n", "10", "--out", tmp_path / "o", "-q", "--set", setting)
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert fragment in line and line.startswith(f"--set {setting.split('=')[0]}")
    assert not (tmp_path / "o").exists()


def _batch(folder: Path, **options) -> Path:
    defaults = {"runs": 600, "seed": 11, "overrides": {"Blue.rationality": 0.0, "Red.prior": 3.0}}
    run_batch(COMPILED, folder, BatchOptions(**{**defaults, **options}))
    return folder


@pytest.fixture(scope="module")
def whatif(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _batch(tmp_path_factory.mktemp("whatif") / "a", chunk_size=7, executor="inprocess")


def test_runs_are_byte_identical_across_chunks_and_executors(whatif: Path, tmp_path) -> None:
    other = _batch(tmp_path / "b", chunk_size=250, executor="process", workers=2)
    assert (whatif / "runs.parquet").read_bytes() == (other / "runs.parquet").read_bytes()
    assert (whatif / "rounds.parquet").read_bytes() == (other / "rounds.parquet").read_bytes()


def test_the_manifest_and_summary_record_the_settings(whatif: Path) -> None:
    manifest = json.loads((whatif / "manifest.json").read_text())
    assert manifest["overrides"] == {"Blue.rationality": 0.0, "Red.prior": 3.0}
    assert manifest["settings"] == {"Blue.rationality": 0, "Red.prior": 3}
    summary = json.loads((whatif / "summary.json").read_text())
    assert summary["overrides"] == {"Blue.rationality": 0, "Red.prior": 3}


@pytest.mark.parametrize("run", [0, 123, 599])
def test_replay_of_a_what_if_batch_is_exact(whatif: Path, run: int) -> None:
    import pyarrow.parquet as pq

    row = pq.read_table(whatif / "runs.parquet").slice(run, 1).to_pylist()[0]
    replayed = replay_record(replay(whatif, run))
    assert {k: replayed[k] for k in row} == row


def test_run_prints_the_settings(tmp_path) -> None:
    result = invoke(
        "run", TINY, "-n", "50", "--out", tmp_path / "o", "--no-plots", "--set",
        "Blue.rationality=0", "--set", "Blue.foresight=0",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "settings: Blue.rationality=0, Blue.foresight=0" in result.stdout


def test_check_overrides_keeps_actor_settings_as_numbers() -> None:
    checked = check_overrides(COMPILED, {"Blue.rationality": "0.5", "hawkishness": "0.2"})
    assert checked == {"Blue.rationality": 0.5, "hawkishness": 0.2}
    with pytest.raises(OptionsError):
        check_overrides(COMPILED, {"Ally.depth": "2"})


def test_the_seminar_plays_with_the_setting() -> None:
    result = invoke(
        "step", TINY, "--no-input", "--format", "markdown", "--set", "Blue.rationality=0",
        "--until", "1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Blue.rationality" in result.stdout


def test_compare_lists_an_actor_setting_as_a_difference(tmp_path) -> None:
    from sim.analysis.comparison import compare

    base = tmp_path / "base"
    run_batch(COMPILED, base, BatchOptions(runs=300, seed=2, executor="inprocess"))
    whatif = tmp_path / "whatif"
    options = BatchOptions(runs=300, seed=2, executor="inprocess", overrides={"Red.rationality": 0})
    run_batch(COMPILED, whatif, options)
    comparison = compare([base, whatif], labels=["as written", "Red random"])
    assert comparison.paired == [False, True]
    assert comparison.scenario_differences == {
        "Red random": ["--set Red.rationality: (not set: 1.5 in the file) → 0"]
    }


def _plays_like(text: str, overrides: dict[str, float], runs: int = 300) -> None:
    """``overrides`` on tiny plays exactly as the scenario text ``text`` does."""
    from sim.language.compiler import compile_text

    edited = compile_text(text, "edited.yaml")
    a = WargameModel(COMPILED, 7, np.arange(runs), overrides=overrides, keep_history=True)
    b = WargameModel(edited, 7, np.arange(runs), keep_history=True)
    with np.errstate(all="ignore"):
        a.run_model()
        b.run_model()
    np.testing.assert_array_equal(a.payoff_total, b.payoff_total)
    np.testing.assert_array_equal(a.ending, b.ending)
    for ra, rb in zip(a.history, b.history, strict=True):
        for actor in ra.decisions:
            np.testing.assert_array_equal(
                ra.decisions[actor].probabilities, rb.decisions[actor].probabilities
            )


def test_setting_the_reasoning_plays_as_the_file_written_that_way() -> None:
    from sim.batch.options import check_overrides

    text = TINY.read_text()
    blue = "    reasoning: level-k\n    depth: 1\n"
    assert blue in text
    _plays_like(text.replace(blue, ""), check_overrides(COMPILED, {"Blue.reasoning": "myopic"}))
    red = "    reasoning: beliefs       # learns Blue's habits from its past moves\n"
    assert red in text
    _plays_like(text.replace(red, ""), check_overrides(COMPILED, {"Red.reasoning": "myopic"}))
    as_level_2 = text.replace(red, "    reasoning: level-k\n    depth: 2\n")
    overrides = check_overrides(COMPILED, {"Red.reasoning": "level-k", "Red.depth": "2"})
    assert overrides == {"Red.reasoning": 1.0, "Red.depth": 2.0}
    _plays_like(as_level_2, overrides)
    # And it is a lever: Red's beliefs (it foresees the summit) change its choices.
    myopic = WargameModel(COMPILED, 7, np.arange(300), overrides={"Red.reasoning": 0.0})
    plain = WargameModel(COMPILED, 7, np.arange(300))
    with np.errstate(all="ignore"):
        myopic.run_model()
        plain.run_model()
    assert not np.array_equal(myopic.payoff_total, plain.payoff_total)


def test_a_reasoning_setting_is_shown_by_name_and_replayed(tmp_path) -> None:
    import pyarrow.parquet as pq

    folder = tmp_path / "myopic"
    options = BatchOptions(runs=200, seed=3, overrides={"Blue.reasoning": 0.0}, plots=False)
    run_batch(COMPILED, folder, options)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["overrides"] == {"Blue.reasoning": 0.0}
    assert manifest["settings"] == {"Blue.reasoning": "myopic"}
    row = pq.read_table(folder / "runs.parquet").slice(42, 1).to_pylist()[0]
    replayed = replay_record(replay(folder, 42))
    assert {k: replayed[k] for k in row} == row
    base = tmp_path / "base"
    run_batch(COMPILED, base, BatchOptions(runs=200, seed=3, plots=False))
    result = invoke("compare", base, folder, "--out", tmp_path / "cmp", "--no-plots")
    assert result.exit_code == 0, result.output
    assert '--set Blue.reasoning: (not set: "level-k" in the file) → "myopic"' in result.output
    assert "--set Blue.reasoning=myopic" in result.output

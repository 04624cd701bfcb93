"""The seminar: one game stepped round by round with people in it (`wargame step`).

Each test is a short session: scripted keys and answers go in through click's CliRunner
(stdin is not a terminal there, so every key is read as a line), or through the Python
API (:class:`sim.seminar.game.Game`, :class:`sim.seminar.stepper.ScriptedRoom`). The golden
transcripts are the program's own output, committed and read by eye; after an intended
change regenerate them with

    WARGAME_UPDATE_GOLDEN=1 pytest tests/test_seminar.py

and review the diff before committing.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from cli import cli
from sim.api import run_batch
from sim.batch.options import BatchOptions
from sim.engine.continuation import continuation_keys, continue_runs
from sim.engine.loading import load
from sim.errors import OptionsError
from sim.seminar.game import Game, brier_score, parse_probability
from sim.seminar.stepper import ScriptedRoom, StepOptions, Stepper
from sim.seminar.transcript import format_ending
from tests.conftest import ALASKA, ROOT, TINY

SEED = 20250815
GOLDEN = ROOT / "tests" / "golden"
ENV = {"COLUMNS": "80"}  # a fixed width, whatever terminal runs the tests


def step(args: list[str], keys: str = "", cwd=None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(cli, ["step", *args], input=keys, env=ENV)
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(cli, ["step", *args], input=keys, env=ENV)
    finally:
        os.chdir(old)


def rounds_in(text: str) -> dict[int, list[str]]:
    """Every showing of each round: from its heading to the next menu or ending."""
    shown: dict[int, list[str]] = {}
    for match in re.finditer(r"^Round (\d+) of \d+, .*?(?=^\S|\Z)", text, re.S | re.M):
        shown.setdefault(int(match.group(1)), []).append(match.group(0))
    return shown


def played(choices: dict[tuple[int, str], str], seed: int = SEED, run: int = 0) -> Game:
    game = Game(load(TINY), seed, run, choices=choices)
    game.play_to(game.rounds)
    return game


def same_game(a: Game, b: Game) -> None:
    ra, rb = a.model.records(), b.model.records()
    assert ra.keys() == rb.keys()
    for column in ra:
        assert np.array_equal(ra[column], rb[column]), column
    for x, y in zip(a.model.ctx.state, b.model.ctx.state, strict=True):
        assert np.array_equal(x, y)


# --- a whole game with the room in two seats -------------------------------------------


def test_a_room_plays_two_actors_through_a_whole_game_and_a_bad_entry_is_asked_again():
    keys = "\n".join(
        [
            "n", "banana", "1", "hold",  # round 1: a bad entry, then talk (by number)
            "n", "talk", "2",  # round 2: by name, and Red mobilise by number
            "n", "sanction", "hold",
            "n", "1", "mobilise",
            "q", "y",  # quit at the end; nothing was saved, so confirm
        ]
    )  # fmt: skip
    result = step([str(TINY), "--play", "Blue", "--play", "Red"], keys)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "'banana' is not an option for Blue: type 1-2 or one of talk, sanction" in out
    assert out.count("Blue chooses (1-2 or a name") == 5  # asked again after the bad one
    expected = played(
        {
            (1, "Blue"): "talk", (1, "Red"): "hold",
            (2, "Blue"): "talk", (2, "Red"): "mobilise",
            (3, "Blue"): "sanction", (3, "Red"): "hold",
            (4, "Blue"): "talk", (4, "Red"): "mobilise",
        }
    )  # fmt: skip
    assert format_ending(expected.model) in out
    for round_, blue, red in [
        (1, "talk", "hold"),
        (3, "sanction", "hold"),
        (4, "talk", "mobilise"),
    ]:
        block = rounds_in(out)[round_][-1]  # the round as played, on one screen
        assert re.search(rf"^ \*Blue +{blue} +chosen by people", block, re.M), block
        assert re.search(rf"^ \*Red +{red} +chosen by people", block, re.M), block


def test_the_room_sees_only_open_options_and_is_not_asked_when_there_is_one():
    game = Game(load(TINY), SEED)
    # Before the summit collapses, Ally's send_troops is closed (when: summit == 'collapse').
    room = ScriptedRoom(["n", "q"])
    Stepper(game, room, StepOptions(play=("Ally", "Red"))).run()
    assert "Ally (Treaty Ally) has one open option, wait: nothing to choose." in room.text
    assert "Ally (Treaty Ally), round 1: the room chooses" not in room.text  # nothing to choose
    asked = room.text.split("Red (Red Federation), round 1: the room chooses")[1]
    asked = asked.split("Red chooses")[0]
    rows = re.findall(r"(\d)\. (\w+) +score +(-?\d+\.\d+) +p (\d\.\d+)", asked)
    decision = game.preview()[1].decisions["Red"]
    assert rows == [
        ("1", "hold", f"{decision.scores[0, 0]:.3f}", f"{decision.probabilities[0, 0]:.3f}"),
        ("2", "mobilise", f"{decision.scores[1, 0]:.3f}", f"{decision.probabilities[1, 0]:.3f}"),
    ]
    # The probabilities are Red's logit rule (rationality 1.5) over the scores shown.
    hold, mobilise = decision.scores[:, 0]
    assert decision.probabilities[0, 0] == pytest.approx(1 / (1 + np.exp(1.5 * (mobilise - hold))))


def test_an_unknown_actor_in_play_is_an_error_with_a_suggestion():
    result = step([str(TINY), "--play", "Bleu"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "--play Bleu: no actor 'Bleu' (did you mean 'Blue'?); the actors are Blue, Red, Ally"
    ]


# --- menu: override, back, fork, save, resume -----------------------------------------


def test_override_fixes_an_actors_next_choice():
    result = step([str(TINY)], "o\nRed\nmobilise\nn\nd\nq\ny\n")
    assert result.exit_code == 0, result.output
    block = rounds_in(result.output)[1][-2]  # the round as played, then its details (d)
    assert re.search(r"^ \*Red +mobilise +chosen by people; its rule gave it 8\d%", block, re.M)
    details = rounds_in(result.output)[1][-1]
    assert "Red (Red Federation) chooses mobilise" in details
    assert "why: chosen by a person; its rule gave this p 0.8" in details
    assert "Ending:" not in result.output  # quit after one round


def test_override_can_hand_a_choice_back_to_the_rule():
    game = Game(load(TINY), SEED)
    room = ScriptedRoom(["o", "Red", "hold", "o", "2", "rule", "n", "q"])
    Stepper(game, room).run()
    assert "Red plays by its rule in round 1." in room.text
    assert game.choices == {}
    assert not game.history[0].decisions["Red"].overridden


def test_back_then_next_shows_the_same_round_again():
    result = step([str(TINY)], "n\nn\nb\nn\nq\n")
    assert result.exit_code == 0, result.output
    assert "Back at the end of round 1; [n] plays round 2 again." in result.output
    second = rounds_in(result.output)[2]
    assert len(second) == 4  # what the room sees first, then the round played; twice
    assert second[:2] == second[2:]


def test_back_keeps_the_rooms_choice_for_the_round_to_replay_as_the_default():
    # Round 1 by the room (sanction), back, then Enter takes the kept choice again.
    result = step([str(TINY), "--play", "Blue"], "n\n2\nb\nn\n\nq\ny\n")
    first = rounds_in(result.output)[1]
    assert len(first) == 4 and first[1] == first[3]
    assert result.output.count("Recorded: Blue plays sanction in round 1.") == 2
    assert "Blue chooses (1-2 or a name, ? lists them) [sanction]:" in result.output


def test_fork_then_resume_equals_an_uninterrupted_game(tmp_path):
    # Uninterrupted: Blue sanctions, talks, sanctions, talks.
    whole = step([str(TINY), "--play", "Blue"], "n\n2\nn\n1\nn\n2\nn\n1\nq\ny\n", tmp_path)
    assert whole.exit_code == 0, whole.output
    # Interrupted: two rounds, fork to a named file, quit; resume and finish.
    first = step([str(TINY), "--play", "Blue"], "n\n2\nn\n1\nf\nclass-a\nq\n", tmp_path)
    assert first.exit_code == 0, first.output
    saved = json.loads((tmp_path / "class-a.json").read_text())
    assert saved["format"] == "wargame-game/1"
    assert saved["round"] == 2 and saved["seed"] == SEED and saved["run"] == 0
    assert saved["played"] == ["Blue"] and saved["name"] == "class-a"
    assert saved["choices"] == [
        {"round": 1, "actor": "Blue", "action": "sanction"},
        {"round": 2, "actor": "Blue", "action": "talk"},
    ]
    rest = step(["--resume", "class-a.json"], "n\n2\nn\n1\nq\ny\n", tmp_path)
    assert rest.exit_code == 0, rest.output
    assert "Resumed at the end of round 2 of 4." in rest.output
    ending = whole.output[whole.output.index("Ending:") :].split("\n\n")[0]
    assert ending == rest.output[rest.output.index("Ending:") :].split("\n\n")[0]
    # Exactly: every record of the run and the final state, through the Python API.
    resumed = Game.load(tmp_path / "class-a.json")
    assert resumed.round == 2
    resumed.choose("Blue", "sanction")
    resumed.play_round()
    resumed.choose("Blue", "talk")
    resumed.play_round()
    choices = {(1, "Blue"): "sanction", (2, "Blue"): "talk"}
    choices |= {(3, "Blue"): "sanction", (4, "Blue"): "talk"}
    same_game(resumed, played(choices))


def test_save_writes_plain_json_that_resumes_where_it_was(tmp_path):
    game = Game(load(TINY), SEED, run=3)
    game.choose("Red", "hold")
    game.play_round()
    game.play_round()
    path = game.save(tmp_path / "g.json")
    text = path.read_text()
    assert json.loads(text)["scenario"]["sha256"] == game.compiled.sha256
    again = Game.load(path)
    assert again.round == 2 and again.choices == {(1, "Red"): "hold"} and again.run == 3
    again.play_to(4)
    game.play_to(4)
    same_game(again, game)


def test_a_save_is_resumed_from_another_folder(tmp_path, monkeypatch):
    # A lecturer started the class in class/ with ../scenarios/x.yaml and resumed it
    # from the folder above with the command it printed: the relative path pointed
    # nowhere ("its scenario ../scenarios/x.yaml is not there", naming wargame step).
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "class").mkdir()
    (tmp_path / "scenarios" / "tiny.yaml").write_text(TINY.read_text())
    monkeypatch.chdir(tmp_path / "class")
    game = Game(load("../scenarios/tiny.yaml"), SEED)
    game.play_round()
    game.save("g.json")
    monkeypatch.chdir(tmp_path)
    again = Game.load("class/g.json")
    assert again.round == 1 and again.compiled.sha256 == game.compiled.sha256
    # Moved away, the file is not found: the hint names the command resuming it.
    (tmp_path / "scenarios" / "tiny.yaml").rename(tmp_path / "tiny.yaml")
    with pytest.raises(OptionsError, match=r"name it: wargame serve SCENARIO --resume class/g"):
        Game.load("class/g.json", command="serve")
    assert Game.load("class/g.json", "tiny.yaml").round == 1
    # A game opened from a batch (replay --step) finds its results folder the same way.
    monkeypatch.chdir(tmp_path / "class")
    run_batch(load(TINY), "batch", BatchOptions(runs=20, seed=3, plots=False))
    replayed = Game.from_results("batch", 4)
    replayed.play_round()
    replayed.save("r.json")
    monkeypatch.chdir(tmp_path)
    again = Game.load("class/r.json")
    assert again.round == 1 and again.run == 4
    assert Path(again.results).resolve() == (tmp_path / "class" / "batch").resolve()


def test_a_game_saved_for_another_scenario_text_is_refused(tmp_path):
    changed = tmp_path / "tiny.yaml"
    changed.write_text(TINY.read_text() + "# one more comment changes the sha256\n")
    game = Game(load(TINY), SEED)
    game.save(tmp_path / "g.json")
    result = step([str(changed), "--resume", str(tmp_path / "g.json")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "saved for another scenario text" in lines[0]


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"format": "wargame-game/1", "seed": 1', "not valid JSON"),
        ('["a list"]', "is it a saved game?"),
        ('{"format": "wargame-game/1", "scenario": {"path": "x", "sha256": "y"}}', "'seed'"),
        (b"\xff\xfe garbage", "not UTF-8"),
        (
            '{"format": "wargame-game/1", "scenario": {"path": "x", "sha256": "y", '
            '"absolute": 5}, "seed": 1, "run": 0, "round": 0}',
            "'absolute' must be a file path or null",
        ),
    ],
)
def test_a_damaged_saved_game_is_one_line_and_exit_2(tmp_path, content, message):
    path = tmp_path / "damaged.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    result = step(["--resume", str(path)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(str(path)) and message in lines[0]


def test_a_saved_choice_for_an_unknown_actor_is_reported_with_the_file(tmp_path):
    game = Game(load(TINY), SEED)
    data = game.to_json()
    data["choices"] = [{"round": 1, "actor": "Green", "action": "talk"}]
    path = tmp_path / "g.json"
    path.write_text(json.dumps(data))
    with pytest.raises(OptionsError, match=r"g\.json: no actor 'Green'"):
        Game.load(path)


def test_resume_takes_seed_and_run_from_the_file(tmp_path):
    Game(load(TINY), SEED).save(tmp_path / "g.json")
    result = step(["--resume", str(tmp_path / "g.json"), "--seed", "3"])
    assert result.exit_code == 2 and "--seed" in result.output


# --- determinism, and step == replay of a batch ----------------------------------------


def test_same_seed_and_same_choices_give_the_same_game_every_time():
    keys = "n\n2\nn\n1\nn\n1\nn\n2\nq\ny\n"
    runs = [step([str(TINY), "--seed", "11", "--run", "5", "--play", "Blue"], keys) for _ in "ab"]
    assert runs[0].output == runs[1].output
    a = played({(2, "Red"): "hold"}, seed=11, run=5)
    b = played({(2, "Red"): "hold"}, seed=11, run=5)
    same_game(a, b)


def test_step_at_seed_s_and_run_k_is_run_k_of_a_batch_at_seed_s(tmp_path):
    compiled = load(TINY)
    options = BatchOptions(runs=12, seed=5, chunk_size=5, plots=False, keep_rounds=False)
    run_batch(compiled, tmp_path / "batch", options)
    table = pq.read_table(tmp_path / "batch" / "runs.parquet").to_pylist()
    for k in (0, 7, 11):
        row = next(r for r in table if r["run"] == k)
        game = Game(compiled, seed=5, run=k)
        game.play_to(game.rounds)
        records = game.model.records()
        assert records["ending"][0] == row["ending"]
        for column in row:
            if column.startswith(("payoff.", "metric.")):
                assert records[column][0] == row[column], (k, column)
        # The same run opened from the batch with `replay --step` is the same game.
        opened = Game.from_results(tmp_path / "batch", k)
        opened.play_to(opened.rounds)
        same_game(opened, game)
    runner = CliRunner()
    stepped = runner.invoke(
        cli, ["replay", str(tmp_path / "batch"), "--run", "7", "--step", "--no-input"], env=ENV
    )
    assert stepped.exit_code == 0, stepped.output
    row = next(r for r in table if r["run"] == 7)
    assert f"({row['ending']})" in stepped.output.split("Ending:")[1].splitlines()[0]


def test_replay_step_lets_the_room_take_over_and_says_it_is_a_fork(tmp_path):
    compiled = load(TINY)
    run_batch(compiled, tmp_path / "b", BatchOptions(runs=4, seed=2, plots=False))
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["replay", str(tmp_path / "b"), "--run", "3", "--step"],
        input="n\no\nRed\nhold\nn\nq\ny\n",
        env=ENV,
    )
    assert result.exit_code == 0, result.output
    assert "Opened from run 3 of the batch" in result.output
    assert "From round 2 on this game departs from run 3 of the batch: it is a fork." in (
        " ".join(result.output.split())
    )
    # A seat the room plays: the fork is said in the round the room's first choice
    # makes it, before that round's screen, not as the next round starts (a trial).
    seated = runner.invoke(
        cli,
        ["replay", str(tmp_path / "b"), "--run", "3", "--step", "--play", "Red"],
        input="n\nhold\nq\ny\n",
        env=ENV,
    )
    assert seated.exit_code == 0, seated.output
    flat = " ".join(seated.output.split())
    note = "From round 1 on this game departs from run 3 of the batch: it is a fork."
    assert note in flat and flat.index(note) < flat.index("Round 1 of 4 played.")
    bad = runner.invoke(cli, ["replay", str(tmp_path / "b"), "--run", "3", "--play", "Red"])
    assert bad.exit_code == 2 and "need --step" in bad.output
    # The model's forecasts: as many continuations as step's (it said 2,000, step 5,000).
    outlook = runner.invoke(
        cli, ["replay", str(tmp_path / "b"), "--run", "3", "--step"], input="e\nq\n", env=ENV
    )
    assert "Continuing the game 5,000 times from here" in outlook.output
    fewer = runner.invoke(
        cli,
        ["replay", str(tmp_path / "b"), "--run", "3", "--step", "--mc-runs", "300"],
        input="e\nq\n",
        env=ENV,
    )
    assert "Continuing the game 300 times from here" in fewer.output
    alone = runner.invoke(cli, ["replay", str(tmp_path / "b"), "--run", "3", "--mc-runs", "9"])
    assert alone.exit_code == 2 and "--mc-runs needs --step or --format" in alone.output


# --- predictions -----------------------------------------------------------------------


def test_probabilities_are_read_as_numbers_or_percentages():
    assert parse_probability("0.7") == 0.7
    assert parse_probability("70%") == pytest.approx(0.7)
    assert parse_probability(" 70 ") == pytest.approx(0.7)
    assert parse_probability("1") == 1.0
    for bad in ("-0.1", "150", "seventy", "nan"):
        with pytest.raises(OptionsError, match="not a probability"):
            parse_probability(bad)
    # A lecturer's trial: '1.5' was read as 1.5% without a word; 1.5% and 0.15 are both
    # likely meant, so it is asked again. Whole numbers stay percentages.
    with pytest.raises(OptionsError, match=r"'1.5' is above 1: type 1.5% for a percentage"):
        parse_probability("1.5")
    assert parse_probability("1.5%") == pytest.approx(0.015)
    assert parse_probability("15") == pytest.approx(0.15)


def test_the_brier_score_is_the_sum_of_squared_misses():
    # Predicted 0.7 success and it succeeded: (0.7 - 1)^2 + (0.3 - 0)^2.
    assert brier_score({"success": 0.7, "collapse": 0.3}, "success") == pytest.approx(0.18)
    assert brier_score({"success": 0.7, "collapse": 0.3}, "collapse") == pytest.approx(0.98)
    assert brier_score({"a": 1.0, "b": 0.0}, "b") == 2.0


def test_predictions_are_scored_against_what_happened_and_against_the_model():
    runs = 400
    keys = "n\nn\n70%\n\nn\nn\nq\ny\n"  # P(success) 70%, P(collapse) the rest (Enter)
    result = step([str(TINY), "--predict", "--mc-runs", str(runs)], keys)
    assert result.exit_code == 0, result.output
    assert "Recorded for summit: success 70%, collapse 30%." in result.output
    # What happened, from the same game played without the room.
    game = played({})
    happened = game.outcome_of("summit")
    room = {"success": 0.7, "collapse": 0.3}
    expected_room = sum((p - (o == happened)) ** 2 for o, p in room.items())
    # The model's probability: the share of each outcome among continuations of the game
    # from the end of round 1, where the room was asked (not a batch from the start).
    asked = Game(load(TINY), SEED)
    asked.play_to(1)
    block = continue_runs(asked.model, continuation_keys(0, 1, runs))
    block.run_model()
    outcomes = block.branch_outcome[0]
    model_p = {"success": np.mean(outcomes == 0), "collapse": np.mean(outcomes == 1)}
    expected_model = sum((p - (o == happened)) ** 2 for o, p in model_p.items())
    line = next(x for x in result.output.splitlines() if "Brier score" in x and "0." in x)
    assert line.split()[-2:] == [f"{expected_room:.3f}", f"{expected_model:.3f}"]
    # And exactly, through the API.
    game.predictions.clear()
    replayed = Game(load(TINY), SEED)
    replayed.play_to(1)
    replayed.predict("summit", room)
    replayed.play_to(4)
    [score] = replayed.score_predictions(runs)
    assert score.outcome == happened
    assert score.brier == pytest.approx(expected_room, abs=1e-12)
    assert score.model_brier == pytest.approx(expected_model, abs=1e-12)


def test_predictions_that_do_not_add_up_are_asked_again():
    game = Game(load(TINY), SEED)
    room = ScriptedRoom(["n", "n", "0.5", "0.2", "lots", "0.6", "0.4", "q", "y"])
    Stepper(game, room, StepOptions(predict=True, mc_runs=50)).run()
    assert "sum to 0.7, not 1" in room.text
    assert "'lots' is not a probability" in room.text
    assert game.predictions["summit"].probabilities == {"success": 0.6, "collapse": 0.4}


def test_a_prediction_is_asked_before_the_round_in_which_the_branch_can_resolve():
    game = Game(load(TINY), SEED)
    _, first = game.preview()
    assert game.due_branches(first) == []
    game.play_round()
    _, second = game.preview()
    assert game.due_branches(second) == ["summit"]


# --- handouts ----------------------------------------------------------------------------


def test_a_markdown_handout_holds_the_whole_game_with_tables():
    result = step([str(TINY), "--no-input", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    md = result.output
    assert md.startswith("# Two-actor standoff\n")
    for heading in ("## Starting state", "## Round 1 of 4", "## Round 4 of 4", "## Ending:"):
        assert heading in md
    assert "| Variable | Before | After | Unit |" in md
    assert "> **Prompt:** What does the flight tell Blue?" in md
    assert md.count("Why: ") == 12  # three actors, four rounds
    game = played({})
    ending = game.compiled.endings[int(game.model.ending[0])]
    assert f"## Ending: {ending.title}" in md


def test_an_html_handout_is_self_contained_and_escapes_text(tmp_path):
    text = TINY.read_text().replace(
        "What does the flight tell Blue?", "<script>alert('x')</script> & \"quotes\""
    )
    path = tmp_path / "tiny.yaml"
    path.write_text(text)
    result = step([str(path), "--no-input", "--format", "html"])
    assert result.exit_code == 0, result.output
    page = result.output
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quotes&quot;" in page
    assert not re.search(r"(src|href)=|https?://|@import", page)
    assert page.count("<table>") >= 4


def test_handouts_and_no_input_refuse_options_that_ask_the_room():
    result = step([str(TINY), "--no-input", "--play", "Blue"])
    # An author read "--play ask the room; they cannot go with --no-input" as garbled.
    assert result.exit_code == 2 and (
        "--play asks the room questions, which --no-input does not allow: drop --play, or "
        "drop --no-input to play in the terminal" in " ".join(result.output.split())
    ), result.output
    result = step([str(TINY), "--format", "html", "--predict"])
    assert result.exit_code == 2 and "--predict asks the room questions" in result.output
    both = step([str(TINY), "--no-input", "--play", "Blue", "--predict"])
    assert "--play and --predict ask the room questions" in " ".join(both.output.split())


# --- golden transcripts and the 80-column terminal -----------------------------------


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("WARGAME_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()
    assert max(len(line) for line in text.splitlines()) <= 80


def test_golden_transcript_of_the_tiny_scenario():
    result = step([str(TINY), "--seed", str(SEED), "--no-input"])
    assert result.exit_code == 0, result.output
    check_golden("tiny_step.txt", result.output)


def test_golden_transcript_of_the_first_four_rounds_of_alaska():
    result = step([str(ALASKA), "--seed", str(SEED), "--until", "4", "--no-input"])
    assert result.exit_code == 0, result.output
    check_golden("alaska_step_4rounds.txt", result.output)


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
def test_in_an_80_column_terminal_no_line_is_wider_and_nothing_is_cut(tmp_path):
    import fcntl
    import select
    import struct
    import subprocess
    import sys
    import termios
    import time

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm"
    child = subprocess.Popen(
        [sys.executable, "-m", "cli", "step", str(TINY), "--play", "Blue"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=tmp_path,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""

    def expect(marker: str, timeout: float = 20.0) -> None:
        nonlocal seen
        end = time.monotonic() + timeout
        while marker.encode() not in ANSI.sub("", seen.decode(errors="replace")).encode():
            left = end - time.monotonic()
            assert left > 0, f"timed out waiting for {marker!r}; got:\n{seen.decode()[-2000:]}"
            ready, _, _ = select.select([master], [], [], left)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break

    def send(keys: str, then: str) -> None:
        nonlocal seen
        seen_before = len(seen)
        if len(keys) == 1 and keys != "\r":
            # A menu key: wait until the program has put the terminal in raw mode (the
            # master side reports the slave's settings), or the switch would discard it.
            end = time.monotonic() + 20
            while termios.tcgetattr(master)[3] & termios.ICANON:
                assert time.monotonic() < end, "the menu never switched to raw keys"
                time.sleep(0.02)
        else:
            # A typed line: wait until the terminal is back in line mode (echoing), or
            # the answer would be read unechoed by the raw key reader's last moments.
            end = time.monotonic() + 20
            while not termios.tcgetattr(master)[3] & termios.ICANON:
                assert time.monotonic() < end, "the prompt never switched to lines"
                time.sleep(0.02)
        os.write(master, keys.encode())
        end = time.monotonic() + 20
        while (
            then.encode() not in ANSI.sub("", seen[seen_before:].decode(errors="replace")).encode()
        ):
            assert time.monotonic() < end, f"no {then!r} after {keys!r}:\n{seen.decode()[-2000:]}"
            ready, _, _ = select.select([master], [], [], 1)
            if ready:
                seen += os.read(master, 65536)

    try:
        expect("[q]uit ? >")
        send("n", "lists them): ")  # one key, no Enter: the menu reads raw keys
        send("nonsense\r", "lists them): ")  # refused, and asked again
        send("2\r", "[q]uit ? >")
        send("d", "why: chosen by a person")  # the round in full
        send("n", "lists them): ")
        send("1\r", "[q]uit ? >")
        send("b", "[q]uit ? >")
        send("n", "[talk]: ")
        send("\r", "[q]uit ? >")  # Enter keeps the choice made before going back
        for _ in range(2):
            send("n", "lists them): ")
            send("talk\r", "? >")
        send("q", "Quit anyway?")
        send("y", "y")
        assert child.wait(timeout=20) == 0
        time.sleep(0.1)
        while select.select([master], [], [], 0.2)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if child.poll() is None:
            child.kill()
        os.close(master)
    text = ANSI.sub("", seen.decode()).replace("\r\n", "\n").replace("\r", "\n")
    assert "\x1b" not in text
    lines = text.split("\n")
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    flat = " ".join(text.split())
    # Nothing that matters is cut: wrapped texts read whole once the lines are joined.
    assert "Inject flight: Unannounced aircraft land in the Ally's capital." in flat
    assert "'nonsense' is not an option for Blue: type 1-2 or one of talk, sanction" in flat
    assert "Ending: " in flat and "Total payoffs:" in flat
    assert "why: chosen by a person; its rule gave this p 0.00 (talk scored 5.39 higher)" in flat


def test_a_fork_of_a_batch_run_saves_and_resumes_from_the_results_folder(tmp_path):
    run_batch(load(TINY), tmp_path / "b", BatchOptions(runs=6, seed=9, plots=False))
    game = Game.from_results(tmp_path / "b", 4)
    game.play_round()
    game.choose("Red", "hold")
    game.play_round()
    path = game.save(tmp_path / "fork.json")
    assert json.loads(path.read_text())["results"] == str(tmp_path / "b")
    resumed = Game.load(path)
    assert (resumed.seed, resumed.run, resumed.round) == (9, 4, 2)
    resumed.play_to(4)
    game.play_to(4)
    same_game(resumed, game)
    # Without the override it is run 4 of the batch again.
    with pytest.raises(OptionsError, match="round 2 has been played"):
        resumed.release("Red", 2)
    for _ in range(3):
        resumed.back()
    assert resumed.round == 1 and resumed.choices == {(2, "Red"): "hold"}
    resumed.release("Red")
    resumed.play_to(4)
    same_game(resumed, played({}, seed=9, run=4))


def test_a_handout_lists_the_branches_people_decided(tmp_path):
    from sim.engine.loading import load
    from sim.seminar.handout import html_document, markdown
    from tests.test_classroom import red_decides_the_summit

    game = Game(load(red_decides_the_summit(tmp_path)), SEED, played=("Red",))
    game.choose_outcome("summit", "success", 2)
    game.choose_outcome("summit", "collapse", 3)  # not played: the summit came up in round 2
    game.play_to(4)
    md = markdown(game, mc_runs=50)
    assert "Branches decided by people:" in md
    assert "| 2 | `summit` | `Red` | `success` |" in md
    assert "`collapse` |" not in md
    page = html_document(game, mc_runs=50)
    assert "<p>Branches decided by people:</p>" in page and "<code>success</code>" in page
    alone = Game(load(red_decides_the_summit(tmp_path)), SEED)
    alone.play_to(4)
    assert "Branches decided by people" not in markdown(alone, mc_runs=50)


def test_the_parts_of_a_why_add_up_to_the_gap_between_the_scores():
    result = step([str(ALASKA), "--seed", str(SEED), "--until", "4", "--no-input"])
    assert result.exit_code == 0, result.output
    # Each reason on one line: "why:" and the lines indented under it.
    reasons: list[str] = []
    for line in result.output.splitlines():
        if line.lstrip().startswith("why: "):
            reasons.append(line.strip())
        elif reasons and line.startswith(" " * 8) and not reasons[-1].endswith("\0"):
            reasons[-1] += " " + line.strip()
        elif reasons:
            reasons[-1] += "\0"
    text = "\n".join(r.rstrip("\0") for r in reasons)
    checked = 0
    for match in re.finditer(
        r"why: (?:best score \(p [\d.]+\), (?P<a>[\d.]+) above \w+|drawn with p [\d.]+; \w+ "
        r"scored (?P<b>[\d.]+) higher): (?P<terms>.*?)(?:; expected|; foresaw|$)",
        text,
        re.M,
    ):
        gap = float(match["a"] or match["b"])
        parts = [float(x) for x in re.findall(r"\(([+-][\d.]+)\)", match["terms"])]
        assert parts, match[0]
        # Each part is rounded to 0.01: the sum is within half a hundredth per part.
        assert abs(sum(parts) - gap) <= 0.005 * (len(parts) + 1) + 1e-9, match[0]
        checked += 1
    assert checked >= 10
    assert "other terms (" in text  # alaska has reasons with more than two terms


def test_the_key_help_at_the_end_lists_only_the_keys_that_still_work():
    playing = step([str(TINY)], "x\nq\ny\n")
    assert "No key 'x'. Keys: n o b f s q, r d t e, ? for help." in playing.output
    ended = step([str(TINY)], "n\nn\nn\nn\nx\nq\ny\n")
    assert ended.exit_code == 0, ended.output
    assert "No key 'x'. Keys: b f s q, r d t e, ? for help." in ended.output


def test_a_wide_handout_table_is_set_small_enough_to_print():
    # A lecturer's trial: the debrief's odds (an ending per row, a round per column:
    # 16 columns for alaska) ran off an A4 page.
    from sim.seminar.handout import _STYLE, WIDE_TABLE, _html_table

    wide = _html_table(["Ending", *(f"r{k}" for k in range(14))], [["a"] * 15], set(range(1, 15)))
    narrow = _html_table(["Variable", "Value", "Unit"], [["x", "1", "km"]], {1})
    assert wide.startswith('<table class="wide">') and narrow.startswith("<table>")
    # Split over printed pages, a table repeats its header row (a <thead>).
    assert wide.split("\n")[1].startswith("<thead><tr><th>Ending</th>")
    assert 8 <= WIDE_TABLE <= 15
    assert "@media print" in _STYLE and "table.wide { font-size: 7pt; }" in _STYLE


def test_a_prediction_made_before_ctrl_c_is_said_to_stand_when_the_round_opens_again():
    # A student's trial: after Ctrl-C and "n" the round opened again without asking the
    # prediction (right), but nothing said the 60/40 forecast was still on record.
    game = Game(load(TINY), SEED)
    answers = ["n", "1", "n", "0.6", "0.4", "^C", "n", "n", "1", "q", "y"]
    room = ScriptedRoom(answers)
    Stepper(game, room, StepOptions(predict=True, play=("Blue",), mc_runs=50)).run()
    text = " ".join(room.text.split())
    assert "The room's prediction of summit stands: success 60%, collapse 40%." in text
    assert text.count("P(success)") == 1  # asked once
    assert game.round == 2

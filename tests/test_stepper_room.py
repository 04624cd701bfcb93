"""The terminal seminar in front of a class: one screen per round, and the bugs a lecturer hit.

Each bug found trying `wargame step` as a lecturer would (12 students, tmux at 80x30)
has a test here: the round scrolling away (a golden 80x30 round view, and a real tmux
pane), options without descriptions, no help, Ctrl-C at a prompt, --until on a finished
save, colours on a white projector and NO_COLOR, "1 days" and "RU will offensive", a
`when:` branch announced from a rule-played preview, `s` writing over any file, and a
forecast scored against odds the room had just been shown.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli import cli
from sim.engine.loading import load
from sim.language.compiler import compile_text
from sim.seminar import stepper as stepper_module
from sim.seminar.game import Game
from sim.seminar.stepper import (
    Interrupted,
    ScriptedRoom,
    StepOptions,
    Stepper,
    TerminalRoom,
    colour_wanted,
    colourize,
)
from sim.seminar.transcript import format_round_compact, round_view
from tests.conftest import ALASKA, ROOT, TINY
from tests.test_seminar import check_golden, same_game

SEED = 20250815


def session(answers, game=None, **options) -> tuple[Game, ScriptedRoom]:
    game = game or Game(load(TINY), SEED)
    room = ScriptedRoom(list(answers))
    Stepper(game, room, StepOptions(**options)).run()
    return game, room


# --- one screen per round --------------------------------------------------------------


def test_golden_80x30_round_view_of_alaskas_busiest_round():
    game = Game(load(ALASKA), SEED)
    game.play_round()
    text = format_round_compact(round_view(game.model, game.history[0]), 80)
    check_golden("alaska_round1_80x30.txt", text + "\n")
    assert len(text.splitlines()) <= 26  # with the key hint and the menu: within 30 lines


def test_every_alaska_round_fits_one_80x30_screen():
    game = Game(load(ALASKA), SEED)
    while not game.finished:
        game.play_round()
        text = format_round_compact(round_view(game.model, game.history[-1]), 80)
        lines = text.splitlines()
        assert len(lines) <= 26, (game.round, text)
        assert max(len(line) for line in lines) <= 80
        assert lines[0].startswith(f"Round {game.round} of 13, ")


def test_keys_show_the_last_round_again_its_details_and_the_state():
    _, room = session(["n", "r", "d", "t", "q"])
    text = room.text
    assert text.count("Round 1 of 4, 2025-08-08") == 4  # played, r, d (and the head first)
    assert "why: " in text.split("[q]uit ? > d")[1]  # details: the full reasons
    state = text.split("[q]uit ? > t")[1]
    assert "State after round 1 of 4:" in state and "tension" in state and "troops_k" in state


def test_help_lists_every_key():
    _, room = session(["?", "h", "q"])
    assert room.text.count("Keys (one key, no Enter needed on a terminal):") == 2
    for key in "nobfsrdtq?":
        assert re.search(rf"^  {re.escape(key)}  ", room.text, re.M), key


def test_the_room_sees_each_options_description_and_can_ask_again():
    game, room = session(["n", "?", "2", "q", "y"], play=("Blue",))
    asked = room.text.split("the room chooses. Options:")[1]
    assert "1. talk" in asked and "Offer talks." in asked
    assert "2. sanction" in asked and "Impose sanctions." in asked
    assert asked.count("Impose sanctions.") >= 2  # ? listed them again
    assert game.choices == {(1, "Blue"): "sanction"}


def test_a_choice_is_said_in_words_and_rounds_and_days_are_counted_right():
    _, room = session(["n", "2", "q", "y"], play=("Blue",))
    assert "Recorded: Blue plays sanction in round 1." in room.text
    assert " will sanction" not in room.text
    one_day = TINY.read_text().replace("round_days: 7", "round_days: 1")
    game = Game(compile_text(one_day, "one.yaml"), SEED)
    _, room = session(["q"], game=game)
    assert "4 rounds of 1 day from 2025-08-08." in room.text


# --- Ctrl-C, --until, colours ------------------------------------------------------------


def interrupted_session(answers, **options) -> tuple[Game, ScriptedRoom]:
    """A session that the room quits after Ctrl-C: it ends as an interrupted command."""
    game = Game(load(TINY), SEED)
    room = ScriptedRoom(list(answers))
    with pytest.raises(KeyboardInterrupt):
        Stepper(game, room, StepOptions(**options)).run()
    return game, room


def test_ctrl_c_at_a_prompt_asks_and_no_goes_on():
    game, room = interrupted_session(["n", "^C", "n", "n", "1", "^C", "y"], play=("Blue",))
    assert room.text.count("Quit the session? [y/N] > ") == 1
    assert "Quit anyway? [y/N] > y" in room.text  # the second time: a choice is unsaved
    assert "The input ended" not in room.text
    assert game.round == 1 and game.choices == {(1, "Blue"): "talk"}


def test_ctrl_c_twice_quits(monkeypatch):
    _, room = interrupted_session(["^C", "^C"])
    assert "Quit the session? [y/N] > ^C" in room.text


def test_quitting_after_ctrl_c_exits_as_an_interrupted_command(tmp_path, monkeypatch):
    # q then y is a finished session (0); Ctrl-C then y is an interrupted one (1), as
    # Ctrl-C ends every other command, so a script can tell the two apart.
    def keys(answers):
        def key(self, prompt):
            answer = answers.pop(0)
            if answer == "^C":
                raise Interrupted
            return answer

        return key

    for answers, code in ((["q"], 0), (["^C", "y"], 1), (["^C", "^C"], 1)):
        monkeypatch.setattr(TerminalRoom, "key", keys(list(answers)))
        result = CliRunner().invoke(cli, ["step", str(TINY)], env={"COLUMNS": "80"})
        assert result.exit_code == code, (answers, result.output)
        assert ("interrupted" in result.output) == (code == 1), result.output


def test_the_terminal_turns_ctrl_c_into_a_question_not_an_end_of_input(monkeypatch):
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(click, "getchar", interrupted)
    monkeypatch.setattr(stepper_module.sys.stdin, "readline", interrupted, raising=False)
    room = TerminalRoom(raw_keys=True)
    with pytest.raises(Interrupted):
        room.key("> ")
    with pytest.raises(Interrupted):
        TerminalRoom().line("P(success)")


def test_a_key_pressed_twice_fast_counts_twice_and_text_typed_ahead_once(monkeypatch):
    # tmux's send-keys 'nn' (or a fast double press) arrives in one read: it was
    # "No key 'nn'". A shell command typed ahead stays one unknown key, not 20 keys.
    reads = iter(["nn", "q", "clear wargame", "b\r"])
    monkeypatch.setattr(click, "getchar", lambda *args: next(reads))
    room = TerminalRoom(raw_keys=True)
    answers = [room.key("> ") for _ in range(5)]
    assert answers == ["n", "n", "q", "clear wargame", "b"]
    # The second press is for the next key question only: a choice asked in between
    # drops it (it was held through two choices and played the next round unread).
    reads = iter(["nn", "q"])
    monkeypatch.setattr(click, "getchar", lambda *args: next(reads))
    monkeypatch.setattr(stepper_module.sys.stdin, "readline", lambda: "1\n", raising=False)
    assert room.key("> ") == "n"
    assert room.line("US chooses") == "1"
    assert room.key("> ") == "q"


def test_until_is_honoured_when_resuming_a_finished_save(tmp_path):
    game = Game(load(TINY), SEED, choices={(1, "Blue"): "sanction"})
    game.play_to(4)
    path = game.save(tmp_path / "done.json")
    result = CliRunner().invoke(
        cli, ["step", "--resume", str(path), "--until", "2", "--no-input"], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    assert "Resumed at the end of round 2 of 4." in result.output
    assert "Stopped after round 2 of 4 (--until 2)." in result.output
    assert "Round 3 of 4" not in result.output and "Ending" not in result.output


def test_colours_are_readable_on_a_white_projector():
    text = "\n".join(
        [
            "Round 1 of 4, 2025-08-08",
            "  Inject flight: Unannounced aircraft.",
            "  Prompt: What does the flight tell Blue?",
            "  Branch summit: collapse. Talks collapse.",
            "  Blue (Blue Republic) chooses talk",
            "    > talk                 score 1",
            "      why: best score",
        ]
    )
    styled = colourize(text)
    codes = set(re.findall(r"\x1b\[([0-9;]+)m", styled))
    used = {int(c) for code in codes for c in code.split(";")}
    assert used, "something is styled"
    # No yellow, cyan, white or faint text: they vanish on white.
    assert not used & {2, 33, 36, 37, 93, 96, 97}, used


def test_no_color_turns_colour_off(monkeypatch):
    class Tty:
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert colour_wanted(Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not colour_wanted(Tty())


# --- branches: no preview leak, and the text of a branch the room triggers ---------------

NUCLEAR = """\
format: 1
scenario:
  id: brink
  title: Brink
  start_date: 2025-08-08
  round_days: 7
  rounds: 2
state:
  used:
    initial: 0
    min: 0
actors:
  US:
    name: United States
    rationality: 3
    payoff:
      weights: {used: 1.0}
    actions:
      wait:
        description: Wait.
      strike:
        description: Use a nuclear weapon.
        effects:
          used: "= 1"
  RU:
    name: Russia
    actions:
      hold:
        description: Hold.
branches:
  - id: nuclear
    when: used >= 1
    variable: null
    text: A nuclear weapon has been used.
    prompt: What now?
    outcomes:
      escalation:
        probability: 0.5
        text: Escalation follows.
      restraint:
        probability: rest
        text: Restraint holds.
endings:
  - id: end
    title: The end
"""


def brink() -> Game:
    return Game(compile_text(NUCLEAR.replace("    variable: null\n", ""), "brink.yaml"), SEED)


def test_a_when_branch_is_not_announced_from_a_rule_played_preview():
    game = brink()
    _, preview = game.preview()
    assert preview.branches["nuclear"][0] >= 0  # the rule alone would strike...
    assert game.due_branches(preview) == []  # ...but nothing is due on the real state
    _, room = session(["n", "wait", "q", "y"], game=game, play=("US",))
    before_choice = room.text.split("US chooses")[0]
    assert "Branch nuclear" not in before_choice and "has been used" not in before_choice
    assert "has been used" not in room.text  # the room waited: it never happened


def test_the_branch_the_rooms_choice_triggers_is_told_with_its_text():
    game = brink()
    _, room = session(["n", "strike", "q", "y"], game=game, play=("US",), predict=True)
    before_choice, after = room.text.split("US chooses", 1)
    assert "has been used" not in before_choice and "P(escalation)" not in before_choice
    played = after.split("Round 1 of 2, 2025-08-08", 1)[1]
    assert "Branch nuclear: A nuclear weapon has been used." in played
    assert "Prompt: What now?" in played
    assert re.search(r"Branch nuclear: (escalation|restraint)\.", played)


def test_a_prediction_is_asked_before_the_room_sees_the_models_odds_of_it():
    _, room = session(["n", "n", "0.5", "", "q", "y"], predict=True)
    round_two = room.text.split("Round 1 of 4 played.")[1]
    before = round_two.split("P(success)")[0]
    assert "Branch summit: The summit meets." in before
    assert "summit success" not in before and "%" not in before.split("Prediction:")[0]


# --- save never writes over another file without asking ----------------------------------


def test_save_refuses_a_file_that_is_not_a_saved_game(tmp_path):
    notes = tmp_path / "notes.json"
    notes.write_text('{"my": "notes"}\n')
    _, room = session(["n", "s", str(notes), "q", "y"], play=())
    assert "is not a saved game: not written over" in " ".join(room.text.split())
    assert notes.read_text() == '{"my": "notes"}\n'
    # A name always ends in .json (as fork and the classroom's saves): notes.md is not
    # touched; the game goes to notes.md.json.
    markdown = tmp_path / "notes.md"
    markdown.write_text("# my notes\n")
    _, room = session(["n", "s", str(markdown), "q"], play=())
    assert markdown.read_text() == "# my notes\n"
    assert Game.load(tmp_path / "notes.md.json").round == 1


def test_save_adds_json_like_fork_and_asks_before_writing_over_any_saved_game(tmp_path):
    _, room = session(["n", "s", str(tmp_path / "class-a"), "q"])
    assert not (tmp_path / "class-a").exists()
    assert Game.load(tmp_path / "class-a.json").round == 1
    # A fork's file is a saved game like any other: s to its name asks first.
    _, room = session(
        ["f", str(tmp_path / "fork-a"), "n", "s", str(tmp_path / "fork-a"), "n", "q", "y"]
    )
    assert "fork-a.json holds the last save." in " ".join(room.text.split())
    assert "Not saved." in room.text and Game.load(tmp_path / "fork-a.json").round == 0


def test_save_asks_before_writing_over_another_saved_game(tmp_path):
    other = Game(load(TINY), 7)
    path = other.save(tmp_path / "section-b.json")
    _, room = session(["o", "Blue", "talk", "s", str(path), "n", "q", "y"])
    assert "holds another saved game" in room.text and "Not saved." in room.text
    assert Game.load(path).seed == 7
    _, room = session(["o", "Blue", "talk", "s", str(path), "y", "q"])
    assert f"Saved at round 0 to {path}" in " ".join(room.text.split())
    assert Game.load(path).seed == SEED
    # Its own file (resumed from, or saved before) is not written over silently either.
    game = Game.load(path)
    room = ScriptedRoom(["n", "s", "", "y", "q"])
    Stepper(game, room, StepOptions(save_path=path)).run()
    assert "holds the last save" in room.text and "Saved at round 1" in room.text
    assert Game.load(path).round == 1


# --- a real terminal: tmux at 80x30 ------------------------------------------------------

TMUX = shutil.which("tmux")
needs_tmux = pytest.mark.skipif(
    TMUX is None and os.environ.get("CI") != "true", reason="tmux is not installed"
)


class Pane:
    """A tmux session running one command in an 80x30 window, read as a person would."""

    def __init__(self, command: list[str], cwd: Path):
        assert TMUX is not None, "tmux is missing: .ci/run installs it"
        self.name = f"wargame-test-{os.getpid()}-{time.monotonic_ns()}"
        self.socket = str(cwd / "tmux.sock")
        env = f"-u COLUMNS -u LINES NO_COLOR=1 TERM=xterm PYTHONPATH={ROOT}"
        shell = f"cd {cwd} && env {env} {' '.join(command)}; sleep 30"
        self.tmux("new-session", "-d", "-s", self.name, "-x", "80", "-y", "30", shell)

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            [TMUX, "-S", self.socket, *args], capture_output=True, text=True, timeout=20
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def wait_for(self, text: str, timeout: float = 60) -> str:
        end = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if text in shown:
                return shown
            assert time.monotonic() < end, f"no {text!r} on the screen:\n{shown}"
            time.sleep(0.1)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.name, *keys)

    def paging_to(self, text: str, timeout: float = 60) -> str:
        """Wait for ``text``, turning each page (a key at '-- more') on the way."""
        end = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if text in shown:
                return shown
            if shown.rstrip().endswith("-- more: press a key --"):
                self.keys("Space")
                time.sleep(0.2)
            assert time.monotonic() < end, f"no {text!r} on the screen:\n{shown}"
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run([TMUX, "-S", self.socket, "kill-server"], capture_output=True, timeout=20)


@needs_tmux
def test_in_tmux_at_80x30_the_round_played_stays_on_the_screen(tmp_path):
    command = [sys.executable, "-m", "cli", "step", str(ALASKA), "--play", "US", "--play", "RU"]
    pane = Pane(command, tmp_path)
    try:
        pane.paging_to("[q]uit ? >")
        pane.keys("n")
        # The injects and prompts fill a page; the options come on the next, under the
        # round's heading, with the question on the screen's last line.
        screen = pane.paging_to("US chooses")
        lines = screen.rstrip("\n").split("\n")
        assert lines[-1].startswith("  US chooses (1-4 or a name"), screen
        assert "Round 1 of 13, 2025-08-08 (continued)" in screen
        assert "1. hold" in screen and "4. arm_ukraine" in screen
        pane.keys("3", "Enter")
        screen = pane.paging_to("RU chooses")
        assert "4. mobilise  (not open this round)" in screen
        pane.keys("3", "Enter")
        screen = pane.wait_for("Round 1 of 13 played.")
        lines = screen.rstrip("\n").split("\n")
        assert len(lines) <= 30
        # The whole round is on the screen: its heading, every actor's move, the changes.
        assert any(line.startswith("Round 1 of 13, 2025-08-08") for line in lines), screen
        for actor in ("US", "RU", "DPRK", "UA", "EU", "JP", "ROK"):
            assert re.search(rf"^ [ *]{actor} +\w", screen, re.M), (actor, screen)
        assert re.search(r"\*US +ease_sanctions", screen) and "Changes:" in screen
        # t shows the state; r brings the round back.
        pane.keys("t")
        screen = pane.wait_for("State after round 1 of 13:")
        pane.keys("r")
        time.sleep(0.5)
        screen = pane.wait_for("r: this round again")
        assert "Round 1 of 13, 2025-08-08" in screen
        assert re.search(r"\*US +ease_sanctions", screen)
        # Ctrl-C at a choice prompt asks; no goes on.
        pane.keys("n")
        pane.paging_to("US chooses")
        pane.keys("C-c")
        screen = pane.wait_for("[y/N] >")
        assert "The input ended" not in screen
        pane.keys("n")
        pane.wait_for("Round 1 of 13 played.")
        pane.keys("q")
        pane.wait_for("Quit anyway? [y/N] >")
        pane.keys("y")
    finally:
        pane.close()


# --- Ctrl-C anywhere, and a save that fails (a student's trial) ------------------------


class PagingRoom(ScriptedRoom):
    """A scripted room whose person can also press Ctrl-C at a page's "more"."""

    def pause(self, prompt: str) -> None:
        super().pause(prompt)
        if self.answers and self.answers[0] == "^C":
            self.answers.pop(0)
            raise Interrupted


def test_ctrl_c_at_the_first_page_asks_and_no_goes_on():
    # It printed a traceback ending in Interrupted, and exit code 1.
    game = Game(load(TINY), SEED)
    game.play_to(2)
    room = PagingRoom(["^C", "n", "q"])
    Stepper(game, room, StepOptions(height=8)).run()
    assert "Quit the session? [y/N] > n" in room.text
    assert "The rest of that page was not shown: t shows the state, r the last round." in (
        " ".join(room.text.split())
    )
    assert room.text.rstrip().endswith("> q")  # back at the menu, then quit
    assert game.round == 2


def test_ctrl_c_at_a_page_then_again_when_asked_ends_as_interrupted():
    game = Game(load(TINY), SEED)
    game.play_to(2)
    room = PagingRoom(["^C", "^C"])
    with pytest.raises(KeyboardInterrupt):
        Stepper(game, room, StepOptions(height=8)).run()
    assert "Quit the session? [y/N] > ^C" in room.text


def test_ctrl_c_while_the_model_works_asks_and_the_game_is_intact(monkeypatch):
    # One Ctrl-C during [e] ended the command at once, unsaved choices lost; during a
    # round it could strike with the round half played.
    model_type = type(Game(load(TINY), SEED).model)
    original = model_type.step
    strikes = {"left": 1}

    def step(self):
        if strikes["left"] and self.round == 1:
            strikes["left"] -= 1
            self.round += 1  # the round begun, not finished
            raise KeyboardInterrupt
        original(self)

    monkeypatch.setattr(model_type, "step", step)
    game = Game(load(TINY), SEED)
    room = ScriptedRoom(["n", "1", "n", "n", "n", "2", "q", "y"])
    Stepper(game, room, StepOptions(play=("Blue",))).run()
    assert room.text.count("Quit anyway? [y/N] > n") == 1  # asked, not ended
    assert "Recorded: Blue plays sanction in round 2." in room.text
    assert game.round == 2
    expect = Game.expect

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Game, "expect", interrupted)
    room = ScriptedRoom(["e", "n", "q", "y"])
    Stepper(game, room, StepOptions(play=("Blue",))).run()
    assert "Quit anyway? [y/N] > n" in room.text and game.round == 2
    monkeypatch.setattr(Game, "expect", expect)
    # The game goes on exactly as one never interrupted.
    fresh = Game(load(TINY), SEED, choices=dict(game.choices))
    for played in (game, fresh):
        played.play_to(played.rounds)
    same_game(game, fresh)


def test_a_save_or_fork_that_cannot_be_written_does_not_end_the_session(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    game, room = session(["n", "s", "nodir/x", "f", "nodir/y", "s", "ok", "q"])
    text = " ".join(room.text.split())
    assert "nodir/x.json: cannot save the game" in text
    assert "Not saved: [s]ave again with another name." in text
    assert "Not forked: [f]ork again with another name." in text
    assert (tmp_path / "ok.json").is_file() and game.name != "y"


def test_enter_alone_at_a_choice_asks_for_one_without_quoting_nothing():
    # It said "'' is not an option for Blue".
    _, room = session(["n", "", "1", "q", "y"], play=("Blue",))
    text = " ".join(room.text.split())
    assert "Blue needs a choice: type 1-2 or one of talk, sanction" in text
    assert "'' is not an option" not in text
    assert "Recorded: Blue plays talk in round 1." in text


def test_the_help_is_wrapped_at_a_narrow_terminal_not_cut_mid_word():
    _, room = session(["?", "q"], width=60)
    help_lines = room.text.split("Keys (one key")[1].split("\n")[1:18]
    assert all(len(line) <= 60 for line in help_lines), help_lines
    assert "     it back to its rule" in help_lines  # under the text, not the key
    assert not any(line.endswith("fo") for line in help_lines)


def test_a_page_does_not_end_inside_a_wrapped_sentence():
    # "Prompt: How will Beijing read a THAAD review, and does" / -- more -- /
    # "Round 3 of 13 (continued)" / "Seoul care more this time?" (a student's trial).
    from sim.seminar.stepper import _Screen

    room = ScriptedRoom([])
    screen = _Screen(room, height=4)
    screen.heading = "Round 3"
    screen.show("Round 3\n  Inject a: one line\n  Prompt: How will Beijing read a\n    Seoul care?")
    pages = room.text.split("-- more: press a key --")
    assert pages[0].strip().endswith("Inject a: one line"), pages
    assert "Prompt: How will Beijing read a\n    Seoul care?" in pages[1]
    # A paragraph longer than a page is still cut (where it must).
    room = ScriptedRoom([])
    _Screen(room, height=4).show("Head\n  a\n    b\n    c\n    d\n    e\n    f")
    assert room.text.count("-- more") == 2


def _talks(outcome: str) -> tuple[Game, ScriptedRoom]:
    """Taiwan with the room in PRC's, Taiwan's and the US's seats, steering for talks.

    dialogue_offer comes up once Taiwan has reassured four times and the US has used
    the back channel: in round 4 of these moves, and in no round before it.
    """
    game = Game(load(ROOT / "scenarios" / "taiwan-strait.yaml"), SEED)
    moves = ["court_opposition", "reassure", "back_channel"]
    answers = ["n", *moves] * 3 + ["n", *moves, outcome, "q", "y"]
    room = ScriptedRoom(answers)
    Stepper(game, room, StepOptions(play=("PRC", "TW", "US"))).run()
    return game, room


def test_a_seats_branch_is_asked_only_in_the_round_it_comes_up():
    # A lecturer's trial: taiwan-strait asked PRC's seat to decide dialogue_offer "if it
    # comes up" every round, while its condition could not hold.
    game, room = _talks("opened")
    text = " ".join(room.text.split())
    assert text.count("PRC decides dialogue_offer (this round): 1. opened, 2. refused") == 1
    assert text.index("Recorded: US plays back_channel in round 4.") < text.index(
        "PRC decides dialogue_offer (this round)"
    )
    assert "Recorded: PRC decides dialogue_offer: opened." in text
    # Its text and prompt before the question, not after the answer.
    asked = text.index("PRC decides dialogue_offer (this round)")
    answer = text.index("PRC chooses (1-2", asked)
    told = text[asked:answer]
    assert "dialogue_offer: Envoys sound out a cross-Strait dialogue." in told
    assert "Prompt: What would Beijing need to hear to talk to Lai's government?" in told
    assert "if it comes up" not in text
    assert game.round == 4 and game.outcome_of("dialogue_offer") == "opened"
    # The round's own record, not the stepper's words: resolved in round 4 (outcome 0,
    # opened), in no round before.
    resolved = [int(r.branches.get("dialogue_offer", [-1])[0]) for r in game.history]
    assert resolved == [-1, -1, -1, 0]


def test_enter_leaves_a_seats_branch_to_its_rule():
    game, room = _talks("")
    assert "PRC's rule decides dialogue_offer." in room.text
    assert "is not an outcome of dialogue_offer" not in room.text
    assert game.outcome_of("dialogue_offer") in ("opened", "refused")
    assert "dialogue_offer" not in {b for (_, b) in game.outcomes}


def test_a_short_call_and_a_key_hint_are_not_split_at_a_narrow_terminal():
    # "times('TW'," / "'reassure') >= 4" and "(?" / "lists them" (a student's trial).
    class Narrow(Stepper):
        def __init__(self):  # only what _say needs
            self.width = 60
            self.room = ScriptedRoom([])

    narrow = Narrow()
    narrow._say(
        "It comes up when dialogue == 'none' and quarantine == 'none' and times('TW', "
        "'reassure') >= 4 and times('US', 'back_channel') >= 1.",
        indent=2,
    )
    narrow._say("type 1-4 or one of hold, press_ukraine, ease_sanctions (? lists them).", 2)
    lines = narrow.room.text.splitlines()
    assert all(len(line) <= 60 for line in lines), lines
    assert any("times('TW', 'reassure')" in line for line in lines), lines
    assert any("times('US', 'back_channel')" in line for line in lines), lines
    assert not any(line.rstrip().endswith("(?") for line in lines), lines


def test_a_narrow_menu_keeps_the_round_in_sight():
    # At 60 columns the menu was "[n]ext [o]verride ... ? >" with no round (a trial).
    game = Game(load(ALASKA), SEED)
    game.play_to(4)
    room = ScriptedRoom(["q"])
    Stepper(game, room, StepOptions(width=60)).run()
    prompt = room.text.rstrip().splitlines()[-1]
    assert prompt.startswith("Rd 4/13 [n]ext [o]verride") and len(prompt) <= 60 + 2

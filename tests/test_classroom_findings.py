"""What a lecturer found running a real class with `wargame serve`, one test per finding.

Each test drives the room the way the class did: through :class:`Classroom` or its web
API (Starlette's test client). The browser-only findings (inputs kept while the page
updates, phone layout) are in test_classroom_browser.py.
"""

from __future__ import annotations

import json

import pytest

from sim.classroom.roles import FACILITATOR, STUDENT, Role
from sim.classroom.room import Classroom
from sim.classroom.views import view
from sim.engine.loading import load
from sim.errors import OptionsError
from sim.seminar.game import Game
from tests.conftest import TINY

SEED = 20250815
FAC = Role(FACILITATOR)


def room_of(tmp_path, path=TINY, teams=("Blue", "Red")) -> Classroom:
    game = Game(load(path), SEED)
    return Classroom(game, teams, save_dir=tmp_path, scenario_path=str(path), continuations=200)


def to_summit(room: Classroom) -> None:
    """Round 1 played, round 2 (the summit) open."""
    room.open_round(FAC)
    room.reveal(FAC)
    room.open_round(FAC)
    assert room.due == ["summit"]


# --- 1. a prediction is locked once its outcome has been shown -------------------------


def test_a_prediction_cannot_be_changed_after_the_room_has_seen_the_outcome(tmp_path):
    room = room_of(tmp_path)
    to_summit(room)
    secret = room.predict(Role(STUDENT), "Ada", None, "summit", {"success": 0.65, "collapse": 0.35})
    room.reveal(FAC)
    happened = room.game.outcome_of("summit")
    room.back(FAC)  # the summit's round is open again, the outcome still on the screens
    assert room.due == ["summit"]
    wrong = "collapse" if happened == "success" else "success"
    with pytest.raises(OptionsError, match="locked"):
        room.predict(Role(STUDENT), "Ada", secret, "summit", {happened: 1.0, wrong: 0.0})
    with pytest.raises(OptionsError, match="locked"):  # nor a late newcomer
        room.predict(Role(STUDENT), "Bob", None, "summit", {happened: 1.0})
    due = view(room, Role(STUDENT), "Ada", secret)["open"]["due"]
    assert due[0]["locked"] is True
    room.reveal(FAC)
    ada = room.students["ada"].predictions["summit"].probabilities
    assert ada == {"success": 0.65, "collapse": 0.35}
    # Back twice (to before round 1) and on again: still locked, still the first forecast.
    room.back(FAC)
    room.reveal(FAC)
    room.back(FAC)
    room.back(FAC)
    assert room.students["ada"].predictions["summit"].probabilities["success"] == 0.65
    room.reveal(FAC)
    room.open_round(FAC)
    with pytest.raises(OptionsError, match="locked"):
        room.predict(Role(STUDENT), "Ada", secret, "summit", {happened: 1.0})


def test_the_lock_survives_a_save_and_load(tmp_path):
    room = room_of(tmp_path)
    to_summit(room)
    room.predict(Role(STUDENT), "Ada", None, "summit", {"success": 0.5, "collapse": 0.5})
    room.reveal(FAC)
    room.save(FAC, "class-a")
    assert json.loads((tmp_path / "class-a.json").read_text())["revealed"] == ["summit"]
    room.back(FAC)
    room.back(FAC)
    room.load(FAC, "class-a")
    room.back(FAC)
    with pytest.raises(OptionsError, match="locked"):
        room.predict(Role(STUDENT), "Cy", None, "summit", {"success": 1.0})
    resumed = Game.load(tmp_path / "class-a.json")
    resumed.back()
    with pytest.raises(OptionsError, match="locked"):
        resumed.predict("summit", {"success": 1.0})


def test_the_terminal_keeps_a_prediction_locked_after_back():
    from sim.seminar.stepper import ScriptedRoom, StepOptions, Stepper

    game = Game(load(TINY), SEED)
    # Round 1, round 2 with a 60/40 forecast, back twice, then round 1 and 2 again.
    answers = ["n", "n", "60%", "", "b", "b", "n", "n", "q", "y"]
    room = ScriptedRoom(answers)
    Stepper(game, room, StepOptions(predict=True)).run()
    assert room.text.count("P(success)") == 1  # never asked again
    assert "The room has seen how summit went: its prediction is locked" in room.text
    assert game.predictions["summit"].probabilities == {"success": 0.6, "collapse": 0.4}
    with pytest.raises(OptionsError, match="locked"):
        game.predict("summit", {"success": 1.0})

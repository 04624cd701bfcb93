"""What a lecturer found running a real class with `wargame serve`, one test per finding.

Each test drives the room the way the class did: through :class:`Classroom` or its web
API (Starlette's test client). The browser-only findings (inputs kept while the page
updates, phone layout) are in test_classroom_browser.py.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import socket
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from cli import cli
from sim.classroom.roles import FACILITATOR, PROJECTOR, STUDENT, TEAM, Forbidden, Role
from sim.classroom.room import Classroom, read_classroom_students
from sim.classroom.server import create_app, links
from sim.classroom.views import signed_change, view
from sim.engine.loading import load
from sim.errors import OptionsError
from sim.seminar.game import Game
from tests.conftest import ALASKA, ROOT, TINY
from tests.test_classroom import free_port, start_server, stop_server

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
    assert (
        "The room has seen how summit went: its prediction is locked (success 60%, collapse 40%)."
        in " ".join(room.text.split())  # the screen folds long lines
    )
    assert game.predictions["summit"].probabilities == {"success": 0.6, "collapse": 0.4}
    with pytest.raises(OptionsError, match="locked"):
        game.predict("summit", {"success": 1.0})


# --- 3. an empty save name never writes over a file silently ----------------------------


def test_an_empty_save_name_asks_for_a_name_or_before_replacing_the_last_file(tmp_path):
    room = room_of(tmp_path)
    with TestClient(create_app(room, batch_runs=100)) as client:
        fac = {"X-Token": room.tokens.facilitator}

        def save(**body):
            return client.post("/api/control", json={"do": "save", **body}, headers=fac)

        answer = save(name="")
        assert answer.status_code == 400 and "give the save a name" in answer.json()["error"]
        assert list(tmp_path.glob("*.json")) == []
        assert save(name="class-a").status_code == 200
        room.open_round(FAC)
        room.reveal(FAC)
        answer = save(name="")  # the last file: a question, not a silent write
        assert answer.status_code == 409 and answer.json()["confirm"] is True
        assert (
            "class-a.json holds the last save (round 0): write over it?" in answer.json()["error"]
        )
        assert json.loads((tmp_path / "class-a.json").read_text())["round"] == 0
        assert save(name="", overwrite=True).status_code == 200
        assert json.loads((tmp_path / "class-a.json").read_text())["round"] == 1
        assert save(name="class-a.json").status_code == 409  # named the same: asked too


# --- 4. no odds of a branch the room may still be asked about --------------------------


def test_no_view_of_the_room_shows_an_unresolved_branchs_odds(tmp_path):
    room = room_of(tmp_path, ALASKA, ("US", "RU"))
    odds = re.compile(r"summit (success|collapse) \d+%")
    for role in (Role(PROJECTOR), Role(STUDENT), Role(TEAM, "RU")):
        data = view(room, role)
        summit = next(b for b in data["outlook"]["branches"] if b["id"] == "summit")
        assert summit["outcomes"] is None, role
        # Nor how likely a branch is to come up: the counteroffensive comes up only
        # after a collapse, so its chance of coming up is P(collapse) (a lecturer's trial).
        assert all(b["resolves"] is None for b in data["outlook"]["branches"]), role
    room.open_round(FAC)
    room.reveal(FAC)
    room.open_round(FAC)  # round 2: the students are asked about the summit
    for role in (Role(PROJECTOR), Role(STUDENT)):
        text = json.dumps(view(room, role))
        assert not odds.search(text), role
        assert "summit (odds hidden until it resolves)" in text
    # The facilitator sees them, apart from the room's panels.
    fac = view(room, FAC)
    assert next(b for b in fac["facilitator"]["odds"] if b["id"] == "summit")["outcomes"]
    assert not odds.search(json.dumps(fac["played"]))
    # A team's own cards show what its actor foresees, one outcome quoted on every card.
    cards = view(room, Role(TEAM, "US"))["team"]["options"]
    quoted = {re.match(r"summit (\w+)", f).group(1) for c in cards for f in c["foresaw"]}
    assert len(quoted) == 1
    room.reveal(FAC)  # the summit resolved: its odds may be shown again
    text = json.dumps(view(room, Role(PROJECTOR))["played"])
    assert odds.search(text)


def test_a_teams_cards_name_the_expected_changes_by_their_titles(tmp_path):
    # A lecturer's trial: the cards read "us credibility +0.01" under a briefing and a
    # list of changes that say "allies' confidence in US guarantees".
    room = room_of(tmp_path, ALASKA, ("US",))
    room.open_round(FAC)
    cards = view(room, Role(TEAM, "US"))["team"]["options"]
    named = {e["name"]: e["title"] for c in cards for e in c["effects"]}
    assert named.get("us_credibility") == "allies' confidence in US guarantees", named
    assert named.get("economic_track") == "economic track", named  # the variable's own
    assert all(named.values()), named  # alaska titles every variable


# --- 5. the debrief link and a mid-game debrief ----------------------------------------


def test_the_debrief_link_is_projector_safe_and_spoils_nothing_mid_game(tmp_path):
    room = room_of(tmp_path)
    found = links(room, "http://127.0.0.1:8000")
    assert found["debrief"].endswith(room.tokens.projector)
    assert room.tokens.facilitator not in found["debrief"]
    assert view(room, FAC)["debrief"] == f"/debrief/{room.tokens.projector}"
    with TestClient(create_app(room, batch_runs=100)) as client:
        proj = {"X-Token": room.tokens.projector}
        assert client.get(f"/debrief/{room.tokens.projector}").status_code == 200
        room.open_round(FAC)
        room.reveal(FAC)
        data = client.get("/api/debrief", headers=proj).json()
        assert data["params"] == [] and data["payoffs"] == []
        assert "once the game is over" in data["withheld"]
        room.end(FAC)
        data = client.get("/api/debrief", headers=proj).json()
        assert data["params"] and data["payoffs"] and "withheld" not in data


# --- 6. a team's briefing -------------------------------------------------------------


def test_a_team_is_briefed_before_round_1(tmp_path):
    room = room_of(tmp_path, ALASKA, ("US", "RU"))
    brief = view(room, Role(TEAM, "US"))["team"]["briefing"]
    assert brief["title"].startswith("The Alaska summit") and "Anchorage" in brief["description"]
    assert brief["actor"] == "US" and brief["name"] == "United States"
    # Named by the metric's title, as the projector's changes are (a lecturer's trial).
    assert any(
        v.startswith("more allies' confidence in US guarantees is better") for v in brief["values"]
    )
    assert (
        "each round, +2.5 while summit is success; −1 while summit is collapse" in (brief["values"])
    )
    ease = next(o for o in brief["options"] if o["id"] == "ease_sanctions")
    assert "ExxonMobil" in ease["description"] and ease["when"] == "summit is not collapse"
    tiny = view(room_of(tmp_path), Role(TEAM, "Blue"))["team"]["briefing"]
    assert "once, if the game ends in escalation to war: −10" in tiny["values"]


# --- 12. the smaller findings ----------------------------------------------------------


def test_a_student_who_takes_a_name_is_counted_before_predicting(tmp_path):
    room = room_of(tmp_path)
    with TestClient(create_app(room, batch_runs=100)) as client:
        student = {"X-Token": room.tokens.student}
        answer = client.post("/api/register", json={"name": "Ada"}, headers=student)
        assert answer.status_code == 200
        secret = answer.json()["secret"]
        assert view(room, FAC)["facilitator"]["students"] == 1
        again = client.post(
            "/api/register", json={"name": "ada", "secret": secret}, headers=student
        )
        assert again.status_code == 200 and again.json()["secret"] == secret
        stolen = client.post("/api/register", json={"name": "ADA"}, headers=student)
        assert stolen.status_code == 403
        team = {"X-Token": room.tokens.teams["Blue"]}
        assert client.post("/api/register", json={"name": "X"}, headers=team).status_code == 403
    to_summit(room)
    room.predict(Role(STUDENT), "Ada", secret, "summit", {"success": 0.2, "collapse": 0.8})
    room.reveal(FAC)
    mine = view(room, Role(STUDENT), "Ada", secret)
    assert mine["me"] == "Ada"
    assert mine["my_scores"][0]["branch"] == "summit" and mine["my_scores"][0]["brier"] is not None
    assert view(room, Role(STUDENT), "Ada", "wrong")["my_scores"] == []


def test_option_cards_hide_changes_that_round_to_nothing():
    assert signed_change(0.00023) is None and signed_change(-0.004) is None
    assert signed_change(0.05) == "+0.05" and signed_change(-28.4) == "-28"
    assert signed_change(1.26) == "+1.3" and signed_change(1234.0) == "+1,234"


def test_the_end_tells_the_room_what_the_rules_played(tmp_path):
    room = room_of(tmp_path, ALASKA, ("US", "RU"))
    for _ in range(9):
        room.open_round(FAC)
        room.reveal(FAC)
    room.open_round(FAC)
    room.end(FAC)
    ending = view(room, Role(PROJECTOR))["ending"]
    assert [r["round"] for r in ending["rest"]] == list(range(10, room.game.round + 1))
    told = {b["id"] for r in ending["rest"] for b in r["branches"]}
    resolved = {b["id"] for b in view(room, Role(PROJECTOR))["tree"] if b.get("round", 0) >= 10}
    assert told >= {b for b in resolved if b != "summit"}
    assert {p["name"] for p in ending["payoffs"]} >= {"United States", "Russia"}
    with pytest.raises(OptionsError, match="over already"):
        room.end(FAC)


def test_ending_an_open_round_keeps_the_teams_choices_and_says_so(tmp_path):
    room = room_of(tmp_path, ALASKA, ("US", "RU"))
    room.open_round(FAC)
    us = room.open_options("US")[-1]
    room.choose(Role(TEAM, "US"), "US", us)
    room.end(FAC)
    assert room.game.choices == {(1, "US"): us}
    assert room.game.history[0].decisions["US"].overridden
    rest = view(room, Role(PROJECTOR))["ending"]["rest"]
    assert rest[0]["round"] == 1 and rest[0]["by_people"]
    assert not any(r["by_people"] for r in rest[1:])


@pytest.mark.parametrize(("seed", "summit"), [(3, "success"), (1, "collapse")])
def test_a_branch_that_can_no_longer_come_up_says_so(tmp_path, seed, summit):
    # A lecturer's trial: after the summit succeeded, every screen still showed the
    # counteroffensive (which needs a collapse) as pending, "odds hidden".
    game = Game(load(ALASKA), seed)
    room = Classroom(game, ("US", "RU"), save_dir=tmp_path, continuations=200)
    assert game.closed_branches() == []
    while game.outcome_of("summit") is None:
        room.open_round(FAC)
        room.reveal(FAC)
    assert game.outcome_of("summit") == summit
    closed = summit == "success"
    for role in (Role(PROJECTOR), Role(STUDENT)):
        data = view(room, role)
        tree = {t["id"]: t for t in data["tree"]}
        assert (tree["counteroffensive"]["status"] == "closed") is closed, role
        outlook = {b["id"]: b for b in data["outlook"]["branches"]}
        assert outlook["counteroffensive"]["closed"] is closed
        assert outlook["counteroffensive"]["resolves"] is None  # still no odds


def test_a_condition_on_a_hidden_parameter_is_never_called_closed():
    # Saying such a branch cannot come up would tell the room the parameter's value.
    from sim.engine.loading import load_text
    from tests.conftest import HEADER

    text = (
        HEADER.format(rounds=3)
        + """
parameters:
  resolve: {dist: uniform, low: 0, high: 1}
state:
  tension: {initial: 1}
actors:
  A:
    name: Alpha
    payoff: {weights: {tension: -1}}
    actions:
      wait: {}
branches:
  - id: never
    when: "tension > 5"
    outcomes: {yes: {probability: 0.5}, no: {probability: rest}}
  - id: secret
    when: "resolve > 2"
    outcomes: {yes: {probability: 0.5}, no: {probability: rest}}
endings:
  - id: end
"""
    )
    game = Game(load_text(text, "closed.yaml"), 1)
    assert game.closed_branches() == ["never"]  # nothing changes tension: it stays 1


# --- a second trial: names kept across a load or a resume, the resume command, the seed -----


def test_a_student_keeps_their_name_across_a_load(tmp_path):
    # A lecturer's trial: Load gave every student a new secret, and locked each one out
    # of their own name on their own device.
    room = room_of(tmp_path)
    student = Role(STUDENT)
    ada = room.register(student, "Ada")
    to_summit(room)
    room.predict(student, "Ada", ada, "summit", {"success": 0.2, "collapse": 0.8})
    room.save(FAC, "class-a")
    bo = room.register(student, "Bo")  # joined after the save
    room.reveal(FAC)
    room.load(FAC, "class-a")
    assert room.student_secret_ok("Ada", ada) and room.student_secret_ok("bo", bo)
    assert room.register(student, "Ada", ada) == ada
    with pytest.raises(Forbidden, match="taken on another device"):
        room.register(student, "ada")
    mine = view(room, student, "Ada", ada)
    assert mine["me"] == "Ada" and mine["mine"]["summit"]["collapse"] == 0.8
    assert view(room, student, "Bo", bo)["me"] == "Bo"
    assert room.students["bo"].predictions == {}  # Bo's name stays; the file has no forecasts
    room.open_round(FAC)
    room.predict(student, "Ada", ada, "summit", {"success": 0.5, "collapse": 0.5})
    assert [b["student"] for b in room.leaderboard()] == ["Ada", "Bo"]
    # A name the room and the file hold by different secrets stays with the room's device.
    other = room_of(tmp_path)
    mine = other.register(student, "ADA")
    other.load(FAC, "class-a")
    assert other.student_secret_ok("Ada", mine) and not other.student_secret_ok("Ada", ada)
    assert other.students["ada"].predictions["summit"].student == "ADA"
    assert [b["student"] for b in other.leaderboard()] == ["ADA"]


def test_the_save_holds_each_secrets_hash_never_the_secret(tmp_path):
    room = room_of(tmp_path)
    ada = room.register(Role(STUDENT), "Ada")
    path = room.save(FAC, "class-a")
    text = path.read_text()
    assert ada not in text
    names = json.loads(text)["classroom"]["names"]
    assert names == [{"name": "Ada", "secret_sha256": hashlib.sha256(ada.encode()).hexdigest()}]
    # The room itself keeps no secret either.
    assert ada not in repr(room.students)


def test_a_save_without_hashes_still_loads_and_its_names_go_to_the_first_device(tmp_path):
    room = room_of(tmp_path)
    ada = room.register(Role(STUDENT), "Ada")
    to_summit(room)
    room.predict(Role(STUDENT), "Ada", ada, "summit", {"success": 0.4, "collapse": 0.6})
    path = room.save(FAC, "old")
    raw = json.loads(path.read_text())
    del raw["classroom"]["names"]  # as the classroom wrote it before hashes were saved
    path.write_text(json.dumps(raw))
    for fresh in (room_of(tmp_path), room):  # a new server, and this one
        fresh.load(FAC, "old")
        assert fresh.students["ada"].predictions["summit"].probabilities["collapse"] == 0.6
    fresh = room_of(tmp_path)
    fresh.load(FAC, "old")
    assert not fresh.student_secret_ok("Ada", ada)
    claimed = fresh.register(Role(STUDENT), "ada")  # the first device to ask
    assert fresh.student_secret_ok("Ada", claimed)
    with pytest.raises(Forbidden):
        fresh.register(Role(STUDENT), "Ada")
    assert read_classroom_students(path)["ada"].secret_hash is None
    # A terminal save has no classroom part at all.
    assert read_classroom_students(room.game.save(tmp_path / "step.json")) == {}


@pytest.mark.parametrize(
    ("classroom", "message"),
    [
        ("x", "damaged classroom part"),
        ({"names": [{"name": "Ada", "secret_sha256": "not a hash"}]}, "damaged students' names"),
        ({"names": ["Ada"]}, "damaged students' names"),
        ({"students": [{"name": "Ada"}]}, "damaged students' predictions"),
    ],
)
def test_a_damaged_students_part_is_one_line(tmp_path, classroom, message):
    room = room_of(tmp_path)
    path = room.save(FAC, "class-a")
    raw = json.loads(path.read_text())
    raw["classroom"] = classroom
    path.write_text(json.dumps(raw))
    with pytest.raises(OptionsError, match=message):
        room.load(FAC, "class-a")
    assert room.game.round == 0  # the room is as it was
    with socket.socket() as busy:  # were the file taken, the server would not start
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = str(busy.getsockname()[1])
        result = CliRunner().invoke(cli, ["serve", "--resume", str(path), "--port", port])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_serve_resume_gives_a_device_its_name_back_and_says_how_to_resume(tmp_path):
    folder = tmp_path / "class room"  # a space: the command printed must still paste
    folder.mkdir()
    room = room_of(folder)
    ada = room.register(Role(STUDENT), "Ada")
    to_summit(room)
    room.predict(Role(STUDENT), "Ada", ada, "summit", {"success": 0.3, "collapse": 0.7})
    path = room.save(FAC, "class-a")
    port = free_port()
    child, found, _ = start_server(["--resume", str(path), "--port", str(port)], folder)
    try:
        base, token = found["students"].split("/students/")

        def register(body):
            request = urllib.request.Request(
                f"{base}/api/register",
                data=json.dumps(body).encode(),
                headers={"X-Token": token, "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    return answer.status, json.loads(answer.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read())

        assert register({"name": "Ada", "secret": ada}) == (200, {"ok": True, "secret": ada})
        status, answer = register({"name": "Ada"})
        assert status == 403 and "taken on another device" in answer["error"]
        request = urllib.request.Request(
            f"{base}/api/view?name=Ada", headers={"X-Token": token, "X-Student-Secret": ada}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            data = json.loads(answer.read())
        assert data["me"] == "Ada" and data["mine"]["summit"]["collapse"] == 0.7
    finally:
        out = stop_server(child)
    assert child.returncode == 0, out
    line = next(x for x in out.splitlines() if "Resume it with: " in x)
    command = shlex.split(line.split("Resume it with: ", 1)[1])
    assert command == ["wargame", "serve", "--resume", str(path), "--port", str(port)]


def test_the_terminals_resume_line_pastes_for_a_name_with_a_space(tmp_path):
    from sim.seminar.stepper import ScriptedRoom, StepOptions, Stepper

    target = tmp_path / "class a"
    terminal = ScriptedRoom(["n", "s", str(target), "q"])
    Stepper(Game(load(TINY), SEED), terminal, StepOptions()).run()
    # One line of its own, whatever the width (a lecturer's trial: at 80 columns the
    # quoted name was broken over two lines and did not paste).
    line = next(x for x in terminal.text.splitlines() if "wargame step --resume" in x)
    command = shlex.split(line)
    assert command[:3] == ["wargame", "step", "--resume"]
    assert command[3] == str((tmp_path / "class a.json").resolve())
    assert Game.load(command[3]).round == 1


def test_the_seed_is_withheld_from_the_room_until_the_game_is_over(tmp_path):
    # A lecturer's trial: the debrief, "safe to project", showed the seed mid-game; with
    # it (and the run) anyone could replay the game and read its hidden draws.
    room = room_of(tmp_path)
    with TestClient(create_app(room, batch_runs=100)) as client:
        proj = {"X-Token": room.tokens.projector}
        room.open_round(FAC)
        room.reveal(FAC)
        data = client.get("/api/debrief", headers=proj).json()
        assert data["seed"] is None and data["run"] is None
        assert "seed" in data["withheld"]
        for role in (Role(PROJECTOR), Role(STUDENT), Role(TEAM, "Blue")):
            seen = view(room, role)
            assert seen["seed"] is None and seen["run"] is None, role
        assert view(room, FAC)["seed"] == SEED  # the facilitator knows the game
        room.end(FAC)
        data = client.get("/api/debrief", headers=proj).json()
        assert data["seed"] == SEED and data["run"] == 0
        assert view(room, Role(STUDENT))["seed"] == SEED


def test_the_stop_message_knows_a_game_played_on_after_its_last_file(tmp_path):
    # A lecturer's trial: a game loaded from class-a, played on and ended, was announced
    # as "last saved to class-a" on Ctrl-C, its new rounds lost without a word.
    from cli import _unsaved_since

    game = Game(load(TINY), SEED)
    game.play_round()
    path = game.save(tmp_path / "class-a.json")
    assert not _unsaved_since(path, game.to_json())
    game.play_round()
    assert _unsaved_since(path, game.to_json())
    assert _unsaved_since(tmp_path / "gone.json", game.to_json())


def test_a_changed_name_leaves_no_empty_student_behind(tmp_path):
    # A lecturer's trial: a phone typed a new name and pressed Predict; the old name
    # stayed as an empty student (4 students for 3 phones, ranked 4th on the debrief).
    room = room_of(tmp_path)
    student = Role(STUDENT)
    old = room.register(student, "chloé phone")
    room.register(student, "chloe_phone", None, "chloé phone", old)
    assert [s.name for s in room.students.values()] == ["chloe_phone"]
    # Without the old name's secret, or once it has predicted, the old name stays.
    bo = room.register(student, "Bo")
    room.register(student, "Bob", None, "Bo", "not Bo's secret")
    to_summit(room)
    room.predict(student, "Bo", bo, "summit", {"success": 0.5, "collapse": 0.5})
    room.register(student, "Bobby", None, "Bo", bo)
    assert sorted(s.name for s in room.students.values()) == ["Bo", "Bob", "Bobby", "chloe_phone"]


def test_reveal_asks_the_facilitator_first_while_a_team_has_not_chosen(tmp_path):
    # A lecturer's trial: Reveal sat beside Back and End and played at once; a re-trial
    # saw the page's own question name a team that had chosen a moment before.
    from sim.classroom.room import NeedsConfirmation

    room = room_of(tmp_path)
    room.open_round(FAC)
    with pytest.raises(NeedsConfirmation, match=r"^Reveal round 1 now\? Blue, Red have not"):
        room.reveal(FAC, ask=True)
    room.choose(Role(TEAM, "Blue"), "Blue", "talk")
    with pytest.raises(NeedsConfirmation, match="Red has not chosen: its actor plays by"):
        room.reveal(FAC, ask=True)
    assert room.game.round == 0  # nothing played while asking
    room.choose(Role(TEAM, "Red"), "Red", "hold")
    room.reveal(FAC, ask=True)  # everyone chose: no question
    assert room.game.round == 1
    room.open_round(FAC)
    room.reveal(FAC)  # the timer, and an API call without ask, never ask
    assert room.game.round == 2


def test_prediction_shares_read_as_percentages_with_a_decimal_only_where_needed():
    from sim.seminar.stepper import _shares

    assert _shares({"success": 0.6, "collapse": 0.4}) == "success 60%, collapse 40%"
    assert _shares({"a": 0.125, "b": 0.875}) == "a 12.5%, b 87.5%"
    assert _shares({"a": 1.0, "b": 0.0}) == "a 100%, b 0%"


def test_a_chance_branch_is_told_as_a_chance_not_as_news(tmp_path):
    # A lecturer's trial: the projector said "Due now: sea incident. A coast-guard cutter
    # and a Taiwanese patrol boat collide ..." in rounds where it never happened.
    taiwan = ROOT / "scenarios" / "taiwan-strait.yaml"
    room = room_of(tmp_path, taiwan, teams=("TW", "US"))
    for _ in range(8):
        room.open_round(FAC)
        if "sea_incident" in room.due:
            break
        room.reveal(FAC)
    assert "sea_incident" in room.due, "pressure never passed 4 in 8 rounds"
    # Independently of the view: due on the seen state, and only by the hazard's draw.
    branch = next(b for b in room.game.compiled.branches if b.id == "sea_incident")
    assert branch.hazard is not None
    projected = view(room, Role(PROJECTOR))
    due = {d["id"]: d for d in projected["open"]["due"]}
    assert due["sea_incident"]["chance"] is True
    tree = {t["id"]: t for t in projected["tree"]}
    assert tree["sea_incident"]["status"] == "due" and tree["sea_incident"]["chance"] is True
    # A branch due on its condition alone is news, not a chance.
    assert all(not d["chance"] for d in due.values() if d["id"] != "sea_incident")


def test_a_teams_decision_reads_in_plain_words(tmp_path):
    # A lecturer's trial: the US team read "quarantine == 'declared' and response ==
    # 'none'" and "Does: us_credibility += 0.2, pressure += 1" in round 1.
    taiwan = ROOT / "scenarios" / "taiwan-strait.yaml"
    room = room_of(tmp_path, taiwan, teams=("US", "PRC"))
    room.open_round(FAC)
    decides = view(room, Role(TEAM, "US"))["team"]["decides"]
    response = next(d for d in decides if d["id"] == "us_response")
    assert response["certain"] is False
    assert response["condition"] == "quarantine is declared and response is none"
    effects = {o["id"]: o["effects"] for o in response["outcomes"]}
    # The scenario's own effects, named by their metrics' titles.
    assert effects["escort"] == ["Confidence in the US commitment +0.2", "Pressure on Taiwan +1"]
    assert "Coast-guard quarantine becomes inspected" in effects["accept"]
    assert not any("=" in e for es in effects.values() for e in es)


def test_the_facilitator_sees_a_computer_actors_closed_options_as_closed(tmp_path):
    # A lecturer's trial: the web override list left out options not open this round
    # (no declare_quarantine in round 4), where the terminal lists them as not open.
    taiwan = ROOT / "scenarios" / "taiwan-strait.yaml"
    room = room_of(tmp_path, taiwan, teams=("TW", "US"))
    room.open_round(FAC)
    prc = next(c for c in view(room, FAC)["facilitator"]["computer"] if c["actor"] == "PRC")
    actions = [a.id for a in room.game.compiled.actors[0].actions]
    decision = room.preview[1].decisions["PRC"]
    closed = [a for i, a in enumerate(actions) if not decision.feasible[i, 0]]
    assert closed and prc["closed"] == closed
    assert sorted(prc["options"] + prc["closed"]) == sorted(actions)


def test_a_chance_branch_that_happens_is_told_with_its_text_and_prompt(tmp_path):
    # A lecturer's re-trial: showdown was announced for rounds as "may come up, by
    # chance" (no text), and when it came up the screens showed only its outcome.
    text = TINY.read_text("utf-8").replace(
        "    round: 2\n    variable: summit\n    text: The summit meets.\n",
        "    when: round >= 2\n    hazard: 0.999\n    variable: summit\n"
        "    text: The summit meets.\n    prompt: Who blinks first?\n",
    )
    assert "hazard: 0.999" in text
    chance = tmp_path / "chance.yaml"
    chance.write_text(text, "utf-8")
    room = room_of(tmp_path, chance)
    room.open_round(FAC)
    room.reveal(FAC)
    room.open_round(FAC)
    assert room.due == ["summit"]
    projected = view(room, Role(PROJECTOR))
    assert projected["open"]["due"][0]["chance"] is True  # announced as a chance only
    room.reveal(FAC)
    assert room.game.outcome_of("summit") is not None  # it came up (hazard 0.999)
    played = view(room, Role(PROJECTOR))["played"]
    [summit] = [b for b in played["branches"] if b["id"] == "summit"]
    assert summit["announced"] is False  # so its text and prompt are shown now
    assert (summit["text"], summit["prompt"]) == ("The summit meets.", "Who blinks first?")


def test_after_the_ending_an_unresolved_branch_is_closed_not_pending(tmp_path):
    # A lecturer's re-trial: after the game ended the projector still said "odds
    # hidden until it resolves" of a branch that never came up.
    taiwan = ROOT / "scenarios" / "taiwan-strait.yaml"
    room = room_of(tmp_path, taiwan, teams=("TW",))
    room.open_round(FAC)
    room.end(FAC)
    game = room.game
    assert game.finished
    never = [
        b.id for i, b in enumerate(game.compiled.branches) if game.model.branch_outcome[i][0] < 0
    ]
    assert never, "every branch resolved: pick another seed"
    assert sorted(game.closed_branches()) == sorted(never)
    outlook = {b["id"]: b for b in view(room, Role(PROJECTOR))["outlook"]["branches"]}
    assert any(b in outlook for b in never)
    assert all(outlook[b]["closed"] for b in never if b in outlook)


def test_a_teams_branch_left_to_the_rule_says_so_on_the_screens(tmp_path):
    # A lecturer's re-trial: "us response -> escort." with "left to the rule" only in
    # the facilitator's notes. tiny's summit is decided by nobody, so a decider is set.
    text = TINY.read_text("utf-8").replace(
        "    variable: summit\n    text: The summit meets.\n",
        "    variable: summit\n    decided_by: Red\n    text: The summit meets.\n",
    )
    text = re.sub(r"\n        probability: [^\n]*", "", text, count=2)
    assert "decided_by: Red" in text and "probability: rest" not in text
    decided = tmp_path / "decided.yaml"
    decided.write_text(text, "utf-8")
    for choose in (False, True):
        room = room_of(tmp_path, decided)
        room.open_round(FAC)
        room.reveal(FAC)
        room.open_round(FAC)
        if choose:
            room.decide(Role(TEAM, "Red"), "Red", "summit", "success")
        room.reveal(FAC)
        [summit] = [b for b in view(room, Role(PROJECTOR))["played"]["branches"]]
        assert summit["id"] == "summit"
        assert (summit["by_rule"], summit["by_people"]) == (not choose, choose)

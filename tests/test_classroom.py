"""The classroom (`wargame serve`): one game, many devices, each link with its own role.

The room is driven through its web API with Starlette's test client (no network), or
through :class:`sim.classroom.room.Classroom` directly. The browser test is in
test_classroom_browser.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from cli import cli
from sim.classroom.roles import FACILITATOR, PROJECTOR, STUDENT, TEAM, Forbidden, Role, allowed
from sim.classroom.room import OPEN, READY, Classroom
from sim.classroom.server import create_app
from sim.classroom.views import view
from sim.engine.loading import load
from sim.errors import OptionsError
from sim.seminar.game import Game, brier_score
from tests.conftest import ALASKA, ROOT, TINY

SEED = 20250815


def room_of(path=TINY, teams=("Blue", "Red"), tmp_path=None, **kwargs) -> Classroom:
    game = Game(load(path), SEED)
    return Classroom(
        game, teams, save_dir=tmp_path or ".", scenario_path=str(path), continuations=200, **kwargs
    )


@pytest.fixture
def room(tmp_path):
    return room_of(tmp_path=tmp_path)


@pytest.fixture
def client(room):
    with TestClient(create_app(room, batch_runs=200)) as client:
        yield client


def as_(token: str) -> dict[str, str]:
    return {"X-Token": token}


def control(client, room, do, **body):
    token = room.tokens.facilitator
    return client.post("/api/control", json={"do": do, **body}, headers=as_(token))


# --- tokens and roles --------------------------------------------------------------------


def test_every_link_has_its_own_random_token(room):
    tokens = room.tokens
    every = [tokens.facilitator, tokens.projector, tokens.student, *tokens.teams.values()]
    assert len(set(every)) == len(every) == 5
    assert all(len(t) >= 16 for t in every)
    assert room.role(tokens.teams["Red"]) == Role(TEAM, "Red")
    assert room.role(tokens.projector) == Role(PROJECTOR)
    other = room_of(tmp_path=None)
    assert not set(every) & {other.tokens.facilitator, *other.tokens.teams.values()}


def test_the_rule_table():
    team = Role(TEAM, "Blue")
    assert allowed(team, "choose", "Blue") and not allowed(team, "choose", "Red")
    assert allowed(team, "decide", "Blue") and not allowed(team, "decide", "Red")
    assert not allowed(Role(FACILITATOR), "decide", "Blue")
    assert not allowed(Role(STUDENT), "decide", "Blue")
    assert not allowed(team, "reveal") and not allowed(team, "predict")
    projector = Role(PROJECTOR)
    for action in ("choose", "predict", "reveal", "next", "back", "save", "override", "export"):
        assert not allowed(projector, action, "Blue"), action
    assert allowed(Role(STUDENT), "predict") and not allowed(Role(STUDENT), "next")
    assert allowed(Role(FACILITATOR), "reveal") and not allowed(Role(FACILITATOR), "choose", "Blue")


def test_a_team_cannot_act_for_another_team_http_403(room, client):
    assert control(client, room, "next").status_code == 200
    blue = as_(room.tokens.teams["Blue"])
    answer = client.post("/api/choose", json={"actor": "Red", "action": "hold"}, headers=blue)
    assert answer.status_code == 403
    assert "team Blue link may not choose for Red" in answer.json()["error"]
    assert "Red" not in room.pending
    ok = client.post("/api/choose", json={"actor": "Blue", "action": "talk"}, headers=blue)
    assert ok.status_code == 200 and room.pending == {"Blue": "talk"}


def test_the_projector_cannot_act_at_all_http_403(room, client):
    projector = as_(room.tokens.projector)
    for do in ("next", "reveal", "back", "end", "save", "fork", "load", "override", "timer"):
        answer = client.post("/api/control", json={"do": do}, headers=projector)
        assert answer.status_code == 403, do
    control(client, room, "next")
    answer = client.post("/api/choose", json={"actor": "Blue", "action": "talk"}, headers=projector)
    assert answer.status_code == 403
    answer = client.post(
        "/api/predict",
        json={"name": "x", "branch": "summit", "probabilities": {"success": 1}},
        headers=projector,
    )
    assert answer.status_code == 403
    assert client.get("/api/export.csv", headers=projector).status_code == 403
    assert room.phase == OPEN and room.pending == {}


def test_students_and_teams_cannot_pace_the_game_and_strangers_get_nothing(room, client):
    for token in (room.tokens.student, room.tokens.teams["Blue"]):
        answer = client.post("/api/control", json={"do": "next"}, headers=as_(token))
        assert answer.status_code == 403
    assert client.get("/api/view", headers=as_("made-up-token")).status_code == 403
    assert client.get("/api/view").status_code == 403
    assert client.get(f"/team/{room.tokens.projector}").status_code == 403  # wrong page
    assert client.get(f"/projector/{room.tokens.projector}").status_code == 200
    assert client.get(f"/debrief/{room.tokens.teams['Blue']}").status_code == 403


# --- secret simultaneous moves -----------------------------------------------------------


def test_a_teams_choice_is_secret_until_the_reveal_and_can_be_changed(room, client):
    control(client, room, "next")
    blue = as_(room.tokens.teams["Blue"])
    client.post("/api/choose", json={"actor": "Blue", "action": "talk"}, headers=blue)
    client.post("/api/choose", json={"actor": "Blue", "action": "sanction"}, headers=blue)
    others = [room.tokens.projector, room.tokens.teams["Red"], room.tokens.student]
    for token in [*others, room.tokens.facilitator]:
        data = client.get("/api/view", headers=as_(token)).json()
        assert "sanction" not in json.dumps(data), data["role"]
        assert {t["actor"]: t["chosen"] for t in data["teams"]} == {"Blue": True, "Red": False}
    assert client.get("/api/view", headers=blue).json()["team"]["choice"] == "sanction"
    # Nothing computed before the reveal saw it: the game itself does not hold it.
    assert room.game.choices == {}
    control(client, room, "reveal")
    assert room.game.history[-1].decisions["Blue"].overridden
    played = client.get("/api/view", headers=as_(room.tokens.projector)).json()["played"]
    blue_move = next(m for m in played["moves"] if m["id"] == "Blue")
    assert blue_move["move"] == "sanction" and blue_move["by_people"]
    red_move = next(m for m in played["moves"] if m["id"] == "Red")
    assert not red_move["by_people"]  # Red's team chose nothing: its rule played it


def test_a_team_may_only_choose_an_open_option_in_an_open_round(room, client):
    red = as_(room.tokens.teams["Red"])
    answer = client.post("/api/choose", json={"actor": "Red", "action": "hold"}, headers=red)
    assert answer.status_code == 400
    assert answer.json()["error"] == "cannot choose now: round 1 is not open yet"
    control(client, room, "next")
    answer = client.post("/api/choose", json={"actor": "Red", "action": "nuke"}, headers=red)
    assert answer.status_code == 400 and "open: hold, mobilise" in answer.json()["error"]
    control(client, room, "reveal")
    answer = client.post("/api/choose", json={"actor": "Red", "action": "hold"}, headers=red)
    assert answer.json()["error"] == "cannot choose now: round 2 is not open yet (round 1 is shown)"


def test_the_served_game_is_the_stepper_game_with_the_same_seed_and_choices(tmp_path):
    room = room_of(ALASKA, ("US", "RU"), tmp_path)
    facilitator = Role(FACILITATOR)
    moves = [("press_ukraine", "hold"), ("ease_sanctions", "energy_diplomacy"), ("hold", "hold")]
    for us, ru in moves:
        room.open_round(facilitator)
        room.choose(Role(TEAM, "US"), "US", us)
        room.choose(Role(TEAM, "RU"), "RU", ru)
        room.reveal(facilitator)
    room.save(facilitator, "served")
    # The same choices typed into `wargame step`, then saved.
    keys = "".join(f"n\n{us}\n{ru}\n" for us, ru in moves) + "s\nstepped.json\nq\n"
    runner = CliRunner()
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        args = ["step", str(ALASKA), "--seed", str(SEED), "--play", "US", "--play", "RU"]
        stepped = runner.invoke(cli, args, input=keys, env={"COLUMNS": "80"})
    finally:
        os.chdir(old)
    assert stepped.exit_code == 0, stepped.output
    served = json.loads((tmp_path / "served.json").read_text())
    saved = json.loads((tmp_path / "stepped.json").read_text())
    assert saved["choices"] == served["choices"] and saved["round"] == served["round"] == 3
    # Transcripts: both games resumed and printed in full, to the end, are the same text.
    a = runner.invoke(cli, ["step", "--resume", str(tmp_path / "served.json"), "--no-input"])
    b = runner.invoke(cli, ["step", "--resume", str(tmp_path / "stepped.json"), "--no-input"])
    assert a.exit_code == b.exit_code == 0, a.output + b.output
    assert a.output == b.output
    assert "Round 3 of 13" in a.output and "Ending" in a.output
    # And the served model is bit for bit the game played with those choices.
    choices = {
        (r + 1, actor): move
        for r, pair in enumerate(moves)
        for actor, move in zip(("US", "RU"), pair, strict=True)
    }
    direct = Game(load(ALASKA), SEED, choices=choices)
    direct.play_to(3)
    for x, y in zip(direct.model.ctx.state, room.game.model.ctx.state, strict=True):
        assert (x == y).all()


def test_the_timer_reveals_the_round_when_it_runs_out(tmp_path):
    now = [1000.0]
    room = room_of(tmp_path=tmp_path, clock=lambda: now[0])
    facilitator = Role(FACILITATOR)
    room.open_round(facilitator)
    room.timer(facilitator, 90)
    room.choose(Role(TEAM, "Blue"), "Blue", "sanction")
    now[0] += 89.5
    assert not room.tick() and room.remaining == pytest.approx(0.5)
    now[0] += 1
    assert room.tick()
    assert room.phase == READY and room.game.round == 1
    assert room.game.choices == {(1, "Blue"): "sanction"}


def test_back_reopens_the_round_with_the_teams_choices_kept_and_secret(room):
    facilitator = Role(FACILITATOR)
    room.open_round(facilitator)
    room.choose(Role(TEAM, "Blue"), "Blue", "sanction")
    room.reveal(facilitator)
    room.back(facilitator)
    assert room.phase == OPEN and room.game.round == 0
    assert room.pending == {"Blue": "sanction"} and room.game.choices == {}
    projector = json.dumps(view(room, Role(PROJECTOR)))
    assert "sanction" not in projector
    room.choose(Role(TEAM, "Blue"), "Blue", "talk")
    room.reveal(facilitator)
    assert room.game.choices == {(1, "Blue"): "talk"}


def test_the_facilitator_overrides_a_computer_played_actor_not_a_team(tmp_path):
    room = room_of(teams=("Blue",), tmp_path=tmp_path)
    facilitator = Role(FACILITATOR)
    room.open_round(facilitator)
    with pytest.raises(Exception, match="played by a team"):
        room.override(facilitator, "Blue", "talk")
    room.override(facilitator, "Red", "hold")
    room.reveal(facilitator)
    assert room.game.history[-1].decisions["Red"].overridden


# --- students ----------------------------------------------------------------------------


def test_students_predict_under_their_names_and_are_scored_and_exported(room, client):
    facilitator = Role(FACILITATOR)
    room.open_round(facilitator)
    room.reveal(facilitator)
    room.open_round(facilitator)
    assert room.due == ["summit"]  # round 2: the summit meets
    student = as_(room.tokens.student)

    def predict(name, secret, success):
        body = {"name": name, "secret": secret, "branch": "summit"}
        body["probabilities"] = {"success": success, "collapse": 1 - success}
        return client.post("/api/predict", json=body, headers=student)

    ada = predict("Ada", None, 0.9).json()["secret"]
    assert predict("Ada", ada, 0.8).status_code == 200  # changed before the reveal
    assert predict("ada", "stolen", 0.1).status_code == 403  # the name is hers
    bob = predict("Bob", None, 0.2).json()["secret"]
    assert bob != ada
    # A device sees its own forecasts only with the name's secret.
    mine = client.get("/api/view?name=Ada", headers={**student, "X-Student-Secret": ada}).json()
    assert mine["mine"] == {"summit": pytest.approx({"success": 0.8, "collapse": 0.2})}
    nosy = client.get("/api/view?name=Ada", headers={**student, "X-Student-Secret": bob}).json()
    assert nosy["mine"] == {}
    bad = client.post(
        "/api/predict",
        json={"name": "Cy", "branch": "summit", "probabilities": {"success": 0.5}},
        headers=student,
    )
    assert bad.status_code == 400 and "sum to 0.5, not 1" in bad.json()["error"]
    control(client, room, "reveal")
    happened = room.game.outcome_of("summit")
    board = client.get("/api/view", headers=student).json()["leaderboard"]
    ada_p = {"success": 0.8, "collapse": 0.2}
    ada_brier = sum((p - (o == happened)) ** 2 for o, p in ada_p.items())
    scores = {b["student"]: b["brier"] for b in board}
    assert scores["Ada"] == pytest.approx(ada_brier)
    # The model's forecast is its outlook when the question was asked (after round 1).
    model_p = room.game.expect_at(1, room.continuations).branches["summit"]
    model_brier = sum((p - (o == happened)) ** 2 for o, p in model_p.items())
    assert board[0]["model_brier"] == pytest.approx(model_brier)
    answer = client.get("/api/export.csv", headers=as_(room.tokens.facilitator))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == 4  # two students, two outcomes each
    ada_rows = {r["outcome"]: r for r in rows if r["student"] == "Ada"}
    assert ada_rows["success"]["p_student"] == "0.8000"
    assert float(ada_rows[happened]["brier_student"]) == pytest.approx(ada_brier, abs=1e-4)
    assert ada_rows[happened]["happened"] == "1"
    assert float(ada_rows["success"]["p_model_when_asked"]) == pytest.approx(
        model_p["success"], abs=1e-4
    )


def test_a_later_branch_may_be_forecast_early_and_is_scored_as_asked(room):
    # A lecturer's class ended with nothing scored: the only branch students were asked
    # never resolved, and the two that did resolved in the round they came up. Every
    # branch that may still come up is open to forecasts in an open round.
    facilitator = Role(FACILITATOR)
    with pytest.raises(Exception, match="not open for predictions"):
        room.predict(Role(STUDENT), "Ada", None, "summit", {"success": 1.0})  # no round open
    room.open_round(facilitator)
    assert room.due == [] and "summit" in room.forecastable  # due in round 2
    secret = room.predict(Role(STUDENT), "Ada", None, "summit", {"success": 0.8, "collapse": 0.2})
    student = Role(STUDENT)
    later = view(room, student)["open"]["forecast"]
    summit = next(item for item in later if item["id"] == "summit")
    assert summit["due"] is False and summit["round"] == 2
    room.reveal(facilitator)
    room.open_round(facilitator)
    assert room.due == ["summit"]
    room.reveal(facilitator)
    # Resolved: no longer open, and scored against the model's outlook when asked
    # (before round 1: the end of round 0), computed here from the game itself.
    room.open_round(facilitator)
    assert "summit" not in room.forecastable
    with pytest.raises(Exception, match="not open for predictions"):
        room.predict(Role(STUDENT), "Ada", secret, "summit", {"success": 1.0})
    [row] = [r for r in room.scored() if r["branch"] == "summit"]
    happened = room.game.outcome_of("summit")
    assert row["round"] == 1 and row["outcome"] == happened
    mine = {"success": 0.8, "collapse": 0.2}
    assert row["brier"] == pytest.approx(brier_score(mine, happened), abs=1e-12)
    model = room.game.expect_at(0, 200).branches["summit"]
    assert row["model"] == model
    assert row["model_brier"] == pytest.approx(brier_score(model, happened), abs=1e-12)


# --- files -------------------------------------------------------------------------------


def test_save_writes_a_stepper_file_and_never_writes_over_what_it_did_not_write(tmp_path):
    room = room_of(tmp_path=tmp_path)
    facilitator = Role(FACILITATOR)
    (tmp_path / "notes.json").write_text("my notes, not a game\n")
    with pytest.raises(Exception, match="not a saved game"):
        room.save(facilitator, "notes")
    assert (tmp_path / "notes.json").read_text() == "my notes, not a game\n"
    other = Game(load(TINY), 7)
    other.save(tmp_path / "section-b.json")
    with pytest.raises(Exception, match="holds another saved game"):
        room.save(facilitator, "section-b")
    assert json.loads((tmp_path / "section-b.json").read_text())["seed"] == 7
    room.save(facilitator, "section-b", overwrite=True)
    assert json.loads((tmp_path / "section-b.json").read_text())["seed"] == SEED
    with pytest.raises(Exception, match="holds the last save"):
        room.save(facilitator)  # its own file again: asked, never silently
    room.save(facilitator, overwrite=True)
    with pytest.raises(Exception, match="not a file name"):
        room.save(facilitator, "../escape")
    with pytest.raises(Forbidden):
        room.save(Role(PROJECTOR), "x")
    resumed = Game.load(tmp_path / "section-b.json")
    assert resumed.seed == SEED and resumed.played == ("Blue", "Red")


def test_fork_and_load_bring_back_the_game_and_the_students(tmp_path):
    room = room_of(tmp_path=tmp_path)
    facilitator = Role(FACILITATOR)
    room.open_round(facilitator)
    room.choose(Role(TEAM, "Blue"), "Blue", "sanction")
    room.reveal(facilitator)
    room.open_round(facilitator)
    room.predict(Role(STUDENT), "Ada", None, "summit", {"success": 0.3, "collapse": 0.7})
    room.fork(facilitator, "class-a")
    with pytest.raises(Exception, match="exists already"):
        room.fork(facilitator, "class-a")
    room.reveal(facilitator)
    room.load(facilitator, "class-a")
    assert room.game.round == 1 and room.game.choices == {(1, "Blue"): "sanction"}
    assert room.students["ada"].predictions["summit"].probabilities["collapse"] == 0.7
    assert room.saves() == ["class-a.json"]


def test_end_plays_the_rest_by_the_rules_and_the_debrief_sets_it_against_the_batch(room, client):
    control(client, room, "next")
    assert control(client, room, "end").status_code == 200
    assert room.game.finished
    data = client.get("/api/debrief", headers=as_(room.tokens.projector)).json()
    assert data["ending"]["id"] in {e["id"] for e in data["endings"]}
    assert sum(e["batch"] for e in data["endings"]) == pytest.approx(1.0)
    assert len(data["rounds_of_outlooks"]) == room.game.round + 1
    final = [e["by_round"][-1] for e in data["endings"]]
    assert max(final) == 1.0  # after the last round the ending is known
    params = {p["name"]: p["value"] for p in data["params"]}
    assert params["hawkishness"] == pytest.approx(float(room.game.model.ctx.params[0][0]))
    assert client.get("/api/debrief", headers=as_(room.tokens.student)).status_code == 403


# --- the command -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args: list[str], cwd) -> tuple[subprocess.Popen, dict[str, str], str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    seen = ""
    end = time.monotonic() + 60
    while "Ctrl-C stops the server." not in seen:
        line = child.stdout.readline()
        assert line or child.poll() is None, seen
        seen += line
        assert time.monotonic() < end, seen
    found = dict(re.findall(r"^  (\w+(?: \w+)?)\s+(http\S+)$", seen, re.M))
    return child, found, seen


def stop_server(child: subprocess.Popen) -> str:
    child.send_signal(signal.SIGINT)
    try:
        out, _ = child.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        child.kill()
        raise
    return out


def test_the_help_example_serves_the_links_it_prints(tmp_path):
    text = CliRunner().invoke(cli, ["serve", "--help"], terminal_width=80).output
    example = text.rstrip().split("Example:")[1].replace("\\\n", " ").split()
    assert example[:2] == ["wargame", "serve"]
    args = example[2:]
    args[args.index("--port") + 1] = str(free_port())  # the example's port may be taken here
    args[args.index("scenarios/alaska.yaml")] = str(ROOT / "scenarios" / "alaska.yaml")
    child, found, seen = start_server([*args, "--continuations", "100"], tmp_path)
    try:
        assert set(found) >= {"facilitator", "projector", "students", "team US", "team EU"}
        assert all(url.startswith("http://127.0.0.1:") for url in found.values())
        assert "Only this computer can open the links" in seen
        assert "▄" in seen or "█" in seen  # the QR code
        with urllib.request.urlopen(found["projector"], timeout=10) as answer:
            assert answer.status == 200 and b"/static/app.js" in answer.read()
    finally:
        out = stop_server(child)
    assert child.returncode == 0, out
    assert "Stopped." in out and "Traceback" not in out


def test_ctrl_c_with_pages_open_stops_quietly_and_at_once(tmp_path):
    # A lecturer stopped a class with nine pages open: uvicorn waited out its graceful
    # shutdown for their event streams, then printed nine CancelledError tracebacks.
    port = free_port()
    child, found, _ = start_server(
        [str(TINY), "--port", str(port), "--continuations", "50"], tmp_path
    )
    streams = []
    try:
        for url in list(found.values())[:4] * 2:
            token = url.rstrip("/").rsplit("/", 1)[1]
            stream = socket.create_connection(("127.0.0.1", port), timeout=10)
            stream.sendall(f"GET /api/events?token={token} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert b"200 OK" in stream.recv(4096)
            streams.append(stream)
    finally:
        started = time.monotonic()
        out = stop_server(child)
        took = time.monotonic() - started
        for stream in streams:
            stream.close()
    assert child.returncode == 0, out
    assert "Traceback" not in out and "CancelledError" not in out and "ERROR" not in out, out
    assert took < 1.5, (took, out)  # not the 2 s graceful timeout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give a SCENARIO file, or --resume FILE"),
        ([str(TINY), "--play", "Bleu"], "--play Bleu: no actor 'Bleu' (did you mean 'Blue'?)"),
        ([str(TINY), "--port", "70000"], "--port 70000: a port is 0 to 65535"),
        (["--resume", "x.json", "--seed", "3"], "--resume takes --seed from the saved game"),
        (["--resume", "missing.json"], "missing.json: cannot read the saved game"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message, tmp_path):
    result = CliRunner().invoke(cli, ["serve", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_port_in_use_is_one_line_and_exit_2():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", str(TINY), "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


# --- a branch a team's actor decides -----------------------------------------------------


def red_decides_the_summit(tmp_path) -> Path:
    """tiny.yaml with the round-2 summit decided by Red (no chance: Red's call)."""
    text = TINY.read_text().replace(
        "    variable: summit\n", "    variable: summit\n    decided_by: Red\n"
    )
    text = re.sub(r"\n        probability: [^\n]*", "", text)
    path = tmp_path / "red_decides.yaml"
    path.write_text(text)
    return path


def test_a_team_decides_its_actors_branch_in_secret_and_the_reveal_applies_it(tmp_path):
    path = red_decides_the_summit(tmp_path)
    room = room_of(path, ("Blue", "Red"), tmp_path)
    facilitator = Role(FACILITATOR)
    with TestClient(create_app(room, batch_runs=200)) as client:
        red, blue = as_(room.tokens.teams["Red"]), as_(room.tokens.teams["Blue"])
        control(client, room, "next")
        # Round 1: the summit is not due; nothing to decide.
        assert client.get("/api/view", headers=red).json()["team"]["decides"] == []
        answer = client.post(
            "/api/decide", json={"actor": "Red", "branch": "summit", "outcome": "success"},
            headers=red,
        )  # fmt: skip
        assert answer.status_code == 400
        assert answer.json()["error"] == "Red has no branch to decide this round"
        control(client, room, "reveal")
        control(client, room, "next")
        decides = client.get("/api/view", headers=red).json()["team"]["decides"]
        assert [(d["id"], d["certain"], d["choice"]) for d in decides] == [("summit", True, None)]
        assert [o["id"] for o in decides[0]["outcomes"]] == ["success", "collapse"]
        # The rule's odds of each outcome, as the round played by the rules has them.
        assert [o["effects"] for o in decides[0]["outcomes"]] == [
            ["tension -2"],
            ["tension +2"],
        ]
        rule = [o["rule_p"] for o in decides[0]["outcomes"]]
        assert sum(rule) == pytest.approx(1.0, abs=1e-12) and min(rule) > 0
        assert client.get("/api/view", headers=blue).json()["team"]["decides"] == []
        # Only Red's team decides it, and only an outcome of the branch.
        body = {"actor": "Red", "branch": "summit", "outcome": "collapse"}
        forbidden = client.post("/api/decide", json=body, headers=blue)
        assert forbidden.status_code == 403
        assert forbidden.json()["error"] == "the team Blue link may not decide for Red"
        no_actor = client.post("/api/decide", json={"branch": "summit"}, headers=red)
        assert no_actor.status_code == 400 and '"actor"' in no_actor.json()["error"]
        listed = client.post("/api/decide", json={**body, "outcome": ["success"]}, headers=red)
        assert listed.status_code == 400
        assert listed.json()["error"] == '"outcome" must be the name of an outcome, or null'
        other = client.post("/api/decide", json={**body, "branch": "treaty"}, headers=red)
        assert other.json()["error"] == "Red does not decide 'treaty' this round; it decides summit"
        wrong = client.post("/api/decide", json={**body, "outcome": "truce"}, headers=red)
        assert wrong.status_code == 400
        assert wrong.json()["error"] == "'truce' is not an outcome of summit: success, collapse"
        assert client.post("/api/decide", json=body, headers=red).status_code == 200
        body["outcome"] = "success"  # changed before the reveal
        assert client.post("/api/decide", json=body, headers=red).status_code == 200
        assert client.get("/api/view", headers=red).json()["team"]["decides"][0]["choice"] == (
            "success"
        )
        # Secret: nobody else's view carries it, and the game does not hold it yet.
        assert room.game.outcomes == {}
        for token in (room.tokens.projector, room.tokens.facilitator, room.tokens.student):
            assert "decides" not in json.dumps(client.get("/api/view", headers=as_(token)).json())
        control(client, room, "reveal")
        assert room.game.outcome_of("summit") == "success"
        played = client.get("/api/view", headers=as_(room.tokens.projector)).json()["played"]
        assert [(b["id"], b["outcome"], b["by_people"]) for b in played["branches"]] == [
            ("summit", "success", True)
        ]
        tree = client.get("/api/view", headers=as_(room.tokens.projector)).json()["tree"]
        assert [(t["id"], t["outcome"], t["by_people"]) for t in tree] == [
            ("summit", "success", True)
        ]
    # Back: round 2 opens again with Red's decision kept, secret and changeable.
    room.back(facilitator)
    assert room.pending_outcomes == {"summit": "success"} and room.game.outcomes == {}
    room.decide(Role(TEAM, "Red"), "Red", "summit", "collapse")
    room.reveal(facilitator)
    assert room.game.outcome_of("summit") == "collapse"
    assert room.game.outcomes == {(2, "summit"): "collapse"}


def test_a_decision_the_team_leaves_open_is_its_actors_rule(tmp_path):
    path = red_decides_the_summit(tmp_path)
    facilitator = Role(FACILITATOR)
    for seed in range(4):
        room = Classroom(Game(load(path), seed), ("Red",), save_dir=tmp_path, continuations=50)
        for _ in range(2):
            room.open_round(facilitator)
            room.reveal(facilitator)
        assert "summit left to the rule: no outcome chosen" in room.notes[-1]
        # The same game with nobody in Red's seat: the rule decides the same.
        alone = Game(load(path), seed)
        alone.play_to(2)
        assert room.game.outcome_of("summit") == alone.outcome_of("summit")
        assert room.game.outcomes == {}


def test_a_team_with_a_decision_open_is_not_shown_as_chosen(tmp_path):
    path = red_decides_the_summit(tmp_path)
    room = room_of(path, ("Red",), tmp_path)
    facilitator, red = Role(FACILITATOR), Role(TEAM, "Red")
    for _ in range(2):
        room.open_round(facilitator)
        room.choose(red, "Red", "hold")
        if room.game.round == 0:
            assert view(room, facilitator)["teams"][0]["chosen"]  # nothing to decide yet
            room.reveal(facilitator)
    assert room.open_decisions("Red") == ["summit"]
    assert not view(room, facilitator)["teams"][0]["chosen"]
    room.decide(red, "Red", "summit", "success")
    assert view(room, facilitator)["teams"][0]["chosen"]
    with TestClient(create_app(room, batch_runs=200)) as client:
        body = {"actor": "Red", "branch": "summit"}  # no "outcome": refused, not erased
        answer = client.post("/api/decide", json=body, headers=as_(room.tokens.teams["Red"]))
        assert answer.status_code == 400 and '"outcome"' in answer.json()["error"]
    assert room.pending_outcomes == {"summit": "success"}


def test_a_decision_waits_for_its_branch_to_come_up(tmp_path):
    text = red_decides_the_summit(tmp_path).read_text()
    # The summit has no round: it comes up once its condition holds (from round 3 here).
    path = tmp_path / "later.yaml"
    path.write_text(text.replace("    round: 2\n    variable: summit\n",
                                 "    when: round >= 3\n    variable: summit\n"))  # fmt: skip
    room = room_of(path, ("Red",), tmp_path)
    facilitator, red = Role(FACILITATOR), Role(TEAM, "Red")
    room.open_round(facilitator)
    decides = view(room, red)["team"]["decides"]
    assert [(d["id"], d["certain"], d["condition"]) for d in decides] == [
        ("summit", False, "round ≥ 3")
    ]
    assert view(room, facilitator)["teams"][0]["chosen"] is False  # no move yet
    room.decide(red, "Red", "summit", "success")
    for round_ in (1, 2):
        room.reveal(facilitator)
        assert room.game.outcome_of("summit") is None
        assert "left to the rule" not in room.notes[-1]
        room.open_round(facilitator)
        # Kept, still secret, for the round it may come up in.
        assert view(room, red)["team"]["decides"][0]["choice"] == "success"
        assert (round_ + 1, "summit") not in room.game.outcomes
    room.reveal(facilitator)
    assert room.game.outcome_of("summit") == "success"
    assert room.game.outcomes[(3, "summit")] == "success"
    played = view(room, Role(PROJECTOR))["played"]
    assert [(b["id"], b["by_people"]) for b in played["branches"]] == [("summit", True)]
    from sim.seminar.debrief import debrief

    told = debrief(room.game, batch_runs=50, continuations=20)["branches"]
    assert [(b["id"], b["round"], b["by_people"]) for b in told] == [("summit", 3, True)]


def test_the_api_answers_a_wrong_method_or_name_in_json(room, client):
    token = as_(room.tokens.teams["Blue"])
    wrong = client.get("/api/decide", headers=token)
    assert wrong.status_code == 405 and wrong.json() == {"error": "/api/decide takes a POST"}
    missing = client.post("/api/nothing", json={}, headers=token)
    assert missing.status_code == 404 and missing.json() == {"error": "no /api/nothing"}
    assert client.get("/favicon.ico").status_code == 204
    assert client.get("/api/view", headers=token).status_code == 200  # the real ones still work


def test_the_facilitator_overrides_a_computer_played_actors_decision(tmp_path):
    path = red_decides_the_summit(tmp_path)
    room = room_of(path, ("Blue",), tmp_path)  # Red (the decider) is played by the computer
    facilitator = Role(FACILITATOR)
    with TestClient(create_app(room, batch_runs=200)) as client:
        control(client, room, "next")
        assert view(room, facilitator)["facilitator"]["decisions"] == []  # not this round
        control(client, room, "reveal")
        control(client, room, "next")
        (decision,) = view(room, facilitator)["facilitator"]["decisions"]
        assert decision == {
            "branch": "summit", "decider": "Red", "outcomes": ["success", "collapse"],
            "override": None,
        }  # fmt: skip
        answer = control(client, room, "override", branch="summit", outcome="success")
        assert answer.status_code == 200, answer.json()
        assert view(room, facilitator)["facilitator"]["decisions"][0]["override"] == "success"
        blue = as_(room.tokens.teams["Blue"])
        body = {"do": "override", "branch": "summit", "outcome": "collapse"}
        assert client.post("/api/control", json=body, headers=blue).status_code == 403
        wrong = control(client, room, "override", branch="treaty", outcome="x")
        assert wrong.json()["error"] == "no computer-played actor decides 'treaty' this round"
        control(client, room, "reveal")
    # The rule alone would have Red collapse the summit (it does, in every seed tried).
    assert room.game.outcome_of("summit") == "success"
    assert room.game.outcomes == {(2, "summit"): "success"}
    alone = Game(load(path), SEED)
    alone.play_to(2)
    assert alone.outcome_of("summit") == "collapse"
    # A branch a team decides is the team's, not the facilitator's.
    teams = room_of(path, ("Red",), tmp_path)
    teams.open_round(facilitator)
    teams.reveal(facilitator)
    teams.open_round(facilitator)
    with pytest.raises(OptionsError, match="'summit' is decided by a team: its team decides"):
        teams.override_outcome(facilitator, "summit", "success")


def test_the_changes_are_named_by_their_metrics_titles(tmp_path):
    # A lecturer's trial: the projector showed raw names ("arctic lng mt").
    room = room_of(ALASKA, teams=("US",), tmp_path=tmp_path)
    with TestClient(create_app(room, batch_runs=200)) as client:
        control(client, room, "next")
        control(client, room, "reveal")
        played = client.get("/api/view", headers=as_(room.tokens.projector)).json()["played"]
    spec = room.game.compiled.loaded.spec
    titles = {m.id: m.title for m in spec.metrics}
    changes = {c["name"]: c["title"] for c in played["changes"]}
    assert changes, "round 1 of alaska changes the state"
    for name, title in changes.items():
        # A metric's title, else the variable's own, else none (the id is shown).
        assert title == (titles.get(name) or spec.state[name].title), name
    assert changes.get("east_asia_arming") == "East Asian arming"  # a metric's title
    assert changes.get("economic_track") == "Economic track"  # its own


def test_a_short_first_sentence_takes_the_next_on_the_projector():
    # "The talks have failed. …" told the room very little (a lecturer's trial).
    from sim.classroom.views import short_text

    text = (
        "The talks have failed. Moscow's planners want 200,000 more troops within three "
        "months; Russia turns to Pyongyang under Article 4 of the 2024 treaty."
    )
    assert short_text(text) == (
        "The talks have failed. Moscow's planners want 200,000 more troops within three "
        "months; Russia turns to Pyongyang under Article 4 of the …"
    )
    long_enough = "Unannounced aircraft land in the Ally's capital tonight. Nobody explains."
    assert short_text(long_enough) == "Unannounced aircraft land in the Ally's capital tonight. …"
    assert short_text("Short. Two.") == "Short. Two."

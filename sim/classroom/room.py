"""One game, many devices: the classroom's shared state and what each role can do to it.

A :class:`Classroom` holds one seminar :class:`~sim.seminar.game.Game` (the very game
``wargame step`` plays, so the same seed and choices give the same game) and around it
what a room of devices needs:

* **phases**: between rounds the game is ``ready`` (the last round is shown); the
  facilitator opens the next round (``open``): teams choose in secret, students predict
  the branches due; the facilitator reveals it (or the timer runs out), the round is
  played, and the game is ``ready`` again, until it is ``over``;
* **secret choices**: a team's choice is held apart from the game until the reveal, so
  nothing computed before it (the preview, the model's outlook, another page) can show
  it; a team can change it until then;
* **a timer** that reveals the round when it runs out;
* **students' predictions**, each under a name held by a secret only that student's
  device knows, changeable until the branch resolves, scored with the Brier score
  against what happened and against the model's forecast when the question was asked;
* **the facilitator's controls**: back, fork, override a computer-played actor, save and
  load (the same JSON files as ``wargame step``, never written over without asking),
  end the game.

Every method takes the room's lock, so the web server's threads see one consistent
room; ``version`` goes up with every change, and pages re-read their view when it does.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sim.classroom.roles import TEAM, Forbidden, Role, Tokens, check
from sim.engine.model import RoundRecord, WargameModel
from sim.errors import OptionsError
from sim.seminar.debrief import StudentForecast, forecasts_from, leaderboard, score_students
from sim.seminar.forecast import DEFAULT_CONTINUATIONS
from sim.seminar.game import Game, read_game_file

READY = "ready"
OPEN = "open"
OVER = "over"
#: The countdown when the facilitator starts the timer without saying how long.
DEFAULT_TIMER_SECONDS = 180
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass
class Student:
    """A student known by name, and the hash of the secret that holds the name.

    The room keeps only the SHA-256 of the secret it gave the device that took the name
    (the device keeps the secret), so a save file can hold it and a device can get its
    name back after a load or ``wargame serve --resume``. ``secret_hash`` is ``None``
    for a name read from an older save without hashes: the first device to take it
    holds it.
    """

    name: str
    secret_hash: str | None
    predictions: dict[str, StudentForecast] = field(default_factory=dict)

    def holds(self, secret: str | None) -> bool:
        """Whether a device's secret holds this name (compared in constant time)."""
        if not secret or self.secret_hash is None:
            return False
        return secrets.compare_digest(secret_hash(secret), self.secret_hash)


def secret_hash(secret: str) -> str:
    """The SHA-256 (hex) of a student's secret: what the room keeps and saves."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


_HASH = re.compile(r"^[0-9a-f]{64}$")


def read_classroom_students(path: str | Path) -> dict[str, Student]:
    """The students a classroom saved with its game, by lower-case name.

    Each name comes with the hash of its device's secret, where the save holds one (a
    save written before hashes were saved holds none: such a name is taken by the
    first device that registers it), and with its forecasts. A ``wargame step`` save
    has no students.

    Args:
        path: The saved game.

    Raises:
        OptionsError: If the file cannot be read, or its students' part is damaged.
    """
    where = Path(path).name
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        raise OptionsError(f"{where}: cannot read the saved game") from None
    classroom = raw.get("classroom") if isinstance(raw, dict) else None
    if classroom is None:
        return {}
    if not isinstance(classroom, dict):
        raise OptionsError(f"{where}: damaged classroom part (not an object)")
    students: dict[str, Student] = {}
    for item in classroom.get("names") or []:
        try:
            name = " ".join(str(item["name"]).split())[:40]
            hashed = item.get("secret_sha256")
        except (KeyError, TypeError, AttributeError):
            raise OptionsError(f"{where}: damaged students' names") from None
        if not name or not (hashed is None or (isinstance(hashed, str) and _HASH.match(hashed))):
            raise OptionsError(f"{where}: damaged students' names")
        students[name.lower()] = Student(name, hashed)
    items = classroom.get("students") or []
    if not isinstance(items, list):
        raise OptionsError(f"{where}: damaged students' predictions")
    for prediction in forecasts_from(items, where):
        student = students.setdefault(prediction.student.lower(), Student(prediction.student, None))
        student.predictions[prediction.branch] = prediction
    return students


class NeedsConfirmation(OptionsError):  # noqa: N818 (named for the question it asks)
    """An action the facilitator must confirm first (HTTP 409).

    Writing over a file, or revealing a round before every team has chosen.
    """


class Classroom:
    """The room around one game: roles, phases, secret choices, timer, predictions.

    Args:
        game: The game (new, resumed or loaded).
        teams: The actors people play: one team link each.
        save_dir: Where saves, forks and loads live.
        scenario_path: The scenario file, for loading saves.
        continuations: Continuations behind the model's outlook.
        clock: Seconds, for the timer (``time.monotonic``; tests pass their own).
        save_path: The file the game was resumed from (the last file saved or loaded).
        students: The students, by lower-case name (those saved with a resumed game:
            :func:`read_classroom_students`).
    """

    def __init__(
        self,
        game: Game,
        teams: tuple[str, ...],
        save_dir: str | Path = ".",
        scenario_path: str | None = None,
        continuations: int = DEFAULT_CONTINUATIONS,
        clock: Callable[[], float] = time.monotonic,
        save_path: str | Path | None = None,
        students: dict[str, Student] | None = None,
    ):
        self.lock = threading.RLock()
        self.teams = tuple(dict.fromkeys(game.actor_id(t) for t in teams))
        game.played = self.teams
        self.game = game
        self.tokens = Tokens(self.teams)
        self.save_dir = Path(save_dir)
        self.scenario_path = scenario_path
        self.continuations = int(continuations)
        self.clock = clock
        self.version = 0
        self.phase = OVER if game.finished else READY
        self.pending: dict[str, str] = {}
        # Branches a team's actor decides (``decided_by``) that may come up in the open
        # round, by actor, and the outcomes the teams chose for them (secret until the
        # reveal), by branch.
        self.deciding: dict[str, list[str]] = {}
        self.pending_outcomes: dict[str, str] = {}
        self.deadline: float | None = None
        self.timer_seconds = DEFAULT_TIMER_SECONDS
        self.students: dict[str, Student] = dict(students or {})
        self.due: list[str] = []
        # Branches students may forecast in the open round: the due ones, then every
        # other that may still come up (a lecturer's class ended with nothing scored
        # when the only branch asked never resolved).
        self.forecastable: list[str] = []
        self.announced: set[str] | None = None
        self.preview: tuple[WargameModel, RoundRecord] | None = None
        self.save_path: Path | None = Path(save_path) if save_path else None
        self.notes: list[str] = []
        # The last round the room saw before "End the game" had the rules play the
        # rest (``None`` unless the facilitator ended it).
        self.ended_at: int | None = None

    # --- helpers ----------------------------------------------------------------------

    def role(self, token: str | None) -> Role:
        """The role of a link's token (raises ``UnknownToken``)."""
        return self.tokens.role(token)

    def _changed(self, note: str | None = None) -> None:
        self.version += 1
        if note:
            self.notes = [*self.notes[-19:], note]

    def _need(self, phase: str, doing: str) -> None:
        if self.phase != phase:
            now = {
                READY: (
                    "round 1 is not open yet"
                    if self.game.round == 0
                    else f"round {self.game.round + 1} is not open yet "
                    f"(round {self.game.round} is shown)"
                ),
                OPEN: f"round {self.game.round + 1} is open: reveal it first",
                OVER: "the game is over",
            }[self.phase]
            raise OptionsError(f"cannot {doing} now: {now}")

    def open_options(self, actor: str) -> list[str]:
        """The actions open to an actor in the open round."""
        assert self.preview is not None
        _, record = self.preview
        decision = record.decisions[actor]
        actions = self.game.compiled.actors[self.game.compiled.actor_index(actor)].actions
        return [a.id for i, a in enumerate(actions) if decision.feasible[i, 0]]

    @property
    def remaining(self) -> float | None:
        """Seconds left on the timer (``None`` when it is not running)."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - self.clock())

    # --- pacing (the facilitator) -----------------------------------------------------

    def open_round(self, role: Role) -> None:
        """Open the next round: teams may choose, students may predict the branches due."""
        check(role, "next")
        with self.lock:
            self._need(READY, "open the next round")
            self._open()
            self._changed(f"round {self.game.round + 1} opened")

    def _open(self) -> None:
        game = self.game
        self.preview = game.preview()
        self.due = game.due_branches(self.preview[1])
        closed = set(game.closed_branches())
        self.forecastable = self.due + [
            branch.id
            for branch in game.compiled.branches
            if branch.id not in self.due
            and branch.id not in closed
            and game.outcome_of(branch.id) is None
        ]
        self.deciding = {
            actor: branches
            for actor, branches in game.decisions(game.round + 1).items()
            if actor in self.teams
        }
        self.phase = OPEN
        self.deadline = None

    def reveal(self, role: Role | None, ask: bool = False) -> None:
        """Play the open round with the teams' choices and show it to everyone.

        A team that has not chosen is played by its actor's rule, and a branch its actor
        decides that the team left undecided is decided by that rule. ``role`` is
        ``None`` when the timer reveals.

        Args:
            role: The link's role (``None``: the timer).
            ask: Ask first if a team has not chosen (the facilitator's page does; the
                question is asked here, where the choices are, never on a page that may
                be a moment behind them).

        Raises:
            NeedsConfirmation: With ``ask``, if a team has not chosen yet.
        """
        if role is not None:
            check(role, "reveal")
        with self.lock:
            self._need(OPEN, "reveal")
            waiting = [t for t in self.teams if not self.has_chosen(t)] if ask else []
            if waiting:
                have = "has" if len(waiting) == 1 else "have"
                play = "its actor plays" if len(waiting) == 1 else "their actors play"
                raise NeedsConfirmation(
                    f"Reveal round {self.game.round + 1} now? {', '.join(waiting)} {have} "
                    f"not chosen: {play} by the rule."
                )
            game = self.game
            ruled = _settle(self.pending, self.teams, game.choose, game.release)
            deciding = [b for branches in self.deciding.values() for b in branches]
            undecided = _settle(
                self.pending_outcomes, deciding, game.choose_outcome, game.release_outcome
            )
            game.play_round()
            # Only a branch that came up this round was left to the rule.
            ids = [b.id for b in game.compiled.branches]
            undecided = [
                b for b in undecided if int(game.model.branch_round[ids.index(b)][0]) == game.round
            ]
            self.pending = {}
            # A decision of a branch that did not come up stays the team's (secret) for
            # the rounds it may still come up in.
            self.pending_outcomes = {
                b: o for b, o in self.pending_outcomes.items() if game.outcome_of(b) is None
            }
            self.deciding = {}
            self.announced = set(self.due)
            self.due = []
            self.forecastable = []
            self.preview = None
            self.deadline = None
            self.phase = OVER if game.finished else READY
            note = f"round {game.round} revealed"
            if ruled:
                note += f" ({', '.join(ruled)} played by the rule: no choice made)"
            if undecided:
                note += f" ({', '.join(undecided)} left to the rule: no outcome chosen)"
            self._changed(note)

    def back(self, role: Role) -> None:
        """Undo the last round played; it opens again with the teams' choices kept (secret)."""
        check(role, "back")
        with self.lock:
            game = self.game
            if game.round == 0:
                raise OptionsError("no round has been played yet: nothing to undo")
            game.back()
            self.ended_at = None
            replay = game.round + 1
            self.pending = {}
            for team in self.teams:
                action = game.choices.get((replay, team))
                if action is not None:
                    self.pending[team] = action
                    game.release(team, replay)
            self.pending_outcomes = {}
            for (round_, branch_id), outcome in list(game.outcomes.items()):
                if round_ == replay:
                    self.pending_outcomes[branch_id] = outcome
                    game.release_outcome(branch_id, replay)
            for student in self.students.values():
                # A forecast of a branch the room has seen resolve stays, locked.
                student.predictions = {
                    b: p
                    for b, p in student.predictions.items()
                    if p.round <= replay or b in game.revealed
                }
            self.announced = None
            self._open()
            self._changed(f"back: round {replay} is open again")

    def timer(self, role: Role, seconds: float | None) -> None:
        """Start the countdown (``seconds``, or the last length used); ``None`` stops it."""
        check(role, "timer")
        with self.lock:
            if seconds is None:
                self.deadline = None
                self._changed("timer stopped")
                return
            self._need(OPEN, "start the timer")
            if not 0 < seconds <= 3600:
                raise OptionsError("the timer takes 1 to 3600 seconds")
            self.timer_seconds = int(seconds)
            self.deadline = self.clock() + seconds
            self._changed(f"timer started: {int(seconds)} s")

    def tick(self) -> bool:
        """Reveal the open round if its timer has run out; True if it did."""
        with self.lock:
            if self.phase == OPEN and self.deadline is not None and self.clock() >= self.deadline:
                self.reveal(None)
                return True
            return False

    def override(self, role: Role, actor: str, action: str | None) -> None:
        """Fix a computer-played actor's move in the open round (``None``: its rule again)."""
        check(role, "override")
        with self.lock:
            self._need(OPEN, "override")
            actor_id = self.game.actor_id(actor)
            if actor_id in self.teams:
                raise OptionsError(f"{actor_id} is played by a team: its team chooses")
            if action is None:
                self.game.release(actor_id)
            else:
                if action not in self.open_options(actor_id):
                    raise OptionsError(
                        f"{action} is not open to {actor_id}: "
                        f"open: {', '.join(self.open_options(actor_id))}"
                    )
                self.game.choose(actor_id, action)
            self._changed(f"{actor_id} {'by its rule' if action is None else 'overridden'}")

    def computer_decisions(self) -> list[str]:
        """Branches a computer-played actor decides that may come up in the open round."""
        decisions = self.game.decisions(self.game.round + 1)
        return [b for actor, bs in decisions.items() if actor not in self.teams for b in bs]

    def override_outcome(self, role: Role, branch: str, outcome: str | None) -> None:
        """Fix a computer-played actor's decision of a branch in the open round.

        ``None`` hands it back to the actor's rule. Like an override of a move, it
        applies if the branch comes up this round.

        Raises:
            Forbidden: If the link is not the facilitator's.
            OptionsError: If no round is open, a team decides the branch, the branch
                cannot come up this round, or the outcome is not one of its outcomes.
        """
        check(role, "override")
        with self.lock:
            self._need(OPEN, "override")
            mine = [b for bs in self.deciding.values() for b in bs]
            if branch in mine:
                raise OptionsError(f"'{branch}' is decided by a team: its team decides")
            if branch not in self.computer_decisions():
                raise OptionsError(f"no computer-played actor decides '{branch}' this round")
            if outcome is None:
                self.game.release_outcome(branch)
            else:
                self.game.choose_outcome(branch, outcome)
            self._changed(f"{branch} {'by its rule' if outcome is None else 'overridden'}")

    def end(self, role: Role) -> None:
        """End the game: reveal the open round, then play the rest by the rules."""
        check(role, "end")
        with self.lock:
            if self.phase == OVER:
                raise OptionsError("the game is over already")
            self.ended_at = self.game.round
            if self.phase == OPEN:
                self.reveal(role)
            self.game.play_to(self.game.rounds)
            self.phase = OVER
            self._changed("the game was played to its end by the rules")

    # --- teams ------------------------------------------------------------------------

    def choose(self, role: Role, actor: str, action: str | None) -> None:
        """A team's secret choice for the open round (``None`` takes it back).

        Raises:
            Forbidden: If the link is not this actor's team.
            OptionsError: If no round is open or the action is not open to the actor.
        """
        check(role, "choose", actor)
        with self.lock:
            self._need(OPEN, "choose")
            if action is None:
                self.pending.pop(actor, None)
            else:
                options = self.open_options(actor)
                if action not in options:
                    raise OptionsError(
                        f"{action} is not open to {actor}: open: {', '.join(options)}"
                    )
                self.pending[actor] = action
            self._changed()

    def has_chosen(self, team: str) -> bool:
        """Whether a team chose its move and decided each branch certain to come up."""
        return team in self.pending and not self.open_decisions(team)

    def open_decisions(self, actor: str) -> list[str]:
        """Undecided branches of the actor's that come up in the open round for certain.

        Those with a ``round:`` (a branch with only a ``when`` may not come up; leaving
        it to the rule is a choice too).
        """
        compiled = self.game.compiled
        by_id = {b.id: b for b in compiled.branches}
        return [
            b
            for b in self.deciding.get(actor, [])
            if by_id[b].round is not None and b not in self.pending_outcomes
        ]

    def decide(self, role: Role, actor: str, branch: str, outcome: str | None) -> None:
        """A team's secret decision of a branch its actor decides (``None`` takes it back).

        The outcome applies if the branch comes up in the open round; a branch left
        undecided at the reveal is decided by the actor's rule.

        Raises:
            Forbidden: If the link is not this actor's team.
            OptionsError: If no round is open, the actor decides no such branch in it,
                or the branch has no such outcome.
        """
        check(role, "decide", actor)
        with self.lock:
            self._need(OPEN, "decide")
            mine = self.deciding.get(actor, [])
            if branch not in mine and mine:
                raise OptionsError(
                    f"{actor} does not decide '{branch}' this round; it decides {', '.join(mine)}"
                )
            if branch not in mine:
                raise OptionsError(f"{actor} has no branch to decide this round")
            if outcome is None:
                self.pending_outcomes.pop(branch, None)
            else:
                compiled = self.game.compiled
                found = compiled.branches[[b.id for b in compiled.branches].index(branch)]
                outcomes = [o.id for o in found.outcomes]
                if outcome not in outcomes:
                    raise OptionsError(
                        f"'{outcome}' is not an outcome of {branch}: {', '.join(outcomes)}"
                    )
                self.pending_outcomes[branch] = outcome
            self._changed()

    # --- students ---------------------------------------------------------------------

    def predict(
        self,
        role: Role,
        name: str,
        secret: str | None,
        branch: str,
        probabilities: dict[str, float],
    ) -> str:
        """A student's forecast of a branch in the open round; returns the secret.

        Any branch that may still come up can be forecast, not only those due: one due
        later is forecast as it will go if it comes up, and scored if it does.

        The first forecast under a name takes the name and returns a new secret; later
        ones must bring it (another device cannot write under the same name). A name
        read from an older save without hashes is taken by the first device that uses
        it. A branch whose outcome the room has been shown (it is open again after a
        back) is locked: no forecast of it is made or changed.

        Raises:
            Forbidden: If the name is taken by another device.
            OptionsError: If the branch is not open for predictions or the
                probabilities are not a forecast.
        """
        check(role, "predict")
        name = " ".join(str(name).split())[:40]
        if not name:
            raise OptionsError("give your name first")
        with self.lock:
            if self.phase != OPEN or branch not in self.forecastable:
                raise OptionsError(f"{branch} is not open for predictions now")
            if branch in self.game.revealed:
                raise OptionsError(
                    f"the room has seen how {branch} went: predictions of it are locked"
                )
            checked = self.game.check_prediction(branch, probabilities)
            student, secret, _ = self._claim(name, secret)
            student.predictions[branch] = StudentForecast(
                student.name, branch, checked.round, checked.probabilities, time.time()
            )
            self._changed()
            return secret

    def register(
        self,
        role: Role,
        name: str,
        secret: str | None = None,
        previous: str | None = None,
        previous_secret: str | None = None,
    ) -> str:
        """A student takes a name before predicting; returns the name's secret.

        The device that took a name may register it again (with its secret), also after
        a load or a resume; another device may not. A name read from an older save
        without hashes is taken by the first device that registers it. A device that
        changes its name (``previous``, held by ``previous_secret``) leaves no empty
        student behind: the old name goes if it made no prediction.

        Raises:
            Forbidden: If the name is taken on another device.
            OptionsError: If the name is empty.
        """
        check(role, "predict")
        name = " ".join(str(name).split())[:40]
        if not name:
            raise OptionsError("give your name first")
        with self.lock:
            student, secret, new = self._claim(name, secret)
            if new:
                self._changed(f"{student.name} joined")
            old = self.students.get(" ".join(str(previous or "").split()).lower())
            if (
                old is not None
                and old is not student
                and not old.predictions
                and old.holds(previous_secret)
            ):
                del self.students[old.name.lower()]
                self._changed(f"{old.name} is now {student.name}")
            return secret

    def _claim(self, name: str, secret: str | None) -> tuple[Student, str, bool]:
        """The student of a name, the device's secret, and whether the device just took it.

        A free name, or one read from an older save without hashes, is taken: the device
        gets a new secret. A held name needs its secret.
        """
        student = self.students.get(name.lower())
        if student is not None and student.secret_hash is not None:
            if not student.holds(secret):
                raise Forbidden(f"the name {name} is taken on another device: choose another")
            assert secret is not None
            return student, secret, False
        fresh = secrets.token_urlsafe(12)
        if student is None:
            student = Student(name, secret_hash(fresh))
            self.students[name.lower()] = student
        else:
            student.secret_hash = secret_hash(fresh)
        return student, fresh, True

    def scored(self) -> list[dict[str, Any]]:
        """Every student prediction with its Brier score and the model's, where resolved."""
        with self.lock:
            forecasts = [p for s in self.students.values() for p in s.predictions.values()]
            return score_students(self.game, forecasts, self.continuations)

    def leaderboard(self) -> list[dict[str, Any]]:
        """Students by mean Brier score over their resolved predictions (lower first).

        A student who has taken a name but not predicted yet is listed too.
        """
        board = leaderboard(self.scored())
        listed = {b["student"] for b in board}
        waiting = [
            {"student": s.name, "predictions": 0, "scored": 0, "brier": None, "model_brier": None}
            for s in self.students.values()
            if s.name not in listed
        ]
        return board + sorted(waiting, key=lambda b: b["student"].lower())

    def export_csv(self, role: Role) -> str:
        """Every prediction and score as CSV, one row per student, branch and outcome."""
        check(role, "export")
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "student",
                "branch",
                "asked_before_round",
                "outcome",
                "p_student",
                "p_model_when_asked",
                "happened",
                "brier_student",
                "brier_model",
                "updated_utc",
            ]
        )
        for row in self.scored():
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row["updated"]))
            for outcome, p in row["probabilities"].items():
                writer.writerow(
                    [
                        row["student"],
                        row["branch"],
                        row["round"],
                        outcome,
                        f"{p:.4f}",
                        "" if not row["model"] else f"{row['model'].get(outcome, 0.0):.4f}",
                        "" if row["outcome"] is None else int(outcome == row["outcome"]),
                        "" if row["brier"] is None else f"{row['brier']:.4f}",
                        "" if row["model_brier"] is None else f"{row['model_brier']:.4f}",
                        stamp,
                    ]
                )
        return out.getvalue()

    # --- files ------------------------------------------------------------------------

    def _path(self, name: str) -> Path:
        stem = name.strip().removesuffix(".json")
        if not _NAME.match(stem):
            raise OptionsError(
                f"'{name}' is not a file name: use letters, digits, '-', '_' and '.'"
            )
        return self.save_dir / f"{stem}.json"

    def _write(self, path: Path) -> Path:
        from sim.batch.outputs import results_folder_holding

        holder = results_folder_holding(path.parent)
        if holder is not None:
            # A batch's folder holds only what its batch wrote (sim.batch.outputs).
            raise OptionsError(
                f"{path.name}: the save folder is inside the results folder {holder}; "
                "save elsewhere"
            )
        data = self.game.to_json()
        data["classroom"] = {
            # The hash of each name's secret, never the secret: a device that still
            # holds it gets its name back after a load or a resume.
            "names": [
                {"name": s.name, "secret_sha256": s.secret_hash} for s in self.students.values()
            ],
            "students": [
                {
                    "name": p.student,
                    "branch": p.branch,
                    "round": p.round,
                    "probabilities": p.probabilities,
                    "updated": p.updated,
                }
                for s in self.students.values()
                for p in s.predictions.values()
            ],
        }
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            raise OptionsError(f"{path}: cannot save the game ({exc.strerror})") from None
        return path

    def save(self, role: Role, name: str | None = None, overwrite: bool = False) -> Path:
        """Save the game (the ``wargame step`` format, plus the students' predictions).

        One rule for every save, here and in ``wargame step``: a name gets ``.json``;
        a file that is not a saved game is never written over; an existing saved game
        (the last save too) only once the facilitator confirms (``overwrite``). An
        empty name means the last file saved or loaded; with none, a name is needed.

        Args:
            role: Who asks (the facilitator).
            name: A file name in the save folder (default: the last one).
            overwrite: Write over the saved game already in that file.

        Raises:
            NeedsConfirmation: If the file holds a saved game and ``overwrite`` is not
                set (the message is the question to ask).
            OptionsError: For a bad name, no name and no last file, or a file that is
                not a saved game.
        """
        check(role, "save")
        with self.lock:
            game = self.game
            if name and name.strip():
                path = self._path(name)
            elif self.save_path is not None:
                path = self.save_path
            else:
                raise OptionsError("give the save a name (letters, digits, '-', '_', '.')")
            if path.exists():
                try:
                    saved = read_game_file(path)
                except OptionsError:
                    raise OptionsError(
                        f"{path.name} exists and is not a saved game: choose another name"
                    ) from None
                if not overwrite:
                    ours = "the last save" if path == self.save_path else "another saved game"
                    raise NeedsConfirmation(
                        f"{path.name} holds {ours} (round {saved['round']}): write over it?"
                    )
            self._write(path)
            self.save_path = path
            self._changed(f"saved at round {game.round} to {path.name}")
            return path

    def fork(self, role: Role, name: str) -> Path:
        """Save a named copy of the game and go on playing the copy."""
        check(role, "fork")
        with self.lock:
            path = self._path(name)
            if path.exists():
                raise OptionsError(f"{path.name} exists already: choose another name")
            self.game.name = path.stem
            self._write(path)
            self.save_path = path
            self._changed(f"forked at round {self.game.round} to {path.name}")
            return path

    def saves(self) -> list[str]:
        """The saved games in the save folder, by name."""
        found = []
        for path in sorted(self.save_dir.glob("*.json")):
            try:
                read_game_file(path)
            except OptionsError:
                continue
            found.append(path.name)
        return found

    def load(self, role: Role, name: str) -> None:
        """Replace the game with a saved one (same scenario text); the teams stay.

        So do the students: each keeps the name its device holds, with the forecasts
        the file holds under it (none if it holds none). A name only the file knows
        comes with the hash of its secret, so the device that took it gets it back (or,
        from an older save without hashes, the first device that registers it).

        Raises:
            Forbidden: If the link is not the facilitator's.
            OptionsError: If the name is not a file name, or the file is not a saved
                game of this scenario text, or its students' part is damaged.
        """
        check(role, "load")
        with self.lock:
            path = self._path(name)
            game = Game.load(path, self.scenario_path)
            saved = read_classroom_students(path)
            game.played = self.teams
            self.game = game
            students = {}
            for key, student in self.students.items():
                # The room's own Student: its device's secret holds it still.
                found = saved.pop(key, None)
                student.predictions = {}
                if found is not None:
                    student.predictions = {
                        b: replace(p, student=student.name) for b, p in found.predictions.items()
                    }
                    if student.secret_hash is None:
                        student.secret_hash = found.secret_hash
                students[key] = student
            self.students = students | saved
            self.pending = {}
            self.pending_outcomes = {}
            self.deciding = {}
            self.preview = None
            self.due = []
            self.forecastable = []
            self.announced = None
            self.deadline = None
            self.phase = OVER if game.finished else READY
            self.ended_at = None
            self.save_path = path
            self._changed(f"loaded {path.name} at round {game.round}")

    def student_secret_ok(self, name: str, secret: str | None) -> bool:
        """Whether a device holds the secret of a student name."""
        student = self.students.get(" ".join(str(name).split()).lower())
        return student is not None and student.holds(secret)

    def team_of(self, role: Role) -> str | None:
        """The actor a team link plays (``None`` for other links)."""
        return role.actor if role.kind == TEAM else None


def _settle(
    pending: dict[str, str],
    keys: Iterable[str],
    choose: Callable[[str, str], Any],
    release: Callable[[str], Any],
) -> list[str]:
    """Play the teams' pending choices (a move, or a branch's outcome) into the game.

    Each key with a pending choice is chosen; the others are released to the actor's
    rule and returned, in order.
    """
    left = []
    for key in keys:
        value = pending.get(key)
        if value is None:
            release(key)
            left.append(key)
        else:
            choose(key, value)
    return left

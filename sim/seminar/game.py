"""A seminar game: one run of a scenario played round by round, with people in it.

A lecturer plays one game with a class. People may take an actor's seat (their choices
replace its rule), override any actor's next move, go back a round, fork the game into a
named copy, save it and resume it later, and predict how a branch will go before it
resolves. A :class:`Game` holds what defines such a game and nothing else:

* the scenario, the seed and the run index (so run K of a batch at seed S is the same
  game as ``Game(compiled, seed=S, run=K)``);
* the choices made by people, ``{(round, actor_id): action_id}``;
* the room's predictions, by branch;
* the round reached.

Every random draw is a pure function of (seed, run, round, what), and fixing one actor's
choice does not shift any other draw, so the model is *rebuilt* by replaying from round
1 with those choices whenever the game goes back or is resumed: undo and resume are
exact, not approximations. A saved game is plain JSON (never a pickle, so a file passed
around a class cannot run code) and carries the scenario's sha256, so a file made for
another version of the scenario is refused.

Predictions are scored with the multi-category Brier score, ``sum over outcomes of
(p_o - [o happened])**2`` (0 is perfect, 2 is certain and wrong), next to the score the
model itself would have earned with its forecast *taken when the question was asked*:
a few thousand continuations of the game from the round before (its history fixed, its
future drawn; :mod:`sim.seminar.forecast`). A forecast from the start of the game would
know less than the room did when it answered, so beating it would mean little.

The interactive session that drives a game from a terminal is in :mod:`sim.seminar.stepper`.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.engine.loading import load as load_scenario_file
from sim.engine.model import RoundRecord, WargameModel
from sim.errors import OptionsError
from sim.language.compiler import CompiledScenario
from sim.language.schema import suggest
from sim.seminar.forecast import DEFAULT_CONTINUATIONS, Outlook, outlook

#: The ``format`` tag of a saved game file.
GAME_FORMAT = "wargame-game/1"
#: The seed ``wargame run`` and ``wargame step`` use when none is given.
DEFAULT_SEED = 20250815
#: Continuations of the game behind the model's forecast that a prediction is scored
#: against.
DEFAULT_MC_RUNS = DEFAULT_CONTINUATIONS
#: Predicted probabilities must sum to 1 within this tolerance.
PREDICTION_TOLERANCE = 0.01


@dataclass(frozen=True)
class Prediction:
    """The room's forecast of a branch, made before the round in which it can resolve.

    Attributes:
        branch: The branch id.
        round: The round before which it was made.
        probabilities: Outcome id -> probability (summing to 1).
    """

    branch: str
    round: int
    probabilities: dict[str, float]


@dataclass(frozen=True)
class PredictionScore:
    """A prediction set against what happened and against the model's own forecast.

    Attributes:
        prediction: The room's prediction.
        outcome: The outcome that happened (``None`` if the branch never resolved).
        brier: The prediction's Brier score (``None`` if the branch never resolved).
        model: The model's probability of each outcome when the question was asked:
            the share among the continuations of the game from the round before (in
            which the branch resolved).
        model_brier: The Brier score of those probabilities.
        model_runs: Continuations behind them.
    """

    prediction: Prediction
    outcome: str | None
    brier: float | None
    model: dict[str, float]
    model_brier: float | None
    model_runs: int


def brier_score(probabilities: dict[str, float], happened: str) -> float:
    """The multi-category Brier score of a forecast: sum of (p_o - [o happened])**2.

    Args:
        probabilities: Outcome id -> forecast probability.
        happened: The outcome that happened.

    Returns:
        A number from 0 (all weight on what happened) to 2 (all weight elsewhere).
    """
    return float(
        sum(
            (p - (1.0 if outcome == happened else 0.0)) ** 2 for outcome, p in probabilities.items()
        )
    )


def parse_probability(text: str) -> float:
    """Read a probability typed by a person: ``0.7``, ``70%`` or ``70`` (a percentage).

    A bare number from 0 to 1 is a probability; a bare whole number above 1 and up to
    100, or any number followed by ``%``, is a percentage. A bare fraction above 1
    (``1.5``) is refused: 1.5% and a slip for 0.15 are both likely.

    Raises:
        OptionsError: If the text is not a probability, or is ambiguous.
    """
    cleaned = text.strip().replace(",", ".")
    percent = cleaned.endswith("%")
    try:
        value = float(cleaned.rstrip("%").strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or value > 100 or (percent and value > 100):
        raise OptionsError(
            f"'{text.strip()}' is not a probability: type a number from 0 to 1, "
            "or a percentage like 70%"
        )
    if not percent and value > 1 and not value.is_integer():
        raise OptionsError(
            f"'{text.strip()}' is above 1: type {cleaned}% for a percentage, "
            "or a probability from 0 to 1"
        )
    if percent or value > 1:
        value /= 100.0
    return value


def game_file_default(compiled: CompiledScenario, seed: int, run: int) -> str:
    """The file name a game is saved under when the room does not choose one."""
    return f"{compiled.id}-seed{seed}-run{run}.json"


class Game:
    """One game of a scenario, stepped round by round, with people's choices in it.

    Args:
        compiled: The scenario.
        seed: The seed (as in ``wargame run --seed``).
        run: The run index (as in ``runs.parquet``'s ``run`` column).
        overrides: Parameter or initial-state values fixed with ``--set``.
        choices: People's choices, ``{(round, actor_id): action_id}``.
        predictions: The room's predictions made so far.
        design: Parameter values fixed for this run (a replayed batch's own values).
        results: The results folder the game was opened from, if any.
        name: A name for the game (a fork's name).
        played: Actors whose seats people take (kept in the saved file).
        predicting: Whether the room predicts branches (kept in the saved file).
        stream: The key of the run's random streams, if not its index (a run of a
            Sobol sweep, whose rows share their game chance).
        outcomes: Outcomes people in a deciding actor's seat chose, by (round, branch).
        revealed: Branches whose outcome the room has already been shown (their
            predictions are locked).

    Attributes:
        model: The model, at the end of the round reached (its history kept).
        choices: People's choices, ``{(round, actor_id): action_id}``.
        predictions: Branch id -> the room's prediction.
        revealed: Branches whose outcome has been shown to the room: a prediction of
            one is locked (kept through :meth:`back`, never made or changed again).
    """

    def __init__(
        self,
        compiled: CompiledScenario,
        seed: int = DEFAULT_SEED,
        run: int = 0,
        overrides: dict[str, float] | None = None,
        *,
        choices: dict[tuple[int, str], str] | None = None,
        predictions: list[Prediction] | None = None,
        design: dict[str, np.ndarray] | None = None,
        results: str | None = None,
        name: str | None = None,
        played: tuple[str, ...] = (),
        predicting: bool = False,
        outcomes: dict[tuple[int, str], str] | None = None,
        stream: int | None = None,
        revealed: tuple[str, ...] = (),
    ):
        if not 0 <= int(seed) < 2**63:
            raise OptionsError("--seed must be a non-negative integer below 2**63")
        if not 0 <= int(run) < 2**62:
            raise OptionsError("--run must be a non-negative integer")
        self.compiled = compiled
        self.seed = int(seed)
        self.run = int(run)
        self.overrides = dict(overrides or {})
        self.design = design
        self.stream = None if stream is None or int(stream) == int(run) else int(stream)
        self.results = results
        self.name = name
        self.played = tuple(self.actor_id(a) for a in played)
        self.predicting = bool(predicting)
        self.choices: dict[tuple[int, str], str] = {}
        # Outcomes the people in a deciding actor's seat chose for branches that actor
        # decides (``decided_by``), by (round, branch id).
        self.outcomes: dict[tuple[int, str], str] = {}
        for (round_, branch_id), outcome_id in (outcomes or {}).items():
            self._check_outcome(int(round_), branch_id, outcome_id)
            self.outcomes[(int(round_), branch_id)] = outcome_id
        for (round_, actor_id), action_id in (choices or {}).items():
            self._check_choice(int(round_), actor_id, action_id)
            self.choices[(int(round_), actor_id)] = action_id
        self.predictions: dict[str, Prediction] = {}
        for prediction in predictions or []:
            self.predictions[prediction.branch] = self._checked(prediction)
        # Branches whose outcome the room has been shown: their predictions are locked
        # (kept through back, never changed), even if the branch is open again.
        self.revealed: set[str] = set()
        for branch_id in revealed or ():
            self._branch_index(branch_id)
            self.revealed.add(branch_id)
        self.model = self._new_model()

    # --- building ---------------------------------------------------------------------

    @classmethod
    def from_results(cls, folder: str | Path, run: int, **kwargs: Any) -> Game:
        """Open run ``run`` of a batch as a game, exact to the batch.

        The scenario text, seed and ``--set`` values come from the manifest, and the
        run's own parameter values (a sweep's design values included) are kept, so with
        no choices by people the game retraces that run bit for bit.

        Args:
            folder: The results folder.
            run: The run index.
            **kwargs: Passed on to :class:`Game` (choices, predictions, name, played).

        Raises:
            ResultsError: If the folder is damaged.
            OptionsError: If ``run`` is not a run of the batch.
        """
        from sim.batch.results import Results
        from sim.seminar.replay import replay

        start = replay(folder, run, play_all=False)
        compiled = start.compiled
        # The run's parameter values, as the batch drew (or a sweep set) them.
        design = {name: start.ctx.params[p].copy() for p, name in enumerate(compiled.param_names)}
        overrides = dict(Results(folder).manifest.get("overrides") or {})
        return cls(
            compiled,
            start.seed,
            run,
            overrides,
            design=design,
            results=str(folder),
            stream=int(start.stream_keys[0]),
            **kwargs,
        )

    def _new_model(self) -> WargameModel:
        model = WargameModel(
            self.compiled,
            self.seed,
            np.array([self.run]),
            overrides=self.overrides or None,
            choices=self.choices,
            keep_history=True,
            design=self.design,
            streams=None if self.stream is None else np.array([self.stream]),
        )
        for (round_, branch_id), outcome_id in self.outcomes.items():
            model.set_branch_choice(round_, branch_id, outcome_id)
        return model

    def decisions(self, round_: int) -> dict[str, list[str]]:
        """The branches each actor decides that may come up in ``round_``, by actor id.

        A branch with a round comes up in that round; one with a ``when`` or a hazard
        may come up in any round while it is open. Whoever plays the actor (people or
        its rule) does not matter here.
        """
        found: dict[str, list[str]] = {}
        for branch in self.compiled.branches:
            if branch.decided_by is None or self.outcome_of(branch.id) is not None:
                continue
            if branch.round is None or branch.round == round_:
                decider = self.compiled.actors[branch.decided_by].id
                found.setdefault(decider, []).append(branch.id)
        return found

    def decided_branches(self, round_: int) -> list[str]:
        """Branches a people-played actor decides that may come up in ``round_``."""
        return [
            b for actor, branches in self.decisions(round_).items() if actor in self.played
            for b in branches
        ]  # fmt: skip

    def coming_up(self) -> list[str]:
        """Branches that come up in the next round as it stands, in the scenario's order.

        The round is previewed with the choices fixed so far and every other move, draw
        and decision by its rule; a run's draws are fixed by its seed, so once the
        people's moves are made this is exactly whether a branch comes up (a ``when``
        met, a hazard drawn), unless a decision of theirs in the same round changes it.

        Raises:
            OptionsError: If the game is over.
        """
        model, _ = self.preview()
        return [
            branch.id
            for b, branch in enumerate(self.compiled.branches)
            if self.model.branch_outcome[b][0] < 0 <= model.branch_outcome[b][0]
        ]

    def choose_outcome(self, branch_id: str, outcome_id: str, round_: int | None = None) -> None:
        """The outcome the people deciding a branch choose, should it come up in a round.

        Raises:
            OptionsError: For an unknown branch or outcome, or a branch no actor decides.
        """
        round_ = self.round + 1 if round_ is None else int(round_)
        self._check_outcome(round_, branch_id, outcome_id)
        self.outcomes[(round_, branch_id)] = outcome_id
        if self.round >= round_:
            self.model = self._rebuilt(self.round)
        else:
            self.model.set_branch_choice(round_, branch_id, outcome_id)

    def release_outcome(self, branch_id: str, round_: int | None = None) -> None:
        """Hand a decided branch back to its decider's rule (for the next round by default).

        Raises:
            OptionsError: If the branch does not exist or the round has been played.
        """
        self._branch_index(branch_id)
        round_ = self.round + 1 if round_ is None else int(round_)
        if round_ <= self.round:
            raise OptionsError(f"round {round_} has been played; go back to change it")
        self.outcomes.pop((round_, branch_id), None)
        self.model.set_branch_choice(round_, branch_id, None)

    def _check_outcome(self, round_: int, branch_id: str, outcome_id: str) -> None:
        ids = [b.id for b in self.compiled.branches]
        if branch_id not in ids:
            raise OptionsError(f"no branch '{branch_id}'{suggest(branch_id, ids)}")
        branch = self.compiled.branches[ids.index(branch_id)]
        if branch.decided_by is None:
            raise OptionsError(f"branch '{branch_id}' is drawn by chance, not decided by an actor")
        outcomes = [o.id for o in branch.outcomes]
        if outcome_id not in outcomes:
            raise OptionsError(
                f"branch '{branch_id}' has no outcome '{outcome_id}'{suggest(outcome_id, outcomes)}"
            )

    def _rebuilt(self, rounds: int) -> WargameModel:
        """A new model with the current choices, played for ``rounds`` rounds."""
        model = self._new_model()
        with np.errstate(all="ignore"):
            for _ in range(rounds):
                model.step()
        return model

    # --- where the game is ------------------------------------------------------------

    @property
    def round(self) -> int:
        """The last round played (0 before the first)."""
        return self.model.round

    @property
    def rounds(self) -> int:
        """Rounds in a game of the scenario."""
        return self.compiled.rounds

    @property
    def finished(self) -> bool:
        """Whether the game is over: the last round played, or a stopping ending reached."""
        return self.model.finished

    def over_message(self) -> str:
        """Why no further round can be played."""
        if self.round < self.rounds and self.model.ending is not None:
            ending = self.compiled.endings[int(self.model.ending[0])]
            return f"the game ended in round {self.round}: {ending.title}"
        return f"the game is over after round {self.rounds}"

    @property
    def history(self) -> list[RoundRecord]:
        """The rounds played, in order."""
        return self.model.history

    def initial_state(self) -> list[tuple[str, str, str]]:
        """(name, value, unit) of every state variable before round 1."""
        from sim.seminar.transcript import state_value

        start = self._new_model()
        compiled = self.compiled
        return [
            (name, state_value(start, i, float(start.ctx.state[i][0])), compiled.state_units[i])
            for i, name in enumerate(compiled.state_names)
        ]

    def outcome_of(self, branch_id: str) -> str | None:
        """The outcome a branch took so far in this game, or ``None``."""
        b = self._branch_index(branch_id)
        index = int(self.model.branch_outcome[b][0])
        return self.compiled.branches[b].outcomes[index].id if index >= 0 else None

    def closed_branches(self) -> list[str]:
        """Unresolved branches that can no longer come up in this game, by public facts.

        Once the game is over, every unresolved branch.

        A branch whose round has been played, or whose ``when`` is false now and reads
        only what nothing can change any more: no actor's action, background process,
        inject still to fire or branch still open sets it, and no history of moves. A
        condition that reads a parameter is never judged: saying it cannot hold would
        give the hidden value away. (alaska's counteroffensive needs the summit to have
        collapsed: once it succeeded, it will not come up.)
        """
        compiled, model = self.compiled, self.model
        if self.finished:
            # The game is over: whatever has not resolved never will (a lecturer's
            # re-trial read "odds hidden until it resolves" after the ending).
            return [b.id for i, b in enumerate(compiled.branches) if model.branch_outcome[i][0] < 0]
        names = compiled.state_names
        changing: set[int] = set()
        for actor in compiled.actors:
            changing |= {e.target for action in actor.actions for e in action.effects}
        for process in compiled.processes:
            changing |= {e.target for e in process.effects}
        for k, inject in enumerate(compiled.injects):
            if not model.inject_fired[k][0]:
                changing |= {e.target for e in inject.effects}
        for b, branch in enumerate(compiled.branches):
            if model.branch_outcome[b][0] < 0:
                changing |= {e.target for o in branch.outcomes for e in o.effects}
                changing |= {branch.variable} if branch.variable is not None else set()
        moving = {names[i] for i in changing}
        closed = []
        for b, branch in enumerate(compiled.branches):
            if model.branch_outcome[b][0] >= 0:
                continue
            if branch.round is not None and branch.round <= self.round:
                closed.append(branch.id)
                continue
            when = branch.when
            if when is None or when.actors_read or when.choices_read:
                continue
            if when.reads & (moving | set(compiled.param_names)) or re.search(
                r"\bround\b", when.text
            ):
                continue  # it may yet hold, or saying it cannot would tell a hidden value
            with np.errstate(all="ignore"):
                holds = bool(when(model.ctx)[0] != 0)
            if not holds:
                closed.append(branch.id)
        return closed

    def people_choices(self, round_: int) -> dict[str, str]:
        """People's choices for one round, by actor."""
        return {actor: action for (r, actor), action in sorted(self.choices.items()) if r == round_}

    # --- playing ----------------------------------------------------------------------

    def preview(self) -> tuple[WargameModel, RoundRecord]:
        """How the next round goes with the choices fixed so far; the game stays put.

        The injects, the observed state and every actor's options and scores of the
        next round do not depend on that round's choices (moves are simultaneous), so
        this is what the room sees before it chooses.

        Returns:
            A model that has played the next round, and that round's record.

        Raises:
            OptionsError: If the game is over.
        """
        if self.finished:
            raise OptionsError(self.over_message())
        model = self._rebuilt(self.round + 1)
        return model, model.history[-1]

    def play_round(self) -> RoundRecord:
        """Play the next round with the choices fixed so far and return its record.

        Raises:
            OptionsError: If the game is over.
        """
        if self.finished:
            raise OptionsError(self.over_message())
        with np.errstate(all="ignore"):
            self.model.step()
        self._mark_revealed()
        return self.model.history[-1]

    def _mark_revealed(self) -> None:
        """Every branch resolved so far has had its outcome shown: lock its prediction."""
        for b, branch in enumerate(self.compiled.branches):
            if self.model.branch_outcome[b][0] >= 0:
                self.revealed.add(branch.id)

    def play_to(self, round_: int) -> None:
        """Play on until ``round_`` has been played (or the game is over)."""
        while self.round < min(round_, self.rounds) and not self.finished:
            self.play_round()

    def back(self) -> None:
        """Undo the last round: rebuild the game to the round before it.

        People's choices for the round to be played next are kept (change them with
        :meth:`choose` or :meth:`release`); those for later rounds are forgotten, as
        are predictions made before a round that has been undone, except those of a
        branch whose outcome the room has seen: they stay, locked.

        Raises:
            OptionsError: If no round has been played.
        """
        if self.round == 0:
            raise OptionsError("no round has been played yet: nothing to undo")
        target = self.round - 1
        self.choices = {k: v for k, v in self.choices.items() if k[0] <= target + 1}
        self.outcomes = {k: v for k, v in self.outcomes.items() if k[0] <= target + 1}
        self.predictions = {
            b: p for b, p in self.predictions.items() if p.round <= target + 1 or b in self.revealed
        }
        self.model = self._rebuilt(target)

    def goto(self, round_: int) -> None:
        """Rebuild the game at the end of ``round_`` (0 to the last), keeping all choices."""
        if not 0 <= round_ <= self.rounds:
            raise OptionsError(f"round {round_}: the game has rounds 0 to {self.rounds}")
        self.model = self._rebuilt(round_)

    def actor_id(self, name: str) -> str:
        """The id of an actor named by id, case aside.

        Raises:
            OptionsError: If there is no such actor (with the nearest id suggested).
        """
        ids = [a.id for a in self.compiled.actors]
        if name in ids:
            return name
        folded = [i for i in ids if i.lower() == name.strip().lower()]
        if len(folded) == 1:
            return folded[0]
        raise OptionsError(
            f"no actor '{name}'{suggest(name, ids)}; the actors are {', '.join(ids)}"
        )

    def _check_choice(self, round_: int, actor_id: str, action_id: str) -> None:
        if not 1 <= round_ <= self.rounds:
            raise OptionsError(f"round {round_}: the game has rounds 1 to {self.rounds}")
        actor = self.compiled.actors[self.compiled.actor_index(self.actor_id(actor_id))]
        actions = [a.id for a in actor.actions]
        if action_id not in actions:
            raise OptionsError(
                f"{actor.id} has no action '{action_id}'{suggest(action_id, actions)}; "
                f"its actions are {', '.join(actions)}"
            )

    def choose(self, actor: str, action_id: str, round_: int | None = None) -> None:
        """Fix an actor's choice (a person's) for the next round or a later one.

        Args:
            actor: The actor's id.
            action_id: The action.
            round_: The round (default: the next one).

        Raises:
            OptionsError: If the actor or action does not exist, the round has been
                played, or (for the next round) the action is not open to the actor.
        """
        actor_id = self.actor_id(actor)
        round_ = self.round + 1 if round_ is None else int(round_)
        if round_ <= self.round:
            raise OptionsError(f"round {round_} has been played; go back to change it")
        self._check_choice(round_, actor_id, action_id)
        if round_ == self.round + 1:
            open_ = self.open_actions(actor_id)
            if action_id not in open_:
                raise OptionsError(
                    f"{action_id} is not open to {actor_id} in round {round_}; "
                    f"open: {', '.join(open_)}"
                )
        self.choices[(round_, actor_id)] = action_id
        self.model.set_choice(round_, actor_id, action_id)

    def release(self, actor: str, round_: int | None = None) -> None:
        """Hand an actor's choice back to its rule (for the next round by default).

        Raises:
            OptionsError: If the actor does not exist or the round has been played.
        """
        actor_id = self.actor_id(actor)
        round_ = self.round + 1 if round_ is None else int(round_)
        if round_ <= self.round:
            raise OptionsError(f"round {round_} has been played; go back to change it")
        self.choices.pop((round_, actor_id), None)
        self.model.set_choice(round_, actor_id, None)

    def open_actions(self, actor: str) -> list[str]:
        """The actions open to an actor in the next round."""
        actor_id = self.actor_id(actor)
        _, record = self.preview()
        decision = record.decisions[actor_id]
        actions = self.compiled.actors[self.compiled.actor_index(actor_id)].actions
        return [a.id for i, a in enumerate(actions) if decision.feasible[i, 0]]

    # --- predictions ------------------------------------------------------------------

    def _branch_index(self, branch_id: str) -> int:
        ids = [b.id for b in self.compiled.branches]
        if branch_id not in ids:
            raise OptionsError(f"no branch '{branch_id}'{suggest(branch_id, ids)}")
        return ids.index(branch_id)

    def due_branches(self, record: RoundRecord) -> list[str]:
        """Branches not yet resolved that are due in a (previewed) round, on the real state.

        A branch with a ``round:`` is due in that round; one with a ``when:`` is due once
        its condition holds on the state the room sees before choosing (after the
        round's injects). What the preview's rule-played moves would make happen is not
        looked at: a branch that only the room's choice may trigger is not announced
        before the room has made it.

        Args:
            record: The next round, from :meth:`preview`.
        """
        seen = record.reasoning.ctx if record.reasoning is not None else None
        due = []
        for b, branch in enumerate(self.compiled.branches):
            if self.model.branch_outcome[b][0] >= 0:
                continue  # resolved before the round
            if branch.round is not None and branch.round != record.round:
                continue
            if branch.when is not None and (seen is None or branch.when(seen)[0] == 0):
                continue
            due.append(branch.id)
        return due

    def _checked(self, prediction: Prediction) -> Prediction:
        b = self._branch_index(prediction.branch)
        outcomes = [o.id for o in self.compiled.branches[b].outcomes]
        probabilities = {}
        for outcome, p in prediction.probabilities.items():
            if outcome not in outcomes:
                raise OptionsError(
                    f"branch {prediction.branch} has no outcome '{outcome}'"
                    f"{suggest(outcome, outcomes)}"
                )
            if not (isinstance(p, int | float) and 0.0 <= float(p) <= 1.0):
                raise OptionsError(f"P({outcome}) = {p!r} is not a probability from 0 to 1")
            probabilities[outcome] = float(p)
        for outcome in outcomes:
            probabilities.setdefault(outcome, 0.0)
        total = sum(probabilities.values())
        if abs(total - 1.0) > PREDICTION_TOLERANCE:
            raise OptionsError(
                f"the probabilities for {prediction.branch} sum to {total:.3g}, not 1 "
                f"(within {PREDICTION_TOLERANCE})"
            )
        ordered = {o: probabilities[o] for o in outcomes}
        return Prediction(prediction.branch, int(prediction.round), ordered)

    def check_prediction(self, branch_id: str, probabilities: dict[str, float]) -> Prediction:
        """A forecast of a branch before the next round, checked but not recorded.

        Raises:
            OptionsError: As :meth:`predict`.
        """
        self.check_unlocked(branch_id)
        return self._checked(Prediction(branch_id, self.round + 1, dict(probabilities)))

    def predict(self, branch_id: str, probabilities: dict[str, float]) -> Prediction:
        """Record the room's forecast of a branch before the next round.

        Args:
            branch_id: The branch.
            probabilities: Outcome id -> probability; outcomes left out get 0; the
                whole must sum to 1 within 0.01.

        Returns:
            The prediction as recorded.

        Raises:
            OptionsError: If the branch or an outcome does not exist, a value is not a
                probability, or they do not sum to 1.
        """
        self.check_unlocked(branch_id)
        prediction = self._checked(Prediction(branch_id, self.round + 1, dict(probabilities)))
        self.predictions[branch_id] = prediction
        return prediction

    def check_unlocked(self, branch_id: str) -> None:
        """Refuse a forecast of a branch whose outcome the room has already been shown.

        Raises:
            OptionsError: If the branch's outcome has been shown (after a back, say).
        """
        self._branch_index(branch_id)
        if branch_id in self.revealed:
            raise OptionsError(
                f"the room has seen how {branch_id} went: its predictions are locked"
            )

    def expect(self, runs: int = DEFAULT_CONTINUATIONS) -> Outlook:
        """What the model expects from here: ``runs`` continuations of the game as it stands.

        People's choices for rounds not yet played are not used (they may be secret);
        the continuations play by the rules. The result is cached: the same game at the
        same round gives the same outlook.
        """
        return self.expect_at(self.round, runs)

    def expect_at(self, round_: int, runs: int = DEFAULT_CONTINUATIONS) -> Outlook:
        """What the model expected at the end of ``round_`` (0 to the round reached).

        Raises:
            OptionsError: If the round is not one the game has reached, or runs < 1.
        """
        if runs < 1:
            raise OptionsError("the model's forecast needs at least 1 continuation")
        if not 0 <= round_ <= self.round:
            raise OptionsError(f"round {round_}: the game has reached rounds 0 to {self.round}")
        key = (round_, runs, tuple(sorted(k for k in self.choices.items() if k[0][0] <= round_)))
        cache: dict[Any, Outlook] = self.__dict__.setdefault("_outlooks", {})
        if key not in cache:
            model = self.model if round_ == self.round else self._rebuilt(round_)
            cache[key] = outlook(model, runs)
        return cache[key]

    def outlooks(self, runs: int = DEFAULT_CONTINUATIONS) -> list[Outlook]:
        """The model's outlook at the end of every round so far, round 0 first."""
        return [self.expect_at(r, runs) for r in range(self.round + 1)]

    def score_predictions(self, mc_runs: int = DEFAULT_MC_RUNS) -> list[PredictionScore]:
        """Each prediction's Brier score, and the model's, against what happened.

        The model's forecast for a prediction made before round r is its outlook at the
        end of round r - 1: what it expected when the room was asked.

        Args:
            mc_runs: Continuations behind the model's forecast.
        """
        scores = []
        for branch in self.compiled.branches:
            prediction = self.predictions.get(branch.id)
            if prediction is None:
                continue
            outcome = self.outcome_of(branch.id)
            asked = min(max(prediction.round - 1, 0), self.round)
            model_p = self.expect_at(asked, mc_runs).branches.get(branch.id, {})
            resolved_somewhere = sum(model_p.values()) > 0
            scores.append(
                PredictionScore(
                    prediction,
                    outcome,
                    None if outcome is None else brier_score(prediction.probabilities, outcome),
                    model_p,
                    None
                    if outcome is None or not resolved_somewhere
                    else brier_score(model_p, outcome),
                    mc_runs,
                )
            )
        return scores

    # --- saving -----------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The saved form of the game: plain JSON data, never code."""
        return {
            "format": GAME_FORMAT,
            "scenario": {
                "path": self.compiled.loaded.path,
                # Where it is from anywhere: the path as given is relative to wherever
                # the game was started, which a save may be resumed far from.
                "absolute": _absolute(self.compiled.loaded.path),
                "sha256": self.compiled.sha256,
            },
            "results": self.results,
            # The results folder from anywhere (as the scenario's "absolute").
            "results_absolute": (
                str(Path(self.results).resolve()) if self.results is not None else None
            ),
            "seed": self.seed,
            "run": self.run,
            "overrides": self.overrides,
            "round": self.round,
            "choices": [
                {"round": r, "actor": actor, "action": action}
                for (r, actor), action in sorted(self.choices.items())
            ],
            "outcomes": [
                {"round": r, "branch": branch, "outcome": outcome}
                for (r, branch), outcome in sorted(self.outcomes.items())
            ],
            "predictions": [
                {"branch": p.branch, "round": p.round, "probabilities": p.probabilities}
                for p in self.predictions.values()
            ],
            "played": list(self.played),
            "predict": self.predicting,
            "name": self.name,
            "revealed": sorted(self.revealed),
        }

    def save(self, path: str | Path) -> Path:
        """Write the game to a JSON file (atomically) and return its path.

        Raises:
            OptionsError: If the file cannot be written, or is a batch's file or inside
                a batch's results folder (never written, see :mod:`sim.batch.outputs`).
        """
        from sim.batch.outputs import results_folder_holding

        path = Path(path)
        holder = results_folder_holding(path.parent)
        if holder is not None:
            raise OptionsError(
                f"{path}: is inside the results folder {holder}, which holds only what its "
                "batch wrote; save the game elsewhere"
            )
        text = json.dumps(self.to_json(), indent=2) + "\n"
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            raise OptionsError(f"{path}: cannot save the game ({exc.strerror})") from None
        return path

    @classmethod
    def load(
        cls, path: str | Path, scenario: str | Path | None = None, command: str = "step"
    ) -> Game:
        """Read a saved game and rebuild it at the round it reached.

        Args:
            path: The saved game.
            scenario: The scenario file (default: the path recorded in the file, as
                given or made absolute, or the results folder it was opened from).
            command: The command resuming it (``step`` or ``serve``), for the hint
                when the scenario is not found.

        Raises:
            OptionsError: If the file is missing, damaged or not a saved game, or was
                saved for another scenario text (sha256 mismatch).
        """
        data = read_game_file(path)
        where = str(path)
        try:
            return cls._from_data(data, where, scenario, command)
        except OptionsError as exc:
            message = str(exc)
            raise OptionsError(
                message if message.startswith(where) else f"{where}: {message}"
            ) from None

    @classmethod
    def _from_data(
        cls, data: dict[str, Any], where: str, scenario: str | Path | None, command: str = "step"
    ) -> Game:
        scenario_path = scenario or _reachable(
            data["scenario"]["path"], data["scenario"].get("absolute")
        )
        if scenario is None and data["results"]:
            game = cls.from_results(
                _reachable(data["results"], data.get("results_absolute")),
                data["run"],
                choices=data["choices"],
                predictions=data["predictions"],
                name=data["name"],
                played=data["played"],
                predicting=data["predict"],
                outcomes=data["outcomes"],
                revealed=data["revealed"],
            )
        else:
            if not Path(scenario_path).is_file():
                raise OptionsError(
                    f"{where}: its scenario {scenario_path} is not there; "
                    f"name it: wargame {command} SCENARIO --resume {shlex.quote(where)}"
                )
            compiled = load_scenario_file(scenario_path)
            game = None
            if compiled.sha256 == data["scenario"]["sha256"]:
                game = cls(
                    compiled,
                    data["seed"],
                    data["run"],
                    data["overrides"],
                    choices=data["choices"],
                    predictions=data["predictions"],
                    name=data["name"],
                    played=data["played"],
                    predicting=data["predict"],
                    outcomes=data["outcomes"],
                    revealed=data["revealed"],
                )
        if game is None or game.compiled.sha256 != data["scenario"]["sha256"]:
            text_of = game.compiled.loaded.path if game else scenario_path
            raise OptionsError(
                f"{where}: saved for another scenario text (sha256 "
                f"{data['scenario']['sha256'][:12]}...), not the one in {text_of}"
            )
        if game.seed != data["seed"]:
            raise OptionsError(
                f"{where}: saved at seed {data['seed']}, but {data['results']} was run at "
                f"seed {game.seed}"
            )
        if data["round"] > game.rounds:
            raise OptionsError(f"{where}: round {data['round']} is after the last round")
        game.goto(data["round"])
        game._mark_revealed()
        return game


def _reachable(given: str, absolute: str | None) -> str:
    """A saved path as given (from the folder the game was started in) or made absolute.

    The absolute one only where nothing is there as given but it is (a save resumed
    from another folder): a file or folder that is there but damaged is reported, not
    swapped for another.
    """
    if absolute and not Path(given).exists() and Path(absolute).exists():
        return absolute
    return given


def _absolute(path: str) -> str | None:
    """``path`` made absolute, or None for a name that is not a file (``<text>``)."""
    try:
        found = Path(path).resolve()
    except (OSError, RuntimeError):
        return None
    return str(found) if found.is_file() else None


def read_game_file(path: str | Path) -> dict[str, Any]:
    """Read and check a saved game file (its shape, not yet its scenario).

    Returns:
        The file's data with ``choices`` as ``{(round, actor): action}`` and
        ``predictions`` as :class:`Prediction` objects.

    Raises:
        OptionsError: If the file is missing, not JSON, or not a saved game.
    """
    where = str(path)
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise OptionsError(f"{where}: cannot read the saved game ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise OptionsError(f"{where}: damaged saved game (not UTF-8 text)") from None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise OptionsError(f"{where}: damaged saved game (not valid JSON: {exc})") from None

    def bad(what: str) -> OptionsError:
        return OptionsError(f"{where}: damaged saved game ({what})")

    if not isinstance(data, dict) or data.get("format") != GAME_FORMAT:
        raise bad(f'no "format": "{GAME_FORMAT}"; is it a saved game?')
    scenario = data.get("scenario")
    if not (
        isinstance(scenario, dict)
        and isinstance(scenario.get("path"), str)
        and isinstance(scenario.get("sha256"), str)
    ):
        raise bad("'scenario' must hold 'path' and 'sha256'")
    for key in ("seed", "run", "round"):
        value = data.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise bad(f"'{key}' must be a non-negative integer")
    results = data.get("results")
    if results is not None and not isinstance(results, str):
        raise bad("'results' must be a folder path or null")
    overrides = data.get("overrides") or {}
    if not isinstance(overrides, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in overrides.values()
    ):
        raise bad("'overrides' must map names to numbers")
    choices = {}
    for item in data.get("choices") or []:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("round"), int)
            and isinstance(item.get("actor"), str)
            and isinstance(item.get("action"), str)
        ):
            raise bad("each choice needs 'round', 'actor' and 'action'")
        choices[(item["round"], item["actor"])] = item["action"]
    outcomes = {}
    for item in data.get("outcomes") or []:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("round"), int)
            and isinstance(item.get("branch"), str)
            and isinstance(item.get("outcome"), str)
        ):
            raise bad("each outcome needs 'round', 'branch' and 'outcome'")
        outcomes[(item["round"], item["branch"])] = item["outcome"]
    predictions = []
    for item in data.get("predictions") or []:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("branch"), str)
            and isinstance(item.get("round"), int)
            and isinstance(item.get("probabilities"), dict)
        ):
            raise bad("each prediction needs 'branch', 'round' and 'probabilities'")
        predictions.append(Prediction(item["branch"], item["round"], dict(item["probabilities"])))
    played = data.get("played") or []
    if not isinstance(played, list) or not all(isinstance(p, str) for p in played):
        raise bad("'played' must be a list of actor ids")
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise bad("'name' must be text or null")
    predict = data.get("predict", False)
    if not isinstance(predict, bool):
        raise bad("'predict' must be true or false")
    revealed = data.get("revealed") or []
    if not isinstance(revealed, list) or not all(isinstance(b, str) for b in revealed):
        raise bad("'revealed' must be a list of branch ids")
    results_absolute = data.get("results_absolute")
    if results_absolute is not None and not isinstance(results_absolute, str):
        raise bad("'results_absolute' must be a folder path or null")
    if not isinstance(scenario.get("absolute"), str | None):
        raise bad("'scenario' 'absolute' must be a file path or null")
    return {
        "scenario": scenario,
        "results": results,
        "results_absolute": results_absolute,
        "seed": data["seed"],
        "run": data["run"],
        "round": data["round"],
        "overrides": {k: float(v) for k, v in overrides.items()},
        "choices": choices,
        "outcomes": outcomes,
        "predictions": predictions,
        "played": tuple(played),
        "predict": predict,
        "name": name,
        "revealed": tuple(revealed),
    }

"""The debrief: the room's one game set against the many the model plays.

A class plays one game; the model can play thousands. After the game the lecturer shows
how the room's game compares:

* its ending against the ending mix of a batch of the same scenario, seed and settings
  (how common such an ending is), and against the continuations of the game from each
  round it reached (how the odds moved with the room's decisions and the draws);
* each actor's total payoff against the batch mean, with where it falls among the runs;
* the values the hidden parameters took in this game, with where each falls among the
  batch's draws (was the room unlucky, or did it play a hard game?).

:func:`debrief` gathers all of it as plain JSON data; the classroom's debrief page and
the handouts render it.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.engine.model import play
from sim.errors import OptionsError
from sim.seminar.forecast import DEFAULT_CONTINUATIONS
from sim.seminar.game import Game, brier_score

#: Runs of the reference batch.
DEFAULT_BATCH_RUNS = 5_000
_BLOCK = 5_000


def reference_batch(game: Game, runs: int = DEFAULT_BATCH_RUNS) -> dict[str, Any]:
    """Runs 0..runs-1 of the game's scenario, seed and settings, with nobody in them.

    Returns:
        ``endings`` (ending id -> share), ``payoffs`` (actor id -> array of totals) and
        ``params`` (parameter name -> array of drawn values).
    """
    if runs < 1:
        raise OptionsError("the reference batch needs at least 1 run")
    compiled = game.compiled
    endings = np.zeros(len(compiled.endings))
    payoffs: list[list[np.ndarray]] = [[] for _ in compiled.actors]
    params: list[list[np.ndarray]] = [[] for _ in compiled.param_names]
    for start in range(0, runs, _BLOCK):
        block = play(
            compiled,
            game.seed,
            np.arange(start, min(start + _BLOCK, runs)),
            game.overrides or None,
            keep_trajectories=False,
        )
        assert block.ending is not None
        endings += np.bincount(block.ending, minlength=len(compiled.endings))
        for a in range(len(compiled.actors)):
            payoffs[a].append(block.payoff_total[a])
        for p in range(len(compiled.param_names)):
            params[p].append(block.ctx.params[p])
    return {
        "runs": runs,
        "endings": {e.id: float(n / runs) for e, n in zip(compiled.endings, endings, strict=True)},
        "payoffs": {a.id: np.concatenate(payoffs[i]) for i, a in enumerate(compiled.actors)},
        "params": {name: np.concatenate(params[p]) for p, name in enumerate(compiled.param_names)},
    }


def _share_below(values: np.ndarray, value: float) -> float:
    """The share of ``values`` strictly below ``value``."""
    return float(np.sum(values < value) / len(values))


def _share_equal(values: np.ndarray, value: float) -> float:
    """The share of ``values`` equal to ``value`` (a yes/no parameter's, say)."""
    return float(np.sum(values == value) / len(values))


def _below_text(below: float, equal: float) -> str:
    """``42%``, or ``0% (25% equal)`` where many draws tie with the value.

    A lecturer's trial read "article4_applies 0 ... 13%" (ties counted half) as draws
    below 0; a yes/no parameter's value is now said as it is: none below, a quarter equal.
    """
    text = f"{below:.0%}"
    return text + f" ({equal:.0%} equal)" if equal >= 0.01 else text


def debrief(
    game: Game,
    batch_runs: int = DEFAULT_BATCH_RUNS,
    continuations: int = DEFAULT_CONTINUATIONS,
) -> dict[str, Any]:
    """The room's game against the batch and against its own continuations.

    Args:
        game: The game (finished or not: an unfinished game has no ending yet).
        batch_runs: Runs of the reference batch.
        continuations: Continuations behind the outlook at each round.

    Returns:
        Plain JSON data: ``ending`` (the room's, or ``None``), ``endings`` (id, title,
        the batch's share, the share in the outlook at each round), ``rounds`` (the
        rounds of the outlooks), ``payoffs`` (per actor: the room's total, the batch
        mean and sd, the shares of runs below and equal), ``params`` (per parameter: this
        game's value, unit, description, the batch's mean and the shares of its draws
        below and equal),
        ``branches`` (the room's branch outcomes by round).
    """
    compiled = game.compiled
    batch = reference_batch(game, batch_runs)
    outlooks = game.outlooks(continuations)
    model = game.model
    ending = None
    if model.ending is not None:
        end = compiled.endings[int(model.ending[0])]
        ending = {"id": end.id, "title": end.title, "round": int(model.rounds_played[0])}
    endings = [
        {
            "id": e.id,
            "title": e.title,
            "batch": batch["endings"][e.id],
            "by_round": [o.endings[e.id] for o in outlooks],
        }
        for e in compiled.endings
    ]
    payoffs = []
    for a, actor in enumerate(compiled.actors):
        values = batch["payoffs"][actor.id]
        room = float(model.payoff_total[a][0])
        payoffs.append(
            {
                "id": actor.id,
                "name": actor.name,
                "room": room,
                "batch_mean": float(values.mean()),
                "batch_sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                "share_below": _share_below(values, room),
                "share_equal": _share_equal(values, room),
            }
        )
    params = []
    spec = compiled.loaded.spec.parameters
    for p, name in enumerate(compiled.param_names):
        value = float(model.ctx.params[p][0])
        categories = compiled.param_categories[p]
        draws = batch["params"][name]
        params.append(
            {
                "name": name,
                "value": categories[int(value)] if categories else value,
                "unit": getattr(spec[name], "unit", "") or "",
                "description": " ".join((getattr(spec[name], "description", "") or "").split()),
                "batch_mean": None if categories else float(draws.mean()),
                "share_below": None if categories else _share_below(draws, value),
                "share_equal": None if categories else _share_equal(draws, value),
                "fixed": bool(np.all(draws == draws[0])),
            }
        )
    branches = []
    for b, branch in enumerate(compiled.branches):
        outcome = int(model.branch_outcome[b][0])
        if outcome >= 0:
            branches.append(
                {
                    "id": branch.id,
                    "round": int(model.branch_round[b][0]),
                    "outcome": branch.outcomes[outcome].id,
                    "text": branch.outcomes[outcome].text,
                    # Decided by people in the deciding actor's seat, not by its rule.
                    "by_people": (int(model.branch_round[b][0]), branch.id) in game.outcomes,
                }
            )
    return {
        "title": compiled.title,
        "seed": game.seed,
        "run": game.run,
        "round": game.round,
        "rounds": game.rounds,
        "finished": game.finished,
        "batch_runs": batch_runs,
        "continuations": continuations,
        "ending": ending,
        "endings": endings,
        "rounds_of_outlooks": [o.round for o in outlooks],
        "payoffs": payoffs,
        "params": params,
        "branches": sorted(branches, key=lambda b: b["round"]),
    }


def format_value(value: float | str) -> str:
    """A parameter's value as the rest of the program shows numbers (14,410; 0.2906)."""
    if isinstance(value, str):
        return value
    from sim.seminar.transcript import format_number

    return format_number(value)


def debrief_tables(data: dict[str, Any]) -> dict[str, Any]:
    """The debrief as tables of text cells, for the handouts and the terminal.

    Returns:
        ``ending`` (a sentence, or ``None``), and ``endings``, ``payoffs``, ``params``,
        ``leaderboard`` (each ``{"header": [...], "rows": [[...], ...], "numeric":
        {column indices}}``, or ``None`` where there is nothing to show).
    """
    sentence = None
    if data["ending"]:
        end = data["ending"]
        share = next(e["batch"] for e in data["endings"] if e["id"] == end["id"])
        sentence = (
            f"The room's ending: {end['title']} (round {end['round']}), reached in "
            f"{share:.1%} of {data['batch_runs']:,} games of the batch."
        )
    rounds = data["rounds_of_outlooks"]
    endings = {
        "header": ["Ending", "Batch", *(f"r{r}" for r in rounds)],
        "rows": [
            [
                e["title"]
                + (" (this game)" if data["ending"] and e["id"] == data["ending"]["id"] else ""),
                f"{e['batch']:.0%}",
                *(f"{p:.0%}" for p in e["by_round"]),
            ]
            for e in data["endings"]
        ],
        "numeric": set(range(1, len(rounds) + 2)),
    }
    payoffs = None
    if data["payoffs"]:
        payoffs = {
            "header": ["Actor", "This game", "Batch mean", "sd", "Games that did worse"],
            "rows": [
                [
                    f"{p['id']} ({p['name']})",
                    f"{p['room']:.2f}",
                    f"{p['batch_mean']:.2f}",
                    f"{p['batch_sd']:.2f}",
                    _below_text(p["share_below"], p["share_equal"]),
                ]
                for p in data["payoffs"]
            ],
            "numeric": {1, 2, 3, 4},
        }
    params = None
    shown = [p for p in data["params"] if not p.get("fixed")]
    if shown:
        params = {
            "header": ["Parameter", "Value", "Unit", "Batch mean", "Draws below"],
            "rows": [
                [
                    p["name"],
                    format_value(p["value"]),
                    p["unit"],
                    "" if p["batch_mean"] is None else format_value(p["batch_mean"]),
                    ""
                    if p["share_below"] is None
                    else _below_text(p["share_below"], p["share_equal"]),
                ]
                for p in shown
            ],
            "numeric": {1, 3, 4},
        }
    board = leaderboard_table(data.get("leaderboard") or [])
    return {
        "ending": sentence,
        "endings": endings,
        "payoffs": payoffs,
        "params": params,
        "leaderboard": board,
    }


def leaderboard_table(board: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The students' leaderboard (from :func:`leaderboard`) as a table; ``None`` if empty."""
    if not board:
        return None
    return {
        "header": ["#", "Student", "Mean Brier", "Model", "Scored"],
        "rows": [
            [
                str(i),
                b["student"],
                "–" if b["brier"] is None else f"{b['brier']:.3f}",
                "–" if b["model_brier"] is None else f"{b['model_brier']:.3f}",
                f"{b['scored']}/{b['predictions']}",
            ]
            for i, b in enumerate(board, 1)
        ],
        "numeric": {0, 2, 3, 4},
    }


def format_debrief(data: dict[str, Any], width: int = 80) -> str:
    """The debrief as text: every line within ``width``, wrapped, never cut."""
    tables = debrief_tables(data)
    lines = []
    wrap = textwrap.TextWrapper(width=width, subsequent_indent="  ", break_on_hyphens=False)
    if tables["ending"]:
        lines += wrap.wrap(tables["ending"])
    titles = {
        "endings": "Endings: the batch, then the model's odds after each round of this game",
        "payoffs": "Payoffs: this game against the batch",
        "params": "The hidden parameters of this game",
        "leaderboard": "Students' predictions (mean Brier score; 0 is perfect)",
    }
    for key, title in titles.items():
        table = tables[key]
        if table is None:
            continue
        lines += wrap.wrap(title)
        for row in table["rows"]:
            cells = [f"{h}: {c}" for h, c in zip(table["header"][1:], row[1:], strict=True) if c]
            lines += textwrap.wrap(
                f"{row[0]}: " + ", ".join(cells),
                width=width,
                initial_indent="  ",
                subsequent_indent="      ",
                break_on_hyphens=False,
            )
    return "\n".join(lines)


@dataclass
class StudentForecast:
    """One student's forecast of one branch (a classroom's, or read from its save).

    Attributes:
        student: The name the student gave.
        branch: The branch id.
        round: The round before which it was made.
        probabilities: Outcome id -> probability.
        updated: When it was last changed (seconds since the epoch).
    """

    student: str
    branch: str
    round: int
    probabilities: dict[str, float]
    updated: float = 0.0


def read_students(path: str | Path) -> list[StudentForecast]:
    """The students' forecasts a classroom saved with its game (none in a terminal save).

    Raises:
        OptionsError: If the file's students' part is damaged.
    """
    where = str(path)
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        raise OptionsError(f"{where}: cannot read the saved game") from None
    classroom = raw.get("classroom") if isinstance(raw, dict) else None
    return forecasts_from((classroom or {}).get("students") or [], where)


def forecasts_from(items: list[Any], where: str) -> list[StudentForecast]:
    """The students' forecasts of a save's ``classroom.students`` list.

    Args:
        items: The list as read from the file.
        where: The file, for the error.

    Raises:
        OptionsError: If an item is damaged.
    """
    found = []
    for item in items:
        try:
            found.append(
                StudentForecast(
                    str(item["name"]),
                    str(item["branch"]),
                    int(item["round"]),
                    {str(k): float(v) for k, v in dict(item["probabilities"]).items()},
                    float(item.get("updated", 0.0)),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise OptionsError(f"{where}: damaged students' predictions") from None
    return found


def score_students(
    game: Game, forecasts: Iterable[Any], continuations: int = DEFAULT_CONTINUATIONS
) -> list[dict[str, Any]]:
    """Each student forecast with its Brier score and the model's, where resolved.

    The model's forecast is its outlook when the question was asked (the end of the
    round before), as for the room's own predictions.

    Args:
        game: The game.
        forecasts: Objects with ``student``, ``branch``, ``round``, ``probabilities``
            and ``updated`` (:class:`StudentForecast`, or the classroom's own).
        continuations: Continuations behind the model's forecast.
    """
    rows = []
    for forecast in forecasts:
        outcome = game.outcome_of(forecast.branch)
        model_p: dict[str, float] = {}
        model_brier = None
        brier = None
        if outcome is not None:
            asked = min(max(forecast.round - 1, 0), game.round)
            model_p = game.expect_at(asked, continuations).branches.get(forecast.branch, {})
            brier = brier_score(forecast.probabilities, outcome)
            if sum(model_p.values()) > 0:
                model_brier = brier_score(model_p, outcome)
        rows.append(
            {
                "student": forecast.student,
                "branch": forecast.branch,
                "round": forecast.round,
                "probabilities": forecast.probabilities,
                "updated": forecast.updated,
                "outcome": outcome,
                "brier": brier,
                "model": model_p,
                "model_brier": model_brier,
            }
        )
    return sorted(rows, key=lambda r: (r["student"].lower(), r["round"], r["branch"]))


def leaderboard(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Students by mean Brier score over their resolved forecasts (lower first).

    Args:
        rows: From :func:`score_students`.
    """
    by_student: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_student.setdefault(row["student"], []).append(row)
    board = []
    for name, mine in by_student.items():
        done = [r for r in mine if r["brier"] is not None]
        model = [r["model_brier"] for r in done if r["model_brier"] is not None]
        board.append(
            {
                "student": name,
                "predictions": len(mine),
                "scored": len(done),
                "brier": sum(r["brier"] for r in done) / len(done) if done else None,
                "model_brier": sum(model) / len(model) if model else None,
            }
        )
    return sorted(
        board, key=lambda b: (b["brier"] is None, b["brier"] or 0.0, b["student"].lower())
    )

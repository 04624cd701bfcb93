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

from typing import Any

import numpy as np

from sim.engine.model import play
from sim.errors import OptionsError
from sim.seminar.forecast import DEFAULT_CONTINUATIONS
from sim.seminar.game import Game

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
    """The share of ``values`` below ``value`` (ties count half): its percentile / 100."""
    return float((np.sum(values < value) + 0.5 * np.sum(values == value)) / len(values))


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
        mean and sd, the share of runs below), ``params`` (per parameter: this game's
        value, unit, description, the batch's mean and the share of its draws below),
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


def format_debrief(data: dict[str, Any], width: int = 80) -> str:
    """The debrief as text (for the terminal and the Markdown handout's code block)."""
    lines = []
    if data["ending"]:
        end = data["ending"]
        share = next(e["batch"] for e in data["endings"] if e["id"] == end["id"])
        lines.append(
            f"The room's ending: {end['title']}, reached in {share:.1%} of "
            f"{data['batch_runs']:,} games of the batch."
        )
    lines.append("Endings: the batch, then the model's odds after each round of this game")
    rounds = data["rounds_of_outlooks"]
    shown = rounds if len(rounds) <= 8 else rounds[:: max(1, len(rounds) // 7)]
    if rounds[-1] not in shown:
        shown.append(rounds[-1])
    head = f"  {'ending':<24} batch " + " ".join(f"r{r:<3}" for r in shown)
    lines.append(head[:width])
    for e in data["endings"]:
        cells = " ".join(f"{e['by_round'][rounds.index(r)]:4.0%}" for r in shown)
        mark = "*" if data["ending"] and e["id"] == data["ending"]["id"] else " "
        lines.append(f"{mark} {e['id'][:24]:<24} {e['batch']:5.0%} {cells}"[:width])
    lines.append("Payoffs: this game against the batch")
    for p in data["payoffs"]:
        lines.append(
            f"  {p['id']:<8} {p['room']:>9.2f}   batch mean {p['batch_mean']:>8.2f} "
            f"(sd {p['batch_sd']:.2f}); {p['share_below']:.0%} of games did worse"
        )
    lines.append("The hidden parameters of this game")
    for p in data["params"]:
        value = p["value"] if isinstance(p["value"], str) else f"{p['value']:.4g}"
        where = "" if p["share_below"] is None else f" ({p['share_below']:.0%} of draws below)"
        lines.append(f"  {p['name']:<30} {value:>10} {p['unit']}{where}"[:width])
    return "\n".join(lines)

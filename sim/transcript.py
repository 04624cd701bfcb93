"""Telling one game as text: round by round, what happened and why.

Used by ``wargame replay`` and the seminar. Works on a model that kept its history
(:class:`~sim.model.RoundRecord` per round) and reads run ``run`` of its block. Lines
are kept within ``width`` columns for an 80-column terminal or a projector.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np

from sim.model import RoundRecord, WargameModel


def _value(model: WargameModel, index: int, value: float) -> str:
    categories = model.compiled.state_categories[index]
    if categories is not None:
        return categories[int(value)]
    return f"{value:.4g}"


def state_changes(
    model: WargameModel, before: list[np.ndarray], after: list[np.ndarray], run: int = 0
) -> list[tuple[str, str, str, str]]:
    """(name, before, after, unit) for every state variable that changed in a run."""
    changes = []
    for i, name in enumerate(model.compiled.state_names):
        a, b = float(before[i][run]), float(after[i][run])
        if a != b:
            unit = model.compiled.state_units[i]
            changes.append((name, _value(model, i, a), _value(model, i, b), unit))
    return changes


def choice_rows(
    model: WargameModel, record: RoundRecord, actor_id: str, run: int = 0
) -> list[dict[str, Any]]:
    """Each action of an actor in a round: feasible, score, probability, chosen."""
    actor = model.compiled.actors[model.compiled.actor_index(actor_id)]
    decision = record.decisions[actor_id]
    rows = []
    for a, action in enumerate(actor.actions):
        rows.append(
            {
                "action": action.id,
                "description": action.description,
                "feasible": bool(decision.feasible[a, run]),
                "score": float(decision.scores[a, run]),
                "probability": float(decision.probabilities[a, run]),
                "chosen": int(decision.choice[run]) == a,
            }
        )
    return rows


def reason(model: WargameModel, record: RoundRecord, actor_id: str, run: int = 0) -> str:
    """A one-line reason for an actor's choice, from the terms of its payoff rule."""
    actor = model.actors[model.compiled.actor_index(actor_id)]
    decision = record.decisions[actor_id]
    choice = int(decision.choice[run])
    if choice < 0:
        return "no action was open"
    if decision.overridden:
        return "chosen by a person"
    bound = int(decision.bound[run])
    if bound >= 0:
        return f"bound by commitment '{model.compiled.commitments[bound].id}'"
    scores = decision.scores[:, run]
    best = int(np.argmax(scores))
    probability = float(decision.probabilities[choice, run])
    if scores[best] > scores[choice] + 1e-9:
        best_id = model.compiled.actors[actor.index].actions[best].id
        gap = float(scores[best] - scores[choice])
        return f"drawn with p {probability:.2f}; {best_id} scored {gap:.2f} higher"
    ctx = model.ctx.with_state(record.observed)
    ctx.round = record.round
    terms = actor.explain(ctx, choice, run)
    if not terms:
        return f"best score (p {probability:.2f}); it changes nothing the actor values"
    parts = [f"{label} ({value:+.2f})" for label, value in terms[:2]]
    return f"best score (p {probability:.2f}): " + "; ".join(parts)


def format_round(model: WargameModel, record: RoundRecord, run: int = 0, width: int = 80) -> str:
    """One round as text: injects, each actor's options and choice, changes, branches."""
    compiled = model.compiled
    lines = [
        f"Round {record.round} of {compiled.rounds}, {model.date_of(record.round).isoformat()}"
    ]
    wrap = textwrap.TextWrapper(width=width, initial_indent="  ", subsequent_indent="    ")
    by_id = {i.id: i for i in compiled.injects}
    for inject_id in record.injects[run]:
        inject = by_id[inject_id]
        lines += wrap.wrap(f"Inject {inject.id}: {inject.text}".rstrip(": "))
        if inject.prompt:
            lines += wrap.wrap(f"Prompt: {inject.prompt}")
    before = record.observed
    for actor in compiled.actors:
        decision = record.decisions[actor.id]
        choice = int(decision.choice[run])
        chosen = actor.actions[choice].id if choice >= 0 else "(none)"
        lines.append(f"  {actor.id} ({actor.name}) chooses {chosen}")
        for row in choice_rows(model, record, actor.id, run):
            if not row["feasible"]:
                continue
            mark = ">" if row["chosen"] else " "
            lines.append(
                f"    {mark} {row['action'][:28]:<28} score {row['score']:>8.3f}"
                f"   p {row['probability']:.3f}"
            )
        lines += textwrap.wrap(
            "why: " + reason(model, record, actor.id, run),
            width=width,
            initial_indent="      ",
            subsequent_indent="        ",
        )
    for branch in compiled.branches:
        outcome = record.branches.get(branch.id)
        if outcome is None or outcome[run] < 0:
            continue
        chosen = branch.outcomes[int(outcome[run])]
        lines += wrap.wrap(f"Branch {branch.id}: {chosen.id}. {chosen.text}".rstrip())
    changes = state_changes(model, before, record.after, run)
    if changes:
        lines.append("  State changes:")
        for name, a, b, unit in changes:
            lines.append(f"    {name[:30]:<30} {a:>10} -> {b:<10} {unit}"[:width].rstrip())
    return "\n".join(lines)


def format_ending(model: WargameModel, run: int = 0) -> str:
    """The ending of a finished game and each actor's total payoff."""
    compiled = model.compiled
    assert model.ending is not None
    ending = compiled.endings[int(model.ending[run])]
    lines = [f"Ending: {ending.title} ({ending.id})", "Total payoffs:"]
    for a, actor in enumerate(compiled.actors):
        lines.append(f"  {actor.id:<8} {model.payoff_total[a][run]:>10.3f}  {actor.name}")
    return "\n".join(lines)


def format_game(model: WargameModel, run: int = 0, width: int = 80) -> str:
    """A whole finished game (or the rounds played so far) as text."""
    header = f"{model.compiled.title} ({model.compiled.id}), seed {model.seed}, run {int(model.ctx.runs[run])}"
    parts = [header]
    for record in model.history:
        parts.append(format_round(model, record, run, width))
    if model.ending is not None:
        parts.append(format_ending(model, run))
    return "\n\n".join(parts)


def round_record_json(model: WargameModel, record: RoundRecord, run: int = 0) -> dict[str, Any]:
    """One round of one run as JSON-ready data."""
    compiled = model.compiled
    return {
        "round": record.round,
        "date": model.date_of(record.round).isoformat(),
        "injects": list(record.injects[run]),
        "choices": {
            actor.id: {
                "action": (
                    actor.actions[int(record.decisions[actor.id].choice[run])].id
                    if record.decisions[actor.id].choice[run] >= 0
                    else None
                ),
                "overridden": record.decisions[actor.id].overridden,
                "options": [
                    {k: row[k] for k in ("action", "score", "probability")}
                    for row in choice_rows(model, record, actor.id, run)
                    if row["feasible"]
                ],
            }
            for actor in compiled.actors
        },
        "branches": {
            b: compiled.branches[[x.id for x in compiled.branches].index(b)]
            .outcomes[int(o[run])]
            .id
            for b, o in record.branches.items()
            if o[run] >= 0
        },
        "state": {
            name: (
                _value(model, i, float(record.after[i][run]))
                if compiled.state_categories[i]
                else float(record.after[i][run])
            )
            for i, name in enumerate(compiled.state_names)
        },
    }

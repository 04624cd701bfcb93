"""What each device sees: the room as plain JSON data, cut to the role asking.

The projector sees what the whole room may see: the round, its injects and prompts, the
branches due, which teams have chosen (never what), the countdown, and after the reveal
every actor's move with a plain reason, the state changes with arrows, the branch tree
and what the model now expects. A team sees the same plus its own options (with what
each is expected to do to what it values) and its own choice. A student sees the
branches open for prediction, their own forecasts and the leaderboard. The facilitator
sees everything the projector does, plus the controls' data: who has chosen, the
computer-played actors' open options for an override, overrides, saves, notes.

Nothing here reads a team's pending choice except for that team (and the count of
teams that have chosen), and nothing shows a rule-played preview's moves or branch
outcomes: before the reveal the preview is used only for what does not depend on the
round's choices (injects, options, scores).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from sim.classroom.roles import FACILITATOR, PROJECTOR, STUDENT, TEAM, Role
from sim.classroom.room import OPEN, Classroom
from sim.engine.reasoning import score_terms
from sim.seminar.briefing import briefing, plain_condition, variable_titles
from sim.seminar.transcript import plain_reason, resolved_branches, state_value, words


def hidden_branches(room: Classroom) -> frozenset[str]:
    """Branches whose odds the room and the students must not see: every unresolved one.

    Students may be asked about any branch before it resolves (a ``round:`` branch in
    its round, a ``when:`` branch once its condition holds), so no view shown to the
    room carries the model's odds of one (the outlook, the actors' foresight in their
    reasons) until it has resolved. A team's own option cards are the exception: they
    show what the team's actor foresees with each option, for the team's decision.
    """
    game = room.game
    return frozenset(b.id for b in game.compiled.branches if game.outcome_of(b.id) is None)


def short_text(text: str, most: int = 22, least: int = 6) -> str:
    """The first sentence of a text, cut at ``most`` words, for the projector (with "…").

    The projector shows every inject of a round on one screen read from the back row;
    a click on one shows its whole text. A first sentence of fewer than ``least`` words
    takes the next one with it: "The talks have failed. …" told the room very little.
    """
    flat = " ".join(text.split())
    sentence = flat
    for end in re.finditer(r"[.?!](?= )", flat):
        if len(flat[: end.end()].split()) >= least:
            sentence = flat[: end.end()]
            break
    found = sentence.split()
    if len(found) > most:
        return " ".join(found[:most]) + " …"
    return sentence if sentence == flat else sentence + " …"


def _branch_tree(room: Classroom) -> list[dict[str, Any]]:
    game = room.game
    model = game.model
    closed = set(game.closed_branches())
    tree = []
    for b, branch in enumerate(game.compiled.branches):
        outcome = int(model.branch_outcome[b][0])
        item: dict[str, Any] = {"id": branch.id, "text": branch.text}
        if outcome >= 0:
            resolved_in = int(model.branch_round[b][0])
            item |= {
                "status": "resolved",
                "round": resolved_in,
                "outcome": branch.outcomes[outcome].id,
                "outcome_text": branch.outcomes[outcome].text,
                "by_people": (resolved_in, branch.id) in game.outcomes,
            }
        elif branch.id in room.due:
            # A hazard's branch is due only to be drawn: it may not happen at all.
            item |= {"status": "due", "round": game.round + 1, "chance": branch.hazard is not None}
        elif branch.id in closed:
            item |= {"status": "closed", "round": branch.round}
        else:
            item |= {"status": "open", "round": branch.round}
        tree.append(item)
    tree.sort(key=lambda t: (t["status"] != "resolved", t.get("round") or 99))
    return tree


def _injects(model: Any, record: Any) -> list[dict[str, str]]:
    by_id = {i.id: i for i in model.compiled.injects}
    return [
        {
            "id": i,
            "text": by_id[i].text,
            "short": short_text(by_id[i].text),
            "prompt": by_id[i].prompt or "",
        }
        for i in record.injects[0]
    ]


def _open_round(room: Classroom) -> dict[str, Any] | None:
    if room.phase != OPEN or room.preview is None:
        return None
    model, record = room.preview
    by_id = {b.id: b for b in model.compiled.branches}

    def told(b: str) -> dict[str, Any]:
        return {
            "id": b,
            "text": by_id[b].text,
            "prompt": by_id[b].prompt or "",
            "outcomes": [{"id": o.id, "text": o.text} for o in by_id[b].outcomes],
            "locked": b in room.game.revealed,
            # Comes up only if a hazard's draw says so: told as a chance, not news.
            "chance": by_id[b].hazard is not None,
        }

    return {
        "round": record.round,
        "date": model.date_of(record.round).isoformat(),
        "injects": _injects(model, record),
        "due": [told(b) for b in room.due],
        # What students may forecast: the due branches first, then the others that may
        # still come up, each with what brings it.
        "forecast": [
            told(b)
            | {
                "due": b in room.due,
                "round": by_id[b].round,
                "condition": None if by_id[b].when is None else plain_condition(by_id[b].when.text),
            }
            for b in room.forecastable
        ],
    }


def _played_round(room: Classroom) -> dict[str, Any] | None:
    game = room.game
    if not game.history:
        return None
    cache = room.__dict__.setdefault("_played_cache", {})
    hide = hidden_branches(room)
    key = (
        id(game),
        game.round,
        tuple(sorted(game.choices.items())),
        tuple(sorted(game.outcomes.items())),
        tuple(sorted(room.announced or ())),
        hide,
    )
    if key in cache:
        return cache[key]
    model, record = game.model, game.history[-1]
    compiled = game.compiled
    branches = []
    for branch, chosen in resolved_branches(compiled, record):
        branches.append(
            {
                "id": branch.id,
                "text": branch.text,
                "prompt": branch.prompt or "",
                "outcome": chosen.id,
                "outcome_text": chosen.text,
                # A chance branch was announced as a chance, without its text and
                # prompt: they are told now that it happened (a lecturer's re-trial saw
                # "showdown -> climb down" alone).
                "announced": branch.hazard is None
                and (room.announced is None or branch.id in room.announced),
                # Decided by the people in the deciding actor's seat (not its rule).
                "by_people": (record.round, branch.id) in game.outcomes,
                # A team's branch it left to its actor's rule (said on every screen,
                # not only in the facilitator's notes: a lecturer's re-trial).
                "by_rule": branch.decided_by is not None
                and compiled.actors[branch.decided_by].id in room.teams
                and (record.round, branch.id) not in game.outcomes,
            }
        )
    moves = []
    for actor in compiled.actors:
        decision = record.decisions[actor.id]
        choice = int(decision.choice[0])
        action = actor.actions[choice] if choice >= 0 else None
        moves.append(
            {
                "id": actor.id,
                "name": actor.name,
                "move": action.id if action else None,
                "description": action.description if action else "",
                "by_people": bool(decision.overridden),
                "team": actor.id in room.teams,
                "reason": plain_reason(model, record, actor.id, hide=hide),
            }
        )
    before = record.before or record.observed
    changes = []
    # A variable's words on the projector: its metric's or its own title
    # ("Arctic LNG 2 output restarted", not "arctic lng mt").
    titles = variable_titles(compiled)
    for i, name in enumerate(compiled.state_names):
        a, b = float(before[i][0]), float(record.after[i][0])
        if a != b:
            changes.append(
                {
                    "name": name,
                    "title": titles.get(name, ""),
                    "before": state_value(model, i, a),
                    "after": state_value(model, i, b),
                    "unit": compiled.state_units[i],
                    "arrow": "→" if compiled.state_categories[i] else ("↑" if b > a else "↓"),
                }
            )
    played = {
        "round": record.round,
        "date": model.date_of(record.round).isoformat(),
        "injects": _injects(model, record),
        "branches": branches,
        "moves": moves,
        "changes": changes,
    }
    cache.clear()
    cache[key] = played
    return played


def _outlook(room: Classroom, reveal_all: bool = False) -> dict[str, Any]:
    """What the model expects now; the odds of unresolved branches hidden from the room.

    Args:
        room: The classroom.
        reveal_all: Give every branch's odds (the facilitator's own copy).
    """
    game = room.game
    seen = game.expect(room.continuations)
    titles = {e.id: e.title for e in game.compiled.endings}
    hidden = frozenset() if reveal_all else hidden_branches(room)
    closed = set(game.closed_branches())
    return {
        "round": seen.round,
        "runs": seen.runs,
        "endings": [
            {"id": e, "title": titles[e], "p": p}
            for e, p in sorted(seen.endings.items(), key=lambda kv: -kv[1])
        ],
        # An unresolved branch gives neither its outcomes' odds nor how likely it is to
        # come up at all: a branch that follows another's outcome (counteroffensive
        # only after the summit collapsed) would give that branch's odds away.
        "branches": [
            {
                "id": b,
                "resolves": None if b in hidden else seen.resolves[b],
                "outcomes": None if b in hidden else outcomes,
                # Can no longer come up, from what the room can see (not the odds).
                "closed": b in closed,
            }
            for b, outcomes in seen.branches.items()
        ],
    }


def _ending(room: Classroom) -> dict[str, Any] | None:
    model = room.game.model
    if model.ending is None:
        return None
    compiled = room.game.compiled
    end = compiled.endings[int(model.ending[0])]
    return {
        "id": end.id,
        "title": end.title,
        "round": int(model.rounds_played[0]),
        "payoffs": [
            {"id": a.id, "name": a.name, "payoff": float(model.payoff_total[i][0])}
            for i, a in enumerate(compiled.actors)
        ],
        "rest": _played_by_rules(room),
    }


def _played_by_rules(room: Classroom) -> list[dict[str, Any]]:
    """The rounds the rules played after the facilitator ended the game, told to the room.

    Each round with its injects and the branches it resolved (with their texts), so
    what happened after "End the game" is on the projector too.
    """
    game = room.game
    if room.ended_at is None:
        return []
    model = game.model
    compiled = game.compiled
    rounds = []
    for record in game.history[room.ended_at :]:
        branches = []
        for branch, chosen in resolved_branches(compiled, record):
            branches.append(
                {
                    "id": branch.id,
                    "text": branch.text,
                    "outcome": chosen.id,
                    "outcome_text": chosen.text,
                    "by_people": (record.round, branch.id) in game.outcomes,
                }
            )
        rounds.append(
            {
                "round": record.round,
                "date": model.date_of(record.round).isoformat(),
                "injects": _injects(model, record),
                "branches": branches,
                # The round open when the game was ended is revealed with the teams'
                # choices; the rules play the rest.
                "by_people": any(r == record.round for r, _ in game.choices)
                or any(b["by_people"] for b in branches),
            }
        )
    return rounds


def common(room: Classroom) -> dict[str, Any]:
    """What every link sees."""
    game = room.game
    compiled = game.compiled
    meta = compiled.loaded.spec.scenario
    return {
        "version": room.version,
        "title": compiled.title,
        "id": compiled.id,
        "description": " ".join(meta.description.split()),
        # Withheld until the game is over (``view`` gives them to the facilitator): with
        # them, anyone could replay the game and see its hidden draws.
        "seed": game.seed if game.finished else None,
        "run": game.run if game.finished else None,
        "round": game.round,
        "rounds": game.rounds,
        "phase": room.phase,
        "remaining": room.remaining,
        "teams": [
            {
                "actor": t,
                "name": compiled.actors[compiled.actor_index(t)].name,
                # Chosen: the move, and the decision of each branch the team's actor
                # decides that comes up this round for certain.
                "chosen": room.has_chosen(t),
            }
            for t in room.teams
        ],
        "open": _open_round(room),
        "played": _played_round(room),
        "tree": _branch_tree(room),
        "outlook": _outlook(room),
        "ending": _ending(room),
    }


def _team_options(room: Classroom, actor_id: str) -> list[dict[str, Any]]:
    """The team's open options, each with what it is expected to do to what it values."""
    if room.preview is None:
        return []
    model, record = room.preview
    compiled = model.compiled
    i = compiled.actor_index(actor_id)
    actor = compiled.actors[i]
    decision = record.decisions[actor_id]
    strategy = decision.strategy
    expect = strategy.expected if strategy is not None else [None] * len(compiled.actors)
    names = compiled.state_names
    # An option's expected changes are named as the reasons name them ("allies'
    # confidence in US guarantees", not "us credibility").
    titles = variable_titles(compiled, mid_sentence=True)
    # Each branch's odds are quoted for one outcome on every option (the outcome the
    # options make likeliest on average), so the cards can be compared.
    quoted: dict[int, int] = {}
    if strategy is not None:
        for item in strategy.scored.foreseen:
            if item.inject:
                continue
            open_ = [a for a in range(len(actor.actions)) if item.due[a, 0]]
            if open_:
                mean = item.probabilities[open_, :, 0].mean(axis=0)
                quoted[item.branch] = int(np.argmax(mean))
    options = []
    for a, action in enumerate(actor.actions):
        if not decision.feasible[a, 0]:
            continue
        effects = []
        if record.reasoning is not None:
            terms = score_terms(record.reasoning, i, a, expect, 0)
            for index, weight in actor.weights:
                projected = float(terms[names[index]][1].split("|")[0])
                change = projected - float(record.observed[index][0])
                shown = signed_change(change)
                if shown is not None:
                    effects.append(
                        {
                            "name": names[index],
                            "title": titles.get(names[index], ""),
                            "change": change,
                            "shown": shown,
                            "good": weight * change > 0,
                            "weight": abs(weight * change),
                        }
                    )
        effects.sort(key=lambda e: -e["weight"])
        foresaw = []
        if strategy is not None:
            for item in strategy.scored.foreseen:
                if item.due[a, 0] and item.inject:
                    inject = compiled.injects[item.branch]
                    chance = float(item.chance[a, 0]) if item.chance is not None else 0.0
                    foresaw.append(f"{words(inject.id)} next round {chance:.0%}")
                    continue
                if item.due[a, 0]:
                    branch = compiled.branches[item.branch]
                    top = quoted[item.branch]
                    foresaw.append(
                        f"{words(branch.id)} {words(branch.outcomes[top].id)} "
                        f"{float(item.probabilities[a, top, 0]):.0%}"
                    )
        options.append(
            {
                "id": action.id,
                "description": action.description,
                "effects": [
                    {k: e[k] for k in ("name", "title", "change", "shown", "good")}
                    for e in effects[:3]
                ],
                "foresaw": foresaw,
                "rule_p": float(decision.probabilities[a, 0]),
            }
        )
    return options


def _effect_text(compiled: Any, effect: Any, titles: dict[str, str]) -> str:
    """An outcome's effect in plain words: ``Pressure on Taiwan +1``, ``response becomes escort``.

    A lecturer's trial read ``Does: us_credibility += 0.2`` as code.
    """
    name = compiled.state_names[effect.target]
    shown = titles.get(name) or words(name)
    constant = effect.expression.constant
    if constant is not None and effect.op != "set":
        amount = f"{constant:g}"
    else:
        amount = plain_condition(effect.expression.text)
        if len(amount) > 48:
            amount = amount[:47] + "…"
    if effect.op == "set":
        return f"{shown} becomes {amount}"
    if constant is None:
        amount = f"({amount})"
    sign = {"add": "+", "sub": "-", "mul": "×"}[effect.op]
    return f"{shown} {sign}{amount}"


def _team_decides(room: Classroom, actor_id: str) -> list[dict[str, Any]]:
    """The branches the team's actor decides in the open round, with the team's pick."""
    compiled = room.game.compiled
    by_id = {b.id: b for b in compiled.branches}
    # The rule's odds, where the preview (the round played by the rules) resolved it.
    decided = room.preview[1].decided if room.preview is not None else {}
    titles = variable_titles(compiled)
    found = []
    for branch_id in room.deciding.get(actor_id, []):
        branch = by_id[branch_id]
        odds = decided.get(branch_id)
        found.append(
            {
                "id": branch_id,
                "text": branch.text,
                "prompt": branch.prompt or "",
                "certain": branch.round is not None,
                # What makes a branch without a round come up, in plainer words.
                "condition": None if branch.when is None else plain_condition(branch.when.text),
                "outcomes": [
                    {
                        "id": o.id,
                        "text": o.text,
                        "rule_p": None if odds is None else float(odds[0][k, 0]),
                        "effects": [_effect_text(compiled, e, titles) for e in o.effects],
                    }
                    for k, o in enumerate(branch.outcomes)
                ],
                "choice": room.pending_outcomes.get(branch_id),
            }
        )
    return found


def signed_change(change: float) -> str | None:
    """A change as a team's card shows it (two significant digits, at most two decimals).

    ``None`` for a change that rounds to nothing at that precision (noise like
    +0.00023 is not shown).
    """
    size = abs(change)
    if size >= 100:
        text = f"{change:+,.0f}"
    elif size >= 10:
        text = f"{change:+.0f}"
    elif size >= 1:
        text = f"{change:+.1f}"
    else:
        text = f"{change:+.2f}"
    return None if float(text.replace(",", "")) == 0 else text


def _expects(room: Classroom, actor_id: str) -> list[str]:
    """What the team's actor (by its rule) expects the others to do this round."""
    if room.preview is None:
        return []
    model, record = room.preview
    compiled = model.compiled
    strategy = record.decisions[actor_id].strategy
    if strategy is None:
        return []
    found = []
    for j, mix in enumerate(strategy.expected):
        if mix is None or compiled.actors[j].id == actor_id:
            continue
        top = int(np.argmax(mix[:, 0]))
        other = compiled.actors[j]
        found.append(f"{other.id} {words(other.actions[top].id)} {float(mix[top, 0]):.0%}")
    return found[:4]


def view(
    room: Classroom, role: Role, student: str | None = None, secret: str | None = None
) -> dict[str, Any]:
    """The view a link's role gets.

    Args:
        room: The classroom.
        role: The link's role.
        student: For a student link, the name the device goes by.
        secret: The secret the device holds for that name: only then does the view
            carry the student's own forecasts.
    """
    with room.lock:
        data = common(room) | {"role": role.kind}
        if role.kind == TEAM:
            assert role.actor is not None
            compiled = room.game.compiled
            data["team"] = {
                "actor": role.actor,
                "name": compiled.actors[compiled.actor_index(role.actor)].name,
                "choice": room.pending.get(role.actor),
                "options": _team_options(room, role.actor) if room.phase == OPEN else [],
                "expects": _expects(room, role.actor) if room.phase == OPEN else [],
                "decides": _team_decides(room, role.actor) if room.phase == OPEN else [],
                "briefing": briefing(compiled, role.actor),
            }
        if role.kind in (STUDENT, FACILITATOR, PROJECTOR):
            data["leaderboard"] = room.leaderboard()
        if role.kind == STUDENT:
            mine = room.students.get(" ".join(str(student or "").split()).lower())
            own = mine is not None and room.student_secret_ok(mine.name, secret)
            data["mine"] = (
                {b: p.probabilities for b, p in mine.predictions.items()}
                if mine is not None and own
                else {}
            )
            data["me"] = mine.name if mine is not None and own else None
            data["my_scores"] = (
                [r for r in room.scored() if r["student"] == mine.name]
                if mine is not None and own
                else []
            )
        if role.kind in (FACILITATOR, PROJECTOR):
            # The debrief's projector-safe link: the projector's token, never the
            # facilitator's (the page may be shown to the room).
            data["debrief"] = f"/debrief/{room.tokens.projector}"
        if role.kind == FACILITATOR:
            data["facilitator"] = _facilitator(room)
            data["seed"] = room.game.seed
            data["run"] = room.game.run
        return data


def _facilitator(room: Classroom) -> dict[str, Any]:
    game = room.game
    compiled = game.compiled
    computer = []
    if room.phase == OPEN:
        for actor in compiled.actors:
            if actor.id in room.teams:
                continue
            open_ = room.open_options(actor.id)
            computer.append(
                {
                    "actor": actor.id,
                    "options": open_,
                    # Listed, not offered, as the terminal lists them (a lecturer looked
                    # for declare_quarantine in round 4).
                    "closed": [a.id for a in actor.actions if a.id not in open_],
                    "override": game.choices.get((game.round + 1, actor.id)),
                }
            )
    decisions = []
    if room.phase == OPEN:
        by_id = {b.id: b for b in compiled.branches}
        for branch_id in room.computer_decisions():
            branch = by_id[branch_id]
            decisions.append(
                {
                    "branch": branch_id,
                    "decider": compiled.actors[branch.decided_by].id,  # type: ignore[index]
                    "outcomes": [o.id for o in branch.outcomes],
                    "override": game.outcomes.get((game.round + 1, branch_id)),
                }
            )
    return {
        "computer": computer,
        "decisions": decisions,
        "saves": room.saves(),
        "save_path": room.save_path.name if room.save_path else None,
        "students": len(room.students),
        "odds": _outlook(room, reveal_all=True)["branches"],
        "predictions": sum(len(s.predictions) for s in room.students.values()),
        "timer_seconds": room.timer_seconds,
        "notes": room.notes[-8:],
    }

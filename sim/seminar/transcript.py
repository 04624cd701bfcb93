"""Telling one game as text: round by round, what happened and why.

Used by ``wargame replay`` and the seminar. Works on a model that kept its history
(:class:`~sim.engine.model.RoundRecord` per round) and reads run ``run`` of its block. Lines
are kept within ``width`` columns for an 80-column terminal or a projector: long texts
are wrapped, never cut. :func:`round_view` gathers what a round shows as plain data;
the text here, and the Markdown and HTML handouts (:mod:`sim.seminar.handout`), render it.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np

from sim.engine.actors import Decision
from sim.engine.model import RoundRecord, WargameModel
from sim.engine.reasoning import RoundReasoning, score_terms
from sim.language.compiler import CompiledBranch, CompiledOutcome, CompiledScenario
from sim.seminar.briefing import variable_titles


def resolved_branches(
    compiled: CompiledScenario, record: RoundRecord, run: int = 0
) -> list[tuple[CompiledBranch, CompiledOutcome]]:
    """The branches that resolved in a round of run ``run``, each with its outcome.

    Args:
        compiled: The scenario.
        record: The round's record.
        run: The run within the record's block.
    """
    found = []
    for branch in compiled.branches:
        outcome = record.branches.get(branch.id)
        if outcome is not None and outcome[run] >= 0:
            found.append((branch, branch.outcomes[int(outcome[run])]))
    return found


def _value(model: WargameModel, index: int, value: float) -> str:
    categories = model.compiled.state_categories[index]
    if categories is not None:
        return categories[int(value)]
    return format_number(value)


def format_number(value: float) -> str:
    """Four significant figures, but large numbers in full with separators (14,410)."""
    if abs(value) < 1e-12:
        value = 0.0  # rounding noise (0.2 - 0.2 may leave -1.7e-16): show 0
    if abs(value) >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def state_value(model: WargameModel, index: int, value: float) -> str:
    """A state variable's value as shown: its category's name, or 4 significant digits."""
    return _value(model, index, value)


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


def _difference_items(
    reasoning: RoundReasoning,
    i: int,
    better: int,
    worse: int,
    expect: list[np.ndarray | None],
    run: int,
) -> list[tuple[str, float | None, str, float]]:
    """Why ``better`` scored above ``worse``: every (label, change, weight, gap), largest first."""
    high = score_terms(reasoning, i, better, expect, run)
    low = score_terms(reasoning, i, worse, expect, run)
    found = []
    for label, (value, detail) in high.items():
        gap = value - low.get(label, (0.0, ""))[0]
        if abs(gap) < 0.005:
            continue
        if detail:
            projected, weight = detail.split("|")
            change = float(projected) - float(low[label][1].split("|")[0])
            found.append((label, change, weight, gap))
        else:
            found.append((label, None, "", gap))
    return sorted(found, key=lambda f: -abs(f[3]))


def _differences(
    reasoning: RoundReasoning,
    i: int,
    better: int,
    worse: int,
    expect: list[np.ndarray | None],
    run: int,
) -> list[str]:
    """Why ``better`` scored above ``worse``: the two largest term differences, as text.

    The rest, if they add up to something, follow as "other terms", so the parts add up
    to the gap between the two scores.
    """
    items = _difference_items(reasoning, i, better, worse, expect, run)
    texts = []
    for label, change, weight, gap in items[:2]:
        if change is not None:
            texts.append(f"{label} {change:+.3g} x weight {weight} ({gap:+.2f})")
        else:
            texts.append(f"{label} ({gap:+.2f})")
    rest = sum(gap for *_, gap in items[2:])
    if abs(rest) >= 0.005:
        texts.append(f"other terms ({rest:+.2f})")
    return texts


def _expectations(
    model: WargameModel, reasoning: RoundReasoning, i: int, decision: Decision, run: int
) -> str:
    """What the actor expected of the actors whose moves could change its choice."""
    strategy = decision.strategy
    actor = model.compiled.actors[i]
    if strategy is None or actor.reasoning == "myopic":
        return ""
    foreseen = [f.branch for f in strategy.scored.foreseen if not f.inject]
    deps = reasoning.map.depends(i, foreseen)
    parts = []
    for j in sorted(deps):
        mix = strategy.expected[j]
        if mix is None:
            continue
        other = model.compiled.actors[j]
        column = mix[:, run]
        top = int(np.argmax(column))
        parts.append(f"{other.id} {other.actions[top].id} {column[top]:.0%}")
    if not parts:
        return ""
    return "expected " + ", ".join(parts[:3]) + (" ..." if len(parts) > 3 else "")


def _foresight(
    model: WargameModel,
    i: int,
    decision: Decision,
    choice: int,
    other: int | None,
    run: int,
    hide: frozenset[str] = frozenset(),
) -> str:
    """The branch odds the actor foresaw with its choice (and with the alternative).

    The odds of a branch in ``hide`` (one the room has still to predict) are withheld:
    the text says the actor foresaw it, not how likely it thought each outcome.
    """
    strategy = decision.strategy
    if strategy is None:
        return ""
    parts = []
    for record in strategy.scored.foreseen:
        if not record.due[choice, run]:
            continue
        if record.inject:
            inject = model.compiled.injects[record.branch]
            chance = record.chance[choice, run] if record.chance is not None else 0.0
            text = f"foresaw {inject.id} next round {chance:.0%}"
            if other is not None and record.due[other, run] and record.chance is not None:
                alt = model.compiled.actors[i].actions[other].id
                text += f" ({record.chance[other, run]:.0%} if {alt})"
            parts.append(text)
            continue
        branch = model.compiled.branches[record.branch]
        if branch.id in hide:
            parts.append(f"foresaw {branch.id} (odds hidden until it resolves)")
            continue
        mine = record.probabilities[choice, :, run]
        if record.chance is not None:
            # A chance event: what the actor's move does to its chance this round.
            chance = record.chance[choice, run]
            text = f"foresaw {branch.id} this round {chance:.0%}"
            if other is not None and record.due[other, run]:
                alt = model.compiled.actors[i].actions[other].id
                text += f" ({record.chance[other, run]:.0%} if {alt})"
            parts.append(text)
            continue
        if other is not None and record.due[other, run]:
            theirs = record.probabilities[other, :, run]
            o = int(np.argmax(np.abs(mine - theirs)))
            alt = model.compiled.actors[i].actions[other].id
            parts.append(
                f"foresaw {branch.id} {branch.outcomes[o].id} {mine[o]:.0%} "
                f"({theirs[o]:.0%} if {alt})"
            )
        else:
            o = int(np.argmax(mine))
            parts.append(f"foresaw {branch.id} {branch.outcomes[o].id} {mine[o]:.0%}")
    return "; ".join(parts)


def _odds_moved(model: WargameModel, decision: Decision, a: int, b: int, run: int) -> set[str]:
    """The branches and injects whose foreseen odds differ between options ``a`` and ``b``.

    Foresight also weighs what each outcome is worth after each option; where only that
    differs, the odds are the same and "likelier" would be untrue (an author's trial).
    """
    strategy = decision.strategy
    if strategy is None:
        return set()
    moved = set()
    for record in strategy.scored.foreseen:
        if not (record.due[a, run] and record.due[b, run]):
            continue
        if record.chance is not None:
            differ = abs(record.chance[a, run] - record.chance[b, run]) >= 0.005
        else:
            gaps = np.abs(record.probabilities[a, :, run] - record.probabilities[b, :, run])
            differ = bool(gaps.max(initial=0.0) >= 0.005)
        if differ:
            event = model.compiled.injects if record.inject else model.compiled.branches
            moved.add(event[record.branch].id)
    return moved


def _best(scores: np.ndarray, feasible: np.ndarray, choice: int) -> int:
    """The best-scoring open option; the choice itself where it scores as well.

    A choice tied with the top score was not drawn against a better option: among
    equals ("nothing it values was at stake") none looked better.
    """
    best = int(feasible[np.argmax(scores[feasible])])
    return choice if scores[choice] >= scores[best] else best


def reason(
    model: WargameModel,
    record: RoundRecord,
    actor_id: str,
    run: int = 0,
    hide: frozenset[str] = frozenset(),
) -> str:
    """A one-line reason for an actor's choice.

    It compares the choice with the best alternative (not with doing nothing), names the
    terms of the payoff rule that made the difference, what the actor expected the
    others to do (if it reasons about them) and the branch odds it foresaw (withheld
    for the branches in ``hide``: those the room has still to predict).
    """
    i = model.compiled.actor_index(actor_id)
    actions = model.compiled.actors[i].actions
    decision = record.decisions[actor_id]
    choice = int(decision.choice[run])
    if choice < 0:
        return "no action was open"
    scores = decision.scores[:, run]
    feasible = np.flatnonzero(decision.feasible[:, run])
    best = _best(scores, feasible, choice)
    if decision.overridden:
        rule_p = float(decision.probabilities[choice, run])
        text = f"chosen by a person; its rule gave this p {rule_p:.2f}"
        gap = float(scores[best] - scores[choice])
        if gap > 1e-9:
            text += f" ({actions[best].id} scored {gap:.2f} higher)"
        return text
    bound = int(decision.bound[run])
    if bound >= 0:
        return f"bound by commitment '{model.compiled.commitments[bound].id}'"
    reasoning = record.reasoning
    probability = float(decision.probabilities[choice, run])
    others = [int(a) for a in feasible if a != choice]
    if not others:
        return "the only open option"
    strategy = decision.strategy
    expect = strategy.expected if strategy is not None else [None] * len(model.actors)
    if best != choice:
        other = best
        gap = float(scores[best] - scores[choice])
        head = f"drawn with p {probability:.2f}; {actions[best].id} scored {gap:.2f} higher"
        why = _differences(reasoning, i, best, choice, expect, run) if reasoning else []
    else:
        other = max(others, key=lambda a: scores[a])
        gap = float(scores[choice] - scores[other])
        head = f"best score (p {probability:.2f}), {gap:.2f} above {actions[other].id}"
        why = _differences(reasoning, i, choice, other, expect, run) if reasoning else []
        if not why and gap < 0.005:
            head = f"no option changes what it values; drawn with p {probability:.2f}"
    parts = [head + (": " + "; ".join(why) if why else "")]
    if reasoning is not None:
        expected = _expectations(model, reasoning, i, decision, run)
        if expected:
            parts.append(expected)
    foresaw = _foresight(model, i, decision, choice, other, run, hide)
    if foresaw:
        parts.append(foresaw)
    if strategy is not None and strategy.unconverged is not None and strategy.unconverged[run]:
        parts.append("the round's equilibrium was not found: these are the last iterate's odds")
    return "; ".join(parts)


def words(identifier: str) -> str:
    """An id in plain words: ``press_ukraine`` -> ``press ukraine``."""
    return identifier.replace("_", " ")


def _plain_driver(
    label: str,
    change: float | None,
    gap: float,
    other: str,
    titles: dict[str, str] | None = None,
    subject: str = "it",
    odds_moved: set[str] | frozenset[str] = frozenset(),
) -> str:
    """One reason in plain words; ``gap`` > 0 favours the choice, < 0 the alternative.

    A state variable is named by its metric's title where ``titles`` has one.
    ``subject`` is what "it" would stand for (the option that scored higher), named
    where "it" could be read as the move made. ``odds_moved``: the branches and injects
    whose odds the two options change (:func:`_odds_moved`).
    """
    if change is not None:
        more = "more" if change > 0 else "less"
        name = (titles or {}).get(label) or words(label)
        text = f"{more} {name} ({change:+.2g})"
        return text if gap > 0 else f"though {subject} means {text}"
    if label.startswith("foresight of "):
        event = label[len("foresight of ") :]
        branch = words(event)
        if event not in odds_moved:
            # Same odds either way: what differs is what the outcomes are worth after
            # each option ("likelier" beside "95% (95% if stonewall)" read as untrue).
            return (
                f"the prospect of {branch} favoured it"
                if gap > 0
                else f"though the prospect of {branch} favoured {other}"
            )
        # "Better odds for the summit" read as "likelier to succeed" where the actor
        # wanted it to collapse: say whose odds got better.
        if gap > 0:
            return f"{branch} likelier to go its way"
        return f"though {other} made {branch} likelier to go its way"
    if label == "cost":
        return f"{subject} costs less" if gap > 0 else f"though {subject} costs more"
    text = {
        "commitment bonus": "a commitment it made",
        "payoff expression": "what it values",
        "ending payoff": "how the game may end",
    }.get(label, words(label))
    return f"{text} favoured it" if gap > 0 else f"though {text} favoured {other}"


def plain_reason(
    model: WargameModel,
    record: RoundRecord,
    actor_id: str,
    run: int = 0,
    hide: frozenset[str] = frozenset(),
) -> str:
    """A short reason in plain words, for a projector or a phone.

    The same ingredients as :func:`reason` (the choice against the best alternative,
    what moved the score, what the actor expected the others to do, the branch odds it
    foresaw), without scores, weights or jargon: ``rather than press ukraine: summit
    likelier to go its way, more economic track (+0.5); expected RU energy diplomacy;
    summit success 59% (56% if press ukraine)``. The odds of a branch in ``hide`` (one the
    room has still to predict) are withheld.
    """
    i = model.compiled.actor_index(actor_id)
    actions = model.compiled.actors[i].actions
    decision = record.decisions[actor_id]
    choice = int(decision.choice[run])
    if choice < 0:
        return "nothing was open to it"
    scores = decision.scores[:, run]
    feasible = np.flatnonzero(decision.feasible[:, run])
    best = _best(scores, feasible, choice)
    if decision.overridden:
        rule_p = float(decision.probabilities[choice, run])
        text = f"chosen by people; its rule gave it {rule_p:.0%}"
        if best != choice:
            text += f" and preferred {words(actions[best].id)}"
        return text
    bound = int(decision.bound[run])
    if bound >= 0:
        return f"bound by its commitment {words(model.compiled.commitments[bound].id)}"
    others = [int(a) for a in feasible if a != choice]
    if not others:
        return "its only open option"
    reasoning = record.reasoning
    strategy = decision.strategy
    expect = strategy.expected if strategy is not None else [None] * len(model.actors)
    probability = float(decision.probabilities[choice, run])
    if best != choice:
        other = best
        # The reason follows the actor and its move ("UA lobby_europe by chance (12%),
        # though ..."): each head reads on from the move, as "rather than hold" does.
        head = f"by chance ({probability:.0%}), though {words(actions[best].id)} looked better"
        items = _difference_items(reasoning, i, best, choice, expect, run)[:2] if reasoning else []
    else:
        other = max(others, key=lambda a: scores[a])
        head = f"rather than {words(actions[other].id)}"
        items = _difference_items(reasoning, i, choice, other, expect, run)[:2] if reasoning else []
        if not items and float(scores[choice] - scores[other]) < 0.005:
            head = f"by chance ({probability:.0%}): nothing it values was at stake"
    # The drivers compare the higher-scoring option with the other: a driver against it
    # favoured the option it was compared with.
    alternative = words(actions[other].id) if best == choice else words(actions[choice].id)
    titles = variable_titles(model.compiled, mid_sentence=True)
    # "EU back ukraine by chance (30%), though hold looked better: it costs less" left
    # "it" to be guessed (a trial): the first reason names the option that looked better.
    named = words(actions[best].id) if best != choice else "it"
    # What favoured the higher-scoring option first, then the "though": "though hold
    # looked better: though hold means less ..., it costs less" read twice "though".
    items = sorted(items, key=lambda item: item[3] <= 0)
    moved = _odds_moved(model, decision, choice, other, run)
    drivers = [
        _plain_driver(label, change, gap, alternative, titles, named if k == 0 else "it", moved)
        for k, (label, change, _, gap) in enumerate(items)
    ]
    parts = [head + (": " + ", ".join(drivers) if drivers else "")]
    if reasoning is not None:
        expected = _expectations(model, reasoning, i, decision, run).removesuffix(" ...")
        if expected:
            parts.append(words(", ".join(expected.split(", ")[:2])))
    foresaw = _foresight(model, i, decision, choice, other, run, hide)
    if foresaw:
        parts.append(words(foresaw.replace("foresaw ", "")))
    return "; ".join(parts)


def _fit(line: str, width: int, indent: int = 6) -> list[str]:
    """The line as it is if it fits, else wrapped with a hanging indent (nothing is cut)."""
    if len(line) <= width:
        return [line]
    lead = len(line) - len(line.lstrip(" "))
    return textwrap.wrap(
        line,
        width=width,
        initial_indent="",
        subsequent_indent=" " * min(lead + indent, width // 2),
        break_on_hyphens=False,
    ) or [line[:width]]


def round_view(
    model: WargameModel, record: RoundRecord, run: int = 0, hide: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Everything a round shows, as plain data (the text, Markdown and HTML all use it).

    Args:
        model: The model that played the round (with its history kept).
        record: The round.
        run: Which run of the block.
        hide: Branches whose odds the reasons withhold (the room has still to predict
            them).

    Returns:
        A dict with ``round``, ``rounds``, ``date``, ``injects`` (id, text, prompt),
        ``branches`` (the branches that resolve this round: id, text, prompt, outcome,
        outcome text), ``actors`` (id, name, chosen, overridden, options, reason) and
        ``changes`` ((name, before, after, unit), from the start of the round, before
        injects, to its end).
    """
    compiled = model.compiled
    by_id = {i.id: i for i in compiled.injects}
    injects = [
        {"id": i, "text": by_id[i].text, "prompt": by_id[i].prompt or ""}
        for i in record.injects[run]
    ]
    branches = []
    for branch, chosen in resolved_branches(compiled, record, run):
        decided = ""
        found = record.decided.get(branch.id)
        if branch.decided_by is not None and found is not None:
            odds, by_people = found
            who = compiled.actors[branch.decided_by].id
            if by_people:
                decided = (
                    f"{who}'s seat chose it (its rule: "
                    + ", ".join(f"{o.id} {odds[k, run]:.0%}" for k, o in enumerate(branch.outcomes))
                    + ")"
                )
            else:
                decided = (
                    f"{who} chose it with p {odds[branch.outcomes.index(chosen), run]:.2f} ("
                    + ", ".join(f"{o.id} {odds[k, run]:.0%}" for k, o in enumerate(branch.outcomes))
                    + ")"
                )
        branches.append(
            {
                "id": branch.id,
                "text": branch.text,
                "prompt": branch.prompt or "",
                "outcome": chosen.id,
                "outcome_text": chosen.text,
                "decided": decided,
            }
        )
    actors = []
    for actor in compiled.actors:
        decision = record.decisions[actor.id]
        choice = int(decision.choice[run])
        actors.append(
            {
                "id": actor.id,
                "name": actor.name,
                "chosen": actor.actions[choice].id if choice >= 0 else None,
                "overridden": bool(decision.overridden),
                "options": [
                    row for row in choice_rows(model, record, actor.id, run) if row["feasible"]
                ],
                "reason": reason(model, record, actor.id, run, hide),
                "plain": plain_reason(model, record, actor.id, run, hide),
            }
        )
    before = record.before or record.observed
    return {
        "round": record.round,
        "rounds": compiled.rounds,
        "date": model.date_of(record.round).isoformat(),
        "injects": injects,
        "branches": branches,
        "actors": actors,
        "changes": state_changes(model, before, record.after, run),
    }


def branch_announcements(model: WargameModel, branch_ids: list[str]) -> list[dict[str, Any]]:
    """The id, text and prompt of branches, to announce them before they resolve.

    ``chance`` marks a branch that comes up only by chance (a ``hazard``): its text
    tells an event that may not happen, so it is told when it does.
    """
    by_id = {b.id: b for b in model.compiled.branches}
    return [
        {
            "id": b,
            "text": by_id[b].text,
            "prompt": by_id[b].prompt or "",
            "chance": by_id[b].hazard is not None,
        }
        for b in branch_ids
    ]


def format_round_head(
    view: dict[str, Any], width: int = 80, due: list[dict[str, Any]] | None = None
) -> str:
    """What the room sees before anyone chooses: date, injects, prompts, branches due.

    Args:
        view: From :func:`round_view`.
        width: The widest a line may be.
        due: The branches to announce (from :func:`branch_announcements`); by default
            the branches the round resolved, for a round already played. Before the
            room chooses, pass only the branches due on the real state, never those a
            rule-played preview happened to resolve.
    """
    lines = _fit(f"Round {view['round']} of {view['rounds']}, {view['date']}", width)
    wrap = textwrap.TextWrapper(width=width, initial_indent="  ", subsequent_indent="    ")
    for inject in view["injects"]:
        lines += wrap.wrap(f"Inject {inject['id']}: {inject['text']}".rstrip(": "))
        if inject["prompt"]:
            lines += wrap.wrap(f"Prompt: {inject['prompt']}")
    for branch in view["branches"] if due is None else due:
        if branch.get("chance"):
            lines += wrap.wrap(f"Branch {branch['id']} may come up this round, by chance.")
            continue
        if branch["text"] or branch["prompt"]:
            lines += wrap.wrap(f"Branch {branch['id']}: {branch['text']}".rstrip(": "))
        if branch["prompt"]:
            lines += wrap.wrap(f"Prompt: {branch['prompt']}")
    return "\n".join(lines)


def format_options(
    options: list[dict[str, Any]], width: int = 80, numbered: bool = False, start: int = 1
) -> str:
    """An actor's feasible options as aligned rows: action, score, probability.

    Args:
        options: Rows from :func:`choice_rows` (feasible ones).
        width: The widest a line may be.
        numbered: Number the rows (for a person choosing by number).
        start: The first row's number.
    """
    column = max([28, *(len(row["action"]) for row in options)])
    column = min(column, max(8, width - 34))
    lines = []
    for n, row in enumerate(options, start):
        mark = ">" if row.get("chosen") else " "
        label = f"{n}. " if numbered else ""
        numbers = f"score {row['score']:>8.3f}   p {row['probability']:.3f}"
        line = f"    {mark} {label}{row['action']:<{column}} {numbers}"
        if len(line) <= width:
            lines.append(line)
        else:
            lines += _fit(f"    {mark} {label}{row['action']}", width)
            lines.append(f"{'':>8}{numbers}")
    return "\n".join(lines)


def format_round_body(
    view: dict[str, Any], width: int = 80, announced: set[str] | None = None
) -> str:
    """What happened: each actor's options and choice with a reason, changes, outcomes.

    Args:
        view: From :func:`round_view`.
        width: The widest a line may be.
        announced: Branches whose text the room saw before choosing; any other branch
            that resolved (one the room's choice triggered) is told with its text and
            prompt first. ``None``: all were announced.
    """
    lines: list[str] = []
    for actor in view["actors"]:
        lines += _fit(
            f"  {actor['id']} ({actor['name']}) chooses {actor['chosen'] or '(none)'}", width
        )
        lines.append(format_options(actor["options"], width))
        lines += textwrap.wrap(
            "why: " + actor["reason"],
            width=width,
            initial_indent="      ",
            subsequent_indent="        ",
        )
    if view["changes"]:
        lines.append("  State changes:")
        for name, a, b, unit in view["changes"]:
            lines += _fit(f"    {name:<30} {a:>10} -> {b:<10} {unit}".rstrip(), width, indent=4)
    lines += _branch_lines(view, width, announced)
    return "\n".join(line for line in lines if line)


def _branch_lines(view: dict[str, Any], width: int, announced: set[str] | None) -> list[str]:
    """The branches a round resolved; the unannounced ones with their text and prompt."""
    wrap = textwrap.TextWrapper(width=width, initial_indent="  ", subsequent_indent="    ")
    lines = []
    for branch in view["branches"]:
        if announced is not None and branch["id"] not in announced:
            if branch["text"]:
                lines += wrap.wrap(f"Branch {branch['id']}: {branch['text']}")
            if branch["prompt"]:
                lines += wrap.wrap(f"Prompt: {branch['prompt']}")
        outcome = f"Branch {branch['id']}: {branch['outcome']}. {branch['outcome_text']}"
        lines += wrap.wrap(outcome.rstrip())
        if branch.get("decided"):
            lines += wrap.wrap(f"  ({branch['decided']})")
    return lines


def _clipped(text: str, width: int) -> str:
    """One line of at most ``width`` columns, ending in an ellipsis if it was longer."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def format_round_compact(
    view: dict[str, Any],
    width: int = 80,
    announced: set[str] | None = None,
    height: int = 25,
) -> str:
    """A played round on one screen (80 x 30 for alaska's busiest round).

    The heading, the injects by id, each actor's move with a plain reason (wrapped onto
    the lines below, aligned under the reasons, as far as the round still fits
    ``height`` lines; past that the longest reasons are shortened with an ellipsis: the
    details view has them in full), the state changes packed onto a few lines, and the
    branch outcomes (with the branch's text when it was not announced before the room
    chose).

    Args:
        view: From :func:`round_view`.
        width: The widest a line may be.
        announced: Branches whose text the room saw before choosing (``None``: all).
        height: The most lines the round may take.
    """
    head = _fit(f"Round {view['round']} of {view['rounds']}, {view['date']}", width)
    wrap = textwrap.TextWrapper(
        width=width, initial_indent="  ", subsequent_indent="    ", break_on_hyphens=False
    )
    if view["injects"]:
        head += wrap.wrap("Injects: " + ", ".join(i["id"] for i in view["injects"]))
    tail: list[str] = []
    if view["changes"]:
        packed = ", ".join(f"{name} {a}->{b}" for name, a, b, _ in view["changes"])
        changed = wrap.wrap("Changes: " + packed)
        if len(changed) > 5:
            changed = [*changed[:4], _clipped(changed[4], width - 9) + " (t: all)"]
        tail += changed
    tail += _branch_lines(view, width, announced)
    if any(a["overridden"] for a in view["actors"]):
        tail.append("  * chosen by people")
    idw = max(len(a["id"]) for a in view["actors"])
    movew = min(22, max(len(a["chosen"] or "-") for a in view["actors"]))
    column = 1 + 1 + idw + 1 + movew + 1
    room = max(1, height - len(head) - len(tail))

    def moves(most: int) -> list[str]:
        found = []
        for actor in view["actors"]:
            mark = "*" if actor["overridden"] else " "
            move = (actor["chosen"] or "-").ljust(movew)
            lead = f" {mark}{actor['id']:<{idw}} {move} "
            if column > width - 20:  # too narrow to align: one clipped line
                found.append(_clipped(lead + actor["plain"], width))
                continue
            lines = textwrap.wrap(
                actor["plain"],
                width=width - column,
                break_on_hyphens=False,
                max_lines=most,
                placeholder=" …",
            ) or [""]
            found.append(lead + lines[0])
            found += [" " * column + line for line in lines[1:]]
        return found

    most = 6
    body = moves(most)
    while len(body) > room and most > 1:
        most -= 1
        body = moves(most)
    return "\n".join([*head, *body, *tail])


def format_state(model: WargameModel, width: int = 80, run: int = 0) -> str:
    """Every state variable's value now, with its unit, one per line."""
    compiled = model.compiled
    when = f"after round {model.round}" if model.round else "before round 1"
    lines = [f"State {when} of {compiled.rounds}:"]
    for i, name in enumerate(compiled.state_names):
        value = _value(model, i, float(model.ctx.state[i][run]))
        line = f"    {name:<30} {value:>10}   {compiled.state_units[i]}".rstrip()
        lines += _fit(line, width, indent=4)
    return "\n".join(lines)


def format_round(model: WargameModel, record: RoundRecord, run: int = 0, width: int = 80) -> str:
    """One round as text: injects, each actor's options and choice, changes, branches."""
    view = round_view(model, record, run)
    return format_round_head(view, width) + "\n" + format_round_body(view, width)


def format_ending(model: WargameModel, run: int = 0, width: int = 80) -> str:
    """The ending of a finished game and each actor's total payoff."""
    compiled = model.compiled
    assert model.ending is not None
    ending = compiled.endings[int(model.ending[run])]
    played = int(model.rounds_played[run])
    when = f" in round {played} of {compiled.rounds}" if played < compiled.rounds else ""
    lines = [*_fit(f"Ending{when}: {ending.title} ({ending.id})", width, indent=2)]
    lines.append("Total payoffs:" + (" (ending payoffs included)" if ending.payoffs else ""))
    for a, actor in enumerate(compiled.actors):
        line = f"  {actor.id:<8} {model.payoff_total[a][run]:>10.3f}  {actor.name}"
        lines += _fit(line, width, indent=2)
    return "\n".join(lines)


def format_game(model: WargameModel, run: int = 0, width: int = 80) -> str:
    """A whole finished game (or the rounds played so far) as text."""
    run_index = int(model.ctx.runs[run])
    title = f"{model.compiled.title} ({model.compiled.id}), seed {model.seed}, run {run_index}"
    parts = ["\n".join(_fit(title, width, indent=2))]
    for record in model.history:
        parts.append(format_round(model, record, run, width))
    if model.ending is not None:
        parts.append(format_ending(model, run, width))
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
                **_reasoning_json(model, record, actor.id, run),
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
        "decided": {
            b: {
                "by": compiled.actors[
                    compiled.branches[[x.id for x in compiled.branches].index(b)].decided_by
                ].id,  # type: ignore[index]
                "people": people,
                "probabilities": {
                    o.id: float(odds[k, run])
                    for k, o in enumerate(
                        compiled.branches[[x.id for x in compiled.branches].index(b)].outcomes
                    )
                },
            }
            for b, (odds, people) in record.decided.items()
            if record.branches.get(b) is not None and record.branches[b][run] >= 0
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


def _reasoning_json(
    model: WargameModel, record: RoundRecord, actor_id: str, run: int
) -> dict[str, Any]:
    """What an actor expected of the others and the branch odds it foresaw, as data."""
    i = model.compiled.actor_index(actor_id)
    actor = model.compiled.actors[i]
    decision = record.decisions[actor_id]
    out: dict[str, Any] = {"reason": reason(model, record, actor_id, run)}
    strategy = decision.strategy
    if strategy is None:
        return out
    if strategy.unconverged is not None:
        out["unconverged"] = bool(strategy.unconverged[run])
    expected = {}
    for j, mix in enumerate(strategy.expected):
        if mix is None:
            continue
        other = model.compiled.actors[j]
        expected[other.id] = {
            a.id: float(mix[x, run]) for x, a in enumerate(other.actions) if mix[x, run] > 0
        }
    if expected:
        out["expected"] = expected
    foresaw = {}
    for item in strategy.scored.foreseen:
        if item.inject:
            inject = model.compiled.injects[item.branch]
            if item.chance is not None:
                foresaw[inject.id] = {
                    "round": item.round,
                    "chance": {
                        action.id: float(item.chance[a, run])
                        for a, action in enumerate(actor.actions)
                        if item.due[a, run]
                    },
                }
            continue
        branch = model.compiled.branches[item.branch]
        by_action = {}
        for a, action in enumerate(actor.actions):
            if item.due[a, run]:
                by_action[action.id] = {
                    o.id: float(item.probabilities[a, k, run])
                    for k, o in enumerate(branch.outcomes)
                }
        if by_action:
            foresaw[branch.id] = {"round": item.round, "if": by_action}
            if item.chance is not None:
                foresaw[branch.id]["chance"] = {
                    action.id: float(item.chance[a, run])
                    for a, action in enumerate(actor.actions)
                    if item.due[a, run]
                }
    if foresaw:
        out["foresaw"] = foresaw
    return out

"""A team's briefing: the scenario, who it plays, what its actor values, its options.

Before round 1 a team needs to know what game it is in and what its seat wants. The
briefing says it in words, from the scenario itself: the title and description, the
actor's name, its payoff rule (each weighted state variable as "more X is better",
each term of a payoff expression as a phrase, one-off payoffs at an ending), and every
action with its description, its cost and when it is open.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from sim.language.compiler import CompiledActor, CompiledScenario


def _words(identifier: str) -> str:
    return identifier.replace("_", " ")


def _signed(value: float) -> str:
    text = f"{value:+.3g}"
    return text.replace("-", "−")


def _terms(node: ast.expr, sign: int = 1) -> list[tuple[ast.expr, int]]:
    """The added terms of an expression, each with its sign."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        right = -sign if isinstance(node.op, ast.Sub) else sign
        return _terms(node.left, sign) + _terms(node.right, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _terms(node.operand, -sign)
    return [(node, sign)]


def _condition(node: ast.expr) -> str | None:
    """``summit == 'success'`` as ``summit is success``; None if not that simple."""
    if (
        isinstance(node, ast.Compare)
        and len(node.ops) == 1
        and isinstance(node.left, ast.Name)
        and isinstance(node.comparators[0], ast.Constant)
    ):
        op = {ast.Eq: "is", ast.NotEq: "is not", ast.Gt: ">", ast.Lt: "<", ast.GtE: "≥"}.get(
            type(node.ops[0])
        )
        if op is not None:
            value = node.comparators[0].value
            shown = _words(value) if isinstance(value, str) else f"{value:g}"
            return f"{_words(node.left.id)} {op} {shown}"
    return None


def _number(node: ast.expr) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _number(node.operand)
        return None if inner is None else -inner
    return None


def _term_in_words(node: ast.expr, sign: int, state: set[str]) -> str:
    """One term of a payoff expression as a phrase."""
    parts = []
    while isinstance(node, ast.IfExp):
        condition = _condition(node.test)
        value = _number(node.body)
        if condition is None or value is None:
            break
        if value:
            parts.append(f"{_signed(sign * value)} while {condition}")
        node = node.orelse
    else:
        value = _number(node)
        if value:
            parts.append(f"{_signed(sign * value)} otherwise")
        if parts:
            return "; ".join(parts)
    names = sorted(
        {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in state},
    )
    grows = ", ".join(_words(n) for n in names) or "the situation"
    lead = "; ".join(parts) + ("; otherwise " if parts else "")
    return f"{lead}a term {'rising' if sign > 0 else 'falling'} with {grows}"


def variable_titles(compiled: CompiledScenario, *, mid_sentence: bool = False) -> dict[str, str]:
    """State variables named by their titles ("Arctic LNG 2 output restarted").

    A metric's title where a metric of the variable has one, or else the variable's own
    ``title``; a variable with neither is left out (callers write its id in words).

    Args:
        compiled: The scenario.
        mid_sentence: The titles as put inside a sentence ("less pressure on Ukraine"),
            by :func:`title_mid_sentence`; as written where a title starts a line.
    """
    titles = {m.id: m.title for m in compiled.metrics if m.title and m.title != m.id}
    for name, var in compiled.loaded.spec.state.items():
        if var.title and name not in titles:
            titles[name] = var.title
    if not mid_sentence:
        return titles
    names = _names(compiled)
    return {variable: title_mid_sentence(title, names) for variable, title in titles.items()}


#: Words that are names wherever they stand (nationalities, regions): a scenario's own
#: text may use one only to start a title ("Chinese presence" read "more chinese
#: presence" in a trial).
PROPER_WORDS = frozenset(
    [
        "African",
        "American",
        "Arab",
        "Arabian",
        "Arctic",
        "Asian",
        "Atlantic",
        "Australian",
        "Baltic",
        "Belarusian",
        "British",
        "Canadian",
        "Caspian",
        "Chinese",
        "Danish",
        "Dutch",
        "English",
        "Estonian",
        "European",
        "Finnish",
        "French",
        "Georgian",
        "German",
        "Greek",
        "Houthi",
        "Indian",
        "Indo-Pacific",
        "Iranian",
        "Iraqi",
        "Israeli",
        "Italian",
        "Japanese",
        "Korean",
        "Kurdish",
        "Latvian",
        "Lithuanian",
        "Mediterranean",
        "Moldovan",
        "Nordic",
        "Norwegian",
        "Pacific",
        "Pakistani",
        "Palestinian",
        "Polish",
        "Russian",
        "Saudi",
        "Serbian",
        "Siberian",
        "Soviet",
        "Spanish",
        "Swedish",
        "Syrian",
        "Taiwanese",
        "Turkish",
        "Ukrainian",
        "Yemeni",
    ]
)


def title_mid_sentence(title: str, names: frozenset[str] = frozenset()) -> str:
    """A title as put inside a sentence: its first letter lower case, unless a name.

    The first word keeps its capital where it is an acronym (its second letter upper
    case too: "US aid", "DPRK shells"), begins a name of several capitalised words
    ("East Asian arming", "Arctic LNG 2"), is one of ``names`` ("Japan's", "Russian"),
    words the scenario capitalises mid-sentence, or is a nationality or region
    (:data:`PROPER_WORDS`: "Chinese presence").

    Args:
        title: A title, capitalised to start a line ("Pressure on Ukraine").
        names: Words that keep their capital (:func:`_names`).
    """
    word = re.match(r"[\w-]+", title)
    if word is None:
        return title
    first = word.group(0)
    if len(first) > 1 and first[1].isupper():
        return title
    if re.match(r"[\w'-]+ [A-Z]", title):
        return title
    if first in names or first in PROPER_WORDS:
        return title
    return title[0].lower() + title[1:]


def _names(compiled: CompiledScenario) -> frozenset[str]:
    """Capitalised words the scenario's own text uses mid-sentence: names, not starts.

    "Russian" in "the Russian manpower gap" or "Japan" in "Tokyo and Japan's allies"
    (after a lower-case word or a comma) is a name; "Pressure" only ever starts a title
    or a sentence.
    """
    texts: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list | tuple):
            for item in value:
                collect(item)

    collect(compiled.loaded.spec.model_dump(warnings=False))
    found = re.findall(r"[a-z,;:)] ([A-Z][\w-]*)", "\n".join(texts))
    return frozenset(found)


def values_in_words(compiled: CompiledScenario, actor: CompiledActor) -> list[str]:
    """What an actor values, one phrase each, for a team that plays it.

    Args:
        compiled: The scenario.
        actor: One of its actors.
    """
    lines = []
    names, units = compiled.state_names, compiled.state_units
    # Named as the projector's changes name them: by the metric's title where one has it.
    titles = variable_titles(compiled, mid_sentence=True)
    for index, weight in sorted(actor.weights, key=lambda w: -abs(w[1])):
        better = "more" if weight > 0 else "less"
        unit = units[index] or "unit"
        name = titles.get(names[index]) or _words(names[index])
        lines.append(f"{better} {name} is better ({_signed(weight)} a round per {unit})")
    expression = actor.payoff_expression
    if expression is not None:
        state = set(names)
        try:
            tree = ast.parse(" ".join(expression.text.split()), mode="eval")
        except SyntaxError:  # pragma: no cover - a compiled expression parses
            tree = None
        if tree is not None:
            lines += [
                f"each round, {_term_in_words(term, sign, state)}"
                for term, sign in _terms(tree.body)
            ]
    index = compiled.actor_index(actor.id)
    names = _names(compiled)
    for ending in compiled.endings:
        if index in ending.payoffs:
            amount = ending.payoffs[index]
            value = _signed(amount.constant) if amount.constant is not None else amount.text
            title = title_mid_sentence(ending.title, names)
            lines.append(f"once, if the game ends in {title}: {value}")
    if not lines:
        lines.append("nothing in the state: every option is scored by its cost alone")
    lines.append("each option's cost counts against it")
    return lines


def plain_condition(text: str) -> str:
    """A condition in plainer words: ``summit != 'collapse'`` -> ``summit is not collapse``."""
    text = " ".join(text.split())
    for symbol, said in (("!=", " is not "), ("==", " is "), (">=", " ≥ "), ("<=", " ≤ ")):
        text = text.replace(symbol, said)
    text = text.replace("'", "").replace('"', "")
    return " ".join(_words(text).split())


def briefing(compiled: CompiledScenario, actor_id: str) -> dict[str, Any]:
    """A team's briefing as plain data.

    Args:
        compiled: The scenario.
        actor_id: The actor the team plays.

    Returns:
        ``title``, ``description``, ``rounds``, ``round_days``, ``start``, ``actor``,
        ``name``, ``values`` (phrases), ``options`` (id, description, cost, when: the
        condition under which it is open, or ``""``), ``others`` (the other actors'
        ids and names).
    """
    meta = compiled.loaded.spec.scenario
    actor = compiled.actors[compiled.actor_index(actor_id)]
    options = []
    for action in actor.actions:
        cost = action.cost.constant
        options.append(
            {
                "id": action.id,
                "description": " ".join(action.description.split()),
                "cost": (f"{cost:g}" if cost is not None else "depends on the situation"),
                "when": plain_condition(action.when.text) if action.when is not None else "",
            }
        )
    return {
        "title": compiled.title,
        "description": " ".join(meta.description.split()),
        "rounds": compiled.rounds,
        "round_days": meta.round_days,
        "start": meta.start_date.isoformat(),
        "actor": actor.id,
        "name": actor.name,
        "values": values_in_words(compiled, actor),
        "options": options,
        "others": [{"id": a.id, "name": a.name} for a in compiled.actors if a.id != actor.id],
    }

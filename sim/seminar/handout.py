"""Handouts: a whole seminar game as a document, in Markdown or as one HTML file.

After a session the lecturer hands out what happened: every round's injects and
prompts, each actor's options with scores and probabilities, its choice and why, the
state before and after, the branches taken, the ending, the payoffs and, if the room
made predictions, how they scored. Both formats carry the same content, built from
:func:`sim.seminar.transcript.round_view`; the HTML file is self-contained (inline style, no
scripts, no external assets) and every piece of text in it is escaped.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from sim.batch.options import settings_as_written
from sim.errors import OptionsError
from sim.seminar.debrief import (
    StudentForecast,
    debrief,
    debrief_tables,
    leaderboard,
    leaderboard_table,
    score_students,
)
from sim.seminar.forecast import DEFAULT_CONTINUATIONS
from sim.seminar.game import DEFAULT_MC_RUNS, Game, PredictionScore
from sim.seminar.transcript import round_view, state_value

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#"})


def _announcements(view: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A round's injects, then the branches due, each with its label, in reading order."""
    return [("Inject", i) for i in view["injects"]] + [("Branch", b) for b in view["branches"]]


def _md(text: str) -> str:
    """Escape text for Markdown (inline), keeping it on one line."""
    return " ".join(str(text).split()).translate(_MD_SPECIAL)


def _code(text: str) -> str:
    return f"`{text}`" if "`" not in text else _md(text)


def _number(value: float) -> str:
    return f"{value:.3f}"


def _number_or_name(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _people_decisions(game: Game) -> list[dict[str, Any]]:
    """The branches people decided (in a deciding actor's seat) that came up as decided."""
    compiled = game.compiled
    ids = [b.id for b in compiled.branches]
    found = []
    for (round_, branch_id), outcome in sorted(game.outcomes.items()):
        b = ids.index(branch_id)
        if round_ > game.round or int(game.model.branch_round[b][0]) != round_:
            continue  # not played yet, or the branch did not come up that round
        decider = compiled.actors[compiled.branches[b].decided_by]  # type: ignore[index]
        found.append(
            {"round": round_, "branch": branch_id, "actor": decider.id, "outcome": outcome}
        )
    return found


def document(
    game: Game, mc_runs: int = DEFAULT_MC_RUNS, students: list[StudentForecast] | None = None
) -> dict[str, Any]:
    """The content of a handout as plain data (both formats render this).

    Args:
        game: The game, played as far as the handout should go.
        mc_runs: Runs of the debrief's batch, and continuations behind the model's forecasts.
        students: The students' forecasts a classroom saved with the game (their
            leaderboard ends the debrief).
    """
    compiled = game.compiled
    meta = compiled.loaded.spec.scenario
    model = game.model
    rounds = [round_view(model, record) for record in game.history]
    ending = None
    payoffs = []
    if model.ending is not None:
        end = compiled.endings[int(model.ending[0])]
        ending = {"id": end.id, "title": end.title}
        payoffs = [
            {"id": a.id, "name": a.name, "payoff": float(model.payoff_total[i][0])}
            for i, a in enumerate(compiled.actors)
        ]
    scores = game.score_predictions(mc_runs) if game.finished and game.predictions else []
    continuations = min(mc_runs, DEFAULT_CONTINUATIONS)
    board = leaderboard(score_students(game, students, continuations)) if students else []
    tables = None
    if game.finished:
        data = debrief(game, mc_runs, continuations)
        data["leaderboard"] = board
        tables = debrief_tables(data)
    elif board:
        tables = {"ending": None, "leaderboard": leaderboard_table(board)}
    final = [
        (name, state_value(model, i, float(model.ctx.state[i][0])), compiled.state_units[i])
        for i, name in enumerate(compiled.state_names)
    ]
    return {
        "title": compiled.title,
        "id": compiled.id,
        "description": " ".join(meta.description.split()),
        "path": compiled.loaded.path,
        "sha256": compiled.sha256,
        "seed": game.seed,
        "run": game.run,
        "results": game.results,
        # As written: a categorical value or a reasoning by name.
        "overrides": settings_as_written(game.compiled, dict(game.overrides)),
        "rounds_total": compiled.rounds,
        "round_days": meta.round_days,
        "start_date": meta.start_date.isoformat(),
        "choices": [
            {"round": r, "actor": actor, "action": action}
            for (r, actor), action in sorted(game.choices.items())
            if r <= game.round
        ],
        "decisions": _people_decisions(game),
        "initial": game.initial_state(),
        "final": final,
        "rounds": rounds,
        "ending": ending,
        "payoffs": payoffs,
        "scores": scores,
        "played_to": game.round,
        "debrief": tables,
    }


_DEBRIEF_TITLES = {
    "endings": "How the odds of each ending moved",
    "payoffs": "Payoffs against the batch",
    "params": "The hidden parameters of this game",
    "leaderboard": "Students' predictions",
}
_DEBRIEF_NOTES = {
    "endings": "The batch of games from the start, then the model's outlook after each round "
    "of this game (r0 is before round 1).",
    "leaderboard": "Mean Brier score of each student's forecasts (0 is perfect, 2 is sure and "
    "wrong), and the model's forecast when they were asked.",
}


# --- Markdown -------------------------------------------------------------------------


def _md_table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    align = align or "l" * len(header)
    marks = {"l": "---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(marks[a] for a in align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _md_scores(scores: list[PredictionScore]) -> list[str]:
    lines = [
        "## Predictions",
        "",
        "Brier score: the sum over outcomes of (p − 1 if it happened, else p − 0)²; "
        "0 is perfect, 2 is sure and wrong. The model's probability is its forecast when "
        "the question was asked: continuations of the game from the round before.",
        "",
    ]
    for score in scores:
        p = score.prediction
        went = f"went **{_md(score.outcome)}**" if score.outcome else "did not resolve"
        lines += [f"**{_md(p.branch)}** (asked before round {p.round}) {went}.", ""]
        rows = [
            [
                _code(o) + (" ✔" if o == score.outcome else ""),
                f"{prob:.2f}",
                f"{score.model.get(o, 0.0):.2f}",
            ]
            for o, prob in p.probabilities.items()
        ]
        if score.brier is not None:
            model_brier = "–" if score.model_brier is None else _number(score.model_brier)
            rows.append(["**Brier score**", _number(score.brier), model_brier])
        header = ["Outcome", "Room", f"Model ({score.model_runs:,} runs)"]
        lines += [*_md_table(header, rows, "lrr"), ""]
    return lines


def markdown(
    game: Game, mc_runs: int = DEFAULT_MC_RUNS, students: list[StudentForecast] | None = None
) -> str:
    """The game as a Markdown document.

    Args:
        game: The game, played as far as the handout should go.
        mc_runs: Runs of the debrief's batch, and continuations behind the model's forecasts.
        students: The students' forecasts saved with the game by a classroom.
    """
    doc = document(game, mc_runs, students)
    lines = [f"# {_md(doc['title'])}", ""]
    if doc["description"]:
        lines += [_md(doc["description"]), ""]
    facts = (
        f"Scenario {_code(doc['id'])} ({_md(doc['path'])}, sha256 {_code(doc['sha256'][:12])}), "
        f"seed {doc['seed']}, run {doc['run']}: {doc['rounds_total']} rounds of "
        f"{doc['round_days']} days from {doc['start_date']}."
    )
    lines += [facts, ""]
    if doc["results"]:
        lines += [f"Opened from the batch in {_md(doc['results'])}.", ""]
    if doc["overrides"]:
        fixed = ", ".join(f"{_code(k)} = {_number_or_name(v)}" for k, v in doc["overrides"].items())
        lines += [f"Fixed settings: {fixed}.", ""]
    if doc["choices"]:
        lines += ["Choices made by people:", ""]
        rows = [[str(c["round"]), _code(c["actor"]), _code(c["action"])] for c in doc["choices"]]
        lines += [*_md_table(["Round", "Actor", "Action"], rows, "rll"), ""]
    if doc["decisions"]:
        lines += ["Branches decided by people:", ""]
        rows = [
            [str(d["round"]), _code(d["branch"]), _code(d["actor"]), _code(d["outcome"])]
            for d in doc["decisions"]
        ]
        lines += [*_md_table(["Round", "Branch", "Decided by", "Outcome"], rows, "rlll"), ""]
    lines += ["## Starting state", ""]
    rows = [[_code(n), _md(v), _md(u)] for n, v, u in doc["initial"]]
    lines += [*_md_table(["Variable", "Value", "Unit"], rows, "lrl"), ""]
    for view in doc["rounds"]:
        lines += [f"## Round {view['round']} of {view['rounds']} · {view['date']}", ""]
        for label, item in _announcements(view):
            lines += [f"**{label} {_md(item['id'])}.** {_md(item['text'])}", ""]
            if item["prompt"]:
                lines += [f"> **Prompt:** {_md(item['prompt'])}", ""]
        lines += ["### Choices", ""]
        for actor in view["actors"]:
            chosen = _code(actor["chosen"]) if actor["chosen"] else "nothing"
            by = " (chosen by a person)" if actor["overridden"] else ""
            lines += [f"**{_md(actor['id'])}** ({_md(actor['name'])}) chooses {chosen}{by}.", ""]
            rows = [
                [
                    "▶" if row["chosen"] else "",
                    _code(row["action"]),
                    _md(row["description"]),
                    _number(row["score"]),
                    f"{row['probability']:.3f}",
                ]
                for row in actor["options"]
            ]
            lines += _md_table(["", "Option", "Description", "Score", "p"], rows, "cllrr")
            lines += ["", f"Why: {_md(actor['reason'])}", ""]
        if view["changes"]:
            lines += ["### State changes", ""]
            rows = [[_code(n), _md(a), _md(b), _md(u)] for n, a, b, u in view["changes"]]
            lines += [*_md_table(["Variable", "Before", "After", "Unit"], rows, "lrrl"), ""]
        for branch in view["branches"]:
            text = _md(branch["outcome_text"])
            lines += [f"**Outcome of {_md(branch['id'])}: {_md(branch['outcome'])}.** {text}", ""]
    if doc["rounds"]:
        lines += [f"## State after round {doc['played_to']}", ""]
        rows = [[_code(n), _md(v), _md(u)] for n, v, u in doc["final"]]
        lines += [*_md_table(["Variable", "Value", "Unit"], rows, "lrl"), ""]
    if doc["ending"]:
        ending = doc["ending"]
        lines += [f"## Ending: {_md(ending['title'])} ({_code(ending['id'])})", ""]
        rows = [[_code(p["id"]), _md(p["name"]), _number(p["payoff"])] for p in doc["payoffs"]]
        lines += [*_md_table(["Actor", "Name", "Total payoff"], rows, "llr"), ""]
    else:
        lines += [f"*Stopped after round {doc['played_to']} of {doc['rounds_total']}.*", ""]
    if doc["scores"]:
        lines += _md_scores(doc["scores"])
    if doc["debrief"]:
        tables = doc["debrief"]
        lines += ["## Debrief: this game against the model", ""]
        if tables["ending"]:
            lines += [_md(tables["ending"]), ""]
        for key, title in _DEBRIEF_TITLES.items():
            table = tables.get(key)
            if table is None:
                continue
            lines += [f"### {title}", ""]
            if key in _DEBRIEF_NOTES:
                lines += [_DEBRIEF_NOTES[key], ""]
            align = "".join(
                "r" if i in table["numeric"] else "l" for i in range(len(table["header"]))
            )
            rows = [[_md(c) for c in row] for row in table["rows"]]
            lines += [*_md_table([_md(h) for h in table["header"]], rows, align), ""]
    return "\n".join(lines).rstrip() + "\n"


# --- HTML -----------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.45; color: #1d1d1f; }
h1 { margin-bottom: .2rem; } h2 { border-bottom: 1px solid #ccc; margin-top: 2.2rem; }
table { border-collapse: collapse; margin: .4rem 0 .8rem; }
th, td { border: 1px solid #d0d0d0; padding: .2rem .6rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.chosen td { background: #e8f5e9; font-weight: 600; }
.prompt { border-left: 4px solid #b58900; background: #fdf6e3; padding: .3rem .8rem; }
.inject { color: #7a5b00; } .branch { color: #6c3483; }
.why { color: #555; font-style: italic; } code { background: #f3f3f3; padding: 0 .2rem; }
table.wide { font-size: .78rem; } table.wide th, table.wide td { padding: .15rem .3rem; }
@media screen and (max-width: 720px) {
  /* A phone: a wide table scrolls inside itself instead of the page. */
  body { margin: 1rem auto; padding: 0 .6rem; }
  table { display: block; overflow-x: auto; max-width: 100%; }
  td:nth-child(3) { min-width: 12em; }
}
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  table.wide { font-size: 7pt; } table.wide th, table.wide td { padding: 1px 3px; }
  tr, .prompt { break-inside: avoid; }
}
@page { size: A4; margin: 12mm; }
"""

#: A table of this many columns or more is set smaller (a round per column of the
#: debrief's odds: 15 columns for alaska), so it fits the width of a printed page.
WIDE_TABLE = 8


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _html_table(
    header: list[str], rows: list[list[str]], numeric: set[int], chosen: list[bool] | None = None
) -> str:
    """A table; ``header`` and ``rows`` hold already-escaped HTML."""
    opening = '<table class="wide">' if len(header) >= WIDE_TABLE else "<table>"
    # In a <thead>, a printed table split over pages repeats its header on each.
    out = [opening, "<thead><tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr></thead>"]
    for r, row in enumerate(rows):
        cls = ' class="chosen"' if chosen and chosen[r] else ""
        cells = "".join(
            f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        out.append(f"<tr{cls}>{cells}</tr>")
    out.append("</table>")
    return "\n".join(out)


def html_document(
    game: Game, mc_runs: int = DEFAULT_MC_RUNS, students: list[StudentForecast] | None = None
) -> str:
    """The game as one self-contained HTML file (every text escaped, no external assets).

    Args:
        game: The game, played as far as the handout should go.
        mc_runs: Runs of the debrief's batch, and continuations behind the model's forecasts.
        students: The students' forecasts saved with the game by a classroom.
    """
    doc = document(game, mc_runs, students)
    body = [f"<h1>{_e(doc['title'])}</h1>"]
    if doc["description"]:
        body.append(f"<p>{_e(doc['description'])}</p>")
    body.append(
        f"<p>Scenario <code>{_e(doc['id'])}</code> ({_e(doc['path'])}, sha256 "
        f"<code>{_e(doc['sha256'][:12])}</code>), seed {doc['seed']}, run {doc['run']}: "
        f"{doc['rounds_total']} rounds of {doc['round_days']} days from "
        f"{_e(doc['start_date'])}.</p>"
    )
    if doc["results"]:
        body.append(f"<p>Opened from the batch in {_e(doc['results'])}.</p>")
    if doc["overrides"]:
        fixed = ", ".join(
            f"<code>{_e(k)}</code> = {_e(_number_or_name(v))}" for k, v in doc["overrides"].items()
        )
        body.append(f"<p>Fixed settings: {fixed}.</p>")
    if doc["choices"]:
        body.append("<p>Choices made by people:</p>")
        rows = [
            [str(c["round"]), f"<code>{_e(c['actor'])}</code>", f"<code>{_e(c['action'])}</code>"]
            for c in doc["choices"]
        ]
        body.append(_html_table(["Round", "Actor", "Action"], rows, {0}))
    if doc["decisions"]:
        body.append("<p>Branches decided by people:</p>")
        rows = [
            [str(d["round"])] + [f"<code>{_e(d[k])}</code>" for k in ("branch", "actor", "outcome")]
            for d in doc["decisions"]
        ]
        body.append(_html_table(["Round", "Branch", "Decided by", "Outcome"], rows, {0}))
    body.append("<h2>Starting state</h2>")
    rows = [[f"<code>{_e(n)}</code>", _e(v), _e(u)] for n, v, u in doc["initial"]]
    body.append(_html_table(["Variable", "Value", "Unit"], rows, {1}))
    for view in doc["rounds"]:
        body.append(
            f"<h2>Round {view['round']} of {view['rounds']} &middot; {_e(view['date'])}</h2>"
        )
        for label, item in _announcements(view):
            body.append(
                f'<p class="{label.lower()}"><strong>{label} {_e(item["id"])}.</strong> '
                f"{_e(item['text'])}</p>"
            )
            if item["prompt"]:
                body.append(f'<p class="prompt"><strong>Prompt:</strong> {_e(item["prompt"])}</p>')
        body.append("<h3>Choices</h3>")
        for actor in view["actors"]:
            chosen = f"<code>{_e(actor['chosen'])}</code>" if actor["chosen"] else "nothing"
            by = " (chosen by a person)" if actor["overridden"] else ""
            body.append(
                f"<p><strong>{_e(actor['id'])}</strong> ({_e(actor['name'])}) chooses "
                f"{chosen}{by}.</p>"
            )
            rows = [
                [
                    "&#9654;" if row["chosen"] else "",
                    f"<code>{_e(row['action'])}</code>",
                    _e(row["description"]),
                    _number(row["score"]),
                    f"{row['probability']:.3f}",
                ]
                for row in actor["options"]
            ]
            marks = [bool(row["chosen"]) for row in actor["options"]]
            body.append(
                _html_table(["", "Option", "Description", "Score", "p"], rows, {3, 4}, marks)
            )
            body.append(f'<p class="why">Why: {_e(actor["reason"])}</p>')
        if view["changes"]:
            body.append("<h3>State changes</h3>")
            rows = [
                [f"<code>{_e(n)}</code>", _e(a), _e(b), _e(u)] for n, a, b, u in view["changes"]
            ]
            body.append(_html_table(["Variable", "Before", "After", "Unit"], rows, {1, 2}))
        for branch in view["branches"]:
            body.append(
                f'<p class="branch"><strong>Outcome of {_e(branch["id"])}: '
                f"{_e(branch['outcome'])}.</strong> {_e(branch['outcome_text'])}</p>"
            )
    if doc["rounds"]:
        body.append(f"<h2>State after round {doc['played_to']}</h2>")
        rows = [[f"<code>{_e(n)}</code>", _e(v), _e(u)] for n, v, u in doc["final"]]
        body.append(_html_table(["Variable", "Value", "Unit"], rows, {1}))
    if doc["ending"]:
        ending = doc["ending"]
        body.append(f"<h2>Ending: {_e(ending['title'])} (<code>{_e(ending['id'])}</code>)</h2>")
        rows = [
            [f"<code>{_e(p['id'])}</code>", _e(p["name"]), _number(p["payoff"])]
            for p in doc["payoffs"]
        ]
        body.append(_html_table(["Actor", "Name", "Total payoff"], rows, {2}))
    else:
        body.append(
            f"<p><em>Stopped after round {doc['played_to']} of {doc['rounds_total']}.</em></p>"
        )
    if doc["scores"]:
        body.append("<h2>Predictions</h2>")
        body.append(
            "<p>Brier score: the sum over outcomes of (p &minus; 1 if it happened, else "
            "p &minus; 0)&sup2;; 0 is perfect, 2 is sure and wrong. The model's probability "
            "is its forecast when the question was asked: continuations of the game from "
            "the round before.</p>"
        )
        for score in doc["scores"]:
            p = score.prediction
            went = (
                f"went <strong>{_e(score.outcome)}</strong>" if score.outcome else "did not resolve"
            )
            body.append(
                f"<p><strong>{_e(p.branch)}</strong> (asked before round {p.round}) {went}.</p>"
            )
            rows = [
                [
                    f"<code>{_e(o)}</code>" + (" &#10004;" if o == score.outcome else ""),
                    f"{prob:.2f}",
                    f"{score.model.get(o, 0.0):.2f}",
                ]
                for o, prob in p.probabilities.items()
            ]
            if score.brier is not None:
                model_brier = "&ndash;" if score.model_brier is None else _number(score.model_brier)
                rows.append(["<strong>Brier score</strong>", _number(score.brier), model_brier])
            header = ["Outcome", "Room", f"Model ({score.model_runs:,} runs)"]
            body.append(_html_table(header, rows, {1, 2}))
    if doc["debrief"]:
        tables = doc["debrief"]
        body.append("<h2>Debrief: this game against the model</h2>")
        if tables["ending"]:
            body.append(f"<p>{_e(tables['ending'])}</p>")
        for key, title in _DEBRIEF_TITLES.items():
            table = tables.get(key)
            if table is None:
                continue
            body.append(f"<h3>{_e(title)}</h3>")
            if key in _DEBRIEF_NOTES:
                body.append(f"<p>{_e(_DEBRIEF_NOTES[key])}</p>")
            rows = [[_e(c) for c in row] for row in table["rows"]]
            body.append(_html_table([_e(h) for h in table["header"]], rows, table["numeric"]))
    title = _e(f"{doc['title']}: seed {doc['seed']}, run {doc['run']}")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def check_handout_path(out: str | Path, force: bool, resume: str | Path | None = None) -> Path:
    """Where a handout may be written: a new file, or an existing one with ``force``.

    Checked before the game is played, so a refusal costs nothing.

    Raises:
        OptionsError: If the path is a folder, its folder does not exist, it exists
            and ``force`` is not given, it is the saved game being resumed, or it is
            inside a results folder (never, even with ``force``).
        ResultsError: If the path is under a file.
    """
    from sim.batch.outputs import check_parents, results_folder_holding

    path = Path(out)
    check_parents(path)
    holder = results_folder_holding(path.parent)
    if holder is not None:
        # A batch's folder holds only what its batch wrote (sim.batch.outputs).
        raise OptionsError(
            f"--out {path}: is inside the results folder {holder}; write the handout "
            "elsewhere (even --force never writes a batch's files)"
        )
    if path.is_dir():
        raise OptionsError(f"--out {path}: is a folder; give a file name such as class-a.html")
    if not path.parent.is_dir():
        raise OptionsError(f"--out {path}: no such folder {path.parent}")
    if resume is not None and path.resolve() == Path(resume).resolve():
        raise OptionsError(f"--out {path}: that is the saved game itself; choose another name")
    if path.exists() and not force:
        raise OptionsError(f"--out {path}: the file exists; add --force to replace it")
    return path


def write_handout(path: Path, text: str) -> None:
    """Write a handout atomically (a reader never sees half a file).

    Raises:
        OptionsError: If the file cannot be written.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OptionsError(f"--out {path}: cannot write the handout ({exc.strerror})") from None

"""The report: one self-contained HTML file that tells a batch's story.

An analyst sends a single file to people who were not at the keyboard: what the
scenario is and where its claims come from, every uncertain assumption (distribution,
unit, source, confidence), how likely each branch and ending is, the charts, and what
drives each ending (:mod:`sim.analysis.explanation`). The file needs nothing else: the charts are
embedded as base64 PNG data URIs, the CSS is inline, there is no script, and it prints
on A4 or Letter with each section on a new page and no chart cut in two. Every piece of
text from the scenario is HTML-escaped.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
import tempfile
from pathlib import Path
from typing import Any

from sim.batch.outputs import check_output_file
from sim.batch.results import Results, atomic_write_bytes
from sim.errors import WargameError
from sim.version import __version__

#: Captions of the standard charts of :mod:`sim.analysis.plots`, in the order shown.
PLOT_CAPTIONS = {
    "endings": "How likely each ending is, with 95% intervals (Wilson; in a Sobol sweep, "
    "with the base samples as the independent units).",
    "branch_tree": "What the branch points decide: each outcome's share of runs and the mix "
    "of endings among the runs that took it.",
    "payoffs": "Each actor's total payoff over the game.",
}
#: Caption of the report's own chart of payoffs by ending.
PAYOFFS_BY_ENDING_CAPTION = (
    "Each actor's total payoff among the runs of each ending: one panel per actor "
    "(row) and ending (column), each on its own scale, bars as shares of that ending's "
    "runs, so an ending with catastrophic payoffs leaves the others readable. Read the "
    "values on each panel's axis and its mean."
)
#: Ranking rows shown per outcome in the report.
REPORT_TOP = 8
#: Marks a report as this program's: an earlier report may be replaced without --force.
GENERATOR = "wargame report"

CSS = """
:root { --ink: #1d232b; --muted: #5b6570; --rule: #d5dae0; --band: #f3f5f8;
        --accent: #2f5d8a; --callout: #fff7e6; --callout-rule: #e3b04b; }
* { box-sizing: border-box; }
html { font-size: 15px; }
body { margin: 0 auto; max-width: 1040px; padding: 28px 36px 60px; color: var(--ink);
       font-family: "Segoe UI", "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans",
       "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       line-height: 1.45; background: #fff; }
h1 { font-size: 1.9rem; margin: 0 0 6px; line-height: 1.2; }
h2 { font-size: 1.35rem; margin: 34px 0 12px; padding-bottom: 5px;
     border-bottom: 2px solid var(--accent); color: var(--accent); }
h3 { font-size: 1.1rem; margin: 26px 0 8px; }
p { margin: 6px 0 10px; }
.lead { font-size: 1.08rem; color: var(--ink); max-width: 60em; }
.muted, .note { color: var(--muted); }
.note { font-size: 0.88rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px;
           margin: 14px 0; font-size: 0.92rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
nav { margin: 16px 0 6px; padding: 10px 14px; background: var(--band); border-radius: 6px;
      font-size: 0.92rem; }
nav a { margin-right: 16px; color: var(--accent); text-decoration: none; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 14px; font-size: 0.9rem; }
table.compact { width: auto; min-width: 60%; }
h4 { font-size: 0.98rem; margin: 16px 0 6px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--rule); text-align: left;
         vertical-align: top; }
th { background: var(--band); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.weak td { color: var(--muted); }
code { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 0.86em; }
figure { margin: 14px 0 22px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { font-size: 0.88rem; color: var(--muted); margin-top: 5px; }
.rule { background: var(--callout); border-left: 4px solid var(--callout-rule);
        padding: 9px 14px; margin: 10px 0 14px; font-size: 1rem; }
.rule b { font-weight: 650; }
.bar { display: inline-block; height: 9px; background: var(--accent); vertical-align: middle;
       margin-right: 6px; border-radius: 2px; }
.target { break-inside: auto; }
footer { margin-top: 40px; padding-top: 10px; border-top: 1px solid var(--rule);
         font-size: 0.82rem; color: var(--muted); }
@media screen and (max-width: 720px) {
  /* A phone: less margin, and a wide table scrolls on its own instead of the page. */
  body { padding: 16px 12px 40px; }
  table, table.compact { display: block; overflow-x: auto; width: 100%; min-width: 0; }
  /* Columns as wide as a phone reads them, not squeezed to its width. */
  th, td { min-width: 7em; }
  td:last-child { min-width: 22em; }
  td.num, th.num { min-width: 0; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: 4px; }
}
@page { margin: 14mm 13mm; }
@media print {
  html { font-size: 11.5px; }
  body { max-width: none; padding: 0; }
  nav { display: none; }
  a { color: inherit; text-decoration: none; }
  section { break-before: page; }
  section#sources { break-before: auto; }
  h2, h3 { break-after: avoid; }
  figure, .rule, tr { break-inside: avoid; }
  figure img { max-height: 225mm; width: auto; max-width: 100%; border: none; }
  .target + .target { break-before: page; }
}
"""


def _table(headers: tuple[str, ...], rows: list[str]) -> str:
    """An HTML table: a header row of plain ``headers`` and the ready ``rows``."""
    head = "".join(f"<th>{header}</th>" for header in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _e(value: Any) -> str:
    """Escape any value for HTML text or attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def _term(text: Any) -> str:
    """Escaped text whose terms (``x ≤ 0.5``) a browser never breaks across lines."""
    from sim.analysis.wrapping import glue_terms

    return _e(glue_terms("" if text is None else str(text)))


def _pct(p: float | None, digits: int = 1) -> str:
    return "–" if p is None else f"{100 * p:.{digits}f}%"


def _num(x: float | None) -> str:
    if x is None:
        return "–"
    if isinstance(x, str):
        return x
    return f"{x:.4g}" if abs(x) < 1000 else f"{x:,.0f}"


def describe_distribution(param: dict[str, Any]) -> str:
    """A parameter's distribution in words, e.g. ``triangular 0.2 / 0.4 / 0.6``.

    Args:
        param: The parameter as stored in the manifest's layout.
    """
    dist = param.get("dist")
    if dist == "fixed":
        return f"fixed at {_num(param['value'])}"
    if dist == "uniform":
        return f"uniform {_num(param['low'])} – {_num(param['high'])}"
    if dist == "normal":
        text = f"normal, mean {_num(param['mean'])}, sd {_num(param['sd'])}"
        if param.get("low") is not None or param.get("high") is not None:
            low = _num(param.get("low")) if param.get("low") is not None else "−∞"
            high = _num(param.get("high")) if param.get("high") is not None else "∞"
            text += f", truncated to [{low}, {high}]"
        return text
    if dist == "triangular":
        return (
            f"triangular, low {_num(param['low'])}, mode {_num(param['mode'])}, "
            f"high {_num(param['high'])}"
        )
    if dist == "bernoulli":
        return f"yes (1) with probability {_num(param['p'])}, else 0"
    if dist == "choice":
        values = [_num(v) for v in param["values"]]
        weights = param.get("weights")
        if weights:
            total = sum(weights)
            parts = [f"{v} ({w / total:.0%})" for v, w in zip(values, weights, strict=True)]
            return "one of " + ", ".join(parts)
        return "one of " + ", ".join(values) + " (equally likely)"
    return str(dist)


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"data:image/png;base64,{data}"


def _figure(path: Path, caption: str, alt: str) -> str:
    return (
        f'<figure><img src="{_image(path)}" alt="{_e(alt)}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _scenario_meta(results: Results) -> dict[str, Any]:
    """Description and sources of the scenario, from its stored text where possible."""
    layout = results.layout
    meta: dict[str, Any] = {"description": "", "sources": layout.get("sources", [])}
    try:
        from sim.language.schema import parse_scenario

        spec = parse_scenario(results.scenario_text, results.manifest["scenario"]["path"]).spec
        meta["description"] = spec.scenario.description
    except WargameError:  # a scenario of an older format still gets a report
        meta["description"] = ""
    return meta


def _facts(results: Results) -> str:
    manifest = results.manifest
    rows = [
        ("Scenario", f"{manifest['scenario']['title']} ({manifest['scenario']['id']})"),
        ("Runs", f"{manifest['runs']:,}"),
        ("Seed", manifest["seed"]),
    ]
    design = manifest.get("design")
    if design:
        params = ", ".join(design["params"])
        what = {"lhs": "Latin hypercube", "sobol": "Sobol (Saltelli)", "grid": "full grid"}
        rows.append(
            (
                "Design",
                f"{what.get(design['kind'], design['kind'])} sweep, n = {design['n']}, "
                f"over {params}",
            )
        )
    else:
        rows.append(("Design", "Monte Carlo (every parameter drawn independently per run)"))
    if manifest.get("overrides"):
        written = manifest.get("settings") or manifest["overrides"]
        rows.append(("Settings (--set)", ", ".join(f"{k} = {v}" for k, v in written.items())))
    rows += [
        ("Finished", manifest.get("finished", "")),
        ("Program", f"wargame {manifest['program']['version']}"),
        ("Scenario fingerprint", f"sha256 {manifest['scenario']['sha256'][:16]}…"),
    ]
    if manifest.get("command_line"):
        rows.append(("Command", " ".join(manifest["command_line"])))
    items = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows)
    return f'<dl class="facts">{items}</dl>'


def _sources(meta: dict[str, Any]) -> str:
    sources = meta["sources"]
    if not sources:
        return '<p class="muted">The scenario names no sources.</p>'
    rows = []
    for s in sources:
        title = _e(s.get("title"))
        if s.get("url"):
            title += f'<br><span class="note">{_e(s["url"])}</span>'
        rows.append(
            f"<tr id='source-{_e(s['id'])}'><td><code>{_e(s['id'])}</code></td><td>{title}</td>"
            f"<td>{_e(s.get('date') or '')}</td><td>{_e(s.get('reliability') or '')}</td>"
            f"<td>{_e(s.get('note') or '')}</td></tr>"
        )
    return _table(("Id", "Source", "Date", "Reliability", "Note"), rows)


def _assumptions(results: Results, meta: dict[str, Any]) -> str:
    layout = results.layout
    overrides = results.manifest.get("overrides") or {}
    design = results.manifest.get("design") or {}
    titles = {s["id"]: s.get("title", s["id"]) for s in meta["sources"]}
    rows = []
    for p in layout.get("parameters", []):
        distribution = describe_distribution(p)
        if p["id"] in overrides:
            distribution += f" — fixed at {overrides[p['id']]} in this batch (--set)"
        elif p["id"] in design.get("params", []):
            distribution += f" — set by the {design['kind']} design"
        source = p.get("source") or ""
        # The id, linked to the sources table, which gives the title once.
        source_cell = (
            f"<a href='#source-{_e(source)}'><code>{_e(source)}</code></a>"
            if source in titles
            else _e(source)
        )
        rows.append(
            f"<tr><td><code>{_e(p['id'])}</code></td><td>{_e(distribution)}</td>"
            f"<td>{_e(p.get('unit') or '')}</td><td>{source_cell}</td>"
            f"<td>{_e(p.get('confidence') or '')}</td><td>{_e(p.get('description') or '')}</td>"
            "</tr>"
        )
    if not rows:
        return '<p class="muted">The scenario has no uncertain parameters.</p>'
    return _table(
        ("Parameter", "Distribution", "Unit", "Source", "Confidence", "Description"), rows
    )


def _code(text: Any) -> str:
    """An expression as code (empty cell for none)."""
    return "" if text is None or text == "" else f"<code>{_e(text)}</code>"


def _effects(effects: dict[str, Any]) -> str:
    return "<br>".join(f"<code>{_e(k)} {_e(v)}</code>" for k, v in effects.items())


def _weights(weights: dict[str, float]) -> str:
    terms = []
    for name, weight in weights.items():
        sign = "−" if weight < 0 else "+"
        terms.append(f"{sign} {_num(abs(weight))} × <code>{_e(name)}</code>")
    text = " ".join(terms)
    return text[2:] if text.startswith("+ ") else text


def _model(results: Results) -> str:
    """The scenario's model in tables: actors, options, branches, commitments, endings."""
    try:
        from sim.language.schema import parse_scenario

        spec = parse_scenario(results.scenario_text, results.manifest["scenario"]["path"]).spec
    except WargameError:
        return "<p class='muted'>The scenario text of this batch cannot be read any more.</p>"
    parts = [
        "<p class='note'>How the game is played, as the scenario file says. Each round: "
        "injects fire, every actor chooses on the same observed state (each option "
        "scored by its payoff rule on the projected state, minus its cost, plus what "
        "it foresees), the chosen actions take effect, due branches resolve, payoffs "
        "are earned. Expressions are shown as written.</p>",
        "<h3>Actors and how they choose</h3>",
    ]
    rows = []
    for actor_id, actor in spec.actors.items():
        reasoning = actor.reasoning
        if actor.reasoning == "level-k":
            reasoning += f", depth {actor.depth or 1}"
        if actor.reasoning == "beliefs":
            reasoning += f", prior {_num(actor.prior if actor.prior is not None else 1)}"
        foresight = (
            f"{actor.foresight} {'round' if actor.foresight == 1 else 'rounds'}"
            if actor.foresight
            else "none"
        )
        payoff = _weights(actor.payoff.weights)
        if actor.payoff.expression:
            expression = actor.payoff.expression
            # Added to the weights as a whole: brackets keep "a + b if c else d" plain.
            payoff += f" + {_code(f'({expression})')}" if payoff else _code(expression)
        rows.append(
            f"<tr><td><code>{_e(actor_id)}</code> {_e(actor.name)}</td><td>{_e(reasoning)}</td>"
            f"<td>{_e(foresight)}</td><td>{_e(actor.decision)}, λ = "
            f"{_code(actor.rationality)}</td><td>{payoff or '–'}</td></tr>"
        )
    parts.append(
        _table(
            ("Actor", "Reasoning", "Foresight", "Decision rule", "Payoff rule (per round)"), rows
        )
    )
    parts.append("<h3>Options</h3>")
    for actor_id, actor in spec.actors.items():
        rows = [
            f"<tr><td><code>{_e(action_id)}</code></td><td>{_e(action.description)}</td>"
            f"<td>{_code(action.when) or 'always'}</td><td>{_code(action.cost)}</td>"
            f"<td>{_effects(action.effects)}</td></tr>"
            for action_id, action in actor.actions.items()
        ]
        parts.append(f"<h4>{_e(actor.name)} (<code>{_e(actor_id)}</code>)</h4>")
        parts.append(_table(("Option", "Description", "Open when", "Cost", "Effects"), rows))
    if spec.define:
        parts.append("<h3>Named expressions (<code>define</code>)</h3>")
        rows = [
            f"<tr><td><code>{_e(name)}</code></td><td>{_code(expression)}</td></tr>"
            for name, expression in spec.define.items()
        ]
        parts.append(_table(("Name", "Stands for"), rows))
    if spec.every_round:
        parts.append("<h3>Every round (background processes)</h3>")
        rows = [
            f"<tr><td><code>{_e(process.id)}</code></td><td>{_code(process.when) or 'always'}"
            f"</td><td>{_e(process.description)}</td><td>{_effects(process.effects)}</td></tr>"
            for process in spec.every_round
        ]
        parts.append(_table(("Process", "While", "Description", "Effects"), rows))
    if spec.branches:
        parts.append("<h3>Branches and their probability formulas</h3>")
        for branch in spec.branches:
            when = []
            if branch.round is not None:
                when.append(f"round {branch.round}")
            if branch.when:
                when.append(f"when {_code(branch.when)}")
            if branch.hazard is not None:
                when.append(f"by chance each round, {_code(branch.hazard)}")
            if branch.decided_by:
                when.append(f"decided by <code>{_e(branch.decided_by)}</code>")
            parts.append(
                f"<h4><code>{_e(branch.id)}</code> — {', '.join(when)}</h4>"
                + (f"<p>{_e(branch.text)}</p>" if branch.text else "")
            )
            chooser = f"chosen by <code>{_e(branch.decided_by)}</code>"
            rows = [
                f"<tr><td><code>{_e(name)}</code></td>"
                f"<td>{_code(outcome.probability) or chooser}</td>"
                f"<td>{_effects(outcome.effects)}</td><td>{_e(outcome.text)}</td></tr>"
                for name, outcome in branch.outcomes.items()
            ]
            parts.append(_table(("Outcome", "Probability", "Effects", "Text"), rows))
    if spec.commitments:
        parts.append("<h3>Commitments</h3>")
        rows = []
        for c in spec.commitments:
            pull = "forces the action" if c.force else f"bonus {_code(c.bonus)}"
            source = " ".join(x for x in (c.source or "", c.confidence or "") if x)
            rows.append(
                f"<tr><td><code>{_e(c.id)}</code></td><td><code>{_e(c.actor)}</code>"
                f"{' → <code>' + _e(c.to) + '</code>' if c.to else ''}</td>"
                f"<td><code>{_e(c.action)}</code></td><td>{_code(c.trigger)}</td>"
                f"<td>{pull}</td><td>{_e(source)}</td><td>{_e(c.description)}</td></tr>"
            )
        parts.append(
            _table(
                (
                    "Commitment",
                    "Who → to whom",
                    "Action",
                    "Trigger",
                    "Pull",
                    "Source",
                    "Description",
                ),
                rows,
            )
        )
    if spec.injects:
        parts.append("<h3>Injects</h3>")
        rows = []
        for inject in spec.injects:
            when = []
            if inject.round is not None:
                when.append(f"round {inject.round}")
            if inject.when:
                when.append(f"when {_code(inject.when)}")
            if inject.hazard is not None:
                when.append(f"by chance each round, {_code(inject.hazard)}")
            rows.append(
                f"<tr><td><code>{_e(inject.id)}</code></td><td>{' '.join(when)}</td>"
                f"<td>{_e(inject.text)}</td><td>{_effects(inject.effects)}</td></tr>"
            )
        parts.append(_table(("Inject", "Fires", "Text", "Effects"), rows))
    parts.append("<h3>Endings (checked in order)</h3>")
    rows = []
    for ending in spec.endings:
        payoffs = ", ".join(f"{_e(k)} {_code(v)}" for k, v in ending.payoffs.items())
        rows.append(
            f"<tr><td>{_e(ending.title or ending.id)} (<code>{_e(ending.id)}</code>)</td>"
            f"<td>{_code(ending.when) or 'otherwise (the fallback)'}</td>"
            f"<td>{'ends the run at once' if ending.stop else 'after the last round'}</td>"
            f"<td>{payoffs}</td></tr>"
        )
    parts.append(_table(("Ending", "When", "Checked", "One-off payoffs"), rows))
    return "".join(parts)


def _probability_rows(
    items: list[dict[str, Any]], label: str = "title", heading: str = "95% Wilson interval"
) -> str:
    rows = []
    for item in items:
        name = item.get(label) or item["id"]
        width = max(1, round(120 * item["p"]))
        rows.append(
            f"<tr><td>{_e(name)}</td><td class='num'>{item['count']:,}</td>"
            f"<td class='num'><span class='bar' style='width:{width}px'></span>"
            f"{_pct(item['p'])}</td>"
            f"<td class='num'>{_pct(item['low'])} – {_pct(item['high'])}</td></tr>"
        )
    return (
        "<table class='compact'><thead><tr><th>Outcome</th><th class='num'>Runs</th>"
        f"<th class='num'>Probability</th><th class='num'>{_e(heading)}</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _summary(results: Results) -> str:
    from sim.batch.summary import interval_label, interval_note

    summary = results.summary
    heading = interval_label(summary)
    parts = []
    if interval_note(summary):
        parts.append(f"<p class='note'>{_e(interval_note(summary))}</p>")
    parts += ["<h3>Endings</h3>", _probability_rows(summary["endings"], heading=heading)]
    for branch in summary["branches"]:
        parts.append(f"<h3>Branch: {_e(branch['id'])}</h3>")
        parts.append(_probability_rows(branch["outcomes"], label="id", heading=heading))
    if summary["payoffs"]:
        rows = "".join(
            f"<tr><td>{_e(p['name'])} (<code>{_e(p['actor'])}</code>)</td>"
            f"<td class='num'>{p['mean']:.3f}</td><td class='num'>± {1.96 * p['stderr']:.3f}</td>"
            f"<td class='num'>{p['sd']:.3f}</td></tr>"
            for p in summary["payoffs"]
        )
        parts.append("<h3>Mean payoff per actor (total over the game)</h3>")
        parts.append(
            "<table class='compact'><thead><tr><th>Actor</th><th class='num'>Mean</th>"
            "<th class='num'>95% interval (± 1.96 se)</th><th class='num'>Sd</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    if summary.get("metrics"):
        rows = "".join(
            f"<tr><td>{_e(m['title'] or m['id'])}</td><td>{_e(m['unit'])}</td>"
            f"<td class='num'>{_num(m['mean'])}</td><td class='num'>{_num(m['p05'])}</td>"
            f"<td class='num'>{_num(m['p50'])}</td><td class='num'>{_num(m['p95'])}</td></tr>"
            for m in summary["metrics"]
        )
        parts.append("<h3>Metrics at the end of the game</h3>")
        parts.append(
            "<table><thead><tr><th>Metric</th><th>Unit</th><th class='num'>Mean</th>"
            "<th class='num'>5%</th><th class='num'>Median</th><th class='num'>95%</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
    return "".join(parts)


def _plot_order(path: Path) -> tuple[int, str]:
    stem = path.stem
    order = {"endings": 0, "branch_tree": 1, "payoffs": 3}
    return (order.get(stem, 2 if stem.startswith("fan_") else 4), stem)


def _payoffs_by_ending(results: Results) -> str:
    """The payoff histograms by ending, drawn for the report (each on its own scale)."""
    from sim.analysis.plots import payoffs_by_ending_png

    png = payoffs_by_ending_png(results.folder, results.manifest, results.summary)
    if png is None:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="chart: payoffs by ending">'
        f"<figcaption>{_e(PAYOFFS_BY_ENDING_CAPTION)}</figcaption></figure>"
    )


def _plots(results: Results) -> str:
    folder = results.folder / "plots"
    paths = sorted(folder.glob("*.png"), key=_plot_order) if folder.is_dir() else []
    by_ending = _payoffs_by_ending(results)
    if not paths:
        return (
            '<p class="muted">This batch has no standard charts (it was run with '
            f"--no-plots).</p>{by_ending}"
        )
    metrics = {m["id"]: m.get("title") or m["id"] for m in results.layout.get("metrics", [])}
    figures = []
    for path in paths:
        stem = path.stem
        if stem in PLOT_CAPTIONS:
            caption = PLOT_CAPTIONS[stem]
        elif stem.startswith("fan_"):
            metric = stem.removeprefix("fan_")
            caption = (
                f"How {metrics.get(metric, metric)} evolves over the game: median, middle 50% "
                "and middle 90% of runs."
            )
        else:
            caption = re.sub(r"[_-]+", " ", stem).capitalize() + "."
        figures.append(_figure(path, caption, f"chart: {stem}"))
        if stem == "payoffs":
            figures.append(by_ending)
    if "payoffs" not in {p.stem for p in paths}:
        figures.append(by_ending)
    return "".join(figures)


def _p(value: float | None, bound: bool = False) -> str:
    # As the terminal prints it (a bound at the permutations' floor: "≤ 0.012").
    from sim.analysis.explaintext import pvalue_text

    return html.escape(pvalue_text(value, bound))


def _points(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:+.1f}"


def _driver_rows(rows: list[dict[str, Any]]) -> str:
    from sim.analysis.explaintext import ends_notes
    from sim.analysis.ranking import round_spans

    out = []
    for row in rows:
        measured = row.get("measured")
        if measured is not None:
            effect = (
                f"{_points(measured['change'])} [{_points(measured['low'])}, "
                f"{_points(measured['high'])}] (measured)"
            )
            ends = (
                f"{_pct(measured['p_low'])} (= {_e(measured['low_label'])}) → "
                f"{_pct(measured['p_high'])} (= {_e(measured['high_label'])})"
            )
            p_holm = measured.get("p_holm")
            bound = False
        else:
            effect = (
                f"{_points(row['effect'])} [{_points(row['effect_low'])}, "
                f"{_points(row['effect_high'])}]"
            )
            ends = (
                f"{_pct(row['low']['p'])} ({_e(row['low']['label'])}) → "
                f"{_pct(row['high']['p'])} ({_e(row['high']['label'])})"
            ) + "".join(_e(note) for note in ends_notes(row))
            p_holm = row.get("p_holm")
            bound = bool(row.get("p_holm_bound"))
        if row["kind"] == "parameter":
            name = f"<code>{_e(row['input'])}</code>"
        else:
            also = row.get("also_rounds")
            name = _e(row["title"]) + (
                f" <span class='note'>(also rounds {round_spans(also)})</span>" if also else ""
            )
        out.append(
            f"<tr><td class='num'>{row['rank']}</td><td>{name}</td>"
            f"<td class='num'>{effect}</td><td class='num'>{_p(p_holm, bound)}</td>"
            f"<td class='num'>{row['mi_bits']:.4f}</td><td class='num'>{ends}</td></tr>"
        )
    return (
        "<table><thead><tr><th class='num'>#</th><th>Driver</th>"
        "<th class='num'>Effect, points [95%]</th><th class='num'>p (Holm)</th>"
        "<th class='num'>MI (bits)</th><th class='num'>Low end → high end</th></tr>"
        f"</thead><tbody>{''.join(out)}</tbody></table>"
    )


def _ranking_table(entry: dict[str, Any]) -> str:
    from sim.analysis.explaintext import NOT_DRIVERS
    from sim.analysis.ranking import collapse_moves

    ranking = entry["ranking"]
    drivers = [r for r in ranking if r["significant"]]
    parts = []
    if not drivers:
        parts.append(
            "<p>No driver: no input is significant (permutation test, Holm's adjustment, 5%).</p>"
        )
    parameters = [r for r in drivers if r["kind"] == "parameter"]
    if all("measured" in r for r in parameters):
        parameters.sort(key=lambda r: -abs(r["measured"]["change"]))
    moves = collapse_moves([r for r in drivers if r["kind"] == "decision"])
    for rows, heading in (
        (parameters, "Parameters"),
        (moves, "Moves (played in the game: a cause of the outcome, or a consequence)"),
    ):
        if not rows:
            continue
        parts.append(f"<h4>{_e(heading)}</h4>")
        parts.append(_driver_rows(rows[:REPORT_TOP]))
        if len(rows) > REPORT_TOP:
            parts.append(f"<p class='note'>{len(rows) - REPORT_TOP} more are in explain.json.</p>")
    quiet = [r["input"] for r in ranking if not r["significant"] and r["kind"] == "parameter"]
    if quiet:
        parts.append(
            f"<p class='note'>{_e(NOT_DRIVERS)}: "
            + ", ".join(f"<code>{_e(q)}</code>" for q in quiet)
            + ".</p>"
        )
    return "".join(parts)


def _rule_html(rule: dict[str, Any]) -> str:
    from sim.analysis.explaintext import dropped_groups, dropped_text, quasi_p_text

    parts = [f"<div class='rule'><b>Rule:</b> {_term(rule['text'])}</div>"]
    restrictions = rule["box"]["restrictions"]
    if restrictions:
        rows = "".join(
            f"<tr><td>{_term(r['text'])}</td><td class='num'>{quasi_p_text(r, _p)}</td>"
            f"<td class='num'>{_pct(r['stability'], 0) if 'stability' in r else '–'}</td></tr>"
            for r in restrictions
        )
        parts.append(
            "<table class='compact'><thead><tr><th>Restriction</th><th class='num'>quasi-p"
            "</th><th class='num'>Kept in resamples</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    for heading, dropped in dropped_groups(rule):
        listed = ", ".join(
            f"<code>{_term(dropped_text(d))}</code> (quasi-p {_p(d['quasi_p'])})" for d in dropped
        )
        parts.append(f"<p class='note'>{_e(heading)}: {listed}.</p>")
    second = rule.get("second")
    if second and second.get("clear"):
        parts.append(f"<div class='rule'><b>Second box:</b> {_term(second['text'])}</div>")
    return "".join(parts)


def _measured_table(entry: dict[str, Any]) -> str:
    found = entry["measured"]["parameters"]
    rows = []
    for name, m in sorted(found.items(), key=lambda kv: -abs(kv[1]["change"])):
        weak = "" if m["significant"] else " class='weak'"
        rows.append(
            f"<tr{weak}><td><code>{_e(name)}</code></td>"
            f"<td class='num'>{_pct(m['p_low'])} (= {_e(m['low_label'])})</td>"
            f"<td class='num'>{_pct(m['p_high'])} (= {_e(m['high_label'])})</td>"
            f"<td class='num'>{_points(m['change'])} [{_points(m['low'])}, "
            f"{_points(m['high'])}]</td><td class='num'>{_p(m.get('p_holm'))}</td></tr>"
        )
    return (
        "<table><thead><tr><th>Parameter</th><th class='num'>Low end</th>"
        "<th class='num'>High end</th><th class='num'>Change, points [95%]</th>"
        f"<th class='num'>p (Holm)</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _sobol_table(sobol: dict[str, Any]) -> str:
    from sim.analysis.explaintext import (
        CLIPPED_NOTE,
        crossing_notes,
        explained_text,
        few_informative_text,
        sobol_clipped,
    )
    from sim.analysis.explaintext import sobol_index_text as index

    indices = sobol["indices"]
    counted = all("S1_informative" in s for s in indices.values())
    rows = "".join(
        f"<tr><td><code>{_e(name)}</code></td><td class='num'>{index(s, 'S1')}</td>"
        f"<td class='num'>{index(s, 'ST')}</td>"
        + (f"<td class='num'>{s['S1_informative']} / {s['ST_informative']}</td>" if counted else "")
        + "</tr>"
        for name, s in sorted(indices.items(), key=lambda kv: -(kv[1]["ST"] or 0))
    )
    parts = []
    explained = sobol.get("explained")
    if explained is not None:
        value, _, interval = explained_text(explained).partition(" ")
        parts.append(
            f"<p>The swept parameters explain <b>{_e(value)}</b> {_e(interval)} of the "
            "outcome's variance; the rest is the game's own chance (and any unswept "
            "parameter).</p>"
        )
    elif sobol.get("estimator") == "SALib, chance per run":
        parts.append(
            "<p class='note'><b>Warning:</b> every run of this sweep drew its own game "
            "chance, so the chance is in every index (SALib's estimators assume a "
            "deterministic model): a total index near 1 can mean nothing.</p>"
        )
    else:
        parts.append(
            "<p class='note'>One replicate: the indices include how each parameter's "
            "effect depends on the game's chance, and what the parameters explain at all "
            "cannot be told from it.</p>"
        )
    few = few_informative_text(sobol)
    if few:
        parts.append(f"<p class='note'><b>Few informative base samples.</b> {_e(few)}</p>")
    parts.append(
        "<table class='compact'><thead><tr><th>Parameter</th>"
        "<th class='num'>First-order S1 [95%]</th>"
        "<th class='num'>Total ST [95%]</th>"
        + ("<th class='num'>Informative base samples S1 / ST</th>" if counted else "")
        + f"</tr></thead><tbody>{rows}</tbody></table>"
    )
    if any(s.get("S1_bound") or s.get("ST_bound") for s in indices.values()):
        parts.append(
            f"<p class='note'>* fewer than {sobol.get('min_informative', 20)} informative "
            "base samples (whose contribution to the estimate is not zero): the interval "
            "runs from 0 to the most the index can be with so few, not from the "
            "bootstrap.</p>"
        )
    parts += [f"<p class='note'>{_e(note)}</p>" for note in crossing_notes(sobol)]
    if sobol_clipped(sobol, pairs=5):
        parts.append(f"<p class='note'>{_e(CLIPPED_NOTE)}</p>")
    pairs = [p for p in sobol.get("S2", []) if (p.get("S2_low") or 0) > 0][:5]
    if pairs:
        items = "".join(
            f"<li><code>{_e(p['pair'][0])}</code> × <code>{_e(p['pair'][1])}</code>: "
            f"{index(p, 'S2')}</li>"
            for p in pairs
        )
        parts.append(f"<p class='note'>Second-order indices above zero:</p><ul>{items}</ul>")
    return "".join(parts)


def _explain(results: Results, found: dict[str, Any], explain_dir: Path) -> str:
    methods = found["methods"]
    names = {
        "ranking": "Ranking",
        "measured": "Measured effects",
        "tornado": "Tornado",
        "rule": "Rule",
        "sobol": "Sobol indices",
    }
    parts = [
        f"<p class='note'><b>{names.get(key, key)}.</b> {_e(text)}</p>"
        for key, text in methods.items()
    ]
    if found.get("independent_rows_only"):
        parts.append(
            f"<p class='note'>Ranking and rules use the {found['runs_analysed']:,} rows of "
            "the Sobol design that are independent of one another ("
            + _e(found.get("independent_rows", "A and B of the first replicate"))
            + "); the Sobol indices use every run.</p>"
        )
    elif found["runs_analysed"] < found["batch"]["runs"]:
        parts.append(
            f"<p class='note'>Ranking and rules use a random subset of "
            f"{found['runs_analysed']:,} runs.</p>"
        )
    if found.get("constant_parameters"):
        parts.append(
            "<p class='note'>Not varied in this batch (so not ranked): "
            + _e(", ".join(found["constant_parameters"]))
            + ".</p>"
        )
    measured = found.get("measured")
    if measured is not None:
        from sim.analysis.explaintext import measured_scope

        if measured["dead"]:
            parts.append(
                "<div class='rule'><b>Dead claims:</b> "
                + ", ".join(f"<code>{_e(n)}</code>" for n in measured["dead"])
                + f" change no ending and no branch outcome in any of {measured['runs']:,} "
                "paired runs.</div>"
            )
        if measured["not_measurable"]:
            parts.append(
                f"<p class='note'>No measurable effect on {_e(measured_scope(found))}: "
                + ", ".join(f"<code>{_e(n)}</code>" for n in measured["not_measurable"])
                + ".</p>"
            )
        dead_reasoning = [
            f"<code>{_e(actor)}</code> ({_e(entry['reasoning'])})"
            for actor, entry in (measured.get("reasoning") or {}).items()
            if entry["dead"]
        ]
        if dead_reasoning:
            parts.append(
                "<div class='rule'><b>Reasoning that changes nothing:</b> "
                + ", ".join(dead_reasoning)
                + f": played as myopic actors on the same {measured['runs']:,} runs, they "
                "change no ending and no branch outcome.</div>"
            )
    if found.get("kept_scope"):
        parts.append(
            f"<p class='note'>{_e(str(results.folder / 'explain'))} holds an explanation of "
            f"{_e(found['kept_scope'])}, kept as it is; this report explains every ending "
            "and branch outcome.</p>"
        )
    for entry in found["targets"]:
        kind = {"ending": "Ending", "branch": "Branch outcome"}.get(entry["kind"], "Outcome")
        parts.append("<div class='target'>")
        parts.append(
            f"<h3>{kind}: {_e(entry['title'])} <span class='muted'>— P = {_pct(entry['p'])}"
            f" ({entry['count']:,} of {entry['runs']:,} "
            # A Sobol sweep's explanation counts its independent rows only; the table of
            # probabilities above counts every run (an author read 0.1% and 0.2% as a clash).
            + ("independent rows" if found.get("independent_rows_only") else "runs")
            + ")</span></h3>"
        )
        if "note" in entry:
            parts.append(f"<p class='muted'>{_e(entry['note'])}.</p>")
        else:
            parts.append(_rule_html(entry["rule"]))
            parts.append(_ranking_table(entry))
            if entry.get("measured"):
                parts.append("<h4>Measured effects (paired runs)</h4>")
                parts.append(_measured_table(entry))
            for key, caption in (
                (
                    "tornado",
                    f"P({entry['title']}) at each parameter's low and high end; faded bars "
                    "are not significant (method: Tornado, above).",
                ),
                (
                    "trajectory",
                    "PRIM's peeling trajectory: coverage against density of every box, "
                    "the chosen one starred.",
                ),
            ):
                chart = explain_dir / entry.get(key, "")
                if entry.get(key) and chart.is_file():
                    parts.append(_figure(chart, caption, f"{key} chart: {entry['title']}"))
        if entry.get("sobol"):
            parts.append("<h4>Sobol indices (shares of the outcome's variance)</h4>")
            parts.append(_sobol_table(entry["sobol"]))
        parts.append("</div>")
    return "".join(parts)


def render_report(
    results: Results, found: dict[str, Any] | None, charts: Path | None = None
) -> str:
    """The report's HTML text for a finished batch.

    Args:
        results: The results folder.
        found: Its explanation (from :func:`sim.analysis.explanation.explain`), or ``None`` to leave
            the section out.
        charts: Where the explanation's charts are (default: the batch's ``explain/``).

    Returns:
        A complete HTML document.
    """
    manifest = results.manifest
    meta = _scenario_meta(results)
    title = manifest["scenario"]["title"]
    sections = [
        ("sources", "Sources", _sources(meta)),
        ("assumptions", "Assumptions", _assumptions(results, meta)),
        ("model", "The model", _model(results)),
        ("summary", "How likely each branch and ending is", _summary(results)),
        ("plots", "Charts", _plots(results)),
    ]
    if found is not None:
        explained = _explain(results, found, charts or results.folder / "explain")
        sections.append(("explain", "What drives each outcome", explained))
    nav = "".join(f'<a href="#{key}">{_e(name)}</a>' for key, name, _ in sections)
    body = "".join(
        f'<section id="{key}"><h2>{_e(name)}</h2>{content}</section>'
        for key, name, content in sections
    )
    description = f"<p class='lead'>{_e(meta['description'])}</p>" if meta["description"] else ""
    made = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="generator" content="{GENERATOR}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)} — wargame report</title>"
        f"<style>{CSS}</style></head><body>"
        f"<header><h1>{_e(title)}</h1>{description}{_facts(results)}</header>"
        f"<nav>{nav}</nav>{body}"
        f"<footer>Made by wargame {_e(__version__)} on {_e(made)} from "
        f"<code>{_e(results.folder)}</code>. Probabilities are shares of simulated runs; "
        "their intervals cover only the Monte Carlo error, not the error in the "
        "assumptions.</footer>"
        "</body></html>\n"
    )


def report(folder: str | Path, out: str | Path | None = None, *, force: bool = False) -> Path:
    """Write a batch's self-contained HTML report.

    Runs :func:`sim.analysis.explanation.explain` first if the batch has no current explanation
    (writing ``DIR/explain/``).

    Args:
        folder: A finished results folder.
        out: The HTML file to write (default ``DIR/report.html``). A new file, or an
            earlier report, is written; a user's file only with ``force``; a batch's
            file (``DIR/runs.parquet``, ``DIR/manifest.json``, ...) never.
        force: Replace a file that is not an earlier report.

    Returns:
        The path of the report.

    Raises:
        ResultsError: If the folder is not a finished batch or ``out`` may not be
            written (see :mod:`sim.batch.outputs`).

    Example:
        >>> report("results/alaska-7", "alaska-7.html")  # doctest: +SKIP
    """
    from sim.analysis.explanation import current_explanation, explain, narrow_scope

    results = Results(folder)
    results.summary  # noqa: B018 - fails early, with advice, on an unfinished batch
    target = Path(out) if out is not None else results.folder / "report.html"
    # Before anything is written (explain/ included): a refused --out writes nothing.
    check_output_file(
        target,
        inputs=[results.folder],
        force=force,
        is_ours=is_report(target),
        own_name="report.html",
        command="wargame report",
    )
    found = current_explanation(results.folder)
    kept = narrow_scope(found) if found is not None else None
    if kept is not None:
        # The folder's explain/ holds an explanation of one outcome (--outcome ...): it
        # is kept as it is (an analyst's was replaced), and the report's own
        # explanation of every outcome is made beside it, for this report only.
        with tempfile.TemporaryDirectory() as scratch:
            charts = Path(scratch) / "explain"
            found = {**explain(results.folder, out=charts), "kept_scope": kept}
            html = render_report(results, found, charts=charts)
    else:
        if found is None:
            found = explain(results.folder)
        html = render_report(results, found)
    atomic_write_bytes(target, html.encode("utf-8"))
    return target


def is_report(path: Path) -> bool:
    """Whether a file is a report this program wrote (it carries the generator mark)."""
    try:
        with path.open("rb") as file:
            head = file.read(4096)
    except OSError:
        return False
    return f'<meta name="generator" content="{GENERATOR}">'.encode() in head

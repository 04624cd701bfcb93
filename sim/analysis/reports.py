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
from pathlib import Path
from typing import Any

from sim.batch.results import Results, atomic_write_bytes
from sim.errors import ResultsError, WargameError
from sim.version import __version__

#: Captions of the standard charts of :mod:`sim.analysis.plots`, in the order shown.
PLOT_CAPTIONS = {
    "endings": "How likely each ending is, with 95% Wilson intervals.",
    "branch_tree": "What the branch points decide: each outcome's share of runs and the mix "
    "of endings among the runs that took it.",
    "payoffs": "Each actor's total payoff over the game.",
}
#: Ranking rows shown per outcome in the report.
REPORT_TOP = 8

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


def _e(value: Any) -> str:
    """Escape any value for HTML text or attributes."""
    return html.escape("" if value is None else str(value), quote=True)


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
        rows.append(
            ("Settings (--set)", ", ".join(f"{k} = {v}" for k, v in manifest["overrides"].items()))
        )
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
    return (
        "<table><thead><tr><th>Id</th><th>Source</th><th>Date</th><th>Reliability</th>"
        f"<th>Note</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


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
    return (
        "<table><thead><tr><th>Parameter</th><th>Distribution</th><th>Unit</th>"
        "<th>Source</th><th>Confidence</th><th>Description</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _probability_rows(items: list[dict[str, Any]], label: str = "title") -> str:
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
        "<th class='num'>Probability</th><th class='num'>95% Wilson interval</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _summary(results: Results) -> str:
    summary = results.summary
    parts = ["<h3>Endings</h3>", _probability_rows(summary["endings"])]
    for branch in summary["branches"]:
        parts.append(f"<h3>Branch: {_e(branch['id'])}</h3>")
        parts.append(_probability_rows(branch["outcomes"], label="id"))
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


def _plots(results: Results) -> str:
    folder = results.folder / "plots"
    paths = sorted(folder.glob("*.png"), key=_plot_order) if folder.is_dir() else []
    if not paths:
        return '<p class="muted">This batch has no charts (it was run with --no-plots).</p>'
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
    return "".join(figures)


def _ranking_table(entry: dict[str, Any]) -> str:
    rows = []
    for row in entry["ranking"][:REPORT_TOP]:
        weak = "" if row["above_noise"] else " class='weak'"
        direction = {"+": "higher → more likely", "-": "higher → less likely"}.get(
            row["direction"], "depends on the value"
        )
        if not row["above_noise"]:
            direction = "–"  # a sign in the noise says nothing
        rows.append(
            f"<tr{weak}><td class='num'>{row['rank']}</td><td><code>{_e(row['parameter'])}</code>"
            f"</td><td class='num'>{row['mi_bits']:.4f}</td>"
            f"<td class='num'>{row['noise_floor_bits']:.4f}</td>"
            f"<td class='num'>{row['share_of_uncertainty']:.1%}</td>"
            f"<td class='num'>{row['logit_coefficient']:+.2f}</td><td>{_e(direction)}</td>"
            f"<td class='num'>{_pct(row['low']['p'], 0)} ({_e(row['low']['label'])}) → "
            f"{_pct(row['high']['p'], 0)} ({_e(row['high']['label'])})</td></tr>"
        )
    more = len(entry["ranking"]) - REPORT_TOP
    tail = f"<p class='note'>{more} more parameters are in explain.json.</p>" if more > 0 else ""
    return (
        "<table><thead><tr><th class='num'>#</th><th>Parameter</th><th class='num'>MI (bits)"
        "</th><th class='num'>Noise floor</th><th class='num'>Share of uncertainty</th>"
        "<th class='num'>Std. logit coef.</th><th>Direction</th><th class='num'>Lowest → "
        f"highest fifth</th></tr></thead><tbody>{''.join(rows)}</tbody></table>{tail}"
        "<p class='note'>Grey rows score below their noise floor: indistinguishable from "
        "no effect in this batch.</p>"
    )


def _sobol_table(indices: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td><code>{_e(name)}</code></td><td class='num'>{s['S1']:.3f} ± "
        f"{s['S1_conf']:.3f}</td><td class='num'>{s['ST']:.3f} ± {s['ST_conf']:.3f}</td></tr>"
        for name, s in sorted(indices.items(), key=lambda kv: -kv[1]["ST"])
    )
    return (
        "<table class='compact'><thead><tr><th>Parameter</th>"
        "<th class='num'>First-order S1 (± 95% CI)</th>"
        "<th class='num'>Total ST (± 95% CI)</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _explain(results: Results, found: dict[str, Any]) -> str:
    methods = found["methods"]
    parts = [
        "<p class='note'><b>Ranking.</b> " + _e(methods["ranking"]) + "</p>",
        "<p class='note'><b>Tornado.</b> " + _e(methods["tornado"]) + "</p>",
        "<p class='note'><b>Rule.</b> " + _e(methods["rule"]) + "</p>",
    ]
    if "sobol" in methods:
        parts.append("<p class='note'><b>Sobol indices.</b> " + _e(methods["sobol"]) + "</p>")
    if found["runs_analysed"] < found["batch"]["runs"]:
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
    explain_dir = results.folder / "explain"
    for entry in found["targets"]:
        kind = "Ending" if entry["kind"] == "ending" else "Branch outcome"
        parts.append("<div class='target'>")
        parts.append(
            f"<h3>{kind}: {_e(entry['title'])} <span class='muted'>— P = {_pct(entry['p'])}"
            f" ({entry['count']:,} of {entry['runs']:,} runs)</span></h3>"
        )
        if "note" in entry:
            parts.append(f"<p class='muted'>{_e(entry['note'])}.</p>")
        else:
            parts.append(f"<div class='rule'><b>Rule:</b> {_e(entry['rule']['text'])}</div>")
            parts.append(_ranking_table(entry))
            tornado = explain_dir / entry.get("tornado", "")
            if entry.get("tornado") and tornado.is_file():
                parts.append(
                    _figure(
                        tornado,
                        f"What moves P({entry['title']}): each parameter's lowest vs "
                        "highest fifth (method: see Tornado at the top of this section).",
                        f"tornado chart: {entry['title']}",
                    )
                )
        if entry.get("sobol"):
            parts.append("<h4>Sobol indices (share of the outcome's variance)</h4>")
            parts.append(_sobol_table(entry["sobol"]))
        parts.append("</div>")
    return "".join(parts)


def render_report(results: Results, found: dict[str, Any] | None) -> str:
    """The report's HTML text for a finished batch.

    Args:
        results: The results folder.
        found: Its explanation (from :func:`sim.analysis.explanation.explain`), or ``None`` to leave
            the section out.

    Returns:
        A complete HTML document.
    """
    manifest = results.manifest
    meta = _scenario_meta(results)
    title = manifest["scenario"]["title"]
    sections = [
        ("sources", "Sources", _sources(meta)),
        ("assumptions", "Assumptions", _assumptions(results, meta)),
        ("summary", "How likely each branch and ending is", _summary(results)),
        ("plots", "Charts", _plots(results)),
    ]
    if found is not None:
        sections.append(("explain", "What drives each outcome", _explain(results, found)))
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


def report(folder: str | Path, out: str | Path | None = None) -> Path:
    """Write a batch's self-contained HTML report.

    Runs :func:`sim.analysis.explanation.explain` first if the batch has no current explanation
    (writing ``DIR/explain/``).

    Args:
        folder: A finished results folder.
        out: The HTML file to write (default ``DIR/report.html``).

    Returns:
        The path of the report.

    Raises:
        ResultsError: If the folder is not a finished batch or ``out`` cannot be written.

    Example:
        >>> report("results/alaska-7", "alaska-7.html")  # doctest: +SKIP
    """
    from sim.analysis.explanation import explain, load_explanation

    results = Results(folder)
    results.summary  # noqa: B018 - fails early, with advice, on an unfinished batch
    found = load_explanation(results.folder)
    if found is None:
        found = explain(results.folder)
    target = Path(out) if out is not None else results.folder / "report.html"
    if target.is_dir():
        raise ResultsError(f"{target}: is a folder; give --out a file name such as report.html")
    if not target.parent.exists():
        raise ResultsError(f"{target.parent}: no such folder")
    atomic_write_bytes(target, render_report(results, found).encode("utf-8"))
    return target

"""The HTML report: one self-contained file (images embedded, no script, no external
asset), scenario text escaped, and it opens in a real browser (Debian's chromium driven
by playwright) with every image decoded and no console error."""

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from sim.analysis.reports import describe_distribution, report
from sim.api import run_batch, sweep
from sim.batch.options import BatchOptions
from sim.engine.loading import load
from sim.errors import ResultsError
from sim.language.compiler import compile_text
from tests.conftest import TESTS

KNOWN = TESTS / "scenarios" / "known_driver.yaml"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report") / "mc"
    # With plots: the report embeds the standard charts of sim.analysis.plots.
    return run_batch(load(KNOWN), folder, BatchOptions(runs=3000, seed=2)).folder


@pytest.fixture(scope="module")
def page_html(batch):
    path = report(batch)
    return path, path.read_text("utf-8")


def test_report_is_one_self_contained_file(batch, page_html):
    path, text = page_html
    assert path == batch / "report.html"
    assert "<script" not in text.lower()
    # Every image is an embedded PNG; nothing is fetched from anywhere.
    sources = re.findall(r'<img[^>]*\ssrc="([^"]*)"', text)
    plots = sorted((batch / "plots").glob("*.png"))
    tornados = sorted((batch / "explain").glob("tornado_*.png"))
    trajectories = sorted((batch / "explain").glob("prim_*.png"))
    assert plots and tornados and trajectories
    # ... and the report's own chart of payoffs by ending.
    assert len(sources) == len(plots) + len(tornados) + len(trajectories) + 1
    assert 'alt="chart: payoffs by ending"' in text
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert "@import" not in text and "url(" not in text


def test_report_holds_scenario_assumptions_summary_and_explanation(page_html):
    _, text = page_html
    assert "<h1>Known driver (synthetic test scenario)</h1>" in text
    assert "Crisis happens if and only if pressure exceeds 0.7" in text
    assert "By construction (test fixture)" in text
    for name in ("pressure", "support", "noise_a", "noise_b", "mood"):
        assert f"<code>{name}</code>" in text
    assert "triangular, low 0, mode 0.2, high 1" in text
    assert "95% Wilson interval" in text
    assert "Mean payoff per actor" in text
    assert "What drives each outcome" in text
    assert "Rule:</b> Crisis in" in text
    assert "quasi-p" in text and "Kept in resamples" in text
    assert "Not drivers (not significant at 5% after Holm&#x27;s adjustment)" in text
    assert "@media print" in text and "break-before: page" in text


def test_report_shows_the_model_actors_options_payoffs_branches_and_endings(page_html):
    _, text = page_html
    assert "<h2>The model</h2>" in text
    # The actor, its reasoning, decision rule and payoff rule.
    assert "<code>Gov</code> Government" in text
    assert "logit, λ = <code>1.0</code>" in text
    assert "− 0.1 × <code>chatter</code>" in text
    # Its options with their descriptions, costs and effects.
    assert "Make a speech." in text
    assert "<code>0.1 * noise_b</code>" in text
    assert "<code>chatter += 0.5</code>" in text
    # The branch's probability formula, and the endings in order.
    assert "<code>1 if support &gt; 0.4 else 0</code>" in text
    assert "<code>level &gt; 0.7</code>" in text
    assert "otherwise (the fallback)" in text


def test_report_shows_commitments_and_foresight(tmp_path):
    from tests.conftest import TINY

    folder = run_batch(load(TINY), tmp_path / "t", BatchOptions(runs=200, seed=1, plots=False))
    html = report(folder.folder, tmp_path / "t.html").read_text("utf-8")
    assert "<code>treaty</code>" in html and "bonus <code>3.0</code>" in html
    assert "level-k, depth 1" in html and "2 rounds" in html
    assert "beliefs, prior 1" in html
    assert "Unannounced aircraft land" in html


def test_scenario_text_is_escaped(tmp_path):
    text = KNOWN.read_text("utf-8")
    text = text.replace(
        "Crisis happens if and only if", "Crisis <script>alert('x')</script> & happens iff"
    )
    text = text.replace(
        "description: The driver of the crisis ending.",
        "description: '<img src=x onerror=alert(1)> drives the crisis'",
    )
    compiled = compile_text(text, "evil.yaml")
    folder = run_batch(compiled, tmp_path / "evil", BatchOptions(runs=300, seed=1, plots=False))
    html = report(folder.folder).read_text("utf-8")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; happens" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; drives the crisis" in html


def test_report_of_a_sobol_sweep_has_the_sobol_table(tmp_path):
    results = sweep(KNOWN, "sobol", 64, seed=3, out=tmp_path / "s", plots=False)
    html = report(results.folder, tmp_path / "sobol.html").read_text("utf-8")
    assert "Sobol (Saltelli) sweep, n = 64" in html
    assert "First-order S1 [95%]" in html
    assert "Total ST [95%]" in html
    assert "Informative base samples S1 / ST" in html
    assert "of the outcome's variance; the rest is the game's own chance" in html
    # The summary's intervals treat the 64 base samples as the units, and say so.
    assert "Intervals treat the 64 base samples of the Sobol design" in html
    assert "95% interval (base samples)" in html
    # The explanation counts the design's independent rows, and says so beside its P.
    assert re.search(r"— P = [\d.]+% \([\d,]+ of [\d,]+ independent rows\)", html)


def test_distributions_in_words():
    assert describe_distribution({"dist": "uniform", "low": 0.0, "high": 2.5}) == "uniform 0 – 2.5"
    assert describe_distribution(
        {"dist": "normal", "mean": 1.0, "sd": 0.5, "low": 0.0, "high": None}
    ) == ("normal, mean 1, sd 0.5, truncated to [0, ∞]")
    assert describe_distribution(
        {"dist": "choice", "values": ["a", "b"], "weights": [3.0, 1.0]}
    ) == ("one of a (75%), b (25%)")
    assert describe_distribution({"dist": "bernoulli", "p": 0.2}).startswith("yes (1)")


def test_cli_report_writes_the_file_and_rejects_a_bad_folder(batch, tmp_path):
    out = tmp_path / "r.html"
    result = CliRunner().invoke(cli, ["report", str(batch), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and "report written to" in result.output
    bad = CliRunner().invoke(cli, ["report", str(tmp_path / "missing")])
    assert bad.exit_code == 2
    assert "not a results folder" in bad.output
    with pytest.raises(ResultsError):
        report(batch, tmp_path)  # a folder, not a file


def _browser_or_skip():
    """Playwright and Debian's chromium; a missing tool fails under CI, skips elsewhere."""
    missing = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing, sync_playwright = "playwright (pip install -e '.[test]')", None
    if missing is None and not CHROMIUM.exists():
        missing = f"{CHROMIUM} (apt-get install chromium)"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must have {missing}")
        pytest.skip(f"needs {missing}")
    return sync_playwright


def test_report_opens_in_chromium_with_every_image_and_no_console_error(page_html, tmp_path):
    sync_playwright = _browser_or_skip()
    path, _ = page_html
    errors, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.resolve().as_uri())
            page.wait_for_load_state("load")
            widths = page.evaluate(
                "Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)"
            )
            title = page.title()
            # On a phone a wide table scrolls inside itself; the page never sideways
            # (the sources and assumptions tables made alaska's report 896 px wide).
            page.set_viewport_size({"width": 390, "height": 844})
            phone = page.evaluate(
                "[document.documentElement.scrollWidth, Math.max(...Array.from("
                "document.querySelectorAll('table')).map(t => t.scrollWidth))]"
            )
            page.emulate_media(media="print")
            pdf = page.pdf(format="A4")
        finally:
            browser.close()
    assert len(widths) >= 6
    assert all(w > 0 for w in widths), widths
    assert errors == []
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    assert title.startswith("Known driver")
    page_width, widest_table = phone
    assert page_width <= 390, phone
    assert widest_table > 390, phone  # there was something to scroll: the check can fail
    assert pdf[:5] == b"%PDF-"


AUTHORED = """\
format: 1
scenario:
  id: authored
  title: Authored features
  start_date: 2025-01-01
  round_days: 7
  rounds: 3
state:
  tension: {initial: 1, min: 0}
  reply:
    values: [none, accept, reject]
    initial: none
define:
  alarm: tension * 2
every_round:
  - id: drift
    description: Tension creeps up.
    effects: {tension: "+= 0.1"}
actors:
  A:
    name: Alpha
    payoff: {weights: {tension: -1}}
    actions:
      wait: {description: Wait.}
  B:
    name: Beta
    payoff: {expression: "1 if reply == 'accept' else 0"}
    actions:
      wait: {description: Wait.}
injects:
  - id: flare
    hazard: 0.2
    text: A flare goes up.
    effects: {tension: "+= 1"}
branches:
  - id: offer
    round: 2
    decided_by: B
    variable: reply
    outcomes:
      accept: {}
      reject: {effects: {tension: "+= alarm"}}
endings:
  - id: calm
    title: Calm
"""


def test_report_shows_hazards_deciders_named_expressions_and_processes(tmp_path):
    folder = run_batch(
        compile_text(AUTHORED, "authored.yaml"),
        tmp_path / "a",
        BatchOptions(runs=100, seed=1, plots=False),
    )
    html = report(folder.folder, tmp_path / "a.html").read_text("utf-8")
    assert "<code>alarm</code></td><td><code>tension * 2</code>" in html
    assert "<code>drift</code>" in html and "Tension creeps up." in html
    assert "by chance each round, <code>0.2</code>" in html
    assert "decided by <code>B</code>" in html and "chosen by <code>B</code>" in html


def test_a_rules_terms_never_break_across_lines_in_the_report(page_html):
    # "pressure ≥ 0.7" is one term: its spaces are no-break spaces, so a narrow table
    # cell or a printed page never leaves "pressure ≥" at a line's end.
    _, text = page_html
    rules = re.findall(r"<div class='rule'><b>Rule:</b> (.*?)</div>", text)
    restrictions = re.findall(r"<tr><td>([^<]*(?:≥|≤)[^<]*)</td><td class='num'>", text)
    assert rules and restrictions
    assert any("pressure\u00a0≥\u00a00." in rule for rule in rules), rules
    for piece in rules + restrictions:
        assert not re.search(r" (≥|≤|=) | (≥|≤|=)$|^(≥|≤|=) ", piece), piece


def test_a_seminar_handout_reads_on_a_phone_without_scrolling_sideways(tmp_path):
    # An alaska handout (step --format html) was 713 px wide on a 390 px phone: its
    # state and options tables pushed the page; now each scrolls inside itself.
    sync_playwright = _browser_or_skip()
    path = tmp_path / "handout.html"
    alaska = str(Path(__file__).resolve().parent.parent / "scenarios" / "alaska.yaml")
    args = ["step", alaska, "--no-input", "--format", "html", "--out", str(path)]
    result = CliRunner().invoke(cli, [*args, "--until", "2", "--mc-runs", "200"])
    assert result.exit_code == 0, result.output
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(path.resolve().as_uri())
            page_width, widest_table = page.evaluate(
                "[document.documentElement.scrollWidth, Math.max(...Array.from("
                "document.querySelectorAll('table')).map(t => t.scrollWidth))]"
            )
        finally:
            browser.close()
    assert page_width <= 390
    assert widest_table > 390  # a table wider than the phone, kept inside the page


def test_a_report_keeps_an_explanation_of_one_outcome_and_says_so(tmp_path):
    # An analyst's trial: `report` replaced the folder's --outcome explanation with its
    # own of every ending, without a word.
    from sim.analysis.explanation import explain

    folder = run_batch(
        load(KNOWN), tmp_path / "b", BatchOptions(runs=1500, seed=4, keep_rounds=False)
    ).folder
    explain(folder, outcome="metric.level > 0.7", resamples=0)
    before = (folder / "explain" / "explain.json").read_bytes()
    charts = sorted(p.name for p in (folder / "explain").iterdir())
    path = report(folder)
    assert (folder / "explain" / "explain.json").read_bytes() == before
    assert sorted(p.name for p in (folder / "explain").iterdir()) == charts
    text = path.read_text()
    assert "holds an explanation of --outcome metric.level &gt; 0.7, kept as it is" in text
    assert "Ending: Crisis" in text and "Ending: Calm" in text  # every outcome explained
    # Their charts, drawn in a scratch folder, are embedded.
    assert "P(Crisis) at each parameter&#x27;s low and high end" in text or (
        "P(Crisis) at each parameter's low and high end" in text
    )

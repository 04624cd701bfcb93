"""`wargame doc`: a Markdown page per scenario, kept in step with the files."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from sim.analysis.scenariodoc import (
    MARKER,
    REGENERATE,
    payoff_in_words,
    scenario_files,
    scenario_page,
)
from sim.engine.loading import load
from sim.language.compiler import compile_text
from tests.conftest import ALASKA, ROOT, TINY

SCENARIOS = ROOT / "scenarios"
PAGES = ROOT / "docs" / "scenarios"


def committed_scenarios() -> list[Path]:
    return scenario_files(SCENARIOS)


@pytest.mark.parametrize(
    "path", committed_scenarios(), ids=lambda p: p.relative_to(SCENARIOS).as_posix()
)
def test_every_scenario_has_its_page_and_the_page_is_up_to_date(path: Path) -> None:
    compiled = load(path)
    page = PAGES / f"{compiled.id}.md"
    expected = scenario_page(compiled, path.relative_to(ROOT).as_posix())
    assert page.is_file(), f"{page} is missing: run `{REGENERATE}` at the top of the repository"
    assert page.read_text(encoding="utf-8") == expected, (
        f"{page.relative_to(ROOT)} is out of step with {path.relative_to(ROOT)}: run "
        f"`{REGENERATE}` at the top of the repository and commit the pages"
    )


def test_no_page_outlives_its_scenario() -> None:
    ids = {load(path).id for path in committed_scenarios()}
    pages = {page.stem for page in PAGES.glob("*.md")}
    assert pages <= ids, f"pages without a scenario: {sorted(pages - ids)}"


def test_the_page_names_every_part_of_the_scenario() -> None:
    compiled = load(TINY)
    page = scenario_page(compiled, "tests/scenarios/tiny.yaml")
    spec = compiled.loaded.spec
    assert page.startswith(MARKER)
    assert f"# {spec.scenario.title}" in page
    for actor_id, actor in spec.actors.items():
        assert f"### {actor_id}: {actor.name}" in page
        for action_id, action in actor.actions.items():
            assert f"| `{action_id}` | {action.description}" in page
    for name, param in spec.parameters.items():
        row = next(line for line in page.splitlines() if line.startswith(f"| `{name}` |"))
        assert f"`{param.source}`" in row and f"| {param.confidence} |" in row
    assert "triangular: low 0.2, mode 0.4, high 0.6" in page
    outcome = spec.branches[0].outcomes["success"]
    assert " ".join(str(outcome.probability).split()) in page
    for ending in spec.endings:
        assert f"`{ending.id}`" in page and ending.title in page
    war = "| 1 | `war` | Escalation to war | `tension >= 8` | no | Blue: `-10`, Red: `-5` |"
    assert war in page
    for metric in spec.metrics:
        assert f"| `{metric.id}` |" in page
    assert "`treaty` | Ally → Red | `send_troops`" in page
    assert "**`memo`** (medium reliability, 2025-08-01): An illustrative memo" in page
    assert "complete information" in page


def test_payoffs_in_words_read_a_payoff_matrix_cell_by_cell() -> None:
    compiled = load(SCENARIOS / "textbook" / "chicken.yaml")
    words = payoff_in_words(compiled, compiled.actors[0])
    assert words == [
        "−1 when A chooses `swerve` and B chooses `straight`",
        "+1 when A chooses `straight` and B chooses `swerve`",
        "−10 when A chooses `straight` and B chooses `straight`",
    ]


def test_a_factor_one_minus_a_move_reads_as_not_choosing_it() -> None:
    # An author's trial: "-1.0 * chose('RU', 'escort') * (1 - chose('US', 'deploy'))"
    # read "minus ... when RU chooses `escort`", the second factor dropped.
    text = (SCENARIOS / "textbook" / "chicken.yaml").read_text("utf-8")
    old = "- 10 * chose('A', 'straight') * chose('B', 'straight')"
    assert old in text
    text = text.replace(old, "- 10 * chose('A', 'straight') * (1 - chose('B', 'swerve'))", 1)
    compiled = compile_text(text, "chicken.yaml")
    words = payoff_in_words(compiled, compiled.actors[0])
    assert words[-1] == "−10 when A chooses `straight` and B does not choose `swerve`"


def test_payoffs_in_words_give_weights_conditions_and_directions() -> None:
    compiled = load(ALASKA)
    us = payoff_in_words(compiled, compiled.actors[compiled.actor_index("US")])
    assert "more `us_credibility` is better: +3 per index 0-1" in us
    assert "less `us_aid_level` is better: −1 per fraction of earlier US aid to Ukraine" in us
    assert "+2.5 when `summit` is `success`; otherwise −1 when `summit` is `collapse`" in us
    dprk = payoff_in_words(compiled, compiled.actors[compiled.actor_index("DPRK")])
    # Pay per soldier grows with Russia's gap and the troops sent; range with range.
    pay = next(line for line in dprk if line.startswith("plus `0.5 * dprk_fx"))
    assert pay.endswith("rises with `ru_manpower_gap_k`, `dprk_troops_k`")
    assert any("`(dprk_icbm_range_km" in line and "rises with" in line for line in dprk)
    tiny = load(TINY)
    blue = payoff_in_words(tiny, tiny.actors[0])
    assert blue[-1] == "once, if the run ends in **Escalation to war**: −10"


def test_doc_prints_the_page_or_writes_it(tmp_path: Path) -> None:
    printed = CliRunner().invoke(cli, ["doc", str(TINY)])
    assert printed.exit_code == 0
    assert "### Blue: Blue Republic" in printed.output
    out = tmp_path / "tiny.md"
    written = CliRunner().invoke(cli, ["doc", str(TINY), "--out", str(out)])
    assert written.exit_code == 0, written.output
    # The same page, whose first line says how to write it again where it is.
    page = out.read_text(encoding="utf-8")
    first, rest = page.split("\n", 1)
    assert rest == printed.output.split("\n", 1)[1]
    assert f"regenerate with `wargame doc {TINY.as_posix()} --out {out.as_posix()}`" in first
    assert "--out" not in printed.output.split("\n", 1)[0]
    # A page wargame doc wrote is its own: written again without --force.
    again = CliRunner().invoke(cli, ["doc", str(TINY), "--out", str(out)])
    assert again.exit_code == 0, again.output


def test_doc_never_writes_over_a_users_file_without_force(tmp_path: Path) -> None:
    mine = tmp_path / "notes.md"
    mine.write_text("my notes\n")
    refused = CliRunner().invoke(cli, ["doc", str(TINY), "--out", str(mine)])
    assert refused.exit_code == 2
    assert refused.output.strip().splitlines() == [
        f"{mine} exists and was not written by `wargame doc`; pass --force to replace it"
    ]
    assert mine.read_text() == "my notes\n"
    forced = CliRunner().invoke(cli, ["doc", str(TINY), "--out", str(mine), "--force"])
    assert forced.exit_code == 0
    assert mine.read_text().startswith(MARKER)


def test_doc_of_a_folder_writes_one_page_per_scenario(tmp_path: Path) -> None:
    folder = tmp_path / "lib"
    (folder / "sub").mkdir(parents=True)
    (folder / "tiny.yaml").write_text(TINY.read_text())
    (folder / "sub" / "chicken.yaml").write_text(
        (SCENARIOS / "textbook" / "chicken.yaml").read_text()
    )
    out = tmp_path / "pages"
    result = CliRunner().invoke(cli, ["doc", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["chicken.md", "tiny.md"]
    no_out = CliRunner().invoke(cli, ["doc", str(folder)])
    assert no_out.exit_code == 2
    assert "needs --out DIR" in no_out.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.yaml"], "missing.yaml: cannot read file: No such file"),
        ([str(ROOT / "tests" / "broken" / "bad_date.yaml")], "month must be in 1..12"),
    ],
)
def test_doc_of_a_bad_scenario_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["doc", *args])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert message in result.output


AUTHORING = """\
format: 1
scenario:
  id: crisis
  title: A crisis with every authoring feature
  start_date: 2026-01-05
  round_days: 1
  rounds: 5
state:
  alert: {initial: 1, min: 0, max: 5}
  reply: {values: [none, yes, no], initial: none}
define:
  risk: 0.05 * alert
actors:
  A:
    name: Alpha
    payoff: {weights: {alert: -1}}
    actions:
      calm: {effects: {alert: "-= 1"}}
      wait: {}
  B:
    name: Beta
    payoff: {expression: "2 if reply == 'yes' else 0"}
    actions:
      wait: {}
every_round:
  - id: drift
    description: Alert creeps up.
    effects: {alert: "+= 0.5"}
injects:
  - id: incident
    hazard: risk
    when: alert >= 2
    text: A patrol is fired on.
branches:
  - id: offer
    round: 3
    decided_by: B
    variable: reply
    outcomes:
      'yes': {text: Beta accepts.}
      'no': {text: Beta refuses.}
endings:
  - id: calm
    when: alert < 1
  - id: tense
"""


def test_the_page_shows_named_expressions_processes_hazards_and_decisions(
    tmp_path: Path,
) -> None:
    path = tmp_path / "crisis.yaml"
    path.write_text(AUTHORING)
    page = scenario_page(load(path), "crisis.yaml")
    assert "## Named expressions" in page and "| `risk` | `0.05 * alert` |" in page
    assert "## Background processes" in page
    assert "| `drift` | always | Alert creeps up. | `alert += 0.5` |" in page
    assert "by chance: with probability `risk` in each round while `alert >= 2` holds" in page
    assert "Decided by **B**: its options are the outcomes" in page
    child = tmp_path / "child.yaml"
    child.write_text("extends: crisis.yaml\nscenario: {id: child, title: Child}\n")
    page = scenario_page(load(child), "child.yaml")
    assert "It extends `crisis.yaml`: this page shows the merged scenario" in page
    assert "### A: Alpha" in page


def test_a_page_without_the_optional_sections_leaves_them_out() -> None:
    page = scenario_page(load(TINY), "tiny.yaml")
    assert "## Named expressions" not in page and "## Background processes" not in page


def test_a_page_of_an_authors_own_file_says_how_to_regenerate_that_page():
    from sim.analysis.scenariodoc import scenario_page

    mine = scenario_page(load(TINY), "mine/strait.yaml").splitlines()[0]
    assert mine.endswith("regenerate with `wargame doc mine/strait.yaml` -->")
    library = scenario_page(load(ALASKA), "scenarios/alaska.yaml").splitlines()[0]
    assert library.endswith(f"regenerate with `{REGENERATE}` -->")

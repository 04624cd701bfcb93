"""The documentation's examples are run: they cannot rot."""

import re

from sim.compiled import compile_text
from sim.model import play
from tests.conftest import ROOT, TINY


def yaml_blocks(path):
    return re.findall(r"```yaml\n(.*?)```", path.read_text(), flags=re.S)


def test_complete_example_in_the_format_doc_loads_and_plays():
    example = yaml_blocks(ROOT / "docs" / "scenario-format.md")[-1]
    compiled = compile_text(example, "docs/scenario-format.md")
    assert compiled.warnings == []
    assert {a.id for a in compiled.actors} == {"Blue", "Red", "Ally"}
    records = play(compiled, 1, list(range(200))).records()
    assert set(records["ending"]) <= {"war", "deal", "standoff"}


def test_complete_example_is_the_committed_test_scenario():
    example = yaml_blocks(ROOT / "docs" / "scenario-format.md")[-1]
    committed = "\n".join(
        line for line in TINY.read_text().splitlines() if not line.startswith("#")
    ).strip()
    assert example.strip() == committed


def test_every_section_of_the_schema_is_documented():
    from sim.scenario import Scenario

    text = (ROOT / "docs" / "scenario-format.md").read_text()
    for section in Scenario.model_fields:
        assert f"`{section}`" in text, section

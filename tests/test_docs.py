"""The documentation's examples are run: they cannot rot."""

import re

from sim.engine.loading import load_text
from sim.engine.model import play
from tests.conftest import ROOT, TINY


def yaml_blocks(path):
    return re.findall(r"```yaml\n(.*?)```", path.read_text(), flags=re.S)


def test_complete_example_in_the_format_doc_loads_and_plays():
    example = yaml_blocks(ROOT / "docs" / "scenario-format.md")[-1]
    compiled = load_text(example, "docs/scenario-format.md")
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
    from sim.language.schema import Scenario

    text = (ROOT / "docs" / "scenario-format.md").read_text()
    for section in Scenario.model_fields:
        assert f"`{section}`" in text, section


def test_the_readme_shows_what_wargame_run_really_prints(tmp_path):
    from sim.api import run_batch
    from sim.batch.options import BatchOptions
    from sim.batch.summary import format_summary
    from sim.engine.loading import load
    from tests.conftest import ALASKA

    readme = (ROOT / "README.md").read_text()
    shown = readme.split("## What `wargame run` prints\n\n```\n", 1)[1].split("```", 1)[0]
    table = shown.rstrip("\n").rsplit("\n\n", 1)[0]  # without the timing line
    options = BatchOptions(runs=10_000, executor="inprocess", plots=False, keep_rounds=False)
    results = run_batch(load(ALASKA), tmp_path / "out", options)
    assert format_summary(results.summary) == table


def test_the_readme_module_map_names_every_module_of_sim_and_no_other():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## How it works", 1)[1].split("Benchmarks are in", 1)[0]
    named = set()
    for item in re.split(r"^- ", section, flags=re.M)[1:]:
        package = re.match(r"`(sim/\w+/)`", item)
        if package:
            named |= {package[1] + name for name in re.findall(r"`(\w+\.py)`", item)}
        else:
            named |= set(re.findall(r"`(sim/\w+\.py)`", item))
    modules = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "sim").rglob("*.py")
        if path.name != "__init__.py" or path.parent.name == "sim"
    }
    assert named == modules, (sorted(named - modules), sorted(modules - named))


def test_the_architecture_page_is_linked_and_names_every_layer():
    readme = (ROOT / "README.md").read_text()
    assert "(docs/architecture.md)" in readme
    page = (ROOT / "docs" / "architecture.md").read_text()
    for layer in sorted((ROOT / "sim").glob("*/__init__.py")):
        assert f"sim.{layer.parent.name}" in page, layer.parent.name


def test_the_readme_sweep_and_explain_example_runs(tmp_path, monkeypatch, capsys):
    section = (ROOT / "README.md").read_text("utf-8").split("## Analysis from Python", 1)[1]
    code = re.findall(r"```python\n(.*?)```", section, flags=re.S)[1]
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "Wider war" in printed
    assert re.search(r"parameters explain \d+\.\d% of the variance", printed)
    assert (tmp_path / "alaska-sobol.html").is_file()
    assert (tmp_path / "results" / "alaska-sobol" / "explain" / "explain.json").is_file()


def test_the_explain_page_names_the_rows_a_sobol_sweeps_ranking_uses():
    # The rows are those independent_runs picks: A of the first replicate and B of the
    # second (the page said "A and B of the first replicate", which share their chance).
    import numpy as np

    from sim.batch.designs import SHARED_RANDOMNESS, independent_runs

    design = {"kind": "sobol", "params": ["x"], "n": 2, "rows_per_sample": 4,
              "replicates": 2, "randomness": SHARED_RANDOMNESS}  # fmt: skip
    runs = np.arange(16)
    # Replicate 0 is runs 0-7 (A at 0 and 4), replicate 1 runs 8-15 (B at 11 and 15).
    assert runs[independent_runs(design, runs)].tolist() == [0, 4, 11, 15]
    page = " ".join((ROOT / "docs" / "explain.md").read_text("utf-8").split())
    assert "the row A of the first replicate and the row B of the second" in page
    assert "(A and B of the first replicate)" not in page


def test_the_readme_names_every_column_of_runs_parquet_and_the_unreached_branch():
    # alaska: the counteroffensive branch comes only after the summit collapses, so in
    # the other runs it is never reached: outcome "" and round 0, as the README says.
    from sim.engine.loading import load
    from tests.conftest import ALASKA

    records = play(load(ALASKA), 1, list(range(300))).records()
    readme = (ROOT / "README.md").read_text("utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `runs.parquet` |"))
    for column in records:
        family = column.split(".", 1)[0] + ("." if "." in column else "")
        assert re.search(rf"`{re.escape(family)}(\*|<id>)?`", row), column
    unreached = records["branch.counteroffensive"] == ""
    assert 0 < unreached.sum() < 300
    assert (records["branch_round.counteroffensive"][unreached] == 0).all()
    assert (records["branch_round.counteroffensive"][~unreached] >= 1).all()
    assert '`""`, the empty string, where the branch was never reached' in row
    assert "`0` where never reached" in row

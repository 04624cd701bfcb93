"""The scenario library: every file in scenarios/ validates, plays and reaches its endings.

Every scenario (the library, alaska and the textbook games) validates with no warning,
plays 2,000 runs, and reaches every ending it declares in at least 2% of 10,000 runs at
the default seed. The library's crises (korea-deterrence, taiwan-strait, alaska-collapse)
are held to alaska's standard too: every parameter cites a source with a confidence,
every claim moves some ending or branch outcome by a point at the ends of its range
(or is marked context only), and every actor's own play, against always holding, moves
one.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pytest

from sim.analysis.scenariodoc import scenario_files
from sim.engine.loading import load
from sim.engine.model import WargameModel, play
from tests.conftest import ROOT

SCENARIOS = ROOT / "scenarios"
DEFAULT_SEED = 20250815
#: The library's crises, held to alaska's standard of sources and live levers.
CRISES = ["korea-deterrence.yaml", "taiwan-strait.yaml", "alaska-collapse.yaml"]


def name_of(path: Path) -> str:
    return path.relative_to(SCENARIOS).as_posix()


ALL = scenario_files(SCENARIOS)
CRISIS_PATHS = [SCENARIOS / name for name in CRISES if (SCENARIOS / name).exists()]


def test_the_library_holds_its_crises() -> None:
    assert [p.name for p in CRISIS_PATHS] == CRISES


@pytest.mark.parametrize("path", ALL, ids=name_of)
def test_every_scenario_validates_with_no_warning(path: Path) -> None:
    assert load(path).warnings == []


@pytest.mark.parametrize("path", ALL, ids=name_of)
def test_every_scenario_plays_2000_runs(path: Path) -> None:
    compiled = load(path)
    model = play(compiled, 1, np.arange(2000), keep_trajectories=False)
    records = model.records()
    assert set(records["ending"]) <= {e.id for e in compiled.endings}
    assert len(records["ending"]) == 2000
    # Every round's equilibrium is found in every run (a library scenario that printed
    # "did not converge" would teach users to ignore the warning).
    assert int((model.unconverged > 0).sum()) == 0


@functools.cache
def ending_shares(path: Path) -> dict[str, float]:
    """Each ending's share of 10,000 runs at the default seed."""
    compiled = load(path)
    model = play(compiled, DEFAULT_SEED, np.arange(10_000), keep_trajectories=False)
    found = model.records()["ending"]
    return {e.id: float(np.mean(found == e.id)) for e in compiled.endings}


@pytest.mark.parametrize("path", ALL, ids=name_of)
def test_every_ending_is_reached_in_2_percent_of_10000_runs(path: Path) -> None:
    for ending, share in ending_shares(path).items():
        assert share >= 0.02, f"{name_of(path)}: ending {ending} in {share:.1%} of runs"


@pytest.mark.parametrize("path", CRISIS_PATHS, ids=name_of)
def test_the_library_page_shows_the_true_ending_mix(path: Path) -> None:
    page = (ROOT / "docs" / "library.md").read_text()
    section = page.split(f"`scenarios/{path.name}`", 1)[1].split("\n## ", 1)[0]
    for ending, share in ending_shares(path).items():
        row = re.search(rf"^\| `{ending}` \| [^|]+ \| ([\d.]+)% \|$", section, flags=re.M)
        assert row is not None, f"docs/library.md has no row for {ending}"
        assert row[1] == f"{100 * share:.1f}", (
            f"docs/library.md: {ending} is {100 * share:.1f}% of 10,000 runs now, not {row[1]}%"
        )


@pytest.mark.parametrize("path", CRISIS_PATHS, ids=name_of)
def test_every_crisis_parameter_cites_a_source_with_a_confidence(path: Path) -> None:
    spec = load(path).loaded.spec
    assert spec.scenario.sources
    reliabilities = {s.id: s.reliability for s in spec.scenario.sources}
    for name, param in spec.parameters.items():
        assert param.source in reliabilities, name
        assert param.confidence is not None and param.description, name
    for commitment in spec.commitments:
        assert commitment.source in reliabilities and commitment.confidence, commitment.id


def shares(
    model: WargameModel, part: slice = slice(None), records: dict | None = None
) -> dict[str, float]:
    """Share of runs of each ending and branch outcome (in the runs at ``part``).

    ``records``: the model's records, when already at hand.
    """
    records = model.records() if records is None else records
    found: dict[str, float] = {}
    columns = ["ending"] + [f"branch.{b.id}" for b in model.compiled.branches]
    for column in columns:
        values, counts = np.unique(records[column][part], return_counts=True)
        for value, count in zip(values, counts, strict=True):
            found[f"{column}={value}"] = count / counts.sum()
    return found


def biggest_change(a: dict[str, float], b: dict[str, float]) -> float:
    return max(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in set(a) | set(b))


def extremes(param) -> tuple[float, float] | None:
    if getattr(param, "low", None) is not None and getattr(param, "high", None) is not None:
        return float(param.low), float(param.high)
    if hasattr(param, "p"):
        return 0.0, 1.0
    if hasattr(param, "values") and not isinstance(param.values[0], str):
        return float(min(param.values)), float(max(param.values))
    return None


def shares_at_ends(
    compiled, seed: int, runs: int, ends: dict[str, tuple[float, float]]
) -> dict[str, tuple[dict[str, float], dict[str, float]]]:
    """The shares with each parameter at its low and at its high end, the others drawn.

    What ``play(compiled, seed, range(runs), {name: end})`` gives for each name and end,
    played as one block (each setting a slice of it, on the same runs' streams), which
    is several times faster than a small block per setting: a run's results do not
    depend on its block (tests/test_determinism.py).
    """
    drawn = WargameModel(compiled, seed, np.arange(runs), keep_trajectories=False).ctx.params
    names = compiled.param_names
    settings = [(name, end) for name, pair in ends.items() for end in pair]
    design = {name: np.tile(drawn[names.index(name)], len(settings)) for name in ends}
    for k, (name, end) in enumerate(settings):
        design[name][k * runs : (k + 1) * runs] = end
    size = runs * len(settings)
    model = play(
        compiled,
        seed,
        np.arange(size),
        keep_trajectories=False,
        design=design,
        streams=np.tile(np.arange(runs), len(settings)),
    )
    records = model.records()
    found = [shares(model, slice(k * runs, (k + 1) * runs), records) for k in range(len(settings))]
    return {name: (found[2 * i], found[2 * i + 1]) for i, name in enumerate(ends)}


@pytest.mark.parametrize("path", CRISIS_PATHS, ids=name_of)
def test_every_claim_moves_an_outcome_or_is_marked_context_only(path: Path) -> None:
    compiled = load(path)
    parameters = compiled.loaded.spec.parameters
    idle = [name for name, param in parameters.items() if param.context_only]
    ends = {
        name: found
        for name, param in parameters.items()
        if not param.context_only and (found := extremes(param)) is not None
    }
    for name, (low, high) in shares_at_ends(compiled, 11, 2000, ends).items():
        assert biggest_change(low, high) >= 0.01, name
    # A context-only claim says why in a comment of its own (in the file that states it:
    # the scenario, or the one it extends).
    for name in idle:
        block = parameter_block(path, name)
        assert "context_only: true" in block and "Context only" in block, name


def parameter_block(path: Path, name: str) -> str:
    """The text of a parameter's entry, in the file or the file it extends."""
    text = path.read_text()
    start = text.find(f"\n  {name}:")
    if start < 0 or text[start:].split("\n", 2)[1].strip() == f"{name}: null":
        parent = re.search(r"^extends: *(\S+)", text, flags=re.M)
        assert parent is not None, name
        return parameter_block(path.parent / parent[1], name)
    start += 1
    following = re.search(r"\n  [A-Za-z_]", text[start:])
    return text[start : start + following.start()] if following else text[start:]


@pytest.mark.parametrize("path", CRISIS_PATHS, ids=name_of)
def test_every_actors_own_play_moves_an_outcome(path: Path) -> None:
    compiled = load(path)
    runs = np.arange(3000)
    free = WargameModel(compiled, 7, runs, keep_trajectories=False)
    free.run_model()
    for actor in compiled.actors:
        assert "hold" in [a.id for a in actor.actions], actor.id
        held = WargameModel(
            compiled,
            7,
            runs,
            choices={(r, actor.id): "hold" for r in range(1, compiled.rounds + 1)},
            keep_trajectories=False,
        )
        held.run_model()
        assert biggest_change(shares(free), shares(held)) >= 0.01, actor.id


def test_the_korean_ladder_has_six_rungs_and_ways_down() -> None:
    compiled = load(SCENARIOS / "korea-deterrence.yaml")
    spec = compiled.loaded.spec
    assert {a.id for a in compiled.actors} == {"DPRK", "ROK", "US", "JP"}
    rung = spec.state["rung"]
    assert rung.max - rung.min >= 6
    # De-escalation: moves and outcomes that bring the ladder down.
    down = [
        f"{actor_id}.{action_id}"
        for actor_id, actor in spec.actors.items()
        for action_id, action in actor.actions.items()
        if str(action.effects.get("rung", "")).startswith("-=")
    ]
    assert {"DPRK.offer_freeze", "ROK.offer_talks", "US.offer_talks"} <= set(down)
    text = (SCENARIOS / "korea-deterrence.yaml").read_text()
    for fact in ("THAAD", "F-35A", "Hwasong-19", "missile"):
        assert fact in text, fact
    reasoning = {a.id: a.reasoning for a in compiled.actors}
    assert all(mode != "myopic" for mode in reasoning.values())
    assert any(b.decided_by is not None for b in compiled.branches)
    assert any(b.hazard is not None for b in compiled.branches)


def test_the_collapse_extends_alaska_and_starts_the_day_after() -> None:
    compiled = load(SCENARIOS / "alaska-collapse.yaml")
    spec = compiled.loaded.spec
    assert "extends: alaska.yaml" in (SCENARIOS / "alaska-collapse.yaml").read_text()
    assert spec.scenario.start_date.isoformat() == "2025-08-16"
    assert spec.scenario.round_days * spec.scenario.rounds >= 13 * 7  # three months
    assert {a.id for a in compiled.actors} == {"US", "RU", "DPRK", "UA", "EU", "JP", "ROK"}
    # The summit is over: collapsed from the start, Russia short of the leaked 200,000.
    assert spec.state["summit"].initial == "collapse"
    assert spec.state["ru_manpower_gap_k"].initial == "ru_troops_needed_k"
    assert "summit" not in {b.id for b in compiled.branches}
    assert {"grand_bargain", "frozen_conflict"}.isdisjoint(e.id for e in compiled.endings)
    # Article 4, Pyongyang's answer, the counter-offensive risk, Tokyo's and Seoul's moves.
    assert [c.id for c in compiled.commitments] == ["article4"]
    answer = next(b for b in compiled.branches if b.id == "pyongyang_answer")
    assert compiled.actors[answer.decided_by].id == "DPRK"
    counteroffensive = next(b for b in compiled.branches if b.id == "counteroffensive")
    assert counteroffensive.hazard is not None
    assert "weapons_to_ukraine" in spec.actors["ROK"].actions
    assert "sanction_axis" in spec.actors["JP"].actions


def test_the_format_doc_and_the_readme_list_every_scenario() -> None:
    listed = (ROOT / "docs" / "scenario-format.md").read_text()
    readme = (ROOT / "README.md").read_text()
    for path in ALL:
        written = path.relative_to(ROOT).as_posix()
        assert f"`{written}`" in listed, written
        assert written in readme, written
        page = f"scenarios/{load(path).id}.md"
        assert f"]({page})" in listed, page

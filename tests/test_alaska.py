"""The first scenario: the Alaska summit of August 2025, built from one article."""

import math
import re

import numpy as np
import pytest
from click.testing import CliRunner

from cli import cli
from sim.engine.loading import load, load_text
from sim.engine.model import WargameModel, play
from tests.conftest import ALASKA
from tests.test_library import biggest_change, shares, shares_at_ends

ARTICLE = "article_2025_08_13"


@pytest.fixture(scope="module")
def alaska():
    return load(ALASKA)


@pytest.fixture(scope="module")
def records(alaska):
    return play(alaska, 20250815, np.arange(10_000)).records()


def test_validates_cleanly_with_no_dead_levers(alaska):
    result = CliRunner().invoke(cli, ["validate", str(ALASKA)])
    assert result.exit_code == 0, result.output
    assert "7 actors" in result.output
    assert alaska.warnings == []


def test_has_the_seven_actors_weekly_rounds_and_four_endings(alaska):
    assert {a.id for a in alaska.actors} == {"US", "RU", "DPRK", "UA", "EU", "JP", "ROK"}
    meta = alaska.loaded.spec.scenario
    assert meta.round_days == 7 and meta.rounds >= 12
    assert len(alaska.endings) >= 4
    assert meta.sources[0].reliability == "low"


def _covers(param, figure):
    d = param.model_dump()
    if "low" in d and "high" in d and d["low"] is not None and d["high"] is not None:
        return d["low"] <= figure <= d["high"]
    if "values" in d:
        return figure in d["values"]
    return d.get("value") == figure


@pytest.mark.parametrize(
    ("claim", "figure"),
    [
        ("12 million shells", 12),
        ("~40% of front-line consumption", 0.4),
        ("more than 100,000 DPRK troops", 100),
        ("5,000 deminers", 5),
        ("casualty rate above 50%", 0.5),
        ("Arctic LNG 2: 19.8 Mt/yr", 19.8),
        ("US aid cut 40%", 0.4),
        ("EU tariff list $84bn", 84),
        ("200,000 troops within three months", 200),
        ("$2.4bn a year to the DPRK", 2.4),
        ("Hwasong-19 range 12,000 km", 12000),
        ("Hwasong-19 range 15,000 km", 15000),
        ("20 more F-35A", 20),
        ("three months = 13 weeks", 13),
    ],
)
def test_every_figure_of_the_article_is_a_sourced_uncertain_input(alaska, claim, figure):
    sourced = [p for p in alaska.loaded.spec.parameters.values() if p.source == ARTICLE]
    assert any(_covers(p, figure) and p.confidence for p in sourced), claim


@pytest.mark.parametrize("word", ["An-148", "Type 03", "THAAD", "Article 4", "ADM", "Congress"])
def test_yes_no_claims_are_sourced_parameters(alaska, word):
    spec = alaska.loaded.spec
    assert any(
        word in p.description and p.source == ARTICLE and p.confidence
        for p in spec.parameters.values()
    ), word


def test_unnamed_intelligence_and_leaked_claims_are_low_confidence(alaska):
    for name, param in alaska.loaded.spec.parameters.items():
        text = param.description.lower()
        if "intelligence" in text or "leaked" in text:
            assert param.confidence == "low", name


def test_summit_is_a_branch_on_15_august_driven_by_us_russia_and_ukraine(alaska):
    summit = next(b for b in alaska.branches if b.id == "summit")
    model = play(alaska, 1, [0])
    assert model.date_of(summit.round).isoformat() == "2025-08-15"
    assert {o.id for o in summit.outcomes} == {"success", "collapse"}
    readers = set()
    for outcome in summit.outcomes:
        if outcome.probability is not None:
            readers |= outcome.probability.actors_read
    assert {"US", "RU", "UA"} <= readers
    commitment_ids = [c.id.lower() for c in alaska.commitments]
    assert any("article4" in c or "article_4" in c for c in commitment_ids)


def test_both_summit_outcomes_and_every_ending_are_reachable(alaska, records):
    n = len(records["ending"])
    success = np.mean(records["branch.summit"] == "success")
    assert 0.05 <= success <= 0.95
    for ending in alaska.endings:
        share = np.mean(records["ending"] == ending.id)
        # At least 5% of runs, with 3 standard errors of room below the observed share.
        assert share - 3 * math.sqrt(share * (1 - share) / n) >= 0.05, (ending.id, share)


SUMMIT_PARTIES = ("US", "RU", "UA", "EU")


#: How each actor reasons (docs/alaska.md says why).
REASONING = {
    "US": "equilibrium",
    "UA": "equilibrium",
    "EU": "beliefs",
    "DPRK": "level-k",
    "RU": "myopic",
    "JP": "myopic",
    "ROK": "myopic",
}


def test_the_summit_parties_foresee_the_summit_and_play_an_equilibrium(alaska):
    for actor in alaska.actors:
        # The US and Ukraine play the round's QRE; Brussels learns the others' habits;
        # Russia's best move does not depend on the others' (see the next test).
        assert actor.reasoning == REASONING[actor.id], actor.id
        if actor.id in SUMMIT_PARTIES:
            assert actor.foresight >= 2, actor.id
    # Without foresight their first-round moves ignore the stakes; with it they change.
    blind_text = ALASKA.read_text().replace("    foresight: 2\n", "    foresight: 0\n")
    blind = load_text(blind_text, "alaska.yaml")
    runs = np.arange(3000)
    seeing = WargameModel(alaska, 5, runs)
    unseeing = WargameModel(blind, 5, runs)
    seeing.step()
    unseeing.step()
    for a, b in zip(seeing.actors, unseeing.actors, strict=True):
        if a.actor_id in SUMMIT_PARTIES:
            assert (a.decision.choice != b.decision.choice).mean() > 0.2, a.actor_id
    # ... and the summit's odds move by far more than chance between two batches.
    n = 3000
    with_sight = np.mean(play(alaska, 5, runs).records()["branch.summit"] == "success")
    without = np.mean(play(blind, 5, runs).records()["branch.summit"] == "success")
    se = math.sqrt(2 * 0.25 / n)
    assert abs(with_sight - without) > 3 * se, (with_sight, without)


@pytest.fixture(scope="module")
def as_written(alaska):
    return outcome_paths(play(alaska, 3, np.arange(20_000), keep_trajectories=False))


def outcome_paths(model) -> np.ndarray:
    records = model.records()
    columns = ("ending", "branch.summit", "branch.counteroffensive")
    return np.array(
        ["|".join(str(records[c][i]) for c in columns) for i in range(len(records["ending"]))]
    )


@pytest.mark.parametrize("actor", ["US", "UA", "EU", "DPRK"])
def test_every_actors_reasoning_changes_an_outcome(alaska, as_written, actor):
    # The actor's reasoning against the same actor myopic, on common random numbers
    # (what explain --measure does): some ending or branch outcome must move, and by
    # more than chance: an exact two-sided sign test on the runs that changed it.
    from scipy.stats import binomtest

    myopic = outcome_paths(
        play(alaska, 3, np.arange(20_000), overrides={f"{actor}.reasoning": 0.0},
             keep_trajectories=False)
    )  # fmt: skip
    smallest = 1.0
    for part in range(3):
        written = np.array([p.split("|")[part] for p in as_written])
        other = np.array([p.split("|")[part] for p in myopic])
        for value in np.unique(written):
            gained = int(np.sum((written == value) & (other != value)))
            lost = int(np.sum((written != value) & (other == value)))
            if gained + lost:
                smallest = min(smallest, binomtest(gained, gained + lost).pvalue)
    assert smallest < 0.001, (actor, smallest)


@pytest.mark.parametrize("actor", ["RU", "JP", "ROK"])
def test_the_myopic_actors_would_gain_nothing_from_reasoning(alaska, as_written, actor):
    # Russia in the equilibrium, Japan and South Korea learning habits (the reasoning of
    # version 0.2): at most a handful of the 20,000 runs change (3, 2 and 1 with seed 3).
    mode = {"RU": 3.0, "JP": 2.0, "ROK": 2.0}[actor]  # equilibrium, beliefs, beliefs
    reasoned = outcome_paths(
        play(alaska, 3, np.arange(20_000), overrides={f"{actor}.reasoning": mode},
             keep_trajectories=False)
    )  # fmt: skip
    assert np.sum(reasoned != as_written) <= 5


@pytest.mark.parametrize("actor", ["US", "RU", "DPRK", "UA", "EU", "JP", "ROK"])
def test_every_actors_choices_reach_an_ending_or_a_branch(alaska, actor):
    # The actor's own play against always holding, on common random numbers.
    runs = np.arange(3000)
    free = WargameModel(alaska, 7, runs, keep_trajectories=False)
    free.run_model()
    held = WargameModel(
        alaska,
        7,
        runs,
        choices={(r, actor): "hold" for r in range(1, alaska.rounds + 1)},
        keep_trajectories=False,
    )
    held.run_model()
    assert biggest_change(shares(free), shares(held)) >= 0.01


def extremes(param) -> tuple[float, float] | None:
    if hasattr(param, "low") and param.low is not None and hasattr(param, "high"):
        return float(param.low), float(param.high)
    if hasattr(param, "p"):
        return 0.0, 1.0
    if hasattr(param, "values"):
        return float(min(param.values)), float(max(param.values))
    return None


def test_every_article_claim_moves_an_outcome_or_is_marked_context_only(alaska):
    spec = alaska.loaded.spec
    idle = [name for name, param in spec.parameters.items() if param.context_only]
    ends = {
        name: found
        for name, param in spec.parameters.items()
        if name not in idle and (found := extremes(param)) is not None
    }
    for name, (low, high) in shares_at_ends(alaska, 11, 2000, ends).items():
        assert biggest_change(low, high) >= 0.01, name
    # A context-only claim says so in its own comment in the file.
    text = ALASKA.read_text()
    for name in idle:
        start = text.index(f"\n  {name}:") + 1
        following = re.search(r"\n  [A-Za-z_]", text[start:])
        block = text[start : start + following.start()] if following else text[start:]
        assert "context_only: true" in block and "Context only" in block, name

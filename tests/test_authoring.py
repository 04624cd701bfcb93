"""Authoring features: named expressions, per-round hazards, background processes,
branches decided by an actor, multi-line expressions, and scenarios that extend others.

Each reference is worked out by hand in the test: a hazard's per-round frequency against
its declared probability within three standard errors, a decision node's choice
probability from the logit of what each outcome is worth.
"""

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit

from sim.engine.loading import load, load_text
from sim.engine.model import WargameModel, play
from sim.errors import ScenarioError
from tests.conftest import HEADER


def compiled_with(body: str, rounds: int = 1):
    return load_text(HEADER.format(rounds=rounds) + body, "author.yaml")


def problems_of(body: str, rounds: int = 1) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        compiled_with(body, rounds)
    return [str(p) for p in caught.value.problems]


HAZARD = """
parameters:
  p: {dist: fixed, value: 0.15}
state:
  alarms: {initial: 0}
actors:
  A: {name: Alpha, actions: {wait: {}}}
injects:
  - id: incident
    hazard: p
    text: An incident.
    effects: {alarms: "+= 1"}
endings:
  - id: end
metrics: [alarms]
"""


def test_a_hazard_fires_with_its_probability_in_each_round_until_it_has_fired():
    compiled = compiled_with(HAZARD, rounds=6)
    model = play(compiled, 3, np.arange(20_000))
    first = np.argmax(model.trajectories[0] > 0, axis=0)  # round of the incident (0: never)
    fired = model.trajectories[0, -1] > 0
    assert (model.trajectories[0, -1] <= 1).all()  # at most once
    p = 0.15
    survivors = 20_000
    for round_ in range(1, 7):
        hits = int(((first == round_) & fired).sum())
        se = math.sqrt(p * (1 - p) / survivors)
        assert abs(hits / survivors - p) <= 3 * se, (round_, hits / survivors)
        survivors -= hits


HAZARD_BRANCH = """
state:
  tension: {initial: 1}
  shot: {values: [no, yes], initial: no}
actors:
  A:
    name: Alpha
    rationality: 1
    foresight: 1
    payoff:
      expression: "-10 if shot == 'yes' else 0"
    actions:
      stand_down: {cost: 0.5, effects: {tension: "= 0"}}
      keep_flying: {}
branches:
  - id: u2
    hazard: 0.1 * tension
    variable: shot
    outcomes:
      yes: {probability: 1}
      no: {probability: rest}
endings:
  - id: end
metrics: [tension]
"""


def test_foresight_weighs_a_hazard_by_its_chance_this_round():
    # Keep flying: the branch resolves this round with probability 0.1 and then costs
    # 10 a round for the 3 rounds from now: -3. Standing down: hazard 0, cost 0.5.
    compiled = compiled_with(HAZARD_BRANCH, rounds=3)
    model = WargameModel(compiled, 1, np.arange(4))
    model.step()
    p = model.actors[0].decision.probabilities[:, 0]
    assert p[0] == pytest.approx(expit(-0.5 - (-0.1 * 3 * 10)))


DECIDED = """
state:
  deal: {values: [open, signed, refused], initial: open}
  trade: {initial: 0}
actors:
  A:
    name: Alpha
    rationality: 0
    actions: {wait: {}}
  B:
    name: Beta
    rationality: 0.5
    payoff:
      weights: {trade: 1}
    actions: {wait: {}}
branches:
  - id: offer
    round: 1
    decided_by: B
    variable: deal
    outcomes:
      signed: {effects: {trade: "+= 1"}}
      refused: {}
endings:
  - id: end
metrics: [trade]
"""


def test_an_actor_decides_a_branch_by_what_each_outcome_is_worth_to_it():
    # Signing is worth +1 a round for the 4 rounds left: 4 more than refusing.
    compiled = compiled_with(DECIDED, rounds=4)
    model = play(compiled, 9, np.arange(20_000))
    signed = np.mean(model.records()["branch.offer"] == "signed")
    expected = expit(0.5 * 4)
    assert abs(signed - expected) <= 3 * math.sqrt(expected * (1 - expected) / 20_000)


def test_a_person_can_take_the_deciding_seat():
    compiled = compiled_with(DECIDED, rounds=4)
    model = WargameModel(compiled, 9, np.arange(50))
    model.set_branch_choice(1, "offer", "refused")
    model.run_model()
    assert set(model.records()["branch.offer"]) == {"refused"}


def test_named_expressions_are_inlined_where_used_and_may_use_each_other():
    compiled = compiled_with(
        """
        parameters:
          k: {dist: fixed, value: 3}
        define:
          double: 2 * x
          big: double + k > 10
        state:
          x: {initial: 4}
        actors:
          A: {name: Alpha, actions: {grow: {effects: {x: "+= 1"}}}}
        endings:
          - id: big_end
            when: big
          - id: small
        metrics:
          - id: twice
            expression: double
        """.replace("\n        ", "\n"),
        rounds=1,
    )
    records = play(compiled, 1, np.arange(3)).records()
    assert list(records["metric.twice"]) == [10.0] * 3  # x = 5 after one round
    assert set(records["ending"]) == {"big_end"}  # double + k = 10 + 3 > 10


def test_a_define_cycle_and_a_clash_are_load_errors():
    found = problems_of(
        """
define:
  a: b + 1
  b: a * 2
  x: 1
state:
  x: {initial: 0}
actors:
  A: {name: Alpha, actions: {wait: {}}}
endings:
  - id: end
        """
    )
    assert any("refers to itself (a -> b -> a)" in p or "refers to itself" in p for p in found)
    assert any("'x' is already a state variable" in p for p in found)


def test_an_unused_define_is_a_warning():
    compiled = compiled_with(
        """
define:
  spare: 1 + 1
actors:
  A: {name: Alpha, actions: {wait: {}}}
endings:
  - id: end
"""
    )
    assert any("named expression 'spare' is never used" in p.message for p in compiled.warnings)


def test_every_round_effects_run_at_the_start_of_each_round_while_their_condition_holds():
    compiled = compiled_with(
        """
state:
  sites: {initial: 0}
  halted: {initial: 0}
actors:
  A:
    name: Alpha
    rationality: 0
    actions:
      wait: {}
      halt: {when: "round == 3", effects: {halted: "= 1"}}
every_round:
  - id: construction
    when: halted == 0
    effects: {sites: "+= 1"}
endings:
  - id: end
metrics: [sites]
""",
        rounds=5,
    )
    model = play(compiled, 2, np.arange(200))
    halted_in_3 = model.ctx.times[0, 1] == 1
    # Built in rounds 1-3 (the halt comes after the round-3 process), not in 4 and 5.
    assert (model.trajectories[0, -1][halted_in_3] == 3).all()
    assert (model.trajectories[0, -1][~halted_in_3] == 5).all()
    assert halted_in_3.any() and (~halted_in_3).any()


def test_an_expression_over_several_lines_of_a_literal_block_is_one_expression():
    compiled = compiled_with(
        """
state:
  x: {initial: 2}
actors:
  A: {name: Alpha, actions: {wait: {}}}
endings:
  - id: end
metrics:
  - id: y
    expression: |
      x
      + 1
"""
    )
    assert list(play(compiled, 1, np.arange(2)).records()["metric.y"]) == [3.0, 3.0]


def test_a_problem_on_the_second_line_of_a_block_is_located_there():
    found = problems_of(
        """
state:
  x: {initial: 2}
actors:
  A: {name: Alpha, actions: {wait: {}}}
endings:
  - id: end
metrics:
  - id: y
    expression: |
      x
      + nope
"""
    )
    # Six header lines, a blank one, then the body: 'nope' is on line 18, column 9.
    assert any(p.startswith("author.yaml:18:9: unknown name 'nope'") for p in found), found


@pytest.mark.parametrize(
    ("snippet", "fragment"),
    [
        ("    round: 1\n    hazard: 0.1\n", "takes 'round' or 'hazard', not both"),
        ("    round: 1\n    decided_by: Zed\n", "unknown actor 'Zed'"),
    ],
)
def test_bad_hazard_and_decider_are_located_errors(snippet, fragment):
    body = """
state:
  deal: {values: [a, b], initial: a}
actors:
  A: {name: Alpha, actions: {wait: {}}}
branches:
  - id: offer
SNIPPET    outcomes:
      a: {}
      b: {}
endings:
  - id: end
"""
    if "decided_by" not in snippet:
        body = body.replace(
            "      a: {}\n      b: {}", "      a: {probability: 0.5}\n      b: {probability: rest}"
        )
    found = problems_of(body.replace("SNIPPET", snippet))
    assert any(fragment in p and p.startswith("author.yaml:") for p in found), found


def test_a_drawn_branch_needs_probabilities_and_a_decided_one_none():
    found = problems_of(
        """
state:
  deal: {values: [a, b], initial: a}
actors:
  A: {name: Alpha, actions: {wait: {}}}
branches:
  - id: offer
    round: 1
    decided_by: A
    outcomes:
      a: {probability: 0.5}
      b: {}
endings:
  - id: end
"""
    )
    assert any("drop the probabilities" in p for p in found)


PARENT = """\
scenario:
  id: base
  title: Base
  start_date: 2026-01-05
  round_days: 1
  rounds: 3
parameters:
  p: {dist: uniform, low: 0, high: 1}
state:
  x: {initial: 0}
actors:
  A:
    name: Alpha
    rationality: 1
    payoff: {weights: {x: 1}}
    actions:
      wait: {}
      push: {cost: p, effects: {x: "+= 1"}}
  B:
    name: Beta
    actions: {wait: {}}
injects:
  - id: news
    round: 1
    text: News.
    effects: {x: "+= p"}
endings:
  - id: high
    when: x > 2
  - id: low
metrics: [x]
"""


def write_family(tmp_path: Path, child: str, parent: str = PARENT) -> Path:
    (tmp_path / "base.yaml").write_text(parent)
    (tmp_path / "variants").mkdir(exist_ok=True)
    path = tmp_path / "variants" / "child.yaml"
    path.write_text(child)
    return path


def test_a_child_states_only_what_differs(tmp_path):
    path = write_family(
        tmp_path,
        """\
extends: ../base.yaml
scenario: {id: child, title: Child}
parameters:
  p: {dist: fixed, value: 0.5}
actors:
  A: {rationality: 3}
  B: null
injects:
  - {id: news, remove: true}
endings:
  - id: middle
    when: x > 1
""",
    )
    compiled = load(path)
    assert compiled.id == "child" and compiled.rounds == 3
    assert [a.id for a in compiled.actors] == ["A"]  # B removed
    assert compiled.actors[0].rationality.constant == 3.0
    assert [a.id for a in compiled.actors[0].actions] == ["wait", "push"]  # kept
    assert compiled.injects == []
    assert [e.id for e in compiled.endings] == ["high", "middle", "low"]  # before fallback
    assert compiled.warnings == []
    # What runs (and a results folder stores) is self-contained.
    text = compiled.loaded.text
    assert "extends" not in text.split("\n", 1)[1] and "middle" in text
    assert load_text(text, "stored.yaml").rounds == 3


def test_an_error_in_the_child_is_reported_at_the_childs_line(tmp_path):
    path = write_family(
        tmp_path,
        """\
extends: ../base.yaml
actors:
  A:
    actions:
      push: {cost: p + nope}
""",
    )
    with pytest.raises(ScenarioError) as caught:
        load(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:5:25: unknown name 'nope' (did you mean 'p'?)"
    ] or any(str(p).startswith(f"{path}:5:") and "nope" in str(p) for p in caught.value.problems)


def test_an_error_the_child_exposes_in_the_parent_is_reported_at_the_parents_line(tmp_path):
    # Shortening the game puts the parent's inject out of range: the parent's line.
    parent = PARENT.replace("    round: 1\n    text: News.", "    round: 3\n    text: News.")
    path = write_family(tmp_path, "extends: ../base.yaml\nscenario: {rounds: 2}\n", parent)
    with pytest.raises(ScenarioError) as caught:
        load(path)
    base = tmp_path / "base.yaml"
    line = parent.splitlines().index("    round: 3") + 1
    assert [str(p) for p in caught.value.problems] == [
        f"{base}:{line}:12: round 3 is after the last round (2)"
    ]


def test_extends_cycles_and_missing_parents_are_located_errors(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ScenarioError, match=r"b\.yaml:1:10: extends: a\.yaml extends this"):
        load(tmp_path / "a.yaml")
    (tmp_path / "c.yaml").write_text("# a variant\nextends: nowhere.yaml\n")
    with pytest.raises(ScenarioError, match=r"c\.yaml:2:10: extends: cannot read nowhere\.yaml"):
        load(tmp_path / "c.yaml")


def test_the_room_in_a_deciding_seat_chooses_the_outcome_and_it_is_saved(tmp_path):
    import json

    from click.testing import CliRunner

    from cli import cli
    from sim.seminar.game import Game

    path = tmp_path / "deal.yaml"
    path.write_text(HEADER.format(rounds=3) + DECIDED)
    # B would sign in 88% of games (what signing is worth to it); the room refuses.
    keys = f"n\n2\ns\n{tmp_path / 'saved.json'}\nq\n"
    result = CliRunner().invoke(
        cli, ["step", str(path), "--play", "B"], input=keys, env={"NO_COLOR": "1"}
    )
    assert result.exit_code == 0, result.output
    assert "B decides offer (this round): 1. signed, 2. refused" in result.output
    assert "Recorded: B decides offer: refused." in result.output
    assert "Branch offer: refused" in result.output
    saved = json.loads((tmp_path / "saved.json").read_text())
    assert saved["outcomes"] == [{"round": 1, "branch": "offer", "outcome": "refused"}]
    game = Game(load(path), played=("B",))
    game.choose_outcome("offer", "refused", 1)
    game.play_round()
    assert game.outcome_of("offer") == "refused"
    again = Game.load(game.save(tmp_path / "g.json"))
    assert again.outcomes == {(1, "offer"): "refused"}
    assert again.outcome_of("offer") == "refused"


def test_a_child_moves_an_ending_by_removing_and_giving_it_again(tmp_path):
    path = write_family(
        tmp_path,
        """\
extends: ../base.yaml
endings:
  - {id: high, remove: true}
  - id: middle
    when: x > 1
  - id: high
    when: x > 2
""",
    )
    assert [e.id for e in load(path).endings] == ["middle", "high", "low"]


def test_an_id_twice_in_a_child_list_is_an_error_at_the_child(tmp_path):
    path = write_family(
        tmp_path,
        """\
extends: ../base.yaml
endings:
  - {id: twin, when: x > 1}
  - {id: twin, when: x > 2}
""",
    )
    with pytest.raises(ScenarioError, match=rf"{path}:4:5: duplicate id 'twin' in endings"):
        load(path)


def test_a_new_distribution_keeps_the_parents_unit_and_source(tmp_path):
    parent = PARENT.replace(
        "  p: {dist: uniform, low: 0, high: 1}",
        "  p: {dist: uniform, low: 0, high: 1, unit: share, confidence: low}",
    )
    path = write_family(
        tmp_path, "extends: ../base.yaml\nparameters:\n  p: {dist: fixed, value: 0.5}\n", parent
    )
    spec = load(path).loaded.spec.parameters["p"]
    assert (spec.dist, spec.value, spec.unit, spec.confidence) == ("fixed", 0.5, "share", "low")


INJECT_HAZARD = """
state:
  risk: {initial: 0, min: 0, max: 1}
  boom: {initial: 0}
actors:
  A:
    name: Alpha
    rationality: 1
    foresight: 1
    payoff:
      weights: {risk: 0.5}
    actions:
      wait: {}
      push: {effects: {risk: "+= 1"}}
injects:
  - id: accident
    hazard: 0.5 * risk
    effects: {boom: "= 1"}
endings:
  - id: doom
    when: boom == 1
    stop: true
    payoffs: {A: -100}
  - id: fine
metrics: [risk]
"""


def test_foresight_sees_an_inject_that_happens_by_chance_next_round():
    # Pushing is worth 0.5 now, but makes the accident 50% likely at the start of the
    # next round: a stopping ending worth -100 (and U = 0.5 that round) against 2 more
    # rounds of 0.5 without it: 0.5 * ((0.5 - 100) - 2 * 0.5) = -50.25.
    compiled = compiled_with(INJECT_HAZARD, rounds=3)
    model = WargameModel(compiled, 1, np.arange(2), keep_history=True)
    model.step()
    scores = model.actors[0].decision.scores[:, 0]
    assert scores[1] - scores[0] == pytest.approx(0.5 - 50.25)
    from sim.seminar.transcript import reason

    why = reason(model, model.history[0], "A")
    assert why.startswith("best score (p 1.00), 49.75 above push: foresight of accident (+50.25)")
    assert why.endswith("foresaw accident next round 0% (50% if push)")


DECIDER_FORESIGHT = """
state:
  posture: {values: [calm, struck], initial: calm}
  war: {values: [no, yes], initial: no}
actors:
  A:
    name: Alpha
    rationality: 1
    foresight: 1
    payoff:
      expression: "(1 if posture == 'struck' else 0) - (50 if war == 'yes' else 0)"
    actions: {wait: {}}
branches:
  - id: answer
    round: 1
    decided_by: A
    variable: posture
    outcomes:
      struck: {}
      calm: {}
  - id: spiral
    when: posture == 'struck'
    hazard: 0.5
    variable: war
    outcomes:
      "yes": {probability: 1}
      "no": {probability: rest}
endings:
  - id: end
"""


def test_a_deciding_actor_with_foresight_sees_the_danger_its_choice_switches_on():
    # Striking is worth 1 a round for 2 rounds (+2) but switches on a 50% hazard of war
    # worth -50 a round over the same rounds: 0.5 * (-100) = -50; calm is worth 0.
    compiled = compiled_with(DECIDER_FORESIGHT, rounds=2)
    model = WargameModel(compiled, 1, np.arange(1), keep_history=True)
    model.step()
    odds, people = model.history[0].decided["answer"]
    assert not people
    assert odds[0, 0] == pytest.approx(expit(2 - 50))
    blind = compiled_with(DECIDER_FORESIGHT.replace("foresight: 1", "foresight: 0"), rounds=2)
    model = WargameModel(blind, 1, np.arange(1), keep_history=True)
    model.step()
    assert model.history[0].decided["answer"][0][0, 0] == pytest.approx(expit(2))


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (
            "state:\n  x: {initial: 1}\nactors:\n  A:\n    name: A\n    actions:\n"
            "      a: {effects: {x: *= 0.3}}\nendings:\n  - id: e\n",
            'quote it, e.g. "*= 0.5"',
        ),
        (
            "state:\n  x: {initial: 1}\nactors:\n  A: {name: A, actions: {a: {}}}\n"
            "endings:\n  - id: e\n    when: x = 2\n  - id: f\n",
            "compare with ==",
        ),
        (
            "state:\n  d: {values: [a, b], initial: a}\nactors:\n  A: {name: A, actions: "
            "{a: {}}}\nbranches:\n  - id: br\n    round: 1\n    variable: d\n    outcomes:\n"
            "      a: {probability: 1.5}\n      b: {probability: rest}\nendings:\n  - id: e\n",
            "a probability is between 0 and 1, not 1.5",
        ),
    ],
)
def test_common_slips_get_a_hint(body, fragment):
    found = problems_of(body)
    assert len(found) == 1 and fragment in found[0], found


def test_a_named_expression_that_refers_to_itself_is_one_error():
    found = problems_of(
        "define:\n  danger: danger + 1\nactors:\n  A: {name: A, actions: {a: {cost: danger}, "
        "b: {cost: danger * 2}}}\nendings:\n  - id: e\n    when: danger > 1\n  - id: f\n"
    )
    assert len(found) == 1 and "refers to itself" in found[0], found


def test_the_room_in_a_deciding_seat_may_leave_it_to_the_rule(tmp_path):
    from click.testing import CliRunner

    from cli import cli
    from sim.seminar.game import Game

    path = tmp_path / "deal.yaml"
    path.write_text(HEADER.format(rounds=3) + DECIDED)
    # A near miss, a listing, then "rule": the branch goes as B's rule decides it.
    keys = "n\nsinged\n?\nrule\nq\ny\n"
    result = CliRunner().invoke(
        cli, ["step", str(path), "--play", "B", "--seed", "3"], input=keys, env={"NO_COLOR": "1"}
    )
    assert result.exit_code == 0, result.output
    assert "'singed' is not an outcome of offer" in result.output
    assert "or 'rule' to leave it to B's rule." in result.output
    assert "B's rule decides offer." in result.output
    assert result.output.count("\n      2. refused\n") == 2  # listed, then listed by "?"
    ruled = Game(load(path), 3, played=())
    ruled.play_round()
    assert f"Branch offer: {ruled.outcome_of('offer')}" in result.output


def test_the_room_is_not_asked_to_forecast_a_branch_it_decides(tmp_path):
    from click.testing import CliRunner

    from cli import cli

    path = tmp_path / "deal.yaml"
    path.write_text(HEADER.format(rounds=3) + DECIDED)
    keys = "n\n2\nq\ny\n"
    args = ["step", str(path), "--predict", "--mc-runs", "50"]
    played = CliRunner().invoke(cli, [*args, "--play", "B"], input=keys)
    assert played.exit_code == 0, played.output
    assert "Prediction: how will offer go?" not in played.output
    assert "Recorded: B decides offer: refused." in played.output
    # Nobody in B's seat: the room forecasts B's decision as any other branch.
    watched = CliRunner().invoke(cli, args, input="0.5\n0.5\nn\nq\ny\n")
    assert "Prediction: how will offer go?" in watched.output


def test_back_says_which_decision_it_kept(tmp_path):
    from click.testing import CliRunner

    from cli import cli

    path = tmp_path / "deal.yaml"
    path.write_text(HEADER.format(rounds=3) + DECIDED)
    keys = "n\n2\nb\nn\n\nq\ny\n"  # refuse, back, then Enter keeps the refusal
    result = CliRunner().invoke(cli, ["step", str(path), "--play", "B"], input=keys)
    assert result.exit_code == 0, result.output
    assert "Decisions kept as the defaults: offer refused." in " ".join(result.output.split())
    assert result.output.count("Recorded: B decides offer: refused.") == 2


def test_override_sets_a_rule_played_actors_decision_too(tmp_path):
    from click.testing import CliRunner

    from cli import cli

    path = tmp_path / "deal.yaml"
    path.write_text(HEADER.format(rounds=3) + DECIDED)
    # Nobody plays B: [o]verride B, keep its move to the rule, then make it refuse.
    keys = "o\nB\nrule\nrefused\nn\nq\ny\n"
    result = CliRunner().invoke(cli, ["step", str(path)], input=keys)
    assert result.exit_code == 0, result.output
    assert "Recorded: B decides offer: refused." in result.output
    assert "Branch offer: refused" in result.output
    # Enter leaves it to the rule (which signs in this game).
    ruled = CliRunner().invoke(cli, ["step", str(path)], input="o\nB\nrule\n\nn\nq\ny\n")
    assert "B's rule decides offer." in ruled.output
    assert "Branch offer: signed" in ruled.output


NOT_VALUES = """
state:
  vote: {values: [pending, held, cancelled], initial: pending}
  tension: {initial: 1}
actors:
  RU: {name: Russia, actions: {hold: {}, provoke: {effects: {tension: "+= 1"}}}}
  NATO: {name: NATO, actions: {hold: {}, deploy: {}}}
injects:
  - {id: incident, round: 1, effects: {tension: "+= 1"}}
branches:
  - id: referendum
    round: 1
    variable: vote
    outcomes: {held: {probability: 0.5}, cancelled: {probability: rest}}
  - id: talks
    round: 1
    outcomes: {open: {probability: 0.5}, closed: {probability: rest}}
endings:
  - {id: clash, when: READS}
  - {id: calm}
"""


@pytest.mark.parametrize(
    ("reads", "column", "told"),
    [
        (
            "referendum == 'held'",
            23,
            "'referendum' is a branch, not a value: read its outcome through its "
            "variable, e.g. vote == 'held'",
        ),
        ("talks == 'open'", 23, "'talks' is a branch, not a value: give it a 'variable:'"),
        ("provoke > 0", 23, "read it with chose('RU', 'provoke'), times('RU', 'provoke')"),
        ("tension > 2 and hold > 0", 39, "'hold' is an action of RU, NATO, not a value"),
        ("NATO > 0", 23, "'NATO' is an actor, not a value: read its moves with chose('NATO'"),
        ("incident == 1", 23, "'incident' is an inject, not a value"),
        ("calm", 23, "'calm' is an ending, not a value"),
    ],
)
def test_a_branch_actor_action_inject_or_ending_read_as_a_value_says_how_to_read_it(
    reads, column, told
):
    # An author's trial: "when: referendum == 'held'" got only "unknown name 'referendum'".
    found = problems_of(NOT_VALUES.replace("READS", reads))
    assert len(found) == 1, found
    assert found[0].startswith(f"author.yaml:25:{column}: "), found
    assert told in found[0], found


@pytest.mark.parametrize(
    ("ending", "told"),
    [
        (
            "{id: calm, stop: maybe}",
            "endings.calm.stop: expected true or false, not the text 'maybe'",
        ),
        ("{id: calm, stop: 2.5}", "endings.calm.stop: expected true or false, not the number 2.5"),
        ("{id: calm, title: [a, b]}", "endings.calm.title: expected text (put it in quotes"),
    ],
)
def test_a_value_of_the_wrong_type_says_what_was_expected_in_plain_words(ending, told):
    # An author's trial: "Input should be a valid boolean, unable to interpret input".
    body = "actors:\n  A: {name: Alpha, actions: {wait: {}}}\nendings:\n  - " + ending + "\n"
    found = problems_of(body)
    value = ending.split(": ")[-1].rstrip("}")  # the position of the wrong value
    column = 5 + ending.index(value)
    assert len(found) == 1 and found[0].startswith(f"author.yaml:10:{column}: "), found
    assert told in found[0], found
    assert "Input should be" not in found[0]


def test_rounds_that_are_not_a_whole_number_are_told_so():
    text = HEADER.replace("rounds: {rounds}", "rounds: six")
    with pytest.raises(ScenarioError) as caught:
        load_text(
            text + "actors:\n  A: {name: Alpha, actions: {wait: {}}}\nendings:\n  - id: e\n",
            "a.yaml",
        )
    assert [str(p) for p in caught.value.problems] == [
        "a.yaml:6:11: scenario.rounds: expected a whole number, e.g. 6, not the text 'six'"
    ]

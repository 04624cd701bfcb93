"""The round: injects, simultaneous decisions, adjudication order, branches, endings."""

import gc
import math
import weakref

import mesa
import numpy as np
import pytest

from sim.engine.model import WargameModel, play
from tests.conftest import scenario

BASE_ACTORS = """
actors:
  A:
    name: Alpha
    rationality: 0
    actions:
      wait: {}
"""


def test_actors_are_mesa_agents_of_the_model():
    compiled = scenario(
        """
        state:
          x: {initial: 0}
        """,
        BASE_ACTORS,
        """
          B:
            name: Beta
            actions:
              wait: {}
        endings: [{id: end}]
        """,
    )
    model = WargameModel(compiled, 1, np.arange(3))
    assert isinstance(model, mesa.Model)
    assert len(model.agents) == 2
    assert all(isinstance(a, mesa.Agent) for a in model.agents)
    assert len({a.unique_id for a in model.agents}) == 2


def test_a_finished_model_is_garbage_collected():
    compiled = scenario("state:\n  x: {initial: 0}\n", BASE_ACTORS, "endings: [{id: end}]\n")
    model = play(compiled, 1, np.arange(5))
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


def test_inject_fires_once_at_its_round_and_when_condition_first_holds():
    compiled = scenario(
        """
        state:
          x: {initial: 0}
          y: {initial: 0}
        """,
        BASE_ACTORS,
        """
        injects:
          - {id: at3, round: 3, effects: {x: "+= 10"}}
          - {id: cond, when: "x >= 10", effects: {y: "+= 1"}}
        endings: [{id: end}]
        metrics: [x, y]
        """,
        rounds=5,
    )
    model = play(compiled, 1, [0])
    x, y = model.trajectories[0, :, 0], model.trajectories[1, :, 0]
    assert x.tolist() == [0, 0, 0, 10, 10, 10]
    # The conditional inject sees the state at the start of round 4 (after round 3's
    # inject) and fires once only.
    assert y.tolist() == [0, 0, 0, 1, 1, 1]


def test_effects_are_computed_from_the_observed_state_and_applied_in_actor_order():
    compiled = scenario(
        """
        state:
          x: {initial: 1}
          y: {initial: 0}
        actors:
          A:
            name: Alpha
            actions:
              go: {effects: {x: "+= 10 * x", y: "= 1"}}
          B:
            name: Beta
            actions:
              go: {effects: {x: "+= 100 * x", y: "= 2"}}
        endings: [{id: end}]
        metrics: [x, y]
        """
    )
    model = play(compiled, 1, [0])
    # Both amounts use the observed x = 1: 1 + 10 + 100; with '=' the later actor wins.
    assert model.trajectories[:, 1, 0].tolist() == [111, 2]


def test_state_is_clipped_to_its_bounds():
    compiled = scenario(
        """
        state:
          x: {initial: 5, min: 0, max: 8}
        actors:
          A:
            name: Alpha
            actions:
              up: {effects: {x: "+= 10"}}
        endings: [{id: end}]
        metrics: [x]
        """,
        rounds=2,
    )
    assert play(compiled, 1, [0]).trajectories[0, :, 0].tolist() == [5, 8, 8]


def test_branch_rest_probability_and_variable():
    compiled = scenario(
        """
        parameters:
          q: {dist: fixed, value: 0.3}
        state:
          s: {values: [pending, yes, no], initial: pending}
          z: {initial: 0}
        """,
        BASE_ACTORS,
        """
        branches:
          - id: b
            round: 1
            variable: s
            outcomes:
              yes: {probability: q, effects: {z: "= 1"}}
              no: {probability: rest, effects: {z: "= -1"}}
        endings:
          - {id: yes_end, when: "s == 'yes'"}
          - {id: other}
        metrics: [z]
        """,
    )
    runs = 20_000
    model = play(compiled, 3, np.arange(runs))
    records = model.records()
    share = np.mean(records["branch.b"] == "yes")
    assert abs(share - 0.3) < 3 * math.sqrt(0.3 * 0.7 / runs)
    # The outcome's effects and the ending follow the outcome run by run.
    yes = records["branch.b"] == "yes"
    assert np.all(records["metric.z"][yes] == 1) and np.all(records["metric.z"][~yes] == -1)
    assert np.array_equal(records["ending"] == "yes_end", yes)
    assert set(records["branch_path"]) == {"b=yes", "b=no"}


def test_forced_commitment_makes_the_action_certain_while_its_trigger_holds():
    compiled = scenario(
        """
        state:
          alarm: {initial: 0}
          sent: {initial: 0}
        actors:
          Caller:
            name: Caller
            rationality: 0
            actions:
              calm: {}
              alarm: {effects: {alarm: "= 1"}}
          Ally:
            name: Ally
            rationality: 0
            actions:
              wait: {}
              send: {effects: {sent: "+= 1"}}
        commitments:
          - {id: treaty, actor: Ally, action: send, trigger: "alarm == 1", force: true}
        endings: [{id: end}]
        metrics: [alarm, sent]
        """,
        rounds=3,
    )
    model = play(compiled, 5, np.arange(4000))
    records = model.records()
    invoked = records["commitment.treaty.invoked"]
    honoured = records["commitment.treaty.honoured"]
    # Whenever the trigger held the Ally sent troops: honoured equals invoked.
    assert np.array_equal(invoked, honoured)
    assert invoked.max() >= 1


def test_commitment_bonus_shifts_the_logit_choice_by_its_bonus():
    compiled = scenario(
        """
        state:
          sent: {initial: 0}
        actors:
          Ally:
            name: Ally
            rationality: 1.0
            actions:
              wait: {}
              send: {cost: 1.0, effects: {sent: "+= 1"}}
        commitments:
          - {id: treaty, actor: Ally, action: send, trigger: "round >= 1", bonus: 2.0}
        endings: [{id: end}]
        metrics: [sent]
        """
    )
    runs = 20_000
    sent = play(compiled, 9, np.arange(runs)).records()["metric.sent"]
    expected = math.exp(1.0) / (1 + math.exp(1.0))  # score(send) = -1 + 2 = +1 vs 0
    assert abs(sent.mean() - expected) < 3 * math.sqrt(expected * (1 - expected) / runs)


def test_scripted_actor_follows_its_script_where_feasible():
    compiled = scenario(
        """
        state:
          x: {initial: 0}
        actors:
          A:
            name: Alpha
            rationality: 0
            decision: scripted
            script: {1: b, 2: a}
            actions:
              a: {effects: {x: "+= 1"}}
              b: {effects: {x: "+= 10"}}
        endings: [{id: end}]
        metrics: [x]
        """,
        rounds=2,
    )
    assert np.all(play(compiled, 1, np.arange(50)).records()["metric.x"] == 11)


def test_endings_first_match_wins_and_fallback_catches_the_rest():
    compiled = scenario(
        """
        parameters:
          u: {dist: uniform, low: 0, high: 1}
        state:
          x: {initial: u}
        """,
        BASE_ACTORS,
        """
        endings:
          - {id: high, when: "x > 0.5"}
          - {id: mid, when: "x > 0.2"}
          - {id: low}
        """,
    )
    records = play(compiled, 2, np.arange(1000)).records()
    u = records["param.u"]
    expected = np.where(u > 0.5, "high", np.where(u > 0.2, "mid", "low"))
    assert np.array_equal(records["ending"], expected)


def test_set_overrides_fix_a_parameter_and_an_initial_value():
    compiled = scenario(
        """
        parameters:
          u: {dist: uniform, low: 0, high: 1}
        state:
          x: {initial: u}
          y: {initial: 3}
        """,
        BASE_ACTORS,
        """
        endings: [{id: end}]
        metrics: [x, y]
        """,
    )
    records = play(compiled, 2, np.arange(10), overrides={"u": 0.25, "y": 7}).records()
    assert np.all(records["param.u"] == 0.25) and np.all(records["metric.x"] == 0.25)
    assert np.all(records["metric.y"] == 7)


def test_stepping_past_the_end_is_an_error():
    from sim.errors import OptionsError

    compiled = scenario("state:\n  x: {initial: 0}\n", BASE_ACTORS, "endings: [{id: end}]\n")
    model = play(compiled, 1, [0])
    with pytest.raises(OptionsError):
        model.step()

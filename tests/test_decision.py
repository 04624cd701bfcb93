"""Decision rules: logit (quantal response) choice with rationality lambda."""

import math

import numpy as np
import pytest

from sim.engine.decision import best_response_probabilities, draw_choice, logit_probabilities
from sim.engine.model import WargameModel
from tests.conftest import scenario

COSTS = (0.0, 0.5, 1.2)


def three_options(rationality: float, decision: str = "logit"):
    return scenario(
        f"""
        state:
          x: {{initial: 0}}
        actors:
          A:
            name: Alpha
            rationality: {rationality}
            decision: {decision}
            actions:
              a: {{cost: {COSTS[0]}, effects: {{x: "+= 1"}}}}
              b: {{cost: {COSTS[1]}, effects: {{x: "+= 2"}}}}
              c: {{cost: {COSTS[2]}, effects: {{x: "+= 3"}}}}
        endings:
          - id: end
        metrics: [x]
        """
    )


def first_round_choices(compiled, runs: int, seed: int = 11) -> np.ndarray:
    model = WargameModel(compiled, seed, np.arange(runs))
    model.step()
    return model.actors[0].decision.choice


def test_softmax_by_hand():
    scores = np.array([[1.0], [2.0], [0.0]])
    feasible = np.ones((3, 1), dtype=bool)
    p = logit_probabilities(scores, feasible, 0.5)[:, 0]
    denominator = math.exp(0.5) + math.exp(1.0) + 1.0
    assert p == pytest.approx(
        [math.exp(0.5) / denominator, math.exp(1.0) / denominator, 1 / denominator]
    )


def test_infeasible_actions_get_no_probability():
    scores = np.array([[5.0, 1.0], [1.0, 1.0]])
    feasible = np.array([[False, False], [True, False]])
    p = logit_probabilities(scores, feasible, 2.0)
    assert p[:, 0].tolist() == [0.0, 1.0]
    assert p[:, 1].tolist() == [0.0, 0.0]
    assert draw_choice(p, np.array([0.3, 0.3])).tolist() == [1, -1]


def test_best_response_shares_ties():
    scores = np.array([[1.0], [3.0], [3.0]])
    p = best_response_probabilities(scores, np.ones((3, 1), dtype=bool), 0.0)[:, 0]
    assert p.tolist() == [0.0, 0.5, 0.5]


@pytest.mark.parametrize("rationality", [0.7, 1.3, 2.5])
def test_observed_choices_match_the_hand_computed_softmax(rationality):
    runs = 30_000
    choices = first_round_choices(three_options(rationality), runs)
    weights = [math.exp(-rationality * c) for c in COSTS]
    for action, weight in enumerate(weights):
        expected = weight / sum(weights)
        observed = np.mean(choices == action)
        standard_error = math.sqrt(expected * (1 - expected) / runs)
        assert abs(observed - expected) < 3 * standard_error, (action, observed, expected)


def test_rationality_zero_is_uniform():
    runs = 30_000
    choices = first_round_choices(three_options(0.0), runs)
    standard_error = math.sqrt((1 / 3) * (2 / 3) / runs)
    for action in range(3):
        assert abs(np.mean(choices == action) - 1 / 3) < 3 * standard_error


def test_large_rationality_is_best_response():
    choices = first_round_choices(three_options(1e6), 2000)
    assert np.all(choices == 0)
    choices = first_round_choices(three_options(0.1, decision="best_response"), 2000)
    assert np.all(choices == 0)


def test_choice_draw_inverts_the_cumulative_probabilities():
    p = np.array([[0.2, 0.2, 0.2], [0.5, 0.5, 0.5], [0.3, 0.3, 0.3]])
    assert draw_choice(p, np.array([0.1, 0.5, 0.95])).tolist() == [0, 1, 2]

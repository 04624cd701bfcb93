"""A payoff term that reads a named expression counts as reading what it stands for."""

from sim.engine.loading import load_text
from tests.conftest import HEADER

SCENARIO = """
state:
  threat: {initial: 1, min: 0}
define:
  danger: 2 * threat
actors:
  A:
    name: Alpha
    payoff:
      expression: "- danger"
    actions:
      wait: {}
      disarm: {cost: 0.1, effects: {threat: "-= 0.5"}}
endings:
  - id: end
"""


def test_a_payoff_term_reading_a_definition_can_steer_a_choice():
    compiled = load_text(HEADER.format(rounds=2) + SCENARIO, "defines.yaml")
    assert compiled.warnings == []


def test_a_payoff_term_whose_definition_reads_nothing_the_actor_moves_is_still_flagged():
    idle = SCENARIO.replace('disarm: {cost: 0.1, effects: {threat: "-= 0.5"}}', "talk: {}")
    compiled = load_text(HEADER.format(rounds=2) + idle, "defines.yaml")
    assert [str(w).split(": ", 1)[1] for w in compiled.warnings] == [
        "warning: A's payoff term '- danger' cannot change any of its choices: it reads "
        "nothing its actions change (it still counts in the payoff)"
    ]

"""Dead-lever checks: named expressions and decided branches count for what they reach."""

import numpy as np
import pytest

from sim.engine.loading import load_text
from tests.conftest import HEADER, ROOT

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
    terms = [w for w in compiled.warnings if "payoff term" in w.message]
    assert [str(w).split(": ", 1)[1] for w in terms] == [
        "warning: A's payoff term '- danger' cannot change any of its choices: it reads "
        "nothing its actions change (it still counts in the payoff)"
    ]


DECIDER = """
state:
  deal: {values: [open, signed, refused], initial: open}
  trade: {initial: 0}
actors:
  A:
    name: Alpha
    payoff:
      expression: "3 if deal == 'signed' else 0"
    actions:
      wait: {}
      shout: {cost: 0.1, effects: {trade: "-= 1"}}
  B:
    name: Beta
    payoff: {weights: {trade: 1}}
    actions: {wait: {}}
branches:
  - id: offer
    round: 1
    decided_by: A
    variable: deal
    outcomes:
      signed: {}
      refused: {}
endings:
  - id: end
"""


def test_a_payoff_term_can_steer_the_branch_its_actor_decides():
    # A's actions never touch 'deal', but A decides the branch that sets it.
    compiled = load_text(HEADER.format(rounds=2) + DECIDER, "decider.yaml")
    assert compiled.warnings == []


INERT = """
state:
  threat: {initial: 1, min: 0}
  rhetoric: {initial: 0, min: 0}
  deterrence: {initial: 0}
  posture: {initial: 0}
define:
  resolve: times('A', 'signal')
actors:
  A:
    name: Alpha
    payoff:
      expression: "- threat + 0.1 * resolve"
    actions:
      wait: {}
      disarm: {cost: 0.1, effects: {threat: "-= 0.5"}}
      shout: {cost: 0.05, effects: {rhetoric: "+= 1"}}
      drill: {cost: 0.05, effects: {deterrence: "+= 1"}}
      signal: {cost: 0.05, effects: {posture: "+= 1"}}
every_round:
  - id: drift
    effects: {threat: "+= 0.1 * deterrence"}
metrics:
  - rhetoric
  - posture
endings:
  - id: end
"""


def test_an_action_that_changes_only_what_metrics_read_is_a_dead_lever():
    # An author's trial: an action whose only effect is on a variable only a metric
    # reads moves no outcome, and validate said nothing.
    compiled = load_text(HEADER.format(rounds=2) + INERT, "inert.yaml")
    found = [w for w in compiled.warnings if "action '" in w.message]
    assert [w.message.split("'")[2] for w in found] == ["shout"]
    assert "changes only 'rhetoric', which no payoff, choice, branch or ending reads" in (
        found[0].message
    )
    # drill reaches the payoff through a process; signal is read by times() in a define.
    header = HEADER.format(rounds=2).count("\n")
    assert (
        found[0].line
        == header
        + INERT.splitlines().index('      shout: {cost: 0.05, effects: {rhetoric: "+= 1"}}')
        + 1
    )


CLIPPED = """
parameters:
  lethality: {dist: uniform, low: 0.2, high: 0.6}
state:
  tension: {initial: 1}
actors:
  A:
    name: Alpha
    payoff: {weights: {tension: -1}}
    actions:
      wait: {}
      calm: {cost: 0.1, effects: {tension: "-= 0.5"}}
branches:
  - id: strike
    round: 1
    outcomes:
      hit: {probability: "lethality * 3"}
      miss: {probability: rest}
  - id: crisis
    round: 2
    outcomes:
      war: {probability: 0.9}
      deal: {probability: 0.9}
  - id: raid
    round: 2
    outcomes:
      big: {probability: "lethality + 0.5"}
      small: {probability: 0.6}
endings:
  - id: end
"""


def test_validate_warns_of_branch_probabilities_the_engine_clips_or_scales(tmp_path):
    # An author's trial: a computed probability above 1 and two outcomes at 0.9 each
    # were accepted without a word (the engine clips and draws in proportion).
    from tests.test_bad_input import invoke

    path = tmp_path / "clipped.yaml"
    path.write_text(HEADER.format(rounds=2) + CLIPPED)
    result = invoke("validate", path, "--trial-runs", "400")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    hit = [line for line in lines if "strike = hit" in line]
    assert len(hit) == 1 and "was outside 0 to 1 when strike came up" in hit[0]
    # lethality * 3 > 1 where lethality > 1/3: a third of uniform(0.2, 0.6) would be
    # 0.333..., so about 267 of 400 runs; 3 sd of a binomial is 28.
    count = int(hit[0].split(" in ")[-1].split(" of ")[0])
    assert abs(count - 400 * (0.6 - 1 / 3) / 0.4) < 3 * (400 * 2 / 3 * 1 / 3) ** 0.5
    line_of_hit = (HEADER.format(rounds=2) + CLIPPED).splitlines().index(
        '      hit: {probability: "lethality * 3"}'
    ) + 1
    assert hit[0].startswith(f"{path}:{line_of_hit}:")
    # Two outcomes at 0.9: numbers, so said when the file loads (not by the trial too).
    crisis = [line for line in lines if "outcome probabilities of crisis" in line]
    assert len(crisis) == 1 and "add up to 1.8, not 1" in crisis[0], crisis
    # A computed one is seen by the trial: lethality + 1.1 > 1 in every run.
    raid = [line for line in lines if "outcome probabilities of raid" in line]
    assert len(raid) == 1 and "added up to more than 1" in raid[0], raid
    assert "in 400 of 400 trial runs" in raid[0]


def test_a_slow_validate_trial_says_what_it_is_doing_on_a_terminal_only(monkeypatch, capsys):
    # A trial whose equilibrium needs path-following can take ten seconds; a terminal
    # is told what is happening after a moment, a script's stderr never is.
    import sys
    import time

    from cli import _said_if_slow

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with _said_if_slow("playing a trial...", after=0.05):
        time.sleep(0.5)
    assert capsys.readouterr().err == "playing a trial...\n"
    with _said_if_slow("playing a trial...", after=5):
        pass  # done before the moment: nothing said, and the timer does not fire later
    time.sleep(0.05)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    with _said_if_slow("playing a trial...", after=0.05):
        time.sleep(0.3)
    assert capsys.readouterr().err == ""


UNTAKEN = """
state:
  tension: {{initial: 1, min: 0, max: 10}}
actors:
  A:
    name: Alpha
    rationality: 2.0
    payoff: {{weights: {{tension: -1}}}}
    actions:
      hold: {{}}
      bluff: {{cost: {cost}}}
      calm: {{cost: 0.1, effects: {{tension: "-= 0.2"}}}}
  S:
    name: Scripted
    decision: scripted
    script: {{1: wait, 2: wait, 3: wait}}
    payoff: {{weights: {{tension: 1}}}}
    actions:
      wait: {{}}
      stir: {{cost: 0.1, effects: {{tension: "+= 0.5"}}}}
endings:
  - id: end
"""


@pytest.mark.parametrize("cost", [5.0, 2.0])
def test_validate_warns_of_an_action_its_actor_is_never_likely_to_choose(tmp_path, cost):
    # An author's trial: a 'bluff' costing 5 that brings nothing was chosen once in
    # 24,000 choices, and nothing said so. The logit chance of bluff against hold and
    # calm (scores 0, -c and -0.1 + 0.2 = 0.1, as calm lowers tension by 0.2 every
    # round it is taken) is exp(-2c) / (1 + exp(-2c) + exp(0.2)), the same every round.
    import math

    from tests.test_bad_input import invoke

    path = tmp_path / "untaken.yaml"
    path.write_text(HEADER.format(rounds=3) + UNTAKEN.format(cost=cost))
    result = invoke("validate", path, "--trial-runs", "50")
    assert result.exit_code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if "never likely to choose" in line]
    chance = math.exp(-2 * cost) / (1 + math.exp(-2 * cost) + math.exp(2 * 0.1))
    if chance >= 0.01:  # cost 2: 1.6%, taken now and then
        assert warned == [], warned
        return
    # Only A's bluff: S's 'stir' has no chance either, but S follows its script.
    assert len(warned) == 1, result.stderr
    line = (HEADER.format(rounds=3) + UNTAKEN.format(cost=cost)).splitlines().index(
        f"      bluff: {{cost: {cost}}}"
    ) + 1
    assert warned[0].startswith(f"{path}:{line}:7: warning: A is never likely to choose 'bluff'")
    assert f"at most a {100 * chance:.1g}% chance in the 150 choices of 50 trial runs" in warned[0]


def test_a_best_response_actors_never_best_action_has_no_chance_at_all(tmp_path):
    # best_response gives an action that is never the best exactly 0: said as such.
    from tests.test_bad_input import invoke

    text = UNTAKEN.format(cost=5.0).replace(
        "    rationality: 2.0\n", "    rationality: 2.0\n    decision: best_response\n"
    )
    path = tmp_path / "best.yaml"
    path.write_text(HEADER.format(rounds=3) + text)
    result = invoke("validate", path, "--trial-runs", "50")
    assert result.exit_code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if "never likely to choose" in line]
    # calm (0.1) beats hold (0) every round, so both hold and bluff are never chosen.
    assert [line.split("choose ")[1].split(":")[0] for line in warned] == ["'hold'", "'bluff'"]
    assert all("no chance in any of the 150 choices of 50 trial runs" in w for w in warned)


STOPPING = """
state:
  clash: {{values: [none, yes, no], initial: none}}
  leverage: {{initial: 0}}
actors:
  A:
    name: Alpha
    rationality: 1.0
    foresight: 1
    payoff:
      expression: "{constant}leverage"
    actions:
      hold: {{}}
      press: {{cost: 0.5, effects: {{leverage: "+= 1"}}}}
branches:
  - id: incident
    round: 1
    variable: clash
    outcomes:
      yes: {{probability: 0.1 + 0.4 * leverage}}
      no: {{probability: rest}}
endings:
  - id: war
    when: clash == 'yes'
    stop: true
    payoffs: {{A: -2}}
  - id: calm
"""


@pytest.mark.parametrize("constant", [0.0, 10.0])
def test_a_constant_payoff_term_steers_choices_when_a_foreseen_branch_can_stop_the_game(
    constant,
):
    # An author's trial: validate called a constant '10 +' in a payoff idle, yet it moved
    # a stopping ending's share from 20.4% to 12.7%. A run that stops forgoes the payoff
    # of the rounds it does not play, so the payoff's zero point counts. By hand, for A in
    # round 1 of 3 with foresight of the branch this round: a state s worth U = c + lev
    # is worth 3U played out, or U - 2 if the clash stops the game; so an action's score
    # is U - cost + p_yes (U - 2 - 3U).
    from scipy.special import expit

    from sim.engine.model import WargameModel

    prefix = f"{constant:g} + " if constant else ""
    compiled = load_text(HEADER.format(rounds=3) + STOPPING.format(constant=prefix), "s.yaml")
    assert [w.message for w in compiled.warnings if "cannot change" in w.message] == []

    def chance_of_press(c: float) -> float:
        def score(leverage: float, cost: float) -> float:
            u = c + leverage
            return u - cost + (0.1 + 0.4 * leverage) * (u - 2 - 3 * u)

        return float(expit(score(1, 0.5) - score(0, 0)))

    model = WargameModel(compiled, 1, np.arange(4))
    model.step()
    press = model.actors[0].decision.probabilities[1, 0]
    assert press == pytest.approx(chance_of_press(constant), rel=1e-9)
    # The constant is no idle term: 10 makes A shun the clash (0.01% against 21%).
    assert chance_of_press(0.0) - chance_of_press(10.0) > 0.1


def test_a_constant_payoff_term_is_idle_when_no_stopping_ending_is_in_reach():
    text = HEADER.format(rounds=3) + STOPPING.format(constant="10 + ").replace(
        "    stop: true\n", ""
    )
    compiled = load_text(text, "stopping.yaml")
    assert [w.message.split(": ", 1)[1] for w in compiled.warnings] == [
        "A's payoff term '10' cannot change any of its choices: it reads nothing its "
        "actions or foreseen branches change (it still counts in the payoff)"
    ]


def test_a_second_action_with_no_effects_is_a_dead_lever_unless_its_taking_is_read():
    # An author's trial: 'bluff: {cost: 0.5}' beside 'hold: {}' did nothing but cost,
    # and validate said nothing (the first action without effects is the actor's hold).
    text = (
        HEADER.format(rounds=2)
        + """
state:
  tension: {initial: 1}
actors:
  A:
    name: Alpha
    payoff: {weights: {tension: -1}}
    actions:
      hold: {}
      bluff: {cost: 0.5}
      calm: {cost: 0.1, effects: {tension: "-= 0.2"}}
endings:
  - id: end
"""
    )
    compiled = load_text(text, "bluff.yaml")
    assert [str(w) for w in compiled.warnings] == [
        "bluff.yaml:16:7: warning: A's action 'bluff' has no effects and nothing reads that "
        "it was taken: it differs from 'hold' only by its cost and moves no outcome (a dead "
        "lever)"
    ]
    # Once an ending reads that it was taken, the bluff matters.
    read = text.replace(
        "  - id: end\n", "  - id: called\n    when: times('A', 'bluff') > 1\n  - id: end\n"
    )
    assert load_text(read, "bluff.yaml").warnings == []


def test_a_weight_on_what_a_hazard_the_actor_sways_can_set_is_not_idle():
    # An author's trial: patrols lowered the hazard of a cable cut that NATO foresees,
    # yet validate said NATO's weight on cables cut could change none of its choices.
    text = (
        HEADER.format(rounds=4)
        + """
state:
  cut: {values: [none, yes, no], initial: none}
  cables_cut: {initial: 0}
  patrols: {initial: 0}
actors:
  NATO:
    name: NATO
    foresight: 1
    payoff: {weights: {cables_cut: -5}}
    actions:
      hold: {}
      patrol: {cost: 0.2, effects: {patrols: "+= 1"}}
branches:
  - id: further_cut
    hazard: clip(0.5 - 0.2 * patrols, 0, 1)
    variable: cut
    outcomes:
      yes: {probability: 1, effects: {cables_cut: "+= 1"}}
      no: {probability: rest}
endings:
  - id: end
"""
    )
    compiled = load_text(text, "cables.yaml")
    assert [w.message for w in compiled.warnings] == []


def test_validate_warns_of_an_ending_no_trial_run_reached(tmp_path):
    # An author's trial: 'when: cables_cut > 6' with cables_cut at most 6 passed
    # silently, and the ending showed 0.0% in every batch.
    from tests.test_bad_input import invoke

    text = (
        HEADER.format(rounds=3)
        + """
state:
  cables_cut: {initial: 0, min: 0, max: 6}
actors:
  R:
    name: Raider
    payoff: {weights: {cables_cut: 1}}
    actions:
      hold: {}
      cut: {cost: 0.1, effects: {cables_cut: "+= 1"}}
endings:
  - id: blackout
    when: cables_cut > 6
  - id: siege
    when: cables_cut >= 5
  - id: damage
    when: cables_cut >= 2
  - id: quiet
"""
    )
    path = tmp_path / "cables.yaml"
    path.write_text(text)
    result = invoke("validate", path, "--trial-runs", "100")
    assert result.exit_code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if "ended none" in line]
    # Within the bound but out of reach in 3 rounds: only the trial can tell.
    line = text.splitlines().index("    when: cables_cut >= 5") + 1
    assert warned == [
        f"{path}:{line}:11: warning: ending 'siege' ended none of the 100 trial runs: "
        "check that its condition can hold (a bound it cannot pass, a value nothing sets); "
        "if it is meant to be rare, a longer trial (--trial-runs 5000) tells"
    ]
    # Past the bound: said when the file loads, and not again by the trial.
    line = text.splitlines().index("    when: cables_cut > 6") + 1
    assert (
        f"{path}:{line}:11: warning: ending 'blackout' cannot be reached: its condition "
        "is false for every value of cables_cut (0 to 6): check its threshold against the "
        "variable's min and max" in result.stderr.splitlines()
    )
    silent = invoke("validate", path, "--trial-runs", "0")
    assert "ended none" not in silent.stderr


FIX = ": check its threshold against the variable's min and max"
VALUES = ": a variable has one value at a time; check the values it compares"


def test_an_ending_no_value_of_its_state_can_meet_is_warned_about_at_load(tmp_path):
    # An author's trial: `disruption > 12` (at most 10) and `truce == 'agreed' and truce
    # == 'failed'` got only the trial's "ended none of the 200 trial runs".
    from sim.engine.lint import changing_variables, impossible_endings
    from sim.engine.loading import load

    text = (ROOT / "tests" / "scenarios" / "tiny.yaml").read_text("utf-8")
    both = "when: summit == 'success' and summit == 'collapse'"
    for old, new in [
        ("    when: tension >= 8\n", "    when: tension >= 12\n"),
        ("when: summit == 'success' and tension < 4", both),
    ]:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "unreachable.yaml"
    path.write_text(text, "utf-8")
    messages = {p.message for p in load(path).warnings if "cannot be reached" in p.message}
    assert messages == {
        "warning: ending 'war' cannot be reached: its condition is false for every value of "
        f"tension (0 to 10){FIX}",
        "warning: ending 'deal' cannot be reached: its condition is false for every value of "
        f"summit (pending, success, collapse){VALUES}",
    }
    # At the bound itself it can be reached (the grid holds the ends): no warning.
    at_bound = text.replace("    when: tension >= 12\n", "    when: tension >= 10\n")
    path.write_text(at_bound, "utf-8")
    assert not any("'war' cannot" in p.message for p in load(path).warnings)
    # Two variables, at one corner of their grid only.
    corner = at_bound.replace(
        "    when: tension >= 10\n", "    when: tension >= 10 and summit == 'collapse'\n"
    )
    path.write_text(corner, "utf-8")
    assert not any("'war' cannot" in p.message for p in load(path).warnings)
    # No bundled scenario's ending is called unreachable (each is reached in CI's plays).
    for scenario in sorted((ROOT / "scenarios").rglob("*.yaml")):
        compiled = load(scenario)
        assert impossible_endings(compiled, changing_variables(compiled)) == [], scenario


def test_an_ending_reading_more_variables_than_a_grid_holds_is_left_to_the_trial(tmp_path):
    # Eleven variables: two grid values each is 2,048 points, more than the 1,024 the
    # sampled parameter sets were drawn for (validate crashed with an IndexError).
    from click.testing import CliRunner

    from cli import cli
    from sim.engine.lint import changing_variables, impossible_endings
    from sim.language.compiler import compile_text

    state = "".join(f"  v{i}: {{initial: 0, min: 0, max: 10}}\n" for i in range(11))
    total = " + ".join(f"v{i}" for i in range(11))
    text = (
        "scenario: {id: many, title: Many, start_date: 2025-01-01, rounds: 2, round_days: 7}\n"
        f"state:\n{state}"
        "actors:\n  A:\n    name: A\n    payoff: {weights: {v0: 1}}\n"
        "    actions:\n      hold: {}\n      push: {effects: {v0: '+= 1'}}\n"
        f'endings:\n  - {{id: big, title: Big, when: "{total} > 200"}}\n'
        "  - {id: calm, title: Calm}\n"
    )
    compiled = compile_text(text, "many.yaml")
    assert impossible_endings(compiled, changing_variables(compiled)) == []
    path = tmp_path / "many.yaml"
    path.write_text(text, "utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output


def test_validate_warns_where_the_trials_equilibrium_was_not_found(tmp_path):
    # An author's trial: a scenario validated clean, then played 21 runs/s, its
    # equilibrium missed in 118 of 200 runs because of thresholds on the expected state.
    from tests.test_bad_input import invoke

    jumping = ROOT / "tests" / "scenarios" / "jumping_replies.yaml"
    result = invoke("validate", jumping)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if "equilibrium of A, B" in line]
    text = jumping.read_text("utf-8")
    line = text.splitlines().index("    reasoning: equilibrium") + 1
    assert len(lines) == 1 and lines[0].startswith(f"{jumping}:{line}:"), result.stderr
    assert "was not found in 200 of 200 trial runs" in lines[0]
    assert "smooth it ('3 * clip((x - 7) / 2, 0, 1)')" in lines[0]
    # Where the thresholds are, each at its line and column in the file.
    rows = text.splitlines()
    for actor, expression in (("A", "4 if x > 1.5 else 0"), ("B", "(-4 if x > 1.5 else 0)")):
        at = next(n for n, row in enumerate(rows, 1) if f'expression: "{expression}' in row)
        col = rows[at - 1].index('"') + 2
        assert f"{actor}'s payoff at {at}:{col} ('{expression}" in lines[0], lines[0]
    # Smoothed as the warning says, the equilibrium exists and nothing is said.
    smooth = text.replace('"4 if x > 1.5 else 0"', '"4 * clip(x - 1, 0, 1)"').replace(
        '"(-4 if x > 1.5 else 0) + ', '"-4 * clip(x - 1, 0, 1) + '
    )
    assert smooth.count("clip(x - 1, 0, 1)") == 3  # the comment names it too
    path = tmp_path / "smooth.yaml"
    path.write_text(smooth, "utf-8")
    quiet = invoke("validate", path)
    assert quiet.exit_code == 0 and "was not found" not in quiet.stderr, quiet.stderr


def test_an_unfound_equilibrium_names_a_stopping_endings_threshold(tmp_path):
    # An author's trial: the cause was a stopping ending (naval_clash, tension >= 9) that
    # the warning did not name; its advice to smooth cannot apply to an ending.
    from tests.test_bad_input import invoke

    baltic = ROOT / "tests" / "scenarios" / "baltic_pipeline.yaml"
    result = invoke("validate", baltic)
    assert result.exit_code == 0, result.output
    [line] = [x for x in result.stderr.splitlines() if "equilibrium of FI, NATO, RU" in x]
    rows = baltic.read_text("utf-8").splitlines()
    at = rows.index("    when: tension >= 9") + 1
    assert f"stopping ending naval_clash at {at}:11 ('tension >= 9')" in line
    assert "a stopping ending's condition cannot be smoothed" in line
    # A categorical comparison ("3 if investigation == 'attributed' else 0") is an
    # outcome that foresight weighs as such, not a threshold: not listed.
    assert "investigation ==" not in line
    # The cure it names: without foresight the same trial finds every equilibrium.
    text = baltic.read_text("utf-8")
    for horizon in ("3", "2"):
        text = text.replace(f"    foresight: {horizon}", "    foresight: 0")
    assert "    foresight: 0" in text
    cured = tmp_path / "baltic_no_foresight.yaml"
    cured.write_text(text, "utf-8")
    again = invoke("validate", cured)
    assert again.exit_code == 0, again.output
    assert "equilibrium of" not in again.stderr, again.stderr

"""Actors that play a game: equilibrium, level-k, beliefs and foresight against references.

Every reference here is computed independently of the engine: the logit QRE by
scipy's root finder followed along lambda from 0 (the principal branch, as Gambit
does), level-k by its closed form, foresight by hand. Frequencies are compared within
three standard errors of a binomial proportion at a fixed seed.
"""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import fsolve
from scipy.special import expit, softmax

from sim.engine.model import WargameModel, play
from sim.language.compiler import compile_text
from tests.conftest import HEADER, ROOT, scenario

TEXTBOOK = ROOT / "scenarios" / "textbook"

# The 2x2 game of scenarios/textbook/mixed_2x2.yaml: Row up/down, Column left/right.
ROW = np.array([[3.0, -1.0], [-2.0, 1.0]])
COLUMN = np.array([[-1.0, 2.0], [1.0, -1.0]])  # indexed [row action, column action]
CHICKEN_A = np.array([[0.0, -1.0], [1.0, -10.0]])  # swerve/straight
RPS = np.array([[0.0, -1.0, 2.0], [1.0, 0.0, -1.0], [-2.0, 1.0, 0.0]])


def qre(row: np.ndarray, column: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """The principal-branch logit QRE of a bimatrix game, by continuation from lam = 0."""
    n, m = row.shape

    def gap(z: np.ndarray, at: float) -> np.ndarray:
        x, y = z[:n], z[n:]
        return np.concatenate([x - softmax(at * row @ y), y - softmax(at * column.T @ x)])

    z = np.concatenate([np.full(n, 1 / n), np.full(m, 1 / m)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # tiny steps near the solution
        for at in np.linspace(0, lam, 401)[1:]:
            z = fsolve(gap, z, args=(at,), xtol=1e-12)
    return z[:n], z[n:]


def textbook(name: str, lam: float | None = None, **replace: str):
    text = (TEXTBOOK / f"{name}.yaml").read_text()
    if lam is not None:
        text = text.replace("    value: 1\n", f"    value: {lam}\n", 1)
        text = text.replace("    value: 2\n", f"    value: {lam}\n", 1)
    for old, new in replace.items():
        assert old.replace("_", " ") in text or old in text
        text = text.replace(old, new)
    return compile_text(text, f"{name}.yaml")


def with_text(name: str, *pairs: tuple[str, str], lam: float = 1.0):
    text = (TEXTBOOK / f"{name}.yaml").read_text()
    text = text.replace("    value: 1\n", f"    value: {lam}\n", 1)
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return compile_text(text, f"{name}.yaml")


def frequency(model: WargameModel, actor: int, action: int) -> tuple[float, int]:
    """Share of all choices (runs x rounds) in which the actor took the action."""
    total = model.ctx.times[actor].sum()
    return float(model.ctx.times[actor, action].sum() / total), int(total)


def within_three_se(observed: float, expected: float, n: int) -> bool:
    se = np.sqrt(expected * (1 - expected) / n)
    return abs(observed - expected) <= 3 * se


@pytest.mark.parametrize("lam", [0.5, 1.0, 2.0, 4.0])
def test_equilibrium_frequencies_equal_the_logit_qre(lam):
    model = play(with_text("mixed_2x2", lam=lam), seed=1962, runs=np.arange(2000))
    x, y = qre(ROW, COLUMN, lam)
    up, n = frequency(model, 0, 0)
    left, _ = frequency(model, 1, 0)
    assert within_three_se(up, x[0], n), (up, x[0])
    assert within_three_se(left, y[0], n), (left, y[0])
    assert model.unconverged.sum() == 0


@pytest.mark.parametrize("lam", [0.5, 2.0, 8.0])
def test_equilibrium_strategies_solve_the_qre_equations(lam):
    model = WargameModel(with_text("mixed_2x2", lam=lam), 3, np.arange(4))
    model.step()
    x, y = qre(ROW, COLUMN, lam)
    row = model.actors[0].decision.probabilities[:, 0]
    column = model.actors[1].decision.probabilities[:, 0]
    assert row == pytest.approx(x, abs=1e-7)
    assert column == pytest.approx(y, abs=1e-7)


def test_equilibrium_approaches_nash_as_rationality_grows():
    nash = np.array([2 / 5, 2 / 7])
    distances = []
    for lam in (1, 4, 16, 64):
        model = WargameModel(with_text("mixed_2x2", lam=lam), 3, np.arange(2))
        model.step()
        found = np.array([a.decision.probabilities[0, 0] for a in model.actors])
        distances.append(np.abs(found - nash).max())
    assert distances == sorted(distances, reverse=True)
    assert distances[-1] < 0.01


@pytest.mark.parametrize("lam", [1.0, 4.0])
def test_rock_paper_scissors_with_unequal_stakes_plays_its_qre(lam):
    model = play(with_text("rock_paper_scissors", lam=lam), seed=5, runs=np.arange(1500))
    x, y = qre(RPS, -RPS, lam)
    for action in range(3):
        share, n = frequency(model, 0, action)
        assert within_three_se(share, x[action], n), (action, share, x[action])
        share, n = frequency(model, 1, action)
        assert within_three_se(share, y[action], n)


def test_prisoners_dilemma_defection_grows_with_rationality():
    shares = []
    for lam in (0.5, 1.0, 4.0):
        model = WargameModel(with_text("prisoners_dilemma", lam=lam), 3, np.arange(2))
        model.step()
        # Symmetric QRE: p = P(defect) solves p = logistic(lam * (2 - p)) in closed form
        # of the score difference (defect - cooperate = 1 + P(other cooperates)).
        (p,) = fsolve(lambda v, at=lam: v - expit(at * (2 - v)), [0.5], xtol=1e-12)
        found = model.actors[0].decision.probabilities[1, 0]
        assert found == pytest.approx(p, abs=1e-7)
        shares.append(found)
    assert shares == sorted(shares)


def test_chicken_equilibrium_is_the_symmetric_principal_branch():
    model = WargameModel(
        with_text("chicken", ("reasoning: beliefs\n    prior: 1", "reasoning: equilibrium")),
        3,
        np.arange(2),
    )
    model.step()
    x, y = qre(CHICKEN_A, CHICKEN_A.T, 2.0)
    assert model.actors[0].decision.probabilities[:, 0] == pytest.approx(x, abs=1e-7)
    assert model.actors[1].decision.probabilities[:, 0] == pytest.approx(y, abs=1e-7)


@pytest.mark.parametrize("depth", [1, 2])
def test_level_k_frequencies_equal_the_hand_computed_ones(depth):
    # Level 0 is myopic: with payoffs written in chose(), nobody else moving leaves every
    # option worth 0, so level 0 is uniform. Level k is a logit reply (lambda 1) to the
    # other at level k-1: score differences up - down = 7q - 2, left - right = 2 - 5p.
    p, q = 0.5, 0.5
    for _ in range(depth):
        p, q = expit(7 * q - 2), expit(2 - 5 * p)
    compiled = with_text(
        "mixed_2x2",
        *[("reasoning: equilibrium", f"reasoning: level-k\n    depth: {depth}")] * 1,
    )
    model = play(compiled, seed=8, runs=np.arange(3000))
    up, n = frequency(model, 0, 0)
    left, _ = frequency(model, 1, 0)
    assert within_three_se(up, p, n), (up, p)
    assert within_three_se(left, q, n), (left, q)


def test_beliefs_converge_to_the_qre_in_the_2x2_game():
    compiled = with_text(
        "mixed_2x2",
        ("reasoning: equilibrium", "reasoning: beliefs"),
        ("rounds: 20", "rounds: 400"),
    )
    model = WargameModel(compiled, 21, np.arange(600), keep_trajectories=False)
    spread = {}
    while not model.finished:
        model.step()
        if model.round in (20, 400):
            up = model.reasoning.strategy(0).probabilities[0]
            spread[model.round] = up.std()
    x, y = qre(ROW, COLUMN, 1.0)
    up = model.reasoning.strategy(0).probabilities[0]
    left = model.reasoning.strategy(1).probabilities[0]
    runs = len(up)
    assert abs(up.mean() - x[0]) <= 3 * up.std() / np.sqrt(runs)
    assert abs(left.mean() - y[0]) <= 3 * left.std() / np.sqrt(runs)
    # Each run's strategy settles (the spread across runs shrinks), not just the mean.
    assert spread[400] < spread[20] / 3


def stable_chicken_qre(lam: float) -> list[tuple[float, float]]:
    """All logit QRE of chicken at lam that are stable under smooth best replies."""

    def gap(z):
        p, q = z  # P(A straight), P(B straight); straight - swerve = 1 - 10 * other
        return [p - expit(lam * (1 - 10 * q)), q - expit(lam * (1 - 10 * p))]

    found = set()
    for p0 in np.linspace(0.01, 0.99, 9):
        for q0 in np.linspace(0.01, 0.99, 9):
            z, _, ok, _ = fsolve(gap, [p0, q0], full_output=True, xtol=1e-12)
            if ok == 1 and np.abs(gap(z)).max() < 1e-9:
                found.add(tuple(np.round(z, 6)))
    stable = []
    for p, q in found:
        dp = lam * expit(lam * (1 - 10 * q)) * (1 - expit(lam * (1 - 10 * q))) * -10
        dq = lam * expit(lam * (1 - 10 * p)) * (1 - expit(lam * (1 - 10 * p))) * -10
        if np.linalg.eigvals(np.array([[-1, dp], [dq, -1]])).real.max() < 0:
            stable.append((p, q))
    return stable


def test_chicken_learners_settle_on_a_stable_qre_branch():
    stable = stable_chicken_qre(2.0)
    assert len(stable) == 2  # the two asymmetric ones; the symmetric QRE is unstable
    compiled = with_text("chicken", ("rounds: 60", "rounds: 300"), lam=2.0)
    model = WargameModel(compiled, 4, np.arange(400), keep_trajectories=False)
    while not model.finished:
        model.step()
    p = model.reasoning.strategy(0).probabilities[1]
    q = model.reasoning.strategy(1).probabilities[1]
    near = [np.hypot(p - a, q - b) < 0.05 for a, b in stable]
    settled = near[0] | near[1]
    assert settled.mean() > 0.95
    # Who gives way is decided by chance early on: both branches occur about equally.
    share = near[0].sum() / settled.sum()
    assert abs(share - 0.5) <= 3 * np.sqrt(0.25 / settled.sum())


FORESIGHT = """
state:
  gain: {{initial: 0}}
  deal: {{values: [pending, made, failed], initial: pending}}
actors:
  A:
    name: Alpha
    rationality: 1
    foresight: {horizon}
    payoff:
      weights: {{gain: 1}}
    actions:
      hold: {{}}
      push: {{cost: {cost}}}
branches:
  - id: talks
    round: {branch_round}
    variable: deal
    outcomes:
      made:
        probability: 0.3 + 0.4 * {term}('A', 'push')
        effects: {{gain: "+= 1"}}
      failed:
        probability: rest
endings:
  - id: end
metrics: [gain]
"""


def first_round_push(
    horizon: int, cost: float = 0.5, branch_round: int = 1, runs=6000, term: str = "chose"
):
    compiled = scenario(
        FORESIGHT.format(horizon=horizon, cost=cost, branch_round=branch_round, term=term),
        rounds=3,
    )
    model = WargameModel(compiled, 17, np.arange(runs))
    model.step()
    decision = model.actors[0].decision
    return decision.probabilities[1, 0], (decision.choice == 1).mean(), runs


def test_foresight_raises_the_choice_that_raises_the_odds_of_a_valued_branch():
    # Pushing adds 0.4 to the odds of a deal worth +1 a round for the 3 rounds from the
    # branch's round on: foresight adds 3 * 0.4 * 1 = 1.2 to push's score.
    expected = expit(1.0 * (3 * 0.4 * 1 - 0.5))
    blind = expit(-0.5)
    p, share, n = first_round_push(horizon=1)
    assert p == pytest.approx(expected, abs=1e-12)
    assert within_three_se(share, expected, n)
    p0, share0, _ = first_round_push(horizon=0)
    assert p0 == pytest.approx(blind, abs=1e-12)
    assert within_three_se(share0, blind, n)


def test_a_branch_beyond_the_horizon_is_not_foreseen():
    # Branch in round 3 reading the pushes so far (times), game of 3 rounds: seen from
    # round 1 with a horizon of 3 (worth 1 round of gain), not with a horizon of 2.
    p2, _, _ = first_round_push(horizon=2, branch_round=3, runs=4, term="times")
    p3, _, _ = first_round_push(horizon=3, branch_round=3, runs=4, term="times")
    assert p2 == pytest.approx(expit(-0.5), abs=1e-12)
    assert p3 == pytest.approx(expit(1 * 0.4 * 1 - 0.5), abs=1e-12)


def test_this_rounds_move_is_not_credited_to_a_later_branch_that_reads_chose():
    # The round-3 branch reads the round-3 choice; a round-1 push cannot change it.
    p, _, _ = first_round_push(horizon=3, branch_round=3, runs=4, term="chose")
    assert p == pytest.approx(expit(-0.5), abs=1e-12)


STOPPING = """
parameters:
  threshold: {dist: fixed, value: 2}
state:
  tension: {initial: 0, max: 10}
actors:
  A:
    name: Alpha
    rationality: 0
    payoff:
      weights: {tension: 1}
    actions:
      calm: {}
      escalate: {effects: {tension: "+= 1"}}
endings:
  - id: war
    when: tension >= threshold
    stop: true
    payoffs: {A: -100}
  - id: peace
metrics: [tension]
"""


def test_a_stopping_ending_freezes_the_run_and_pays_once():
    model = play(scenario(STOPPING, rounds=6), seed=2, runs=np.arange(500))
    records = model.records()
    war = records["ending"] == "war"
    assert war.any() and (~war).any()
    # Rounds played: the run ends in the round tension first reaches 2.
    assert (model.rounds_played[~war] == 6).all()
    reached = np.argmax(model.trajectories[0] >= 2, axis=0)  # first round at 2
    assert np.array_equal(model.rounds_played[war], reached[war])
    assert (model.rounds_played[war] < 6).any()
    # The frozen state is the state at the stop; the metric carries it to the last round.
    assert (records["metric.tension"][war] == 2).all()
    assert (model.trajectories[0, -1][war] == 2).all()
    # Payoff: tension each round played, plus the one-off -100 for war.
    escalations = model.ctx.times[0, 1]
    assert (escalations[war] == 2).all()
    for run in np.flatnonzero(war)[:20]:
        played = model.rounds_played[run]
        path = model.trajectories[0, 1 : played + 1, run]
        assert model.payoff_total[0, run] == pytest.approx(path.sum() - 100)


def test_foresight_sees_a_stopping_ending_and_its_payoff():
    text = STOPPING.replace("rationality: 0", "rationality: 1\n    foresight: 1").replace(
        "tension: {initial: 0, max: 10}", "tension: {initial: 1, max: 10}"
    )
    model = WargameModel(scenario(text, rounds=6), 2, np.arange(3))
    model.step()
    decision = model.actors[0].decision
    # Escalating now ends the run with war (-100); the score keeps the round's payoff.
    assert decision.scores[1, 0] - decision.scores[0, 0] == pytest.approx(1 - 100)


def test_rationality_can_be_an_expression_of_the_state():
    compiled = scenario(
        """
        state:
          stress: {initial: 0.5}
        actors:
          A:
            name: Alpha
            rationality: 4 * stress
            actions:
              a: {cost: 0}
              b: {cost: 1}
        endings:
          - id: end
        metrics: [stress]
        """
    )
    model = WargameModel(compiled, 1, np.arange(2))
    model.step()
    assert model.actors[0].decision.probabilities[0, 0] == pytest.approx(expit(2.0))


def test_a_payoff_reading_history_steers_the_choice():
    # Valued only through times(): projecting the action as taken makes it count.
    compiled = scenario(
        """
        actors:
          A:
            name: Alpha
            rationality: 1
            payoff:
              expression: "2 * times('A', 'build')"
            actions:
              wait: {}
              build: {cost: 0.5}
        endings:
          - id: end
        """
    )
    model = WargameModel(compiled, 1, np.arange(2))
    model.step()
    assert model.actors[0].decision.probabilities[1, 0] == pytest.approx(expit(2 - 0.5))


def test_a_cost_reading_chose_is_paid_on_the_choices_made():
    compiled = scenario(
        """
        actors:
          A:
            name: Alpha
            rationality: 0
            actions:
              stay: {}
              go: {cost: "3 * chose('B', 'block')"}
          B:
            name: Beta
            rationality: 0
            actions:
              pass_: {}
              block: {}
        endings:
          - id: end
        """
    )
    model = play(compiled, seed=4, runs=np.arange(400))
    a_went = model.ctx.times[0, 1] == 1
    b_blocked = model.ctx.times[1, 1] == 1
    expected = np.where(a_went & b_blocked, -3.0, 0.0)
    assert np.array_equal(model.payoff_total[0], expected)


def test_expected_moves_of_others_enter_a_nonlinear_payoff():
    # A's payoff x * y: A sets x, B moves y. A's score of 'raise' is (x0 + 1) * E[y],
    # with E[y] = y0 + P(B up) under equilibrium; B is indifferent to A (rationality 1).
    compiled = scenario(
        """
        state:
          x: {initial: 1}
          y: {initial: 1}
        actors:
          A:
            name: Alpha
            rationality: 1
            reasoning: equilibrium
            payoff:
              expression: x * y
            actions:
              keep: {}
              raise: {cost: 1.5, effects: {x: "+= 1"}}
          B:
            name: Beta
            rationality: 1
            reasoning: equilibrium
            payoff:
              expression: "-0.5 * y + 2 * chose('B', 'up') * chose('A', 'raise')"
            actions:
              still: {}
              up: {effects: {y: "+= 1"}}
        endings:
          - id: end
        metrics: [x]
        """
    )
    model = WargameModel(compiled, 1, np.arange(2))
    model.step()
    p_raise = model.actors[0].decision.probabilities[1, 0]
    p_up = model.actors[1].decision.probabilities[1, 0]

    def gap(z):
        pr, pu = z
        return [pr - expit((1 + pu) - 1.5), pu - expit(-0.5 + 2 * pr)]

    ref = fsolve(gap, [0.5, 0.5], xtol=1e-12)
    assert [p_raise, p_up] == pytest.approx(ref, abs=1e-7)


def test_an_equilibrium_that_cannot_be_found_is_counted():
    # Best replies in a game with no pure equilibrium cycle for ever.
    compiled = with_text(
        "mixed_2x2",
        (
            "rationality: lam\n    reasoning: equilibrium",
            "rationality: lam\n    decision: best_response\n    reasoning: equilibrium",
        ),
    )
    model = WargameModel(compiled, 1, np.arange(1), keep_history=True)
    model.run_model()
    assert (model.unconverged == compiled.rounds).all()
    from sim.engine.lint import dead_levers
    from sim.seminar.transcript import reason

    assert "equilibrium was not found" in reason(model, model.history[0], "ROW")
    assert any("best replies in an equilibrium" in w.message for w in dead_levers(compiled))


@pytest.mark.parametrize("name", ["mixed_2x2", "rock_paper_scissors", "chicken"])
def test_strategic_runs_do_not_depend_on_the_block_they_are_played_in(name):
    compiled = textbook(name)
    whole = play(compiled, seed=9, runs=np.arange(300))
    for part in (np.arange(0, 300, 7), np.arange(150, 151)):
        alone = play(compiled, seed=9, runs=part)
        assert np.array_equal(alone.ctx.times, whole.ctx.times[..., part])
        assert np.array_equal(alone.payoff_total, whole.payoff_total[:, part])


def test_every_textbook_game_has_a_docs_page_that_names_its_equilibria():
    for path in sorted(TEXTBOOK.glob("*.yaml")):
        page = ROOT / "docs" / "textbook" / (path.stem.replace("_", "-") + ".md")
        assert page.exists(), page
        assert "Nash" in page.read_text() and "QRE" in page.read_text()


DOCS_GAMES = {
    "mixed-2x2": (ROW, COLUMN, lambda x, y: [x[0], y[0]]),
    "chicken": (CHICKEN_A, CHICKEN_A.T, lambda x, y: [x[0]]),
    "prisoners-dilemma": (
        np.array([[3.0, 0.0], [5.0, 1.0]]),
        np.array([[3.0, 5.0], [0.0, 1.0]]),
        lambda x, y: [x[0]],
    ),
    "rock-paper-scissors": (RPS, -RPS, lambda x, y: list(x)),
}


@pytest.mark.parametrize("page", sorted(DOCS_GAMES))
def test_the_qre_tables_in_the_docs_are_true(page):
    row, column, shown = DOCS_GAMES[page]
    text = (ROOT / "docs" / "textbook" / f"{page}.md").read_text()
    rows = re.findall(r"^\| ([\d.]+) \|((?: [\d.]+ \|)+)$", text, flags=re.M)
    assert len(rows) >= 4
    for lam, cells in rows:
        x, y = qre(row, column, float(lam))
        values = [float(v) for v in cells.split("|") if v.strip()]
        assert values == pytest.approx(shown(x, y), abs=6e-4), (lam, values)


def test_textbook_games_validate_without_warnings(capsys):
    from sim.engine.loading import load

    for path in sorted(TEXTBOOK.glob("*.yaml")):
        assert load(Path(path)).warnings == [], path


def test_a_seminar_game_ends_when_a_stopping_ending_is_reached():
    from sim.errors import OptionsError
    from sim.seminar.game import Game
    from sim.seminar.transcript import format_ending, format_game

    compiled = scenario(STOPPING, rounds=6)
    game = Game(compiled, seed=2, run=0)
    for _ in range(2):
        game.choose("A", "escalate")
        game.play_round()
    assert game.finished and game.round == 2
    with pytest.raises(OptionsError, match="ended in round 2: war"):
        game.play_round()
    game.play_to(6)  # nothing left to play: no error
    assert game.round == 2
    ending = format_ending(game.model)
    assert ending.startswith("Ending in round 2 of 6: war (war)")
    assert "ending payoffs included" in ending
    assert "Round 3" not in format_game(game.model)


def test_replay_json_says_what_each_actor_expected_and_foresaw(tmp_path):
    import json

    from click.testing import CliRunner

    from cli import cli

    out = tmp_path / "b"
    runner = CliRunner()
    tiny = ROOT / "tests" / "scenarios" / "tiny.yaml"
    result = runner.invoke(cli, ["run", str(tiny), "-n", "5", "--out", str(out), "--no-plots"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["replay", str(out), "--run", "2", "--json"])
    blue = json.loads(result.output)["rounds"][0]["choices"]["Blue"]
    # Blue reasons level 1 about Red (myopic) and foresees the round-2 summit.
    assert set(blue["expected"]) == {"Red"}
    assert sum(blue["expected"]["Red"].values()) == pytest.approx(1.0)
    odds = blue["foresaw"]["summit"]["if"]
    assert set(odds) == {"talk", "sanction"}
    assert odds["talk"]["success"] > odds["sanction"]["success"]
    assert "foresaw summit success" in blue["reason"]


def test_the_reason_for_a_choice_uses_the_history_of_its_own_round():
    # Valued through times() squared: in round 1 building is worth 1 - 0 = 1 more than
    # waiting; with two builds behind it (round 3) 9 - 4 = 5. A replay's round-1 reason
    # must use round 1's history, not the history at the end of the run.
    from sim.seminar.transcript import reason

    compiled = scenario(
        """
        actors:
          A:
            name: Alpha
            rationality: 50
            payoff:
              expression: "times('A', 'build') ** 2"
            actions:
              wait: {}
              build: {}
        endings:
          - id: end
        """,
        rounds=3,
    )
    model = WargameModel(compiled, 1, np.arange(1), keep_history=True)
    model.run_model()
    first, last = model.history[0], model.history[-1]
    assert first.decisions["A"].scores[1, 0] - first.decisions["A"].scores[0, 0] == 1.0
    assert last.decisions["A"].scores[1, 0] - last.decisions["A"].scores[0, 0] == 5.0
    assert "payoff expression (+1.00)" in reason(model, first, "A")
    assert "payoff expression (+5.00)" in reason(model, last, "A")


IDLE = """
state:
  deal: {values: [pending, made, failed], initial: pending}
  noise: {initial: 0}
actors:
  A:
    name: Alpha
    rationality: 1
    foresight: FORESIGHT
    payoff:
      weights: {noise: 1}
      expression: "(5 if deal == 'made' else 0) + 2 * chose('A', 'push') + times('B', 'shout')"
    actions:
      hold: {}
      push: {cost: 1}
  B:
    name: Beta
    rationality: 1
    actions:
      quiet: {}
      shout: {effects: {noise: "+= 1"}}
branches:
  - id: talks
    round: 2
    variable: deal
    outcomes:
      made: {probability: "0.2 + 0.5 * times('A', 'push')"}
      failed: {probability: rest}
endings:
  - id: end
metrics: [noise]
"""


def test_validate_warns_about_payoff_terms_that_cannot_change_a_choice():
    from sim.engine.loading import load_text

    header = HEADER.format(rounds=3)
    blind = load_text(header + IDLE.replace("FORESIGHT", "0"), "idle.yaml")
    messages = [p.message for p in blind.warnings if "cannot change" in p.message]
    # noise (B's doing), the deal (no foresight) and B's history cannot steer A; A's
    # own choice can.
    assert any("weight on 'noise'" in m for m in messages)
    assert any("'5 if deal == 'made' else 0'" in m for m in messages)
    assert any("'times('B', 'shout')'" in m for m in messages)
    assert not any("chose('A', 'push')" in m for m in messages)
    assert all(p.line > 0 and p.file == "idle.yaml" for p in blind.warnings)
    seeing = load_text(header + IDLE.replace("FORESIGHT", "2"), "idle.yaml")
    messages = [p.message for p in seeing.warnings if "cannot change" in p.message]
    # With foresight the deal can be steered (pushing shifts its odds).
    assert not any("deal ==" in m for m in messages)
    assert any("weight on 'noise'" in m for m in messages)


@pytest.mark.parametrize("lam", [128.0, 1000.0])
def test_equilibrium_at_very_high_rationality_follows_the_path_to_near_nash(lam):
    model = WargameModel(with_text("mixed_2x2", lam=lam), 3, np.arange(2))
    model.step()
    assert (model.unconverged == 0).all()
    row = model.actors[0].decision.probabilities[0, 0]
    column = model.actors[1].decision.probabilities[0, 0]
    # Within 1/lam of the Nash equilibrium (2/5, 2/7), and equal to the reference where
    # the reference's own continuation is accurate.
    assert abs(row - 0.4) < 1 / lam and abs(column - 2 / 7) < 1 / lam
    if lam <= 128:
        x, y = qre(ROW, COLUMN, lam)
        assert (row, column) == pytest.approx((x[0], y[0]), abs=1e-6)


COORDINATION = """
parameters:
  lam: {{dist: fixed, value: {lam}}}
actors:
  ROW:
    name: Row
    rationality: lam
    reasoning: equilibrium
    payoff:
      expression: >-
        5 * chose('ROW', 'a') * chose('COL', 'a') + 3 * chose('ROW', 'b') * chose('COL', 'a')
        + chose('ROW', 'b') * chose('COL', 'b')
    actions: {{a: {{}}, b: {{}}}}
  COL:
    name: Column
    rationality: lam
    reasoning: equilibrium
    payoff:
      expression: >-
        2 * chose('ROW', 'a') * chose('COL', 'a') + chose('ROW', 'b') * chose('COL', 'a')
        + 3 * chose('ROW', 'b') * chose('COL', 'b')
    actions: {{a: {{}}, b: {{}}}}
endings:
  - id: end
"""


@pytest.mark.parametrize("lam", [1.0, 2.0, 2.5, 3.0, 4.0])
def test_in_a_coordination_game_the_equilibrium_stays_on_the_principal_branch(lam):
    # Two QRE for lam above about 1.8; the one found must not jump between them.
    row = np.array([[5.0, 0.0], [3.0, 1.0]])
    column = np.array([[2.0, 0.0], [1.0, 3.0]])
    model = WargameModel(scenario(COORDINATION.format(lam=lam)), 1, np.arange(2))
    model.step()
    x, y = qre(row, column, lam)
    assert model.actors[0].decision.probabilities[0, 0] == pytest.approx(x[0], abs=1e-6)
    assert model.actors[1].decision.probabilities[0, 0] == pytest.approx(y[0], abs=1e-6)


COL_PAYOFF = """\
        - chose('ROW', 'up') * chose('COL', 'left')
        + 2 * chose('ROW', 'up') * chose('COL', 'right')
        + chose('ROW', 'down') * chose('COL', 'left')
        - chose('ROW', 'down') * chose('COL', 'right')
"""


@pytest.mark.parametrize("reasoning", ["level-k\n    depth: 3", "beliefs", "equilibrium"])
def test_reasoning_that_cannot_change_a_choice_is_a_dead_lever(reasoning):
    """Column values its own move only: its reasoning is warned about, and is idle."""
    from sim.engine.lint import dead_levers

    own_only = "        2 * chose('COL', 'left') - chose('COL', 'right')\n"
    col = "    name: Column player\n    rationality: lam\n    reasoning: equilibrium"
    reasoned = with_text(
        "mixed_2x2",
        (COL_PAYOFF, own_only),
        (col, col.replace("equilibrium", reasoning)),
        lam=2.0,
    )
    no_reasoning = (col, col.replace("\n    reasoning: equilibrium", ""))
    myopic = with_text("mixed_2x2", (COL_PAYOFF, own_only), no_reasoning, lam=2.0)
    messages = [w.message for w in dead_levers(reasoned)]
    said = [m for m in messages if "chooses as a myopic actor would" in m]
    assert len(said) == 1 and said[0].startswith(f"warning: COL reasons '{reasoning[:7]}")
    assert not any("reasons '" in w.message for w in dead_levers(myopic))
    # And it is true: Column plays its myopic logit reply, softmax(lam * (2, -1)).
    expected = softmax(2.0 * np.array([2.0, -1.0]))
    for compiled in (reasoned, myopic):
        model = WargameModel(compiled, 3, np.arange(50))
        model.step()
        assert model.actors[1].decision.probabilities[:, 0] == pytest.approx(expected, abs=1e-12)


def test_reasoning_about_an_actor_that_matters_is_not_warned_about():
    from sim.engine.lint import dead_levers

    level_k = with_text("mixed_2x2", ("reasoning: equilibrium", "reasoning: level-k"))
    assert not any("reasons '" in w.message for w in dead_levers(level_k))


def test_beliefs_with_no_prior_expect_no_move_before_anyone_has_moved():
    """prior: 0 in round 1 (no history): the expected mix is all zeros, as documented."""
    import sim.engine.reasoning as reasoning

    compiled = textbook("chicken")
    model = WargameModel(
        compiled, 1, np.arange(20), overrides={f"{a.id}.prior": 0.0 for a in compiled.actors}
    )
    seen = []
    original = reasoning.RoundReasoning.beliefs

    def spy(self, i):
        found = original(self, i)
        seen.append((self.ctx.round, found))
        return found

    reasoning.RoundReasoning.beliefs = spy
    try:
        model.step()
    finally:
        reasoning.RoundReasoning.beliefs = original
    assert len({r for r, _ in seen}) == 1  # the first round only
    for _, expect in seen:
        mixes = [m for m in expect if m is not None]
        assert mixes and all(np.all(m == 0.0) for m in mixes)


def test_runs_whose_replies_jump_give_up_quickly_and_say_so(monkeypatch):
    # An author's scenario played 10,000 runs in 76 s (alaska: under 1 s): in a few runs
    # the equilibrium meets a jump in the replies, and Newton's method went on halving
    # the path's step to 1e-7 and correcting six times at each. It now stops a run whose
    # corrections do not halve its residual, and a path whose step falls below 1e-3.
    # The runs are still reported as not converged; the other runs are untouched (the
    # bundled scenarios never reach the path, and their golden results hold).
    from sim.engine import reasoning

    calls = 0
    score = reasoning.RoundReasoning.score

    def counted(self, *args, **kwargs):
        nonlocal calls
        calls += 1
        return score(self, *args, **kwargs)

    monkeypatch.setattr(reasoning.RoundReasoning, "score", counted)
    compiled = compile_text(
        (ROOT / "tests" / "scenarios" / "redsea_jumps.yaml").read_text(), "redsea_jumps.yaml"
    )
    model = WargameModel(compiled, 1, np.array([74, 124, 223, 254]))
    model.run_model()
    assert int(np.asarray(model.unconverged).sum()) == 5
    # 8,624 score evaluations before; 2,006 now.
    assert calls < 3000, calls

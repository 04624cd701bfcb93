"""What the model expects from here: continuations of one game (engine and seminar)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.continuation import CONTINUATION_BIT, continuation_keys, continue_runs
from sim.engine.loading import load
from sim.seminar.game import Game
from tests.conftest import ALASKA, TINY

SEED = 20250815


@pytest.mark.parametrize("path", [TINY, ALASKA])
@pytest.mark.parametrize("round_", [0, 1, 3])
def test_a_continuation_keyed_by_the_games_own_run_is_the_game_itself(path, round_):
    game = Game(load(path), 7, 5)
    game.play_to(round_)
    copy = continue_runs(game.model, [5])
    with np.errstate(all="ignore"):
        copy.run_model()
    game.play_to(game.rounds)
    mine, theirs = game.model.records(), copy.records()
    for column in mine:
        assert np.array_equal(mine[column], theirs[column]), column


def test_continuation_keys_are_distinct_reproducible_and_never_a_batch_run():
    keys = continuation_keys(5, 2, 1000)
    assert len(set(keys.tolist())) == 1000
    assert (keys >= CONTINUATION_BIT).all()
    assert np.array_equal(keys, continuation_keys(5, 2, 1000))
    assert not set(keys.tolist()) & set(continuation_keys(5, 3, 1000).tolist())


def test_the_outlook_keeps_the_history_and_draws_the_future():
    game = Game(load(TINY), SEED)
    game.play_to(3)
    seen = game.expect(500)
    assert seen.round == 3 and seen.runs == 500
    assert "summit" not in seen.branches  # resolved in round 2: history, not odds
    assert sum(seen.endings.values()) == pytest.approx(1.0)
    assert seen == game.expect(500)  # reproducible (and cached)
    game.play_to(4)
    final = game.expect(50)
    ending = game.compiled.endings[int(game.model.ending[0])].id
    assert final.endings[ending] == 1.0  # the game is over: nothing left to draw


def test_the_outlook_of_the_summit_is_the_rules_odds_from_the_state_reached():
    # Reasoning by hand for tiny after round 1. In round 2 Blue talks (tension -0.5) or
    # sanctions (+0.8 + normal(0, 0.2)); Red mobilises (+1) or holds; then the summit
    # succeeds with clip(0.7 - 0.08 tension - 0.3 aid_cut + 0.1 times(Blue, talk)).
    game = Game(load(TINY), SEED)
    game.play_to(1)
    _, preview = game.preview()
    state = {
        n: float(v[0]) for n, v in zip(game.compiled.state_names, preview.observed, strict=True)
    }
    aid_cut = float(game.model.ctx.params[game.compiled.param_names.index("aid_cut")][0])
    talks_before = float(game.model.ctx.times[0, 0, 0])
    blue = preview.decisions["Blue"].probabilities[:, 0]
    red = preview.decisions["Red"].probabilities[:, 0]
    expected = 0.0
    for b, (blue_change, talk) in enumerate([(-0.5, 1), (0.8, 0)]):
        for r, red_change in enumerate([0.0, 1.0]):
            tension = min(max(state["tension"] + blue_change + red_change, 0), 10)
            p = 0.7 - 0.08 * tension - 0.3 * aid_cut + 0.1 * (talks_before + talk)
            expected += blue[b] * red[r] * min(max(p, 0.05), 0.95)
    runs = 2000
    found = game.expect(runs).branches["summit"]["success"]
    se = np.sqrt(expected * (1 - expected) / runs)
    assert abs(found - expected) < 3 * se + 0.005, (found, expected, se)


def test_peoples_choices_for_rounds_not_played_are_not_in_the_outlook():
    game = Game(load(TINY), SEED)
    before = game.expect(300)
    game.choose("Blue", "sanction")  # secret until the round is played
    assert game.expect(300) == before

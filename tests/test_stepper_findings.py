"""What a lecturer found running a class with `wargame step`, one test per finding.

Screens are checked the way a person sees them at 80x30: :meth:`ScriptedRoom.screens`
cuts what was shown at every answer and page turn, and each piece must fit.
"""

from __future__ import annotations

import itertools
import re

from sim.engine.loading import load
from sim.seminar.game import Game
from sim.seminar.stepper import MENU_HELP, ScriptedRoom, StepOptions, Stepper
from sim.seminar.transcript import format_round_compact, round_view
from tests.conftest import ALASKA, ROOT, TINY

SEED = 20250815


class PredictingRoom(ScriptedRoom):
    """A scripted room that answers every probability question with an even split."""

    def line(self, prompt, default=None):
        if prompt.strip().startswith("P("):
            self.answers.insert(0, "" if default else "0.5")
        return super().line(prompt, default)


def test_every_alaska_round_with_two_seats_fits_80x30_before_and_after_the_choices():
    game = Game(load(ALASKA), SEED)
    answers = ["n", "2", "1"] * 13 + ["q", "y"]
    room = PredictingRoom(answers)
    Stepper(game, room, StepOptions(play=("US", "RU"), predict=True, height=30)).run()
    assert game.finished
    screens = room.screens()
    for screen in screens:
        assert len(screen) <= 30, "\n".join(screen)
        assert max(len(line) for line in screen) <= 80, "\n".join(screen)
    # Each question to choose has the actor's options on the same screen.
    asked = [s for s in screens if s[-1].startswith("  US chooses")]
    assert len(asked) == 13
    for number, screen in enumerate(asked, 1):
        # The round named beside the seat: the heading may have scrolled off by then.
        assert f"  US (United States), round {number}: the room chooses. Options:" in screen
        assert any("1. hold" in line for line in screen)
        assert any("4. arm_ukraine" in line for line in screen)
    # Round 1's injects and prompts are all shown, in full, before the options.
    text = room.text
    assert "Prompt: Does a DPRK ICBM that covers all of North America change the US" in text


def test_the_injects_can_be_read_again_at_a_choice():
    game = Game(load(TINY), SEED)
    room = ScriptedRoom(["n", "i", "1", "q", "y"])
    Stepper(game, room, StepOptions(play=("Blue",))).run()
    assert room.text.count("Inject flight: Unannounced aircraft land") == 2


def test_reasons_are_wrapped_not_cut_when_the_round_fits_and_in_plain_words():
    game = Game(load(ALASKA), SEED)
    while not game.finished:
        game.play_round()
        view = round_view(game.model, game.history[-1])
        text = format_round_compact(view, 80)
        lines = text.splitlines()
        assert len(lines) <= 25 and max(len(line) for line in lines) <= 80, text
        for jargon in ("payoff expression", "x weight", "score"):
            assert jargon not in text, (jargon, text)
        short = [a for a in view["actors"] if len(a["plain"]) < 150]
        flat = " ".join(text.split())
        for actor in short:  # a reason of two lines or so is there whole
            assert " ".join(actor["plain"].split()) in flat, (actor["plain"], text)
    round3 = format_round_compact(round_view(game.model, game.history[2]), 80)
    assert "…" not in round3  # round 3 has room for every reason in full


def test_the_details_do_not_show_the_odds_of_a_branch_the_room_has_still_to_predict():
    game = Game(load(ALASKA), SEED)
    room = PredictingRoom(["n", "d", "r", "n", "d", "q", "y"])
    Stepper(game, room, StepOptions(predict=True, height=30)).run()
    before, after = room.text.split("P(success)", 1)
    assert "summit (odds hidden until it resolves)" in before
    assert not re.search(r"summit success \d+%", before)
    assert re.search(r"summit success \d+%", after)  # round 2 resolved it: shown again


def test_an_action_may_be_typed_with_spaces_and_a_near_miss_is_answered():
    game = Game(load(ALASKA), SEED)
    room = ScriptedRoom(["n", "ease_sanction", "Ease Sanctions", "q", "y"])
    Stepper(game, room, StepOptions(play=("US",))).run()
    assert "(did you mean 'ease_sanctions'?)" in room.text


def test_the_start_of_an_action_is_answered_with_the_one_it_begins():
    # A lecturer's trial: 'ease' got no suggestion (too short to be near by spelling).
    game = Game(load(ALASKA), SEED)
    room = ScriptedRoom(["n", "ease", "ease sanctions", "q", "y"])
    Stepper(game, room, StepOptions(play=("US",))).run()
    assert "'ease' is not an option for US (did you mean 'ease_sanctions'?)" in room.text
    assert game.choices == {(1, "US"): "ease_sanctions"}


def test_an_actors_options_keep_their_numbers_from_round_to_round():
    game = Game(load(ALASKA), SEED)
    # Round 1: ease sanctions is 3; after the summit collapses it is closed, still 3,
    # and arm_ukraine stays 4.
    answers = ["n", "3", "n", "3", "n", "3", "4", "q", "y"]
    room = ScriptedRoom(answers)
    Stepper(game, room, StepOptions(play=("US",))).run()
    numbered = re.findall(r"^ +(\d)\. (\w+)", room.text, re.M)
    by_number: dict[str, set[str]] = {}
    for number, action in numbered:
        by_number.setdefault(number, set()).add(action)
    assert by_number == {
        "1": {"hold"},
        "2": {"press_ukraine"},
        "3": {"ease_sanctions"},
        "4": {"arm_ukraine"},
    }
    if "3. ease_sanctions  (not open this round)" in room.text:
        assert "ease_sanctions is not open to US this round." in room.text


def test_help_fits_80_columns():
    assert max(len(line) for line in MENU_HELP.splitlines()) <= 80


# --- handouts: the debrief whole, numbers as elsewhere, the students, --out -------------


def classroom_save(tmp_path):
    from sim.classroom.roles import FACILITATOR, STUDENT, Role
    from sim.classroom.room import Classroom

    room = Classroom(
        Game(load(ALASKA), 1962),
        ("US",),
        save_dir=tmp_path,
        scenario_path=str(ALASKA),
        continuations=100,
    )
    fac = Role(FACILITATOR)
    room.open_round(fac)
    room.reveal(fac)
    room.open_round(fac)
    room.predict(Role(STUDENT), "Ada", None, "summit", {"success": 0.6, "collapse": 0.4})
    room.reveal(fac)
    return room.save(fac, "class-a")


def test_a_handout_of_a_classroom_save_has_the_whole_debrief_and_the_students(tmp_path):
    from click.testing import CliRunner

    from cli import cli

    path = classroom_save(tmp_path)
    runner = CliRunner()
    for fmt in ("markdown", "html"):
        args = ["step", "--resume", str(path), "--no-input", "--format", fmt, "--mc-runs", "300"]
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
        text = result.output
        debrief = text[text.index("Debrief: this game against the model") :]
        assert "Students" in debrief and "Ada" in debrief
        assert "fraction of Russian front-line shell consumption" in debrief  # whole
        assert not re.search(r"\d\.\d+e[+-]\d", debrief)  # no 1.18e+04
        assert re.search(r"1\d,\d\d\d", debrief)  # km as 14,410, like the rest
        assert "summit" in debrief.lower() or "Summit" in debrief


def test_step_writes_a_handout_with_out_and_never_replaces_a_file_without_force(tmp_path):
    from click.testing import CliRunner

    from cli import cli

    runner = CliRunner()
    out = tmp_path / "handout.html"
    base = ["step", str(TINY), "--no-input", "--format", "html", "--mc-runs", "100"]
    result = runner.invoke(cli, [*base, "--out", str(out)])
    assert result.exit_code == 0 and f"handout written to {out}" in result.output
    assert out.read_text().startswith("<!DOCTYPE html>")
    out.write_text("my notes\n")
    result = runner.invoke(cli, [*base, "--out", str(out)])
    assert result.exit_code == 2 and "add --force to replace it" in result.output
    assert len(result.output.strip().splitlines()) == 1 and out.read_text() == "my notes\n"
    result = runner.invoke(cli, [*base, "--out", str(out), "--force"])
    assert result.exit_code == 0 and out.read_text().startswith("<!DOCTYPE html>")
    result = runner.invoke(cli, ["step", str(TINY), "--no-input", "--out", str(out)])
    assert result.exit_code == 2 and "add --format markdown or html" in result.output
    result = runner.invoke(cli, [*base, "--out", str(tmp_path / "no" / "x.html")])
    assert result.exit_code == 2 and "no such folder" in result.output
    saved = Game(load(TINY), SEED).save(tmp_path / "g.json")
    args = ["step", "--resume", str(saved), "--format", "markdown", "--out", str(saved), "--force"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 2 and "the saved game itself" in result.output


def test_asking_for_the_injects_of_a_quiet_round_says_there_are_none():
    # A lecturer's trial: `i` in a round with no injects printed only the date.
    game = Game(load(TINY), SEED)
    room = ScriptedRoom(["n", "1", "n", "1", "n", "i", "1", "q", "y"])
    Stepper(game, room, StepOptions(play=("Blue",))).run()
    quiet = room.text.split("Round 3 of 4, 2025-08-22")[1]
    assert quiet.startswith("\n  Blue (Blue Republic), round 3: the room chooses.")
    assert "Blue chooses (1-2 or a name, ? lists them): i\nRound 3 of 4, 2025-08-22\n" in (
        room.text
    )
    assert "  No injects and no branches this round.\n" in room.text


def test_the_override_list_never_splits_a_number_from_its_actor():
    from tests.conftest import ALASKA

    game = Game(load(ALASKA), SEED)
    room = ScriptedRoom(["o", "", "q", "y"])
    Stepper(game, room, StepOptions(play=("US",))).run()
    text = room.text.replace("\u00a0", " ")
    listing = text[text.index("Override whose") :].split("  Actor (Enter: none)")[0]
    for line in listing.splitlines():
        assert not line.rstrip().endswith("."), listing  # "7." left behind, "ROK" below
    assert "7. ROK" in listing


def test_a_key_typed_with_enter_is_one_answer_at_a_terminal(monkeypatch):
    # An author's trial: "q" then Enter at the menu, and the Enter answered "Quit
    # anyway? [y/N]" with No. An Enter right behind a key belongs to that key; an Enter
    # pressed on its own later is still the default answer. (A line's Enter is its
    # answer: the pty test in test_seminar.py answers "[talk]:" with Enter at once.)
    import click

    from sim.seminar import stepper
    from sim.seminar.stepper import TerminalRoom

    now = [100.0]
    keys = iter(["q", "\r", "y", "\r"])

    def getchar() -> str:
        now[0] += 0.01  # typed together: ten milliseconds apart
        return next(keys)

    monkeypatch.setattr(click, "getchar", getchar)
    monkeypatch.setattr(stepper.time, "monotonic", lambda: now[0])
    room = TerminalRoom(raw_keys=True)
    assert room.key("? > ") == "q"
    assert room.key("Quit anyway? [y/N] > ") == "y"  # the stray Enter was skipped
    now[0] += 2.0  # a deliberate Enter, later: No
    assert room.key("Quit anyway? [y/N] > ") == "n"
    # A key and its Enter in one read (tmux send-keys q Enter, a paste): one key.
    keys = iter(["q\r", "y\r"])
    now[0] += 2.0
    assert room.key("? > ") == "q"
    assert room.key("Quit anyway? [y/N] > ") == "y"


CHANCE_BRANCH = """
state:
  incident: {values: [none, deadly, contained], initial: none}
  tension: {initial: 1}
actors:
  A:
    name: Alpha
    payoff: {weights: {tension: -1}}
    actions:
      hold: {}
      calm: {cost: 0.1, effects: {tension: "-= 0.1"}}
branches:
  - id: rammed
    hazard: 0.3
    variable: incident
    text: A patrol boat is rammed near the islands.
    prompt: Accident or test?
    outcomes:
      deadly: {probability: 0.3, text: Sailors are killed.}
      contained: {probability: rest}
endings:
  - id: end
"""


def test_a_chance_branch_is_said_to_be_possible_and_told_when_it_happens(tmp_path):
    # An author's trial: a hazard branch's text was shown every round as if the event
    # had happened, and --predict asked how it would go as if it were sure to come.
    from tests.conftest import HEADER

    path = tmp_path / "chance.yaml"
    path.write_text(HEADER.format(rounds=6) + CHANCE_BRANCH)
    game = Game(load(path), 2)
    room = PredictingRoom(["n"] * 6 + ["q", "y"])
    Stepper(game, room, StepOptions(predict=True, height=30)).run()
    assert game.finished
    text = room.text
    happened = game.outcome_of("rammed")
    round_ = int(game.model.branch_round[0][0])
    assert happened is not None and round_ == 4  # seed 2: it came up in round 4
    assert text.count("Branch rammed may come up this round, by chance.") == round_
    # The event's text is told once, with its outcome, in the round it happened.
    assert text.count("A patrol boat is rammed near the islands.") == 1
    assert text.index("A patrol boat is rammed") < text.index(f"Branch rammed: {happened}.")
    assert "Prediction: if rammed comes up, how will it go?" in text


def test_back_then_next_on_the_last_round_shows_the_ending_again():
    # An author's trial: after [b]ack from the end and [n]ext, the ending was not shown.
    game = Game(load(TINY), SEED)
    room = ScriptedRoom(["n", "n", "n", "n", "b", "n", "q", "y"])
    Stepper(game, room, StepOptions()).run()
    assert game.finished
    assert room.text.count("Ending:") == 2, room.text


def test_the_outlook_key_shows_what_the_model_expects_from_here():
    # A lecturer's trial: step had no way to show the model's outlook, which the
    # classroom's projector shows every round.
    game = Game(load(ALASKA), SEED)
    room = ScriptedRoom(["n", "n", "e", "q", "y"])
    Stepper(game, room, StepOptions(mc_runs=400)).run()
    seen = game.expect(400)  # cached: the outlook the key showed
    assert seen.round == 2
    text = room.text
    assert "The model's outlook after round 2: 400 continuations" in text
    titles = {e.id: e.title for e in game.compiled.endings}
    for ending, p in seen.endings.items():
        assert re.search(rf"{re.escape(titles[ending])}\s+{100 * p:5.1f}%", text), ending
    # The summit resolved in round 2: only the counteroffensive is still open.
    odds = ", ".join(f"{o} {100 * p:.0f}%" for o, p in seen.branches["counteroffensive"].items())
    assert odds in " ".join(text.split())
    assert "summit: " not in text.split("The model's outlook")[1]


def test_the_outlook_hides_the_odds_of_a_branch_the_room_has_yet_to_predict():
    game = Game(load(ALASKA), SEED)
    room = ScriptedRoom(["n", "e", "q", "y"])
    Stepper(game, room, StepOptions(mc_runs=200, predict=True)).run()
    outlook = room.text.split("The model's outlook")[1]
    assert "summit: odds hidden until the room has predicted it" in outlook
    assert "success" not in outlook and "collapse" not in outlook


def test_a_round_with_nothing_to_read_or_ask_is_titled_once():
    # An author's trial: such a round printed its title twice, with nothing between.
    game = Game(load(TINY), SEED)
    room = ScriptedRoom(["n", "n", "n", "n", "q", "y"])
    Stepper(game, room, StepOptions()).run()
    assert room.text.count("Round 3 of 4, 2025-08-22") == 1
    # A round with an inject keeps its head (the inject's text and prompt) before it.
    assert room.text.count("Round 1 of 4, 2025-08-08") == 2
    assert "Prompt: What does the flight tell Blue?" in room.text


def test_quitting_names_what_is_unsaved_and_the_end_has_no_outlook_to_play():
    # An author's trial: with only predictions made, quitting said "the people's
    # choices" were not saved; at the end, e played continuations of a finished game.
    game = Game(load(TINY), SEED)
    room = PredictingRoom(["n", "n", "q", "n"])
    Stepper(game, room, StepOptions(predict=True)).run()
    assert "The room's predictions since the last save are not saved." in room.text
    game = Game(load(TINY), SEED)
    room = ScriptedRoom(["n", "n", "n", "n", "e", "q"])
    Stepper(game, room, StepOptions()).run()
    assert game.finished
    assert "The game is over: there is nothing left to expect" in room.text
    assert "Continuing the game" not in room.text
    assert "[b]ack [f]ork [s]ave [q]uit  r d t e ? > " in room.text


def test_enter_leaves_a_seats_decision_to_its_rule_and_its_odds_are_not_hidden():
    # A lecturer's trial: Enter was refused at a branch the room's seat decides (asked
    # every round while it may come up), and the outlook promised to show that branch's
    # odds "once predicted", which the room is never asked.
    # (A seat's branch is now asked only in the round it comes up: Enter is tried on
    # dialogue_offer in tests/test_stepper_room.py.)
    taiwan = ROOT / "scenarios" / "taiwan-strait.yaml"
    game = Game(load(taiwan), SEED)
    room = ScriptedRoom(["n", "1", "e", "q", "y"])
    Stepper(game, room, StepOptions(play=("US",), predict=True, mc_runs=200)).run()
    assert "decides us_response" not in room.text  # no quarantine: it cannot come up
    outlook = room.text.split("The model's outlook")[1]
    assert "us_response: odds hidden" not in outlook
    assert "us_response:" in outlook


def test_a_seats_own_branch_is_hidden_nowhere_not_even_in_earlier_reasons():
    # The outlook showed the odds of a branch the room's seat decides, but the reasons
    # of earlier rounds (the actors' foresight) still hid them: one rule for both now.
    taiwan = ROOT / "scenarios" / "taiwan-strait.yaml"
    game = Game(load(taiwan), SEED)
    seated = Stepper(game, ScriptedRoom([]), StepOptions(play=("US",), predict=True))
    compiled = game.compiled
    us = compiled.actor_index("US")
    own = {b.id for b in compiled.branches if b.decided_by == us}
    assert own and not own & seated.hidden_branches()
    others = {b.id for b in compiled.branches if b.decided_by != us}
    assert others and others <= seated.hidden_branches()
    unseated = Stepper(Game(load(taiwan), SEED), ScriptedRoom([]), StepOptions(predict=True))
    assert own <= unseated.hidden_branches()


def test_a_state_variables_own_title_names_it_where_no_metric_does():
    # A lecturer's trial: the classroom's changes read "us aid level" beside "Russian
    # manpower gap" (only metrics had titles).
    from sim.language.compiler import compile_text
    from sim.seminar.briefing import variable_titles

    text = TINY.read_text().replace(
        "    unit: index\n", "    unit: index\n    title: Tension on the border\n", 1
    )
    assert text != TINY.read_text()
    compiled = compile_text(text, str(TINY))
    titles = variable_titles(compiled)
    assert titles["tension"] == "Tension on the border"
    assert "troops_k" not in titles  # no title of its own, nor a metric's
    # A metric of the variable without a title of its own takes the variable's.
    assert {m.id: m.title for m in compiled.metrics}["tension"] == "Tension on the border"
    assert variable_titles(compiled, mid_sentence=True)["tension"] == "tension on the border"
    game = Game(compiled, SEED)
    game.play_round()
    shown = format_round_compact(round_view(game.model, game.history[0]), 200)
    assert "less tension on the border (-1.3)" in shown  # Blue's reason, mid-sentence


def test_a_metric_title_inside_a_sentence_starts_in_lower_case_unless_a_name():
    # A lecturer's trial: "less Pressure on Ukraine to exchange territory (-0.7)".
    from sim.seminar.briefing import title_mid_sentence, values_in_words, variable_titles

    assert title_mid_sentence("Pressure on Ukraine") == "pressure on Ukraine"
    assert title_mid_sentence("Allies' confidence") == "allies' confidence"
    assert title_mid_sentence("US aid") == "US aid"  # acronyms stay as they are
    assert title_mid_sentence("DPRK shells delivered") == "DPRK shells delivered"
    assert title_mid_sentence("East Asian arming") == "East Asian arming"  # a name
    assert title_mid_sentence("A") == "a"
    # A nationality keeps its capital even where the scenario's text never uses it
    # mid-sentence (an author's trial: "more chinese presence").
    assert title_mid_sentence("Chinese presence") == "Chinese presence"
    assert title_mid_sentence("Norwegian patrols") == "Norwegian patrols"
    assert title_mid_sentence("Japan's deployments", frozenset({"Japan"})) == (
        "Japan's deployments"
    )
    compiled = load(ALASKA)
    # Alaska's text writes "Russian" mid-sentence: a name, not a sentence's start.
    mid = variable_titles(compiled, mid_sentence=True)
    assert mid["ua_territorial_pressure"] == "pressure on Ukraine to exchange territory"
    assert mid["ru_manpower_gap_k"] == "Russian manpower gap"
    # Where a title starts a line (the projector's changes) it is as written.
    assert (
        variable_titles(compiled)["ua_territorial_pressure"]
        == "Pressure on Ukraine to exchange territory"
    )
    us = compiled.actors[compiled.actor_index("US")]
    assert any(v.startswith("more allies' confidence in US") for v in values_in_words(compiled, us))
    game = Game(compiled, SEED)
    game.play_round()
    text = format_round_compact(round_view(game.model, game.history[0]), 200)
    assert "less pressure on Ukraine to exchange territory (-0.7)" in text
    # A capital after "more"/"less" only for a name the scenario writes so ("European").
    from sim.seminar.briefing import _names

    capitals = set(re.findall(r"(?:more|less) ([A-Z][a-z]+) ", text))
    assert capitals <= _names(compiled), capitals - _names(compiled)


def test_a_moves_reason_reads_on_from_the_move_however_it_was_chosen():
    # A lecturer's trial: "A calm a 50% chance came up; hold looked better". The reason
    # follows the actor and its move on the screen, so each kind reads on from the move.
    from sim.seminar.transcript import plain_reason, reason

    game = Game(load(ALASKA), SEED)
    game.play_round()
    model, record = game.model, game.history[0]
    # Drawn by chance against a better option.
    assert plain_reason(model, record, "UA").startswith(
        "by chance (12%), though reject exchange looked better: summit likelier"
    )
    # The best score, against the next best.
    assert plain_reason(model, record, "RU").startswith("rather than hold: ")
    # Drawn among equals (rationality 0, nothing at stake): no option "looked better",
    # even where the draw fell on another than the first of the tied options.
    game = Game(load(TINY.parent / "decisive_move.yaml"), 1)
    while not game.finished:
        game.play_round()
    for record in game.history:
        for actor in ("Hawk", "Dove"):
            said = plain_reason(game.model, record, actor)
            assert said == "by chance (50%): nothing it values was at stake", said
            assert "higher" not in reason(game.model, record, actor)
    moves = [record.decisions["Dove"].choice[0] for record in game.history]
    assert 1 in moves  # Dove listened at least once: the second of two tied options


def test_a_reason_against_the_move_made_names_the_option_it_speaks_of():
    # A lecturer's trial: "EU back_ukraine by chance (30%), though hold looked better:
    # it costs less, though it means more pressure on Ukraine..." - which option is "it"?
    from sim.seminar.transcript import _plain_driver, plain_reason

    assert _plain_driver("cost", None, 1.0, "back ukraine", None, "hold") == "hold costs less"
    assert _plain_driver("cost", None, -1.0, "hold") == "though it costs more"
    said = _plain_driver("pressure", 0.4, -1.0, "back ukraine", {"pressure": "pressure"}, "hold")
    assert said == "though hold means more pressure (+0.4)"
    checked = 0
    for seed in range(SEED, SEED + 6):
        game = Game(load(ALASKA), seed)
        while not game.finished:
            game.play_round()
        for record in game.history:
            for actor in record.decisions:
                said = plain_reason(game.model, record, actor)
                if "looked better: " in said:
                    checked += 1
                    after = said.split("looked better: ")[1]
                    assert not after.startswith(("it ", "though it")), said
    assert checked >= 10, checked


def test_a_numbered_choice_is_never_split_across_lines():
    # A lecturer's trial (korea-deterrence): "...: 1. retaliate, 2." with "restrain" on
    # the next line.
    room = ScriptedRoom([])
    stepper = Stepper(Game(load(TINY), SEED), room, StepOptions(width=40))
    message = "US decides allied_response (if it comes up this round): 1. retaliate, 2. restrain"
    for extra in range(12):
        room.shown.clear()
        stepper._say("x" * extra + " " + message, indent=2)
        lines = "\n".join(room.shown).splitlines()
        assert all(len(line) <= 40 for line in lines), lines
        assert not any(re.search(r"\b\d\.$", line) for line in lines), lines
        assert " ".join(" ".join(lines).split()) == ("x" * extra + " " + message).strip()
        assert "\x00" not in "".join(lines)


def test_the_debrief_says_a_yes_no_parameters_draws_below_and_equal_as_they_are():
    # A lecturer's trial: "article4_applies | 0 | ... | 0.7478 | 13%": no draw is below
    # 0; ties counted half made a quarter of equal draws look like 13% below.
    import numpy as np

    from sim.seminar.debrief import _below_text, _share_below, _share_equal

    draws = np.array([0.0] * 25 + [1.0] * 75)
    assert _share_below(draws, 0.0) == 0 and _share_equal(draws, 0.0) == 0.25
    assert _below_text(_share_below(draws, 0.0), _share_equal(draws, 0.0)) == "0% (25% equal)"
    assert _below_text(_share_below(draws, 1.0), _share_equal(draws, 1.0)) == "25% (75% equal)"
    spread = np.linspace(0, 1, 1001)
    assert _below_text(_share_below(spread, 0.42), _share_equal(spread, 0.42)) == "42%"


def test_a_small_terminal_never_pages_a_blank_screen_nor_repeats_the_heading():
    # A lecturer's trial at 60x20: [n] gave an empty page ("-- more --" under a blank
    # line), then "Round 1 of 13, ... (continued)" above "Round 1 of 13, ...".
    room = ScriptedRoom(["n", "1", "q", "y"])
    options = StepOptions(width=60, height=20, play=("US",))
    Stepper(Game(load(ALASKA), SEED), room, options).run()
    screens = room.screens()
    for screen in screens:
        assert any(line.strip() for line in screen[:-1]) or len(screen) == 1, screen
        assert len(screen) <= 20, len(screen)
        for above, below in itertools.pairwise(screen):
            if above.endswith(" (continued)"):
                assert below != above.removesuffix(" (continued)"), screen
    heading = "Round 1 of 13, 2025-08-08"
    assert sum(heading in line for line in room.text.splitlines()) >= 2  # it is paged


def test_a_window_resized_mid_game_gets_lines_that_fit_it(monkeypatch):
    # A lecturer's trial: resized to 60 columns mid-game, the rounds stayed 80 wide and
    # wrapped mid-number ("p 0.4 / 41").
    from sim.seminar import stepper

    size = {"width": 80}
    monkeypatch.setattr(stepper, "terminal_width", lambda: size["width"])
    monkeypatch.setattr(stepper, "terminal_height", lambda: None)

    class Resizing(ScriptedRoom):
        def key(self, prompt: str) -> str | None:
            answer = super().key(prompt)
            if len(self.breaks) == 2:
                size["width"] = 60  # the window shrinks after round 1
            return answer

    room = Resizing(["n", "n", "q", "y"])
    options = StepOptions(width=80, follow_terminal=True)
    Stepper(Game(load(ALASKA), SEED), room, options).run()
    before, after = room.text.split("Round 2 of 13", 1)
    assert max(len(line) for line in before.splitlines()) > 60
    assert max(len(line) for line in after.splitlines()) <= 60
    # Without follow_terminal (a --width given), the width stays as asked.
    size["width"] = 80
    fixed = Resizing(["n", "n", "q", "y"])
    Stepper(Game(load(ALASKA), SEED), fixed, StepOptions(width=80)).run()
    assert max(len(line) for line in fixed.text.split("Round 2 of 13", 1)[1].splitlines()) > 60


def test_a_reason_gives_what_favoured_the_better_option_before_its_though():
    # "by chance (39%), though hold looked better: though hold means less confidence in
    # the US commitment (-0.05), it costs less" (a student's trial): two "though"s.
    from sim.engine.loading import load
    from sim.seminar.game import Game
    from sim.seminar.transcript import plain_reason

    compiled = load(ROOT / "scenarios" / "alaska.yaml")
    reasons = []
    for run in range(6):
        game = Game(compiled, 20250815, run)
        while not game.finished:
            game.play_round()
            for actor in compiled.actors:
                reasons.append(plain_reason(game.model, game.model.history[-1], actor.id))
    by_chance = [r.split("looked better: ")[1] for r in reasons if "looked better: " in r]
    assert len(by_chance) > 100  # the check has something to check
    assert not [r for r in by_chance if r.startswith("though")]
    assert any(", though " in r for r in by_chance)  # the counterpoint comes second


def test_a_reason_says_likelier_only_where_the_odds_it_shows_differ():
    # An author's trial: "rather than stonewall: attribution likelier to go its way ...
    # attribution attributed 95% (95% if stonewall)". Where the options leave a foreseen
    # event's odds alone, what differs is what its outcomes are worth after each.
    import re

    from sim.seminar.transcript import plain_reason

    game = Game(load(ROOT / "tests" / "scenarios" / "baltic_pipeline.yaml"), SEED)
    seen = {"likelier": 0, "prospect": 0}
    while not game.finished:
        record = game.play_round()
        for actor in game.compiled.actors:
            reason = plain_reason(game.model, record, actor.id)
            for event in {b.id for b in game.compiled.branches} | {
                i.id for i in game.compiled.injects
            }:
                name = event.replace("_", " ")
                shown = re.search(rf"{name} \w*\s?\w* ?(\d+)% \((\d+)% if ", reason)
                if f"{name} likelier to go its way" in reason:
                    seen["likelier"] += 1
                    assert shown and shown.group(1) != shown.group(2), reason
                if f"the prospect of {name} favoured" in reason and shown:
                    seen["prospect"] += 1
                    assert abs(int(shown.group(1)) - int(shown.group(2))) <= 1, reason
    assert seen["likelier"] and seen["prospect"], seen


def test_a_prediction_lists_the_outcomes_and_stops_a_sum_over_100_at_once():
    # A lecturer's trial: "P(deadly):" came with no outcome listed, and 20 then 90 was
    # only refused after the last outcome, so every number was typed again.
    game = Game(load(TINY), SEED)
    room = ScriptedRoom(["n", "n", "20%", "90%", "80%", "q", "y"])
    Stepper(game, room, StepOptions(predict=True)).run()
    text = room.text
    asked = text.index("Prediction: how will summit go?")
    listed = text.index("1. success", asked)
    assert listed < text.index("2. collapse", listed) < text.index("P(success)", asked)
    assert "A deal is struck." in text[asked : text.index("P(success)", asked)]
    assert "that makes 110%, more than 100%: at most 80% is left for collapse." in text
    assert text.count("P(success)") == 1  # not asked again
    assert game.predictions["summit"].probabilities == {"success": 0.2, "collapse": 0.8}


def test_a_rounds_details_fill_the_screen_before_the_first_more():
    # A lecturer's trial: `d` showed the round's heading and inject (6 lines), then
    # "-- more", then the rest: a block longer than a page now fills the page first.
    game = Game(load(ROOT / "scenarios" / "taiwan-strait.yaml"), SEED)
    room = PredictingRoom(["n", "1", "1", "d", " ", "q", "y"])
    Stepper(game, room, StepOptions(play=("TW", "US"), height=30)).run()
    screens = room.screens()
    details = next(i for i, s in enumerate(screens) if s[0].startswith("Round 1 of 13,"))
    first = screens[details]
    assert len(first) >= 25, "\n".join(first)  # a full page, not 7 lines
    assert all(len(s) <= 30 for s in screens)
    assert any("PRC (People's Republic of China) chooses" in line for line in first)


def test_a_terminal_resized_during_a_question_is_followed_after_the_answer(monkeypatch):
    # A lecturer's trial: resized to 60x20 mid-round, the round played after the
    # answers still wrapped at 80 columns until `r` redrew it.
    import sim.seminar.stepper as stepper

    size = {"width": 80, "height": 30}
    monkeypatch.setattr(stepper, "terminal_width", lambda: size["width"])
    monkeypatch.setattr(stepper, "terminal_height", lambda: size["height"])

    class Resizing(ScriptedRoom):
        def line(self, prompt, default=None):
            answer = super().line(prompt, default)
            size.update(width=60, height=20)  # the window shrinks while the room answers
            return answer

    game = Game(load(ROOT / "scenarios" / "taiwan-strait.yaml"), SEED)
    room = Resizing(["n", "1", "q", "y"])
    Stepper(game, room, StepOptions(play=("TW",), follow_terminal=True)).run()
    played = room.text.split("Recorded: TW plays hold in round 1.")[1]
    assert "Round 1 of 13" in played
    assert max(len(line) for line in played.splitlines()) <= 60, played


def test_a_resumed_game_opens_on_the_state_it_stands_at(tmp_path):
    # A lecturer's trial: `step --resume` printed round 0's "Starting state".
    game = Game(load(TINY), SEED)
    game.play_to(2)
    saved = game.save(tmp_path / "g.json")
    resumed = Game.load(saved)
    room = ScriptedRoom(["q"])
    Stepper(resumed, room, StepOptions()).run()
    head = room.text.split("Resumed at the end of round 2 of 4.")[0]
    assert "Starting state" not in head
    assert "State after round 2 of 4:" in head
    # The values are those of the same game played afresh to round 2, not round 0's.
    fresh = Game(load(TINY), SEED)
    fresh.play_to(2)
    names = fresh.compiled.state_names
    tension = float(fresh.model.ctx.state[names.index("tension")][0])
    start = float(Game(load(TINY), SEED).model.ctx.state[names.index("tension")][0])
    assert f"{tension:.4g}" != f"{start:.4g}"
    assert f"tension {tension:.4g} index" in " ".join(head.split())


def test_the_key_hint_keeps_every_key_at_a_narrow_terminal():
    # At 60 columns the hint under a round dropped `e: outlook`.
    for width, keys in ((80, "e: outlook"), (60, "e: outlook"), (50, "e outlook"), (40, "e ")):
        game = Game(load(TINY), SEED)
        room = ScriptedRoom(["n", "q", "y"])
        Stepper(game, room, StepOptions(width=width)).run()
        hint = next(x for x in room.text.splitlines() if x.lstrip().startswith("r") and "?" in x)
        assert len(hint) <= width and keys in hint, (width, hint)
        assert all(k in hint for k in ("r", "d", "t", "?")), hint

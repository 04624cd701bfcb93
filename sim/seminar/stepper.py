"""The seminar stepper: a game played round by round in front of a room.

A :class:`Stepper` drives a :class:`~sim.seminar.game.Game` through a :class:`Room` (the
terminal, or a script in tests). Each round it shows, in this order: the date and
round; the injects with their text and facilitator prompts; the branches due this round
on the real state (never one that only a rule-played preview resolves) with their
prompts; (with ``predict``) asks the room how each will go, before the room has seen the
model's odds of it this round; asks the room for the choice of each actor it plays, its
options listed with their descriptions; then the round played, on one screen: each
actor's move with a plain reason, the state changes, the branch outcomes (with the
branch's text if the room's move triggered it unannounced). ``d`` shows the round in
full (options, scores, probabilities, the technical reason). At the end: the ending,
each actor's payoff, and the predictions' Brier scores against the model's forecast
when they were made.

Between rounds a one-key menu::

    [n]ext round  [o]verride an actor's next choice  [b]ack one round (undo)
    [f]ork (save a named copy and go on with it)  [s]ave  [q]uit
    [r] the last round again  [d]etails of it  [t] the state now  [?] help

With input that is not a terminal (a pipe, a test), each key is read as a line, and an
empty line means [n]ext; when the input ends the session quits. Ctrl-C at any question
asks whether to quit. ``--no-input`` prints every round in full (for a file).
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import click

from sim.errors import OptionsError
from sim.language.compiler import CompiledBranch
from sim.language.schema import closest_name
from sim.seminar.forecast import Outlook
from sim.seminar.game import (
    DEFAULT_MC_RUNS,
    PREDICTION_TOLERANCE,
    Game,
    PredictionScore,
    game_file_default,
    parse_probability,
)
from sim.seminar.transcript import (
    branch_announcements,
    choice_rows,
    format_ending,
    format_options,
    format_round_body,
    format_round_compact,
    format_round_head,
    format_state,
    round_view,
)

MENU_KEYS = "nobfsqrdte?h"
#: A numbered choice in a message ("2. restrain"), and what holds its two parts together.
_NUMBERED = re.compile(r"(?<![\w.])(\d+\.) (?=\w)")
_GLUE = "\x00"
#: A short call's arguments ("times('TW', 'reassure')") and "(? lists" are not split
#: across lines (a trial at 60 columns).
_SHORT_CALL = re.compile(r"\w\([^()]{1,24}\)")
_QUESTION_KEY = re.compile(r"\(\? ")

MENU_HELP = """\
Keys (one key, no Enter needed on a terminal):
  n  play the next round (Enter does the same)
  o  override an actor's choice for the next round, or hand it back to its rule
  b  back one round: undo it (exact; the people's choices for it are kept)
  f  fork: save a named copy of the game and go on playing the copy
  s  save the game (asks before writing over another file)
  r  show the last round again, on one screen
  d  details of the last round: every option's scores and odds, full reasons
  t  the state now: every variable with its unit
  e  what the model expects from here: each ending's and open branch's odds
  q  quit (asks first if people's choices are not saved)
  ?  this help
At a question, or while the model works, Ctrl-C asks whether to quit. At a
choice, ? lists the options again and i shows the round's injects in full."""


def menu_help(width: int) -> str:
    """The keys' help wrapped to ``width`` (a key's text under its text, not its key)."""
    lines: list[str] = []
    paragraph: list[str] = []
    for line in MENU_HELP.splitlines():
        if line.startswith("  "):
            lines += textwrap.wrap(line, width, subsequent_indent="     ") or [line]
        elif lines and not line.startswith("Keys"):
            paragraph.append(line)
        else:
            lines.append(line if len(line) <= width else textwrap.fill(line, width))
    if paragraph:
        lines += textwrap.wrap(" ".join(paragraph), width)
    return "\n".join(lines)


class Interrupted(Exception):  # noqa: N818 (it is what the person did, not an error)
    """The person pressed Ctrl-C at a question."""


def plural(count: int, word: str) -> str:
    """``1 day``, ``7 days``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class Room(Protocol):
    """Where the stepper's text goes and the people's answers come from."""

    interactive: bool

    def show(self, text: str) -> None:
        """Show text (one or more lines)."""

    def key(self, prompt: str) -> str | None:
        """Read one key (``None`` when the input has ended)."""

    def line(self, prompt: str, default: str | None = None) -> str | None:
        """Read one line (the default for an empty one; ``None`` when input has ended)."""

    def pause(self, prompt: str) -> None:
        """Wait until the person has read a full screen (a key), where that makes sense."""


# Readable on a black terminal and on a white projector alike: bold, underline and
# magenta only (yellow, cyan, light green and faint text vanish on white).
_STYLES: list[tuple[re.Pattern[str], dict[str, object], bool]] = [
    # (pattern, click.style arguments, whether wrapped continuation lines keep the style)
    (re.compile(r"^Round \d+ of \d+"), {"bold": True, "underline": True}, False),
    (re.compile(r"^  Prompt: "), {"bold": True}, True),
    (re.compile(r"^  Branch "), {"fg": "magenta", "bold": True}, True),
    (re.compile(r"^  \S+ \(.*\) chooses "), {"bold": True}, False),
    (re.compile(r"^    > "), {"bold": True}, False),
    (
        re.compile(r"^(Ending|Total payoffs|Predictions|Stopped|Starting state|State after)"),
        {"bold": True},
        False,
    ),
]


def colour_wanted(stream: object = None) -> bool:
    """Colour for a terminal, unless ``NO_COLOR`` is set (https://no-color.org)."""
    stream = stream or sys.stdout
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


def colourize(text: str) -> str:
    """Add terminal colours to stepper text, line by line (the widths do not change)."""
    out = []
    keep: dict[str, object] | None = None
    keep_indent = 0
    for line in text.split("\n"):
        indent = len(line) - len(line.lstrip(" "))
        style = None
        for pattern, arguments, continues in _STYLES:
            if pattern.match(line):
                style = arguments
                keep, keep_indent = (arguments, indent) if continues else (None, 0)
                break
        else:
            if keep is not None and line.strip() and indent > keep_indent:
                style = keep
            else:
                keep = None
        out.append(click.style(line, **style) if style and line else line)  # type: ignore[arg-type]
    return "\n".join(out)


#: An Enter within this many seconds of a key is the key's own Enter, not an answer.
ENTER_AFTER_KEY = 0.25


#: The same menu key read up to this many times at once (pressed fast, "nn") counts as
#: that many presses; longer runs, and mixed text typed ahead, are one unknown key.
MAX_REPEATED_KEYS = 4


def _one_key(read: str) -> str:
    """One key from what a raw read returned.

    A key and its Enter can come in one read (a paste, or typed fast): the Enter is
    then the key's own. An escape sequence (an arrow key) is left whole.
    """
    if len(read) > 1 and read[0] not in "\r\n\x1b":
        return read.rstrip("\r\n") or read
    return read


class TerminalRoom:
    """The room at a terminal: click for output, one raw key at a time when it can.

    With input that is not a terminal (a pipe, a test), every key is read as a line and
    every answer is written after its prompt, so the transcript reads as it was typed.

    Args:
        interactive: Whether to ask anything at all (False for ``--no-input``).
        colour: Colour the output (when it goes to a terminal).
        raw_keys: Read menu keys without Enter (when input and output are a terminal).
        echo: Write each answer after its prompt (when the input is not a terminal).
    """

    def __init__(
        self,
        interactive: bool = True,
        colour: bool = False,
        raw_keys: bool = False,
        echo: bool = False,
    ):
        self.interactive = interactive
        self.colour = colour
        self.raw_keys = raw_keys
        self.echo = echo
        self._last_key = -1.0  # when the last key was read (time.monotonic)
        self._ahead = ""  # the same key pressed again in the same read, still to answer

    def show(self, text: str) -> None:
        """Print text, coloured if the room has colour."""
        click.echo(colourize(text) if self.colour else text)

    def _prompt(self, text: str) -> None:
        click.echo(click.style(text, bold=True) if self.colour else text, nl=False)

    def key(self, prompt: str) -> str | None:
        """Read one key: raw from a terminal, else the first letter of a line."""
        if self.raw_keys:
            self._prompt(prompt)
            if self._ahead:
                # A key pressed again before the last one was read ("nn": two rounds).
                char, self._ahead = self._ahead[0], self._ahead[1:]
                self._last_key = time.monotonic()
                click.echo(char)
                return char.lower()
            try:
                char = _one_key(click.getchar())
                if 1 < len(char) <= MAX_REPEATED_KEYS and char.isalpha() and len(set(char)) == 1:
                    char, self._ahead = char[0], char[1:]
                # A key typed with Enter out of habit ("q" then Enter, or a paste) is
                # one answer: an Enter right behind the last key is not the next one.
                while char in ("\r", "\n") and time.monotonic() - self._last_key < ENTER_AFTER_KEY:
                    self._last_key = -1.0
                    char = _one_key(click.getchar())
            except EOFError:
                click.echo()
                return None
            except KeyboardInterrupt:
                click.echo()
                raise Interrupted from None
            self._last_key = time.monotonic() if char not in ("\r", "\n") else -1.0
            click.echo(char if char.isprintable() else "")
            return "n" if char in ("\r", "\n") else char.lower()
        answer = self._read(prompt)
        if answer is None:
            return None
        return answer.strip()[:1].lower() or "n"

    def pause(self, prompt: str) -> None:
        """Wait for a key on a terminal (piped input and output never wait)."""
        if not self.raw_keys:
            return
        self._prompt(prompt)
        try:
            click.getchar()
        except EOFError:
            pass
        except KeyboardInterrupt:
            click.echo()
            raise Interrupted from None
        click.echo()

    def line(self, prompt: str, default: str | None = None) -> str | None:
        """Read a line; Enter alone gives ``default``."""
        # A key pressed twice fast ("nn") answers the next key question only: once a
        # choice is asked, the second press is dropped, not held for the next menu
        # (where it played a round before its screen could be read).
        self._ahead = ""
        shown = f"{prompt} [{default}]: " if default else f"{prompt}: "
        answer = self._read(shown)
        if answer is not None and not answer.strip() and default is not None:
            return default
        return answer

    def _read(self, prompt: str) -> str | None:
        self._prompt(prompt)
        try:
            answer = sys.stdin.readline()
        except KeyboardInterrupt:
            click.echo()
            raise Interrupted from None
        if not answer:
            click.echo()
            return None
        answer = answer.rstrip("\r\n")
        click.echo(answer if self.echo else "", nl=self.echo)
        return answer


class ScriptedRoom:
    """A room that answers from a list and keeps what it was shown (tests, examples).

    Args:
        answers: The answers in order: keys and lines alike, one string each.
        interactive: Whether the stepper may ask at all.
    """

    def __init__(self, answers: list[str], interactive: bool = True):
        self.answers = list(answers)
        self.interactive = interactive
        self.shown: list[str] = []
        # Where the person answered or turned a page: indices into ``shown``.
        self.breaks: list[int] = []

    def screens(self) -> list[list[str]]:
        """What was shown between one answer (or page turn) and the next, as lines.

        Each screen ends with the prompt that asked (the line the person answered on).
        """
        found: list[list[str]] = []
        start = 0
        for end in [*self.breaks, len(self.shown) - 1]:
            lines = "\n".join(self.shown[start : end + 1]).split("\n")
            found.append(lines)
            start = end + 1
        return found

    def pause(self, prompt: str) -> None:
        """Note the page turn (a script reads every page at once)."""
        self.shown.append(prompt)
        self.breaks.append(len(self.shown) - 1)

    @property
    def text(self) -> str:
        """Everything shown, prompts included."""
        return "\n".join(self.shown)

    def show(self, text: str) -> None:
        """Keep the text."""
        self.shown.append(text)

    def _next(self, prompt: str) -> str | None:
        if not self.answers:
            self.shown.append(prompt)
            return None
        answer = self.answers.pop(0)
        self.shown.append(f"{prompt}{answer}")
        self.breaks.append(len(self.shown) - 1)
        return answer

    def key(self, prompt: str) -> str | None:
        """The next answer's first letter (an empty answer is [n]ext; ``^C`` is Ctrl-C)."""
        answer = self._next(prompt)
        if answer == "^C":
            raise Interrupted
        return None if answer is None else (answer.strip()[:1].lower() or "n")

    def line(self, prompt: str, default: str | None = None) -> str | None:
        """The next answer, or the default for an empty one (``^C`` is Ctrl-C)."""
        answer = self._next(f"{prompt}: ")
        if answer == "^C":
            raise Interrupted
        if answer is not None and not answer.strip() and default is not None:
            return default
        return answer


@dataclass
class StepOptions:
    """How a session runs.

    Attributes:
        play: Actors whose choices the room makes.
        predict: Ask the room to predict each branch before it can resolve.
        until: Stop after this round (default: the last).
        width: The widest a line may be.
        mc_runs: Continuations behind the model's forecast that predictions are scored
            against.
        save_path: Where [s]ave writes by default (the file the game came from).
        height: The screen's height in lines: text shown between two questions is
            paged to fit it (``None``: never paged, as for a pipe or a file).
        follow_terminal: Read the terminal's size again before each round and menu and after
            each answer, so a window resized mid-game gets lines that fit it (on the
            process's own terminal, where no width or height was given).
    """

    play: tuple[str, ...] = ()
    predict: bool = False
    until: int | None = None
    width: int = 80
    mc_runs: int = DEFAULT_MC_RUNS
    save_path: Path | None = None
    height: int | None = None
    follow_terminal: bool = False


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _paragraph_cut(lines: list[str], fits: int, most: int = 3) -> int:
    """Where to end a page of ``lines`` that holds ``fits`` of them.

    Not inside a wrapped paragraph (its next lines are indented deeper than its first):
    the page ends before the paragraph if that gives up at most ``most`` lines, so a
    sentence is not split by "-- more" with the round's heading repeated inside it.
    """
    if fits >= len(lines) or not lines[fits].strip():
        return fits
    level = _indent(lines[fits])
    head = fits - 1
    while head >= 0 and lines[head].strip() and _indent(lines[head]) >= level:
        head -= 1
    if head <= 0 or not lines[head].strip() or fits - head > most:
        return fits
    return head


#: Fewer free lines than this at the bottom of a page are not worth filling with the
#: start of a block longer than a page: the page is turned first.
MIN_PAGE_REST = 4


class _Screen:
    """The room seen as a screen of ``height`` lines: pages long text, counts lines.

    Text shown between two questions that would not fit the screen is paged: before
    the block that would push earlier lines off the top, the room waits for a key
    (on a terminal) and the round's heading is repeated. An answer resets the count:
    what was above has been read.
    """

    def __init__(self, room: Room, height: int | None):
        self.room = room
        self.interactive = room.interactive
        self.height = height
        self.used = 0
        # Whether anything but blank lines is on the page: a page of blank lines is not
        # worth a key press (a trial at 60x20 met an empty page before round 1).
        self.written = False
        self.heading: str | None = None

    def _page(self, following: str) -> None:
        self.room.pause("-- more: press a key --")
        self.used = 0
        self.written = False
        # Not "Round 1 (continued)" above the round's own heading.
        if self.heading and not following.startswith(self.heading):
            self.room.show(f"{self.heading} (continued)")
            self.used = 1

    def show(self, text: str) -> None:
        """Show text, turning the page first if it would not fit below what is shown."""
        lines = text.split("\n")
        if self.height is None:
            self.room.show(text)
            return
        room = self.height - 1  # the last line is for the question
        if text == "" and self.used >= room:
            return  # a spacing line is not worth a page
        while lines:
            # A block that fits a page starts on a fresh one rather than be split; one
            # longer than a page fills this one first (the details of a round paged
            # after its six-line heading, a lecturer's trial).
            free = room - self.used
            if (
                self.used
                and self.written
                and len(lines) > free
                and (len(lines) <= room or free < MIN_PAGE_REST)
            ):
                self._page(lines[0])
            cut = _paragraph_cut(lines, max(1, room - self.used))
            chunk = lines[:cut]
            lines = lines[len(chunk) :]
            self.room.show("\n".join(chunk))
            self.used += len(chunk)
            self.written = self.written or any(line.strip() for line in chunk)

    def key(self, prompt: str) -> str | None:
        """Read a key; what was shown before has been read."""
        answer = self.room.key(prompt)
        self.used, self.written = 0, False
        return answer

    def line(self, prompt: str, default: str | None = None) -> str | None:
        """Read a line; what was shown before has been read."""
        answer = self.room.line(prompt, default)
        self.used, self.written = 0, False
        return answer

    def pause(self, prompt: str) -> None:
        """Wait for a key, as the room does."""
        self.room.pause(prompt)
        self.used, self.written = 0, False


class _InputEndedError(Exception):
    """The room's input ended in the middle of a question."""


class Stepper:
    """A seminar session: shows a game round by round and lets the room steer it.

    Args:
        game: The game (new, resumed or opened from a batch).
        room: Where text goes and answers come from.
        options: Who the room plays, predictions, where to stop, line width.
    """

    def __init__(self, game: Game, room: Room, options: StepOptions | None = None):
        self.game = game
        self.options = options or StepOptions()
        self.screen = _Screen(room, self.options.height)
        self.room: Room = self.screen
        self.play = tuple(game.actor_id(a) for a in self.options.play)
        if self.play:
            game.played = self.play
        self.width = max(40, self.options.width)
        until = self.options.until if self.options.until is not None else game.rounds
        if not 1 <= until <= game.rounds:
            raise OptionsError(f"--until {until}: the game has rounds 1 to {game.rounds}")
        self.stop = until
        self.save_path = self.options.save_path
        self._saved = self._snapshot() if self.save_path else None
        self._forked_note = bool(game.choices)
        # Branches the room saw announced before choosing in the round just played.
        self._announced: set[str] | None = None
        # The round's injects and prompts as shown before the room chooses (i at a choice).
        self._round_head: str | None = None

    # --- output helpers ---------------------------------------------------------------

    def _say(self, text: str, indent: int = 0) -> None:
        """Show a message wrapped to the width."""
        pad = " " * indent
        # A numbered choice ("2. restrain") is never split across lines (a trial).
        glued = _NUMBERED.sub(lambda m: m[1] + _GLUE, text)
        glued = _SHORT_CALL.sub(lambda m: m[0].replace(" ", _GLUE), glued)
        glued = _QUESTION_KEY.sub("(?" + _GLUE, glued)
        lines = textwrap.wrap(
            glued,
            width=self.width,
            initial_indent=pad,
            subsequent_indent=pad + "  ",
            break_on_hyphens=False,
        )
        self.room.show("\n".join(lines).replace(_GLUE, " "))

    def header(self) -> str:
        """The title block: scenario, seed, run, who plays, and the state.

        The state at the start, or where a resumed game stands.
        """
        game = self.game
        compiled = game.compiled
        meta = compiled.loaded.spec.scenario
        wrap = textwrap.TextWrapper(
            width=self.width, subsequent_indent="  ", break_on_hyphens=False
        )
        lines = wrap.wrap(f"{compiled.title} ({compiled.id}), seed {game.seed}, run {game.run}")
        if game.results:
            lines += wrap.wrap(f"Opened from run {game.run} of the batch in {game.results}")
        if meta.description:
            lines += wrap.wrap(" ".join(meta.description.split()))
        lines += wrap.wrap(
            f"{plural(compiled.rounds, 'round')} of {plural(meta.round_days, 'day')} from "
            f"{meta.start_date.isoformat()}."
            + (f" The room plays {', '.join(self.play)}." if self.play else "")
        )
        if game.round > 0:
            # A resumed game: the state it stands at, not round 0's (a lecturer's trial).
            lines.append(format_state(game.model, self.width))
            return "\n".join(lines)
        lines.append("Starting state:")
        for name, value, unit in game.initial_state():
            line = f"    {name:<30} {value:>10}   {unit}".rstrip()
            lines += textwrap.wrap(line, width=self.width, subsequent_indent=" " * 8) or [line]
        return "\n".join(lines)

    def _snapshot(self) -> tuple[int, tuple[tuple[tuple[int, str], str], ...], tuple[str, ...]]:
        game = self.game
        return (
            game.round,
            tuple(sorted(game.choices.items())),
            tuple(
                f"{p.branch}{sorted(p.probabilities.items())}" for p in game.predictions.values()
            ),
        )

    # --- the session ------------------------------------------------------------------

    def run(self) -> None:
        """Run the session until the room quits, the input ends or the game is over.

        Ctrl-C at a question or while the model works asks whether to quit; quitting so
        (or Ctrl-C again while asked, or at a page's "more") raises KeyboardInterrupt,
        so the command ends as an interrupted one does.
        """
        try:
            self._run()
        except Interrupted:
            raise KeyboardInterrupt from None

    def _run(self) -> None:
        game = self.game
        try:
            self.room.show(self.header())
            if game.round > 0:
                self.room.show("")
                self._say(f"Resumed at the end of round {game.round} of {game.rounds}.")
                self._show_record(len(game.history) - 1)
        except Interrupted:
            self.room.show("")
            if self._confirm_quit(interrupted=True):
                raise
            again = "t shows the state" + (", r the last round" if game.round else "")
            self._say(f"The rest of that page was not shown: {again}.")
        shown_end_at = -1
        try:
            while True:
                at_end = game.finished or game.round >= self.stop
                if at_end and shown_end_at != game.round:
                    self._show_end()
                    shown_end_at = game.round
                elif not at_end:
                    shown_end_at = -1  # [b]ack from the end: playing on shows it again
                if not self.room.interactive:
                    if at_end:
                        return
                    self._play_next()
                    continue
                try:
                    if not self._one_key(at_end):
                        return
                except (Interrupted, KeyboardInterrupt) as exc:
                    if type(exc) not in (Interrupted, KeyboardInterrupt):
                        raise  # SIGTERM or SIGHUP (the command's own kinds): no question
                    # Ctrl-C at a question, or while the model worked ([e], a round):
                    # ask. Quitting ends the command as an interrupted one does
                    # ("interrupted", exit code 1), so a script can tell.
                    if isinstance(exc, KeyboardInterrupt):
                        # It may have struck in the middle of a round: rebuild the game
                        # at the last round played in full (exactly, from its seed).
                        game.goto(len(game.model.history))
                    self.room.show("")
                    if self._confirm_quit(interrupted=True):
                        raise Interrupted from None
        except _InputEndedError:
            self.room.show("")
            self._say("The input ended; quitting." + self._unsaved_hint())

    def _one_key(self, at_end: bool) -> bool:
        """Read one menu key and do what it says; False to end the session."""
        game = self.game
        key = self._menu(at_end)
        self._follow_terminal()  # resized while the menu waited: what follows fits now
        if key is None or key == "q":
            return not self._confirm_quit()
        if key == "n":
            if at_end:
                where = "The game is over" if game.finished else "--until stops here"
                self._say(f"{where}: [b]ack, [f]ork, [s]ave or [q]uit.")
            else:
                self._play_next()
        elif key == "o":
            self._override(at_end)
        elif key == "b":
            self._back()
        elif key == "f":
            self._fork()
        elif key == "s":
            self._save()
        elif key in "rd":
            if not game.history:
                self._say("No round has been played yet.")
            elif key == "r":
                self._show_record(len(game.history) - 1)
            else:
                self._show_record(len(game.history) - 1, details=True)
        elif key == "t":
            self.room.show(format_state(game.model, self.width))
        elif key == "e":
            self._show_outlook()
        elif key in "?h":
            self.room.show(menu_help(self.width))
        return True

    def _follow_terminal(self) -> None:
        """Take the terminal's size again (a window resized mid-game; a trial at 60x20)."""
        if self.options.follow_terminal:
            self.width = terminal_width()  # at least 40 columns
            self.screen.height = terminal_height()

    def _menu(self, at_end: bool) -> str | None:
        self._follow_terminal()
        game = self.game
        if at_end:
            prompt = "[b]ack [f]ork [s]ave [q]uit  r d t e ? > "
        else:
            where = (
                f"Round {game.round} of {game.rounds} played."
                if game.round
                else f"Ready for round 1 of {game.rounds}."
            )
            keys = "[n]ext [o]verride [b]ack [f]ork [s]ave [q]uit ? > "
            # Narrow, the round stays in sight as long as it fits (at 60 columns it was
            # dropped): "Round 4 of 13 played.", then "Rd 4/13", then "4/13", then none.
            heads = (f"{where} ", f"Rd {game.round}/{game.rounds} ", f"{game.round}/{game.rounds} ")
            prompt = next((h + keys for h in heads if len(h + keys) <= self.width), keys)
        self.room.show("")
        while True:
            key = self.room.key(prompt)
            if key is None or key in MENU_KEYS:
                return key
            keys = "b f s q" if at_end else "n o b f s q"
            self._say(f"No key '{key}'. Keys: {keys}, r d t e, ? for help.")

    def hidden_branches(self) -> frozenset[str]:
        """Branches whose odds the room must not see yet: those it has still to predict.

        With ``--predict``, every branch not yet resolved, predicted or shown: the
        reasons of earlier rounds (the actors' foresight) and the outlook would otherwise
        tell the room the model's odds of it just before it is asked. A branch a seat of
        the room decides is never asked as a prediction: its odds are not hidden.
        """
        if not self.options.predict:
            return frozenset()
        game = self.game
        compiled = game.compiled
        seats = {compiled.actor_index(a) for a in self.play}
        return frozenset(
            b.id
            for b in compiled.branches
            if game.outcome_of(b.id) is None
            and b.id not in game.predictions
            and b.id not in game.revealed
            and b.decided_by not in seats
        )

    def _show_record(self, index: int, details: bool = False) -> None:
        """Show a played round: on one screen, or in full (``details``, or no input)."""
        view = round_view(self.game.model, self.game.history[index], hide=self.hidden_branches())
        announced = self._announced if index == len(self.game.history) - 1 else None
        if details or not self.room.interactive:
            self.room.show(format_round_head(view, self.width))
            self.room.show(format_round_body(view, self.width))
            return
        # Room for the line before (the last choice recorded), the key hint, a blank line
        # and the menu's question.
        height = 25 if self.options.height is None else max(10, self.options.height - 5)
        self.room.show(format_round_compact(view, self.width, announced, height=height))
        # Every key kept when narrow, in fewer words (at 60 columns `e` was dropped).
        keys = next(
            (
                k
                for k in (
                    "r: this round again  d: details  t: state  e: outlook  ?: help",
                    "r: round again  d: details  t: state  e: outlook  ?: help",
                    "r round  d details  t state  e outlook  ? help",
                )
                if len(k) + 2 <= self.width
            ),
            "r d t e ?",
        )
        self._say(keys, indent=2)

    def _play_next(self) -> None:
        self._follow_terminal()
        game = self.game
        self.room.show("")
        self._note_fork()
        if not self.room.interactive:
            game.play_round()
            self._announced = None
            self._show_record(-1)
            return
        model, record = game.preview()
        view = round_view(model, record)
        due = game.due_branches(record)
        announcements = branch_announcements(model, due)
        self._round_head = format_round_head(view, self.width, announcements)
        self.screen.heading = f"Round {record.round} of {game.rounds}, {view['date']}"
        own = set(game.decided_branches(game.round + 1))
        asks = bool(self.play or own) or (self.options.predict and bool(set(due) - own))
        # A bare title with nothing to ask under it would only repeat the round's own.
        head_shown = asks or len(self._round_head.splitlines()) > 1
        if head_shown:
            self.room.show(self._round_head)
        if self.options.predict:
            # A branch the room decides itself (it plays the deciding seat) is its own
            # choice, not a forecast: it is not asked.
            chance = {a["id"] for a in announcements if a["chance"]}
            for branch_id in due:
                if branch_id in own:
                    continue
                if branch_id in game.revealed:
                    kept = game.predictions.get(branch_id)
                    shares = _shares(kept.probabilities) if kept else "none was made"
                    self._say(
                        f"The room has seen how {branch_id} went: its prediction is locked "
                        f"({shares}).",
                        indent=2,
                    )
                elif branch_id not in game.predictions:
                    self._ask_prediction(branch_id, chance=branch_id in chance)
                else:
                    # Asked before (the round opened again after Ctrl-C or [b]ack): say
                    # it stands, rather than skip the question without a word.
                    kept = game.predictions[branch_id]
                    shares = _shares(kept.probabilities)
                    self._say(f"The room's prediction of {branch_id} stands: {shares}.", indent=2)
        for actor_id in self.play:
            self._ask_choice(actor_id, choice_rows(model, record, actor_id), game.round + 1)
        self._ask_outcomes(game.round + 1)
        # Said as the room's first choice makes the fork, not a round later (a trial).
        self._note_fork()
        self.screen.heading = None
        game.play_round()
        # A chance branch was only said to be possible: its text comes when it happens.
        self._announced = {a["id"] for a in announcements if not a["chance"]}
        if head_shown:
            self.room.show("")
        self._show_record(len(game.history) - 1)

    def _ask_line(self, prompt: str, default: str | None = None) -> str:
        answer = self.room.line(prompt, default)
        # Resized while the question waited: the options listed again (?) and the round
        # shown after the answers fit the new size (a lecturer's trial at 60x20).
        self._follow_terminal()
        if answer is None:
            raise _InputEndedError
        return answer.strip()

    def _answer(self, prompt: str, default: str | None, listing: Callable[[], None]) -> str:
        """Ask until the answer is something other than a request to see more.

        ``?`` calls ``listing`` (the options again); ``i`` shows the round's injects,
        while a round is being asked about.
        """
        while True:
            answer = self._ask_line(prompt, default)
            if answer in ("?", "help"):
                listing()
            elif answer.lower() == "i" and self._round_head:
                head = self._round_head
                if "\n" not in head:  # the date alone: say so rather than seem to fail
                    head += "\n  No injects and no branches this round."
                self.room.show(head)
            else:
                return answer

    def _ask_choice(
        self, actor_id: str, rows: list[dict[str, object]], round_: int, release: bool = False
    ) -> None:
        """Ask the room for an actor's choice.

        Every action is listed with its number, open or not, so an action keeps its
        number from round to round; one that is not open this round is marked so and
        refused. An action may be typed with spaces for underscores (``ease
        sanctions``), and a near miss is answered with the nearest name.
        """
        game = self.game
        actor = game.compiled.actors[game.compiled.actor_index(actor_id)]
        names = [str(row["action"]) for row in rows]
        open_ = [str(row["action"]) for row in rows if row["feasible"]]
        if len(open_) == 1 and not release:
            # Not "the room chooses. Options:" and then nothing to choose (a trial).
            self._say(
                f"{actor_id} ({actor.name}) has one open option, {open_[0]}: nothing to choose.",
                indent=2,
            )
            return
        # The round named: the heading above may have scrolled away by the second seat.
        self._say(
            f"{actor_id} ({actor.name}), round {round_}: the room chooses. Options:", indent=2
        )
        self._show_options(rows)
        default = game.choices.get((round_, actor_id))
        numbers = _listing([str(n) for n, row in enumerate(rows, 1) if row["feasible"]])
        hint = f"{numbers} or a name" + (", or 'rule'" if release else "") + ", ? lists them"
        if len(f"  {actor_id} chooses ({hint}): ") > self.width - 10:
            hint = "a number or a name, ? lists them"
        while True:
            answer = self._answer(
                f"  {actor_id} chooses ({hint})", default, lambda: self._show_options(rows)
            )
            if release and answer.lower() in ("rule", "auto"):
                game.release(actor_id, round_)
                self._say(f"{actor_id} plays by its rule in round {round_}.", indent=2)
                return
            action = _match(answer, names)
            if action is not None and action in open_:
                game.choose(actor_id, action, round_)
                self._say(f"Recorded: {actor_id} plays {action} in round {round_}.", indent=2)
                return
            if action is not None:
                self._say(f"{action} is not open to {actor_id} this round.", indent=2)
                continue
            said = (
                f"'{answer}' is not an option for {actor_id}{_nearest(answer, open_)}"
                if answer.strip()
                else f"{actor_id} needs a choice"  # Enter alone, with nothing chosen yet
            )
            self._say(
                f"{said}: type {numbers} or one of {', '.join(open_)} (? lists them"
                + (", i shows the injects)." if self._round_head else ")."),
                indent=2,
            )

    def _ask_outcomes(self, round_: int) -> None:
        """Ask the room to decide each branch of its seats' that comes up in the round.

        Asked once the room's moves are made, so only a branch that does come up is
        asked (a trial: taiwan-strait asked for dialogue_offer every round while its
        condition could not hold). Each answer may bring up another branch, so the
        round is looked at again after each.
        """
        waiting = self.game.decided_branches(round_)
        while waiting:
            coming = self.game.coming_up()
            branch_id = next((b for b in waiting if b in coming), None)
            if branch_id is None:
                return
            waiting.remove(branch_id)
            self._ask_outcome(branch_id, round_, certain=True)

    def _ask_outcome(self, branch_id: str, round_: int, certain: bool = False) -> None:
        """Ask the people in a deciding actor's seat which outcome they choose.

        ``certain``: the branch is known to come up in the round (the room's moves are
        made); otherwise the decision holds if it comes up.

        The outcomes are listed with their texts (``?`` lists them again, ``i`` shows
        the round's injects); ``rule``, or Enter with nothing set for the round, leaves
        the decision to the actor's rule, as a classroom team may (and as an override of
        a rule-played actor's decision does).
        """
        game = self.game
        branch = game.compiled.branches[[b.id for b in game.compiled.branches].index(branch_id)]
        decider = game.compiled.actors[branch.decided_by]  # type: ignore[index]
        names = [o.id for o in branch.outcomes]
        certain = certain or branch.round == round_
        when = "this round" if certain else "if it comes up this round"
        listed = ", ".join(f"{n}. {name}" for n, name in enumerate(names, 1))
        self._say(f"{decider.id} decides {branch_id} ({when}): {listed}", indent=2)
        if certain:
            # What the room decides about, before it answers (a lecturer's re-trial
            # saw the prompt only after the answer).
            if branch.text:
                self._say(f"{branch_id}: {branch.text}", indent=2)
            if branch.prompt:
                self._say(f"Prompt: {branch.prompt}", indent=2)
        if branch.round != round_ and branch.when is not None:
            self._say(
                f"It comes up this round: {branch.when.text}."
                if certain
                else f"It comes up when {branch.when.text}.",
                indent=2,
            )
        self._show_outcomes(branch)
        default = game.outcomes.get((round_, branch_id))
        # Enter keeps the decision made for this round before (after [b]ack), or leaves
        # it to the rule.
        hint = f"1-{len(names)} or a name, 'rule' or Enter, ? lists them"
        if len(f"  {decider.id} chooses ({hint}): ") > self.width - 10:
            hint = "a number, a name or Enter for the rule"
        while True:
            answer = self._answer(
                f"  {decider.id} chooses ({hint})", default, lambda: self._show_outcomes(branch)
            )
            if not answer:
                answer = "rule"
            if answer.lower() in ("rule", "auto"):
                game.release_outcome(branch_id, round_)
                self._say(f"{decider.id}'s rule decides {branch_id}.", indent=2)
                return
            outcome = _match(answer, names)
            if outcome is not None:
                game.choose_outcome(branch_id, outcome, round_)
                recorded = (
                    f"Recorded: {decider.id} decides {branch_id}: {outcome}."
                    if certain
                    # Not "decides dialogue_offer: opened" as if it had happened.
                    else f"Recorded: if {branch_id} comes up this round, {decider.id} "
                    f"decides {outcome}."
                )
                self._say(recorded, indent=2)
                return
            self._say(
                f"'{answer}' is not an outcome of {branch_id}: type a number from 1 to "
                f"{len(names)}, one of {', '.join(names)}, or 'rule' to leave it to "
                f"{decider.id}'s rule.",
                indent=2,
            )

    def _show_outcomes(self, branch: CompiledBranch) -> None:
        """A branch's outcomes, numbered, each with its text."""
        wrap = textwrap.TextWrapper(
            width=self.width, initial_indent=" " * 9, subsequent_indent=" " * 9
        )
        for n, outcome in enumerate(branch.outcomes, 1):
            self.room.show(f"      {n}. {outcome.id}")
            if outcome.text:
                self.room.show(wrap.fill(outcome.text))

    def _show_options(self, rows: list[dict[str, object]]) -> None:
        """Every action numbered, with score, probability and description; closed ones marked."""
        wrap = textwrap.TextWrapper(
            width=self.width, initial_indent=" " * 9, subsequent_indent=" " * 9
        )
        for n, row in enumerate(rows, 1):
            if not row.get("feasible", True):
                line = f"      {n}. {row['action']}  (not open this round)"
                self.room.show(
                    "\n".join(textwrap.wrap(line, self.width, subsequent_indent=" " * 9))
                )
                continue
            row = {**row, "chosen": False}
            # An option and its description in one block: a page does not part them.
            block = [format_options([row], self.width, numbered=True, start=n)]
            if row.get("description"):
                block += wrap.wrap(str(row["description"]))
            self.room.show("\n".join(block))

    def _ask_prediction(self, branch_id: str, chance: bool = False) -> None:
        game = self.game
        branch = game.compiled.branches[[b.id for b in game.compiled.branches].index(branch_id)]
        outcomes = [o.id for o in branch.outcomes]
        # A chance event is predicted as it will go if it comes up, this round or later
        # (the model's forecast it is scored against is conditional the same way).
        question = (
            f"if {branch_id} comes up, how will it go?" if chance else f"how will {branch_id} go?"
        )
        self._say(
            f"Prediction: {question} Give each outcome's probability "
            "(0 to 1, or a percentage like 70%); they must add up to 1.",
            indent=2,
        )
        # The outcomes with their texts, as the students' phones show them (a lecturer's
        # trial: "P(deadly):" came with nothing to say what deadly was).
        self._show_outcomes(branch)
        while True:
            probabilities: dict[str, float] = {}
            for i, outcome in enumerate(outcomes):
                left = 1.0 - sum(probabilities.values())
                last = i == len(outcomes) - 1
                default = f"{max(left, 0.0):.2f}" if last and -0.005 < left <= 1 else None
                while True:
                    answer = self._ask_line(f"  P({outcome})", default)
                    try:
                        p = parse_probability(answer)
                    except OptionsError as exc:
                        self._say(str(exc), indent=2)
                        continue
                    if p > left + PREDICTION_TOLERANCE:
                        # Said at once, not after the last outcome (every number had to
                        # be typed again).
                        self._say(
                            f"that makes {_percent(1 - left + p)}, more than 100%: at most "
                            f"{_percent(max(left, 0.0))} is left for {outcome}.",
                            indent=2,
                        )
                        continue
                    probabilities[outcome] = p
                    break
            try:
                prediction = game.predict(branch_id, probabilities)
            except OptionsError as exc:
                self._say(f"{exc}; enter them again.", indent=2)
                continue
            self._say(f"Recorded for {branch_id}: {_shares(prediction.probabilities)}.", indent=2)
            return

    def _note_fork(self) -> None:
        game = self.game
        if game.results and game.choices and not self._forked_note:
            first = min(r for r, _ in game.choices)
            self._say(
                f"From round {first} on this game departs from run {game.run} of the "
                "batch: it is a fork.",
                indent=2,
            )
            self._forked_note = True

    def _override(self, at_end: bool) -> None:
        game = self.game
        if at_end:
            self._say("No round is left to play: [b]ack first.")
            return
        ids = [a.id for a in game.compiled.actors]
        round_ = game.round + 1
        # A no-break space keeps each number with its actor when the line wraps.
        numbered = "  ".join(f"{i}.\u00a0{a}" for i, a in enumerate(ids, 1))
        self._say(f"Override whose choice in round {round_}? {numbered}")
        while True:
            answer = self._ask_line("  Actor (Enter: none)", "")
            if not answer:
                return
            actor_id = _match(answer, ids)
            if actor_id is not None:
                break
            self._say(f"'{answer}' is not an actor: type 1 to {len(ids)} or a name.", indent=2)
        model, record = game.preview()
        self._round_head = None
        self._ask_choice(actor_id, choice_rows(model, record, actor_id), round_, release=True)
        if actor_id in self.play:
            return  # the room decides its seats' branches when the round is played
        # The branches this actor decides that may come up in the round: its rule's
        # decision may be overridden too (Enter keeps what was set, 'rule' hands it back).
        for branch_id in game.decisions(round_).get(actor_id, []):
            self._ask_outcome(branch_id, round_)

    def _back(self) -> None:
        game = self.game
        if game.round == 0:
            self._say("Nothing to undo: no round has been played.")
            return
        game.back()
        kept = game.people_choices(game.round + 1)
        note = f"Back at the end of round {game.round}; [n] plays round {game.round + 1} again."
        if kept:
            listed = ", ".join(f"{a} {c}" for a, c in kept.items())
            note += f" People's choices kept for it: {listed} (change with [o])."
        decided = {b: o for (r, b), o in game.outcomes.items() if r == game.round + 1}
        if decided:
            listed = ", ".join(f"{b} {o}" for b, o in decided.items())
            note += f" Decisions kept as the defaults: {listed}."
        self._say(note)

    def _default_path(self) -> str:
        game = self.game
        return str(self.save_path or game_file_default(game.compiled, game.seed, game.run))

    def _save(self) -> None:
        answer = self._ask_line("Save to", self._default_path())
        if not answer:
            return
        path = json_path(answer)
        if path.exists():
            if path.is_dir() or not _is_saved_game(path):
                self._say(f"{path} is not a saved game: not written over. Choose another name.")
                return
            own = self.save_path is not None and _same_file(path, Path(self.save_path))
            self._say(f"{path} holds {'the last save' if own else 'another saved game'}.")
            if self.room.key("Write over it? [y/N] > ") != "y":
                self._say("Not saved.")
                return
        try:
            path = self.game.save(path)
        except OptionsError as exc:
            # A folder that does not exist, say: the session goes on, nothing lost.
            self._say(f"{exc}. Not saved: [s]ave again with another name.")
            return
        self.save_path = path
        self._saved = self._snapshot()
        self._say(f"Saved at round {self.game.round} to {path}. Resume with:")
        # On a line of its own, never wrapped (a break inside a quoted name would not
        # paste), with the whole path: it works from any folder.
        where = Path(path).resolve()
        self.room.show(f"  wargame step --resume {shlex.quote(str(where))}")

    def _fork(self) -> None:
        name = self._ask_line("Name of the fork (Enter: cancel)", "")
        if not name:
            return
        path = json_path(name)
        if path.exists():
            self._say(f"{path} exists already: [f]ork again with another name.")
            return
        name_before = self.game.name
        self.game.name = path.stem
        try:
            self.game.save(path)
        except OptionsError as exc:
            self.game.name = name_before
            self._say(f"{exc}. Not forked: [f]ork again with another name.")
            return
        self.save_path = path
        self._saved = self._snapshot()
        self._say(
            f"Forked at round {self.game.round} to {path}; you now play the fork "
            "([s]ave writes there)."
        )

    def _unsaved_hint(self) -> str:
        game = self.game
        if not (game.choices or game.predictions) or self._saved == self._snapshot():
            return ""
        saved, now = self._saved, self._snapshot()
        choices = bool(game.choices) and (saved is None or saved[1] != now[1])
        predictions = bool(game.predictions) and (saved is None or saved[2] != now[2])
        what = (
            "The people's choices and the room's predictions"
            if choices and predictions
            else "The room's predictions"
            if predictions
            else "The people's choices"
        )
        return f" {what} since the last save are not saved."

    def _confirm_quit(self, interrupted: bool = False) -> bool:
        hint = self._unsaved_hint()
        if not hint and not interrupted:
            return True
        if hint:
            self._say(hint.strip())
        question = "Quit anyway? [y/N] > " if hint else "Quit the session? [y/N] > "
        try:
            answer = self.room.key(question)
        except Interrupted:
            return True  # Ctrl-C twice: the person means it
        return answer is None or answer == "y"

    def _show_outlook(self) -> None:
        """The model's outlook from the game as it stands (the ``e`` key)."""
        game = self.game
        if game.finished:
            self._say("The game is over: there is nothing left to expect (r shows the last round).")
            return
        runs = self.options.mc_runs
        self._say(f"Continuing the game {runs:,} times from here, by the rules...")
        seen = game.expect(runs)
        self.room.show(
            format_outlook(
                seen,
                {e.id: e.title for e in game.compiled.endings},
                hidden=self.hidden_branches(),
                closed=set(game.closed_branches()),
                width=self.width,
            )
        )

    def _show_end(self) -> None:
        game = self.game
        self.room.show("")
        if not game.finished:
            self._say(f"Stopped after round {game.round} of {game.rounds} (--until {self.stop}).")
            return
        self.room.show(format_ending(game.model, 0, self.width))
        if game.predictions:
            self.room.show("")
            self._say(
                f"Continuing the game {self.options.mc_runs:,} times from each round a "
                "question was asked: the model's forecast at that moment..."
            )
            scores = game.score_predictions(self.options.mc_runs)
            self.room.show(format_scores(scores, self.width))


def format_outlook(
    seen: Outlook,
    titles: dict[str, str],
    hidden: frozenset[str] = frozenset(),
    closed: set[str] | None = None,
    width: int = 80,
) -> str:
    """What the model expects from a round: each ending's share, each open branch's odds.

    Args:
        seen: From :meth:`sim.seminar.game.Game.expect`.
        titles: Ending id -> title.
        hidden: Branches whose odds the room must not see yet (``--predict``).
        closed: Open branches that can no longer come up, by what the room can see.
        width: The widest a line may be.
    """
    closed = closed or set()
    wrap = textwrap.TextWrapper(width=width, initial_indent="    ", subsequent_indent="      ")
    after = f"after round {seen.round}" if seen.round else "before round 1"
    lines = textwrap.wrap(
        f"The model's outlook {after}: {seen.runs:,} continuations of this game, every "
        "actor by its rule (the people's choices for later rounds are not used).",
        width=width,
    )
    lines.append("  Endings:")
    shares = sorted(seen.endings.items(), key=lambda kv: -kv[1])
    column = min(max(len(titles[e]) for e, _ in shares) + 2, max(10, width - 14))
    for ending, p in shares:
        label = titles[ending]
        if len(label) > column:
            lines += wrap.wrap(label)
            label = ""
        lines.append(f"    {label:<{column}} {100 * p:5.1f}%")
    if seen.branches:
        lines.append("  Branches still open:")
    for branch, outcomes in seen.branches.items():
        if branch in closed:
            lines += wrap.wrap(f"{branch}: can no longer come up")
        elif branch in hidden:
            lines += wrap.wrap(f"{branch}: odds hidden until the room has predicted it")
        elif seen.resolves[branch] == 0:
            lines += wrap.wrap(f"{branch}: comes up in none of the continuations")
        else:
            odds = ", ".join(f"{o} {100 * p:.0f}%" for o, p in outcomes.items())
            lines += wrap.wrap(
                f"{branch}: comes up in {100 * seen.resolves[branch]:.0f}% of them; if it "
                f"does, {odds}"
            )
    return "\n".join(lines)


def json_path(name: str) -> Path:
    """The file a save or fork name means: the name, with ``.json`` added if it lacks it.

    The same rule as the classroom's saves: ``class-a`` and ``class-a.json`` are one file.
    """
    text = name.strip()
    return Path(text if text.lower().endswith(".json") else f"{text}.json")


def _percent(p: float) -> str:
    """A probability as a percentage, one decimal kept only where needed: 60%, 12.5%."""
    return f"{f'{100 * p:.1f}'.rstrip('0').rstrip('.')}%"


def _shares(probabilities: dict[str, float]) -> str:
    """A prediction's shares as the room reads them: "success 70%, collapse 30%"."""
    return ", ".join(f"{outcome} {_percent(p)}" for outcome, p in probabilities.items())


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _is_saved_game(path: Path) -> bool:
    """Whether a file is a game saved by the stepper (anything else is never written over)."""
    from sim.seminar.game import read_game_file

    try:
        read_game_file(path)
    except OptionsError:
        return False
    return True


def _folded(name: str) -> str:
    """A name as typed, compared without case, with spaces or hyphens for underscores."""
    return re.sub(r"[\s_-]+", "_", name.strip().lower())


def _match(answer: str, names: list[str]) -> str | None:
    """The name meant by a number (1-based) or by the name itself.

    Case aside, and with spaces or hyphens for underscores (``ease sanctions``). No
    abbreviations: a stray menu key typed at this prompt ('s', 'n') must not be taken
    for an action that happens to start with it.
    """
    text = answer.strip()
    if text.isdigit():
        n = int(text)
        return names[n - 1] if 1 <= n <= len(names) else None
    exact = [n for n in names if _folded(n) == _folded(text)]
    return exact[0] if exact else None


def _listing(items: list[str]) -> str:
    """Option numbers: ``1-4`` when they run on, else ``1, 2, 4``."""
    numbers = [int(i) for i in items]
    if len(numbers) > 1 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]}-{numbers[-1]}"
    return ", ".join(items)


def _nearest(answer: str, names: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the nearest of ``names``, or ``""``."""
    folded = {_folded(n): n for n in names}
    close = closest_name(_folded(answer), list(folded))
    return f" (did you mean '{folded[close]}'?)" if close else ""


def format_scores(scores: list[PredictionScore], width: int = 80) -> str:
    """The predictions against what happened and against the model, as text.

    The model's column is its forecast when the question was asked: the game continued
    from the round before (:meth:`sim.seminar.game.Game.expect_at`).

    Args:
        scores: From :meth:`sim.seminar.game.Game.score_predictions`.
        width: The widest a line may be.
    """
    lines = textwrap.wrap(
        "Predictions (Brier score: the sum over outcomes of (p - happened)^2; "
        "0 is perfect, 2 is sure and wrong). The model's forecast is the one it made "
        "when the room was asked, from the game as it stood then.",
        width=width,
        subsequent_indent="  ",
    )
    for score in scores:
        prediction = score.prediction
        if score.outcome is None:
            what = "it did not resolve, so it has no score"
        else:
            what = f"it went {score.outcome}"
        lines += textwrap.wrap(
            f"{prediction.branch} (asked before round {prediction.round}): {what}",
            width=width,
            initial_indent="  ",
            subsequent_indent="    ",
        )
        column = max(12, *(len(o) for o in prediction.probabilities))
        column = min(column, width - 30)
        lines.append(f"    {'outcome':<{column}}   room   model ({score.model_runs:,} runs)")
        for outcome, p in prediction.probabilities.items():
            mark = "*" if outcome == score.outcome else " "
            model_p = score.model.get(outcome, 0.0)
            line = f"  {mark} {outcome:<{column}}   {p:4.2f}   {model_p:4.2f}"
            lines += textwrap.wrap(line, width=width, subsequent_indent=" " * 6) or [line]
        if score.brier is not None:
            model_brier = "-" if score.model_brier is None else f"{score.model_brier:.3f}"
            lines.append(f"    {'Brier score':<{column}}   {score.brier:.3f}  {model_brier}")
            if score.model_brier is not None:
                better = "the room" if score.brier < score.model_brier else "the model"
                if abs(score.brier - score.model_brier) < 1e-9:
                    better = "neither"
                lines += textwrap.wrap(
                    f"Closer to what happened: {better} (lower is better).",
                    width=width,
                    initial_indent="    ",
                    subsequent_indent="      ",
                )
    return "\n".join(lines)


def terminal_width(default: int = 80, widest: int = 100) -> int:
    """The terminal's width (``default`` when unknown), capped for readability."""
    import shutil

    return max(40, min(shutil.get_terminal_size((default, 24)).columns, widest))


def terminal_height() -> int | None:
    """The terminal's height in lines, when both input and output are a terminal.

    ``None`` for a pipe or a file: nothing to page, nobody to press a key.
    """
    import shutil

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return None
    return max(16, shutil.get_terminal_size((80, 30)).lines)


def terminal_room(no_input: bool) -> TerminalRoom:
    """A room on this process's terminal: colour and raw keys only where it is a tty."""
    return TerminalRoom(
        interactive=not no_input,
        colour=colour_wanted(sys.stdout),
        raw_keys=sys.stdin.isatty() and sys.stdout.isatty(),
        echo=not sys.stdin.isatty(),
    )


def run_session(
    game: Game,
    *,
    output_format: str = "text",
    no_input: bool = False,
    play: tuple[str, ...] = (),
    predict: bool = False,
    until: int | None = None,
    mc_runs: int = DEFAULT_MC_RUNS,
    save_path: Path | None = None,
    room: Room | None = None,
    width: int | None = None,
    height: int | None = None,
) -> str | None:
    """Run a seminar session on this terminal, or write the game as a handout.

    Args:
        game: The game (new, resumed, or opened from a batch).
        output_format: ``text`` (the stepper), ``markdown`` or ``html`` (a handout of
            the game played without input, to ``until`` or the end).
        no_input: Play by the rules (and the choices already made) without asking.
        play: Actors whose choices the room makes.
        predict: Ask the room to predict each branch before it can resolve.
        until: Stop after this round.
        mc_runs: Continuations behind the model's forecast that predictions are scored
            against.
        save_path: The file the game was resumed from ([s]ave writes there).
        room: Where to talk (default: this process's terminal).
        width: Line width (default: the terminal's).
        height: Screen height for paging (default: the terminal's, when it is one).

    Returns:
        The handout for ``markdown`` and ``html``; ``None`` for ``text`` (shown as it
        goes).

    Raises:
        OptionsError: For options that do not go together or an unknown actor.
    """
    if output_format not in ("text", "markdown", "html"):
        raise OptionsError(f"--format must be text, markdown or html, not '{output_format}'")
    handout = output_format != "text"
    if handout or no_input:
        asking = [f for f, on in (("--play", bool(play)), ("--predict", predict)) if on]
        if asking:
            why = f"--format {output_format}" if handout else "--no-input"
            what = " and ".join(asking)
            raise OptionsError(
                f"{what} {'asks' if len(asking) == 1 else 'ask'} the room questions, which "
                f"{why} does not allow: drop {what}"
                + (
                    ", or drop --no-input to play in the terminal"
                    if not handout
                    else " (the handout shows the game as the rules play it)"
                )
            )
    for actor in play:
        try:
            game.actor_id(actor)  # an unknown actor is an error before anything is shown
        except OptionsError as exc:
            raise OptionsError(f"--play {actor}: {exc}") from None
    if until is not None and not 1 <= until <= game.rounds:
        raise OptionsError(f"--until {until}: the game has rounds 1 to {game.rounds}")
    if mc_runs < 1:
        raise OptionsError("--mc-runs must be at least 1")
    if until is not None and game.round > until:
        # A save resumed past --until (a finished game, say) is shown as it stood then.
        game.goto(until)
    if handout:
        from sim.seminar.debrief import read_students
        from sim.seminar.handout import html_document, markdown

        students = read_students(save_path) if save_path is not None else []
        game.play_to(until or game.rounds)
        render = markdown if output_format == "markdown" else html_document
        return render(game, mc_runs, students)
    own_terminal = room is None
    if room is None:
        room = terminal_room(no_input)
    if room.interactive:
        play = play or game.played
        predict = predict or game.predicting
        game.predicting = predict
    options = StepOptions(
        play=tuple(play),
        predict=predict,
        until=until,
        width=width or terminal_width(),
        mc_runs=mc_runs,
        save_path=save_path,
        height=height if height is not None else (terminal_height() if own_terminal else None),
        follow_terminal=own_terminal and width is None and height is None,
    )
    Stepper(game, room, options).run()
    return None

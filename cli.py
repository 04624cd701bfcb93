"""The ``wargame`` command: parse the command line, call :mod:`sim`, print.

Exit codes: 0 success, 1 runtime failure, 2 bad input (scenario, options, results
folder). A user's mistake is reported in one line per problem, never as a traceback.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shlex
import shutil
import signal
import sys
import textwrap
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

# Arrow's default allocator (mimalloc) keeps freed memory: a batch read in pieces would
# hold its peak. The system allocator gives it back, so memory stays flat as runs grow.
# Set before Arrow allocates anything (and inherited by worker processes); a user's own
# choice wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

from sim.errors import WargameError, WargameWarning
from sim.version import __version__

if TYPE_CHECKING:
    from sim.seminar.game import Game

EXIT_RUNTIME = 1
EXIT_BAD_INPUT = 2
#: Continuations behind the seminar's forecasts (step, and replay --step).
STEP_MC_RUNS = 5000


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP (``kill``, ``timeout``, a scheduler, a closed terminal).

    An interrupt like Ctrl-C, so a batch stops as cleanly: the workers stopped, the
    finished chunks kept, the resume command printed.
    """

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.name = signal.Signals(signum).name


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` while a command runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: Any) -> None:
        raise Terminated(signum)

    wanted = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    previous = {signum: signal.signal(signum, stop) for signum in wanted}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def user_warnings() -> Iterator[None]:
    """Print each :class:`~sim.errors.WargameWarning` as one ``warning: ...`` line."""
    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
            if issubclass(category, WargameWarning):
                click.echo(f"warning: {message}", err=True)
            else:
                shown(message, category, *args, **kwargs)

        warnings.showwarning = show
        warnings.simplefilter("always", WargameWarning)
        yield


class FolderPath(click.Path):
    """A folder argument or option: a new path or a folder, never a file.

    click's own message for a file here ("Directory 'x' is a file.") reads as a
    contradiction; this one says what to give instead.
    """

    def __init__(self) -> None:
        super().__init__(file_okay=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The path, or a usage error if it names a file."""
        if Path(value).is_file():
            self.fail(f"{value} is a file, not a folder")
        return super().convert(value, param, ctx)


def _fail(lines: list[str]) -> None:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(EXIT_BAD_INPUT)


def _interrupted(exc: KeyboardInterrupt) -> str:
    return f"terminated ({exc.name})" if isinstance(exc, Terminated) else "interrupted"


def handles_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn user errors into one line each and exit code 2; SIGTERM/SIGHUP into interrupts."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with signals_interrupt(), user_warnings():
                return command(*args, **kwargs)
        except WargameError as exc:
            _fail(exc.lines())
        except KeyboardInterrupt as exc:
            click.echo(_interrupted(exc), err=True)
            sys.exit(EXIT_RUNTIME)

    return wrapper


def resume_command(folder: str | Path) -> str:
    """The command that finishes the interrupted batch: this one, as given, with --resume.

    Every option the user gave is kept (``--set``, ``--no-rounds``, ``--chunk-size``,
    ...), ``--force`` is dropped and ``--out`` names the folder actually used.
    """
    ctx = click.get_current_context()
    words = ["wargame", ctx.info_name or ""]
    for param in ctx.command.params:
        name = param.name or ""
        value = ctx.params.get(name)
        if name in ("out", "force", "resume"):
            continue
        if isinstance(param, click.Argument):
            words += [str(v) for v in value] if isinstance(value, tuple) else [str(value)]
            continue
        source = ctx.get_parameter_source(name)
        if source is click.core.ParameterSource.DEFAULT or value is None:
            continue
        flag = max(param.opts, key=len)
        if getattr(param, "is_flag", False):
            if value:
                words.append(flag)
        elif getattr(param, "multiple", False):
            for item in value:
                words += [flag, str(item)]
        else:
            words += [flag, str(value)]
    words += ["--out", str(folder), "--resume"]
    return shlex.join(words)


def _stopped(exc: KeyboardInterrupt, folder: str | Path) -> None:
    click.echo(
        f"\n{_interrupted(exc)}; finished chunks are kept: resume with `{resume_command(folder)}`",
        err=True,
    )
    # The batch's files are written and its workers stopped. Leave now rather than
    # through the interpreter's exit, where concurrent.futures joins its pool's manager
    # thread, which can wait for ever for a worker an interrupt caught while it was
    # being spawned (seen about once in six SIGTERMs under load). Any such worker
    # watches this process and ends with it (as after SIGKILL).
    from sim.batch.executors import pool_was_interrupted

    if _OWN_PROCESS and pool_was_interrupted():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_RUNTIME)
    sys.exit(EXIT_RUNTIME)


class OneLineUsageError(click.UsageError):
    """A click usage error told in one line: ``Error: ... (wargame run --help for usage)``.

    click's own is three (the usage, "Try ... for help", the error); every other bad
    input is one line and exit code 2, and so is this.
    """

    def __init__(self, error: click.UsageError, command: str):
        super().__init__(error.message, error.ctx)
        self.error = error
        self.command = error.ctx.command_path if error.ctx is not None else command

    def format_message(self) -> str:
        """The message click words ("Missing argument 'SCENARIO'.", "No such option ...").

        An unknown option names the one option it most likely stands for, as a scenario's
        misspelt name does (``--seeds``: "Did you mean '--seed'?"), and none when nothing is close
        (click offered ``--out`` and ``--runs`` for ``--bogus``).
        """
        error = self.error
        if isinstance(error, click.NoSuchOption) and error.possibilities:
            from sim.language.schema import closest_name  # only on this error's path

            names = {p.lstrip("-"): p for p in error.possibilities}
            close = closest_name(error.option_name.lstrip("-"), list(names))
            hint = f" Did you mean '{names[close]}'?" if close else ""
            return f"No such option '{error.option_name}'.{hint}"
        return error.format_message()

    def show(self, file: Any = None) -> None:
        """Print the error and where the usage is, on one line of stderr."""
        message = " ".join(self.format_message().split())
        if not message.endswith((".", "?", "?)")):
            message += "."
        click.echo(f"Error: {message} ({self.command} --help for usage)", err=True)


class WargameGroup(click.Group):
    """The ``wargame`` group: a usage error of any command is one line, exit code 2.

    Usage errors arise while the group parses its own options (:meth:`make_context`)
    and while it picks and parses a command, or the command refuses its options
    (:meth:`invoke`); both are retold by :class:`OneLineUsageError`. ``wargame`` alone
    shows the help on stdout and exits 0, as ``wargame --help`` does (click 8.2 and
    later would print it as an error, exit code 2).
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """The group's arguments; none at all shows the help."""
        if not args:
            click.echo(ctx.get_help(), color=ctx.color)
            ctx.exit(0)
        return super().parse_args(ctx, args)

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        """The group's context; a usage error in its own options in one line."""
        try:
            return super().make_context(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as error:
            raise OneLineUsageError(error, self.name or "wargame") from None

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a usage error (a missing argument, an unknown option) in one line."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.NoArgsIsHelpError, OneLineUsageError):
            raise
        except click.UsageError as error:
            # The parser tells some errors ("Option '--out' requires an argument.")
            # without their context: they belong to the command being parsed.
            command = " ".join(filter(None, (ctx.command_path, ctx.invoked_subcommand)))
            raise OneLineUsageError(error, command) from None


@click.group(
    "wargame",
    cls=WargameGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Example:  wargame run scenarios/alaska.yaml -n 10000 --seed 1",
)
@click.version_option(__version__, prog_name="wargame")
def cli() -> None:
    """Scenario wargaming for geopolitical crises.

    Play a scenario thousands of times, see how likely each branch and ending is, and
    step through one game in a seminar.
    """


@cli.command(epilog="Example:  wargame validate scenarios/alaska.yaml")
@click.argument("scenario", type=click.Path())
@click.option(
    "--trial-runs", default=200, show_default=True, help="Runs of a quick trial game (0: none)."
)
@handles_errors
def validate(scenario: str, trial_runs: int) -> None:
    """Check a scenario file and report every problem as FILE:LINE:COL: message.

    Exits 0 and prints a one-line summary for a good file (warnings about dead levers
    are printed but do not fail it); exits 2 for a bad one. A short trial batch also
    catches expressions that fail only while running (division by zero, overflow).
    """
    from sim.engine.loading import load

    compiled = load(scenario)
    found: list[Any] = []
    try:
        if trial_runs > 0:
            found = _trial_warnings(compiled, trial_runs)
    finally:
        # In the file's order, the load's and the trial's together (an author read
        # 199, 86, 232); printed before a trial's error, should it fail.
        every = sorted([*compiled.warnings, *found], key=lambda p: (p.line or 0, p.col or 0))
        for warning in every:
            click.echo(str(warning), err=True)
    click.echo(compiled.summary_line())


def _trial_warnings(compiled: Any, trial_runs: int) -> list[Any]:
    """What a short trial batch of a loaded scenario finds (warnings, in no order)."""
    import numpy as np

    from sim.engine.lint import (
        clipped_probabilities,
        shadowed_endings,
        unconverged_equilibria,
        unreached_endings,
        untaken_actions,
    )
    from sim.engine.model import WargameModel

    trial = WargameModel(compiled, 0, np.arange(trial_runs), keep_trajectories=True)
    trial.probability_issues = {}
    trial.option_chances = {}
    saying = f"playing a trial of {trial_runs:,} runs (--trial-runs 0 skips it)..."
    with np.errstate(all="ignore"), _said_if_slow(saying):
        trial.run_model()
    ended = trial.rounds_played >= compiled.rounds
    found = clipped_probabilities(compiled, trial.probability_issues, trial_runs)
    found += untaken_actions(compiled, trial.option_chances, trial_runs)
    found += shadowed_endings(compiled, trial.ctx, ended)
    found += unconverged_equilibria(compiled, trial.unconverged, trial_runs)
    found += unreached_endings(compiled, trial.ending, trial_runs, [*compiled.warnings, *found])
    return found


def _text_width(widest: int = 100) -> int:
    """Columns for wrapped text: the terminal's (60 to ``widest``), or ``widest`` in a file.

    A pipe or a file gets the same text whatever the terminal it was typed in, unless
    ``COLUMNS`` is in the environment: a shell keeps it to itself, so there it was set on
    purpose (``COLUMNS=80 wargame compare A B > out.txt``), and it is followed.
    """
    if not sys.stdout.isatty() and not os.environ.get("COLUMNS", "").strip().isdigit():
        return widest
    return max(60, min(shutil.get_terminal_size((widest, 24)).columns, widest))


@contextlib.contextmanager
def _said_if_slow(message: str, after: float = 1.5) -> Iterator[None]:
    """Say ``message`` on a terminal's stderr if the block takes longer than ``after`` s.

    Most scenarios' trials take a fraction of a second; one whose equilibrium needs
    path-following can take ten, and a silent terminal looks stuck. Nothing is written
    where stderr is not a terminal (scripts read one problem per line there).
    """
    if not sys.stderr.isatty():
        yield
        return
    timer = threading.Timer(after, lambda: click.echo(message, err=True))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _open_game(
    scenario: str | None,
    resume: str | None,
    seed: int,
    run_index: int,
    settings: tuple[str, ...],
    command: str = "step",
) -> Game:
    """The seminar game of ``step`` and ``serve``: a saved one (``--resume``) or a new one.

    A saved game brings its own seed, run and settings, so giving them too is refused.
    """
    from sim.seminar.game import Game

    if resume is not None:
        source = click.get_current_context().get_parameter_source
        given = [
            flag
            for name, flag in (("seed", "--seed"), ("run_index", "--run"), ("settings", "--set"))
            if source(name) is not click.core.ParameterSource.DEFAULT
        ]
        if given:
            raise click.UsageError(f"--resume takes {', '.join(given)} from the saved game")
        return Game.load(resume, scenario, command)
    if scenario is None:
        raise click.UsageError("give a SCENARIO file, or --resume FILE")
    from sim.batch.options import check_overrides
    from sim.engine.loading import load

    compiled = load(scenario)
    overrides = check_overrides(compiled, _parse_settings(settings))
    return Game(compiled, seed, run_index, overrides)


def _once(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> str | None:
    """An option that takes one value, refused when repeated (click keeps the last)."""
    if len(values) > 1:
        joined = {
            "ending": "--outcome \"ending == 'a' or ending == 'b'\"",
            "branch": "--outcome \"branch.a == 'x' or branch.b == 'y'\"",
        }.get(param.name or "", "one condition joined with 'or'")
        raise click.BadParameter(
            f"given {len(values)} times, and explain takes one: explain each in its own "
            f"run (with its own --out), or explain them together with {joined}"
        )
    return values[0] if values else None


def _parse_settings(settings: tuple[str, ...]) -> dict[str, str]:
    parsed = {}
    for item in settings:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise click.BadParameter(f"'{item}' is not NAME=VALUE", param_hint="--set")
        parsed[name.strip()] = value.strip()
    return parsed


def batch_options(kind: str, set_help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The options `run` and `sweep` share: output folder, workers, settings, output."""
    options = [
        click.option(
            "--out",
            type=FolderPath(),
            help="Results folder [default: results/<id>-<time>].",
        ),
        click.option(
            "--workers", default=0, show_default=True, help="Worker processes (0: automatic)."
        ),
        click.option(
            "--chunk-size",
            default=10_000,
            show_default=True,
            help="Runs per block (memory, not results).",
        ),
        click.option("--set", "settings", multiple=True, metavar="NAME=VALUE", help=set_help),
        click.option("--force", is_flag=True, help="Replace an earlier results folder at --out."),
        click.option("--resume", is_flag=True, help=f"Finish an interrupted {kind} at --out."),
        click.option("--no-rounds", is_flag=True, help="Do not keep per-round trajectories."),
        click.option("--no-plots", is_flag=True, help="Do not draw plots."),
        click.option(
            "--group-by",
            metavar="BRANCH",
            help="Split fan charts by this branch's outcomes [default: the first branch].",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON."),
        click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors."),
    ]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


@contextlib.contextmanager
def progress_bar(enabled: bool, label: str = "playing") -> Iterator[Callable[[int, int], None]]:
    """A progress callback (runs done, runs in all) drawing a bar on stderr if enabled."""
    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if not enabled:
            return
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        yield update
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def print_results(
    results: Any, as_json: bool, quiet: bool, heading: str = "", resumed: bool = False
) -> None:
    """Print a finished batch's summary table (or JSON) and where its results are.

    A resumed batch's time is this session's and its rate is over every session's play,
    so the last line says so rather than put all the runs in this session's seconds.
    """
    from sim.batch.summary import format_summary

    if as_json:
        click.echo(json.dumps(results.summary, indent=2))
        return
    if quiet:
        return
    if heading:
        click.echo(heading)
    click.echo(format_summary(results.summary))
    timings = results.manifest["timings"]
    took = ", finished by this resume in" if resumed else " in"
    rate = f"{timings['runs_per_s'] or 0:,.0f} runs/s"
    # The whole command's time, then the playing alone (an author read "2,000 runs in
    # 1.9 s (43,478 runs/s playing)" as a contradiction).
    if resumed:
        playing = f"playing at {rate}, over every session"
    else:
        playing = f"of which playing {timings['play_s']:.2f} s, {rate}"
    click.echo(
        f"\n{results.manifest['runs']:,} runs{took} {timings['total_s']:.1f} s "
        f"({playing}); results in {results.folder}"
    )
    # Fan charts are drawn for the scenario's first few metrics: say which are left out
    # (an analyst looked for fan_nuclear_tests.png).
    plots = Path(results.folder) / "plots"
    metrics = [m["id"] for m in results.layout["metrics"]]
    drawn = [m for m in metrics if (plots / f"fan_{m}.png").exists()]
    if drawn and len(drawn) < len(metrics):
        left = [m for m in metrics if m not in drawn]
        click.echo(
            "\n".join(
                textwrap.wrap(
                    f"Fan charts in plots/ for {len(drawn)} of {len(metrics)} metrics, the "
                    f"first in the scenario's order; none for {', '.join(left)}.",
                    _text_width(),
                    break_on_hyphens=False,
                )
            )
        )


@cli.command(
    epilog=(
        "\b\nExamples:\n"
        "  wargame run scenarios/alaska.yaml -n 100000 --seed 7 \\\n"
        "      --out results/alaska-7 --workers 2\n"
        "  wargame run scenarios/alaska.yaml --group-by counteroffensive"
    )
)
@click.argument("scenario", type=click.Path())
@click.option("-n", "--runs", default=10_000, show_default=True, help="Number of runs.")
@click.option("--seed", default=20250815, show_default=True, help="Seed of the batch.")
@click.option(
    "--executor",
    type=click.Choice(["auto", "inprocess", "process", "dask"]),
    default="auto",
    show_default=True,
    help="Where runs are played.",
)
@click.option(
    "--scheduler",
    metavar="tcp://HOST:PORT",
    help="Dask scheduler for --executor dask (default: a local Dask cluster).",
)
@batch_options(
    "batch",
    "Fix a parameter or initial value, or an actor's setting: ACTOR.rationality, "
    "ACTOR.foresight, ACTOR.depth, ACTOR.prior, ACTOR.reasoning (e.g. RU.reasoning=myopic) "
    "(repeatable).",
)
@handles_errors
def run(
    scenario: str,
    runs: int,
    seed: int,
    out: str | None,
    workers: int,
    chunk_size: int,
    executor: str,
    scheduler: str | None,
    settings: tuple[str, ...],
    force: bool,
    resume: bool,
    no_rounds: bool,
    no_plots: bool,
    group_by: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Play SCENARIO many times and write a results folder.

    Prints each branch outcome and ending with its probability and 95% Wilson interval,
    and each actor's mean payoff. The folder holds manifest.json, runs.parquet (one row
    per run), rounds.parquet (trajectories), summary.json and plots/ (fan charts split
    by the first branch's outcomes, or by --group-by BRANCH's). Same seed, same results,
    whatever the workers, chunk size or executor.
    """
    from sim.api import run_batch, start_early
    from sim.batch.options import BatchOptions, check_overrides
    from sim.batch.runner import default_out
    from sim.engine.loading import load

    if resume and force:
        raise click.UsageError("--resume and --force cannot be used together")
    if resume and out is None:
        raise click.UsageError("--resume needs --out DIR (the interrupted batch)")
    start_early(
        BatchOptions(runs=runs, workers=workers, executor=executor, plots=not no_plots, seed=seed)
    )
    compiled = load(scenario)
    if not quiet:
        for warning in compiled.warnings:
            click.echo(str(warning), err=True)
    options = BatchOptions(
        runs=runs,
        seed=seed,
        chunk_size=chunk_size,
        workers=workers,
        executor=executor,
        scheduler=scheduler,
        overrides=check_overrides(compiled, _parse_settings(settings)),
        keep_rounds=not no_rounds,
        plots=not no_plots,
        group_by=group_by,
        command_line=["wargame", *sys.argv[1:]],
    )
    options.check()
    folder = Path(out) if out is not None else default_out(compiled)
    try:
        with progress_bar(not quiet and not as_json and sys.stderr.isatty()) as progress:
            results = run_batch(
                compiled, folder, options, force=force, resume=resume, progress=progress
            )
    except KeyboardInterrupt as exc:
        _stopped(exc, folder)
    print_results(results, as_json, quiet, resumed=resume)


_FORMATS = click.Choice(["text", "markdown", "html"])


@cli.command(
    epilog=(
        "\b\nExamples:\n"
        "  wargame replay results/alaska-7 --run 42\n"
        "  wargame replay results/alaska-7 --run 42 --step --play DPRK"
    )
)
@click.argument("folder", type=FolderPath())
@click.option("--run", "run_index", required=True, type=int, help="Index of the run to replay.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's record as JSON.")
@click.option("--step", is_flag=True, help="Open the run in the seminar stepper.")
@click.option("--play", multiple=True, metavar="ACTOR", help="With --step: the room plays ACTOR.")
@click.option("--predict", is_flag=True, help="With --step: the room predicts each branch.")
@click.option("--until", type=int, help="With --step: stop after this round.")
@click.option("--no-input", is_flag=True, help="With --step: ask nothing, play by the rules.")
@click.option(
    "--mc-runs",
    default=STEP_MC_RUNS,
    show_default=True,
    help="With --step or --format: continuations behind the model's forecasts, as in step.",
)
@click.option(
    "--format",
    "output_format",
    type=_FORMATS,
    default="text",
    show_default=True,
    help="text, or a Markdown / HTML handout of the run.",
)
@handles_errors
def replay(
    folder: str,
    run_index: int,
    as_json: bool,
    step: bool,
    play: tuple[str, ...],
    predict: bool,
    until: int | None,
    no_input: bool,
    mc_runs: int,
    output_format: str,
) -> None:
    """Re-play run K of a batch exactly, round by round.

    Shows the injects, each actor's options with scores and probabilities, its choice
    and why, the state changes, the branches taken and the ending. The final metrics
    equal row K of runs.parquet exactly. With --json prints that row plus every round.

    With --step the run opens in the seminar stepper (see `wargame step`), exact to
    the batch; the room can take over from any round: an override forks the run.
    """
    from sim.errors import OptionsError

    if as_json and (step or output_format != "text"):
        raise OptionsError("--json cannot go with --step or --format")
    if not step and (play or predict or until is not None or no_input):
        raise OptionsError("--play, --predict, --until and --no-input need --step")
    given = click.get_current_context().get_parameter_source("mc_runs")
    if given is not click.core.ParameterSource.DEFAULT and not step and output_format == "text":
        raise OptionsError("--mc-runs needs --step or --format (the forecasts are the stepper's)")
    if step or output_format != "text":
        from sim.seminar.game import Game
        from sim.seminar.stepper import run_session

        game = Game.from_results(Path(folder), run_index)
        handout = run_session(
            game,
            output_format=output_format,
            no_input=no_input,
            play=play,
            predict=predict,
            until=until,
            mc_runs=mc_runs,
        )
        if handout is not None:
            click.echo(handout, nl=False)
        return
    from sim.seminar.replay import replay as replay_run
    from sim.seminar.replay import replay_record
    from sim.seminar.transcript import format_game

    model = replay_run(Path(folder), run_index)
    if as_json:
        click.echo(json.dumps(replay_record(model), indent=2, default=_json_default))
    else:
        click.echo(format_game(model))


@cli.command(
    epilog=(
        "\b\nExamples:\n"
        "  wargame step scenarios/alaska.yaml --play US --play RU --predict\n"
        "  wargame step --resume class-a.json\n"
        "  wargame step --resume class-a.json --format html --out class-a.html"
    )
)
@click.argument("scenario", required=False, type=click.Path())
@click.option("--seed", default=20250815, show_default=True, help="Seed (as in `wargame run`).")
@click.option("--run", "run_index", default=0, show_default=True, help="Run index (as in a batch).")
@click.option("--play", multiple=True, metavar="ACTOR", help="The room plays ACTOR (repeatable).")
@click.option("--until", type=int, help="Stop after this round.")
@click.option("--no-input", is_flag=True, help="Ask nothing: play by the rules to the end.")
@click.option("--predict", is_flag=True, help="Ask the room to predict each branch first.")
@click.option("--resume", type=click.Path(dir_okay=False), help="Continue a saved game.")
@click.option(
    "--format",
    "output_format",
    type=_FORMATS,
    default="text",
    show_default=True,
    help="text (the stepper), or a Markdown / HTML handout of the whole game.",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="Fix a parameter or initial value, or an actor's setting such as ACTOR.rationality "
    "(repeatable).",
)
@click.option(
    "--mc-runs",
    default=STEP_MC_RUNS,
    show_default=True,
    help="Continuations of the game behind the model's forecasts (and the handout's debrief).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Write the handout (--format markdown or html) to this file instead of the screen.",
)
@click.option("--force", is_flag=True, help="Replace an existing --out file.")
@handles_errors
def step(
    scenario: str | None,
    seed: int,
    run_index: int,
    play: tuple[str, ...],
    until: int | None,
    no_input: bool,
    predict: bool,
    resume: str | None,
    output_format: str,
    settings: tuple[str, ...],
    mc_runs: int,
    out: str | None,
    force: bool,
) -> None:
    """Play one game of SCENARIO round by round with a room: the seminar.

    Each round shows the date, the injects and facilitator prompts, each actor's options
    with scores and probabilities, its choice and why, the state changes and the branch
    outcomes; at the end the ending and the payoffs. Between rounds one key: [n]ext,
    [o]verride an actor's next choice, [b]ack one round, [f]ork to a named file, [s]ave,
    [q]uit. --play ACTOR lets the room choose for ACTOR; --predict asks for each
    branch's probabilities before it resolves and scores them (Brier) at the end
    against what happened and against the model. Seed S and run K give the same game
    as run K of a batch at seed S.
    """
    from sim.seminar.handout import check_handout_path, write_handout
    from sim.seminar.stepper import run_session

    target = None
    if out is not None:
        if output_format == "text":
            raise click.UsageError("--out writes a handout: add --format markdown or html")
        target = check_handout_path(out, force, resume)
    game = _open_game(scenario, resume, seed, run_index, settings)
    handout = run_session(
        game,
        output_format=output_format,
        no_input=no_input,
        play=play,
        predict=predict,
        until=until,
        mc_runs=mc_runs,
        save_path=Path(resume) if resume else None,
    )
    if handout is not None and target is not None:
        write_handout(target, handout)
        click.echo(f"handout written to {target}")
    elif handout is not None:
        click.echo(handout, nl=False)


@cli.command(
    epilog=(
        "\b\nExample:\n"
        "  wargame serve scenarios/alaska.yaml --seed 1962 --play US --play RU \\\n"
        "      --play UA --play EU --port 8765"
    )
)
@click.argument("scenario", required=False, type=click.Path())
@click.option("--seed", default=20250815, show_default=True, help="Seed (as in `wargame run`).")
@click.option("--run", "run_index", default=0, show_default=True, help="Run index (as in a batch).")
@click.option("--resume", type=click.Path(dir_okay=False), help="Serve a saved game.")
@click.option("--play", multiple=True, metavar="ACTOR", help="A team plays ACTOR (repeatable).")
@click.option("--port", default=8000, show_default=True, help="Port (0: any free port).")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 lets phones on the room's network in.",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="Fix a parameter or initial value (repeatable).",
)
@click.option(
    "--mc-runs",
    default=5000,
    show_default=True,
    help="Runs of the batch the debrief compares the game with.",
)
@click.option(
    "--continuations",
    default=2000,
    show_default=True,
    help="Continuations of the game behind the model's outlook.",
)
@handles_errors
def serve(
    scenario: str | None,
    seed: int,
    run_index: int,
    resume: str | None,
    play: tuple[str, ...],
    port: int,
    host: str,
    settings: tuple[str, ...],
    mc_runs: int,
    continuations: int,
) -> None:
    """Serve one game of SCENARIO to a classroom of devices.

    The same game as `wargame step` with the same seed and choices, played from
    browsers: a facilitator's page paces it (open a round, timer, reveal, back, fork,
    override, save, load, end), a projector shows it read-only, each team (--play
    ACTOR) chooses for its actor in secret until the reveal, and students predict the
    branches under their names (scored with Brier scores, exported as CSV). A debrief
    sets the game against a batch and the model's outlook round by round. Prints one
    link per role, each with its own random token, and a QR code of the students'
    link. Listens on 127.0.0.1 unless --host says otherwise. Ctrl-C stops it.
    """
    from sim.errors import OptionsError

    try:
        from sim.classroom import server
        from sim.classroom.room import Classroom, read_classroom_students
    except ImportError as exc:
        raise OptionsError(
            f'wargame serve needs the web extra ({exc.name} is missing): pip install -e ".[web]"'
        ) from None
    game = _open_game(scenario, resume, seed, run_index, settings, command="serve")
    for actor in play:
        try:
            game.actor_id(actor)
        except OptionsError as exc:
            raise OptionsError(f"--play {actor}: {exc}") from None
    if not 0 <= port <= 65535:
        raise OptionsError(f"--port {port}: a port is 0 to 65535")
    if mc_runs < 1 or continuations < 1:
        raise OptionsError("--mc-runs and --continuations must be at least 1")
    room = Classroom(
        game,
        tuple(play) or game.played,
        save_dir=server.save_dir_of(resume),
        scenario_path=scenario,
        continuations=continuations,
        save_path=resume,
        # The students' names, forecasts and secrets' hashes: a device that holds its
        # secret gets its name back.
        students=read_classroom_students(resume) if resume else None,
    )
    sock = server.open_socket(host, port)
    bound = sock.getsockname()[1]
    shown = server.reachable_host(host)
    base = f"http://{'[' + shown + ']' if ':' in shown else shown}:{bound}"
    found = server.links(room, base)
    meta = f"{game.compiled.title}, seed {game.seed}, run {game.run}"
    click.echo(f"Serving {meta} (round {game.round} of {game.rounds}).")
    width = max(len(k) for k in found)
    for label, url in found.items():
        click.echo(f"  {label:<{width}}  {url}")
    if not room.teams:
        click.echo("  (no team links: give --play ACTOR for each actor a team plays)")
    click.echo("Students' link as a QR code:")
    click.echo(server.qr_text(found["students"]), nl=False)
    if host in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            "Only this computer can open the links: --host 0.0.0.0 lets the room in. "
            "Ctrl-C stops the server."
        )
    else:
        click.echo(
            f"Anyone who can reach {shown}:{bound} on your network and holds a link can "
            "open it; each link carries its own token. Ctrl-C stops the server."
        )
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        server.run(room, sock, batch_runs=mc_runs)
    played = room.game.round > 0 or bool(room.game.choices)
    if room.save_path is None:
        click.echo("Stopped." + (" The game was not saved." if played else ""))
        return
    # The whole path: the command works from any folder (a lecturer ran it from the
    # folder above the one the class was served from).
    saved = Path(room.save_path).resolve()
    again = ["wargame", "serve", "--resume", str(saved)]
    if host != "127.0.0.1":
        again += ["--host", host]
    if bound != 8000:
        # The same address and port: a student's browser keeps its name's secret per site.
        again += ["--port", str(bound)]
    # The last file saved or loaded may be behind the game (a lecturer's trial: a game
    # loaded, played on and ended was announced as "last saved" to the loaded file).
    behind = _unsaved_since(room.save_path, room.game.to_json())
    click.echo(
        f"Stopped at round {room.game.round}."
        + (
            f" What was played since {room.save_path.name} was saved or loaded is NOT saved."
            if behind
            else ""
        )
        + f" The last file saved or loaded: {saved}. Resume it with: "
        + shlex.join(again)
    )


def _unsaved_since(path: Path, now: dict[str, Any]) -> bool:
    """Whether a game (its saved form ``now``) differs from the one saved in ``path``."""
    try:
        saved = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True
    keys = ("round", "choices", "outcomes", "predictions")
    return not isinstance(saved, dict) or any(saved.get(k) != now.get(k) for k in keys)


@cli.command(
    epilog=(
        "\b\nExample:\n"
        "  wargame compare results/aid-60 results/aid-20 \\\n"
        "      --out results/aid-60-vs-20 --labels 'aid cut 60%,aid cut 20%'"
    )
)
@click.argument("folders", nargs=-1, type=FolderPath())
@click.option("--out", type=FolderPath(), help="Folder for the tables and plots.")
@click.option("--labels", help="Comma-separated names of the batches, in folder order.")
@click.option("--unpaired", is_flag=True, help="Treat batches as independent even if paired.")
@click.option("--force", is_flag=True, help="Write into a non-empty folder (deletes nothing).")
@click.option("--no-plots", is_flag=True, help="Do not draw plots.")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@handles_errors
def compare(
    folders: tuple[str, ...],
    out: str | None,
    labels: str | None,
    unpaired: bool,
    force: bool,
    no_plots: bool,
    as_json: bool,
) -> None:
    """Compare batches with the first (the baseline): endings, branches, payoffs.

    For every ending and branch outcome: its probability in each batch, the difference
    from the baseline with a 95% interval and a p-value; the same for each actor's mean
    payoff. Batches with the same seed and runs count are compared run by run (common
    random numbers: narrower intervals) unless --unpaired. Significance is marked at 5%
    after Holm's adjustment. Lists what differs between the batches' scenarios and --set
    values. Writes compare.json, compare.md and PNG charts into --out.
    """
    from sim.analysis.comparefolder import write_comparison
    from sim.analysis.comparetext import format_comparison
    from sim.analysis.comparison import compare as compare_batches
    from sim.errors import OptionsError

    if out is None and len(folders) >= 2:
        raise OptionsError("compare needs --out DIR (where the tables and plots go)")
    names = labels.split(",") if labels is not None else None
    comparison = compare_batches(list(folders), names, paired=False if unpaired else None)
    assert out is not None  # compare_batches refused fewer than two folders
    written = write_comparison(comparison, out, force=force, plots=not no_plots)
    if as_json:
        click.echo(json.dumps(comparison.to_dict(), indent=2))
    else:
        width = _text_width()
        click.echo(format_comparison(comparison, width=width))
        files = f"wrote {', '.join(p.name for p in written)} in {out}"
        click.echo("\n" + "\n".join(textwrap.wrap(files, width, break_on_hyphens=False)))


@cli.command(
    epilog=(
        "\b\nExamples:\n"
        "  wargame sweep scenarios/alaska.yaml --design lhs -n 2000 --seed 1 "
        "--out results/a-lhs\n"
        "  wargame sweep scenarios/alaska.yaml --design sobol -n 512 --seed 1 "
        "--out results/a-sobol\n"
        "  wargame sweep scenarios/alaska.yaml --design sobol -n 256 --replicates 4 "
        "--params summit_base_odds,article4_applies,us_aid_cut --out results/a-sobol-3"
    )
)
@click.argument("scenario", type=click.Path())
@click.option(
    "--design",
    type=click.Choice(["lhs", "sobol", "grid"]),
    required=True,
    help="lhs: Latin hypercube; sobol: Saltelli design for Sobol indices; grid: full factorial.",
)
@click.option(
    "-n",
    "size",
    type=int,
    required=True,
    help="lhs: runs. sobol: base samples N, a power of 2; the sweep plays N*(2D+2) rows "
    "for D swept parameters, each --replicates times (N*(2D+2)*replicates runs). grid: "
    "levels per numeric parameter (categorical ones take each value); runs = product of "
    "the levels.",
)
@click.option(
    "--replicates",
    type=int,
    help="sobol only: times each row is played, with fresh game chance each time "
    "[default: 2]. The rows of a base sample share their chance; two or more replicates "
    "separate what the parameters explain from the game's own chance.",
)
@click.option("--seed", default=20250815, show_default=True, help="Seed of the design and runs.")
@click.option(
    "--params", help="Comma-separated parameters to sweep [default: every uncertain one]."
)
@batch_options(
    "sweep",
    "Fix a parameter (not swept) or initial value, or an actor's setting such as "
    "ACTOR.rationality (repeatable).",
)
@handles_errors
def sweep(
    scenario: str,
    design: str,
    size: int,
    seed: int,
    out: str | None,
    params: str | None,
    replicates: int | None,
    workers: int,
    chunk_size: int,
    settings: tuple[str, ...],
    force: bool,
    resume: bool,
    no_rounds: bool,
    no_plots: bool,
    group_by: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Play SCENARIO over an experimental design of its parameters.

    Instead of drawing every parameter independently per run, the swept parameters
    (--params, default all uncertain ones) follow a Latin hypercube, a Sobol (Saltelli)
    design or a full grid, each mapped through the parameter's own distribution; the
    others keep their random draw. The design is recorded in the manifest; `wargame
    explain` on a sobol sweep reports first-order, total and second-order Sobol indices
    and how much of each outcome's variance the parameters explain at all (the rest is
    the game's own chance). In a sobol sweep the rows of a base sample play with the
    same game chance (common random numbers), so an index measures the parameter, not
    the dice. Same seed, same results, whatever the workers or chunk size.
    """
    from sim.api import sweep as run_sweep
    from sim.batch.runner import default_out
    from sim.engine.loading import load

    if resume and (force or out is None):
        raise click.UsageError("--resume needs --out DIR (the interrupted sweep) and no --force")
    names = [p.strip() for p in params.split(",") if p.strip()] if params else None
    compiled = load(scenario)
    folder = Path(out) if out is not None else default_out(compiled)
    try:
        with progress_bar(not quiet and not as_json and sys.stderr.isatty()) as progress:
            results = run_sweep(
                compiled,
                design,
                size,
                seed=seed,
                out=folder,
                params=names,
                replicates=replicates,
                workers=workers,
                chunk_size=chunk_size,
                settings=_parse_settings(settings),
                keep_rounds=not no_rounds,
                plots=not no_plots,
                group_by=group_by,
                force=force,
                resume=resume,
                command_line=["wargame", *sys.argv[1:]],
                progress=progress,
            )
    except KeyboardInterrupt as exc:
        _stopped(exc, folder)
    described = results.manifest["design"]
    copies = described.get("replicates", 1)
    played = f", each row played {copies} times" if copies > 1 else ""
    from sim.analysis.wrapping import wrap_terms

    heading = "\n".join(
        wrap_terms(
            f"{described['kind']} design over {', '.join(described['params'])}: "
            f"{described['runs']:,} runs{played}",
            80,
            subsequent_indent="  ",
        )
    )
    print_results(results, as_json, quiet, heading)


@cli.command(
    epilog=(
        "\b\nExamples:\n"
        "  wargame explain results/alaska-7 --ending wider_war\n"
        "  wargame explain results/alaska-7 --ending wider_war --measure --measure-runs 1000\n"
        "  wargame explain results/alaska-7 --outcome 'metric.ru_manpower_gap_k[any] > 150'\n"
        "  wargame explain results/alaska-7 --ending dprk_escalation --rule-inputs both\n"
        "  wargame explain results/alaska-7 --ending dprk_escalation --alpha 0.1 "
        "--min-support 0.1 --box 5"
    )
)
@click.argument("folder", type=FolderPath())
@click.option("--ending", multiple=True, callback=_once, help="Explain only this ending.")
@click.option(
    "--branch", multiple=True, callback=_once, help="Explain only this branch's outcomes."
)
@click.option(
    "--outcome",
    multiple=True,
    callback=_once,
    metavar="CONDITION",
    help="Explain a condition on a run's recorded values instead, e.g. "
    "'metric.ru_manpower_gap_k > 150' (final value), 'metric.x[6] > 150' (end of round 6), "
    "'metric.x[any] > 150' (some round), 'payoff.US < 0 and branch.summit == \"collapse\"'.",
)
@click.option(
    "--measure",
    is_flag=True,
    help="Measure each parameter's effect: play it at the low and high end of its range "
    "on the same runs (the batch's seed) and give each outcome's change with a 95% "
    "interval; report parameters that change nothing. Also plays each actor that reasons "
    "(level-k, beliefs, equilibrium) as a myopic actor and gives what its reasoning changes.",
)
@click.option(
    "--measure-runs",
    type=int,
    help="Paired runs per measured setting [default: 2000, at most the batch's runs].",
)
@click.option("--workers", default=1, show_default=True, help="Worker processes for --measure.")
@click.option("--no-decisions", is_flag=True, help="Rank parameters only, not the actors' moves.")
@click.option(
    "--rule-inputs",
    type=click.Choice(["parameters", "decisions", "both"]),
    default="parameters",
    show_default=True,
    help="What PRIM's rule may restrict: parameters, the actors' moves, or both.",
)
@click.option(
    "--alpha",
    type=float,
    default=0.05,
    show_default=True,
    help="PRIM's peel: share of the box's runs cut away per step.",
)
@click.option(
    "--min-support",
    type=float,
    default=0.05,
    show_default=True,
    help="PRIM stops peeling before the box would hold less than this share of the "
    "runs (or when no peel raises its density).",
)
@click.option(
    "--box",
    "select",
    type=int,
    help="Take this box of the peeling trajectory (see prim_<outcome>.png) instead of the "
    "one with the highest support × (density − base rate); its limits are still tested "
    "(quasi-p). Needs one outcome.",
)
@click.option(
    "--resamples",
    default=10,
    show_default=True,
    help="Random halves of the runs behind each rule's stability (0: none).",
)
@click.option(
    "--out",
    type=FolderPath(),
    help="Folder for explain.json and the charts [default: DIR/explain].",
)
@click.option(
    "--force", is_flag=True, help="Write into a --out folder holding other files (deletes nothing)."
)
@click.option("--no-plots", is_flag=True, help="Do not draw the charts.")
@click.option("--top", default=5, show_default=True, help="Drivers listed per outcome.")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@handles_errors
def explain(
    folder: str,
    ending: str | None,
    branch: str | None,
    outcome: str | None,
    measure: bool,
    measure_runs: int | None,
    workers: int,
    no_decisions: bool,
    rule_inputs: str,
    alpha: float,
    min_support: float,
    select: int | None,
    resamples: int,
    out: str | None,
    force: bool,
    no_plots: bool,
    top: int,
    as_json: bool,
) -> None:
    """Show what drives each ending and branch outcome of a batch (or a condition).

    Inputs are the uncertain parameters and, where the batch recorded them, each
    actor's move in each round. Each is tested for a link with the outcome
    (permutation test, Holm's adjustment at 5% per outcome); only those that pass are
    listed as drivers, with their effect in percentage points (high end against low
    end; a move made against not made) and a 95% interval. --measure measures each
    parameter's effect directly on paired runs (common random numbers) and names the
    parameters that change nothing. Also: a tornado chart (tornado_<outcome>.png); a
    PRIM rule: the box of the peeling trajectory with the highest support × (density −
    base rate), each limit kept only if its quasi-p-value is at most 0.05, with its
    stability; a second rule for what the first leaves; and the peeling trajectory
    (prim_<outcome>.png). On a
    sobol sweep: how much of each outcome's variance the parameters explain, and
    first-order, total and second-order Sobol indices with 95% intervals.
    """
    if ending is None and outcome is None and not measure:
        # Several outcomes: their helper processes' forkserver imports PRIM and the
        # charts on the second core while this process imports the analysis.
        from sim.analysis.explainpool import start_early

        start_early(plots=not no_plots)
    from sim.analysis.explaintext import format_explanation
    from sim.analysis.explanation import explain as run_explain

    if measure_runs is not None and not measure:
        raise click.UsageError("--measure-runs goes with --measure")
    if workers < 1:
        raise click.UsageError("--workers must be at least 1")
    # --measure plays a batch per parameter end: minutes on a large scenario.
    showing = measure and not as_json and sys.stderr.isatty()
    with progress_bar(showing, label="measuring (paired runs)") as progress:
        found = run_explain(
            folder,
            ending=ending,
            branch=branch,
            outcome=outcome,
            out=out,
            plots=not no_plots,
            measure=measure,
            measure_runs=measure_runs,
            workers=workers,
            decisions=not no_decisions,
            rule_inputs=rule_inputs,
            alpha=alpha,
            min_support=min_support,
            select=select,
            resamples=resamples,
            force=force,
            progress=progress,
        )
    if as_json:
        click.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    click.echo(format_explanation(found, top=top, width=_text_width()))
    where = Path(out) if out else Path(folder) / "explain"
    drawn = not no_plots and any("tornado" in t or "trajectory" in t for t in found["targets"])
    click.echo(f"\nexplain.json{' and charts' if drawn else ''} in {where}")


@cli.command(epilog="Example:  wargame report results/alaska-7 --out alaska-7.html")
@click.argument("folder", type=FolderPath())
@click.option(
    "--out", type=click.Path(dir_okay=False), help="The HTML file [default: DIR/report.html]."
)
@click.option("--force", is_flag=True, help="Replace a --out file that is not an earlier report.")
@handles_errors
def report(folder: str, out: str | None, force: bool) -> None:
    """Write one self-contained HTML report of a batch, readable offline and printable.

    It holds the scenario's description and sources, the assumptions (each parameter's
    distribution, unit, source and confidence), the branch and ending probabilities
    with 95% intervals, the charts and the explain results, with every image embedded.
    """
    from sim.analysis.reports import report as write_report

    path = write_report(folder, out, force=force)
    click.echo(f"report written to {path} ({path.stat().st_size / 1024:,.0f} KB)")


@cli.command(
    epilog=(
        "\b\nExamples:\n"
        "  wargame doc scenarios/alaska.yaml --out alaska.md\n"
        "  wargame doc scenarios --out docs/scenarios"
    )
)
@click.argument("scenario", type=click.Path())
@click.option(
    "--out",
    type=click.Path(),
    help="The page to write (a folder: one <id>.md per scenario) [default: print it].",
)
@click.option("--force", is_flag=True, help="Replace a file that `wargame doc` did not write.")
@handles_errors
def doc(scenario: str, out: str | None, force: bool) -> None:
    """Write a Markdown page describing SCENARIO (a file, or a folder of them).

    The page lists the actors (reasoning, foresight, rationality, the payoff rule in
    words and as written, each option with its cost and effects), the parameters with
    their distribution, unit, source and confidence, the state, injects, branches with
    their probability formulas, commitments, endings (with stopping and one-off
    payoffs), metrics and sources. Nothing is played. A page written earlier by
    `wargame doc` is replaced; any other file needs --force. For a folder, --out names
    the folder that gets one <id>.md per scenario file (subfolders included).
    """
    from sim.analysis.scenariodoc import scenario_files, scenario_page, write_page
    from sim.engine.loading import load
    from sim.errors import OptionsError

    given = Path(scenario)
    if given.is_dir():
        if out is None:
            raise OptionsError("a folder of scenarios needs --out DIR (one page per scenario)")
        files = scenario_files(given)
        if not files:
            raise OptionsError(f"no .yaml scenario files in {scenario}")
        pages: dict[str, tuple[Path, str]] = {}
        for path in files:
            compiled = load(path)
            if compiled.id in pages:
                other = pages[compiled.id][0]
                raise OptionsError(f"{path} and {other} share the scenario id '{compiled.id}'")
            page = scenario_page(compiled, path.as_posix(), str(Path(out) / f"{compiled.id}.md"))
            pages[compiled.id] = (path, page)
        for ident, (_path, text) in pages.items():
            written = write_page(text, Path(out) / f"{ident}.md", force=force)
            click.echo(f"wrote {written}")
        return
    compiled = load(scenario)
    if out is None:
        click.echo(scenario_page(compiled, given.as_posix()), nl=False)
        return
    target = Path(out) / f"{compiled.id}.md" if Path(out).is_dir() else Path(out)
    text = scenario_page(compiled, given.as_posix(), target.as_posix())
    click.echo(f"wrote {write_page(text, target, force=force)}")


@cli.command(
    "new",
    epilog=(
        "\b\nExample:\n"
        "  wargame new border-crisis --out scenarios\n"
        "  (then: wargame validate scenarios/border-crisis.yaml)"
    ),
)
@click.argument("name")
@click.option(
    "--out",
    type=FolderPath(),
    default=".",
    show_default=True,
    help="Folder for NAME.yaml.",
)
@click.option("--force", is_flag=True, help="Replace an existing NAME.yaml.")
@handles_errors
def new(name: str, out: str, force: bool) -> None:
    """Write NAME.yaml, a commented starter scenario to edit into your own.

    Two actors who reason about each other and foresee a branch, talks whose odds
    their moves change, an ending that stops a run with one-off payoffs, a fallback,
    metrics, parameters with a source and a confidence. It validates with no warning
    and runs as it is; the comments say what each part is for (the whole format is in
    docs/scenario-format.md). NAME gives the file name and the scenario id.
    """
    from sim.batch.outputs import check_parents, results_folder_holding
    from sim.errors import ResultsError
    from sim.language.starter import write_starter

    check_parents(Path(out) / "x")
    holder = results_folder_holding(Path(out))
    if holder is not None:
        raise ResultsError(
            f"--out {out}: is inside the results folder {holder}, which holds only what its "
            "batch wrote; choose another folder"
        )
    path = write_starter(name, out, force=force)
    click.echo(f"wrote {path}; next: wargame validate {path}, then wargame run {path}")


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


#: Whether the CLI runs as its own process (the ``wargame`` script), not inside a
#: caller such as a test runner: only then may an interrupted batch leave with
#: ``os._exit`` (see :func:`_stopped`).
_OWN_PROCESS = False


def main() -> None:
    """Entry point of the ``wargame`` script."""
    global _OWN_PROCESS
    _OWN_PROCESS = True
    # numpy's BLAS starts a thread per core at import, and they spin: 0.08 s of CPU
    # in every process that imports numpy (this one, the forkserver, a Dask worker),
    # on cores the batch and its charts need. The engine works elementwise and
    # parallelises by processes; a user's own setting wins.
    for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    # An interrupted batch leaves with os._exit, before its process pool's semaphores
    # are released; multiprocessing's resource tracker then removes them and warns
    # "There appear to be 5 leaked semaphore objects", which a user can do nothing
    # about. The tracker takes this process's -W options: ignore that one warning.
    sys.warnoptions.append("ignore:resource_tracker:UserWarning")
    cli(prog_name="wargame")


if __name__ == "__main__":
    main()

"""Bad input is reported in lines a scenario author can act on, never as a traceback.

Every file in ``tests/broken/`` is a small valid scenario with one thing broken; its
first line says what ``wargame validate`` must report, e.g.
``# expect: 76:11 unknown name 'tensoin'`` (line:col in the file, then a fragment of
the message). ``empty_file.yaml`` and ``binary_garbage.yaml`` cannot carry a comment,
so their expectations live in :data:`NO_COMMENT` below.

The contract: exit code 2; on stderr one ``FILE:LINE:COL: message`` line per problem
(dead-lever warnings, ``FILE:LINE:COL: warning: ...``, may come too) and nothing else;
``wargame run`` on a broken file exits 2 the same way and leaves no results behind.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import cli

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
BROKEN = TESTS / "broken"
TINY = TESTS / "scenarios" / "tiny.yaml"
DEAD_LEVERS = TESTS / "scenarios" / "dead_levers.yaml"
BROKEN_FILES = sorted(BROKEN.glob("*.yaml"))

#: Files that cannot hold an ``# expect:`` comment: name -> (line, col, fragment).
NO_COMMENT = {
    "empty_file": (1, 1, "the file is empty"),
    "binary_garbage": (3, 7, "not UTF-8 text"),
}
EXPECT = re.compile(r"^# expect: (\d+):(\d+) (.+)$")

#: Broken files also checked through a real ``wargame`` process, not just CliRunner.
SUBPROCESS_FILES = [
    "binary_garbage",
    "yaml_unclosed_quote",
    "recursive_alias",
    "import_call",
    "division_by_zero_runtime",
    "control_character",
    "yaml_timestamp_tag",
    "huge_integer_expression",
]

#: Broken only while playing: ``run`` writes its manifest before the first game fails.
RUNTIME_ONLY = {"division_by_zero_runtime", "bernoulli_computed_out_of_range"}


def expectation(path: Path) -> tuple[int, int, str]:
    """The line, column and message fragment a broken file must be reported with."""
    if path.stem in NO_COMMENT:
        return NO_COMMENT[path.stem]
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    match = EXPECT.match(first)
    assert match, f"{path.name}: the first line must be '# expect: LINE:COL message'"
    return int(match[1]), int(match[2]), match[3]


def invoke(*args: str | Path) -> Result:
    """Run the CLI in-process; stdout and stderr are kept apart (click >= 8.2)."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True)


def wargame_command() -> list[str]:
    """How to start the real ``wargame`` script in a subprocess."""
    beside_python = str(Path(sys.executable).parent)
    found = shutil.which("wargame") or shutil.which("wargame", path=beside_python)
    if found:
        return [found]
    return [sys.executable, "-c", "from cli import main; main()"]


def assert_problem_lines(name: str, stdout: str, stderr: str) -> list[str]:
    """No traceback anywhere; every stderr line is ``NAME:LINE:COL: message``."""
    assert "Traceback" not in stdout + stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "no problem reported on stderr"
    located = re.compile(rf"^{re.escape(name)}:\d+:\d+: .+")
    for line in lines:
        assert located.match(line), f"not a FILE:LINE:COL: message line: {line!r}"
    return lines


def assert_expected(path: Path, lines: list[str]) -> None:
    line, col, fragment = expectation(path)
    prefix = f"{path}:{line}:{col}: "
    hits = [x for x in lines if x.startswith(prefix) and fragment in x]
    assert hits, f"expected {prefix}...{fragment}... among:\n" + "\n".join(lines)


def test_there_are_enough_broken_files() -> None:
    assert len(BROKEN_FILES) >= 30
    for name in NO_COMMENT:
        assert BROKEN / f"{name}.yaml" in BROKEN_FILES


@pytest.mark.parametrize("path", BROKEN_FILES, ids=lambda p: p.stem)
def test_validate_reports_the_problem(path: Path) -> None:
    result = invoke("validate", path)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    lines = assert_problem_lines(str(path), result.stdout, result.stderr)
    assert_expected(path, lines)
    assert result.stdout == ""


@pytest.mark.parametrize("name", SUBPROCESS_FILES)
def test_validate_in_a_real_process(name: str) -> None:
    path = BROKEN / f"{name}.yaml"
    done = subprocess.run(
        [*wargame_command(), "validate", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    lines = assert_problem_lines(str(path), done.stdout, done.stderr)
    assert_expected(path, lines)


def _run_params() -> list[object]:
    out: list[object] = []
    for path in BROKEN_FILES:
        out.append(pytest.param(path, id=path.stem))
    return out


@pytest.mark.parametrize("path", _run_params())
def test_run_refuses_and_writes_nothing(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke(
        "run", path, "-n", "50", "--out", out, "--executor", "inprocess", "--no-plots", "-q"
    )
    assert result.exit_code == 2, result.output
    lines = assert_problem_lines(str(path), result.stdout, result.stderr)
    if path.stem not in RUNTIME_ONLY:
        assert_expected(path, lines)
    assert not out.exists() or not any(out.iterdir()), sorted(p.name for p in out.iterdir())


def test_run_in_a_real_process_refuses(tmp_path: Path) -> None:
    path = BROKEN / "unknown_name_in_when.yaml"
    out = tmp_path / "out"
    done = subprocess.run(
        [*wargame_command(), "run", str(path), "-n", "10", "--out", str(out), "--no-plots"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert_expected(path, assert_problem_lines(str(path), done.stdout, done.stderr))
    assert not out.exists()


# --- a good file, and dead levers ---------------------------------------------------


def test_tiny_is_valid() -> None:
    result = invoke("validate", TINY)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().startswith(f"{TINY}: ok: scenario 'tiny'")
    assert len(result.stdout.strip().splitlines()) == 1
    assert result.stderr.strip() == ""


def test_dead_levers_are_warnings_not_errors() -> None:
    result = invoke("validate", DEAD_LEVERS)
    assert result.exit_code == 0, result.output
    assert "ok: scenario 'dead_levers'" in result.stdout
    lines = assert_problem_lines(str(DEAD_LEVERS), result.stdout, result.stderr)
    assert all(": warning: " in line for line in lines), lines
    expected = {
        (17, 3): "parameter 'unused_budget' is never read",
        (40, 15): "no run lets Blue take 'strike'",
        (63, 11): "ending 'miracle' cannot be reached",
        (58, 14): "commitment 'treaty' has a trigger that reads nothing that changes",
        # tension starts at 2 and rises at most 1.5 a round in 3 rounds: never 8.
        (65, 11): "ending 'war' ended none of the 200 trial runs",
    }
    for (line, col), fragment in expected.items():
        prefix = f"{DEAD_LEVERS}:{line}:{col}: warning: "
        assert any(x.startswith(prefix) and fragment in x for x in lines), (fragment, lines)
    assert len(lines) == len(expected), lines
    # In the file's order, the load's warnings and the trial's (40 and 65) together.
    where = [tuple(int(n) for n in x.split(":")[1:3]) for x in lines]
    assert where == sorted(expected), lines


# --- command-line mistakes ------------------------------------------------------------


def _one_error_line(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    line = _one_error_line(invoke("validate", missing))
    # No line or column to give: not the '0:0' an author's trial puzzled over.
    assert line == f"{missing}: cannot read file: No such file or directory", line


def test_missing_file_run(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    line = _one_error_line(invoke("run", missing, "--out", tmp_path / "out"))
    assert "cannot read file" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-n", "0"], "--runs"),
        (["-n", "-5"], "--runs"),
        (["--chunk-size", "0"], "--chunk-size"),
        (["--set", "hawkishnes=0.5"], "did you mean 'hawkishness'"),
        (["--set", "hawkishness=abc"], "not a number"),
        (["--set", "hawkishness=nan"], "finite"),
        (["--set", "summit=maybe"], "must be one of"),
    ],
    ids=["zero-runs", "negative-runs", "chunk-size-0", "set-typo", "set-abc", "set-nan", "set-cat"],
)
def test_bad_run_options(args: list[str], fragment: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    line = _one_error_line(invoke("run", TINY, *args, "--out", out, "--no-plots", "-q"))
    assert fragment in line
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_a_usage_error_of_any_command_is_one_line(command: str) -> None:
    # A user's trial: `wargame run` with no scenario, or an unknown option, printed
    # click's three lines (the usage, "Try ... for help", the error).
    hint = f"(wargame {command} --help for usage)"
    line = _one_error_line(invoke(command, "--bogus"))
    assert line.startswith("Error: No such option '--bogus'") and line.endswith(hint), line
    required = [p for p in cli.commands[command].params if p.required]
    if required:  # every command but `new` has something it cannot do without
        line = _one_error_line(invoke(command))
        assert line.startswith("Error: Missing ") and line.endswith(hint), line


def test_an_unknown_option_names_the_close_one_and_no_far_one() -> None:
    # click offered "Did you mean one of: '--out', '--runs'?" for --bogus.
    line = _one_error_line(invoke("run", TINY, "--bogus"))
    assert line == "Error: No such option '--bogus'. (wargame run --help for usage)"
    line = _one_error_line(invoke("run", TINY, "--seeds", "3"))
    assert line == (
        "Error: No such option '--seeds'. Did you mean '--seed'? (wargame run --help for usage)"
    )
    line = _one_error_line(invoke("run", TINY, "--run", "3"))
    assert "Did you mean '--runs'?" in line


def test_usage_errors_of_the_group_and_of_the_parser_are_one_line(tmp_path: Path) -> None:
    line = _one_error_line(invoke("valdate", TINY))
    assert (
        line
        == "Error: No such command 'valdate'. Did you mean 'validate'? (wargame --help for usage)"
    )
    assert _one_error_line(invoke("--bogus")).endswith("(wargame --help for usage)")
    # The parser tells this one without its command: it is still run's.
    line = _one_error_line(invoke("run", TINY, "--out"))
    assert line == "Error: Option '--out' requires an argument. (wargame run --help for usage)"
    line = _one_error_line(invoke("run", TINY, "--resume"))
    assert line == (
        "Error: --resume needs --out DIR (the interrupted batch). (wargame run --help for usage)"
    )
    # `wargame` alone still shows the help.
    assert "Commands:" in invoke().output
    done = subprocess.run(
        [*wargame_command(), "run"], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "Error: Missing argument 'SCENARIO'. (wargame run --help for usage)\n"


def test_set_far_from_any_name_has_no_suggestion(tmp_path: Path) -> None:
    line = _one_error_line(invoke("run", TINY, "--set", "zzz=1", "--out", tmp_path / "o"))
    assert "no parameter or state variable 'zzz'" in line
    assert "did you mean" not in line


@pytest.fixture(scope="module")
def results_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("batch") / "tiny"
    result = invoke(
        "run", TINY, "-n", "20", "--seed", "3", "--out", folder, "--executor", "inprocess",
        "--no-plots", "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return folder


def test_replay_of_a_folder_that_is_not_results(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    line = _one_error_line(invoke("replay", tmp_path, "--run", "0"))
    assert "not a results folder" in line


def test_replay_of_a_missing_folder(tmp_path: Path) -> None:
    line = _one_error_line(invoke("replay", tmp_path / "nothing", "--run", "0"))
    assert "not a results folder" in line


@pytest.mark.parametrize("run", ["99999", "20", "-1"])
def test_replay_run_outside_the_batch(results_folder: Path, run: str) -> None:
    line = _one_error_line(invoke("replay", results_folder, "--run", run))
    assert "the batch has runs 0 to 19" in line


def test_force_never_overwrites_a_folder_that_is_not_results(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    notes = folder / "notes.txt"
    notes.write_text("precious\n")
    for extra in ([], ["--force"]):
        line = _one_error_line(
            invoke("run", TINY, "-n", "10", "--out", folder, "--no-plots", "-q", *extra)
        )
        assert str(folder) in line
    assert notes.read_text() == "precious\n"
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_results_folder_is_replaced_only_with_force(tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    common = ["-n", "10", "--out", folder, "--executor", "inprocess", "--no-plots", "-q"]
    assert invoke("run", TINY, "--seed", "1", *common).exit_code == 0
    manifest = folder / "manifest.json"
    before = manifest.read_bytes()
    line = _one_error_line(invoke("run", TINY, "--seed", "2", *common))
    assert "--force" in line
    assert manifest.read_bytes() == before
    result = invoke("run", TINY, "--seed", "2", *common, "--force")
    assert result.exit_code == 0, result.output
    assert json.loads(manifest.read_text())["seed"] == 2


def test_results_folder_with_a_stranger_is_not_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    common = ["-n", "10", "--out", folder, "--executor", "inprocess", "--no-plots", "-q"]
    assert invoke("run", TINY, *common).exit_code == 0
    (folder / "my_analysis.ipynb").write_text("{}")
    line = _one_error_line(invoke("run", TINY, *common, "--force"))
    assert "my_analysis.ipynb" in line
    assert (folder / "my_analysis.ipynb").read_text() == "{}"
    assert (folder / "manifest.json").exists()


def test_a_file_where_a_folder_goes_is_named_as_such(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    for args in (
        ["run", TINY, "-n", "10", "--out", notes],
        ["explain", notes],
        ["compare", notes, notes, "--out", tmp_path / "cmp"],
    ):
        result = invoke(*args)
        assert result.exit_code == 2, args
        assert f"{notes} is a file, not a folder" in result.stderr, result.stderr
        assert "Directory" not in result.stderr
    assert notes.read_text() == "mine"


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Asean", "ASEAN"),
        ("asean", "ASEAN"),
        ("ease", "ease_sanctions"),
        ("ease_sanction", "ease_sanctions"),
    ],
)
def test_a_name_is_suggested_across_case_and_from_its_start(typed: str, meant: str) -> None:
    from sim.language.schema import suggest

    choices = ["ASEAN", "US", "ease_sanctions", "escalate", "hold"]
    assert suggest(typed, choices) == f" (did you mean '{meant}'?)"


def test_no_suggestion_from_a_start_that_two_names_share_or_too_short() -> None:
    from sim.language.schema import suggest

    assert suggest("es", ["ease_sanctions", "escalate"]) == ""
    assert suggest("ea", ["ease_sanctions"]) == ""  # two letters: not a start to go on
    assert suggest("e", ["escalate", "ease"]) == ""


def test_an_unknown_actor_differing_only_in_case_is_named(tmp_path) -> None:
    from tests.conftest import HEADER

    path = tmp_path / "case.yaml"
    path.write_text(
        HEADER.format(rounds=1)
        + "actors:\n  ASEAN:\n    name: ASEAN\n    actions: {hold: {}}\n"
        + "state:\n  x: {initial: 0}\nendings:\n  - id: end\n    payoffs: {Asean: 1}\n"
    )
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert "unknown actor 'Asean' (did you mean 'ASEAN'?)" in result.output


def test_a_short_name_one_slip_away_is_named_and_an_unrelated_one_is_not(tmp_path) -> None:
    # An author's trial: `decided_by: Fl` (a lower-case L) for the actor FI got no
    # suggestion: two letters are too few for a spelling ratio.
    from sim.language.schema import suggest
    from tests.conftest import HEADER

    text = (
        HEADER.format(rounds=1)
        + "actors:\n  FI:\n    name: Finland\n    actions: {hold: {}}\n"
        + "  RU:\n    name: Russia\n    actions: {hold: {}}\n"
        + "state:\n  deal: {values: [open, signed, refused], initial: open}\n"
        + "branches:\n  - id: offer\n    round: 1\n    decided_by: Fl\n    variable: deal\n"
        + "    outcomes:\n      signed: {}\n      refused: {}\n"
        + "endings:\n  - id: end\n"
    )
    path = tmp_path / "slip.yaml"
    path.write_text(text)
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert "unknown actor 'Fl' (did you mean 'FI'?)" in result.output
    path.write_text(text.replace("decided_by: Fl", "decided_by: XY"))
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert "unknown actor 'XY'" in result.output and "did you mean" not in result.output
    actors = ["US", "RU", "DPRK", "UA", "EU", "JP", "ROK"]
    assert suggest("ru", actors) == " (did you mean 'RU'?)"
    assert suggest("JO", actors) == " (did you mean 'JP'?)"  # one letter changed
    assert suggest("UK", actors) == ""  # one edit from both US and UA: no guess
    assert suggest("Q", ["A", "B"]) == ""  # one letter: one edit from any other
    assert suggest("XYZ", actors) == "" and suggest("ZZ", actors) == ""


@pytest.mark.parametrize("command", ["validate", "run", "sweep", "step"])
def test_a_folder_given_as_the_scenario_is_one_line(command: str, tmp_path: Path) -> None:
    # An author's trial: `wargame validate FOLDER` gave click's three-line usage error.
    extra = ["--design", "lhs", "-n", "4"] if command == "sweep" else []
    line = _one_error_line(invoke(command, tmp_path, *extra))
    assert line == f"{tmp_path}: is a folder: give a scenario file (.yaml)"


def _chicken_with(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = (ROOT / "scenarios" / "textbook" / "chicken.yaml").read_text("utf-8")
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "chicken.yaml"
    path.write_text(text, "utf-8")
    return path


def _problems(path: Path) -> list[str]:
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    return [line for line in result.stderr.splitlines() if ": warning:" not in line]


def test_a_misspelt_key_and_a_wrong_name_are_reported_in_one_pass(tmp_path):
    # An author's trial: validate listed the unknown keys first and the names and
    # expressions only once those were fixed, so a scenario took two passes.
    path = _chicken_with(
        tmp_path,
        ("        description: Swerve.", "        descripton: Swerve."),
        ("rationality: lam\n", "rationality: lamb\n"),
        ("\"+= chose('B', 'straight')\"", "\"+= chose('B', 'stright')\""),
    )
    problems = _problems(path)
    assert len(problems) == 3, problems
    assert "unknown name 'lamb' (did you mean 'lam'?)" in problems[0]
    assert "actors.A.actions.swerve: unknown key 'descripton'" in problems[1]
    assert "actor 'B' has no action 'stright'" in problems[2]
    # In the file's order, each at its own line.
    lines = [int(p.split(":")[1]) for p in problems]
    assert lines == sorted(lines) and len(set(lines)) == 3


def test_a_misspelt_section_is_not_followed_by_the_names_it_would_have_defined(tmp_path):
    # Dropping "paramters:" would leave 'lam' unknown wherever it is read: errors the
    # misspelling alone explains. Only the misspelling is reported.
    path = _chicken_with(tmp_path, ("\nparameters:\n", "\nparamters:\n"))
    problems = _problems(path)
    assert len(problems) == 1, problems
    assert "unknown key 'paramters' (did you mean 'parameters'?)" in problems[0]


def test_a_misspelt_key_alone_is_reported_alone(tmp_path):
    path = _chicken_with(tmp_path, ("        description: Swerve.", "        descripton: Swerve."))
    problems = _problems(path)
    assert len(problems) == 1 and "unknown key 'descripton'" in problems[0], problems


@pytest.mark.parametrize(
    ("success", "collapse", "total", "shares"),
    [
        ("0.3", "0.2", "0.5", "success 60%, collapse 40%"),
        ("0.7", "0.6", "1.3", "success 53.8%, collapse 46.2%"),
        # Shares that add up (an author's 0.3 + 0.5 read "37%, 62%").
        ("0.3", "0.5", "0.8", "success 37.5%, collapse 62.5%"),
    ],
)
def test_outcomes_that_are_numbers_not_adding_up_to_1_are_warned_about_at_once(
    tmp_path, success, collapse, total, shares
):
    # An author's trial: 0.3 and 0.2 passed with no message and were drawn as 60/40;
    # 0.7 and 0.6 were only seen if the branch came up in the trial.
    import numpy as np

    from sim.engine.loading import load
    from sim.engine.model import play

    text = TINY.read_text("utf-8")
    computed = (
        "clip(0.7 - 0.08 * tension - 0.3 * aid_cut + 0.1 * times('Blue', 'talk'), 0.05, 0.95)"
    )
    assert computed in text and "        probability: rest\n" in text
    text = text.replace(computed, success, 1).replace(
        "        probability: rest\n", f"        probability: {collapse}\n", 1
    )
    path = tmp_path / "sums.yaml"
    path.write_text(text, "utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    share = float(success) / (float(success) + float(collapse))
    lines = [line for line in result.stderr.splitlines() if "outcome probabilities" in line]
    assert len(lines) == 1, result.stderr  # not also the trial's "more than 1"
    expected = (
        rf"^{re.escape(str(path))}:\d+:\d+: warning: the outcome probabilities of summit add "
        rf"up to {total}, not 1, so they are drawn in proportion \({shares}\)"
    )
    assert re.match(expected, lines[0]), lines[0]
    # And that is how they are drawn: 4,000 runs, within 4 standard errors.
    compiled = load(path)
    model = play(compiled, 1, np.arange(4000), {}, keep_trajectories=False)
    outcome = np.asarray(model.branch_outcome[0])
    reached = outcome >= 0
    drawn = float((outcome[reached] == 0).mean())
    se = np.sqrt(share * (1 - share) / reached.sum())
    assert abs(drawn - share) < 4 * se, (drawn, share)


def test_a_bound_message_shows_a_large_whole_number_as_written(tmp_path):
    # An author's trial: "must be at most 520, not 1e+08".
    text = TINY.read_text("utf-8")
    assert "  rounds: 4\n" in text
    path = tmp_path / "long.yaml"
    path.write_text(text.replace("  rounds: 4\n", "  rounds: 100000000\n", 1), "utf-8")
    problems = _problems(path)
    assert len(problems) == 1 and problems[0].endswith(
        "scenario.rounds: must be at most 520, not 100,000,000"
    ), problems


def test_an_actor_referred_to_by_its_name_is_pointed_to_its_id(tmp_path) -> None:
    # An author's trial: `decided_by: Norway` for the actor NO named Norway got only
    # "unknown actor 'Norway'"; a name with a space got pydantic's "String should match
    # pattern '^[A-Za-z_]...'".
    text = TINY.read_text("utf-8")
    edits = [
        ("chose('Red', 'mobilise') * chose('Blue', 'talk')",
         "chose('Red Federation', 'mobilise') * chose('Blue', 'talk')"),
    ]  # fmt: skip
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "names.yaml"
    path.write_text(text, "utf-8")
    problems = _problems(path)
    assert len(problems) == 1 and problems[0].endswith(
        "unknown actor 'Red Federation': that is the name of actor 'Red'; actors are "
        "referred to by their id ('Red')"
    ), problems
    assert "    actor: Ally\n" in text
    path.write_text(text.replace("    actor: Ally\n", "    actor: Treaty Ally\n", 1), "utf-8")
    problems = _problems(path)
    assert len(problems) == 1 and problems[0].endswith(
        "commitments.treaty.actor: 'Treaty Ally' is not an id: ids are letters, digits and "
        "underscores, starting with a letter: that is the name of actor 'Ally'; actors are "
        "referred to by their id ('Ally')"
    ), problems
    # A key that is not an id is reported at the key itself (a trial: the line below it,
    # or the number beside it), with an id to write instead.
    for old, new, example in [
        ("      talk:", "      offer talk:", "(e.g. 'offer_talk')"),
        ("    payoffs: {Blue: -10,", "    payoffs: {Blue Republic: -10,", "name of actor 'Blue'"),
    ]:
        base = TINY.read_text("utf-8")  # without the chose('Red Federation') above
        assert old in base
        broken = base.replace(old, new, 1)
        path.write_text(broken, "utf-8")
        problems = _problems(path)
        line = broken.splitlines().index(next(s for s in broken.splitlines() if new in s)) + 1
        col = broken.splitlines()[line - 1].index(new.strip().split(":")[-2].split("{")[-1]) + 1
        assert len(problems) == 1 and problems[0].startswith(f"{path}:{line}:{col}:"), problems
        assert example in problems[0], problems


def test_an_action_id_read_as_a_value_also_names_a_variable_it_is_close_to(tmp_path):
    # A trial: `when: nuclear_test >= 1`, a typo for the variable nuclear_tests, said
    # only that nuclear_test is an action of DPRK.
    text = TINY.read_text("utf-8")
    for old, new in [
        ("  troops_k:", "  talks:"),
        ("    when: tension >= 8", "    when: talk >= 8"),
    ]:
        assert old in text
        text = text.replace(old, new, 1)
    text = text.replace("troops_k", "talks")
    path = tmp_path / "close.yaml"
    path.write_text(text, "utf-8")
    problems = _problems(path)
    assert len(problems) == 1, problems
    assert problems[0].endswith(
        "'talk' is an action of Blue, not a value: read it with chose('Blue', 'talk'), "
        "times('Blue', 'talk') or last('Blue', 'talk'); or did you mean 'talks'?"
    ), problems


def test_a_payoff_key_that_is_not_an_id_is_reported_with_the_wrong_names_in_one_pass(tmp_path):
    # A trial: `payoffs: {South Korea: 1, Japan: 2}` reported South Korea (not an id) in
    # one pass and Japan (no such actor) only in the next.
    text = TINY.read_text("utf-8")
    old = "payoffs: {Blue: -10, Red: -5}"
    assert old in text
    path = tmp_path / "payoffs.yaml"
    path.write_text(text.replace(old, "payoffs: {Blue Republic: -10, Redd: -5}", 1), "utf-8")
    problems = _problems(path)
    assert len(problems) == 2, problems
    assert "'Blue Republic' is not an id" in problems[0]
    assert "unknown actor 'Redd' (did you mean 'Red'?)" in problems[1]

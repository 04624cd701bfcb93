"""A damaged results folder is one line and exit code 2 through every command that reads
one; never a traceback, never an analysis of wrong data, never a file written.

Each tampering of the issue (a key of the manifest removed or of the wrong type, the
manifest a list, a seed or ``--set`` value edited, flipped bytes in runs.parquet, a
runs.parquet from another seed, scenario.yaml edited or deleted, ...) is applied to a
copy of a real batch and the folder is handed to each reading command: replay, replay
--json, replay --step, compare, explain, report and a seminar resumed from a game
forked off the batch. ``summary.json`` is the exception: it is derived data, so when it
is missing or not the file the batch wrote the summary is recomputed and the user told.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from sim.batch.results import Results
from tests.conftest import TINY
from tests.test_bad_input import invoke

RUNS = 40


def _batch(folder: Path, seed: int) -> Path:
    result = invoke(
        "run", TINY, "-n", RUNS, "--seed", seed, "--out", folder, "--executor", "inprocess",
        "--chunk-size", 16, "--no-plots", "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _batch(tmp_path_factory.mktemp("batch") / "good", seed=5)


@pytest.fixture(scope="module")
def other_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _batch(tmp_path_factory.mktemp("other") / "seed6", seed=6)


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def _write_manifest(folder: Path, value: object) -> None:
    (folder / "manifest.json").write_text(json.dumps(value, indent=2))


def _edit(change: Callable[[dict], object]) -> Callable[[Path, Path], None]:
    """Edit the manifest in place (``change``'s return value is ignored)."""

    def tamper(folder: Path, _other: Path) -> None:
        manifest = _manifest(folder)
        change(manifest)
        _write_manifest(folder, manifest)

    return tamper


def _as_list(folder: Path, _other: Path) -> None:
    _write_manifest(folder, [_manifest(folder)])


def _flip_bytes(name: str, count: int = 64) -> Callable[[Path, Path], None]:
    def tamper(folder: Path, _other: Path) -> None:
        path = folder / name
        data = bytearray(path.read_bytes())
        start = len(data) // 3
        for i in range(start, start + count):
            data[i] ^= 0xFF
        path.write_bytes(bytes(data))

    return tamper


def _delete(name: str) -> Callable[[Path, Path], None]:
    def tamper(folder: Path, _other: Path) -> None:
        (folder / name).unlink()

    return tamper


def _from_other(name: str) -> Callable[[Path, Path], None]:
    def tamper(folder: Path, other: Path) -> None:
        shutil.copyfile(other / name, folder / name)

    return tamper


def _edit_scenario(folder: Path, _other: Path) -> None:
    path = folder / "scenario.yaml"
    path.write_text(path.read_text().replace("rounds: 4", "rounds: 5"))


def _truncate(name: str) -> Callable[[Path, Path], None]:
    def tamper(folder: Path, _other: Path) -> None:
        path = folder / name
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    return tamper


#: Tampering -> (how, a fragment of the one line every reading command must print).
TAMPERINGS: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "runs key removed": (_edit(lambda m: m.pop("runs")), "'runs' is missing"),
    "runs as a string": (_edit(lambda m: m.update(runs=str(m["runs"]))), "'runs'"),
    "manifest a list": (_as_list, "a JSON object was expected"),
    "layout removed": (_edit(lambda m: m.pop("layout")), "'layout' is missing"),
    "layout actors not a list": (
        _edit(lambda m: m["layout"].update(actors="US")),
        "'layout.actors'",
    ),
    "seed edited": (_edit(lambda m: m.update(seed=m["seed"] + 1)), "checksum does not match"),
    "overrides edited": (
        _edit(lambda m: m.update(overrides={"hawkishness": 0.9})),
        "checksum does not match",
    ),
    "checksum removed": (_edit(lambda m: m.pop("checksum")), "'checksum' is missing"),
    "scenario text edited": (
        _edit(lambda m: m["scenario"].update(text=m["scenario"]["text"] + "\n")),
        "checksum does not match",
    ),
    "manifest truncated": (_truncate("manifest.json"), "not readable JSON"),
    "manifest deleted": (_delete("manifest.json"), "not a results folder"),
    "runs.parquet bytes flipped": (_flip_bytes("runs.parquet"), "runs.parquet is not the file"),
    "runs.parquet from another seed": (
        _from_other("runs.parquet"),
        "runs.parquet is not the file",
    ),
    "runs.parquet deleted": (_delete("runs.parquet"), "runs.parquet is missing"),
    "runs.parquet truncated": (_truncate("runs.parquet"), "runs.parquet is not the file"),
    "scenario.yaml edited": (_edit_scenario, "scenario.yaml is not the file"),
    "scenario.yaml deleted": (_delete("scenario.yaml"), "scenario.yaml is missing"),
}


@pytest.fixture(scope="module")
def saved_game(pristine: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A game forked off run 3 of the batch, as saved (its "results" names the folder)."""
    from sim.seminar.game import Game

    path = tmp_path_factory.mktemp("game") / "game.json"
    Game.from_results(pristine, 3).save(path)
    return json.loads(path.read_text())


def _save_game(saved: dict, folder: Path, path: Path) -> None:
    path.write_text(json.dumps({**saved, "results": str(folder)}))


def _copy_with_a_saved_game(pristine: Path, saved: dict, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the good batch, and a scratch folder holding a game saved from it."""
    folder = tmp_path / "batch"
    shutil.copytree(pristine, folder)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    _save_game(saved, folder, scratch / "game.json")
    return folder, scratch


#: Every command that reads a results folder: name -> arguments (folder, a good batch,
#: a scratch folder for outputs).
READERS: dict[str, Callable[[Path, Path, Path], list[object]]] = {
    "replay": lambda d, _g, _t: ["replay", d, "--run", 3],
    "replay --json": lambda d, _g, _t: ["replay", d, "--run", 3, "--json"],
    "replay --step": lambda d, _g, _t: ["replay", d, "--run", 3, "--step", "--no-input"],
    "replay --format": lambda d, _g, _t: ["replay", d, "--run", 3, "--format", "markdown"],
    "compare (baseline)": lambda d, g, t: ["compare", d, g, "--out", t / "cmp", "--no-plots"],
    "compare (other)": lambda d, g, t: ["compare", g, d, "--out", t / "cmp", "--no-plots"],
    "explain": lambda d, _g, _t: ["explain", d],
    "report": lambda d, _g, t: ["report", d, "--out", t / "r.html"],
    "step --resume": lambda _d, _g, t: ["step", "--resume", t / "game.json", "--no-input"],
}


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
@pytest.mark.parametrize("reader", list(READERS))
def test_a_damaged_folder_is_one_line_and_exit_2(
    tampering: str,
    reader: str,
    pristine: Path,
    other_seed: Path,
    saved_game: dict,
    tmp_path: Path,
) -> None:
    folder, scratch = _copy_with_a_saved_game(pristine, saved_game, tmp_path)
    how, fragment = TAMPERINGS[tampering]
    how(folder, other_seed)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))

    result = invoke(*READERS[reader](folder, pristine, scratch))

    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert fragment in lines[0] and str(folder) in lines[0], lines[0]
    # Nothing was written: no comparison, no explain/, no report.
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_the_untouched_folder_passes_every_reader(
    pristine: Path, saved_game: dict, tmp_path: Path
) -> None:
    # The control: the same commands on the same folder, untouched, succeed.
    folder, scratch = _copy_with_a_saved_game(pristine, saved_game, tmp_path)
    for reader, arguments in READERS.items():
        result = invoke(*arguments(folder, pristine, scratch))
        assert result.exit_code == 0, (reader, result.output, result.exception)
        assert "warning" not in result.stderr, (reader, result.stderr)


def test_an_earlier_format_is_refused_with_advice(pristine: Path, tmp_path: Path) -> None:
    folder = tmp_path / "old"
    shutil.copytree(pristine, folder)
    manifest = _manifest(folder)
    manifest["format"] = "wargame-results/1"
    _write_manifest(folder, manifest)
    result = invoke("replay", folder, "--run", 0)
    assert result.exit_code == 2
    assert "written by an earlier wargame" in result.stderr


def test_rounds_parquet_is_checked_when_it_is_read(pristine: Path, tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    shutil.copytree(pristine, folder)
    _flip_bytes("rounds.parquet")(folder, folder)
    # replay does not read the trajectories; compare's fan charts do.
    assert invoke("replay", folder, "--run", 1).exit_code == 0
    result = invoke("compare", folder, pristine, "--out", tmp_path / "cmp", "--no-plots")
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert "rounds.parquet is not the file the batch wrote" in line


@pytest.mark.parametrize("how", ["flipped", "deleted"])
def test_choices_parquet_is_checked_when_it_is_read(
    pristine: Path, tmp_path: Path, how: str
) -> None:
    folder = tmp_path / "batch"
    shutil.copytree(pristine, folder)
    (_flip_bytes if how == "flipped" else _delete)("choices.parquet")(folder, folder)
    # replay does not read the choices; explain ranks the actors' moves from them.
    assert invoke("replay", folder, "--run", 1).exit_code == 0
    result = invoke("explain", folder)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    fragment = "is not the file the batch wrote" if how == "flipped" else "is missing"
    assert f"choices.parquet {fragment}" in line
    assert not (folder / "explain").exists()


# --- summary.json: recomputed, and the user told ---------------------------------------


def _edit_summary(folder: Path, _other: Path) -> None:
    summary = json.loads((folder / "summary.json").read_text())
    summary["runs"] = 4950
    summary["endings"][0].update(count=4901, p=0.99)
    (folder / "summary.json").write_text(json.dumps(summary))


@pytest.mark.parametrize(
    ("how", "problem"),
    [
        (_delete("summary.json"), "is missing"),
        (_truncate("summary.json"), "is not the file the batch wrote"),
        (_edit_summary, "is not the file the batch wrote"),
    ],
    ids=["deleted", "truncated", "edited"],
)
def test_a_damaged_summary_is_recomputed_and_the_user_told(
    how: Callable[[Path, Path], None], problem: str, pristine: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "batch"
    shutil.copytree(pristine, folder)
    how(folder, folder)
    expected = json.loads((pristine / "summary.json").read_text())
    with pytest.warns(UserWarning, match=problem):
        assert Results(folder).summary == expected


def test_a_report_of_an_edited_summary_tells_and_shows_the_real_numbers(
    pristine: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "batch"
    shutil.copytree(pristine, folder)
    _edit_summary(folder, folder)
    problem = "is not the file the batch wrote"
    result = invoke("report", folder, "--out", tmp_path / "r.html")
    assert result.exit_code == 0, result.output
    assert f"warning: {folder / 'summary.json'}: {problem}" in result.stderr
    assert "recomputed from runs.parquet" in result.stderr
    html = (tmp_path / "r.html").read_text()
    assert "4,950" not in html and "99.0%" not in html


def _zero_first_ending(folder: Path, _other: Path) -> None:
    summary = json.loads((folder / "summary.json").read_text())
    summary["endings"][0]["count"] = 0
    (folder / "summary.json").write_text(json.dumps(summary))


def _summary_as_list(folder: Path, _other: Path) -> None:
    (folder / "summary.json").write_text("[]")


def _by_ending_image(html: str) -> str:
    """The embedded payoffs-by-ending chart of a report (base64 PNG)."""
    found = re.search(r'src="data:image/png;base64,([^"]+)" alt="chart: payoffs by ending"', html)
    assert found is not None, "the report has no payoffs-by-ending chart"
    return found[1]


@pytest.mark.parametrize(
    "how",
    [_truncate("summary.json"), _summary_as_list, _zero_first_ending],
    ids=["truncated", "a list", "an ending's count zeroed"],
)
def test_every_chart_of_a_report_uses_the_recomputed_summary(
    how: Callable[[Path, Path], None], pristine: Path, tmp_path: Path
) -> None:
    # The payoffs-by-ending chart once read summary.json itself: a traceback on a
    # truncated file, an ending's panels missing on an edited one.
    good = invoke("report", pristine, "--out", tmp_path / "good.html")
    assert good.exit_code == 0, good.output
    folder = tmp_path / "batch"
    shutil.copytree(pristine, folder, ignore=shutil.ignore_patterns("explain"))
    how(folder, folder)
    result = invoke("report", folder, "--out", tmp_path / "r.html")
    assert result.exit_code == 0, result.output
    assert "recomputed from runs.parquet" in result.stderr
    damaged = (tmp_path / "r.html").read_text()
    assert _by_ending_image(damaged) == _by_ending_image((tmp_path / "good.html").read_text())


def test_a_forged_manifest_cannot_replay_another_game(pristine: Path, tmp_path: Path) -> None:
    # The checksum catches accidents; an edit with the checksum recomputed (here, another
    # seed) is caught by the replay itself, which must retrace the batch's own row.
    from sim.batch.manifest import write_manifest

    folder = tmp_path / "batch"
    shutil.copytree(pristine, folder)
    manifest = _manifest(folder)
    manifest["seed"] += 1
    manifest.pop("checksum", None)
    write_manifest(folder, manifest)
    refused = 0
    for run in range(RUNS):
        result = invoke("replay", folder, "--run", run)
        if result.exit_code == 2:
            refused += 1
            assert "replays to another game than runs.parquet holds" in result.stderr
            assert "Traceback" not in result.output
    # Tiny has few endings and payoffs that depend on the draws: nearly every run differs.
    assert refused >= RUNS // 2
    assert invoke("replay", pristine, "--run", 3).exit_code == 0

"""Where a command may write: new paths, or paths it made itself. Nothing of the user's.

One rule for every command that writes (``run``, ``sweep``, ``explain``, ``compare``,
``report``, the seminar's saved games):

- a **new path** is always fine (missing folders on the way are made);
- a path the command **made itself** may be replaced: a results folder (recognised by
  its manifest, never by the file name alone), an earlier comparison or explanation
  (recognised by its ``compare.json`` / ``explain.json``), an earlier report (by the
  mark ``render_report`` puts in it); and then only the files that command writes are
  replaced or removed, never anything else in the folder, hidden files included;
- **a batch's files are never written**: nothing goes inside a results folder except
  what belongs to it (its own ``explain/`` and ``report.html``), even with ``--force``;
- **a user's file or folder** is replaced (a file) or written into (a folder, deleting
  nothing) only with ``--force``;
- a path **under an existing file** (``--out notes.txt/x``) is a clean error.

Every refusal is a :class:`~sim.errors.ResultsError` (one line, exit code 2) that names
the path and what to do.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sim.batch.manifest import is_results_manifest
from sim.errors import OptionsError, ResultsError

#: Where ``run --force`` keeps the batch it replaces until the new one is written.
REPLACED = ".replaced"
#: What a batch writes into its folder (and ``explain``/``report`` add to it).
BATCH_ENTRIES = (
    "manifest.json",
    "scenario.yaml",
    "runs.parquet",
    "rounds.parquet",
    "choices.parquet",
    "summary.json",
    "plots",
    ".parts",
    REPLACED,
    "explain",
    "report.html",
)
#: Temporary files our writers leave if killed (``.NAME.tmp-PID``, ``.NAME.png.tmp``).
TEMPORARY = re.compile(r"^\.[^/]+\.tmp(-\d+)?$")
#: The charts a batch draws into its ``plots/`` folder.
PLOT_FILES = re.compile(r"^(endings|branch_tree|payoffs|fan_.+)\.png$")
#: What ``explain`` writes into a batch's ``explain/`` folder.
EXPLAIN_FILES = (r"explain\.json", r"(tornado|prim)_.+\.png")


#: Fan charts drawn for a batch: one per metric, the scenario's first few.
MAX_FAN_METRICS = 6


def check_group_by(branch_ids: Sequence[str], group_by: str | None) -> None:
    """Reject a ``--group-by`` that names no branch of the scenario, in one line.

    Args:
        branch_ids: The scenario's branch ids, in order.
        group_by: The branch to group fan charts by; None for the first.

    Raises:
        OptionsError: If ``group_by`` is not one of ``branch_ids``.
    """
    if group_by is None or group_by in branch_ids:
        return
    if not branch_ids:
        raise OptionsError(
            f"--group-by {group_by}: the scenario has no branches (fan charts show all runs)"
        )
    # The language (and pydantic) only on a mistake: the chart workers import this.
    from sim.language.schema import suggest

    raise OptionsError(
        f"--group-by {group_by}: no branch '{group_by}'"
        + suggest(group_by, branch_ids)
        + f"; the branches are {', '.join(branch_ids)}"
    )


def remove_stale_plots(folder: str | Path, written: Sequence[Path]) -> None:
    """Remove the charts of an earlier drawing that this one did not draw again.

    Args:
        folder: The results folder.
        written: Every chart this drawing wrote.
    """
    keep = {p.name for p in written}
    for stale in (Path(folder) / "plots").iterdir():
        if PLOT_FILES.match(stale.name) and stale.name not in keep:
            stale.unlink()


def is_results_folder(folder: Path) -> bool:
    """Whether ``folder`` is a results folder (its manifest says so; damaged or not)."""
    return folder.is_dir() and is_results_manifest(folder / "manifest.json")


def results_folder_holding(path: Path) -> Path | None:
    """The results folder that is ``path`` or holds it, if any."""
    path = path.resolve()
    for folder in (path, *path.parents):
        if is_results_folder(folder):
            return folder
    return None


def check_parents(path: Path, flag: str = "--out") -> None:
    """Refuse a path under an existing file (``notes.txt/x``): no folder can be made there.

    Raises:
        ResultsError: Naming the file in the way.
    """
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            raise ResultsError(f"{flag} {path}: {parent} is a file, not a folder")


def _same(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


# ------------------------------------------------------------------- results folders


def prepare_results_folder(out: Path, *, force: bool) -> bool:
    """Make ``out`` ready for a new batch without losing anyone's data.

    A missing or empty folder is fine. An earlier results folder is replaced only with
    ``force``, and then only the entries a batch writes are moved aside (to
    ``.replaced/``: deleted once the new batch is written, put back if it fails while
    playing; see :func:`restore_replaced`, :func:`drop_replaced`); a folder holding
    anything else (hidden files such as ``.git`` or ``.env`` included) is refused, and so
    is any folder whose manifest is not a wargame results manifest.

    Returns:
        True if the folder was created here.

    Raises:
        ResultsError: If the folder holds data that would be lost, or cannot be made.
    """
    check_parents(out)
    holder = results_folder_holding(out.parent) if out.parent != out else None
    if holder is not None:
        raise ResultsError(
            f"--out {out}: is inside the results folder {holder}; a batch's folder holds "
            "only what its batch wrote. Choose a folder outside it"
        )
    if out.exists() and not out.is_dir():
        raise ResultsError(f"--out {out}: exists and is not a folder")
    if not out.exists():
        _make(out)
        return True
    entries = sorted(p.name for p in out.iterdir())
    if not entries:
        return False
    if not force:
        raise ResultsError(
            f"{out}: folder exists and is not empty; choose another --out, add --force to "
            "replace an earlier batch, or --resume to finish an interrupted one"
        )
    if not is_results_folder(out):
        raise ResultsError(
            f"{out}: not a wargame results folder (no results manifest.json); refusing to "
            "overwrite it, even with --force"
        )
    strangers = [e for e in entries if e not in BATCH_ENTRIES and not TEMPORARY.match(e)]
    # The batch's own folders may hold only what it (or explain) wrote there.
    strangers += _strangers(out / "plots", lambda name: bool(PLOT_FILES.match(name)))
    strangers += _strangers(
        out / "explain", lambda name: any(re.fullmatch(p, name) for p in EXPLAIN_FILES)
    )
    if strangers:
        raise ResultsError(
            f"{out}: holds files a batch does not write ({', '.join(strangers[:3])}); "
            "refusing to overwrite it, even with --force"
        )
    # The earlier batch is set aside, not deleted: if the new one fails while playing
    # (a division by zero in round 9), the earlier one is put back.
    kept = out / REPLACED
    if kept.is_dir() and not kept.is_symlink():
        shutil.rmtree(kept)  # set aside by a batch that was interrupted: replaced since
    elif kept.exists() or kept.is_symlink():
        kept.unlink()
    kept.mkdir()
    for name in entries:
        if name != REPLACED:
            (out / name).rename(kept / name)
    return False


def restore_replaced(out: Path) -> None:
    """Put back the batch that ``run --force`` set aside (the new one failed)."""
    kept = out / REPLACED
    if not kept.is_dir():
        return
    for path in kept.iterdir():
        if not (out / path.name).exists():
            path.rename(out / path.name)
    shutil.rmtree(kept, ignore_errors=True)


def drop_replaced(out: Path) -> None:
    """Delete the batch that ``run --force`` set aside (the new one is written)."""
    shutil.rmtree(out / REPLACED, ignore_errors=True)


def _strangers(folder: Path, ours: Callable[[str], bool]) -> list[str]:
    """Entries of a batch's subfolder that the program did not write there."""
    if not folder.is_dir() or folder.is_symlink():
        return [folder.name] if folder.is_symlink() else []
    return [
        f"{folder.name}/{path.name}"
        for path in sorted(folder.iterdir())
        if path.is_dir() or not (ours(path.name) or TEMPORARY.match(path.name))
    ]


def _make(folder: Path) -> None:
    try:
        folder.mkdir(parents=True)
    except OSError as exc:
        raise ResultsError(f"{folder}: cannot make the folder ({exc.strerror})") from None


# ------------------------------------------------------------ folders of derived files


@dataclass(frozen=True)
class OutputKind:
    """A folder of files a command derives from batches (a comparison, an explanation).

    Attributes:
        command: The command's name, for messages.
        marker: The file that marks a folder as this command's output.
        files: Patterns of the files the command writes there (replaced on a redo).
        inside: The name of the folder a batch may hold for this output (``explain``),
            or None if it never goes inside a results folder.
    """

    command: str
    marker: str
    files: tuple[str, ...]
    inside: str | None = None

    def owns(self, name: str) -> bool:
        """Whether a file name is one this command writes."""
        return any(re.fullmatch(pattern, name) for pattern in self.files)


def prepare_output_folder(
    out: Path,
    kind: OutputKind,
    *,
    inputs: Iterable[Path],
    force: bool,
    is_ours: bool,
) -> Path:
    """Make ``out`` ready for a command's derived files without losing anyone's.

    Args:
        out: The folder.
        kind: What the command writes.
        inputs: The results folders the command reads.
        force: Write into a folder that holds other files (nothing there is deleted;
            same-named files are replaced).
        is_ours: Whether ``out`` holds an earlier output of this command (its marker
            file is this command's): then only its files are replaced.

    Returns:
        The folder.

    Raises:
        ResultsError: If ``out`` is a batch's folder or inside one (other than a batch's
            own ``kind.inside`` folder), a file, under a file, or holds other data
            without ``force``.
    """
    check_parents(out)
    inputs = list(inputs)
    holder = results_folder_holding(out)
    if holder is not None:
        own = (
            kind.inside is not None
            and _same(out, holder / kind.inside)
            and any(_same(holder, folder) for folder in inputs)
        )
        if not own:
            where = "is" if _same(out, holder) else "is inside"
            hint = (
                f" (this batch's own {kind.inside}/ folder is the default)" if kind.inside else ""
            )
            raise ResultsError(
                f"--out {out}: {where} the results folder {holder}; {kind.command} never "
                f"writes into a batch's folder{hint}. Choose another --out"
            )
    if out.exists() and not out.is_dir():
        raise ResultsError(f"--out {out}: exists and is not a folder")
    if not out.exists():
        _make(out)
        return out
    if is_ours:
        # Files of the earlier output that this one may not write (a chart for an
        # outcome no longer there) must not survive it; nothing else is touched.
        for path in out.iterdir():
            if path.is_file() and kind.owns(path.name):
                path.unlink()
        return out
    if any(out.iterdir()) and not force:
        raise ResultsError(
            f"--out {out}: folder is not empty and not an earlier {kind.command} output; "
            "choose another --out, or add --force to write into it (nothing there is "
            "deleted, files of the same name are replaced)"
        )
    return out


# ------------------------------------------------------------------------- single files


def check_output_file(
    target: Path,
    *,
    inputs: Iterable[Path],
    force: bool,
    is_ours: bool,
    own_name: str | None = None,
    command: str = "this command",
) -> None:
    """Check that ``target`` may be written as a new file or over one this command made.

    Args:
        target: The file.
        inputs: The results folders the command reads.
        force: Replace a user's file.
        is_ours: Whether ``target`` is a file this command wrote earlier.
        own_name: The name a batch's folder may hold for this file (``report.html``).
        command: The command's name, for messages.

    Raises:
        ResultsError: If ``target`` is a batch's file or inside a batch's folder (other
            than ``own_name`` of a batch read), a folder, under a file, in a missing
            folder, or a user's file without ``force``.
    """
    check_parents(target)
    holder = results_folder_holding(target.parent)
    if holder is not None:
        own = (
            own_name is not None
            and _same(target, holder / own_name)
            and any(_same(holder, folder) for folder in inputs)
        )
        if not own:
            raise ResultsError(
                f"--out {target}: is inside the results folder {holder}; {command} never "
                "writes a batch's files. Choose another --out"
            )
    if target.is_dir():
        raise ResultsError(f"--out {target}: is a folder; give a file name such as report.html")
    if not target.parent.exists():
        raise ResultsError(f"--out {target}: the folder {target.parent} does not exist")
    if target.exists() and not is_ours and not force:
        raise ResultsError(
            f"--out {target}: exists and was not written by {command}; choose another "
            "--out, or add --force to replace it"
        )

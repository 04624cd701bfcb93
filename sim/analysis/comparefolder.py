"""A comparison written to a folder: compare.json, compare.md and the charts.

:func:`write_comparison` composes the three views of a :class:`Comparison`: its data
(compare.json, from :meth:`~sim.analysis.comparison.Comparison.to_dict`), its text
(compare.md, :mod:`sim.analysis.comparetext`) and its charts
(:mod:`sim.analysis.compareplots`). It lives apart from the comparison so that
computing one never imports the text or the charts, and neither of those imports this.

The folder is never anyone else's: a missing or empty folder, or an earlier comparison
(only its own files are replaced); any other folder needs ``force``, and even then
nothing in it is deleted.
"""

from __future__ import annotations

import json
from pathlib import Path

from sim.analysis.comparetext import comparison_markdown
from sim.analysis.comparison import COMPARE_FORMAT, Comparison
from sim.batch.results import atomic_write_bytes, atomic_write_json
from sim.errors import OptionsError, ResultsError

#: Files a comparison writes; only these are replaced when a comparison is redone.
COMPARE_FILES = (
    "compare.json",
    "compare.md",
    "compare-endings.png",
    "compare-branches.png",
    "compare-differences.png",
    "compare-metrics.png",
)


def write_comparison(
    comparison: Comparison, out: str | Path, *, force: bool = False, plots: bool = True
) -> list[Path]:
    """Write compare.json, compare.md and (optionally) the charts into ``out``.

    Args:
        comparison: The comparison (from :func:`sim.analysis.comparison.compare`).
        out: The output folder (created if missing).
        force: Write into a non-empty folder that is not an earlier comparison
            (files there are never deleted; same-named files are replaced).
        plots: Draw the PNG charts.

    Returns:
        The files written.

    Raises:
        ResultsError: If ``out`` holds other data and ``force`` is not given.
        OptionsError: If ``out`` is one of the compared results folders.
    """
    folder = prepare_compare_folder(Path(out), comparison.folders, force=force)
    written = []
    if plots:
        # matplotlib is imported only when charts are drawn.
        from sim.analysis.compareplots import draw_comparison

        written += draw_comparison(comparison, folder)
    data = comparison.to_dict()
    data["plots"] = [p.name for p in written]
    atomic_write_json(folder / "compare.json", data)
    atomic_write_bytes(folder / "compare.md", comparison_markdown(comparison).encode("utf-8"))
    return [folder / "compare.json", folder / "compare.md", *written]


def prepare_compare_folder(out: Path, inputs: list[Path], *, force: bool) -> Path:
    """Make ``out`` ready for a comparison without losing anyone's files.

    A missing or empty folder is fine, and so is an earlier comparison (its files are
    replaced, anything else in it is left alone). Any other non-empty folder needs
    ``force``; even then nothing is deleted.

    Args:
        out: The output folder.
        inputs: The compared results folders (``out`` must not be one of them).
        force: Accept a non-empty folder that is not an earlier comparison.

    Returns:
        The folder.

    Raises:
        OptionsError: If ``out`` is one of the inputs.
        ResultsError: If ``out`` is a file, or holds other data and ``force`` is not given.
    """
    if any(out.resolve() == folder.resolve() for folder in inputs):
        raise OptionsError(f"--out {out}: is one of the compared results folders; choose another")
    if out.exists() and not out.is_dir():
        raise ResultsError(f"{out}: exists and is not a folder")
    if not out.exists():
        out.mkdir(parents=True)
        return out
    earlier = _is_comparison(out)
    if any(out.iterdir()) and not earlier and not force:
        raise ResultsError(
            f"{out}: folder is not empty and not an earlier comparison; choose another --out "
            "or add --force to write into it (nothing there is deleted)"
        )
    if earlier:
        # Charts a new comparison may not draw (no branches, no trajectories) must not
        # survive from the earlier one.
        for name in COMPARE_FILES:
            (out / name).unlink(missing_ok=True)
    return out


def _is_comparison(folder: Path) -> bool:
    try:
        data = json.loads((folder / "compare.json").read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == COMPARE_FORMAT

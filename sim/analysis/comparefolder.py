"""A comparison written to a folder: compare.json, compare.md and the charts.

:func:`write_comparison` composes the three views of a :class:`Comparison`: its data
(compare.json, from :meth:`~sim.analysis.comparison.Comparison.to_dict`), its text
(compare.md, :mod:`sim.analysis.comparetext`) and its charts
(:mod:`sim.analysis.compareplots`). It lives apart from the comparison so that
computing one never imports the text or the charts, and neither of those imports this.

The folder is never anyone else's: a missing or empty folder, or an earlier comparison
(only its own files are replaced); any other folder needs ``force``, and even then
nothing in it is deleted; a results folder (or a folder inside one) is never written
(the rule of :mod:`sim.batch.outputs`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sim.analysis.comparetext import comparison_markdown
from sim.analysis.comparison import COMPARE_FORMAT, Comparison
from sim.batch.outputs import OutputKind, prepare_output_folder
from sim.batch.results import atomic_write_bytes, atomic_write_json

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
        ResultsError: If ``out`` is a results folder or inside one, or holds other data
            and ``force`` is not given.
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


COMPARE_OUTPUT = OutputKind(
    "compare",
    "compare.json",
    tuple(re.escape(name) for name in COMPARE_FILES),
)


def prepare_compare_folder(out: Path, inputs: list[Path], *, force: bool) -> Path:
    """Make ``out`` ready for a comparison without losing anyone's files.

    A missing or empty folder is fine, and so is an earlier comparison (its files are
    replaced, anything else in it is left alone). Any other non-empty folder needs
    ``force``; even then nothing is deleted. A results folder, or a folder inside one,
    is never written (:mod:`sim.batch.outputs`).

    Args:
        out: The output folder.
        inputs: The compared results folders.
        force: Accept a non-empty folder that is not an earlier comparison.

    Returns:
        The folder.

    Raises:
        ResultsError: If ``out`` is a batch's folder or inside one, a file, under a
            file, or holds other data and ``force`` is not given.
    """
    return prepare_output_folder(
        out, COMPARE_OUTPUT, inputs=inputs, force=force, is_ours=_is_comparison(out)
    )


def _is_comparison(folder: Path) -> bool:
    try:
        data = json.loads((folder / "compare.json").read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == COMPARE_FORMAT

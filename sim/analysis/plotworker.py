"""What a chart worker process is handed: imported by name, without matplotlib.

The batch's process sends :func:`draw_part` to the chart workers (see
:func:`sim.api.plot_workers`). Pickling a function sends only its module and name, and
the batch's process must import that module to name it: this one imports nothing, so
the batch's process never loads matplotlib (0.4 s) and the workers' forkserver need not
import the engine to unpickle it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def draw_part(*arguments: Any) -> tuple[list[Path], list[tuple[str, type[Warning]]]]:
    """:func:`sim.analysis.plots.draw_part`, called in a chart worker.

    Args:
        *arguments: As for :func:`sim.analysis.plots.draw_part`.

    Returns:
        The PNGs written, and each warning raised while drawing (text, category).
    """
    from sim.analysis.plots import draw_part as draw

    return draw(*arguments)

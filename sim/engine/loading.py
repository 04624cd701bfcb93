"""Loading a scenario for use: compile it, then look for dead levers.

Compiling (:mod:`sim.language.compiler`) says whether a scenario is valid. Whether each of its
levers can matter is a question about plays of it: the dead-lever checks
(:mod:`sim.engine.lint`) sample parameters for a few hundred runs. :func:`load` does both, and
is what a user means by loading a scenario (``wargame validate``, ``wargame run``, the
Python API). A batch worker recompiling the text it was sent only compiles.
"""

from __future__ import annotations

from pathlib import Path

from sim.engine.lint import dead_levers
from sim.language.compiler import CompiledScenario, compile_checked, compile_text
from sim.language.schema import load_scenario


def load(path: str | Path) -> CompiledScenario:
    """Load, check and compile a scenario file, with its dead-lever warnings.

    Args:
        path: Path to the YAML file.

    Returns:
        The compiled scenario; ``warnings`` lists its dead levers.

    Raises:
        ScenarioError: If the file is unreadable or invalid.
    """
    return with_warnings(compile_checked(lambda: load_scenario(path)))


def load_text(text: str, path: str = "<scenario>") -> CompiledScenario:
    """Check and compile scenario text, with its dead-lever warnings.

    Args:
        text: The YAML text.
        path: The name to use in error messages.

    Returns:
        The compiled scenario; ``warnings`` lists its dead levers.

    Raises:
        ScenarioError: If the text is invalid.
    """
    return with_warnings(compile_text(text, path))


def with_warnings(compiled: CompiledScenario) -> CompiledScenario:
    """Attach the dead-lever warnings to a compiled scenario (and return it)."""
    compiled.warnings = dead_levers(compiled)
    return compiled

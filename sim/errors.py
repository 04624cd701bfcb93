"""Errors a user can cause, each with a message the user can act on.

The CLI turns every :class:`WargameError` into one line per problem and exit code 2
(bad input). Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in a file, located by 1-based line and column.

    Attributes:
        file: Path of the file as the user named it.
        line: 1-based line number (0 when unknown).
        col: 1-based column number (0 when unknown).
        message: What is wrong and, where possible, how to fix it.
    """

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        if not self.line:  # a whole file (cannot read it): no 0:0 to puzzle over
            return f"{self.file}: {self.message}"
        if not self.col:
            return f"{self.file}:{self.line}: {self.message}"
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class WargameError(Exception):
    """Base class of errors caused by user input (exit code 2)."""

    def lines(self) -> list[str]:
        """Return the error as the lines the CLI prints."""
        return [str(self)]


class ScenarioError(WargameError):
    """A scenario file is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        #: The scenario without what the shape check rejected, where that leaves a valid
        #: one to compile for further problems (see ``sim.language.compiler.compile_checked``).
        self.partial: object | None = None
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        """Return one ``FILE:LINE:COL: message`` line per problem."""
        return [str(p) for p in self.problems]


class ScenarioRuntimeError(WargameError):
    """A scenario expression produced an impossible value (NaN, infinity) while running."""


class OptionsError(WargameError):
    """A command-line option or API argument is invalid."""


class ResultsError(WargameError):
    """A results folder is missing, damaged, or would be overwritten."""


class WargameWarning(UserWarning):
    """Something a user should know that does not stop the command.

    For example a results folder whose ``summary.json`` is missing: the summary is
    recomputed from ``runs.parquet`` and the user is told. The CLI prints it as one
    ``warning: ...`` line on stderr.
    """

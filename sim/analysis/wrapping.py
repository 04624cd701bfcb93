"""Wrapping text for a terminal without cutting a term in two.

A rule such as ``0.361 ≤ dprk_casualty_rate ≤ 0.596`` or a condition such as
``payoff.US <= 0`` reads as one term: an analyst who sees ``0.361 ≤`` at the end of a
line and ``dprk_casualty_rate ≤ 0.596`` on the next can misread the bound, and a name
split at a hyphen or mid-word (what :func:`textwrap.wrap` does to a word longer than the
line) is no longer a name at all. :func:`wrap_terms` breaks lines only at spaces between
terms: the spaces around a comparison (``<=``, ``>=``, ``≤``, ``≥``, ``<``, ``>``, ``=``,
``==``, ``!=``, ``≠``) bind its two sides, and a word longer than the line stays whole
(the line is then longer than ``width``).
"""

from __future__ import annotations

import re
import textwrap

__all__ = ["COMPARISONS", "wrap_terms"]

#: The operators whose two sides are never put on different lines.
COMPARISONS = ("<=", ">=", "==", "!=", "≤", "≥", "≠", "<", ">", "=")

# A private character standing for a space that must not break (restored afterwards).
_GLUE = "\u0000"
_AROUND = re.compile(
    r" +(" + "|".join(re.escape(op) for op in COMPARISONS) + r")(?= )(?: +)"
    # ... or an operator that opens a parenthesis or a term, e.g. "(≤ 0.308)".
    r"|(?<=[(\[])(" + "|".join(re.escape(op) for op in COMPARISONS) + r") +"
    # ... and a quasi-p-value with its label.
    r"|(quasi-p) +"
)


def _glue(match: re.Match[str]) -> str:
    if match.group(1) is not None:
        return f"{_GLUE}{match.group(1)}{_GLUE}"
    return f"{match.group(2) or match.group(3)}{_GLUE}"


def wrap_terms(
    text: str, width: int, initial_indent: str = "", subsequent_indent: str = ""
) -> list[str]:
    """Wrap ``text`` at ``width`` columns, breaking only at spaces between terms.

    Args:
        text: One paragraph.
        width: Most columns a line may take (a single term longer than that is not cut).
        initial_indent: Put before the first line.
        subsequent_indent: Put before the others.

    Returns:
        The lines (none for empty text).
    """
    glued = _AROUND.sub(_glue, text)
    lines = textwrap.wrap(
        glued,
        width=width,
        initial_indent=initial_indent,
        subsequent_indent=subsequent_indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return [line.replace(_GLUE, " ") for line in lines]

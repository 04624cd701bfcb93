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

__all__ = ["COMPARISONS", "NO_BREAK_SPACE", "glue_terms", "wrap_terms"]

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


#: What :func:`glue_terms` puts between the parts of a term by default (for HTML).
NO_BREAK_SPACE = "\u00a0"


def glue_terms(text: str, glue: str = NO_BREAK_SPACE) -> str:
    """``text`` with the spaces inside each term (around a comparison) replaced by ``glue``.

    A browser then keeps ``x ≤ 0.5`` on one line, as :func:`wrap_terms` does in a
    terminal.

    Args:
        text: Any text.
        glue: What stands for a space that must not break (default: a no-break space).
    """

    def joined(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return f"{glue}{match.group(1)}{glue}"
        return f"{match.group(2) or match.group(3)}{glue}"

    return _AROUND.sub(joined, text)


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
    glued = glue_terms(text, _GLUE)
    lines = textwrap.wrap(
        glued,
        width=width,
        initial_indent=initial_indent,
        subsequent_indent=subsequent_indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return [line.replace(_GLUE, " ") for line in lines]

"""Reading YAML while remembering where every key and value stands in the file.

Scenario errors must name ``FILE:LINE:COL``. PyYAML's composer keeps a mark on every
node; this module turns the node tree into plain Python values plus a table from each
value's path (a tuple of keys and list indices) to its position, so later stages can
point at the exact spot of a problem. Duplicate keys, which PyYAML would silently
overwrite, are reported.

Only plain data is read: the standard tags (strings, numbers, booleans, null, dates,
mappings and lists); any other tag (``!!binary``, ``!!set``, ``!!python/...``, a custom
``!tag``) is an error at its position, and so is a value a tag cannot make sense of
(``!!timestamp tomorrow``). Characters YAML forbids (control characters such as a form
feed) are located by line and column, and a file too large to be a scenario is refused
before it is parsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from sim.errors import Problem, ScenarioError

Path = tuple[Any, ...]


class ScenarioLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 booleans: only true/false, not yes/no/on/off.

    Scenario authors write outcomes such as ``yes``/``no`` and mean the words.
    """


ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ScenarioLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


_CLoader = getattr(yaml, "CSafeLoader", None)  # None where PyYAML was built without libyaml


if _CLoader is not None:

    class _FastScenarioLoader(_CLoader):  # type: ignore[valid-type, misc]
        """The same loader on libyaml's parser: same nodes and marks, ~15x faster."""

    _FastScenarioLoader.yaml_implicit_resolvers = ScenarioLoader.yaml_implicit_resolvers
    _FAST: type | None = _FastScenarioLoader
else:  # pragma: no cover - every PyYAML wheel for Linux, macOS and Windows has libyaml
    _FAST = None


def compose(text: str) -> yaml.Node | None:
    """The YAML node tree of ``text``, each node marked with its line and column.

    libyaml's parser composes a well-formed file (the same nodes, tags and marks as
    PyYAML's pure-Python one, tested on every scenario in the repository and on
    generated text with accents, emoji, a byte-order mark and CRLF line ends, in
    about a fifteenth of its time). Any problem is reported by the pure-Python
    parser, whose messages, positions and limits the errors were written for
    (libyaml refuses nesting deeper than 1,000 levels itself, for one).
    """
    if _FAST is not None:
        try:
            return yaml.compose(text, Loader=_FAST)
        except Exception:  # any problem: the pure-Python parser says which
            pass
    return yaml.compose(text, Loader=ScenarioLoader)


@dataclass(frozen=True)
class Position:
    """A 1-based line and column in a source file, and the scalar's quoting style.

    ``file`` is set for a position in another file than the map's own (a scenario that
    ``extends`` another keeps the parent's values at their place in the parent).
    """

    line: int
    col: int
    style: str | None = None
    file: str | None = None


@dataclass
class SourceMap:
    """Positions of values and keys in a YAML file, looked up by path.

    Attributes:
        file: The file the document was read from.
        values: Position of each value, by path.
        keys: Position of each mapping key, by path.
        texts: The text of every file positions point into (for exact columns).
    """

    file: str
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    def file_of(self, position: Position) -> str:
        """The file a position is in."""
        return position.file or self.file

    def text_of(self, position: Position) -> str | None:
        """The text of the file a position is in, if known."""
        return self.texts.get(self.file_of(position))

    def where(self, path: Path, *, key: bool = False) -> Position:
        """Return the position of ``path``, or of its nearest located ancestor.

        Args:
            path: Keys and indices from the document root.
            key: Prefer the position of the mapping key over that of its value.
        """
        path = tuple(path)
        while True:
            if key and path in self.keys:
                return self.keys[path]
            if path in self.values:
                return self.values[path]
            if not path:
                return Position(1, 1)
            path = path[:-1]

    def problem(self, path: Path, message: str, *, key: bool = False) -> Problem:
        """Build a :class:`Problem` located at ``path``."""
        pos = self.where(path, key=key)
        return Problem(self.file_of(pos), pos.line, pos.col, message)


def _position(node: yaml.Node) -> Position:
    mark = node.start_mark
    # libyaml marks a plain scalar's style '' where PyYAML's parser has None.
    style = getattr(node, "style", None) or None
    return Position(mark.line + 1, mark.column + 1, style)


#: Most values a document may expand to through aliases (guards against alias bombs).
MAX_NODES = 200_000
#: Longest scenario file, in characters (scenarios/alaska.yaml has about 44,000): a
#: larger one is refused before YAML reads it, which would take seconds and gigabytes.
MAX_CHARS = 2_000_000
#: Digits a whole number may have: more is far beyond the largest value a scenario may
#: hold (1e12), and Python itself refuses to read more than 4,300.
MAX_DIGITS = 15
_TAG = "tag:yaml.org,2002:"
#: The tags of plain data. Anything else is refused where it stands.
SCALAR_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
COLLECTION_TAGS = {_TAG + "map", _TAG + "seq"}
#: Characters YAML 1.1 does not allow in a document (PyYAML's Reader check).
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_CONTROL_NAMES = {
    0x00: "NUL",
    0x07: "bell",
    0x08: "backspace",
    0x0B: "vertical tab",
    0x0C: "form feed",
    0x1B: "escape",
    0x7F: "delete",
}
#: Deepest nesting of mappings and lists (a scenario needs about six levels).
MAX_DEPTH = 50


def _unclosed_quote(text: str, error_line: int) -> Position | None:
    """Where a quoted value starts that runs over several lines and ends on ``error_line``.

    A missing closing quote makes YAML read on to the next quote, often many lines
    later, and report an error there; the author needs the opening quote instead.
    """
    found = None
    try:
        for token in yaml.scan(text, Loader=ScenarioLoader):
            if (
                isinstance(token, yaml.ScalarToken)
                and token.style in ('"', "'")
                and token.start_mark.line != token.end_mark.line
                and token.end_mark.line + 1 == error_line
            ):
                found = Position(token.start_mark.line + 1, token.start_mark.column + 1)
    except yaml.YAMLError:
        pass
    return found


def line_col(text: str, index: int) -> tuple[int, int]:
    """The 1-based line and column of character ``index`` of ``text``."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _check_size_and_characters(text: str, file: str) -> None:
    """Refuse a file too large to be a scenario, or holding characters YAML forbids.

    Both are found with a scan of the text (milliseconds), before YAML reads it.
    """
    if len(text) > MAX_CHARS:
        limit = f"a scenario may have at most {MAX_CHARS:,} characters"
        lines = text.split("\n")
        longest = max(range(len(lines)), key=lambda i: len(lines[i]))
        if len(lines[longest]) > MAX_CHARS // 10:
            what = f"this line has {len(lines[longest]):,} characters; {limit}"
            raise ScenarioError([Problem(file, longest + 1, 1, what)])
        what = f"the file has {len(text):,} characters; {limit}"
        raise ScenarioError([Problem(file, 1, 1, what)])
    found = _NOT_PRINTABLE.search(text)
    if found is not None:
        code = ord(found.group())
        name = _CONTROL_NAMES.get(code, "a control character" if code < 0x20 else "a character")
        line, col = line_col(text, found.start())
        what = f"U+{code:04X} ({name})" if code in _CONTROL_NAMES else f"U+{code:04X}"
        raise ScenarioError(
            [
                Problem(
                    file,
                    line,
                    col,
                    f"character {what} is not allowed in a YAML file; delete it",
                )
            ]
        )


def _too_many_digits(node: yaml.ScalarNode) -> bool:
    """Whether a scalar read as a whole number has more digits than any scenario needs."""
    if node.tag != _TAG + "int":
        return False
    digits = node.value.replace("_", "").lstrip("+-")
    return len(digits.lstrip("0")) > MAX_DIGITS


def _short(value: str, limit: int = 24) -> str:
    return value if len(value) <= limit else f"{value[: limit - 1]}… ({len(value):,} characters)"


#: PyYAML's messages for a line indented out of step with its neighbours.
_INDENT_MESSAGES = (
    "mapping values are not allowed here",
    "expected <block end>",
    "did not find expected key",
    "did not find expected '-' indicator",
)


def _indent_hint(text: str, line: int) -> str:
    """Where an indentation slip usually is: this line against the one above it.

    PyYAML reports such a slip where it can no longer read on, often the line after the
    one that moved (a ``cost:`` de-indented under an action shows at the ``effects:``
    below it), so both lines and their indents are named.
    """
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return ""
    here = lines[line - 1]
    above = _line_above(lines, line)

    def spaces(text: str) -> str:
        return _spaces(_key_column(text))

    if above is None:
        return f" (check the indentation of line {line}: {spaces(here)})"
    number, previous = above
    before = _line_above(lines, number)
    if (
        before is not None
        and _key_column(previous) < _key_column(here) == _key_column(before[1])
        and not previous.lstrip().startswith("- ")
    ):
        # One line pulled left between two that agree: that line is the slip.
        return (
            f" (check the indentation of line {number}: it has {spaces(previous)}, the "
            f"lines around it (line {before[0]} and line {line}) {spaces(here)}; a key "
            "lines up with the keys beside it, two spaces in from its parent)"
        )
    if (
        before is not None
        and _opens_block(before[1])
        and _key_column(previous) <= _key_column(before[1]) < _key_column(here)
    ):
        # A block opened, its first key left at the opener's column, the next one in:
        # the first key is the slip (a `cost:` under an action shows at `effects:`).
        opener = before[1].strip()
        return (
            f" (check the indentation of line {number}: it has {spaces(previous)}, but "
            f"'{opener}' on line {before[0]} opens a block whose keys line {line} puts at "
            f"{spaces(here)}; a key lines up with the keys beside it, two spaces in from "
            "its parent)"
        )
    slip = _sibling_slip(lines, line)
    if slip:
        return slip
    return (
        f" (check the indentation: line {line} has {spaces(here)}, line {number} above it "
        f"{spaces(previous)} before its key; a key lines up with the keys beside it, two "
        "spaces in from its parent" + _nearest_keys(lines, line) + ")"
    )


def _open_keys(lines: list[str], line: int) -> list[tuple[int, int, str]]:
    """The keys open above ``line``: the line above, then each parent, innermost first.

    Each is (column, line number, key); a parent is the nearest line above with a
    smaller indent.
    """
    found: list[tuple[int, int, str]] = []
    for number in range(line - 1, 0, -1):
        text = lines[number - 1]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        at = _key_column(text)
        if not found or at < found[-1][0]:
            found.append((at, number, text[at:].split(":", 1)[0].strip()))
        if at == 0:
            break
    return found


def _sibling_slip(lines: list[str], line: int) -> str:
    """A key above pushed in by a space or so, which PyYAML reports at its next sibling.

    ``hold:`` with 5 (or 7) spaces under ``actions:`` with 4, then ``board_ship:`` with
    6, two in from its parent as keys should be: PyYAML fails at ``board_ship:``, which
    is right; the slip is ``hold:``. Empty where the lines do not look like that.
    """
    here = _key_column(lines[line - 1])
    keys = _open_keys(lines, line)
    for i in range(1, len(keys)):
        parent_at, parent_line, parent = keys[i]
        at, number, key = keys[i - 1]  # the parent's key nearest above this line
        if parent_at + 2 == here and at != here:
            return (
                f" (check the indentation of line {number}: '{key}:' has {_spaces(at)}, "
                f"but line {line}, a key of the same block under '{parent}:' (line "
                f"{parent_line}, {_spaces(parent_at)}), has {_spaces(here)}; a key lines up "
                "with the keys beside it, two spaces in from its parent)"
            )
    return ""


def _line_above(lines: list[str], line: int) -> tuple[int, str] | None:
    """The nearest line above ``line`` (1-based) that holds more than a comment."""
    for number in range(line - 1, 0, -1):
        text = lines[number - 1]
        if text.strip() and not text.lstrip().startswith("#"):
            return number, text
    return None


def _opens_block(text: str) -> bool:
    """Whether a line is a key with nothing after its colon (its value is the block below)."""
    code = text.split(" #", 1)[0].rstrip()
    return code.endswith(":") and not code.lstrip().startswith("#")


def _spaces(count: int) -> str:
    return f"{count} space" + ("" if count == 1 else "s")


def _key_column(text: str) -> int:
    """The spaces before a line's key: a list item's key starts after its ``- ``.

    That is the column the item's sibling keys keep.
    """
    count = len(text) - len(text.lstrip(" "))
    rest = text[count:]
    while rest.startswith("- "):
        after = rest[2:]
        count += 2 + len(after) - len(after.lstrip(" "))
        rest = after.lstrip(" ")
    return count


def _nearest_keys(lines: list[str], line: int) -> str:
    """For a line pulled left to a column no open key above it has: the keys it may mean.

    The keys a line can line up with are those of the line above and of that line's
    parents (each the nearest line above with a smaller indent). A line indented less
    than the line above, at none of those columns, is named against the two nearest:
    one is where it belongs. Empty otherwise (a line indented more than the one above
    is more often a slip of that line than of this one).
    """
    here = _key_column(lines[line - 1])
    open_keys = _open_keys(lines, line)
    if not open_keys or here >= open_keys[0][0] or any(at == here for at, _, _ in open_keys):
        return ""
    right = [k for k in open_keys if k[0] > here][-1:]
    left = [k for k in open_keys if k[0] < here][:1]
    named = " or ".join(f"'{key}:' (line {n}, {_spaces(at)})" for at, n, key in right + left)
    return f"; no key above it has {_spaces(here)}: line it up with {named}"


def load_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse YAML text safely into plain values and a :class:`SourceMap`.

    Args:
        text: The YAML document.
        file: The file name used in error messages.

    Returns:
        The document as dicts, lists and scalars, and the map of positions.

    Raises:
        ScenarioError: On a syntax error, a duplicate key, or a non-string key.
    """
    source = SourceMap(file, texts={file: text})
    _check_size_and_characters(text, file)
    try:
        root = compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        if exc.context == "while scanning a quoted scalar" and exc.context_mark is not None:
            mark, what = exc.context_mark, "this quote is never closed"
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        if "'\\t'" in what:
            what += " (indent with spaces, not tabs)"
        if any(m in what for m in _INDENT_MESSAGES):
            what += _indent_hint(text, line)
        if "expected alphabetic or numeric character" in what:
            what += ' (a value starting with * is read as an alias: quote it, e.g. "*= 0.5")'
        opened = _unclosed_quote(text, line)
        if opened is not None:
            what = f"this quote is not closed on its line ({what} at line {line})"
            line, col = opened.line, opened.col
        raise ScenarioError([Problem(file, line, col, f"YAML syntax error: {what}")]) from None
    except RecursionError:
        raise ScenarioError([Problem(file, 1, 1, "bad YAML: nested too deeply")]) from None
    except yaml.reader.ReaderError as exc:  # pragma: no cover - found by the scan above
        line, col = line_col(text, exc.position)
        raise ScenarioError([Problem(file, line, col, f"YAML error: {exc.reason}")]) from None
    except yaml.YAMLError as exc:  # pragma: no cover - errors without marks
        raise ScenarioError([Problem(file, 1, 1, f"YAML error: {exc}")]) from None
    if root is None:
        raise ScenarioError([Problem(file, 1, 1, "the file is empty")])
    constructor = ScenarioLoader("")
    problems: list[Problem] = []
    active: set[int] = set()  # nodes being converted: an alias to one of them is a cycle
    count = 0

    def convert(node: yaml.Node, path: Path) -> Any:
        nonlocal count
        count += 1
        if id(node) in active or count > MAX_NODES or len(path) > MAX_DEPTH:
            pos = _position(node)
            what = (
                "an alias refers to a value that contains it"
                if id(node) in active
                else f"more than {MAX_NODES:,} values (aliases expanding too far?)"
                if count > MAX_NODES
                else f"nested more than {MAX_DEPTH} levels deep"
            )
            raise ScenarioError([Problem(file, pos.line, pos.col, f"bad YAML: {what}")])
        active.add(id(node))
        try:
            return _convert(node, path)
        finally:
            active.discard(id(node))

    def _convert(node: yaml.Node, path: Path) -> Any:
        source.values[path] = _position(node)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and (
            node.tag not in COLLECTION_TAGS
        ):
            pos = _position(node)
            problems.append(Problem(file, pos.line, pos.col, _tag_refused(node.tag)))
            return None
        if isinstance(node, yaml.MappingNode):
            try:
                constructor.flatten_mapping(node)
            except yaml.MarkedYAMLError as exc:
                pos = _position(node)
                problems.append(Problem(file, pos.line, pos.col, f"bad merge: {exc.problem}"))
                return {}
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                refused = _refused_scalar(key_node)
                if refused is not None:
                    pos = _position(key_node)
                    problems.append(Problem(file, pos.line, pos.col, f"bad key: {refused}"))
                    continue
                try:
                    key = constructor.construct_object(key_node, deep=True)
                except Exception as exc:  # any tag's constructor may fail on user text
                    pos = _position(key_node)
                    problems.append(Problem(file, pos.line, pos.col, f"bad key: {_why(exc)}"))
                    continue
                if not isinstance(key, str | int | float | bool):
                    pos = _position(key_node)
                    problems.append(Problem(file, pos.line, pos.col, "keys must be plain names"))
                    continue
                key = str(key) if not isinstance(key, str) else key
                if key in out:
                    pos = _position(key_node)
                    first = source.keys[(*path, key)]
                    problems.append(
                        Problem(
                            file,
                            pos.line,
                            pos.col,
                            f"duplicate key '{key}' (first at line {first.line})",
                        )
                    )
                    continue
                source.keys[(*path, key)] = _position(key_node)
                out[key] = convert(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [convert(item, (*path, i)) for i, item in enumerate(node.value)]
        refused = _refused_scalar(node)
        if refused is not None:
            pos = _position(node)
            problems.append(Problem(file, pos.line, pos.col, f"bad value: {refused}"))
            return None
        try:
            return constructor.construct_object(node, deep=True)
        except Exception as exc:  # any tag's constructor may fail on user text
            pos = _position(node)
            what = _why(exc)
            if not isinstance(exc, yaml.YAMLError | ValueError):
                # e.g. `!!timestamp tomorrow`: the constructor fails with its own error.
                tag = node.tag.removeprefix(_TAG)
                what = f"'{_short(str(node.value))}' cannot be read as {tag}"
            problems.append(Problem(file, pos.line, pos.col, f"bad value: {what}"))
            return None

    data = convert(root, ())
    if problems:
        raise ScenarioError(problems)
    return data, source


def _tag_refused(tag: str) -> str:
    shown = "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag
    return f"the YAML tag '{shown}' is not allowed in a scenario (plain values only)"


def _refused_scalar(node: yaml.Node) -> str | None:
    """Why a scalar node cannot be read (a tag that is not plain data, a huge number)."""
    if not isinstance(node, yaml.ScalarNode):
        return _tag_refused(node.tag) if node.tag not in COLLECTION_TAGS else None
    if node.tag not in SCALAR_TAGS:
        return _tag_refused(node.tag)
    if _too_many_digits(node):
        return f"the number {_short(node.value)} is too large (at most 1e+12 in magnitude)"
    return None


def _why(exc: Exception) -> str:
    """One line saying why a key or value could not be read (e.g. a date 2025-13-01)."""
    if isinstance(exc, yaml.MarkedYAMLError):
        return exc.problem or "invalid value"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__

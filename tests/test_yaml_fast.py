"""libyaml composes a scenario exactly as PyYAML's pure-Python parser does, only faster.

Every error message and position was written against the pure-Python parser; libyaml
is used only where it gives the same node tree, tags, styles and marks (the check below
walks both trees), and any file it cannot read goes to the pure-Python parser.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from sim.language import yamlsource
from sim.language.yamlsource import ScenarioLoader, compose

ROOT = Path(__file__).resolve().parent.parent


def _nodes(node: yaml.Node | None) -> list[tuple]:
    """Every node of a tree in document order: kind, tag, marks, style and value."""
    out: list[tuple] = []
    seen: set[int] = set()

    def walk(n: yaml.Node) -> None:
        if id(n) in seen:  # an alias: the same node again
            out.append(("alias", n.start_mark.line, n.start_mark.column))
            return
        seen.add(id(n))
        start, end = n.start_mark, n.end_mark
        value = n.value if isinstance(n, yaml.ScalarNode) else None
        style = getattr(n, "style", None) or None
        out.append(
            (type(n).__name__, n.tag, start.line, start.column, end.line, end.column, style, value)
        )
        if isinstance(n, yaml.MappingNode):
            for key, item in n.value:
                walk(key)
                walk(item)
        elif isinstance(n, yaml.SequenceNode):
            for item in n.value:
                walk(item)

    if node is not None:
        walk(node)
    return out


def _texts() -> list[tuple[str, str]]:
    files = sorted(ROOT.glob("scenarios/**/*.yaml")) + sorted(ROOT.glob("tests/scenarios/*.yaml"))
    found = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in files]
    rnd = random.Random(20251203)
    letters = ["a", "é", "😀", "中", "ß", " ", "x", "'", ":"]
    for i in range(40):
        lines = ["\ufeffformat: 1" if i % 5 == 0 else "format: 1"]
        for j in range(rnd.randint(1, 8)):
            key = "".join(rnd.choice(letters[:5]) for _ in range(rnd.randint(1, 4))).strip()
            value = "".join(rnd.choice(letters[:7]) for _ in range(rnd.randint(0, 6))).strip()
            quoted = rnd.random() < 0.3
            lines.append(f"{key or 'k'}{j}: " + (f'"{value}"' if quoted else value))
            if rnd.random() < 0.3:
                lines.append(f"  - {value or 'v'}")
        end = "\r\n" if i % 3 == 0 else "\n"
        found.append((f"generated-{i}", end.join(lines) + end))
    return found


@pytest.mark.parametrize(("name", "text"), _texts(), ids=[n for n, _ in _texts()])
def test_libyaml_gives_the_pure_python_parsers_nodes_and_marks(name: str, text: str) -> None:
    assert yamlsource._FAST is not None, "PyYAML without libyaml: the fast path is off"
    try:
        expected = yaml.compose(text, Loader=ScenarioLoader)
    except yaml.MarkedYAMLError as exc:  # generated text may not be YAML: same error
        with pytest.raises(yaml.MarkedYAMLError) as raised:
            compose(text)
        assert (raised.value.problem, str(raised.value.problem_mark)) == (
            exc.problem,
            str(exc.problem_mark),
        )
        return
    assert _nodes(yaml.compose(text, Loader=yamlsource._FAST)) == _nodes(expected)
    assert _nodes(compose(text)) == _nodes(expected)


def test_a_file_libyaml_refuses_is_reported_by_the_pure_python_parser(monkeypatch) -> None:
    calls: list[type] = []
    real = yaml.compose

    def spy(text, Loader):  # noqa: N803 - PyYAML's keyword
        calls.append(Loader)
        return real(text, Loader=Loader)

    monkeypatch.setattr(yaml, "compose", spy)
    with pytest.raises(yaml.MarkedYAMLError) as raised:
        compose("a: [1, 2\nb: 3\n")
    assert calls == [yamlsource._FAST, ScenarioLoader]
    # The pure-Python parser's error (libyaml's would say "did not find expected ',' or ']'").
    assert raised.value.problem == "expected ',' or ']', but got ':'"

"""Scenarios that share: ``extends: parent.yaml`` and what a child may override.

A variant of a scenario states only what differs. The child's document is merged over
its parent's (and the parent's over its own parent, if it extends one):

- mappings merge key by key (``actors``, ``parameters``, ``state``, ``define``, an actor's
  ``payoff`` and ``actions``, ...): the child's value wins, mapping into mapping; a key
  set to null (``JP: null``) removes the parent's entry; a parameter given with a
  ``dist`` is replaced whole (each distribution has its own keys), keeping the parent's
  unit, source, confidence and description unless the child gives them;
- lists of items with an ``id`` (``sources``, ``every_round``, ``injects``, ``branches``,
  ``commitments``, ``endings``, ``metrics``) merge by id: a child item with a parent's id
  is merged into it, ``remove: true`` deletes it (an item with the same id later in
  the child is then a new item: that is how to move one), a new id is appended (a new
  ending goes before the parent's fallback); an id twice in the child is an error;
- any other value is replaced.

Every merged value keeps its position in the file it came from, so a problem is
reported at the child's line or at the parent's. The merged document is what runs: its
YAML text (without ``extends``) is what a results folder stores, so a batch replays
without the files it was built from.
"""

from __future__ import annotations

import os
from pathlib import Path as FilePath
from typing import Any

import yaml

from sim.errors import Problem, ScenarioError
from sim.language.yamlsource import Path, Position, SourceMap

#: Sections that are lists of items merged by id.
ID_LISTS = ("sources", "every_round", "injects", "branches", "commitments", "endings", "metrics")
#: How deep a chain of ``extends`` may go.
MAX_CHAIN = 10


def _item_id(item: Any) -> str | None:
    if isinstance(item, dict):
        found = item.get("id")
        return found if isinstance(found, str) else None
    if isinstance(item, str):  # a metric's shorthand
        return item
    return None


class _Merger:
    def __init__(self, parent: SourceMap, child: SourceMap):
        self.parent = parent
        self.child = child
        self.out = SourceMap(child.file, texts={**parent.texts, **child.texts})

    def _place(self, source: SourceMap, position: Position | None) -> Position | None:
        if position is None:
            return None
        return Position(position.line, position.col, position.style, source.file_of(position))

    def copy(self, value: Any, source: SourceMap, at: Path, to: Path) -> Any:
        """Record the positions of ``value`` (from ``source`` at ``at``) under ``to``."""
        found = self._place(source, source.values.get(at))
        if found is not None:
            self.out.values[to] = found
        if isinstance(value, dict):
            for key, item in value.items():
                key_pos = self._place(source, source.keys.get((*at, key)))
                if key_pos is not None:
                    self.out.keys[(*to, key)] = key_pos
                self.copy(item, source, (*at, key), (*to, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.copy(item, source, (*at, i), (*to, i))
        return value

    def merge(self, parent: Any, p_at: Path, child: Any, c_at: Path, to: Path) -> Any:
        replaces = len(to) == 2 and to[0] == "parameters" and isinstance(child, dict)
        if replaces and "dist" in child:
            # A new distribution replaces the parameter (its keys differ by distribution),
            # keeping what the parent said of it unless the child says it again.
            kept = {}
            if isinstance(parent, dict):
                for key in ("unit", "source", "confidence", "description", "context_only"):
                    if key in parent and key not in child:
                        kept[key] = self.copy(parent[key], self.parent, (*p_at, key), (*to, key))
                        key_pos = self._place(self.parent, self.parent.keys.get((*p_at, key)))
                        if key_pos is not None:
                            self.out.keys[(*to, key)] = key_pos
            replaced = self.copy(child, self.child, c_at, to)
            return {**replaced, **kept}
        if isinstance(parent, dict) and isinstance(child, dict):
            found = self._place(self.child, self.child.values.get(c_at))
            if found is not None:
                self.out.values[to] = found
            merged: dict[str, Any] = {}
            for key, value in parent.items():
                if key in child:
                    if child[key] is None:
                        continue  # removed by the child
                    key_pos = self._place(self.child, self.child.keys.get((*c_at, key)))
                    if key_pos is not None:
                        self.out.keys[(*to, key)] = key_pos
                    merged[key] = self.merge(
                        value, (*p_at, key), child[key], (*c_at, key), (*to, key)
                    )
                else:
                    key_pos = self._place(self.parent, self.parent.keys.get((*p_at, key)))
                    if key_pos is not None:
                        self.out.keys[(*to, key)] = key_pos
                    merged[key] = self.copy(value, self.parent, (*p_at, key), (*to, key))
            for key, value in child.items():
                if key in parent or value is None:
                    continue
                key_pos = self._place(self.child, self.child.keys.get((*c_at, key)))
                if key_pos is not None:
                    self.out.keys[(*to, key)] = key_pos
                merged[key] = self.copy(value, self.child, (*c_at, key), (*to, key))
            return merged
        if (
            isinstance(parent, list)
            and isinstance(child, list)
            and len(to) == 1
            and to[0] in ID_LISTS
        ) or (len(to) == 2 and to == ("scenario", "sources")):
            return self.merge_list(parent, p_at, child, c_at, to)
        return self.copy(child, self.child, c_at, to)

    def merge_list(
        self, parent: list[Any], p_at: Path, child: list[Any], c_at: Path, to: Path
    ) -> list[Any]:
        """Merge two lists of items by id (see the module docstring)."""
        found = self._place(self.child, self.child.values.get(c_at))
        if found is not None:
            self.out.values[to] = found
        removed = {
            _item_id(item)
            for item in child
            if isinstance(item, dict) and item.get("remove") is True and _item_id(item)
        }
        by_id: dict[str, int] = {}
        for j, item in enumerate(child):
            key = _item_id(item)
            if key is None or (isinstance(item, dict) and item.get("remove") is True):
                continue
            if key in by_id:
                where = self.child.where((*c_at, j))
                raise ScenarioError(
                    [
                        Problem(
                            self.child.file_of(where),
                            where.line,
                            where.col,
                            f"duplicate id '{key}' in {to[-1]}",
                        )
                    ]
                )
            by_id[key] = j
        items: list[tuple[str, Any, Path, Any, Path | None]] = []
        for i, item in enumerate(parent):
            key = _item_id(item)
            if key is not None and key in removed:
                continue  # removed; a child item with the same id is a new item
            if key is not None and key in by_id:
                j = by_id.pop(key)
                items.append(("both", item, (*p_at, i), child[j], (*c_at, j)))
            else:
                items.append(("parent", item, (*p_at, i), None, None))
        fresh = [(j, child[j]) for j in sorted(by_id.values())]
        fresh += [(j, item) for j, item in enumerate(child) if _item_id(item) is None]
        insert_at = len(items)
        if (
            to == ("endings",)
            and items
            and isinstance(items[-1][1], dict)
            and "when" not in items[-1][1]
        ):
            insert_at -= 1  # new endings go before the parent's fallback
        new = [("child", item, (*c_at, j), None, None) for j, item in fresh]
        items = items[:insert_at] + new + items[insert_at:]
        merged = []
        for n, (origin, item, at, other, other_at) in enumerate(items):
            where = (*to, n)
            if origin == "both":
                assert other_at is not None
                merged.append(self.merge(item, at, other, other_at, where))
            elif origin == "parent":
                merged.append(self.copy(item, self.parent, at, where))
            else:
                merged.append(self.copy(item, self.child, at, where))
        return merged


def resolve(
    data: dict[str, Any],
    source: SourceMap,
    read: Any,
    chain: tuple[str, ...] = (),
) -> tuple[dict[str, Any], SourceMap]:
    """Merge a document over the scenario it ``extends`` (recursively).

    Args:
        data: The child's document (a mapping).
        source: Its positions.
        read: ``read(path) -> (data, source)`` loads a parent file (the YAML loader).
        chain: Files already on the way (to report a cycle).

    Returns:
        The merged document, without ``extends``, and its positions.

    Raises:
        ScenarioError: If the parent cannot be read, is invalid YAML, or the chain loops.
    """
    target = data.get("extends")
    if target is None:
        return data, source
    where = source.where(("extends",))
    if not isinstance(target, str) or not target.strip():
        raise ScenarioError(
            [source.problem(("extends",), "extends: the path of another scenario file")]
        )
    base = FilePath(source.file).parent
    parent_path = os.path.normpath(base / target) if not FilePath(target).is_absolute() else target
    resolved = str(FilePath(parent_path).resolve())
    if resolved in chain or str(FilePath(source.file).resolve()) == resolved:
        message = f"extends: {target} extends this file again (a cycle)"
        raise ScenarioError([Problem(source.file_of(where), where.line, where.col, message)])
    if len(chain) >= MAX_CHAIN:
        message = f"extends: more than {MAX_CHAIN} files in a chain of extends"
        raise ScenarioError([Problem(source.file_of(where), where.line, where.col, message)])
    try:
        parent, parent_source = read(parent_path)
    except OSError as exc:
        message = f"extends: cannot read {target}: {exc.strerror or exc}"
        raise ScenarioError(
            [Problem(source.file_of(where), where.line, where.col, message)]
        ) from None
    if not isinstance(parent, dict):
        raise ScenarioError([parent_source.problem((), "a scenario must be a mapping of sections")])
    parent, parent_source = resolve(
        parent, parent_source, read, (*chain, str(FilePath(source.file).resolve()))
    )
    child = {k: v for k, v in data.items() if k != "extends"}
    merger = _Merger(parent_source, source)
    merged = merger.merge(parent, (), child, (), ())
    return merged, merger.out


def dump(data: dict[str, Any], origin: str) -> str:
    """The merged document as self-contained YAML text (what a results folder stores)."""
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=88)
    return f"# {origin}: merged with the scenarios it extends\n{body}"

"""A profile's YAML with positions: every value and key knows its line and column.

``yaml.compose`` gives nodes with ``start_mark``; this walks them into plain Python values
and keeps a map from each value's path (``("common", "jobs", "stirring", "actions", 0)``) to
its node, so a problem found in the data can point at the YAML that holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class Document:
    """The loaded data and where each part of it sits in the file."""

    text: str
    data: Any
    filename: str = "<profile>"
    values: dict[Path_, yaml.Node] = field(default_factory=dict)
    keys: dict[Path_, yaml.Node] = field(default_factory=dict)
    duplicates: list[tuple[Path_, yaml.Node]] = field(default_factory=list)

    def position(self, path: Path_, *, key: bool = False) -> Position:
        """Where the value at ``path`` starts (``key=True``: where its key starts); a missing
        path falls back to its nearest existing parent."""
        for depth in range(len(path), -1, -1):
            prefix = tuple(path[:depth])
            node = (self.keys.get(prefix) if key and depth == len(path) else None) or self.values.get(prefix)
            if node is not None:
                return Position(node.start_mark.line + 1, node.start_mark.column + 1)
        return Position(1, 1)

    def expression_position(self, path: Path_, offset: int) -> Position:
        """Where character ``offset`` of the string at ``path`` sits, exactly when the string is
        on one line of the file (plain or quoted), else where the string starts."""
        node = self.values.get(path)
        if node is None:
            return self.position(path)
        start, end = node.start_mark, node.end_mark
        if start.line == end.line and isinstance(node, yaml.ScalarNode):
            quote = 1 if node.style in ("'", '"') else 0
            return Position(start.line + 1, start.column + 1 + quote + offset)
        return Position(start.line + 1, start.column + 1)

    def line_text(self, line: int) -> str:
        lines = self.text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""


class YAMLSyntaxError(ValueError):
    """The file is not YAML; ``position`` is where the parser gave up."""

    def __init__(self, message: str, position: Position, hint: str = "") -> None:
        super().__init__(message)
        self.position = position
        self.hint = hint


def load(text: str, filename: str = "<profile>") -> Document:
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            position = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
            problem = " ".join(part for part in (err.context, err.problem) if part)
            raise YAMLSyntaxError(
                f"the file is not valid YAML: {problem}",
                position,
                hint=_syntax_hint(text, position),
            ) from None
        document = Document(text, None, filename)
        document.data = _walk(loader, root, (), document) if root is not None else None
        return document
    finally:
        loader.dispose()


def load_file(path: Path) -> Document:
    return load(path.read_text(encoding="utf-8"), str(path))


def _syntax_hint(text: str, position: Position) -> str:
    lines = text.splitlines()
    line = lines[position.line - 1] if 0 < position.line <= len(lines) else ""
    if "\t" in line:
        return "YAML indents with spaces, never tabs"
    if "${{" in text and ": " in line and "${{" in line:
        return 'quote an expression that contains ": ", e.g. if: "${{ a: b }}"'
    return "check the indentation and that every `key: value` has a space after the colon"


def _walk(loader: yaml.SafeLoader, node: yaml.Node, path: Path_, document: Document) -> Any:
    document.values[path] = node
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves YAML merge keys (<<: *anchor)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict)):
                key = str(key)
            child = (*path, key)
            if key in result:
                document.duplicates.append((child, key_node))
            document.keys[child] = key_node
            result[key] = _walk(loader, value_node, child, document)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_walk(loader, item, (*path, index), document) for index, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)

"""Reading YAML with line numbers, so every problem can be reported as `file:line`.

PyYAML silently keeps the last of two duplicate keys; a duplicated key in a rule file would
quietly drop a condition, so duplicates are refused here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engine.errors import Problem

Loc = tuple[str | int, ...]


# libyaml's parser when present (about ten times faster); the constructor and resolver are Python.
# Either way a safe loader: mypy checks the class against SafeLoader's interface, which the C
# loader shares (it exists only when PyYAML was built with libyaml, so it is chosen at run time).
if TYPE_CHECKING:
    _Base = yaml.SafeLoader
else:
    _Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_Base):
    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first at line {seen[key] + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


# Dates stay ISO strings: pydantic parses them and reports bad ones with the field name.
# Booleans are only true/false (YAML 1.2): in YAML 1.1 `on`, `no` and `yes` are booleans too,
# which silently turns a key like `on:` or an answer like `no` into True/False.
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class YamlDocument:
    """A parsed document plus the line of every mapping key and list item in it."""

    def __init__(self, path: str, data: Any, lines: dict[Loc, int]):
        self.path = path
        self.data = data
        self._lines = lines

    def line_of(self, loc: Loc) -> int | None:
        """The line of the deepest known node on the path `loc` (1-based)."""
        loc = tuple(loc)
        while loc:
            if loc in self._lines:
                return self._lines[loc]
            loc = loc[:-1]
        return self._lines.get((), None)


def _walk(node: Node, loc: Loc, lines: dict[Loc, int]) -> None:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode):
                child = (*loc, key_node.value)
                lines[child] = key_node.start_mark.line + 1
                _walk(value_node, child, lines)
                lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*loc, i), lines)


def parse_text(text: str, path: str) -> YamlDocument:
    """Parse YAML (JSON is a subset) and keep line numbers; raise `YamlProblem` on bad syntax."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YamlProblem(Problem(path, line, f"not valid YAML: {exc.problem}")) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Problem(path, None, f"not valid YAML: {exc}")) from None
    finally:
        loader.dispose()
    lines: dict[Loc, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return YamlDocument(path, data, lines)


def read_document(path: Path, max_bytes: int = 5_000_000) -> YamlDocument:
    """Read a YAML or JSON file, refusing files too large to be a real assessment or rule file."""
    name = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise YamlProblem(Problem(name, None, f"cannot read file: {exc.strerror}")) from None
    if size > max_bytes:
        raise YamlProblem(
            Problem(name, None, f"file is {size:,} bytes; the limit is {max_bytes:,} bytes")
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlProblem(Problem(name, None, f"not UTF-8 text ({exc.reason})")) from None
    except OSError as exc:  # a directory, or a file that vanished or is unreadable
        raise YamlProblem(Problem(name, None, f"cannot read file: {exc.strerror}")) from None
    if path.suffix.lower() == ".json":
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise YamlProblem(Problem(name, exc.lineno, f"not valid JSON: {exc.msg}")) from None
    return parse_text(text, name)


class YamlProblem(Exception):
    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem

"""Reading YAML with line numbers, so every problem can be reported as `file:line`.

PyYAML silently keeps the last of two duplicate keys; a duplicated key in a rule file would
quietly drop a condition, so duplicates are refused here.

Input is bounded before anything is built from it: only a regular file is opened, and never more
than the limit plus one byte is read (a device such as /dev/zero says its size is 0); anchors and
aliases are refused (a few hundred bytes of aliases expand to gigabytes), and so is nesting
deeper than `MAX_DEPTH`, for YAML and JSON alike. Each is checked on the parser's events, before
a single node is composed.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from yaml.constructor import ConstructorError
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    NodeEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engine.errors import Problem

Loc = tuple[str | int, ...]

MAX_BYTES = 5_000_000  # far above any real assessment or rule file (the largest is ~60 kB)
MAX_DEPTH = 64  # lists and mappings inside each other; an assessment needs four
ALIASES_REFUSED = "YAML anchors and aliases are not accepted; write each value out in full"


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
            try:
                hash(key)
            except TypeError:  # `? [a, b]`: a list or mapping as a key
                raise ConstructorError(None, None, "a key must be a single value, not a list or "
                                       "mapping", key_node.start_mark) from None
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


def _check_events(text: str, path: str) -> None:
    """Refuse anchors, aliases and deep nesting from the event stream alone (lazy: it stops at
    the first one, before the rest of the text is parsed)."""
    depth = 0
    for event in yaml.parse(text, Loader=_Base):
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, AliasEvent) or (isinstance(event, NodeEvent) and event.anchor):
            raise YamlProblem(Problem(path, line, ALIASES_REFUSED))
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlProblem(Problem(path, line, _too_deep()))
        elif isinstance(event, CollectionEndEvent):
            depth -= 1


def _too_deep() -> str:
    return f"nested more than {MAX_DEPTH} levels deep (lists and mappings inside each other)"


def parse_text(text: str, path: str, max_bytes: int = MAX_BYTES) -> YamlDocument:
    """Parse YAML (JSON is a subset) and keep line numbers; raise `YamlProblem` on bad syntax,
    on text over `max_bytes`, on anchors or aliases, and on nesting deeper than `MAX_DEPTH`."""
    if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise YamlProblem(Problem(path, None, _too_large(max_bytes)))
    loader: _StrictLoader | None = None
    try:
        _check_events(text, path)
        loader = _StrictLoader(text)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YamlProblem(Problem(path, line, f"not valid YAML: {exc.problem}")) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (a control character)
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        char = f" (U+{exc.character:04X})" if isinstance(exc.character, int) else ""
        raise YamlProblem(Problem(path, line, f"not valid YAML: {exc.reason}{char}")) from None
    except yaml.YAMLError as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise YamlProblem(Problem(path, None, f"not valid YAML: {first}")) from None
    finally:
        if loader is not None:
            loader.dispose()
    lines: dict[Loc, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return YamlDocument(path, data, lines)


_NOT_REGULAR = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                (stat.S_ISSOCK, "a socket"))


def _not_regular(mode: int) -> str | None:
    """Why a file of this mode is not read (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _NOT_REGULAR if test(mode)), "not a file")
    return f"not a regular file ({kind}); give the path of a YAML or JSON file"


def _too_large(max_bytes: int) -> str:
    return f"file is too large: the limit is {max_bytes:,} bytes"


def read_bounded(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file, refusing anything else (a directory, a FIFO, a device, a
    socket) and any file longer than `max_bytes`. At most `max_bytes + 1` bytes are read, so a
    file that grows, or a device that reports no size, can never be read whole."""
    name = str(path)
    try:
        why = _not_regular(os.stat(path).st_mode)  # before opening: opening a FIFO would wait
        if why:
            raise YamlProblem(Problem(name, None, why))
        # Non-blocking, in case the path was swapped for a FIFO since; checked again once open.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:  # missing, unreadable, or a path through something not a folder
        raise YamlProblem(Problem(name, None, f"cannot read file: {exc.strerror}")) from None
    with os.fdopen(fd, "rb") as file:
        why = _not_regular(os.fstat(file.fileno()).st_mode)
        if why:
            raise YamlProblem(Problem(name, None, why))
        try:
            data = file.read(max_bytes + 1)
        except OSError as exc:
            raise YamlProblem(Problem(name, None, f"cannot read file: {exc.strerror}")) from None
    if len(data) > max_bytes:
        raise YamlProblem(Problem(name, None, _too_large(max_bytes)))
    return data


def read_document(path: Path, max_bytes: int = MAX_BYTES) -> YamlDocument:
    """Read a YAML or JSON file (a regular file of at most `max_bytes`) and parse it."""
    name = str(path)
    try:
        text = read_bounded(path, max_bytes).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlProblem(Problem(name, None, f"not UTF-8 text ({exc.reason})")) from None
    if path.suffix.lower() != ".json":
        return parse_text(text, name, max_bytes)
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise YamlProblem(Problem(name, exc.lineno, f"not valid JSON: {exc.msg}")) from None
    except RecursionError:  # far deeper than MAX_DEPTH: parse_text names the line otherwise
        raise YamlProblem(Problem(name, None, _too_deep())) from None
    except _DuplicateKey as exc:
        try:
            parse_text(text, name, max_bytes)  # names the line, where YAML can read the text
        except YamlProblem as located:
            if "duplicate key" in located.problem.message:
                raise located from None
        raise YamlProblem(Problem(name, None, f"duplicate key {exc.args[0]!r}")) from None
    try:  # the line numbers; the data is JSON's (YAML 1.1 reads 1e3 as text, JSON as a number)
        return YamlDocument(name, data, parse_text(text, name, max_bytes)._lines)
    except YamlProblem as exc:
        # Valid JSON that YAML cannot read (a surrogate pair escaped as \ud83d\ude00, as
        # json.dumps writes an emoji; a raw DEL): read as JSON, without line numbers, as deep
        # as allowed.
        if _nesting(data) <= MAX_DEPTH:
            return YamlDocument(name, data, {})
        if exc.problem.message == _too_deep():
            raise
        raise YamlProblem(Problem(name, None, _too_deep())) from None


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key given twice (json.loads would keep the last silently)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _nesting(data: Any) -> int:
    """How deep lists and mappings go in parsed data (without recursion)."""
    deepest, todo = 0, [(data, 0)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth + 1)
            todo.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict)
                                                          else item))
    return deepest


class YamlProblem(Exception):
    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem

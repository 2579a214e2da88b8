"""Turning pydantic validation errors into located problems (`file:line id: message`)."""

from __future__ import annotations

import re

from pydantic import ValidationError

from engine.errors import Problem
from engine.knowledge.yamlio import Loc, YamlDocument


def problems_from(
    exc: ValidationError, doc: YamlDocument, base: Loc = (), rule_id: str | None = None
) -> list[Problem]:
    errors = [(tuple(p for p in err["loc"] if not _is_union_tag(p)), err)
              for err in exc.errors(include_url=False)]
    # An answer may be a value or {not_applicable: reason}; pydantic reports a miss against each
    # branch. Keep the error that matches what was written: the value's, unless the person wrote
    # a not-applicable mapping (then its inner error).
    locs = [loc for loc, _ in errors]
    out = []
    for loc, err in errors:
        if "NotApplicable" in err["msg"] and locs.count(loc) > 1:
            continue
        if any(other[: len(loc)] == loc and len(other) > len(loc) for other in locs):
            continue
        field = ".".join(str(p) for p in loc) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field (not part of the model)"
        out.append(Problem(doc.path, doc.line_of((*base, *loc)), f"{field}: {msg}", rule_id))
    return out


_FIELD = re.compile(r"^[a-z_][a-z0-9_]*$")
_TYPE_TAGS = {"bool", "int", "str", "date", "float", "dict", "list"}


def _is_union_tag(part: object) -> bool:
    # pydantic puts the member type of a union in the location ("bool", "NotApplicable",
    # "list[enum]" ...); field names are snake_case, so anything else is a type tag.
    return isinstance(part, str) and (not _FIELD.match(part) or part in _TYPE_TAGS)

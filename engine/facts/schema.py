"""From a validated assessment to the flat fact durable_rules matches on.

The fact schema is derived from the pydantic models, so rules can be checked against it:
every path a rule reads must exist, and every predicate must suit the answer's type.

Encoding (durable_rules reads a dotted key exactly as it reads a nested path):
- scalars keep their JSON value; dates become day numbers so rules can add days to them;
- a list of a controlled vocabulary becomes one true/false flag per member (`path.member`),
  so "contains" and "does not contain" are plain equality tests;
- any other list becomes its length, and a list of sections also says how many of its items
  leave each optional answer blank (`alternatives.without_why_not_enough`), a derived fact that
  is never asked for itself;
- "not applicable" becomes `na.<path>: true` and the answer itself is left out;
- unanswered questions are left out (durable_rules treats null as present).
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel

from engine.models.answers import NotApplicable
from engine.models.assessment import FACT_OF_CASE, AnyAssessment, IndividualUseCheck, ProcurementAssessment

NA_PREFIX = "na."
EPOCH = dt.date(1970, 1, 1)
# durable_rules refuses facts with more than 255 properties after flattening (error 302); the
# compiler adds up to 32 `lane.<k>` properties and the runtime a sid.
MAX_PROPERTIES = 220

FactKind = Literal["bool", "enum", "enum_list", "int", "date", "text", "count"]
MODELS: dict[str, type[BaseModel]] = {
    "procurement": ProcurementAssessment,
    "individual_use": IndividualUseCheck,
}


@dataclass(frozen=True)
class FactSpec:
    path: str
    kind: FactKind
    question: str
    members: tuple[str, ...] = ()
    allows_na: bool = False
    fact_of_case: bool = False  # a remedy never changes it (see models.assessment.fact)
    source: str | None = None  # for a derived fact: the question it is computed from

    @property
    def asked(self) -> bool:
        """A question a person answers (derived facts are computed, never asked)."""
        return self.source is None

    def keys(self) -> list[str]:
        """The fact keys this answer occupies when answered."""
        if self.kind == "enum_list":
            return [f"{self.path}.{m}" for m in self.members]
        return [self.path]


def day_number(value: dt.date) -> int:
    return (value - EPOCH).days


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types in an annotation, without None, NotApplicable or Annotated."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_unwrap(arg))
        return out
    if annotation is type(None) or annotation is NotApplicable:
        return []
    return [annotation]


def _allows_na(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _allows_na(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_allows_na(a) for a in typing.get_args(annotation))
    return annotation is NotApplicable


def _is_model(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, BaseModel)


def _is_enum(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, Enum)


def _spec_for(path: str, annotation: Any, question: str, case: bool = False) -> FactSpec | None:
    kinds = _unwrap(annotation)
    if len(kinds) != 1:
        raise TypeError(f"{path}: one answer type expected, got {kinds}")
    t = kinds[0]
    na = _allows_na(annotation)
    if typing.get_origin(t) is list:
        (item,) = _unwrap(typing.get_args(t)[0])
        if _is_enum(item):
            return FactSpec(path, "enum_list", question, tuple(m.value for m in item), na, case)
        return FactSpec(path, "count", question, (), na, case)
    if typing.get_origin(t) is Literal:
        return None  # the context discriminator becomes the fact's `kind`
    if t is bool:
        return FactSpec(path, "bool", question, (), na, case)
    if _is_enum(t):
        return FactSpec(path, "enum", question, tuple(m.value for m in t), na, case)
    if t is int:
        return FactSpec(path, "int", question, (), na, case)
    if t is dt.date:
        return FactSpec(path, "date", question, (), na, case)
    if t is str:
        return FactSpec(path, "text", question, (), na, case)
    raise TypeError(f"{path}: no fact encoding for {t!r}")


def _walk(model: type[BaseModel], prefix: str, out: dict[str, FactSpec]) -> None:
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        kinds = _unwrap(field.annotation)
        if len(kinds) == 1 and _is_model(kinds[0]):
            _walk(kinds[0], f"{path}.", out)
            continue
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        spec = _spec_for(path, field.annotation, field.description or name,
                         bool(extra.get(FACT_OF_CASE)))
        if spec is None:
            continue
        out[path] = spec
        if spec.kind == "count":
            out.update(_blank_counts(path, field.annotation, spec))


def _blank_counts(path: str, annotation: Any, spec: FactSpec) -> dict[str, FactSpec]:
    """For a list of sections: one derived count per optional answer of its items."""
    (item,) = _unwrap(typing.get_args(_unwrap(annotation)[0])[0])
    if not _is_model(item):
        return {}
    return {f"{path}.without_{name}": FactSpec(
                f"{path}.without_{name}", "int",
                f"{spec.question}: how many leave '{f.description or name}' unanswered", (),
                False, spec.fact_of_case, source=path)
            for name, f in item.model_fields.items() if not f.is_required()}


@cache
def fact_specs(context: str) -> dict[str, FactSpec]:
    """Every question of a context, by dotted path."""
    out: dict[str, FactSpec] = {}
    _walk(MODELS[context], "", out)
    return out


def _get(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


@dataclass(frozen=True)
class FactView:
    """The fact for durable_rules, plus what was answered "not applicable" and why."""

    fact: dict[str, Any]
    not_applicable: dict[str, str]


def encode_answer(spec: FactSpec, value: Any) -> dict[str, Any]:
    """The fact keys for one answer (already validated by the model, or checked by the caller)."""
    if isinstance(value, dict) and set(value) == {"not_applicable"}:
        return {NA_PREFIX + spec.path: True}
    if spec.kind == "enum_list":
        chosen = {getattr(m, "value", m) for m in value}
        return {f"{spec.path}.{member}": member in chosen for member in spec.members}
    if spec.kind == "count":
        return {spec.path: len(value)}
    if spec.kind == "date":
        if isinstance(value, str):
            value = dt.date.fromisoformat(value)
        return {spec.path: day_number(value)}
    return {spec.path: getattr(value, "value", value)}


def to_fact(assessment: AnyAssessment) -> FactView:
    context = assessment.context
    data = assessment.model_dump(mode="python", exclude_none=True)
    fact: dict[str, Any] = {"kind": context}
    not_applicable: dict[str, str] = {}
    for path, spec in fact_specs(context).items():
        value = _get(data, spec.source or path)
        if value is None:
            continue
        if spec.source is not None:
            if isinstance(value, list):
                leaf = path.rsplit(".without_", 1)[1]
                fact[path] = sum(1 for item in value if item.get(leaf) is None)
            continue
        if isinstance(value, dict) and set(value) == {"not_applicable"}:
            not_applicable[path] = value["not_applicable"]
        fact.update(encode_answer(spec, value))
    return FactView(fact, not_applicable)

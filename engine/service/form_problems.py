"""A form's answers checked against the assessment models, each problem told the way a person
filling in the form can act on it: the question by its wording, what to do in plain English, and
never a field path or a regular expression (GOV.UK error messages: say what happened and how to
fix it). Also the length limit of each typed answer, so a form can enforce it as it is typed."""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from engine.knowledge.questions import Question
from engine.models.assessment import IndividualUseCheck, ProcurementAssessment

MODELS: dict[str, type[BaseModel]] = {"procurement": ProcurementAssessment,
                                      "individual_use": IndividualUseCheck}
NA = "not_applicable"
_FIELD = re.compile(r"^[a-z_][a-z0-9_]*$")
_TYPE_TAGS = {"bool", "int", "str", "date", "float", "dict", "list"}
# A pattern of one leading character class then a bounded run: ^[...][...]{m,n}$ (the patient
# reference); its longest match is n + 1 characters.
_BOUNDED_PATTERN = re.compile(r"^\^\[[^\]]+\]\[[^\]]+\]\{\d+,(\d+)\}\$$")
# What a pattern asks, in words, for the fields that have one (a regular expression is never shown).
PATTERN_WORDS = {
    "patient.reference": "Use the patient's local reference: 3 to 32 letters or digits, with no "
                         "spaces (dots, dashes and underscores are allowed); never a name or NHS "
                         "number",
}


@dataclass(frozen=True)
class FormProblem:
    """One problem: the question it belongs to (`path` "" when it concerns the whole form) and
    what to do about it, in words."""

    path: str
    question: str
    message: str

    @property
    def text(self) -> str:
        return f"{self.question}: {self.message}" if self.question else self.message


def form_problems(data: dict[str, Any], qs: list[Question]) -> list[FormProblem]:
    """Every problem in `data` (a nested assessment, as the form builds it), in question order;
    empty when the models accept it."""
    model = MODELS.get(str(data.get("context")))
    if model is None:
        return [FormProblem("", "", "The form does not say whether it assesses a product or checks "
                                    "a use for a patient")]
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return _sorted(_problems(exc, data, qs), qs)
    return []


def _problems(exc: ValidationError, data: dict[str, Any], qs: list[Question]) -> list[FormProblem]:
    by_path = {q.path: q for q in qs}
    out: list[FormProblem] = []
    for err in exc.errors(include_url=False):
        raw = tuple(err["loc"])
        loc = tuple(p for p in raw if not _is_union_tag(p))
        path, rest = _question_of(loc, by_path)
        answer = _get(data, path) if path else None
        said_na = isinstance(answer, dict) and NA in answer
        if path and said_na != ("NotApplicable" in raw or rest[:1] == (NA,)):
            continue  # the error of the other kind of answer (a value, or "not applicable")
        if err["type"] == "missing" and not path:
            out.extend(_missing_under(".".join(str(p) for p in loc), data, qs))
            continue
        message = _message(err, str(data.get("context")), path, rest)
        if not path:  # a check across answers: linked to the first question its message names
            path, message = _named(message, by_path)
        question = by_path[path].spec.question if path else ""
        out.append(FormProblem(path, question, message))
    return list(dict.fromkeys(out))  # the same problem once


def _named(message: str, by_path: dict[str, Question]) -> tuple[str, str]:
    """A message about several answers, each field path it names put in the question's words."""
    named = [p for p in sorted(by_path, key=len, reverse=True) if p in message]
    for path in named:
        message = message.replace(path, f"'{by_path[path].spec.question}'")
    first = min(named, key=lambda p: list(by_path).index(p)) if named else ""
    return first, message


def _sorted(problems: list[FormProblem], qs: list[Question]) -> list[FormProblem]:
    order = {q.path: i for i, q in enumerate(qs)}
    return sorted(problems, key=lambda p: order.get(p.path, -1))


def _is_union_tag(part: object) -> bool:
    # pydantic names the member of a union it tried ("bool", "NotApplicable", "constrained-int",
    # "function-after[...]"); field names are snake_case, so anything else is such a tag.
    return isinstance(part, str) and (not _FIELD.match(part) or part in _TYPE_TAGS)


def _question_of(loc: tuple[Any, ...], by_path: dict[str, Question]) -> tuple[str, tuple[Any, ...]]:
    """The question a location belongs to (its longest prefix that is a question) and the rest
    (a list item, a field of it, `not_applicable`)."""
    for end in range(len(loc), 0, -1):
        if all(isinstance(p, str) for p in loc[:end]):
            path = ".".join(loc[:end])
            if path in by_path:
                return path, loc[end:]
    return "", loc


def _get(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _missing_under(prefix: str, data: dict[str, Any], qs: list[Question]) -> list[FormProblem]:
    """A whole section missing (nothing answered in it): each of its questions that needs an
    answer, by name."""
    model = MODELS[str(data.get("context"))]
    out = [FormProblem(q.path, q.spec.question, "Answer this question: it is needed for a decision")
           for q in qs if (not prefix or q.path.startswith(prefix + "."))
           and _required(model, q.path) and _get(data, q.path) is None]
    return out or [FormProblem("", "", f"Answer the questions about {prefix.replace('_', ' ')}")]


def _message(err: Any, context: str, path: str, rest: tuple[Any, ...]) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if rest[-1:] == (NA,):
        if kind in ("string_too_short", "missing"):
            return "Give a reason of at least 3 characters why this does not apply"
        prefix = "The reason why this does not apply: "
    elif rest and isinstance(rest[0], int):
        part = _field(context, f"{path}.{rest[1]}") if len(rest) > 1 else None
        field = f"'{part.description}'" if part is not None and part.description else ""
        if field and (kind == "missing" or (kind == "string_too_short"
                                            and ctx.get("min_length") == 1)):
            return f"Entry {rest[0] + 1}: {field} needs an answer"
        prefix = f"Entry {rest[0] + 1}" + (f", {field}: " if field else ": ")
    else:
        return _plain(kind, ctx, err, path)
    plain = _plain(kind, ctx, err, path)
    return prefix + plain[:1].lower() + plain[1:]


def _plain(kind: str, ctx: dict[str, Any], err: Any, path: str) -> str:
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return "Answer this question: it is needed for a decision"
    if kind == "string_too_short":
        return f"Use at least {ctx.get('min_length')} characters"
    if kind == "string_too_long":
        typed = err.get("input")
        used = f" (this answer has {len(typed)})" if isinstance(typed, str) else ""
        return f"Use {ctx.get('max_length')} characters or fewer{used}"
    if kind == "string_pattern_mismatch":
        return PATTERN_WORDS.get(path, "This answer is not in the form expected")
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {"greater_than_equal": "of {} or more", "greater_than": "more than {}",
                 "less_than_equal": "of {} or less", "less_than": "less than {}"}[kind]
        return "Enter a number " + words.format(next(iter(ctx.values()), ""))
    if kind.startswith("int_") or kind == "float_parsing":
        return "Enter a whole number"
    if kind.startswith(("date_", "datetime_")):
        return "Enter a real date (day, month and year)"
    if kind.startswith("bool_") or kind in ("enum", "literal_error"):
        return "Choose one of the answers offered"
    if kind in ("value_error", "assertion_error"):
        text = str(ctx.get("error") or err["msg"]).removeprefix("Value error, ")
        return text[:1].upper() + text[1:]
    if kind == "extra_forbidden":
        return "The form sent an answer this assessment does not take: start the form again"
    return "This answer was not understood: answer the question again"


# --- what a form asks of each answer --------------------------------------------------------------

def _field(context: str, path: str) -> FieldInfo | None:
    model: Any = MODELS[context]
    info = None
    for part in path.split("."):
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return None
        info = fields[part]
        model = _model_in(info.annotation)
    return info


def _model_in(annotation: Any) -> Any:
    """The section (model) a field holds, directly or as the items of a list."""
    for t in _members(annotation):
        if typing.get_origin(t) is list:
            return _model_in(typing.get_args(t)[0])
        if isinstance(t, type) and issubclass(t, BaseModel):
            return t
    return None


def _members(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(annotation) for m in _members(a)]
    return [annotation]


def _required(model: type[BaseModel], path: str) -> bool:
    parts = path.split(".")
    current: Any = model
    for part in parts:
        fields = getattr(current, "model_fields", {})
        if part not in fields or not fields[part].is_required():
            return False
        current = _model_in(fields[part].annotation)
    return True


def _constraints(annotation: Any, metadata: list[Any]) -> list[Any]:
    """Every constraint object attached to a field, however deeply its type is annotated."""
    found = list(metadata)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        found += _constraints(base, list(extra))
    elif origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found += _constraints(arg, [])
    return found


@cache
def text_limit(context: str, path: str) -> int | None:
    """The most characters a typed answer may hold (None: no limit the model states), for the
    form to enforce while it is typed (`max_chars`)."""
    info = _field(context, path)
    if info is None or typing.get_origin(_members(info.annotation)[0]) is list:
        return None
    limits = []
    for c in _constraints(info.annotation, list(info.metadata)):
        if getattr(c, "max_length", None):
            limits.append(int(c.max_length))
        pattern = getattr(c, "pattern", None)
        bounded = _BOUNDED_PATTERN.match(pattern) if isinstance(pattern, str) else None
        if bounded:
            limits.append(int(bounded.group(1)) + 1)
    return min(limits) if limits else None


@cache
def reason_limit() -> int:
    """The most characters the reason for "not applicable" may hold."""
    from engine.models.answers import NotApplicable
    info = NotApplicable.model_fields[NA]
    found = [int(c.max_length) for c in _constraints(info.annotation, list(info.metadata))
             if getattr(c, "max_length", None)]
    return min(found) if found else 2000


def needs_answer(context: str, path: str) -> bool:
    """Whether the models refuse an assessment without this answer."""
    return _required(MODELS[context], path)

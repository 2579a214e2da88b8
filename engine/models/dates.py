"""Dates that make sense together: the orders new input may not have, and the one clock they are
judged against.

A record made on its assessment date can only record what had happened by then: a capacity
assessment, a penetration test, a review held or an override decided after the assessment date, or
after today, is a typing error. A use's review comes after it starts; on a first check (or a use
that has not started yet) the review also comes after the assessment. A review date before the
assessment date is otherwise allowed: that is an overdue review, which the rules judge.

Dates that expire or fall due (certificates, DPIA and policy reviews, the product decision's review
date) have no order here: one in the past is a finding, not an impossibility.

The checks refuse new input only. A stored assessment is read again with the lenient context
(answers.LENIENT), which skips them, and what they would refuse is flagged for review instead
(engine/service/reevaluate.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError, ValidationInfo
from pydantic_core import InitErrorDetails, PydanticCustomError

from engine.models.answers import EARLIEST, LATEST, LENIENT, NotApplicable

# --- the clock: every "today" of the date checks, frozen by tests -------------------------------

_FROZEN: ContextVar[dt.date | None] = ContextVar("dtpa_today", default=None)


# NHS England's services keep UK time: on a UTC server in summer, 00:30 on the ward is still
# yesterday in UTC, and a date typed that night must not be refused as the future.
UK = ZoneInfo("Europe/London")


def today() -> dt.date:
    """The date the checks treat as today: the date in the UK unless a test froze it."""
    return _FROZEN.get() or dt.datetime.now(UK).date()


@contextmanager
def today_is(day: dt.date) -> Iterator[None]:
    """Within the block (in this thread or task), `today()` is `day`."""
    token = _FROZEN.set(day)
    try:
        yield
    finally:
        _FROZEN.reset(token)


# --- the checks ---------------------------------------------------------------------------------

# "When was it done" dates, by context: on or before the assessment date, never in the future.
DONE = {
    "procurement": {
        "assurance.penetration_test_date": "Date of the last penetration test",
    },
    "individual_use": {
        "capacity.assessed_on": "Date capacity was assessed",
        "override_of_refusal.decided_on": "Date the responsible clinician decided to override "
                                          "the refusal",
        "review.last_review_on": "Date of the last review",
    },
}

# Each problem is a pydantic "value_error" whose message is the sentence itself (as a ValueError's
# would be, without "Value error, " before it), so every reader of value errors shows it as it
# is; MARK in its context tells a date problem from the others.
MARK = "date_order"


@dataclass(frozen=True)
class DateProblem:
    path: str  # the dotted field path the problem is reported against
    message: str


Answer = Callable[[str], Any]  # the answer at a dotted path (a date, another answer, or None)


def date_problems(context: str, answer: Answer, now: dt.date) -> list[DateProblem]:
    """Every impossible order among the dates answered, one problem each, in plain English."""
    def day(path: str) -> dt.date | None:
        value = answer(path)
        # a date out of range has its own error (answers.Day) and no order worth checking
        return value if isinstance(value, dt.date) and EARLIEST <= value <= LATEST else None

    problems = []
    assessed = day("assessed_on")
    if assessed and assessed > now:
        problems.append(DateProblem("assessed_on", (
            f"Assessment date ({assessed}) is in the future (today is {now}): an assessment is "
            "dated on or before the day it is made.")))
    for path, label in DONE.get(context, {}).items():
        done = day(path)
        if done and done > now:
            problems.append(DateProblem(path, (
                f"{label} ({done}) is in the future (today is {now}): it must be a date that "
                "has already happened.")))
        elif done and assessed and done > assessed:
            problems.append(DateProblem(path, (
                f"{label} ({done}) is after the assessment date ({assessed}): an assessment can "
                "only record what had happened by its date.")))
    if context == "individual_use":
        problems += _review_order(day, answer, assessed)
    return problems


def _review_order(day: Callable[[str], dt.date | None], answer: Answer,
                  assessed: dt.date | None) -> list[DateProblem]:
    start, review = day("proposed_use.start"), day("review.review_date")
    first_check = _not_applicable(answer("review.last_review_held"))
    not_started = start is not None and assessed is not None and start >= assessed
    if review and assessed and review < assessed and (first_check or not_started):
        # one wrong review date, one message (it is then before the start too)
        return [DateProblem("review.review_date", (
            f"Review date ({review}) is before the assessment date ({assessed}): the review must "
            "come after the assessment."))]
    if start and review and start > review:
        return [DateProblem("proposed_use.start", (
            f"Start date ({start}) is after the review date ({review}): the use must start "
            "before it is reviewed."))]
    return []


def _not_applicable(value: Any) -> bool:
    return isinstance(value, NotApplicable) or (isinstance(value, dict) and "not_applicable" in value)


# --- where the answers come from ----------------------------------------------------------------

def model_answer(model: BaseModel) -> Answer:
    def answer(path: str) -> Any:
        node: Any = model
        for part in path.split("."):
            node = getattr(node, part, None)
        return node
    return answer


def raw_answer(data: Any) -> Answer:
    """Answers as written (a mapping, dates as ISO text or dates), for listing date problems
    beside other invalid answers, which stop the model before its own date check runs."""
    def answer(path: str) -> Any:
        node = data
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, str):
            try:
                return dt.date.fromisoformat(node.strip())
            except ValueError:
                return None
        return node
    return answer


def beside(data: Any, errors: list[Any]) -> list[DateProblem]:
    """The date problems of answers as written (`data`, a mapping) that failed validation for
    other reasons (`errors`, pydantic's): an invalid answer stops the model before its own date
    check runs, so every problem can still be listed at once. None when the model's check ran, and
    none at a field that already has an error."""
    if not isinstance(data, dict) or any((e.get("ctx") or {}).get(MARK) for e in errors):
        return []
    wrong = [".".join(str(p) for p in e["loc"]) for e in errors]
    return [p for p in date_problems(str(data.get("context")), raw_answer(data), today())
            if not any(w == p.path or w.startswith(p.path + ".") for w in wrong)]


def refuse_impossible_dates(assessment: BaseModel, info: ValidationInfo) -> None:
    """The model's check: a pydantic error at each field whose date makes no sense, unless the
    assessment is a stored one read again (lenient)."""
    if isinstance(info.context, dict) and info.context.get(LENIENT):
        return
    answer = model_answer(assessment)
    problems = date_problems(str(getattr(assessment, "context", "")), answer, today())
    if problems:
        raise ValidationError.from_exception_data(type(assessment).__name__, [
            InitErrorDetails(type=PydanticCustomError("value_error", "{error}",
                                                      {"error": p.message, MARK: True}),
                             loc=tuple(p.path.split(".")), input=answer(p.path))
            for p in problems])

"""How a question can be answered: a value, nothing yet (None), or "not applicable" with a reason.

Missing information never counts as compliance: an unanswered question that a rule needs becomes
an open question in the decision record. "Not applicable" is an explicit answer and must say why.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
)

from engine.models.printable import MULTI_LINE_ACCEPTED, one_kind_of_line_break, unprintable

# --- input rules added after records were first stored -------------------------------------------
# A record stored before a rule existed must stay readable: its stored assessment is validated
# again with `context={LENIENT: True}`, which skips these rules, and whatever they would have
# refused is flagged for review (engine/service/reevaluate.py), never rejected.
LENIENT = "stored_before_stricter_rules"

EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2100, 12, 31)


def _lenient(info: ValidationInfo) -> bool:
    return isinstance(info.context, dict) and bool(info.context.get(LENIENT))


def _printable(multi_line: bool, where: str) -> Any:
    """Printable text (printable.py, the rule for everything a person types): control, bidi and
    invisible formatting characters are refused; a multi-line answer may hold line breaks and
    tabs, a short answer is one line."""
    def check(value: str, info: ValidationInfo) -> str:
        problem = unprintable(value, multi_line)
        if problem and not _lenient(info):
            raise ValueError(f"{problem}; {where}")
        return value
    return AfterValidator(check)


def _sane_date(value: dt.date, info: ValidationInfo) -> dt.date:
    if not EARLIEST <= value <= LATEST and not _lenient(info):
        raise ValueError(f"{value.isoformat()} is outside the dates DTPA accepts "
                         f"({EARLIEST.year} to {LATEST.year})")
    return value


# Every date in an assessment: a sane range, so date arithmetic (review dates, day numbers) never
# overflows and a typo such as 0202 or 9999 is caught where it was written.
Day = Annotated[dt.date, AfterValidator(_sane_date)]

_MULTI_LINE = _printable(True, MULTI_LINE_ACCEPTED)
_ONE_LINE = _printable(False, "this answer is one line of printable text")


class NotApplicable(BaseModel):
    """An explicit "does not apply here", with the reason recorded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    not_applicable: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000), _MULTI_LINE,
        BeforeValidator(one_kind_of_line_break)  # last: it runs first
    ] = Field(description="Why this question does not apply")


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _text(value: Any) -> Any:
    return one_kind_of_line_break(_blank_to_none(value))


# Free text typed by a person: stripped, blank means unanswered, bounded so it fits a record;
# printable text, line breaks and tabs only.
Text = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000), _MULTI_LINE] | None,
    BeforeValidator(_text),
]
# A name, a title, a ward: one line of printable text.
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                      _ONE_LINE]
OptionalShortText = Annotated[ShortText | None, BeforeValidator(_blank_to_none)]


class Section(BaseModel):
    """A group of questions; unknown keys are refused so typos do not pass as unanswered."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, use_enum_values=True)

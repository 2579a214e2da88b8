"""How a question can be answered: a value, nothing yet (None), or "not applicable" with a reason.

Missing information never counts as compliance: an unanswered question that a rule needs becomes
an open question in the decision record. "Not applicable" is an explicit answer and must say why.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints


class NotApplicable(BaseModel):
    """An explicit "does not apply here", with the reason recorded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    not_applicable: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)
    ] = Field(description="Why this question does not apply")


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


# Free text typed by a person: stripped, blank means unanswered, bounded so it fits a record.
Text = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)] | None,
    BeforeValidator(_blank_to_none),
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptionalShortText = Annotated[ShortText | None, BeforeValidator(_blank_to_none)]


class Section(BaseModel):
    """A group of questions; unknown keys are refused so typos do not pass as unanswered."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, use_enum_values=True)

"""A case study: an assessment with the decision a careful panel or clinician should reach.

The files in case_studies/ are DTPA's golden tests, seeded into new stores and offered as starting
points on the web. Unknown fields are refused, so a misspelt `must_cite` is an error instead of a
check that silently never runs."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag

from engine.models.assessment import IndividualUseCheck, ProcurementAssessment
from engine.models.vocab import Outcome


def _as_list(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


def _assessment_kind(value: Any) -> str | None:
    context = value.get("context") if isinstance(value, dict) else getattr(value, "context", None)
    # Tags spelt like class names, so located problems name the field, not the union member.
    return {"procurement": "ProcurementAssessment", "individual_use": "IndividualUseCheck"}.get(str(context))


CaseAssessment = Annotated[
    Annotated[ProcurementAssessment, Tag("ProcurementAssessment")]
    | Annotated[IndividualUseCheck, Tag("IndividualUseCheck")],
    Discriminator(_assessment_kind, custom_error_type="context",
                  custom_error_message="`context:` must be `procurement` or `individual_use`"),
]


class Expected(BaseModel):
    """What the decision must be. Identifiers are checked against the catalogue and the rule
    pack by the tests, which know them; the model only knows their shape."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # One outcome, or several when the case study is open between them; always a list here.
    outcome: Annotated[list[Outcome], BeforeValidator(_as_list), Field(min_length=1)]
    must_cite: list[str] = Field(default_factory=list, description="principles or areas cited")
    must_fire: list[str] = Field(default_factory=list, description="rules that must fire")
    must_ask: list[str] = Field(default_factory=list, description="facts asked as open questions")
    conditions_under: list[str] = Field(default_factory=list,
                                        description="principles or areas that carry a condition")


class CaseStudy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected: Expected
    assessment: CaseAssessment

    @property
    def context(self) -> str:
        return self.assessment.context

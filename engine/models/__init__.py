"""Pydantic domain models. Nothing here imports from the rest of `engine`."""

from engine.models.assessment import Assessment, IndividualUseCheck, ProcurementAssessment
from engine.models.record import DecisionRecord

__all__ = ["Assessment", "DecisionRecord", "IndividualUseCheck", "ProcurementAssessment"]

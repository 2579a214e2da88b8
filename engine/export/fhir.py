"""FHIR R5 export (fhir.resources): a Bundle with a GuidanceResponse for the decision, a Consent
for the consent or best-interests decision of an individual use, a Provenance for each sign-off
and an AuditEvent for each event of the audit trail. Built and validated by the library."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fhir.resources.annotation import Annotation
from fhir.resources.auditevent import (
    AuditEvent,
    AuditEventAgent,
    AuditEventEntity,
    AuditEventEntityDetail,
    AuditEventSource,
)
from fhir.resources.bundle import Bundle, BundleEntry
from fhir.resources.codeableconcept import CodeableConcept
from fhir.resources.consent import Consent
from fhir.resources.datarequirement import DataRequirement
from fhir.resources.guidanceresponse import GuidanceResponse
from fhir.resources.identifier import Identifier
from fhir.resources.provenance import Provenance, ProvenanceAgent
from fhir.resources.reference import Reference
from fhir.resources.resource import Resource

from engine.decide.wording import product_conditions_heading, product_source_words
from engine.export.pdf import Governance
from engine.models.record import DecisionRecord

SYSTEM = "https://dtpa.example/fhir"  # identifier namespace only; nothing is fetched from it
STATUS = {"insufficient_information": "data-requested"}  # all other outcomes: success
DECISION = {"agrees": "permit", "refuses": "deny"}
ACTION = {"created": "C", "superseded": "U", "signed": "U", "overridden": "U", "exported": "R",
          "reevaluated": "E", "viewed": "R", "flagged": "U"}


def _urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def _subject(record: DecisionRecord) -> Reference:
    if record.subject.patient_reference:
        return Reference(identifier=Identifier(system=f"{SYSTEM}/patient-reference",
                                               value=record.subject.patient_reference),
                         display=f"Patient {record.subject.patient_reference} (pseudonymous)")
    return Reference(display=f"Product {record.subject.product} {record.subject.version or ''}".strip())


def _text(text: str) -> CodeableConcept:
    return CodeableConcept(text=text)


def fhir_bundle(record: DecisionRecord, gov: Governance | None = None,
                assessment: dict[str, Any] | None = None) -> dict[str, Any]:
    gov = gov or Governance()
    entries: list[tuple[str, Resource]] = []
    response_url = _urn()
    notes = [Annotation(text=f"Outcome: {record.outcome}. {record.outcome_reason}")]
    notes += _provenance_notes(record)
    notes += [Annotation(text=f"{v.target} {v.name}: {v.verdict}. {v.reason}") for v in record.verdicts]
    notes += [Annotation(text=f"{f.rule_id} ({f.severity}): {f.finding} Remedy: {f.remedy}")
              for f in record.findings]
    guidance = GuidanceResponse(
        identifier=[Identifier(system=f"{SYSTEM}/record", value=gov.record_id or record.record_hash)],
        requestIdentifier=Identifier(system=f"{SYSTEM}/input-sha256", value=record.input_hash),
        moduleUri=f"{SYSTEM}/rule-pack/{record.rule_pack.name}|{record.rule_pack.version}",
        status=STATUS.get(record.outcome, "success"),
        subject=_subject(record),
        occurrenceDateTime=record.evaluated_at,
        performer=Reference(display=f"DTPA engine {record.engine_version}"),
        note=notes,
        dataRequirement=[DataRequirement(type="QuestionnaireResponse", mustSupport=[q.fact])
                         for q in record.open_questions]
        or None,
    )
    entries.append((response_url, guidance))

    decision = (assessment or {}).get("decision") or {}
    if record.record_type == "individual_use" and decision:
        route = decision.get("route") or "unknown"
        consent = Consent(
            status="active" if decision.get("patient_response") != "refuses" else "inactive",
            category=[_text("Use of a digital technology in inpatient care")],
            subject=_subject(record),
            date=record.assessed_on,
            decision=DECISION.get(decision.get("patient_response") or "", None),
            regulatoryBasis=[_text({"patient_consent": "Patient's own consent",
                                    "best_interests": "Mental Capacity Act 2005 s4 best interests",
                                    "health_and_welfare_attorney": "Mental Capacity Act 2005 s9 attorney",
                                    "court_appointed_deputy": "Mental Capacity Act 2005 s16 deputy",
                                    "gillick_competent_child": "Gillick competence",
                                    "parental_responsibility": "Parental responsibility",
                                    }.get(route, route))],
            policyText=[Reference(reference=response_url)],
        )
        entries.append((_urn(), consent))

    for s in gov.signoffs:
        entries.append((_urn(), Provenance(
            target=[Reference(reference=response_url)],
            recorded=_instant(s["signed_at"]),
            activity=_text("sign-off: " + ", ".join(k for k, v in s["attestations"].items() if v)),
            agent=[ProvenanceAgent(who=Reference(display=s["name"]), role=[_text(s["role"])])],
        )))
    for e in gov.events:
        entries.append((_urn(), AuditEvent(
            code=_text(e["action"]),
            action=ACTION.get(e["action"], "E"),
            recorded=_instant(e["at"]),
            agent=[AuditEventAgent(who=Reference(display=e["actor"]), role=[_text(e["role"])])],
            source=AuditEventSource(observer=Reference(display="DTPA")),
            entity=[AuditEventEntity(what=Reference(reference=response_url),
                                     detail=[AuditEventEntityDetail(
                                         type=_text("audit event"),
                                         valueString=f"event {e['seq']} hash {e['hash']}")])],
        )))
    bundle = Bundle(type="collection", timestamp=record.evaluated_at,
                    entry=[BundleEntry(fullUrl=url, resource=resource) for url, resource in entries])
    return bundle.model_dump(mode="json", exclude_none=True)


def _provenance_notes(record: DecisionRecord) -> list[Annotation]:
    """Where the product facts came from, the legal route recorded, what DTPA does not judge."""
    notes = []
    sentence, details = product_source_words(record)
    if sentence:
        notes.append(" ".join([sentence, *(f"{k}: {v}." for k, v in details)]))
    if record.product_source and record.product_source.kind == "store":
        notes.append(product_conditions_heading(record) + "".join(
            f"; {c.rule_id} {c.title}" for c in record.product_conditions))
    if record.record_type == "individual_use":
        notes.append(f"Legal route recorded: {record.legal_route or 'none'}")
    if record.not_judged:
        notes.append("DTPA does not judge: " + " ".join(record.not_judged))
    return [Annotation(text=n) for n in notes]


def _instant(value: str) -> dt.datetime:
    """A stored timestamp (ISO 8601 in UTC, written with a `Z`) as the instant FHIR records."""
    return dt.datetime.fromisoformat(value)

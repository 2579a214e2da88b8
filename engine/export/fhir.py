"""FHIR R5 export (fhir.resources): a Bundle with a GuidanceResponse for the decision, a Consent
for the consent or best-interests decision of an individual use, a Provenance for each sign-off
and an AuditEvent for each event of the audit trail. Built and validated by the library."""

from __future__ import annotations

import uuid
from typing import Any

from fhir.resources.auditevent import AuditEvent
from fhir.resources.bundle import Bundle
from fhir.resources.consent import Consent
from fhir.resources.guidanceresponse import GuidanceResponse
from fhir.resources.provenance import Provenance

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


def _subject(record: DecisionRecord) -> dict[str, Any]:
    if record.subject.patient_reference:
        return {"identifier": {"system": f"{SYSTEM}/patient-reference",
                               "value": record.subject.patient_reference},
                "display": f"Patient {record.subject.patient_reference} (pseudonymous)"}
    return {"display": f"Product {record.subject.product} {record.subject.version or ''}".strip()}


def fhir_bundle(record: DecisionRecord, gov: Governance | None = None,
                assessment: dict[str, Any] | None = None) -> dict[str, Any]:
    gov = gov or Governance()
    entries: list[tuple[str, Any]] = []
    response_url = _urn()
    notes = [{"text": f"Outcome: {record.outcome}. {record.outcome_reason}"}]
    notes += _provenance_notes(record)
    notes += [{"text": f"{v.target} {v.name}: {v.verdict}. {v.reason}"} for v in record.verdicts]
    notes += [{"text": f"{f.rule_id} ({f.severity}): {f.finding} Remedy: {f.remedy}"}
              for f in record.findings]
    guidance = GuidanceResponse(
        identifier=[{"system": f"{SYSTEM}/record", "value": gov.record_id or record.record_hash}],
        requestIdentifier={"system": f"{SYSTEM}/input-sha256", "value": record.input_hash},
        moduleUri=f"{SYSTEM}/rule-pack/{record.rule_pack.name}|{record.rule_pack.version}",
        status=STATUS.get(record.outcome, "success"),
        subject=_subject(record),
        occurrenceDateTime=record.evaluated_at.isoformat(),
        performer={"display": f"DTPA engine {record.engine_version}"},
        note=notes,
        dataRequirement=[{"type": "QuestionnaireResponse", "mustSupport": [q.fact]}
                         for q in record.open_questions]
        or None,
    )
    entries.append((response_url, guidance))

    decision = (assessment or {}).get("decision") or {}
    if record.record_type == "individual_use" and decision:
        route = decision.get("route") or "unknown"
        consent = Consent(
            status="active" if decision.get("patient_response") != "refuses" else "inactive",
            category=[{"text": "Use of a digital technology in inpatient care"}],
            subject=_subject(record),
            date=str(record.assessed_on),
            decision=DECISION.get(decision.get("patient_response") or "", None),
            regulatoryBasis=[{"text": {"patient_consent": "Patient's own consent",
                                       "best_interests": "Mental Capacity Act 2005 s4 best interests",
                                       "health_and_welfare_attorney": "Mental Capacity Act 2005 s9 attorney",
                                       "court_appointed_deputy": "Mental Capacity Act 2005 s16 deputy",
                                       "gillick_competent_child": "Gillick competence",
                                       "parental_responsibility": "Parental responsibility",
                                       }.get(route, route)}],
            policyText=[{"reference": response_url}],
        )
        entries.append((_urn(), consent))

    for s in gov.signoffs:
        entries.append((_urn(), Provenance(
            target=[{"reference": response_url}],
            recorded=_instant(s["signed_at"]),
            activity={"text": "sign-off: " + ", ".join(k for k, v in s["attestations"].items() if v)},
            agent=[{"who": {"display": s["name"]}, "role": [{"text": s["role"]}]}],
        )))
    for e in gov.events:
        entries.append((_urn(), AuditEvent(
            code={"text": e["action"]},
            action=ACTION.get(e["action"], "E"),
            recorded=_instant(e["at"]),
            agent=[{"who": {"display": e["actor"]}, "role": [{"text": e["role"]}]}],
            source={"observer": {"display": "DTPA"}},
            entity=[{"what": {"reference": response_url},
                     "detail": [{"type": {"text": "audit event"},
                                 "valueString": f"event {e['seq']} hash {e['hash']}"}]}],
        )))
    bundle = Bundle(type="collection", timestamp=record.evaluated_at.isoformat(),
                    entry=[{"fullUrl": url, "resource": resource} for url, resource in entries])
    return bundle.model_dump(mode="json", exclude_none=True)


def _provenance_notes(record: DecisionRecord) -> list[dict[str, str]]:
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
    return [{"text": n} for n in notes]


def _instant(value: str) -> str:
    return value.replace("Z", "+00:00")

"""Words for outcomes and verdicts, fitted to who reads them (shared by CLI, UI and exports).

No outcome says a use is lawful: DTPA checks answers against its rules, it does not give legal
advice. A favourable outcome says that none of the rules DTPA checks found a reason not to
proceed, and every record lists what DTPA does not judge.
"""

from __future__ import annotations

from typing import Any

OUTCOME_WORDS: dict[str, dict[str, str]] = {
    "procurement": {
        "supported": "Supported: no rule DTPA checks found a reason not to deploy the product as "
                     "assessed",
        "supported_with_conditions": "Supported with conditions: deploy only once the conditions are met",
        "insufficient_information": "Insufficient information: answer the open questions before deciding",
        "not_supported": "Not supported: the product must not be deployed as proposed",
        "out_of_scope": "Out of scope: the principles do not cover this kind of technology",
    },
    "individual_use": {
        "supported": "Supported: no rule DTPA checks found a reason not to proceed with this use "
                     "for this patient",
        "supported_with_conditions": "Supported with conditions: use only once the conditions are met",
        "insufficient_information": "Insufficient information: answer the open questions before using it",
        "not_supported": "Not supported: do not use the technology for this patient as proposed",
        "out_of_scope": "Out of scope: the principles do not cover this kind of technology",
    },
}

VERDICT_WORDS = {
    "met": "met",
    "met_with_conditions": "met with conditions",
    "not_met": "not met",
    "unknown": "unknown (questions open)",
    "not_applicable": "not applicable",
}

CONTEXT_WORDS = {"procurement": "Product assessment (procurement)",
                 "individual_use": "Individual use check (one patient)"}

# Fixed on every record: what a reader must still judge for themselves.
NOT_JUDGED = [
    "Clinical judgement about this patient or service: their risk, and whether this use is right "
    "for them. DTPA checks that the judgement is recorded, not that it is sound.",
    "Legal advice on the route relied on: whether it applies to this patient. DTPA checks that a "
    "route and its elements are recorded, not that the law allows this use.",
    "Whether the technology works as the supplier says it does.",
    "Whether the answers recorded are true and complete.",
]

FAVOURABLE = ("supported", "supported_with_conditions")


def outcome_line(record: Any) -> str:
    """The outcome in words; for a favourable individual use, with the legal route recorded."""
    words = OUTCOME_WORDS[record.record_type][record.outcome]
    if record.record_type == "individual_use" and record.outcome in FAVOURABLE:
        words += f" (legal route recorded: {record.legal_route or 'none'})"
    return words


# --- the legal route recorded in an individual-use check, as a short readable phrase ----------

ROUTE_WORDS = {
    "patient_consent": "the patient's own consent",
    "health_and_welfare_attorney": "a decision by a health and welfare attorney (MCA 2005 s9)",
    "court_appointed_deputy": "a decision by a deputy appointed by the Court of Protection "
                              "(MCA 2005 s16)",
    "best_interests": "a best-interests decision (MCA 2005 s4)",
    "gillick_competent_child": "the consent of a Gillick-competent young person",
    "parental_responsibility": "the consent of a person with parental responsibility",
    "relative_or_carer_without_authority": "the agreement of a relative or carer without legal "
                                           "authority (no attorney or deputy)",
    "ward_default": "the ward's default setting (no individual decision)",
}

LEGAL_STATUS_WORDS = {
    "informal": "informal patient",
    "detained_mental_health_act": "detained under the Mental Health Act 1983",
    "holding_power_s4": "held under MHA 1983 s4",
    "holding_power_s5_2": "held under MHA 1983 s5(2)",
    "holding_power_s5_4": "held under MHA 1983 s5(4)",
    "place_of_safety_s135": "in a place of safety under MHA 1983 s135",
    "place_of_safety_s136": "in a place of safety under MHA 1983 s136",
    "community_treatment_order": "on a community treatment order, not recalled",
    "community_treatment_order_recalled": "on a community treatment order, recalled to hospital",
    "deprivation_of_liberty_authorised": "deprivation of liberty authorised",
}

OVERRIDE_BASIS_WORDS = {
    "mha_s63": "MHA 1983 s63 (contested as a basis for safety monitoring)",
    "incidental_to_detention": "powers said to be incidental to detention (contested)",
    "other": "another power, not named",
}


def _words(table: dict[str, str], value: Any) -> str:
    text = str(getattr(value, "value", value))
    return table.get(text, text.replace("_", " "))


def legal_route(check: Any) -> str | None:
    """The route, legal status and basis of any override a check records (None if none)."""
    decision = getattr(check, "decision", None)
    patient = getattr(check, "patient", None)
    override = getattr(check, "override_of_refusal", None)
    route = getattr(decision, "route", None)
    status = getattr(patient, "legal_status", None)
    basis = getattr(override, "legal_basis", None)
    if route is None and status is None and basis is None:
        return None
    parts = [_words(ROUTE_WORDS, route) if route else "no decision route recorded"]
    if status:
        parts.append(_words(LEGAL_STATUS_WORDS, status))
    if basis:
        named = basis == "other" and getattr(override, "legal_basis_named", None)
        parts.append("refusal overridden relying on "
                     + (f"{named} (named power)" if named else _words(OVERRIDE_BASIS_WORDS, basis)))
    return "; ".join(parts)


# --- where an individual use's product facts came from ----------------------------------------

def product_source_words(record: Any) -> tuple[str, list[tuple[str, str]]]:
    """A sentence on where the product facts came from, and (label, value) details: the store
    and key asked and why it was not read. ("", []) when the record does not say."""
    src = record.product_source
    if src is None:
        return "", []
    if src.kind == "store":
        return (f"Product facts read from the stored product decision {src.record_id} "
                f"(version {src.version})."), [("Store", src.store or "")]
    if src.reason == "no_record_id":
        return ("Product facts as stated in the check: it names no stored product decision, so "
                "none was read."), []
    return ("PRODUCT DECISION NOT READ: this decision uses the product facts as stated in the "
            "check, not verified against the stored product decision."), [
        ("Store", src.store or ""), ("Key", src.record_id or ""), ("Why", src.detail or "")]


def product_conditions_heading(record: Any) -> str:
    n = len(record.product_conditions)
    return (f"The product decision's own conditions ({n}): each must be met for this use" if n
            else "The product decision carries no conditions")

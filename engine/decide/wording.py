"""Words for outcomes and verdicts, fitted to who reads them (shared by CLI, UI and exports).

No outcome says a use is lawful: DTPA checks answers against its rules, it does not give legal
advice. A favourable outcome says that none of the rules DTPA checks found a reason not to
proceed, and every record lists what DTPA does not judge.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
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

# Roles as people say them (every value of engine.models.vocab.Role; a test checks none is left
# out), never the stored code: "DPO", not "Dpo" or `dpo`.
ROLE_WORDS = {
    "panel_chair": "Panel chair",
    "dpo": "DPO",
    "clinical_safety_officer": "Clinical safety officer",
    "clinician": "Clinician",
    "nurse_in_charge": "Nurse in charge",
    "lived_experience_representative": "Lived experience representative",
    "chief_nursing_information_officer": "Chief nursing information officer",
    "estates_it_lead": "Estates and IT lead",
    "auditor": "Auditor",
    "administrator": "Administrator",
}


def role_words(role: Any) -> str:
    """One role in words (a Role or its code); a code DTPA does not know is shown as it is
    stored, so an old record still reads."""
    code = str(getattr(role, "value", role))
    return ROLE_WORDS.get(code, code.replace("_", " "))


def roles_words(roles: Any) -> str:
    """Several roles in words, in the order given: "Panel chair, DPO and Clinical safety
    officer"."""
    names = [role_words(r) for r in roles]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def status_words(view: Any) -> str:
    """A stored record's status as a person reads it: who still has to sign named by their
    roles in words ("awaiting sign-off by Panel chair and DPO"), not by role codes."""
    status = str(view.status)
    if status.startswith("awaiting sign-off by ") and view.missing_roles:
        return "awaiting sign-off by " + roles_words(view.missing_roles)
    return status

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


# --- the decision page: the subject, what happens next, what would change ----------------------
# Plain strings: a front end shows them as text (they may hold typed words, e.g. a product name).

# What a signatory confirms (engine.models.vocab.Attestation), as the sign-off form asks it.
ATTESTATION_WORDS = {
    "context_accurate": "The subject and the answers describe the technology and its use accurately",
    "risks_understood": "I understand the risks and findings this decision records",
    "action_plan_agreed": "I agree the conditions and actions, and who owns them",
    "actions_will_be_done": "The conditions and actions will be carried out by their due dates",
}

OUTCOME_SHORT = {"supported": "Supported", "supported_with_conditions": "Supported with conditions",
                 "insufficient_information": "Insufficient information",
                 "not_supported": "Not supported", "out_of_scope": "Out of scope"}


def day_words(day: dt.date) -> str:
    """3 March 2027 (GOV.UK style: no leading zero, the month in full)."""
    return f"{day.day} {day:%B} {day.year}"


def when_words(day: dt.date, today: dt.date) -> str:
    """A date and how far it is from today: "3 March 2027, in 94 days", "…, 12 days ago"."""
    n = (day - today).days
    rel = {0: "today", 1: "tomorrow", -1: "yesterday"}.get(
        n, f"in {n} days" if n > 0 else f"{-n} days ago")
    return f"{day_words(day)}, {rel}"


def review_words(review_date: dt.date | None, today: dt.date) -> str:
    if review_date is None:
        return "No review date is recorded."
    if review_date < today:
        return f"The review was due on {when_words(review_date, today)}: it is overdue."
    return f"Review by {when_words(review_date, today)}."


_PATH = re.compile(r"\b[a-z_]+(?:\.[a-z_]+)+\b")


def review_basis_words(basis: str, questions: Mapping[str, str]) -> str:
    """Where a review date comes from, each answer named by its question (`questions`: path ->
    wording) rather than its field path: "“Cyber Essentials certificate expiry”", not
    "assurance.cyber_essentials_expires"."""
    return _PATH.sub(lambda m: f"“{questions[m.group(0)]}”" if m.group(0) in questions
                     else m.group(0), basis)


def subject_words(record: Any) -> tuple[str, list[tuple[str, str]]]:
    """What the decision is about: a heading (the product and version) and (label, value)
    lines for what else names it (kind, vendor, title, patient reference, ward, product record)."""
    s = record.subject
    heading = s.product + (f" {s.version}" if s.version else "")
    lines = [("Decision", CONTEXT_WORDS.get(record.record_type, record.record_type))]
    lines += [(label, str(value)) for label, value in (
        ("Vendor", s.vendor), ("Title", record.title), ("Patient reference", s.patient_reference),
        ("Ward", s.ward), ("Relies on the product decision", record.relies_on)) if value]
    lines.append(("Assessed on", day_words(record.assessed_on)))
    return heading, lines


def signoff_words(required: list[str], view: Any | None = None) -> str:
    """Who still has to sign, in words: for a decision not saved yet, who will have to; for a
    stored one, the roles its sign-offs still lack, or why nobody signs it any more."""
    if view is None:
        return ("Not saved yet. Once saved, it needs sign-off by " + roles_words(required) + "."
                if required else "Not saved yet. The local profile asks for no sign-off.")
    if view.superseded_by:
        return f"Superseded by {view.superseded_by}: act on that record, not this one."
    if view.integrity or str(view.status).startswith(("erased", "payload missing")):
        return f"Nobody can sign it: {view.status}."
    if view.missing_roles:
        return "Still to sign: " + roles_words(view.missing_roles) + "."
    return "Approved: everyone the local profile asks to sign has signed."


@dataclass(frozen=True)
class NextCondition:
    """One condition as the "What happens next" panel says it."""

    rule_id: str
    title: str
    remedy: str
    owner: str  # a role in words; "" when the record names none and none could be suggested
    due: str  # "by 29 December 2026, in 30 days", "before first use", ...


def next_conditions(record: Any, today: dt.date,
                    owners: Mapping[str, Any] | None = None) -> list[NextCondition]:
    """Each condition with its owner and due date. Records since schema 1.2 carry both (the
    profile's default owner for the principle or area it serves, and the profile's due days);
    for an older record the owner is suggested from `owners` (the profile's condition_owners)
    and the due date is when it must be met anyway: before first use of a product, by the
    review of an individual use."""
    out = []
    for c in record.conditions:
        owner = c.owner
        if owner is None and owners:
            owner = next((owners[t] for t in [*c.principles, *c.areas] if t in owners), None)
        if c.due is not None:
            due = f"by {when_words(c.due, today)}"
        elif record.record_type == "individual_use" and record.review_date is not None:
            due = f"by the review, {when_words(record.review_date, today)}"
        else:
            due = "before first use" if record.record_type == "procurement" else "before this use"
        out.append(NextCondition(c.rule_id, c.title, c.remedy,
                                 role_words(owner) if owner else "", due))
    return out


def conditions_by_owner(conditions: list[NextCondition]) -> list[tuple[str, list[NextCondition]]]:
    """The conditions grouped by owner, in the order owners first appear ("" last)."""
    groups: dict[str, list[NextCondition]] = {}
    for c in conditions:
        groups.setdefault(c.owner, []).append(c)
    return sorted(groups.items(), key=lambda kv: kv[0] == "")


@dataclass(frozen=True)
class ChangeSummary:
    """What would change the decision: one sentence first, then each proven step in words with
    its remedies (rule id, title, remedy), and the text behind a finding no answer remedies."""

    headline: str
    steps: list[tuple[str, list[tuple[str, str, str]]]]
    beyond: str | None = None
    detail: str | None = None


_RULE_ID = re.compile(r"\b[A-Z][A-Z0-9]*-(?:PRO|IND)-\d+\b")
NOT_PROVEN = "No further change could be proven"  # how whatif.py begins that sentence


def _ids(ids: list[str], shown: int = 3) -> str:
    more = len(ids) - shown
    return ", ".join(ids[:shown]) + (f" and {more} more" if more > 0 else "")


def _remedies(n: int) -> str:
    return f"{n} remedy" if n == 1 else f"{n} remedies"


def change_summary(record: Any) -> ChangeSummary:
    """The smallest proven step first, in one sentence with its effect; later steps after it;
    and, where nothing more could be proven, one sentence saying so instead of a list."""
    steps = []
    for i, step in enumerate(record.what_would_change):
        ids = [r.rule_id for r in step.remedies]
        to = OUTCOME_SHORT.get(step.to_outcome, step.to_outcome)
        sentence = (f"Smallest proven step: carry out {_remedies(len(ids))} ({_ids(ids)}) and the "
                    f"outcome becomes {to}." if i == 0 else
                    f"Then {len(ids)} more remed{'y' if len(ids) == 1 else 'ies'} ({_ids(ids)}) "
                    f"take{'s' if len(ids) == 1 else ''} it to {to}.")
        steps.append((sentence, [(r.rule_id, r.title, r.remedy) for r in step.remedies]))
    stuck = record.what_would_not_change
    beyond = detail = None
    if stuck and stuck.startswith(NOT_PROVEN):
        beyond = ("Beyond that, no further change could be proven by re-evaluating." if steps else
                  "No change of answers could be proven to improve this decision: re-evaluated "
                  f"with the remedies of the {len(_RULE_ID.findall(stuck))} findings holding it "
                  "back, it did not improve.")
    elif stuck:
        ids = list(dict.fromkeys(_RULE_ID.findall(stuck)))
        beyond = (("Beyond that, no" if steps else "No") + " change of answers alone can improve "
                  f"it: {_ids(ids) or 'what holds it back'} must be dealt with as "
                  + ("its remedy says." if len(ids) == 1 else "their remedies say."))
        detail = stuck
    if steps:
        headline = steps[0][0]
    elif beyond:
        headline, beyond = beyond, None
    elif record.outcome == "out_of_scope":
        headline = "Nothing to change here: the principles do not cover this kind of technology."
    elif record.outcome == "supported":
        headline = "Nothing needs to change: the decision is as favourable as it can be."
    else:
        headline = "No change of answers was found that would improve this decision."
    return ChangeSummary(headline, steps, beyond, detail)

"""The justified decision record: what was decided, why, on what evidence, and by which rules."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer

from engine.hashing import LEGACY, RFC8785, canonical, sha256_bytes
from engine.models.vocab import Context, Outcome, Role, Severity, Verdict

# 1.1: product_source, product_conditions, legal_route, not_judged
# 1.2: each condition's owner and due date; hash_scheme (RFC 8785)
RECORD_SCHEMA_VERSION = "1.2"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)


class Citation(_Frozen):
    ref: str = Field(description="Catalogue id of the source or principle cited")
    title: str
    section: str | None = None
    url: str | None = None


class Finding(_Frozen):
    rule_id: str
    title: str = Field(description="The state the rule asks for")
    severity: Severity
    principles: list[str]
    areas: list[str]
    finding: str = Field(description="Why the rule fired, in plain language")
    remedy: str = Field(description="What would change this finding")
    citations: list[Citation]
    basis: str = Field(description="Where the rule comes from: NHSE principle, statute, guidance")


class Condition(Finding):
    """A finding that must be met for the decision to hold, with who owns it and by when. Both
    come from the local profile when the decision is made and are sealed with it, so a later
    change of profile does not move them (records before schema 1.2 have neither)."""

    owner: Role | None = Field(default=None, description="The role that owns the condition")
    due: dt.date | None = Field(default=None, description="When the condition must be met by")

    @model_serializer(mode="wrap")
    # Unannotated on purpose: pydantic builds the JSON Schema from a serializer's return type.
    def _omit_unsealed(self, handler):  # type: ignore[no-untyped-def]
        # Left out while empty, so a record from before 1.2 still seals to its stored hash.
        data = handler(self)
        for name in ("owner", "due"):
            if data.get(name) is None:
                data.pop(name, None)
        return data


class OpenQuestion(_Frozen):
    fact: str = Field(description="The question's path in the assessment")
    question: str
    rule_ids: list[str] = Field(description="Rules that could not be decided without it")
    targets: list[str] = Field(description="Principles and areas those rules serve")


class NotApplicableAnswer(_Frozen):
    fact: str
    question: str
    reason: str


class TargetVerdict(_Frozen):
    target: str = Field(description="Principle (P1-P8) or practice area (DP, POL, TRN, REC)")
    name: str
    verdict: Verdict
    reason: str
    rule_ids: list[str] = Field(default_factory=list)


class Remedy(_Frozen):
    rule_id: str
    title: str
    remedy: str
    answers: dict[str, Any] = Field(description="The answers that carry out the remedy")


class ChangeStep(_Frozen):
    """A smallest set of remedies that improves the outcome, proven by re-evaluation."""

    from_outcome: Outcome
    to_outcome: Outcome
    remedies: list[Remedy]
    proof_record_hash: str = Field(description="Hash of the re-evaluated record with the remedies")


class CrosswalkEntry(_Frozen):
    framework: str = Field(description="dtac, nice_esf, ico_dpia, cqc_brief, mha_code, culture_of_care")
    reference: str
    status: Literal["met", "not_met", "open"]
    rule_ids: list[str]


class Subject(_Frozen):
    product: str
    vendor: str | None = None
    version: str | None = None
    category: str
    patient_reference: str | None = None
    ward: str | None = None


class PackStamp(_Frozen):
    name: str
    version: str
    hash: str = Field(description="SHA-256 of the rule files, catalogue, policy and profile")
    profile: str
    profile_hash: str


class Trace(_Frozen):
    ruleset: str = Field(description="durable_rules ruleset name (context@pack hash)")
    rules_fired: list[str]
    rules_unknown: list[str] = Field(description="Rules that needed an unanswered question")
    rules_evaluated: int
    policy_fired: list[str]
    facts_read: list[str]


# Why an individual-use check's product decision was not read from the store.
NotReadReason = Literal["no_record_id", "store_unreachable", "not_found", "not_a_product_decision"]


class ProductSource(_Frozen):
    """Where an individual-use check's product facts came from: the stored product decision, or
    the check itself when the store could not be read (and why)."""

    kind: Literal["store", "as_stated"] = Field(
        description="store: read from the stored product decision; as_stated: the facts as the "
                    "check states them, not verified against the store")
    store: str | None = Field(default=None, description="The store asked (URL, password hidden)")
    record_id: str | None = Field(
        default=None, description="The record read (KEY@VERSION), or the key the check names")
    version: int | None = Field(default=None, description="Version of the product record read")
    reason: NotReadReason | None = Field(
        default=None, description="Why the store was not read (as_stated only)")
    detail: str | None = Field(default=None, description="The same, in plain words")


class ProductCondition(_Frozen):
    """One open condition of the product decision an individual use relies on."""

    rule_id: str
    title: str


# Fields added after records were first stored. They are left out of the record's JSON while
# empty, so a record stored before they existed still seals to the hash it was stored with.
_ADDED_LATER = ("product_source", "product_conditions", "legal_route", "not_judged", "hash_scheme")


class DecisionRecord(_Frozen):
    schema_version: str = RECORD_SCHEMA_VERSION
    record_type: Context
    title: str | None = None
    subject: Subject
    relies_on: str | None = Field(
        default=None, description="For individual use: the product decision record relied on"
    )
    product_source: ProductSource | None = Field(
        default=None, description="For individual use: how the product facts were obtained")
    product_conditions: list[ProductCondition] = Field(
        default_factory=list,
        description="For individual use: the stored product decision's own conditions")
    legal_route: str | None = Field(
        default=None, description="For individual use: the legal route recorded in the check "
                                  "(decision route, legal status, basis of any override)")
    assessed_on: dt.date
    evaluated_at: dt.datetime
    outcome: Outcome
    outcome_reason: str
    verdicts: list[TargetVerdict]
    findings: list[Finding]
    conditions: list[Condition] = Field(
        description="Findings that must be met for the decision to hold, with owner and due date")
    open_questions: list[OpenQuestion]
    not_applicable: list[NotApplicableAnswer]
    what_would_change: list[ChangeStep] = Field(default_factory=list)
    what_would_not_change: str | None = Field(
        default=None, description="Findings no change of answers can remedy, and why")
    crosswalk: list[CrosswalkEntry] = Field(default_factory=list)
    scope_note: str | None = None
    review_date: dt.date | None = None
    review_basis: str | None = None
    rule_pack: PackStamp
    engine_version: str
    trace: Trace
    not_judged: list[str] = Field(
        default_factory=list, description="What DTPA does not judge; the reader must")
    input_hash: str
    hash_scheme: Literal["rfc8785-sha256"] | None = Field(
        default=None, description="How input_hash and record_hash were computed: RFC 8785 "
                                  "canonical JSON, SHA-256 (absent: DTPA's sorted JSON, before 1.2)")
    record_hash: str = ""

    @model_serializer(mode="wrap")
    # Unannotated on purpose, as above: the published schema must list the fields.
    def _omit_empty_additions(self, handler):  # type: ignore[no-untyped-def]
        data = handler(self)
        for name in _ADDED_LATER:
            if data.get(name) in (None, []):
                data.pop(name, None)
        return data


def sealed_bytes(record: DecisionRecord) -> bytes:
    """Exactly what the record hash covers: everything but the hash, canonical per its scheme."""
    return canonical(record.model_dump(mode="json", exclude={"record_hash"}),
                     record.hash_scheme or LEGACY)


def seal(record: DecisionRecord) -> DecisionRecord:
    """Stamp the record with the hash of everything else in it."""
    return record.model_copy(update={"record_hash": sha256_bytes(sealed_bytes(record))})


SCHEME: Literal["rfc8785-sha256"] = RFC8785  # the scheme new records are sealed with

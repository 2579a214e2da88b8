"""What a record row says once its patient payload is gone: a tombstone left by the retention
rule (retention.py) keeps its id, key, version, context, hashes and audit events, and reads as a
stand-in decision record that says when and under which rule the payload was erased, so every
listing, view and access check keeps working without the payload."""

from __future__ import annotations

import datetime as dt

from engine.hashing import RFC8785
from engine.models.record import DecisionRecord, PackStamp, Subject, Trace
from engine.store.tables import RecordRow


def is_erased(row: RecordRow) -> bool:
    """The payload is gone: erased under the retention rule, or emptied outside DTPA (which
    `audit verify` names as tampering)."""
    return not row.record_json


def erasure_note(row: RecordRow) -> str:
    """One sentence on what happened to the payload, with the hashes that remain."""
    hashes = f"record sha256 {row.record_hash}, input sha256 {row.input_hash}"
    if row.erased_at:
        return (f"Payload erased on {row.erased_at[:10]} under {row.erasure_rule or 'the retention rule'} "
                f"(patient reference, assessment and decision record deleted; {hashes} kept).")
    return (f"Payload missing: the assessment and decision record were emptied with no recorded "
            f"erasure ({hashes}); `dtpa audit verify` says whether this is tampering.")


def tombstone_record(row: RecordRow) -> DecisionRecord:
    """A stand-in for the erased record, made from the columns that remain: no findings, no
    verdicts, no patient reference; the outcome the engine gave and the hashes of what it was.
    It is never sealed or stored: its hashes are those of the erased record."""
    note = erasure_note(row)
    return DecisionRecord(
        record_type=row.context,  # type: ignore[arg-type]  # validated into a Context
        title=None,
        subject=Subject(product=row.product, version=row.product_version, category="(erased)",
                        ward=row.ward),
        relies_on=row.relies_on,
        assessed_on=row.assessed_on,
        evaluated_at=dt.datetime.fromisoformat(row.created_at.replace("Z", "+00:00")),
        outcome=row.outcome,  # type: ignore[arg-type]  # validated into an Outcome
        outcome_reason=note,
        verdicts=[], findings=[], conditions=[], open_questions=[], not_applicable=[],
        scope_note=note,
        rule_pack=PackStamp(name="(erased)", version=row.rule_pack_version, hash=row.rule_pack_hash,
                            profile=row.profile, profile_hash=""),
        engine_version="",
        trace=Trace(ruleset="", rules_fired=[], rules_unknown=[], rules_evaluated=0,
                    policy_fired=[], facts_read=[]),
        input_hash=row.input_hash,
        hash_scheme=RFC8785 if row.hash_scheme == RFC8785 else None,
        record_hash=row.record_hash,
    )

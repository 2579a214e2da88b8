"""The append-only, hash-chained audit log, and the check that nothing stored was altered.

Each event's hash covers its own content and the previous event's hash, so editing an event
breaks its hash, deleting one breaks the link of the next, and a record, sign-off or override
whose stored content no longer matches the hash its event recorded is named.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.hashing import sha256_of
from engine.models.record import DecisionRecord, seal
from engine.store.tables import EventRow, OverrideRow, RecordRow, SignoffRow

GENESIS = "0" * 64
ACTIONS = ("created", "superseded", "signed", "overridden", "exported", "reevaluated", "viewed",
           "flagged")


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _event_body(seq: int, at: str, actor: str, role: str, action: str, record_id: str | None,
                detail: dict[str, Any], flags_review: bool, prev_hash: str) -> list[Any]:
    return [seq, at, actor, role, action, record_id, detail, flags_review, prev_hash]


def append(session: Session, actor: str, role: str, action: str, record_id: str | None,
           detail: dict[str, Any], flags_review: bool = False) -> EventRow:
    """Add an event at the end of the chain (the caller holds the write transaction)."""
    assert action in ACTIONS, action
    last = session.execute(select(EventRow).order_by(EventRow.seq.desc()).limit(1)).scalar_one_or_none()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    at = utc_now()
    detail = json.loads(json.dumps(detail, default=str))  # exactly what the JSON column returns
    row = EventRow(seq=seq, at=at, actor=actor, role=role, action=action, record_id=record_id,
                   detail=detail, flags_review=flags_review, prev_hash=prev,
                   hash=sha256_of(_event_body(seq, at, actor, role, action, record_id, detail,
                                              flags_review, prev)))
    session.add(row)
    session.flush()
    return row


def signoff_hash(row: SignoffRow) -> str:
    return sha256_of([row.record_id, row.name, row.role, row.signed_at, row.attestations, row.comment])


def override_hash(row: OverrideRow) -> str:
    return sha256_of([row.record_id, row.target, row.engine_value, row.new_value, row.name,
                      row.role, row.reason, row.created_at])


@dataclass
class Verification:
    events: int = 0
    records: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session) -> Verification:
    result = Verification()
    events = session.execute(select(EventRow).order_by(EventRow.seq)).scalars().all()
    result.events = len(events)
    expected_seq, prev = 1, GENESIS
    for e in events:
        if e.seq != expected_seq:
            missing = f"{expected_seq}" if e.seq == expected_seq + 1 else f"{expected_seq}-{e.seq - 1}"
            result.problems.append(f"audit event(s) {missing} missing (deleted): the chain jumps "
                                   f"from {expected_seq - 1} to {e.seq}")
        elif e.prev_hash != prev:
            result.problems.append(f"audit event {e.seq} does not follow event {e.seq - 1} "
                                   "(its link to the previous event was altered)")
        body = _event_body(e.seq, e.at, e.actor, e.role, e.action, e.record_id, e.detail,
                           e.flags_review, e.prev_hash)
        if sha256_of(body) != e.hash:
            result.problems.append(f"audit event {e.seq} ({e.action} {e.record_id or ''}) was "
                                   "altered: its content no longer matches its hash")
        expected_seq, prev = e.seq + 1, e.hash

    created = {e.record_id: e for e in events if e.action == "created"}
    rows = session.execute(select(RecordRow)).scalars().all()
    result.records = len(rows)
    for row in rows:
        event = created.pop(row.id, None)
        if event is None:
            result.problems.append(f"record {row.id} has no 'created' event in the audit chain")
            continue
        result.problems.extend(_check_record(row, event))
    for record_id in created:
        result.problems.append(f"record {record_id} is missing (deleted), though the audit chain "
                               "recorded its creation")
    for table, action, id_key, digest, label in (
            (SignoffRow, "signed", "signoff_id", signoff_hash, "sign-off"),
            (OverrideRow, "overridden", "override_id", override_hash, "override")):
        recorded = {e.detail.get(id_key): e for e in events if e.action == action}
        for row in session.execute(select(table)).scalars():
            event = recorded.pop(row.id, None)
            if event is None or event.detail.get("content_hash") != digest(row):
                result.problems.append(f"{label} {row.id} on {row.record_id} was altered or added "
                                       "outside DTPA")
        for rid, event in recorded.items():
            result.problems.append(f"{label} {rid} on {event.record_id} is missing (deleted)")
    return result


def _check_record(row: RecordRow, event: EventRow) -> list[str]:
    out = []
    try:
        record = DecisionRecord.model_validate_json(row.record_json)
        sealed = seal(record).record_hash
    except ValueError:
        return [f"record {row.id}: its stored decision record is no longer valid JSON"]
    if sealed != record.record_hash or sealed != row.record_hash:
        out.append(f"record {row.id}: the stored decision record was altered (hash mismatch)")
    if row.record_hash != event.detail.get("record_hash"):
        out.append(f"record {row.id}: its record hash differs from the one the audit chain recorded")
    if sha256_of(json.loads(row.input_json)) != row.input_hash or \
            row.input_hash != event.detail.get("input_hash"):
        out.append(f"record {row.id}: the stored assessment (input) was altered")
    if row.outcome != record.outcome:
        out.append(f"record {row.id}: the outcome column ({row.outcome}) differs from the record "
                   f"({record.outcome})")
    return out

"""The append-only, hash-chained audit log, and the check that nothing stored was altered.

Each event's hash covers its own content and the previous event's hash, so editing an event
breaks its hash, deleting one breaks the link of the next, and a record, sign-off or override
whose stored content no longer matches the hash its event recorded is named.

Hashes are computed once, when a row is written, over RFC 8785 canonical JSON; the row keeps
those exact bytes (`canonical`, or the record's and assessment's JSON) and names its scheme
(`hash_scheme`). Checking hashes the stored bytes and compares the columns with what the bytes
say, so nothing is re-serialised. Rows written before 0005 (`sorted-json-sha256`) are checked
as they were hashed: recomputed from their columns.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.hashing import LEGACY, RFC8785, canonical, sha256_bytes, sha256_of
from engine.models.people import known_role
from engine.models.record import DecisionRecord, seal
from engine.store.tables import EventRow, OverrideRow, RecordRow, SignoffRow

SCHEME = RFC8785  # what new rows are hashed with

GENESIS = "0" * 64
ACTIONS = ("created", "superseded", "signed", "overridden", "exported", "reevaluated", "viewed",
           "flagged", "account_added", "seeded")


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _event_body(seq: int, at: str, actor: str, role: str, action: str, record_id: str | None,
                detail: dict[str, Any], flags_review: bool, prev_hash: str) -> list[Any]:
    return [seq, at, actor, role, action, record_id, detail, flags_review, prev_hash]


def _event_columns(e: EventRow) -> list[Any]:
    return _event_body(e.seq, e.at, e.actor, e.role, e.action, e.record_id, e.detail,
                       e.flags_review, e.prev_hash)


def _signoff_body(row: SignoffRow) -> list[Any]:
    return [row.record_id, row.name, row.role, row.signed_at, row.attestations, row.comment]


def _override_body(row: OverrideRow) -> list[Any]:
    return [row.record_id, row.target, row.engine_value, row.new_value, row.name, row.role,
            row.reason, row.created_at]


def _canonical(body: list[Any]) -> tuple[str, str]:
    """The bytes to keep (as text) and their hash, computed once, when the row is written."""
    data = canonical(body, SCHEME)
    return data.decode("utf-8"), sha256_bytes(data)


def append(session: Session, actor: str, role: str, action: str, record_id: str | None,
           detail: dict[str, Any], flags_review: bool = False) -> EventRow:
    """Add an event at the end of the chain (the caller holds the write transaction)."""
    assert action in ACTIONS, action
    known_role(role)  # whoever calls, no event is stored under a role DTPA does not know
    last = session.execute(select(EventRow).order_by(EventRow.seq.desc()).limit(1)).scalar_one_or_none()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    at = utc_now()
    detail = json.loads(json.dumps(detail, default=str))  # exactly what the JSON column returns
    text, digest = _canonical(_event_body(seq, at, actor, role, action, record_id, detail,
                                          flags_review, prev))
    row = EventRow(seq=seq, at=at, actor=actor, role=role, action=action, record_id=record_id,
                   detail=detail, flags_review=flags_review, prev_hash=prev, hash_scheme=SCHEME,
                   canonical=text, hash=digest)
    session.add(row)
    session.flush()
    return row


def seal_signoff(row: SignoffRow) -> None:
    row.canonical, row.content_hash = _canonical(_signoff_body(row))
    row.hash_scheme = SCHEME


def seal_override(row: OverrideRow) -> None:
    row.canonical, row.content_hash = _canonical(_override_body(row))
    row.hash_scheme = SCHEME


def _intact(scheme: str, stored: str | None, digest: str, columns: list[Any]) -> bool:
    """Does a row still hold what was hashed? Current scheme: the stored bytes hash to the
    stored hash, and the columns say what the bytes say. Legacy rows kept no bytes: their hash is
    recomputed from the columns, as it was made."""
    if scheme == LEGACY:
        return sha256_of(columns) == digest
    if scheme != RFC8785 or stored is None:
        return False
    try:
        return sha256_bytes(stored.encode("utf-8")) == digest and json.loads(stored) == columns
    except ValueError:
        return False


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
        if not _intact(e.hash_scheme, e.canonical, e.hash, _event_columns(e)):
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
    result.problems += _kept_problems(session.execute(select(SignoffRow)).scalars().all(),
                                      events, "signed", "signoff_id", "sign-off")
    result.problems += _kept_problems(session.execute(select(OverrideRow)).scalars().all(),
                                      events, "overridden", "override_id", "override")
    return result


def _kept_problems(rows: Sequence[SignoffRow] | Sequence[OverrideRow], events: Sequence[EventRow],
                   action: str, id_key: str, label: str) -> list[str]:
    """Sign-offs or overrides that no longer match what their audit event recorded."""
    out = []
    recorded = {e.detail.get(id_key): e for e in events if e.action == action}
    for kept in rows:
        body = _signoff_body(kept) if isinstance(kept, SignoffRow) else _override_body(kept)
        event = recorded.pop(kept.id, None)
        if event is None or event.detail.get("content_hash") != kept.content_hash or \
                not _intact(kept.hash_scheme, kept.canonical, kept.content_hash, body):
            out.append(f"{label} {kept.id} on {kept.record_id} was altered or added outside DTPA")
    for rid, event in recorded.items():
        out.append(f"{label} {rid} on {event.record_id} is missing (deleted)")
    return out


def _check_record(row: RecordRow, event: EventRow) -> list[str]:
    if row.hash_scheme == LEGACY:
        return _check_legacy_record(row, event)
    out = []
    if row.hash_scheme != RFC8785 or sha256_bytes(row.record_json.encode("utf-8")) != row.record_hash:
        out.append(f"record {row.id}: the stored decision record was altered (hash mismatch)")
    if row.record_hash != event.detail.get("record_hash"):
        out.append(f"record {row.id}: its record hash differs from the one the audit chain recorded")
    try:
        record = json.loads(row.record_json)
    except ValueError:
        return [*out, f"record {row.id}: its stored decision record is no longer valid JSON"]
    if sha256_bytes(row.input_json.encode("utf-8")) != row.input_hash or \
            row.input_hash != event.detail.get("input_hash") or record.get("input_hash") != row.input_hash:
        out.append(f"record {row.id}: the stored assessment (input) was altered")
    if row.outcome != record.get("outcome"):
        out.append(f"record {row.id}: the outcome column ({row.outcome}) differs from the record "
                   f"({record.get('outcome')})")
    return out


def _check_legacy_record(row: RecordRow, event: EventRow) -> list[str]:
    """A record stored before 0005: the whole record as JSON, hashed by re-serialising it."""
    out = []
    try:
        record = DecisionRecord.model_validate_json(row.record_json)
        sealed = seal(record).record_hash
    except ValueError:
        return [f"record {row.id}: its stored decision record is no longer valid JSON"]
    if record.hash_scheme is not None or sealed != record.record_hash or sealed != row.record_hash:
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

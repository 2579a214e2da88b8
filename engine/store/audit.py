"""The append-only, hash-chained audit log, and the check that nothing stored was altered.

Each event's hash covers its own content and the previous event's hash, so editing an event
breaks its hash, deleting one breaks the link of the next, and a record, sign-off or override
whose stored content no longer matches the hash its event recorded is named.

Hashes are computed once, when a row is written, over RFC 8785 canonical JSON; the row keeps
those exact bytes (`canonical`, or the record's and assessment's JSON) and names its scheme
(`hash_scheme`). Checking hashes the stored bytes and compares the columns with what the bytes
say, so nothing is re-serialised. Rows written before 0005 (`sorted-json-sha256`) are checked
as they were hashed: recomputed from their columns.

Events are keyed (migration 0006, `rfc8785-hmac-sha256`): an event's hash is an HMAC-SHA256 of
its canonical bytes (which include its key id) with the audit key in force for it, kept outside
the database (keys.py). Someone with only database access cannot make a hash that verifies, so
an event changed and re-hashed, or added, with plain SHA-256 is named; and the chain is compared
with the signed checkpoints written outside the database (checkpoints.py), so deleting the
newest events, or every event, is named too. Events made before a store had a key (before
`dtpa keys init --adopt`) keep their scheme and verify as before; every event from the first
keyed one on must be keyed, with the key in force for it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import json
import logging
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import AuditChainBroken, AuditKeyMissing, DTPAError
from engine.hashing import LEGACY, RFC8785, canonical, sha256_bytes, sha256_of
from engine.models.people import known_role
from engine.models.record import DecisionRecord, seal
from engine.settings import settings
from engine.store import checkpoints, keys
from engine.store.checkpoints import Checkpoint, Mark
from engine.store.keys import KEYED, AuditKey, KeyRing
from engine.store.tables import EventRow, OverrideRow, RecordRow, SignoffRow

log = logging.getLogger("dtpa.audit")

SCHEME = RFC8785  # what new rows are hashed with

GENESIS = "0" * 64
ACTIONS = ("created", "superseded", "signed", "overridden", "exported", "reevaluated", "viewed",
           # audit keys (issue 12 item 1): operator commands on the key ring
           "keys_initialised", "keys_adopted", "key_rotated",
           "flagged", "account_added", "seeded", "record_erased",
           # accounts (issue 12 item 4): changes by an administrator, and sign-in failures
           "account_deactivated", "account_reactivated", "account_role_changed",
           "account_wards_changed", "account_password_reset", "account_oidc_linked",
           "signin_failed", "signin_locked",
           # second approval of patient access (issue 12 item 3, store/grants.py)
           "account_grant_requested", "account_grant_approved", "account_grant_refused",
           # exports (issue 12 item 6): the PDF signing certificate made by the first signed export
           "signing_certificate_created",
           # re-evaluation runs (issue 12 item 7): an interrupted run is visible and resumed
           "reevaluation_started", "reevaluation_finished", "reevaluation_interrupted",
           # tokens: issuing and revoking one, so a token row added or changed in SQL is named
           "token_issued", "token_revoked")


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _event_body(seq: int, at: str, actor: str, role: str, action: str, record_id: str | None,
                detail: dict[str, Any], flags_review: bool, prev_hash: str) -> list[Any]:
    return [seq, at, actor, role, action, record_id, detail, flags_review, prev_hash]


def _event_columns(e: EventRow) -> list[Any]:
    body = _event_body(e.seq, e.at, e.actor, e.role, e.action, e.record_id, e.detail,
                       e.flags_review, e.prev_hash)
    return [*body, e.key_id] if e.hash_scheme == KEYED else body


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
           detail: dict[str, Any], flags_review: bool = False, checkpoint: bool = False) -> EventRow:
    """Add an event at the end of the chain (the caller holds the write transaction), hashed
    with the audit key in force. A checkpoint is written once the transaction commits when this
    event is due one (checkpoints.due) or the caller asks for it."""
    assert action in ACTIONS, action
    known_role(role)  # whoever calls, no event is stored under a role DTPA does not know
    last = session.execute(select(EventRow).order_by(EventRow.seq.desc()).limit(1)).scalar_one_or_none()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    key = key_for_next(session, last, actor)
    at = utc_now()
    detail = json.loads(json.dumps(detail, default=str))  # exactly what the JSON column returns
    data = canonical([*_event_body(seq, at, actor, role, action, record_id, detail, flags_review,
                                   prev), key.id], RFC8785)
    row = EventRow(seq=seq, at=at, actor=actor, role=role, action=action, record_id=record_id,
                   detail=detail, flags_review=flags_review, prev_hash=prev, hash_scheme=KEYED,
                   canonical=data.decode("utf-8"), hash=key.mac(data), key_id=key.id)
    session.add(row)
    session.flush()
    if checkpoint or checkpoints.due(seq):
        _checkpoint_on_commit(session, row)
    return row


def seal_for_next(session: Session, value: str, actor: str) -> str:
    """A secret's stored form sealed with the key the next event is made with (keys.seal), for
    that event to carry: a password hash, a token's digest."""
    last = session.execute(select(EventRow).order_by(EventRow.seq.desc()).limit(1)).scalar_one_or_none()
    return keys.seal(key_for_next(session, last, actor), value)


def key_for_next(session: Session, last: EventRow | None, actor: str) -> AuditKey:
    """The key for the next event. A store with no events and no key gets one (made now, in the
    key folder); a store with events and no key stops, and no key is made. A store with no
    events whose checkpoints say it had some was emptied: nothing is written to it."""
    ring = keys.load()
    if last is None:
        _refuse_if_emptied(ring)
        ring = ring or keys.ensure(by=actor)
    elif ring is None:
        raise keys.missing(last.seq)
    key = ring.current
    seq = last.seq + 1 if last else 1
    if key.from_seq > seq:
        raise AuditChainBroken(f"audit key {key.id} is in force from event {key.from_seq}, but the "
                               f"chain ends at event {seq - 1}: events were deleted, or the database "
                               "was restored from an older backup; nothing was written")
    return key


def _refuse_if_emptied(ring: KeyRing | None) -> None:
    marks = [m for m in checkpoints.scan(ring) if m.checkpoint is not None]
    valid = checkpoints.latest(marks)
    if valid is not None:
        raise AuditChainBroken(f"the store holds no audit events, but the signed checkpoint "
                               f"{valid.name} ({valid.at}) records {valid.events}: the database was "
                               "emptied, or DTPA points at the wrong one; nothing was written")
    if marks and ring is None:
        raise AuditKeyMissing(f"checkpoints in {checkpoints.folder()} record a store, but there is "
                              f"no audit key in {keys.ring_folder()}; nothing was written and no "
                              "key was made")
    if ring is not None and ring.keyed_from > 1:
        raise AuditChainBroken(f"the audit key was adopted at event {ring.keyed_from}, but the "
                               "store holds no audit events: the database was emptied, or DTPA "
                               "points at the wrong one; nothing was written")


_PENDING = "dtpa_checkpoint"


def _checkpoint_on_commit(session: Session, row: EventRow) -> None:
    """Sign a checkpoint of this event once it is committed (never of one that was rolled back)."""
    first = row.hash if row.seq == 1 else session.execute(
        select(EventRow.hash).where(EventRow.seq == 1)).scalar_one_or_none() or GENESIS
    if _PENDING not in session.info:
        sa_event.listen(session, "after_commit", _write_pending)
        sa_event.listen(session, "after_rollback", lambda s: s.info.pop(_PENDING, None))
    session.info[_PENDING] = (row.seq, row.hash, row.key_id, first)


def _write_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending is None:
        return
    try:
        ring = keys.load()
        if ring is not None:
            checkpoints.write(ring, *pending)
    except (OSError, DTPAError) as exc:
        # The events are stored and nobody's save fails for this; `audit verify` warns that a
        # due checkpoint is missing until one covers them (_missed_checkpoint).
        log.warning("audit checkpoint of event %s not written: %s", pending[0], exc)


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
    notes: list[str] = field(default_factory=list)  # what was checked against what (not failures)
    # Not tampering, but the DPO must see it: a checkpoint that was due and is not there.
    warnings: list[str] = field(default_factory=list)
    checkpoint: Checkpoint | None = None  # the latest valid signed checkpoint, if any
    since: int | None = None  # incremental: the checkpointed event the check started from

    @property
    def ok(self) -> bool:
        return not self.problems


_SINCE: ContextVar[bool] = ContextVar("dtpa_verify_since_checkpoint", default=False)


@contextlib.contextmanager
def since_latest_checkpoint() -> Iterator[None]:
    """Within this block, `verify` (and so `Store.verify`) checks incrementally: the events from
    the latest valid checkpoint on, and the records, sign-offs and overrides they wrote."""
    token = _SINCE.set(True)
    try:
        yield
    finally:
        _SINCE.reset(token)


def verify(session: Session, since_checkpoint: bool | None = None) -> Verification:
    """The chain against its key and its signed checkpoints, and every record, sign-off and
    override against its hash. Raises AuditKeyMissing when keyed events (or checkpoints) exist
    and the key ring is not in the key folder."""
    since_checkpoint = _SINCE.get() if since_checkpoint is None else since_checkpoint
    result = Verification()
    ring = keys.load()
    marks = checkpoints.scan(ring)
    head = session.execute(select(EventRow).order_by(EventRow.seq.desc()).limit(1)).scalar_one_or_none()
    if ring is None:
        keyed = session.execute(select(EventRow.seq).where(EventRow.hash_scheme == KEYED)
                                .limit(1)).scalar_one_or_none()
        if keyed is not None or marks:
            raise keys.missing(head.seq if head else 0)
        if head is not None:
            result.notes.append("NOT KEYED: this store has no audit key (made before audit keys), "
                                "so anyone with database access could have rewritten its chain "
                                "consistently; adopt a key with `dtpa keys init --adopt`")
    latest = result.checkpoint = checkpoints.latest(marks)
    start = latest.events if since_checkpoint and latest is not None else None
    if since_checkpoint and latest is None:
        result.notes.append("no valid signed checkpoint yet: verified in full")
    query = select(EventRow).order_by(EventRow.seq)
    events = session.execute(query if start is None else query.where(EventRow.seq >= start)).scalars().all()
    result.events, result.since = len(events), start
    expected_seq, prev = (start, events[0].prev_hash) if start and events else (1, GENESIS)
    suspect: list[int] = []  # events not made with the audit key in force for them
    for e in events:
        if e.seq != expected_seq:
            missing = f"{expected_seq}" if e.seq == expected_seq + 1 else f"{expected_seq}-{e.seq - 1}"
            result.problems.append(f"audit event(s) {missing} missing (deleted): the chain jumps "
                                   f"from {expected_seq - 1} to {e.seq}")
        elif e.prev_hash != prev:
            result.problems.append(f"audit event {e.seq} does not follow event {e.seq - 1} "
                                   "(its link to the previous event was altered)")
        state = _event_state(e, ring)
        if state == "altered":
            result.problems.append(f"audit event {e.seq} ({e.action} {e.record_id or ''}) was "
                                   "altered: its content no longer matches its hash")
        elif state == "unkeyed":
            suspect.append(e.seq)
        elif state == "unknown key":
            result.problems.append(f"audit event {e.seq} names audit key {e.key_id}, which is not "
                                   "in this deployment's key ring: forged, or the key folder is "
                                   "not this store's")
        elif state == "wrong key":
            in_force = ring.in_force(e.seq) if ring else None
            result.problems.append(f"audit event {e.seq} was hashed with audit key {e.key_id}, but "
                                   + (f"key {in_force.id} was in force from event {in_force.from_seq}"
                                      if in_force else "the store had no key yet")
                                   + ": forged with another key")
        expected_seq, prev = e.seq + 1, e.hash
    if suspect:
        result.problems.append(_not_keyed(suspect, events[0].seq, events[-1].seq))
    result.problems += _against_checkpoints(session, marks, head, start)
    _describe_anchor(result, ring, head)

    created = {e.record_id: e for e in events if e.action == "created"}
    rows = _records(session, start, created)
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
    result.problems += _kept_problems(_kept(session, SignoffRow, events, "signed", "signoff_id", start),
                                      events, "signed", "signoff_id", "sign-off")
    result.problems += _kept_problems(_kept(session, OverrideRow, events, "overridden", "override_id",
                                            start), events, "overridden", "override_id", "override")
    return result


def _event_state(e: EventRow, ring: KeyRing | None) -> str:
    """ok; altered (the columns no longer say what the hashed bytes say, or a hash that does not
    match them under the old schemes); unkeyed (not made with the audit key: plain SHA-256 where
    a key was in force, or a keyed hash that the key does not reproduce); unknown key; wrong key
    (a key of the ring, but not the one in force for this event)."""
    if e.hash_scheme != KEYED:
        if ring is not None and e.seq >= ring.keyed_from:
            return "unkeyed"
        return "ok" if _intact(e.hash_scheme, e.canonical, e.hash, _event_columns(e)) else "altered"
    if ring is None:  # verify refuses before this; kept for any other caller
        raise keys.missing(e.seq)
    try:
        says_columns = e.canonical is not None and json.loads(e.canonical) == _event_columns(e)
    except ValueError:
        says_columns = False
    if not says_columns:
        return "altered"
    key = ring.get(e.key_id)
    if key is None:
        return "unkeyed" if e.key_id is None else "unknown key"
    assert e.canonical is not None
    if not hmac.compare_digest(key.mac(e.canonical.encode("utf-8")), e.hash):
        return "unkeyed"
    in_force = ring.in_force(e.seq)
    return "ok" if in_force is not None and in_force.id == key.id else "wrong key"


def intact(e: EventRow, ring: KeyRing | None) -> bool:
    """One event made with the audit key in force for it and unchanged since (no chain walk)."""
    return _event_state(e, ring) == "ok"


def _ranges(seqs: list[int]) -> str:
    out: list[str] = []
    start = prev = seqs[0]
    for s in [*seqs[1:], None]:
        if s is not None and s == prev + 1:
            prev = s
            continue
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
        if s is not None:
            start = prev = s
    return ", ".join(out)


def _not_keyed(seqs: list[int], first: int, last: int) -> str:
    """Events that someone without the key wrote: added at the end (a forged append), or
    changed and the chain recomputed (re-hashed)."""
    span = _ranges(seqs)
    if seqs == list(range(seqs[0], last + 1)) and seqs[0] > first:
        return (f"forged append: audit event(s) {span} at the end of the chain were not made with "
                "the audit key (written outside DTPA with plain SHA-256 or a made-up key)")
    return (f"re-hashed: audit event(s) {span} ({len(seqs)} in all) were not made with the audit "
            "key: they were changed outside DTPA and their hashes recomputed without the key")


def _against_checkpoints(session: Session, marks: list[Mark], head: EventRow | None,
                         start: int | None) -> list[str]:
    """What the signed checkpoints say the chain held, against what it holds now."""
    out = [f"checkpoint {m.path.name} cannot be relied on: {m.problem}" for m in marks if m.problem]
    valid = [m.checkpoint for m in marks if m.checkpoint is not None and m.problem is None]
    latest = checkpoints.latest(marks)
    if latest is None:
        return out
    if head is None:
        return [*out, f"wiped: the store holds no audit events, but checkpoint {latest.name} "
                      f"signed at {latest.at} records {latest.events}: every event was deleted "
                      "(the store was emptied), or DTPA points at the wrong database"]
    if head.seq < latest.events:
        out.append(f"tail truncation: the chain ends at event {head.seq}, but checkpoint "
                   f"{latest.name} signed at {latest.at} records {latest.events} events: events "
                   f"{head.seq + 1}-{latest.events} were deleted (or the database was restored "
                   "from an older backup)")
    wanted = sorted({c.events for c in valid if c.events <= head.seq
                     and (start is None or c.events >= start)})
    hashes: dict[int, str] = {}
    for i in range(0, len(wanted), 500):
        hashes.update((seq, digest) for seq, digest in session.execute(
            select(EventRow.seq, EventRow.hash).where(EventRow.seq.in_(wanted[i:i + 500]))))
    differ = sorted((c for c in valid if c.events in hashes and hashes[c.events] != c.head),
                    key=lambda c: (c.events, c.at))
    if differ:
        first = differ[0]
        more = f" (and {len(differ) - 1} later checkpoint(s))" if len(differ) > 1 else ""
        out.append(f"re-hashed: event {first.events}'s hash differs from the one checkpoint "
                   f"{first.name} signed at {first.at}{more}: the chain up to it was rewritten")
    return out


def _describe_anchor(result: Verification, ring: KeyRing | None, head: EventRow | None) -> None:
    if ring is None:
        return
    if ring.keyed_from > 1:
        result.notes.append(f"events 1-{ring.keyed_from - 1} were made before this store adopted "
                            "an audit key: they are checked as they were hashed, and by the "
                            "checkpoint signed when the key was adopted")
    cp = result.checkpoint
    _missed_checkpoint(result, ring, head)
    if cp is None:
        result.notes.append(f"no signed checkpoint in {checkpoints.folder()}: deleting the newest "
                            "events or emptying the store could not be told from a new store")
        return
    result.notes.append(f"checked against the signed checkpoint {cp.name}: {cp.events} events, "
                        f"head {cp.head[:16]}, signed {cp.at} by key {cp.signing_key[:16]}")
    if head is not None and head.seq > cp.events:
        result.notes.append(f"events {cp.events + 1}-{head.seq} were written after the latest "
                            "checkpoint: deleting them would be noticed only by the next one "
                            "(`dtpa audit checkpoint`)")


def _missed_checkpoint(result: Verification, ring: KeyRing, head: EventRow | None) -> None:
    """A checkpoint due after an event (checkpoints.due) that is not there: writing it failed
    after the event was stored (only logged then, so that nobody's save failed), or it was
    removed. Either way the newest events are not anchored, and the DPO is told."""
    if head is None:
        return
    every = settings().checkpoint_every
    due = max(head.seq // every * every if every > 0 else 0, ring.keyed_from)
    covered = result.checkpoint.events if result.checkpoint is not None else 0
    if due > head.seq or covered >= due:
        return
    where = checkpoints.folder()
    behind = (f"the latest signed checkpoint covers event {covered}, {head.seq - covered} event(s) "
              f"behind the chain head ({head.seq})" if covered else
              f"there is no signed checkpoint of the chain's {head.seq} event(s)")
    result.warnings.append(f"{behind}, though one was due after event {due}: it could not be "
                           f"written to {where} (is it writable?) or was removed; fix the folder "
                           "and run `dtpa audit checkpoint`")


def _records(session: Session, start: int | None, created: dict[str | None, EventRow]) -> list[RecordRow]:
    """Every record; incrementally, those created since the checkpoint, and (by id only) any
    record with no 'created' event or whose event has no record."""
    if start is None:
        return list(session.execute(select(RecordRow)).scalars().all())
    ids = [rid for rid in created if rid]
    rows: list[RecordRow] = []
    for i in range(0, len(ids), 500):
        rows += session.execute(select(RecordRow).where(RecordRow.id.in_(ids[i:i + 500]))).scalars()
    stored = set(session.execute(select(RecordRow.id)).scalars())
    made = {rid for rid in session.execute(select(EventRow.record_id)
                                           .where(EventRow.action == "created")).scalars() if rid}
    rows += [RecordRow(id=rid) for rid in sorted(stored - made)]  # named: no 'created' event
    for rid in sorted(made - stored - set(created)):
        created[rid] = EventRow(seq=0, record_id=rid, action="created", detail={})
    return rows


def _kept(session: Session, table: type[SignoffRow] | type[OverrideRow], events: Sequence[EventRow],
          action: str, id_key: str, start: int | None) -> Sequence[Any]:
    """Every sign-off (override); incrementally, those whose events are since the checkpoint and
    any the chain never recorded (a row inserted in SQL after the checkpoint has no event)."""
    if start is None:
        return session.execute(select(table)).scalars().all()
    ids = {e.detail.get(id_key) for e in events if e.action == action}
    named = {(d or {}).get(id_key) for d in session.execute(
        select(EventRow.detail).where(EventRow.action == action)).scalars()}
    ids |= set(session.execute(select(table.id)).scalars()) - named
    wanted = sorted(i for i in ids if isinstance(i, int))
    rows: list[Any] = []
    for i in range(0, len(wanted), 500):
        rows += session.execute(select(table).where(table.id.in_(wanted[i:i + 500]))).scalars()
    return rows


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

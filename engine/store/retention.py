"""Retention without breaking proof: when an individual use's retention period (set by the local
profile) has passed, its patient-identifying payload is erased and the row stays as a tombstone.

What is erased: the title, the patient reference, the stored assessment (`input_json`) and the
decision record (`record_json`) of every version of the record, and the trust's unsaved patient
drafts (DraftRow) of the same age. What stays: the row's id, key, version, context, ward,
product, outcome, dates and both hashes; every sign-off, override and audit event. The erasure
is itself an audit event (`record_erased`: who, under which profile rule, and the hashes it
erased), and the row is marked (`erased_at`, `erasure_rule`).

The period runs from the record's last entry: the newest of its versions, sign-offs and
overrides. Product (procurement) decisions are never erased by this rule.

`audit verify` then tells three things apart (`review`):
- an authorised erasure: an empty payload with its `record_erased` event and marker, and hashes
  that still match the audit chain (reported, not a problem);
- tampering: a payload emptied, or a row marked erased, without that event (a row deleted
  outright is named by audit.verify as missing);
- a restore after erasure: a payload erased by an event that is back and matches its sealed
  hashes (a backup restored over the store); reported, and erased again by the next run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from engine.errors import AccessDenied, InputInvalid, StoreConflict
from engine.models.people import known_role
from engine.models.record import DecisionRecord
from engine.models.vocab import Role
from engine.store import audit, column_checks
from engine.store.governance import Governance
from engine.store.records import RecordView
from engine.store.tables import DraftRow, EventRow, OverrideRow, RecordRow, SignoffRow
from engine.store.tombstones import erasure_note, is_erased

RULE = "retention.individual_use_years"  # the profile setting that the rule reads
ERASED = "record_erased"  # the audit action
ERASERS = frozenset({Role.administrator, Role.dpo})  # who may run it (Access checks too)
CONTEXT = "individual_use"  # the only records this rule erases
# The columns a tombstone keeps that access, reviews and listings read: their sealed record is
# gone, so the erasure event records them and verification checks them against it.
KEPT = ("context", "product", "product_version", "ward", "relies_on", "outcome", "assessed_on",
        "review_date", "rule_pack_version", "rule_pack_hash", "profile", "created_by",
        "created_role", "created_at")


@dataclass(frozen=True)
class Expired:
    """One version of a record whose retention period has passed."""

    record_id: str
    last_entry: dt.date  # the record's newest version, sign-off or override
    due: dt.date  # last_entry plus the period: erased on or after this day
    again: bool  # erased before and restored since (from a backup)


@dataclass
class ErasureRun:
    """What `erase_expired` erased (or, in a dry run, would erase)."""

    rule: str
    today: dt.date
    dry_run: bool
    records: list[Expired] = field(default_factory=list)
    drafts: int = 0  # unsaved patient drafts older than the period
    # Versions past the period left as they are because they failed their integrity check:
    # erasing them would wipe the evidence (record id, first problem; `audit verify` says all).
    refused: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Verification(audit.Verification):
    """The audit check, with authorised erasures and restores after erasure told apart from
    tampering (neither is a problem)."""

    erased: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)


def rule_text(profile: str, years: int) -> str:
    return f"profile {profile}: {RULE} = {years}"


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _date(stamp: str) -> dt.date:
    return dt.date.fromisoformat(stamp[:10])


class Retention(Governance):
    """The store's part that erases expired patient payloads and checks what erasure left."""

    def erase_expired(self, years: int, profile: str, by: str, role: str,
                      today: dt.date | None = None, dry_run: bool = False) -> ErasureRun:
        """Erase the payload of every individual-use record whose last entry is `years` or more
        before `today`, each erasure an audit event naming `by`, `role` and the profile rule.
        A dry run reads the same records and changes nothing."""
        if known_role(role) not in ERASERS:
            raise AccessDenied(f"{by} ({role}) may not erase records: only "
                               + " or ".join(sorted(r.value for r in ERASERS)) + " may")
        if not 1 <= years <= 200:
            raise InputInvalid(f"{RULE} must be a number of years from 1 to 200, not {years}")
        run = ErasureRun(rule_text(profile, years), today or dt.date.today(), dry_run)
        with self.db.read() if dry_run else self.db.write() as session:
            found = expired(session, years, run.today)
            rows = _rows(session, [e.record_id for e in found])
            created = _created(session, list(rows))
            for item in found:
                problems = _integrity(rows[item.record_id], created.get(item.record_id))
                if problems:
                    run.refused.append((item.record_id, problems[0]))
                    continue
                run.records.append(item)
                if not dry_run:
                    _erase(session, rows[item.record_id], item, run.rule, profile, years, by, role)
            drafts = _old_drafts(session, years, run.today)
            if drafts and not dry_run:
                session.execute(delete(DraftRow).where(DraftRow.name.in_(drafts)))
            run.drafts = len(drafts)
        return run

    def verify(self, *args: Any, **kwargs: Any) -> Verification:
        """The audit check, with erasures, restores and tampering with payloads told apart."""
        result = super().verify(*args, **kwargs)
        with self.db.read() as session:
            return review(session, result)

    # --- what an erased record no longer allows ------------------------------------------

    def stored_decisions(self, ids: list[str]) -> list[tuple[str, str, str]]:
        """As Records.stored_decisions, without erased records: there is nothing to re-decide."""
        return [d for d in super().stored_decisions(ids) if d[2]]

    def sign(self, ref: str, *args: Any, **kwargs: Any) -> RecordView:
        self._not_erased(ref, "signed")
        return super().sign(ref, *args, **kwargs)

    def override(self, ref: str, *args: Any, **kwargs: Any) -> RecordView:
        self._not_erased(ref, "overridden")
        return super().override(ref, *args, **kwargs)

    def _not_erased(self, ref: str, what: str) -> None:
        with self.db.read() as session:
            row = self._row(session, ref)
            if is_erased(row):
                raise StoreConflict(f"{row.id} cannot be {what}: {erasure_note(row)}")


# --- finding and erasing ---------------------------------------------------------------------

def expired(session: Session, years: int, today: dt.date) -> list[Expired]:
    """Versions still holding a payload whose record's last entry is at least `years` old."""
    versions = session.execute(select(
        RecordRow.id, RecordRow.key, RecordRow.created_at,
        or_(RecordRow.record_json != "", RecordRow.input_json != "",
            RecordRow.patient_reference.is_not(None), RecordRow.title.is_not(None)))
        .where(RecordRow.context == CONTEXT)).all()
    key_of = {rid: key for rid, key, _, _ in versions}
    last: dict[str, str] = {}
    for _, key, created_at, _ in versions:
        last[key] = max(last.get(key, ""), created_at)
    for table, stamp in ((SignoffRow, SignoffRow.signed_at), (OverrideRow, OverrideRow.created_at)):
        for rid, latest in session.execute(
                select(table.record_id, func.max(stamp)).join(RecordRow, RecordRow.id == table.record_id)
                .where(RecordRow.context == CONTEXT).group_by(table.record_id)).all():
            last[key_of[rid]] = max(last[key_of[rid]], latest)
    erased_before = set(session.execute(select(EventRow.record_id).where(
        EventRow.action == ERASED).distinct()).scalars())
    out = []
    for rid, key, _, holds_payload in versions:
        entry = _date(last[key])
        due = add_years(entry, years)
        if holds_payload and due <= today:
            out.append(Expired(rid, entry, due, rid in erased_before))
    return sorted(out, key=lambda e: (e.due, e.record_id))


def _rows(session: Session, ids: Sequence[str]) -> dict[str, RecordRow]:
    out: dict[str, RecordRow] = {}
    for start in range(0, len(ids), 2000):
        out.update((r.id, r) for r in session.execute(select(RecordRow).where(
            RecordRow.id.in_(ids[start:start + 2000]))).scalars())
    return out


def _created(session: Session, ids: Sequence[str]) -> dict[str, EventRow]:
    out: dict[str, EventRow] = {}
    for start in range(0, len(ids), 2000):
        for e in session.execute(select(EventRow).where(
                EventRow.action == "created", EventRow.record_id.in_(ids[start:start + 2000]))
                .order_by(EventRow.seq)).scalars():
            out.setdefault(e.record_id or "", e)
    return out


def _integrity(row: RecordRow, created: EventRow | None) -> list[str]:
    """Whether a version may be erased: its payload matches the hashes its "created" event
    recorded and its columns what its sealed record says. One that does not is evidence."""
    if created is None:
        return [f"record {row.id} has no 'created' event in the audit chain"]
    out = audit._check_record(row, created)
    if out:
        return out
    return column_checks.record_problems(row, DecisionRecord.model_validate_json(row.record_json),
                                         created)


def _kept(row: RecordRow) -> dict[str, Any]:
    return {c: None if getattr(row, c) is None else str(getattr(row, c)) for c in KEPT}


def _erase(session: Session, row: RecordRow, item: Expired, rule: str, profile: str, years: int,
           by: str, role: str) -> None:
    if row.context != CONTEXT:  # never a product decision, whatever asked
        raise StoreConflict(f"{row.id} is a {row.context} record: the retention rule erases "
                            f"individual uses only")
    event = audit.append(session, by, role, ERASED, row.id, {
        "rule": RULE, "years": years, "profile": profile, "last_entry": str(item.last_entry),
        "due": str(item.due), "record_hash": row.record_hash, "input_hash": row.input_hash,
        "again": item.again, "kept": _kept(row)})
    row.title = None
    row.patient_reference = None
    row.input_json = ""
    row.record_json = ""
    row.erased_at = event.at
    row.erasure_rule = rule


def _old_drafts(session: Session, years: int, today: dt.date) -> list[str]:
    """Unsaved patient drafts last saved at least `years` before today."""
    return [name for name, saved_at in session.execute(
        select(DraftRow.name, DraftRow.saved_at).where(DraftRow.context == CONTEXT)).all()
        if add_years(_date(saved_at), years) <= today]


# --- what verification makes of it ----------------------------------------------------------

def review(session: Session, result: audit.Verification) -> Verification:
    """`result` (the audit check of the same store) with each empty or restored payload
    classified: an authorised erasure or a restore moves out of the problems; a payload emptied
    or marked erased without a `record_erased` event is named as tampering."""
    out = Verification(**{f.name: getattr(result, f.name) for f in dataclasses.fields(result)
                          if f.init and f.name not in ("erased", "restored")})
    out.problems = list(result.problems)
    erasures: dict[str, list[EventRow]] = {}
    for e in session.execute(select(EventRow).where(EventRow.action == ERASED)
                             .order_by(EventRow.seq)).scalars():
        erasures.setdefault(e.record_id or "", []).append(e)
    rows = session.execute(select(RecordRow).where(or_(
        RecordRow.erased_at.is_not(None), RecordRow.record_json == "", RecordRow.input_json == "",
        RecordRow.id.in_(list(erasures))))).scalars().all()
    created = {e.record_id: e for e in session.execute(select(EventRow).where(
        EventRow.action == "created", EventRow.record_id.in_([r.id for r in rows]))).scalars()}
    for row in rows:
        event = created.get(row.id)
        if event is None:
            continue  # audit.verify names a row without its 'created' event
        said = audit._check_record(row, event)  # what the audit check made of this payload
        erased_by = erasures.get(row.id, [])
        last = erased_by[-1] if erased_by else None
        if last is not None and row.record_json == "" and row.input_json == "":
            _drop(out.problems, said)
            out.problems += _tombstone_problems(row, event, last)
            out.erased.append(f"record {row.id}: payload erased on {last.at[:10]} by {last.actor} "
                              f"({last.role}) under {row.erasure_rule or last.detail.get('rule')} "
                              f"(audit event {last.seq}); record sha256 {row.record_hash} kept")
        elif last is None and (row.record_json == "" or row.input_json == ""):
            _drop(out.problems, said)
            out.problems += _hash_problems(row, event)
            out.problems.append(f"record {row.id}: its payload was emptied outside DTPA (no "
                                f"'{ERASED}' event in the audit chain): tampering")
        elif last is None:
            out.problems.append(f"record {row.id}: it is marked erased ({row.erased_at}) but the "
                                "audit chain recorded no erasure: tampering")
        elif not said:
            out.restored.append(
                f"record {row.id}: its payload, erased on {last.at[:10]} (audit event {last.seq}), "
                "is back and matches its sealed hashes (restored from a backup?); "
                "`dtpa records erase-expired` erases it again")
        else:
            out.problems.append(f"record {row.id}: a payload is back after its erasure on "
                                f"{last.at[:10]} and does not match its sealed hashes")
    return out


def _drop(problems: list[str], said: list[str]) -> None:
    for message in said:
        if message in problems:
            problems.remove(message)


def _hash_problems(row: RecordRow, created: EventRow) -> list[str]:
    """The columns that stay on a tombstone against what the chain recorded at creation."""
    out = []
    if (row.record_hash, row.input_hash) != (created.detail.get("record_hash"),
                                             created.detail.get("input_hash")):
        out.append(f"record {row.id}: its hashes differ from those the audit chain recorded")
    if row.outcome != created.detail.get("outcome"):
        out.append(f"record {row.id}: the outcome column ({row.outcome}) differs from the one the "
                   f"audit chain recorded ({created.detail.get('outcome')})")
    return out


def _tombstone_problems(row: RecordRow, created: EventRow, erased: EventRow) -> list[str]:
    """What must still hold of a tombstone: its hashes are those the chain recorded at creation
    and at erasure, its marker is its last erasure's, nothing patient-identifying is left, and
    it was an individual use erased by a role that may."""
    out = _hash_problems(row, created)
    if (erased.detail.get("record_hash"), erased.detail.get("input_hash")) != \
            (row.record_hash, row.input_hash):
        out.append(f"record {row.id}: its hashes differ from those its '{ERASED}' event "
                   f"{erased.seq} recorded")
    if row.erased_at != erased.at:
        out.append(f"record {row.id}: its erasure marker ({row.erased_at}) differs from its "
                   f"'{ERASED}' event {erased.seq} ({erased.at})")
    kept = erased.detail.get("kept") or {}
    for column, value in _kept(row).items():
        if kept.get(column) != value:
            out.append(f"record {row.id}: the {column} column of the tombstone differs from what "
                       f"its '{ERASED}' event {erased.seq} kept: changed outside DTPA")
    if row.patient_reference is not None or row.title is not None:
        out.append(f"record {row.id}: erased, yet a patient reference or title was written back")
    if row.context != CONTEXT or erased.role not in ERASERS:
        out.append(f"record {row.id}: erased though the retention rule erases only individual "
                   f"uses, by {' or '.join(sorted(ERASERS))}")
    return out

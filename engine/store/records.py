"""Decision records: saving a record or a new version of one, and finding them again. Records are
never rewritten; saving is an audit event, and the record and its assessment are kept as the
exact canonical bytes their hashes cover."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.errors import IntegrityFailure, RecordNotFound, StoreConflict
from engine.hashing import LEGACY, canonical, sha256_bytes
from engine.models.people import RoleRules, known_role
from engine.models.record import DecisionRecord, sealed_bytes
from engine.store import audit, column_checks
from engine.store.db import Database
from engine.store.tables import EventRow, OverrideRow, RecordRow, SignoffRow
from engine.store.tombstones import is_erased, tombstone_record

PREFIX = {"procurement": "PRO", "individual_use": "IND"}

RequiredRoles = Callable[[str], list[str]]  # context -> roles the local profile needs to sign


@dataclass
class RecordView:
    """A stored record with everything that governs it, as every front end shows it."""

    row: RecordRow
    record: DecisionRecord
    signoffs: list[SignoffRow]
    overrides: list[OverrideRow]
    superseded_by: str | None
    required_roles: list[str]
    review_flags: list[EventRow] = field(default_factory=list)
    # What disagrees with the sealed record or its "created" event (column_checks.py): a view
    # with any is refused when opened, shown to governance only, and never approved.
    integrity: list[str] = field(default_factory=list)

    @property
    def missing_roles(self) -> list[str]:
        signed = {s.role for s in self.signoffs}
        return [r for r in self.required_roles if r not in signed]

    @property
    def approved(self) -> bool:
        return self.superseded_by is None and not self.missing_roles and not self.integrity

    @property
    def status(self) -> str:
        if is_erased(self.row):  # a tombstone (retention.py)
            return f"erased on {self.row.erased_at[:10]}" if self.row.erased_at else "payload missing"
        if self.integrity:
            return "integrity check failed (changed outside DTPA): run `dtpa audit verify`"
        if self.superseded_by:
            return f"superseded by {self.superseded_by}"
        if self.approved:
            return "approved"
        return "awaiting sign-off by " + ", ".join(self.missing_roles)

    @property
    def effective_outcome(self) -> str:
        """The outcome after any override; the engine's outcome stays on the record."""
        latest = [o for o in self.overrides if o.target == "outcome"]
        return latest[-1].new_value if latest else self.record.outcome


def parse_ref(ref: str) -> tuple[str, int | None]:
    """`PRO-1a2b3c4d` (latest version) or `PRO-1a2b3c4d@2` (that version)."""
    key, _, version = ref.strip().partition("@")
    if version and not version.isdigit():
        raise RecordNotFound(f"{ref!r} is not a record id (expected KEY or KEY@VERSION)")
    return key, int(version) if version else None


def stored_record(row: RecordRow) -> DecisionRecord:
    """The record a row holds. Under RFC 8785 the row keeps the exact bytes the hash covers
    (everything but the hash), and the hash beside them. An erased payload reads as its
    tombstone (tombstones.py)."""
    if is_erased(row):
        return tombstone_record(row)
    record = DecisionRecord.model_validate_json(row.record_json)
    if row.hash_scheme == LEGACY:
        return record
    return record.model_copy(update={"record_hash": row.record_hash})


class Records:
    """Reading and saving decision records; the base the rest of the store builds on."""

    def __init__(self, db: Database, required_roles: RequiredRoles | None = None,
                 role_rules: RoleRules | None = None):
        self.db = db
        self._required = required_roles or (lambda context: [])
        self.role_rules = role_rules or RoleRules()  # who signs and overrides (the profile)

    # --- reading -------------------------------------------------------------------------

    def _row(self, session: Session, ref: str) -> RecordRow:
        key, version = parse_ref(ref)
        # A version is found by its id (the audit chain names ids), not by the key and version
        # columns; column_checks names a row whose key or version disagrees with its id.
        query = select(RecordRow).where(RecordRow.id == f"{key}@{version}") if version else \
            select(RecordRow).where(RecordRow.key == key).order_by(RecordRow.version.desc()).limit(1)
        row = session.execute(query).scalar_one_or_none()
        if row is None:
            raise RecordNotFound(f"no stored record {ref!r}")
        return row

    def _view(self, session: Session, row: RecordRow) -> RecordView:
        return self._views(session, [row])[0]

    def _views(self, session: Session, rows: list[RecordRow]) -> list[RecordView]:
        """Views of many records with a handful of queries (not a few per record). Each view's
        row is a detached copy whose columns are what the sealed record and its "created" event
        say (column_checks.py), so access, reviews and listings never read a column changed in
        SQL; what disagrees is in the view's `integrity`."""
        signoffs: dict[str, list[SignoffRow]] = {}
        overrides: dict[str, list[OverrideRow]] = {}
        flags: dict[str, list[EventRow]] = {}
        created: dict[str, EventRow] = {}
        later: set[str] = set()
        for start in range(0, len(rows), 2000):
            ids = [r.id for r in rows[start:start + 2000]]
            for s in session.execute(select(SignoffRow).where(SignoffRow.record_id.in_(ids))
                                     .order_by(SignoffRow.id)).scalars():
                signoffs.setdefault(s.record_id, []).append(s)
            for o in session.execute(select(OverrideRow).where(OverrideRow.record_id.in_(ids))
                                     .order_by(OverrideRow.id)).scalars():
                overrides.setdefault(o.record_id, []).append(o)
            for e in session.execute(select(EventRow).where(
                    EventRow.record_id.in_(ids),
                    or_(EventRow.flags_review.is_(True), EventRow.action == "created"))
                    .order_by(EventRow.seq)).scalars():
                if e.record_id and e.action == "created":
                    created.setdefault(e.record_id, e)
                elif e.record_id and e.flags_review:  # a flag always names its record
                    flags.setdefault(e.record_id, []).append(e)
            keys = {r.key for r in rows[start:start + 2000]}
            later.update(session.execute(select(RecordRow.id).where(RecordRow.key.in_(keys))).scalars())
        views = []
        for stored in rows:
            r, record, integrity = _checked(stored, created.get(stored.id))
            views.append(RecordView(
                r, record, signoffs.get(r.id, []), overrides.get(r.id, []),
                f"{r.key}@{r.version + 1}" if f"{r.key}@{r.version + 1}" in later else None,
                self._required(r.context), flags.get(r.id, []), integrity))
        return views

    def get(self, ref: str, viewer: tuple[str, str] | None = None,
            flagged: bool = False) -> RecordView:
        """A record; opening an individual (patient) record as a person is an audit event. A
        record that failed its integrity check is refused (IntegrityFailure), unless `flagged`
        (governance investigating it: the view says what failed)."""
        if viewer is not None:
            known_role(viewer[1])
            with self.db.write() as session:
                view = _usable(self._view(session, self._row(session, ref)), flagged)
                if view.row.context == "individual_use":  # the sealed context, not the column
                    audit.append(session, viewer[0], viewer[1], "viewed", view.row.id, {})
                return view
        with self.db.read() as session:
            return _usable(self._view(session, self._row(session, ref)), flagged)

    def history(self, ref: str) -> tuple[list[RecordRow], list[EventRow]]:
        key, _ = parse_ref(ref)
        with self.db.read() as session:
            rows = session.execute(select(RecordRow).where(RecordRow.key == key)
                                   .order_by(RecordRow.version)).scalars().all()
            if not rows:
                raise RecordNotFound(f"no stored record {ref!r}")
            ids = [r.id for r in rows]
            events = session.execute(select(EventRow).where(EventRow.record_id.in_(ids))
                                     .order_by(EventRow.seq)).scalars().all()
            # each version as its sealed record and "created" event say (column_checks.py)
            return [v.row for v in self._views(session, list(rows))], list(events)

    def latest_ids(self) -> list[str]:
        """Ids of the current version of every record, oldest first (cheap: no records parsed)."""
        with self.db.read() as session:
            newest = select(RecordRow.key, func.max(RecordRow.version).label("v")).group_by(
                RecordRow.key).subquery()
            return list(session.execute(select(RecordRow.id).join(
                newest, (RecordRow.key == newest.c.key) & (RecordRow.version == newest.c.v))
                .order_by(RecordRow.created_at)).scalars())

    def stored_decisions(self, ids: list[str]) -> list[tuple[str, str, str]]:
        """(id, assessment JSON, record JSON) of the given records: the cheap read for
        re-evaluation, which needs no governance."""
        with self.db.read() as session:
            rows = session.execute(select(RecordRow.id, RecordRow.input_json, RecordRow.record_json)
                                   .where(RecordRow.id.in_(ids))).all()
            order = {rid: i for i, rid in enumerate(ids)}
            return sorted(((r[0], r[1], r[2]) for r in rows), key=lambda r: order[r[0]])

    def views(self, ids: list[str]) -> list[RecordView]:
        with self.db.read() as session:
            rows = session.execute(select(RecordRow).where(RecordRow.id.in_(ids))).scalars().all()
            order = {rid: i for i, rid in enumerate(ids)}
            return self._views(session, sorted(rows, key=lambda r: order[r.id]))

    def latest(self, context: str | None = None, product: str | None = None,
               ward: str | None = None, outcome: str | None = None) -> list[RecordView]:
        """The current (not superseded) version of every record, filtered."""
        with self.db.read() as session:
            newest = select(RecordRow.key, func.max(RecordRow.version).label("v")).group_by(
                RecordRow.key).subquery()
            query = select(RecordRow).join(newest, (RecordRow.key == newest.c.key)
                                           & (RecordRow.version == newest.c.v))
            if context:  # the id's prefix, which the audit chain names, not the context column
                query = query.where(RecordRow.id.like(f"{PREFIX.get(context, '?')}-%"))
            rows = session.execute(query.order_by(RecordRow.created_at)).scalars().all()
            # Filtered on the sealed values, never on columns that could be changed in SQL.
            return [v for v in self._views(session, list(rows))
                    if (not context or v.row.context == context)
                    and (not product or product.casefold() in v.row.product.casefold())
                    and (not ward or ward.casefold() in (v.row.ward or "").casefold())
                    and (not outcome or v.row.outcome == outcome)]

    def count(self) -> int:
        with self.db.read() as session:
            return session.execute(select(func.count()).select_from(RecordRow)).scalar_one()

    def verify(self) -> audit.Verification:
        """The audit chain and every record, sign-off and override against its stored hash."""
        with self.db.read() as session:
            return audit.verify(session)

    # --- writing -------------------------------------------------------------------------

    def save(self, assessment_json: dict[str, Any], record: DecisionRecord, by: str, role: str,
             idempotency_key: str | None = None, supersedes: str | None = None) -> RecordView:
        """Store an assessment and its decision record as a new record, or as a new version."""
        known_role(role)
        try:
            with self.db.write() as session:
                if idempotency_key:
                    found = session.execute(select(RecordRow).where(
                        RecordRow.idempotency_key == idempotency_key)).scalar_one_or_none()
                    if found is not None:
                        if found.input_hash != record.input_hash:
                            raise StoreConflict(f"idempotency key {idempotency_key!r} was used for "
                                                f"a different assessment ({found.id})")
                        return self._view(session, found)
                if supersedes:
                    # the version superseded as sealed (its product version decides whether uses
                    # relying on it are flagged); one that failed its integrity check is refused
                    previous = _usable(self._view(session, self._row(
                        session, parse_ref(supersedes)[0])), False).row
                    if previous.context != record.record_type:
                        raise StoreConflict(f"{previous.key} is a {previous.context} record; a new "
                                            f"version must be of the same kind")
                    key, version = previous.key, previous.version + 1
                else:
                    previous = None
                    key, version = f"{PREFIX[record.record_type]}-{uuid.uuid4().hex[:8]}", 1
                row = _row_for(key, version, assessment_json, record, by, role, idempotency_key)
                session.add(row)
                session.flush()
                audit.append(session, by, role, "created", row.id, {
                    "record_hash": row.record_hash, "input_hash": row.input_hash,
                    "outcome": row.outcome, "version": version, "rule_pack_hash": row.rule_pack_hash,
                    "supersedes": previous.id if previous else None,
                    "created_at": row.created_at})  # column_checks checks the column against it
                if previous is not None:
                    audit.append(session, by, role, "superseded", previous.id,
                                 {"superseded_by": row.id})
                    if record.record_type == "procurement" and \
                            previous.product_version != row.product_version:
                        _flag_dependants(session, key, by, role, previous.product_version,
                                         row.product_version)
                return self._view(session, row)
        except IntegrityError:
            # Two writers raced on the same idempotency key: the other one stored it.
            if idempotency_key:
                return self.save(assessment_json, record, by, role, idempotency_key, supersedes)
            raise

    def record_export(self, ref: str, by: str, role: str, kind: str) -> None:
        known_role(role)
        with self.db.write() as session:
            audit.append(session, by, role, "exported", self._row(session, ref).id, {"format": kind})


def _row_for(key: str, version: int, assessment_json: dict[str, Any], record: DecisionRecord,
             by: str, role: str, idempotency_key: str | None) -> RecordRow:
    """The row to store: the canonical bytes of the assessment and of the record, each checked
    against the hash the record carries, computed once here and kept as they are."""
    if record.hash_scheme is None:
        raise StoreConflict("the decision record is sealed with the old hash scheme; decide the "
                            "assessment again to store it")
    input_bytes = canonical(assessment_json, record.hash_scheme)
    if sha256_bytes(input_bytes) != record.input_hash:
        raise StoreConflict("the decision record was not made from this assessment (input hash)")
    record_bytes = sealed_bytes(record)
    if sha256_bytes(record_bytes) != record.record_hash:
        raise StoreConflict("the decision record was changed after it was sealed (record hash)")
    subject = record.subject
    return RecordRow(
        id=f"{key}@{version}", key=key, version=version, context=record.record_type,
        title=record.title, product=subject.product, product_version=subject.version,
        patient_reference=subject.patient_reference, ward=subject.ward, relies_on=record.relies_on,
        outcome=record.outcome, assessed_on=record.assessed_on, review_date=record.review_date,
        rule_pack_version=record.rule_pack.version, rule_pack_hash=record.rule_pack.hash,
        profile=record.rule_pack.profile, input_json=input_bytes.decode(),
        record_json=record_bytes.decode(), input_hash=record.input_hash,
        record_hash=record.record_hash, hash_scheme=record.hash_scheme,
        created_at=audit.utc_now(), created_by=by, created_role=role,
        idempotency_key=idempotency_key)


def _flag_dependants(session: Session, product_key: str, by: str, role: str,
                     old: str | None, new: str | None) -> None:
    """A new product version puts every individual use relying on the product up for review.
    Which records rely on it is read from their sealed records (their `relies_on`), so a column
    changed in SQL cannot keep one from its review."""
    prefix = f"{PREFIX['individual_use']}-%"
    newest = select(RecordRow.key, func.max(RecordRow.version).label("v")).where(
        RecordRow.id.like(prefix)).group_by(RecordRow.key).subquery()
    candidates = session.execute(select(RecordRow).join(
        newest, (RecordRow.key == newest.c.key) & (RecordRow.version == newest.c.v)).where(
        or_(RecordRow.relies_on.like(f"{product_key}@%"),
            RecordRow.record_json.like(f'%"relies_on":"{product_key}@%')))).scalars().all()
    dependants = [dep for dep in candidates
                  if str(_sealed_field(dep, "relies_on") or "").startswith(f"{product_key}@")]
    for dep in dependants:
        audit.append(session, by, role, "flagged", dep.id,
                     {"reason": f"product {product_key} changed version ({old} -> {new})"},
                     flags_review=True)


def _sealed_field(row: RecordRow, name: str) -> Any:
    try:
        return json.loads(row.record_json).get(name) if row.record_json else getattr(row, name)
    except (ValueError, AttributeError):
        return getattr(row, name)


def _checked(row: RecordRow, created: EventRow | None) -> tuple[RecordRow, DecisionRecord, list[str]]:
    """The row as its sealed record and "created" event say it (a detached copy), the record,
    and what disagrees. Bytes that no longer match the hash the chain recorded give no sealed
    values: the row's columns are kept, and the view is flagged."""
    try:
        record = stored_record(row)
    except ValueError:
        return column_checks.sealed_row(row, None, None), tombstone_record(row), [
            f"record {row.id}: its stored decision record can no longer be read"]
    sealed = None if is_erased(row) else record
    problems = column_checks.bytes_problems(row, sealed, created)
    trusted = sealed if not problems else None
    problems += column_checks.record_problems(row, sealed, created)
    return column_checks.sealed_row(row, trusted, created), record, problems


def _usable(view: RecordView, flagged: bool) -> RecordView:
    if view.integrity and not flagged:
        raise IntegrityFailure(f"record {view.row.id} failed its integrity check and is not "
                               f"used: {view.integrity[0]}")
    return view

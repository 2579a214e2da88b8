"""Saving, finding and governing decision records: versions, sign-off, overrides, review dates,
re-evaluation. Records are never rewritten; every action is an audit event."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.errors import AccessDenied, InputInvalid, RecordNotFound, StoreConflict
from engine.hashing import sha256_of
from engine.models.people import Actor
from engine.models.record import DecisionRecord
from engine.models.vocab import Attestation, Outcome, Role, Verdict
from engine.store import audit
from engine.store.db import Database
from engine.store.passwords import hash_password, password_matches
from engine.store.tables import DraftRow, EventRow, OverrideRow, RecordRow, SignoffRow, UserRow

PREFIX = {"procurement": "PRO", "individual_use": "IND"}
MIN_REASON = 20


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

    @property
    def missing_roles(self) -> list[str]:
        signed = {s.role for s in self.signoffs}
        return [r for r in self.required_roles if r not in signed]

    @property
    def approved(self) -> bool:
        return self.superseded_by is None and not self.missing_roles

    @property
    def status(self) -> str:
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


class Store:
    def __init__(self, db: Database, required_roles: Callable[[str], list[str]] | None = None):
        self.db = db
        self._required = required_roles or (lambda context: [])

    # --- reading -------------------------------------------------------------------------

    def _row(self, session: Session, ref: str) -> RecordRow:
        key, version = parse_ref(ref)
        query = select(RecordRow).where(RecordRow.key == key)
        query = query.where(RecordRow.version == version) if version else \
            query.order_by(RecordRow.version.desc()).limit(1)
        row = session.execute(query).scalar_one_or_none()
        if row is None:
            raise RecordNotFound(f"no stored record {ref!r}")
        return row

    def _view(self, session: Session, row: RecordRow) -> RecordView:
        return self._views(session, [row])[0]

    def _views(self, session: Session, rows: list[RecordRow]) -> list[RecordView]:
        """Views of many records with a handful of queries (not a few per record)."""
        signoffs: dict[str, list[SignoffRow]] = {}
        overrides: dict[str, list[OverrideRow]] = {}
        flags: dict[str, list[EventRow]] = {}
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
                    EventRow.record_id.in_(ids), EventRow.flags_review.is_(True))
                    .order_by(EventRow.seq)).scalars():
                flags.setdefault(e.record_id, []).append(e)
            keys = {r.key for r in rows[start:start + 2000]}
            later.update(session.execute(select(RecordRow.id).where(RecordRow.key.in_(keys))).scalars())
        return [RecordView(r, DecisionRecord.model_validate_json(r.record_json),
                           signoffs.get(r.id, []), overrides.get(r.id, []),
                           f"{r.key}@{r.version + 1}" if f"{r.key}@{r.version + 1}" in later else None,
                           self._required(r.context), flags.get(r.id, [])) for r in rows]

    def get(self, ref: str, viewer: tuple[str, str] | None = None) -> RecordView:
        """A record; opening an individual (patient) record as a person is an audit event."""
        if viewer is not None:
            with self.db.write() as session:
                row = self._row(session, ref)
                if row.context == "individual_use":
                    audit.append(session, viewer[0], viewer[1], "viewed", row.id, {})
                return self._view(session, row)
        with self.db.read() as session:
            return self._view(session, self._row(session, ref))

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
            return list(rows), list(events)

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
            if context:
                query = query.where(RecordRow.context == context)
            if product:
                query = query.where(RecordRow.product.ilike(f"%{product}%"))
            if ward:
                query = query.where(RecordRow.ward.ilike(f"%{ward}%"))
            if outcome:
                query = query.where(RecordRow.outcome == outcome)
            rows = session.execute(query.order_by(RecordRow.created_at)).scalars().all()
            return self._views(session, list(rows))

    # --- writing -------------------------------------------------------------------------

    def save(self, assessment_json: dict[str, Any], record: DecisionRecord, by: str, role: str,
             idempotency_key: str | None = None, supersedes: str | None = None) -> RecordView:
        """Store an assessment and its decision record as a new record, or as a new version."""
        _check_role(role)
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
                    previous = self._row(session, parse_ref(supersedes)[0])
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
                _fault_hold()
                audit.append(session, by, role, "created", row.id, {
                    "record_hash": row.record_hash, "input_hash": row.input_hash,
                    "outcome": row.outcome, "version": version, "rule_pack_hash": row.rule_pack_hash,
                    "supersedes": previous.id if previous else None})
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

    def sign(self, ref: str, name: str, role: str, attestations: Iterable[str],
             comment: str | None = None) -> RecordView:
        _check_role(role)
        _check_name(name)
        given = set(attestations)
        unknown = given - {a.value for a in Attestation}
        if unknown:
            raise InputInvalid(f"unknown attestation(s): {', '.join(sorted(unknown))}; use "
                               + ", ".join(a.value for a in Attestation))
        missing = [a.value for a in Attestation if a.value not in given]
        if missing:
            raise InputInvalid("a sign-off must attest all four statements; missing: "
                               + ", ".join(missing))
        with self.db.write() as session:
            row = self._row(session, ref)
            view = self._view(session, row)
            if view.superseded_by:
                raise StoreConflict(f"{row.id} is superseded by {view.superseded_by}; sign that")
            if any(s.role == role and s.name == name for s in view.signoffs):
                raise StoreConflict(f"{name} has already signed {row.id} as {role}")
            signoff = SignoffRow(record_id=row.id, name=name, role=role, signed_at=audit.utc_now(),
                                 attestations={a.value: True for a in Attestation}, comment=comment,
                                 content_hash="")
            signoff.content_hash = audit.signoff_hash(signoff)
            session.add(signoff)
            session.flush()
            audit.append(session, name, role, "signed", row.id,
                         {"signoff_id": signoff.id, "content_hash": signoff.content_hash})
            return self._view(session, row)

    def override(self, ref: str, target: str, new_value: str, name: str, role: str,
                 reason: str) -> RecordView:
        _check_role(role)
        _check_name(name)
        if len((reason or "").strip()) < MIN_REASON:
            raise InputInvalid(f"an override needs a reason of at least {MIN_REASON} characters")
        with self.db.write() as session:
            row = self._row(session, ref)
            view = self._view(session, row)
            if view.superseded_by:
                raise StoreConflict(f"{row.id} is superseded by {view.superseded_by}")
            if target == "outcome":
                allowed, engine_value = [o.value for o in Outcome], view.record.outcome
            else:
                verdicts = {v.target: v.verdict for v in view.record.verdicts}
                if target not in verdicts:
                    raise InputInvalid(f"unknown principle or area {target!r}; use one of "
                                       + ", ".join(verdicts) + " or 'outcome'")
                allowed, engine_value = [v.value for v in Verdict], verdicts[target]
            if new_value not in allowed:
                raise InputInvalid(f"{new_value!r} is not a value for {target}; use one of "
                                   + ", ".join(allowed))
            over = OverrideRow(record_id=row.id, target=target, engine_value=engine_value,
                               new_value=new_value, name=name, role=role, reason=reason.strip(),
                               created_at=audit.utc_now(), content_hash="")
            over.content_hash = audit.override_hash(over)
            session.add(over)
            session.flush()
            audit.append(session, name, role, "overridden", row.id,
                         {"override_id": over.id, "content_hash": over.content_hash,
                          "target": target, "from": engine_value, "to": new_value})
            return self._view(session, row)

    def record_export(self, ref: str, by: str, role: str, kind: str) -> None:
        with self.db.write() as session:
            audit.append(session, by, role, "exported", self._row(session, ref).id, {"format": kind})

    # --- review -----------------------------------------------------------------------------

    def due(self, within_days: int, today: dt.date | None = None) -> list[tuple[RecordView, str]]:
        """Current records whose review is due within the window, overdue, or flagged."""
        today = today or dt.date.today()
        horizon = today + dt.timedelta(days=within_days)
        out = []
        for view in self.latest():
            reasons = []
            when = view.row.review_date
            if when is not None and when <= horizon:
                days = (when - today).days
                reasons.append(f"review {'overdue since' if days < 0 else 'due'} {when}"
                               + (f" ({-days} days ago)" if days < 0 else f" (in {days} days)"))
            for flag in view.review_flags:
                reasons.append(f"flagged on {flag.at[:10]}: {flag.detail.get('reason', flag.action)}")
            if reasons:
                out.append((view, "; ".join(reasons)))
        return sorted(out, key=lambda item: item[0].row.review_date or dt.date.max)

    # --- local accounts ------------------------------------------------------------------

    def add_user(self, username: str, name: str, role: str, wards: list[str], password: str) -> None:

        _check_role(role)
        _check_name(name)
        if not username or not username.replace(".", "").replace("-", "").isalnum():
            raise InputInvalid("a username is letters, digits, '.' and '-' only")
        with self.db.write() as session:
            if session.get(UserRow, username) is not None:
                raise StoreConflict(f"user {username!r} already exists")
            session.add(UserRow(username=username, name=name.strip(), role=role, wards=wards,
                                password_hash=hash_password(password), active=True,
                                created_at=audit.utc_now()))

    def users(self) -> list[UserRow]:
        with self.db.read() as session:
            return list(session.execute(select(UserRow).order_by(UserRow.username)).scalars())

    def authenticate(self, username: str, password: str):  # -> engine.models.people.Actor

        with self.db.read() as session:
            user = session.get(UserRow, username or "")
        # One message for an unknown name and a wrong password: it tells an attacker nothing.
        if user is None or not user.active or not password_matches(user.password_hash, password):
            raise AccessDenied("unknown username or wrong password")
        return Actor(username=user.username, name=user.name, role=user.role, wards=user.wards)

    # --- drafts (not decisions: no versions, no audit) -----------------------------------

    def save_draft(self, name: str, context: str, data: dict[str, Any], by: str) -> None:
        name = (name or "").strip()
        if not name or len(name) > 120:
            raise InputInvalid("a draft needs a name of 1 to 120 characters")
        with self.db.write() as session:
            session.merge(DraftRow(name=name, context=context, data=data, saved_at=audit.utc_now(),
                                   saved_by=by))

    def drafts(self, context: str | None = None) -> list[DraftRow]:
        with self.db.read() as session:
            query = select(DraftRow).order_by(DraftRow.saved_at.desc())
            if context:
                query = query.where(DraftRow.context == context)
            return list(session.execute(query).scalars())

    def draft(self, name: str) -> DraftRow:
        with self.db.read() as session:
            row = session.get(DraftRow, name)
            if row is None:
                raise RecordNotFound(f"no draft called {name!r}")
            return row

    def verify(self) -> audit.Verification:
        with self.db.read() as session:
            return audit.verify(session)

    def count(self) -> int:
        with self.db.read() as session:
            return session.execute(select(func.count()).select_from(RecordRow)).scalar_one()


def _fault_hold() -> None:
    """Fault injection for the crash test: with DTPA_FAULT_HOLD_SAVE=<file>, a save announces
    itself by creating <file> and waits inside its open transaction, to be killed there."""
    marker = os.environ.get("DTPA_FAULT_HOLD_SAVE")
    if marker:
        Path(marker).touch()
        time.sleep(120)


def _check_role(role: str) -> None:
    if role not in {r.value for r in Role}:
        raise InputInvalid(f"unknown role {role!r}; use one of " + ", ".join(r.value for r in Role))


def _check_name(name: str) -> None:
    if not name or len(name.strip()) < 2:
        raise InputInvalid("a named person is required (--by NAME)")


def _row_for(key: str, version: int, assessment_json: dict[str, Any], record: DecisionRecord,
             by: str, role: str, idempotency_key: str | None) -> RecordRow:
    input_json = json.dumps(assessment_json, sort_keys=True, ensure_ascii=False)
    if sha256_of(assessment_json) != record.input_hash:
        raise StoreConflict("the decision record was not made from this assessment (input hash)")
    subject = record.subject
    return RecordRow(
        id=f"{key}@{version}", key=key, version=version, context=record.record_type,
        title=record.title, product=subject.product, product_version=subject.version,
        patient_reference=subject.patient_reference, ward=subject.ward, relies_on=record.relies_on,
        outcome=record.outcome, assessed_on=record.assessed_on, review_date=record.review_date,
        rule_pack_version=record.rule_pack.version, rule_pack_hash=record.rule_pack.hash,
        profile=record.rule_pack.profile, input_json=input_json,
        record_json=record.model_dump_json(), input_hash=record.input_hash,
        record_hash=record.record_hash, created_at=audit.utc_now(), created_by=by,
        created_role=role, idempotency_key=idempotency_key)


def _flag_dependants(session: Session, product_key: str, by: str, role: str,
                     old: str | None, new: str | None) -> None:
    """A new product version puts every individual use relying on the product up for review."""
    newest = select(RecordRow.key, func.max(RecordRow.version).label("v")).where(
        RecordRow.context == "individual_use").group_by(RecordRow.key).subquery()
    dependants = session.execute(select(RecordRow).join(
        newest, (RecordRow.key == newest.c.key) & (RecordRow.version == newest.c.v)).where(
        RecordRow.relies_on.like(f"{product_key}@%"))).scalars().all()
    for dep in dependants:
        audit.append(session, by, role, "flagged", dep.id,
                     {"reason": f"product {product_key} changed version ({old} -> {new})"},
                     flags_review=True)

"""Sign-off and override: who may approve a stored decision and how a person departs from the
engine's verdict. Both are kept beside the record (never in it), hashed, and audited.

Who may is the local profile's (`RoleRules`, checked here whoever calls): a product decision is
signed and overridden only by the roles it names for product decisions, an individual use only by
the roles it names for those (Access also checks the patient's ward). One account, or one name,
signs a record once, so one person never fills two required roles; a record is signed only
while it still needs the role (`no_longer_needs`); an override's reason is words."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InputInvalid, IntegrityFailure, StoreConflict
from engine.models.people import known_role, require_name
from engine.models.vocab import Attestation, Outcome, Verdict
from engine.store import audit
from engine.store.records import Records, RecordView
from engine.store.tables import EventRow, OverrideRow, RecordRow, SignoffRow

MIN_REASON = 20  # characters, besides the profile's minimum number of words


class Governance(Records):
    def sign(self, ref: str, name: str, role: str, attestations: Iterable[str],
             comment: str | None = None, username: str | None = None) -> RecordView:
        """Sign a record with all four attestations (ICO DPIA step 7 / CNIL validation), in a
        role the profile lets sign a record of its context; `username` (the account) is kept in
        the audit event, and one account or one name signs a record once."""
        known_role(role)
        require_name(name)
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
            row, view = self._current(session, ref, "sign", role, "; sign that")
            _one_signoff_each(session, view, name, role, username)
            refused = no_longer_needs(view, role)
            if refused:
                raise StoreConflict(refused)
            signoff = SignoffRow(record_id=row.id, name=name, role=role, signed_at=audit.utc_now(),
                                 attestations={a.value: True for a in Attestation}, comment=comment)
            audit.seal_signoff(signoff)
            session.add(signoff)
            session.flush()
            audit.append(session, name, role, "signed", row.id,
                         {"signoff_id": signoff.id, "content_hash": signoff.content_hash,
                          **({"username": username} if username else {})})
            return self._view(session, row)

    def _current(self, session: Session, ref: str, action: Literal["sign", "override"], role: str,
                 hint: str = "") -> tuple[RecordRow, RecordView]:
        """The record to sign or override: usable, not superseded, and in a context where the
        profile lets this role do it."""
        row = self._row(session, ref)
        view = self._usable(session, row)
        if view.superseded_by:
            raise StoreConflict(f"{row.id} is superseded by {view.superseded_by}{hint}")
        self.role_rules.require(action, role, view.row.context)
        return row, view

    def override(self, ref: str, target: str, new_value: str, name: str, role: str,
                 reason: str, username: str | None = None) -> RecordView:
        """Depart from the engine on a principle, an area or the outcome, with a reason in
        words, in a role the profile lets override a record of its context; the engine's own
        value stays on the record."""
        known_role(role)
        require_name(name)
        reason = self.role_rules.check_reason(reason)
        if len(reason) < MIN_REASON:
            raise InputInvalid(f"an override needs a reason of at least {MIN_REASON} characters")
        with self.db.write() as session:
            row, view = self._current(session, ref, "override", role)
            allowed: list[str]
            engine_value: str
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
                               created_at=audit.utc_now())
            audit.seal_override(over)
            session.add(over)
            session.flush()
            audit.append(session, name, role, "overridden", row.id,
                         {"override_id": over.id, "content_hash": over.content_hash,
                          "target": target, "from": engine_value, "to": new_value,
                          **({"username": username} if username else {})})
            return self._view(session, row)

    def _usable(self, session: Session, row: RecordRow) -> RecordView:
        """The record as sealed; one that failed its integrity check is neither signed nor
        overridden."""
        view = self._view(session, row)
        if view.integrity:
            raise IntegrityFailure(f"record {row.id} failed its integrity check and cannot be "
                                   f"signed or overridden: {view.integrity[0]}")
        return view


def no_longer_needs(view: RecordView, role: str) -> str:
    """Why the record takes no more sign-off in `role`, or "": none once it is approved, and no
    second one in a required role already signed. A role the profile lets sign but does not
    require (a nurse in charge on a patient's record) may add its signature until then."""
    if not view.missing_roles:
        return f"{view.row.id} is approved: every sign-off it needs is recorded"
    if role in view.required_roles and role not in view.missing_roles:
        return (f"{view.row.id} has its {role} sign-off already; still to sign: "
                + ", ".join(view.missing_roles))
    return ""


def _one_signoff_each(session: Session, view: RecordView, name: str, role: str,
                      username: str | None) -> None:
    """One person fills one role on a record: an account (or a name, as the audit trail shows
    it) that signed the record already, in any role, does not sign it again."""
    if username:
        for event in session.execute(select(EventRow).where(
                EventRow.record_id == view.row.id, EventRow.action == "signed")).scalars():
            if event.detail.get("username") == username:
                raise StoreConflict(f"the account {username} has already signed {view.row.id}; "
                                    f"one person signs a record once, in one role ({role} needs "
                                    "someone else)")
    said = " ".join(name.split()).casefold()
    for s in view.signoffs:
        if " ".join(s.name.split()).casefold() == said:
            raise StoreConflict(f"{name} has already signed {view.row.id} as {s.role}; one person "
                                f"signs a record once, in one role ({role} needs someone else)")

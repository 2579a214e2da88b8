"""A second administrator's approval before an account can open patient records.

Where the profile asks for it (`second_approval_for_patient_access`), an administrator who gives
an account a role that can open patient records (clinician, nurse in charge, DPO, auditor) — a
new account, a new role, new wards for clinical staff, or an account reactivated — only asks for
it: the account stays inactive, or keeps its old role and wards, until another administrator
(not the one who asked, not the account itself) approves. Asking, approving and refusing are
audit events (`account_grant_requested`, `account_grant_approved`, `account_grant_refused`), so
a pending grant is read from the chain, and the privileged-changes report lists every one.

Access (engine/service/session.py) decides when a change needs approval; this module keeps the
grants and applies an approved one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import AccessDenied, RecordNotFound, StoreConflict
from engine.models.people import Actor
from engine.models.vocab import Role
from engine.store import audit
from engine.store.tables import EventRow, UserRow
from engine.store.users import Users, new_user_row, sealed_password

ASKED, APPROVED, REFUSED = "account_grant_requested", "account_grant_approved", "account_grant_refused"
KINDS = ("new account", "role", "wards", "reactivation")


@dataclass(frozen=True)
class Grant:
    """A change that gives an account access to patient records, waiting for approval."""

    id: str
    username: str
    kind: str  # one of KINDS
    role: str | None  # the role asked for (new account, role)
    wards: list[str] | None  # the wards asked for (new account, wards)
    before: dict[str, Any]  # what the account held when it was asked (approval checks it still does)
    requested_by: str  # the asking administrator's username
    requested_by_name: str
    at: str
    seq: int

    @property
    def what(self) -> str:
        return _what(self.kind, self.role, self.wards)

    def __str__(self) -> str:
        return (f"grant {self.id}: {self.username} -> {self.what}, asked by "
                f"{self.requested_by_name} ({self.requested_by}) at {self.at[:16].replace('T', ' ')}")


def _what(kind: str, role: str | None, wards: list[str] | None) -> str:
    if kind == "new account":
        return f"a new {role} account" + (f" on {', '.join(wards)}" if wards else "")
    if kind == "role":
        return f"the role {role}"
    if kind == "wards":
        return f"the wards {', '.join(wards or []) or 'none'}"
    return "reactivation"


def _by(actor: Actor) -> tuple[str, str]:
    return actor.name, actor.role.value


def _holds(user: UserRow) -> dict[str, Any]:
    return {"role": user.role, "wards": list(user.wards or []), "active": bool(user.active)}


class Grants(Users):
    """Pending grants of patient access, and their approval by a second administrator."""

    def add_pending_account(self, username: str, name: str, role: str, wards: list[str],
                            password: str, by: Actor) -> Grant:
        """A new account that can open patient records, created inactive, and the grant that
        activates it once another administrator approves (one transaction)."""
        row = new_user_row(username, name, role, wards, password)  # every check add_user makes
        row.active = False
        with self.db.write() as session:
            if session.get(UserRow, username) is not None:
                raise StoreConflict(f"user {username!r} already exists")
            session.add(row)
            session.flush()
            grant_id = uuid.uuid4().hex[:8]
            audit.append(session, *_by(by), "account_added", None,
                         {"username": username, "role": role, "wards": wards, "active": False,
                          "grant": grant_id, **sealed_password(session, row, by.name)})
            return self._ask(session, grant_id, username, "new account", by, _holds(row),
                             role=role, wards=wards)

    def request_grant(self, username: str, kind: str, by: Actor, role: str | None = None,
                      wards: list[str] | None = None) -> Grant:
        """Ask for a role, wards or a reactivation that opens patient records; the account is
        unchanged until another administrator approves."""
        assert kind in KINDS[1:], kind
        with self.db.write() as session:
            user = session.get(UserRow, username)
            if user is None:
                raise RecordNotFound(f"no account {username!r}")
            if kind == "reactivation" and user.active:
                raise StoreConflict(f"{username} is active already")
            if kind == "role" and role == user.role:
                raise StoreConflict(f"{username} is {role} already")
            return self._ask(session, uuid.uuid4().hex[:8], username, kind, by, _holds(user),
                             role=role, wards=wards)

    def _ask(self, session: Session, grant_id: str, username: str, kind: str, by: Actor,
             before: dict[str, Any], role: str | None = None,
             wards: list[str] | None = None) -> Grant:
        if any(g.username == username for g in _pending(session)):
            raise StoreConflict(f"{username} has a grant waiting for approval already: approve "
                                "or refuse it first (`dtpa users grants`)")
        detail: dict[str, Any] = {"grant": grant_id, "username": username, "kind": kind,
                                  "what": _what(kind, role, wards), "before": before,
                                  "requested_by": by.username}
        if role is not None:
            detail["role"] = Role(role).value
        if wards is not None:
            detail["wards"] = list(wards)
        return _grant(audit.append(session, *_by(by), ASKED, None, detail))

    def pending_grants(self) -> list[Grant]:
        with self.db.read() as session:
            return _pending(session)

    def approve_grant(self, grant_id: str, by: Actor) -> Grant:
        """Apply a pending grant, as an administrator who neither asked for it nor is its
        account; refused when the account changed since it was asked."""
        if by.role is not Role.administrator:
            raise AccessDenied(f"{by.name} ({by.role.value}) may not approve grants: only "
                               "another administrator may")
        with self.db.write() as session:
            grant = _find(session, grant_id)
            if by.username in (grant.requested_by, grant.username):
                raise AccessDenied(f"grant {grant.id} needs a second administrator: neither the "
                                   "administrator who asked for it nor its account may approve it")
            user = session.get(UserRow, grant.username)
            if user is None:
                raise RecordNotFound(f"no account {grant.username!r}")
            if _holds(user) != grant.before:
                raise StoreConflict(f"{grant.username} changed after grant {grant.id} was asked "
                                    "for: refuse it and ask again")
            applied: dict[str, Any] = {}
            if grant.kind == "role" and grant.role is not None:
                self._last_administrator(session, user)
                user.role = applied["role"] = grant.role
            if grant.kind == "wards" and grant.wards is not None:
                user.wards = applied["wards"] = list(grant.wards)
            if grant.kind in ("new account", "reactivation"):
                user.active = applied["active"] = True
            audit.append(session, *_by(by), APPROVED, None,
                         {"grant": grant.id, "username": grant.username, "kind": grant.kind,
                          "what": grant.what, "requested_by": grant.requested_by,
                          "approved_by": by.username, **applied})
            return grant

    def refuse_grant(self, grant_id: str, by: Actor, reason: str | None = None) -> Grant:
        """Refuse (or, for the administrator who asked, withdraw) a pending grant: nothing
        changes, and a new account stays inactive."""
        if by.role is not Role.administrator:
            raise AccessDenied(f"{by.name} ({by.role.value}) may not refuse grants")
        with self.db.write() as session:
            grant = _find(session, grant_id)
            audit.append(session, *_by(by), REFUSED, None,
                         {"grant": grant.id, "username": grant.username, "kind": grant.kind,
                          "refused_by": by.username, "reason": (reason or "").strip()[:500]})
            return grant


def _grant(e: EventRow) -> Grant:
    d = e.detail
    return Grant(str(d.get("grant")), str(d.get("username")), str(d.get("kind")), d.get("role"),
                 d.get("wards"), dict(d.get("before") or {}), str(d.get("requested_by")),
                 e.actor, e.at, e.seq)


def _pending(session: Session) -> list[Grant]:
    """Grants asked for and neither approved nor refused, oldest first."""
    asked: dict[str, Grant] = {}
    for e in session.execute(select(EventRow).where(EventRow.action.in_((ASKED, APPROVED, REFUSED)))
                             .order_by(EventRow.seq)).scalars():
        grant_id = str(e.detail.get("grant"))
        if e.action == ASKED:
            asked[grant_id] = _grant(e)
        else:
            asked.pop(grant_id, None)
    return list(asked.values())


def _find(session: Session, grant_id: str) -> Grant:
    found = next((g for g in _pending(session) if g.id == (grant_id or "").strip()), None)
    if found is None:
        raise RecordNotFound(f"no grant {grant_id!r} is waiting for approval (`dtpa users grants` "
                             "lists them)")
    return found

"""Sign-in and script tokens. A token is a random string handed to its owner once; the store keeps
its SHA-256 (a 256-bit random secret needs no slow hash, unlike a password), the account it acts
for, its scopes, when it expires and when it was revoked. Unlike records, a token row changes:
revoking it sets `revoked_at`.

Issuing and revoking a token are audit events (`token_issued`, `token_revoked`); the issuing
event carries the owner, scopes, expiry and the token's digest sealed with the audit key (never
the token), and the row names that event (`issued_seq`). A token whose row disagrees with its
issuing event (added, re-owned, widened, extended or swapped in SQL) is refused when used, and
`audit verify` names it (column_checks.py), a revoked token revived in SQL as well."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InputInvalid, IntegrityFailure, NotSignedIn, RecordNotFound
from engine.models.people import Actor
from engine.models.vocab import Role
from engine.store import audit, column_checks, keys
from engine.store.db import Database
from engine.store.tables import EventRow, TokenRow, UserRow

PREFIX = "dtpa_"  # a leaked token is recognisable in logs and by secret scanners
SCOPES = ("read", "write")


class UnknownToken(NotSignedIn):
    """A token this database never issued: a guess, counted against the client like a wrong
    password."""


@dataclass(frozen=True)
class Holder:
    """The account a token acts for, and what the token allows."""

    actor: Actor
    token_id: str
    scopes: tuple[str, ...]


def digest(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


def stamp(moment: dt.datetime) -> str:
    """The store's timestamp format (ISO 8601, UTC, as the audit log writes it)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def shown(timestamp: str) -> str:
    return timestamp[:16].replace("T", " ") + " UTC"


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.UTC)


def issue(db: Database, username: str, name: str, scopes: list[str], hours: float,
          now: dt.datetime | None = None) -> tuple[TokenRow, str]:
    """A new token for an active account: the row stored and the token (its only copy)."""
    if not scopes or not set(scopes) <= set(SCOPES):
        raise InputInvalid(f"token scopes are {', '.join(SCOPES)}; got {', '.join(scopes) or 'none'}")
    if hours <= 0:
        raise InputInvalid("a token must be valid for some hours")
    start = _now(now)
    token = PREFIX + secrets.token_urlsafe(32)
    row = TokenRow(id=secrets.token_hex(6), token_hash=digest(token), username=username,
                   name=name.strip()[:120] or "token", scopes=list(scopes), created_at=stamp(start),
                   expires_at=stamp(start + dt.timedelta(hours=hours)), revoked_at=None)
    with db.write() as session:
        user = session.get(UserRow, username)
        if user is None or not user.active:
            raise NotSignedIn(f"there is no active account {username!r}")
        event = audit.append(session, user.name, user.role, column_checks.ISSUED, None, {
            "token_id": row.id, "username": username, "name": row.name, "scopes": row.scopes,
            "expires_at": row.expires_at,
            "token_digest": audit.seal_for_next(session, row.token_hash, user.name)})
        row.issued_seq = event.seq
        session.add(row)
    return row, token


def resolve(db: Database, token: str, now: dt.datetime | None = None) -> Holder:
    """Who a token acts for; NotSignedIn when it is unknown, revoked, expired, or its account
    was deactivated; IntegrityFailure when its row disagrees with its issuing event (one event
    read by its seq and its HMAC checked: a revocation undone in SQL is left to `audit verify`,
    which would mean searching the chain on every use)."""
    with db.read() as session:
        row = session.execute(select(TokenRow).where(TokenRow.token_hash == digest(token))
                              ).scalar_one_or_none()
        user = session.get(UserRow, row.username) if row is not None else None
        event = session.get(EventRow, row.issued_seq) if row is not None and row.issued_seq else None
    if row is None:
        raise UnknownToken("the token is not one this database issued")
    ring = keys.load()
    issued = column_checks.issued_state(event, row.id) if event and audit.intact(event, ring) else None
    found = column_checks.token_problems(row, issued, ring)
    if found:
        raise IntegrityFailure(f"the token cannot be used: {found[0]}")
    if row.revoked_at:
        raise NotSignedIn(f"the token was revoked at {shown(row.revoked_at)}")
    if dt.datetime.fromisoformat(row.expires_at) <= _now(now):
        raise NotSignedIn(f"the token expired at {shown(row.expires_at)}")
    if user is None or not user.active:
        raise NotSignedIn(f"the account {row.username!r} is deactivated")
    return Holder(Actor(username=user.username, name=user.name, role=Role(user.role), wards=user.wards),
                  row.id, tuple(row.scopes))


def listed(db: Database, owner: str | None = None) -> list[TokenRow]:
    """Tokens, oldest first: one account's, or everyone's (owner None)."""
    with db.read() as session:
        query = select(TokenRow).order_by(TokenRow.created_at)
        if owner is not None:
            query = query.where(TokenRow.username == owner)
        return list(session.execute(query).scalars())


def _revoked(session: Session, row: TokenRow, by: tuple[str, str], now: dt.datetime | None) -> None:
    """Revoke the row, as an audit event naming who did; revoking twice keeps the first time."""
    if row.revoked_at:
        return
    row.revoked_at = stamp(_now(now))
    audit.append(session, by[0], by[1], column_checks.REVOKED, None,
                 {"token_id": row.id, "username": row.username, "revoked_at": row.revoked_at})


def revoke(db: Database, token_id: str, by: tuple[str, str], owner: str | None = None,
           now: dt.datetime | None = None) -> TokenRow:
    """Revoke a token by its id: one of owner's, or anyone's (owner None); `by` (name, role) is
    who revokes it."""
    with db.write() as session:
        row = session.get(TokenRow, token_id)
        if row is None or (owner is not None and row.username != owner):
            raise RecordNotFound(f"no token {token_id!r}" + (f" of {owner}" if owner else ""))
        _revoked(session, row, by, now)
        return row


def revoke_token(db: Database, token: str, now: dt.datetime | None = None) -> bool:
    """Revoke the token itself (signing out); False when the store does not know it."""
    with db.write() as session:
        row = session.execute(select(TokenRow).where(TokenRow.token_hash == digest(token))
                              ).scalar_one_or_none()
        if row is None:
            return False
        user = session.get(UserRow, row.username)  # its owner signs out (the foreign key keeps it)
        assert user is not None
        _revoked(session, row, (user.name, user.role), now)
        return True

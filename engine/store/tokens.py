"""Sign-in and script tokens. A token is a random string handed to its owner once; the store keeps
its SHA-256 (a 256-bit random secret needs no slow hash, unlike a password), the account it acts
for, its scopes, when it expires and when it was revoked. Unlike records, a token row changes:
revoking it sets `revoked_at`."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from engine.errors import InputInvalid, NotSignedIn, RecordNotFound
from engine.models.people import Actor
from engine.models.vocab import Role
from engine.store.db import Database
from engine.store.tables import TokenRow, UserRow

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
        session.add(row)
    return row, token


def resolve(db: Database, token: str, now: dt.datetime | None = None) -> Holder:
    """Who a token acts for; NotSignedIn when it is unknown, revoked, expired, or its account
    was deactivated."""
    with db.read() as session:
        row = session.execute(select(TokenRow).where(TokenRow.token_hash == digest(token))
                              ).scalar_one_or_none()
        user = session.get(UserRow, row.username) if row is not None else None
    if row is None:
        raise UnknownToken("the token is not one this database issued")
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


def revoke(db: Database, token_id: str, owner: str | None = None,
           now: dt.datetime | None = None) -> TokenRow:
    """Revoke a token by its id: one of owner's, or anyone's (owner None). Revoking twice keeps
    the first time."""
    with db.write() as session:
        row = session.get(TokenRow, token_id)
        if row is None or (owner is not None and row.username != owner):
            raise RecordNotFound(f"no token {token_id!r}" + (f" of {owner}" if owner else ""))
        row.revoked_at = row.revoked_at or stamp(_now(now))
        return row


def revoke_token(db: Database, token: str, now: dt.datetime | None = None) -> bool:
    """Revoke the token itself (signing out); False when the store does not know it."""
    with db.write() as session:
        row = session.execute(select(TokenRow).where(TokenRow.token_hash == digest(token))
                              ).scalar_one_or_none()
        if row is None:
            return False
        row.revoked_at = row.revoked_at or stamp(_now(now))
        return True

"""The first administrator of an empty store: the one account nobody signed in could create, so
its audit event says it was the bootstrap and where it came from.

The operator creates it from the command line (`dtpa users add` on an empty store), or hands the
web a one-time setup token: `dtpa setup-token` (which `make run` runs) prints a random token
while the store has no account, keeps only its SHA-256 with an expiry, and the web form asks for
it. A token works once, for an hour, and only the newest one works; without one, the web offers
no form at all."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from sqlalchemy import func, select, update

from engine.errors import AccessDenied, StoreConflict
from engine.store import Store, audit, guard
from engine.store.tables import SetupTokenRow, UserRow
from engine.store.users import new_user_row, sealed_password

ROLE = "administrator"
SETUP_MINUTES = 60
SETUP_PREFIX = "dtpa-setup-"


class WrongSetupToken(AccessDenied):
    """The setup token given is not the newest unused one, or it expired."""

    hint = "Failed attempts are recorded, and too many lock this computer out for a while."


def _digest(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


def issue_setup_token(store: Store, os_user: str, now: dt.datetime | None = None
                      ) -> tuple[str, str] | None:
    """A new one-time setup token and when it expires, while the store has no account (None
    once one exists). Earlier tokens that were not used stop working."""
    start = guard.now_utc(now)
    token = SETUP_PREFIX + secrets.token_urlsafe(24)
    expires = guard.stamp(start + dt.timedelta(minutes=SETUP_MINUTES))
    with store.db.write() as session:
        if session.execute(select(func.count()).select_from(UserRow)).scalar_one():
            return None
        session.execute(update(SetupTokenRow).where(SetupTokenRow.used_at.is_(None))
                        .values(used_at=guard.stamp(start)))  # withdrawn: only the newest works
        session.add(SetupTokenRow(id=secrets.token_hex(6), token_hash=_digest(token),
                                  created_at=guard.stamp(start), created_by=os_user[:200],
                                  expires_at=expires))
    return token, expires


def setup_token_pending(store: Store, now: dt.datetime | None = None) -> bool:
    """Whether an unused setup token that has not expired exists (the web then offers its
    form)."""
    moment = guard.stamp(guard.now_utc(now))
    with store.db.read() as session:
        return bool(session.execute(select(func.count()).select_from(SetupTokenRow).where(
            SetupTokenRow.used_at.is_(None), SetupTokenRow.expires_at > moment)).scalar_one())


def add_first_administrator(store: Store, username: str, name: str, password: str,
                            detail: dict[str, Any], setup_token: str | None = None,
                            now: dt.datetime | None = None) -> None:
    """Add the first account, an administrator, only while the store has no account; `detail`
    (where the request came from) goes into the audit event. With `setup_token` (the web), the
    token must be the newest unused one and not expired, and is used up."""
    if store.users():
        raise StoreConflict("accounts exist already: sign in, or ask an administrator for an account")
    row = new_user_row(username, name, ROLE, [], password)  # checks username, name, password
    moment = guard.now_utc(now)
    with store.db.write() as session:  # one transaction: the token is used if and only if the
        # account is made, and two first administrators at the same moment cannot both be
        if session.execute(select(func.count()).select_from(UserRow)).scalar_one():
            raise StoreConflict("another first administrator was created at the same moment; "
                                "sign in with that account")
        if setup_token is not None:
            found = session.execute(select(SetupTokenRow).where(
                SetupTokenRow.token_hash == _digest(setup_token))).scalar_one_or_none()
            if found is None or found.used_at is not None or \
                    dt.datetime.fromisoformat(found.expires_at) <= moment:
                raise WrongSetupToken("the setup token is wrong, used already or expired: copy "
                                      "the newest one from the terminal where `make run` started "
                                      "DTPA, or run `dtpa setup-token` on the server for another")
            found.used_at = guard.stamp(moment)
            detail = {**detail, "setup_token": found.id}
        session.add(row)
        session.flush()
        audit.append(session, name.strip(), ROLE, "account_added", None,
                     {**detail, "username": username, "role": ROLE, "bootstrap": True,
                      **sealed_password(session, row, name.strip())})

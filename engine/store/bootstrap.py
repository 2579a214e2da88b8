"""The first administrator of an empty store: the one account nobody signed in could create, so
its audit event says it was the bootstrap and where it came from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from engine.errors import StoreConflict
from engine.store import Store, audit
from engine.store.tables import UserRow

ROLE = "administrator"


def add_first_administrator(store: Store, username: str, name: str, password: str,
                            detail: dict[str, Any]) -> None:
    """Add the first account, an administrator, only while the store has no account; `detail`
    (where the request came from) goes into the audit event."""
    if store.users():
        raise StoreConflict("accounts exist already: sign in, or ask an administrator for an account")
    store.add_user(username, name, ROLE, [], password)  # checks the username, name and password
    # Two first administrators created at the same moment: the first to claim the store keeps
    # it, the other account is removed again, so there is only ever one bootstrap.
    with store.db.write() as session:
        others = session.execute(select(func.count()).select_from(UserRow)
                                 .where(UserRow.username != username)).scalar_one()
        if others:
            session.delete(session.get(UserRow, username))
        else:
            audit.append(session, name.strip(), ROLE, "account_added", None,
                         {**detail, "username": username, "role": ROLE, "bootstrap": True})
    if others:
        raise StoreConflict("another first administrator was created at the same moment; "
                            "sign in with that account")

"""Local accounts: who someone is, their role and wards, and their password (as an Argon2 hash)."""

from __future__ import annotations

import re

from sqlalchemy import select

from engine.errors import AccessDenied, InputInvalid, StoreConflict
from engine.models.people import Actor, known_role, require_name
from engine.store import audit
from engine.store.db import Database
from engine.store.passwords import hash_password, password_matches
from engine.store.tables import UserRow

# Local names or e-mail addresses (OpenID Connect accounts are looked up by e-mail).
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,199}")


class Users:
    db: Database

    def add_user(self, username: str, name: str, role: str, wards: list[str], password: str,
                 by: tuple[str, str] | None = None) -> None:
        """A local account; `by` (name, role) is the administrator adding it, and the audit
        event names them (the first administrator's bootstrap records its own event)."""
        known_role(role)
        require_name(name)
        if not _USERNAME.fullmatch(username or ""):
            raise InputInvalid("a username is 1 to 200 letters, digits and . _ - + @ (an e-mail "
                               "address for OpenID Connect sign-in), starting with a letter or digit")
        with self.db.write() as session:
            if session.get(UserRow, username) is not None:
                raise StoreConflict(f"user {username!r} already exists")
            session.add(UserRow(username=username, name=name.strip(), role=role, wards=wards,
                                password_hash=hash_password(password), active=True,
                                created_at=audit.utc_now()))
            if by is not None:
                audit.append(session, by[0], by[1], "account_added", None,
                             {"username": username, "role": role, "wards": wards})

    def users(self) -> list[UserRow]:
        with self.db.read() as session:
            return list(session.execute(select(UserRow).order_by(UserRow.username)).scalars())

    def authenticate(self, username: str, password: str) -> Actor:
        with self.db.read() as session:
            user = session.get(UserRow, username or "")
        # One message for an unknown name and a wrong password: it tells an attacker nothing.
        if user is None or not user.active or not password_matches(user.password_hash, password):
            raise AccessDenied("unknown username or wrong password")
        return Actor(username=user.username, name=user.name, role=known_role(user.role),
                     wards=user.wards)

"""Local accounts: who someone is, their role and wards, and their password (as an Argon2 hash)."""

from __future__ import annotations

from sqlalchemy import select

from engine.errors import AccessDenied, InputInvalid, StoreConflict
from engine.models.people import Actor, known_role, require_name
from engine.store import audit
from engine.store.db import Database
from engine.store.passwords import hash_password, password_matches
from engine.store.tables import UserRow


class Users:
    db: Database

    def add_user(self, username: str, name: str, role: str, wards: list[str], password: str) -> None:
        known_role(role)
        require_name(name)
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

    def authenticate(self, username: str, password: str) -> Actor:
        with self.db.read() as session:
            user = session.get(UserRow, username or "")
        # One message for an unknown name and a wrong password: it tells an attacker nothing.
        if user is None or not user.active or not password_matches(user.password_hash, password):
            raise AccessDenied("unknown username or wrong password")
        return Actor(username=user.username, name=user.name, role=known_role(user.role),
                     wards=user.wards)

"""Local accounts: who someone is, their role and wards, their password (as an Argon2 hash) and
the identity-provider account linked to them; signing in with back-off and lockout (guard.py);
and what an administrator changes about an account, each change an audit event naming them."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.errors import AccessDenied, InputInvalid, NotSignedIn, RecordNotFound, StoreConflict
from engine.models.people import Actor, known_role, require_name
from engine.store import audit, column_checks, guard
from engine.store.db import Database
from engine.store.passwords import DUMMY_HASH, hash_password, password_matches
from engine.store.tables import TokenRow, UserRow

# Local names or e-mail addresses.
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,199}")
# Who records what the sign-in check sees before anyone is signed in (the audit chain needs a
# known role; `"system": true` in the event's detail says no person acted).
SIGN_IN_CHECK = ("DTPA sign-in check", "administrator")
WRONG = "unknown username or wrong password"


class SignInRefused(AccessDenied):
    """A password sign-in refused: a wrong password, an unknown or inactive name, or a lock."""

    hint = ("Check the username and password. Failed sign-ins are recorded, and too many lock "
            "the name and this computer for a while; an administrator can reset a password.")


def actor_of(user: UserRow) -> Actor:
    return Actor(username=user.username, name=user.name, role=known_role(user.role),
                 wards=user.wards)


def new_user_row(username: str, name: str, role: str, wards: list[str], password: str) -> UserRow:
    """A checked, not yet stored, active account (the password must meet the policy)."""
    known_role(role)
    require_name(name)
    if not _USERNAME.fullmatch(username or ""):
        raise InputInvalid("a username is 1 to 200 letters, digits and . _ - + @ (an e-mail "
                           "address will do), starting with a letter or digit")
    return UserRow(username=username, name=name.strip(), role=role, wards=wards,
                   password_hash=hash_password(password, (username, name)), active=True,
                   created_at=audit.utc_now())


def sealed_password(session: Session, user: UserRow, actor: str) -> dict[str, str]:
    """What an event that sets a password carries of it: the stored hash sealed with the audit
    key, so a hash swapped in SQL for one of a password someone knows is named (column_checks)
    and cannot sign in."""
    return {column_checks.PASSWORD: audit.seal_for_next(session, user.password_hash, actor)}


def _label(username: str) -> str:
    """What the audit chain says about a name nobody has: never the text itself (a password
    typed into the name field must not be kept), only a short digest of it."""
    return "sha256:" + hashlib.sha256(username.encode()).hexdigest()[:16]


class Users:
    db: Database

    def add_user(self, username: str, name: str, role: str, wards: list[str], password: str,
                 by: tuple[str, str] | None = None) -> None:
        """A local account; `by` (name, role) is the administrator adding it, and the audit
        event names them (the first administrator's bootstrap records its own event)."""
        row = new_user_row(username, name, role, wards, password)
        with self.db.write() as session:
            if session.get(UserRow, username) is not None:
                raise StoreConflict(f"user {username!r} already exists")
            session.add(row)
            if by is not None:
                audit.append(session, by[0], by[1], "account_added", None,
                             {"username": username, "role": role, "wards": wards,
                              **sealed_password(session, row, by[0])})

    def users(self) -> list[UserRow]:
        with self.db.read() as session:
            return list(session.execute(select(UserRow).order_by(UserRow.username)).scalars())

    # --- signing in ------------------------------------------------------------------------

    def authenticate(self, username: str, password: str, client: str | None = None,
                     now: dt.datetime | None = None) -> Actor:
        """The account, if the password is right, it is active, and neither the name nor the
        client is locked. An unknown name is checked against a dummy hash, so it costs the same
        Argon2 work as a known one, and every refusal uses the same words."""
        username = (username or "").strip()
        now = guard.now_utc(now)
        keys = guard.keys_for(username, client)
        with self.db.write() as session:
            attempt = guard.attempt(session, keys, now)
            user = session.get(UserRow, username) if attempt.locked_until is None else None
        if attempt.locked_until is not None:
            raise SignInRefused(guard.locked_message(attempt.locked_until))
        # No rehash on sign-in: a new hash in the row would need a password event of its own
        # (column_checks checks the row's hash against the latest one).
        right = password_matches(user.password_hash if user is not None else DUMMY_HASH,
                                 password or "")
        if right and user is not None and user.active:
            with self.db.write() as session:
                guard.succeeded(session, attempt)
            return actor_of(user)
        with self.db.write() as session:
            self._failed(session, "password", client, username if user is not None else None,
                         username, attempt.new_locks)
        if attempt.new_locks:
            until = max(until for _, until in attempt.new_locks)
            raise SignInRefused(f"{WRONG}; {guard.locked_message(until)}")
        raise SignInRefused(WRONG)

    def check_client(self, client: str | None, now: dt.datetime | None = None) -> None:
        """Refuse a locked client before a token is looked up."""
        key = guard.client_key(client)
        if key is None:
            return
        with self.db.read() as session:
            until = guard.locked_until(session, [key], guard.now_utc(now))
        if until is not None:
            raise NotSignedIn(guard.locked_message(until))

    def failed_client(self, via: str, client: str | None, now: dt.datetime | None = None) -> None:
        """A failure that names no account (an unknown token, a wrong setup token): counted
        against the client and recorded."""
        key = guard.client_key(client)
        with self.db.write() as session:
            until = guard.count(session, key, guard.now_utc(now)) if key is not None else None
            self._failed(session, via, client, None, None, [(key, until)] if key and until else [])

    def _failed(self, session: Session, via: str, client: str | None, known: str | None,
                typed: str | None, locks: list[tuple[guard.Key, dt.datetime]]) -> None:
        who: dict[str, Any] = {"system": True, "via": via, "client": client}
        if typed is not None:
            who.update(username=known if known is not None else _label(typed),
                       account_exists=known is not None)
        audit.append(session, *SIGN_IN_CHECK, "signin_failed", None, who)
        for key, until in locks:
            audit.append(session, *SIGN_IN_CHECK, "signin_locked", None,
                         {**who, "locked": key.kind, "until": guard.stamp(until)})

    def signed_in(self, username: str, since: str | None = None) -> Actor:
        """A signed-in person as their account says now (role and wards may have changed);
        NotSignedIn when it is gone, deactivated, or its sessions were ended after `since`."""
        with self.db.read() as session:
            user = session.get(UserRow, username)
        if user is None or not user.active:
            raise NotSignedIn("your account was deactivated: you have been signed out")
        if user.sessions_from and (since is None or since < user.sessions_from):
            raise NotSignedIn("an administrator ended your sessions (a password reset): sign in "
                              "again")
        return actor_of(user)

    def by_identity(self, issuer: str, subject: str) -> Actor:
        """The active account linked to an identity provider's account (issuer and subject
        together, as the ID token says them); never looked up by e-mail address."""
        if not issuer or not subject:
            raise NotSignedIn("the identity provider did not say who you are (issuer and "
                              "subject): sign in again")
        with self.db.read() as session:
            user = session.execute(select(UserRow).where(UserRow.oidc_issuer == issuer,
                                                         UserRow.oidc_subject == subject)
                                   ).scalar_one_or_none()
        if user is None or not user.active:
            raise NotSignedIn(f"your organisation account is not linked to an active DTPA "
                              f"account: ask an administrator to link it (issuer {issuer}, "
                              f"subject {subject})")
        return actor_of(user)

    # --- administration (each change is an audit event naming the administrator) ------------

    @contextmanager
    def _changing(self, username: str) -> Iterator[tuple[Session, UserRow]]:
        with self.db.write() as session:
            user = session.get(UserRow, username)
            if user is None:
                raise RecordNotFound(f"no account {username!r}")
            yield session, user

    @staticmethod
    def _last_administrator(session: Session, user: UserRow) -> None:
        """Refuse to leave the store without an active administrator."""
        if user.role != "administrator" or not user.active:
            return
        others = session.execute(select(func.count()).select_from(UserRow).where(
            UserRow.role == "administrator", UserRow.active.is_(True),
            UserRow.username != user.username)).scalar_one()
        if not others:
            raise StoreConflict(f"{user.username} is the only active administrator: add or "
                                "reactivate another administrator first")

    @staticmethod
    def _end_sessions(session: Session, user: UserRow) -> int:
        """End the account's web sessions and revoke its tokens; how many tokens."""
        now = audit.utc_now()
        user.sessions_from = now
        revoked = session.execute(update(TokenRow).where(TokenRow.username == user.username,
                                                         TokenRow.revoked_at.is_(None))
                                  .values(revoked_at=now))
        return int(getattr(revoked, "rowcount", 0) or 0)

    def deactivate(self, username: str, by: tuple[str, str]) -> None:
        """The account can no longer sign in; its web sessions end and its tokens are revoked."""
        with self._changing(username) as (session, user):
            if not user.active:
                raise StoreConflict(f"{username} is already deactivated")
            self._last_administrator(session, user)
            user.active = False
            tokens = self._end_sessions(session, user)
            audit.append(session, by[0], by[1], "account_deactivated", None,
                         {"username": username, "role": user.role, "tokens_revoked": tokens})

    def reactivate(self, username: str, by: tuple[str, str]) -> None:
        """The account may sign in again (with a new sign-in: old sessions and tokens stay
        ended), and any lockout of its name is lifted."""
        with self._changing(username) as (session, user):
            if user.active:
                raise StoreConflict(f"{username} is active already")
            user.active = True
            guard.clear(session, username)
            audit.append(session, by[0], by[1], "account_reactivated", None,
                         {"username": username, "role": user.role})

    def change_role(self, username: str, role: str, by: tuple[str, str]) -> str:
        """Give the account another role (it applies from the person's next action); the role
        it had."""
        new = known_role(role).value
        with self._changing(username) as (session, user):
            old = user.role
            if old == new:
                raise StoreConflict(f"{username} is {new} already")
            self._last_administrator(session, user)
            user.role = new
            audit.append(session, by[0], by[1], "account_role_changed", None,
                         {"username": username, "from": old, "to": new})
        return old

    def set_wards(self, username: str, wards: list[str], by: tuple[str, str]) -> list[str]:
        """The wards the account works on (clinical staff see only these wards' patients); the
        wards it had."""
        cleaned = [w.strip() for w in wards if w and w.strip()]
        if any(len(w) > 200 for w in cleaned):
            raise InputInvalid("a ward's name has at most 200 characters")
        with self._changing(username) as (session, user):
            old = list(user.wards)
            user.wards = cleaned
            audit.append(session, by[0], by[1], "account_wards_changed", None,
                         {"username": username, "from": old, "to": cleaned})
        return old

    def reset_password(self, username: str, password: str, by: tuple[str, str]) -> None:
        """A new password (it must meet the policy); the account's web sessions end, its tokens
        are revoked and any lockout of its name is lifted."""
        with self.db.read() as session:
            found = session.get(UserRow, username)
        if found is None:
            raise RecordNotFound(f"no account {username!r}")
        new_hash = hash_password(password, (username, found.name))
        with self._changing(username) as (session, user):
            user.password_hash = new_hash
            tokens = self._end_sessions(session, user)
            guard.clear(session, username)
            audit.append(session, by[0], by[1], "account_password_reset", None,
                         {"username": username, "tokens_revoked": tokens,
                          **sealed_password(session, user, by[0])})

    def link_identity(self, username: str, issuer: str | None, subject: str | None,
                      by: tuple[str, str]) -> None:
        """Link the account to an identity provider's account (its issuer URL and the subject
        it gives the person), or unlink it (both None)."""
        issuer, subject = (issuer or "").strip() or None, (subject or "").strip() or None
        if (issuer is None) != (subject is None):
            raise InputInvalid("give both the issuer and the subject (or neither, to unlink)")
        if issuer is not None and subject is not None:
            if not issuer.startswith("https://") or len(issuer) > 500:
                raise InputInvalid("the issuer is the identity provider's https:// URL, as its "
                                   "ID tokens say it (`iss`), at most 500 characters")
            if len(subject) > 255:
                raise InputInvalid("the subject (`sub`) has at most 255 characters")
        with self._changing(username) as (session, user):
            if issuer is not None:
                other = session.execute(select(UserRow.username).where(
                    UserRow.oidc_issuer == issuer, UserRow.oidc_subject == subject,
                    UserRow.username != username)).scalar_one_or_none()
                if other is not None:
                    raise StoreConflict(f"that identity is linked to {other} already")
            before = {"issuer": user.oidc_issuer, "subject": user.oidc_subject}
            user.oidc_issuer, user.oidc_subject = issuer, subject
            audit.append(session, by[0], by[1], "account_oidc_linked", None,
                         {"username": username, "from": before,
                          "to": {"issuer": issuer, "subject": subject}})

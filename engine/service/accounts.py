"""Accounts for the command line and any later HTTP API: signing in with a password issues a
token; a token gives back the signed-in person (`Access`), whose role and wards come from their
account and never from what the caller says. Also the two things an operator does before anyone
can sign in (the first administrator, loading the case studies), and what may be read without
signing in (product decisions, never a patient's record)."""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass
from typing import Any

from engine import service
from engine.errors import AccessDenied, InputInvalid, NotSignedIn
from engine.knowledge.pack import RulePack
from engine.models import dates
from engine.models.people import ALLOWED, Actor, new_account
from engine.models.printable import check_text
from engine.service import credentials
from engine.service.api import store_at
from engine.service.session import Access
from engine.store import RecordView, Store, audit, tokens
from engine.store.bootstrap import add_first_administrator, issue_setup_token
from engine.store.tables import TokenRow

LOGIN_HOURS = 8
MAX_TOKEN_HOURS = 24 * 90
SCOPES = {"read": ["read"], "write": ["read", "write"]}
# What a read-only token may do: read and export (an export is audited, but changes no decision).
READING = {a for a in ALLOWED if a.startswith(("read_", "export_"))} | {"verify"}
OPERATOR_ROLE = "administrator"


class TokenActor(Actor):
    """A person acting through a token; a read-only token may read and export, never write."""

    scopes: tuple[str, ...] = ("read", "write")

    def may(self, action: str, ward: str | None = None) -> bool:
        return (action in READING or "write" in self.scopes) and super().may(action, ward)

    def require(self, action: str, ward: str | None = None) -> None:
        if action not in READING and "write" not in self.scopes:
            raise AccessDenied(f"this token is read-only: {self.name} may not "
                               f"{action.replace('_', ' ')} with it")
        super().require(action, ward)


@dataclass(frozen=True)
class Issued:
    """A new token: shown to its owner once, never stored."""

    id: str
    token: str
    username: str
    scopes: list[str]
    expires_at: str


# --- signing in and out ------------------------------------------------------------------------

def this_machine() -> str:
    """The client the command line signs in from, for back-off and lockout: the operating-system
    user and host (the web uses the browser's address)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        user = "unknown"
    return f"command line {user}@{socket.gethostname()}"


def sign_in(store: Store | str | None, username: str, password: str, hours: float = LOGIN_HOURS,
            client: str | None = None) -> Issued:
    """Check the password (a locked name or client is refused first) and issue a sign-in token
    (read and write) for `hours`."""
    store = store_at(store)
    person = Access.sign_in(username, password, store, client=client)
    row, token = tokens.issue(store.db, person.actor.username, "login", SCOPES["write"], hours)
    return Issued(row.id, token, row.username, row.scopes, row.expires_at)


def access_for(store: Store, token: str, pack: RulePack | None = None,
               client: str | None = None) -> Access:
    """The person a token acts for; NotSignedIn when it is unknown, expired or revoked, or the
    account was deactivated. A token this database never issued counts against the client as
    a failed sign-in, and a locked client is refused before the token is looked up."""
    store.check_client(client)
    try:
        holder = tokens.resolve(store.db, token)
    except tokens.UnknownToken:
        store.failed_client("token", client)
        raise
    actor = TokenActor(**holder.actor.model_dump(), scopes=holder.scopes)
    return Access(actor, store, pack)


def sign_out(store: Store | str | None, token: str) -> bool:
    """Revoke a token (signing out); False when this store never issued it."""
    store = store_at(store)
    return tokens.revoke_token(store.db, token)


def current(db: str | None = None, pack: RulePack | None = None) -> Access:
    """The person signed in on this machine (DTPA_TOKEN, or the token `dtpa login` saved).
    Without a token nothing is opened, so a refused command leaves no trace."""
    found = credentials.saved_token()
    if found is None:
        raise NotSignedIn("not signed in: this command acts as a signed-in account")
    token, where = found
    try:
        return access_for(service.open_store(db), token, pack, client=this_machine())
    except NotSignedIn as exc:
        raise NotSignedIn(f"{where}: {exc.message}") from None


def reader(db: str | None = None) -> Access | Guest:
    """The signed-in person when there is one, else a guest who sees product decisions only.
    A token that is present but refused is an error, not a quiet fall back to guest."""
    if credentials.saved_token() is None:
        return Guest(service.open_store(db))
    return current(db)


# --- tokens for scripts ------------------------------------------------------------------------

def _require_write(person: Access) -> None:
    scopes = getattr(person.actor, "scopes", ("read", "write"))
    if "write" not in scopes:
        raise AccessDenied("this token is read-only: it may not manage tokens")


def create_token(person: Access, name: str, scope: str, hours: float) -> Issued:
    """A token for scripts, acting as this person with `read` or `write` scope."""
    _require_write(person)
    if scope not in SCOPES:
        raise InputInvalid(f"--scope {scope!r}: use one of {', '.join(SCOPES)}")
    if not 0 < hours <= MAX_TOKEN_HOURS:
        raise InputInvalid(f"--hours {hours:g}: a token lasts more than 0 and at most "
                           f"{MAX_TOKEN_HOURS} hours (90 days)")
    name = check_text(name, "Token name")
    row, token = tokens.issue(person.store.db, person.actor.username, name, SCOPES[scope], hours)
    return Issued(row.id, token, row.username, row.scopes, row.expires_at)


def token_list(person: Access) -> list[TokenRow]:
    """This person's tokens; an administrator sees everyone's."""
    everyone = person.actor.may("manage_users")
    return tokens.listed(person.store.db, None if everyone else person.actor.username)


def revoke_token(person: Access, token_id: str) -> TokenRow:
    """Revoke one of this person's tokens (an administrator: anyone's)."""
    _require_write(person)
    everyone = person.actor.may("manage_users")
    return tokens.revoke(person.store.db, token_id, (person.actor.name, person.actor.role.value),
                         None if everyone else person.actor.username)


# --- what the operator does before anyone can sign in ------------------------------------------

def needs_first_administrator(store: Store | str | None) -> bool:
    store = store_at(store)
    return Access.needs_first_administrator(store)


def first_administrator(store: Store | str | None, username: str, name: str, password: str,
                        os_user: str) -> None:
    """The first account of an empty store, created by the operator without signing in; the
    audit event says so and names their operating-system user."""
    store = store_at(store)
    username, name = new_account(username.strip(), name)
    add_first_administrator(store, username, name, password,
                            {"via": "command line", "operator": True, "os_user": os_user})


def setup_token(store: Store | str | None, os_user: str) -> tuple[str, str] | None:
    """A one-time token for creating the first administrator on the web, and when it expires,
    while the store has no account (None once one exists); the web form asks for it."""
    store = store_at(store)
    return issue_setup_token(store, os_user)


def seed(store: Store | str | None, os_user: str) -> tuple[list[RecordView], list[str]]:
    """Load the case studies (once); the records and the ids stored now. When any were stored,
    an audit event names the operator who ran it."""
    store = store_at(store)
    before = set(store.latest_ids())
    views = service.seed_case_studies(store, today=dates.today())
    added = [v.row.id for v in views if v.row.id not in before]
    if added:
        with store.db.write() as session:
            audit.append(session, os_user, OPERATOR_ROLE, "seeded", None,
                         {"operator": True, "os_user": os_user, "records": added})
    return views, added


# --- without signing in ------------------------------------------------------------------------

class Guest:
    """Someone not signed in: stored product decisions only, never a patient's record."""

    def __init__(self, store: Store):
        self.store = store

    def _product(self, view: RecordView) -> RecordView:
        if view.row.context != "procurement":
            raise NotSignedIn(f"{view.row.id} is a patient's record: sign in to open it")
        return view

    def open(self, ref: str) -> RecordView:
        return self._product(self.store.get(ref))

    def history(self, ref: str) -> tuple[list[Any], list[Any]]:
        view = self.open(ref)
        return self.store.history(view.row.id)

    def records(self, **filters: Any) -> list[RecordView]:
        if filters.get("context") not in (None, "procurement"):
            return []
        return self.store.latest(**{**filters, "context": "procurement"})

    def due(self, within_days: int) -> list[tuple[RecordView, str]]:
        return [(v, why) for v, why in self.store.due(within_days)
                if v.row.context == "procurement"]

"""The columns that access control, reviews and listings read, checked against what was sealed.

A record row's columns (context, ward, review date, relies_on, product version, patient
reference ...) are copies of what its sealed record says (`record_json`, the bytes its hash
covers, whose hash its "created" audit event recorded); who saved it and which version it is are
what that event says. An account's role, wards, active flag and linked identity are what its
latest account event says, and its password hash is the one its latest password event sealed. A
token's owner, scopes, expiry and digest are what its `token_issued` event says. A column changed
in SQL therefore disagrees with something the chain holds, and is named here.

Two uses:
- reading (records.py): `sealed_row` is a detached copy of a row whose columns are the sealed
  values, and `record_problems` says what disagrees. Access, reviews and listings read that
  copy, so a changed column neither opens a patient's record to another ward nor hides an
  overdue review; a record whose columns or bytes disagree is refused when opened, and shown to
  governance only (flagged) in listings. An account whose row disagrees with its trail cannot
  act (`account_problems`), nor can a token whose row disagrees with its issuing event
  (`token_problems`, tokens.resolve).
- verifying (`Store.verify`): `problems` names every disagreeing column, and
  `privileged_changes` lists every change to an account for the DPO.

Values of the columns that could identify a patient (ward, patient reference, title) are never
printed: an administrator may run the check and may not read patient records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.hashing import LEGACY, sha256_bytes
from engine.models.people import PATIENT_ACCESS
from engine.models.record import DecisionRecord, seal
from engine.store import keys
from engine.store.tables import EventRow, RecordRow, TokenRow, UserRow

KEY_PREFIX = {"procurement": "PRO", "individual_use": "IND"}  # as records.PREFIX
PRIVATE = {"ward", "patient_reference", "title"}  # values never printed
# Columns a row copies from its sealed record. `outcome` and `input_hash` are checked by
# audit.verify already (and named there), so `problems` leaves them to it.
SEALED = ("context", "title", "product", "product_version", "patient_reference", "ward",
          "relies_on", "outcome", "assessed_on", "review_date", "rule_pack_version",
          "rule_pack_hash", "profile", "input_hash")
CHECKED_ELSEWHERE = {"outcome", "input_hash"}
CREATED = ("created_by", "created_role", "key", "version")
ACCOUNT = "account_"  # every account event's action starts so (users.py, grants.py)
PASSWORD = "password_digest"  # an account_added or account_password_reset event's sealed hash


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _erased(row: RecordRow) -> bool:
    return not row.record_json  # a tombstone (retention.py) has no sealed record left


# --- records ----------------------------------------------------------------------------------

def sealed_values(record: DecisionRecord) -> dict[str, Any]:
    """What each column should hold, as the sealed record says it."""
    subject, pack = record.subject, record.rule_pack
    return {"context": _plain(record.record_type), "title": record.title,
            "product": subject.product, "product_version": subject.version,
            "patient_reference": subject.patient_reference, "ward": subject.ward,
            "relies_on": record.relies_on, "outcome": _plain(record.outcome),
            "assessed_on": record.assessed_on, "review_date": record.review_date,
            "rule_pack_version": pack.version, "rule_pack_hash": pack.hash,
            "profile": pack.profile, "input_hash": record.input_hash}


def created_values(row: RecordRow, event: EventRow) -> dict[str, Any]:
    """What the columns about saving should hold: the "created" event's actor and role, and the
    key and version the record id (which the event names) says."""
    key, _, version = row.id.rpartition("@")
    return {"created_by": event.actor, "created_role": event.role, "key": key,
            "version": int(version) if version.isdigit() else None}


def _differs(row_id: str, column: str, stored: Any, expected: Any, against: str) -> str:
    shown = "" if column in PRIVATE else f" ({_short(stored)}; {against} says {_short(expected)})"
    return (f"record {row_id}: the {column} column differs from its {against}{shown}: it was "
            "changed outside DTPA")


def _short(value: Any) -> str:
    text = "none" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def bytes_problems(row: RecordRow, record: DecisionRecord | None, event: EventRow | None) -> list[str]:
    """Whether the sealed bytes can be trusted at all: they hash to the row's record hash, which
    is the one the "created" event recorded (cheap: no chain walk; `audit verify` walks it)."""
    if event is None:
        return [f"record {row.id} has no 'created' event in the audit chain"]
    if _erased(row):
        return []  # retention.py checks what a tombstone keeps
    out = []
    if row.hash_scheme == LEGACY:
        intact = record is not None and seal(record).record_hash == row.record_hash
    else:
        intact = sha256_bytes(row.record_json.encode("utf-8")) == row.record_hash
    if not intact:
        out.append(f"record {row.id}: the stored decision record was altered (hash mismatch)")
    if row.record_hash != event.detail.get("record_hash"):
        out.append(f"record {row.id}: its record hash differs from the one the audit chain recorded")
    return out


def record_problems(row: RecordRow, record: DecisionRecord | None, event: EventRow | None,
                    skip: Iterable[str] = ()) -> list[str]:
    """Every column of `row` that disagrees with its sealed record or its "created" event."""
    out: list[str] = []
    leave = set(skip)
    if record is not None and not _erased(row):
        for column, expected in sealed_values(record).items():
            if column not in leave and getattr(row, column) != expected:
                out.append(_differs(row.id, column, getattr(row, column), expected, "sealed record"))
    elif not row.id.startswith(KEY_PREFIX.get(row.context, "?") + "-"):
        out.append(_differs(row.id, "context", row.context, row.id, "record id"))
    if event is not None:
        for column, expected in created_values(row, event).items():
            if getattr(row, column) != expected:
                out.append(_differs(row.id, column, getattr(row, column), expected,
                                    "'created' audit event"))
        if event.detail.get("version") not in (None, row.version):
            out.append(_differs(row.id, "version", row.version, event.detail.get("version"),
                                "'created' audit event"))
        stamped = event.detail.get("created_at")
        if (row.created_at != stamped) if stamped else (row.created_at > event.at):
            out.append(_differs(row.id, "created_at", row.created_at, stamped or event.at,
                                "'created' audit event"))
    return out


def sealed_row(row: RecordRow, record: DecisionRecord | None, event: EventRow | None) -> RecordRow:
    """A copy of `row`, not attached to any session (so nothing is written back), whose columns
    are what the sealed record and its "created" event say; a tombstone keeps its columns."""
    values = {c.key: getattr(row, c.key) for c in RecordRow.__table__.columns}
    if record is not None and not _erased(row):
        values.update(sealed_values(record))
    if event is not None:
        values.update({k: v for k, v in created_values(row, event).items() if v is not None})
    return RecordRow(**values)


def _record_of(row: RecordRow) -> DecisionRecord | None:
    if _erased(row):
        return None
    try:
        return DecisionRecord.model_validate_json(row.record_json)
    except ValueError:
        return None  # audit.verify names a record that no longer parses


def record_column_problems(session: Session) -> list[str]:
    """For `audit verify`: every record column that disagrees with what was sealed."""
    created = {e.record_id: e for e in session.execute(
        select(EventRow).where(EventRow.action == "created")).scalars()}
    out = []
    for row in session.execute(select(RecordRow).order_by(RecordRow.id)).scalars():
        event = created.get(row.id)
        if event is None:
            continue  # audit.verify names a record without its 'created' event
        out += record_problems(row, _record_of(row), event, skip=CHECKED_ELSEWHERE)
    return out


# --- accounts ---------------------------------------------------------------------------------

@dataclass
class AccountState:
    """An account as its audit events say it is now."""

    username: str
    role: str | None
    wards: list[str]
    active: bool
    identity: tuple[str | None, str | None] = (None, None)
    seq: int = 0  # the latest event that changed it
    # Its password hash sealed by the latest event that set it (keys.seal), and that event; None
    # when the password was last set before DTPA sealed passwords (it cannot be checked).
    password: str | None = None
    password_seq: int = 0


def account_events(session: Session) -> list[EventRow]:
    return list(session.execute(select(EventRow).where(EventRow.action.like(f"{ACCOUNT}%"))
                                .order_by(EventRow.seq)).scalars())


def _apply(states: dict[str, AccountState], e: EventRow) -> None:
    """One account event applied to the account it names. The event shapes are users.py's
    (`from`/`to` for a change) and grants.py's (the values granted)."""
    d = e.detail or {}
    name = d.get("username")
    if not isinstance(name, str) or not e.action.startswith(ACCOUNT):
        return
    if e.action == "account_added":
        states[name] = AccountState(name, d.get("role"), list(d.get("wards") or []),
                                    bool(d.get("active", True)))
    state = states.get(name)
    if state is None:
        return  # a change to an account never added: its row, if any, is named
    if e.action in ("account_added", "account_password_reset"):
        state.password, state.password_seq = d.get(PASSWORD), e.seq
    if e.action == "account_added":
        pass
    elif e.action == "account_role_changed":
        state.role = d.get("to")
    elif e.action == "account_wards_changed":
        state.wards = list(d.get("to") or [])
    elif e.action == "account_deactivated":
        state.active = False
    elif e.action == "account_reactivated":
        state.active = True
    elif e.action == "account_oidc_linked":
        to = d.get("to") or {}
        state.identity = (to.get("issuer"), to.get("subject"))
    elif e.action == "account_grant_approved":
        state.role = d.get("role", state.role)
        state.wards = list(d.get("wards", state.wards))
        state.active = bool(d.get("active", state.active))
    else:
        return  # a password reset (above), a grant asked or refused: no role, wards or flag changes
    state.seq = e.seq


def account_states(events: Iterable[EventRow]) -> dict[str, AccountState]:
    """Each account's role, wards, active flag and linked identity as its events say."""
    states: dict[str, AccountState] = {}
    for e in events:
        _apply(states, e)
    return states


def _first_account_event(events: Sequence[EventRow]) -> str | None:
    return next((e.at for e in events if e.action == "account_added"), None)


def user_problems(user: UserRow, state: AccountState | None, audited_since: str | None,
                  ring: keys.KeyRing | None) -> list[str]:
    """How an account's row disagrees with its trail. An account with no event at all is named
    when DTPA already audited new accounts when it was made (`audited_since`); an older one was
    made before accounts were audited, and is named only by `audit verify`."""
    who = f"account {user.username}"
    if state is None:
        if audited_since is not None and user.created_at >= audited_since:
            return [f"{who} ({user.role}) has no account event: it was added outside DTPA"]
        return []
    out = []
    if user.role != state.role:
        out.append(f"{who}: its role ({user.role}) differs from its latest account event "
                   f"({state.role}, audit event {state.seq}): changed outside DTPA")
    if sorted(user.wards or []) != sorted(state.wards):
        out.append(f"{who}: its wards differ from its latest account event (audit event "
                   f"{state.seq}): changed outside DTPA")
    if bool(user.active) != state.active:
        out.append(f"{who}: it is {'active' if user.active else 'inactive'}, but its latest account "
                   f"event (audit event {state.seq}) left it "
                   f"{'active' if state.active else 'inactive'}: changed outside DTPA")
    identity = (getattr(user, "oidc_issuer", None), getattr(user, "oidc_subject", None))
    if identity != state.identity:
        out.append(f"{who}: its linked identity-provider account differs from its account events: "
                   "changed outside DTPA")
    if state.password is not None and not keys.sealed_matches(ring, state.password, user.password_hash):
        out.append(f"{who}: its password hash differs from the one its latest password event "
                   f"sealed (audit event {state.password_seq}): changed outside DTPA, so someone "
                   "may sign in with a password of their choosing")
    return out


def account_problems(session: Session, user: UserRow) -> list[str]:
    """For reading: how one account disagrees with its trail (empty when it agrees)."""
    events = account_events(session)
    state = account_states(events).get(user.username)
    ring = keys.load() if state is not None and state.password is not None else None
    return user_problems(user, state, _first_account_event(events), ring)


def account_column_problems(session: Session) -> list[str]:
    """For `audit verify`: every account whose row disagrees with its trail, every account with
    no event (however old), and every account the trail has that the table lost."""
    states = account_states(account_events(session))
    ring = keys.load()
    out = []
    users = list(session.execute(select(UserRow).order_by(UserRow.username)).scalars())
    for user in users:
        state = states.pop(user.username, None)
        if state is None:
            out.append(f"account {user.username} ({user.role}) has no account event: added "
                       "outside DTPA (or before DTPA audited accounts)")
        else:
            out += user_problems(user, state, None, ring)
    for name in sorted(states):
        out.append(f"account {name} is missing (deleted outside DTPA), though the audit chain "
                   f"recorded it (audit event {states[name].seq})")
    return out


# --- tokens -----------------------------------------------------------------------------------

ISSUED, REVOKED = "token_issued", "token_revoked"  # tokens.py
ENDS_TOKENS = ("account_deactivated", "account_password_reset")  # revoke the account's tokens


@dataclass
class TokenState:
    """A token as its audit events say it is."""

    id: str
    username: str
    scopes: list[str]
    expires_at: str
    digest: str  # its token_hash, sealed (keys.seal): never the token itself
    seq: int  # the event that issued it
    revoked: bool = False


def issued_state(event: EventRow | None, token_id: str | None = None) -> TokenState | None:
    """The token a `token_issued` event issued (None for any other event, or another token's)."""
    if event is None or event.action != ISSUED:
        return None
    d = event.detail or {}
    if not isinstance(d.get("token_id"), str) or token_id not in (None, d["token_id"]):
        return None
    return TokenState(d["token_id"], str(d.get("username")), list(d.get("scopes") or []),
                      str(d.get("expires_at")), str(d.get("token_digest")), event.seq)


def token_states(session: Session) -> dict[str, TokenState]:
    """Every token the chain issued, revoked when a `token_revoked` event names it or its
    account was deactivated or had its password reset after it was issued (users.py)."""
    states: dict[str, TokenState] = {}
    owned: dict[str, list[TokenState]] = {}
    for e in session.execute(select(EventRow).where(EventRow.action.in_((ISSUED, REVOKED, *ENDS_TOKENS)))
                             .order_by(EventRow.seq)).scalars():
        d = e.detail or {}
        state = issued_state(e)
        if state is not None:
            states[state.id] = state
            owned.setdefault(state.username, []).append(state)
        elif e.action == REVOKED and d.get("token_id") in states:
            states[d["token_id"]].revoked = True
        elif e.action in ENDS_TOKENS:
            for token in owned.get(str(d.get("username")), []):
                token.revoked = True
    return states


def token_problems(row: TokenRow, state: TokenState | None, ring: keys.KeyRing | None) -> list[str]:
    """How a token row disagrees with its `token_issued` event (its revocation aside)."""
    who = f"token {row.id} of {row.username}"
    if state is None:
        return [f"{who} has no 'token_issued' event in the audit chain: it was added outside DTPA"]
    said = f"its 'token_issued' event (audit event {state.seq})"
    out = []
    if row.username != state.username:
        out.append(f"{who}: its owner differs from {said}, which issued it to {state.username}: "
                   "changed outside DTPA")
    if sorted(row.scopes or []) != sorted(state.scopes):
        out.append(f"{who}: its scopes ({', '.join(row.scopes or [])}) differ from {said} "
                   f"({', '.join(state.scopes)}): changed outside DTPA")
    if row.expires_at != state.expires_at:
        out.append(f"{who}: its expiry ({row.expires_at}) differs from {said} "
                   f"({state.expires_at}): changed outside DTPA")
    if not keys.sealed_matches(ring, state.digest, row.token_hash):
        out.append(f"{who}: its token digest differs from the one {said} sealed: the token was "
                   "replaced outside DTPA")
    if row.issued_seq != state.seq:
        out.append(f"{who}: its issued_seq column ({row.issued_seq}) differs from {said}: "
                   "changed outside DTPA")
    return out


def token_column_problems(session: Session) -> list[str]:
    """For `audit verify`: every token row with no issuing event or that disagrees with its
    events (revoked or not included), and every token the chain issued that the table lost."""
    states = token_states(session)
    ring = keys.load()
    out = []
    for row in session.execute(select(TokenRow).order_by(TokenRow.created_at, TokenRow.id)).scalars():
        state = states.pop(row.id, None)
        out += token_problems(row, state, ring)
        if state is not None and state.revoked and not row.revoked_at:
            out.append(f"token {row.id} of {row.username}: it was revoked (audit chain), but its "
                       "row is not: revived outside DTPA")
        elif state is not None and not state.revoked and row.revoked_at:
            out.append(f"token {row.id} of {row.username}: its row is revoked, but the audit "
                       "chain recorded no revocation: changed outside DTPA")
    for token_id, state in sorted(states.items()):
        out.append(f"token {token_id} of {state.username} is missing (deleted outside DTPA), "
                   f"though the audit chain recorded it (audit event {state.seq})")
    return out


def problems(session: Session) -> list[str]:
    """Every column access control, reviews and listings read that disagrees with the chain."""
    return record_column_problems(session) + account_column_problems(session) + \
        token_column_problems(session)


# --- the privileged-changes report ------------------------------------------------------------

@dataclass(frozen=True)
class PrivilegedChange:
    """One change to an account, as the DPO reads it."""

    seq: int
    at: str
    actor: str
    role: str
    action: str
    username: str
    what: str
    patient_access: bool  # it gave (or asked to give) a role that can open patient records

    def __str__(self) -> str:
        flag = "  [patient records]" if self.patient_access else ""
        return f"#{self.seq} {self.at[:16].replace('T', ' ')}  {self.actor} ({self.role}): {self.what}{flag}"


def _wards(wards: Any) -> str:
    return f" on {', '.join(map(str, wards))}" if wards else ""


def _describe(e: EventRow, state: AccountState | None) -> tuple[str, bool]:
    d, name = e.detail or {}, str((e.detail or {}).get("username"))
    role = d.get("role") or (state.role if state else None)
    opens = role in PATIENT_ACCESS
    if e.action == "account_added":
        how = " (the first administrator, bootstrap)" if d.get("bootstrap") else ""
        waits = ", inactive until a second administrator approves" if d.get("active") is False else ""
        return f"added {name} as {d.get('role')}{_wards(d.get('wards'))}{how}{waits}", opens
    if e.action == "account_role_changed":
        return f"changed {name}'s role from {d.get('from')} to {d.get('to')}", \
            d.get("to") in PATIENT_ACCESS
    if e.action == "account_wards_changed":
        return f"changed {name}'s wards from {', '.join(d.get('from') or []) or 'none'} to " \
               f"{', '.join(d.get('to') or []) or 'none'}", opens and bool(d.get("to"))
    if e.action == "account_deactivated":
        return f"deactivated {name}", False
    if e.action == "account_reactivated":
        return f"reactivated {name} ({role})", opens
    if e.action == "account_password_reset":
        return f"reset {name}'s password (sessions ended, tokens revoked)", opens
    if e.action == "account_oidc_linked":
        to = d.get("to") or {}
        return (f"linked {name} to {to.get('issuer')} subject {to.get('subject')}"
                if to.get("issuer") else f"unlinked {name} from its identity provider"), opens
    if e.action == "account_grant_requested":
        return (f"asked to grant {name} {d.get('what')} (grant {d.get('grant')}); waits for a "
                "second administrator"), True
    if e.action == "account_grant_approved":
        return f"approved grant {d.get('grant')} (asked by {d.get('requested_by')}): {name} " \
               f"gets {d.get('what')}", True
    if e.action == "account_grant_refused":
        return f"refused grant {d.get('grant')} for {name}", False
    return f"{e.action.removeprefix(ACCOUNT).replace('_', ' ')} {name}", opens


def privileged_changes(session: Session) -> list[PrivilegedChange]:
    """Every change to an account (added, role, wards, deactivated, reactivated, password
    reset, identity linked, grants asked, approved and refused), oldest first."""
    states: dict[str, AccountState] = {}
    out = []
    for e in account_events(session):
        username = (e.detail or {}).get("username")
        if isinstance(username, str):
            what, opens = _describe(e, states.get(username))
            out.append(PrivilegedChange(e.seq, e.at, e.actor, e.role, e.action, username, what,
                                        opens))
        _apply(states, e)
    return out

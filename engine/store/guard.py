"""Back-off and temporary lockout for signing in, per account name and per client.

Every password sign-in (web and `dtpa login`), every unknown token and every wrong setup token
counts against the client it came from (the browser's IP address where the web front end knows
it; the operating-system user and host for the command line); password sign-ins count against
the name typed too. A name is counted whether or not an account has it, so a lockout says
nothing about which names exist.

- An account name: 5 failures within 15 minutes lock it for 15 minutes.
- A client: 20 failures within 15 minutes (several people may share one computer or one
  address) lock it for 15 minutes.
- Each further lockout in a row doubles the lock (15, 30, 60 minutes ... at most 24 hours);
  a successful sign-in, or a day without failures, starts again from 15 minutes.
- While a name or client is locked, sign-in is refused before any password is checked, the
  right password included; when the lock ends, the right password works again.

An attempt is counted *before* its password is checked and given back if it was right, so
guesses sent in parallel cannot slip past the limit. The state is a row per key in
`signin_guard` (keyed by a SHA-256, so a password typed into the name field is never kept);
the failures and lockouts themselves are audit events (written by the caller)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from engine.store.tables import SignInGuardRow

LIMITS = {"account": 5, "client": 20}  # failures within WINDOW that lock
WINDOW = dt.timedelta(minutes=15)
LOCK = dt.timedelta(minutes=15)  # the first lock; each further one in a row doubles
MAX_LOCK = dt.timedelta(hours=24)
FORGET = dt.timedelta(hours=24)  # lockouts in a row are forgotten after a day without failures


@dataclass(frozen=True)
class Key:
    """What is counted: an account name or a client, and the digest its row is stored under."""

    kind: str  # "account" or "client"
    digest: str


def account_key(username: str) -> Key:
    name = (username or "").strip().casefold()
    return Key("account", hashlib.sha256(f"account:{name}".encode()).hexdigest())


def client_key(client: str | None) -> Key | None:
    """None when the client is not known: then only the account name is counted."""
    if not client:
        return None
    return Key("client", hashlib.sha256(f"client:{client}".encode()).hexdigest())


def keys_for(username: str | None, client: str | None) -> list[Key]:
    found = [account_key(username)] if username is not None else []
    return found + [k for k in [client_key(client)] if k is not None]


@dataclass
class Attempt:
    """A sign-in attempt counted in advance: refused (`locked_until`), or let through, with the
    locks its counting started (each key and the time it is locked until)."""

    locked_until: dt.datetime | None = None
    new_locks: list[tuple[Key, dt.datetime]] = field(default_factory=list)
    counted: list[Key] = field(default_factory=list)


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _when(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def now_utc(now: dt.datetime | None = None) -> dt.datetime:
    return now or dt.datetime.now(dt.UTC)


def locked_until(session: Session, keys: Iterable[Key], now: dt.datetime) -> dt.datetime | None:
    """The latest time any of these keys is locked until, or None when none is locked."""
    latest: dt.datetime | None = None
    for key in keys:
        row = session.get(SignInGuardRow, key.digest)
        until = _when(row.locked_until) if row is not None else None
        if until is not None and until > now and (latest is None or until > latest):
            latest = until
    return latest


def _row(session: Session, key: Key) -> SignInGuardRow:
    row = session.get(SignInGuardRow, key.digest)
    if row is None:
        row = SignInGuardRow(key=key.digest, kind=key.kind, failures=0, window_start=None,
                             last_failure=None, lockouts=0, locked_until=None)
        session.add(row)
    return row


def count(session: Session, key: Key, now: dt.datetime) -> dt.datetime | None:
    """Count one failure against `key`; the time it is now locked until when this failure
    reached the limit, else None."""
    row = _row(session, key)
    last = _when(row.last_failure)
    if last is not None and now - last > FORGET:
        row.lockouts = 0
    start = _when(row.window_start)
    if start is None or now - start > WINDOW:
        row.failures, row.window_start = 0, stamp(now)
    row.failures += 1
    row.last_failure = stamp(now)
    if row.failures < LIMITS[key.kind]:
        return None
    row.lockouts += 1
    doubled = LOCK * (1 << min(row.lockouts - 1, 16))  # 15 min, 30, 60 ...
    until = now + min(doubled, MAX_LOCK)
    row.failures, row.window_start, row.locked_until = 0, None, stamp(until)
    return until


def attempt(session: Session, keys: list[Key], now: dt.datetime) -> Attempt:
    """Refuse the attempt if any key is locked; otherwise count it as a failure in advance
    (`succeeded` gives it back)."""
    until = locked_until(session, keys, now)
    if until is not None:
        return Attempt(locked_until=until)
    result = Attempt(counted=list(keys))
    for key in keys:
        locked = count(session, key, now)
        if locked is not None:
            result.new_locks.append((key, locked))
    return result


def succeeded(session: Session, counted: Attempt) -> None:
    """The attempt was right: an account name starts afresh; a client gets back the failure
    counted in advance (and any lock that counting started), keeping the others."""
    locked_now = {key.digest for key, _ in counted.new_locks}
    for key in counted.counted:
        row = session.get(SignInGuardRow, key.digest)
        if row is None:
            continue
        if key.kind == "account":
            session.delete(row)
        elif key.digest in locked_now:
            row.lockouts = max(0, row.lockouts - 1)
            row.locked_until, row.failures = None, LIMITS[key.kind] - 1
            row.window_start = row.last_failure
        else:
            row.failures = max(0, row.failures - 1)


def clear(session: Session, username: str) -> None:
    """Lift an account name's lock and failures (an administrator reset its password or
    reactivated it)."""
    row = session.get(SignInGuardRow, account_key(username).digest)
    if row is not None:
        session.delete(row)


def locked_message(until: dt.datetime) -> str:
    """The same words for every locked name, known or not, and for a locked client."""
    return (f"too many failed sign-ins with this username or from this computer: signing in is "
            f"paused until {until.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC. Try again then, or ask "
            "an administrator to reset your password")

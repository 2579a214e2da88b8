"""Connecting to the store: SQLite by default (a file under data/, WAL mode), PostgreSQL when
DTPA_DATABASE_URL says so. The schema is created and upgraded by Alembic migrations.

A write waits at most DTPA_LOCK_TIMEOUT seconds for another writer's lock (PostgreSQL's
lock_timeout, SQLite's busy_timeout), then fails with `StoreBusy` ("the store is busy; try
again"). A database error never carries the statement or its parameters out of here: they hold
the input (a patient's answers), so messages name the error class and constraint only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
    StatementError,
)
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import DTPAError, InputInvalid, StoreBusy, StoreUnavailable
from engine.settings import settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CHAIN_LOCK = 724_001  # PostgreSQL advisory lock id that serialises writers of the audit chain


def database_url(url: str | None = None) -> str:
    """The URL given, else DTPA_DATABASE_URL, else the embedded SQLite file under data/."""
    return url or settings().database_url


def redact_url(url: str) -> str:
    """The URL without its password, for messages (SQLAlchemy's own rendering). A string that
    is not a URL at all is shown only up to its scheme: it may still hold a secret."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url.split("://", 1)[0] + "://***" if "://" in url else "***"


def make_engine(url: str) -> Engine:
    wait = settings().lock_timeout
    try:
        if url.startswith("sqlite"):
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": wait})

            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.isolation_level = None  # transactions are begun below
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()

            @event.listens_for(engine, "begin")
            def _sqlite_begin(conn: Connection) -> None:
                # Take the write lock at the start: two writers queue instead of failing mid-way.
                conn.exec_driver_sql("BEGIN IMMEDIATE")

            return engine
        # Every session waits at most `wait` for a lock (the audit chain's advisory lock included).
        return create_engine(url, pool_pre_ping=True, connect_args={
            "connect_timeout": 10, "options": f"-c lock_timeout={int(wait * 1000)}"})
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise StoreUnavailable(f"DTPA_DATABASE_URL is not a usable database URL "
                               f"({redact_url(url)}): {exc}") from None


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration (safe to run every time)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        if _busy(exc):
            raise _busy_error() from None
        raise StoreUnavailable(f"cannot reach the database at {redact_url(str(engine.url))}: "
                               f"{_first_line(exc)}") from None
    except StatementError as exc:
        raise _plain(exc, str(engine.url)) from None


# --- database errors, without the statement or its parameters ---------------------------------

# SQLSTATE 55P03 (lock_not_available) on PostgreSQL; SQLITE_BUSY or SQLITE_LOCKED (and their
# extended codes, SQLITE_BUSY_SNAPSHOT ...) on SQLite.
_BUSY_STATES = {"55P03"}
_BUSY_SQLITE = ("SQLITE_BUSY", "SQLITE_LOCKED")


def _busy(exc: DBAPIError) -> bool:
    orig = exc.orig
    return getattr(orig, "sqlstate", None) in _BUSY_STATES or \
        str(getattr(orig, "sqlite_errorname", None) or "").startswith(_BUSY_SQLITE) or \
        "database is locked" in str(orig)


def _busy_error() -> StoreBusy:
    return StoreBusy(f"the store is busy; try again (another write held its lock for more than "
                     f"{settings().lock_timeout:g} s, DTPA_LOCK_TIMEOUT)")


def _first_line(exc: DBAPIError) -> str:
    """The driver's own first line: for a connection or disk failure it names no input."""
    lines = str(exc.orig).strip().splitlines()
    return lines[0][:300] if lines else type(exc.orig).__name__


def refusal(exc: StatementError) -> str:
    """What the database refused, as the error class and (if any) the constraint: PostgreSQL's
    message is cut before anything it quotes (`Key (username)=(...)`, `syntax for type: "..."`),
    SQLite's names only tables and columns."""
    orig = exc.orig
    kind = type(orig).__name__ if orig is not None else type(exc).__name__
    text = (str(orig).strip().splitlines() or [""])[0]
    diag = getattr(orig, "diag", None)
    if diag is not None:  # psycopg
        text = re.split(r"[:\"']", text, maxsplit=1)[0].strip()
        if getattr(diag, "constraint_name", None):
            text += f" (constraint {diag.constraint_name})"
    return f"{kind}: {text}"[:240] if text else kind


class Refused(Exception):
    """The cause kept on a trimmed IntegrityError: the refusal, without the input."""


def _plain(exc: StatementError, url: str) -> DTPAError:
    if isinstance(exc, DataError):  # a value the database cannot store: the input's fault
        return InputInvalid(f"the database refused a value ({refusal(exc)}); nothing was stored")
    return StoreUnavailable(f"the database at {redact_url(url)} refused the request "
                            f"({refusal(exc)}); nothing was stored")


class Database:
    """An engine, its sessions, and a write transaction that serialises the audit chain."""

    def __init__(self, url: str | None = None):
        self.url = database_url(url)
        self.engine = make_engine(self.url)
        migrate(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._errors(), self.sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: all of it is stored, or none of it."""
        with self._errors(), self.sessions() as session, session.begin():
            if self.dialect == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": CHAIN_LOCK})
            yield session

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            if _busy(exc):
                raise _busy_error() from None
            raise StoreUnavailable(f"the database at {redact_url(self.url)} failed: "
                                   f"{_first_line(exc)}") from None
        except IntegrityError as exc:
            # Still an IntegrityError (a caller may settle a race on a unique key), trimmed.
            raise IntegrityError(None, None, Refused(refusal(exc)), hide_parameters=True) from None
        except StatementError as exc:
            raise _plain(exc, self.url) from None

    def dispose(self) -> None:
        self.engine.dispose()

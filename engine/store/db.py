"""Connecting to the store: SQLite by default (a file under data/, WAL mode), PostgreSQL when
DTPA_DATABASE_URL says so. The schema is created and upgraded by Alembic migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import StoreUnavailable
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
    try:
        if url.startswith("sqlite"):
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 60})

            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.isolation_level = None  # transactions are begun below
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA busy_timeout=60000")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()

            @event.listens_for(engine, "begin")
            def _sqlite_begin(conn: Connection) -> None:
                # Take the write lock at the start: two writers queue instead of failing mid-way.
                conn.exec_driver_sql("BEGIN IMMEDIATE")

            return engine
        return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
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
        raise StoreUnavailable(f"cannot reach the database at {redact_url(str(engine.url))}: "
                               f"{str(exc.orig).strip().splitlines()[0]}") from None


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
            raise StoreUnavailable(f"the database at {redact_url(self.url)} failed: "
                                   f"{str(exc.orig).strip().splitlines()[0]}") from None

    def dispose(self) -> None:
        self.engine.dispose()

"""The decision-record store: SQLAlchemy 2 on SQLite (default) or PostgreSQL, with Alembic."""

from engine.store.db import Database, database_url, redact_url
from engine.store.records import RecordView, Store, parse_ref

__all__ = ["Database", "RecordView", "Store", "database_url", "parse_ref", "redact_url"]

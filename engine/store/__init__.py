"""The decision-record store: SQLAlchemy 2 on SQLite (default) or PostgreSQL, with Alembic.

`Store` is one object for callers, made of parts with one job each: records (records.py),
sign-off and override (governance.py), reviews due (reviews.py), local accounts (users.py) and
drafts (drafts.py); the audit chain and its check are in audit.py."""

from engine.store.db import Database, database_url, redact_url
from engine.store.drafts import Drafts
from engine.store.governance import Governance
from engine.store.records import RecordView, parse_ref
from engine.store.reviews import Reviews
from engine.store.users import Users


class Store(Governance, Reviews, Users, Drafts):
    """Records with their governance, reviews, accounts and drafts, on one database."""


__all__ = ["Database", "RecordView", "Store", "database_url", "parse_ref", "redact_url"]

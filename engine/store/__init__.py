"""The decision-record store: SQLAlchemy 2 on SQLite (default) or PostgreSQL, with Alembic.

`Store` is one object for callers, made of parts with one job each: records (records.py),
sign-off and override (governance.py), reviews due (reviews.py), local accounts (users.py),
drafts (drafts.py) and retention (retention.py); the audit chain and its check are in audit.py,
the check of every column access and reviews read in column_checks.py, and the second
administrator's approval of patient access in grants.py."""

from typing import Any

from engine.errors import IntegrityFailure
from engine.store import column_checks
from engine.store.db import Database, database_url, redact_url
from engine.store.drafts import Drafts
from engine.store.governance import Governance
from engine.store.grants import Grants
from engine.store.records import RecordView, parse_ref
from engine.store.retention import Retention, Verification
from engine.store.reviews import Reviews
from engine.store.tables import UserRow
from engine.store.users import Users


class Store(Retention, Governance, Reviews, Grants, Users, Drafts):
    """Records with their governance, reviews, accounts and drafts, on one database; Retention
    erases expired patient payloads and tells erasures from tampering in `verify`."""

    def verify(self, *args: Any, **kwargs: Any) -> Verification:
        """The audit check, and every column that access control, reviews and listings read
        (records, accounts and tokens) against what the chain sealed (column_checks.py)."""
        result = super().verify(*args, **kwargs)
        with self.db.read() as session:
            result.problems.extend(column_checks.problems(session))
        return result

    def privileged_changes(self) -> list[column_checks.PrivilegedChange]:
        """Every change to an account, oldest first, for the DPO (`audit verify` prints it)."""
        with self.db.read() as session:
            return column_checks.privileged_changes(session)

    def check_account(self, username: str) -> None:
        """IntegrityFailure when the account's row (role, wards, active, linked identity)
        disagrees with its audit trail: it was changed outside DTPA, and cannot act."""
        with self.db.read() as session:
            user = session.get(UserRow, username)
            found = column_checks.account_problems(session, user) if user is not None else []
        if found:
            raise IntegrityFailure(f"the account {username} cannot be used: {found[0]}")


__all__ = ["Database", "RecordView", "Store", "database_url", "parse_ref", "redact_url"]

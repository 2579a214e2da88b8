"""Drafts: unfinished assessments saved from the web form. A draft is not a decision: it has no
versions and no audit events, and saving one under the same name replaces it. A draft is
deleted when its author discards it or, for a patient's, when it expires (the service decides)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from engine.errors import InputInvalid, RecordNotFound
from engine.store import audit
from engine.store.db import Database
from engine.store.tables import DraftRow


class Drafts:
    db: Database

    def save_draft(self, name: str, context: str, data: dict[str, Any], by: str) -> None:
        name = (name or "").strip()
        if not name or len(name) > 120:
            raise InputInvalid("a draft needs a name of 1 to 120 characters")
        with self.db.write() as session:
            session.merge(DraftRow(name=name, context=context, data=data, saved_at=audit.utc_now(),
                                   saved_by=by))

    def drafts(self, context: str | None = None) -> list[DraftRow]:
        with self.db.read() as session:
            query = select(DraftRow).order_by(DraftRow.saved_at.desc())
            if context:
                query = query.where(DraftRow.context == context)
            return list(session.execute(query).scalars())

    def draft(self, name: str) -> DraftRow:
        with self.db.read() as session:
            row = session.get(DraftRow, name)
            if row is None:
                raise RecordNotFound(f"no draft called {name!r}")
            return row

    def delete_drafts(self, names: list[str]) -> None:
        if not names:
            return
        with self.db.write() as session:
            session.execute(delete(DraftRow).where(DraftRow.name.in_(names)))

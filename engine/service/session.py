"""DTPA as one signed-in person: every action checks the person's role (and, for patient
records, their wards) before it reads or writes anything, then calls `engine.service`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine import service
from engine.errors import AccessDenied
from engine.knowledge.pack import RulePack
from engine.models.people import Actor, visible
from engine.models.record import DecisionRecord
from engine.store import RecordView, Store


class Access:
    def __init__(self, actor: Actor, store: Store | None = None, pack: RulePack | None = None):
        self.actor = actor
        self.store = store or service.open_store()
        self.pack = pack

    def read(self, ref: str) -> RecordView:
        """A record this person may see, without recording a view (for redisplaying one they
        opened)."""
        view = self.store.get(ref)
        self.actor.require(f"read_{view.row.context}", view.row.ward)
        return view

    def assess(self, assessment: service.AnyAssessment) -> DecisionRecord:
        if isinstance(assessment, service.IndividualUseCheck):
            return service.check_use(assessment, self.store, self.pack)[1]
        return service.assess(assessment, self.pack)

    def save(self, assessment: service.AnyAssessment, idempotency_key: str | None = None,
             supersedes: str | None = None) -> RecordView:
        ward = getattr(getattr(assessment, "patient", None), "ward", None)
        self.actor.require(f"save_{assessment.context}", ward)
        if supersedes:  # a new version of a record they may not see is refused too
            previous = self.read(supersedes)
            self.actor.require(f"save_{previous.row.context}", previous.row.ward)
        return service.save_assessment(assessment, self.actor.name, self.actor.role.value,
                                       self.store, self.pack, idempotency_key, supersedes)

    def open(self, ref: str) -> RecordView:
        """Open a record; opening a patient's record is an audit event naming the person."""
        view = self.read(ref)
        return self.store.get(view.row.id, viewer=(self.actor.name, self.actor.role.value))

    def records(self, **filters: Any) -> list[RecordView]:
        return visible(self.actor, self.store.latest(**filters))

    def sign(self, ref: str, attestations: Iterable[str], comment: str | None = None) -> RecordView:
        view = self.read(ref)
        self.actor.require("sign")
        return self.store.sign(view.row.id, self.actor.name, self.actor.role.value, attestations,
                               comment)

    def override(self, ref: str, target: str, value: str, reason: str) -> RecordView:
        view = self.read(ref)
        self.actor.require("override")
        return self.store.override(view.row.id, target, value, self.actor.name,
                                   self.actor.role.value, reason)

    def export(self, ref: str, kind: str, audit: bool = True) -> tuple[bytes, str]:
        """An export; with audit=False it is only prepared (a web download button), and the
        caller records the export when the file is taken."""
        view = self.read(ref)
        self.actor.require(f"export_{view.row.context}", view.row.ward)
        return service.export_stored(view.row.id, kind, self.actor.name, self.actor.role.value,
                                     self.store, audit=audit)

    def bundle(self, title: str, views: list[RecordView] | None = None, progress=None,
               **filters: Any) -> tuple[bytes, str]:
        """A bundle of the records this person may export (a panel member's never holds a
        patient's record)."""
        views = [v for v in (views if views is not None else self.records(**filters))
                 if self.actor.may(f"export_{v.row.context}", v.row.ward)]
        if not views:
            raise AccessDenied(f"{self.actor.name} has no records they may export here")
        return service.export_bundle(views, title, self.actor.name, self.actor.role.value,
                                     self.store, progress)

    def verify(self):
        self.actor.require("verify")
        return self.store.verify()

    def reevaluate(self, pack: RulePack | None = None) -> service.Report:
        self.actor.require("reevaluate")
        return service.reevaluate_all(self.actor.name, self.actor.role.value, self.store,
                                      pack or self.pack)

    def add_user(self, username: str, name: str, role: str, wards: list[str], password: str) -> None:
        self.actor.require("manage_users")
        self.store.add_user(username, name, role, wards, password)

    def users(self) -> list[Any]:
        self.actor.require("manage_users")
        return self.store.users()

    def history(self, ref: str) -> tuple[list[Any], list[Any]]:
        """A record's versions and audit events, if this person may see the record."""
        self.read(ref)
        return self.store.history(ref)

    def due(self, within_days: int) -> list[tuple[RecordView, str]]:
        """Reviews due, overdue or flagged, among the records this person may see."""
        return [(v, why) for v, why in self.store.due(within_days)
                if self.actor.may(f"read_{v.row.context}", v.row.ward)]

    def record_export(self, ref: str, kind: str) -> None:
        """An export prepared earlier (audit=False) is taken: the audit event names the person."""
        view = self.read(ref)
        self.actor.require(f"export_{view.row.context}", view.row.ward)
        self.store.record_export(view.row.id, self.actor.name, self.actor.role.value, kind)

    def save_draft(self, name: str, context: str, data: dict[str, Any]) -> None:
        self.actor.require(f"save_{context}", self.actor.wards[0] if self.actor.wards else None)
        self.store.save_draft(name, context, data, self.actor.username)

    def drafts(self, context: str | None = None) -> list[Any]:
        self.actor.require(f"save_{context}" if context else "read_procurement",
                           self.actor.wards[0] if self.actor.wards else None)
        return self.store.drafts(context)

    def draft(self, name: str) -> Any:
        row = self.store.draft(name)
        self.actor.require(f"save_{row.context}", self.actor.wards[0] if self.actor.wards else None)
        return row

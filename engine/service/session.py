"""DTPA as one signed-in person: every action checks the person's role (and, for patient
records, their wards) before it reads or writes anything, then calls `engine.service`.

Signing in (a local password, an identity provider's account, or the first administrator of an
empty store) is how an `Access` is made; the web pages act through nothing else."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from engine import service
from engine.errors import AccessDenied, InputInvalid, RecordNotFound, StoreConflict
from engine.knowledge.pack import RulePack
from engine.models.case_study import CaseStudy
from engine.models.people import Actor, visible
from engine.models.record import DecisionRecord
from engine.models.vocab import Role
from engine.service import case_library
from engine.store import RecordView, Store
from engine.store.audit import Verification
from engine.store.bootstrap import add_first_administrator

CONTEXTS = ("procurement", "individual_use")


@dataclass(frozen=True)
class Draft:
    """An unfinished assessment as its author sees it (not a decision: no versions, no audit)."""

    name: str
    context: str
    data: dict[str, Any]
    saved_at: str
    saved_by: str


class Access:
    def __init__(self, actor: Actor, store: Store | None = None, pack: RulePack | None = None):
        self.actor = actor
        self.store = store or service.open_store()
        self.pack = pack

    # --- signing in -----------------------------------------------------------------------

    @classmethod
    def sign_in(cls, username: str, password: str, store: Store | None = None,
                pack: RulePack | None = None) -> Access:
        """A local account; a wrong password and an unknown name get the same refusal."""
        store = store or service.open_store()
        return cls(store.authenticate(username.strip(), password), store, pack)

    @classmethod
    def for_account(cls, username: str, store: Store | None = None,
                    pack: RulePack | None = None) -> Access:
        """The person an identity provider has signed in (OpenID Connect), by the DTPA account
        that gives their role and wards."""
        store = store or service.open_store()
        user = next((u for u in store.users() if u.username == username and u.active), None)
        if user is None:
            raise AccessDenied(f"{username} has no DTPA account yet: ask an administrator to add "
                               "one (username = your e-mail address)")
        return cls(Actor(username=user.username, name=user.name, role=Role(user.role), wards=user.wards),
                   store, pack)

    @staticmethod
    def needs_first_administrator(store: Store | None = None) -> bool:
        return not (store or service.open_store()).users()

    @classmethod
    def first_administrator(cls, username: str, name: str, password: str, via: str,
                            store: Store | None = None, pack: RulePack | None = None) -> Access:
        """Create the first account of an empty store and sign in as it. Refused once any account
        exists; the audit event says it was the bootstrap, and `via` where it came from."""
        store = store or service.open_store()
        add_first_administrator(store, username.strip(), name, password, {"via": via})
        return cls.sign_in(username, password, store, pack)

    # --- deciding -------------------------------------------------------------------------

    @property
    def checks_patients(self) -> bool:
        """Whether this person may check a use for a patient on any ward at all."""
        return any(self.actor.may("save_individual_use", ward) for ward in self.actor.wards)

    def decide(self, assessment: service.AnyAssessment
               ) -> tuple[service.AnyAssessment, DecisionRecord]:
        """A decision, not stored. A use for a patient is checked only by clinical staff on the
        patient's ward, on the stored product decision it names."""
        if isinstance(assessment, service.IndividualUseCheck):
            ward = assessment.patient.ward
            if not self.actor.may("save_individual_use", ward):
                raise AccessDenied(f"{self.actor.name} ({self.actor.role.value}) may not check a use "
                                   f"for a patient on ward {ward!r}: only clinical staff on that "
                                   "ward may")
            return service.check_use(assessment, self.store, self.pack)
        return assessment, service.assess(assessment, self.pack)

    def assess(self, assessment: service.AnyAssessment) -> DecisionRecord:
        return self.decide(assessment)[1]

    # --- records --------------------------------------------------------------------------

    def read(self, ref: str) -> RecordView:
        """A record this person may see, without recording a view (for redisplaying one they
        opened)."""
        view = self.store.get(ref)
        self.actor.require(f"read_{view.row.context}", view.row.ward)
        return view

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

    def history(self, ref: str) -> tuple[list[Any], list[Any]]:
        """A record's versions and audit events, if this person may see the record."""
        view = self.read(ref)
        return self.store.history(view.row.id)

    def due(self, within_days: int) -> list[tuple[RecordView, str]]:
        """Reviews due, overdue or flagged, among the records this person may see."""
        return [(v, why) for v, why in self.store.due(within_days)
                if self.actor.may(f"read_{v.row.context}", v.row.ward)]

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

    def verify(self) -> Verification:
        self.actor.require("verify")
        return self.store.verify()

    def reevaluate(self, pack: RulePack | None = None) -> service.Report:
        self.actor.require("reevaluate")
        return service.reevaluate_all(self.actor.name, self.actor.role.value, self.store,
                                      pack or self.pack)

    # --- exports --------------------------------------------------------------------------

    def export(self, ref: str, kind: str, audit: bool = True) -> tuple[bytes, str]:
        """An export; with audit=False it is only prepared (a web download button), and the
        caller records the export when the file is taken (`record_export`)."""
        view = self.read(ref)
        self.actor.require(f"export_{view.row.context}", view.row.ward)
        return service.export_stored(view.row.id, kind, self.actor.name, self.actor.role.value,
                                     self.store, audit=audit)

    def record_export(self, ref: str, kind: str) -> None:
        """An export prepared earlier (audit=False) is taken: the audit event names the person."""
        view = self.read(ref)
        self.actor.require(f"export_{view.row.context}", view.row.ward)
        self.store.record_export(view.row.id, self.actor.name, self.actor.role.value, kind)

    def export_unsaved(self, assessment: service.AnyAssessment, record: DecisionRecord,
                       kind: str) -> tuple[bytes, str]:
        """A decision not stored yet, as a file (nothing stored, so nothing to audit)."""
        ward = getattr(getattr(assessment, "patient", None), "ward", None)
        self.actor.require(f"export_{assessment.context}", ward)
        return (service.render_export(record, kind, None, assessment.model_dump(mode="json")),
                f"dtpa-decision{service.EXPORT_KINDS[kind]}")

    def bundle(self, title: str, views: list[RecordView] | None = None,
               progress: Callable[[int, int], None] | None = None,
               **filters: Any) -> tuple[bytes, str]:
        """A bundle of the records this person may export (a panel member's never holds a
        patient's record)."""
        views = [v for v in (views if views is not None else self.records(**filters))
                 if self.actor.may(f"export_{v.row.context}", v.row.ward)]
        if not views:
            raise AccessDenied(f"{self.actor.name} has no records they may export here")
        return service.export_bundle(views, title, self.actor.name, self.actor.role.value,
                                     self.store, progress)

    # --- accounts -------------------------------------------------------------------------

    def add_user(self, username: str, name: str, role: str, wards: list[str], password: str) -> None:
        self.actor.require("manage_users")
        self.store.add_user(username, name, role, wards, password,
                            by=(self.actor.name, self.actor.role.value))

    def users(self) -> list[Any]:
        self.actor.require("manage_users")
        return self.store.users()

    # --- case studies (the library: no patient's record, open to everyone signed in) ------

    def case_studies(self, context: str | None = None) -> dict[str, CaseStudy]:
        return case_library.case_studies(context)

    def case_study(self, name: str) -> CaseStudy:
        return case_library.case_study(name)

    def case_study_story(self, name: str) -> str:
        return case_library.case_study_story(name)

    def run_case_study(self, name: str) -> tuple[CaseStudy, DecisionRecord]:
        """A case study decided exactly as written (its own product facts, as the golden tests
        and seeding decide it), to compare with what it expects."""
        study = case_library.case_study(name)
        return study, service.assess(study.assessment, self.pack)

    # --- drafts ---------------------------------------------------------------------------
    # A product draft is the panel's shared work: everyone who may save product decisions sees
    # and continues it. A patient draft is its author's alone, shown only while they work on the
    # patient's ward, and stored under their username so no one else's name can collide with it.

    def save_draft(self, name: str, context: str, data: dict[str, Any]) -> None:
        if context not in CONTEXTS:
            raise InputInvalid(f"a draft is for one of {', '.join(CONTEXTS)}, not {context!r}")
        if context == "procurement":
            self.actor.require("save_procurement")
        elif not self._may_draft_for(ward := _draft_ward(data)):
            raise AccessDenied(f"{self.actor.name} ({self.actor.role.value}) may not save a "
                               "patient's draft " + (f"on ward {ward!r}" if ward else
                                                     "(clinical staff on the patient's ward only)"))
        key = self._draft_key(name, context)
        try:
            existing = self.store.draft(key)
        except RecordNotFound:
            existing = None
        if existing is not None and (existing.context != context or not self._sees(existing)):
            raise StoreConflict(f"a draft called {name.strip()!r} already exists and is not yours "
                                "to replace; choose another name")
        self.store.save_draft(key, context, data, self.actor.username)

    def drafts(self, context: str | None = None) -> list[Draft]:
        """The drafts this person may continue, newest first."""
        return [self._draft(row) for row in self.store.drafts(context) if self._sees(row)]

    def draft(self, name: str, context: str) -> Draft:
        """One draft by the name its author gave it; one they may not see is not found."""
        try:
            row = self.store.draft(self._draft_key(name, context))
        except RecordNotFound:
            row = None
        if row is None or row.context != context or not self._sees(row):
            raise RecordNotFound(f"no draft called {name.strip()!r}")
        return self._draft(row)

    def _draft_key(self, name: str, context: str) -> str:
        name = (name or "").strip()
        return f"{self.actor.username}:{name}" if context == "individual_use" and name else name

    def _may_draft_for(self, ward: str | None) -> bool:
        if ward is None:  # not filled in yet: a person who checks patients on some ward
            return self.checks_patients
        return self.actor.may("save_individual_use", ward)

    def _sees(self, row: Any) -> bool:
        if row.context == "procurement":
            return self.actor.may("save_procurement")
        return (row.context == "individual_use" and row.saved_by == self.actor.username
                and row.name.startswith(f"{self.actor.username}:")
                and self._may_draft_for(_draft_ward(row.data)))

    def _draft(self, row: Any) -> Draft:
        name = row.name.removeprefix(f"{self.actor.username}:") if row.context == "individual_use" \
            else row.name
        return Draft(name, row.context, row.data, row.saved_at, row.saved_by)

    def reevaluate_all(self, pack: RulePack | None = None, progress: Any = None,
                       workers: int = 1) -> service.Report:
        """`reevaluate` with a progress callback and worker processes (the command line)."""
        self.actor.require("reevaluate")
        return service.reevaluate_all(self.actor.name, self.actor.role.value, self.store,
                                      pack or self.pack, progress, workers)


def _draft_ward(data: Any) -> str | None:
    patient = data.get("patient") if isinstance(data, dict) else None
    ward = patient.get("ward") if isinstance(patient, dict) else None
    return ward.strip() if isinstance(ward, str) and ward.strip() else None

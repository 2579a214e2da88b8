"""DTPA as one signed-in person: every action checks the person's role (and, for patient
records, their wards) before it reads or writes anything, then calls `engine.service`.

Signing in (a local password, an identity provider's account, or the first administrator of an
empty store) is how an `Access` is made; the web pages act through nothing else. Password
sign-ins are counted per account name and per client (`client`: the browser's address, or the
operating-system user and host) and locked after too many failures (engine/store/guard.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from engine import service
from engine.decide.wording import role_words, roles_words
from engine.errors import AccessDenied, InputInvalid, IntegrityFailure, RecordNotFound, StoreConflict
from engine.knowledge.pack import RulePack
from engine.models.case_study import CaseStudy
from engine.models.people import (
    ALLOWED,
    CLINICAL,
    GOVERNANCE,
    PATIENT_ACCESS,
    Actor,
    Decision,
    known_role,
    new_account,
    new_wards,
    visible,
)
from engine.models.printable import check_text, check_texts
from engine.models.record import Condition, DecisionRecord
from engine.models.vocab import Role
from engine.service import case_library, retention, worklist
from engine.service.linking import wards_covered
from engine.settings import settings
from engine.store import RecordView, Store
from engine.store.audit import utc_now
from engine.store.bootstrap import WrongSetupToken, add_first_administrator, setup_token_pending
from engine.store.column_checks import PrivilegedChange
from engine.store.governance import MIN_REASON, no_longer_needs
from engine.store.grants import Grant
from engine.store.tables import UserRow

CONTEXTS = ("procurement", "individual_use")


def idle_seconds() -> float:
    """How long a web session may go without interaction before it is signed out
    (DTPA_IDLE_MINUTES, default 30)."""
    return settings().idle_minutes * 60.0


@dataclass(frozen=True)
class Draft:
    """An unfinished assessment as its author sees it (not a decision: no versions, no audit)."""

    name: str
    context: str
    data: dict[str, Any]
    saved_at: str
    saved_by: str


@dataclass(frozen=True)
class Waiting:
    """What waits for one person: sign-offs awaited from them, conditions their role owns that
    fall due, and reviews due, overdue or flagged, among the records they may see."""

    awaiting: list[RecordView]
    conditions: list[tuple[RecordView, Condition]]
    due: list[tuple[RecordView, str]]


class Access:
    def __init__(self, actor: Actor, store: Store | None = None, pack: RulePack | None = None,
                 signed_in_at: str | None = None):
        self.actor = actor
        self.store = store or service.open_store(pack=pack)
        self.pack = pack
        self.signed_in_at = signed_in_at or utc_now()  # sessions_from ends sessions older
        # An account whose role, wards or active flag was changed outside DTPA (it disagrees
        # with its audit trail) cannot act: IntegrityFailure (column_checks.py).
        self.store.check_account(actor.username)

    # --- signing in -----------------------------------------------------------------------

    @classmethod
    def sign_in(cls, username: str, password: str, store: Store | None = None,
                pack: RulePack | None = None, *, client: str | None = None,
                now: dt.datetime | None = None) -> Access:
        """A local account; a wrong password and an unknown name get the same refusal, and
        a locked name or client is refused before the password is checked."""
        store = store or service.open_store(pack=pack)
        return cls(store.authenticate(username.strip(), password, client, now), store, pack)

    @classmethod
    def for_account(cls, issuer: str, subject: str, store: Store | None = None,
                    pack: RulePack | None = None) -> Access:
        """The person an identity provider has signed in (OpenID Connect), by the DTPA account
        an administrator linked to that provider's account: issuer and subject together, as the
        ID token says them, never the e-mail address (`link_identity`)."""
        store = store or service.open_store(pack=pack)
        return cls(store.by_identity(issuer, subject), store, pack)

    @classmethod
    def resume(cls, username: str, signed_in_at: str | None, store: Store | None = None,
               pack: RulePack | None = None) -> Access:
        """A web session going on: the person as their account says now (a changed role or
        wards apply at once); NotSignedIn once the account is deactivated or an administrator
        ended its sessions (a password reset) after `signed_in_at`."""
        store = store or service.open_store(pack=pack)
        return cls(store.signed_in(username, signed_in_at), store, pack, signed_in_at)

    @staticmethod
    def needs_first_administrator(store: Store | None = None) -> bool:
        return not (store or service.open_store()).users()

    @staticmethod
    def setup_token_pending(store: Store | None = None) -> bool:
        """Whether the web may offer the first-administrator form: a setup token from
        `dtpa setup-token` is waiting to be used."""
        return setup_token_pending(store or service.open_store())

    @classmethod
    def first_administrator(cls, username: str, name: str, password: str, via: str,
                            store: Store | None = None, pack: RulePack | None = None, *,
                            setup_token: str, client: str | None = None) -> Access:
        """Create the first account of an empty store with the one-time setup token the
        operator was given, and sign in as it. Refused once any account exists, or with a wrong,
        used or expired token (counted against the client, like a wrong password); the audit
        event says it was the bootstrap, `via` where it came from and which token."""
        store = store or service.open_store(pack=pack)
        store.check_client(client)
        username, name = new_account(username.strip(), name)
        try:
            add_first_administrator(store, username, name, password,
                                    {"via": via, "client": client}, setup_token=setup_token)
        except WrongSetupToken:
            store.failed_client("setup token", client)
            raise
        return cls.sign_in(username, password, store, pack, client=client)

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
        view = self.store.get(ref, flagged=True)  # access reads the sealed context and ward
        self.actor.require(f"read_{view.row.context}", view.row.ward)
        return self._intact(view)

    def _intact(self, view: RecordView) -> RecordView:
        """A record that failed its integrity check is refused, except to governance (DPO,
        auditor), who see it flagged to investigate it."""
        if view.integrity and self.actor.role not in GOVERNANCE:
            raise IntegrityFailure(f"record {view.row.id} failed its integrity check and is not "
                                   "used")
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
        return self.store.get(view.row.id, viewer=(self.actor.name, self.actor.role.value),
                              flagged=self.actor.role in GOVERNANCE)

    def records(self, **filters: Any) -> list[RecordView]:
        return visible(self.actor, self.store.latest(**filters))

    def select(self, product: str | None = None, ward: str | None = None,
               since: dt.date | None = None, until: dt.date | None = None) -> list[RecordView]:
        """The records this person may see, for a product, a ward or a period (a bundle)."""
        return visible(self.actor, service.select_records(self.store, product, ward, since, until))

    def history(self, ref: str) -> tuple[list[Any], list[Any]]:
        """A record's versions and audit events, if this person may see the record."""
        view = self.read(ref)
        return self.store.history(view.row.id)

    def due(self, within_days: int, among: list[RecordView] | None = None
            ) -> list[tuple[RecordView, str]]:
        """Reviews due, overdue or flagged, among the records this person may see (or `among`
        those of them already read, so a page does not read them again)."""
        return self.store.due(within_days, views=self.records() if among is None else among)

    # --- what this person can use, and what waits for them (worklist.py) ------------------

    def may_use(self, task: str) -> bool:
        """Whether a front end offers this person a task (one of `worklist.TASKS`)."""
        return worklist.unavailable(self.actor, task) is None

    def unavailable(self, task: str) -> str | None:
        """Why this person cannot use a task, in words (None: they can)."""
        return worklist.unavailable(self.actor, task)

    def waiting(self, condition_days: int, review_days: int) -> Waiting:
        """Everything that waits for this person (the home page), from one read of the records
        they may see: each record is read and checked once, not once a list (1,000 records took
        3.8 s read three times)."""
        seen = self.records()
        return Waiting(worklist.awaiting_signoff(self.actor, self.store.role_rules, seen),
                       worklist.conditions_due(self.actor, seen, condition_days),
                       self.store.due(review_days, views=seen))

    def awaiting_my_signoff(self) -> list[RecordView]:
        """Records awaiting the sign-off the local profile needs from this person's role, that
        they may sign and have not signed."""
        return worklist.awaiting_signoff(self.actor, self.store.role_rules, self.records())

    def conditions_due(self, within_days: int) -> list[tuple[RecordView, Condition]]:
        """Conditions this person's role owns, due within the window or overdue, on records in
        force they may see."""
        return worklist.conditions_due(self.actor, self.records(), within_days)

    def sign(self, ref: str, attestations: Iterable[str], comment: str | None = None) -> RecordView:
        view = self._decides("sign", ref)
        if comment is not None:
            comment = check_text(comment, "Sign-off comment", multi_line=True)
        return self.store.sign(view.row.id, self.actor.name, self.actor.role.value, attestations,
                               comment, username=self.actor.username)

    def override(self, ref: str, target: str, value: str, reason: str) -> RecordView:
        """Depart from the engine; the reason is checked (printable words) by the role rules
        the store applies before it writes (`RoleRules.check_reason`)."""
        view = self._decides("override", ref)
        return self.store.override(view.row.id, target, value, self.actor.name,
                                   self.actor.role.value, reason, username=self.actor.username)

    @property
    def reason_words(self) -> int:
        """The words an override's reason needs at least (the local profile's)."""
        return self.store.role_rules.min_reason_words

    # --- what the decision page offers: asked before a form is shown (issue 13) -----------
    # Each answer comes from the checks `sign`, `override` and `save` make (`_decides`, the
    # profile's role rules, the store's one-sign-off-each rule), so a front end never offers a
    # form the service would refuse, and says why instead.

    def may_sign(self, view: RecordView) -> tuple[bool, str]:
        """Whether this person may sign the record now and it still needs them; if not, why."""
        if view.superseded_by or view.integrity or retention.erased(view):
            return False, f"No one signs this record: it is {view.status}."
        if not view.missing_roles:  # the store's rule (no_longer_needs), in the page's words
            return False, "Approved: every sign-off this record needs is recorded."
        refused = self._refusal("sign", view)
        if refused:
            return False, refused
        said = " ".join(self.actor.name.split()).casefold()
        signed = any(" ".join(s.name.split()).casefold() == said for s in view.signoffs) or any(
            e.action == "signed" and e.detail.get("username") == self.actor.username
            for e in self.store.history(view.row.id)[1])
        if signed:
            return False, "You have signed this record already: one person signs a record once."
        if no_longer_needs(view, self.actor.role.value):
            return False, (f"This record has its {role_words(self.actor.role)} sign-off already: "
                           f"still to sign: {roles_words(view.missing_roles)}.")
        return True, ""

    def may_override(self, view: RecordView) -> tuple[bool, str]:
        """Whether this person may depart from the engine on this record; if not, why."""
        if view.superseded_by or view.integrity or retention.erased(view):
            return False, f"No one overrides this record: it is {view.status}."
        refused = self._refusal("override", view)
        return (False, refused) if refused else (True, "")

    def _refusal(self, action: Decision, view: RecordView) -> str:
        """"" when `_decides` lets this person sign (or override) the record; else why, in words."""
        try:
            self._decides(action, view.row.id)
        except AccessDenied:
            allowed = sorted(self.store.role_rules.roles(action, view.row.context), key=list(Role).index)
            kind = "a product decision" if view.row.context == "procurement" else "a patient's record"
            if self.store.role_rules.may(action, self.actor.role, view.row.context) and \
                    self.actor.role in CLINICAL:
                return (f"Only clinical staff on {view.row.ward} may {action} this patient's record, "
                        "and that is not one of your wards.")
            return (f"A {role_words(self.actor.role)} does not {action} {kind}: the local profile "
                    f"asks {roles_words(allowed) or 'no role'} to.")
        return ""

    def check_override_reason(self, reason: str) -> str:
        """The reason, as `override` will accept it (the profile's words rule and the store's
        minimum length), or InputInvalid saying what it lacks: checked before the confirmation."""
        text = self.store.role_rules.check_reason(reason)
        if len(text) < MIN_REASON:
            raise InputInvalid(f"an override needs a reason of at least {MIN_REASON} characters")
        return text

    def may_save(self, record: DecisionRecord) -> tuple[bool, str]:
        """Whether this person may save the decision (the check `save` makes); if not, why."""
        ward = record.subject.ward if record.record_type == "individual_use" else None
        if self.actor.may(f"save_{record.record_type}", ward):
            return True, ""
        if record.record_type == "individual_use" and self.actor.role in CLINICAL:
            return False, (f"Only clinical staff on {ward or 'the patient’s ward'} save a check for a "
                           "patient there, and that is not one of your wards.")
        allowed = sorted(ALLOWED[f"save_{record.record_type}"], key=list(Role).index)
        kind = "product decisions" if record.record_type == "procurement" else "checks for a patient"
        return False, (f"A {role_words(self.actor.role)} does not save {kind}: "
                       f"{roles_words(allowed)} do.")

    def signers_needed(self, context: str) -> list[str]:
        """The roles the local profile asks to sign a record of this context."""
        return service.api.signoff_roles(self.pack or service.default_pack())(context)

    def current_record_for(self, record: DecisionRecord) -> RecordView | None:
        """The current stored record of the same subject, one this person may see and save a new
        version of: the record a new save of `record` should supersede rather than sit beside.
        For a patient, the same patient reference and product decision; for a product, the same
        product and version."""
        subject = record.subject

        def same(a: str | None, b: str | None) -> bool:
            return " ".join((a or "").split()).casefold() == " ".join((b or "").split()).casefold()

        def key(ref: str | None) -> str:
            return (ref or "").partition("@")[0]

        for view in reversed(self.records(context=record.record_type)):
            row = view.row
            if view.superseded_by or view.integrity or retention.erased(view) or \
                    not self.actor.may(f"save_{row.context}", row.ward):
                continue
            if record.record_type == "individual_use":
                found = bool(subject.patient_reference) and same(
                    row.patient_reference, subject.patient_reference) and (
                    key(row.relies_on) == key(record.relies_on) if row.relies_on and record.relies_on
                    else same(row.product, subject.product))
            else:
                found = same(row.product, subject.product) and same(row.product_version,
                                                                    subject.version)
            if found:
                return view
        return None

    def _decides(self, action: Decision, ref: str) -> RecordView:
        """The record, if this person may sign (or override) it: a role the profile names for
        records of its context and, for a patient's record, clinical staff only on the
        patient's ward (the store checks the role and one sign-off per person too)."""
        view = self.read(ref)
        self.actor.require(action)
        self.store.role_rules.require(action, self.actor.role, view.row.context)
        if view.row.context == "individual_use" and self.actor.role in CLINICAL and \
                not self.actor.may("save_individual_use", view.row.ward):
            raise AccessDenied(f"{self.actor.name} ({self.actor.role.value}) may not {action} a "
                               "patient's record on a ward they do not work on")
        return view

    def verify(self) -> retention.Verification:
        """The audit check; erasures under the retention rule and restores after erasure are
        reported apart from tampering."""
        self.actor.require("verify")
        return self.store.verify()

    def erase_expired(self, dry_run: bool = False) -> retention.ErasureRun:
        """Erase the patient payloads whose retention period (the profile's) has passed; a DPO
        or an administrator, each erasure an audit event naming them."""
        self.actor.require("erase_expired")
        return retention.erase_expired(self.actor.name, self.actor.role.value, self.store,
                                       self.pack, dry_run)

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
                 if self.actor.may(f"export_{v.row.context}", v.row.ward)
                 and not retention.erased(v)]  # an erased record has no decision to bundle
        if not views:
            raise AccessDenied(f"{self.actor.name} has no records they may export here")
        title = check_text(title, "Bundle title")
        return service.export_bundle(views, title, self.actor.name, self.actor.role.value,
                                     self.store, progress)

    # --- accounts -------------------------------------------------------------------------

    def add_user(self, username: str, name: str, role: str, wards: list[str],
                 password: str) -> Grant | None:
        """A new account (audited). One that can open patient records waits, inactive, for a
        second administrator's approval where the profile asks for it: the pending grant."""
        by = self._administrator()
        username, name = new_account(username, name)
        wards = new_wards(wards)
        if self._needs_approval(role):
            return self.store.add_pending_account(username, name, role, wards, password, self.actor)
        self.store.add_user(username, name, role, wards, password, by=by)
        return None

    def users(self) -> list[Any]:
        self.actor.require("manage_users")
        return self.store.users()

    def _administrator(self) -> tuple[str, str]:
        self.actor.require("manage_users")
        return self.actor.name, self.actor.role.value

    def deactivate(self, username: str) -> None:
        """The account can no longer sign in; its web sessions end and its tokens are revoked."""
        by = self._administrator()
        if username == self.actor.username:
            raise InputInvalid("you cannot deactivate your own account: ask another administrator")
        self.store.deactivate(username, by)

    def reactivate(self, username: str) -> None:
        """The account may sign in again; one that can open patient records waits for a second
        administrator's approval where the profile asks for it (`pending_grant`)."""
        by = self._administrator()
        account = self._account(username)
        if self._needs_approval(account.role):
            self.store.request_grant(username, "reactivation", self.actor)
            return
        self.store.reactivate(username, by)

    def change_role(self, username: str, role: str) -> str:
        """Another role for the account; the role it had. A role that can open patient records
        waits for a second administrator's approval where the profile asks for it: the account
        keeps the role it had until then (`pending_grant`)."""
        by = self._administrator()
        account = self._account(username)
        if self._needs_approval(role):
            self.store.request_grant(username, "role", self.actor, role=known_role(role).value)
            return account.role
        return self.store.change_role(username, role, by)

    def set_wards(self, username: str, wards: list[str]) -> list[str]:
        """The wards the account works on; the wards it had. New wards for clinical staff (their
        patients' records) wait for a second administrator's approval where the profile asks
        for it; removing wards applies at once."""
        by = self._administrator()
        wards = new_wards(wards)
        account = self._account(username)
        added = {w.strip().casefold() for w in wards if w and w.strip()} - \
            {w.casefold() for w in account.wards}
        if added and known_role(account.role) in CLINICAL and self._needs_approval(account.role):
            self.store.request_grant(username, "wards", self.actor,
                                     wards=[w.strip() for w in wards if w and w.strip()])
            return list(account.wards)
        return self.store.set_wards(username, wards, by)

    # --- a second administrator's approval of patient access (store/grants.py) -----------

    def _needs_approval(self, role: str) -> bool:
        return self.store.role_rules.second_approval_for_patient_access and \
            known_role(role) in PATIENT_ACCESS

    def _account(self, username: str) -> UserRow:
        self._no_pending(username)
        found = next((u for u in self.store.users() if u.username == username), None)
        if found is None:
            raise RecordNotFound(f"no account {username!r}")
        return found

    def _no_pending(self, username: str) -> None:
        pending = self.pending_grant(username)
        if pending is not None:
            raise StoreConflict(f"{username} has a grant waiting for a second administrator "
                                f"({pending}); approve or refuse it first")

    def pending_grants(self) -> list[Grant]:
        self.actor.require("manage_users")
        return self.store.pending_grants()

    def pending_grant(self, username: str) -> Grant | None:
        """The grant of patient access waiting for approval for this account, if any."""
        return next((g for g in self.pending_grants() if g.username == username), None)

    def approve_grant(self, grant_id: str) -> Grant:
        """Approve another administrator's grant (never one's own, nor one for oneself)."""
        self._administrator()
        return self.store.approve_grant(grant_id, self.actor)

    def refuse_grant(self, grant_id: str, reason: str | None = None) -> Grant:
        """Refuse a pending grant (or withdraw one's own): nothing changes."""
        self._administrator()
        if reason is not None:
            reason = check_text(reason, "Reason for refusing", multi_line=True)
        return self.store.refuse_grant(grant_id, self.actor, reason)

    def privileged_changes(self) -> list[PrivilegedChange]:
        """Every change to an account, oldest first: the report `audit verify` prints."""
        self.actor.require("verify")
        return self.store.privileged_changes()

    def reset_password(self, username: str, password: str) -> None:
        """A new password for the account (the policy applies); its sessions end and its tokens
        are revoked."""
        self.store.reset_password(username, password, self._administrator())

    def link_identity(self, username: str, issuer: str | None, subject: str | None) -> None:
        """Link the account to an identity provider's account (issuer and subject), or unlink
        it (both None)."""
        by = self._administrator()
        issuer = None if issuer is None else check_text(issuer, "Issuer")
        subject = None if subject is None else check_text(subject, "Subject")
        self.store.link_identity(username, issuer, subject, by)

    # --- case studies (the library: no patient's record, open to everyone signed in) ------

    # On the web a case study is assessed today (its dates moved, their intervals kept), so a
    # review meant to be ahead is ahead; it decides as the file does (tests/test_dates.py).

    def case_studies(self, context: str | None = None) -> dict[str, CaseStudy]:
        return {name: case_library.moved_to_today(study)
                for name, study in case_library.case_studies(context).items()}

    def case_study(self, name: str) -> CaseStudy:
        return case_library.moved_to_today(case_library.case_study(name))

    def case_study_story(self, name: str) -> str:
        return case_library.case_study_story(name)

    def run_case_study(self, name: str) -> tuple[CaseStudy, DecisionRecord]:
        """A case study decided as the golden tests decide it (its own product facts), assessed
        today, to compare with what it expects."""
        study = self.case_study(name)
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
        check_text(name or "", "Draft name")
        check_texts(data, "Draft answer")
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
        """The drafts this person may continue, newest first. A patient's draft older than the
        profile's `patient_draft_hours` is deleted, whoever wrote it: it holds a patient's
        details, kept no longer than the unfinished work needs."""
        rows = self.store.drafts(context)
        expired = [row.name for row in rows if self._expired(row)]
        self.store.delete_drafts(expired)
        return [self._draft(row) for row in rows if row.name not in expired and self._sees(row)]

    def discard_draft(self, name: str, context: str) -> None:
        """Delete one of the drafts this person may continue (e.g. answers saved automatically,
        when they start again); one they may not see is not found."""
        self.draft(name, context)
        self.store.delete_drafts([self._draft_key(name, context)])

    def product_choices(self) -> tuple[list[RecordView], list[tuple[RecordView, list[str]]]]:
        """The product decisions this person may rely on for a patient: approved, current and
        covering one of their wards; and every other product decision with why it is not offered."""
        usable: list[RecordView] = []
        refused: list[tuple[RecordView, list[str]]] = []
        for view in self.records(context="procurement"):
            reasons = service.product_unusable(view)
            if not wards_covered(view, self.actor.wards):
                reasons.append("it does not cover " + ("your wards" if self.actor.wards else
                                                       "any ward of yours (you have none)"))
            (refused.append((view, reasons)) if reasons else usable.append(view))
        return usable, refused

    def draft(self, name: str, context: str) -> Draft:
        """One draft by the name its author gave it; one they may not see is not found."""
        try:
            row = self.store.draft(self._draft_key(name, context))
        except RecordNotFound:
            row = None
        if row is None or row.context != context or not self._sees(row) or self._expired(row):
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

    def _expired(self, row: Any) -> bool:
        if row.context != "individual_use":
            return False  # a product draft is the panel's shared work: it does not expire
        hours = (self.pack or service.default_pack()).profile.patient_draft_hours
        try:
            saved = dt.datetime.fromisoformat(str(row.saved_at).replace("Z", "+00:00"))
        except ValueError:
            return True  # no time it was saved: treated as expired, never kept for ever
        if saved.tzinfo is None:
            saved = saved.replace(tzinfo=dt.UTC)
        return dt.datetime.now(dt.UTC) - saved > dt.timedelta(hours=hours)

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

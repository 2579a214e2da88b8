"""Who may do what. Roles are enforced here, in the engine, for every front end: the web app and
the command line call DTPA as a person (`Access`), and what their role or ward does not allow is
refused with AccessDenied before anything is read or written.

Groups of roles: panel members (procurement), clinical staff (scoped to their wards), governance
(DPO and auditors) and administrators. Patient (individual-use) records are visible to clinical
staff on that ward and to governance; procurement exports never carry patient details.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from engine.errors import AccessDenied, InputInvalid
from engine.models.printable import check_text
from engine.models.vocab import Role

PANEL = {Role.panel_chair, Role.clinical_safety_officer, Role.lived_experience_representative,
         Role.chief_nursing_information_officer, Role.estates_it_lead}
CLINICAL = {Role.clinician, Role.nurse_in_charge}
GOVERNANCE = {Role.dpo, Role.auditor}
ADMIN = {Role.administrator}

# action -> roles allowed (patient-record actions are further limited to the person's wards)
ALLOWED: dict[str, set[Role]] = {
    "save_procurement": PANEL | {Role.dpo},
    "save_individual_use": CLINICAL,
    "sign": PANEL | CLINICAL | {Role.dpo},
    "override": {Role.panel_chair, Role.clinical_safety_officer, Role.dpo} | CLINICAL,
    "read_procurement": PANEL | CLINICAL | GOVERNANCE | ADMIN,
    "read_individual_use": CLINICAL | GOVERNANCE,
    "export_procurement": PANEL | GOVERNANCE,
    "export_individual_use": CLINICAL | GOVERNANCE,
    "verify": GOVERNANCE | ADMIN,
    "reevaluate": GOVERNANCE | ADMIN,
    "erase_expired": {Role.dpo} | ADMIN,  # the retention rule (engine/store/retention.py)
    "manage_users": ADMIN,
}

# Roles that can open a patient's (individual-use) record: granting one is a privileged change,
# audited, and approved by a second administrator where the profile asks for it.
PATIENT_ACCESS = frozenset(ALLOWED["read_individual_use"])
# Who never signs or overrides a decision: the people who run accounts and audit the records.
NEVER_DECIDE = frozenset({Role.administrator, Role.auditor})


def known_role(role: str | Role) -> Role:
    """The role, or InputInvalid naming every valid one: no action is stored under a role DTPA
    does not know (the store checks too, whoever calls it)."""
    try:
        return Role(role)
    except ValueError:
        raise InputInvalid(f"unknown role {role!r}; use one of "
                           + ", ".join(r.value for r in Role)) from None


def require_name(name: str) -> str:
    """A person's name as it will stand in the audit trail (at least two characters)."""
    if not name or len(name.strip()) < 2:
        raise InputInvalid("a named person is required (at least two characters)")
    return name


# --- what an administrator types about an account (checked as new input, never when read) ------

def new_account(username: str, name: str) -> tuple[str, str]:
    """The username and full name typed for a new account, each one line of printable text
    (printable.py); the name as `require_name` asks."""
    return check_text(username, "Username"), check_text(require_name(name), "Full name")


def new_wards(wards: Iterable[str]) -> list[str]:
    """The ward names typed for an account, each one line of printable text (`Ward 2: ...` names
    the one refused)."""
    wards = list(wards)
    return [check_text(w, f"Ward {i}" if len(wards) > 1 else "Ward")
            for i, w in enumerate(wards, 1)]


class Actor(BaseModel):
    """A signed-in person."""

    username: str
    name: str
    role: Role
    wards: list[str] = Field(default_factory=list)

    def may(self, action: str, ward: str | None = None) -> bool:
        if self.role not in ALLOWED[action]:
            return False
        if action.endswith("individual_use") and self.role in CLINICAL:
            return ward is not None and ward.casefold() in {w.casefold() for w in self.wards}
        return True

    def require(self, action: str, ward: str | None = None) -> None:
        if not self.may(action, ward):
            where = f" on ward {ward!r}" if ward and self.role in CLINICAL else ""
            raise AccessDenied(f"{self.name} ({self.role.value}) may not {action.replace('_', ' ')}"
                               f"{where}")


def visible(actor: Actor, views: Iterable[Any]) -> list[Any]:
    """The records a person may see: patient records only on their wards, or for governance.
    A record that failed its integrity check (its columns disagree with its sealed record, or
    its bytes with the hash its "created" event recorded) is shown only to governance, flagged."""
    return [v for v in views if actor.may(f"read_{v.row.context}", v.row.ward)
            and (not getattr(v, "integrity", None) or actor.role in GOVERNANCE)]


# --- who signs and overrides a stored decision, by its context (the local profile) ------------

Decision = Literal["sign", "override"]
_WORD = re.compile(r"[^\W\d_]{2,}")  # a word: two or more letters (any alphabet)


@dataclass(frozen=True)
class RoleRules:
    """Who may sign and who may override a stored decision of each context, from the local
    profile (`Profile.role_rules`). A product decision: only the roles named. An individual
    use: the roles named, clinical staff among them only on the patient's ward (Access checks
    the ward; the store checks the role). An override's reason must be words."""

    sign: Mapping[str, frozenset[Role]] = field(default_factory=lambda: {
        "procurement": frozenset(PANEL | {Role.dpo}), "individual_use": frozenset(CLINICAL)})
    override: Mapping[str, frozenset[Role]] = field(default_factory=lambda: {
        "procurement": frozenset({Role.panel_chair, Role.clinical_safety_officer, Role.dpo}),
        "individual_use": frozenset(CLINICAL)})
    min_reason_words: int = 5
    second_approval_for_patient_access: bool = False

    def roles(self, action: Decision, context: str) -> frozenset[Role]:
        table = self.sign if action == "sign" else self.override
        return table.get(context, frozenset())

    def may(self, action: Decision, role: str | Role, context: str) -> bool:
        return known_role(role) in self.roles(action, context)

    def require(self, action: Decision, role: str | Role, context: str) -> None:
        """AccessDenied unless the profile lets this role sign (or override) a decision of
        this context, naming the roles that may."""
        if self.may(action, role, context):
            return
        kind = "product decision" if context == "procurement" else "patient's individual-use record"
        allowed = sorted(r.value for r in self.roles(action, context))
        raise AccessDenied(f"a {known_role(role).value} may not {action} a {kind}: the local "
                           f"profile lets only {', '.join(allowed) or 'no role'} {action} one")

    def check_reason(self, reason: str | None) -> str:
        """The reason, stripped, if it is printable text (line breaks and tabs allowed, CR LF
        becomes LF: printable.py) in words: at least `min_reason_words` words of two or more
        letters, not one word repeated. Twenty dots, or `x x x x x`, is no reason."""
        text = check_text(reason or "", "Override reason", multi_line=True).strip()
        words = [w.casefold() for w in _WORD.findall(text)]
        distinct = min(3, math.ceil(self.min_reason_words / 2))
        if len(words) < self.min_reason_words or len(set(words)) < distinct:
            raise InputInvalid(f"an override needs a reason in words: at least "
                               f"{self.min_reason_words} words saying why you depart from the "
                               f"engine (found {len(words)})")
        return text

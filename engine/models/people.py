"""Who may do what. Roles are enforced here, in the engine, for every front end: the web app and
the command line call DTPA as a person (`Access`), and what their role or ward does not allow is
refused with AccessDenied before anything is read or written.

Groups of roles: panel members (procurement), clinical staff (scoped to their wards), governance
(DPO and auditors) and administrators. Patient (individual-use) records are visible to clinical
staff on that ward and to governance; procurement exports never carry patient details.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from engine.errors import AccessDenied, InputInvalid
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
    "manage_users": ADMIN,
}


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
    """The records a person may see: patient records only on their wards, or for governance."""
    return [v for v in views if actor.may(f"read_{v.row.context}", v.row.ward)]

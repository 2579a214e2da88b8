"""What a front end offers one person, and what waits for them: the tasks their role can use (a
page they cannot use is not offered, and says why when opened anyway), the records awaiting
their sign-off and the conditions they own that fall due. Everything is decided from the role
rules in engine/models/people.py and the local profile's `RoleRules`; the web pages only ask.
`Access` (session.py) calls these with the signed-in person."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from engine.decide.wording import FAVOURABLE, role_words, roles_words
from engine.errors import InputInvalid
from engine.models.people import ALLOWED, CLINICAL, Actor, RoleRules
from engine.models.record import Condition
from engine.models.vocab import Role
from engine.store import RecordView
from engine.store.tombstones import is_erased

# The tasks a front end offers (the web app has one page for each).
TASKS = ("home", "assess_product", "check_patient", "decision", "records", "rules", "case_studies",
         "accounts")
OPEN_TO_ALL = frozenset({"home", "rules", "case_studies"})  # no record, no patient: everyone


def _roles(action: str) -> str:
    """The roles allowed an action, in words and in the vocabulary's order."""
    return roles_words([r for r in Role if r in ALLOWED[action]])


def unavailable(actor: Actor, task: str) -> str | None:
    """Why this person has no use for a task, in words they can act on (None: they have)."""
    if task not in TASKS:
        raise InputInvalid(f"no task {task!r}; the tasks are {', '.join(TASKS)}")
    you = f"You are signed in as {role_words(actor.role)}"
    reads = actor.may("read_procurement") or actor.role in ALLOWED["read_individual_use"]
    if task in OPEN_TO_ALL:
        return None
    if task == "assess_product":
        if actor.may("save_procurement"):
            return None
        return (f"Assessing a product is for the procurement panel ({_roles('save_procurement')}). "
                f"{you}" + ("; you can read product decisions on the Records and audit page."
                            if reads else "."))
    if task == "check_patient":
        if actor.role not in ALLOWED["save_individual_use"]:
            return (f"Checking a use for a patient is for clinical staff "
                    f"({_roles('save_individual_use')}) on the patient's ward. {you}.")
        if not any(actor.may("save_individual_use", ward) for ward in actor.wards):
            return ("Clinical staff check a use only for patients on the wards they work on, and "
                    "your account lists no ward. Ask an administrator to add your wards.")
        return None
    if task in ("decision", "records"):
        return None if reads else f"Decision records are not open to your role. {you}."
    return None if actor.may("manage_users") else (
        f"Accounts are managed by administrators. {you}.")


def _current(view: RecordView) -> bool:
    """A record still in force: not superseded, not erased, not failing its integrity check."""
    return view.superseded_by is None and not is_erased(view.row) and not view.integrity


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def awaiting_signoff(actor: Actor, rules: RoleRules, views: Iterable[RecordView]
                     ) -> list[RecordView]:
    """The records (among those the person may see) whose sign-off the local profile needs from
    their role, not yet given by anyone in that role nor by this person, and that they may sign:
    a role the profile lets sign records of that context, and for a patient's record clinical
    staff only on the patient's ward. Oldest first (the order the store lists them)."""
    out = []
    for view in views:
        context, role = view.row.context, actor.role.value
        if not _current(view) or role not in view.missing_roles:
            continue
        if not (actor.may("sign") and rules.may("sign", actor.role, context)):
            continue
        if context == "individual_use" and not actor.may("save_individual_use", view.row.ward):
            continue
        if any(_same_name(s.name, actor.name) for s in view.signoffs):
            continue  # one person signs a record once, in one role (the store refuses a second)
        out.append(view)
    return out


def conditions_due(actor: Actor, views: Iterable[RecordView], within_days: int,
                   today: dt.date | None = None) -> list[tuple[RecordView, Condition]]:
    """The conditions this person's role owns, due within the window or overdue, on records in
    force that they may see and whose outcome (after any override) lets the use go ahead: a
    condition of a decision that does not is moot. Clinical staff get those of their own wards'
    patients (a product decision's conditions are the panel's). Soonest first."""
    horizon = (today or dt.date.today()) + dt.timedelta(days=within_days)
    wards = {w.casefold() for w in actor.wards}
    out = [(view, condition) for view in views
           if _current(view) and view.effective_outcome in FAVOURABLE
           and (actor.role not in CLINICAL or (view.row.ward or "").casefold() in wards)
           for condition in view.record.conditions
           if condition.owner == actor.role and condition.due is not None
           and condition.due <= horizon]
    return sorted(out, key=lambda item: (item[1].due or dt.date.max, item[0].row.id))

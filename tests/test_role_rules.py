"""Role rules by context (issue 12, item 3): product decisions are signed and overridden only by
the roles the profile names; individual uses by clinical staff on the patient's ward (and roles
the profile adds); one person fills one role on a record; an override's reason is words; unknown
roles are refused in every layer; granting a role that can open patient records is audited and,
where the profile asks, waits for a second administrator. SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import service
from engine.errors import AccessDenied, InputInvalid, IntegrityFailure, RulesInvalid, StoreConflict
from engine.knowledge.pack import load_pack
from engine.models.people import PATIENT_ACCESS, Actor, RoleRules
from engine.models.vocab import Role
from engine.service.session import Access
from engine.store import Store, audit
from engine.store.bootstrap import add_first_administrator
from engine.store.tables import EventRow
from tests.conftest import ALL_ATTESTATIONS, approve, individual_for, load_case

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
REASON = "Independent evidence arrived after the assessment was made"


def person(role: str, wards: list[str] | None = None, username: str | None = None) -> Actor:
    username = username or role
    return Actor(username=username, name=f"Person {username}", role=role, wards=wards or [])


@pytest.fixture
def world(store):
    """A product decision the engine does not support (a patient on Willow Ward relies on an
    approved one)."""
    product = service.save_assessment(load_case("vbm-ward-wide-default.yaml"), "Dr Ada Obi",
                                      "panel_chair", store)
    other = service.save_assessment(load_case("vbm-individual-decision.yaml"), "Dr Ada Obi",
                                    "panel_chair", store)
    approve(store, other.row.id)
    use = service.save_assessment(individual_for(other.row.key), "Nurse Kim Lee", "clinician", store)
    return {"store": store, "product": product.row.id, "use": use.row.id,
            "outcome": product.record.outcome}


# --- who signs and overrides what -------------------------------------------------------------

@pytest.mark.parametrize("wards", [["Willow Ward"], ["Heron Ward"], []])
def test_a_clinician_on_any_ward_cannot_sign_or_override_a_product_decision(world, wards):
    store, product = world["store"], world["product"]
    assert world["outcome"] == "not_supported"
    clinician = Access(person("clinician", wards), store)
    with pytest.raises(AccessDenied, match="a clinician may not sign a product decision: the "
                                           "local profile lets only clinical_safety_officer, dpo, "
                                           "lived_experience_representative, panel_chair sign one"):
        clinician.sign(product, ALL_ATTESTATIONS)
    with pytest.raises(AccessDenied, match="a clinician may not override a product decision"):
        clinician.override(product, "outcome", "supported", REASON)
    # the store refuses it too, whoever calls it
    with pytest.raises(AccessDenied, match="may not sign a product decision"):
        store.sign(product, "Dr Who", "clinician", ALL_ATTESTATIONS)
    with pytest.raises(AccessDenied, match="may not override a product decision"):
        store.override(product, "outcome", "supported", "Dr Who", "nurse_in_charge", REASON)
    view = store.get(product)
    assert view.signoffs == [] and view.overrides == [] and view.effective_outcome == "not_supported"


def test_only_the_profiles_roles_sign_and_override_a_product_decision(world):
    store, product = world["store"], world["product"]
    with pytest.raises(AccessDenied, match="an? estates_it_lead may not sign"):
        Access(person("estates_it_lead"), store).sign(product, ALL_ATTESTATIONS)
    with pytest.raises(AccessDenied, match="lived_experience_representative.* may not override"):
        Access(person("lived_experience_representative"), store).override(
            product, "P7", "met", REASON)
    Access(person("dpo"), store).sign(product, ALL_ATTESTATIONS)
    view = Access(person("panel_chair"), store).override(product, "P7", "met", REASON)
    assert [o.role for o in view.overrides] == ["panel_chair"]


def test_individual_uses_are_signed_by_clinical_staff_on_that_ward_only(world):
    store, use = world["store"], world["use"]
    with pytest.raises(AccessDenied, match="Willow Ward"):
        Access(person("clinician", ["Heron Ward"]), store).sign(use, ALL_ATTESTATIONS)
    with pytest.raises(AccessDenied, match="a dpo may not sign a patient's individual-use record"):
        Access(person("dpo"), store).sign(use, ALL_ATTESTATIONS)
    with pytest.raises(AccessDenied, match="a panel_chair may not sign a patient's"):
        store.sign(use, "Dr Ada Obi", "panel_chair", ALL_ATTESTATIONS)
    view = Access(person("nurse_in_charge", ["willow ward"]), store).sign(use, ALL_ATTESTATIONS)
    assert [s.role for s in view.signoffs] == ["nurse_in_charge"]
    # a role the profile adds (not scoped to a ward)
    rules = dataclasses.replace(store.role_rules, sign={
        **store.role_rules.sign, "individual_use": frozenset({Role.clinician, Role.dpo})})
    added = Store(store.db, required_roles=store._required, role_rules=rules)
    assert [s.role for s in Access(person("dpo"), added).sign(use, ALL_ATTESTATIONS).signoffs] == \
        ["nurse_in_charge", "dpo"]


def test_one_person_fills_at_most_one_required_role(world, store):
    product = world["product"]
    add_first_administrator(store, "alex.admin", "Alex Admin", PASSWORD, {"via": "test"})
    admin = Access.sign_in("alex.admin", PASSWORD, store)
    admin.add_user("ada", "Dr Ada Obi", "panel_chair", [], PASSWORD)
    Access.sign_in("ada", PASSWORD, store).sign(product, ALL_ATTESTATIONS)
    admin.change_role("ada", "dpo")  # the same account, another required role
    with pytest.raises(StoreConflict, match="the account ada has already signed .*one person signs "
                                            "a record once"):
        Access.sign_in("ada", PASSWORD, store).sign(product, ALL_ATTESTATIONS)
    # the same name in another role (a second account, or a caller naming them) is refused too
    with pytest.raises(StoreConflict, match="(?i)dr  ada obi has already signed .* as panel_chair"):
        store.sign(product, "dr  ada obi", "clinical_safety_officer", ALL_ATTESTATIONS)
    signed = [e for e in _events(store, "signed") if e.record_id == product]
    assert [e.detail.get("username") for e in signed] == ["ada"]
    assert [s.role for s in store.get(product).signoffs] == ["panel_chair"]


@pytest.mark.parametrize("reason", ["." * 20, "....................!!!!!!!!!", "x x x x x x x x x x",
                                    "again again again again again", "12345 67890 12345 67890 111",
                                    "            ", ""])
def test_an_override_reason_must_be_words(world, reason):
    store, product = world["store"], world["product"]
    with pytest.raises(InputInvalid, match="an override needs a reason in words: at least 5 words"):
        Access(person("panel_chair"), store).override(product, "P7", "met", reason)
    with pytest.raises(InputInvalid, match="reason in words"):
        store.override(product, "P7", "met", "Dr Ada Obi", "panel_chair", reason)
    assert store.get(product).overrides == []


def test_the_profile_sets_the_words_a_reason_needs(world):
    store, product = world["store"], world["product"]
    trust = load_pack(profile="example-trust").profile.role_rules()
    assert trust.min_reason_words == 8 and trust.second_approval_for_patient_access
    strict = Store(store.db, required_roles=store._required, role_rules=trust)
    with pytest.raises(InputInvalid, match="at least 8 words"):
        strict.override(product, "P7", "met", "Dr Ada Obi", "panel_chair",
                        "Independent evidence arrived after the assessment was")  # 7 words
    strict.override(product, "P7", "met", "Dr Ada Obi", "panel_chair",
                    "Independent evidence of benefit arrived after the assessment was made")


# --- the profile ------------------------------------------------------------------------------

def test_role_rules_come_from_the_profile_with_sensible_defaults():
    national = load_pack().profile
    rules = national.role_rules()
    assert rules.roles("sign", "procurement") == {Role.panel_chair, Role.dpo,
                                                  Role.clinical_safety_officer,
                                                  Role.lived_experience_representative}
    assert rules.roles("override", "procurement") == {Role.panel_chair,
                                                      Role.clinical_safety_officer, Role.dpo}
    assert rules.roles("sign", "individual_use") == {Role.clinician, Role.nurse_in_charge}
    assert not rules.second_approval_for_patient_access and rules.min_reason_words == 5
    bare = national.model_copy(update={"signoff_roles": {}, "override_roles": {}}).role_rules()
    assert bare.roles("sign", "procurement") == set(national.required_signoff_roles["procurement"])
    assert bare.roles("override", "procurement") == {Role.panel_chair, Role.dpo,
                                                     Role.clinical_safety_officer}
    assert bare.roles("sign", "individual_use") == {Role.clinician, Role.nurse_in_charge}
    assert Role.clinician not in RoleRules().roles("sign", "procurement")


SIGN, OVERRIDE = "\n  signoff_roles:\n    procurement: [", "\n  override_roles:\n    procurement: ["


@pytest.mark.parametrize("change, message", [
    ((SIGN, SIGN + "administrator, "), "a administrator never signs or overrides a decision"),
    ((OVERRIDE, OVERRIDE + "auditor, "), "a auditor never signs or overrides"),
    (("    individual_use: [clinician, nurse_in_charge]\n  override_roles",
      "    individual_use: [clinician, panel_chair]\n  override_roles"),
     "a panel_chair cannot open a patient's record"),
    ((SIGN + "panel_chair, dpo, ", SIGN + "panel_chair, "),
     "required_signoff_roles.procurement names dpo, whom signoff_roles.procurement does not let sign"),
    ((OVERRIDE, OVERRIDE + "superuser, "), "override_roles.procurement.0: Input should be 'panel_chair'"),
    (("min_reason_words: 5", "min_reason_words: 0"), "min_reason_words"),
])
def test_a_profile_with_bad_role_rules_is_refused(tmp_path, change, message):
    text = (ROOT / "rules" / "profiles" / "national-default.yaml").read_text()
    assert change[0] in text
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(change[0], change[1], 1))
    with pytest.raises(RulesInvalid) as err:
        load_pack(profile=path)
    assert "bad.yaml" in str(err.value) and message in str(err.value)


# --- unknown roles ----------------------------------------------------------------------------

def test_unknown_roles_are_refused_in_every_layer(world, store):
    product = world["product"]
    with pytest.raises(InputInvalid, match="unknown role 'superuser'"):
        store.sign(product, "Dr Who", "superuser", ALL_ATTESTATIONS)
    with pytest.raises(InputInvalid, match="unknown role 'superuser'"):
        store.override(product, "P7", "met", "Dr Who", "superuser", REASON)
    with pytest.raises(InputInvalid, match="unknown role"):
        store.add_user("who", "Dr Who", "superuser", [], PASSWORD)
    with pytest.raises(InputInvalid, match="unknown role"):
        RoleRules().may("sign", "superuser", "procurement")
    with pytest.raises(InputInvalid, match="unknown role"):
        with store.db.write() as session:
            audit.append(session, "Dr Who", "superuser", "exported", product, {})
    with pytest.raises(ValueError):
        Actor(username="who", name="Dr Who", role="superuser")
    add_first_administrator(store, "alex.admin", "Alex Admin", PASSWORD, {"via": "test"})
    admin = Access.sign_in("alex.admin", PASSWORD, store)
    admin.add_user("kim.lee", "Kim Lee", "clinician", ["Willow Ward"], PASSWORD)
    with pytest.raises(InputInvalid, match="unknown role"):
        admin.change_role("kim.lee", "superuser")
    with pytest.raises(InputInvalid, match="unknown role"):
        admin.add_user("who", "Dr Who", "superuser", [], PASSWORD)
    with store.db.engine.begin() as conn:  # written into the database directly
        conn.exec_driver_sql("UPDATE users SET role = 'superuser' WHERE username = 'kim.lee'")
    with pytest.raises((IntegrityFailure, InputInvalid)):
        Access.sign_in("kim.lee", PASSWORD, store)


# --- granting a role that can open patient records ----------------------------------------------

def _events(store, action: str) -> list[EventRow]:
    with store.db.read() as session:
        return list(session.execute(select(EventRow).where(EventRow.action == action)
                                    .order_by(EventRow.seq)).scalars())


def _admins(store) -> tuple[Access, Access]:
    add_first_administrator(store, "alex.admin", "Alex Admin", PASSWORD, {"via": "test"})
    first = Access.sign_in("alex.admin", PASSWORD, store)
    first.add_user("bo.admin", "Bo Admin", "administrator", [], PASSWORD)
    return first, Access.sign_in("bo.admin", PASSWORD, store)


def test_an_administrator_granting_dpo_is_audited(store):
    first, _ = _admins(store)
    assert first.add_user("sam.dpo", "Sam Patel", "dpo", [], PASSWORD) is None  # national: no 2nd
    added = [e for e in _events(store, "account_added") if e.detail["username"] == "sam.dpo"]
    assert [(e.actor, e.role, e.detail["role"]) for e in added] == [("Alex Admin", "administrator",
                                                                     "dpo")]
    report = [c for c in first.store.privileged_changes() if c.username == "sam.dpo"]
    assert [(c.action, c.patient_access) for c in report] == [("account_added", True)]
    assert PATIENT_ACCESS == {Role.clinician, Role.nurse_in_charge, Role.dpo, Role.auditor}


@pytest.fixture
def strict(store):
    """The store as a trust that asks for a second administrator's approval opens it."""
    rules = dataclasses.replace(store.role_rules, second_approval_for_patient_access=True)
    return Store(store.db, required_roles=store._required, role_rules=rules)


def test_with_the_profile_flag_a_new_dpo_waits_for_a_second_administrator(strict, world):
    first, second = _admins(strict)
    grant = first.add_user("sam.dpo", "Sam Patel", "dpo", [], PASSWORD)
    assert grant is not None and grant.kind == "new account" and grant.requested_by == "alex.admin"
    assert not next(u for u in strict.users() if u.username == "sam.dpo").active
    with pytest.raises(AccessDenied):  # inactive until approved: cannot open patient records
        Access.sign_in("sam.dpo", PASSWORD, strict)
    with pytest.raises(AccessDenied, match="needs a second administrator"):
        first.approve_grant(grant.id)
    with pytest.raises(StoreConflict, match="waiting for a second administrator"):
        first.reactivate("sam.dpo")  # no way round the approval
    with pytest.raises(AccessDenied, match="may not manage users"):
        Access(person("dpo"), strict).approve_grant(grant.id)
    assert [g.id for g in second.pending_grants()] == [grant.id]
    second.approve_grant(grant.id)
    assert second.pending_grants() == []
    sam = Access.sign_in("sam.dpo", PASSWORD, strict)
    assert sam.open(world["use"]).row.id == world["use"]
    actions = [c.action for c in strict.privileged_changes() if c.username == "sam.dpo"]
    assert actions == ["account_added", "account_grant_requested", "account_grant_approved"]
    assert strict.verify().ok  # the account agrees with its trail


def test_with_the_profile_flag_a_role_change_keeps_the_old_role_until_approved(strict):
    first, second = _admins(strict)
    first.add_user("kim.lee", "Kim Lee", "estates_it_lead", [], PASSWORD)
    assert first.change_role("kim.lee", "auditor") == "estates_it_lead"
    assert Access.sign_in("kim.lee", PASSWORD, strict).actor.role is Role.estates_it_lead
    pending = first.pending_grant("kim.lee")
    assert pending is not None and pending.role == "auditor"
    with pytest.raises(StoreConflict, match="waiting for a second administrator"):
        first.change_role("kim.lee", "dpo")
    second.refuse_grant(pending.id, "not agreed with the DPO")
    assert Access.sign_in("kim.lee", PASSWORD, strict).actor.role is Role.estates_it_lead
    first.change_role("kim.lee", "auditor")
    grant = first.pending_grant("kim.lee")
    assert grant is not None
    with pytest.raises(AccessDenied):  # the administrator who asked cannot approve it
        first.approve_grant(grant.id)
    second.approve_grant(grant.id)
    assert Access.sign_in("kim.lee", PASSWORD, strict).actor.role is Role.auditor
    assert strict.verify().ok


def test_with_the_profile_flag_new_wards_for_clinical_staff_wait_for_approval(strict):
    first, second = _admins(strict)
    grant = first.add_user("kim.lee", "Kim Lee", "clinician", ["Willow Ward"], PASSWORD)
    assert grant is not None
    second.approve_grant(grant.id)
    assert first.set_wards("kim.lee", ["Willow Ward", "Heron Ward"]) == ["Willow Ward"]
    assert Access.sign_in("kim.lee", PASSWORD, strict).actor.wards == ["Willow Ward"]
    wards = first.pending_grant("kim.lee")
    assert wards is not None and wards.kind == "wards"
    second.approve_grant(wards.id)
    assert Access.sign_in("kim.lee", PASSWORD, strict).actor.wards == ["Willow Ward", "Heron Ward"]
    first.set_wards("kim.lee", ["Heron Ward"])  # taking a ward away applies at once
    assert Access.sign_in("kim.lee", PASSWORD, strict).actor.wards == ["Heron Ward"]
    assert strict.verify().ok


def test_a_grant_is_refused_when_the_account_changed_since(strict):
    first, second = _admins(strict)
    first.add_user("kim.lee", "Kim Lee", "estates_it_lead", [], PASSWORD)
    first.change_role("kim.lee", "dpo")
    grant = first.pending_grant("kim.lee")
    assert grant is not None
    strict.change_role("kim.lee", "panel_chair", ("Bo Admin", "administrator"))  # the store, direct
    with pytest.raises(StoreConflict, match="changed after grant"):
        second.approve_grant(grant.id)

"""What the decision page may offer, asked of the service before a form is shown (issue 13): who
may sign a record now and why not, who may override, who may save, and the current record of
the same subject a new save should supersede. Each answer agrees with what `sign`, `override` and
`save` do. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from engine import service
from engine.errors import AccessDenied, StoreConflict
from engine.models.people import Actor
from engine.service.session import Access
from tests.conftest import ALL_ATTESTATIONS, approve, individual_for, load_case


def person(role: str, wards: list[str] | None = None, name: str | None = None) -> Actor:
    name = name or f"Person {role}"
    return Actor(username=name.lower().replace(" ", "."), name=name, role=role, wards=wards or [])


@pytest.fixture
def world(store):
    product = service.save_assessment(load_case("vbm-individual-decision.yaml"), "Dr Ada Obi",
                                      "panel_chair", store)
    relied = service.save_assessment(load_case("vbm-individual-decision.yaml"), "Dr Ada Obi",
                                     "panel_chair", store)
    approve(store, relied.row.id)
    use = service.save_assessment(individual_for(relied.row.key), "Nurse Kim Lee", "clinician", store)
    return store, product, use


def test_may_sign_says_who_may_and_agrees_with_sign(world):
    store, product, use = world
    dpo = Access(person("dpo"), store)
    assert dpo.may_sign(store.get(use.row.id)) == (
        False, "A DPO does not sign a patient's record: the local profile asks Clinician and Nurse in "
               "charge to.")
    with pytest.raises(AccessDenied):
        dpo.sign(use.row.id, ALL_ATTESTATIONS)
    elsewhere = Access(person("clinician", ["Heron Ward"]), store)
    assert elsewhere.may_sign(store.get(use.row.id)) == (
        False, "Only clinical staff on Willow Ward may sign this patient's record, and that is not one "
               "of your wards.")
    chair = Access(person("panel_chair", name="Dr Ada Obi"), store)
    assert chair.may_sign(store.get(product.row.id)) == (True, "")
    chair.sign(product.row.id, ALL_ATTESTATIONS)
    allowed, why = chair.may_sign(store.get(product.row.id))
    assert not allowed and why.startswith("You have signed this record already")
    with pytest.raises(StoreConflict):
        chair.sign(product.row.id, ALL_ATTESTATIONS)
    allowed, why = Access(person("panel_chair", name="Dr Other"), store).may_sign(store.get(product.row.id))
    assert (allowed, why) == (False, "This record has its Panel chair sign-off already: still to sign: "
                                     "DPO, Clinical safety officer and Lived experience representative.")
    # the service refuses what the page does not offer (the command line goes through it too)
    with pytest.raises(StoreConflict, match="has its panel_chair sign-off already; still to sign: dpo"):
        Access(person("panel_chair", name="Dr Other"), store).sign(product.row.id, ALL_ATTESTATIONS)
    approve(store, product.row.id)
    assert Access(person("dpo"), store).may_sign(store.get(product.row.id))[1].startswith("Approved")
    with pytest.raises(StoreConflict, match="is approved: every sign-off it needs is recorded"):
        store.sign(product.row.id, "Dr Late", "panel_chair", ALL_ATTESTATIONS)
    assert [s.name for s in store.get(product.row.id).signoffs if s.role == "panel_chair"] == ["Dr Ada Obi"]


def test_a_nurse_in_charge_may_add_a_signature_until_a_clinician_approves(world):
    """The profile lets a nurse in charge sign a patient's record without requiring one: the
    page offers it while the record waits for its clinician, and neither offers nor takes it after."""
    store, product, use = world
    nurse = Access(person("nurse_in_charge", ["Willow Ward"], name="Nurse Jo"), store)
    assert nurse.may_sign(store.get(use.row.id)) == (True, "")
    assert store.get(nurse.sign(use.row.id, ALL_ATTESTATIONS).row.id).missing_roles == ["clinician"]
    Access(person("clinician", ["Willow Ward"], name="Dr Lin"), store).sign(use.row.id, ALL_ATTESTATIONS)
    late = Access(person("nurse_in_charge", ["Willow Ward"], name="Nurse Al"), store)
    assert late.may_sign(store.get(use.row.id))[1].startswith("Approved")
    with pytest.raises(StoreConflict, match="is approved"):
        late.sign(use.row.id, ALL_ATTESTATIONS)


def test_may_override_and_may_save(world):
    store, product, use = world
    view = store.get(product.row.id)
    assert Access(person("panel_chair"), store).may_override(view) == (True, "")
    assert Access(person("lived_experience_representative"), store).may_override(view) == (
        False, "A Lived experience representative does not override a product decision: the local "
               "profile asks Panel chair, DPO and Clinical safety officer to.")
    assert Access(person("dpo"), store).may_save(use.record) == (
        False, "A DPO does not save checks for a patient: Clinician and Nurse in charge do.")
    assert Access(person("clinician", ["Heron Ward"]), store).may_save(use.record)[0] is False
    assert Access(person("clinician", ["Willow Ward"]), store).may_save(use.record) == (True, "")
    assert Access(person("clinician", ["Willow Ward"]), store).may_save(product.record)[0] is False


def test_the_current_record_of_the_same_subject_is_found_for_superseding(world):
    store, product, use = world
    chair = Access(person("panel_chair"), store)
    found = chair.current_record_for(product.record)
    assert found is not None and found.record.subject.product == product.record.subject.product
    other_version = product.record.model_copy(update={"subject": product.record.subject.model_copy(
        update={"version": "9.9"})})
    assert chair.current_record_for(other_version) is None
    nurse = Access(person("clinician", ["Willow Ward"]), store)
    assert nurse.current_record_for(use.record).row.id == use.row.id
    other_patient = use.record.model_copy(update={"subject": use.record.subject.model_copy(
        update={"patient_reference": "WIL-0999"})})
    assert nurse.current_record_for(other_patient) is None
    assert Access(person("clinician", ["Heron Ward"]), store).current_record_for(use.record) is None
    saved = nurse.save(individual_for(store.get(use.row.id).record.relies_on.split("@")[0]),
                       supersedes=use.row.id)
    assert saved.row.key == use.row.key and store.get(use.row.id).superseded_by == saved.row.id
    assert nurse.current_record_for(use.record).row.id == saved.row.id

"""Roles and access, enforced in the engine: the API called as each role, and what is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import service
from engine.errors import AccessDenied, InputInvalid, StoreConflict
from engine.models.people import ALLOWED, Actor
from engine.service.session import Access
from engine.store.tables import EventRow, UserRow
from tests.conftest import ALL_ATTESTATIONS, individual_for, load_case

PASSWORD = "correct horse battery staple"


def actor(role: str, wards: list[str] | None = None) -> Actor:
    return Actor(username=role, name=f"Person {role}", role=role, wards=wards or [])


@pytest.fixture
def world(store):
    """A product decision and a patient record on Willow Ward, stored by the right people."""
    panel = Access(actor("panel_chair"), store)
    product = panel.save(load_case("vbm-individual-decision.yaml"))
    nurse = Access(actor("clinician", ["Willow Ward"]), store)
    patient = nurse.save(individual_for(product.row.key))
    return {"product": product.row.id, "patient": patient.row.id, "store": store}


def test_each_group_may_do_only_its_own_work(world):
    store = world["store"]
    cases = {
        "panel_chair": {"save_individual": False, "read_patient": False, "verify": False},
        "clinician": {"save_individual": True, "read_patient": True, "verify": False},
        "dpo": {"save_individual": False, "read_patient": True, "verify": True},
        "auditor": {"save_individual": False, "read_patient": True, "verify": True},
        "administrator": {"save_individual": False, "read_patient": False, "verify": True},
    }
    for role, expect in cases.items():
        who = Access(actor(role, ["Willow Ward"]), store)
        outcomes = {}
        for name, attempt in (
                ("save_individual", lambda w=who: w.save(individual_for(world["product"]))),
                ("read_patient", lambda w=who: w.open(world["patient"])),
                ("verify", lambda w=who: w.verify())):
            try:
                attempt()
                outcomes[name] = True
            except AccessDenied:
                outcomes[name] = False
        assert outcomes == expect, role


def test_clinicians_see_only_their_wards_patients(world):
    store = world["store"]
    other_ward = Access(actor("clinician", ["Heron Ward"]), store)
    with pytest.raises(AccessDenied, match="may not read individual use on ward 'Willow Ward'"):
        other_ward.open(world["patient"])
    assert world["patient"] not in [v.row.id for v in other_ward.records()]
    assert world["product"] in [v.row.id for v in other_ward.records()]
    with pytest.raises(AccessDenied):
        other_ward.save(individual_for(world["product"]))  # a Willow Ward patient
    own = Access(actor("clinician", ["willow ward"]), store)  # wards compare without case
    own.open(world["patient"])
    events = store.history(world["patient"])[1]
    assert [(e.action, e.actor) for e in events][-1] == ("viewed", "Person clinician")


def test_a_refused_opening_leaves_no_trace_and_an_allowed_one_is_audited(world):
    store = world["store"]
    before = len(store.history(world["patient"])[1])
    with pytest.raises(AccessDenied):
        Access(actor("panel_chair"), store).open(world["patient"])
    assert len(store.history(world["patient"])[1]) == before
    Access(actor("dpo"), store).open(world["patient"])
    assert len(store.history(world["patient"])[1]) == before + 1


def test_procurement_exports_never_contain_patient_details(world):
    store = world["store"]
    panel = Access(actor("panel_chair"), store)
    pdf, csv_text = panel.bundle("Panel bundle")
    assert b"WIL-0042" not in pdf and "WIL-0042" not in csv_text
    with pytest.raises(AccessDenied):
        panel.export(world["patient"], "pdf")
    dpo_pdf, _ = Access(actor("dpo"), store).bundle("DPO bundle")
    import io

    from pypdf import PdfReader

    assert "WIL-0042" in PdfReader(io.BytesIO(dpo_pdf)).attachments["bundle.json"][0].decode()


def test_sign_off_and_override_need_a_role_that_may(world):
    store = world["store"]
    with pytest.raises(AccessDenied, match="may not sign"):
        Access(actor("auditor"), store).sign(world["product"], ALL_ATTESTATIONS)
    with pytest.raises(AccessDenied, match="may not override"):
        Access(actor("lived_experience_representative"), store).override(
            world["product"], "P7", "met", "A reason that is long enough to count")
    Access(actor("lived_experience_representative"), store).sign(world["product"], ALL_ATTESTATIONS)
    with pytest.raises(AccessDenied, match="may not reevaluate"):
        Access(actor("panel_chair"), store).reevaluate(service.default_pack())


def test_local_accounts_hash_passwords_and_refuse_wrong_ones(store):
    admin = Access(actor("administrator"), store)
    admin.add_user("kim.lee", "Kim Lee", "clinician", ["Willow Ward"], PASSWORD)
    row = next(u for u in store.users() if u.username == "kim.lee")
    assert isinstance(row, UserRow) and PASSWORD not in row.password_hash
    assert row.password_hash.startswith("$argon2id$")
    signed_in = store.authenticate("kim.lee", PASSWORD)
    assert (signed_in.name, signed_in.role.value, signed_in.wards) == ("Kim Lee", "clinician",
                                                                       ["Willow Ward"])
    for username, password in (("kim.lee", "wrong password!!"), ("nobody", PASSWORD)):
        with pytest.raises(AccessDenied, match="^unknown username or wrong password$"):
            store.authenticate(username, password)
    with pytest.raises(AccessDenied, match="may not manage users"):
        Access(signed_in, store).add_user("x", "X Y", "dpo", [], PASSWORD)
    with pytest.raises(InputInvalid, match="at least 12 characters"):
        admin.add_user("short", "Short Pass", "dpo", [], "short")
    with pytest.raises(StoreConflict, match="already exists"):
        admin.add_user("kim.lee", "Kim Lee", "clinician", [], PASSWORD)


def test_an_account_added_by_an_administrator_is_an_audit_event_naming_them(store):
    """An e-mail address is a username (OpenID Connect accounts are looked up by it), and who
    added which account with which role is on the audit chain."""
    admin = Access(actor("administrator"), store)
    admin.add_user("sam.dpo@trust.nhs.uk", "Sam Patel", "dpo", [], PASSWORD)
    with store.db.read() as session:
        from_chain = session.execute(select(EventRow).where(EventRow.action == "account_added")
                                     ).scalars().all()
    assert [(e.actor, e.role, e.detail["username"], e.detail["role"]) for e in from_chain] == [
        (admin.actor.name, "administrator", "sam.dpo@trust.nhs.uk", "dpo")]
    for bad in ("", "-leading", "has space", "x" * 201):
        with pytest.raises(InputInvalid, match="username"):
            admin.add_user(bad, "Some Body", "dpo", [], PASSWORD)


def test_every_action_names_the_roles_that_may_do_it():
    assert all(ALLOWED[action] for action in ALLOWED)
    assert not any(actor("auditor").may(a) for a in ("save_procurement", "sign", "override"))


def test_users_from_the_command_line(store_url):
    from typer.testing import CliRunner

    from engine.cli import app

    runner = CliRunner()
    first = runner.invoke(app, ["users", "add", "admin", "--name", "Ada Admin", "--role",
                                "administrator", "--password-stdin", "--db", store_url],
                          input=PASSWORD + "\n")
    assert first.exit_code == 0, first.output
    signed_in = runner.invoke(app, ["login", "admin", "--password-stdin", "--db", store_url],
                              input=PASSWORD + "\n")
    assert signed_in.exit_code == 0, signed_in.output
    made = runner.invoke(app, ["users", "add", "sam.patel", "--name", "Sam Patel", "--role", "dpo",
                               "--password-stdin", "--db", store_url], input=PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    listed = runner.invoke(app, ["users", "list", "--db", store_url])
    assert "sam.patel" in listed.output and "dpo" in listed.output and PASSWORD not in listed.output
    bad = runner.invoke(app, ["users", "add", "x", "--name", "X Y", "--role", "wizard",
                              "--password-stdin", "--db", store_url], input=PASSWORD + "\n")
    assert bad.exit_code == 1 and "unknown role 'wizard'" in bad.stderr


def test_a_new_version_of_another_wards_record_is_refused(world):
    store = world["store"]
    heron = Access(actor("clinician", ["Heron Ward"]), store)
    moved = individual_for(world["product"], patient__ward="Heron Ward")
    with pytest.raises(AccessDenied):
        heron.save(moved, supersedes=world["patient"])
    assert store.get(world["patient"]).superseded_by is None

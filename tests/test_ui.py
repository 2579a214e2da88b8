"""The Streamlit pages (AppTest, in-process): each page runs; the three journeys work."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine import service
from engine.models.people import Actor
from tests.conftest import ALL_ATTESTATIONS, approve, load_case

APP = str(Path(__file__).resolve().parent.parent / "ui" / "app.py")
PAGES = ["views/home.py", "views/assess_product.py", "views/check_patient.py", "views/decision.py",
         "views/records.py", "views/rules.py", "views/case_studies.py"]


@pytest.fixture
def app_store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'ui.sqlite'}"
    monkeypatch.setenv("DTPA_DATABASE_URL", url)
    store = service.open_store(url)
    service.seed_case_studies(store)
    yield store
    service.api._STORES.pop(url, None)
    store.db.dispose()


def person(role: str, wards: list[str] | None = None, name: str | None = None) -> Actor:
    return Actor(username=role, name=name or f"Person {role}", role=role, wards=wards or [])


def page(name: str, actor: Actor | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["actor"] = actor or person("dpo")  # signed in
    at.run()  # st.navigation registers the pages
    at.switch_page(name)
    at.run()
    titles = [t.value for t in at.title]
    assert titles and titles[0] != "DTPA: digital technology principles assessment" or \
        name == "views/home.py", f"did not reach {name}: {titles}"
    return at


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [e.value for e in at.error] + \
        [w.value for w in at.warning] + [s.value for s in at.success] + [i.value for i in at.info]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("name", PAGES)
def test_every_page_runs(app_store, name):
    at = page(name)
    assert not at.exception, [e.value for e in at.exception]


def test_panel_assesses_a_product_from_a_case_study_and_signs_it(app_store):
    at = page("views/assess_product.py", person("panel_chair", name="Dr Ada Obi"))
    at.selectbox(key="pro_start").select("Case study: vbm-individual-decision").run()
    at.button(key="pro_load").click().run()
    assert at.text_area(key="q:procurement:technology.name").value == "Contactless bedroom monitor"
    at.button(key="pro_evaluate").click().run()
    assert not at.exception
    assert any("Supported with conditions" in w.value for w in at.warning)
    record = at.session_state["decision"]["record"]
    assert record.outcome == "supported_with_conditions"

    at.switch_page("views/decision.py").run()
    assert "P7-PRO-001" in " ".join(x.label for x in at.expander)
    at.button(key="dec_save").click().run()
    view_id = at.session_state["decision"]["view_id"]
    assert view_id and view_id.startswith("PRO-")
    for role in ("panel_chair", "dpo", "clinical_safety_officer", "lived_experience_representative"):
        at.session_state["actor"] = person(role)
        at.run()
        for attestation in ALL_ATTESTATIONS:
            at.checkbox(key=f"att_{attestation}").check()
        at.button[[b.label for b in at.button].index("Sign off")].click().run()
        assert not at.exception
    assert service.open_store().get(view_id).approved
    assert {b.label for b in at.get("download_button")} >= {"Audit PDF", "JSON record", "FHIR R5 bundle"}


def test_validation_errors_are_shown_next_to_their_question(app_store):
    at = page("views/assess_product.py")
    at.selectbox(key="pro_start").select("Case study: feedback-kiosk").run()
    at.button(key="pro_load").click().run()
    at.text_area(key="q:procurement:technology.name").input("")
    at.button(key="pro_evaluate").click().run()
    assert any("Product name" in e.value for e in at.error)
    assert "decision" not in at.session_state or at.session_state["decision"] is None


def test_a_clinician_cannot_rely_on_an_unapproved_product_and_can_on_an_approved_one(app_store):
    nurse = person("clinician", ["Willow Ward"])
    at = page("views/check_patient.py", nurse)
    assert any("cannot be relied on" in e.value and "not signed off yet" in e.value for e in at.error)

    product = next(v for v in app_store.latest(context="procurement")
                   if v.row.idempotency_key == "case-study:vbm-individual-decision")
    approve(app_store, product.row.id)
    at = page("views/check_patient.py", nurse)
    choice = next(o for o in at.selectbox(key="ind_product").options if product.row.id in o)
    at.selectbox(key="ind_product").select(choice).run()
    assert any("is approved and current" in s.value for s in at.success) or any(
        "review date" in e.value for e in at.error)


def test_dpo_verifies_the_chain_and_builds_a_bundle(app_store):
    at = page("views/records.py")
    at.button(key="rec_verify").click().run()
    assert any("Audit chain intact" in s.value for s in at.success)
    at.button(key="rec_bundle").click().run()
    assert not at.exception
    assert {b.label for b in at.get("download_button")} == {"Download bundle PDF",
                                                            "Download conditions CSV"}


def test_case_studies_page_compares_with_the_expected_outcome(app_store):
    at = page("views/case_studies.py")
    at.selectbox(key="cs_choice").select("vbm-patient-refuses").run()
    at.button(key="cs_run").click().run()
    assert any("decides as the case study expects" in s.value for s in at.success)


def test_rules_page_searches(app_store):
    at = page("views/rules.py")
    at.text_input(key="rules_search").input("bathroom").run()
    labels = [e.label for e in at.expander]
    assert any("P1-IND-003" in label for label in labels)
    assert not any("DP-PRO-001" in label for label in labels)


def test_sign_in_with_a_local_account(app_store):
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert any("Create the first administrator" in str(s.value) for s in at.subheader)
    app_store.add_user("kim.lee", "Kim Lee", "clinician", ["Willow Ward"], "correct horse battery")
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.text_input(key="login_user").input("kim.lee")
    at.text_input(key="login_password").input("not the password")
    at.button[0].click().run()
    assert any("unknown username or wrong password" in e.value for e in at.error)
    assert "actor" not in at.session_state
    at.text_input(key="login_password").input("correct horse battery")
    at.button[0].click().run()
    assert at.session_state["actor"].name == "Kim Lee"
    assert not at.exception and any("Kim Lee" in m.value for m in at.sidebar.markdown)


def test_a_panel_member_sees_no_patient_records(app_store):
    at = page("views/records.py", person("panel_chair"))
    ids = [o for o in at.selectbox(key="rec_open_id").options]
    assert ids and all(i.startswith("PRO-") for i in ids)
    at = page("views/records.py", person("dpo"))
    assert any(i.startswith("IND-") for i in at.selectbox(key="rec_open_id").options)


def test_administrators_manage_accounts_and_others_do_not_see_the_page(app_store):
    at = page("views/accounts.py", person("administrator"))
    at.text_input(key="new_user").input("sam.patel")
    at.text_input(key="new_name").input("Sam Patel")
    at.selectbox(key="new_role").select("dpo")
    at.text_input(key="new_password").input("a long enough password")
    at.button[[b.label for b in at.button].index("Add account")].click().run()
    assert any("Account sam.patel added" in s.value for s in at.success)
    assert app_store.authenticate("sam.patel", "a long enough password").role.value == "dpo"
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        page("views/accounts.py", person("dpo"))  # not even registered for a DPO


SESSION = """
import json, sys
from streamlit.testing.v1 import AppTest
from engine.models.people import Actor
app, n, case = sys.argv[1], int(sys.argv[2]), sys.argv[3]
at = AppTest.from_file(app, default_timeout=300)
at.session_state["actor"] = Actor(username=f"p{n}", name=f"Panel member {n}", role="panel_chair")
at.run()
at.switch_page("views/assess_product.py")
at.run()
at.selectbox(key="pro_start").select(f"Case study: {case}").run()
at.button(key="pro_load").click().run()
at.button(key="pro_evaluate").click().run()
outcome = at.session_state["decision"]["record"].outcome
at.switch_page("views/decision.py").run()
at.button(key="dec_save").click().run()
print(json.dumps([case, outcome, at.session_state["decision"]["view_id"]]))
"""


def test_eight_app_sessions_at_once_evaluate_and_save_without_interference(app_store):
    """Eight sessions, each in its own process (AppTest is not thread-safe), on one store."""
    import json
    import os
    import subprocess
    import sys

    cases = ["vbm-individual-decision", "feedback-kiosk", "tablets-family-calls", "vr-relaxation"]
    procs = [subprocess.Popen([sys.executable, "-c", SESSION, APP, str(n), cases[n % 4]],
                              cwd=Path(APP).parent.parent, env=dict(os.environ),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for n in range(8)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    expected = {c: service.evaluate(load_case(f"{c}.yaml")).outcome for c in cases}
    assert all(outcome == expected[case] for case, outcome, _ in results)
    saved = {rid: app_store.get(rid) for _, _, rid in results}
    assert len(saved) == 8 and app_store.verify().ok
    assert {v.row.created_by for v in saved.values()} == {f"Panel member {n}" for n in range(8)}


PROCUREMENT_CASES = sorted(p.stem for p in (Path(APP).parent.parent / "case_studies").glob("*.yaml")
                           if "context: procurement" in p.read_text())


@pytest.mark.parametrize("case", PROCUREMENT_CASES)
def test_the_form_round_trips_every_answer_of_a_case_study(app_store, case):
    """Loaded into the web form and evaluated, a case study is exactly the assessment it was:
    every answer, including 'not applicable' with its reason, survives the widgets."""
    at = page("views/assess_product.py", person("panel_chair"))
    at.selectbox(key="pro_start").select(f"Case study: {case}").run()
    at.button(key="pro_load").click().run()
    at.button(key="pro_evaluate").click().run()
    from_form = at.session_state["decision"]["assessment"]
    direct = load_case(f"{case}.yaml")
    assert from_form.model_dump(mode="json") == direct.model_dump(mode="json")
    assert at.session_state["decision"]["record"].input_hash == service.evaluate(direct).input_hash


from tests.test_rights_table import TABLE as RIGHTS_TABLE  # noqa: E402

INDIVIDUAL_CASES = sorted(p.stem for p in (Path(APP).parent.parent / "case_studies").glob("*.yaml")
                          if "context: individual_use" in p.read_text())


def test_the_patient_form_round_trips_every_answer_of_a_case_study(app_store):
    """The same for the clinician's form: every answer except the product decision, which the
    page takes from the store."""
    import datetime as dt

    today = dt.date.today()
    data = load_case("vbm-individual-decision.yaml").model_dump(mode="json", exclude_none=True)
    later = (today + dt.timedelta(days=300)).isoformat()
    data.update(assessed_on=today.isoformat())
    data["data_protection"]["dpia_review_due"] = data["policy"]["policy_review_due"] = later
    data["assurance"].update(cyber_essentials_expires=later, ico_registration_expires=later,
                             penetration_test_date=today.isoformat())
    # the product covers every service the case studies' patients are in, so each check is
    # decided on its own facts, not refused for the service
    data["service"]["service_types"] = sorted({c.patient.service_type for c in map(
        load_case, [f"{n}.yaml" for n in INDIVIDUAL_CASES]) if c.patient.service_type})
    data["data_protection"]["dpia_covers_children_and_infants"] = True
    product = service.save_assessment(service.validate_assessment(data), "Chair", "panel_chair",
                                      app_store)
    approve(app_store, product.row.id)
    for case in INDIVIDUAL_CASES:
        direct = load_case(f"{case}.yaml")
        at = page("views/check_patient.py", person("clinician", [direct.patient.ward or ""]))
        choice = next(o for o in at.selectbox(key="ind_product").options if product.row.id in o)
        at.selectbox(key="ind_product").select(choice).run()
        at.selectbox(key="ind_start").select(case).run()
        at.button(key="ind_load").click().run()
        at.button(key="ind_evaluate").click().run()
        assert not at.exception, case
        from_form = at.session_state["decision"]["assessment"].model_dump(mode="json")
        expected = direct.model_dump(mode="json")
        from_form.pop("product"), expected.pop("product")
        assert from_form == expected, case
        if case in RIGHTS_TABLE:  # issue 10's table decides as stated through the web form too
            assert at.session_state["decision"]["record"].outcome in RIGHTS_TABLE[case], case


def test_the_decision_view_says_where_the_product_facts_came_from(app_store):
    """A check whose product record cannot be read is shown as such, loudly; every decision
    lists what DTPA does not judge."""
    from tests.conftest import individual_for

    check, record = service.check_use(individual_for("PRO-00000000"), app_store)
    at = page("views/check_patient.py", person("clinician", ["Willow Ward"]))
    at.session_state["decision"] = {"record": record, "assessment": check, "view_id": None}
    at.switch_page("views/decision.py").run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "PRODUCT DECISION NOT READ" in errors and "PRO\\-00000000" in errors
    assert "What DTPA does not judge" in texts(at)
    boxes = [b.value for b in (*at.success, *at.warning, *at.error, *at.info)]
    assert boxes and not any("lawful" in b.lower() for b in boxes)  # the outcome never says so

"""The Streamlit pages (AppTest, in-process): each page runs; the three journeys work."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from engine import service
from engine.errors import AccessDenied, RecordNotFound, StoreConflict
from engine.models.people import Actor
from engine.service import accounts
from engine.service.session import Access
from engine.store.tables import EventRow
from tests.conftest import ALL_ATTESTATIONS, PASSWORD, approve, load_case

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
    username = ".".join(name.lower().split()) if name else role
    return Actor(username=username, name=name or f"Person {role}", role=role, wards=wards or [])


TEST_ADMIN = ("Test Administrator", "administrator")


def account_for(actor: Actor) -> Actor:
    """The person as a real, active account in the app's store, added and changed through DTPA
    (so its audit trail agrees with it): the web re-reads the account on every run, and a
    session whose account does not exist is signed out."""
    store = service.open_store()
    user = next((u for u in store.users() if u.username == actor.username), None)
    if user is None:
        store.add_user(actor.username, actor.name, actor.role.value, actor.wards, PASSWORD,
                       by=TEST_ADMIN)
        return actor
    assert user.name == actor.name, f"{actor.username} is {user.name}, not {actor.name}"
    if not user.active:
        store.reactivate(actor.username, TEST_ADMIN)
    if user.role != actor.role.value:
        store.change_role(actor.username, actor.role.value, TEST_ADMIN)
    if user.wards != actor.wards:
        store.set_wards(actor.username, actor.wards, TEST_ADMIN)
    return actor


def page(name: str, actor: Actor | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["actor"] = account_for(actor or person("dpo"))  # signed in
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
    assert at.session_state["answers:procurement"]["technology.name"] == "Contactless bedroom monitor"
    at.button(key="pro_evaluate").click().run()  # a loaded case opens on "Check your answers"
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
        at.session_state["actor"] = account_for(person(role))
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
    at.radio(key="pro_steps").set_value("technology").run()
    at.text_input(key="q:procurement:technology.name").input("").run()
    at.radio(key="pro_steps").set_value("check").run()
    at.button(key="pro_evaluate").click().run()
    assert any(b.label.startswith("Product name: ") for b in at.button)  # in the summary
    at.radio(key="pro_steps").set_value("technology").run()
    assert any("Product name" in e.value for e in at.error)  # and next to the question
    assert "decision" not in at.session_state or at.session_state["decision"] is None


def test_a_clinician_cannot_rely_on_an_unapproved_product_and_can_on_an_approved_one(app_store):
    """The page compares the product's review date with today, so the products are assessed on
    days relative to today: each step has exactly one right answer, whatever the date."""
    import datetime as dt

    def product_assessed_on(day: dt.date):
        """vbm-individual-decision assessed on `day`; its reviews and certificates due 300 days on."""
        data = load_case("vbm-individual-decision.yaml").model_dump(mode="json", exclude_none=True)
        due = (day + dt.timedelta(days=300)).isoformat()
        data["assessed_on"] = day.isoformat()
        data["data_protection"]["dpia_review_due"] = data["policy"]["policy_review_due"] = due
        data["assurance"].update(cyber_essentials_expires=due, ico_registration_expires=due,
                                 penetration_test_date=day.isoformat())
        return service.save_assessment(service.validate_assessment(data), "Chair", "panel_chair",
                                       app_store)

    def shown_for(product):
        """Whether the product is offered (and chosen, what the page says), or why it is not."""
        at = page("views/check_patient.py", person("clinician", ["Willow Ward"]))
        assert not at.exception and not at.error  # nothing red before anything is chosen
        offered = [o for o in at.selectbox(key="ind_product").options if product.row.id in o] \
            if "ind_product" in {w.key for w in at.selectbox} else []
        if not offered:  # listed with why it is not offered
            why = next(line for line in texts(at).split("\n")
                       if product.row.id.replace("-", "\\-") in line)
            return None, why.replace("\\", "")
        at.selectbox(key="ind_product").select(offered[0]).run()
        assert not at.error
        return [s.value for s in at.success], None

    today = dt.date.today()
    current, lapsed = product_assessed_on(today), product_assessed_on(today - dt.timedelta(days=730))
    assert current.row.review_date > today > lapsed.row.review_date

    successes, why = shown_for(current)  # not signed off: the only reason it cannot be used
    assert successes is None and "not signed off yet" in why and "review date" not in why

    approve(app_store, current.row.id)
    successes, why = shown_for(current)
    assert why is None and successes == [
        f"{current.row.id} is approved and current (review by {current.row.review_date})."]

    approve(app_store, lapsed.row.id)  # signed off, but its review date has passed
    successes, why = shown_for(lapsed)
    assert successes is None and f"its review date {lapsed.row.review_date} has passed" in why
    assert "not signed off" not in why


def test_dpo_verifies_the_chain_and_builds_a_bundle(app_store):
    at = page("views/records.py")
    at.button(key="rec_verify").click().run()
    assert any("Audit chain intact" in s.value for s in at.success)
    at.button(key="rec_bundle").click().run()
    assert not at.exception
    assert {b.label for b in at.get("download_button")} == {"Download bundle PDF",
                                                            "Download conditions CSV"}


def test_the_records_page_lists_only_reviews_due_when_asked(app_store):
    at = page("views/records.py")
    everything = next(c.value for c in at.caption if c.value.endswith("record(s)"))
    at.checkbox(key="rec_due").check().run()
    assert not at.exception
    due = {v.row.id for v, _ in Access(person("dpo"), app_store).due(30)}
    assert next(c.value for c in at.caption if c.value.endswith("record(s)")) == f"{len(due)} record(s)"
    assert everything == f"{len(app_store.latest())} record(s)" and due  # the stored dates have passed


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
    assert not at.text_input and not at.button  # no form without a setup token
    app_store.add_user("kim.lee", "Kim Lee", "clinician", ["Willow Ward"], "correct horse battery",
                       by=TEST_ADMIN)
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
    at = page("views/accounts.py", person("dpo"))  # not in a DPO's menu; its address says why
    assert at.warning[0].value.startswith("This page is not available to you.")
    assert "new_user" not in [t.key for t in at.text_input]


SESSION = """
import json, sys
from streamlit.testing.v1 import AppTest
from engine.models.people import Actor
app, n, case = sys.argv[1], int(sys.argv[2]), sys.argv[3]
at = AppTest.from_file(app, default_timeout=300)
from engine import service
service.open_store().add_user(f"p{n}", f"Panel member {n}", "panel_chair", [],
                              "correct horse battery staple", by=("Test Administrator", "administrator"))
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


PROCUREMENT_CASES = sorted(service.case_studies("procurement"))


@pytest.mark.parametrize("case", PROCUREMENT_CASES)
def test_the_form_round_trips_every_answer_of_a_case_study(app_store, case):
    """Loaded into the web form and evaluated, a case study is exactly the assessment it was
    (as the page offers it: its dates moved to today): every answer, including 'not applicable'
    with its reason, survives the widgets."""
    at = page("views/assess_product.py", person("panel_chair"))
    at.selectbox(key="pro_start").select(f"Case study: {case}").run()
    at.button(key="pro_load").click().run()
    at.button(key="pro_evaluate").click().run()
    from_form = at.session_state["decision"]["assessment"]
    direct = Access(account_for(person("panel_chair")), app_store).case_studies()[case].assessment
    assert from_form.model_dump(mode="json") == direct.model_dump(mode="json")
    assert at.session_state["decision"]["record"].input_hash == service.evaluate(direct).input_hash


from tests.test_rights_table import TABLE as RIGHTS_TABLE  # noqa: E402

INDIVIDUAL_CASES = sorted(service.case_studies("individual_use"))


def test_the_patient_form_round_trips_every_answer_of_a_case_study(app_store):
    """The same for the clinician's form: every answer except the product decision and the
    technology, which the page takes from the stored product decision (one per technology the
    case studies use, approved, covering every ward and service they name)."""
    import datetime as dt
    import json

    today = dt.date.today()
    base = load_case("vbm-individual-decision.yaml").model_dump(mode="json", exclude_none=True)
    later = (today + dt.timedelta(days=300)).isoformat()
    base.update(assessed_on=today.isoformat())
    base["data_protection"]["dpia_review_due"] = base["policy"]["policy_review_due"] = later
    base["assurance"].update(cyber_essentials_expires=later, ico_registration_expires=later,
                             penetration_test_date=today.isoformat())
    studies = Access(account_for(person("dpo")), app_store).case_studies("individual_use")
    checks = {case: studies[case].assessment for case in INDIVIDUAL_CASES}
    # the products cover every service and ward the case studies' patients are in, so each
    # check is decided on its own facts, not refused for the service
    base["service"]["service_types"] = sorted({c.patient.service_type for c in checks.values()
                                               if c.patient.service_type})
    base["service"]["wards"] = sorted({c.patient.ward for c in checks.values() if c.patient.ward})
    base["data_protection"].update(dpia_covers_children_and_infants=True,
                                   solely_automated_decisions=False)
    base["safety"]["clinician_decides_on_ai_output"] = True
    base["human_rights"].update(clear_images_off_by_default=True, same_sex_viewing=True,
                                clear_images_individually_justified=True)
    products = {}
    for case in INDIVIDUAL_CASES:
        direct = checks[case]
        technology = direct.technology.model_dump(mode="json", exclude_none=True)
        named = json.dumps(technology, sort_keys=True)
        if named not in products:
            data = json.loads(json.dumps(base))
            data["technology"].update(technology)
            products[named] = service.save_assessment(service.validate_assessment(data), "Chair",
                                                      "panel_chair", app_store)
            approve(app_store, products[named].row.id)
        product = products[named]
        at = page("views/check_patient.py", person("clinician", [direct.patient.ward or ""]))
        offered = [o for o in at.selectbox(key="ind_product").options if product.row.id in o]
        assert offered, (case, texts(at))
        at.selectbox(key="ind_product").select(offered[0]).run()
        at.selectbox(key="ind_start").select(case).run()
        at.button(key="ind_load").click().run()
        at.button(key="ind_evaluate").click().run()
        assert not at.exception, case
        from_form = at.session_state["decision"]["assessment"].model_dump(mode="json")
        expected = direct.model_dump(mode="json")
        assert from_form.pop("product")["record_id"] == product.row.id
        expected.pop("product")
        stored = json.loads(product.row.input_json)["technology"]
        assert from_form.pop("technology") == {**expected.pop("technology"), **stored}, case
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
    assert "What DTPA does not judge" in [x.label for x in at.expander]  # folded under Details
    boxes = [b.value for b in (*at.success, *at.warning, *at.error, *at.info)]
    assert boxes and not any("lawful" in b.lower() for b in boxes)  # the outcome never says so


# --- one front door: every page acts through `Access` as the signed-in person ------------------

def current_product(store):
    """vbm-individual-decision assessed today and signed off, so a patient's use can rely on it."""
    import datetime as dt

    today = dt.date.today()
    data = load_case("vbm-individual-decision.yaml").model_dump(mode="json", exclude_none=True)
    later = (today + dt.timedelta(days=300)).isoformat()
    data["assessed_on"] = today.isoformat()
    data["data_protection"]["dpia_review_due"] = data["policy"]["policy_review_due"] = later
    data["assurance"].update(cyber_essentials_expires=later, ico_registration_expires=later,
                             penetration_test_date=today.isoformat())
    data["service"]["wards"] = ["Willow Ward", "Heron Ward"]  # a clinician is offered it there
    product = service.save_assessment(service.validate_assessment(data), "Chair", "panel_chair", store)
    approve(store, product.row.id)
    return product


def patient_page(actor: Actor, product, case: str | None = None) -> AppTest:
    at = page("views/check_patient.py", actor)
    choice = next(o for o in at.selectbox(key="ind_product").options if product.row.id in o)
    at.selectbox(key="ind_product").select(choice).run()
    if case:
        at.selectbox(key="ind_start").select(case).run()
        at.button(key="ind_load").click().run()
    return at


def keys(at: AppTest, kind: str) -> set[str]:
    return {w.key for w in getattr(at, kind) if w.key}


def someone(username: str, role: str, wards: list[str] | None = None) -> Actor:
    return Actor(username=username, name=username.replace(".", " ").title(), role=role,
                 wards=wards or [])


def test_a_patients_draft_is_its_authors_alone_and_only_on_their_ward(app_store):
    product = current_product(app_store)
    kim = someone("kim.lee", "clinician", ["Willow Ward"])
    at = patient_page(kim, product, "vbm-adult-consents-night-use")  # a Willow Ward patient
    at.text_input(key="ind_draft_name").input("WIL-0042 night use")
    at.button(key="ind_save_draft").click().run()
    assert any("night use' saved" in s.value for s in at.success)  # the typed name escaped

    at = patient_page(kim, product)
    assert at.selectbox(key="ind_draft").options == ["WIL-0042 night use"]  # not the autosave
    at.button(key="ind_draft_open").click().run()
    assert at.session_state["answers:individual_use"]["patient.reference"] == "WIL-0042"

    # another ward's clinician, another clinician on the same ward, and the DPO see nothing of it
    for other in (someone("ola.ade", "clinician", ["Heron Ward"]),
                  someone("jo.bell", "nurse_in_charge", ["Willow Ward"]), someone("sam.patel", "dpo")):
        at = patient_page(other, product) if other.wards else page("views/check_patient.py", other)
        assert "ind_draft" not in keys(at, "selectbox"), other.role
        assert "WIL" not in texts(at) and "ind_restore" not in keys(at, "button")
    # the same name from another ward is that person's own draft: Kim's is not replaced
    at = patient_page(someone("ola.ade", "clinician", ["Heron Ward"]), product)
    at.text_input(key="ind_draft_name").input("WIL-0042 night use")
    at.button(key="ind_save_draft").click().run()
    assert at.success and not at.error
    at = patient_page(kim, product)
    at.button(key="ind_draft_open").click().run()
    assert at.session_state["answers:individual_use"]["patient.reference"] == "WIL-0042"
    # Kim moves to Heron Ward: the Willow Ward patient's draft is no longer shown to her
    at = patient_page(someone("kim.lee", "clinician", ["Heron Ward"]), product)
    assert "ind_draft" not in keys(at, "selectbox")


def test_product_drafts_are_the_panels_and_not_a_clinicians(app_store):
    at = page("views/assess_product.py", person("panel_chair"))
    at.selectbox(key="pro_start").select("Case study: feedback-kiosk").run()
    at.button(key="pro_load").click().run()
    at.text_input(key="pro_draft_name").input("Kiosk for Oak Ward")
    at.button(key="pro_save_draft").click().run()
    assert any("Draft 'Kiosk for Oak Ward' saved" in s.value for s in at.success)
    at = page("views/assess_product.py", person("clinical_safety_officer"))
    assert "Draft: Kiosk for Oak Ward" in at.selectbox(key="pro_start").options
    at = page("views/assess_product.py", person("clinician", ["Oak Ward"]))
    assert "pro_start" not in [s.key for s in at.selectbox]  # the panel's page is not offered
    assert "procurement panel" in at.warning[0].value
    clinician = Access(account_for(person("clinician", ["Oak Ward"])), app_store)
    assert not any(d.context == "procurement" for d in clinician.drafts())
    with pytest.raises(AccessDenied, match="may not save procurement"):
        clinician.save_draft("Mine", "procurement", {})


def test_a_clinician_sees_only_their_wards_history_and_reviews(app_store):
    willow = {v.row.id for v in app_store.latest(context="individual_use") if v.row.ward == "Willow Ward"}
    heron = page("views/records.py", person("clinician", ["Heron Ward"], "Ola Ade"))
    options = set(heron.selectbox(key="rec_open_id").options)
    assert willow and not willow & options and any(o.startswith("IND-") for o in options)
    def reviews_on_home(actor):  # the home page lists reviews due, each with its button
        home = page("views/home.py", actor)
        return {str(b.key).removeprefix("home_review_") for b in home.button
                if str(b.key).startswith("home_review_")}
    assert not willow & reviews_on_home(person("clinician", ["Heron Ward"]))
    assert willow & reviews_on_home(person("dpo"))  # the seeded reviews are due for the DPO

    at = page("views/records.py", person("clinician", ["Willow Ward"], "Kim Lee"))
    chosen = sorted(willow)[0]
    at.selectbox(key="rec_open_id").select(chosen).run()
    at.button(key="rec_open").click().run()
    assert at.subheader[0].value == f"Record {chosen}"
    history = at.dataframe[-1].value
    assert (list(history["Action"])[-1], list(history["Who"])[-1]) == ("viewed", "Kim Lee (Clinician)")
    # someone else at the same browser without signing out is refused the history
    at.session_state["actor"] = account_for(person("clinician", ["Heron Ward"], "Ola Ade"))
    at.run()
    assert any("may not read individual use on ward 'Willow Ward'" in e.value for e in at.error)
    assert not any(s.value.startswith("Record ") for s in at.subheader)
    at.button(key="sign_out").click().run()
    assert "opened" not in at.session_state and "actor" not in at.session_state


def test_a_download_is_audited_as_the_signed_in_person(app_store):
    product = current_product(app_store)
    at = page("views/records.py", person("dpo", name="Sam Patel"))
    at.selectbox(key="rec_open_id").select(product.row.id).run()
    at.button(key="rec_open").click().run()
    at.button(key="rec_show").click().run()
    before = len(app_store.history(product.row.id)[1])
    assert len(app_store.history(product.row.id)[1]) == before  # prepared, not yet taken
    at.download_button(key="dl_pdf").click().run()
    events = app_store.history(product.row.id)[1]
    assert len(events) == before + 1
    assert (events[-1].action, events[-1].actor, events[-1].role, events[-1].detail) == (
        "exported", "Sam Patel", "dpo", {"format": "pdf"})


def test_check_patient_offers_only_the_wards_the_person_works_on(app_store):
    """Ward is a choice among the person's own wards that the product covers, so a wrong ward
    cannot be typed; Access still refuses one (a check built elsewhere)."""
    product = current_product(app_store)  # covers Willow and Heron Ward
    at = patient_page(person("clinician", ["Willow Ward"]), product, "vbm-adult-consents-night-use")
    at.radio(key="ind_steps").set_value("patient").run()
    ward = at.selectbox(key="q:individual_use:patient.ward")
    assert ward.options == ["Willow Ward"] and ward.value == "Willow Ward"
    at.radio(key="ind_steps").set_value("check").run()
    at.button(key="ind_evaluate").click().run()
    assert not at.exception
    assert at.session_state["decision"]["record"].subject.ward == "Willow Ward"
    elsewhere = at.session_state["decision"]["assessment"].model_copy(deep=True)
    elsewhere.patient.ward = "Heron Ward"
    with pytest.raises(AccessDenied, match="may not check a use for a patient on ward 'Heron Ward'"):
        Access(account_for(person("clinician", ["Willow Ward"])), app_store).decide(elsewhere)


def test_the_first_administrator_is_created_once_and_audited_as_the_bootstrap(app_store):
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert "first_user" not in keys(at, "text_input")  # no setup token: no form at all
    assert "dtpa setup-token" in texts(at) and "dtpa users add" in texts(at)
    token, _ = accounts.setup_token(app_store, "ops")
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.text_input(key="first_token").input("dtpa-setup-a-guess")
    at.text_input(key="first_user").input("eve")
    at.text_input(key="first_name").input("Eve Mallory")
    at.text_input(key="first_password").input("a long enough password")
    at.text_input(key="first_again").input("a long enough password")
    at.button[0].click().run()
    assert any("setup token is wrong" in e.value for e in at.error)
    assert "actor" not in at.session_state and not app_store.users()
    at.text_input(key="first_token").input(token)
    at.text_input(key="first_user").input("ada.admin")
    at.text_input(key="first_name").input("Ada Admin")
    at.text_input(key="first_password").input("a long enough password")
    at.text_input(key="first_again").input("a long enough password")
    at.button[0].click().run()
    assert not at.exception and at.session_state["actor"].role.value == "administrator"
    with app_store.db.read() as session:  # the bootstrap event names no record: the last event
        last = session.execute(select(EventRow).order_by(EventRow.seq.desc()).limit(1)).scalar_one()
    assert (last.action, last.actor, last.role, last.record_id) == (
        "account_added", "Ada Admin", "administrator", None)
    setup_id = last.detail.pop("setup_token")
    assert setup_id and token not in str(last.detail)
    sealed = last.detail.pop("password_digest")  # the password hash, sealed with the audit key
    assert sealed.count(":") == 1 and app_store.users()[0].password_hash not in sealed
    assert last.detail == {"via": "web form", "client": "web this computer",
                           "username": "ada.admin", "role": "administrator", "bootstrap": True}
    assert app_store.verify().ok
    again = AppTest.from_file(APP, default_timeout=120).run()  # accounts exist: sign in instead
    assert not any("Create the first administrator" in str(s.value) for s in again.subheader)
    assert again.text_input(key="login_user")


def test_the_case_study_pages_read_the_library_through_the_model(app_store):
    """The pages offer exactly the library's case studies of their context (no text matching)."""
    at = page("views/case_studies.py")
    assert at.selectbox(key="cs_choice").options == [
        n.replace("-", " ") for n in service.case_studies()]
    assert PROCUREMENT_CASES and INDIVIDUAL_CASES
    assert set(PROCUREMENT_CASES) | set(INDIVIDUAL_CASES) == set(service.case_studies())


def test_signing_in_goes_through_access(app_store, monkeypatch):
    """The identity provider's account lookup and the first administrator, as the web calls
    them: an OpenID Connect account is found by issuer and subject, once an administrator has
    linked them; never by its e-mail address."""
    issuer = "https://login.example-trust.nhs.uk/v2.0"
    token, _ = accounts.setup_token(app_store, "ops")
    app_store.add_user("kim.lee@trust.nhs.uk", "Kim Lee", "clinician", ["Willow Ward"],
                       "correct horse battery", by=TEST_ADMIN)
    with pytest.raises(AccessDenied, match="not linked to an active DTPA account"):
        Access.for_account(issuer, "kim.lee@trust.nhs.uk", app_store)
    app_store.link_identity("kim.lee@trust.nhs.uk", issuer, "5e1d-0042", TEST_ADMIN)
    kim = Access.for_account(issuer, "5e1d-0042", app_store)
    assert (kim.actor.name, kim.actor.role.value, kim.actor.wards) == ("Kim Lee", "clinician",
                                                                      ["Willow Ward"])
    # accounts exist: no first administrator, and nothing added
    with pytest.raises(StoreConflict, match="accounts exist already"):
        Access.first_administrator("eve", "Eve Admin", "a long enough password", "web form",
                                   app_store, setup_token=token)
    # two first administrators at the same moment: the later one is refused
    monkeypatch.setattr(app_store, "users", lambda: [])
    with pytest.raises(StoreConflict, match="at the same moment"):
        Access.first_administrator("eve", "Eve Admin", "a long enough password", "web form",
                                   app_store, setup_token=token)
    monkeypatch.undo()
    assert [u.username for u in app_store.users()] == ["kim.lee@trust.nhs.uk"]


def test_a_draft_another_person_may_not_see_is_not_found(app_store):
    kim = Access(someone("kim.lee", "clinician", ["Willow Ward"]), app_store)
    kim.save_draft("bed 4", "individual_use", {"patient": {"ward": "Willow Ward"}})
    assert kim.draft("bed 4", "individual_use").data == {"patient": {"ward": "Willow Ward"}}
    for other in (someone("ola.ade", "clinician", ["Willow Ward"]), someone("sam.patel", "dpo")):
        with pytest.raises(RecordNotFound, match="no draft called 'bed 4'"):
            Access(other, app_store).draft("bed 4", "individual_use")
    with pytest.raises(AccessDenied, match="may not save a patient's draft on ward 'Heron Ward'"):
        kim.save_draft("bed 5", "individual_use", {"patient": {"ward": "Heron Ward"}})
    panel = Access(someone("ada.obi", "panel_chair"), app_store)
    with pytest.raises(StoreConflict, match="not yours to replace"):  # a name held by Kim's draft
        panel.save_draft("kim.lee:bed 4", "procurement", {})
    assert kim.draft("bed 4", "individual_use").context == "individual_use"


# --- sign-in that resists guessing (issue 12, item 4) -------------------------------------------

def test_an_idle_session_is_signed_out_on_a_moved_clock(app_store, monkeypatch):
    import sys
    import time

    at = page("views/records.py", person("dpo", name="Sam Patel"))
    auth = sys.modules["ui.auth"]  # the module the app runs, so moving its clock moves the app's
    start = time.time()
    monkeypatch.setattr(auth, "now", lambda: start + 29 * 60)
    at.run()  # 29 minutes later: still signed in, and the clock starts again from now
    assert at.session_state["actor"].name == "Sam Patel"
    monkeypatch.setattr(auth, "now", lambda: start + 29 * 60 + 30 * 60 + 1)
    at.run()  # then 30 minutes and a second without interaction
    assert "actor" not in at.session_state and "opened" not in at.session_state
    assert any("signed out after 30 minutes without activity" in i.value for i in at.info)
    assert at.text_input(key="login_user")  # the sign-in form, nothing else
    monkeypatch.setenv("DTPA_IDLE_MINUTES", "5")  # the limit is a setting
    monkeypatch.setattr(auth, "now", time.time)
    at = page("views/home.py", person("dpo", name="Sam Patel"))
    monkeypatch.setattr(auth, "now", lambda: time.time() + 5 * 60 + 1)
    at.run()
    assert "actor" not in at.session_state


def test_a_deactivated_accounts_web_session_ends_at_its_next_step(app_store):
    at = page("views/records.py", person("clinician", ["Willow Ward"], "Kim Lee"))
    app_store.change_role("kim.lee", "nurse_in_charge", TEST_ADMIN)
    at.run()
    assert at.session_state["actor"].role.value == "nurse_in_charge"  # a change applies at once
    app_store.deactivate("kim.lee", TEST_ADMIN)
    at.run()
    assert "actor" not in at.session_state
    assert any("deactivated" in i.value for i in at.info)


def test_web_sign_in_locks_after_five_wrong_passwords(app_store):
    app_store.add_user("kim.lee", "Kim Lee", "clinician", ["Willow Ward"], PASSWORD, by=TEST_ADMIN)
    at = AppTest.from_file(APP, default_timeout=120).run()
    for password in ["not the password"] * 5 + [PASSWORD]:
        at.text_input(key="login_user").input("kim.lee")
        at.text_input(key="login_password").input(password)
        at.button[0].click().run()
    assert "actor" not in at.session_state
    assert any("too many failed sign-ins" in e.value for e in at.error)
    with app_store.db.read() as session:
        failed = [e for e in session.execute(select(EventRow)).scalars()
                  if e.action in ("signin_failed", "signin_locked")]
    assert [e.action for e in failed] == ["signin_failed"] * 5 + ["signin_locked"]
    assert {e.detail["client"] for e in failed} == {"web this computer"}


def test_an_administrator_changes_accounts_on_the_accounts_page_and_each_is_audited(app_store):
    account_for(person("clinician", ["Willow Ward"], "Kim Lee"))
    at = page("views/accounts.py", person("administrator", name="Ada Admin"))
    at.selectbox(key="adm_user").select("kim.lee").run()
    at.button(key="adm_deactivate").click().run()
    assert any("kim.lee deactivated" in s.value for s in at.success)
    at.button(key="adm_reactivate").click().run()
    at.selectbox(key="adm_role").select("nurse_in_charge")
    at.button[[b.label for b in at.button].index("Change role")].click().run()
    at.text_input(key="adm_wards").input("Willow Ward, Heron Ward")
    at.button[[b.label for b in at.button].index("Set wards")].click().run()
    at.text_input(key="adm_password").input("aaaaaaaaaaaa")
    at.text_input(key="adm_password_again").input("aaaaaaaaaaaa")
    at.button[[b.label for b in at.button].index("Reset password")].click().run()
    assert any("too easy to guess" in e.value for e in at.error)
    at.text_input(key="adm_password").input("a brand new passphrase for kim")
    at.text_input(key="adm_password_again").input("a brand new passphrase for kim")
    at.button[[b.label for b in at.button].index("Reset password")].click().run()
    at.text_input(key="adm_iss").input("https://login.example-trust.nhs.uk/v2.0")
    at.text_input(key="adm_sub").input("5e1d-0042")
    at.button[[b.label for b in at.button].index("Link, or unlink with both empty")].click().run()
    assert not at.exception
    with app_store.db.read() as session:
        changes = [(e.action, e.actor) for e in session.execute(select(EventRow)).scalars()
                   if e.action.startswith("account_") and e.action != "account_added"]
    assert changes == [(action, "Ada Admin") for action in (
        "account_deactivated", "account_reactivated", "account_role_changed",
        "account_wards_changed", "account_password_reset", "account_oidc_linked")]
    kim = app_store.authenticate("kim.lee", "a brand new passphrase for kim")
    assert (kim.role.value, kim.wards) == ("nurse_in_charge", ["Willow Ward", "Heron Ward"])

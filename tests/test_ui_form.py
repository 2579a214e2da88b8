"""The assessment form (issue 13, items 1, 2 and 6): answers that survive navigation and failed
evaluations, a decision bound to the answers it was made from, errors a person can act on, short
steps with a check-your-answers page, and a clinician offered only what they may rely on."""

from __future__ import annotations

import datetime as dt

import pytest

from engine import service
from engine.service.forms import answers_hash, form_problems, questions, steps, text_limit
from engine.service.session import Access
from tests.conftest import approve, load_case
from tests.test_ui import account_for, page, person, texts


@pytest.fixture
def app(tmp_path, monkeypatch):
    """The app's store (as tests/test_ui.py's app): seeded, at DTPA_DATABASE_URL."""
    url = f"sqlite:///{tmp_path / 'ui.sqlite'}"
    monkeypatch.setenv("DTPA_DATABASE_URL", url)
    store = service.open_store(url)
    service.seed_case_studies(store)
    yield store
    service.api._STORES.pop(url, None)
    store.db.dispose()


NAME, VENDOR = "q:procurement:technology.name", "q:procurement:technology.vendor"
TITLE = "q:procurement:title"


def go(at, context_prefix: str, step: str):
    """Open a step from the step list, as a person clicking it."""
    at.radio(key=f"{context_prefix}_steps").set_value(step).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def product_form(case: str | None = None):
    at = page("views/assess_product.py", person("panel_chair", name="Dr Ada Obi"))
    if case:
        at.selectbox(key="pro_start").select(f"Case study: {case}").run()
        at.button(key="pro_load").click().run()
    return at


# --- 1. answers survive everything --------------------------------------------------------------

def test_answers_survive_navigating_away_and_back(app):
    at = product_form("vbm-individual-decision")
    go(at, "pro", "technology")
    at.text_input(key=VENDOR).input("Another Vendor Ltd").run()
    before = dict(at.session_state["answers:procurement"])
    assert before["technology.vendor"] == "Another Vendor Ltd"
    at.button(key="pro_next").click().run()  # to the next step: the vendor's widget is not drawn
    at.switch_page("views/decision.py").run()
    at.switch_page("views/records.py").run()
    at.switch_page("views/assess_product.py").run()
    assert not at.exception
    assert at.session_state["answers:procurement"] == before
    go(at, "pro", "technology")
    assert at.text_input(key=VENDOR).value == "Another Vendor Ltd"
    assert at.text_input(key=NAME).value == "Contactless bedroom monitor"
    progress = " ".join(str(p.proto.text) for p in at.get("progress"))
    assert not progress.startswith("0 of") and " of " in progress


def test_a_failed_evaluate_keeps_what_was_typed(app):
    at = product_form()
    go(at, "pro", "about")
    at.text_input(key=TITLE).input("Night monitor for Willow").run()
    go(at, "pro", "technology")
    at.text_input(key=VENDOR).input("Example Vision Ltd").run()
    go(at, "pro", "check")
    at.button(key="pro_evaluate").click().run()  # no product name nor category: refused
    assert not at.exception and "decision" not in at.session_state
    assert at.session_state["answers:procurement"]["title"] == "Night monitor for Willow"
    go(at, "pro", "technology")
    assert at.text_input(key=VENDOR).value == "Example Vision Ltd"
    at.text_input(key=NAME).input("Bedroom monitor").run()  # typing after the failure is kept
    go(at, "pro", "about")
    assert at.text_input(key=TITLE).value == "Night monitor for Willow"
    assert at.session_state["answers:procurement"]["technology.name"] == "Bedroom monitor"


def test_a_changed_answer_clears_the_decision_and_the_hash_says_so(app):
    from ui.answers import answers_match

    at = product_form("feedback-kiosk")
    at.button(key="pro_evaluate").click().run()
    decision = at.session_state["decision"]
    made_from = at.session_state["answers_hash:procurement"]
    assert decision["answers_hash"] == made_from and decision["context"] == "procurement"
    assert answers_match(decision, made_from)
    assert any("Open the full decision" in str(link.proto.label) for link in at.get("page_link"))
    go(at, "pro", "technology")
    at.text_input(key=VENDOR).input("A different supplier").run()
    now = at.session_state["answers_hash:procurement"]
    assert now != made_from
    assert not answers_match(decision, now)  # what the Decision page checks before Save
    assert "decision" not in at.session_state  # and the shown decision is gone
    go(at, "pro", "check")
    assert "Evaluate again" in texts(at)
    assert not any("Open the full decision" in str(link.proto.label) for link in at.get("page_link"))


def test_answers_match_binds_a_decision_to_its_answers():
    from ui.answers import answers_match

    data = {"context": "procurement", "technology": {"name": "A", "category": "other"}}
    decision = {"answers_hash": answers_hash(data), "context": "procurement"}
    assert answers_match(decision, data) and answers_match(decision, answers_hash(data))
    changed = {**data, "title": "B"}
    assert not answers_match(decision, changed) and not answers_match(None, data)
    assert answers_match({"record": object(), "view_id": "PRO-1"}, changed)  # not from a form


def test_answers_are_saved_as_a_draft_and_offered_back_in_a_new_session(app):
    at = product_form("feedback-kiosk")
    ada = Access(account_for(person("panel_chair", name="Dr Ada Obi")), app)
    saved = {d.name: d for d in ada.drafts("procurement")}
    assert "Unsaved answers (dr.ada.obi)" in saved
    assert saved["Unsaved answers (dr.ada.obi)"].data["technology"]["name"] == \
        at.session_state["answers:procurement"]["technology.name"]
    fresh = product_form()  # a new session: nothing loaded unasked, the answers offered
    assert not fresh.session_state["answers:procurement"]
    fresh.button(key="pro_restore").click().run()
    assert fresh.session_state["answers:procurement"] == at.session_state["answers:procurement"]
    # the panel's list of named drafts does not list answers saved automatically
    assert not any(o.startswith("Draft: Unsaved") for o in fresh.selectbox(key="pro_start").options)


def test_a_patients_draft_expires_after_the_profiles_hours(app, monkeypatch):
    kim = Access(account_for(person("clinician", ["Willow Ward"], "Kim Lee")), app)
    kim.save_draft("bed 4", "individual_use", {"patient": {"ward": "Willow Ward"}})
    assert [d.name for d in kim.drafts("individual_use")] == ["bed 4"]
    hours = service.default_pack().profile.patient_draft_hours
    assert hours == 72
    from engine.store.tables import DraftRow

    old = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours, minutes=1)).isoformat()
    with app.db.write() as session:
        session.get(DraftRow, "kim.lee:bed 4").saved_at = old
    assert kim.drafts("individual_use") == []
    with app.db.read() as session:  # deleted, not only hidden
        assert session.get(DraftRow, "kim.lee:bed 4") is None


# --- 2. errors a person can act on --------------------------------------------------------------

def test_the_error_summary_lists_every_problem_by_its_question(app):
    at = product_form("feedback-kiosk")
    go(at, "pro", "technology")
    at.text_input(key=NAME).input("").run()
    go(at, "pro", "P1")
    key = "q:procurement:deployment.covert_use_possible"
    at.radio(key=key).set_value("Not applicable").run()
    at.text_area(key=key + ":why").input("no").run()
    go(at, "pro", "check")
    at.button(key="pro_evaluate").click().run()
    problems = at.session_state["problems:procurement"]
    assert [p.question for p in problems] == ["Product name",
                                              "Could it be used without the patient knowing?"]
    summary = [b.label for b in at.button if b.key and b.key.startswith("pro_problem_")]
    assert summary == ["Product name: Answer this question: it is needed for a decision",
                       "Could it be used without the patient knowing?: Give a reason of at least 3 "
                       "characters why this does not apply"]
    shown = texts(at) + " ".join(summary)
    for developer_words in ("technology.name", "deployment.", "String should", "Field required", "^["):
        assert developer_words not in shown
    # the steps holding them are marked, and a problem opens its step
    marks = at.radio(key="pro_steps")
    flagged = [o for o in marks.options if o.endswith("⚠")]
    assert flagged == ["2. The product ⚠", "4. Human rights approach ⚠"]
    assert [c.split(" · ")[-1] for c in marks.proto.captions if "⚠" in c] == ["⚠ 1 problem"] * 2
    at.button(key="pro_problem_1").click().run()
    assert at.radio(key="pro_steps").value == "P1"
    assert any("Give a reason of at least 3 characters" in e.value for e in at.error)


def test_an_error_goes_when_its_question_is_fixed(app):
    at = product_form("feedback-kiosk")
    go(at, "pro", "technology")
    at.text_input(key=NAME).input("").run()
    go(at, "pro", "about")
    at.text_input(key=TITLE).input("x" * 200).run()
    go(at, "pro", "check")
    at.button(key="pro_evaluate").click().run()
    assert [p.path for p in at.session_state["problems:procurement"]] == ["technology.name"]
    at.button(key="pro_problem_0").click().run()
    at.text_input(key=NAME).input("Feedback kiosk").run()
    assert at.session_state["problems:procurement"] == []
    assert not any("Product name" in e.value for e in at.error)


def test_short_answers_are_single_line_and_limited_as_typed(app):
    at = product_form()
    go(at, "pro", "technology")
    for path in ("technology.name", "technology.vendor", "technology.version"):
        widget = at.text_input(key=f"q:procurement:{path}")
        assert widget.proto.max_chars == 200 == text_limit("procurement", path)
    assert not [t for t in at.text_area if t.key and t.key.startswith("q:procurement:technology.")]
    go(at, "pro", "about")
    assert at.text_input(key=TITLE).proto.max_chars == 200
    assert text_limit("individual_use", "patient.reference") == 32
    assert text_limit("individual_use", "justification.rationale") == 20_000


def test_problems_are_told_in_plain_words(app):
    qs = questions(service.default_pack(), "individual_use")
    data = {"context": "individual_use", "technology": {"name": "A", "category": "other"},
            "patient": {"reference": "Jane Smith"}, "alternatives": [{"why_not_enough": "too slow"}],
            "override_of_refusal": {"review_within_hours": -2}, "capacity": {"assessed_on": "2025-02-30"}}
    problems = form_problems(data, qs)
    assert {p.path: p.message for p in problems} == {
        "patient.reference": "Use the patient's local reference: 3 to 32 letters or digits, with no "
                             "spaces (dots, dashes and underscores are allowed); never a name or NHS "
                             "number",
        "capacity.assessed_on": "Enter a real date (day, month and year)",
        "override_of_refusal.review_within_hours": "Enter a number more than 0",
        "alternatives": "Entry 1: 'The less restrictive option considered' needs an answer"}
    assert all("[" not in p.message and "." not in p.question[:3] for p in problems)


# --- 6. short steps, check your answers --------------------------------------------------------

def test_the_form_comes_in_short_steps_ending_with_check_your_answers(app):
    pack = service.default_pack()
    for context, skip, by_topic in (("procurement", (), False),
                                    ("individual_use", ("technology.", "product."), True)):
        parts = steps(questions(pack, context), pack.catalogue.targets, skip, by_topic)
        assert len(parts) >= 10 and all(0 < len(s.questions) <= 12 for s in parts)
    assert [s.title for s in parts][:5] == ["About this assessment", "The patient", "The proposed use",
                                            "Capacity", "The decision and who made it"]
    at = product_form("feedback-kiosk")
    assert at.radio(key="pro_steps").value == "check"  # a loaded case is shown to be checked
    assert "Check your answers" in [s.value.split(". ", 1)[-1] for s in at.subheader]
    at.button(key="pro_change_technology").click().run()
    assert at.radio(key="pro_steps").value == "technology"
    at.button(key="pro_next").click().run()
    assert at.radio(key="pro_steps").value == "service"
    at.button(key="pro_back").click().run()
    assert at.radio(key="pro_steps").value == "technology"
    assert not at.tabs  # no tabs any more


# --- 6. the clinician's path ----------------------------------------------------------------------

def product_covering(store, wards: list[str], *, approved: bool = True, days_ago: int = 0,
                     name: str = "Contactless bedroom monitor"):
    today = dt.date.today() - dt.timedelta(days=days_ago)
    data = load_case("vbm-individual-decision.yaml").model_dump(mode="json", exclude_none=True)
    later = (today + dt.timedelta(days=300)).isoformat()
    data["assessed_on"] = today.isoformat()
    data["data_protection"]["dpia_review_due"] = data["policy"]["policy_review_due"] = later
    data["assurance"].update(cyber_essentials_expires=later, ico_registration_expires=later,
                             penetration_test_date=today.isoformat())
    data["service"]["wards"] = wards
    data["technology"]["name"] = name
    product = service.save_assessment(service.validate_assessment(data), "Chair", "panel_chair", store)
    if approved:
        approve(store, product.row.id)
    return product


def test_a_clinician_is_offered_only_approved_current_products_for_their_wards(app):
    mine = product_covering(app, ["Willow Ward"])
    unsigned = product_covering(app, ["Willow Ward"], approved=False)
    lapsed = product_covering(app, ["Willow Ward"], days_ago=400)
    elsewhere = product_covering(app, ["Heron Ward"])
    at = page("views/check_patient.py", person("clinician", ["Willow Ward"], "Kim Lee"))
    chooser = at.selectbox(key="ind_product")
    assert chooser.options and all(mine.row.id in o for o in chooser.options)
    assert chooser.value is None and chooser.index is None  # nothing preselected
    assert not at.error  # no red error is the first thing seen
    why = texts(at)
    assert unsigned.row.id.replace("-", "\\-") in why and "not signed off" in why
    assert lapsed.row.id.replace("-", "\\-") in why and "has passed" in why
    assert elsewhere.row.id.replace("-", "\\-") in why and "does not cover your wards" in why


def test_the_clinician_chooses_the_ward_and_does_not_type_the_product(app):
    product = product_covering(app, ["Willow Ward", "Heron Ward", "Oak Ward"])
    at = page("views/check_patient.py", person("clinician", ["Willow Ward", "Heron Ward"], "Kim Lee"))
    at.selectbox(key="ind_product").select(next(
        o for o in at.selectbox(key="ind_product").options if product.row.id in o)).run()
    go(at, "ind", "patient")
    ward = at.selectbox(key="q:individual_use:patient.ward")
    assert ward.options == ["Willow Ward", "Heron Ward"] and ward.value is None
    assert not [w for w in (*at.text_input, *at.text_area, *at.selectbox)
                if w.key and w.key.startswith(("q:individual_use:technology.", "q:individual_use:product."))]
    steps_shown = at.radio(key="ind_steps").options
    assert not any("product" in s.lower() and "decision" in s.lower() for s in steps_shown)
    ward.select("Heron Ward").run()
    at.text_input(key="q:individual_use:patient.reference").input("HER-0007").run()
    go(at, "ind", "check")
    at.button(key="ind_evaluate").click().run()
    assert not at.exception
    checked = at.session_state["decision"]["assessment"]
    assert checked.patient.ward == "Heron Ward"
    assert checked.technology.name == "Contactless bedroom monitor"  # from the stored decision
    assert checked.product.record_id == product.row.id


def test_a_case_study_ward_that_is_not_the_clinicians_is_removed(app):
    product = product_covering(app, ["Willow Ward", "Heron Ward"])
    at = page("views/check_patient.py", person("clinician", ["Heron Ward"], "Ola Ade"))
    at.selectbox(key="ind_product").select(next(
        o for o in at.selectbox(key="ind_product").options if product.row.id in o)).run()
    at.selectbox(key="ind_start").select("vbm-adult-consents-night-use").run()  # a Willow patient
    at.button(key="ind_load").click().run()
    assert any("not one of your wards" in w.value for w in at.warning)
    assert "patient.ward" not in at.session_state["answers:individual_use"]


def test_without_a_product_decision_evaluate_asks_for_one(app):
    product_covering(app, ["Willow Ward"])
    at = page("views/check_patient.py", person("clinician", ["Willow Ward"], "Kim Lee"))
    go(at, "ind", "check")
    at.button(key="ind_evaluate").click().run()
    assert [p.message for p in at.session_state["problems:individual_use"]] == [
        "Choose the product decision this use relies on, at the top of the page",
        "Choose the patient's ward"]
    assert "decision" not in at.session_state


@pytest.mark.parametrize("role", ["dpo", "panel_chair"])
def test_people_who_do_not_check_patients_are_told_so(app, role):
    at = page("views/check_patient.py", person(role))
    assert "for clinical staff" in texts(at)
    assert "ind_product" not in {w.key for w in at.selectbox}


def test_the_patient_form_keeps_the_product_ward_and_answers_across_pages(app):
    product = product_covering(app, ["Willow Ward"])
    at = page("views/check_patient.py", person("clinician", ["Willow Ward"], "Kim Lee"))
    at.selectbox(key="ind_product").select(next(
        o for o in at.selectbox(key="ind_product").options if product.row.id in o)).run()
    go(at, "ind", "patient")
    at.selectbox(key="q:individual_use:patient.ward").select("Willow Ward").run()
    at.text_input(key="q:individual_use:patient.reference").input("WIL-0099").run()
    at.switch_page("views/records.py").run()
    at.switch_page("views/check_patient.py").run()
    assert product.row.id in at.selectbox(key="ind_product").value
    go(at, "ind", "patient")
    assert at.selectbox(key="q:individual_use:patient.ward").value == "Willow Ward"
    assert at.text_input(key="q:individual_use:patient.reference").value == "WIL-0099"
    assert at.text_input(key="q:individual_use:patient.reference").proto.max_chars == 32

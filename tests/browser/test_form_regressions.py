"""The form's regressions of issue 13, as a person meets them in Chromium: answers lost when
leaving the page (and an old decision left saveable), text lost after a failed Evaluate, a ward
typed that is not the person's, impossible dates accepted and a short answer's limit enforced only
at Evaluate. Every element is found by its visible label."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from engine import service
from engine.store import Database, Store
from tests.browser.actions import (
    choose_ward,
    enter_date,
    go,
    load_case,
    open_app,
    open_step,
    rely_on,
    sign_out,
)
from tests.browser.conftest import check_accessibility, screenshot, wait_for_app
from tests.conftest import ALL_ATTESTATIONS

pytestmark = pytest.mark.browser


def box(page, label: str):
    """The text box whose label starts with `label` (its help button bears the label too)."""
    return page.get_by_role("textbox", name=re.compile("^" + re.escape(label)))


def type_into(page, label: str, text: str) -> None:
    """Type an answer and leave the box (Tab), as a person does; Streamlit keeps it then."""
    field = box(page, label)
    field.fill(text)
    field.press("Tab")
    wait_for_app(page)


def test_leaving_the_form_and_coming_back_keeps_the_answers_and_an_old_decision_goes(app_server, page):
    open_app(page, app_server)
    go(page, "Assess a product")
    load_case(page, "Start from", "Case study: vbm-individual-decision",
              "Start from a case study or a saved draft")
    page.get_by_role("button", name="Evaluate").click()
    page.get_by_text("Supported with conditions").first.wait_for()
    wait_for_app(page)
    progress = page.get_by_text(re.compile(r"\d+ of \d+ questions the rules need are answered"))
    before = progress.inner_text()
    go(page, "Decision")
    page.get_by_role("button", name="Save this decision").wait_for()
    go(page, "Assess a product")
    assert progress.inner_text() == before and not before.startswith("0 of")
    assert page.get_by_text("Field required").count() == 0
    page.get_by_text("Supported with conditions").first.wait_for()  # the same answers: still shown
    open_step(page, "The product")
    assert box(page, "Product name").input_value() == "Contactless bedroom monitor"
    type_into(page, "Who supplies it", "Another Vendor Ltd")  # the answers change ...
    go(page, "Decision")  # ... so the decision made from the old ones is gone, not saveable
    page.get_by_text(re.compile("answers changed after the last evaluation")).first.wait_for()
    assert page.get_by_role("button", name="Save this decision").count() == 0
    go(page, "Assess a product")
    open_step(page, "Check your answers")
    page.get_by_text("Evaluate again").wait_for()
    screenshot(page, "form-answers-kept")


def test_text_typed_after_a_failed_evaluate_is_kept(app_server, page):
    open_app(page, app_server)
    go(page, "Assess a product")
    page.get_by_text("Save as a named draft, or start again").click()
    page.get_by_role("button", name="Start again with a blank form").click()
    wait_for_app(page)
    for attempt in range(1, 4):  # it was lost 5 times in 5
        open_step(page, "About this assessment")
        type_into(page, "A short title for this assessment", f"Night monitor, try {attempt}")
        open_step(page, "The product")
        type_into(page, "Who supplies it", f"Vendor {attempt} Ltd")
        open_step(page, "Check your answers")
        page.get_by_role("button", name="Evaluate").click()
        wait_for_app(page)
        summary = page.get_by_text(re.compile("problems? to correct before a decision can be made"))
        summary.wait_for()
        problems = page.get_by_role("button", name=re.compile("^Product name: "))
        problems.first.wait_for()
        wait_for_app(page)
        assert problems.count() == 1, page.get_by_role("button").all_inner_texts()  # plain words
        assert page.get_by_text("technology.name").count() == 0
        open_step(page, "The product")
        assert box(page, "Who supplies it").input_value() == f"Vendor {attempt} Ltd"
        type_into(page, "Product name", f"Monitor {attempt}")
        open_step(page, "About this assessment")
        assert box(page, "A short title for this assessment").input_value() == \
            f"Night monitor, try {attempt}"
        open_step(page, "The product")
        assert box(page, "Product name").input_value() == f"Monitor {attempt}"
        assert box(page, "Who supplies it").input_value() == f"Vendor {attempt} Ltd"
        type_into(page, "Product name", "")  # the next try fails again
    # the step holding a problem is marked, and the summary's link opens it
    open_step(page, "Check your answers")
    page.get_by_role("button", name="Evaluate").click()
    wait_for_app(page)
    check_accessibility(page, "form-error-summary")
    page.get_by_role("button", name=re.compile("^Product name: ")).click()
    wait_for_app(page)
    box(page, "Product name").wait_for()
    screenshot(page, "form-after-failed-evaluate")


def test_a_wrong_ward_cannot_be_chosen(app_server, page, monkeypatch):
    server_db = Path(app_server.db_url.split("///", 1)[1])
    monkeypatch.setenv("DTPA_KEY_DIR", str(server_db.parent / "keys"))  # the server's audit key
    store = Store(Database(app_server.db_url),
                  required_roles=service.api.signoff_roles(service.default_pack()))
    today = dt.date.today()
    data = service.load_assessment(service.CASE_STUDIES / "vbm-individual-decision.yaml").model_dump(
        mode="json", exclude_none=True)
    later = (today + dt.timedelta(days=300)).isoformat()
    data["assessed_on"] = today.isoformat()
    data["data_protection"]["dpia_review_due"] = data["policy"]["policy_review_due"] = later
    data["assurance"].update(cyber_essentials_expires=later, ico_registration_expires=later,
                             penetration_test_date=today.isoformat())
    data["service"]["wards"] = ["Willow Ward", "Heron Ward"]
    data["technology"]["name"] = "Two-ward monitor"
    product = service.save_assessment(service.validate_assessment(data), "Panel Chair",
                                      "panel_chair", store)
    for role in service.default_pack().profile.required_signoff_roles["procurement"]:
        store.sign(product.row.id, f"Signer {role}", role, ALL_ATTESTATIONS)

    open_app(page, app_server, "kim.lee")  # a clinician on Willow Ward only
    go(page, "Check use for a patient")
    chooser = page.get_by_role("combobox", name=re.compile("^Product decision this use relies on"))
    assert chooser.input_value() == ""  # nothing preselected: the placeholder shows
    assert chooser.get_attribute("placeholder") == "Choose a product decision"
    assert page.get_by_test_id("stAlert").filter(has_text="cannot be relied on").count() == 0
    check_accessibility(page, "check-patient-start")
    chooser.click()
    page.get_by_role("listbox").wait_for()
    page.keyboard.type(product.row.id, delay=20)
    page.get_by_role("option").filter(has_text=product.row.id).first.wait_for()
    page.keyboard.press("Enter")
    wait_for_app(page)
    page.get_by_text("is approved and current").wait_for()
    open_step(page, "The patient")
    page.get_by_role("combobox", name=re.compile("^Ward")).click()
    if not page.get_by_role("listbox").count():
        page.keyboard.press("ArrowDown")  # opens the list from the keyboard
    page.get_by_role("listbox").wait_for()
    offered = page.get_by_role("option").all_inner_texts()
    assert offered == ["Willow Ward"]  # not Heron Ward, which the product covers but Kim does not
    page.keyboard.press("Escape")
    assert box(page, "Product name").count() == 0  # from the product decision, not typed
    screenshot(page, "form-ward-choice")
    check_accessibility(page, "check-patient-step")


def evaluate_and_find(page, question: str, message: str):
    """Evaluate from Check your answers; the error summary's link for a problem with a question."""
    open_step(page, "Check your answers")
    page.get_by_role("button", name="Evaluate").click()
    wait_for_app(page)
    problem = page.get_by_role("button", name=re.compile(rf"^{re.escape(question)}: {message}"))
    problem.wait_for()
    return problem


def test_impossible_dates_are_refused_in_plain_words(app_server, page, approved_product):
    """A penetration test in 2099 on a product; a capacity assessment in 2030 and a use that starts
    after its review on a patient's check: each refused in words naming the question, its step
    marked, every problem listed at once, and gone once the date is put right."""
    today = dt.date.today()
    open_app(page, app_server, "ada.obi")
    go(page, "Assess a product")
    load_case(page, "Start from", "Case study: tablets-family-calls",
              "Start from a case study or a saved draft")
    open_step(page, "Data protection: supplier assurance")
    enter_date(page, "Date of the last penetration test", dt.date(2099, 1, 1))
    test = "Date of the last penetration test"
    evaluate_and_find(page, test, re.escape(f"{test} (2099-01-01) is in the future (today is {today})"))
    page.get_by_role("radio", name="Data protection: supplier assurance ⚠").wait_for()
    assert page.get_by_text(re.compile("^Supported with conditions: deploy")).count() == 0  # no decision
    check_accessibility(page, "form-date-in-future")
    sign_out(page)

    open_app(page, app_server, "kim.lee")
    go(page, "Check use for a patient")
    load_case(page, "Case study", "vbm-adult-consents-night-use", "Start from a case study")
    rely_on(page, approved_product)
    choose_ward(page, "Willow Ward")
    review = "When the use will be reviewed (the next scheduled review)"
    open_step(page, "Review")
    enter_date(page, review, today + dt.timedelta(days=7))
    open_step(page, "The proposed use")
    enter_date(page, "Start date", today + dt.timedelta(days=30))
    open_step(page, "Capacity")
    enter_date(page, "When capacity was assessed", dt.date(2030, 1, 15))
    capacity = evaluate_and_find(page, "When capacity was assessed", re.escape(
        "Date capacity was assessed (2030-01-15) is in the future"))
    start = page.get_by_role("button", name=re.compile(re.escape(
        f"Start date: Start date ({today + dt.timedelta(days=30)}) is after the review date")))
    start.wait_for()
    page.get_by_text("There are 2 problems to correct before a decision can be made.").wait_for()
    for marked in ("Capacity ⚠", "The proposed use ⚠"):
        page.get_by_role("radio", name=re.compile(rf"^\d+\. {marked}$")).wait_for()
    screenshot(page, "form-dates-refused")
    check_accessibility(page, "check-patient-dates-refused")
    capacity.click()  # opens its step
    wait_for_app(page)
    page.get_by_role("heading", level=3, name=re.compile(r"^\d+\. Capacity$")).wait_for()
    enter_date(page, "When capacity was assessed", today - dt.timedelta(days=3))
    assert capacity.count() == 0 and start.count() == 1  # the fixed one goes, the other stays


def test_a_short_answer_stops_at_its_limit_as_it_is_typed(app_server, page):
    """A title is one line of at most 200 characters: the box takes no more (it was refused only
    at Evaluate)."""
    open_app(page, app_server)
    go(page, "Assess a product")
    open_step(page, "About this assessment")
    title = box(page, "A short title for this assessment")
    title.click()
    page.keyboard.type("Night monitor " * 20)  # 280 characters
    assert len(title.input_value()) == 200
    assert title.evaluate("el => el.tagName") == "INPUT"  # one line, not a text area


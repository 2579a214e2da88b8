"""The three journeys of issue 13 in a real browser (Debian's Chromium via Playwright), from the
store `make run` seeds (`dtpa seed`: the case studies, assessed today) and the accounts conftest
adds, with every element found by what a person sees: its role and visible label or its text
(get_by_role, get_by_label, get_by_text), never a CSS selector, a test id or a widget key.
axe-core checks every state a journey passes through (each step of the form, check your answers,
the error summary, the decision page, the override confirmation, the approved decision, the
records, the verify result): no serious or critical WCAG 2.2 A/AA violation.

- A panel chair assesses a product from a case study, checks every step, evaluates, saves it as
  the new version of the seeded record, checks an override and cancels it, and signs; the DPO,
  the clinical safety officer and the lived experience representative sign in turn; the chair
  comes back to the approved decision and downloads its audit PDF, which `verify-pdf` accepts.
- A clinician checks one patient's use on their ward against the seeded product decision
  (approved in a fixture through the service layer, by the four accounts that must sign it):
  an error summary for the product not chosen, then for a review date before the assessment,
  each step, check your answers, the decision saved.
- A DPO, with the keyboard alone (Tab, Shift+Tab, Enter, Space, arrow keys; no mouse), signs in,
  verifies the audit chain and downloads a bundle, which `verify-pdf` accepts.

Screenshots of each state go to artifacts/; with DTPA_DOCS_SCREENSHOTS=1 the README's screenshots
are written to docs/screenshots/ as well.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest

from engine import service
from engine.export.verify import verify_pdf
from tests.browser.actions import (
    choose,
    enter_date,
    go,
    load_case,
    open_app,
    open_list,
    open_record,
    open_step,
    press_until_gone,
    rely_on,
    sign_out,
)
from tests.browser.conftest import (
    ARTIFACTS,
    PASSWORD,
    ROOT,
    check_accessibility,
    page_height,
    screenshot,
    wait_for_app,
)

pytestmark = pytest.mark.browser
DOCS = ROOT / "docs" / "screenshots"
DOC_WIDTH = 1000  # pixels: the README's screenshots are scaled down to this width

# The four statements a signer ticks, as the sign-off form words them.
ATTESTATIONS = ["The subject and the answers describe the technology and its use accurately",
                "I understand the risks and findings this decision records",
                "I agree the conditions and actions, and who owns them",
                "The conditions and actions will be carried out by their due dates"]
PANEL_CASE = "vr-relaxation"  # a product no other browser test saves
PANEL_OUTCOME = "Supported with conditions: deploy only once the conditions are met."
PATIENT_CASE = "vbm-adult-consents-night-use"


def step_heading(page, number: int):
    return page.get_by_role("heading", level=3, name=re.compile(rf"^{number}\. "))


def walk_the_steps(page, journey: str) -> int:
    """From step 1, Continue through every step to Check your answers, axe-core on each;
    the number of the Check your answers step."""
    page.get_by_role("radiogroup", name="Steps").get_by_role("radio", name=re.compile(r"^1\. ")).check(
        force=True)  # Streamlit's radio input is visually hidden behind its label
    wait_for_app(page)
    number = 1
    while True:
        heading = step_heading(page, number)
        heading.wait_for()
        title = heading.inner_text()
        check_accessibility(page, f"{journey}-step-{number}")
        if title.endswith("Check your answers"):
            return number
        page.get_by_role("button", name="Continue", exact=True).click()
        wait_for_app(page)
        number += 1


def record_id_shown(page) -> str:
    """The stored record the Decision page shows ("Stored record PRO-1a2b3c4d@2 · ...")."""
    caption = page.get_by_text(re.compile(r"^Stored record (PRO|IND)-"))
    caption.wait_for()
    return caption.inner_text().split()[2]


def sign_off(page, record_id: str, role: str) -> None:
    page.get_by_text(f"Sign off {record_id} as {role}").wait_for()
    for statement in ATTESTATIONS:
        page.get_by_role("checkbox", name=statement).check(force=True)
    page.get_by_role("button", name="Sign off", exact=True).click()
    wait_for_app(page)
    page.get_by_text(f"Signed {record_id} as {role}.").wait_for()


def doc_shot(page, name: str, target=None) -> None:
    """A screenshot for the README (docs/screenshots/NAME.png, the viewport, scaled down to
    DOC_WIDTH), written only with DTPA_DOCS_SCREENSHOTS=1; `target` is scrolled to the top first."""
    if os.environ.get("DTPA_DOCS_SCREENSHOTS") != "1":
        return
    from PIL import Image

    if target is not None:
        target.evaluate("el => el.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(300)
    DOCS.mkdir(parents=True, exist_ok=True)
    path = DOCS / f"{name}.png"
    page.screenshot(path=str(path))
    with Image.open(path) as image:
        height = round(image.height * DOC_WIDTH / image.width)
        image.convert("RGB").resize((DOC_WIDTH, height), Image.Resampling.LANCZOS).quantize(
            colors=256).save(path, optimize=True)


def pdf_verifies(path: Path, app_server, monkeypatch) -> None:
    """`dtpa verify-pdf` against the server's store: signed by it, the record(s) as stored."""
    monkeypatch.setenv("DTPA_KEY_DIR", str(app_server.key_dir))  # its certificate, its audit key
    assert path.read_bytes()[:5] == b"%PDF-"
    check = verify_pdf(path, service.open_store(app_server.db_url))
    assert check.ok, check.problems


# --- the store make run seeds -----------------------------------------------------------------------

def test_the_store_is_seeded_as_make_run_seeds_it(app_server):
    """`dtpa seed` stores every case study, assessed today, so the journeys start where a person
    starting DTPA with `make run` does."""
    views = service.open_store(app_server.db_url).latest()
    seeded = [v for v in views if v.row.created_by == service.api.SEEDER[0]]
    assert len(seeded) == len(service.case_studies())
    assert {v.row.assessed_on for v in seeded} == {dt.date.today()}


# --- a panel chair, to an approved product decision and its audit PDF -----------------------------

def test_a_panel_chair_takes_a_product_to_an_approved_decision_and_its_audit_pdf(
        app_server, page, monkeypatch):
    open_app(page, app_server, "ada.obi")
    page.get_by_role("heading", name="Waiting for you").wait_for()
    check_accessibility(page, "panel-home")
    doc_shot(page, "home-worklist")

    go(page, "Assess a product")
    check_accessibility(page, "panel-form-start")
    load_case(page, "Start from", f"Case study: {PANEL_CASE}", "Start from a case study or a saved draft")
    page.get_by_role("heading", name=re.compile(r"Check your answers$")).wait_for()
    last = walk_the_steps(page, "panel")  # the chair reads every step of what was loaded
    open_step(page, "The product")
    doc_shot(page, "form-step", page.get_by_text(re.compile("questions the rules need are answered$")))
    open_step(page, "Check your answers")
    doc_shot(page, "check-your-answers", page.get_by_role("heading", name=f"{last}. Check your answers"))
    screenshot(page, "journey-panel-1-check-your-answers")

    page.get_by_role("button", name="Evaluate").click()
    page.get_by_text(PANEL_OUTCOME).wait_for()
    wait_for_app(page)
    check_accessibility(page, "panel-evaluated")
    page.get_by_role("link", name="Open the full decision: findings, save, sign, download").click()
    wait_for_app(page)

    # The decision page leads with the subject and what happens next.
    page.get_by_role("heading", name="CalmScape VR 1.8").wait_for()
    page.get_by_role("heading", name="What happens next").wait_for()
    page.get_by_text("Not saved yet. Once saved, it needs sign-off by Panel chair, DPO, Clinical "
                     "safety officer and Lived experience representative.").wait_for()
    # A case study loaded today has its dates moved with it: its review lies ahead, not overdue.
    page.get_by_text(re.compile(r"Review by \d+ \w+ \d{4}, in \d+ days\.")).wait_for()
    check_accessibility(page, "panel-decision-unsaved")
    assert page_height(page) < 4_000  # details folded away: it was 8,900 px
    doc_shot(page, "decision-top")
    # The seeded record of this product and version is current: save this as its new version.
    page.get_by_role("button", name=re.compile(r"^Save as a new version of PRO-")).click()
    wait_for_app(page)
    page.get_by_text(re.compile(r"^Saved as PRO-\S+@2, a new version of PRO-\S+@1\.$")).wait_for()
    record_id = record_id_shown(page)
    screenshot(page, "journey-panel-2-saved")

    # An override is checked before it is recorded: the chair reads it, then cancels.
    choose(page, "What do you depart from?", "P5 Therapeutic and personalised care")
    choose(page, "Your decision", "Met")
    page.get_by_role("textbox", name="Reason (at least 5 words)").fill(
        "The panel reviewed the re-traumatisation plan at its meeting today.")
    page.get_by_role("button", name="Continue", exact=True).click()
    wait_for_app(page)
    confirm = page.get_by_text("Check the override before it is recorded")
    confirm.wait_for()
    page.get_by_text("Engine: Met with conditions → Your decision: Met").wait_for()
    check_accessibility(page, "panel-override-confirmation")
    doc_shot(page, "override-confirmation", page.get_by_role("heading", name="Depart from the engine"))
    press_until_gone(page, page.get_by_role("button", name="Cancel"), confirm)
    assert service.open_store(app_server.db_url).get(record_id).overrides == []

    sign_off(page, record_id, "Panel chair")
    check_accessibility(page, "panel-signed-by-the-chair")
    sign_out(page)

    # Each other role the profile needs signs in and signs.
    for username, role in [("sam.patel", "DPO"), ("cal.jones", "Clinical safety officer"),
                           ("lee.ray", "Lived experience representative")]:
        open_app(page, app_server, username)
        open_record(page, "CalmScape", record_id)
        sign_off(page, record_id, role)
        sign_out(page)

    # The chair comes back to the approved decision and takes its audit PDF.
    open_app(page, app_server, "ada.obi")
    open_record(page, "CalmScape", record_id)
    page.get_by_text("Approved: everyone the local profile asks to sign has signed.").wait_for()
    assert page.get_by_role("button", name="Sign off", exact=True).count() == 0  # no form once approved
    check_accessibility(page, "panel-decision-approved")
    screenshot(page, "journey-panel-3-approved")
    with page.expect_download() as download:
        page.get_by_role("button", name="Audit PDF").click()
    target = ARTIFACTS / "journey-panel-audit.pdf"
    download.value.save_as(target)
    pdf_verifies(target, app_server, monkeypatch)
    stored = service.open_store(app_server.db_url).get(record_id)
    assert (stored.status, stored.row.created_by, stored.record.outcome) == \
        ("approved", "Dr Ada Obi", "supported_with_conditions")


# --- a clinician, to a saved check for a patient on their ward ------------------------------------

def test_a_clinician_saves_a_check_for_a_patient_on_their_ward(app_server, page, approved_product):
    open_app(page, app_server, "kim.lee")
    check_accessibility(page, "clinician-home")
    go(page, "Check use for a patient")
    chooser = page.get_by_role("combobox", name="Product decision this use relies on (required)")
    assert chooser.input_value() == ""  # nothing chosen for her
    check_accessibility(page, "clinician-start")

    # She starts from a case study before choosing the product decision: the error summary says so.
    load_case(page, "Case study", PATIENT_CASE, "Start from a case study")
    page.get_by_role("button", name="Evaluate").click()
    wait_for_app(page)
    page.get_by_text("There is a problem to correct before a decision can be made.").wait_for()
    page.get_by_text("Product decision this use relies on: Choose the product decision this use "
                     "relies on, at the top of the page").wait_for()
    check_accessibility(page, "clinician-error-summary-product")
    rely_on(page, approved_product)
    assert page.get_by_text("There is a problem to correct").count() == 0  # fixed: it goes

    # The patient: a new reference, the ward chosen among hers (only Willow Ward is offered).
    open_step(page, "The patient")
    reference = page.get_by_role("textbox", name=re.compile(r"^Local pseudonymous reference"))
    reference.fill("WIL-0142")
    reference.press("Tab")
    wait_for_app(page)
    open_list(page, page.get_by_role("combobox", name="Ward (required)"))
    assert page.get_by_role("option").all_inner_texts() == ["Willow Ward"]
    page.get_by_role("option", name="Willow Ward").click()
    wait_for_app(page)

    # A review date before the assessment is refused, in plain words, with a link to its step.
    open_step(page, "Review")
    review = "When the use will be reviewed (the next scheduled review)"
    yesterday = dt.date.today() - dt.timedelta(days=1)
    enter_date(page, review, yesterday)
    open_step(page, "Check your answers")
    page.get_by_role("button", name="Evaluate").click()
    wait_for_app(page)
    problem = page.get_by_role("button", name=re.compile(
        rf"^{re.escape(review)}: Review date \({yesterday.isoformat()}\) is before the assessment date"))
    problem.wait_for()
    page.get_by_role("radio", name=re.compile(r"^\d+\. Review ⚠$")).wait_for()  # its step is marked
    check_accessibility(page, "clinician-error-summary-date")
    doc_shot(page, "error-summary", page.get_by_text("There is a problem to correct before a decision "
                                                     "can be made."))
    problem.click()
    wait_for_app(page)
    page.get_by_role("heading", level=3, name=re.compile(r"^\d+\. Review$")).wait_for()
    enter_date(page, review, dt.date.today() + dt.timedelta(days=7))
    assert problem.count() == 0

    walk_the_steps(page, "clinician")
    page.get_by_role("button", name="Evaluate").click()
    outcome = page.get_by_text("Supported with conditions: use only once the conditions are met")
    outcome.first.wait_for()
    wait_for_app(page)
    check_accessibility(page, "clinician-evaluated")
    screenshot(page, "journey-clinician-1-evaluated")
    page.get_by_role("link", name="Open the full decision: findings, save, sign, download").click()
    wait_for_app(page)
    page.get_by_role("heading", name="What happens next").wait_for()
    page.get_by_text("WIL-0142").first.wait_for()
    check_accessibility(page, "clinician-decision")
    page.get_by_role("button", name="Save this decision").click()
    wait_for_app(page)
    record_id = record_id_shown(page)
    check_accessibility(page, "clinician-decision-saved")
    screenshot(page, "journey-clinician-2-saved")
    saved = service.open_store(app_server.db_url).get(record_id)
    assert (saved.row.created_by, saved.row.ward, saved.row.patient_reference, saved.record.relies_on) \
        == ("Nurse Kim Lee", "Willow Ward", "WIL-0142", approved_product)


# --- a DPO, with the keyboard alone, to a verified chain and a bundle -----------------------------

def tab_to(page, target, limit: int = 120, back: bool = False) -> int:
    """Press Tab (Shift+Tab with back=True) until `target` has the keyboard focus; how many
    presses it took."""
    target.wait_for()
    for presses in range(limit):
        if target.evaluate("el => el === document.activeElement || el.contains(document.activeElement)"):
            return presses
        page.keyboard.press("Shift+Tab" if back else "Tab")
    raise AssertionError(f"{target} not reached with {limit} presses of {'Shift+' if back else ''}Tab")


def test_a_dpo_verifies_the_chain_and_takes_a_bundle_with_the_keyboard_alone(
        app_server, page, monkeypatch):
    """Only page.keyboard acts (Tab, Shift+Tab, Enter, Space and typing); the locators only say
    which element should have the focus. The presses each target took are printed: after
    signing in the focus is left where the sign-in form was, so Tab would run through the whole
    home page (30 presses) before the menu, while Shift+Tab reaches it in 6; the records page
    puts 22 stops (the filters, the date's parts, the table's toolbar and grid, the record
    chooser) between the first filter and Verify now."""
    presses = {}
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    presses["Username"] = tab_to(page, page.get_by_role("textbox", name="Username"))
    page.keyboard.type("sam.patel")
    page.keyboard.press("Tab")
    presses["Password"] = tab_to(page, page.get_by_role("textbox", name="Password"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")  # submits the sign-in form
    page.get_by_role("button", name="Sign out").wait_for()
    wait_for_app(page)

    presses["Records and audit (Shift+Tab)"] = tab_to(page, page.get_by_role(
        "navigation", name="App pages").get_by_role("link", name="Records and audit", exact=True),
        back=True)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Records and audit", level=1).wait_for()
    wait_for_app(page)
    presses["Product contains"] = tab_to(page, page.get_by_role("textbox", name="Product contains"))
    page.keyboard.type("Contactless bedroom monitor")
    page.keyboard.press("Tab")  # leaving the box applies the filter
    wait_for_app(page)
    page.get_by_text(re.compile(r"^\d+ record\(s\)$")).wait_for()
    check_accessibility(page, "dpo-records")
    screenshot(page, "journey-dpo-1-records")

    presses["Verify now"] = tab_to(page, page.get_by_role("button", name="Verify now"))
    page.keyboard.press("Enter")
    page.get_by_text(re.compile(r"^Audit chain intact: \d+ events and \d+ records verified\.$")).wait_for()
    wait_for_app(page)
    check_accessibility(page, "dpo-verify-result")
    doc_shot(page, "records-verified", page.get_by_role("heading", name="Verify the audit chain"))

    presses["Build bundle"] = tab_to(page, page.get_by_role("button", name="Build bundle"))
    page.keyboard.press("Space")
    download_button = page.get_by_role("button", name="Download bundle PDF")
    download_button.wait_for(timeout=120_000)
    wait_for_app(page)
    check_accessibility(page, "dpo-bundle-ready")
    screenshot(page, "journey-dpo-2-bundle")
    presses["Download bundle PDF"] = tab_to(page, download_button)  # the focus stayed on Build bundle
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    target = ARTIFACTS / "journey-dpo-bundle.pdf"
    download.value.save_as(target)
    pdf_verifies(target, app_server, monkeypatch)
    print("\n[browser] keyboard presses to reach each control: "
          + ", ".join(f"{name} {n}" for name, n in presses.items()))


# --- every page ------------------------------------------------------------------------------------

MENUS = [("sam.patel", "dpo"), ("ada.obi", "panel chair"), ("kim.lee", "clinician"),
         ("admin", "administrator")]


def test_every_page_passes_axe_core(app_server, page):
    """No serious or critical WCAG 2.2 A/AA violation on any page any role's menu offers (each
    home page, every other page once), in the app's content or in Streamlit's own markup: a person
    using the app meets both. An exception would be a rule id with its reason, passed as
    check_accessibility's ignore_rules; there is none today."""
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    check_accessibility(page, "sign-in")
    seen: set[str] = set()
    for username, role in MENUS:
        open_app(page, app_server, username)
        if username == "sam.patel":  # leaves a decision in the session for the Decision page
            go(page, "Case studies")
            page.get_by_role("button", name="Run").click()
            wait_for_app(page)
            page.get_by_role("button", name="Use this decision").click()
            wait_for_app(page)
        links = page.get_by_role("navigation", name="App pages").get_by_role("link")
        for title in [t.strip() for t in links.all_inner_texts()]:
            if title in seen and title != "Home":
                continue
            seen.add(title)
            go(page, title)
            slug = f"{title.lower().replace(' ', '-')}-{role.replace(' ', '-')}"
            screenshot(page, f"page-{slug}")
            check_accessibility(page, slug)
        sign_out(page)
    assert {"Assess a product", "Check use for a patient", "Accounts", "Decision"} <= seen

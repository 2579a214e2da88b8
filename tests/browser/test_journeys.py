"""The three journeys in a real browser (Debian's Chromium via Playwright), with a screenshot of
each step in artifacts/, and axe-core over every page."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from pathlib import Path

import pytest

from engine import service
from engine.store import Database, Store
from tests.browser.conftest import (
    ARTIFACTS,
    PASSWORD,
    check_accessibility,
    screenshot,
    wait_for_app,
)
from tests.conftest import ALL_ATTESTATIONS

pytestmark = pytest.mark.browser
PAGES = ["Home", "Assess a product", "Check use for a patient", "Decision", "Records and audit",
         "Principles and rules", "Case studies"]


def go(page, title: str) -> None:
    """Move to a page with the sidebar navigation (a full reload would start a new session)."""
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    wait_for_app(page)


def open_app(page, app_server, username: str = "ada.obi") -> None:
    """Open the app and sign in with a local account made by the app_server fixture."""
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    wait_for_app(page)
    page.get_by_role("button", name="Sign out").wait_for()


def choose(page, label: str, option: str) -> None:
    """Pick from a Streamlit selectbox the way a keyboard user would: type, then Enter."""
    page.get_by_label(label, exact=True).click()
    page.get_by_role("listbox").wait_for()
    page.keyboard.type(option, delay=20)
    page.get_by_role("option", name=option, exact=True).wait_for()  # the list is filtered
    page.keyboard.press("Enter")
    wait_for_app(page)


def load_case(page, label: str, option: str, expander: str) -> None:
    page.get_by_text(expander).click()
    page.get_by_label(label, exact=True).wait_for()  # the expander has opened
    wait_for_app(page)
    choose(page, label, option)
    page.get_by_role("button", name="Load").click()
    wait_for_app(page)


def test_panel_assesses_the_vision_based_monitoring_product_and_downloads_the_audit_pdf(
        app_server, page):
    open_app(page, app_server)
    go(page, "Assess a product")
    load_case(page, "Start from", "Case study: vbm-individual-decision",
              "Start from a case study or a saved draft")
    screenshot(page, "journey-panel-1-questions")
    timings = []
    for _ in range(3):  # time from clicking Evaluate to the decision being visible
        started = time.perf_counter()
        page.get_by_role("button", name="Evaluate").click()
        page.get_by_text("Supported with conditions: deploy only once the conditions are met").wait_for()
        wait_for_app(page)
        timings.append(time.perf_counter() - started)
    print(f"\n[browser] Evaluate -> decision visible: median {statistics.median(timings):.2f} s "
          f"over {len(timings)} clicks ({', '.join(f'{t:.2f}' for t in timings)})")
    go(page, "Decision")
    page.get_by_text("P7-PRO-001").first.wait_for()
    page.get_by_role("button", name="Save this decision").click()
    wait_for_app(page)
    page.get_by_text("Stored record PRO-").wait_for()
    screenshot(page, "journey-panel-2-decision")
    with page.expect_download() as download:
        page.get_by_role("button", name="Audit PDF").click()
    target = ARTIFACTS / "journey-panel-audit.pdf"
    download.value.save_as(target)
    assert target.read_bytes()[:5] == b"%PDF-"
    stored = [v for v in Store(Database(app_server.db_url)).latest(context="procurement")
              if v.row.created_by == "Dr Ada Obi"]
    assert stored and stored[0].record.outcome == "supported_with_conditions"


def test_clinician_checks_one_patients_use_against_the_product(app_server, page, monkeypatch):
    # This test writes to the server's store, so it uses that store's audit key folder.
    server_db = Path(app_server.db_url.split("///", 1)[1])
    monkeypatch.setenv("DTPA_KEY_DIR", str(server_db.parent / "keys"))
    store = Store(Database(app_server.db_url),
                  required_roles=service.api.signoff_roles(service.default_pack()))
    today = dt.date.today()
    data = service.load_assessment(service.CASE_STUDIES / "vbm-individual-decision.yaml").model_dump(
        mode="json", exclude_none=True)
    data["assessed_on"] = today.isoformat()  # a current product decision, assessed today
    later = (today + dt.timedelta(days=300)).isoformat()
    data["data_protection"]["dpia_review_due"] = data["policy"]["policy_review_due"] = later
    data["assurance"].update(cyber_essentials_expires=later, ico_registration_expires=later,
                             penetration_test_date=today.isoformat())
    product = service.save_assessment(service.validate_assessment(data), "Panel Chair",
                                      "panel_chair", store)
    for role in service.default_pack().profile.required_signoff_roles["procurement"]:
        store.sign(product.row.id, f"Signer {role}", role, ALL_ATTESTATIONS)
    open_app(page, app_server, "kim.lee")
    go(page, "Check use for a patient")
    page.get_by_label("Product decision this use relies on").click()
    page.get_by_role("listbox").wait_for()
    page.keyboard.type(product.row.id, delay=20)
    page.get_by_role("option").filter(has_text=product.row.id).first.wait_for()
    page.keyboard.press("Enter")
    wait_for_app(page)
    page.get_by_text("is approved and current").wait_for()
    load_case(page, "Case study", "vbm-adult-consents-night-use", "Start from a case study")
    screenshot(page, "journey-clinician-1-patient")
    page.get_by_role("button", name="Evaluate").click()
    page.get_by_text("Supported with conditions: use only once the conditions are met").wait_for()
    wait_for_app(page)
    go(page, "Decision")
    page.get_by_role("button", name="Save this decision").click()
    wait_for_app(page)
    page.get_by_text("Stored record IND-").wait_for()
    screenshot(page, "journey-clinician-2-decision")
    saved = [v for v in store.latest(context="individual_use") if v.row.created_by == "Nurse Kim Lee"]
    assert saved and saved[0].record.relies_on == product.row.id


def test_dpo_verifies_the_chain_and_exports_a_bundle(app_server, page):
    open_app(page, app_server, "sam.patel")
    go(page, "Records and audit")
    page.get_by_role("button", name="Verify now").click()
    page.get_by_text("Audit chain intact").wait_for()
    page.get_by_role("button", name="Build bundle").click()
    page.get_by_text("Bundle ready").wait_for(timeout=120_000)
    wait_for_app(page)
    screenshot(page, "journey-dpo-records")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download bundle PDF").click()
    target = ARTIFACTS / "journey-dpo-bundle.pdf"
    download.value.save_as(target)
    assert target.read_bytes()[:5] == b"%PDF-"


def test_every_page_passes_axe_core(app_server, page):
    """No serious or critical WCAG 2.2 A/AA violation on any page, in the app's content or in
    Streamlit's own markup: a person using the app meets both. An exception would be a rule id
    with its reason, passed as check_accessibility's ignore_rules; there is none today."""
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    check_accessibility(page, "sign-in")
    open_app(page, app_server, "sam.patel")
    go(page, "Case studies")  # leaves a decision in the session for the Decision page
    page.get_by_role("button", name="Run").click()
    wait_for_app(page)
    page.get_by_role("button", name="Use this decision").click()
    wait_for_app(page)
    # A DPO's menu has no patient page (navigation by role); tests/browser/test_navigation.py
    # checks that page as a clinician.
    for title in [t for t in PAGES if t != "Check use for a patient"]:
        go(page, title)
        slug = title.lower().replace(" ", "-")
        screenshot(page, f"page-{slug}")
        check_accessibility(page, slug)

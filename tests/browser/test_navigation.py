"""Navigation by role in a real browser: each person's menu lists only the pages their role can
use, a page opened by its address that they cannot use says why (no traceback), and their home
page starts with what waits for them; axe-core over each of these states."""

from __future__ import annotations

import pytest

from tests.browser.actions import go, open_app
from tests.browser.conftest import PASSWORD, check_accessibility, screenshot, wait_for_app

pytestmark = pytest.mark.browser
OPEN_TO_ALL = {"Home", "Decision", "Records and audit", "Principles and rules", "Case studies"}


def menu(page) -> set[str]:
    """The page titles the sidebar navigation shows."""
    nav = page.get_by_test_id("stSidebarNav")
    nav.wait_for()
    return {text.strip() for text in nav.get_by_role("link").all_inner_texts() if text.strip()}


def test_a_panel_chair_sees_only_their_pages_and_their_sign_offs_first(app_server, page):
    open_app(page, app_server, "ada.obi")
    assert menu(page) == OPEN_TO_ALL | {"Assess a product"}
    headings = page.get_by_role("heading").all_inner_texts()
    assert headings.index("Waiting for you") < headings.index("About DTPA")
    page.get_by_role("heading", name="Sign-offs awaited from you").wait_for()
    screenshot(page, "home-panel-chair")
    check_accessibility(page, "home-panel-chair")

    first = page.get_by_role("button", name="Review and sign").first
    record = first.inner_text().removeprefix("Review and sign").strip()
    first.click()
    wait_for_app(page)
    page.get_by_role("heading", name="Decision").first.wait_for()
    assert record and page.get_by_text(record).first.is_visible()


def test_a_clinician_sees_the_patient_page_and_not_the_product_form(app_server, page):
    open_app(page, app_server, "kim.lee")
    assert menu(page) == OPEN_TO_ALL | {"Check use for a patient"}
    page.get_by_role("heading", name="Waiting for you").wait_for()
    screenshot(page, "home-clinician")
    check_accessibility(page, "home-clinician")
    go(page, "Check use for a patient")  # not in the DPO's menu that test_journeys walks
    screenshot(page, "page-check-use-for-a-patient")
    check_accessibility(page, "check-use-for-a-patient")


def test_a_page_opened_by_its_address_says_why_it_is_not_available(app_server, page):
    """A bookmark to the patient page, opened by a panel chair: after signing in, a clear
    message on that page and the way home, not the page and not a traceback."""
    page.goto(app_server.url + "/check-patient", wait_until="domcontentloaded")
    wait_for_app(page)
    page.get_by_label("Username").fill("ada.obi")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()  # signed in (Argon2 takes a moment)
    wait_for_app(page)  # fails on any exception shown
    assert page.url.endswith("/check-patient")  # the address survived signing in
    page.get_by_text("This page is not available to you.").wait_for()
    assert page.get_by_role("heading", name="Check use for a patient").is_visible()
    assert page.get_by_text("clinical staff (Clinician and Nurse in charge)").first.is_visible()
    assert page.get_by_role("button", name="Evaluate").count() == 0
    assert "Check use for a patient" not in menu(page)
    screenshot(page, "page-not-available")
    check_accessibility(page, "page-not-available")
    page.get_by_role("link", name="Go to your home page").click()
    wait_for_app(page)
    page.get_by_role("heading", name="Waiting for you").wait_for()

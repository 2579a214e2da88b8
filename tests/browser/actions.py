"""Moving around the app as a person does, finding things by what they see (a role and its
visible label, or text): used by the browser tests and bench/bench_ui.py."""

from __future__ import annotations

import datetime as dt
import re

from tests.browser.conftest import PASSWORD, wait_for_app


def go(page, title: str) -> None:
    """Move to a page with the sidebar's navigation (a full reload would start a new session)."""
    page.get_by_role("navigation", name="App pages").get_by_role("link", name=title, exact=True).click()
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


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    wait_for_app(page)
    page.get_by_role("button", name="Sign in").wait_for()


def choose(page, label: str, option: str) -> None:
    """Pick from a Streamlit selectbox the way a keyboard user would: type, then Enter. Just
    after a full-page screenshot or axe run (the viewport resized back) the first click can only
    focus the box: then it is clicked once more."""
    open_list(page, page.get_by_label(label, exact=True))
    page.keyboard.type(option, delay=20)
    page.get_by_role("option", name=option, exact=True).wait_for()  # the list is filtered
    page.keyboard.press("Enter")
    wait_for_app(page)


def open_list(page, box) -> None:
    """Open a selectbox's list of options by clicking it (twice if the first click only focused
    it, as it can just after a full-page screenshot or an axe-core run)."""
    box.click()
    try:
        page.get_by_role("listbox").wait_for(timeout=2_000)
    except Exception:  # Playwright's TimeoutError: click once more
        box.click()
    page.get_by_role("listbox").wait_for()


def press_until_gone(page, button, gone) -> None:
    """Click a button whose run removes `gone` from the page, and wait until it has. Just after
    axe-core or a full-page screenshot (the viewport resized back) the first click can be lost, as
    `open_list` found: then it is clicked once more; a second loss fails."""
    button.click()
    wait_for_app(page)
    try:
        gone.wait_for(state="hidden", timeout=5_000)
    except Exception:  # Playwright's TimeoutError: the click was lost
        button.click()
        wait_for_app(page)
        gone.wait_for(state="hidden")


def load_case(page, label: str, option: str, expander: str) -> None:
    page.get_by_text(expander).click()
    page.get_by_label(label, exact=True).wait_for()  # the expander has opened
    wait_for_app(page)
    choose(page, label, option)
    page.get_by_role("button", name="Load").click()
    wait_for_app(page)


def open_step(page, title: str, marked: bool = False) -> None:
    """Open a step from the step list ("11. Review", or "11. Review ⚠" when it holds a problem;
    `marked` asks for the mark).
    A click that lands while a run is still redrawing the list can be undone by it (Playwright:
    "did not change its state"): then, once the run is over, it is clicked again (three tries)."""
    radio = page.get_by_role("radiogroup", name="Steps").get_by_role(
        "radio", name=re.compile(rf"^\d+\. {re.escape(title)}{' ⚠' if marked else '( ⚠)?'}$"))
    for attempt in range(3):
        wait_for_app(page)
        try:
            radio.check(force=True)  # Streamlit's radio input is visually hidden behind its label
            break
        except Exception:  # Playwright's Error: the click did not take
            if attempt == 2:
                raise
    wait_for_app(page)
    page.get_by_role("heading", level=3, name=re.compile(rf"^\d+\. {re.escape(title)}$")).wait_for()


def enter_date(page, label: str, day: dt.date) -> None:
    """Type a date into Streamlit's date box (year, month and day spin buttons), as a person does."""
    for part, value in (("year", f"{day.year}"), ("month", f"{day.month:02d}"), ("day", f"{day.day:02d}")):
        spin = page.get_by_role("spinbutton", name=f"{part}, {label}")
        spin.click()
        page.keyboard.type(value)
    page.keyboard.press("Escape")  # closes the calendar that opened beside the box
    for _ in range(5):  # the date is sent once the box (its buttons too) is left
        wait_for_app(page)  # a rerun may be drawing the box again: the old one goes at its end
        if not page.get_by_role("group", name=label).evaluate_all(
                "els => els.some(el => el.contains(document.activeElement))"):
            break
        page.keyboard.press("Tab")
    wait_for_app(page)


def rely_on(page, record_id: str) -> None:
    """On "Check use for a patient": choose the product decision the use relies on, by its id."""
    open_list(page, page.get_by_role("combobox", name="Product decision this use relies on (required)"))
    page.keyboard.type(record_id, delay=20)
    page.get_by_role("option", name=re.compile(re.escape(record_id))).wait_for()  # the list is filtered
    page.keyboard.press("Enter")
    wait_for_app(page)
    page.get_by_text(f"{record_id} is approved and current").wait_for()


def choose_ward(page, ward: str) -> None:
    """On a patient's check: the ward, from the wards offered (the person's own)."""
    open_step(page, "The patient")
    open_list(page, page.get_by_role("combobox", name="Ward (required)"))
    page.get_by_role("option", name=ward, exact=True).click()
    wait_for_app(page)


def open_record(page, product: str, record_id: str) -> None:
    """Records and audit: find a product's records, open one and show its decision."""
    go(page, "Records and audit")
    box = page.get_by_role("textbox", name="Product contains")
    box.fill(product)
    box.press("Tab")
    wait_for_app(page)
    choose(page, "Open a record", record_id)
    page.get_by_role("button", name="Open record").click()
    wait_for_app(page)
    page.get_by_role("heading", name=f"Record {record_id}").wait_for()
    page.get_by_role("button", name="Show this decision").click()
    wait_for_app(page)
    page.get_by_role("heading", name="What happens next").wait_for()

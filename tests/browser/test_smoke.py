"""The front page in a real browser: it renders, says what it is, and gets an axe-core report.

The report is printed, not asserted: a violation whose nodes all lie outside the app's content
(Streamlit's header, toolbar, navigation) is Streamlit's own; one inside the content is the app's
to fix, even when Streamlit's theme supplies the colour."""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import check_accessibility, describe_violations, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def test_front_page_renders_with_title_screenshot_and_accessibility_report(app_server, page):
    start = time.monotonic()
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    print(f"\n[browser] server start-up {app_server.startup_seconds:.2f} s; "
          f"front page rendered in {time.monotonic() - start:.2f} s")

    heading = page.locator("h1").first.inner_text()
    print(f"[browser] document title {page.title()!r}; heading {heading!r}")
    assert "DTPA" in heading, f"the front page's title heading is {heading!r}"

    shot = screenshot(page, "home.png")
    assert shot.stat().st_size > 10_000, "the screenshot looks empty"

    found = check_accessibility(page, "home", assert_clean=False)
    print(f"[browser] axe-core on the front page (serious/critical): {describe_violations(found)}")
    for v in found:
        origins = {n["origin"] for n in v["nodes"]}
        where = "Streamlit's own markup" if origins == {"streamlit"} else "app content: " + "/".join(
            sorted(origins))
        print(f"[browser]   {v['id']:24} {v['impact']:9} x{len(v['nodes']):<3} {where}")

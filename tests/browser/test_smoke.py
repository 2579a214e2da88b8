"""The front page in a real browser: it renders, says what it is, and has no serious or critical
axe-core violation, in the app's content or in Streamlit's own markup (the failure message says
which; an exclusion needs a rule id and a reason, see check_accessibility)."""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import check_accessibility, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def test_front_page_renders_with_title_screenshot_and_no_serious_accessibility_violation(
        app_server, page):
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

    check_accessibility(page, "home")  # fails on any serious or critical violation


def test_the_accessibility_check_fails_on_a_serious_violation(app_server, page):
    """The check can fail: an image without a text alternative (axe-core's image-alt, critical)
    added to the front page's content fails it, and excusing the rule needs a reason."""
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    page.evaluate("""() => {
      const img = document.createElement('img');
      img.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
      img.width = 20; img.height = 20;
      document.querySelector('[data-testid="stMainBlockContainer"]').appendChild(img);
    }""")
    with pytest.raises(pytest.fail.Exception, match=r"image-alt \(critical\).*\n.*app "):
        check_accessibility(page, "home-broken-on-purpose")
    with pytest.raises(ValueError, match="without a reason"):
        check_accessibility(page, "home-broken-on-purpose", ignore_rules={"image-alt": ""})
    check_accessibility(page, "home-broken-on-purpose",
                        ignore_rules={"image-alt": "the image was added by this test"})

"""The easy-read web page in a real browser: axe-core finds no WCAG 2.2 A/AA violation of any
impact (minor included: the page is DTPA's own markup, nothing of Streamlit's), and it is kept as
a screenshot for the README."""

from __future__ import annotations

import pytest

from engine import service
from tests.browser.conftest import check_accessibility, screenshot

ALL_IMPACTS = ("minor", "moderate", "serious", "critical")


@pytest.mark.browser
@pytest.mark.parametrize("name", ["detained-refusal-all-elements", "camhs-gillick",
                                  "incapacitous-objects-liberty-unresolved"])
def test_the_easy_read_web_page_passes_axe_core(page, name):
    assessment = service.load_assessment(service.CASE_STUDIES / f"{name}.yaml")
    html = service.render_export(service.assess(assessment), "easy-read-html",
                                 assessment=assessment.model_dump(mode="json"))
    page.set_viewport_size({"width": 900, "height": 1000})
    page.set_content(html.decode("utf-8"), wait_until="load")
    assert page.evaluate("document.documentElement.lang") == "en-GB"
    assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    check_accessibility(page, f"easy-read-html-{name}", impacts=ALL_IMPACTS)
    screenshot(page, f"easy-read-html-{name}")

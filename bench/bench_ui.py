"""The web front end: click -> decision visible, in fresh browser sessions, printed as figures
(never asserted).

The app is started as the browser tests start it (tests/browser/conftest.py `start_app`: a store
seeded as `make run` seeds it, an account, `streamlit run` on a free port) and driven by Debian's
Chromium through Playwright. For each of N fresh browser contexts (a new Streamlit session each):
sign in, open "Assess a product", load a case study (its answers, ready to check), then time the
click on Evaluate to the outcome's words being visible.

Baselines in the same run: the same click in one warm session (case studies loaded in turn, so
each click decides anew: a load clears the decision made from other answers), and the bare
service call behind it (`Access.decide` on the validated answers) timed in-process.

Run: make bench   (or .venv/bin/python bench/bench_ui.py [--n 20])
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import service  # noqa: E402
from engine.service.session import Access  # noqa: E402
from tests.browser.actions import choose, go, open_app  # noqa: E402
from tests.browser.conftest import (  # noqa: E402
    ACCOUNTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    VIEWPORT,
    start_app,
    wait_for_app,
)

USER = ACCOUNTS[0]  # the panel chair
CASES = ["vr-relaxation", "tablets-family-calls"]  # both: supported with conditions
OUTCOME = "Supported with conditions: deploy only once the conditions are met."


def median_p90(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, round(len(ordered) * 0.9) - 1)]


def sign_in(page, app) -> None:
    open_app(page, app, USER[0])
    go(page, "Assess a product")
    page.get_by_text("Start from a case study or a saved draft").click()
    page.get_by_label("Start from", exact=True).wait_for()
    wait_for_app(page)


def load(page, case: str) -> None:
    """Load a case study into the form; the decision made from other answers goes."""
    for _ in range(3):
        _choose_and_load(page, case)
        try:
            page.get_by_text(OUTCOME).wait_for(state="hidden", timeout=5_000)
            return
        except Exception:  # Playwright's TimeoutError: the choice did not take; again
            continue
    raise RuntimeError(f"loading {case} did not clear the decision on screen")


def _choose_and_load(page, case: str) -> None:
    choose(page, "Start from", f"Case study: {case}")
    page.get_by_role("button", name="Load").click()
    wait_for_app(page)


def click_to_decision(page) -> float:
    """Seconds from the Evaluate click to the outcome's words being visible (absent before)."""
    outcome = page.get_by_text(OUTCOME)
    if outcome.count():
        raise RuntimeError("the decision is already on screen: the click would measure nothing")
    started = time.perf_counter()
    page.get_by_role("button", name="Evaluate").click()
    outcome.wait_for(state="visible")
    elapsed = time.perf_counter() - started
    wait_for_app(page)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20, help="fresh sessions (and warm clicks)")
    n = parser.parse_args().n
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, start_app(Path(tmp), [USER]) as app:
        os.environ["DTPA_KEY_DIR"] = str(app.key_dir)  # the served store's own audit key
        pw = sync_playwright().start()
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            fresh = []
            for _ in range(n):
                context = browser.new_context(viewport=VIEWPORT)
                page = context.new_page()
                sign_in(page, app)
                load(page, CASES[0])
                fresh.append(click_to_decision(page))
                context.close()
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            sign_in(page, app)
            load(page, CASES[1])
            click_to_decision(page)  # the session's first click: not counted
            warm = []
            for i in range(n):
                load(page, CASES[i % 2])
                warm.append(click_to_decision(page))
            context.close()
            chromium = browser.version
        finally:
            browser.close()
            pw.stop()

        who = Access.sign_in(USER[0], PASSWORD, service.open_store(app.db_url), client="bench")
        data = who.case_studies("procurement")[CASES[0]].assessment.model_dump(mode="json",
                                                                              exclude_none=True)
        calls = []
        for _ in range(max(50, n)):
            t = time.perf_counter()
            who.decide(service.validate_assessment(data))
            calls.append(time.perf_counter() - t)

    fm, fp = median_p90(fresh)
    wm, wp = median_p90(warm)
    cm, cp = median_p90(calls)
    print("DTPA web front end: Evaluate click -> decision visible")
    print(f"Python {platform.python_version()}, Streamlit {version('streamlit')}, Chromium {chromium}, "
          f"{os.cpu_count()} CPU(s); case study {CASES[0]} ({OUTCOME.split(':')[0].lower()})")
    print(f"{'':38}{'median':>9}{'p90':>9}{'n':>5}")
    print(f"{'fresh session (new browser context)':<38}{fm:>8.2f}s{fp:>8.2f}s{len(fresh):>5}"
          f"   first {fresh[0]:.2f} s")
    print(f"{'warm session (same context)':<38}{wm:>8.2f}s{wp:>8.2f}s{len(warm):>5}")
    print(f"{'Access.decide in-process (no browser)':<38}{cm * 1000:>7.1f}ms{cp * 1000:>7.1f}ms"
          f"{len(calls):>5}")
    print(f"fresh / warm: {fm / wm:.2f}x; fresh / in-process: {fm / cm:.0f}x "
          f"(the rest is Streamlit's rerun and the browser drawing the page)")


if __name__ == "__main__":
    main()

"""DTPA web front end (Streamlit): `make run` starts it on http://localhost:8501.

A thin layer over `engine.service`: it asks the questions, shows each decision with its
justification, and hands over records and documents. Pages live in ui/views/.

Each person is offered only the pages their role can use; which those are is the service
layer's decision (`Access.may_use`, from the role rules). A page they cannot use is still
registered, hidden from the menu, so that opening its address says why instead of failing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VIEWS = Path(__file__).resolve().parent / "views"

# file in ui/views, menu title, address, the task it serves (engine/service/worklist.py TASKS)
PAGES = [
    ("home.py", "Home", None, "home"),
    ("assess_product.py", "Assess a product", "assess-product", "assess_product"),
    ("check_patient.py", "Check use for a patient", "check-patient", "check_patient"),
    ("decision.py", "Decision", "decision", "decision"),
    ("records.py", "Records and audit", "records", "records"),
    ("rules.py", "Principles and rules", "rules", "rules"),
    ("case_studies.py", "Case studies", "case-studies", "case_studies"),
    ("accounts.py", "Accounts", "accounts", "accounts"),
]

st.set_page_config(page_title="DTPA: digital technology principles", page_icon="🏥", layout="wide")

# The day and month of Streamlit's date box are targets 18 px wide side by side: WCAG 2.2's
# target size (2.5.8, AA) asks for 24 px (axe-core's target-size, serious).
TARGETS = """<style>
[data-testid="stDateInput"] [role="spinbutton"] {
  display: inline-block; min-width: 24px; min-height: 24px; line-height: 24px; text-align: center;
}
</style>"""
st.html(TARGETS)

from ui import auth  # noqa: E402 - after set_page_config


def pages(offered: Callable[[str], bool]) -> list:
    """Every page, each shown in the menu only if `offered` says its task is."""
    return [st.Page(VIEWS / file, title=title, default=url_path is None,
                    **({"url_path": url_path} if url_path else {}),
                    visibility="visible" if offered(task) else "hidden")
            for file, title, url_path, task in PAGES]


# Nothing below runs until someone is signed in; meanwhile no page is offered, but the address
# asked for is kept, so a bookmark opens its page once the person has signed in.
auth.gate(hold=lambda: st.navigation(pages(lambda task: False), position="hidden"))
who = auth.access()
registered = pages(who.may_use)
tasks = {title: task for _, title, _, task in PAGES}
chosen = st.navigation(registered)
why_not = who.unavailable(tasks[chosen.title])
if why_not is None:
    chosen.run()
else:  # opened by its address (a bookmark, a link) by someone whose role cannot use it
    auth.current()
    st.title(chosen.title)
    st.warning(f"This page is not available to you. {why_not}")
    st.page_link(registered[0], label="Go to your home page")

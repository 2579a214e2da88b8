"""DTPA web front end (Streamlit): `make run` starts it on http://localhost:8501.

A thin layer over `engine.service`: it asks the questions, shows each decision with its
justification, and hands over records and documents. Pages live in ui/views/.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VIEWS = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="DTPA: digital technology principles", page_icon="🏥", layout="wide")

from ui import auth  # noqa: E402 - after set_page_config

auth.gate()  # nothing below runs until someone is signed in
pages = [
    st.Page(VIEWS / "home.py", title="Home", default=True),
    st.Page(VIEWS / "assess_product.py", title="Assess a product", url_path="assess-product"),
    st.Page(VIEWS / "check_patient.py", title="Check use for a patient", url_path="check-patient"),
    st.Page(VIEWS / "decision.py", title="Decision", url_path="decision"),
    st.Page(VIEWS / "records.py", title="Records and audit", url_path="records"),
    st.Page(VIEWS / "rules.py", title="Principles and rules", url_path="rules"),
    st.Page(VIEWS / "case_studies.py", title="Case studies", url_path="case-studies"),
]
if st.session_state["actor"].may("manage_users"):
    pages.append(st.Page(VIEWS / "accounts.py", title="Accounts", url_path="accounts"))
st.navigation(pages).run()

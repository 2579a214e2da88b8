"""Case studies: run any of them and see its decision next to its expected outcome."""

import streamlit as st
import yaml

from engine import service
from ui.auth import current
from ui.common import CASE_STUDIES, pack, pretty, show_record

current()
st.title("Case studies")
st.write("Realistic assessments with the outcome a careful panel or clinician should reach. "
         "They are also DTPA's golden tests.")
files = {p.stem: p for p in sorted(CASE_STUDIES.glob("*.yaml"))}
stem = st.selectbox("Case study", list(files), key="cs_choice", format_func=lambda s: s.replace("-", " "))
raw = files[stem].read_text(encoding="utf-8")
story = [line[2:] for line in raw.splitlines() if line.startswith("# ")]
if story:
    st.write(" ".join(story))
expected = yaml.safe_load(raw)["expected"]
if st.button("Run", type="primary", key="cs_run"):
    assessment = service.load_assessment(files[stem])
    st.session_state["cs_result"] = (stem, service.assess(assessment, pack()), assessment)
result = st.session_state.get("cs_result")
if result and result[0] == stem:
    _, record, assessment = result
    wanted = expected["outcome"] if isinstance(expected["outcome"], list) else [expected["outcome"]]
    cols = st.columns(2)
    cols[0].metric("Expected", " or ".join(pretty(o) for o in wanted))
    cols[1].metric("Decided", pretty(record.outcome))
    if record.outcome in wanted:
        st.success("The engine decides as the case study expects.")
    else:
        st.error("The engine's decision differs from the case study's expectation.")
    if expected.get("must_cite"):
        st.caption("Must cite: " + ", ".join(expected["must_cite"]))
    if st.button("Use this decision", key="cs_use"):
        st.session_state["decision"] = {"record": record, "assessment": assessment, "view_id": None}
        st.switch_page("views/decision.py")
    show_record(record)

"""Case studies: run any of them and see its decision next to its expected outcome."""

import streamlit as st

from ui.auth import current
from ui.common import pretty, show_record

who = current()
st.title("Case studies")
st.write("Realistic assessments with the outcome a careful panel or clinician should reach. "
         "They are also DTPA's golden tests.")
studies = who.case_studies()
stem = st.selectbox("Case study", list(studies), key="cs_choice",
                    format_func=lambda s: s.replace("-", " "))
story = who.case_study_story(stem)
if story:
    st.write(story)
expected = studies[stem].expected
if st.button("Run", type="primary", key="cs_run"):
    study, record = who.run_case_study(stem)
    st.session_state["cs_result"] = (stem, record, study.assessment)
result = st.session_state.get("cs_result")
if result and result[0] == stem:
    _, record, assessment = result
    cols = st.columns(2)
    cols[0].metric("Expected", " or ".join(pretty(o) for o in expected.outcome))
    cols[1].metric("Decided", pretty(record.outcome))
    if record.outcome in expected.outcome:
        st.success("The engine decides as the case study expects.")
    else:
        st.error("The engine's decision differs from the case study's expectation.")
    if expected.must_cite:
        st.caption("Must cite: " + ", ".join(expected.must_cite))
    if st.button("Use this decision", key="cs_use"):
        st.session_state["decision"] = {"record": record, "assessment": assessment, "view_id": None}
        st.switch_page("views/decision.py")
    show_record(record)

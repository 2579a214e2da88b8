"""Assess a product (procurement panel): technology, service, then the questions by principle."""


import streamlit as st

from engine.errors import DTPAError
from engine.service.forms import questions
from ui import form
from ui.auth import current
from ui.common import pack

CONTEXT = "procurement"
who = current()
p = pack()
qs = questions(p, CONTEXT)
st.title("Assess a product")
st.write("For a procurement panel: describe the product and the service, answer what you can, "
         "and evaluate. Unanswered questions become open questions; *not applicable* needs a reason.")

with st.expander("Start from a case study or a saved draft", expanded=False):
    cases = who.case_studies(CONTEXT)
    drafts = {d.name: d for d in who.drafts(CONTEXT)}
    options = ["(blank form)"] + [f"Case study: {c}" for c in cases] + [f"Draft: {d}" for d in drafts]
    start = st.selectbox("Start from", options, key="pro_start")
    if st.button("Load", key="pro_load"):
        if start.startswith("Case study: "):
            data = cases[start[12:]].assessment.model_dump(mode="json", exclude_none=True)
        elif start.startswith("Draft: "):
            data = drafts[start[7:]].data
        else:
            data = {}
        form.load(data, qs, CONTEXT)
        st.rerun()

form.summary(CONTEXT)
form.render(qs, CONTEXT, p.catalogue.targets)
data, answered, total = form.collect(qs, CONTEXT)
st.progress(answered / total if total else 0.0,
            text=f"{answered} of {total} questions the rules need are answered")

cols = st.columns([1, 1, 2])
evaluate = cols[0].button("Evaluate", type="primary", key="pro_evaluate")
draft_name = cols[2].text_input("Draft name", key="pro_draft_name", placeholder="e.g. Willow Ward monitor")
if cols[1].button("Save draft", key="pro_save_draft"):
    try:
        who.save_draft(draft_name, CONTEXT, data)
        st.success(f"Draft '{draft_name}' saved. Load it from 'Start from' to continue.")
    except DTPAError as exc:
        st.error(str(exc))

if evaluate:
    form.evaluate(data, CONTEXT, who.decide)
form.decision_preview(CONTEXT)

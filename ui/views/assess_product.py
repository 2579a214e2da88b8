"""Assess a product (procurement panel): the product, the service, then the questions by
principle, in short steps, checked, then evaluated."""


import streamlit as st

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
         "check your answers and evaluate. Unanswered questions become open questions; *not "
         "applicable* needs a reason. Your answers are kept as you move between steps and pages.")

form.open_requested(who, qs, CONTEXT)
with st.expander("Start from a case study or a saved draft", expanded=False):
    cases = who.case_studies(CONTEXT)
    drafts = form.named_drafts(who, CONTEXT)
    options = [f"Case study: {c}" for c in cases] + [f"Draft: {d}" for d in drafts]
    start = st.selectbox("Start from", options, index=None, placeholder="Choose a case study or a draft",
                         key="pro_start")
    if st.button("Load", key="pro_load") and start:
        if start.startswith("Case study: "):
            data = cases[start[12:]].assessment.model_dump(mode="json", exclude_none=True)
        else:
            data = drafts[start[7:]].data
        form.load(data, qs, CONTEXT)
        st.rerun()

form.run(who, qs, CONTEXT, p.catalogue.targets, form.data(qs, CONTEXT), prefix="pro",
         draft_placeholder="e.g. Willow Ward monitor")

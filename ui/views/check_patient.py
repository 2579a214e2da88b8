"""Check use for a patient (clinician): an approved product decision, then this patient's situation."""


import streamlit as st

from engine import service
from engine.errors import DTPAError
from engine.service.forms import questions
from ui import form
from ui.auth import current
from ui.common import pack, pretty

CONTEXT = "individual_use"
who = current()
p = pack()
qs = questions(p, CONTEXT)
st.title("Check use for a patient")
st.write("For the clinical team: check a use of an approved product for this patient against the "
         "rules DTPA holds (the legal route recorded, less restrictive options, the care plan, the "
         "review). DTPA does not give legal advice or judge this patient's risk. Use the patient's "
         "local pseudonymous reference, never a name or NHS number.")

if not who.checks_patients:
    st.info("Checking use for a patient is for clinical staff on the patient's ward; you can "
            "still read product decisions on the Records page.")
products = who.records(context="procurement")
if not products:
    st.warning("No product decision is stored yet. A procurement panel must assess the product first.")
    st.page_link("views/assess_product.py", label="Assess a product")
    st.stop()
labels = {f"{v.row.id} · {v.row.product} {v.row.product_version or ''} · "
          f"{pretty(v.effective_outcome)} · {'approved' if v.approved else 'not signed off'}": v
          for v in products}
choice = st.selectbox("Product decision this use relies on", list(labels), key="ind_product")
product = labels[choice]
problems = service.product_unusable(product)
if problems:
    st.error("This product decision cannot be relied on for a patient: " + "; ".join(problems) + ".")
    st.write("Ask the procurement panel to complete or review it first.")
    st.stop()
st.success(f"{product.row.id} is approved and current (review by {product.row.review_date}).")

with st.expander("Start from a case study", expanded=False):
    cases = who.case_studies(CONTEXT)
    start = st.selectbox("Case study", list(cases), key="ind_start")
    if st.button("Load", key="ind_load"):
        data = cases[start].assessment.model_dump(mode="json", exclude_none=True)
        data.pop("product", None)  # this use relies on the product decision chosen above
        form.load(data, qs, CONTEXT)
        st.rerun()

if who.checks_patients:
    with st.expander("Continue a saved draft", expanded=False):
        st.caption("Your own drafts, for patients on your wards: no one else sees them.")
        drafts = {d.name: d for d in who.drafts(CONTEXT)}
        if not drafts:
            st.write("You have no saved drafts.")
        else:
            opened = st.selectbox("Saved draft", list(drafts), key="ind_draft")
            if st.button("Open draft", key="ind_draft_open"):
                form.load(drafts[opened].data, qs, CONTEXT)
                st.rerun()

form.summary(CONTEXT)
form.render(qs, CONTEXT, p.catalogue.targets, skip=("product.",))
data, answered, total = form.collect([q for q in qs if not q.path.startswith("product.")], CONTEXT)
data["product"] = {"record_id": product.row.id}
st.progress(answered / total if total else 0.0,
            text=f"{answered} of {total} questions the rules need are answered")

cols = st.columns([1, 1, 2])
evaluate = cols[0].button("Evaluate", type="primary", key="ind_evaluate")
if who.checks_patients:
    draft_name = cols[2].text_input("Draft name (no patient names or NHS numbers)",
                                    key="ind_draft_name", placeholder="e.g. WIL-0042 night use")
    if cols[1].button("Save draft", key="ind_save_draft"):
        try:
            who.save_draft(draft_name, CONTEXT, data)
            st.success(f"Draft '{draft_name.strip()}' saved. Open it from 'Continue a saved draft'.")
        except DTPAError as exc:
            st.error(exc.message)

if evaluate:
    form.evaluate(data, CONTEXT, who.decide)  # refused unless the patient is on the person's ward
form.decision_preview(CONTEXT)

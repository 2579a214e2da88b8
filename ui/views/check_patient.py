"""Check use for a patient (clinician): a product decision that is approved, current and covers
one of the clinician's wards, then this patient's situation in short steps, checked, then
evaluated. The technology is the one the product decision describes (never typed again), and the
ward is one of the clinician's own that the decision covers."""


import streamlit as st

from engine.service.forms import FormProblem, questions
from engine.service.linking import technology_of, wards_covered
from ui import answers, form
from ui.auth import current
from ui.common import pack, plain, pretty

CONTEXT = "individual_use"
SKIP = ("technology.", "product.")  # from the stored product decision
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
    st.page_link("views/records.py", label="Records and audit")
    st.stop()

form.open_requested(who, qs, CONTEXT)
usable, refused = who.product_choices()
by_id = {v.row.id: v for v in usable}


def _not_offered() -> None:
    if refused:
        with st.expander(f"Why {len(refused)} other product decision{'s are' if len(refused) > 1 else ' is'} "
                         "not offered"):
            st.markdown("\n".join(f"- **{plain(v.row.id)}** {plain(v.row.product)} "
                                  f"{plain(v.row.product_version or '')}: {plain('; '.join(why))}"
                                  for v, why in refused))


if not usable:
    st.warning("No product decision you can rely on covers your wards: a product decision must be "
               "approved, within its review date and name one of your wards "
               f"({plain(', '.join(who.actor.wards))}). Ask the procurement panel.")
    _not_offered()
    st.stop()


def _label(ref: str) -> str:
    v = by_id[ref]
    return (f"{v.row.product} {v.row.product_version or ''} · {pretty(v.effective_outcome)} · "
            f"review by {v.row.review_date} · {v.row.id}")


def _chosen() -> None:
    answers.set_answer(CONTEXT, "product.record_id", st.session_state["ind_product"])


held = answers.answers(CONTEXT).get("product.record_id")
answers.seed("ind_product", held if held in by_id else None)
choice = st.selectbox("Product decision this use relies on (required)", list(by_id), index=None,
                      format_func=_label, placeholder="Choose a product decision", key="ind_product",
                      on_change=_chosen)
if held and held not in by_id:
    st.warning(f"The product decision in these answers ({plain(held)}) cannot be relied on now; "
               "choose another.")
_not_offered()
product = by_id.get(choice) if choice else None
if product is not None:
    st.success(f"{product.row.id} is approved and current (review by {product.row.review_date}).")
    tech = technology_of(product)
    st.caption("The technology is as the product decision describes it: "
               f"{plain(tech.get('name') or product.row.product)}"
               f"{plain(' ' + tech['version']) if tech.get('version') else ''}"
               f"{plain(' by ' + tech['vendor']) if tech.get('vendor') else ''}.")

with st.expander("Start from a case study", expanded=False):
    cases = who.case_studies(CONTEXT)
    start = st.selectbox("Case study", list(cases), index=None, placeholder="Choose a case study",
                         key="ind_start")
    if st.button("Load", key="ind_load") and start:
        data = cases[start].assessment.model_dump(mode="json", exclude_none=True)
        for section in ("product", "technology"):  # from the product decision chosen above
            data.pop(section, None)
        if choice:
            data["product"] = {"record_id": choice}
        form.load(data, qs, CONTEXT)
        st.rerun()

with st.expander("Continue a saved draft", expanded=False):
    st.caption("Your own drafts, for patients on your wards: no one else sees them, and they are "
               f"deleted {p.profile.patient_draft_hours} hours after they were last saved.")
    drafts = form.named_drafts(who, CONTEXT)
    if not drafts:
        st.write("You have no saved drafts.")
    else:
        opened = st.selectbox("Saved draft", list(drafts), key="ind_draft")
        if st.button("Open draft", key="ind_draft_open"):
            form.load(drafts[opened].data, qs, CONTEXT)
            st.rerun()

fixed = {"product": {"record_id": product.row.id}, "technology": technology_of(product)} \
    if product is not None else {}
blockers = [] if product is not None else [FormProblem(
    "", "Product decision this use relies on", "Choose the product decision this use relies on, "
    "at the top of the page")]
wards = wards_covered(product, who.actor.wards) if product is not None else list(who.actor.wards)
for ward in answers.restrict(CONTEXT, {"patient.ward": wards}):
    st.warning(f"The ward in these answers ({plain(ward)}) is not one of your wards that this product "
               "decision covers, so it was removed: choose the patient's ward in the step 'The patient'.")
if "patient.ward" not in answers.answers(CONTEXT):  # checked only on the patient's ward
    blockers.append(FormProblem("patient.ward", "Ward", "Choose the patient's ward"))
form.run(who, qs, CONTEXT, p.catalogue.targets, form.data(qs, CONTEXT, SKIP, fixed), prefix="ind",
         skip=SKIP, choices={"patient.ward": wards}, blockers=blockers,
         draft_label="Draft name (no patient names or NHS numbers)",
         draft_placeholder="e.g. WIL-0042 night use", by_topic=True)

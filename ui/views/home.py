"""Home: what DTPA is for, the three journeys, the principles at a glance, reviews due."""

import streamlit as st

from ui.auth import current
from ui.common import pack, pretty

who = current()
st.title("DTPA: digital technology principles assessment")
st.write(
    "DTPA helps NHS mental health inpatient services decide whether, and how, to use a digital "
    "technology on their wards, against NHS England's eight principles (February 2025) and the "
    "recommendations on data protection, policy, staff training and care-plan recording. Every "
    "decision records **why**: a verdict per principle, each finding's reason, remedy and "
    "citation, the questions still open, and when it must be reviewed."
)
cols = st.columns(3)
with cols[0]:
    st.markdown("#### Procurement panels")
    st.write("Assess a product for a service before buying or rolling it out.")
    st.page_link("views/assess_product.py", label="Assess a product")
with cols[1]:
    st.markdown("#### Clinicians")
    st.write("Check using an approved product for one patient against the principles: the legal "
             "route recorded, less restrictive options, the care plan and the review.")
    st.page_link("views/check_patient.py", label="Check use for a patient")
with cols[2]:
    st.markdown("#### Data Protection Officers")
    st.write("Find, verify and export decision records and their audit trail.")
    st.page_link("views/records.py", label="Records and audit")

p = pack()
st.header("The principles at a glance")
grid = st.columns(4)
for i, (target, name) in enumerate(p.catalogue.targets.items()):
    entry = p.catalogue.principles.get(target) or p.catalogue.areas.get(target)
    with grid[i % 4]:
        st.markdown(f"**{target} {name}**")
        st.caption(entry.summary.split(". ")[0] + ".")

st.header("Reviews due in the next 14 days, overdue or flagged")
due = who.due(14)
if not due:
    st.write("Nothing is due.")
else:
    st.dataframe([{"Record": v.row.id, "Subject": v.row.product
                   + (f" / {v.row.patient_reference}" if v.row.patient_reference else ""),
                   "Outcome": pretty(v.effective_outcome), "Why": why} for v, why in due],
                 hide_index=True, width="stretch")
st.caption(f"Rule pack {p.header.name} {p.header.version} · {len(p.rules)} rules · profile "
           f"{p.profile.name}")

"""Records and audit (DPO): find records, open one with its history, verify, export a bundle."""

import datetime as dt

import streamlit as st

from engine.errors import DTPAError
from engine.service.display import CONTEXT_WORDS, governance_text, role_words, status_words
from ui.auth import current
from ui.common import plain, pretty

who = current()
st.title("Records and audit")
cols = st.columns(5)
product = cols[0].text_input("Product contains", key="rec_product")
ward = cols[1].text_input("Ward contains", key="rec_ward")
outcome = cols[2].selectbox("Outcome", ["(any)", "supported", "supported_with_conditions",
                                        "insufficient_information", "not_supported", "out_of_scope"],
                            format_func=pretty, key="rec_outcome")
since = cols[3].date_input("Assessed since", value=None, key="rec_since")
due_only = cols[4].checkbox("Review due (30 days) or flagged", key="rec_due")

views = [v for v in who.records(product=product or None, ward=ward or None)
         if since is None or v.row.assessed_on >= since]
if outcome != "(any)":
    views = [v for v in views if v.effective_outcome == outcome]
if due_only:
    due_ids = {v.row.id for v, _ in who.due(30, among=views)}
    views = [v for v in views if v.row.id in due_ids]
st.dataframe([{"Record": v.row.id, "Kind": CONTEXT_WORDS[v.row.context], "Subject": v.row.product
               + (f" / {v.row.patient_reference}" if v.row.patient_reference else ""),
               "Ward": v.row.ward or "", "Outcome in force": pretty(v.effective_outcome),
               "Status": status_words(v), "Review by": str(v.row.review_date or "")} for v in views],
             hide_index=True, width="stretch")
st.caption(f"{len(views)} record(s)")

if views:
    chosen = st.selectbox("Open a record", [v.row.id for v in views], key="rec_open_id")
    if st.button("Open record", key="rec_open"):
        # Opening a patient's record is an audit event, with who opened it.
        view = who.open(chosen)
        rows, events = who.history(chosen)
        st.session_state["opened"] = (view.row.id, [(r.id, r.outcome, r.created_at) for r in rows],
                                      [(e.seq, e.at, e.action, e.record_id, e.actor, e.role) for e in events])
opened = st.session_state.get("opened")
try:  # opened earlier in this browser session, perhaps by someone else: checked again
    view = who.read(opened[0]) if opened else None
except DTPAError as exc:
    st.session_state.pop("opened")
    st.error(exc.message)
    view = None
if view is not None:
    st.subheader(f"Record {view.row.id}")
    st.text(governance_text(view, in_words=True))
    st.markdown("**Versions**")
    for rid, out, at in opened[1]:
        st.write(f"- {rid}: {pretty(out)}, saved {at[:16]}")
    st.markdown("**History (audit events)**")
    st.dataframe([{"#": s, "When (UTC)": at[:19], "Action": a, "Record": r,
                   "Who": f"{by} ({role_words(rl)})"}
                  for s, at, a, r, by, rl in opened[2]], hide_index=True, width="stretch")
    if st.button("Show this decision", key="rec_show"):
        st.session_state["decision"] = {"record": view.record, "assessment": None, "view_id": view.row.id}
        st.switch_page("views/decision.py")

if who.actor.may("verify"):  # governance and administrators; others are not offered it
    st.header("Verify the audit chain")
if who.actor.may("verify") and st.button("Verify now", key="rec_verify"):
    result = who.verify()
    if result.ok:
        st.success(f"Audit chain intact: {result.events} events and {result.records} records verified.")
    else:
        st.error(f"Tampering detected: {len(result.problems)} problem(s).")
        st.text("\n".join(f"- {problem}" for problem in result.problems))  # names: never markdown
    for warning in result.warnings:  # not tampering, but the DPO must act (a checkpoint not written)
        st.warning(plain(warning))
    for note in result.notes:  # what the chain was checked against: its key, the checkpoints
        st.caption(plain(note))
    if result.erased:  # authorised deletions under the retention rule: not tampering
        st.info(f"{len(result.erased)} record(s) erased under the retention rule (tombstones "
                "whose hashes and audit events still verify).")
        st.text("\n".join(f"- {line}" for line in result.erased))
    for line in result.restored:  # a backup restored over erased payloads
        st.warning(f"Restored after erasure: {plain(line)}")
    changes = who.privileged_changes()  # every change to an account, for the DPO
    with st.expander(f"Privileged changes: {len(changes)} change(s) to accounts, "
                     f"{sum(c.patient_access for c in changes)} giving access to patient records"):
        st.text("\n".join(f"- {change}" for change in changes))

# Offered only with records listed that this person may export (a panel member never a patient's).
exportable = [v for v in views if who.actor.may(f"export_{v.row.context}", v.row.ward)]
if exportable:
    st.header("Export a bundle")
    st.write("One PDF with an index and every record listed above that you may export, and a CSV "
             "of their open conditions.")
if exportable and st.button("Build bundle", key="rec_bundle"):
    bar = st.progress(0.0, text="Building the bundle")
    try:
        pdf, csv_text = who.bundle("DTPA records", exportable,
                                   lambda i, n: bar.progress(i / n, text=f"Record {i} of {n}"))
        st.session_state["bundle"] = (pdf, csv_text)
        bar.progress(1.0, text="Bundle ready")
    except DTPAError as exc:
        st.error(str(exc))
if "bundle" in st.session_state:
    pdf, csv_text = st.session_state["bundle"]
    stamp = dt.date.today().isoformat()
    st.download_button("Download bundle PDF", pdf, f"dtpa-bundle-{stamp}.pdf", "application/pdf",
                       key="dl_bundle")
    st.download_button("Download conditions CSV", csv_text, f"dtpa-conditions-{stamp}.csv",
                       "text/csv", key="dl_csv")

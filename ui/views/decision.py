"""Decision: the outcome and its justification; save, sign off, override; downloads."""

import streamlit as st

from engine.errors import DTPAError
from engine.models.vocab import Attestation, Outcome, Verdict
from ui.auth import current
from ui.common import pretty, show_record

who = current()
role = who.actor.role.value
st.title("Decision")
decision = st.session_state.get("decision")
if not decision:
    st.info("No decision yet. Assess a product, check a use for a patient, or open a stored record.")
    st.page_link("views/assess_product.py", label="Assess a product")
    st.page_link("views/records.py", label="Records and audit")
    st.stop()

record = decision["record"]
try:  # a stored record is shown only to someone who may read it
    view = who.read(decision["view_id"]) if decision.get("view_id") else None
except DTPAError as exc:
    st.error(exc.message)
    st.stop()
if view is not None:
    record = view.record
    st.caption(f"Stored record {view.row.id} · {view.status}")
show_record(record, view)

st.header("Save, sign off and override")
if view is None:
    if st.button("Save this decision", type="primary", key="dec_save"):
        try:
            saved = who.save(decision["assessment"])
            decision["view_id"] = saved.row.id
            st.rerun()
        except DTPAError as exc:
            st.error(str(exc))
else:
    with st.form("signoff"):
        st.markdown(f"**Sign off {view.row.id} as {pretty(role)}**")
        ticks = {a.value: st.checkbox(pretty(a.value), key=f"att_{a.value}") for a in Attestation}
        comment = st.text_area("Comment (optional)", key="sign_comment")
        if st.form_submit_button("Sign off"):
            try:
                who.sign(view.row.id, [a for a, on in ticks.items() if on], comment or None)
                st.rerun()
            except DTPAError as exc:
                st.error(str(exc))
    with st.form("override"):
        st.markdown("**Depart from the engine** (your name, role and reason are recorded, and the "
                    "engine's verdict stays visible)")
        target = st.selectbox("What", ["outcome", *[v.target for v in record.verdicts]], key="ov_target")
        values = [o.value for o in Outcome] if target == "outcome" else [v.value for v in Verdict]
        new = st.selectbox("Your decision", values, format_func=pretty, key="ov_value")
        reason = st.text_area(f"Reason (at least {who.reason_words} words)", key="ov_reason")
        if st.form_submit_button("Record override"):
            try:
                who.override(view.row.id, target, new, reason)
                st.rerun()
            except DTPAError as exc:
                st.error(str(exc))
    if view.signoffs or view.overrides:
        st.markdown("**Sign-offs and overrides**")
        for s in view.signoffs:
            st.write(f"- {s.name} ({pretty(s.role)}) signed on {s.signed_at[:10]}")
        for o in view.overrides:
            st.write(f"- {o.name} ({pretty(o.role)}) set {o.target} to {pretty(o.new_value)} "
                     f"(engine: {pretty(o.engine_value)}) because: {o.reason}")

st.header("Download")
kinds = [("pdf", "Audit PDF", "application/pdf"), ("json", "JSON record", "application/json"),
         ("fhir", "FHIR R5 bundle", "application/fhir+json")]
if record.record_type == "individual_use":
    kinds.insert(1, ("easy-read", "Easy-read summary", "application/pdf"))
    kinds.insert(2, ("easy-read-html", "Easy read (web page)", "text/html"))
try:  # prepared now; a stored record's export becomes an audit event when the file is taken
    files = [who.export(view.row.id, kind, audit=False) if view is not None
             else who.export_unsaved(decision["assessment"], record, kind) for kind, _, _ in kinds]
except DTPAError as exc:
    st.write(f"You cannot download this decision: {exc.message}.")
    st.stop()
for col, (kind, label, mime), (data, filename) in zip(st.columns(len(kinds)), kinds, files, strict=True):
    col.download_button(label, data, file_name=filename, mime=mime, key=f"dl_{kind}",
                        on_click=who.record_export if view is not None else None,
                        args=(view.row.id, kind) if view is not None else None)

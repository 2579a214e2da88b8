"""Decision: what was decided about what and what happens next; then save (or save as a new
version of the same subject's record), sign off, depart from the engine; downloads.

Nothing is pre-selected in an override, which is checked on a confirmation step showing the
engine's value beside the person's; sign-off is offered only to someone the service would let
sign and the record still needs. Everything a person typed is shown as text (`plain`)."""

import streamlit as st

from engine.errors import DTPAError
from engine.models.vocab import Attestation, Outcome, Verdict
from engine.service.display import (
    ATTESTATION_WORDS,
    OUTCOME_SHORT,
    VERDICT_WORDS,
    role_words,
    signoff_words,
    status_words,
)
from ui.answers import answers_match
from ui.auth import current
from ui.common import (
    details,
    outcome_box,
    plain,
    product_source,
    signed_and_overridden,
    subject,
    verdict_chart,
    what_happens_next,
    what_would_change,
)

FORM_PAGES = {"procurement": ("views/assess_product.py", "Assess a product"),
              "individual_use": ("views/check_patient.py", "Check use for a patient")}
OVERRIDE_KEYS = ("ov_target", "ov_reason")

who = current()
role = who.actor.role.value
st.title("Decision")
decision = st.session_state.get("decision")
if not decision:
    if any(st.session_state.get(f"stale:{context}") for context in FORM_PAGES):  # cleared by the form
        st.info("Your answers changed after the last evaluation, so its decision was cleared: "
                "evaluate again to see the decision for the answers as they are now.")
    else:
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
flash = st.session_state.pop("dec_flash", None)
if flash:
    st.success(plain(flash))


def stale(decision: dict) -> bool:
    """Whether the form's answers changed after this decision was made from them (the hash it
    carries against the form's current one, `answers_match`). A decision not made from the form
    (a case study run as written) carries none and is bound to its own assessment."""
    return not answers_match(decision)


STALE = ("This decision no longer matches the answers on the form: they have changed since it was "
         "made. Evaluate again, then save the new decision.")
if view is None and stale(decision):
    st.warning(STALE)
    page, label = FORM_PAGES[record.record_type]
    st.page_link(page, label=f"Back to {label}")

subject(record, view)
outcome_box(record, view.effective_outcome if view else None)
product_source(record)
what_happens_next(record, view, signoff_words(who.signers_needed(record.record_type), view))
st.subheader("Verdict per principle and practice area", anchor=False)
verdict_chart(record, view)
what_would_change(record)
details(record, view)


# --- save --------------------------------------------------------------------------------------

def save(supersedes: str | None = None) -> None:
    if stale(decision):  # checked at the click too: the form may have changed in another tab
        st.error(f"Not saved. {STALE}")
        return
    try:
        saved = who.save(decision["assessment"], supersedes=supersedes)
    except DTPAError as exc:
        st.error(plain(str(exc)))
        return
    decision["view_id"] = saved.row.id
    st.session_state["dec_flash"] = f"Saved as {saved.row.id}" + (
        f", a new version of {supersedes}." if supersedes else ".")
    st.rerun()


def save_section() -> None:
    allowed, why = who.may_save(record)
    if not allowed:  # not offered to someone `save` would refuse
        st.info(plain(why))
        return
    existing = who.current_record_for(record) if decision.get("assessment") is not None else None
    if existing is None:
        if st.button("Save this decision", type="primary", key="dec_save"):
            save()
        return
    same = "this patient and product" if record.record_type == "individual_use" else \
        "this product and version"
    st.info(f"A current record for {same} is already stored: **{existing.row.id}** "
            f"({OUTCOME_SHORT.get(existing.effective_outcome, existing.effective_outcome)}, "
            f"{plain(status_words(existing))}). Save this decision as its new version, so one record "
            "keeps the whole history; the new version is signed afresh.")
    left, right = st.columns(2)
    if left.button(f"Save as a new version of {existing.row.key}", type="primary", key="dec_supersede"):
        save(existing.row.id)
    if right.button("Save this decision as a separate record", key="dec_save"):
        save()


# --- sign off ----------------------------------------------------------------------------------

def signoff_section() -> None:
    allowed, why = who.may_sign(view)
    if not allowed:
        st.info(plain(why))
        return
    with st.form("signoff"):
        st.markdown(f"**Sign off {view.row.id} as {plain(role_words(role))}**")
        st.caption("Tick all four statements to sign.")
        ticks = {a.value: st.checkbox(ATTESTATION_WORDS.get(a.value, a.value), key=f"att_{a.value}")
                 for a in Attestation}
        comment = st.text_area("Comment (optional)", key="sign_comment", max_chars=2000)
        submitted = st.form_submit_button("Sign off")
    if submitted:
        try:
            who.sign(view.row.id, [a for a, on in ticks.items() if on], comment or None)
        except DTPAError as exc:
            st.error(plain(str(exc)))
            return
        for key in [*(f"att_{a.value}" for a in Attestation), "sign_comment"]:
            st.session_state.pop(key, None)  # the form starts empty next time
        st.session_state["dec_flash"] = f"Signed {view.row.id} as {role_words(role)}."
        st.rerun()


# --- depart from the engine: choose, check, confirm --------------------------------------------

def value_words(value: str) -> str:
    """An outcome or a verdict as an answer is offered: "Supported", "Met with conditions"."""
    words = OUTCOME_SHORT.get(value) or VERDICT_WORDS.get(value, value)
    return words[:1].upper() + words[1:]


def clear_override() -> None:
    for key in [k for k in st.session_state if str(k).startswith(("ov_value:", *OVERRIDE_KEYS))]:
        del st.session_state[key]
    st.session_state.pop("ov_pending", None)


def override_section() -> None:
    allowed, why = who.may_override(view)
    if not allowed:
        st.caption(plain(why))
        return
    st.subheader("Depart from the engine", anchor=False)
    st.write("Your name, role and reason are recorded, and the engine's own value stays visible "
             "on the record.")
    engine = {"outcome": record.outcome, **{v.target: v.verdict for v in record.verdicts}}
    names = {"outcome": "The outcome", **{v.target: f"{v.target} {v.name}" for v in record.verdicts}}
    failed = st.session_state.pop("ov_error", None)
    if failed:
        st.error(f"The override was not recorded: {plain(failed)}")
    pending = st.session_state.get("ov_pending")
    if pending and pending["record"] == view.row.id:
        confirm_override(pending, names, engine)
        return
    target = st.selectbox("What do you depart from?", list(names), index=None, format_func=names.get,
                          placeholder="Choose the outcome, or a principle or area", key="ov_target")
    if target is None:
        choices: list[str] = []
    else:
        every = [o.value for o in Outcome] if target == "outcome" else [v.value for v in Verdict]
        choices = [c for c in every if c != engine[target]]  # the engine's own value is no departure
    new = st.selectbox("Your decision", choices, index=None, format_func=value_words,
                       placeholder="Choose your decision" if target else "Choose what you depart from first",
                       key=f"ov_value:{target}")
    reason = st.text_area(f"Reason (at least {who.reason_words} words)", key="ov_reason", max_chars=2000)
    if st.button("Continue", key="ov_continue"):
        problems = []
        if target is None:
            problems.append("Choose what you depart from: the outcome, or a principle or area.")
        if new is None:
            problems.append("Choose your decision: nothing is chosen for you.")
        try:
            reason = who.check_override_reason(reason)
        except DTPAError as exc:
            problems.append(f"Give your reason: {exc.message}.")
        if problems:
            st.error("The override was not recorded:\n" + "\n".join(f"- {plain(p)}" for p in problems))
            return
        st.session_state["ov_pending"] = {"record": view.row.id, "target": target, "value": new,
                                          "reason": reason}
        st.rerun()


def confirm_override(pending: dict, names: dict, engine: dict) -> None:
    target, value, reason = pending["target"], pending["value"], pending["reason"]
    with st.container(border=True):
        st.markdown("**Check the override before it is recorded**")
        st.markdown(f"{plain(names.get(target, target))}. Engine: **{value_words(engine[target])}** "
                    f"→ Your decision: **{value_words(value)}**")
        st.text(f"Reason: {reason}")  # typed text: shown as it is, never as markdown
        st.text(f"Recorded as {who.actor.name} ({role_words(role)}), with today's date.")
        left, right = st.columns(2)
        confirm = left.button("Confirm override", type="primary", key="ov_confirm")
        cancel = right.button("Cancel", key="ov_cancel")
    if cancel:  # back to the choices as they were
        clear_override()
        st.session_state.update({"ov_target": target, f"ov_value:{target}": value, "ov_reason": reason})
        st.rerun()
    if confirm:
        try:
            who.override(view.row.id, target, value, reason)
        except DTPAError as exc:  # e.g. superseded meanwhile: said, and the choices kept
            clear_override()
            st.session_state.update({"ov_target": target, f"ov_value:{target}": value,
                                     "ov_reason": reason, "ov_error": str(exc)})
            st.rerun()
        clear_override()
        st.session_state["dec_flash"] = (f"Override recorded: {names.get(target, target)} is now "
                                         f"{value_words(value)} (the engine's value stays on the record).")
        st.rerun()


st.header("Save, sign off and override", anchor=False)
if view is None:
    save_section()
else:
    signoff_section()
    override_section()
    signed_and_overridden(view)

st.header("Download", anchor=False)
kinds = [("pdf", "Audit PDF", "application/pdf"), ("json", "JSON record", "application/json"),
         ("fhir", "FHIR R5 bundle", "application/fhir+json")]
if record.record_type == "individual_use":
    kinds.insert(1, ("easy-read", "Easy-read summary", "application/pdf"))
    kinds.insert(2, ("easy-read-html", "Easy read (web page)", "text/html"))
try:  # prepared now; a stored record's export becomes an audit event when the file is taken
    files = [who.export(view.row.id, kind, audit=False) if view is not None
             else who.export_unsaved(decision["assessment"], record, kind) for kind, _, _ in kinds]
except DTPAError as exc:
    st.write(f"You cannot download this decision: {plain(exc.message)}.")
    st.stop()
for col, (kind, label, mime), (data, filename) in zip(st.columns(len(kinds)), kinds, files, strict=True):
    col.download_button(label, data, file_name=filename, mime=mime, key=f"dl_{kind}",
                        on_click=who.record_export if view is not None else None,
                        args=(view.row.id, kind) if view is not None else None)

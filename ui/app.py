"""DTPA front page (Streamlit). A thin layer: every decision comes from `engine.service`.

The full three-journey interface is still to come; this page explains DTPA, shows the principles
at a glance and lets a user run any case study and read its justified decision.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run ui/app.py` from a checkout
    sys.path.insert(0, str(ROOT))

from engine import service  # noqa: E402
from engine.wording import CONTEXT_WORDS, OUTCOME_WORDS, VERDICT_WORDS  # noqa: E402

CASE_STUDIES = ROOT / "case_studies"


@st.cache_resource
def rule_pack():
    """Loaded once per process; durable_rules rulesets are registered once per pack hash."""
    return service.load_rules()


def main() -> None:
    st.set_page_config(page_title="DTPA: digital technology principles", layout="wide")
    st.title("DTPA: digital technology principles assessment")
    st.write(
        "DTPA helps NHS mental health inpatient services decide whether, and how, to use a digital "
        "technology on their wards, against NHS England's eight principles (February 2025), and "
        "records **why**: every verdict with its reason, remedy and citation."
    )
    pack = rule_pack()
    st.caption(f"Rule pack {pack.header.name} {pack.header.version} · {len(pack.rules)} rules · "
               f"profile {pack.profile.name} · sha256 {pack.hash[:12]}")

    st.header("The principles at a glance")
    cols = st.columns(4)
    for i, (target, name) in enumerate(pack.catalogue.targets.items()):
        cols[i % 4].markdown(f"**{target}** {name}")

    st.header("Run a case study")
    files = sorted(CASE_STUDIES.glob("*.yaml"))
    choice = st.selectbox("Case study", files, format_func=lambda p: p.stem, key="case_study")
    if st.button("Evaluate", key="evaluate", type="primary"):
        record = service.assess(service.load_assessment(choice), pack)
        st.session_state["record"] = record
    record = st.session_state.get("record")
    if record is not None:
        show_record(record)


def show_record(record) -> None:
    st.subheader(CONTEXT_WORDS[record.record_type])
    words = OUTCOME_WORDS[record.record_type][record.outcome]
    box = {"not_supported": st.error, "insufficient_information": st.warning,
           "supported_with_conditions": st.warning}.get(record.outcome, st.success)
    box(f"**{words}**. {record.outcome_reason}.")
    if record.review_date:
        st.write(f"Review by **{record.review_date}** ({record.review_basis}).")
    st.table([{"Principle or area": f"{v.target} {v.name}", "Verdict": VERDICT_WORDS[v.verdict]}
              for v in record.verdicts])
    st.markdown(f"#### Findings ({len(record.findings)})")
    for f in record.findings:
        with st.expander(f"[{f.severity}] {f.rule_id}: {f.title}"):
            st.write(f"**Why.** {f.finding}")
            st.write(f"**Remedy.** {f.remedy}")
            st.write("**Cites.** " + "; ".join(
                f"[{c.title}]({c.url})" if c.url else c.title for c in f.citations))
    if record.open_questions:
        st.markdown(f"#### Open questions ({len(record.open_questions)})")
        for q in record.open_questions:
            st.write(f"- {q.question} (`{q.fact}`; {', '.join(q.targets)})")
    st.caption(f"Record sha256 {record.record_hash}")


main()

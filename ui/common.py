"""Shared pieces of the Streamlit front end: the cached rule pack and the store, and how a
decision is shown. Everything decided comes from `engine.service`."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run ui/app.py` from a checkout
    sys.path.insert(0, str(ROOT))

from engine import service  # noqa: E402
from engine.service.display import (  # noqa: E402
    CONTEXT_WORDS,
    FAVOURABLE,
    VERDICT_WORDS,
    outcome_line,
    product_conditions_heading,
    product_source_words,
)

OUTCOME_BOX = {"not_supported": "error", "insufficient_information": "warning",
               "supported_with_conditions": "warning", "supported": "success", "out_of_scope": "info"}


def _signature() -> str:
    """Changes when a rule, catalogue or profile file changes, so a new pack is loaded."""
    files = sorted((ROOT / "rules").rglob("*.yaml")) + sorted((ROOT / "principles").glob("*.yaml"))
    return "|".join(f"{p.name}:{p.stat().st_mtime_ns}" for p in files)


@st.cache_resource(max_entries=2, show_spinner=False)
def _pack(signature: str):
    return service.load_rules()


def pack():
    """The rule pack, built once per process per content (durable_rules rulesets are reused)."""
    return _pack(_signature())


def pretty(value: object) -> str:
    return str(value).replace("_", " ").capitalize() if value is not None else ""


def outcome_box(record, effective: str | None = None) -> None:
    words = _md(outcome_line(record))  # the legal route recorded may hold typed text
    getattr(st, OUTCOME_BOX[record.outcome])(f"**{words}.** {record.outcome_reason}.")
    if effective and effective != record.outcome:
        st.warning(f"Outcome in force after an override: **{pretty(effective)}** "
                   f"(the engine decided {pretty(record.outcome)}).")


BADGE = {"met": "green", "met_with_conditions": "orange", "not_met": "red", "unknown": "gray",
         "not_applicable": "gray"}


def verdict_chart(record) -> None:
    """The verdicts at a glance: a strip of coloured badges that also say the verdict in words
    (colour is never the only signal), then the same as a table."""
    badges = [f":{BADGE[v.verdict]}-background[**{v.target}** {VERDICT_WORDS[v.verdict]}]"
              for v in record.verdicts]
    st.markdown(" ".join(badges))


def show_record(record, view=None) -> None:
    """The decision and its justification, as every page shows it."""
    st.subheader(CONTEXT_WORDS[record.record_type])
    outcome_box(record, view.effective_outcome if view else None)
    if record.record_type == "individual_use" and record.outcome not in FAVOURABLE:
        st.write(f"Legal route recorded: {_md(record.legal_route or 'none')}")
    product_source(record)
    cols = st.columns(3)
    cols[0].metric("Findings", len(record.findings))
    cols[1].metric("Open questions", len(record.open_questions))
    cols[2].metric("Review by", str(record.review_date or "-"))
    if record.review_basis:
        st.caption(f"Review date from: {record.review_basis}")
    if record.scope_note:
        st.info(record.scope_note)
    st.markdown("#### Verdict per principle and practice area")
    verdict_chart(record)
    overrides = {o.target: o for o in view.overrides} if view else {}
    st.table([{"Principle or area": f"{v.target} {v.name}", "Verdict": VERDICT_WORDS[v.verdict]
               + (f" (overridden to {pretty(overrides[v.target].new_value)})" if v.target in overrides
                  else ""), "Why": v.reason} for v in record.verdicts])
    st.markdown(f"#### Findings ({len(record.findings)})")
    for f in record.findings:
        with st.expander(f"{pretty(f.severity)} · {f.rule_id}: {f.title}"):
            st.markdown(f"**Why.** {_md(f.finding)}")
            st.markdown(f"**Remedy.** {_md(f.remedy)}")
            st.markdown("**Cites.** " + "; ".join(
                (f"[{_md(c.title)}]({c.url})" if c.url else _md(c.title))
                + (f", {_md(c.section)}" if c.section else "") for c in f.citations))
            st.caption(f"Basis: {f.basis}. Serves: {', '.join([*f.principles, *f.areas])}")
    if record.conditions:
        st.markdown(f"#### Conditions ({len(record.conditions)})")
        for c in record.conditions:
            st.markdown(f"- **{c.rule_id}**: {_md(c.remedy)}")
    if record.product_source is not None and record.product_source.kind == "store":
        st.markdown(f"#### {product_conditions_heading(record)}")
        for pc in record.product_conditions:
            st.markdown(f"- **{pc.rule_id}**: {_md(pc.title)}")
    st.markdown(f"#### Open questions ({len(record.open_questions)})")
    if not record.open_questions:
        st.write("None: every question the rules need was answered.")
    for q in record.open_questions:
        st.markdown(f"- {_md(q.question)} *(serves {', '.join(q.targets)})*")
    st.markdown("#### What would change this decision")
    for step in record.what_would_change:
        st.markdown(f"**From {pretty(step.from_outcome)} to {pretty(step.to_outcome)}** "
                    "(proven by re-evaluating with these remedies):")
        for r in step.remedies:
            st.markdown(f"- {r.rule_id}: {_md(r.remedy)}")
    if record.what_would_not_change:
        st.write(record.what_would_not_change)
    if not record.what_would_change and not record.what_would_not_change:
        st.write("Nothing: the decision is as favourable as it can be.")
    if record.not_judged:
        st.markdown("#### What DTPA does not judge")
        st.markdown("\n".join(f"- {_md(item)}" for item in record.not_judged))
    st.caption(f"Rule pack {record.rule_pack.name} {record.rule_pack.version} · profile "
               f"{record.rule_pack.profile} · record SHA-256 {record.record_hash}")


def product_source(record) -> None:
    """Where an individual use's product facts came from; loud when the store was not read."""
    sentence, details = product_source_words(record)
    if not sentence:
        return
    text = f"{_md(sentence)}  \n" + "  \n".join(f"**{k}:** {_md(v)}" for k, v in details)
    src = record.product_source
    if src.kind == "store":
        st.caption(text)
    elif src.reason == "no_record_id":
        st.info(text)
    else:
        st.error(text)


def _md(text: str) -> str:
    """Text shown as markdown, with markdown and HTML characters escaped."""
    out = str(text)
    for ch in "\\`*_{}[]()#+-.!|<>$~":
        out = out.replace(ch, "\\" + ch)
    return out

"""Shared pieces of the Streamlit front end: the cached rule pack and the store, and how a
decision is shown. Everything decided comes from `engine.service`; the words come from
`engine.service.display`, so they are tested without Streamlit.

Anything a person typed is shown as the characters typed, never as markdown or HTML, so
`[link](javascript:...)` stays those characters: names, reasons and comments with st.text (no
markdown at all), typed words inside headings and labels (a product name, a title) through
`plain`, which escapes everything markdown reads."""

from __future__ import annotations

import datetime as dt
import html
import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run ui/app.py` from a checkout
    sys.path.insert(0, str(ROOT))

from engine import service  # noqa: E402
from engine.service.display import (  # noqa: E402
    FAVOURABLE,
    OUTCOME_SHORT,
    VERDICT_WORDS,
    change_summary,
    conditions_by_owner,
    next_conditions,
    outcome_line,
    product_conditions_heading,
    product_source_words,
    review_basis_words,
    review_words,
    role_words,
    status_words,
    subject_words,
)
from engine.service.forms import questions  # noqa: E402

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


def plain(text: object) -> str:
    """Text to pass to st.markdown (or a header, caption, alert) that shows as the same
    characters: every character markdown, HTML or Streamlit's own directives (`:red[...]`,
    `:material/...:`) read is escaped, and line breaks are kept."""
    out = str(text)
    for ch in "\\`*_{}[]()#+-.!|<>$~:&=^%\"'":
        out = out.replace(ch, "\\" + ch)
    return out.replace("\r\n", "\n").replace("\n", "  \n")


_md = plain  # the name this module used before


def outcome_box(record, effective: str | None = None) -> None:
    words = plain(outcome_line(record))  # the legal route recorded may hold typed text
    getattr(st, OUTCOME_BOX[record.outcome])(f"**{words}.** {plain(record.outcome_reason)}.")
    if effective and effective != record.outcome:
        st.warning(f"Outcome in force after an override: **{OUTCOME_SHORT.get(effective, effective)}** "
                   f"(the engine decided {OUTCOME_SHORT.get(record.outcome, record.outcome)}).")


def subject(record, view=None) -> None:
    """What the decision is about, first: the product and version, then what else names it."""
    heading, lines = subject_words(record)
    st.header(plain(heading), anchor=False)
    st.markdown("  \n".join(f"**{label}:** {plain(value)}" for label, value in lines))
    if view is not None:
        st.caption(f"Stored record {view.row.id} · {plain(status_words(view))}")


# Strong colours with text at WCAG AA contrast or better (NHS identity palette), a symbol and the
# verdict in words: colour is never the only signal. Each badge is a flex item of a wrapping row,
# so a badge moves to the next line whole and wraps inside itself only when it is wider than the
# page (a phone): `nowrap` made the long ones run off a 360 px screen.
BADGE = {"met": ("#007f3b", "#ffffff", "✓"), "met_with_conditions": ("#ffb81c", "#212b32", "!"),
         "not_met": ("#d5281b", "#ffffff", "✗"), "unknown": ("#4c6272", "#ffffff", "?"),
         "not_applicable": ("#e8edee", "#212b32", "–")}
_BADGE_STYLE = ("display:inline-block;min-width:0;max-width:100%;padding:0.3rem 0.65rem;border-radius:0.3rem;"
                "font-weight:600;line-height:1.4;background:{bg};color:{fg};border:1px solid {border}")


def verdict_chart(record, view=None) -> None:
    """The verdicts at a glance: one strong badge per principle or area, saying the verdict in
    words (and the override in force, if any)."""
    overrides = {o.target: o.new_value for o in view.overrides} if view else {}
    badges = []
    for v in record.verdicts:
        shown = overrides.get(v.target, v.verdict)
        bg, fg, mark = BADGE.get(shown, BADGE["unknown"])
        words = VERDICT_WORDS.get(shown, shown) + (
            f" (overridden; engine: {VERDICT_WORDS.get(v.verdict, v.verdict)})" if v.target in overrides
            else "")
        style = _BADGE_STYLE.format(bg=bg, fg=fg, border="#768692" if bg == "#e8edee" else bg)
        badges.append(f'<span style="{style}">{mark} {html.escape(v.target)} {html.escape(v.name)}: '
                      f"{html.escape(words)}</span>")
    st.markdown('<div style="display:flex;flex-wrap:wrap;gap:0.4rem">' + "".join(badges) + "</div>",
                unsafe_allow_html=True)


def what_happens_next(record, view=None, signers: str | None = None) -> None:
    """Who still has to sign, each condition with its owner and due date, and the review date,
    in words."""
    today = dt.date.today()
    conditions = next_conditions(record, today, pack().profile.condition_owners)
    with st.container(border=True):
        st.subheader("What happens next", anchor=False)
        if record.outcome not in FAVOURABLE and record.outcome != "out_of_scope":
            st.markdown(f"**Next step.** {plain(change_summary(record).headline)}")
        if signers:
            st.markdown(f"**Sign-off.** {plain(signers)}")
        if conditions:
            heading = (f"Conditions to meet ({len(conditions)})" if record.outcome in FAVOURABLE else
                       f"Conditions that will apply once it is supported ({len(conditions)})")
            st.markdown(f"**{heading}.** Owners are suggested by the local profile, from the "
                        "principle or area each condition serves: agree them with the people concerned.")
            for owner, group in conditions_by_owner(conditions):
                lines = "\n".join(f"- {plain(c.title)} ({plain(c.rule_id)}), {plain(c.due)}" for c in group)
                who = f"{plain(owner)} (suggested owner)" if owner else "No owner recorded"
                if len(conditions) > 6:  # many conditions: one line per owner, the list folded
                    with st.expander(f"{who}: {len(group)} condition(s)"):
                        st.markdown(lines)
                else:
                    st.markdown(f"*{who}*\n{lines}")
        elif record.outcome in FAVOURABLE:
            st.markdown("**Conditions.** None: this decision carries no conditions.")
        if record.product_source is not None and record.product_source.kind == "store" \
                and record.product_conditions:
            st.markdown(f"**{plain(product_conditions_heading(record))}.** The procurement panel "
                        "owns them; check each is met on this ward before this use:\n"
                        + "\n".join(f"- {plain(pc.title)} ({plain(pc.rule_id)})"
                                    for pc in record.product_conditions))
        if record.open_questions and record.outcome == "insufficient_information":
            st.markdown(f"**Questions to answer.** {len(record.open_questions)} question(s) the rules "
                        "need are not answered: answer them and evaluate again (listed under Details).")
        basis = review_basis_words(record.review_basis, _question_words(record.record_type)) \
            if record.review_basis else ""
        st.markdown(f"**Review.** {plain(review_words(record.review_date, today))}"
                    + (f" The earliest date due: {plain(basis)}." if basis else ""))


def _question_words(context: str) -> dict[str, str]:
    """Each question's path -> its wording, to name an answer the way the form asks it."""
    return {q.path: q.spec.question for q in questions(pack(), context)}


def what_would_change(record) -> None:
    """The smallest proven step first, with its effect; one sentence when nothing is proven."""
    st.subheader("What would change this decision", anchor=False)
    summary = change_summary(record)
    if not summary.steps:
        st.write(summary.headline)
    for i, (sentence, remedies) in enumerate(summary.steps, 1):
        st.markdown(plain(sentence))
        with st.expander(f"The {len(remedies)} remed{'y' if len(remedies) == 1 else 'ies'} of step {i}"):
            st.markdown("\n".join(f"- **{plain(rid)}** {plain(title)}: {plain(remedy)}"
                                  for rid, title, remedy in remedies))
    if summary.steps and summary.beyond:
        st.write(summary.beyond)
    if summary.detail:
        with st.expander("What the remedies holding it back say"):
            st.markdown(plain(summary.detail))


def details(record, view=None) -> None:
    """Everything behind the decision, folded: the verdict table, findings by severity with their
    citations, open questions, answers marked not applicable, and what DTPA does not judge."""
    st.subheader("Details", anchor=False)
    overrides = {o.target: o for o in view.overrides} if view else {}
    with st.expander(f"Why each verdict ({len(record.verdicts)} principles and areas)"):
        st.table([{"Principle or area": f"{v.target} {v.name}", "Verdict": VERDICT_WORDS[v.verdict]
                   + (f" (overridden to {VERDICT_WORDS.get(overrides[v.target].new_value, '')})"
                      if v.target in overrides else ""), "Why": v.reason} for v in record.verdicts])
    by_severity: dict[str, list] = {}
    for f in record.findings:
        by_severity.setdefault(str(f.severity), []).append(f)
    for severity, found in by_severity.items():
        with st.expander(f"Findings: {pretty(severity)} ({len(found)}): "
                         + ", ".join(f.rule_id for f in found[:4]) + (" …" if len(found) > 4 else "")):
            for f in found:
                _finding(f)
    if not record.findings:
        st.write("No findings: no rule DTPA checks fired.")
    with st.expander(f"Open questions ({len(record.open_questions)})"):
        if not record.open_questions:
            st.write("None: every question the rules need was answered.")
        for q in record.open_questions:
            st.markdown(f"- {plain(q.question)} *(serves {plain(', '.join(q.targets))})*")
    if record.not_applicable:
        with st.expander(f"Answered not applicable ({len(record.not_applicable)})"):
            for na in record.not_applicable:
                st.markdown(f"- {plain(na.question)}: {plain(na.reason)}")
    if record.record_type == "individual_use" and record.outcome not in FAVOURABLE:
        st.markdown(f"Legal route recorded: {plain(record.legal_route or 'none')}")
    if record.not_judged:
        with st.expander("What DTPA does not judge"):
            st.markdown("\n".join(f"- {plain(item)}" for item in record.not_judged))
    st.caption(f"Rule pack {plain(record.rule_pack.name)} {plain(record.rule_pack.version)} · profile "
               f"{plain(record.rule_pack.profile)} · record SHA-256 {record.record_hash}")


def _finding(f) -> None:
    st.markdown(f"**{plain(f.rule_id)}: {plain(f.title)}**  \n**Why.** {plain(f.finding)}  \n"
                f"**Remedy.** {plain(f.remedy)}")
    st.markdown("**Cites.** " + "; ".join(
        (f"[{plain(c.title)}]({c.url})" if c.url and c.url.startswith("https://") else plain(c.title))
        + (f", {plain(c.section)}" if c.section else "") for c in f.citations))
    st.caption(f"Basis: {plain(f.basis)}. Serves: {plain(', '.join([*f.principles, *f.areas]))}")


def show_record(record, view=None, signers: str | None = None) -> None:
    """The decision and its justification, in the order the decision page leads with: the
    subject, the outcome, what happens next, the verdicts, what would change, then the details."""
    subject(record, view)
    outcome_box(record, view.effective_outcome if view else None)
    product_source(record)
    what_happens_next(record, view, signers)
    st.subheader("Verdict per principle and practice area", anchor=False)
    verdict_chart(record, view)
    what_would_change(record)
    details(record, view)


def signed_and_overridden(view) -> None:
    """The sign-offs and overrides of a stored record. Names, reasons and comments are shown with
    st.text: no markdown at all, so not even a bare web address becomes a link."""
    if not (view.signoffs or view.overrides):
        return
    st.markdown("**Sign-offs and overrides**")
    for s in view.signoffs:
        st.text(f"{s.name} ({role_words(s.role)}) signed on {s.signed_at[:10]}."
                + (f" Comment: {s.comment}" if getattr(s, "comment", None) else ""))
    for o in view.overrides:
        what = "the outcome" if o.target == "outcome" else o.target
        st.text(f"{o.name} ({role_words(o.role)}) set {what} to {_value_words(o.new_value)} "
                f"(engine: {_value_words(o.engine_value)}) on {o.created_at[:10]}, because: {o.reason}")


def _value_words(value: str) -> str:
    return OUTCOME_SHORT.get(value) or VERDICT_WORDS.get(value) or pretty(value)


def product_source(record) -> None:
    """Where an individual use's product facts came from; loud when the store was not read."""
    sentence, details_ = product_source_words(record)
    if not sentence:
        return
    text = f"{plain(sentence)}  \n" + "  \n".join(f"**{k}:** {plain(v)}" for k, v in details_)
    src = record.product_source
    if src.kind == "store":
        st.caption(text)
    elif src.reason == "no_record_id":
        st.info(text)
    else:
        st.error(text)

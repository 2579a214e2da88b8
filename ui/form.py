"""The assessment form of the web front end, generated from the models (`engine.service.forms`):
short steps, one topic or principle each, with Back and Continue and a step list that shows
progress and problems, ending with "Check your answers" and Evaluate (the GOV.UK pattern).

Answers live apart from the widgets (ui/answers.py), so nothing typed is lost by moving between
steps or pages. Problems are listed at the top in plain words, each naming its question and
opening its step; the steps holding them are marked; a fixed answer's problem goes away.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from engine import service
from engine.errors import DTPAError, InputInvalid
from engine.service.forms import (
    FormProblem,
    Question,
    Step,
    form_problems,
    steps,
)
from ui import answers as state
from ui.answers import NO, YES, answers_match, key
from ui.common import outcome_box, plain, pretty, product_source
from ui.widgets import question

__all__ = ["answers_match", "data", "key", "load", "open_requested", "run"]

CHECK = "check"  # the last step: check your answers, then evaluate
data = state.data


def load(data: dict[str, Any], qs: list[Question], context: str) -> None:
    """Fill the form from an assessment (a case study or a draft) and show it to be checked."""
    state.load(data, context)
    st.session_state[f"step:{context}"] = CHECK


def open_requested(who: Any, qs: list[Question], context: str) -> None:
    """Open the draft another page asked for (Home's "Continue"): only this person's own drafts
    of this kind are looked in, so a name can open nothing else."""
    wanted = st.session_state.get("open_draft")
    if not wanted or wanted.get("context") != context:
        return
    del st.session_state["open_draft"]
    draft = next((d for d in who.drafts(context) if d.name == wanted.get("name")), None)
    if draft is None:
        st.warning(f"The draft {plain(str(wanted.get('name')))} could not be opened: it may have "
                   "expired or been deleted.")
        return
    load(draft.data, qs, context)


def run(who: Any, qs: list[Question], context: str, names: dict[str, str], built: dict[str, Any], *,
        prefix: str, skip: tuple[str, ...] = (), choices: dict[str, list[str]] | None = None,
        blockers: list[FormProblem] | None = None, draft_label: str = "Draft name",
        draft_placeholder: str = "", by_topic: bool = False) -> None:
    """The whole form: problems, the step list, the current step (or the check page with
    Evaluate and the decision), and saving a named draft or starting again."""
    current_hash = state.track(context, built, qs, blockers)
    state.autosave(who, context, built, current_hash)
    _restore_offer(who, context, prefix)
    parts = steps(qs, names, skip, by_topic)
    where = {q.path: s.name for s in parts for q in s.questions}
    problems = st.session_state.get(f"problems:{context}") or []
    _error_summary(problems, where, context, prefix)
    names_in_order = [s.name for s in parts] + [CHECK]
    current = st.session_state.get(f"step:{context}")
    if current not in names_in_order:
        current = st.session_state[f"step:{context}"] = names_in_order[0]
    nav, body = st.columns([1, 3], gap="large")
    with nav:
        _step_list(parts, qs, context, problems, prefix, current)
    with body:
        if current == CHECK:
            _check_page(who, parts, context, prefix, built, blockers or [], qs, choices or {})
        else:
            step = next(s for s in parts if s.name == current)
            _step(step, parts, context, prefix, problems, choices or {}, names)
    if problem := st.session_state.get(f"autosave_problem:{context}"):
        st.caption(f"Your answers are kept on this page but could not be saved as a draft: "
                   f"{plain(problem)}")
    _drafts(who, context, prefix, built, draft_label, draft_placeholder)


# --- moving between steps -----------------------------------------------------------------------

def _go(context: str, step: str) -> None:
    st.session_state[f"step:{context}"] = step


def _picked(context: str, nav_key: str) -> None:
    _go(context, st.session_state[nav_key])


def _step_list(parts: list[Step], qs: list[Question], context: str, problems: list[FormProblem],
               prefix: str, current: str) -> None:
    relied = [q for q in qs if q.targets and any(q in s.questions for s in parts)]
    done = sum(state.answered(q, context) for q in relied)
    st.progress(done / len(relied) if relied else 0.0,
                text=f"{done} of {len(relied)} questions the rules need are answered")
    titles = {s.name: f"{i}. {s.title}" for i, s in enumerate(parts, 1)}
    titles[CHECK] = f"{len(parts) + 1}. Check your answers"
    captions = []
    for s in parts:
        count = sum(state.answered(q, context) for q in s.questions)
        wrong = sum(p.path in {q.path for q in s.questions} for p in problems)
        captions.append(f"{count} of {len(s.questions)} answered" +
                        (f" · ⚠ {wrong} problem{'s' if wrong > 1 else ''}" if wrong else ""))
    captions.append("Then evaluate")
    nav_key = f"{prefix}_steps"
    state.seed(nav_key, current)
    st.radio("Steps", [s.name for s in parts] + [CHECK], key=nav_key, captions=captions,
             format_func=lambda name: titles[name] + (" ⚠" if name != CHECK and any(
                 p.path in {q.path for q in next(s for s in parts if s.name == name).questions}
                 for p in problems) else ""),
             on_change=_picked, args=(context, nav_key))


def _error_summary(problems: list[FormProblem], where: dict[str, str], context: str,
                   prefix: str) -> None:
    """Every problem, at the top, each naming its question; a button opens its step."""
    if not problems:
        return
    with st.container(border=True):
        st.error(f"**There {'is a problem' if len(problems) == 1 else f'are {len(problems)} problems'} "
                 "to correct before a decision can be made.** Select one to go to its question.",
                 icon="⚠️")
        for i, p in enumerate(problems):
            step = where.get(p.path)
            if step:
                st.button(f"{p.question}: {p.message}", key=f"{prefix}_problem_{i}", type="tertiary",
                          on_click=_go, args=(context, step), icon=":material/arrow_forward:")
            else:
                st.markdown(f"- {plain(p.text)}")


# --- one step ------------------------------------------------------------------------------------

def _step(step: Step, parts: list[Step], context: str, prefix: str, problems: list[FormProblem],
          choices: dict[str, list[str]], names: dict[str, str]) -> None:
    index = parts.index(step)
    st.subheader(f"{index + 1}. {step.title}", anchor=False)
    st.caption("Answer what you can: an unanswered question becomes an open question in the "
               "decision. *Not applicable* needs a reason.")
    for q in step.questions:
        question(q, context, [p.message for p in problems if p.path == q.path], choices.get(q.path),
                 names)
    back, ahead = st.columns(2)
    if index > 0:
        back.button("Back", key=f"{prefix}_back", on_click=_go, args=(context, parts[index - 1].name),
                    icon=":material/arrow_back:")
    following = parts[index + 1].name if index + 1 < len(parts) else CHECK
    ahead.button("Continue", key=f"{prefix}_next", type="primary", on_click=_go,
                 args=(context, following))


# --- check your answers, evaluate, the decision -------------------------------------------------

def _check_page(who: Any, parts: list[Step], context: str, prefix: str, built: dict[str, Any],
                blockers: list[FormProblem], qs: list[Question], choices: dict[str, list[str]]) -> None:
    st.subheader(f"{len(parts) + 1}. Check your answers", anchor=False)
    st.caption("Unanswered questions become open questions in the decision. Change any answer, "
               "then evaluate.")
    store = state.answers(context)
    problems = {p.path for p in st.session_state.get(f"problems:{context}") or []}
    for i, s in enumerate(parts, 1):  # one fold per step, so Evaluate is not pages away
        lines = [f"- **{plain(q.spec.question)}**: {plain(_shown(q, store.get(q.path)))}"
                 for q in s.questions if state.answered(q, context)]
        wrong = any(q.path in problems for q in s.questions)
        with st.expander(f"{i}. {s.title}: {len(lines)} of {len(s.questions)} answered"
                         + (" ⚠" if wrong else ""), expanded=wrong):
            st.markdown("\n".join(lines) if lines else "Nothing answered yet.")
            if len(lines) < len(s.questions):
                st.caption(f"{len(s.questions) - len(lines)} not answered: "
                           + "; ".join(plain(q.spec.question) for q in s.questions
                                       if not state.answered(q, context)))
            st.button("Change these answers", key=f"{prefix}_change_{s.name}", on_click=_go,
                      args=(context, s.name), icon=":material/edit:")
    if st.button("Evaluate", type="primary", key=f"{prefix}_evaluate"):
        evaluate(built, context, who.decide, qs, blockers)
    decision = st.session_state.get("decision")
    if decision and decision.get("context") == context and answers_match(decision):
        st.subheader("Decision", anchor=False)
        outcome_box(decision["record"])
        product_source(decision["record"])
        st.page_link("views/decision.py", label="Open the full decision: findings, save, sign, download")
    elif st.session_state.get(f"stale:{context}"):
        st.info("Your answers changed after the last evaluation, so its decision was cleared. "
                "Evaluate again to see the decision for these answers.")


def _shown(q: Question, value: Any) -> str:
    """An answer as a person reads it on the check page."""
    if state.is_na(value):
        return f"Not applicable: {value['not_applicable']}"
    if q.path == "alternatives":
        return "None were considered" if value == [] else "; ".join(
            (r.get("option") or "(no option named)") + (f" (not enough because: {r['why_not_enough']})"
                                                        if (r.get("why_not_enough") or "").strip() else "")
            for r in value if (r.get("option") or "").strip() or (r.get("why_not_enough") or "").strip())
    if isinstance(value, bool):
        return YES if value else NO
    if q.spec.kind == "enum":
        return pretty(value)
    if q.spec.kind == "enum_list":
        return ", ".join(pretty(v) for v in value) if value else "None of these"
    if q.spec.kind == "date":
        day = dt.date.fromisoformat(value)
        return f"{day.day} {day:%B %Y}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def evaluate(built: dict[str, Any], context: str, decide: Any, qs: list[Question],
             blockers: list[FormProblem] | None = None) -> None:
    """Validate and decide (`decide(assessment) -> (assessment, record)`, the signed-in person's
    `Access.decide`); keep the decision, bound to the answers' hash, or list the problems."""
    current = st.session_state.get(f"answers_hash:{context}")
    problems = list(blockers or [])
    if not problems:
        try:
            assessment, record = decide(service.validate_assessment(built))
        except InputInvalid as exc:
            problems = form_problems(built, qs) or [FormProblem("", "", exc.message)]
        except DTPAError as exc:  # refused: not this person's ward, or the store cannot be read
            st.error(plain(exc.message))
            return
    if problems:
        st.session_state[f"problems:{context}"] = problems
        st.session_state[f"problems_hash:{context}"] = current
        st.rerun()
    st.session_state.pop(f"problems:{context}", None)
    st.session_state.pop(f"stale:{context}", None)
    st.session_state["decision"] = {"record": record, "assessment": assessment, "view_id": None,
                                    "answers_hash": current, "context": context}


# --- a restored draft, a named draft, starting again --------------------------------------------

def _restore_offer(who: Any, context: str, prefix: str) -> None:
    """A form left unfinished (in an earlier session) is offered back, never loaded unasked."""
    if state.answers(context) or st.session_state.get(f"restore_seen:{context}"):
        return
    name = state.autosave_name(who, context)
    try:
        draft = next((d for d in who.drafts(context) if d.name == name), None)
    except DTPAError:
        return
    if draft is None:
        return
    with st.container(border=True):
        st.markdown(f"**You have unfinished answers**, saved automatically at {draft.saved_at[11:16]} "
                    f"UTC on {draft.saved_at[:10]}.")
        left, right = st.columns(2)
        left.button("Continue them", key=f"{prefix}_restore", type="primary", on_click=_restore,
                    args=(context, draft.data))
        right.button("Start a new form", key=f"{prefix}_discard", on_click=_start_again,
                     args=(who, context))


def _restore(context: str, saved: dict[str, Any]) -> None:
    state.load(saved, context)
    st.session_state[f"step:{context}"] = CHECK
    st.session_state[f"restore_seen:{context}"] = True


def _start_again(who: Any, context: str) -> None:
    state.clear(context)
    st.session_state.pop(f"step:{context}", None)
    st.session_state[f"restore_seen:{context}"] = True
    st.session_state.pop(f"autosaved:{context}", None)
    try:
        who.discard_draft(state.autosave_name(who, context), context)
    except DTPAError:
        pass  # nothing was saved yet


def _drafts(who: Any, context: str, prefix: str, built: dict[str, Any], label: str,
            placeholder: str) -> None:
    with st.expander("Save as a named draft, or start again", expanded=False):
        st.caption("Your answers are saved automatically as you go. Name a draft to keep this "
                   "form beside others.")
        name = st.text_input(label, key=f"{prefix}_draft_name", placeholder=placeholder, max_chars=80)
        if st.button("Save draft", key=f"{prefix}_save_draft"):
            try:
                who.save_draft(name, context, built)
                st.success(f"Draft '{plain(name.strip())}' saved. Open it from the list of drafts "
                           "at the top of this page to continue.")
            except DTPAError as exc:
                st.error(plain(exc.message))
        st.button("Start again with a blank form", key=f"{prefix}_new", on_click=_start_again,
                  args=(who, context))


def named_drafts(who: Any, context: str) -> dict[str, Any]:
    """The drafts a person may open by name (answers saved automatically are offered apart)."""
    return {d.name: d for d in who.drafts(context) if not d.name.startswith("Unsaved answers")}

"""A form's answers, kept in session state apart from the widgets that show them.

Streamlit forgets a widget's value when the widget is not drawn in a run (another page, another
step of the form), so the answers live in `st.session_state["answers:<context>"]` (question path
-> the answer as the models take it) and every widget is seeded from there each time it is drawn;
each widget's `on_change` writes its new value back. Navigating away and back, a failed Evaluate
or any rerun therefore never loses an answer.

A decision made from the form keeps the hash of the exact answers it was made from. The hash of
the current answers is kept in `st.session_state["answers_hash:<context>"]`, updated on every
run; a change to the answers clears a decision made from the old ones, and `answers_match` lets
the Decision page refuse to save a decision that no longer matches the form. The answers are
saved as a draft (through `Access`) whenever they change."""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from engine.errors import DTPAError
from engine.models.answers import EARLIEST, LATEST
from engine.service.forms import FormProblem, Question, answers_hash, flatten, form_problems, nest

UNANSWERED, YES, NO, NA = "Not answered", "Yes", "No", "Not applicable"
NONE_OF_THESE, NA_ITEM = "(none of these)", "(not applicable)"
FIRST_DAY, LAST_DAY = EARLIEST, LATEST  # the dates the models accept


def key(context: str, path: str) -> str:
    return f"q:{context}:{path}"


def answers(context: str) -> dict[str, Any]:
    """The answers of a context's form (question path -> answer), created empty."""
    return st.session_state.setdefault(f"answers:{context}", {})


def set_answer(context: str, path: str, value: Any) -> None:
    store = answers(context)
    if value is None:
        store.pop(path, None)
    else:
        store[path] = value


def load(data: dict[str, Any], context: str) -> None:
    """Replace the answers with an assessment's (a case study or a draft); old problems go."""
    clear(context)
    st.session_state[f"answers:{context}"] = dict(flatten(data, context))


def clear(context: str) -> None:
    """No answers, no problems, and no leftover rows added to a list of options."""
    st.session_state[f"answers:{context}"] = {}
    st.session_state.pop(f"problems:{context}", None)
    for extra in [k for k in st.session_state if str(k).startswith(f"q:{context}:")
                  and str(k).endswith(":count")]:
        del st.session_state[extra]


def restrict(context: str, choices: dict[str, list[str]]) -> list[str]:
    """Drop each answer that is not among its question's choices (a case study's or a draft's
    ward that is not one of this person's): a choice the form cannot show is no answer. The
    answers dropped, for the page to say so."""
    store, dropped = answers(context), []
    for path, allowed in choices.items():
        if path in store and store[path] not in allowed:
            dropped.append(str(store.pop(path)))
    return dropped


# --- the assessment the answers make, and its hash ---------------------------------------------

def data(qs: list[Question], context: str, skip: tuple[str, ...] = (),
         fixed: dict[str, Any] | None = None) -> dict[str, Any]:
    """The nested assessment from the answers (questions under `skip` left out) with `fixed`
    sections added (e.g. the product facts a stored decision holds)."""
    store = answers(context)
    flat: dict[str, Any] = {"context": context}
    for q in qs:
        if skip and q.path.startswith(skip):
            continue
        value = _clean(q, store.get(q.path))
        if value is not None:
            flat[q.path] = value
    nested = nest(flat)
    for section, values in (fixed or {}).items():
        nested[section] = {**nested.get(section, {}), **values} if isinstance(values, dict) else values
    return nested


def _clean(q: Question, value: Any) -> Any:
    if isinstance(value, str):
        return value if value.strip() else None
    if q.path == "alternatives" and isinstance(value, list):
        rows = []
        for row in value:
            option = (row.get("option") or "").strip()
            why = (row.get("why_not_enough") or "").strip()
            if option or why:
                rows.append({**({"option": option} if option else {}),
                             **({"why_not_enough": why} if why else {})})
        return rows if rows or value == [] else None
    return value


def answered(q: Question, context: str) -> bool:
    return _clean(q, answers(context).get(q.path)) is not None


def track(context: str, built: dict[str, Any], qs: list[Question],
          blockers: list[FormProblem] | None = None) -> str:
    """Keep the hash of the current answers; clear a decision made from other answers; drop
    the problems that a change has fixed (the others stay, with their message brought up to
    date)."""
    current = answers_hash(built)
    st.session_state[f"answers_hash:{context}"] = current
    decision = st.session_state.get("decision")
    if decision and decision.get("context") == context and decision.get("answers_hash") \
            and decision["answers_hash"] != current:
        st.session_state.pop("decision")
        st.session_state[f"stale:{context}"] = True
    shown = st.session_state.get(f"problems:{context}")
    if shown and st.session_state.get(f"problems_hash:{context}") != current:
        paths = {p.path for p in shown}
        still = [p for p in [*(blockers or []), *form_problems(built, qs)] if p.path in paths]
        st.session_state[f"problems:{context}"] = still
        st.session_state[f"problems_hash:{context}"] = current
    return current


def answers_match(decision: dict[str, Any] | None, current_answers: Any = None) -> bool:
    """Whether a decision still matches the form it was made from: the hash it carries equals
    the hash of `current_answers` (the nested assessment the form builds, or its hash; by
    default the hash kept for the decision's context). A decision not made from a form (a case
    study run, a stored record opened) carries no hash and is bound to no answers: True."""
    if not decision:
        return False
    made_from = decision.get("answers_hash")
    if not made_from:
        return True
    if current_answers is None:
        current = st.session_state.get(f"answers_hash:{decision.get('context')}")
    elif isinstance(current_answers, str):
        current = current_answers
    else:
        current = answers_hash(current_answers)
    return bool(current) and current == made_from


# --- saved as a draft as they change ------------------------------------------------------------

def autosave_name(who: Any, context: str) -> str:
    """A patient's answers are their author's alone (their draft key holds their username); the
    panel's product drafts are shared, so each person's own answers carry their username."""
    return "Unsaved answers" if context == "individual_use" else \
        f"Unsaved answers ({who.actor.username})"


def autosave(who: Any, context: str, built: dict[str, Any], current: str) -> None:
    """Save the answers as a draft when they changed since they were last saved (never an empty
    form: that would replace the answers a person left to come back to)."""
    if not answers(context) or st.session_state.get(f"autosaved:{context}") == current:
        return
    try:
        who.save_draft(autosave_name(who, context), context, built)
        st.session_state[f"autosaved:{context}"] = current
        st.session_state.pop(f"autosave_problem:{context}", None)
    except DTPAError as exc:
        st.session_state[f"autosave_problem:{context}"] = exc.message


# --- widgets seeded from the answers, and the answers from the widgets --------------------------

def seed(widget_key: str, value: Any) -> None:
    """Give a widget its value from the answers before it is drawn, when it lost it (not drawn
    in the last run) or it differs (answers loaded); left alone otherwise, so nothing typed in
    the browser is overwritten by a rerun."""
    if widget_key not in st.session_state or st.session_state[widget_key] != value:
        st.session_state[widget_key] = value


def is_na(value: Any) -> bool:
    return isinstance(value, dict) and "not_applicable" in value


def to_widget(q: Question, value: Any, choices: list[str] | None = None) -> Any:
    kind, na = q.spec.kind, is_na(value)
    if choices is not None:
        return value if value in choices else None
    if kind == "bool":
        return NA if na else {True: YES, False: NO}.get(value, UNANSWERED)
    if kind == "enum":
        return NA if na else (value if value in q.spec.members else UNANSWERED)
    if kind == "enum_list":
        if na:
            return [NA_ITEM]
        return [NONE_OF_THESE] if value == [] else [v for v in value or [] if v in q.spec.members]
    if kind == "date":
        day = _day(value)
        return day if day and FIRST_DAY <= day <= LAST_DAY else None
    if kind == "int":
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if kind == "count":
        return ", ".join(str(v) for v in value) if isinstance(value, list) else ""
    return value if isinstance(value, str) else ""


def _day(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def from_widgets(q: Question, context: str) -> Any:
    """The answer the question's widgets now hold (None: unanswered)."""
    k, kind = key(context, q.path), q.spec.kind
    raw = st.session_state.get(k)
    if raw == NA or (isinstance(raw, list) and NA_ITEM in raw) or st.session_state.get(k + ":na"):
        before = answers(context).get(q.path)
        why = st.session_state.get(k + ":why", before["not_applicable"] if is_na(before) else "")
        return {"not_applicable": why or ""}
    if kind == "bool":
        return {YES: True, NO: False}.get(raw)
    if kind == "enum":
        return None if raw in (None, UNANSWERED) else raw
    if kind == "enum_list":
        if not raw:
            return None
        return [] if raw == [NONE_OF_THESE] else [v for v in raw if v != NONE_OF_THESE]
    if kind == "date":
        return raw.isoformat() if isinstance(raw, dt.date) else None
    if kind == "int":
        return int(raw) if raw is not None else None
    if kind == "count":
        items = [x.strip() for x in (raw or "").split(",") if x.strip()]
        return items or None
    return raw if isinstance(raw, str) and raw.strip() else None


def changed(context: str, q: Question) -> None:
    """on_change of a question's widgets: its answer follows them."""
    set_answer(context, q.path, from_widgets(q, context))

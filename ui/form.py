"""A web form generated from the assessment models: each question's wording, allowed answers and
grouping come from the service layer (`engine.service.forms`); "not applicable" always needs a
reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from engine import service
from engine.errors import DTPAError, InputInvalid
from engine.service.forms import Question, flatten, nest
from ui.common import outcome_box, pretty, product_source

UNANSWERED, YES, NO, NA = "Not answered", "Yes", "No", "Not applicable"
NONE_OF_THESE, NA_ITEM = "(none of these)", "(not applicable)"


def key(context: str, path: str) -> str:
    return f"q:{context}:{path}"


def render(qs: list[Question], context: str, names: dict[str, str], skip: tuple[str, ...] = ()) -> None:
    """All questions in tabs: 'About' first, then one per principle or practice area."""
    errors: dict[str, str] = st.session_state.get(f"errors:{context}", {})
    groups: dict[str, list[Question]] = {}
    for q in qs:
        if q.path.startswith(skip):
            continue
        groups.setdefault(q.group, []).append(q)
    order = ["about", *names, "other"]
    present = [g for g in order if g in groups]
    labels = [("About" if g == "about" else "Other details" if g == "other" else f"{g} {names[g]}")
              for g in present]
    for tab, group in zip(st.tabs(labels), present, strict=True):
        with tab:
            for q in groups[group]:
                _widget(q, context, names, errors.get(q.path))


def _widget(q: Question, context: str, names: dict[str, str], error: str | None) -> None:
    k = key(context, q.path)
    spec = q.spec
    serves = ", ".join(f"{t} {names[t]}" for t in q.targets)
    help_text = f"Serves: {serves}." if serves else "Recorded with the decision."
    label = spec.question + (" *" if q.path in ("technology.name", "technology.category",
                                                "patient.reference") else "")
    if spec.kind == "bool":
        st.radio(label, [UNANSWERED, YES, NO] + ([NA] if spec.allows_na else []), key=k,
                 horizontal=True, help=help_text)
    elif spec.kind == "enum":
        st.selectbox(label, [UNANSWERED, *spec.members] + ([NA] if spec.allows_na else []), key=k,
                     format_func=lambda v: v if v in (UNANSWERED, NA) else pretty(v), help=help_text)
    elif spec.kind == "enum_list":
        st.multiselect(label, [*spec.members, NONE_OF_THESE] + ([NA_ITEM] if spec.allows_na else []),
                       key=k, format_func=lambda v: v if v.startswith("(") else pretty(v),
                       help=help_text + " Leave empty if not answered yet.")
    elif spec.kind == "int":
        st.number_input(label, min_value=0, step=1, value=None, key=k, help=help_text)
        if spec.allows_na:
            st.checkbox(NA, key=k + ":na")
    elif spec.kind == "date":
        st.date_input(label, value=None, key=k, help=help_text, format="YYYY-MM-DD",
                      min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31))
        if spec.allows_na:
            st.checkbox(NA, key=k + ":na")
    elif q.path == "alternatives":
        st.data_editor(st.session_state.get(k + ":rows", [{"option": "", "why_not_enough": ""}]),
                       key=k, num_rows="dynamic", width="stretch",
                       column_config={"option": "Less restrictive option considered",
                                      "why_not_enough": "Why it was not enough"})
        st.caption(spec.question + ". " + help_text)
        st.checkbox("None were considered", key=k + ":none")
    elif spec.kind == "count":
        st.text_input(label + " (separate with commas)", key=k, help=help_text)
    else:
        st.text_area(label, key=k, max_chars=20_000, help=help_text, height=80)
    if _is_na(st.session_state.get(k)) or st.session_state.get(k + ":na"):
        st.text_input("Why does this not apply? (required)", key=k + ":why")
    if error:
        st.error(f"{spec.question}: {error}")


def _is_na(value: Any) -> bool:
    return value == NA or (isinstance(value, list) and NA_ITEM in value)


def collect(qs: list[Question], context: str) -> tuple[dict[str, Any], int, int]:
    """The nested assessment from the widgets, and how many rule-relevant questions are answered."""
    answers: dict[str, Any] = {"context": context}
    answered = total = 0
    for q in qs:
        value = _value(q, context)
        if q.targets:
            total += 1
            answered += value is not None
        if value is not None:
            answers[q.path] = value
    return nest(answers), answered, total


def _value(q: Question, context: str) -> Any:
    k = key(context, q.path)
    raw = st.session_state.get(k)
    if _is_na(raw) or st.session_state.get(k + ":na"):
        return {"not_applicable": st.session_state.get(k + ":why", "")}
    kind = q.spec.kind
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
    if q.path == "alternatives":
        rows = _editor_rows(k)
        return rows or ([] if st.session_state.get(k + ":none") else None)
    if kind == "count":
        items = [x.strip() for x in (raw or "").split(",") if x.strip()]
        return items or None
    if kind == "int":
        return int(raw) if raw is not None else None
    return raw if isinstance(raw, str) and raw.strip() else None


def _editor_rows(k: str) -> list[dict[str, str]]:
    base = list(st.session_state.get(k + ":rows", [{"option": "", "why_not_enough": ""}]))
    state = st.session_state.get(k) or {}
    for index, changes in (state.get("edited_rows") or {}).items():
        base[int(index)] = {**base[int(index)], **changes}
    base += state.get("added_rows") or []
    deleted = set(state.get("deleted_rows") or [])
    rows = [r for i, r in enumerate(base) if i not in deleted]
    return [{"option": r["option"].strip(), **({"why_not_enough": r["why_not_enough"].strip()}
                                               if (r.get("why_not_enough") or "").strip() else {})}
            for r in rows if (r.get("option") or "").strip()]


def load(data: dict[str, Any], qs: list[Question], context: str) -> None:
    """Fill the widgets from an assessment (a case study or a draft)."""
    flat = flatten(data, context)
    for q in qs:
        k = key(context, q.path)
        for extra in (k + ":why", k + ":rows", k + ":na", k + ":none"):
            st.session_state.pop(extra, None)
        value = flat.get(q.path)
        st.session_state[k] = _widget_value(q, value)
        if isinstance(value, dict) and "not_applicable" in value:
            st.session_state[k + ":why"] = value["not_applicable"]
            if q.spec.kind in ("int", "date"):
                st.session_state[k + ":na"] = True
        if q.path == "alternatives":
            st.session_state.pop(k, None)
            st.session_state[k + ":none"] = value == []
            st.session_state[k + ":rows"] = [{"option": r.get("option", ""),
                                              "why_not_enough": r.get("why_not_enough", "")}
                                             for r in (value or [])] or [{"option": "",
                                                                          "why_not_enough": ""}]
    st.session_state.pop(f"errors:{context}", None)


def _widget_value(q: Question, value: Any) -> Any:
    kind = q.spec.kind
    na = isinstance(value, dict) and "not_applicable" in value
    if kind == "bool":
        return NA if na else {True: YES, False: NO}.get(value, UNANSWERED)
    if kind == "enum":
        return NA if na else (value or UNANSWERED)
    if kind == "enum_list":
        return [NA_ITEM] if na else ([NONE_OF_THESE] if value == [] else list(value or []))
    if kind == "date":
        return dt.date.fromisoformat(value) if isinstance(value, str) else None  # N/A: a checkbox
    if kind == "count":
        return ", ".join(value) if isinstance(value, list) and q.path != "alternatives" else ""
    if kind == "int":
        return value if isinstance(value, int) else None
    return value or ""


def fail(exc, context: str) -> None:
    """Keep the validation problems and rerun, so each shows next to its question."""
    errors = {}
    for p in exc.problems:
        path, _, message = p.message.partition(": ")
        errors[path] = message
    st.session_state[f"errors:{context}"] = errors
    st.session_state[f"summary:{context}"] = [exc.message, *(p.message for p in exc.problems)]
    st.rerun()


def summary(context: str) -> None:
    """The problems of the last attempt, listed once above the questions."""
    lines = st.session_state.pop(f"summary:{context}", None)
    if lines:
        st.error(f"{lines[0]} The questions concerned are marked in their tabs.")
        for line in lines[1:]:
            st.write(f"- {line}")


def evaluate(data: dict[str, Any], context: str, decide) -> None:
    """Validate and decide (`decide(assessment) -> (assessment, record)`, the signed-in person's
    `Access.decide`); keep the decision for the Decision page, or show the problems next to their
    questions, or the refusal."""
    try:
        assessment, record = decide(service.validate_assessment(data))
    except InputInvalid as exc:
        fail(exc, context)
        return
    except DTPAError as exc:  # refused: not this person's ward, or the store cannot be read
        st.error(exc.message)
        return
    st.session_state.pop(f"errors:{context}", None)
    st.session_state["decision"] = {"record": record, "assessment": assessment, "view_id": None}


def decision_preview(context: str) -> None:
    decision = st.session_state.get("decision")
    if decision and decision["record"].record_type == context:
        st.subheader("Decision")
        outcome_box(decision["record"])
        product_source(decision["record"])
        st.page_link("views/decision.py", label="Open the full decision: findings, save, sign, download")

"""One question of the assessment form as widgets, seeded from the answers kept in session
state (ui/answers.py) and writing back to them on change: the kind of widget follows the answer's
type, a short answer is a one-line box that stops at the model's limit, and "not applicable"
asks for its reason."""

from __future__ import annotations

import streamlit as st

from engine.service.forms import Question, needs_answer, reason_limit, text_limit
from ui import answers as state
from ui.answers import NA, NA_ITEM, NO, NONE_OF_THESE, UNANSWERED, YES, key
from ui.common import plain, pretty

LONG = 500  # answers allowed more characters than this are typed in a box of several lines


def question(q: Question, context: str, problems: list[str], choices: list[str] | None,
             names: dict[str, str]) -> None:
    """The question's widgets, its problems above them (as well as in the summary)."""
    k, spec = key(context, q.path), q.spec
    value = state.answers(context).get(q.path)
    label = spec.question + (" (required)" if needs_answer(context, q.path) or choices is not None
                             else "")
    help_text = _help(q, names)
    for message in problems:  # next to the question as well as in the summary
        st.error(f"{spec.question}: {message}", icon="⚠️")
    on = {"on_change": state.changed, "args": (context, q)}
    if q.path == "alternatives":
        _alternatives(q, context, help_text)
        return
    state.seed(k, state.to_widget(q, value, choices))
    if choices is not None:
        st.selectbox(label, choices, index=None, placeholder="Choose one", key=k, help=help_text, **on)
    elif spec.kind == "bool":
        st.radio(label, [UNANSWERED, YES, NO] + ([NA] if spec.allows_na else []), key=k,
                 horizontal=True, help=help_text, **on)
    elif spec.kind == "enum":
        st.selectbox(label, [UNANSWERED, *spec.members] + ([NA] if spec.allows_na else []), key=k,
                     format_func=lambda v: v if v in (UNANSWERED, NA) else pretty(v), help=help_text, **on)
    elif spec.kind == "enum_list":
        st.multiselect(label, [*spec.members, NONE_OF_THESE] + ([NA_ITEM] if spec.allows_na else []),
                       key=k, format_func=lambda v: v if v.startswith("(") else pretty(v),
                       help=help_text + " Leave empty if not answered yet.", **on)
    elif spec.kind == "int":
        st.number_input(label, min_value=0, step=1, value=None, key=k, help=help_text, **on)
    elif spec.kind == "date":
        st.date_input(label, value=None, key=k, help=help_text, format="YYYY-MM-DD",
                      min_value=state.FIRST_DAY, max_value=state.LAST_DAY, **on)
    elif spec.kind == "count":
        st.text_input(label + " (separate with commas)", key=k, help=help_text, **on)
    else:
        limit = text_limit(context, q.path)
        if limit is not None and limit <= LONG:
            st.text_input(label, key=k, max_chars=limit, help=help_text, **on)
        else:
            st.text_area(label, key=k, max_chars=limit, help=help_text, height=100, **on)
    if spec.allows_na and spec.kind in ("int", "date"):
        state.seed(k + ":na", state.is_na(value))
        st.checkbox(NA, key=k + ":na", **on)
    if state.is_na(value):
        state.seed(k + ":why", value["not_applicable"])
        st.text_area("Why does this not apply? (required)", key=k + ":why", max_chars=reason_limit(),
                     height=68, **on)


def _help(q: Question, names: dict[str, str]) -> str:
    """What the question means and why it matters (engine/knowledge/question_help), then the
    principles its answer serves."""
    said = getattr(q, "explain", "")
    serves = ", ".join(f"{t} {names.get(t, '')}".strip() for t in q.targets)
    tail = f"Serves: {serves}." if serves else "Recorded with the decision."
    return f"{said} {tail}" if said else tail


def _alternatives(q: Question, context: str, help_text: str) -> None:
    """Each less restrictive option considered, with why it was not enough (add another, remove)."""
    k = key(context, q.path)
    value = state.answers(context).get(q.path)
    rows = value if isinstance(value, list) else []
    shown = max(len(rows), st.session_state.get(k + ":count", 1), 1)
    st.markdown(f"**{plain(q.spec.question)}**", help=help_text)
    option_limit = text_limit(context, "alternatives.option")
    why_limit = text_limit(context, "alternatives.why_not_enough")
    for i in range(shown):
        row = rows[i] if i < len(rows) else {}
        state.seed(f"{k}:{i}:option", row.get("option") or "")
        state.seed(f"{k}:{i}:why", row.get("why_not_enough") or "")
        st.text_input(f"Option {i + 1}: the less restrictive option considered", key=f"{k}:{i}:option",
                      max_chars=option_limit, on_change=_rows_changed, args=(context, k, shown))
        st.text_area(f"Option {i + 1}: why it was not enough for this patient", key=f"{k}:{i}:why",
                     max_chars=why_limit, height=68, on_change=_rows_changed, args=(context, k, shown))
        if shown > 1:
            st.button(f"Remove option {i + 1}", key=f"{k}:{i}:remove", type="tertiary",
                      on_click=_remove_row, args=(context, k, i, shown))
    st.button("Add another option", key=f"{k}:add", on_click=_add_row, args=(k, shown))
    if not any((r.get("option") or "").strip() or (r.get("why_not_enough") or "").strip() for r in rows):
        state.seed(k + ":none", value == [])
        st.checkbox("None were considered", key=k + ":none", on_change=_rows_changed,
                    args=(context, k, shown))


def _typed_rows(k: str, shown: int) -> list[dict[str, str]]:
    return [{"option": st.session_state.get(f"{k}:{i}:option") or "",
             "why_not_enough": st.session_state.get(f"{k}:{i}:why") or ""} for i in range(shown)]


def _rows_changed(context: str, k: str, shown: int) -> None:
    rows = _typed_rows(k, shown)
    if any(r["option"].strip() or r["why_not_enough"].strip() for r in rows):
        state.set_answer(context, "alternatives", rows)
    else:
        state.set_answer(context, "alternatives", [] if st.session_state.get(k + ":none") else None)


def _add_row(k: str, shown: int) -> None:
    st.session_state[k + ":count"] = shown + 1


def _remove_row(context: str, k: str, index: int, shown: int) -> None:
    rows = _typed_rows(k, shown)
    del rows[index]
    st.session_state[k + ":count"] = max(shown - 1, 1)
    state.set_answer(context, "alternatives", rows if any(
        r["option"].strip() or r["why_not_enough"].strip() for r in rows) else None)

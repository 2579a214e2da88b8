"""Home: first what needs this person (sign-offs awaited from them, conditions they own and
reviews falling due, their drafts), each with a button that opens it; then what they can do here,
and DTPA and its principles at a glance. What is awaited and due comes from the service layer
(`Access.waiting`, read once a run, and `drafts`)."""

import datetime as dt

import streamlit as st

from engine.errors import DTPAError
from engine.service.display import role_words, roles_words
from ui.auth import current, plain
from ui.common import pack, pretty

REVIEW_DAYS = 14  # reviews due within this many days are shown, with overdue and flagged ones
CONDITION_DAYS = 30  # conditions due within this many days, with overdue ones
SHOWN = 5  # items listed per section; the rest are on the Records and audit page

who = current()
today = dt.date.today()


def when(day: dt.date) -> str:
    """A date in words, with how far off it is: "29 December 2026 (in 30 days)"."""
    days = (day - today).days
    off = "today" if days == 0 else f"in {days} day{'s' * (days != 1)}" if days > 0 else \
        f"overdue by {-days} day{'s' * (days != -1)}"
    return f"{day.day} {day:%B %Y} ({off})"


def subject(view) -> str:
    """What a record is about, as plain text: product, version, and the patient and ward."""
    row = view.row
    parts = [row.product + (f" {row.product_version}" if row.product_version else "")]
    if row.patient_reference:
        parts.append(f"patient {row.patient_reference}")
    if row.ward:
        parts.append(row.ward)
    return plain(" · ".join(parts))


def show(record_id: str) -> None:
    """Open a stored record on the Decision page (opening a patient's record is audited)."""
    try:
        view = who.open(record_id)
    except DTPAError as exc:
        st.error(exc.message)
        return
    st.session_state["decision"] = {"record": view.record, "assessment": None,
                                    "view_id": view.row.id}
    st.switch_page("views/decision.py")


def item(text: str, label: str, key: str) -> bool:
    """One line of a list with its own button (a label naming what it opens), the button wide
    enough to show "Review and sign PRO-1a2b3c4d@1" whole (a fifth of the page cut it short)."""
    left, right = st.columns([3, 2], vertical_alignment="center")
    left.markdown(text)
    return right.button(label, key=key, width="stretch")


def more(n: int) -> None:
    if n > SHOWN:
        st.caption(f"{n - SHOWN} more: see the Records and audit page.")


st.title("Home")
st.write(f"Signed in as {plain(who.actor.name)}, {role_words(who.actor.role)}"
         + (f" on {plain(', '.join(who.actor.wards))}" if who.actor.wards else "") + ".")

st.header("Waiting for you")
waiting = who.waiting(CONDITION_DAYS, REVIEW_DAYS)
awaiting, conditions, due = waiting.awaiting, waiting.conditions, waiting.due
drafts = [d for d in who.drafts() if d.saved_by == who.actor.username] \
    if who.may_use("assess_product") or who.may_use("check_patient") else []
if not (awaiting or conditions or due or drafts):
    st.success("Nothing is waiting for you.")

if awaiting:
    st.subheader(f"Sign-offs awaited from you ({len(awaiting)})")
    st.caption(f"Records the local policy needs a {role_words(who.actor.role)} to sign, that you "
               "have not signed.")
    for view in awaiting[:SHOWN]:
        text = (f"**{view.row.id}** · {subject(view)} · {pretty(view.effective_outcome)}  \n"
                f"Still to sign: {roles_words(view.missing_roles)}")
        if item(text, f"Review and sign {view.row.id}", f"home_sign_{view.row.id}"):
            show(view.row.id)
    more(len(awaiting))

if conditions:
    st.subheader(f"Conditions you own, due within {CONDITION_DAYS} days or overdue "
                 f"({len(conditions)})")
    for i, (view, condition) in enumerate(conditions[:SHOWN]):
        text = (f"**{plain(condition.title)}** · due {when(condition.due)}  \n"
                f"{view.row.id} · {subject(view)}")
        if item(text, f"Open {view.row.id}", f"home_cond_{i}"):
            show(view.row.id)
    more(len(conditions))

if due:
    st.subheader(f"Reviews due in the next {REVIEW_DAYS} days, overdue or flagged ({len(due)})")
    for view, why in due[:SHOWN]:
        text = f"**{view.row.id}** · {subject(view)} · {pretty(view.effective_outcome)}  \n" \
               f"{plain(why.capitalize())}"
        if item(text, f"Open {view.row.id}", f"home_review_{view.row.id}"):
            show(view.row.id)
    more(len(due))

if drafts:
    st.subheader(f"Your drafts ({len(drafts)})")
    for i, draft in enumerate(drafts[:SHOWN]):
        kind = "Product assessment" if draft.context == "procurement" else "Check for a patient"
        text = f"**{plain(draft.name)}** · {kind} · saved {draft.saved_at[:16].replace('T', ' ')}"
        if item(text, f"Continue {plain(draft.name)}", f"home_draft_{i}"):
            # The assessment page opens the draft it is asked for (its own loading rules apply).
            st.session_state["open_draft"] = {"context": draft.context, "name": draft.name}
            st.switch_page("views/assess_product.py" if draft.context == "procurement"
                           else "views/check_patient.py")
    if len(drafts) > SHOWN:
        st.caption(f"{len(drafts) - SHOWN} more on the assessment pages.")

st.header("What you can do here")
journeys = [
    ("assess_product", "Assess a product", "views/assess_product.py",
     "For procurement panels: assess a product for a service before buying or rolling it out."),
    ("check_patient", "Check use for a patient", "views/check_patient.py",
     "For clinical staff: check using an approved product for one patient on your ward: the "
     "legal route recorded, less restrictive options, the care plan and the review."),
    ("records", "Records and audit", "views/records.py",
     "Find, verify and export decision records and their audit trail."),
    ("accounts", "Accounts", "views/accounts.py", "Add and change the accounts of the people "
                                                  "who use DTPA."),
]
offered = [j for j in journeys if who.may_use(j[0])]
for col, (_, label, target, text) in zip(st.columns(max(len(offered), 1)), offered, strict=False):
    with col:
        st.write(text)
        st.page_link(target, label=label)

st.header("About DTPA")
st.write(
    "DTPA helps NHS mental health inpatient services decide whether, and how, to use a digital "
    "technology on their wards, against NHS England's eight principles (February 2025) and the "
    "recommendations on data protection, policy, staff training and care-plan recording. Every "
    "decision records **why**: a verdict per principle, each finding's reason, remedy and "
    "citation, the questions still open, and when it must be reviewed."
)
p = pack()
st.subheader("The principles at a glance")
grid = st.columns(4)
for i, (target, name) in enumerate(p.catalogue.targets.items()):
    entry = p.catalogue.principles.get(target) or p.catalogue.areas.get(target)
    with grid[i % 4]:
        st.markdown(f"**{target} {name}**")
        st.caption(entry.summary.split(". ")[0] + ".")
st.caption(f"Rule pack {p.header.name} {p.header.version} · {len(p.rules)} rules · profile "
           f"{p.profile.name}")

"""Navigation by role, what waits for each person, roles in words, and the questions' help:
the service layer decides (engine/service/worklist.py, Access), the web pages only ask."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from engine import service
from engine.errors import InputInvalid
from engine.models.people import Actor
from engine.models.vocab import Role
from engine.service import worklist
from engine.service.display import (
    ROLE_WORDS,
    governance_text,
    role_words,
    roles_words,
    status_words,
)
from engine.service.forms import questions
from engine.service.session import Access
from tests import test_ui
from tests.conftest import ALL_ATTESTATIONS, PASSWORD, ROOT, individual_for, load_case
from tests.test_ui import APP, account_for, page, person

app_store = test_ui.app_store  # the web tests' fixture: a seeded store the app opens

OPEN = {"home", "rules", "case_studies"}
PANEL_TASKS = OPEN | {"assess_product", "decision", "records"}
CLINICAL_TASKS = OPEN | {"check_patient", "decision", "records"}

# role, wards -> the tasks (pages) the person is offered
TASKS = [
    ("panel_chair", [], PANEL_TASKS),
    ("clinical_safety_officer", [], PANEL_TASKS),
    ("lived_experience_representative", [], PANEL_TASKS),
    ("chief_nursing_information_officer", [], PANEL_TASKS),
    ("estates_it_lead", [], PANEL_TASKS),
    ("dpo", [], PANEL_TASKS),  # the profile lets a DPO save and sign product decisions
    ("clinician", ["Willow Ward"], CLINICAL_TASKS),
    ("nurse_in_charge", ["Willow Ward"], CLINICAL_TASKS),
    ("clinician", [], OPEN | {"decision", "records"}),  # no ward yet: no patient to check
    ("auditor", [], OPEN | {"decision", "records"}),
    ("administrator", [], OPEN | {"decision", "records", "accounts"}),
]


def actor(role: str, wards: list[str] | None = None, name: str | None = None) -> Actor:
    name = name or f"Person {role}"
    return Actor(username=".".join(name.lower().split()), name=name, role=role, wards=wards or [])


def signed_in(store, role: str, wards: list[str] | None = None, name: str | None = None) -> Access:
    """A real account in the store, acting through Access."""
    who = actor(role, wards, name)
    store.add_user(who.username, who.name, role, who.wards, PASSWORD,
                   by=("Test Administrator", "administrator"))
    return Access(who, store)


# --- pages per role ---------------------------------------------------------------------------

def test_the_table_covers_every_role():
    assert {Role(r) for r, _, _ in TASKS} == set(Role)


@pytest.mark.parametrize(("role", "wards", "tasks"), TASKS,
                         ids=[f"{r}-{len(w)}-wards" for r, w, _ in TASKS])
def test_each_role_is_offered_only_the_pages_it_can_use(role, wards, tasks):
    who = actor(role, wards)
    offered = {t for t in worklist.TASKS if worklist.unavailable(who, t) is None}
    assert offered == tasks
    for task in set(worklist.TASKS) - tasks:  # and each refusal says why, in words
        why = worklist.unavailable(who, task)
        assert why and "_" not in why and why.endswith(".")


def test_a_refusal_names_the_roles_that_may_in_words():
    why = worklist.unavailable(actor("panel_chair"), "check_patient")
    assert "Clinician and Nurse in charge" in why and "signed in as Panel chair" in why
    why = worklist.unavailable(actor("auditor"), "assess_product")
    assert "Panel chair, DPO, Clinical safety officer" in why
    assert "ask an administrator" in worklist.unavailable(actor("clinician"), "check_patient").lower()
    assert "administrators" in worklist.unavailable(actor("dpo"), "accounts")


def test_an_unknown_task_is_refused():
    with pytest.raises(InputInvalid, match="no task 'payroll'"):
        worklist.unavailable(actor("dpo"), "payroll")


def test_access_answers_for_the_signed_in_person(store):
    chair = signed_in(store, "panel_chair")
    assert chair.may_use("assess_product") and not chair.may_use("check_patient")
    assert chair.unavailable("check_patient") == worklist.unavailable(chair.actor, "check_patient")


# --- what waits for this person -----------------------------------------------------------------

def test_sign_offs_awaited_are_those_the_profile_needs_from_this_role_and_person(store):
    product = service.save_assessment(load_case("vbm-individual-decision.yaml"), "Seeder",
                                      "panel_chair", store)
    chair = signed_in(store, "panel_chair", name="Dr Ada Obi")
    dpo = signed_in(store, "dpo", name="Sam Patel")
    other_chair = signed_in(store, "panel_chair", name="Dr Ola Ade")
    auditor = signed_in(store, "auditor")
    cnio = signed_in(store, "chief_nursing_information_officer")  # may sign, not required
    for who in (chair, dpo, other_chair):
        assert [v.row.id for v in who.awaiting_my_signoff()] == [product.row.id]
    assert auditor.awaiting_my_signoff() == [] and cnio.awaiting_my_signoff() == []

    chair.sign(product.row.id, ALL_ATTESTATIONS)
    assert chair.awaiting_my_signoff() == []  # signed by them
    assert other_chair.awaiting_my_signoff() == []  # the panel chair's sign-off is given
    assert [v.row.id for v in dpo.awaiting_my_signoff()] == [product.row.id]


def test_a_patients_record_awaits_only_clinical_staff_on_its_ward(store):
    product = service.save_assessment(load_case("vbm-individual-decision.yaml"), "Seeder",
                                      "panel_chair", store)
    for role in store.role_rules.roles("sign", "procurement"):
        store.sign(product.row.id, f"Signer {role.value}", role.value, ALL_ATTESTATIONS)
    use = service.save_assessment(individual_for(product.row.key), "Kim Lee", "clinician", store)
    ward = use.row.ward
    kim = signed_in(store, "clinician", [ward], "Kim Lee")
    assert [v.row.id for v in kim.awaiting_my_signoff()] == [use.row.id]
    assert signed_in(store, "clinician", ["Heron Ward"], "Ola Ade").awaiting_my_signoff() == []
    # the profile needs a clinician's sign-off; a nurse in charge may sign but is not awaited
    assert signed_in(store, "nurse_in_charge", [ward]).awaiting_my_signoff() == []
    assert signed_in(store, "dpo", name="Sam Patel").awaiting_my_signoff() == []  # not a signer

    # a new version supersedes the record: only the new one awaits sign-off
    newer = service.save_assessment(individual_for(product.row.key), "Kim Lee", "clinician", store,
                                    supersedes=use.row.key)
    assert [v.row.id for v in kim.awaiting_my_signoff()] == [newer.row.id]


def test_conditions_due_are_those_this_role_owns_on_records_in_force(store):
    product = service.save_assessment(load_case("vbm-individual-decision.yaml"), "Seeder",
                                      "panel_chair", store)
    assert product.record.conditions
    owner = product.record.conditions[0].owner  # from the profile's condition_owners
    owns = signed_in(store, str(owner), name="Ann Owner")
    due = owns.conditions_due(60)
    assert len(due) == sum(c.owner == owner for c in product.record.conditions)
    assert {c.owner for _, c in due} == {owner} and {v.row.id for v, _ in due} == {product.row.id}
    other = next(r for r in ("panel_chair", "dpo", "clinical_safety_officer") if r != owner)
    assert all(c.owner == other for _, c in signed_in(store, other).conditions_due(60))
    # the window: every condition is due `condition_due_days` after the decision
    first = min(c.due for _, c in due)
    views = owns.records()
    assert worklist.conditions_due(owns.actor, views, 0, today=first - dt.timedelta(days=1)) == []
    assert worklist.conditions_due(owns.actor, views, 0, today=first)
    # a clinician owns none of a product decision's conditions: they are the panel's
    assert signed_in(store, "clinician", ["Willow Ward"]).conditions_due(60) == []


def test_a_not_supported_decisions_conditions_are_not_due(store):
    refused = service.save_assessment(load_case("vbm-ward-wide-default.yaml"), "Seeder",
                                      "panel_chair", store)
    assert refused.effective_outcome not in ("supported", "supported_with_conditions")
    for role in Role:
        if role.value in ("administrator", "auditor"):
            continue
        assert signed_in(store, role.value, ["Willow Ward"] if role.value in (
            "clinician", "nurse_in_charge") else None).conditions_due(365) == []


def test_what_waits_for_a_person_is_read_once_and_agrees_with_each_list(store, monkeypatch):
    """The home page's lists come from one read of the records (each record parsed and checked
    once), and say what the separate calls say."""
    product = service.save_assessment(load_case("vbm-individual-decision.yaml"), "Seeder",
                                      "panel_chair", store)
    owner = str(product.record.conditions[0].owner)
    who = signed_in(store, owner, name="Ann Owner")
    expected = (who.awaiting_my_signoff(), who.conditions_due(60), who.due(400))
    reads = []
    latest = store.latest
    monkeypatch.setattr(store, "latest", lambda *a, **k: reads.append(1) or latest(*a, **k))
    waiting = who.waiting(60, 400)
    assert len(reads) == 1
    ids = lambda views: [v.row.id for v in views]  # noqa: E731
    assert ids(waiting.awaiting) == ids(expected[0]) == [product.row.id]
    assert [(v.row.id, c.rule_id) for v, c in waiting.conditions] == \
        [(v.row.id, c.rule_id) for v, c in expected[1]] != []
    assert [(v.row.id, why) for v, why in waiting.due] == [(v.row.id, why) for v, why in expected[2]] != []


# --- roles in words ---------------------------------------------------------------------------

@pytest.mark.parametrize("role", list(Role))
def test_every_role_has_words(role):
    words = ROLE_WORDS[role.value]
    assert words == role_words(role) == role_words(role.value)
    assert "_" not in words and words[0].isupper() and words.strip() == words


def test_role_words_read_as_people_say_them():
    assert role_words("dpo") == "DPO"
    assert role_words(Role.clinical_safety_officer) == "Clinical safety officer"
    assert role_words("estates_it_lead") == "Estates and IT lead"
    assert role_words("retired_role") == "retired role"  # an old record still reads
    assert roles_words(["panel_chair", "dpo", "clinician"]) == "Panel chair, DPO and Clinician"
    assert roles_words(["dpo"]) == "DPO" and roles_words([]) == ""


def test_a_records_status_names_who_must_sign_in_words(store):
    product = service.save_assessment(load_case("vbm-individual-decision.yaml"), "Seeder",
                                      "panel_chair", store)
    assert status_words(product) == ("awaiting sign-off by Panel chair, DPO, Clinical safety "
                                     "officer and Lived experience representative")


def test_a_stored_records_governance_reads_roles_in_words_on_the_web(store):
    product = service.save_assessment(load_case("vbm-individual-decision.yaml"), "Dr Ada Obi",
                                      "panel_chair", store)
    view = store.sign(product.row.id, "Sam Patel", "dpo", ALL_ATTESTATIONS)
    text = governance_text(view, in_words=True)
    assert "by Dr Ada Obi (Panel chair)" in text and "Sam Patel (DPO)" in text
    assert ("Status: awaiting sign-off by Panel chair, Clinical safety officer and Lived "
            "experience representative") in text
    assert "_" not in text.split("Signed off by:")[0].replace(product.row.id, "")
    assert "Sam Patel (dpo)" in governance_text(view)  # the command line keeps the codes


# --- the questions' help -----------------------------------------------------------------------

def _catalogue_sources() -> set[str]:
    data = yaml.safe_load((ROOT / "principles" / "sources.yaml").read_text(encoding="utf-8"))
    return {s["id"] for s in data["sources"]}


@pytest.mark.parametrize("context", ["procurement", "individual_use"])
def test_every_asked_question_says_what_it_means_in_one_short_sentence(pack, context):
    qs = questions(pack, context)
    assert len(qs) > 50
    for q in qs:
        words = q.explain.split()
        assert words, f"{q.path}: no explanation in principles/question_help.yaml"
        assert len(words) <= 35, f"{q.path}: {len(words)} words (at most 35)"
        assert q.explain.endswith(".") and not re.search(r"\.\s", q.explain), \
            f"{q.path}: one sentence"


def test_the_help_names_only_real_questions_and_known_sources():
    from engine.facts.schema import fact_specs
    from engine.knowledge.question_help import question_help

    help_ = question_help()
    asked = {p for c in ("procurement", "individual_use")
             for p, spec in fact_specs(c).items() if spec.asked}
    assert set(help_.explain) == asked  # no entry for a question that no longer exists
    known = _catalogue_sources() | set(help_.own_sources)
    assert not set(help_.own_sources) & _catalogue_sources(), "a source listed twice"
    for path, ids in help_.sources.items():
        assert set(ids) <= known, f"{path}: unknown source {set(ids) - known}"
    used = {i for ids in help_.sources.values() for i in ids}
    assert set(help_.own_sources) <= used, "a source in question_help.yaml that nothing cites"


def test_jargon_is_spelled_out_where_it_is_asked(pack):
    explain = {q.path: q.explain for c in ("procurement", "individual_use")
               for q in questions(pack, c)}
    for path, phrase in [("assurance.dtac_completed", "Digital Technology Assessment Criteria"),
                         ("assurance.dspt_status", "Data Security and Protection Toolkit"),
                         ("data_protection.lawful_basis", "Article 6"),
                         ("data_protection.special_category_condition", "Article 9"),
                         ("capacity.gillick_competent", "under 16"),
                         ("technology.medical_device_class", "medical device"),
                         ("override_of_refusal.imha_informed", "Independent Mental Health Advocate"),
                         ("liberty.imca_instructed", "Independent Mental Capacity Advocate"),
                         ("data_protection.dpia_status", "data protection impact assessment"),
                         ("liberty.authorised_by", "Deprivation of Liberty Safeguards"),
                         ("evidence.regulatory_status_recorded", "DCB0129 and DCB0160"),
                         ("clinical_safety.supplier_safety_case", "DCB0129"),
                         ("clinical_safety.deployment_safety_case_signed", "DCB0160"),
                         ("clinical_safety.incident_reporting", "Learn from Patient Safety Events"),
                         ("data_handling.objection_process", "Article 21"),
                         ("data_handling.protection_by_design", "Article 25"),
                         ("equity.accessible_information_standard", "Accessible Information Standard")]:
        assert phrase in explain[path], f"{path} does not explain {phrase!r}"


def test_a_broken_help_file_is_reported_with_its_line(tmp_path):
    from engine.errors import RulesInvalid
    from engine.knowledge.question_help import question_help

    (tmp_path / "question_help.yaml").write_text(
        "questions:\n  title:\n    explain: A short name.\n    colour: blue\n", encoding="utf-8")
    with pytest.raises(RulesInvalid) as caught:
        question_help(tmp_path)
    assert caught.value.problems[0].line == 4
    with pytest.raises(RulesInvalid, match="missing"):
        question_help(tmp_path / "nowhere")


# --- the web app: pages per role, and the home page ----------------------------------------------

def navigation_of(monkeypatch) -> list[list[tuple[str, str]]]:
    """Records, on each run, the pages the app gives st.navigation and whether each is shown."""
    import streamlit as st

    runs: list[list[tuple[str, str]]] = []
    real = st.navigation

    def recording(pages, **kwargs):
        runs.append([(p.title, p.visibility) for p in pages])
        return real(pages, **kwargs)

    monkeypatch.setattr(st, "navigation", recording)
    return runs


def test_a_panel_member_is_not_shown_the_patient_page_and_is_told_why_at_its_address(
        app_store, monkeypatch):
    runs = navigation_of(monkeypatch)
    at = page("views/home.py", person("panel_chair", name="Dr Ada Obi"))
    shown = {title for title, visibility in runs[-1] if visibility == "visible"}
    assert "Check use for a patient" not in shown and "Accounts" not in shown
    assert {"Home", "Assess a product", "Decision", "Records and audit"} <= shown

    at.switch_page("views/check_patient.py").run()  # the page's address, typed or bookmarked
    assert not at.exception
    assert at.title[0].value == "Check use for a patient"
    message = at.warning[0].value
    assert message.startswith("This page is not available to you.")
    assert "clinical staff (Clinician and Nurse in charge)" in message
    assert "ind_evaluate" not in [b.key for b in at.button]  # the page itself never ran


def test_an_address_opened_before_signing_in_is_the_page_shown_after(app_store):
    """A bookmark to a page: the sign-in form first, then that page (here, why a panel chair
    cannot use it), not the home page."""
    account_for(person("panel_chair", name="Dr Ada Obi"))
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert "login_user" in [t.key for t in at.text_input]
    at.switch_page("views/check_patient.py").run()  # registered, hidden, while signed out
    assert "login_user" in [t.key for t in at.text_input] and not at.warning
    at.text_input(key="login_user").input("dr.ada.obi")
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception and at.session_state["actor"].name == "Dr Ada Obi"
    assert at.title[0].value == "Check use for a patient"
    assert at.warning[0].value.startswith("This page is not available to you.")


def test_a_clinician_is_shown_the_patient_page_and_not_the_product_form(app_store, monkeypatch):
    runs = navigation_of(monkeypatch)
    at = page("views/home.py", person("clinician", ["Willow Ward"], "Kim Lee"))
    shown = {title for title, visibility in runs[-1] if visibility == "visible"}
    assert "Check use for a patient" in shown and "Assess a product" not in shown
    assert "Check use for a patient" in [link.label for link in at.get("page_link")]


def test_home_shows_first_the_sign_off_awaited_from_this_person_and_opens_it(app_store):
    chair = account_for(person("panel_chair", name="Dr Ada Obi"))
    awaiting = Access(chair, app_store).awaiting_my_signoff()
    assert awaiting
    at = page("views/home.py", chair)
    assert not at.exception
    headers = [h.value for h in at.header]
    assert headers[0] == "Waiting for you" and headers.index("Waiting for you") < headers.index(
        "About DTPA")
    assert at.subheader[0].value.startswith(f"Sign-offs awaited from you ({len(awaiting)})")
    first = awaiting[0].row.id
    button = at.button(key=f"home_sign_{first}")
    assert button.label == f"Review and sign {first}"
    button.click().run()
    assert not at.exception
    assert at.session_state["decision"]["view_id"] == first
    assert at.title[0].value == "Decision"


def test_home_lists_the_conditions_this_role_owns_and_this_persons_drafts(app_store):
    cso = account_for(person("clinical_safety_officer", name="Cas Officer"))
    owned = Access(cso, app_store).conditions_due(30)
    assert owned, "the seeded product decisions have conditions a clinical safety officer owns"
    Access(cso, app_store).save_draft("Kiosk for Oak Ward", "procurement",
                                      {"context": "procurement", "title": "Kiosk"})
    at = page("views/home.py", cso)
    subheaders = [h.value for h in at.subheader]
    assert f"Conditions you own, due within 30 days or overdue ({len(owned)})" in subheaders
    assert f"Open {owned[0][0].row.id}" in [b.label for b in at.button]
    assert "Your drafts (1)" in subheaders
    at.button(key="home_draft_0").click().run()
    assert not at.exception
    assert at.title[0].value == "Assess a product"
    # the form page opened the draft it was asked for, once
    assert "open_draft" not in at.session_state
    assert at.session_state["answers:procurement"]["title"] == "Kiosk"


def test_home_says_when_nothing_waits(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    monkeypatch.setenv("DTPA_DATABASE_URL", url)
    store = service.open_store(url)  # no record at all
    try:
        at = page("views/home.py", person("dpo", name="Sam Patel"))
        assert not at.exception
        assert "Nothing is waiting for you." in [s.value for s in at.success]
        assert not any(str(b.key).startswith("home_") for b in at.button)
    finally:
        service.api._STORES.pop(url, None)
        store.db.dispose()


def test_the_signed_in_line_and_the_accounts_page_say_roles_in_words(app_store):
    at = page("views/accounts.py", person("administrator", name="Avery Admin"))
    assert any("Administrator" in m.value for m in at.sidebar.markdown)
    roles = set(at.dataframe[0].value["Role"])
    assert "Administrator" in roles and not any("_" in r for r in roles)
    assert at.selectbox(key="new_role").format_func("dpo") == "DPO"

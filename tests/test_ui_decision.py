"""The decision page (AppTest): overrides choose nothing for the person and are confirmed with
the engine's value beside theirs; typed text is shown as text; sign-off is offered only to those
the record still needs; a decision that no longer matches the form is not saved; saving the same
subject again offers a new version of its record (issue 13, items 4 to 6)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine import service
from tests import test_ui
from tests.conftest import ALL_ATTESTATIONS, individual_for, load_case
from tests.test_ui import account_for, current_product, person

app_store = test_ui.app_store  # the same fixture: a seeded store the app opens
APP = str(Path(__file__).resolve().parent.parent / "ui" / "app.py")
REASON = "The panel reviewed the supplier evidence again and agreed a different view today."


def decision_page(actor, decision: dict, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["actor"] = account_for(actor)
    at.session_state["decision"] = decision
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page("views/decision.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def stored(store, case: str = "vbm-individual-decision", by: str = "Chair"):
    return service.save_assessment(load_case(f"{case}.yaml"), by, "panel_chair", store)


def opened(view) -> dict:
    return {"record": view.record, "assessment": None, "view_id": view.row.id}


def unsaved(case: str = "vbm-individual-decision", **extra) -> dict:
    assessment = load_case(f"{case}.yaml")
    return {"record": service.assess(assessment), "assessment": assessment, "view_id": None, **extra}


def shown(at: AppTest) -> str:
    parts = [*at.markdown, *at.error, *at.warning, *at.success, *at.info, *at.caption,
             *at.header, *at.subheader]
    return "\n".join(str(p.value) for p in parts)


def words(values) -> str:
    """Markdown sources as the reader sees them: the escapes `plain` adds taken out."""
    return re.sub(r"\\(.)", r"\1", " ".join(str(getattr(v, "value", v)) for v in values))


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


# --- overrides ---------------------------------------------------------------------------------

def test_an_override_chooses_nothing_for_the_person_and_is_refused_without_a_choice(app_store):
    view = stored(app_store)
    at = decision_page(person("panel_chair", name="Dr Ada Obi"), opened(view))
    assert at.selectbox(key="ov_target").value is None  # nothing pre-selected
    assert at.selectbox(key="ov_value:None").value is None
    at.text_area(key="ov_reason").input(REASON)
    at.button(key="ov_continue").click().run()
    errors = " ".join(e.value for e in at.error)
    assert "Choose what you depart from" in errors and "Choose your decision" in errors
    assert "ov_pending" not in at.session_state
    assert app_store.get(view.row.id).overrides == []
    # choosing the target only is refused too: the decision is never chosen for the person
    at.selectbox(key="ov_target").select("outcome").run()
    assert at.selectbox(key="ov_value:outcome").value is None
    assert "supported_with_conditions" not in at.selectbox(key="ov_value:outcome").options
    at.button(key="ov_continue").click().run()
    assert "Choose your decision" in " ".join(e.value for e in at.error)
    assert app_store.get(view.row.id).overrides == []


def test_an_override_is_confirmed_with_before_and_after_then_the_form_is_cleared(app_store):
    view = stored(app_store)
    at = decision_page(person("panel_chair", name="Dr Ada Obi"), opened(view))
    at.selectbox(key="ov_target").select("outcome").run()
    at.selectbox(key="ov_value:outcome").select("not_supported").run()
    at.text_area(key="ov_reason").input(REASON)
    at.button(key="ov_continue").click().run()
    assert "Engine: **Supported with conditions** → Your decision: **Not supported**" in shown(at)
    assert app_store.get(view.row.id).overrides == []  # nothing recorded before the confirmation
    button(at, "Cancel").click().run()  # back, with the choices kept
    assert at.selectbox(key="ov_target").value == "outcome"
    assert at.selectbox(key="ov_value:outcome").value == "not_supported"
    assert at.text_area(key="ov_reason").value == REASON
    at.button(key="ov_continue").click().run()
    button(at, "Confirm override").click().run()
    assert not at.exception
    [override] = app_store.get(view.row.id).overrides
    assert (override.target, override.engine_value, override.new_value, override.name) == (
        "outcome", "supported_with_conditions", "not_supported", "Dr Ada Obi")
    assert any("Override recorded" in s.value for s in at.success)
    assert at.selectbox(key="ov_target").value is None and not at.text_area(key="ov_reason").value


def test_markdown_and_links_in_typed_text_are_shown_as_text(app_store):
    view = stored(app_store)
    reason = "See [the minutes](javascript:alert(1)) **now**: the panel agreed this at its meeting."
    service.open_store().override(view.row.id, "P7", "met", "Dr [Eve](javascript:x)", "panel_chair",
                                  reason)
    at = decision_page(person("dpo", name="Sam Patel"), opened(view))
    [line] = [t.value for t in at.text if "because:" in t.value]  # st.text: no markdown at all
    assert "Dr [Eve](javascript:x) (Panel chair) set P7 to met (engine: met with conditions)" in line
    assert line.endswith(f"because: {reason}")
    assert "javascript" not in " ".join(m.value for m in at.markdown)
    # a typed product name and title in the subject are text too
    data = load_case("vbm-individual-decision.yaml").model_dump(mode="json", exclude_none=True)
    data["technology"]["name"] = "[Monitor](javascript:alert(2))"
    data["title"] = "**Bold** <b>title</b>"
    assessment = service.validate_assessment(data)
    at = decision_page(person("panel_chair"), {"record": service.evaluate(assessment),
                                               "assessment": assessment, "view_id": None})
    text = shown(at)
    assert "](javascript" not in text and "<b>" not in text and "**Bold**" not in text
    assert "\\[Monitor\\]\\(javascript\\:alert\\(2\\)\\)" in text


# --- sign-off ----------------------------------------------------------------------------------

def test_a_dpo_is_not_offered_the_sign_off_of_a_patients_record_and_is_told_why(app_store):
    product = current_product(app_store)
    use = service.save_assessment(individual_for(product.row.id), "Nurse Kim Lee", "clinician",
                                  app_store)
    at = decision_page(person("dpo", name="Sam Patel"), opened(use))
    assert "att_context_accurate" not in {c.key for c in at.checkbox}
    assert not any(b.label == "Sign off" for b in at.button)
    why = words(at.info)
    assert "A DPO does not sign a patient's record" in why and "Clinician" in why
    # the clinician on the ward is offered it and signs; the record is then approved
    at = decision_page(person("clinician", ["Willow Ward"], name="Nurse Kim Lee2"), opened(use))
    for attestation in ALL_ATTESTATIONS:
        at.checkbox(key=f"att_{attestation}").check()
    at.text_area(key="sign_comment").input("Discussed with the patient [see](javascript:x)")
    button(at, "Sign off").click().run()
    assert not at.exception and app_store.get(use.row.id).approved
    assert not any(b.label == "Sign off" for b in at.button)
    assert any(t.value.endswith("Comment: Discussed with the patient [see](javascript:x)")
               for t in at.text)


def test_the_sign_off_form_goes_once_approved_and_is_offered_only_to_roles_still_needed(app_store):
    view = stored(app_store)
    at = decision_page(person("panel_chair", name="Dr Ada Obi"), opened(view))
    assert "Still to sign: Panel chair, DPO, Clinical safety officer and Lived experience " \
           "representative." in words([shown(at)])
    for attestation in ALL_ATTESTATIONS:
        at.checkbox(key=f"att_{attestation}").check()
    button(at, "Sign off").click().run()
    assert any("Signed" in s.value for s in at.success)
    assert not any(b.label == "Sign off" for b in at.button)  # one person signs once
    assert "You have signed this record already" in words(at.info)
    # a second panel chair is not needed any more: not offered, and told who is
    at = decision_page(person("panel_chair", name="Dr Second Chair"), opened(view))
    assert not any(b.label == "Sign off" for b in at.button)
    assert "has its Panel chair sign-off already" in words(at.info)
    for role in ("dpo", "clinical_safety_officer"):
        app_store.sign(view.row.id, f"Signer {role}", role, ALL_ATTESTATIONS)
    at = decision_page(person("lived_experience_representative", name="Lee Rep"), opened(view))
    for attestation in ALL_ATTESTATIONS:
        at.checkbox(key=f"att_{attestation}").check()
    button(at, "Sign off").click().run()
    assert app_store.get(view.row.id).approved
    assert not any(b.label == "Sign off" for b in at.button)
    assert "Approved" in words(at.info)
    at = decision_page(person("dpo", name="Another Dpo"), opened(view))  # later visitors: no form
    assert not any(b.label == "Sign off" for b in at.button)


# --- save --------------------------------------------------------------------------------------

def test_a_decision_that_no_longer_matches_the_form_is_not_saved(app_store):
    before = len(app_store.latest())
    decision = unsaved("feedback-kiosk", answers_hash="made-from", context="procurement")
    at = decision_page(person("panel_chair"), decision, **{"answers_hash:procurement": "changed"})
    assert any("no longer matches the answers on the form" in w.value for w in at.warning)
    at.button(key="dec_save").click().run()
    assert any("Not saved" in e.value for e in at.error)
    assert at.session_state["decision"]["view_id"] is None and len(app_store.latest()) == before
    # the same decision, matching the form, is saved
    at = decision_page(person("panel_chair"), unsaved("feedback-kiosk", answers_hash="same",
                                                      context="procurement"),
                       **{"answers_hash:procurement": "same"})
    at.button(key="dec_save").click().run()
    assert at.session_state["decision"]["view_id"]


def test_saving_the_same_product_again_offers_a_new_version_of_its_record(app_store):
    first = stored(app_store)
    at = decision_page(person("panel_chair"), unsaved())
    offer = words(at.info)
    assert "A current record for this product and version is already stored" in offer
    assert any(b.key == "dec_supersede" for b in at.button)
    at.button(key="dec_supersede").click().run()
    new_id = at.session_state["decision"]["view_id"]
    assert new_id.split("@")[0] == first.row.key and new_id.endswith("@2")
    assert app_store.get(first.row.id).superseded_by == new_id
    assert any("a new version of" in s.value for s in at.success)


def test_saving_a_check_for_the_same_patient_and_product_offers_a_new_version(app_store):
    product = current_product(app_store)
    clinician = person("clinician", ["Willow Ward"], name="Nurse Kim Lee")
    first = service.save_assessment(individual_for(product.row.id), clinician.name, "clinician",
                                    app_store)
    check, record = service.check_use(individual_for(product.row.id), app_store)
    at = decision_page(clinician, {"record": record, "assessment": check, "view_id": None})
    assert "A current record for this patient and product is already stored" in \
        words(at.info)
    at.button(key="dec_save").click().run()  # a separate record stays possible
    assert at.session_state["decision"]["view_id"].split("@")[0] != first.row.key
    other = service.check_use(individual_for(product.row.id, patient__reference="WIL-0999"),
                              app_store)
    at = decision_page(clinician, {"record": other[1], "assessment": other[0], "view_id": None})
    assert not any(b.key == "dec_supersede" for b in at.button)  # another patient: nothing to supersede


def test_save_is_offered_only_to_someone_who_may_save_and_they_are_told_why(app_store):
    product = current_product(app_store)
    check, record = service.check_use(individual_for(product.row.id), app_store)
    at = decision_page(person("dpo"), {"record": record, "assessment": check, "view_id": None})
    assert not any(b.key in ("dec_save", "dec_supersede") for b in at.button)
    assert "A DPO does not save checks for a patient: Clinician and Nurse in charge do." in words(at.info)


# --- what the page leads with ------------------------------------------------------------------

@pytest.mark.parametrize("case", ["vbm-individual-decision", "vbm-ward-wide-default"])
def test_the_page_leads_with_the_subject_outcome_and_what_happens_next(app_store, case):
    at = decision_page(person("panel_chair", name="Dr Ada Obi"), unsaved(case))
    headers = [h.value for h in at.header]
    assert headers[0].startswith("Contactless bedroom monitor") or "monitor" in headers[0].lower()
    text = words([shown(at)])
    assert "What happens next" in text and "Not saved yet. Once saved, it needs sign-off by Panel " \
        "chair, DPO, Clinical safety officer and Lived experience representative." in text
    assert "(suggested owner)" in text or any("suggested owner" in e.label for e in at.expander)
    assert "Review" in text and ", in " in text or "overdue" in text
    assert not any(code in text for code in ("clinical_safety_officer", "panel_chair", "Dpo"))
    if case == "vbm-ward-wide-default":
        assert "**Next step.** Smallest proven step: carry out 5 remedies" in text  # in the panel
        assert "Conditions that will apply once it is supported" in text
        assert "no further change could be proven" in text.lower()

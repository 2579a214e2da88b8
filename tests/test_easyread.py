"""The easy-read summary tells the patient the truth in plain words: when the team would use it
although they said no, who decided and on what basis, who can help, how to complain, and never
the staff's own notes."""

from __future__ import annotations

import copy
import io
import re
from typing import Any

import pytest
from pypdf import PdfReader

from engine import service

# Every free-text answer carries this marker: none of it may reach the patient's document.
STAFF = "Quillfeather"

# A self-contained check (not a case study, which others may edit): an adult on an acute ward
# and a night-time contactless monitor. Each test sets the facts it is about.
BASE: dict[str, Any] = {
    "context": "individual_use",
    "title": f"{STAFF} title",
    "assessed_on": "2025-03-10",
    "product": {"record_id": "vbm-individual-decision", "outcome": "supported_with_conditions",
                "version": "4.2", "valid_until": "2025-11-30", "approved": True,
                "covers_this_service": True, "covers_this_version": True},
    "technology": {"name": "Contactless bedroom monitor", "vendor": "Example Vision Ltd",
                   "version": "4.2", "category": "vision_based_monitoring",
                   "functions": ["infrared_vital_signs", "blurred_video", "activity_alerts"]},
    "patient": {"reference": "WIL-0042", "age_band": "adult", "legal_status": "informal",
                "ward": "Willow Ward", "service_type": "adult_acute", "communication_needs": [],
                "trauma_history_relevant": False},
    "capacity": {"status": "has_capacity", "decision_specific_assessment": True,
                 "assessed_on": "2025-03-10"},
    "decision": {"route": "patient_consent", "patient_response": "agrees",
                 "consent_covers_this_technology_and_data": True, "information_fits_needs": True,
                 "withdrawal_explained": True},
    "proposed_use": {"functions": ["infrared_vital_signs", "activity_alerts"],
                     "places": ["bedroom"], "period": "night_only", "start": "2025-03-10",
                     "duration_days": 7, "switched_on_by_ward_default": False, "covert": False},
    "justification": {"purpose": "patient_clinical_need", "individual_risk_assessment": True,
                      "safety_plan_updated": True,
                      "rationale": f"{STAFF}: she has tied ligatures twice this week",
                      "intended_outcomes": f"{STAFF} outcomes",
                      "necessity_and_proportionality_recorded": True,
                      "observations_maintained": True},
    "alternatives": [{"option": "Hourly in-person checks at night",
                      "why_not_enough": f"{STAFF}: she was found between checks"}],
    "care_plan": {"entry_recorded": True, "patient_preferences": f"{STAFF} preferences"},
    "review": {"review_date": "2025-03-17", "stop_criteria": f"{STAFF} stop criteria",
               "last_review_held": True, "last_review_on": "2025-03-03",
               "last_review_by": f"{STAFF} MDT", "last_review_outcome": "continue",
               "last_review_reasons": f"{STAFF}: he remains at risk at night"},
    "staff": {"trained": True},
}
OVERRIDE = {"legal_basis": "other", "legal_basis_named": f"{STAFF} doctrine of necessity",
            "responsible_clinician": f"Dr {STAFF}, consultant psychiatrist",
            "decided_on": "2025-03-10", "patient_views": f"{STAFF}: she says it makes her feel watched",
            "imha_informed": True, "legal_advice": f"{STAFF} solicitors advised on 9 March",
            "review_within_hours": 72, "rationale": f"{STAFF}: she is a high risk of self-harm"}


def check(**changes: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    for name, answers in changes.items():
        data[name] = {**data.get(name, {}), **answers}
    return data


def easy_read(data: dict[str, Any]) -> str:
    assessment = service.validate_assessment(data)
    record = service.assess(assessment)
    pdf = service.render_export(record, "easy-read", assessment=assessment.model_dump(mode="json"))
    reader = PdfReader(io.BytesIO(pdf))
    # A picture beside each point and one sentence to a line take room: still a short document.
    assert len(reader.pages) <= 5
    text = "\n".join(page.extract_text() or "" for page in reader.pages).replace("\u200b", "")
    # The footer ("Easy read · WIL-0042", page numbers) is not part of the text a patient reads.
    text = re.sub(r"Easy read · \S*|page \d+ of \d+|\bpage \d+\b", " ", text)
    return " ".join(text.split())


CASES = {
    "detained_refuses": check(
        patient={"legal_status": "detained_mental_health_act"},
        decision={"patient_response": "refuses"}, override_of_refusal=OVERRIDE),
    "incapacitous_resists": check(
        capacity={"status": "lacks_capacity"},
        decision={"route": "best_interests", "patient_response": "resists",
                  "family_and_carers_consulted": True},
        liberty={"deprivation_of_liberty": "not_considered", "within_scope_of_mha": False,
                 "wishes_and_feelings": f"{STAFF}: he pulls the cover off the sensor"}),
    "informal_refuses": check(decision={"patient_response": "refuses"}),
    "held_s5_2_refuses": check(patient={"legal_status": "holding_power_s5_2"},
                               decision={"patient_response": "refuses"}),
    "child_parental_route": check(
        patient={"age_band": "under_16", "service_type": "children_and_young_people"},
        capacity={"status": "lacks_capacity", "gillick_competent": False},
        decision={"route": "parental_responsibility", "parental_view": "consents",
                  "within_parental_responsibility": True}),
    "gillick_refuses_parent_consents": check(
        patient={"age_band": "under_16", "service_type": "children_and_young_people"},
        capacity={"gillick_competent": True},
        decision={"route": "parental_responsibility", "patient_response": "refuses",
                  "parental_view": "consents"}),
    "sister_without_authority": check(
        capacity={"status": "lacks_capacity"},
        decision={"route": "relative_or_carer_without_authority",
                  "patient_response": "no_view_expressed"}),
}


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return {name: easy_read(data) for name, data in CASES.items()}


def test_a_detained_refusal_says_who_decided_why_and_the_right_to_an_imha(texts):
    text = texts["detained_refuses"]
    assert "You said no." in text
    assert "Your doctor in charge of your care decided to use it anyway." in text
    assert "responsible clinician" in text
    assert "because you are detained under the Mental Health Act" in text
    assert "This was on 10 March 2025." in text
    assert "People who know the law do not all agree" in text
    assert "You have the right to an IMHA" in text
    assert "Independent Mental Health Advocate" in text
    assert "within 72 hours" in text
    assert "Care Quality Commission (CQC)" in text and "Mental Health Act is used" in text
    assert "You decide. You can say yes or no." not in text  # not after an override


def test_an_incapacitous_objection_names_the_imca_and_the_law_to_check(texts):
    text = texts["incapacitous_resists"]
    assert "You could not decide about this. You showed us you do not want it." in text
    assert "The team must check it is allowed by law." in text
    assert "takes away your freedom" in text
    assert "IMCA" in text and "Independent Mental Capacity Advocate" in text
    assert "right to an IMHA" not in text  # not detained
    assert "Care Quality Commission" not in text


def test_an_informal_refusal_is_respected(texts):
    text = texts["informal_refuses"]
    assert "You said no." in text
    assert "The team must not use it while you say no." in text
    assert "responsible clinician" not in text and "anyway" not in text
    assert "The team must not use it like this." in text  # the decision itself


def test_a_holding_power_does_not_let_the_team_override(texts):
    text = texts["held_s5_2_refuses"]
    assert "section 5(2) of the Mental Health Act" in text
    assert "This does not let the team use it when you say no." in text
    # s130C: the short holding powers give no right to an IMHA; no such right is promised
    assert "You have the right to an IMHA" not in text and "ask staff for an advocate" in text
    assert "Care Quality Commission (CQC)" in text


def test_parental_responsibility_is_named_and_never_parent_or_carer(texts):
    assert "A person with parental responsibility decides with you." in texts["child_parental_route"]
    assert ("A person with parental responsibility cannot say yes for you when you have said no."
            in texts["gillick_refuses_parent_consents"])
    for text in texts.values():
        assert "parent or carer" not in text.lower()


def test_a_relative_without_authority_cannot_decide(texts):
    text = texts["sister_without_authority"]
    assert "A relative or carer cannot decide this for you." in text
    assert "legal power" in text
    assert "They must ask your relative what they think." in text


def test_every_summary_says_how_to_complain_and_get_an_advocate(texts):
    for name, text in texts.items():
        assert "How can I complain?" in text, name
        assert "make a complaint to the hospital" in text, name
        assert "PALS" in text and "advocate" in text, name


def test_staff_free_text_never_reaches_the_patient(texts):
    for name, text in texts.items():
        assert STAFF not in text, name
        assert "ligatures" not in text and "high risk" not in text, name


def test_a_check_saved_with_a_free_text_override_is_read_as_structured():
    data = check(patient={"legal_status": "detained_mental_health_act"},
                 decision={"patient_response": "refuses"})
    record = service.assess(service.validate_assessment(data))
    legacy = copy.deepcopy(data)  # as stored before the structured override
    legacy["decision"].update(override_legal_basis=f"{STAFF} MHA s63",
                              override_rationale=f"{STAFF}: she is a high risk of self-harm")
    pdf = service.render_export(record, "easy-read", assessment=legacy)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "They say another law allows it." in text
    assert STAFF not in text and "high risk" not in text


def test_the_outcome_never_claims_the_use_is_lawful(texts):
    for name, text in texts.items():
        assert "lawful" not in text.lower(), name


def test_last_review_is_told_from_its_answers():
    text = easy_read(check(review={"last_review_held": False}))
    assert "The last check did not happen on time." in text


def test_short_sentences(texts):
    for name, text in texts.items():
        # a sentence ends at . ? or !; a list item ("It picks up: • ...") counts as one
        sentences = [s for s in re.split(r"(?<=[.?!:])\s+|\s*•\s*", text)
                     if re.search(r"[A-Za-z]", s)]
        lengths = [len(re.findall(r"[\w'()’-]+", s)) for s in sentences]
        assert sum(lengths) / len(lengths) < 12, (name, sum(lengths) / len(lengths))
        longest = max(zip(lengths, sentences, strict=True))
        assert longest[0] <= 20, (name, longest)

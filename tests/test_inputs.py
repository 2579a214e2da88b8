"""Bad assessments get a clear message naming the field and line; good ones become facts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import service
from engine.errors import InputInvalid
from engine.facts.schema import MAX_PROPERTIES, fact_specs, to_fact

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = """\
context: procurement
technology:
  name: Test monitor
  category: vision_based_monitoring
"""


def problems(text: str) -> list[str]:
    with pytest.raises(InputInvalid) as err:
        service.parse_assessment(text, "a.yaml")
    return [str(p) for p in err.value.problems]


def test_minimal_assessment_is_valid_and_everything_else_is_open():
    a = service.parse_assessment(MINIMAL)
    record = service.assess(a)
    assert record.outcome == "insufficient_information"
    asked = {q.fact for q in record.open_questions}
    assert {"deployment.activation", "data_protection.dpia_status"} <= asked


@pytest.mark.parametrize("text, expected", [
    (MINIMAL + "deployment:\n  activation: sometimes\n",
     "a.yaml:6: deployment.activation: Input should be 'individual_decision'"),
    (MINIMAL + "deployment:\n  activaton: opt_out\n",
     "a.yaml:6: deployment.activaton: unknown field (not part of the model)"),
    (MINIMAL + "data_protection:\n  video_retention_hours: -3\n",
     "a.yaml:6: data_protection.video_retention_hours: Input should be greater than or equal to 0"),
    (MINIMAL + "data_protection:\n  dpia_review_due: 2025-02-30\n",
     "a.yaml:6: data_protection.dpia_review_due: Input should be a valid date"),
    (MINIMAL + "equity:\n  declining_does_not_reduce_care: {not_applicable: ''}\n",
     "a.yaml:6: equity.declining_does_not_reduce_care.not_applicable: String should have at least 3"),
    ("context: procurement\ntechnology:\n  category: wearable_sensor\n",
     "a.yaml:2: technology.name: Field required"),
    ("technology:\n  name: x\n", "a.yaml:1: `context:` must be `procurement` or `individual_use`"),
])
def test_bad_fields_are_named_with_their_line(text, expected):
    assert any(p.startswith(expected) for p in problems(text)), problems(text)


def test_yes_and_no_answers_are_read_as_booleans_but_keys_stay_words():
    a = service.parse_assessment(MINIMAL + "deployment:\n  covert_use_possible: no\n")
    assert a.deployment.covert_use_possible is False
    assert any("covert_use_possible" in p
               for p in problems(MINIMAL + "deployment:\n  covert_use_possible: perhaps\n"))


@pytest.mark.parametrize("reference", ["9434765919", "WIL-9434765919", "943-476-5919"])
def test_an_nhs_number_is_refused_as_a_patient_reference(reference):
    """The NHS-number check itself, not any error on the field: '943 476 5919' (with spaces) is
    refused by the field's pattern before the check runs."""
    text = (ROOT / "case_studies" / "vbm-patient-refuses.yaml").read_text().replace(
        "reference: WIL-0042", f"reference: '{reference}'")
    (problem,) = problems(text)
    assert problem.endswith(" patient.reference: Value error, looks like an NHS number; use the "
                            "local pseudonymous reference"), problem


def test_unreadable_files_say_why(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("context: procurement\n  technology: [\n")
    with pytest.raises(InputInvalid) as err:
        service.load_assessment(bad)
    assert "bad.yaml:2: not valid YAML" in str(err.value)
    with pytest.raises(InputInvalid, match="cannot read file"):
        service.load_assessment(tmp_path / "missing.yaml")
    (tmp_path / "folder.yaml").mkdir()
    with pytest.raises(InputInvalid, match="cannot read file: Is a directory"):
        service.load_assessment(tmp_path / "folder.yaml")
    huge = tmp_path / "huge.json"
    huge.write_text(json.dumps({"context": "procurement", "title": "x" * 6_000_000}))
    with pytest.raises(InputInvalid, match="the limit is 5,000,000 bytes"):
        service.load_assessment(huge)


def test_json_input_works_like_yaml(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"context": "procurement",
                                "technology": {"name": "T", "category": "patient_app"}}))
    assert service.load_assessment(path).technology.name == "T"


def test_not_applicable_is_recorded_with_its_reason():
    record = service.assess(service.load_assessment(
        ROOT / "case_studies" / "vbm-individual-decision.yaml"))
    (na,) = record.not_applicable
    assert na.fact == "equity.digital_inclusion_support"
    assert "do not operate" in na.reason


def test_facts_stay_within_durable_rules_property_limit():
    for context in ("procurement", "individual_use"):
        # every question answered: an answer takes its keys, or one `na.` key instead of them;
        # plus `kind` and the runtime's sid
        worst = sum(len(s.keys()) for s in fact_specs(context).values()) + 2
        assert worst <= MAX_PROPERTIES, (context, worst)


def test_enum_lists_become_flags_and_dates_day_numbers():
    a = service.load_assessment(ROOT / "case_studies" / "vbm-adult-consents-night-use.yaml")
    fact = to_fact(a).fact
    assert fact["proposed_use.functions.infrared_vital_signs"] is True
    assert fact["proposed_use.functions.clear_video"] is False
    assert fact["alternatives"] == 2
    assert fact["review.review_date"] - fact["proposed_use.start"] == 7


def test_explicit_nulls_and_blank_text_mean_unanswered():
    a = service.parse_assessment(MINIMAL.replace("context: procurement", "context: procurement\ntitle: '  '")
                                 + "deployment:\n  activation: null\n")
    assert a.title is None and a.deployment.activation is None
    text = (ROOT / "case_studies" / "vbm-patient-refuses.yaml").read_text().replace(
        "  justification:\n", "  justification:\n    rationale: null\n    intended_outcomes: '   '\n")
    check = service.parse_assessment(text)
    assert check.justification.rationale is None and check.justification.intended_outcomes is None

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
    with pytest.raises(InputInvalid, match=r"not a regular file \(a directory\)"):
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
    reasons = {na.fact: na.reason for na in record.not_applicable}
    assert set(reasons) == {"equity.digital_inclusion_support", "policy.blanket_restriction_board_review"}
    assert "do not operate" in reasons["equity.digital_inclusion_support"]
    assert "individual decision" in reasons["policy.blanket_restriction_board_review"]


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


# --- bounded input (issue 12, item 5): dates in a sane range, printable text ----------------------

import datetime as dt  # noqa: E402
import typing  # noqa: E402

from pydantic import BaseModel  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from engine.cli import app  # noqa: E402
from engine.models.answers import EARLIEST, LATEST  # noqa: E402
from engine.models.assessment import IndividualUseCheck, ProcurementAssessment  # noqa: E402

BASES = {"procurement": service.parse_assessment(MINIMAL).model_dump(mode="json", exclude_none=True),
         "individual_use": service.load_assessment(
             ROOT / "case_studies" / "vbm-adult-consents-night-use.yaml").model_dump(
             mode="json", exclude_none=True)}


def _date_fields(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every date question of a model, found from its annotations (so a new one is not missed)."""
    found = []
    for name, info in model.model_fields.items():
        args = typing.get_args(info.annotation) or (info.annotation,)
        section = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)
                        and a.__name__ != "NotApplicable"), None)
        if section is not None and name not in ("alternatives",):
            found += _date_fields(section, (*prefix, name))
        elif "datetime.date" in str(info.annotation):
            found.append((*prefix, name))
    return found


DATE_FIELDS = [(ctx, path) for ctx, model in (("procurement", ProcurementAssessment),
                                              ("individual_use", IndividualUseCheck))
               for path in _date_fields(model)]


def _with(context: str, path: tuple[str, ...], value):
    data = json.loads(json.dumps(BASES[context]))
    target = data
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value
    return data


def test_every_date_question_is_found():
    paths = {".".join(p) for _, p in DATE_FIELDS}
    assert {"assessed_on", "data_protection.dpia_review_due", "policy.policy_review_due",
            "assurance.cyber_essentials_expires", "product.valid_until", "capacity.assessed_on",
            "override_of_refusal.decided_on", "proposed_use.start", "review.review_date",
            "review.last_review_on"} <= paths, paths


@pytest.mark.parametrize("context, path", DATE_FIELDS, ids=lambda v: ".".join(v)
                         if isinstance(v, tuple) else v)
@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "1899-12-31", "2101-01-01"])
def test_a_date_outside_1900_to_2100_is_an_input_error_naming_the_field(context, path, value):
    with pytest.raises(InputInvalid) as err:
        service.validate_assessment(_with(context, path, value))
    field = ".".join(path)
    assert any(p.message == f"{field}: Value error, {value} is outside the dates DTPA accepts "
                            f"(1900 to 2100)" for p in err.value.problems), str(err.value)


@pytest.mark.parametrize("context, path", DATE_FIELDS[:3] + DATE_FIELDS[-3:])
def test_the_first_and_last_accepted_dates_are_accepted(context, path):
    # by the range; whether the date makes sense beside the others (a review after the
    # assessment, nothing done in the future) is judged apart, in tests/test_dates.py
    for day in (EARLIEST, LATEST):
        try:
            service.validate_assessment(_with(context, path, day.isoformat()))
        except InputInvalid as err:
            assert not any("outside the dates" in p.message for p in err.problems), str(err)
            assert all(" is in the future " in p.message or " before " in p.message
                       or " after " in p.message for p in err.problems), str(err)


def test_a_date_near_9999_is_one_clear_error_not_a_traceback(tmp_path):
    path = tmp_path / "far.yaml"
    path.write_text(MINIMAL.replace("context: procurement", "context: procurement\n"
                                    "assessed_on: 9999-12-31"))
    result = CliRunner().invoke(app, ["assess", str(path)])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert "far.yaml:2: assessed_on: Value error, 9999-12-31 is outside the dates" in result.stderr
    assert dt.date(9999, 12, 31) > LATEST


@pytest.mark.parametrize("context, path, value, says", [
    ("procurement", ("title",), "a\x00b", "contains a NUL character (U+0000) at character 2; this "
                                          "answer is one line of printable text"),
    ("procurement", ("technology", "name"), "Cam\x1b[31m", "a control character (U+001B) at "
                                                          "character 4"),
    ("procurement", ("technology", "name"), "two\nlines", "a line break (U+000A)"),
    ("procurement", ("technology", "vendor"), "tab\there", "a tab (U+0009)"),
    ("procurement", ("technology", "version"), "v1\x7f", "a control character (U+007F)"),
    ("procurement", ("service", "organisation"), "NHS\x85Trust", "a control character (U+0085)"),
    ("procurement", ("equity", "digital_inclusion_support"), {"not_applicable": "no one\x07 uses it"},
     "a control character (U+0007) at character 7; only printable text, line breaks and tabs"),
    ("individual_use", ("justification", "rationale"), "needed\x00", "a NUL character (U+0000)"),
    ("individual_use", ("patient", "ward"), "Willow\r\nWard", "a line break (U+000D)"),
])
def test_control_characters_are_refused_naming_the_field(context, path, value, says):
    with pytest.raises(InputInvalid) as err:
        service.validate_assessment(_with(context, path, value))
    field = ".".join(path) + (".not_applicable" if isinstance(value, dict) else "")
    assert any(p.message.startswith(f"{field}: Value error, ") and says in p.message
               for p in err.value.problems), str(err.value)


def test_a_control_character_in_a_list_of_names_names_the_item():
    with pytest.raises(InputInvalid, match=r"service.wards.1: Value error, contains a NUL"):
        service.validate_assessment(_with("procurement", ("service", "wards"), ["Willow", "Ash\x00"]))


def test_multi_line_answers_keep_line_breaks_and_tabs():
    check = service.validate_assessment(_with("individual_use", ("justification", "rationale"),
                                              "First reason.\r\n\tSecond reason.\rThird."))
    assert check.justification.rationale == "First reason.\n\tSecond reason.\nThird."


def test_a_lone_surrogate_from_json_is_refused_naming_the_field(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('{"context": "procurement", "title": "half \\ud800 a character", '
                    '"technology": {"name": "T", "category": "patient_app"}}')
    with pytest.raises(InputInvalid, match=r"a.json: title: Input should be a valid string"):
        service.load_assessment(path)  # not text at all: no UTF-8 encodes it, so none is stored

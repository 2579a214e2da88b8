"""Dates that make sense (issue 13, item 3): impossible orders are refused in new input with one
plain-English message each, stored records are flagged and never made unreadable, and case studies
on the web are assessed today with their intervals kept, deciding exactly as the files do."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from engine import service
from engine.cli import app
from engine.errors import InputInvalid
from engine.knowledge.conventions import case_contexts
from engine.models import dates
from engine.service import case_library, reevaluate
from engine.service.deciding import decide_quickly, validate_stored
from tests.conftest import load_case
from tests.test_ui import app_store, page, person  # noqa: F401 (app_store is a fixture)

TODAY = dt.date(2026, 2, 1)
NIGHT_USE = "vbm-adult-consents-night-use.yaml"  # assessed, capacity and start 2025-03-10,
KIOSK = "feedback-kiosk.yaml"  # review 2025-03-17; the kiosk: assessed 2025-04-14


@pytest.fixture
def frozen():
    with dates.today_is(TODAY):
        yield TODAY


def answers(case: str, **sections) -> dict:
    """The case study's answers with some changed: `review={"review_date": ...}` or a top-level
    `assessed_on="..."`."""
    data = load_case(case).model_dump(mode="json", exclude_none=True)
    for name, change in sections.items():
        if isinstance(change, dict):
            data[name] = {**data.get(name, {}), **change}
        else:
            data[name] = change
    return data


def refused(data: dict) -> list[str]:
    with pytest.raises(InputInvalid) as err:
        service.validate_assessment(data)
    return [p.message for p in err.value.problems]


FIRST_CHECK = {"last_review_held": {"not_applicable": "This is the first check of this use."}}

REFUSED = [
    # the issue's own example: a first check whose review comes before it
    (answers(NIGHT_USE, assessed_on="2026-02-01", review={"review_date": "2026-01-03", **FIRST_CHECK}),
     "review.review_date: Review date (2026-01-03) is before the assessment date (2026-02-01): "
     "the review must come after the assessment."),
    # a use that starts on the day of the check cannot have a review already due
    (answers(NIGHT_USE, review={"review_date": "2025-03-01"}),
     "review.review_date: Review date (2025-03-01) is before the assessment date (2025-03-10): "
     "the review must come after the assessment."),
    (answers(NIGHT_USE, proposed_use={"start": "2025-04-01"}),
     "proposed_use.start: Start date (2025-04-01) is after the review date (2025-03-17): the use "
     "must start before it is reviewed."),
    (answers(NIGHT_USE, capacity={"assessed_on": "2030-01-01"}),
     "capacity.assessed_on: Date capacity was assessed (2030-01-01) is in the future (today is "
     "2026-02-01): it must be a date that has already happened."),
    (answers(NIGHT_USE, capacity={"assessed_on": "2025-03-11"}),
     "capacity.assessed_on: Date capacity was assessed (2025-03-11) is after the assessment date "
     "(2025-03-10): an assessment can only record what had happened by its date."),
    (answers(NIGHT_USE, override_of_refusal={"decided_on": "2025-03-12"}),
     "override_of_refusal.decided_on: Date the responsible clinician decided to override the "
     "refusal (2025-03-12) is after the assessment date (2025-03-10): an assessment can only "
     "record what had happened by its date."),
    (answers(NIGHT_USE, review={"last_review_held": True, "last_review_on": "2027-05-01"}),
     "review.last_review_on: Date of the last review (2027-05-01) is in the future (today is "
     "2026-02-01): it must be a date that has already happened."),
    (answers(KIOSK, assurance={"penetration_test_date": "2099-01-01"}),
     "assurance.penetration_test_date: Date of the last penetration test (2099-01-01) is in the "
     "future (today is 2026-02-01): it must be a date that has already happened."),
    (answers(KIOSK, assurance={"penetration_test_date": "2025-05-01"}),
     "assurance.penetration_test_date: Date of the last penetration test (2025-05-01) is after "
     "the assessment date (2025-04-14): an assessment can only record what had happened by its "
     "date."),
    (answers(KIOSK, assessed_on="2026-02-02"),
     "assessed_on: Assessment date (2026-02-02) is in the future (today is 2026-02-01): an "
     "assessment is dated on or before the day it is made."),
]


@pytest.mark.parametrize("data, says", REFUSED, ids=lambda v: v[:40] if isinstance(v, str) else "")
def test_an_impossible_order_is_refused_with_one_plain_message_naming_the_field(frozen, data, says):
    assert refused(data) == [says]


def test_the_same_date_is_not_an_impossible_order(frozen):
    """Done on the day of the assessment, reviewed on the day it starts, assessed today: fine."""
    service.validate_assessment(answers(
        NIGHT_USE, assessed_on="2026-02-01", capacity={"assessed_on": "2026-02-01"},
        proposed_use={"start": "2026-02-01"},
        review={"review_date": "2026-02-01", "last_review_held": True,
                "last_review_on": "2026-02-01"}))
    service.validate_assessment(answers(KIOSK, assessed_on="2026-02-01",
                                        assurance={"penetration_test_date": "2026-02-01"}))


def test_an_overdue_review_is_still_an_answer_the_rules_judge(frozen, pack):
    """A review date before the assessment date of a use that started before it is an overdue
    review, not a typing error: accepted, and the rules say what it means."""
    overdue = service.validate_assessment(answers(
        NIGHT_USE, proposed_use={"start": "2025-02-22"},
        review={"review_date": "2025-03-01", "last_review_held": False}))
    assert "REC-IND-006" in decide_quickly(overdue, pack)[2]
    # nothing said about the last review: the engine asks, it does not refuse
    unsaid = answers(NIGHT_USE, proposed_use={"start": "2025-02-22"},
                     review={"review_date": "2025-03-01"})
    unsaid["review"].pop("last_review_held", None)
    record = service.evaluate(service.validate_assessment(unsaid), pack)
    assert "review.last_review_held" in {q.fact for q in record.open_questions}


def test_dates_that_fall_due_may_be_past_they_are_findings(frozen, pack):
    """An expired certificate or a review of the DPIA or policy that has passed is judged, never
    refused: only dates of things done have an order."""
    expired = service.validate_assessment(answers(KIOSK, data_protection={
        "dpia_review_due": "2024-01-01"}, policy={"policy_review_due": "2024-01-01"}, assurance={
        "cyber_essentials_expires": "2024-01-01", "ico_registration_expires": "2024-01-01"}))
    fired = set(decide_quickly(expired, pack)[2])
    assert {"DP-PRO-005", "POL-PRO-003", "DP-PRO-014", "DP-PRO-015"} <= fired, fired


def test_every_problem_is_listed_at_once_with_the_other_invalid_answers(frozen):
    data = answers(NIGHT_USE, proposed_use={"start": "2025-04-01"},
                   capacity={"assessed_on": "2030-01-01"})
    data["patient"]["reference"] = "?"
    said = refused(data)
    assert len(said) == 3, said
    assert said[0].startswith("patient.reference: String should match")
    assert any(m.startswith("proposed_use.start: Start date (2025-04-01) is after") for m in said)
    assert any(m.startswith("capacity.assessed_on: Date capacity was assessed (2030-01-01) is in "
                            "the future") for m in said)


def test_a_date_out_of_range_has_its_own_error_only(frozen):
    said = refused(answers(KIOSK, assurance={"penetration_test_date": "9999-12-31"}))
    assert said == ["assurance.penetration_test_date: Value error, 9999-12-31 is outside the "
                    "dates DTPA accepts (1900 to 2100)"]


def test_today_is_one_clock_the_checks_and_the_default_assessment_date_share():
    with dates.today_is(dt.date(2031, 7, 4)):
        assert service.parse_assessment(
            "context: procurement\ntechnology: {name: X, category: vision_based_monitoring}\n"
        ).assessed_on == dt.date(2031, 7, 4)
        service.validate_assessment(answers(KIOSK, assessed_on="2031-07-04"))
    assert dates.today() == dt.date.today()
    with pytest.raises(InputInvalid, match="is in the future"):
        service.validate_assessment(answers(KIOSK, assessed_on="2031-07-04"))


def test_a_remedy_that_would_leave_impossible_dates_is_no_remedy(frozen, pack):
    """Bringing the review forward to a week after a January start (P1-IND-004's remedy) would put
    a first check's review before the check itself: the decision is still made, and no step
    proposes that answer."""
    check = service.validate_assessment(answers(
        NIGHT_USE, product={"outcome": "supported"}, proposed_use={"start": "2025-01-01"},
        review={"review_date": "2025-04-10", **FIRST_CHECK}))
    record = service.assess(check, pack)
    assert record.trace.rules_fired == ["P1-IND-004"]
    assert record.what_would_change == []
    assert "P1-IND-004 did not improve the outcome" in record.what_would_not_change


# --- every front end: the command line ------------------------------------------------------

def test_dtpa_assess_refuses_an_impossible_order_in_one_line(tmp_path):
    path = tmp_path / "late-review.yaml"
    path.write_text(yaml.safe_dump(answers(NIGHT_USE, review={"review_date": "2025-03-01"}),
                                   sort_keys=False))
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1)
                if "review_date:" in text)
    result = CliRunner().invoke(app, ["assess", str(path)])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert "Error: The assessment has 1 invalid field(s)." in result.stderr
    assert f"late-review.yaml:{line}: review.review_date: Review date (2025-03-01) is before the " \
           "assessment date (2025-03-10): the review must come after the assessment.\n" \
           in result.stderr


# --- every front end: the web form's problems ---------------------------------------------------

def test_the_web_form_shows_the_same_sentence_under_the_question(frozen, pack):
    """The web lists each problem under the question's wording (engine/service/form_problems.py):
    a date problem keeps its sentence, never "not understood"."""
    from engine.knowledge.questions import questions
    from engine.service.form_problems import form_problems

    said = [p.text for p in form_problems(answers(NIGHT_USE, capacity={"assessed_on": "2030-01-01"}),
                                          questions(pack, "individual_use"))]
    assert said == ["When capacity was assessed: Date capacity was assessed (2030-01-01) is in the "
                    "future (today is 2026-02-01): it must be a date that has already happened."]


# --- stored records: flagged, never unreadable -------------------------------------------------

def test_a_stored_record_with_an_impossible_order_reads_and_is_flagged(store, pack):
    data = answers(NIGHT_USE, proposed_use={"start": "2025-04-01"})
    old = service.validate_assessment(data, lenient=True)  # stored before the check existed
    saved = store.save(old.model_dump(mode="json"), service.evaluate(old, pack), "Dr Ada Obi",
                       "clinician")
    ref = saved.row.id
    assert store.get(ref).record.record_hash == saved.record.record_hash  # reads back
    read, stricter = validate_stored(data)
    assert read.proposed_use.start == dt.date(2025, 4, 1)
    assert stricter == ["proposed_use.start: Start date (2025-04-01) is after the review date "
                        "(2025-03-17): the use must start before it is reviewed."]

    report = reevaluate.reevaluate(store, pack, "Dr Ada Obi", "dpo", decide_quickly)
    assert report.failed == [] and report.stricter_rules == [(ref, stricter, False)]
    flags = [e for e in store.get(ref).review_flags if e.action == "flagged"]
    assert len(flags) == 1 and flags[0].detail["kind"] == "stricter_input_rules"
    assert "Start date (2025-04-01) is after the review date" in flags[0].detail["reason"]
    again = reevaluate.reevaluate(store, pack, "Dr Ada Obi", "dpo", decide_quickly)
    assert again.stricter_rules == [(ref, stricter, True)]  # flagged once, not again


# --- the golden data under the checks ----------------------------------------------------------

def test_every_case_study_validates_under_the_date_checks():
    for path in sorted(Path(case_library.CASE_STUDIES).glob("*.yaml")):
        study = case_library.read_case_study(path)
        assert dates.date_problems(study.context, dates.model_answer(study.assessment),
                                   dates.today()) == [], path.stem


def _case_answer(facts: dict):
    """A rule case's answer at a dotted path (its facts are keyed by path), dates as dates."""
    def answer(path: str):
        value = facts.get(path)
        try:
            return dt.date.fromisoformat(value) if isinstance(value, str) else value
        except ValueError:
            return value
    return answer


def test_no_rule_case_has_an_impossible_order_of_dates(pack):
    """Rule cases are facts, not validated assessments: each must still be a situation someone
    could record (an overdue review is one; a review before a first check is not)."""
    impossible = []
    for rid, loaded in pack.rules.items():
        for case in loaded.rule.cases:
            for ctx in case_contexts(loaded.rule, case):
                found = dates.date_problems(ctx, _case_answer(case.facts),
                                            dt.date(2100, 12, 31))
                impossible += [(rid, case.name, p.message) for p in found]
    assert impossible == []


# --- case studies on the web: assessed today, intervals kept, the same decision ---------------

def _decided(assessment, pack) -> tuple:
    record = service.evaluate(assessment, pack, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    return (record.outcome, {v.target: v.verdict for v in record.verdicts},
            sorted(record.trace.rules_fired), sorted(q.fact for q in record.open_questions),
            sorted(c.rule_id for c in record.conditions)), record


@pytest.mark.parametrize("today", [dt.date.today(), dt.date(2032, 2, 29)], ids=["today", "leap"])
def test_every_case_study_moved_to_today_decides_as_written(today, pack):
    differ = []
    for name, study in case_library.case_studies().items():
        moved = case_library.moved_to_today(study, today)
        by = today - study.assessment.assessed_on
        assert moved.assessment.assessed_on == today and moved.expected == study.expected
        (as_written, written), (as_moved, now) = _decided(study.assessment, pack), \
            _decided(moved.assessment, pack)
        if as_moved != as_written:
            differ.append((name, as_written, as_moved))
        assert now.review_date == (written.review_date + by if written.review_date else None), name
    assert differ == []


def test_moving_keeps_every_interval_and_nothing_but_dates(frozen):
    study = case_library.case_study("overdue-review")
    moved = case_library.moved_to_today(study).assessment
    by = TODAY - dt.date(2025, 12, 15)
    assert moved.review.review_date == dt.date(2025, 9, 22) + by < TODAY  # still overdue
    assert moved.product.valid_until == dt.date(2025, 11, 30) + by
    assert moved.capacity.assessed_on == dt.date(2025, 9, 1) + by
    plain = copy.deepcopy(moved.model_dump(mode="json"))
    original = study.assessment.model_dump(mode="json")
    for section, field in [("review", "review_date"), ("product", "valid_until"),
                           ("capacity", "assessed_on"), ("proposed_use", "start")]:
        plain[section].pop(field), original[section].pop(field)
    plain.pop("assessed_on"), original.pop("assessed_on")
    assert plain == original


def test_access_offers_case_studies_assessed_today(frozen, store):
    from engine.models.people import Actor
    from engine.service.session import Access

    who = Access(Actor(username="ada", name="Ada", role="panel_chair"), store)
    offered = who.case_studies("individual_use")
    assert {s.assessment.assessed_on for s in offered.values()} == {TODAY}
    assert all(s.assessment.review.review_date > TODAY for name, s in offered.items()
               if name not in ("overdue-review", "review-overdue"))
    assert who.case_study("feedback-kiosk").assessment.assessed_on == TODAY
    study, record = who.run_case_study("feedback-kiosk")
    assert record.outcome in study.expected.outcome and record.review_date > TODAY
    # the golden files themselves are untouched
    assert case_library.case_study("feedback-kiosk").assessment.assessed_on == dt.date(2025, 4, 14)


def test_a_case_study_loaded_on_the_assess_page_has_its_review_ahead(app_store):  # noqa: F811
    today = dt.date.today()
    at = page("views/assess_product.py", person("panel_chair", name="Dr Ada Obi"))
    at.selectbox(key="pro_start").select("Case study: vbm-individual-decision").run()
    at.button(key="pro_load").click().run()
    at.button(key="pro_evaluate").click().run()
    assert not at.exception, [e.value for e in at.exception]
    decision = at.session_state["decision"]
    assert decision["assessment"].assessed_on == today
    assert decision["record"].review_date > today
    written = service.evaluate(load_case("vbm-individual-decision.yaml"))
    assert written.review_date < today  # as written, its review had already passed
    assert decision["record"].outcome == written.outcome


def test_dtpa_seed_stores_case_studies_assessed_today_and_a_later_seed_changes_nothing(store, pack):
    first = service.seed_case_studies(store, pack=pack, today=dt.date(2030, 3, 1))
    assert {v.record.assessed_on for v in first} == {dt.date(2030, 3, 1)}
    # product decisions are current (a clinician can rely on them); an individual use may be
    # overdue on purpose (the overdue-review case studies)
    reviews = [v.record.review_date for v in first
               if v.row.context == "procurement" and v.record.review_date]
    assert reviews and all(r > dt.date(2030, 3, 1) for r in reviews)
    assert service.seed_case_studies(store, pack=pack, today=dt.date(2030, 3, 2)) == []
    assert len(store.latest_ids()) == len(first)


def test_the_uk_date_is_today_on_a_utc_server_after_midnight_in_summer(monkeypatch):
    # 23:30 UTC on 1 July is 00:30 on 2 July in the UK: a date typed on the ward that night is
    # today, not the future.
    class Clock(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime(2026, 7, 1, 23, 30, tzinfo=dt.UTC).astimezone(tz)
    monkeypatch.setattr(dates.dt, "datetime", Clock)
    assert dates.today() == dt.date(2026, 7, 2)

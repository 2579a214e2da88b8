"""The decision page's words, without Streamlit (engine/decide/wording.py through
engine/service/display.py): dates and the review in words, who still has to sign, each condition's
owner and due date, the subject, and "what would change" as its smallest proven step first."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from engine import service
from engine.service.display import (
    change_summary,
    conditions_by_owner,
    day_words,
    next_conditions,
    review_basis_words,
    review_words,
    signoff_words,
    subject_words,
    when_words,
)
from tests.conftest import load_case

TODAY = dt.date(2026, 11, 29)


@pytest.fixture(scope="module")
def records():
    return {name: service.assess(load_case(f"{name}.yaml"), now=dt.datetime(2026, 11, 29, 9, tzinfo=dt.UTC))
            for name in ("vbm-individual-decision", "vbm-ward-wide-default", "holding-power-refuses",
                         "feedback-kiosk", "epr-out-of-scope")}


def test_dates_in_words():
    assert day_words(dt.date(2027, 3, 3)) == "3 March 2027"
    assert when_words(dt.date(2027, 3, 3), TODAY) == "3 March 2027, in 94 days"
    assert when_words(TODAY, TODAY) == "29 November 2026, today"
    assert when_words(dt.date(2026, 11, 30), TODAY) == "30 November 2026, tomorrow"
    assert when_words(dt.date(2026, 11, 17), TODAY) == "17 November 2026, 12 days ago"
    assert review_words(dt.date(2027, 3, 3), TODAY) == "Review by 3 March 2027, in 94 days."
    assert review_words(dt.date(2026, 11, 17), TODAY) == \
        "The review was due on 17 November 2026, 12 days ago: it is overdue."
    assert review_words(None, TODAY) == "No review date is recorded."


def test_where_the_review_date_comes_from_names_the_question_not_the_field():
    questions = {"assurance.cyber_essentials_expires": "Cyber Essentials certificate expiry"}
    assert review_basis_words("assurance.cyber_essentials_expires", questions) == \
        "“Cyber Essentials certificate expiry”"
    assert review_basis_words("assurance.penetration_test_date + 365 days", {}) == \
        "assurance.penetration_test_date + 365 days"  # unknown: left as it is
    assert review_basis_words("365 days after assessment (national-default profile)", questions) == \
        "365 days after assessment (national-default profile)"


def test_who_still_has_to_sign_is_said_by_role_names():
    required = ["panel_chair", "dpo", "clinical_safety_officer"]
    assert signoff_words(required) == ("Not saved yet. Once saved, it needs sign-off by Panel chair, "
                                       "DPO and Clinical safety officer.")
    assert signoff_words([]) == "Not saved yet. The local profile asks for no sign-off."
    view = SimpleNamespace(superseded_by=None, integrity=[], status="awaiting sign-off by dpo",
                           missing_roles=["dpo", "lived_experience_representative"])
    assert signoff_words(required, view) == "Still to sign: DPO and Lived experience representative."
    view.missing_roles = []
    assert signoff_words(required, view).startswith("Approved")
    view.superseded_by = "PRO-1@2"
    assert signoff_words(required, view) == "Superseded by PRO-1@2: act on that record, not this one."


def test_each_condition_has_an_owner_and_a_due_date(records):
    record = records["vbm-individual-decision"]
    conditions = next_conditions(record, TODAY)
    assert [c.rule_id for c in conditions] == [c.rule_id for c in record.conditions]
    assert {c.owner for c in conditions} == {"Clinical safety officer"}  # P7, by the profile
    assert conditions[0].due == "by 29 December 2026, in 30 days"
    # a record from before conditions carried them: the owner suggested by the profile's mapping,
    # due before first use of a product, and by the review for an individual use
    old = record.model_copy(update={"conditions": [
        c.model_copy(update={"owner": None, "due": None}) for c in record.conditions]})
    owners = service.default_pack().profile.condition_owners
    [first, *_] = next_conditions(old, TODAY, owners)
    assert (first.owner, first.due) == ("Clinical safety officer", "before first use")
    assert next_conditions(old, TODAY)[0].owner == ""  # no mapping: no owner invented
    use = old.model_copy(update={"record_type": "individual_use", "review_date": dt.date(2027, 3, 3)})
    assert next_conditions(use, TODAY)[0].due == "by the review, 3 March 2027, in 94 days"


def test_conditions_are_grouped_by_owner_with_the_unowned_last(records):
    conditions = next_conditions(records["vbm-ward-wide-default"], TODAY)
    groups = conditions_by_owner(conditions)
    assert sum(len(g) for _, g in groups) == len(conditions)
    assert len({owner for owner, _ in groups}) == len(groups)
    none = next_conditions(records["vbm-ward-wide-default"].model_copy(update={"conditions": [
        c.model_copy(update={"owner": None}) for c in records["vbm-ward-wide-default"].conditions[:1]]
        + records["vbm-ward-wide-default"].conditions[1:]}), TODAY)
    assert conditions_by_owner(none)[-1][0] == ""


def test_the_subject_comes_first(records):
    heading, lines = subject_words(records["vbm-individual-decision"])
    assert heading == "Contactless bedroom monitor 4.2"
    assert dict(lines)["Decision"] == "Product assessment (procurement)"
    assert dict(lines)["Vendor"] == "Example Vision Ltd"
    assert "Patient reference" not in dict(lines)


def test_what_would_change_leads_with_the_smallest_proven_step(records):
    summary = change_summary(records["vbm-individual-decision"])
    assert summary.headline == ("Smallest proven step: carry out 1 remedy (P7-PRO-006) and the "
                                "outcome becomes Supported.")
    assert len(summary.steps) == 1 and summary.beyond is None
    wide = change_summary(records["vbm-ward-wide-default"])
    assert wide.headline.startswith("Smallest proven step: carry out 5 remedies (")
    assert wide.headline.endswith("and 2 more) and the outcome becomes Insufficient information.")
    assert wide.steps[1][0].startswith("Then 44 more remedies (")  # pack 0.3.0 asks more
    assert wide.steps[1][0].endswith(" take it to Supported with conditions.")
    assert wide.beyond == "Beyond that, no further change could be proven by re-evaluating."
    assert wide.detail is None  # the rules it could not move are not listed


def test_nothing_proven_is_one_sentence_not_a_list(records):
    record = records["vbm-ward-wide-default"].model_copy(update={
        "what_would_change": [],
        "what_would_not_change": "No further change could be proven: carrying out the remedies of "
                                 "DP-PRO-004, P1-PRO-002, P1-PRO-004 did not improve the outcome "
                                 "when re-evaluated."})
    summary = change_summary(record)
    assert summary.steps == [] and summary.beyond is None and summary.detail is None
    assert summary.headline == ("No change of answers could be proven to improve this decision: "
                                "re-evaluated with the remedies of the 3 findings holding it back, "
                                "it did not improve.")


def test_a_finding_no_answer_remedies_is_named_with_its_remedy_behind_it(records):
    summary = change_summary(records["holding-power-refuses"])
    assert summary.headline == ("No change of answers alone can improve it: P2-IND-019 must be dealt "
                                "with as its remedy says.")
    assert summary.detail.startswith("P2-IND-019: Respect the refusal")


def test_a_favourable_or_out_of_scope_decision_has_nothing_to_change(records):
    assert change_summary(records["feedback-kiosk"]).headline == \
        "Nothing needs to change: the decision is as favourable as it can be."
    assert change_summary(records["epr-out-of-scope"]).headline.startswith("Nothing to change here")

"""'What would change this decision': each step is a minimal set of remedies, proven by
re-evaluating the assessment with the remedied answers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine import service
from engine.knowledge.remedies import apply_to_assessment

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2025, 3, 10, 9, 0, tzinfo=dt.UTC)
CASES = sorted((ROOT / "case_studies").glob("*.yaml"))


def evaluate(data):
    return service.evaluate(service.validate_assessment(data), now=NOW)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_every_step_is_proven_and_minimal(path):
    assessment = service.load_assessment(path)
    record = service.assess(assessment, now=NOW)
    if record.outcome in ("supported", "out_of_scope"):
        assert record.what_would_change == []
        return
    assert record.what_would_change or record.what_would_not_change, path.stem
    order = list(service.default_pack().policy.outcome_order)
    data = assessment.model_dump(mode="json", exclude_none=True)
    current = record.outcome
    for step in record.what_would_change:
        assert step.from_outcome == current
        assert order.index(step.to_outcome) > order.index(step.from_outcome)
        answers = {}
        for remedy in step.remedies:
            answers.update(remedy.answers)
        proof = evaluate(apply_to_assessment(data, answers))
        assert proof.outcome == step.to_outcome and proof.record_hash == step.proof_record_hash
        if len(step.remedies) > 1:  # minimal: without any one remedy it no longer improves
            for left_out in step.remedies:
                rest = {}
                for remedy in step.remedies:
                    if remedy is not left_out:
                        rest.update(remedy.answers)
                weaker = evaluate(apply_to_assessment(data, rest))
                assert order.index(weaker.outcome) <= order.index(step.from_outcome), left_out.rule_id
        data = apply_to_assessment(data, answers)
        current = step.to_outcome


def test_a_refusal_is_not_remedied_by_changing_answers():
    # An informal patient with capacity said no: the only way forward is not to use it, so no
    # "remedy" may suggest recording a different answer for the patient.
    record = service.assess(service.load_assessment(ROOT / "case_studies" / "vbm-patient-refuses.yaml"))
    assert record.what_would_change == []
    assert record.what_would_not_change.startswith("P2-IND-019: Respect the refusal")

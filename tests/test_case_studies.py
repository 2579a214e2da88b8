"""Golden case studies: each file declares its expected outcome and what the decision must cite,
read through the `CaseStudy` model (unknown or misspelt fields are refused)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import service
from engine.errors import InputInvalid
from engine.store import Database, Store
from tests.conftest import CASE_STUDIES

ALL_CASE_STUDIES = {  # every one, by name: a case study deleted or renamed fails here
    "ai-score-changes-care", "ai-violence-risk", "autistic-no-accessible-info", "bodycam-picu",
    "camhs-gillick", "detained-refusal-all-elements", "detained-refusal-elements-missing",
    "detained-refusal-s63-only", "epr-out-of-scope", "feedback-kiosk",
    "gillick-child-refuses-parent-consents", "gps-leave-secure", "holding-power-refuses",
    "incapacitous-objects-liberty-unresolved", "lacks-capacity-attorney",
    "lacks-capacity-no-attorney", "mbu-mother", "overdue-review", "relative-without-authority",
    "review-overdue", "staffing-shortfall", "tablets-family-calls", "vbm-adult-consents-night-use",
    "vbm-individual-decision", "vbm-patient-refuses", "vbm-ward-wide-default", "vr-relaxation",
    "womens-service-clear-video", "young-person-agrees-parent-objects",
    # issue 15: clinical safety, data protection rights, equality, policy, training, recording
    "vbm-no-deployment-safety-case", "wearable-unmarked-device", "audio-analysis-cloud-abroad",
    "radar-derived-data-rights", "ai-score-group-differences", "policy-training-gaps",
    "patient-objects-to-data", "override-not-in-care-plan", "review-outcome-not-recorded"}


def test_the_case_studies_are_there():
    """All of them, not a sample: each is then decided against its declaration below."""
    assert {p.stem for p in CASE_STUDIES} == ALL_CASE_STUDIES


@pytest.mark.parametrize("path", CASE_STUDIES, ids=lambda p: p.stem)
def test_case_study_decides_as_declared(path: Path, pack):
    study = service.read_case_study(path)
    expected = study.expected
    # identifiers the pack knows, so a misspelt one fails here instead of never matching
    assert set(expected.must_cite + expected.conditions_under) <= set(pack.catalogue.targets)
    assert set(expected.must_fire) <= set(pack.rules)
    record = service.assess(study.assessment)
    assert record.outcome in expected.outcome, record.outcome_reason
    cited = {t for f in record.findings for t in [*f.principles, *f.areas]}
    assert set(expected.must_cite) <= cited
    assert set(expected.must_fire) <= set(record.trace.rules_fired)
    asked = {q.fact for q in record.open_questions}
    assert set(expected.must_ask) <= asked, "open questions the case study expects"
    for target in expected.conditions_under:
        assert any(target in c.principles + c.areas for c in record.conditions), target
    for finding in record.findings:
        assert finding.finding and finding.remedy and finding.citations
        assert any(c.url for c in finding.citations), finding.rule_id


def test_refusal_is_not_supported_because_of_p2():
    record = service.assess(service.load_assessment(
        Path(__file__).parent.parent / "case_studies" / "vbm-patient-refuses.yaml"))
    p2 = next(v for v in record.verdicts if v.target == "P2")
    assert p2.verdict == "not_met" and "P2-IND-019" in p2.rule_ids
    assert "P2" in record.outcome_reason


def test_individual_use_is_never_better_than_its_product():
    path = Path(__file__).parent.parent / "case_studies" / "vbm-adult-consents-night-use.yaml"
    data = service.read_case_study(path).assessment.model_dump(mode="json", exclude_none=True)
    better = service.assess(service.validate_assessment(
        {**data, "product": {**data["product"], "outcome": "supported"}}))
    same = service.assess(service.validate_assessment(data))
    worse = service.assess(service.validate_assessment(
        {**data, "product": {**data["product"], "outcome": "not_supported"}}))
    assert (better.outcome, same.outcome, worse.outcome) == (
        "supported", "supported_with_conditions", "not_supported")


def test_the_library_lists_every_file_by_context():
    every = service.case_studies()
    assert sorted(every) == [p.stem for p in CASE_STUDIES]
    procurement, individual = service.case_studies("procurement"), service.case_studies("individual_use")
    assert sorted([*procurement, *individual]) == sorted(every)
    assert all(s.assessment.context == "procurement" for s in procurement.values())
    assert procurement and individual


def test_a_misspelt_key_is_refused_naming_the_file_and_field(tmp_path):
    text = CASE_STUDIES[0].read_text(encoding="utf-8").replace("  must_cite:", "  must_cit:", 1)
    assert "must_cit:" in text
    bad = tmp_path / "misspelt.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputInvalid) as refused:
        service.read_case_study(bad)
    (problem,) = refused.value.problems
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "must_cit:" in t)
    assert (problem.file, problem.line) == (str(bad), line)
    assert problem.message == "expected.must_cit: unknown field (not part of the model)"
    assert "misspelt.yaml" in str(refused.value)
    # seeding reads the library the same way: nothing half-seeded from a folder with a bad file
    (tmp_path / "a-good-one.yaml").write_text(CASE_STUDIES[0].read_text(encoding="utf-8"))
    store = Store(Database(f"sqlite:///{tmp_path / 'seeded.sqlite'}"))
    with pytest.raises(InputInvalid, match="misspelt.yaml"):
        service.seed_case_studies(store, folder=tmp_path)
    assert store.count() == 0
    store.db.dispose()


def test_an_unknown_top_level_field_or_outcome_is_refused(tmp_path):
    bad = tmp_path / "extra.yaml"
    bad.write_text(CASE_STUDIES[0].read_text(encoding="utf-8")
                   + "notes: a field the model does not have\n", encoding="utf-8")
    with pytest.raises(InputInvalid, match="notes: unknown field"):
        service.read_case_study(bad)
    bad.write_text("expected:\n  outcome: approved\nassessment:\n  context: procurement\n"
                   "  technology: {name: X, category: other}\n", encoding="utf-8")
    with pytest.raises(InputInvalid) as refused:
        service.read_case_study(bad)
    assert [p.line for p in refused.value.problems] == [2]
    assert "expected.outcome" in str(refused.value)

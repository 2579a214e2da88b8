"""Remedies never change the facts of the case (issue 10, item 8): what the product is, who the
patient is, what they or a parent said, the product decision. `dtpa rules check` refuses a rule
whose remedy would, and "what would change this decision" never proposes or applies one."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from typing import Any

import pytest

from engine import service
from engine.decide import whatif
from engine.facts.schema import fact_specs
from engine.knowledge.pack import load_pack
from engine.knowledge.remedies import first_passing, fix_of, fixed_paths
from engine.knowledge.remedy_checks import remedy_problems

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2025, 3, 10, 9, 0, tzinfo=dt.UTC)
CASES = sorted((ROOT / "case_studies").glob("*.yaml"))

RULES = """\
rules:
  - id: P4-IND-901
    title: A test rule whose fix sets the patient's capacity
    principles: [P4]
    context: individual_use
    when:
      is_false: decision.withdrawal_explained
    severity: condition
    finding: The test finding sentence is long enough.
    remedy: The test remedy sentence is long enough.
    citations:
      - {ref: mca-2005, section: "s4(4) participation"}
    basis: statute
    fix:
      decision.withdrawal_explained: true
      capacity.status: has_capacity
      alternatives.without_why_not_enough: 0
    cases:
      - {facts: {decision.withdrawal_explained: false}, expect: fires}
      - {facts: {decision.withdrawal_explained: true}, expect: passes}
  - id: P4-IND-902
    title: A test rule whose passing case is another patient
    principles: [P4]
    context: individual_use
    when:
      all:
        - equals: {fact: decision.patient_response, value: refuses}
        - is_false: decision.withdrawal_explained
    severity: condition
    finding: The test finding sentence is long enough.
    remedy: The test remedy sentence is long enough.
    citations:
      - {ref: mca-2005, section: "s4(4) participation"}
    basis: statute
    cases:
      - {facts: {decision.patient_response: refuses, decision.withdrawal_explained: false}, expect: fires}
      - {facts: {decision.patient_response: agrees, decision.withdrawal_explained: false}, expect: passes}
  - id: P4-IND-903
    title: A test rule whose passing case keeps the patient as they are
    principles: [P4]
    context: individual_use
    when:
      all:
        - equals: {fact: patient.age_band, value: adult}
        - is_false: decision.withdrawal_explained
    severity: condition
    finding: The test finding sentence is long enough.
    remedy: The test remedy sentence is long enough.
    citations:
      - {ref: mca-2005, section: "s4(4) participation"}
    basis: statute
    cases:
      - {facts: {patient.age_band: adult, decision.withdrawal_explained: false}, expect: fires}
      - facts: {patient.age_band: adult, decision.withdrawal_explained: true, assessed_on: "2025-03-01"}
        expect: passes
"""


@pytest.fixture
def test_pack(pack_copy):
    rules, principles = pack_copy
    (rules / "zz_test.yaml").write_text(textwrap.dedent(RULES))
    return load_pack(rules, principles)  # loads: the check is `rules check`'s, not a load error


def _mine(pack) -> list[str]:
    return [p for p in remedy_problems(pack) if "zz_test.yaml" in p]


def test_a_fix_that_sets_a_fact_of_the_case_is_refused(test_pack):
    problems = _mine(test_pack)
    assert any(p.endswith("zz_test.yaml:16 P4-IND-901: fix changes capacity.status, a fact of the "
                          "case: propose an action in the remedy and use `fix: {}`") for p in problems)
    assert any("zz_test.yaml:17 P4-IND-901: fix changes alternatives.without_why_not_enough, a "
               "derived fact" in p for p in problems)
    assert not any("decision.withdrawal_explained" in p for p in problems)


def test_a_passing_case_that_is_another_case_is_refused(test_pack):
    problems = _mine(test_pack)
    assert any("zz_test.yaml:37 P4-IND-902: its first passing case passes only because "
               "decision.patient_response is different: add a `fix:`" in p for p in problems)
    assert not any("P4-IND-903" in p for p in problems)  # same patient: only the action differs
    assert len(problems) == 3


def test_the_rules_check_command_reports_it(test_pack, pack_copy, monkeypatch):
    from typer.testing import CliRunner

    from engine.cli import app

    monkeypatch.setenv("DTPA_RULES_DIR", str(pack_copy[0]))
    monkeypatch.setenv("DTPA_PRINCIPLES_DIR", str(pack_copy[1]))
    result = CliRunner().invoke(app, ["rules", "check"])
    assert result.exit_code == 2
    assert "P4-IND-902: its first passing case passes only because" in result.stderr


def test_fix_of_leaves_out_the_facts_of_the_case(test_pack):
    # The passing case's patient and date are its setting; only the action is the remedy.
    assert fix_of(test_pack.rules["P4-IND-903"]) == {"decision.withdrawal_explained": True}
    assert fix_of(test_pack.rules["P4-IND-902"]) == {"decision.withdrawal_explained": False}
    assert fix_of(test_pack.rules["P4-IND-901"]) == {"decision.withdrawal_explained": True}


def test_no_rule_of_the_pack_has_a_remedy_that_changes_a_fact_of_the_case():
    assert remedy_problems(service.default_pack()) == []


def test_no_remedy_of_the_pack_sets_a_fact_of_the_case():
    pack = service.default_pack()
    for rid, loaded in pack.rules.items():
        assert not set(fix_of(loaded)) & fixed_paths(loaded.rule.context), rid


def _facts_of_case(data: dict[str, Any]) -> dict[str, Any]:
    def get(path: str) -> Any:
        node: Any = data
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return node

    specs = fact_specs(data["context"])
    return {p: get(p) for p, s in specs.items() if s.fact_of_case and s.asked}


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_what_would_change_proposes_no_fact_of_the_case(path):
    record = service.assess(service.load_assessment(path), now=NOW)
    fixed = fixed_paths(["procurement", "individual_use"])
    for step in record.what_would_change:
        for remedy in step.remedies:
            assert not set(remedy.answers) & fixed, (remedy.rule_id, remedy.answers)


def _leaky_fix_of(loaded):
    # Remedies as they were before item 8: the `fix:` or the whole first passing case.
    return dict(loaded.rule.fix if loaded.rule.fix is not None else first_passing(loaded.rule))


@pytest.mark.parametrize("leaky", [False, True], ids=["rules", "leaky-remedies"])
@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_reevaluated_assessments_keep_the_facts_of_the_case(path, leaky, monkeypatch):
    # Every assessment "what would change" re-evaluates keeps the original's facts of the case,
    # even when a rule's remedy would set one (whatif guards it itself, not only fix_of).
    if leaky:
        monkeypatch.setattr(whatif, "fix_of", _leaky_fix_of)
    pack = service.default_pack()
    assessment = service.load_assessment(path)
    data = assessment.model_dump(mode="json", exclude_none=True)
    record = service.evaluate(assessment, pack, NOW)
    tried: list[dict[str, Any]] = []

    def evaluate(trial: dict[str, Any]):
        tried.append(trial)
        return service.evaluate(service.validate_assessment(trial), pack, NOW)

    steps, _ = whatif.what_would_change(data, record, pack, evaluate)
    original = _facts_of_case(data)
    for trial in tried:
        assert _facts_of_case(trial) == original
    fixed = fixed_paths([data["context"]])
    for step in steps:
        for remedy in step.remedies:
            assert not set(remedy.answers) & fixed, (remedy.rule_id, remedy.answers)

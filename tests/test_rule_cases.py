"""Every rule's own case table, run through durable_rules (one test per case)."""

from __future__ import annotations

import pytest

from engine.knowledge.conventions import case_fact
from engine.knowledge.coverage import coverage_gaps
from engine.knowledge.lock import lock_problem
from engine.knowledge.pack import load_pack
from engine.runtime.cases import run_rule_cases
from engine.runtime.programs import engine, program_for

PACK = load_pack()
RESULTS = run_rule_cases(PACK)


def test_cases_were_found():
    assert len(PACK.rules) >= 50
    assert len(RESULTS) >= 2 * len(PACK.rules)


@pytest.mark.parametrize("result", RESULTS, ids=lambda r: f"{r.rule_id}:{r.case}:{r.context}")
def test_rule_case(result):
    assert result.actual == result.expected


def test_every_rule_has_a_firing_and_a_quiet_case():
    for rid, loaded in PACK.rules.items():
        expects = {c.expect for c in loaded.rule.cases}
        assert "fires" in expects, rid
        assert expects - {"fires"}, rid


def test_every_principle_and_area_is_covered_in_both_contexts():
    assert coverage_gaps(PACK) == []


def test_a_wrong_expectation_is_caught(pack_copy):
    # The case runner must be able to fail: flip one case and see it reported.
    rules, principles = pack_copy
    path = rules / "dp_data_protection.yaml"
    text = path.read_text()
    assert text.count("- {facts: {}, expect: open_question}") == 1
    path.write_text(text.replace("- {facts: {}, expect: open_question}", "- {facts: {}, expect: passes}"))
    results = run_rule_cases(load_pack(rules, principles))
    bad = [r for r in results if not r.ok]
    assert [(r.rule_id, r.expected, r.actual) for r in bad] == [("DP-PRO-001", "passes", "open_question")]


def _fix_cases():
    from engine.knowledge.remedies import fix_of

    for rid, loaded in sorted(PACK.rules.items()):
        if loaded.rule.fix == {}:
            continue  # no change of answers remedies it: see the test below
        for case in loaded.rule.cases:
            if case.expect == "fires":
                yield rid, loaded, case, fix_of(loaded)


@pytest.mark.parametrize("rid, loaded, case, fix", list(_fix_cases()),
                         ids=lambda x: x if isinstance(x, str) else "")
def test_each_rules_remedy_stops_it_firing(rid, loaded, case, fix):
    from engine.knowledge.remedies import apply_to_answers

    assert fix, f"{rid} has no fix and no passing case"
    for ctx in ([case.context] if case.context else loaded.rule.context):
        fact = case_fact(ctx, apply_to_answers(case.facts, fix))
        raw = engine().evaluate(program_for(PACK, ctx), fact)
        assert rid not in raw.fired and rid not in raw.unknown, (rid, ctx)


def test_a_refusal_is_remedied_by_no_change_of_answers():
    # `fix: {}` is for findings whose only remedy is an action still to take (respect the refusal
    # of an informal patient with capacity, ask the patient, have the product decision reviewed):
    # the facts of the case those rules read are not answers a remedy may choose.
    assert PACK.rules["P2-IND-019"].rule.fix == {}


CONTEXT_FACTS = ("technology.", "service.", "patient.", "assessed_on")


def test_no_remedy_changes_what_the_product_the_service_or_the_patient_is():
    # A remedy changes what staff do or record, never the facts of the case: a default fix taken
    # from a passing case that only passes because the product or patient differ is refused.
    # ("What would change this decision" uses the remedies of blocker and condition rules.)
    from engine.knowledge.remedies import fix_of

    bad = {rid: sorted(p for p in fix_of(loaded) if p.startswith(CONTEXT_FACTS))
           for rid, loaded in PACK.rules.items() if loaded.rule.severity in ("blocker", "condition")}
    assert {rid: paths for rid, paths in bad.items() if paths} == {}


def test_the_rule_pack_version_follows_its_content():
    # A change to rules, policy or catalogue changes decisions: it needs a new version (and a
    # CHANGELOG entry) before `dtpa rules lock` records it.
    assert lock_problem(PACK) is None


def test_a_change_without_a_version_bump_is_caught(pack_copy):
    rules, principles = pack_copy
    path = rules / "p6_safety.yaml"
    path.write_text(path.read_text().replace("severity: condition", "severity: advisory", 1))
    assert "its version is still" in lock_problem(load_pack(rules, principles), rules)

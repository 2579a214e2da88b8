"""Every rule's own case table, run through durable_rules (one test per case)."""

from __future__ import annotations

import pytest

from engine.pack import load_pack
from engine.ruletests import coverage_gaps, run_rule_cases

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

"""Broken rule files are refused with `file:line rule-id: message`, all problems at once."""

from __future__ import annotations

import textwrap

import pytest

from engine.errors import RulesInvalid
from engine.knowledge.pack import load_pack

GOOD = """\
rules:
  - id: P3-PRO-901
    title: A test rule that reads one yes/no answer
    principles: [P3]
    context: procurement
    when:
      is_false: equity.declining_does_not_reduce_care
    severity: condition
    finding: The test finding sentence is long enough.
    remedy: The test remedy sentence is long enough.
    citations:
      - {ref: equality-act-2010, section: s149}
    basis: statute
    cases:
      - {facts: {equity.declining_does_not_reduce_care: false}, expect: fires}
      - {facts: {equity.declining_does_not_reduce_care: true}, expect: passes}
"""


def load_with(pack_copy, text: str, name: str = "zz_test.yaml"):
    rules, principles = pack_copy
    (rules / name).write_text(textwrap.dedent(text))
    return load_pack(rules, principles)


def errors_for(pack_copy, text: str, name: str = "zz_test.yaml") -> str:
    with pytest.raises(RulesInvalid) as err:
        load_with(pack_copy, text, name)
    return str(err.value)


def test_a_good_rule_file_loads(pack_copy):
    pack = load_with(pack_copy, GOOD)
    assert "P3-PRO-901" in pack.rules
    assert pack.rules["P3-PRO-901"].line == 2


def test_unknown_operator(pack_copy):
    msg = errors_for(pack_copy, GOOD.replace("is_false: equity.declining_does_not_reduce_care",
                                             "in: {fact: equity.declining_does_not_reduce_care}"))
    assert "zz_test.yaml:7 P3-PRO-901: condition (procurement): unknown operator 'in'" in msg


def test_duplicate_id(pack_copy):
    msg = errors_for(pack_copy, GOOD + GOOD.split("rules:\n", 1)[1])
    assert "zz_test.yaml:17 P3-PRO-901: duplicate rule id (first defined at" in msg


def test_missing_citation(pack_copy):
    text = GOOD.replace("    citations:\n      - {ref: equality-act-2010, section: s149}\n", "")
    msg = errors_for(pack_copy, text)
    assert "zz_test.yaml:2 P3-PRO-901: citations: Field required" in msg


def test_citation_of_a_principle_only_is_not_enough(pack_copy):
    msg = errors_for(pack_copy, GOOD.replace("{ref: equality-act-2010, section: s149}", "{ref: P3}"))
    assert "P3-PRO-901: needs at least one citation of an external source" in msg


def test_unknown_principle(pack_copy):
    msg = errors_for(pack_copy, GOOD.replace("principles: [P3]", "principles: [P3, P9]"))
    assert "zz_test.yaml:4 P3-PRO-901: principles: 'P9' is not a principle in the catalogue" in msg


def test_unknown_fact_suggests_the_right_one(pack_copy):
    msg = errors_for(pack_copy, GOOD.replace("is_false: equity.declining_does_not_reduce_care",
                                             "is_false: declining_does_not_reduce_care"))
    assert "unknown fact 'declining_does_not_reduce_care'" in msg
    assert "did you mean equity.declining_does_not_reduce_care?" in msg


def test_value_outside_the_vocabulary(pack_copy):
    text = GOOD.replace("is_false: equity.declining_does_not_reduce_care",
                        "equals: {fact: deployment.activation, value: sometimes}")
    msg = errors_for(pack_copy, text)
    assert "'sometimes' is not an answer to deployment.activation" in msg


def test_predicate_that_does_not_suit_the_answer(pack_copy):
    text = GOOD.replace("is_false: equity.declining_does_not_reduce_care",
                        "greater_than: {fact: deployment.activation, value: 3}")
    assert "`greater_than` needs a number; deployment.activation is enum" in errors_for(pack_copy, text)


def test_unknown_profile_parameter(pack_copy):
    text = GOOD.replace("is_false: equity.declining_does_not_reduce_care",
                        "greater_than: {fact: data_protection.video_retention_hours, value: {param: nope}}")
    assert "unknown profile parameter 'nope'" in errors_for(pack_copy, text)


def test_cases_must_fire_and_not_fire(pack_copy):
    text = GOOD.replace("      - {facts: {equity.declining_does_not_reduce_care: true}, expect: passes}",
                        "      - {facts: {equity.declining_does_not_reduce_care: false}, expect: fires}")
    assert "cases need at least one that fires and one that does not" in errors_for(pack_copy, text)


def test_case_with_unknown_fact(pack_copy):
    text = GOOD.replace("{facts: {equity.declining_does_not_reduce_care: true}",
                        "{facts: {equity.nothing: true}")
    assert "unknown fact 'equity.nothing'" in errors_for(pack_copy, text)


def test_id_must_match_principle_and_context(pack_copy):
    msg = errors_for(pack_copy, GOOD.replace("P3-PRO-901", "P4-IND-901"))
    assert "id prefix P4 must be one of the rule's principles or areas" in msg
    assert "id says IND but context is procurement" in msg


def test_duplicate_yaml_key_is_refused(pack_copy):
    text = GOOD.replace("    severity: condition\n", "    severity: condition\n    severity: blocker\n")
    assert "zz_test.yaml:9: not valid YAML: duplicate key 'severity' (first at line 8)" in \
        errors_for(pack_copy, text)


def test_tabs_are_refused_with_a_line(pack_copy):
    msg = errors_for(pack_copy, GOOD.replace("    severity: condition", "\tseverity: condition"))
    assert "zz_test.yaml:8: not valid YAML" in msg


def test_all_problems_are_reported_together(pack_copy):
    text = GOOD.replace("principles: [P3]", "principles: [P9]") + GOOD.split("rules:\n", 1)[1] \
        .replace("P3-PRO-901", "P3-PRO-902").replace("is_false:", "bogus:")
    msg = errors_for(pack_copy, text)
    assert "P3-PRO-901" in msg and "P3-PRO-902" in msg


def test_a_retired_id_cannot_be_reused(pack_copy):
    text = GOOD + GOOD.split("rules:\n", 1)[1].replace("P3-PRO-901", "P3-PRO-902").replace(
        "    basis: statute\n", "    basis: statute\n    replaces: [P3-PRO-901]\n")
    assert "P3-PRO-901: id was retired by P3-PRO-902" in errors_for(pack_copy, text)


def test_yaml_11_booleans_stay_words(pack_copy):
    # `on:` in the decision policy would be True under YAML 1.1; the loader keeps it a key.
    rules, principles = pack_copy
    pack = load_pack(rules, principles)
    assert {p.rule.on for p in pack.policy_rules} >= {"finding", "verdict", "assessment"}


def test_broken_policy_is_reported(pack_copy):
    rules, principles = pack_copy
    path = rules / "decision_policy.yaml"
    path.write_text(path.read_text().replace("outcome: not_supported", "outcome: maybe"))
    with pytest.raises(RulesInvalid) as err:
        load_pack(rules, principles)
    assert "decision_policy.yaml:" in str(err.value) and "outcome" in str(err.value)

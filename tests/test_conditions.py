"""The condition compiler: its JSON output, and a differential test of its three-valued logic
against a plain-Python reading of the same conditions on generated answers."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.facts.conditions import Composite, ConditionError, Predicate, compile_node, parse
from engine.facts.schema import NA_PREFIX, fact_specs
from engine.knowledge.pack import case_fact, load_pack
from engine.runtime.programs import engine, program_for

PACK = load_pack()
SPECS = fact_specs("procurement")
NA = {"not_applicable": "does not apply here"}


def test_each_predicate_compiles_to_one_durable_operator():
    c = compile_node(parse({"equals": {"fact": "deployment.activation", "value": "opt_out"}}, SPECS, {}))
    assert c.holds == {"deployment.activation": "opt_out"}
    assert c.fails == {"$neq": {"deployment.activation": "opt_out"}}
    assert c.unknown == {"$and": [{"$nex": {"deployment.activation": 1}},
                                  {"$nex": {"na.deployment.activation": 1}}]}
    c = compile_node(parse({"greater_than": {"fact": "data_protection.video_retention_hours",
                                             "value": {"param": "max"}}}, SPECS, {"max": 72}))
    assert c.holds == {"$gt": {"data_protection.video_retention_hours": 72}}
    c = compile_node(parse({"contains": {"fact": "technology.functions", "value": "audio"}}, SPECS, {}))
    assert c.holds == {"technology.functions.audio": True}
    assert c.fails == {"technology.functions.audio": False}


def test_not_swaps_holds_and_fails_but_keeps_unknown():
    inner = compile_node(parse({"is_true": "deployment.covert_use_possible"}, SPECS, {}))
    negated = compile_node(parse({"not": {"is_true": "deployment.covert_use_possible"}}, SPECS, {}))
    assert (negated.holds, negated.fails, negated.unknown) == (inner.fails, inner.holds, inner.unknown)


def test_date_offsets_use_durable_arithmetic():
    specs = fact_specs("individual_use")
    c = compile_node(parse({"after": {"fact": "review.review_date", "than": "proposed_use.start",
                                      "plus_days": 28}}, specs, {}))
    assert c.holds == {"$and": [
        {"$ex": {"proposed_use.start": 1}},
        {"$gt": {"review.review_date": {"$add": {"$l": {"$m": "proposed_use.start"}, "$r": 28}}}}]}


@pytest.mark.parametrize("raw, message", [
    ({"in": {}}, "unknown operator 'in'"),
    ({"equals": {"fact": "x.y", "value": 1}}, "unknown fact 'x.y'"),
    ({"all": []}, "`all` takes a non-empty list"),
    ({"equals": {"fact": "deployment.activation"}}, "needs `values:`"),
    ({"before": {"fact": "data_protection.dpia_review_due", "value": "2025-13-01"}}, "not an ISO date"),
    ({"is_true": "deployment.activation"}, "`is_true` needs a yes/no question"),
    ({"equals": {"fact": "deployment.activation", "value": "x"}, "any": []}, "exactly one operator"),
])
def test_malformed_conditions_say_what_is_wrong(raw, message):
    with pytest.raises(ConditionError) as err:
        parse(raw, SPECS, {})
    assert message in str(err.value)


# --- differential test ------------------------------------------------------------------------

DATES = ["2024-06-01", "2025-03-01", "2025-03-10", "2025-04-01", "2026-01-01"]


def answer_strategy(spec):
    """Hypothesis strategy for one answer of the given kind (sometimes "not applicable")."""
    value = {
        "bool": st.booleans(),
        "enum": st.sampled_from(spec.members),
        "enum_list": st.lists(st.sampled_from(spec.members), unique=True, max_size=4),
        "int": st.integers(min_value=0, max_value=200),
        "date": st.sampled_from(DATES),
        "text": st.sampled_from(["Recorded reason", "x"]),
        "count": st.lists(st.just({"option": "o"}), max_size=2),
    }[spec.kind]
    return st.one_of(value, st.just(NA)) if spec.allows_na else value


def assessments(context):
    """Generated answers to every question the context's rules read, each possibly unanswered."""
    specs = fact_specs(context)
    paths = sorted({f for r in PACK.rules_for(context) for f in r.facts(context)}
                   - {"technology.category"})
    return st.fixed_dictionaries(
        {}, optional={p: answer_strategy(specs[p]) for p in paths})


def answer_of(answers, path):
    return answers.get(path)


def ref_eval(node, answers) -> str:
    """Plain-Python reading: T holds, F fails, U needs an unanswered question, N not applicable."""
    if isinstance(node, Composite):
        vals = [ref_eval(c, answers) for c in node.children]
        if node.op == "not":
            return {"T": "F", "F": "T"}.get(vals[0], vals[0])
        if node.op == "all":
            if "F" in vals:
                return "F"
            if all(v == "T" for v in vals):
                return "T"
            return "U" if all(v in "TU" for v in vals) else "N"
        if "T" in vals:
            return "T"
        if all(v == "F" for v in vals):
            return "F"
        return "U" if all(v in "FU" for v in vals) else "N"
    assert isinstance(node, Predicate)
    value = answer_of(answers, node.fact)
    if node.op in ("present", "missing"):
        answered = value is not None
        return "T" if answered == (node.op == "present") else "F"
    other = answer_of(answers, node.than.path) if node.than else 0
    if value is None or other is None:
        return "U"
    if value == NA or other == NA:
        return "N"
    op, vals = node.op, node.values
    if node.than is not None or op in ("before", "after"):
        day = dt.date.fromisoformat(value).toordinal() - dt.date(1970, 1, 1).toordinal()
        base = (dt.date.fromisoformat(other).toordinal() - dt.date(1970, 1, 1).toordinal()
                + node.plus_days) if node.than else vals[0]
        ok = day < base if op == "before" else day > base
    elif op in ("is_true", "is_false"):
        ok = value is (op == "is_true")
    elif op == "equals":
        ok = value == vals[0]
    elif op == "not_equals":
        ok = value != vals[0]
    elif op == "one_of":
        ok = value in vals
    elif op in ("contains", "contains_any"):
        ok = any(v in value for v in vals)
    else:
        n = len(value) if isinstance(value, list) else value
        ok = {"greater_than": n > vals[0], "less_than": n < vals[0],
              "at_least": n >= vals[0], "at_most": n <= vals[0]}[op]
    return "T" if ok else "F"


def _agrees(context, answers):
    raw = engine().evaluate(program_for(PACK, context), case_fact(context, answers))
    for loaded in PACK.rules_for(context):
        expected = ref_eval(loaded.nodes[context], answers)
        got = ("T" if loaded.rule.id in raw.fired else "U" if loaded.rule.id in raw.unknown
               else expected if expected in "FN" else "F/N")
        assert got == expected, (loaded.rule.id, answers)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(answers=assessments("procurement"))
def test_durable_rules_agrees_with_a_plain_python_reading_procurement(answers):
    _agrees("procurement", answers)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(answers=assessments("individual_use"))
def test_durable_rules_agrees_with_a_plain_python_reading_individual(answers):
    _agrees("individual_use", answers)


def test_not_applicable_answers_are_kept_out_of_the_fact():
    fact = case_fact("procurement", {"data_protection.video_retention_hours": NA})
    assert fact == {"kind": "procurement", NA_PREFIX + "data_protection.video_retention_hours": True}


def test_wide_conditions_are_split_to_fit_durable_rules_expression_slots():
    from engine.facts.conditions import MAX_EXPRESSION_SLOTS, expression_slots, split_for_durable
    from engine.runtime.compiler import guarded

    members = list(SPECS["technology.functions"].members)
    raw = {"all": [{"contains_any": {"fact": "technology.functions", "values": members}},
                   {"not": {"all": [{"contains": {"fact": "outcomes.measures", "value": m}}
                                    for m in SPECS["outcomes.measures"].members]}}]}
    unknown = compile_node(parse(raw, SPECS, {})).unknown
    whole = guarded("procurement", unknown)
    assert expression_slots(whole) > MAX_EXPRESSION_SLOTS
    parts = split_for_durable(whole)
    assert len(parts) > 1
    assert all(expression_slots(p) <= MAX_EXPRESSION_SLOTS for p in parts)
    assert all(p["$and"][0] == {"kind": "procurement"} for p in parts)


def test_a_condition_that_cannot_be_split_is_refused():
    from engine.facts.conditions import split_for_durable

    too_many = {"$and": [{"kind": "individual_use"}] + [
        {"$lt": {f"d{i}": {"$m": "assessed_on"}}} for i in range(40)]}
    with pytest.raises(ConditionError, match="cannot be split"):
        split_for_durable(too_many)

"""The condition compiler: its JSON output, and a differential test of its three-valued logic
against a plain-Python reading of the same conditions on generated answers."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from engine.conditions import Composite, ConditionError, Predicate, compile_node, parse
from engine.facts import NA_PREFIX, fact_specs
from engine.pack import case_fact, load_pack
from engine.service import engine, program_for

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


def random_answer(spec, rng: random.Random):
    roll = rng.random()
    if roll < 0.25:
        return None
    if roll < 0.35 and spec.allows_na:
        return NA
    return {
        "bool": lambda: rng.random() < 0.5,
        "enum": lambda: rng.choice(spec.members),
        "enum_list": lambda: rng.sample(spec.members, rng.randint(0, min(3, len(spec.members)))),
        "int": lambda: rng.randint(0, 200),
        "date": lambda: rng.choice(DATES),
        "text": lambda: rng.choice(["Recorded reason", "x"]),
        "count": lambda: [{"option": "o"}] * rng.randint(0, 2),
    }[spec.kind]()


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


@pytest.mark.parametrize("context", ["procurement", "individual_use"])
def test_durable_rules_agrees_with_a_plain_python_reading(context):
    rng = random.Random(20250207)
    specs = fact_specs(context)
    rules = PACK.rules_for(context)
    paths = sorted({f for r in rules for f in r.facts(context)})
    program = program_for(PACK, context)
    checked = {"T": 0, "U": 0, "F": 0, "N": 0}
    for _ in range(300):
        answers = {p: a for p in paths if (a := random_answer(specs[p], rng)) is not None}
        if "technology.category" in answers and answers["technology.category"] == NA:
            del answers["technology.category"]
        raw = engine().evaluate(program, case_fact(context, answers))
        for loaded in rules:
            expected = ref_eval(loaded.nodes[context], answers)
            checked[expected] += 1
            got = ("T" if loaded.rule.id in raw.fired else "U" if loaded.rule.id in raw.unknown
                   else expected if expected in "FN" else "F/N")
            assert got == expected, (loaded.rule.id, answers)
    assert all(checked.values()), checked  # every kind of result was exercised


def test_not_applicable_answers_are_kept_out_of_the_fact():
    fact = case_fact("procurement", {"data_protection.video_retention_hours": NA})
    assert fact == {"kind": "procurement", NA_PREFIX + "data_protection.video_retention_hours": True}


def test_wide_conditions_are_split_to_fit_durable_rules_expression_slots():
    from engine.compiler import guarded
    from engine.conditions import MAX_EXPRESSION_SLOTS, expression_slots, split_for_durable

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
    from engine.conditions import split_for_durable

    too_many = {"$and": [{"kind": "individual_use"}] + [
        {"$lt": {f"d{i}": {"$m": "assessed_on"}}} for i in range(40)]}
    with pytest.raises(ConditionError, match="cannot be split"):
        split_for_durable(too_many)

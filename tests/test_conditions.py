"""The condition compiler: its JSON output, and a differential test of its three-valued logic
against a plain-Python reading of the same conditions on generated answers."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from engine.facts.conditions import Composite, ConditionError, Predicate, compile_node, parse
from engine.facts.schema import NA_PREFIX, fact_specs
from engine.knowledge.pack import RulePack, case_fact, load_pack
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


_NEGATED: dict[str, RulePack] = {}


def negated(pack: RulePack) -> RulePack:
    """The same pack with every rule's condition wrapped in `not`. Compiling `not` swaps holds and
    fails, so this pack's findings are the rules whose condition *fails*: durable_rules itself then
    reports all three values, instead of "fails" being inferred from "neither fired nor unknown"."""
    if pack.hash not in _NEGATED:
        rules = {rid: dataclasses.replace(lr, nodes={c: Composite("not", (n,))
                                                     for c, n in lr.nodes.items()})
                 for rid, lr in pack.rules.items()}
        _NEGATED[pack.hash] = dataclasses.replace(pack, rules=rules, policy_rules=[],
                                                  hash=f"not-{pack.hash}")
    return _NEGATED[pack.hash]


def engine_reading(pack: RulePack, context: str, answers: dict) -> dict[str, str]:
    """durable_rules' value for each rule: T the rule fired, U it is an open question, F its negation
    fired, N none of them (not applicable). Two at once (a contradiction) reads as both, e.g. "TF";
    "!" is added when the rule and its negation disagree on whether it is unknown."""
    fact = case_fact(context, answers)
    raw = engine().evaluate(program_for(pack, context), fact)
    neg = engine().evaluate(program_for(negated(pack), context), fact)
    out = {}
    for loaded in pack.rules_for(context):
        rid = loaded.rule.id
        hits = (("T", rid in raw.fired), ("U", rid in raw.unknown), ("F", rid in neg.fired))
        out[rid] = ("".join(v for v, hit in hits if hit) or "N") + (
            "!" if (rid in raw.unknown) != (rid in neg.unknown) else "")
    return out


def disagreements(context: str, answers: dict, reader=None, pack: RulePack = PACK) -> list:
    """(rule, plain-Python value, durable_rules value) for every rule where the two differ."""
    reader = reader or ref_eval
    got = engine_reading(pack, context, answers)
    return [(rid, want, got[rid]) for rid, want in
            ((lr.rule.id, reader(lr.nodes[context], answers)) for lr in pack.rules_for(context))
            if got[rid] != want]


def _agrees(context, answers):
    assert disagreements(context, answers) == [], answers


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(answers=assessments("procurement"))
def test_durable_rules_agrees_with_a_plain_python_reading_procurement(answers):
    _agrees("procurement", answers)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(answers=assessments("individual_use"))
def test_durable_rules_agrees_with_a_plain_python_reading_individual(answers):
    _agrees("individual_use", answers)


# The comparison can fail: a wrong plain-Python reading, or a wrong compiled operator, is caught.

SEARCH = settings(max_examples=300, deadline=None, derandomize=True, database=None)


def _counterexample(context, **kwargs) -> list:
    answers = find(assessments(context), lambda a: bool(disagreements(context, a, **kwargs)),
                   settings=SEARCH)
    return disagreements(context, answers, **kwargs)


def test_the_comparison_catches_a_reader_that_takes_fails_for_not_applicable():
    """The old comparison copied the expected value whenever nothing fired: this reader passed it."""
    def mistaken(node, answers):
        value = ref_eval(node, answers)
        return "N" if value == "F" else value

    found = _counterexample("procurement", reader=mistaken)
    assert found and {(want, got) for _, want, got in found} == {("N", "F")}


def test_the_comparison_catches_a_reader_that_takes_not_applicable_for_fails():
    def mistaken(node, answers):
        value = ref_eval(node, answers)
        return "F" if value == "N" else value

    found = _counterexample("individual_use", reader=mistaken)
    assert found and {(want, got) for _, want, got in found} == {("F", "N")}


def test_the_comparison_catches_a_miscompiled_operator(monkeypatch):
    """`one_of` failing when *any* value differs (instead of every value) is a classic slip; the
    compiled pack with that slip disagrees with the plain-Python reading."""
    import engine.facts.conditions as conditions

    right = conditions._compile_predicate

    def slipped(p):
        c = right(p)
        if p.op != "one_of":
            return c
        return conditions.Compiled(c.holds, conditions.or_(*({"$neq": {p.fact: v}} for v in p.values)),
                                   c.unknown)

    monkeypatch.setattr(conditions, "_compile_predicate", slipped)
    mutant = dataclasses.replace(PACK, rules={rid: dataclasses.replace(lr)
                                              for rid, lr in PACK.rules.items()},
                                 hash=f"one-of-slip-{PACK.hash}")  # recompiled, own ruleset
    found = _counterexample("procurement", pack=mutant)

    def ops(node):
        return {node.op} | (set().union(*map(ops, node.children)) if isinstance(node, Composite)
                            else set())

    uses_one_of = {rid for rid, lr in PACK.rules.items()
                   if "procurement" in lr.nodes and "one_of" in ops(lr.nodes["procurement"])}
    assert found and {rid for rid, _, _ in found} <= uses_one_of, found


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

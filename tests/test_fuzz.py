"""Property-based fuzzing of assessments: whatever arrives, the engine returns a decision record
or a clear validation error; it never crashes or hangs. Every record it returns must be consistent
with itself (its outcome follows from its findings, verdicts and open questions as the decision
policy says, and its hash re-verifies), and each of those properties is shown to fail on a record
broken on purpose."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import service
from engine.errors import InputInvalid
from engine.facts.schema import fact_specs
from engine.models.record import DecisionRecord, seal
from tests.conftest import CASE_STUDIES, load_case
from tests.test_conditions import answer_strategy

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                    st.floats(allow_nan=True), st.text(max_size=50),
                    st.sampled_from(["procurement", "individual_use", "not_applicable", "2025-02-30",
                                     "opt_out", "refuses", "<b>x</b>", "\x00", "9434765919"]))
JSONISH = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=25)
BASES = [load_case(n).model_dump(mode="json", exclude_none=True)
         for n in ("vbm-ward-wide-default.yaml", "vbm-adult-consents-night-use.yaml")]
CASES = [service.load_assessment(p).model_dump(mode="json", exclude_none=True) for p in CASE_STUDIES]

# rules/decision_policy.yaml: the worst verdict decides, an out-of-scope finding overrides all
OUTCOME_OF_VERDICT = [("not_met", "not_supported"), ("unknown", "insufficient_information"),
                      ("met_with_conditions", "supported_with_conditions")]


def broken_properties(record: DecisionRecord) -> list[str]:
    """Each property of a decision record that does not hold, in words (empty when all do)."""
    broken = []
    if seal(record).record_hash != record.record_hash:
        broken.append("the record hash does not re-verify")
    elif seal(DecisionRecord.model_validate(record.model_dump(mode="json"))).record_hash \
            != record.record_hash:
        broken.append("the record hash does not re-verify after a JSON round trip")
    severities = {f.severity for f in record.findings}
    if set(record.trace.rules_fired) != {f.rule_id for f in record.findings}:
        broken.append("the findings are not the rules the trace says fired")
    if [c.rule_id for c in record.conditions] != [
            f.rule_id for f in record.findings if f.severity == "condition"]:
        broken.append("the conditions are not the condition findings")
    asked = {rid for q in record.open_questions for rid in q.rule_ids}
    if not asked <= set(record.trace.rules_unknown):
        broken.append("an open question names a rule the trace does not have as unknown")
    if set(record.trace.rules_unknown) - asked:
        broken.append("a rule the trace has as unknown has no open question")
    if "out_of_scope" in severities and record.outcome != "out_of_scope":
        broken.append(f"an out-of-scope finding, but the outcome is {record.outcome}")
    if "blocker" in severities and record.outcome not in ("not_supported", "out_of_scope"):
        broken.append(f"a blocker fired, but the outcome is {record.outcome}")
    if not record.findings and not record.open_questions and record.outcome != "supported":
        broken.append(f"no findings and no open questions, but the outcome is {record.outcome}")
    verdicts = {v.verdict for v in record.verdicts}
    policy = "out_of_scope" if "out_of_scope" in severities else next(
        (o for v, o in OUTCOME_OF_VERDICT if v in verdicts), "supported")
    if record.outcome != policy:
        broken.append(f"the verdicts give {policy}, but the outcome is {record.outcome}")
    return broken


def decide(data) -> DecisionRecord | None:
    try:
        assessment = service.validate_assessment(data)
    except InputInvalid as exc:  # a clear message, with each place that is wrong
        assert exc.problems and all(p.message and p.file for p in exc.problems), str(exc)
        return None
    record = service.evaluate(assessment)  # a valid assessment is always decided
    assert broken_properties(record) == [], data
    return record


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(max_size=20), JSONISH, max_size=6))
def test_arbitrary_documents(data):
    decide(data)


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(BASES), section=st.text(max_size=3) | st.sampled_from(
    ["deployment", "decision", "patient", "technology", "data_protection", "proposed_use"]),
    field=st.sampled_from(["activation", "route", "reference", "functions", "video_retention_hours",
                           "duration_days", "name", "x"]), value=JSONISH)
def test_real_assessments_with_one_field_mutated(base, section, field, value):
    data = {**base, section: {**(base.get(section) or {}), field: value}} \
        if isinstance(base.get(section, {}), dict) else {**base, section: value}
    decide(data)


@st.composite
def case_studies_with_answers_changed(draw):
    """A case study with up to six answers the rules read replaced by another answer of the right
    kind (sometimes "not applicable") or removed: mostly valid, so most draws are decided."""
    base = draw(st.sampled_from(CASES))
    specs = fact_specs(base["context"])
    data = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    paths = sorted(p for p in specs if p.count(".") == 1)
    for path in draw(st.lists(st.sampled_from(paths), max_size=6, unique=True)):
        section, field = path.split(".")
        if not isinstance(data.setdefault(section, {}), dict):
            continue
        value = draw(st.none() | answer_strategy(specs[path]))
        if value is None:
            data[section].pop(field, None)
        else:
            data[section][field] = value
    return data


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case_studies_with_answers_changed())
def test_case_studies_with_answers_changed_give_consistent_records(data):
    decide(data)


def test_the_case_studies_give_consistent_records():
    outcomes = {decide(data).outcome for data in CASES}
    assert outcomes == {"out_of_scope", "not_supported", "insufficient_information",
                        "supported_with_conditions", "supported"}  # every rule of the policy


# --- each property fails on a record broken on purpose -----------------------------------------

def _with(record: DecisionRecord, **changes) -> DecisionRecord:
    return seal(record.model_copy(update=changes))  # resealed: only the named property breaks


BLOCKED = service.evaluate(load_case("vbm-ward-wide-default.yaml"))
OUT_OF_SCOPE = service.evaluate(load_case("epr-out-of-scope.yaml"))
CLEAN = service.evaluate(load_case("feedback-kiosk.yaml"))


@pytest.mark.parametrize("broken, says", [
    (BLOCKED.model_copy(update={"outcome_reason": "edited after sealing"}), "hash does not re-verify"),
    (_with(BLOCKED, outcome="supported_with_conditions"), "a blocker fired, but the outcome is"),
    (_with(OUT_OF_SCOPE, outcome="not_supported"), "an out-of-scope finding, but the outcome"),
    (_with(CLEAN, outcome="insufficient_information"), "no findings and no open questions, but"),
    (_with(BLOCKED, verdicts=[v.model_copy(update={"verdict": "met"}) for v in BLOCKED.verdicts]),
     "the verdicts give supported, but the outcome is not_supported"),
    (_with(BLOCKED, findings=BLOCKED.findings[1:]), "the findings are not the rules the trace"),
    (_with(BLOCKED, conditions=[]), "the conditions are not the condition findings"),
    (_with(BLOCKED, trace=BLOCKED.trace.model_copy(update={"rules_unknown": []})),
     "an open question names a rule the trace does not have as unknown"),
    (_with(BLOCKED, open_questions=[]), "a rule the trace has as unknown has no open question"),
], ids=["hash", "blocker", "out-of-scope", "no-findings", "verdicts", "fired", "conditions",
        "asked", "unasked"])
def test_each_property_fails_when_its_invariant_is_broken(broken, says):
    assert broken_properties(BLOCKED) == [] and broken_properties(CLEAN) == []
    assert any(says in problem for problem in broken_properties(broken)), broken_properties(broken)

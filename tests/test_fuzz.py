"""Property-based fuzzing of assessments: whatever arrives, the engine returns a decision record
or a clear validation error; it never crashes or hangs. Every record it returns must be consistent
with itself (its outcome follows from its findings, verdicts and open questions as the decision
policy says, and its hash re-verifies), and each of those properties is shown to fail on a record
broken on purpose.

The same holds one layer out (issue 12, item 10): the file reader and the YAML parser turn any
bytes into a document or a located problem (never a crash, a hang or a blow-up); the store keeps
exactly the text it accepted and hands it back, on SQLite and PostgreSQL; and "what would change
this decision" stays proven on assessments it has never seen. Each test's example budget is
`examples(n)`: larger in CI (tests/conftest.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import service
from engine.errors import InputInvalid
from engine.facts.schema import fact_specs
from engine.models.record import DecisionRecord, seal
from tests.conftest import CASE_STUDIES, examples, load_case
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


@settings(max_examples=examples(150))
@given(st.dictionaries(st.text(max_size=20), JSONISH, max_size=6))
def test_arbitrary_documents(data):
    decide(data)


@settings(max_examples=examples(200))
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


@settings(max_examples=examples(200))
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


# --- the file reader and the YAML parser ----------------------------------------------------------

import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import yaml  # noqa: E402

from engine.knowledge.remedies import apply_to_assessment, fixed_paths  # noqa: E402
from engine.knowledge.yamlio import (  # noqa: E402
    ALIASES_REFUSED,
    MAX_DEPTH,
    YamlDocument,
    YamlProblem,
    parse_text,
    read_document,
)

# Pieces of YAML and JSON syntax, joined at random: mostly broken documents, some deep, some with
# anchors, aliases, merge keys, tags, several documents, escapes and control characters.
TOKENS = ["&a ", "*a", "&b ", "*b", "<<: *a\n", "[", "]", "{", "}", "- ", ": ", ", ", "? ", "\n",
          "  ", "\t", "a", "key", "1", "-2.5e3", "'x'", '"\\x00"', '"\\u0000"', '"\\ud800"', "!!str ",
          "!!python/object:os.system ", "---\n", "...\n", "# c\n", "null", "on", "no", "0001-01-01",
          "9999-12-31", "|\n  text\n", ">-\n  folded\n", "context: procurement\n", "\x00", "\x1b",
          "\ufeff", "é", "\U0001F600"]
SYNTAX = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)
NESTED = st.builds(lambda depth, mapping: (('{"a": ' * depth + "1" + "}" * depth) if mapping
                                          else ("[" * depth + "]" * depth)),
                   st.integers(0, 3 * MAX_DEPTH), st.booleans())


def _depth(data) -> int:
    if isinstance(data, dict):
        return 1 + max(map(_depth, data.values()), default=0)
    if isinstance(data, list):
        return 1 + max(map(_depth, data), default=0)
    return 0


def _document_or_problem(parse, name: str):
    """A parsed document, or a YamlProblem located in the file it was given: nothing else."""
    try:
        doc = parse()
    except YamlProblem as exc:
        assert exc.problem.file == name and exc.problem.message, exc.problem
        assert exc.problem.line is None or exc.problem.line >= 1
        return exc.problem
    assert isinstance(doc, YamlDocument)
    assert _depth(doc.data) <= MAX_DEPTH
    return doc


@settings(max_examples=examples(300))
@given(text=st.text(max_size=200) | SYNTAX | NESTED)
def test_the_yaml_parser_returns_a_document_or_a_located_problem(text):
    result = _document_or_problem(lambda: parse_text(text, "fuzz.yaml"), "fuzz.yaml")
    events = None
    try:
        events = list(yaml.parse(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        pass
    if events and any(isinstance(e, yaml.AliasEvent) or getattr(e, "anchor", None) for e in events):
        assert not isinstance(result, YamlDocument), "an anchor or alias was accepted"


@settings(max_examples=examples(150))
@given(data=st.binary(max_size=3000) | SYNTAX.map(str.encode) | NESTED.map(str.encode),
       suffix=st.sampled_from([".yaml", ".json", ".yml"]))
def test_the_file_reader_returns_a_document_or_a_located_problem(data, suffix):
    limit = 2000  # small, so the bound is met often
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        path.write_bytes(data)
        result = _document_or_problem(lambda: read_document(path, max_bytes=limit), str(path))
    if len(data) > limit:
        assert not isinstance(result, YamlDocument) and "too large" in result.message


@settings(max_examples=examples(100))
@given(value=JSONISH, depth=st.integers(1, MAX_DEPTH + 20))
def test_anchors_are_refused_and_depth_is_bounded_whatever_they_hold(value, depth):
    dumped = _as_yaml_json(value)
    problem = _document_or_problem(lambda: parse_text(f"a: &x {dumped}\nb: *x\n", "f.yaml"), "f.yaml")
    assert not isinstance(problem, YamlDocument) and problem.message == ALIASES_REFUSED
    nested = "[" * depth + dumped + "]" * depth
    result = _document_or_problem(lambda: parse_text(nested, "f.json"), "f.json")
    if depth + _depth(value) > MAX_DEPTH:
        assert not isinstance(result, YamlDocument) and "levels deep" in result.message
    else:
        assert isinstance(result, YamlDocument)


@settings(max_examples=examples(100))
@given(value=JSONISH.filter(lambda v: v == v), depth=st.integers(0, MAX_DEPTH + 5),
       ascii_only=st.booleans())
def test_json_files_are_read_as_json_however_they_escape_text(value, depth, ascii_only):
    data = {"a": value}
    for _ in range(depth):
        data = {"a": data}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.json"
        path.write_text(json.dumps(data, ensure_ascii=ascii_only), encoding="utf-8")
        result = _document_or_problem(lambda: read_document(path), str(path))
    if _depth(data) > MAX_DEPTH:
        assert not isinstance(result, YamlDocument) and "levels deep" in result.message
    else:
        assert isinstance(result, YamlDocument) and result.data == data, result


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers(-10**15, 10**15) | st.text(max_size=30)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4), max_leaves=20)


def _as_yaml_json(value) -> str:
    """JSON that is also YAML: YAML has no surrogate-pair escapes and refuses raw controls."""
    return re.sub("[\x00-\x1f\x7f-\x9f\ufeff\ufffe\uffff]", lambda m: f"\\u{ord(m.group()):04x}",
                  json.dumps(value, ensure_ascii=False))


@settings(max_examples=examples(200))
@given(PLAIN.filter(lambda d: not re.search("[\x85\u2028\u2029]", json.dumps(d, ensure_ascii=False))))
def test_what_is_written_as_yaml_or_json_is_read_back_unchanged(data):
    # (PyYAML's emitter folds NEL and the Unicode line separators: text without them)
    text = yaml.dump(data, Dumper=_NoAliases, allow_unicode=True)
    assert parse_text(text, "round.yaml").data == data, text
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "round.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        assert read_document(path).data == data  # JSON's numbers: 5e-324 is a number, not text


# --- the store: what validation accepts is stored and read back exactly ----------------------------

# Text a person could type or paste (any script, emoji, symbols), and in a hostile draw what
# arrives from files and APIs as well: control characters, NUL, line breaks, tabs, and dates from
# year 1 to 9999. Half the draws are hostile, so half reach the store.
TYPED = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=40)
HOSTILE = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
IN_RANGE = st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)).map(dt.date.isoformat)
ANY_DATE = st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)).map(dt.date.isoformat)
KIOSK = load_case("feedback-kiosk.yaml").model_dump(mode="json", exclude_none=True)


@st.composite
def kiosks_with_text_changed(draw):
    hostile = draw(st.booleans())
    text, date = (HOSTILE | TYPED, ANY_DATE) if hostile else (TYPED, IN_RANGE)
    data = json.loads(json.dumps(KIOSK))
    data["title"] = draw(text)
    data["technology"]["name"] = "P" + draw(text)
    data["technology"]["vendor"] = draw(text)
    data["service"] = {**data.get("service", {}), "wards": draw(st.lists(text, max_size=3)),
                       "organisation": draw(text)}
    data["equity"] = {**data.get("equity", {}),
                      "digital_inclusion_support": {"not_applicable": "Because " + draw(text)}}
    data["data_protection"] = {**data.get("data_protection", {}), "dpia_review_due": draw(date)}
    return data


@settings(max_examples=examples(50))
@given(data=kiosks_with_text_changed())
def test_the_store_keeps_exactly_the_text_validation_accepts(store, data):
    try:
        assessment = service.validate_assessment(data)
    except InputInvalid as exc:  # refused with each field named, before the store is touched
        assert exc.problems and all(p.message.split(":")[0] in {
            "title", "technology.name", "technology.vendor", "service.wards.0", "service.wards.1",
            "service.wards.2", "service.organisation", "equity.digital_inclusion_support",
            "equity.digital_inclusion_support.not_applicable", "data_protection.dpia_review_due",
        } for p in exc.problems), [str(p) for p in exc.problems]
        return
    view = service.save_assessment(assessment, "Fuzz Tester", "panel_chair", store)
    again = store.get(view.row.id)
    assert again.record.record_hash == view.record.record_hash
    assert again.record.title == assessment.title
    assert again.record.subject.product == assessment.technology.name
    stored = service.validate_assessment(json.loads(again.row.input_json))
    assert stored.model_dump(mode="json") == assessment.model_dump(mode="json")


# --- "what would change this decision" on assessments it has never seen -----------------------------

NOW = dt.datetime(2025, 3, 10, 9, 0, tzinfo=dt.UTC)
FIXED = fixed_paths(["procurement", "individual_use"])


@settings(max_examples=examples(30))
@given(case_studies_with_answers_changed())
def test_what_would_change_stays_proven_on_changed_case_studies(data):
    try:
        assessment = service.validate_assessment(data)
    except InputInvalid:
        return
    pack = service.default_pack()
    record = service.assess(assessment, pack, NOW)
    assert broken_properties(record) == []
    order = list(pack.policy.outcome_order)
    current, answers_so_far = record.outcome, assessment.model_dump(mode="json", exclude_none=True)
    for step in record.what_would_change:
        assert step.from_outcome == current
        assert order.index(step.to_outcome) > order.index(step.from_outcome)
        answers = {}
        for remedy in step.remedies:
            assert not set(remedy.answers) & FIXED, (remedy.rule_id, remedy.answers)
            answers.update(remedy.answers)
        answers_so_far = apply_to_assessment(answers_so_far, answers)
        proof = service.evaluate(service.validate_assessment(answers_so_far), pack, NOW)
        assert (proof.outcome, proof.record_hash) == (step.to_outcome, step.proof_record_hash)
        current = step.to_outcome


def test_the_fuzz_budget_is_larger_in_ci():
    from tests import conftest

    assert examples(10) == 10 * conftest.FUZZ_SCALE
    assert conftest.FUZZ_SCALE == (4 if os.environ.get("CI") == "true" else 1)

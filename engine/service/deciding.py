"""Deciding: reading and validating an assessment, then evaluating it with a rule pack into a
sealed decision record (with what would change it)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.decide.record import build_record, outcome_of, verdict_map
from engine.decide.whatif import what_would_change
from engine.errors import InputInvalid, Problem
from engine.facts.schema import MAX_PROPERTIES, FactView, to_fact
from engine.knowledge.pack import RulePack, load_pack
from engine.knowledge.validation import problems_from
from engine.knowledge.yamlio import YamlDocument, YamlProblem, parse_text, read_document
from engine.models import dates
from engine.models.answers import LENIENT
from engine.models.assessment import AnyAssessment, IndividualUseCheck, ProcurementAssessment
from engine.models.record import DecisionRecord, seal
from engine.runtime.compiler import Program
from engine.runtime.host import Raw
from engine.runtime.programs import engine, program_for


def load_rules(rules_dir: Path | None = None, principles_dir: Path | None = None,
               profile: str | Path | None = None) -> RulePack:
    """Load and validate the catalogue, rules, decision policy and profile (RulesInvalid if not)."""
    return load_pack(rules_dir, principles_dir, profile)


def _unwrap(data: Any) -> tuple[Any, tuple[str, ...]]:
    """A case-study file wraps its assessment with the expected outcome."""
    if isinstance(data, dict) and "assessment" in data and "expected" in data:
        return data["assessment"], ("assessment",)
    return data, ()


def validate_assessment(data: Any, doc: YamlDocument | None = None,
                        lenient: bool = False) -> AnyAssessment:
    """Validate an assessment mapping; InputInvalid lists each bad field (with its line).
    `lenient` skips the input rules added after records were first stored (`validate_stored`)."""
    doc = doc or YamlDocument("<input>", data, {})
    data, base = _unwrap(data)
    if not isinstance(data, dict):
        raise InputInvalid("The assessment must be a mapping of sections and answers.",
                           [Problem(doc.path, doc.line_of(base), "expected a mapping")])
    if data.get("context") not in ("procurement", "individual_use"):
        raise InputInvalid(
            "The assessment does not say its context.",
            [Problem(doc.path, doc.line_of((*base, "context")),
                     "`context:` must be `procurement` or `individual_use`")])
    model = ProcurementAssessment if data["context"] == "procurement" else IndividualUseCheck
    try:
        return model.model_validate(data, context={LENIENT: True} if lenient else None)
    except ValidationError as exc:
        problems = problems_from(exc, doc, base)
        if not lenient:
            problems += _dates_beside(exc, data, doc, base)
        raise InputInvalid(f"The assessment has {len(problems)} invalid field(s).", problems) from None


def _dates_beside(exc: ValidationError, data: dict[str, Any], doc: YamlDocument,
                  base: tuple[str, ...]) -> list[Problem]:
    """Date problems beside other invalid answers (which stop the model before its date check),
    so every problem is listed at once, never one after another."""
    return [Problem(doc.path, doc.line_of((*base, *p.path.split("."))), f"{p.path}: {p.message}")
            for p in dates.beside(data, exc.errors(include_url=False))]


def validate_stored(data: Any) -> tuple[AnyAssessment, list[str]]:
    """A stored assessment, read again: never refused for a rule added after it was stored. The
    answer is the assessment and what today's rules would refuse in it (`field: why`, empty when
    nothing), for the caller to flag; InputInvalid only if it breaks the rules it was stored under."""
    try:
        return validate_assessment(data), []
    except InputInvalid as strict:
        try:
            return validate_assessment(data, lenient=True), [p.message for p in strict.problems]
        except InputInvalid:
            raise strict from None


def load_assessment(path: Path) -> AnyAssessment:
    """Read a YAML or JSON assessment (or case-study) file and validate it."""
    try:
        doc = read_document(Path(path))
    except YamlProblem as exc:
        raise InputInvalid("The assessment file cannot be read.", [exc.problem]) from None
    return validate_assessment(doc.data, doc)


def parse_assessment(text: str, name: str = "<input>") -> AnyAssessment:
    try:
        doc = parse_text(text, name)
    except YamlProblem as exc:
        raise InputInvalid("The assessment cannot be read.", [exc.problem]) from None
    return validate_assessment(doc.data, doc)


def _run(assessment: AnyAssessment, pack: RulePack) -> tuple[FactView, Program, Raw]:
    """The assessment as a fact, through durable_rules and the decision policy."""
    view = to_fact(assessment)
    if len(view.fact) > MAX_PROPERTIES:
        raise InputInvalid(f"The assessment has {len(view.fact)} answers once flattened; "
                           f"the engine accepts at most {MAX_PROPERTIES}.")
    program = program_for(pack, assessment.context)
    return view, program, engine().evaluate(program, view.fact)


def evaluate(assessment: AnyAssessment, pack: RulePack | None = None,
             now: dt.datetime | None = None) -> DecisionRecord:
    """One evaluation: the record without "what would change this decision" (used for
    counterfactuals and the web form)."""
    pack = pack or default_pack()
    view, program, raw = _run(assessment, pack)
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    return build_record(pack, assessment, view, raw, program.ruleset, now)


def decide_quickly(assessment: AnyAssessment,
                   pack: RulePack | None = None) -> tuple[str, dict[str, str], list[str]]:
    """Outcome, verdict per principle and rules fired, without building the whole record
    (re-evaluation only needs to know whether a decision would change)."""
    pack = pack or default_pack()
    view, _, raw = _run(assessment, pack)
    return (outcome_of(pack, raw)["outcome"],
            {t: v[0] for t, v in verdict_map(pack, raw, view).items()}, raw.fired)


def assess(assessment: AnyAssessment, pack: RulePack | None = None,
           now: dt.datetime | None = None) -> DecisionRecord:
    """Evaluate an assessment and return its sealed decision record, including the smallest
    remedies that would improve the outcome, each proven by re-evaluation."""
    pack = pack or default_pack()
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    record = evaluate(assessment, pack, now)

    def trial(data: dict[str, Any]) -> DecisionRecord:
        try:
            return evaluate(validate_assessment(data), pack, now)
        except InputInvalid:
            # a remedy that leaves answers no one could give (a review date moved before a first
            # check, say) is no remedy: it improves nothing
            return record

    steps, stuck = what_would_change(assessment.model_dump(mode="json", exclude_none=True), record,
                                     pack, trial)
    if not steps and not stuck:
        return record
    return seal(record.model_copy(update={"what_would_change": steps, "what_would_not_change": stuck}))


_DEFAULT: dict[str, RulePack] = {}


def default_pack() -> RulePack:
    """The pack from the repository's own folders, loaded once per process."""
    if "pack" not in _DEFAULT:
        _DEFAULT["pack"] = load_pack()
    return _DEFAULT["pack"]

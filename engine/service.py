"""The one public API. The CLI and the Streamlit UI call these functions and nothing deeper."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.compiler import Program, compile_program
from engine.decide import build_record, outcome_of, seal, verdict_map
from engine.errors import InputInvalid, Problem
from engine.facts import MAX_PROPERTIES, FactView, to_fact
from engine.linking import ProductLink, link_product
from engine.models.assessment import IndividualUseCheck, ProcurementAssessment
from engine.models.record import DecisionRecord
from engine.pack import RulePack, load_pack
from engine.reevaluate import Progress, Report, reevaluate
from engine.runtime import Engine, Raw
from engine.store import Database, RecordView, Store, database_url
from engine.validation import problems_from
from engine.whatif import what_would_change
from engine.yamlio import YamlDocument, YamlProblem, parse_text, read_document

AnyAssessment = ProcurementAssessment | IndividualUseCheck

# durable_rules keeps one C-level host per process: so does DTPA.
_ENGINE = Engine()
_PROGRAMS: dict[tuple[str, str], Program] = {}
_PROGRAMS_LOCK = threading.Lock()


def engine() -> Engine:
    return _ENGINE


def load_rules(rules_dir: Path | None = None, principles_dir: Path | None = None,
               profile: str | Path | None = None) -> RulePack:
    """Load and validate the catalogue, rules, decision policy and profile (RulesInvalid if not)."""
    return load_pack(rules_dir, principles_dir, profile)


def program_for(pack: RulePack, context: str) -> Program:
    """The compiled, registered ruleset for a context; built once per pack content hash."""
    key = (pack.hash, context)
    with _PROGRAMS_LOCK:
        program = _PROGRAMS.get(key)
        if program is None:
            program = compile_program(pack, context)
            info = {lr.rule.id: (lr.rule.severity, lr.rule.targets) for lr in pack.rules_for(context)}
            _ENGINE.ensure(program, info)
            _PROGRAMS[key] = program
    return program


def _unwrap(data: Any) -> tuple[Any, tuple[str, ...]]:
    """A case-study file wraps its assessment with the expected outcome."""
    if isinstance(data, dict) and "assessment" in data and "expected" in data:
        return data["assessment"], ("assessment",)
    return data, ()


def validate_assessment(data: Any, doc: YamlDocument | None = None) -> AnyAssessment:
    """Validate an assessment mapping; InputInvalid lists each bad field (with its line)."""
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
        return model.model_validate(data)
    except ValidationError as exc:
        problems = problems_from(exc, doc, base)
        raise InputInvalid(f"The assessment has {len(problems)} invalid field(s).", problems) from None


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
    return view, program, _ENGINE.evaluate(program, view.fact)


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
    steps, stuck = what_would_change(assessment.model_dump(mode="json", exclude_none=True), record,
                                     pack, lambda data: evaluate(validate_assessment(data), pack, now))
    if not steps and not stuck:
        return record
    return seal(record.model_copy(update={"what_would_change": steps, "what_would_not_change": stuck}))


_DEFAULT: dict[str, RulePack] = {}


def default_pack() -> RulePack:
    """The pack from the repository's own folders, loaded once per process."""
    if "pack" not in _DEFAULT:
        _DEFAULT["pack"] = load_pack()
    return _DEFAULT["pack"]


# --- records: the store and the governance around each decision -------------------------------

_STORES: dict[str, Store] = {}


def open_store(url: str | None = None) -> Store:
    """The store at DTPA_DATABASE_URL (or the embedded SQLite file), migrated, once per process."""
    resolved = database_url(url)
    if resolved not in _STORES:
        _STORES[resolved] = Store(Database(resolved), required_roles=_required_roles)
    return _STORES[resolved]


def _required_roles(context: str) -> list[str]:
    return list(default_pack().profile.required_signoff_roles.get(context, []))  # type: ignore[call-overload]


def save_assessment(assessment: AnyAssessment, by: str, role: str, store: Store | None = None,
                    pack: RulePack | None = None, idempotency_key: str | None = None,
                    supersedes: str | None = None, now: dt.datetime | None = None) -> RecordView:
    """Decide and store: an individual use is decided on the stored product decision it names,
    and is not saved when that record cannot be read."""
    store = store or open_store()
    if isinstance(assessment, IndividualUseCheck):
        assessment, record = check_use(assessment, store, pack, now, require_store=True)
    else:
        record = assess(assessment, pack, now)
    return store.save(assessment.model_dump(mode="json"), record, by, role, idempotency_key,
                      supersedes)


def reevaluate_all(by: str, role: str, store: Store | None = None, pack: RulePack | None = None,
                   progress: Progress | None = None, workers: int = 1) -> Report:
    return reevaluate(store or open_store(), pack or default_pack(), by, role, decide_quickly,
                      progress, workers)


CASE_STUDIES = Path(__file__).resolve().parent.parent / "case_studies"
SEEDER = ("DTPA case-study library", "administrator")


def seed_case_studies(store: Store | None = None, folder: Path = CASE_STUDIES) -> list[RecordView]:
    """Load the case studies into a store once (idempotent), each decided exactly as written:
    individual-use case studies keep their own product facts (they illustrate, they are not
    linked to a signed-off product record)."""
    store = store or open_store()
    views = []
    for path in sorted(folder.glob("*.yaml")):
        assessment = load_assessment(path)
        views.append(store.save(assessment.model_dump(mode="json"), assess(assessment), *SEEDER,
                                idempotency_key=f"case-study:{path.stem}"))
    return views


# --- exports --------------------------------------------------------------------------------

EXPORT_KINDS = {"pdf": ".pdf", "easy-read": ".easy-read.pdf", "json": ".json", "fhir": ".fhir.json"}


def render_export(record: DecisionRecord, kind: str, gov=None,
                  assessment: dict[str, Any] | None = None) -> bytes:
    """One record as an audit PDF, easy-read PDF, JSON or FHIR R5 bundle."""
    from engine.export.easyread import easy_read_pdf
    from engine.export.fhir import fhir_bundle
    from engine.export.pdf import audit_pdf

    if kind == "pdf":
        return audit_pdf(record, gov)
    if kind == "easy-read":
        return easy_read_pdf(record, assessment or {})
    if kind == "json":
        return json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False).encode()
    if kind == "fhir":
        return json.dumps(fhir_bundle(record, gov, assessment), indent=2, ensure_ascii=False).encode()
    raise InputInvalid(f"unknown export {kind!r}; use one of {', '.join(EXPORT_KINDS)}")


def export_stored(ref: str, kind: str, by: str, role: str, store: Store | None = None,
                  audit: bool = True) -> tuple[bytes, str]:
    """Export a stored record (with its sign-offs, overrides and audit trail). The export is an
    audit event; a caller that prepares a file before the person asks for it (a web download
    button) passes audit=False and records the event when it is taken (`store.record_export`)."""
    from engine.export.documents import governance

    store = store or open_store()
    view = store.get(ref)
    data = render_export(view.record, kind, governance(view, store, default_pack().profile),
                         json.loads(view.row.input_json))
    if audit:
        store.record_export(view.row.id, by, role, kind)
    return data, view.row.id + EXPORT_KINDS[kind]


def export_file(path: Path, kind: str, pack: RulePack | None = None,
                store: Store | str | None = None) -> tuple[bytes, str]:
    """Export the decision on an assessment file that is not stored (no governance yet)."""
    assessment, record = decide(load_assessment(path), pack, store)
    return render_export(record, kind, None, assessment.model_dump(mode="json")), \
        Path(path).stem + EXPORT_KINDS[kind]


def select_records(store: Store, product: str | None = None, ward: str | None = None,
                   since: dt.date | None = None, until: dt.date | None = None) -> list[RecordView]:
    views = store.latest(product=product, ward=ward)
    return [v for v in views if (since is None or v.row.assessed_on >= since)
            and (until is None or v.row.assessed_on <= until)]


def export_bundle(views: list[RecordView], title: str, by: str, role: str, store: Store,
                  progress=None) -> tuple[bytes, str]:
    """A bundle PDF of many records and the CSV of their open conditions; each export audited."""
    from engine.export.documents import bundle_pdf, conditions_csv

    profile = default_pack().profile
    pdf = bundle_pdf(views, store, profile, title, progress)
    for v in views:
        store.record_export(v.row.id, by, role, "bundle")
    return pdf, conditions_csv(views, profile)


def product_link(check: IndividualUseCheck, store: Store | str | None = None) -> ProductLink:
    """The product facts a check relies on, from the store (a Store, or its URL; by default
    DTPA_DATABASE_URL) when it can be read, else as the check states them, saying why."""
    if isinstance(store, Store):
        return link_product(check, store.db.url, lambda: store)
    url = database_url(store)
    return link_product(check, url, lambda: open_store(url))


def check_use(assessment: IndividualUseCheck, store: Store | str | None = None,
              pack: RulePack | None = None, now: dt.datetime | None = None, quick: bool = False,
              require_store: bool = False) -> tuple[IndividualUseCheck, DecisionRecord]:
    """An individual-use check decided on the stored product decision it names; the record says
    where its product facts came from and lists that decision's own conditions. When the named
    record cannot be read it is decided on the facts as stated (require_store: refused instead).
    quick: without "what would change this decision" (explanations, previews)."""
    link = product_link(assessment, store)
    if require_store and link.error is not None:
        raise link.error
    record = (evaluate if quick else assess)(link.check, pack, now)
    return link.check, seal(record.model_copy(update={"product_source": link.source,
                                                      "product_conditions": link.conditions}))


def decide(assessment: AnyAssessment, pack: RulePack | None = None,
           store: Store | str | None = None, quick: bool = False
           ) -> tuple[AnyAssessment, DecisionRecord]:
    """Any assessment decided as every front end decides it (an individual use on the stored
    product decision); returns the assessment decided and its record."""
    if isinstance(assessment, IndividualUseCheck):
        return check_use(assessment, store, pack, quick=quick)
    return assessment, (evaluate if quick else assess)(assessment, pack)


def product_unusable(view: RecordView, today: dt.date | None = None) -> list[str]:
    """Why a stored product decision cannot be relied on for a patient (empty when it can)."""
    today = today or dt.date.today()
    reasons = []
    if view.row.context != "procurement":
        reasons.append("it is not a product decision")
    if view.superseded_by:
        reasons.append(f"it was superseded by {view.superseded_by}")
    if view.effective_outcome not in ("supported", "supported_with_conditions"):
        reasons.append(f"its outcome is {view.effective_outcome.replace('_', ' ')}")
    if view.missing_roles:
        reasons.append("it is not signed off yet (waiting for " + ", ".join(view.missing_roles) + ")")
    if view.row.review_date and view.row.review_date < today:
        reasons.append(f"its review date {view.row.review_date} has passed")
    return reasons

"""The one public API. The CLI and the Streamlit UI call these functions and nothing deeper:
records, sign-off, exports and individual-use checks; deciding itself is in `deciding`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from engine.errors import InputInvalid
from engine.export.documents import bundle_pdf, conditions_csv, governance
from engine.export.easyread import easy_read_pdf
from engine.export.fhir import fhir_bundle
from engine.export.pdf import audit_pdf
from engine.knowledge.pack import RulePack
from engine.models.assessment import AnyAssessment, IndividualUseCheck
from engine.models.record import DecisionRecord, seal
from engine.service.deciding import assess, decide_quickly, default_pack, evaluate, load_assessment
from engine.service.linking import ProductLink, link_product
from engine.service.reevaluate import Progress, Report, reevaluate
from engine.store import Database, RecordView, Store, database_url

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


CASE_STUDIES = Path(__file__).resolve().parent.parent.parent / "case_studies"
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

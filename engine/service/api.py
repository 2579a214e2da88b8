"""The one public API. The CLI and the Streamlit UI call these functions and nothing deeper:
records, sign-off, exports and individual-use checks; deciding itself is in `deciding`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.errors import InputInvalid, StoreConflict
from engine.export.documents import bundle_pdf, conditions_csv, governance
from engine.export.easyread import easy_read_pdf
from engine.export.easyread_html import easy_read_html
from engine.export.fhir import fhir_bundle
from engine.export.pdf import Governance, audit_pdf
from engine.knowledge.pack import RulePack
from engine.models.assessment import AnyAssessment, IndividualUseCheck
from engine.models.people import known_role
from engine.models.printable import check_text
from engine.models.record import DecisionRecord, seal
from engine.models.vocab import Context
from engine.service.case_library import CASE_STUDIES, case_studies, moved_to_today
from engine.service.deciding import assess, decide_quickly, default_pack, evaluate, load_assessment
from engine.service.linking import ProductLink, link_product
from engine.service.reevaluate import Progress, Report, reevaluate
from engine.service.retention import erasure, tombstone_json
from engine.service.signed import signed_pdf
from engine.store import Database, RecordView, Store, database_url

# --- records: the store and the governance around each decision -------------------------------

# One database connection (pool) per URL per process, migrated once; each caller gets it with
# the sign-off roles of its own pack's profile.
_STORES: dict[str, Store] = {}


def open_store(url: str | None = None, pack: RulePack | None = None) -> Store:
    """The store at `url`, DTPA_DATABASE_URL or the embedded SQLite file. Which roles must sign
    a record, who may sign and override, and whether patient access needs a second
    administrator come from the pack's profile (by default the repository's pack)."""
    resolved = database_url(url)
    if resolved not in _STORES:
        _STORES[resolved] = Store(Database(resolved))
    chosen = pack or default_pack()
    return Store(_STORES[resolved].db, required_roles=signoff_roles(chosen),
                 role_rules=chosen.profile.role_rules())


def store_at(where: Store | str | None, pack: RulePack | None = None) -> Store:
    """A store given as itself, as its URL, or (None) the configured one: front ends pass the
    URL they were given and never hold a store."""
    return where if isinstance(where, Store) else open_store(where, pack)


def signoff_roles(pack: RulePack) -> Callable[[str], list[str]]:
    """Context -> the roles the pack's profile requires to sign a record of it."""
    required = pack.profile.required_signoff_roles
    return lambda context: list(required.get(Context(context), []))


def save_assessment(assessment: AnyAssessment, by: str, role: str, store: Store | None = None,
                    pack: RulePack | None = None, idempotency_key: str | None = None,
                    supersedes: str | None = None, now: dt.datetime | None = None) -> RecordView:
    """Decide and store: an individual use is decided on the stored product decision it names,
    and is not saved when that record cannot be read."""
    known_role(role)
    if idempotency_key is not None:
        idempotency_key = check_text(idempotency_key, "Idempotency key")
    pack = pack or default_pack()
    store = store or open_store(pack=pack)
    if isinstance(assessment, IndividualUseCheck):
        assessment, record = check_use(assessment, store, pack, now, require_store=True)
    else:
        record = assess(assessment, pack, now)
    return store.save(assessment.model_dump(mode="json"), record, by, role, idempotency_key,
                      supersedes)


def reevaluate_all(by: str, role: str, store: Store | None = None, pack: RulePack | None = None,
                   progress: Progress | None = None, workers: int = 1) -> Report:
    known_role(role)
    pack = pack or default_pack()
    return reevaluate(store or open_store(pack=pack), pack, by, role, decide_quickly, progress,
                      workers)


SEEDER = ("DTPA case-study library", "administrator")


def seed_case_studies(store: Store | None = None, folder: Path = CASE_STUDIES,
                      pack: RulePack | None = None, today: dt.date | None = None) -> list[RecordView]:
    """Load the case studies into a store once (idempotent): decided exactly as written, or with
    `today`, assessed that day (`moved_to_today`), as `dtpa seed` does for a demonstration store
    so its review dates lie ahead. Individual-use case studies keep their own product facts (they
    illustrate, they are not linked to a signed-off product record). A case study seeded on an
    earlier day is left as it is."""
    pack = pack or default_pack()
    store = store or open_store(pack=pack)
    views = []
    for name, study in case_studies(folder=folder).items():
        assessment = (moved_to_today(study, today) if today else study).assessment
        try:
            views.append(store.save(assessment.model_dump(mode="json"), assess(assessment, pack),
                                    *SEEDER, idempotency_key=f"case-study:{name}"))
        except StoreConflict:
            if today is None:
                raise
    return views


# --- exports --------------------------------------------------------------------------------

EXPORT_KINDS = {"pdf": ".pdf", "easy-read": ".easy-read.pdf", "easy-read-html": ".easy-read.html",
                "json": ".json", "fhir": ".fhir.json"}


def render_export(record: DecisionRecord, kind: str, gov: Governance | None = None,
                  assessment: dict[str, Any] | None = None, *, store: Store | None = None,
                  by: tuple[str, str] | None = None) -> bytes:
    """One record as an audit PDF, easy-read PDF or web page, JSON or FHIR R5 bundle. A PDF is
    signed with the deployment's certificate as the last step (the web page is not signed);
    `store` and `by` (name, role) are where and by whom the certificate's making is recorded,
    if this export makes it."""
    if kind == "pdf":
        return signed_pdf(audit_pdf(record, gov), store, by)
    if kind == "easy-read":
        return signed_pdf(easy_read_pdf(record, assessment or {},
                                        record_id=gov.record_id if gov else None), store, by)
    if kind == "easy-read-html":
        return easy_read_html(record, assessment or {}, record_id=gov.record_id if gov else None)
    if kind == "json":
        return json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False).encode()
    if kind == "fhir":
        return json.dumps(fhir_bundle(record, gov, assessment), indent=2, ensure_ascii=False).encode()
    raise InputInvalid(f"unknown export {kind!r}; use one of {', '.join(EXPORT_KINDS)}")


def export_stored(ref: str, kind: str, by: str, role: str, store: Store | None = None,
                  audit: bool = True, pack: RulePack | None = None) -> tuple[bytes, str]:
    """Export a stored record (with its sign-offs, overrides and audit trail). The export is an
    audit event; a caller that prepares a file before the person asks for it (a web download
    button) passes audit=False and records the event when it is taken (`store.record_export`).
    Condition owners and due dates are those sealed into the record; the store (or the pack it
    is opened with) says which roles must sign."""
    known_role(role)
    store = store or open_store(pack=pack)
    view = store.get(ref)
    if erasure(view) is not None:  # only what stays of an erased record, never a stand-in
        if kind != "json":
            raise StoreConflict(f"{view.row.id}: {erasure(view)} Only its JSON tombstone can be "
                                "exported.")
        data = json.dumps(tombstone_json(view), indent=2, ensure_ascii=False).encode()
    else:
        data = render_export(view.record, kind, governance(view, store),
                             json.loads(view.row.input_json), store=store, by=(by, role))
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
                  progress: Progress | None = None) -> tuple[bytes, str]:
    """A bundle PDF of many records and the CSV of their open conditions (owners and due dates
    as sealed in each record); each export audited."""
    known_role(role)
    pdf = signed_pdf(bundle_pdf(views, store, title, progress), store, (by, role))
    for v in views:
        store.record_export(v.row.id, by, role, "bundle")
    return pdf, conditions_csv(views)


def product_link(check: IndividualUseCheck, store: Store | str | None = None,
                 pack: RulePack | None = None) -> ProductLink:
    """The product facts a check relies on, from the store (a Store, or its URL; by default
    DTPA_DATABASE_URL) when it can be read, else as the check states them, saying why. Whether
    the product decision is signed off follows the pack's profile."""
    if isinstance(store, Store):
        return link_product(check, store.db.url, lambda: store)
    url = database_url(store)
    return link_product(check, url, lambda: open_store(url, pack))


def check_use(assessment: IndividualUseCheck, store: Store | str | None = None,
              pack: RulePack | None = None, now: dt.datetime | None = None, quick: bool = False,
              require_store: bool = False) -> tuple[IndividualUseCheck, DecisionRecord]:
    """An individual-use check decided on the stored product decision it names; the record says
    where its product facts came from and lists that decision's own conditions. When the named
    record cannot be read it is decided on the facts as stated (require_store: refused instead).
    quick: without "what would change this decision" (explanations, previews)."""
    pack = pack or default_pack()
    link = product_link(assessment, store, pack)
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

"""An individual-use check relies on a stored product decision: the store, not the person filling
in the form, says what that decision was, until when it holds, which version and services it
covers, whether it was signed off, and which conditions it carries.

When the store cannot be read the check is still decided, on the product facts as the check
states them, and the record says so (which store, which key, why): a product's facts never turn
silently into open questions, and an unverified product is never passed off as a stored one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import DTPAError, InputInvalid, RecordNotFound, StoreUnavailable
from engine.models.assessment import IndividualUseCheck
from engine.models.record import NotReadReason, ProductCondition, ProductSource
from engine.store import RecordView, Store, redact_url


@dataclass(frozen=True)
class ProductLink:
    check: IndividualUseCheck  # with the store's product facts, or as stated when not read
    source: ProductSource
    conditions: list[ProductCondition]
    error: DTPAError | None = None  # why a named product record was not read (saving refuses)


def link_product(check: IndividualUseCheck, url: str,
                 open_store: Callable[[], Store]) -> ProductLink:
    """The check with the product facts of the record it names, read from the store at `url`."""
    ref = check.product.record_id
    if not ref:
        return _as_stated(check, None, None, "no_record_id",
                          "the check names no stored product decision (product.record_id is "
                          "empty)")
    where = redact_url(url)
    missing = _missing_sqlite_file(url)
    if missing:  # reading never creates an empty database as a side effect
        return _as_stated(check, where, ref, "store_unreachable", f"no database file at {missing}",
                          StoreUnavailable(f"no database file at {missing}"))
    try:
        view = open_store().get(ref)
    except StoreUnavailable as exc:
        return _as_stated(check, where, ref, "store_unreachable", exc.message, exc)
    except RecordNotFound:
        return _as_stated(check, where, ref, "not_found", f"the store has no record {ref!r}",
                          InputInvalid(f"product.record_id {ref!r} is not a stored product "
                                       "decision record; save the product assessment first "
                                       "(dtpa assess FILE --save)"))
    if view.row.context != "procurement":
        why = f"{ref!r} is an individual-use record, not a product decision"
        return _as_stated(check, where, ref, "not_a_product_decision", why,
                          InputInvalid(f"product.record_id {why}"))
    return ProductLink(
        _with_facts(check, view),
        ProductSource(kind="store", store=where, record_id=view.row.id, version=view.row.version),
        [ProductCondition(rule_id=c.rule_id, title=c.title) for c in view.record.conditions])


def _as_stated(check: IndividualUseCheck, store: str | None, ref: str | None,
               reason: NotReadReason, detail: str, error: DTPAError | None = None) -> ProductLink:
    source = ProductSource(kind="as_stated", store=store, record_id=ref, reason=reason,
                           detail=detail)
    return ProductLink(check, source, [], error)


def _missing_sqlite_file(url: str) -> str | None:
    if not url.startswith("sqlite") or "///" not in url:
        return None
    path = url.split("///", 1)[1].split("?", 1)[0]
    return path if path and path != ":memory:" and not Path(path).exists() else None


def _with_facts(check: IndividualUseCheck, view: RecordView) -> IndividualUseCheck:
    product_input = json.loads(view.row.input_json)
    services = product_input.get("service", {}).get("service_types") or []
    used_version = check.technology.version
    product = check.product.model_copy(update={
        "record_id": view.row.id,
        "outcome": view.effective_outcome,
        "version": view.row.product_version,
        "valid_until": view.row.review_date,
        "approved": view.approved,
        "covers_this_service": (check.patient.service_type in services
                                if check.patient.service_type else None),
        "covers_this_version": (used_version == view.row.product_version
                                if used_version and view.row.product_version else None),
    })
    return check.model_copy(update={"product": product})


# --- what a clinician is offered: a stored product decision's own facts -----------------------

def product_input(view: RecordView) -> dict[str, Any]:
    """The product assessment a stored decision was made from (empty when erased or unreadable)."""
    try:
        data = json.loads(view.row.input_json or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def technology_of(view: RecordView) -> dict[str, Any]:
    """The technology as the product decision describes it: a check relying on the decision
    takes it from there, so nobody types it again (and nobody types it differently)."""
    technology = product_input(view).get("technology")
    return dict(technology) if isinstance(technology, dict) else {}


def wards_covered(view: RecordView, wards: list[str]) -> list[str]:
    """Those of `wards` (as given) that the product decision's wards in scope name, compared
    without regard to case. A decision that names no ward covers none."""
    service = product_input(view).get("service")
    named = service.get("wards") if isinstance(service, dict) else None
    scope = {w.strip().casefold() for w in named or [] if isinstance(w, str)}
    return [w for w in wards if w.strip().casefold() in scope]

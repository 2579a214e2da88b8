"""An individual-use check relies on a stored product decision: the store, not the person filling
in the form, says what that decision was, until when it holds, which version and services it
covers, and whether it was signed off."""

from __future__ import annotations

import json

from engine.errors import InputInvalid, RecordNotFound
from engine.models.assessment import IndividualUseCheck
from engine.store import Store


def with_product_record(check: IndividualUseCheck, store: Store) -> IndividualUseCheck:
    ref = check.product.record_id
    if not ref:
        return check  # the rules ask for the product record (an open question, or a finding)
    try:
        view = store.get(ref)
    except RecordNotFound:
        raise InputInvalid(f"product.record_id {ref!r} is not a stored product decision record; "
                           "save the product assessment first (dtpa assess FILE --save)") from None
    if view.row.context != "procurement":
        raise InputInvalid(f"product.record_id {ref!r} is an individual-use record, not a product "
                           "decision")
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

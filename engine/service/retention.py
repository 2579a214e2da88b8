"""Retention: erasing the patient payloads whose period (the local profile's
`retention.individual_use_years`) has passed, and what an erased record still says."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.errors import InputInvalid
from engine.knowledge.pack import RulePack
from engine.models.people import known_role
from engine.service.deciding import default_pack
from engine.store import RecordView, Store
from engine.store.retention import ErasureRun, Expired, Verification
from engine.store.tombstones import erasure_note, is_erased

__all__ = ["ErasureRun", "Expired", "Verification", "erase_expired", "erased", "erasure",
           "tombstone_json"]


def erase_expired(by: str, role: str, store: Store, pack: RulePack | None = None,
                  dry_run: bool = False, today: dt.date | None = None) -> ErasureRun:
    """Erase (or, dry run, list) every individual use past the period the pack's profile sets."""
    known_role(role)
    profile = (pack or default_pack()).profile
    if profile.retention is None:
        raise InputInvalid(f"the profile {profile.name} sets no retention period "
                           "(retention.individual_use_years): nothing was erased")
    return store.erase_expired(profile.retention.individual_use_years, profile.name, by, role,
                               today, dry_run)


def erased(view: RecordView) -> bool:
    """The record's payload is gone (erased under the retention rule, or emptied outside DTPA)."""
    return is_erased(view.row)


def erasure(view: RecordView) -> str | None:
    """What happened to an erased record's payload, with the hashes kept; None when it is there."""
    return erasure_note(view.row) if is_erased(view.row) else None


def tombstone_json(view: RecordView) -> dict[str, Any]:
    """An erased record as JSON: what stays, never a stand-in decision."""
    row = view.row
    return {"id": row.id, "key": row.key, "version": row.version, "context": row.context,
            "erased": True, "erased_at": row.erased_at, "erasure_rule": row.erasure_rule,
            "note": erasure_note(row), "product": row.product, "ward": row.ward,
            "relies_on": row.relies_on, "outcome": row.outcome,
            "outcome_in_force": view.effective_outcome, "assessed_on": str(row.assessed_on),
            "record_hash": row.record_hash, "input_hash": row.input_hash,
            "hash_scheme": row.hash_scheme, "created_at": row.created_at,
            "created_by": row.created_by, "created_role": row.created_role,
            "signoffs": [{"name": s.name, "role": s.role, "signed_at": s.signed_at}
                         for s in view.signoffs],
            "overrides": [{"target": o.target, "engine": o.engine_value, "to": o.new_value,
                           "by": o.name, "role": o.role, "at": o.created_at}
                          for o in view.overrides]}

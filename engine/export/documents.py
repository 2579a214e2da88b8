"""Assembling exports from stored records: governance, condition plans, bundles, safe names."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak

from engine.errors import InputInvalid
from engine.export.pdf import (
    NOT_RECORDED,
    ConditionEntry,
    Governance,
    attach,
    build,
    heading,
    p,
    story,
    styles,
    table,
    verification_story,
)
from engine.export.text import para
from engine.models.record import DecisionRecord
from engine.store import RecordView, Store

Progress = Callable[[int, int], None]
BUNDLE = "bundle.json"  # the records of a bundle PDF
BUNDLE_INDEX = "bundle_index.json"  # each one's stored id and record hash
_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]+")


def safe_output(folder: Path, name: str) -> Path:
    """A file in `folder` named after `name`, never outside it (no separators, no `..`)."""
    cleaned = _UNSAFE.sub("_", name).strip("._") or "export"
    folder = folder.resolve()
    path = (folder / cleaned[:120]).resolve()
    if path.parent != folder:
        raise InputInvalid(f"output name {name!r} would leave the folder {folder}")
    return path


def condition_plan(record: DecisionRecord) -> list[ConditionEntry]:
    """Owner and due date of each condition, as sealed into the record when it was decided
    (never today's profile: the plan agreed then is the one the record shows)."""
    return [{"rule": c.rule_id, "owner": c.owner or NOT_RECORDED,
             "due": c.due.isoformat() if c.due else NOT_RECORDED,
             "target": next(iter([*c.principles, *c.areas]), ""), "remedy": c.remedy}
            for c in record.conditions]


def governance(view: RecordView, store: Store) -> Governance:
    _, events = store.history(view.row.id)
    return Governance(
        record_id=view.row.id, decided_by=f"{view.row.created_by} ({view.row.created_role})",
        status=view.status, effective_outcome=view.effective_outcome,
        signoffs=[{"name": s.name, "role": s.role, "signed_at": s.signed_at,
                   "attestations": s.attestations, "comment": s.comment} for s in view.signoffs],
        overrides=[{"target": o.target, "engine": o.engine_value, "to": o.new_value, "by": o.name,
                    "role": o.role, "reason": o.reason, "at": o.created_at} for o in view.overrides],
        events=[{"seq": e.seq, "at": e.at, "action": e.action, "actor": e.actor, "role": e.role,
                 "hash": e.hash} for e in events if e.record_id == view.row.id],
        conditions=condition_plan(view.record))


def bundle_pdf(views: list[RecordView], store: Store, title: str,
               progress: Progress | None = None) -> bytes:
    """One PDF with an index and every record, for a product, a ward or a period."""
    s = styles()
    index = [["Record", "Subject", "Outcome in force", "Status", "Review by"]]
    for v in views:
        subject = v.row.product + (f" / {v.row.patient_reference}" if v.row.patient_reference else "")
        index.append([v.row.id, subject, v.effective_outcome, v.status, str(v.row.review_date or "-")])
    flowables: list[Flowable] = [
        heading(para(title), s["h1"], 1),
        p(f"{len(views)} record(s), exported {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC", s["body"]),
        table(index, [32 * mm, 58 * mm, 34 * mm, 34 * mm, 22 * mm], s)]
    records = []
    for i, v in enumerate(views, 1):  # each record one heading level below the bundle's title
        flowables.append(PageBreak())
        flowables += story(v.record, governance(v, store), s, depth=1)
        flowables += verification_story(v.record, s, depth=1)
        records.append(v.record.model_dump(mode="json"))
        if progress:
            progress(i, len(views))
    pdf = build(flowables, title=title, author="DTPA", subject=title,
                footer=f"DTPA bundle · {title}")
    # Which stored record each one is, so `verify-pdf` can check them against the store.
    stored = [{"record_id": v.row.id, "record_hash": v.record.record_hash} for v in views]
    return attach(pdf, {BUNDLE: json.dumps(records, indent=2, ensure_ascii=False).encode(),
                        BUNDLE_INDEX: json.dumps(stored, indent=2).encode()},
                  {"/DTPABundleRecords": str(len(views))})


def conditions_csv(views: list[RecordView]) -> str:
    """Every open condition and action across the records, for a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    rows = [["record", "subject", "ward", "outcome_in_force", "rule", "principle_or_area",
             "condition", "owner", "due", "record_status"]]
    for v in views:
        rows += [[v.row.id, v.row.product, v.row.ward or "", v.effective_outcome, c["rule"],
                  c["target"], c["remedy"], c["owner"], c["due"], v.status]
                 for c in condition_plan(v.record)]
    for row in rows:
        writer.writerow([spreadsheet_cell(cell) for cell in row])  # every cell, the header too
    return out.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: one starting with = + - @, a tab or a carriage
    return would be run as a formula (or DDE), so it gets a leading apostrophe (OWASP's advice)."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


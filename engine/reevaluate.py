"""Re-evaluation: run every current stored record against the current rule pack and report which
decisions would change and why. It never rewrites a decision: a change is an audit event that
flags the record for review."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError

from engine.errors import InputInvalid
from engine.models.record import DecisionRecord
from engine.pack import RulePack
from engine.store import RecordView, Store, audit

Progress = Callable[[int, int], None]
BATCH = 500  # records re-evaluated per read, so memory stays flat however many are stored


@dataclass
class Change:
    record_id: str
    before: str
    after: str
    verdicts: dict[str, tuple[str, str]]
    newly_fired: list[str]
    no_longer_fired: list[str]


@dataclass
class Report:
    checked: int = 0
    unchanged: int = 0
    changes: list[Change] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def _compare(view: RecordView, new: DecisionRecord) -> Change | None:
    old = view.record
    verdicts = {v.target: v.verdict for v in old.verdicts}
    moved = {v.target: (verdicts.get(v.target, "-"), v.verdict) for v in new.verdicts
             if verdicts.get(v.target) != v.verdict}
    if old.outcome == new.outcome and not moved:
        return None
    fired_before, fired_now = set(old.trace.rules_fired), set(new.trace.rules_fired)
    return Change(view.row.id, old.outcome, new.outcome, moved, sorted(fired_now - fired_before),
                  sorted(fired_before - fired_now))


def reevaluate(store: Store, pack: RulePack, by: str, role: str,
               evaluate: Callable, progress: Progress | None = None) -> Report:
    report = Report()
    ids = store.latest_ids()
    done = 0
    for start in range(0, len(ids), BATCH):
        for view in store.views(ids[start:start + BATCH]):
            done += 1
            _one(store, pack, by, role, evaluate, view, report)
            if progress:
                progress(done, len(ids))
    return report


def _one(store: Store, pack: RulePack, by: str, role: str, evaluate: Callable, view: RecordView,
         report: Report) -> None:
    from engine.service import validate_assessment

    report.checked += 1
    try:
        new = evaluate(validate_assessment(json.loads(view.row.input_json)), pack)
    except (InputInvalid, ValidationError) as exc:
        report.failed.append((view.row.id, str(exc).splitlines()[0]))
        return
    change = _compare(view, new)
    if change is None:
        report.unchanged += 1
        return
    report.changes.append(change)
    with store.db.write() as session:
        audit.append(session, by, role, "reevaluated", view.row.id, {
            "reason": f"rule pack {pack.header.version} ({pack.hash[:12]}) would decide "
                      f"{change.after} instead of {change.before}",
            "from": change.before, "to": change.after,
            "verdicts": {k: list(v) for k, v in change.verdicts.items()},
            "newly_fired": change.newly_fired, "no_longer_fired": change.no_longer_fired,
            "rule_pack_hash": pack.hash}, flags_review=True)

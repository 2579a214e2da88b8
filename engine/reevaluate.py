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
    from engine.service import validate_assessment

    report = Report()
    views = store.latest()
    for i, view in enumerate(views, 1):
        report.checked += 1
        try:
            assessment = validate_assessment(json.loads(view.row.input_json))
            new = evaluate(assessment, pack)
        except (InputInvalid, ValidationError) as exc:
            report.failed.append((view.row.id, str(exc).splitlines()[0]))
            continue
        change = _compare(view, new)
        if change is None:
            report.unchanged += 1
        else:
            report.changes.append(change)
            with store.db.write() as session:
                audit.append(session, by, role, "reevaluated", view.row.id, {
                    "reason": f"rule pack {pack.header.version} ({pack.hash[:12]}) would decide "
                              f"{change.after} instead of {change.before}",
                    "from": change.before, "to": change.after,
                    "verdicts": {k: list(v) for k, v in change.verdicts.items()},
                    "newly_fired": change.newly_fired, "no_longer_fired": change.no_longer_fired,
                    "rule_pack_hash": pack.hash}, flags_review=True)
        if progress:
            progress(i, len(views))
    return report

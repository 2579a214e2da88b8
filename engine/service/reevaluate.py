"""Re-evaluation: run every current stored record against the current rule pack and report which
decisions would change and why. It never rewrites a decision: a change is an audit event that
flags the record for review."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from engine.errors import EngineFailure, InputInvalid
from engine.knowledge.pack import RulePack
from engine.service.deciding import decide_quickly, validate_assessment
from engine.store import Database, Store, audit

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


Decide = Callable[..., tuple[str, dict[str, str], list[str]]]  # outcome, verdicts, rules fired
# one stored record re-decided: its id, the change (None if none), or why it could not be read
Decided = tuple[str, "Change | None", str | None]


def _compare(record_id: str, old: dict[str, Any], outcome: str, verdicts: dict[str, str],
             fired: list[str]) -> Change | None:
    before = {v["target"]: v["verdict"] for v in old["verdicts"]}
    moved = {t: (before.get(t, "-"), v) for t, v in verdicts.items() if before.get(t) != v}
    if old["outcome"] == outcome and not moved:
        return None
    fired_before, fired_now = set(old["trace"]["rules_fired"]), set(fired)
    return Change(record_id, old["outcome"], outcome, moved, sorted(fired_now - fired_before),
                  sorted(fired_before - fired_now))


def reevaluate(store: Store, pack: RulePack, by: str, role: str,
               decide: Decide, progress: Progress | None = None, workers: int = 1) -> Report:
    """`decide(assessment, pack)` gives the outcome, verdicts and rules fired without building a
    whole record: re-evaluation only needs to know whether the decision would change. With
    several workers, batches are decided in parallel processes; this process alone writes the
    audit events (one writer keeps the chain simple)."""
    report = Report()
    ids = store.latest_ids()
    batches = [ids[i:i + BATCH] for i in range(0, len(ids), BATCH)]
    if workers > 1 and len(batches) > 1:
        ctx = multiprocessing.get_context("spawn")  # no fork of durable_rules' C state
        with ctx.Pool(workers, initializer=_worker_start, initargs=(store.db.url, pack)) as pool:
            _collect(pool.imap(_worker_batch, batches), store, pack, by, role, report, progress,
                     len(ids))
    else:
        _collect((_decide_batch(store, pack, batch, decide) for batch in batches), store, pack, by,
                 role, report, progress, len(ids))
    return report


def _decide_batch(store: Store, pack: RulePack, batch: list[str], decide: Decide) -> list[Decided]:
    out: list[Decided] = []
    for record_id, input_json, record_json in store.stored_decisions(batch):
        try:
            outcome, verdicts, fired = decide(validate_assessment(json.loads(input_json)), pack)
        except (InputInvalid, ValidationError) as exc:
            out.append((record_id, None, str(exc).splitlines()[0]))
            continue
        out.append((record_id, _compare(record_id, json.loads(record_json), outcome, verdicts,
                                        fired), None))
    return out


def _collect(results: Iterable[list[Decided]], store: Store, pack: RulePack, by: str, role: str,
             report: Report, progress: Progress | None, total: int) -> None:
    for batch in results:
        for record_id, change, failure in batch:
            report.checked += 1
            if failure:
                report.failed.append((record_id, failure))
            elif change is None:
                report.unchanged += 1
            else:
                report.changes.append(change)
                _flag(store, pack, by, role, change)
        if progress:
            progress(report.checked, total)


@dataclass
class _Worker:
    """What each worker process holds between batches (set once when the process starts)."""

    store: Store | None = None
    pack: RulePack | None = None


_WORKER = _Worker()


def _worker_start(url: str, pack: RulePack) -> None:
    _WORKER.store, _WORKER.pack = Store(Database(url)), pack


def _worker_batch(batch: list[str]) -> list[Decided]:
    if _WORKER.store is None or _WORKER.pack is None:
        raise EngineFailure("a re-evaluation worker ran before it was started")
    return _decide_batch(_WORKER.store, _WORKER.pack, batch, decide_quickly)


def _flag(store: Store, pack: RulePack, by: str, role: str, change: Change) -> None:
    with store.db.write() as session:
        audit.append(session, by, role, "reevaluated", change.record_id, {
            "reason": f"rule pack {pack.header.version} ({pack.hash[:12]}) would decide "
                      f"{change.after} instead of {change.before}",
            "from": change.before, "to": change.after,
            "verdicts": {k: list(v) for k, v in change.verdicts.items()},
            "newly_fired": change.newly_fired, "no_longer_fired": change.no_longer_fired,
            "rule_pack_hash": pack.hash}, flags_review=True)

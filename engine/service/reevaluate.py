"""Re-evaluation: run every current stored record against the current rule pack and report which
decisions would change and why. It never rewrites a decision: a change is an audit event that
flags the record for review.

Each run is recorded in the audit chain: `reevaluation_started` (a run id, the rule pack's hash,
how many records), then `reevaluation_finished` with the counts, or `reevaluation_interrupted`
(Ctrl-C, or an error: how far it got and why). A run killed outright leaves a start without an
end, which says as much. Running again resumes: a record is flagged at most once per rule pack
hash (a record an earlier run flagged for this pack is reported from its flag, neither decided
nor flagged again), and the report names the unfinished run it completes.

A stored assessment is read with the input rules it was stored under (`validate_stored`): one
that today's stricter rules would refuse (a control character, a date out of range) is still
re-evaluated, and flagged once for review with what those rules say, never rejected."""

from __future__ import annotations

import json
import multiprocessing
import pickle
import signal
import sys
import tempfile
import threading
import types
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.errors import EngineFailure, InputInvalid, Interrupted
from engine.knowledge.pack import RulePack
from engine.service.deciding import decide_quickly, validate_stored
from engine.store import Database, Store, audit
from engine.store.tables import EventRow

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


@dataclass(frozen=True)
class EarlierRun:
    """A re-evaluation with the same rule pack that started and never finished."""

    run: str
    at: str
    by: str
    checked: int | None = None  # how far it got, when its interruption was recorded
    why: str | None = None  # what stopped it; None: no end recorded (the process was killed)


@dataclass
class Report:
    checked: int = 0
    unchanged: int = 0
    changes: list[Change] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    run: str = ""
    resumed: EarlierRun | None = None
    already_flagged: int = 0  # changes an earlier run flagged for this rule pack (not again)
    # records whose stored assessment today's input rules would refuse: the id, what the rules
    # say, and whether an earlier run flagged exactly that already (then it is not flagged again)
    stricter_rules: list[tuple[str, list[str], bool]] = field(default_factory=list)

    @property
    def newly_flagged(self) -> int:
        return len(self.changes) - self.already_flagged


Decide = Callable[..., tuple[str, dict[str, str], list[str]]]  # outcome, verdicts, rules fired

STARTED, FINISHED, STOPPED = "reevaluation_started", "reevaluation_finished", \
    "reevaluation_interrupted"


@dataclass
class Decided:
    """One stored record re-decided: the change (None if none) or why it could not be, what
    today's input rules say about its stored assessment, and whether the change was flagged
    already for this rule pack."""

    record_id: str
    change: Change | None = None
    failure: str | None = None
    stricter: list[str] = field(default_factory=list)
    flagged_before: bool = False


@dataclass
class _Before:
    """What earlier runs did with this rule pack: their flags, and a run left unfinished."""

    changes: dict[str, Change] = field(default_factory=dict)
    stricter: dict[str, set[tuple[str, ...]]] = field(default_factory=dict)
    unfinished: EarlierRun | None = None


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
    audit events (one writer keeps the chain simple). Ctrl-C raises `Interrupted` once the
    interruption is recorded; any other error is recorded and raised as it is."""
    before = _earlier(store, pack.hash)
    report = Report(run=uuid.uuid4().hex[:12], resumed=before.unfinished)
    ids = store.latest_ids()
    _event(store, by, role, STARTED, {
        "run": report.run, "rule_pack_hash": pack.hash, "rule_pack_version": pack.header.version,
        "records": len(ids), "resumes": before.unfinished.run if before.unfinished else None})
    try:
        _run(store, pack, by, role, decide, progress, workers, ids, before, report)
    except KeyboardInterrupt:
        _stopped(store, by, role, pack, report, len(ids), "interrupted (Ctrl-C)")
        raise Interrupted(
            f"re-evaluation interrupted after {report.checked} of {len(ids)} record(s) "
            f"(run {report.run}); the interruption is in the audit log, and the "
            f"{report.newly_flagged} record(s) flagged so far stay flagged") from None
    except BaseException as exc:
        _stopped(store, by, role, pack, report, len(ids), type(exc).__name__)
        raise
    _event(store, by, role, FINISHED, {
        "run": report.run, "rule_pack_hash": pack.hash, "checked": report.checked,
        "changed": len(report.changes), "newly_flagged": report.newly_flagged,
        "already_flagged": report.already_flagged, "unchanged": report.unchanged,
        "failed": len(report.failed), "stricter_rules": len(report.stricter_rules)})
    return report


def _run(store: Store, pack: RulePack, by: str, role: str, decide: Decide,
         progress: Progress | None, workers: int, ids: list[str], before: _Before,
         report: Report) -> None:
    batches = [(ids[i:i + BATCH], {r: before.changes[r] for r in ids[i:i + BATCH]
                                   if r in before.changes}) for i in range(0, len(ids), BATCH)]
    if workers > 1 and len(batches) > 1:
        with _pool(store.db.url, pack, workers) as pool:
            with _no_main_script():  # map submits every batch now, starting the workers it needs
                decided = pool.map(_worker_batch, batches)
            _collect(decided, store, pack, by, role, report, progress, len(ids), before)
    else:
        _collect((_decide_batch(store, pack, batch, known, decide) for batch, known in batches),
                 store, pack, by, role, report, progress, len(ids), before)


def _decide_batch(store: Store, pack: RulePack, batch: list[str], known: Mapping[str, Change],
                  decide: Decide) -> Iterator[Decided]:
    """Each record of the batch as it is decided (in this process, each is flagged before the
    next is decided, so an interruption loses no flag)."""
    for record_id, input_json, record_json in store.stored_decisions(batch):
        try:
            assessment, stricter = validate_stored(json.loads(input_json))
        except (InputInvalid, ValueError) as exc:  # ValueError: no longer JSON at all
            yield Decided(record_id, failure=(str(exc).splitlines() or ["unreadable"])[0])
            continue
        if record_id in known:  # flagged for this rule pack already: the same decision again
            yield Decided(record_id, known[record_id], stricter=stricter, flagged_before=True)
            continue
        try:
            outcome, verdicts, fired = decide(assessment, pack)
        except (InputInvalid, ArithmeticError, ValueError) as exc:
            # e.g. a date stored before dates were bounded, which overflows a review date
            yield Decided(record_id, failure=str(exc).splitlines()[0] or type(exc).__name__,
                          stricter=stricter)
            continue
        yield Decided(record_id, _compare(record_id, json.loads(record_json), outcome, verdicts,
                                          fired), stricter=stricter)


def _collect(results: Iterable[Iterable[Decided]], store: Store, pack: RulePack, by: str, role: str,
             report: Report, progress: Progress | None, total: int, before: _Before) -> None:
    for batch in results:
        for d in batch:
            with _whole():
                _record_one(d, store, pack, by, role, report, before)
        if progress:
            progress(report.checked, total)


def _record_one(d: Decided, store: Store, pack: RulePack, by: str, role: str, report: Report,
                before: _Before) -> None:
    """Flag what a record needs and count it, together."""
    if d.stricter:
        seen = tuple(d.stricter) in before.stricter.get(d.record_id, set())
        if not seen:
            _flag_stricter(store, pack, by, role, d.record_id, d.stricter)
        report.stricter_rules.append((d.record_id, d.stricter, seen))
    if d.failure:
        report.failed.append((d.record_id, d.failure))
    elif d.change is None:
        report.unchanged += 1
    elif d.flagged_before:
        report.changes.append(d.change)
        report.already_flagged += 1
    else:
        _flag(store, pack, by, role, d.change)
        report.changes.append(d.change)
    report.checked += 1


@contextmanager
def _whole() -> Iterator[None]:
    """Ctrl-C waits until the record in hand is flagged and counted, so what the interruption
    records is what was stored (in the main thread; elsewhere no signal arrives)."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is None:
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _earlier(store: Store, pack_hash: str) -> _Before:
    """The flags earlier runs left for this rule pack, and the latest run with it if that run
    never finished (interrupted, or killed before it could say so)."""
    before = _Before()
    runs: dict[str, EarlierRun] = {}
    latest: str | None = None
    with store.db.read() as session:
        events = session.execute(select(EventRow.action, EventRow.record_id, EventRow.detail,
                                        EventRow.at, EventRow.actor).where(EventRow.action.in_(
            ("reevaluated", "flagged", STARTED, FINISHED, STOPPED))).order_by(EventRow.seq)).all()
    for action, record_id, detail, at, actor in events:
        detail = detail if isinstance(detail, dict) else {}
        if action == "flagged" and record_id and detail.get("kind") == "stricter_input_rules":
            before.stricter.setdefault(record_id, set()).add(tuple(detail.get("problems") or ()))
        if detail.get("rule_pack_hash") != pack_hash:
            continue
        if action == "reevaluated" and record_id:
            before.changes[record_id] = Change(
                record_id, str(detail.get("from")), str(detail.get("to")),
                {t: (v[0], v[1]) for t, v in (detail.get("verdicts") or {}).items()},
                list(detail.get("newly_fired") or []), list(detail.get("no_longer_fired") or []))
        elif action == STARTED:
            latest = str(detail.get("run"))
            runs[latest] = EarlierRun(latest, at, actor)
        elif action == STOPPED and detail.get("run") in runs:
            run = runs[detail["run"]]
            runs[run.run] = EarlierRun(run.run, run.at, run.by, detail.get("checked"),
                                       detail.get("why"))
        elif action == FINISHED:
            runs.pop(str(detail.get("run")), None)
    before.unfinished = runs.get(latest) if latest else None
    return before


def _event(store: Store, by: str, role: str, action: str, detail: dict[str, Any]) -> None:
    with store.db.write() as session:
        audit.append(session, by, role, action, None, detail)


def _stopped(store: Store, by: str, role: str, pack: RulePack, report: Report, total: int,
             why: str) -> None:
    """Record how far an interrupted run got. Best effort: when the store itself is what
    failed, the start without an end in the chain still says the run did not finish."""
    try:
        _event(store, by, role, STOPPED, {
            "run": report.run, "rule_pack_hash": pack.hash, "checked": report.checked,
            "of": total, "newly_flagged": report.newly_flagged, "why": why})
    except Exception:  # the original error is the one to raise
        pass


@dataclass
class _Worker:
    """What each worker process holds between batches (set once when the process starts)."""

    store: Store | None = None
    pack: RulePack | None = None


_WORKER = _Worker()


@contextmanager
def _pool(url: str, pack: RulePack, workers: int) -> Iterator[ProcessPoolExecutor]:
    """Worker processes, each with its own store connection and the pack. The pack goes by a
    private file, not in the start-up message: a worker that dies before reading a message larger
    than a pipe holds would leave the parent blocked writing it. A worker that dies at any time
    breaks the pool, which ends the run with an error (recorded) instead of a wait for ever."""
    ctx = multiprocessing.get_context("spawn")  # no fork of durable_rules' C state
    with tempfile.TemporaryDirectory(prefix="dtpa-reevaluate-") as folder:
        packed = Path(folder) / "pack.pickle"
        packed.write_bytes(_packed(pack))
        pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_start,
                                   initargs=(url, str(packed)))
        try:
            yield pool
        except BrokenProcessPool as exc:
            raise EngineFailure("a re-evaluation worker process stopped unexpectedly; the records "
                                "flagged so far stay flagged, and running it again resumes") from exc
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _no_main_script() -> Iterator[None]:
    """While workers start, `__main__` is an empty module: a spawned worker runs the parent's main
    script again before anything else, and under Streamlit (or its test harness) that is a page of
    the web app, which fails outside a session. Workers need only this module."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _packed(pack: RulePack) -> bytes:
    return pickle.dumps(pack)


def _worker_start(url: str, packed: str) -> None:
    # Ctrl-C is for the parent alone: it records the interruption and stops the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Our own file, written a moment ago in a private temporary folder.
    _WORKER.store, _WORKER.pack = Store(Database(url)), pickle.loads(Path(packed).read_bytes())  # noqa: S301


def _worker_batch(work: tuple[list[str], dict[str, Change]]) -> list[Decided]:
    if _WORKER.store is None or _WORKER.pack is None:
        raise EngineFailure("a re-evaluation worker ran before it was started")
    batch, known = work
    return list(_decide_batch(_WORKER.store, _WORKER.pack, batch, known, decide_quickly))


def _flag(store: Store, pack: RulePack, by: str, role: str, change: Change) -> None:
    with store.db.write() as session:
        audit.append(session, by, role, "reevaluated", change.record_id, {
            "reason": f"rule pack {pack.header.version} ({pack.hash[:12]}) would decide "
                      f"{change.after} instead of {change.before}",
            "from": change.before, "to": change.after,
            "verdicts": {k: list(v) for k, v in change.verdicts.items()},
            "newly_fired": change.newly_fired, "no_longer_fired": change.no_longer_fired,
            "rule_pack_hash": pack.hash}, flags_review=True)


def _flag_stricter(store: Store, pack: RulePack, by: str, role: str, record_id: str,
                   problems: list[str]) -> None:
    """A record stored before an input rule it breaks: kept and readable, flagged for review
    once for what the rules say about it."""
    with store.db.write() as session:
        audit.append(session, by, role, "flagged", record_id, {
            "reason": "stored before a stricter input rule: " + "; ".join(problems),
            "kind": "stricter_input_rules", "problems": problems,
            "rule_pack_hash": pack.hash}, flags_review=True)

"""The record store on SQLite and PostgreSQL: versions, links, sign-off, overrides, review dates,
re-evaluation. (Tampering and faults are in test_store_integrity.py.)"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from engine import service
from engine.errors import InputInvalid, RecordNotFound, StoreConflict
from engine.export.terminal import governance_text, record_text
from engine.knowledge.pack import load_pack
from tests.conftest import ALL_ATTESTATIONS, approve, individual_for, load_case

ROOT = Path(__file__).resolve().parent.parent


def save_product(store, name="vbm-individual-decision.yaml", **kw):
    return service.save_assessment(load_case(name), "Dr Ada Obi", "panel_chair", store, **kw)


def test_saving_stores_input_record_and_hashes(store):
    view = save_product(store)
    assert view.row.id.startswith("PRO-") and view.row.id.endswith("@1")
    again = store.get(view.row.key)
    assert again.record.record_hash == view.record.record_hash == again.row.record_hash
    assert again.row.input_hash == view.record.input_hash
    assert again.record.outcome == "supported_with_conditions"
    assert store.verify().ok


def test_a_change_is_a_new_version_and_history_is_kept(store):
    first = save_product(store)
    changed = load_case("vbm-individual-decision.yaml").model_copy(update={"title": "Revised"})
    second = service.save_assessment(changed, "Dr Ada Obi", "panel_chair", store,
                                     supersedes=first.row.key)
    assert second.row.id == f"{first.row.key}@2"
    assert store.get(first.row.id).superseded_by == second.row.id
    assert store.get(first.row.key).row.version == 2
    rows, events = store.history(first.row.key)
    assert [r.version for r in rows] == [1, 2]
    assert [e.action for e in events] == ["created", "created", "superseded"]
    with pytest.raises(StoreConflict, match="superseded"):
        store.sign(first.row.id, "Sam Patel", "dpo", ALL_ATTESTATIONS)


def test_sign_off_needs_every_required_role_and_all_attestations(store):
    view = save_product(store)
    assert not view.approved and "dpo" in view.missing_roles
    with pytest.raises(InputInvalid, match="missing: actions_will_be_done"):
        store.sign(view.row.id, "Sam Patel", "dpo", ALL_ATTESTATIONS[:3])
    with pytest.raises(InputInvalid, match="unknown role"):
        store.sign(view.row.id, "Sam Patel", "wizard", ALL_ATTESTATIONS)
    store.sign(view.row.id, "Sam Patel", "dpo", ALL_ATTESTATIONS)
    with pytest.raises(StoreConflict, match="already signed"):
        store.sign(view.row.id, "Sam Patel", "dpo", ALL_ATTESTATIONS)
    approve(store, view.row.id)
    final = store.get(view.row.id)
    assert final.approved and final.status == "approved"


def test_an_override_keeps_the_engines_verdict_visible(store):
    view = save_product(store)
    reason = "An independent controlled study was published after the assessment"
    with pytest.raises(InputInvalid, match="reason in words: at least 5 words"):
        store.override(view.row.id, "P7", "met", "Dr Ada Obi", "panel_chair", "because")
    with pytest.raises(InputInvalid, match="not a value"):
        store.override(view.row.id, "P7", "brilliant", "Dr Ada Obi", "panel_chair", reason)
    store.override(view.row.id, "outcome", "supported", "Dr Ada Obi", "panel_chair", reason)
    shown = store.get(view.row.id)
    assert shown.record.outcome == "supported_with_conditions"  # the engine's decision stays
    assert shown.effective_outcome == "supported"
    text = governance_text(shown)
    assert "engine decided supported_with_conditions" in text and reason in text
    assert "engine said supported_with_conditions, Dr Ada Obi (panel_chair) set supported" in text
    assert "OUTCOME: Supported with conditions" in record_text(shown.record)


def test_individual_use_takes_the_product_decision_from_the_store(store):
    product = save_product(store)
    check = individual_for(product.row.key)
    unapproved = service.save_assessment(check, "Nurse Kim", "clinician", store)
    assert unapproved.record.relies_on == product.row.id
    assert "POL-IND-004" in unapproved.record.trace.rules_fired  # not signed off yet
    assert unapproved.record.outcome == "not_supported"

    approve(store, product.row.id)
    approved = service.save_assessment(check, "Nurse Kim", "clinician", store)
    assert approved.record.outcome == "supported_with_conditions"  # never better than its product

    other_version = individual_for(product.row.key, technology__version="5.0")
    assert "POL-IND-003" in service.save_assessment(
        other_version, "Nurse Kim", "clinician", store).record.trace.rules_fired
    later = individual_for(product.row.key, assessed_on="2026-03-01")
    assert "P7-IND-002" in service.save_assessment(
        later, "Nurse Kim", "clinician", store).record.trace.rules_fired  # product decision expired

    with pytest.raises(InputInvalid, match="not a stored product decision"):
        service.save_assessment(individual_for("PRO-00000000"), "Nurse Kim", "clinician", store)


def test_reviews_due_overdue_and_flagged_by_a_product_version_change(store):
    product = save_product(store)  # review date 2025-11-30 (Cyber Essentials expiry)
    approve(store, product.row.id)
    use = service.save_assessment(individual_for(product.row.key), "Nurse Kim", "clinician", store)
    assert [v.row.id for v, _ in store.due(14, today=dt.date(2025, 3, 10))] == [use.row.id]
    due_late = dict((v.row.id, why) for v, why in store.due(14, today=dt.date(2025, 12, 5)))
    assert "overdue since 2025-11-30" in due_late[product.row.id]

    upgraded = load_case("vbm-individual-decision.yaml")
    upgraded = upgraded.model_copy(update={"technology": upgraded.technology.model_copy(
        update={"version": "4.3"})})
    service.save_assessment(upgraded, "Dr Ada Obi", "panel_chair", store, supersedes=product.row.key)
    flagged = dict((v.row.id, why) for v, why in store.due(0, today=dt.date(2025, 3, 1)))
    assert "changed version (4.2 -> 4.3)" in flagged[use.row.id]


def test_reevaluation_flags_changed_decisions_and_never_rewrites_them(store, tmp_path):
    product = save_product(store)
    untouched = save_product(store, "feedback-kiosk.yaml")
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    path = rules / "p7_evidence.yaml"  # the panel decides vendor-only evidence is now a blocker
    text = path.read_text()
    start = text.index("- id: P7-PRO-001")
    path.write_text(text[:start] + text[start:].replace("severity: condition", "severity: blocker", 1))
    report = service.reevaluate_all("Dr Ada Obi", "panel_chair", store, load_pack(rules))
    assert report.checked == 2 and report.unchanged == 1 and not report.failed
    (change,) = report.changes
    assert (change.record_id, change.before, change.after) == (
        product.row.id, "supported_with_conditions", "not_supported")
    assert change.verdicts["P7"] == ("met_with_conditions", "not_met")
    after = store.get(product.row.id)
    assert after.record.record_hash == product.record.record_hash  # decision not rewritten
    assert after.review_flags and "would decide not_supported" in after.review_flags[0].detail["reason"]
    assert store.get(untouched.row.id).review_flags == []
    assert store.verify().ok


def test_unknown_record_ids_are_clear_errors(store):
    with pytest.raises(RecordNotFound, match="no stored record 'PRO-nothing'"):
        store.get("PRO-nothing")
    with pytest.raises(RecordNotFound, match="not a record id"):
        store.get("PRO-1@two")


def test_the_same_idempotency_key_stores_once(store):
    a = save_product(store, idempotency_key="panel-2025-03-03")
    b = save_product(store, idempotency_key="panel-2025-03-03")
    assert a.row.id == b.row.id and store.count() == 1
    with pytest.raises(StoreConflict, match="different assessment"):
        save_product(store, "feedback-kiosk.yaml", idempotency_key="panel-2025-03-03")
    assert store.count() == 1


def test_viewing_a_patient_record_is_audited(store):
    product = save_product(store)
    use = service.save_assessment(individual_for(product.row.key), "Nurse Kim", "clinician", store)
    store.get(use.row.id, viewer=("Dr Lee", "clinician"))
    store.get(product.row.id, viewer=("Dr Lee", "clinician"))  # a product record: not a patient's
    _, events = store.history(use.row.key)
    assert [(e.action, e.actor) for e in events][-1] == ("viewed", "Dr Lee")
    assert [e.action for e in store.history(product.row.key)[1]] == ["created"]


def test_seeding_the_case_studies_is_idempotent_and_decides_as_declared(store):
    import yaml

    first = service.seed_case_studies(store)
    again = service.seed_case_studies(store)
    assert [v.row.id for v in first] == [v.row.id for v in again]
    assert store.count() == len(first) == len(list((ROOT / "case_studies").glob("*.yaml")))
    for view in first:
        stem = view.row.idempotency_key.split(":", 1)[1]
        expected = yaml.safe_load((ROOT / "case_studies" / f"{stem}.yaml").read_text())["expected"]
        outcomes = expected["outcome"] if isinstance(expected["outcome"], list) else [expected["outcome"]]
        assert view.record.outcome in outcomes, stem
    assert store.verify().ok


def test_drafts_are_saved_and_loaded_but_are_not_decisions(store):
    data = load_case("vbm-individual-decision.yaml").model_dump(mode="json", exclude_none=True)
    store.save_draft("Willow monitor, March", "procurement", data, "Dr Ada Obi")
    store.save_draft("Willow monitor, March", "procurement", {**data, "title": "Changed"}, "Dr Ada Obi")
    (draft,) = store.drafts("procurement")
    assert draft.data["title"] == "Changed" and store.count() == 0
    assert store.draft("Willow monitor, March").saved_by == "Dr Ada Obi"
    with pytest.raises(RecordNotFound):
        store.draft("nothing")
    with pytest.raises(InputInvalid):
        store.save_draft("  ", "procurement", data, "Dr Ada Obi")
    assert store.verify().ok and store.verify().events == 0


def test_parallel_reevaluation_finds_the_same_changes(store, tmp_path):
    from engine.service.reevaluate import BATCH

    cases = [load_case("vbm-individual-decision.yaml"), load_case("feedback-kiosk.yaml")]
    records = [service.evaluate(c) for c in cases]
    for i in range(BATCH + 20):  # more than one batch, so the pool is used
        store.save(cases[i % 2].model_dump(mode="json"), records[i % 2], "Bench", "panel_chair", f"p{i}")
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    path = rules / "p7_evidence.yaml"
    text = path.read_text()
    start = text.index("- id: P7-PRO-001")
    path.write_text(text[:start] + text[start:].replace("severity: condition", "severity: blocker", 1))
    pack = load_pack(rules)
    report = service.reevaluate_all("Dr Ada Obi", "dpo", store, pack, workers=2)
    assert report.checked == BATCH + 20 and not report.failed
    assert len(report.changes) == (BATCH + 20 + 1) // 2  # every monitor record, no kiosk record
    assert {c.after for c in report.changes} == {"not_supported"}
    assert store.verify().ok


def test_a_worker_that_cannot_start_ends_the_run_with_an_error_not_a_wait(store, monkeypatch):
    # A worker process dying at start-up (here: it cannot read the pack) used to leave the parent
    # waiting for ever on the pool; now the run stops with an error, and the stop is recorded.
    import threading

    from engine.errors import EngineFailure
    from engine.service import reevaluate as reevaluation
    from engine.service.reevaluate import BATCH

    case = load_case("feedback-kiosk.yaml")
    record = service.evaluate(case)
    for i in range(BATCH + 1):  # two batches, so the pool is used
        store.save(case.model_dump(mode="json"), record, "Bench", "panel_chair", f"w{i}")
    monkeypatch.setattr(reevaluation, "_packed", lambda pack: b"not a pickle")
    outcome: list[BaseException | object] = []
    run = threading.Thread(target=lambda: outcome.append(_raised(
        lambda: service.reevaluate_all("Dr Ada Obi", "dpo", store, workers=2))), daemon=True)
    run.start()
    run.join(timeout=120)
    assert not run.is_alive(), "re-evaluation hung on a worker that could not start"
    assert isinstance(outcome[0], EngineFailure)
    assert "worker process stopped" in str(outcome[0])
    with store.db.read() as session:
        last = session.execute(text("SELECT action, detail FROM audit_events ORDER BY seq DESC")).first()
    assert last[0] == "reevaluation_interrupted" and "EngineFailure" in str(last[1])


def _raised(call):
    try:
        return call()
    except BaseException as exc:  # noqa: BLE001 - the test inspects what was raised
        return exc


def test_parallel_reevaluation_works_when_main_is_a_web_page(store, tmp_path, monkeypatch):
    # Under Streamlit (and its test harness) __main__ is a page script that fails outside a
    # session; spawned workers must not run it again.
    import sys
    import types

    from engine.service.reevaluate import BATCH

    page = tmp_path / "page.py"
    page.write_text("raise RuntimeError('a web page run in a re-evaluation worker')\n")
    main = types.ModuleType("__main__")
    main.__file__, main.__spec__ = str(page), None
    monkeypatch.setitem(sys.modules, "__main__", main)
    case = load_case("feedback-kiosk.yaml")
    record = service.evaluate(case)
    for i in range(2 * BATCH + 1):  # three batches for two workers
        store.save(case.model_dump(mode="json"), record, "Bench", "panel_chair", f"m{i}")
    report = service.reevaluate_all("Dr Ada Obi", "dpo", store, workers=2)
    assert report.checked == 2 * BATCH + 1 and not report.failed

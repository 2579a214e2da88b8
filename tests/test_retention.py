"""Retention without breaking proof (issue 12, item 9): individual uses past the profile's period
lose their patient payload and stay as tombstones that still verify; `audit verify` tells an
authorised erasure and a restore from backup apart from tampering. SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from engine import service
from engine.cli import app
from engine.errors import AccessDenied, InputInvalid, StoreConflict
from engine.models.people import Actor
from engine.models.vocab import Role
from engine.service import retention
from engine.service.session import Access
from engine.store.retention import add_years
from engine.store.tables import EventRow, RecordRow
from tests.conftest import ALL_ATTESTATIONS, approve, cli_token, individual_for, load_case

runner = CliRunner()
YEARS = service.default_pack().profile.retention.individual_use_years
LATER = add_years(dt.date.today(), YEARS)  # the first day today's records may be erased
PAYLOAD = ("title", "patient_reference", "input_json", "record_json")


def stored(store) -> tuple[str, str]:
    """A signed-off product decision and an individual use relying on it, signed."""
    product = service.save_assessment(load_case("vbm-individual-decision.yaml"), "Dr Ada Obi",
                                      "panel_chair", store)
    approve(store, product.row.id)
    use = service.save_assessment(individual_for(product.row.id), "Dr Lee Chan", "clinician", store)
    store.sign(use.row.id, "Dr Lee Chan", "clinician", ALL_ATTESTATIONS)
    assert use.row.patient_reference and store.verify().ok
    return product.row.id, use.row.id


def erase(store, today=LATER, dry_run=False, role="dpo"):
    return retention.erase_expired("Sam Patel", role, store, dry_run=dry_run, today=today)


def row(store, rid: str) -> RecordRow:
    with store.db.read() as session:
        return session.get(RecordRow, rid)


def events(store) -> list[EventRow]:
    with store.db.read() as session:
        return list(session.execute(select(EventRow).order_by(EventRow.seq)).scalars())


def raw(store, sql: str, **params) -> None:
    with store.db.engine.begin() as conn:
        conn.execute(text(sql), params)


def test_records_past_the_period_are_erased_and_verify_reports_the_erasure(store):
    product, use = stored(store)
    assert erase(store, today=LATER - dt.timedelta(days=1)).records == []  # not yet
    before = row(store, use)

    run = erase(store)

    assert [e.record_id for e in run.records] == [use] and not run.dry_run
    assert run.rule == f"profile national-default: retention.individual_use_years = {YEARS}"
    tomb = row(store, use)
    assert (tomb.title, tomb.patient_reference, tomb.input_json, tomb.record_json) == \
        (None, None, "", "")
    kept = ("id", "key", "version", "context", "ward", "outcome", "record_hash", "input_hash",
            "relies_on", "created_by")
    assert all(getattr(tomb, c) == getattr(before, c) for c in kept)
    last = events(store)[-1]
    assert (last.action, last.record_id, last.actor, last.role) == ("record_erased", use,
                                                                    "Sam Patel", "dpo")
    assert last.detail["rule"] == "retention.individual_use_years" and \
        last.detail["years"] == YEARS and last.detail["record_hash"] == before.record_hash
    assert (tomb.erased_at, tomb.erasure_rule) == (last.at, run.rule)

    result = store.verify()
    assert result.ok, result.problems
    assert len(result.erased) == 1 and result.erased[0].startswith(
        f"record {use}: payload erased on {last.at[:10]} by Sam Patel (dpo) under {run.rule}")
    assert result.restored == []
    assert row(store, product).input_json  # the product decision is untouched
    assert erase(store).records == []  # nothing left to erase


def test_a_dry_run_changes_nothing(store):
    _, use = stored(store)
    store.save_draft("alice:night checks", "individual_use", {"patient": {"ward": "Oak"}}, "alice")
    count, before = len(events(store)), row(store, use)

    run = erase(store, dry_run=True)

    assert run.dry_run and [e.record_id for e in run.records] == [use] and run.drafts == 1
    after = row(store, use)
    assert all(getattr(after, c) == getattr(before, c) for c in (*PAYLOAD, "erased_at"))
    assert len(events(store)) == count and len(store.drafts()) == 1


def test_old_patient_drafts_are_deleted_with_the_payloads(store):
    store.save_draft("alice:night checks", "individual_use", {"patient": {"ward": "Oak"}}, "alice")
    store.save_draft("panel draft", "procurement", {}, "bob")
    assert erase(store, today=dt.date.today()).drafts == 0
    assert erase(store).drafts == 1
    assert [d.name for d in store.drafts()] == ["panel draft"]


def test_a_payload_emptied_without_an_event_is_tampering(store):
    _, use = stored(store)
    raw(store, "UPDATE records SET record_json = '', input_json = '', patient_reference = NULL "
               "WHERE id = :id", id=use)
    result = store.verify()
    assert f"record {use}: its payload was emptied outside DTPA (no 'record_erased' event in the " \
           "audit chain): tampering" in result.problems
    assert result.erased == []
    assert row(store, use).record_json == "" and store.get(use).status == "payload missing"


def test_a_forged_erasure_marker_is_tampering(store):
    _, use = stored(store)
    raw(store, "UPDATE records SET erased_at = '2030-01-01T00:00:00Z' WHERE id = :id", id=use)
    assert f"record {use}: it is marked erased (2030-01-01T00:00:00Z) but the audit chain " \
           "recorded no erasure: tampering" in store.verify().problems


def test_an_altered_tombstone_is_tampering(store):
    _, use = stored(store)
    erase(store)
    raw(store, "UPDATE records SET patient_reference = 'WIL-0042', outcome = 'supported' "
               "WHERE id = :id", id=use)
    problems = store.verify().problems
    assert f"record {use}: erased, yet a patient reference or title was written back" in problems
    assert any(p.startswith(f"record {use}: the outcome column (supported) differs") for p in problems)


def test_a_changed_column_of_a_tombstone_is_tampering(store):
    _, use = stored(store)
    erase(store)
    raw(store, "UPDATE records SET ward = 'Ash Ward', review_date = NULL WHERE id = :id", id=use)
    problems = store.verify().problems
    for column in ("ward", "review_date"):
        assert f"record {use}: the {column} column of the tombstone differs from what its " \
               f"'record_erased' event {events(store)[-1].seq} kept: changed outside DTPA" in problems
    assert not any("Ash Ward" in p for p in problems)  # a ward is never printed


def test_a_record_that_fails_its_integrity_check_is_not_erased(store):
    _, use = stored(store)
    raw(store, "UPDATE records SET ward = 'Ash Ward' WHERE id = :id", id=use)
    for dry_run in (True, False):
        run = erase(store, dry_run=dry_run)
        assert run.records == [] and [r for r, _ in run.refused] == [use]
    assert row(store, use).record_json and row(store, use).erased_at is None  # kept as evidence


def test_a_deleted_tombstone_is_tampering(store):
    _, use = stored(store)
    erase(store)
    raw(store, "DELETE FROM signoffs WHERE record_id = :id", id=use)
    raw(store, "DELETE FROM records WHERE id = :id", id=use)
    problems = store.verify().problems
    assert f"record {use} is missing (deleted), though the audit chain recorded its creation" in problems


def test_a_payload_restored_after_erasure_is_reported_as_restored(store):
    _, use = stored(store)
    backup = row(store, use)
    erase(store)
    # A backup taken before the erasure restored over the row (the chain kept the erasure).
    raw(store, "UPDATE records SET title = :title, patient_reference = :ref, input_json = :input, "
               "record_json = :record, erased_at = NULL, erasure_rule = NULL WHERE id = :id",
        title=backup.title, ref=backup.patient_reference, input=backup.input_json,
        record=backup.record_json, id=use)

    result = store.verify()
    assert result.ok, result.problems
    assert len(result.restored) == 1 and result.restored[0].startswith(
        f"record {use}: its payload, erased on ")
    assert "restored from a backup" in result.restored[0]
    assert store.get(use).record.subject.patient_reference == backup.patient_reference

    again = erase(store)  # the next run erases it again
    assert [(e.record_id, e.again) for e in again.records] == [(use, True)]
    result = store.verify()
    assert result.ok and result.restored == [] and len(result.erased) == 1


def test_a_restored_payload_that_does_not_match_its_hash_is_tampering(store):
    _, use = stored(store)
    backup = row(store, use)
    erase(store)
    raw(store, "UPDATE records SET input_json = :input, record_json = :record WHERE id = :id",
        input=backup.input_json, record=backup.record_json.replace("Night", "Day"), id=use)
    problems = store.verify().problems
    assert f"record {use}: the stored decision record was altered (hash mismatch)" in problems
    assert any(p.startswith(f"record {use}: a payload is back after its erasure") for p in problems)


def test_a_tombstone_can_be_listed_shown_and_exported(store, monkeypatch):
    product, use = stored(store)
    erase(store)
    view = store.get(use)
    assert retention.erased(view) and view.status.startswith("erased on ")
    assert view.record.subject.patient_reference is None and view.record.findings == []
    assert view.record.record_hash == row(store, use).record_hash
    assert "erased on" in retention.erasure(view) and view.row.record_hash in retention.erasure(view)
    assert use in [v.row.id for v in store.latest()]
    assert use not in [v.row.id for v, _ in store.due(36500, today=LATER)]
    assert product in [v.row.id for v, _ in store.due(36500, today=LATER)]

    data, name = service.export_stored(use, "json", "Sam Patel", "dpo", store)
    tomb = json.loads(data)
    assert name == f"{use}.json" and tomb["erased"] is True
    assert tomb["record_hash"] == view.row.record_hash and "patient_reference" not in tomb
    with pytest.raises(StoreConflict, match="erased on .* Only its JSON tombstone"):
        service.export_stored(use, "pdf", "Sam Patel", "dpo", store)
    with pytest.raises(StoreConflict, match="cannot be signed"):
        store.sign(use, "Dr Kim Lo", "nurse_in_charge", ALL_ATTESTATIONS)
    with pytest.raises(StoreConflict, match="cannot be overridden"):
        store.override(use, "outcome", "supported", "Dr Lee Chan", "clinician",
                       "The patient's circumstances changed after the assessment was made")
    report = service.reevaluate_all("Sam Patel", "dpo", store)
    assert report.checked == 1 and not report.failed  # the product decision only

    dpo = Access(Actor(username="sam", name="Sam Patel", role=Role.dpo), store)
    assert [v.row.id for v in dpo.records()] == [product, use]
    exported = []
    monkeypatch.setattr(service, "export_bundle",
                        lambda views, *a, **k: exported.extend(v.row.id for v in views) or (b"", ""))
    dpo.bundle("All records")
    assert exported == [product]  # a bundle skips the tombstone


def test_the_command_line_reads_erases_and_verifies(store, store_url):
    _, use = stored(store)
    dpo = {"DTPA_TOKEN": cli_token(store, "dpo")}
    clinician = {"DTPA_TOKEN": cli_token(store, "clinician", ["Oak Ward", "Willow Ward"])}

    dry = runner.invoke(app, ["records", "erase-expired", "--dry-run", "--db", store_url], env=dpo)
    assert dry.exit_code == 0, dry.output
    assert "Dry run: 0 record version(s)" in dry.output  # today nothing has expired
    refused = runner.invoke(app, ["records", "erase-expired", "--db", store_url], env=clinician)
    assert refused.exit_code == 6 and "may not erase expired" in refused.output

    erase(store)
    listed = runner.invoke(app, ["records", "list", "--db", store_url], env=dpo)
    assert listed.exit_code == 0 and "erased on" in listed.output, listed.output
    shown = runner.invoke(app, ["records", "show", use, "--db", store_url], env=dpo)
    assert shown.exit_code == 0 and "Payload erased on" in shown.output, shown.output
    as_json = runner.invoke(app, ["records", "show", use, "--json", "--db", store_url], env=dpo)
    assert json.loads(as_json.output)["tombstone"]["id"] == use
    history = runner.invoke(app, ["records", "history", use, "--db", store_url], env=dpo)
    assert history.exit_code == 0 and "record_erased" in history.output, history.output
    verified = runner.invoke(app, ["audit", "verify", "--db", store_url], env=dpo)
    assert verified.exit_code == 0, verified.output
    assert f"ERASED: record {use}: payload erased on" in verified.output
    assert "(1 erased under the retention rule)" in verified.output


def test_product_decisions_are_never_erased(store):
    product, use = stored(store)
    run = erase(store, today=add_years(dt.date.today(), 200))
    assert [e.record_id for e in run.records] == [use]
    assert row(store, product).record_json and row(store, product).erased_at is None
    assert not retention.erased(store.get(product))


def test_only_a_dpo_or_an_administrator_erases(store):
    stored(store)
    with pytest.raises(AccessDenied):
        erase(store, role="clinician")
    assert erase(store, role="administrator", dry_run=True).records


def test_a_profile_without_a_retention_period_erases_nothing(store, pack):
    stored(store)
    bare = dataclasses.replace(pack, profile=pack.profile.model_copy(update={"retention": None}))
    with pytest.raises(InputInvalid, match="sets no retention period"):
        retention.erase_expired("Sam Patel", "dpo", store, bare, today=LATER)


def test_the_period_is_counted_in_whole_years():
    assert add_years(dt.date(2024, 2, 29), 1) == dt.date(2025, 2, 28)
    assert add_years(dt.date(2025, 3, 10), 8) == dt.date(2033, 3, 10)

"""What the store hashes: RFC 8785 canonical bytes, computed once when written and kept exactly;
every check hashes the stored bytes. Stores written before (the old scheme) still verify, and
unknown roles are refused by the store itself. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rfc8785
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from engine import service
from engine.errors import AuditKeyMissing, InputInvalid, StoreConflict
from engine.hashing import LEGACY, RFC8785, sha256_bytes
from engine.models.record import seal
from engine.store import Database, Store, audit, integrity, keys
from engine.store.db import MIGRATIONS
from tests.conftest import ALL_ATTESTATIONS, load_case

LEGACY_ROWS = Path(__file__).resolve().parent / "fixtures" / "legacy_store.json"


def raw(store, sql: str, **params):
    with store.db.engine.begin() as conn:
        return conn.execute(text(sql), params)


def saved(store):
    view = service.save_assessment(load_case("tablets-family-calls.yaml"), "Dr Ada Obi",
                                   "panel_chair", store)
    store.sign(view.row.id, "Sam Patel", "dpo", ALL_ATTESTATIONS)
    store.override(view.row.id, "P7", "met", "Dr Ada Obi", "panel_chair",
                   "Independent evidence arrived after the assessment was made")
    return view


def test_the_store_keeps_the_rfc8785_bytes_it_hashed(store):
    view = saved(store)
    row = raw(store, "SELECT record_json, input_json, record_hash, input_hash, hash_scheme "
                     "FROM records").one()
    assert row.hash_scheme == RFC8785 == view.record.hash_scheme
    body = view.record.model_dump(mode="json", exclude={"record_hash"})
    assert row.record_json.encode() == rfc8785.dumps(body)  # exactly these bytes, no hash in them
    assert sha256_bytes(row.record_json.encode()) == row.record_hash == view.record.record_hash
    assessment = load_case("tablets-family-calls.yaml").model_dump(mode="json")
    assert row.input_json.encode() == rfc8785.dumps(assessment)
    assert sha256_bytes(row.input_json.encode()) == row.input_hash
    for table, digest in (("signoffs", "content_hash"), ("overrides", "content_hash")):
        for stored in raw(store, f"SELECT hash_scheme, canonical, {digest} AS h FROM {table}"):
            assert stored.hash_scheme == RFC8785
            assert sha256_bytes(stored.canonical.encode()) == stored.h
    # Events are keyed: an HMAC of the same kind of bytes (which name the key) with the audit key.
    ring = keys.load()
    for stored in raw(store, "SELECT hash_scheme, canonical, hash, key_id FROM audit_events"):
        assert stored.hash_scheme == keys.KEYED and stored.key_id == ring.current.id
        assert json.loads(stored.canonical)[-1] == stored.key_id
        assert ring.current.mac(stored.canonical.encode()) == stored.hash
        assert sha256_bytes(stored.canonical.encode()) != stored.hash
    assert store.get(view.row.id).record == view.record  # read back whole, with its hash


@pytest.mark.parametrize("table, column, row, label", [
    ("records", "record_json", "version = 1", "record {id}: the stored decision record was altered"),
    ("audit_events", "canonical", "seq = 1", "audit event 1 (created {id}) was altered"),
    ("signoffs", "canonical", "id = 1", "sign-off 1 on {id} was altered or added outside DTPA"),
    ("overrides", "canonical", "id = 1", "override 1 on {id} was altered or added outside DTPA"),
])
def test_one_byte_changed_in_the_stored_bytes_is_named(store, table, column, row, label):
    view = saved(store)
    assert store.verify().ok
    original = raw(store, f"SELECT {column} FROM {table} WHERE {row}").scalar_one()
    # One byte: a digit of the timestamp (of the record: a letter of its title); still JSON.
    i = original.index('"title":"') + 9 if table == "records" else original.index('"20') + 4
    changed = original[:i] + chr(ord(original[i]) ^ 1) + original[i + 1:]
    assert len(changed.encode()) == len(original.encode()) and changed != original
    raw(store, f"UPDATE {table} SET {column} = :v WHERE {row}", v=changed)
    problems = store.verify().problems
    expected = label.format(id=view.row.id)
    assert any(p.startswith(expected) for p in problems), problems


def test_a_column_that_no_longer_says_what_the_bytes_say_is_named(store):
    view = saved(store)
    raw(store, "UPDATE signoffs SET role = 'panel_chair'")
    raw(store, "UPDATE audit_events SET actor = 'Someone Else' WHERE seq = 1")
    problems = store.verify().problems
    assert f"sign-off 1 on {view.row.id} was altered or added outside DTPA" in problems
    assert any(p.startswith("audit event 1 (created") for p in problems)


def _old_store(url: str) -> None:
    """A store as DTPA left it before RFC 8785: migrated to 0004, with rows written by the old
    code (tests/fixtures/legacy_store.json, made by DTPA before this change)."""
    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
    rows = json.loads(LEGACY_ROWS.read_text())
    with engine.begin() as conn:
        for table in ("records", "signoffs", "overrides", "audit_events"):
            for row in rows[table]:
                columns = ", ".join(row)
                values = ", ".join(f":{k}" for k in row)
                params = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in row.items()}
                conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), params)
    engine.dispose()


def test_a_store_made_with_the_old_hash_scheme_still_verifies(store_url):
    _old_store(store_url)
    store = Store(Database(store_url), required_roles=service.api.signoff_roles(service.default_pack()))
    try:
        result = store.verify()
        assert result.ok and result.events == 4 and result.records == 1, result.problems
        old = store.latest()[0]
        assert old.row.hash_scheme == LEGACY and old.record.hash_scheme is None
        assert old.effective_outcome == "supported" and old.signoffs[0].role == "dpo"
        # Its conditions were decided before owners were sealed: exports say so, not guess.
        assert old.record.conditions and all(c.owner is None for c in old.record.conditions)
        # Nothing is written to it until it adopts an audit key (event 5), from its verified head.
        with pytest.raises(AuditKeyMissing, match="keys init --adopt"):
            service.export_stored(old.row.id, "pdf", "Sam Patel", "dpo", store)
        assert integrity.init(store.db, "operator", adopt=True).event == 5
        pdf, _ = service.export_stored(old.row.id, "pdf", "Sam Patel", "dpo", store)
        assert b"%PDF" in pdf[:8]
        # New rows join the same chain under RFC 8785, and everything still verifies.
        new = service.save_assessment(load_case("feedback-kiosk.yaml"), "Dr Ada Obi",
                                      "panel_chair", store)
        assert new.row.hash_scheme == RFC8785
        result = store.verify()
        assert result.ok and result.events == 7, result.problems
        # ... and an old row is still checked the old way: an edit is named.
        raw(store, "UPDATE records SET record_json = REPLACE(record_json, 'supported_with_conditions', "
                   "'supported') WHERE id = :id", id=old.row.id)
        assert any(p.startswith(f"record {old.row.id}: the stored decision record was altered")
                   for p in store.verify().problems)
    finally:
        store.db.dispose()


def test_a_record_sealed_under_the_old_scheme_is_not_stored_now(store):
    record = service.assess(load_case("feedback-kiosk.yaml"))
    old = record.model_copy(update={"hash_scheme": None})
    with pytest.raises(StoreConflict, match="old hash scheme"):
        store.save(load_case("feedback-kiosk.yaml").model_dump(mode="json"), seal(old),
                   "Dr Ada Obi", "panel_chair")
    changed = record.model_copy(update={"outcome_reason": "Edited after sealing"})
    with pytest.raises(StoreConflict, match="changed after it was sealed"):
        store.save(load_case("feedback-kiosk.yaml").model_dump(mode="json"), changed,
                   "Dr Ada Obi", "panel_chair")
    assert store.count() == 0


def test_unknown_roles_are_refused_by_the_store(store):
    view = service.save_assessment(load_case("feedback-kiosk.yaml"), "Dr Ada Obi", "panel_chair",
                                   store)
    assessment = load_case("feedback-kiosk.yaml")
    record = service.assess(assessment)
    valid = "panel_chair, dpo, clinical_safety_officer"
    attempts = [
        lambda: store.save(assessment.model_dump(mode="json"), record, "Dr Ada Obi", "superuser"),
        lambda: store.sign(view.row.id, "Sam Patel", "superuser", ALL_ATTESTATIONS),
        lambda: store.override(view.row.id, "P7", "met", "Sam Patel", "superuser", "x" * 30),
        lambda: store.record_export(view.row.id, "Sam Patel", "superuser", "pdf"),
        lambda: store.get(view.row.id, viewer=("Sam Patel", "superuser")),
        lambda: store.add_user("sam", "Sam Patel", "superuser", [], "a long enough password"),
        lambda: service.save_assessment(assessment, "Dr Ada Obi", "superuser", store),
        lambda: service.export_stored(view.row.id, "json", "Sam Patel", "superuser", store),
        lambda: service.reevaluate_all("Sam Patel", "superuser", store),
    ]
    for attempt in attempts:
        with pytest.raises(InputInvalid, match=f"unknown role 'superuser'; use one of {valid}"):
            attempt()
    with store.db.write() as session, pytest.raises(InputInvalid, match="unknown role"):
        audit.append(session, "Sam Patel", "superuser", "exported", view.row.id, {})
    assert store.count() == 1 and store.users() == []
    result = store.verify()
    assert result.ok and result.events == 1  # nothing was written under the unknown role

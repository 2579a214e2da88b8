"""A keyed, anchored audit chain (issue 12 item 1): event hashes are HMACs with a key kept outside
the database, and signed checkpoints outside the database anchor the chain. Each attack that
passed `dtpa audit verify` before (tail truncation, re-hashing, a forged append, a wiped store) is
named; a store whose key is missing stops and no key is made; rotation keeps old events
verifiable; a checkpoint is checked with the public key alone. SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
from pathlib import Path

import pytest
import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfReader
from sqlalchemy import text
from typer.testing import CliRunner

from engine import service
from engine.cli import app
from engine.errors import AuditChainBroken, AuditKeyMissing, StoreConflict
from engine.hashing import RFC8785, sha256_bytes
from engine.store import audit, checkpoints, integrity, keys
from engine.store.tables import Base, EventRow, SignoffRow
from tests.conftest import ALL_ATTESTATIONS, cli_token, load_case

runner = CliRunner()
REASON = "Independent evidence arrived after the assessment was made"


def key_dir() -> Path:
    return Path(os.environ["DTPA_KEY_DIR"])


def raw(store, sql: str, **params):
    with store.db.engine.begin() as conn:
        return conn.execute(text(sql), params)


def events(store) -> list[dict]:
    with store.db.engine.begin() as conn:
        rows = conn.execute(text("SELECT * FROM audit_events ORDER BY seq")).mappings().all()
    return [{**r, "detail": json.loads(r["detail"]) if isinstance(r["detail"], str) else r["detail"]}
            for r in rows]


def saved(store):
    """A product decision, signed and overridden: events 1-3."""
    view = service.save_assessment(load_case("tablets-family-calls.yaml"), "Dr Ada Obi",
                                   "panel_chair", store)
    store.sign(view.row.id, "Sam Patel", "dpo", ALL_ATTESTATIONS)
    store.override(view.row.id, "P7", "met", "Dr Ada Obi", "panel_chair", REASON)
    return view


def problems(store) -> list[str]:
    return store.verify().problems


def named(found: list[str], prefix: str) -> bool:
    return any(p.startswith(prefix) for p in found)


def old_verify_passes(store) -> bool:
    """Would the chain pass the check DTPA made before keys: every link follows and every event's
    stored bytes hash (plain SHA-256 or the key's HMAC, as labelled) to its stored hash?"""
    ring = keys.load()
    prev = audit.GENESIS
    for e in events(store):
        key = ring.get(e["key_id"]) if ring else None
        expected = key.mac(e["canonical"].encode()) if e["hash_scheme"] == keys.KEYED and key \
            else sha256_bytes(e["canonical"].encode())
        if e["prev_hash"] != prev or (e["hash_scheme"] != keys.KEYED and expected != e["hash"]):
            return False
        prev = e["hash"]
    return True


def rehash_without_key(store, label: str = RFC8785) -> None:
    """What database access alone allows: recompute every event's bytes and hash with plain
    SHA-256 (labelled as the old scheme, or still as keyed), relinking the chain."""
    prev = audit.GENESIS
    for e in events(store):
        body = [e["seq"], e["at"], e["actor"], e["role"], e["action"], e["record_id"], e["detail"],
                bool(e["flags_review"]), prev]
        if label == keys.KEYED:
            body.append(e["key_id"])
        data = rfc8785.dumps(body).decode()
        digest = sha256_bytes(data.encode())
        raw(store, "UPDATE audit_events SET prev_hash = :p, canonical = :c, hash = :h, "
                   "hash_scheme = :s, key_id = :k, detail = :d WHERE seq = :seq",
            p=prev, c=data, h=digest, s=label, k=e["key_id"] if label == keys.KEYED else None,
            d=json.dumps(e["detail"]), seq=e["seq"])
        prev = digest


def checkpoint_files() -> list[Path]:
    return sorted(checkpoints.folder().glob("checkpoint-*.json"))


# --- the key: outside the database, owner only, on every event ---------------------------------

def test_events_are_hmacs_with_a_key_outside_the_database(store):
    saved(store)
    ring = keys.load()
    assert ring is not None and ring.folder == key_dir() / "audit"
    assert stat.S_IMODE(ring.folder.stat().st_mode) == 0o700
    for path in ring.folder.glob("*.key"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((ring.folder / "ring.json").stat().st_mode) == 0o600
    for e in events(store):
        assert e["hash_scheme"] == keys.KEYED and e["key_id"] == ring.current.id
        assert e["hash"] == ring.current.mac(e["canonical"].encode())
        assert e["hash"] != sha256_bytes(e["canonical"].encode())
    # The key is not in the database, in any table.
    secret = ring.current.secret.hex()
    for table in Base.metadata.sorted_tables:
        dump = "".join(str(tuple(r)) for r in raw(store, f"SELECT * FROM {table.name}"))
        assert secret not in dump
    assert store.verify().ok


def test_a_key_file_open_to_others_is_refused(store):
    saved(store)
    path = next((key_dir() / "audit").glob("hmac-*.key"))
    path.chmod(0o644)
    keys._CACHE.clear()
    with pytest.raises(AuditKeyMissing, match="open to other users"):
        store.verify()
    with pytest.raises(AuditKeyMissing, match="chmod 600"):
        service.save_assessment(load_case("feedback-kiosk.yaml"), "Dr Ada Obi", "panel_chair", store)


# --- the attacks -------------------------------------------------------------------------------

def test_tail_truncation_after_a_checkpoint_is_named(store):
    view = saved(store)
    integrity.checkpoint(store.db)  # events 1-3 signed
    # Delete the newest events together with the sign-off and override they recorded.
    raw(store, "DELETE FROM overrides")
    raw(store, "DELETE FROM signoffs")
    raw(store, "DELETE FROM audit_events WHERE seq > 1")
    assert old_verify_passes(store)  # a consistent, shorter chain: nothing else gives it away
    found = problems(store)
    assert named(found, "tail truncation: the chain ends at event 1, but checkpoint "), found
    assert "events 2-3 were deleted" in " ".join(found)
    assert view.row.id  # the record itself is still there; only the checkpoint shows the loss


def test_a_chain_rehashed_without_the_key_is_named(store):
    view = saved(store)
    # Change the outcome everywhere it is held, consistently, then re-hash the chain.
    row = raw(store, "SELECT record_json, outcome FROM records").one()
    record = json.loads(row.record_json)
    record["outcome"] = "supported"
    changed = rfc8785.dumps(record).decode()
    raw(store, "UPDATE records SET record_json = :j, record_hash = :h, outcome = 'supported'",
        j=changed, h=sha256_bytes(changed.encode()))
    created = events(store)[0]
    raw(store, "UPDATE audit_events SET detail = :d WHERE seq = 1",
        d=json.dumps({**created["detail"], "record_hash": sha256_bytes(changed.encode()),
                      "outcome": "supported"}))
    rehash_without_key(store)
    assert old_verify_passes(store)  # every hash recomputed: the old check found nothing
    found = problems(store)
    assert named(found, "re-hashed: audit event(s) 1-3 (3 in all) were not made with the audit "
                        "key"), found
    # ... and the checkpoint signed after event 1 disagrees too.
    assert named(found, "re-hashed: event 1's hash differs from the one checkpoint"), found
    assert view.row.id


def test_a_chain_rehashed_with_sha256_but_labelled_keyed_is_named(store):
    saved(store)
    rehash_without_key(store, label=keys.KEYED)
    found = problems(store)
    assert named(found, "re-hashed: audit event(s) 1-3"), found


def test_a_forged_append_with_plain_sha256_is_named(store):
    view = saved(store)
    with store.db.sessions() as session, session.begin():
        # A sign-off as DTPA's own code would seal it, and its event hashed the old way.
        last = session.get(EventRow, 3)
        signoff = SignoffRow(record_id=view.row.id, name="Forged Person", role="clinical_safety_officer",
                             signed_at=audit.utc_now(), attestations={a: True for a in ALL_ATTESTATIONS},
                             comment=None)
        audit.seal_signoff(signoff)
        session.add(signoff)
        session.flush()
        detail = {"signoff_id": signoff.id, "content_hash": signoff.content_hash}
        body = [4, audit.utc_now(), "Forged Person", "clinical_safety_officer", "signed", view.row.id,
                detail, False, last.hash]
        data = rfc8785.dumps(body)
        session.add(EventRow(seq=4, at=body[1], actor=body[2], role=body[3], action="signed",
                             record_id=view.row.id, detail=detail, flags_review=False,
                             prev_hash=last.hash, hash_scheme=RFC8785, canonical=data.decode(),
                             hash=sha256_bytes(data)))
    assert old_verify_passes(store)  # a valid SHA-256 link on a valid chain
    found = problems(store)
    assert named(found, "forged append: audit event(s) 4 at the end of the chain were not made "
                        "with the audit key"), found


def test_a_wiped_store_is_named_and_written_to_no_more(store):
    saved(store)
    assert checkpoint_files()  # the first event was checkpointed
    for table in reversed(Base.metadata.sorted_tables):
        raw(store, f"DELETE FROM {table.name}")
    result = store.verify()
    assert result.events == 0 and result.records == 0
    assert named(result.problems, "wiped: the store holds no audit events, but checkpoint "), \
        result.problems
    with pytest.raises(AuditChainBroken, match="the database was emptied"):
        service.save_assessment(load_case("feedback-kiosk.yaml"), "Dr Ada Obi", "panel_chair", store)
    assert store.count() == 0


def test_a_missing_key_stops_writes_and_verification_and_no_key_is_made(store, store_url, tmp_path):
    saved(store)
    auditor = {"DTPA_TOKEN": cli_token(store, "auditor")}
    elsewhere = tmp_path / "key-backup"
    shutil.move(key_dir(), elsewhere)
    folder = str(key_dir() / "audit")
    with pytest.raises(AuditKeyMissing, match="no new key was made") as refused:
        service.save_assessment(load_case("feedback-kiosk.yaml"), "Dr Ada Obi", "panel_chair", store)
    assert folder in str(refused.value)
    with pytest.raises(AuditKeyMissing) as refused:
        store.verify()
    assert folder in str(refused.value)
    out = runner.invoke(app, ["audit", "verify", "--db", store_url], env=auditor)
    assert out.exit_code == 4 and folder in out.stderr
    with pytest.raises(AuditKeyMissing):  # neither `keys init` ...
        integrity.init(store.db, "operator")
    with pytest.raises(AuditKeyMissing):  # ... nor adopting makes one for keyed events
        integrity.init(store.db, "operator", adopt=True)
    assert not key_dir().exists()  # no key was minted anywhere
    assert store.count() == 1
    shutil.move(elsewhere, key_dir())  # restored from its backup: everything works again
    service.save_assessment(load_case("feedback-kiosk.yaml"), "Dr Ada Obi", "panel_chair", store)
    assert store.verify().ok


# --- operating the key ring ---------------------------------------------------------------------

def test_rotation_keeps_old_events_verifiable_and_refuses_the_old_key_after_it(store):
    saved(store)
    old = keys.load().current
    change = integrity.rotate(store.db, "ops-user")
    assert change.event == 4 and change.ring.current.id != old.id and change.ring.current.from_seq == 4
    service.save_assessment(load_case("feedback-kiosk.yaml"), "Dr Ada Obi", "panel_chair", store)
    rows = events(store)
    assert [e["key_id"] for e in rows] == [old.id] * 3 + [change.ring.current.id] * 2
    rotation = rows[3]
    assert rotation["action"] == "key_rotated" and rotation["actor"] == "ops-user"
    assert rotation["detail"]["os_user"] == "ops-user" and rotation["detail"]["previous_key_id"] == old.id
    assert old.id in {p.name.removeprefix("hmac-").removesuffix(".key")
                      for p in (key_dir() / "audit").glob("hmac-*.key")}  # kept
    assert store.verify().ok
    assert change.checkpoint is not None and change.checkpoint.events == 4
    # Someone holding only the retired key cannot add an event after the rotation.
    last = rows[-1]
    body = [6, audit.utc_now(), "Sam Patel", "dpo", "exported", None, {}, False, last["hash"], old.id]
    data = rfc8785.dumps(body)
    raw(store, "INSERT INTO audit_events (seq, at, actor, role, action, record_id, detail, "
               "flags_review, prev_hash, hash, hash_scheme, canonical, key_id) VALUES (6, :at, "
               "'Sam Patel', 'dpo', 'exported', NULL, :d, :f, :p, :h, :s, :c, :k)",
        at=body[1], d="{}", f=False, p=last["hash"], h=old.mac(data), s=keys.KEYED, c=data.decode(),
        k=old.id)
    found = problems(store)
    assert named(found, f"audit event 6 was hashed with audit key {old.id}, but key "
                        f"{change.ring.current.id} was in force from event 4"), found


def test_rotating_the_signing_key_keeps_old_checkpoints_valid(store):
    saved(store)
    first = keys.load().signer.fingerprint
    change = integrity.rotate(store.db, "ops-user", signing=True)
    assert change.ring.signer.fingerprint != first and len(change.ring.signing) == 2
    marks = checkpoints.scan(keys.load())
    assert marks and all(m.problem is None for m in marks)
    assert {m.checkpoint.signing_key for m in marks} == {first, change.ring.signer.fingerprint}
    assert store.verify().ok


def test_keys_init_makes_the_key_of_an_empty_store_only(store, store_url):
    out = runner.invoke(app, ["keys", "init", "--db", store_url])
    assert out.exit_code == 0, out.output
    assert "Back up the key folder" in out.output
    (first,) = events(store)
    assert first["action"] == "keys_initialised" and first["detail"]["operator"] is True
    assert first["detail"]["os_user"] == first["actor"] and first["role"] == "administrator"
    again = runner.invoke(app, ["keys", "init", "--db", store_url])
    assert again.exit_code == 1 and "has an audit key already" in again.stderr
    assert len(events(store)) == 1
    shown = runner.invoke(app, ["keys", "show"])
    assert shown.exit_code == 0 and keys.load().current.id in shown.output
    assert keys.load().current.secret.hex() not in shown.output  # ids, never a key


def test_a_store_made_before_keys_verifies_then_adopts_a_key(store_url):
    from engine.store import Database, Store
    from tests.test_store_hashes import _old_store

    _old_store(store_url)
    store = Store(Database(store_url), required_roles=service.api.signoff_roles(service.default_pack()))
    try:
        result = store.verify()  # still verifies, and says it is not keyed
        assert result.ok and result.events == 4, result.problems
        assert any(n.startswith("NOT KEYED") for n in result.notes)
        assert keys.load() is None  # verifying made no key
        with pytest.raises(AuditKeyMissing, match="keys init --adopt"):
            service.save_assessment(load_case("feedback-kiosk.yaml"), "Dr Ada Obi", "panel_chair", store)
        with pytest.raises(StoreConflict, match="--adopt"):
            integrity.init(store.db, "ops-user")
        change = integrity.init(store.db, "ops-user", adopt=True)
        assert change.action == "adopted" and change.event == 5 and change.ring.keyed_from == 5
        adopted = events(store)[4]
        assert adopted["action"] == "keys_adopted" and adopted["detail"]["unkeyed_events"] == 4
        assert adopted["detail"]["unkeyed_head"] == events(store)[3]["hash"]
        assert change.checkpoint is not None and change.checkpoint.events == 5
        service.save_assessment(load_case("feedback-kiosk.yaml"), "Dr Ada Obi", "panel_chair", store)
        result = store.verify()
        assert result.ok, result.problems
        assert any("events 1-4 were made before this store adopted an audit key" in n
                   for n in result.notes)
        # From the adoption on, an event without the key is forged.
        last = events(store)[-1]
        body = [last["seq"] + 1, audit.utc_now(), "X", "dpo", "exported", None, {}, False, last["hash"]]
        data = rfc8785.dumps(body)
        raw(store, "INSERT INTO audit_events (seq, at, actor, role, action, record_id, detail, "
                   "flags_review, prev_hash, hash, hash_scheme, canonical) VALUES (:seq, :at, 'X', "
                   "'dpo', 'exported', NULL, '{}', :f, :p, :h, :s, :c)",
            seq=body[0], at=body[1], f=False, p=last["hash"], h=sha256_bytes(data), s=RFC8785,
            c=data.decode())
        assert named(problems(store), f"forged append: audit event(s) {body[0]} at the end")
    finally:
        store.db.dispose()


def test_adopting_refuses_a_chain_that_does_not_verify(store_url):
    from engine.store import Database, Store
    from tests.test_store_hashes import _old_store

    _old_store(store_url)
    store = Store(Database(store_url))
    try:
        raw(store, "DELETE FROM audit_events WHERE seq = 2")
        with pytest.raises(AuditChainBroken, match="does not verify"):
            integrity.init(store.db, "ops-user", adopt=True)
        assert keys.load() is None
    finally:
        store.db.dispose()


# --- checkpoints -------------------------------------------------------------------------------

def test_checkpoints_after_the_first_event_every_n_and_never_for_a_rollback(store, monkeypatch):
    monkeypatch.setenv("DTPA_CHECKPOINT_EVERY", "2")
    with pytest.raises(RuntimeError), store.db.write() as session:
        audit.append(session, "Sam Patel", "dpo", "exported", None, {})
        raise RuntimeError("the transaction fails after the event")
    assert checkpoint_files() == []  # event 1 was rolled back: nothing was signed
    saved(store)  # events 1-3
    service.save_assessment(load_case("feedback-kiosk.yaml"), "Dr Ada Obi", "panel_chair", store)
    assert [checkpoints.read(p).events for p in checkpoint_files()] == [1, 2, 4]
    assert store.verify().checkpoint.events == 4


def test_a_checkpoint_is_checked_with_the_public_key_alone(store, tmp_path, monkeypatch):
    saved(store)
    cp = integrity.checkpoint(store.db)
    pem = tmp_path / "dtpa-checkpoints.pub.pem"
    out = runner.invoke(app, ["keys", "public-key", "--out", str(pem)])
    assert out.exit_code == 0, out.output
    copy = tmp_path / "dpo" / cp.path.name
    copy.parent.mkdir()
    shutil.copy(cp.path, copy)
    # The DPO's machine: no key folder, no database, not signed in.
    monkeypatch.setenv("DTPA_KEY_DIR", str(tmp_path / "nothing-here"))
    monkeypatch.setenv("DTPA_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    good = runner.invoke(app, ["audit", "check-checkpoint", str(copy), "--public-key", str(pem)])
    assert good.exit_code == 0, good.output
    assert f"Checkpoint valid: 3 events, head {cp.head}" in good.output
    assert not (tmp_path / "nothing-here").exists()


def test_a_tampered_checkpoint_file_is_refused(store, tmp_path):
    saved(store)
    cp = integrity.checkpoint(store.db)
    pem = tmp_path / "pub.pem"
    pem.write_bytes(integrity.public_key_pem())
    doc = json.loads(cp.path.read_text())
    doc["events"] = 2  # as if the chain had been shorter
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    bad = runner.invoke(app, ["audit", "check-checkpoint", str(forged), "--public-key", str(pem)])
    assert bad.exit_code == 5 and "INVALID" in bad.output and "altered or forged" in bad.output
    # Signed with a key of one's own: refused against the deployment's public key.
    other = Ed25519PrivateKey.generate()
    doc = json.loads(cp.path.read_text())
    doc["signing_key"] = keys.fingerprint(other.public_key())
    unsigned = {k: v for k, v in doc.items() if k != "signature"}
    doc["signature"] = base64.b64encode(other.sign(rfc8785.dumps(unsigned))).decode()
    forged.write_text(json.dumps(doc))
    bad = runner.invoke(app, ["audit", "check-checkpoint", str(forged), "--public-key", str(pem)])
    assert bad.exit_code == 5 and "not the key given" in bad.output
    # ... and its own public key checks it, so the key given is what a DPO must pin.
    other_pem = tmp_path / "other.pem"
    other_pem.write_bytes(other.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    assert runner.invoke(app, ["audit", "check-checkpoint", str(forged), "--public-key",
                               str(other_pem)]).exit_code == 0
    # In the checkpoint folder, `audit verify` names both kinds.
    shutil.copy(forged, checkpoints.folder() / "checkpoint-000000000009-forged.json")
    doc["events"] = 1
    (checkpoints.folder() / "checkpoint-000000000001-edited.json").write_text(json.dumps(doc))
    found = problems(store)
    assert named(found, "checkpoint checkpoint-000000000009-forged.json cannot be relied on: it is "
                        "signed by key"), found
    assert named(found, "checkpoint checkpoint-000000000001-edited.json cannot be relied on"), found
    assert store.verify().checkpoint.events == 3  # the forged one is not taken as the latest


def test_verify_since_the_latest_checkpoint(store, store_url):
    view = saved(store)
    integrity.checkpoint(store.db)  # at event 3
    service.save_assessment(load_case("feedback-kiosk.yaml"), "Dr Ada Obi", "panel_chair", store)
    with audit.since_latest_checkpoint():
        result = store.verify()
    assert result.ok and result.since == 3 and result.events == 2 and result.records == 1, result
    auditor = {"DTPA_TOKEN": cli_token(store, "auditor")}
    out = runner.invoke(app, ["audit", "verify", "--since-checkpoint", "--db", store_url], env=auditor)
    assert out.exit_code == 0 and "intact since the checkpoint at event 3" in out.output, out.output
    # What it does not re-read is covered by the checkpoint's signed head; what it does is checked.
    raw(store, "UPDATE audit_events SET actor = 'Someone Else' WHERE seq = 4")
    out = runner.invoke(app, ["audit", "verify", "--since-checkpoint", "--db", store_url], env=auditor)
    assert out.exit_code == 5 and "TAMPERED: audit event 4 (created" in out.output
    raw(store, "UPDATE audit_events SET hash = :h WHERE seq = 3", h="0" * 64)
    with audit.since_latest_checkpoint():
        found = store.verify().problems
    assert named(found, "re-hashed: event 3's hash differs from the one checkpoint"), found
    assert view.row.id


def test_a_checkpoint_refuses_to_vouch_for_a_broken_chain(store):
    saved(store)
    raw(store, "UPDATE audit_events SET actor = 'Someone Else' WHERE seq = 2")
    with pytest.raises(AuditChainBroken, match="no checkpoint was signed"):
        integrity.checkpoint(store.db)


def test_every_audit_pdf_carries_the_latest_checkpoint(store):
    view = saved(store)
    cp = integrity.checkpoint(store.db)
    pdf, _ = service.export_stored(view.row.id, "pdf", "Sam Patel", "dpo", store)
    path = Path(os.environ["DTPA_KEY_DIR"]).parent / "out.pdf"
    path.write_bytes(pdf)
    reader = PdfReader(str(path))
    words = "".join("".join(page.extract_text() or "" for page in reader.pages[-2:]).split())
    words = words.replace("\u200b", "")
    assert f"Latestsignedauditcheckpoint:{cp.events}events,signed{cp.at}" in words
    assert cp.head in words and cp.signing_key in words and cp.signature_fingerprint in words


# --- rows added after the checkpoint, and checkpoints that could not be written -----------------

def copy_row(store, table: type, where: str, value, **changed) -> None:
    """INSERT ... SELECT: a copy of one row with some columns changed, as SQL alone can make."""
    columns = [c.name for c in table.__table__.columns if not (c.primary_key and c.autoincrement
                                                               is True and c.name not in changed)]
    chosen = ", ".join(f":{c}" if c in changed else c for c in columns)
    raw(store, f"INSERT INTO {table.__tablename__} ({', '.join(columns)}) SELECT {chosen} FROM "
               f"{table.__tablename__} WHERE {where} = :match", match=value, **changed)


def test_verify_since_the_checkpoint_names_rows_inserted_after_it(store, store_url):
    from engine.store.tables import OverrideRow, RecordRow, TokenRow, UserRow
    auditor = {"DTPA_TOKEN": cli_token(store, "auditor")}
    view = saved(store)  # a sign-off and an override, each with its event
    integrity.checkpoint(store.db)
    with audit.since_latest_checkpoint():
        assert store.verify().ok
    copy_row(store, SignoffRow, "id", 1, name="Someone Else")
    copy_row(store, OverrideRow, "id", 1, reason="A reason nobody gave, added in SQL later")
    copy_row(store, RecordRow, "id", view.row.id, id="PRO-00000000@1", key="PRO-00000000",
             idempotency_key=None)
    copy_row(store, UserRow, "username", "auditor", username="eve")
    copy_row(store, TokenRow, "username", "auditor", id="e0e0e0e0e0e0", token_hash="e" * 64)
    with audit.since_latest_checkpoint():
        found = store.verify().problems
    for said in (f"sign-off 2 on {view.row.id} was altered or added outside DTPA",
                 f"override 2 on {view.row.id} was altered or added outside DTPA",
                 "record PRO-00000000@1 has no 'created' event in the audit chain",
                 "account eve (auditor) has no account event",
                 "token e0e0e0e0e0e0 of auditor has no 'token_issued' event"):
        assert named(found, said), (said, found)
    out = runner.invoke(app, ["audit", "verify", "--since-checkpoint", "--db", store_url], env=auditor)
    assert out.exit_code == 5 and f"TAMPERED: sign-off 2 on {view.row.id}" in out.output, out.output


def test_a_checkpoint_that_cannot_be_written_fails_no_save_and_is_reported(store, store_url,
                                                                           monkeypatch):
    monkeypatch.setenv("DTPA_CHECKPOINT_EVERY", "2")
    saved(store)  # events 1-3: checkpoints after 1 and 2
    folder = checkpoints.folder()
    folder.rename(folder.with_name("kept-aside"))
    folder.write_text("not a folder")  # as root can write anywhere, a file stands in its way
    service.save_assessment(load_case("feedback-kiosk.yaml"), "Dr Ada Obi", "panel_chair", store)
    # event 4 is stored (the save did not fail) though its checkpoint could not be written
    assert store.verify().events == 4
    out = runner.invoke(app, ["audit", "checkpoint", "--db", store_url])
    assert out.exit_code == 4, out.output
    assert out.stderr.splitlines()[0] == (f"Error: could not write the audit checkpoint of event 4 "
                                          f"to {folder}: Not a directory")
    folder.unlink()
    folder.with_name("kept-aside").rename(folder)
    result = store.verify()
    assert result.ok and result.warnings == [
        f"the latest signed checkpoint covers event 2, 2 event(s) behind the chain head (4), "
        f"though one was due after event 4: it could not be written to {folder} (is it "
        "writable?) or was removed; fix the folder and run `dtpa audit checkpoint`"]
    with audit.since_latest_checkpoint():
        assert store.verify().warnings == result.warnings
    assert runner.invoke(app, ["audit", "checkpoint", "--db", store_url]).exit_code == 0
    assert store.verify().warnings == []


def test_a_store_whose_first_checkpoint_was_never_written_is_reported(store, store_url, tmp_path,
                                                                      monkeypatch):
    blocked = tmp_path / "checkpoints"
    blocked.write_text("not a folder")
    monkeypatch.setenv("DTPA_CHECKPOINT_DIR", str(blocked))
    auditor = {"DTPA_TOKEN": cli_token(store, "auditor")}  # events 1-2, each save succeeds
    saved(store)
    out = runner.invoke(app, ["audit", "verify", "--db", store_url], env=auditor)
    assert out.exit_code == 0, out.output
    assert (f"WARNING: there is no signed checkpoint of the chain's 5 event(s), though one was due "
            f"after event 1: it could not be written to {blocked}") in out.output

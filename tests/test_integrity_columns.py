"""Every column that access control, reviews and listings read is checked against what the audit
chain sealed (issue 12, item 2): each attack changes one column with raw SQL, as someone with
database access could, and `audit verify` names it, while access and reviews read the sealed
value (or refuse the record) and are not fooled. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from engine import service
from engine.cli import app
from engine.errors import AccessDenied, IntegrityFailure
from engine.models.people import Actor
from engine.service import accounts
from engine.service.session import Access
from engine.store import column_checks, tokens
from engine.store.bootstrap import add_first_administrator
from engine.store.passwords import hash_password
from engine.store.tables import EventRow
from tests.conftest import approve, individual_for, load_case

PASSWORD = "correct horse battery staple"
runner = CliRunner()


def raw(store, sql: str, **params) -> None:
    with store.db.engine.begin() as conn:
        conn.execute(text(sql), params)


def person(role: str, wards: list[str] | None = None, name: str | None = None) -> Actor:
    """Someone acting in a role (no stored account: the tests of accounts make real ones)."""
    return Actor(username=name or role, name=f"Person {name or role}", role=role, wards=wards or [])


@pytest.fixture
def world(store):
    """An approved product decision and a patient's record on Willow Ward relying on it."""
    product = service.save_assessment(load_case("vbm-individual-decision.yaml"), "Dr Ada Obi",
                                      "panel_chair", store)
    approve(store, product.row.id)
    use = service.save_assessment(individual_for(product.row.key), "Nurse Kim Lee", "clinician",
                                  store)
    assert store.verify().ok
    return {"store": store, "product": product.row.id, "use": use.row.id,
            "product_key": product.row.key, "review": use.record.review_date}


def named(store, record_id: str, column: str) -> list[str]:
    return [p for p in store.verify().problems
            if p.startswith(f"record {record_id}: the {column} column differs")]


# --- records ----------------------------------------------------------------------------------

def test_a_changed_ward_is_named_and_opens_nothing_to_another_ward(world):
    store, use = world["store"], world["use"]
    raw(store, "UPDATE records SET ward = 'Heron Ward' WHERE id = :id", id=use)
    found = named(store, use, "ward")
    assert found and "Heron" not in found[0] and "Willow" not in found[0]  # a ward is never printed
    heron = Access(person("clinician", ["Heron Ward"]), store)
    with pytest.raises(AccessDenied, match="Willow Ward"):  # the sealed ward decides access
        heron.open(use)
    assert use not in [v.row.id for v in heron.records()]
    assert use not in [v.row.id for v, _ in heron.due(3650)]
    assert heron.records(ward="Heron") == []
    willow = Access(person("clinician", ["Willow Ward"]), store)
    with pytest.raises(IntegrityFailure, match=f"record {use} failed its integrity check"):
        willow.open(use)  # its own ward's staff are refused a record that was changed
    assert use not in [v.row.id for v in willow.records()]
    dpo = Access(person("dpo"), store)  # governance sees it, flagged, to investigate
    flagged = dpo.open(use)
    assert flagged.row.ward == "Willow Ward" and flagged.integrity and not flagged.approved
    assert "integrity check failed" in flagged.status
    assert [v.row.ward for v in dpo.records(ward="Willow")] == ["Willow Ward"]


def test_a_changed_context_is_named_and_does_not_make_a_patient_record_a_product(world):
    store, use = world["store"], world["use"]
    raw(store, "UPDATE records SET context = 'procurement' WHERE id = :id", id=use)
    assert named(store, use, "context")
    with pytest.raises(AccessDenied, match="may not read individual use"):
        Access(person("panel_chair"), store).open(use)
    assert use not in [v.row.id for v in Access(person("panel_chair"), store).records()]
    assert use not in [v.row.id for v in accounts.Guest(store).records()]
    with pytest.raises(IntegrityFailure):
        accounts.Guest(store).open(use)
    assert use not in [v.row.id for v in store.latest(context="procurement")]


def test_a_changed_review_date_is_named_and_does_not_hide_an_overdue_review(world):
    store, use, review = world["store"], world["use"], world["review"]
    late = review + dt.timedelta(days=10)
    assert use in [v.row.id for v, _ in store.due(0, today=late)]
    raw(store, "UPDATE records SET review_date = :d WHERE id = :id", d=dt.date(2099, 1, 1), id=use)
    assert named(store, use, "review_date") == [
        f"record {use}: the review_date column differs from its sealed record (2099-01-01; "
        f"sealed record says {review}): it was changed outside DTPA"]
    due = dict((v.row.id, why) for v, why in store.due(0, today=late))
    assert f"overdue since {review}" in due[use] and "integrity check failed" in due[use]
    dpo_due = dict((v.row.id, why) for v, why in Access(person("dpo"), store).due(0))
    assert use in dpo_due  # overdue (today is after the sealed date) and flagged


def test_a_changed_relies_on_is_named_and_a_new_product_version_still_flags_the_use(world):
    store, use = world["store"], world["use"]
    raw(store, "UPDATE records SET relies_on = 'PRO-00000000@1' WHERE id = :id", id=use)
    assert named(store, use, "relies_on")
    upgraded = load_case("vbm-individual-decision.yaml")
    upgraded = upgraded.model_copy(update={"technology": upgraded.technology.model_copy(
        update={"version": "4.3"})})
    service.save_assessment(upgraded, "Dr Ada Obi", "panel_chair", store,
                            supersedes=world["product_key"])
    flagged = dict((v.row.id, why) for v, why in store.due(0, today=dt.date(2025, 3, 1)))
    assert "changed version (4.2 -> 4.3)" in flagged[use]


def test_a_changed_product_version_is_named_and_read_as_sealed(world):
    store, product = world["store"], world["product"]
    raw(store, "UPDATE records SET product_version = '9.9' WHERE id = :id", id=product)
    assert named(store, product, "product_version")
    assert store.get(product, flagged=True).row.product_version == "4.2"
    with pytest.raises(IntegrityFailure):  # a use is never checked against a changed product
        service.save_assessment(individual_for(world["product_key"]), "Nurse Kim Lee",
                                "clinician", store)
    upgraded = load_case("vbm-individual-decision.yaml")  # the version the column now says
    upgraded = upgraded.model_copy(update={"technology": upgraded.technology.model_copy(
        update={"version": "9.9"})})
    with pytest.raises(IntegrityFailure):  # nor is a new version made of it (uses go unflagged)
        service.save_assessment(upgraded, "Dr Ada Obi", "panel_chair", store,
                                supersedes=world["product_key"])


def test_a_changed_patient_reference_is_named_without_printing_it(world):
    store, use = world["store"], world["use"]
    sealed = store.get(use).row.patient_reference
    raw(store, "UPDATE records SET patient_reference = 'PT-SOMEONE-ELSE' WHERE id = :id", id=use)
    found = named(store, use, "patient_reference")
    assert found and "SOMEONE" not in found[0] and sealed not in found[0]
    assert store.get(use, flagged=True).row.patient_reference == sealed
    with pytest.raises(IntegrityFailure):
        store.get(use)


def test_changed_created_by_and_role_are_named_and_history_shows_the_chain(world):
    store, product = world["store"], world["product"]
    raw(store, "UPDATE records SET created_by = 'Someone Else', created_role = 'dpo' WHERE id = :id",
        id=product)
    assert named(store, product, "created_by") and named(store, product, "created_role")
    rows, _ = store.history(product)
    assert (rows[0].created_by, rows[0].created_role) == ("Dr Ada Obi", "panel_chair")


@pytest.mark.parametrize("sql, column", [
    ("UPDATE records SET product = 'Another product' WHERE id = :id", "product"),
    ("UPDATE records SET assessed_on = :d WHERE id = :id", "assessed_on"),
    ("UPDATE records SET created_at = '2001-01-01T00:00:00.000000Z' WHERE id = :id", "created_at"),
    ("UPDATE records SET version = 7 WHERE id = :id", "version"),
    ("UPDATE records SET key = 'PRO-ffffffff' WHERE id = :id", "key"),
    ("UPDATE records SET rule_pack_hash = :h WHERE id = :id", "rule_pack_hash"),
])
def test_every_other_column_listings_read_is_named(world, sql, column):
    store, product = world["store"], world["product"]
    raw(store, sql, id=product, d=dt.date(2020, 1, 1), h="0" * 64)
    assert named(store, product, column)
    assert not store.verify().ok


def test_an_untouched_store_has_no_column_problems(world):
    store = world["store"]
    with store.db.read() as session:
        assert column_checks.problems(session) == []
    assert all(not v.integrity for v in store.latest())


def test_edited_record_bytes_refuse_the_record_even_with_matching_columns(world):
    """The sealed bytes themselves changed (ward inside the record and the column both): the
    hash no longer matches the one the chain recorded, so no sealed value is trusted."""
    store, use = world["store"], world["use"]
    raw(store, "UPDATE records SET record_json = REPLACE(record_json, 'Willow Ward', 'Heron Ward'), "
               "ward = 'Heron Ward' WHERE id = :id", id=use)
    heron = Access(person("clinician", ["Heron Ward"]), store)
    with pytest.raises(IntegrityFailure):
        heron.open(use)
    assert use not in [v.row.id for v in heron.records()]
    assert any("hash mismatch" in p for p in store.verify().problems)


# --- accounts ---------------------------------------------------------------------------------

@pytest.fixture
def people(store):
    """The first administrator (bootstrap) and a clinician they added, both audited."""
    add_first_administrator(store, "alex.admin", "Alex Admin", PASSWORD, {"via": "test"})
    admin = Access.sign_in("alex.admin", PASSWORD, store)
    admin.add_user("kim.lee", "Kim Lee", "clinician", ["Willow Ward"], PASSWORD)
    assert store.verify().ok
    return store, admin


def test_a_role_changed_in_sql_is_named_and_the_account_cannot_act(people):
    store, _ = people
    token = accounts.sign_in(store, "kim.lee", PASSWORD).token
    raw(store, "UPDATE users SET role = 'dpo' WHERE username = 'kim.lee'")
    assert any(p.startswith("account kim.lee: its role (dpo) differs from its latest account "
                            "event (clinician, audit event ") and p.endswith("changed outside DTPA")
               for p in store.verify().problems)
    with pytest.raises(IntegrityFailure, match="account kim.lee cannot be used"):
        Access.sign_in("kim.lee", PASSWORD, store)
    with pytest.raises(IntegrityFailure):
        accounts.access_for(store, token)  # a token issued before does not carry it through


def test_changed_wards_and_active_flag_are_named(people):
    store, admin = people
    raw(store, "UPDATE users SET wards = :w WHERE username = 'kim.lee'", w=json.dumps(["Heron Ward"]))
    assert any(p.startswith("account kim.lee: its wards differ") for p in store.verify().problems)
    with pytest.raises(IntegrityFailure):
        Access.sign_in("kim.lee", PASSWORD, store)
    raw(store, "UPDATE users SET wards = :w WHERE username = 'kim.lee'", w=json.dumps(["Willow Ward"]))
    admin.deactivate("kim.lee")
    raw(store, "UPDATE users SET active = :a WHERE username = 'kim.lee'", a=True)
    assert any("it is active, but its latest account event" in p for p in store.verify().problems)
    with pytest.raises(IntegrityFailure):
        Access.sign_in("kim.lee", PASSWORD, store)


def test_an_account_inserted_in_sql_is_named_and_cannot_sign_in(people):
    store, _ = people
    row = next(u for u in store.users() if u.username == "kim.lee")
    raw(store, "INSERT INTO users (username, name, role, wards, password_hash, active, created_at) "
               "VALUES ('eve', 'Eve', 'dpo', :w, :h, :a, :t)",
        w="[]", h=row.password_hash, a=True, t="2999-01-01T00:00:00.000000Z")
    assert "account eve (dpo) has no account event: added outside DTPA (or before DTPA audited " \
           "accounts)" in store.verify().problems
    with pytest.raises(IntegrityFailure, match="has no account event"):
        Access.sign_in("eve", PASSWORD, store)


def test_changes_made_through_dtpa_keep_the_check_clean(people):
    store, admin = people
    admin.change_role("kim.lee", "nurse_in_charge")
    admin.set_wards("kim.lee", ["Willow Ward", "Heron Ward"])
    admin.deactivate("kim.lee")
    admin.reactivate("kim.lee")
    admin.reset_password("kim.lee", "another horse battery staple")
    assert store.verify().ok
    assert Access.sign_in("kim.lee", "another horse battery staple", store).actor.role.value == \
        "nurse_in_charge"


def test_audit_verify_prints_the_privileged_changes_report(people, store_url):
    store, admin = people
    admin.add_user("sam.dpo", "Sam Patel", "dpo", [], PASSWORD)
    admin.change_role("kim.lee", "nurse_in_charge")
    admin.reset_password("kim.lee", "another horse battery staple")
    token = accounts.sign_in(store, "sam.dpo", PASSWORD).token
    out = runner.invoke(app, ["audit", "verify", "--db", store_url], env={"DTPA_TOKEN": token})
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    start = lines.index(next(x for x in lines if x.startswith("PRIVILEGED CHANGES")))
    report = lines[start:start + 6]
    assert report[0] == ("PRIVILEGED CHANGES (accounts, oldest first): 5, 4 giving or asking "
                         "access to patient records")
    assert "Alex Admin (administrator): added alex.admin as administrator (the first " \
           "administrator, bootstrap)" in report[1]
    assert report[2].endswith("Alex Admin (administrator): added kim.lee as clinician on Willow "
                              "Ward  [patient records]")
    assert report[3].endswith("added sam.dpo as dpo  [patient records]")
    assert report[4].endswith("changed kim.lee's role from clinician to nurse_in_charge  "
                              "[patient records]")
    assert report[5].endswith("reset kim.lee's password (sessions ended, tokens revoked)  "
                              "[patient records]")
    raw(store, "UPDATE users SET role = 'auditor' WHERE username = 'kim.lee'")
    bad = runner.invoke(app, ["audit", "verify", "--db", store_url], env={"DTPA_TOKEN": token})
    assert bad.exit_code == 5
    assert "TAMPERED: account kim.lee: its role (auditor) differs" in bad.output
    assert "PRIVILEGED CHANGES" in bad.output


# --- passwords --------------------------------------------------------------------------------

INSIDER = "an insider's own chosen passphrase"


def test_a_password_hash_swapped_in_sql_is_named_and_cannot_sign_in(people):
    """Someone with database access puts the hash of a password they know into an account's
    row: the hash its latest password event sealed no longer matches, so `audit verify` names it
    and the account refuses to act, the right password notwithstanding."""
    store, admin = people
    for username in ("kim.lee", "alex.admin"):  # added by an administrator; the bootstrap
        raw(store, "UPDATE users SET password_hash = :h WHERE username = :u",
            h=hash_password(INSIDER), u=username)
        assert any(p.startswith(f"account {username}: its password hash differs from the one its "
                                "latest password event sealed (audit event ")
                   for p in store.verify().problems), username
        with pytest.raises(IntegrityFailure, match=f"account {username} cannot be used"):
            Access.sign_in(username, INSIDER, store)
    raw(store, "UPDATE users SET password_hash = :h WHERE username = 'alex.admin'",
        h=hash_password(PASSWORD))  # still a hash of the same password: a new salt, a new hash
    assert any(p.startswith("account alex.admin: its password hash differs") for p in
               store.verify().problems)


def test_a_password_reset_seals_the_new_hash(people):
    store, admin = people
    admin.reset_password("kim.lee", "another horse battery staple")
    assert store.verify().ok
    reset = [e for e in events(store) if e.action == "account_password_reset"][-1]
    sealed = reset.detail["password_digest"]
    hashed = next(u for u in store.users() if u.username == "kim.lee").password_hash
    assert hashed not in json.dumps(reset.detail) and sealed.count(":") == 1  # "<key id>:<hmac>"
    raw(store, "UPDATE users SET password_hash = :h WHERE username = 'kim.lee'",
        h=hash_password(INSIDER))
    assert f"account kim.lee: its password hash differs from the one its latest password event " \
           f"sealed (audit event {reset.seq}): changed outside DTPA, so someone may sign in with " \
           "a password of their choosing" in store.verify().problems


# --- tokens -----------------------------------------------------------------------------------

def events(store) -> list[EventRow]:
    with store.db.read() as session:
        return list(session.execute(select(EventRow).order_by(EventRow.seq)).scalars())


def tokens_named(store, token_id: str) -> list[str]:
    return [p for p in store.verify().problems if p.startswith(f"token {token_id} ")]


@pytest.fixture
def script(people):
    """A read-only script token of kim.lee's, issued through DTPA."""
    store, admin = people
    kim = accounts.access_for(store, accounts.sign_in(store, "kim.lee", PASSWORD).token)
    issued = accounts.create_token(kim, "nightly export", "read", 24)
    assert store.verify().ok
    return store, kim, issued


def test_issuing_and_revoking_a_token_are_audit_events(script):
    store, kim, issued = script
    made = [e for e in events(store) if e.action == "token_issued"][-1]
    assert made.actor == "Kim Lee" and made.detail["token_id"] == issued.id
    assert made.detail["username"] == "kim.lee" and made.detail["scopes"] == ["read"]
    assert made.detail["expires_at"] == issued.expires_at
    assert issued.token not in json.dumps(made.detail)
    assert tokens.digest(issued.token) not in json.dumps(made.detail)  # sealed, not the digest
    accounts.revoke_token(kim, issued.id)
    gone = events(store)[-1]
    assert gone.action == "token_revoked" and gone.detail["token_id"] == issued.id
    assert accounts.sign_out(store, accounts.sign_in(store, "kim.lee", PASSWORD).token)
    assert events(store)[-1].action == "token_revoked"
    assert store.verify().ok


def test_a_token_inserted_in_sql_is_named_and_refused(script):
    store, _, issued = script
    forged = "dtpa_a-token-the-insider-made-up"
    issued_seq = next(e.seq for e in events(store) if e.action == "token_issued"
                      and e.detail["token_id"] == issued.id)
    for token_id, seq in (("f0f0f0f0f0f0", None), ("f1f1f1f1f1f1", issued_seq)):
        raw(store, "INSERT INTO tokens (id, token_hash, username, name, scopes, created_at, "
                   "expires_at, revoked_at, issued_seq) VALUES (:id, :h, 'kim.lee', 'x', :s, :c, "
                   ":e, NULL, :q)", id=token_id, h=tokens.digest(forged + token_id),
            s=json.dumps(["read", "write"]), c="2026-01-01T00:00:00.000000Z",
            e="2999-01-01T00:00:00.000000Z", q=seq)
        assert tokens_named(store, token_id) == [
            f"token {token_id} of kim.lee has no 'token_issued' event in the audit chain: it was "
            "added outside DTPA"]
        with pytest.raises(IntegrityFailure, match="the token cannot be used"):
            accounts.access_for(store, forged + token_id)


@pytest.mark.parametrize("sql, what", [
    ("UPDATE tokens SET scopes = :s WHERE id = :id", "its scopes (read, write) differ"),
    ("UPDATE tokens SET expires_at = '2999-01-01T00:00:00.000000Z' WHERE id = :id",
     "its expiry (2999-01-01T00:00:00.000000Z) differs"),
    ("UPDATE tokens SET username = 'alex.admin' WHERE id = :id", "its owner differs"),
    ("UPDATE tokens SET token_hash = :h WHERE id = :id", "its token digest differs"),
])
def test_a_token_changed_in_sql_is_named_and_refused(script, sql, what):
    store, _, issued = script
    mine = "dtpa_a-token-the-insider-knows"
    raw(store, sql, id=issued.id, s=json.dumps(["read", "write"]), h=tokens.digest(mine))
    found = [p for p in store.verify().problems if p.startswith(f"token {issued.id} of ")]
    assert len(found) == 1 and what in found[0] and found[0].endswith("outside DTPA"), found
    used = mine if "token_hash" in sql else issued.token
    with pytest.raises(IntegrityFailure, match="the token cannot be used"):
        accounts.access_for(store, used)


def test_a_revoked_token_revived_in_sql_is_named(script):
    store, kim, issued = script
    accounts.revoke_token(kim, issued.id)
    raw(store, "UPDATE tokens SET revoked_at = NULL WHERE id = :id", id=issued.id)
    assert tokens_named(store, issued.id) == [
        f"token {issued.id} of kim.lee: it was revoked (audit chain), but its row is not: revived "
        "outside DTPA"]
    again = accounts.create_token(kim, "another", "read", 24)
    admin = Access.sign_in("alex.admin", PASSWORD, store)
    admin.reset_password("kim.lee", "another horse battery staple")  # revokes kim's tokens
    raw(store, "UPDATE tokens SET revoked_at = NULL WHERE id = :id", id=again.id)
    assert tokens_named(store, again.id)[0].endswith("revived outside DTPA")
    raw(store, "DELETE FROM tokens WHERE id = :id", id=again.id)
    assert tokens_named(store, again.id)[0].startswith(f"token {again.id} of kim.lee is missing")

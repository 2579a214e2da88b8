"""The command line acts as a real account: `dtpa login`, tokens for scripts, the first
administrator and seeding as the operator; the role always comes from the account. Runs on
SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from engine import service
from engine.cli import app
from engine.service import accounts
from engine.store import tokens
from tests.conftest import PASSWORD, ROOT, approve, cli_token, individual_for, load_case

runner = CliRunner()
CASE = str(ROOT / "case_studies" / "vbm-individual-decision.yaml")
TABLES = ("records", "signoffs", "overrides", "audit_events", "users", "tokens", "drafts")
REASON = "Independent evidence arrived after the assessment"


def counts(store) -> dict[str, int]:
    with store.db.read() as session:
        return {t: session.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in TABLES}


def events(store) -> list:
    with store.db.read() as session:
        return list(session.execute(text("SELECT actor, role, action, record_id, detail FROM "
                                          "audit_events ORDER BY seq")))


def dtpa(world, *args: str, token: str | None = None, stdin: str | None = None):
    """`dtpa ARGS --db URL`, signed in with `token` when given."""
    env = {"DTPA_TOKEN": token} if token else None
    return runner.invoke(app, [*args, "--db", world.url], env=env, input=stdin)


def login(world, username: str):
    result = dtpa(world, "login", username, "--password-stdin", stdin=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def world(store, store_url, tmp_path):
    """An approved product decision, one awaiting every sign-off, a patient's record on Willow
    Ward, and an administrator."""
    product = service.save_assessment(load_case("vbm-individual-decision.yaml"), "Dr Ada Obi",
                                      "panel_chair", store)
    approve(store, product.row.id)
    unsigned = service.save_assessment(load_case("vbm-individual-decision.yaml"), "Dr Ada Obi",
                                       "panel_chair", store)
    patient = service.save_assessment(individual_for(product.row.key), "Nurse Kim", "clinician",
                                      store)
    accounts.first_administrator(store, "admin", "Ada Admin", PASSWORD, "ops")
    return SimpleNamespace(store=store, url=store_url, product=product.row.id,
                           unsigned=unsigned.row.id, patient=patient.row.id, out=tmp_path / "out")


def test_every_write_without_a_signed_in_account_fails_cleanly_and_writes_nothing(world):
    out = str(world.out)
    attempts = [
        ["assess", CASE, "--save"],
        ["sign", world.product, "--attest", "all"],
        ["override", world.product, "--target", "P7", "--to", "met", "--reason", REASON],
        ["export", world.product, "--pdf", "--out-dir", out],
        ["export", "--bundle", "--out-dir", out],
        ["records", "show", world.patient],
        ["records", "history", world.patient],
        ["reevaluate", "--workers", "1"],
        ["audit", "verify"],
        ["users", "list"],
        ["users", "add", "eve", "--name", "Eve Mallory", "--role", "administrator",
         "--password-stdin"],
        ["token", "create", "--name", "script"],
        ["token", "list"],
        ["token", "revoke", "0123456789ab"],
    ]
    before = counts(world.store)
    for args in attempts:
        result = dtpa(world, *args, stdin=PASSWORD + "\n")
        assert result.exit_code == 6, (args, result.output)
        assert result.stderr.startswith("Error: "), args
        assert "dtpa login USERNAME" in result.stderr and "Traceback" not in result.output
        assert counts(world.store) == before, args
    assert not world.out.exists()


def test_a_signed_in_account_acts_under_its_own_name_and_role(world):
    world.store.add_user("sam.patel", "Sam Patel", "dpo", [], PASSWORD,
                         by=("Ada Admin", "administrator"))
    signed_in = login(world, "sam.patel")
    assert "Signed in as sam.patel until" in signed_in.output
    signed = dtpa(world, "sign", world.unsigned, "--attest", "all")
    assert signed.exit_code == 0, signed.output
    assert "as Sam Patel (dpo)" in signed.output
    assert dtpa(world, "records", "show", world.patient).exit_code == 0
    view = world.store.get(world.unsigned)
    assert [(s.name, s.role) for s in view.signoffs][-1] == ("Sam Patel", "dpo")
    assert [(e.actor, e.role, e.action) for e in events(world.store)][-2:] == [
        ("Sam Patel", "dpo", "signed"), ("Sam Patel", "dpo", "viewed")]


def test_the_token_file_is_private_and_the_database_keeps_only_its_hash(world):
    login(world, "admin")
    path = Path(os.environ["DTPA_CONFIG_DIR"]) / "token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = path.read_text().strip()
    assert token.startswith("dtpa_") and len(token) > 40
    with world.store.db.read() as session:
        rows = list(session.execute(text("SELECT * FROM tokens")))
    assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert all(token not in str(value) for r in rows for value in r)
    if world.url.startswith("sqlite"):  # not in the database file, its WAL or shared memory
        database = Path(world.url.split("///", 1)[1])
        for part in database.parent.glob(database.name + "*"):
            assert token.encode() not in part.read_bytes(), part.name


def test_expired_revoked_unknown_and_deactivated_tokens_are_refused(world):
    admin = {"username": "admin", "name": "x", "scopes": ["read", "write"]}
    _, expired = tokens.issue(world.store.db, **admin, hours=1,
                              now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
    result = dtpa(world, "users", "list", token=expired)
    assert result.exit_code == 6 and "Error: DTPA_TOKEN: the token expired at" in result.stderr

    login(world, "admin")
    made = dtpa(world, "token", "create", "--name", "nightly export", "--scope", "write")
    assert made.exit_code == 0, made.output
    script_token = made.stdout.strip()
    assert "It is shown only now" in made.stderr and script_token not in made.stderr
    assert dtpa(world, "users", "list", token=script_token).exit_code == 0
    listed = dtpa(world, "token", "list")
    assert "nightly export" in listed.output and script_token not in listed.output
    token_id = next(t.id for t in tokens.listed(world.store.db) if t.name == "nightly export")
    assert dtpa(world, "token", "revoke", token_id).exit_code == 0
    result = dtpa(world, "users", "list", token=script_token)
    assert result.exit_code == 6 and "the token was revoked at" in result.stderr

    result = dtpa(world, "users", "list", token="dtpa_not-a-token-anyone-issued")
    assert result.exit_code == 6 and "the token is not one this database issued" in result.stderr

    with world.store.db.write() as session:
        session.execute(text("UPDATE users SET active = :no WHERE username = 'admin'"), {"no": False})
    result = dtpa(world, "users", "list")
    assert result.exit_code == 6 and "the account 'admin' is deactivated" in result.stderr
    assert "token" in result.stderr  # names where the refused sign-in came from


def test_no_flag_or_variable_can_choose_the_role(world, monkeypatch):
    before = counts(world.store)
    for args in (["sign", world.product, "--attest", "all", "--role", "dpo", "--by", "Sam Patel"],
                 ["assess", CASE, "--save", "--by", "Dr Ada Obi", "--role", "panel_chair"]):
        result = dtpa(world, *args)
        assert result.exit_code == 1 and "No such option" in result.output, args
    monkeypatch.setenv("DTPA_ROLE", "superuser")
    monkeypatch.setenv("DTPA_USER", "mallory")
    refused = dtpa(world, "records", "show", world.patient)
    assert refused.exit_code == 6 and "patient's record: sign in" in refused.stderr
    assert counts(world.store) == before
    nurse = cli_token(world.store, "clinician", ["Willow Ward"])
    assert dtpa(world, "records", "show", world.patient, token=nurse).exit_code == 0
    signed = dtpa(world, "sign", world.patient, "--attest", "all", token=nurse)
    assert signed.exit_code == 0, signed.output
    trail = events(world.store)
    assert [(e.actor, e.role) for e in trail[-2:]] == [("Person clinician", "clinician")] * 2
    assert not any("superuser" in str(e) or "mallory" in str(e) for e in trail)


def test_a_read_only_token_reads_and_exports_but_never_writes(world):
    dpo = cli_token(world.store, "dpo")
    made = dtpa(world, "token", "create", "--name", "reports", "--scope", "read", "--hours", "2",
                token=dpo)
    reader = made.stdout.strip()
    assert dtpa(world, "records", "show", world.patient, token=reader).exit_code == 0
    exported = dtpa(world, "export", world.product, "--json", "--out-dir", str(world.out),
                    token=reader)
    assert exported.exit_code == 0, exported.output
    before = counts(world.store)
    for args in (["sign", world.product, "--attest", "all"],
                 ["token", "create", "--name", "wider", "--scope", "write"]):
        result = dtpa(world, *args, token=reader)
        assert result.exit_code == 6 and "this token is read-only" in result.stderr, args
    assert counts(world.store) == before
    for bad in (["--scope", "admin"], ["--hours", "0"], ["--hours", "100000"]):
        result = dtpa(world, "token", "create", "--name", "x", *bad, token=dpo)
        assert result.exit_code == 1, bad


def test_logout_revokes_the_token_and_deletes_its_file(world):
    login(world, "admin")
    path = Path(os.environ["DTPA_CONFIG_DIR"]) / "token"
    token = path.read_text().strip()
    out = dtpa(world, "logout")
    assert out.exit_code == 0 and "Signed out" in out.output and not path.exists()
    refused = dtpa(world, "users", "list", token=token)
    assert refused.exit_code == 6 and "revoked" in refused.stderr
    assert dtpa(world, "logout").output.startswith("Not signed in")
    assert dtpa(world, "users", "list").exit_code == 6


def test_dtpa_token_takes_precedence_over_the_saved_sign_in(world):
    login(world, "admin")
    chair = cli_token(world.store, "panel_chair")
    signed = dtpa(world, "sign", world.unsigned, "--attest", "all", token=chair)
    assert signed.exit_code == 0 and "(panel_chair)" in signed.output
    # a record already approved takes no more sign-off, from the command line either
    late = dtpa(world, "sign", world.product, "--attest", "all", token=chair)
    assert late.exit_code != 0 and "is approved: every sign-off it needs is recorded" in late.stderr


def test_a_token_file_others_can_read_is_refused(world):
    login(world, "admin")
    path = Path(os.environ["DTPA_CONFIG_DIR"]) / "token"
    path.chmod(0o644)
    result = dtpa(world, "users", "list")
    assert result.exit_code == 6 and "can be read by other users" in result.stderr


def test_a_wrong_password_is_refused_and_saves_nothing(world):
    result = dtpa(world, "login", "admin", "--password-stdin", stdin="not the password\n")
    assert result.exit_code == 6 and "unknown username or wrong password" in result.stderr
    assert not (Path(os.environ["DTPA_CONFIG_DIR"]) / "token").exists()
    assert counts(world.store)["tokens"] == 0


def test_the_first_administrator_is_made_by_the_operator_and_only_while_no_account_exists(
        store, store_url, monkeypatch):
    monkeypatch.setattr(getpass, "getuser", lambda: "ops-on-call")
    world = SimpleNamespace(store=store, url=store_url)
    add = ["users", "add", "root.admin", "--name", "Rosa Admin", "--password-stdin"]
    not_admin = dtpa(world, *add, "--role", "dpo", stdin=PASSWORD + "\n")
    assert not_admin.exit_code == 1 and "the first must be an administrator" in not_admin.stderr
    unknown = dtpa(world, *add, "--role", "superuser", stdin=PASSWORD + "\n")
    assert unknown.exit_code == 1 and "unknown role 'superuser'; use one of panel_chair" in \
        unknown.stderr
    made = dtpa(world, *add, "--role", "administrator", stdin=PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    (event,) = events(store)
    detail = event.detail if isinstance(event.detail, dict) else json.loads(event.detail)
    assert (event.role, event.action) == ("administrator", "account_added")
    assert detail["operator"] is True and detail["os_user"] == "ops-on-call"
    assert detail["username"] == "root.admin"
    again = dtpa(world, "users", "add", "eve", "--name", "Eve Mallory", "--role", "administrator",
                 "--password-stdin", stdin=PASSWORD + "\n")
    assert again.exit_code == 6 and len(store.users()) == 1
    login(world, "root.admin")
    added = dtpa(world, "users", "add", "kim.lee", "--name", "Kim Lee", "--role", "clinician",
                 "--ward", "Willow Ward", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert [u.username for u in store.users()] == ["kim.lee", "root.admin"]


def test_seeding_is_an_operator_command_the_audit_trail_names(store, store_url, monkeypatch):
    monkeypatch.setattr(getpass, "getuser", lambda: "ops-on-call")
    world = SimpleNamespace(store=store, url=store_url)
    first = dtpa(world, "seed")
    assert first.exit_code == 0, first.output
    seeded = [e for e in events(store) if e.action == "seeded"]
    assert len(seeded) == 1 and (seeded[0].actor, seeded[0].role) == ("ops-on-call", "administrator")
    detail = seeded[0].detail if isinstance(seeded[0].detail, dict) else json.loads(seeded[0].detail)
    assert detail["operator"] is True and detail["os_user"] == "ops-on-call"
    assert len(detail["records"]) == store.count()
    assert dtpa(world, "seed").exit_code == 0
    assert len([e for e in events(store) if e.action == "seeded"]) == 1  # nothing new: no event
    assert store.verify().ok


def test_without_signing_in_only_product_decisions_can_be_read(world):
    listed = dtpa(world, "records", "list", "--json")
    assert listed.exit_code == 0 and "Not signed in: product decisions only" in listed.stderr
    ids = [r["id"] for r in json.loads(listed.stdout)]
    assert world.product in ids and world.patient not in ids
    assert dtpa(world, "records", "show", world.product).exit_code == 0
    assert dtpa(world, "records", "history", world.product).exit_code == 0
    due = json.loads(dtpa(world, "records", "due", "--within", "4000d", "--json").stdout)
    assert all(r["context"] == "procurement" for r in due)
    assert [e.action for e in events(world.store)].count("viewed") == 0

"""Tampering is detected and located; concurrent writers, crashes and bad databases lose nothing
and say what happened. Runs on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from engine import service
from engine.cli import app
from engine.errors import StoreUnavailable
from engine.store import Database, Store
from tests.conftest import ALL_ATTESTATIONS, cli_token, load_case

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def populated(store) -> dict[str, str]:
    product = service.save_assessment(load_case("vbm-individual-decision.yaml"), "Dr Ada Obi",
                                      "panel_chair", store)
    store.sign(product.row.id, "Sam Patel", "dpo", ALL_ATTESTATIONS)
    store.override(product.row.id, "P7", "met", "Dr Ada Obi", "panel_chair",
                   "Independent evidence arrived after the assessment was made")
    kiosk = service.save_assessment(load_case("feedback-kiosk.yaml"), "Dr Ada Obi", "panel_chair",
                                    store)
    assert store.verify().ok
    return {"product": product.row.id, "kiosk": kiosk.row.id}


def raw(store, sql: str, **params) -> None:
    with store.db.engine.begin() as conn:
        conn.execute(text(sql), params)


def test_an_edited_record_is_named(store):
    ids = populated(store)
    raw(store, "UPDATE records SET record_json = REPLACE(record_json, 'supported_with_conditions', "
               "'supported') WHERE id = :id", id=ids["product"])
    problems = store.verify().problems
    assert any(p.startswith(f"record {ids['product']}: the stored decision record was altered")
               for p in problems)
    assert not any(ids["kiosk"] in p for p in problems)


def test_an_edited_outcome_column_and_input_are_named(store):
    ids = populated(store)
    raw(store, "UPDATE records SET outcome = 'supported' WHERE id = :id", id=ids["product"])
    raw(store, "UPDATE records SET input_json = REPLACE(input_json, 'procurement', 'procurament') "
               "WHERE id = :id",
        id=ids["kiosk"])
    problems = store.verify().problems
    assert f"record {ids['product']}: the outcome column (supported) differs from the record " \
           "(supported_with_conditions)" in problems
    assert f"record {ids['kiosk']}: the stored assessment (input) was altered" in problems


def test_an_edited_event_is_named(store):
    populated(store)
    raw(store, "UPDATE audit_events SET actor = 'Someone Else' WHERE seq = 2")
    problems = store.verify().problems
    assert problems == ["audit event 2 (signed " + problems[0].split("(signed ")[1]]
    assert "was altered" in problems[0]


def test_a_deleted_event_is_named(store):
    populated(store)
    raw(store, "DELETE FROM audit_events WHERE seq = 3")
    problems = store.verify().problems
    assert "audit event(s) 3 missing (deleted): the chain jumps from 2 to 4" in problems
    assert any(p.startswith("override 1 on") and "altered or added outside DTPA" in p for p in problems)


def test_a_deleted_record_and_an_edited_sign_off_are_named(store):
    ids = populated(store)
    raw(store, "DELETE FROM records WHERE id = :id", id=ids["kiosk"])
    raw(store, "UPDATE signoffs SET role = 'panel_chair'")
    problems = store.verify().problems
    assert f"record {ids['kiosk']} is missing (deleted), though the audit chain recorded its " \
           "creation" in problems
    assert f"sign-off 1 on {ids['product']} was altered or added outside DTPA" in problems


def test_cli_audit_verify_exits_non_zero_on_tampering(store, store_url):
    populated(store)
    auditor = {"DTPA_TOKEN": cli_token(store, "auditor")}
    ok = runner.invoke(app, ["audit", "verify", "--db", store_url], env=auditor)
    # 4 events, the auditor's account_added and the token_issued of its sign-in
    assert ok.exit_code == 0 and "Audit chain intact: 6 events, 2 records verified" in ok.output
    raw(store, "DELETE FROM audit_events WHERE seq = 4")
    bad = runner.invoke(app, ["audit", "verify", "--db", store_url], env=auditor)
    assert bad.exit_code == 5
    assert "TAMPERED: record" in bad.output and "FAILED" in bad.stderr


SAVER = """
import sys
import time
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

from engine import service
from engine.store import Database, Store

if len(sys.argv) > 5:
    # The fault, injected from outside DTPA: each save announces itself by creating the file
    # named, then waits inside its open transaction (all flushed, nothing committed), to be
    # killed there.
    @event.listens_for(Session, "before_commit")
    def _hold(session):
        Path(sys.argv[5]).touch()
        time.sleep(120)

store = Store(Database(sys.argv[1]))
assessment = service.load_assessment(sys.argv[2])
for i in range(int(sys.argv[3])):
    service.save_assessment(assessment, f"Writer {sys.argv[4]}", "panel_chair", store,
                            idempotency_key=f"w{sys.argv[4]}-{i}")
"""


def test_two_writers_at_once_lose_nothing(store, store_url):
    case = str(ROOT / "case_studies" / "feedback-kiosk.yaml")
    procs = [subprocess.Popen([sys.executable, "-c", SAVER, store_url, case, "12", str(n)],
                              cwd=ROOT, stderr=subprocess.PIPE) for n in (1, 2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    assert store.count() == 24
    result = store.verify()
    assert result.ok and result.events == 24, result.problems


def test_a_process_killed_mid_save_leaves_no_half_record(store, store_url, tmp_path):
    marker = tmp_path / "holding"
    case = str(ROOT / "case_studies" / "feedback-kiosk.yaml")
    proc = subprocess.Popen([sys.executable, "-c", SAVER, store_url, case, "1", "9", str(marker)],
                            cwd=ROOT, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()[1].decode()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert store.count() == 0
    assert store.verify().ok
    # the killed writer's lock is gone: the next save goes through
    service.save_assessment(load_case("feedback-kiosk.yaml"), "Dr Ada Obi", "panel_chair", store)
    assert store.count() == 1 and store.verify().ok


def test_the_migrated_schema_matches_the_models(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from engine.store.tables import Base

    with store.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


@pytest.mark.parametrize("url, message", [
    ("nonsense://nowhere", "is not a usable database URL"),
    ("postgresql+psycopg://dtpa:secret@127.0.0.1:1/none", "cannot reach the database"),
])
def test_a_bad_or_unreachable_database_is_a_clear_error(url, message):
    with pytest.raises(StoreUnavailable, match=message) as err:
        Store(Database(url))
    assert "secret" not in str(err.value)
    result = runner.invoke(app, ["records", "list", "--db", url])
    assert result.exit_code == 4
    assert message in result.stderr and "Check DTPA_DATABASE_URL" in result.stderr


def test_unknown_record_from_the_cli(store_url):
    result = runner.invoke(app, ["records", "show", "PRO-deadbeef", "--db", store_url])
    assert result.exit_code == 1
    assert "Error: no stored record 'PRO-deadbeef'" in result.stderr


def test_cli_journey_save_sign_override_history(store_url):
    case = str(ROOT / "case_studies" / "vbm-individual-decision.yaml")
    chair = {"DTPA_TOKEN": cli_token(store_url, "panel_chair")}
    saved = runner.invoke(app, ["assess", case, "--save", "--db", store_url], env=chair)
    assert saved.exit_code == 0, saved.output
    ref = re.search(r"Record (PRO-[0-9a-f]{8}@1) ", saved.output).group(1)
    for role in ("panel_chair", "dpo", "clinical_safety_officer", "lived_experience_representative"):
        token = chair["DTPA_TOKEN"] if role == "panel_chair" else cli_token(store_url, role)
        signed = runner.invoke(app, ["sign", ref, "--attest", "all", "--db", store_url],
                               env={"DTPA_TOKEN": token})
        assert signed.exit_code == 0, signed.output
    assert "Status: approved" in signed.output
    over = runner.invoke(app, ["override", ref, "--target", "P7", "--to", "met", "--reason",
                               "Independent evidence arrived after the assessment", "--db", store_url],
                         env=chair)
    assert over.exit_code == 0, over.output
    shown = runner.invoke(app, ["records", "show", ref, "--db", store_url])
    assert "P7: engine said met_with_conditions" in shown.output
    history = runner.invoke(app, ["records", "history", ref, "--db", store_url])
    assert [line.split()[2] for line in history.output.splitlines() if line.startswith("  #")] == [
        "created", "signed", "signed", "signed", "signed", "overridden"]
    listed = runner.invoke(app, ["records", "list", "--db", store_url])
    assert ref in listed.output and "approved" in listed.output
    due = runner.invoke(app, ["records", "due", "--within", "400d", "--db", store_url])
    assert ref in due.output
    assert runner.invoke(app, ["records", "due", "--within", "soon", "--db", store_url]).exit_code == 1


def test_injection_attempts_in_record_filters_are_just_text(store):
    populated(store)
    for attack in ("'; DROP TABLE records; --", "%' OR '1'='1", "\\x00", "Contactless%"):
        views = store.latest(product=attack, ward=attack)
        assert all(attack.strip("%") in (v.row.product + (v.row.ward or "")) for v in views)
    assert store.count() == 2 and store.verify().ok
    runner_result = runner.invoke(app, ["records", "list", "--product", "'; DROP TABLE records; --",
                                        "--db", str(store.db.url)])
    assert runner_result.exit_code == 0 and "0 record(s)" in runner_result.output

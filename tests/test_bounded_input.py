"""Input that could exhaust the machine, crash a save or stall a writer is refused quickly, with
a clear error and the documented exit code (issue 12, items 5, 7 and 10). Each attack from the
issue is here as it was tried: a 342-byte YAML alias bomb, `dtpa assess /dev/zero`, a FIFO, deep
JSON, a NUL in a text field on PostgreSQL, a writer behind a stuck lock, and a re-evaluation that
is interrupted. The dangerous ones run in a child process with a memory limit and a timeout, so
that without the fix the test fails instead of taking the machine down or hanging."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from engine import service
from engine.cli import app
from engine.cli.base import database_error
from engine.errors import InputInvalid, Interrupted, StoreBusy
from engine.knowledge.pack import load_pack
from engine.knowledge.yamlio import ALIASES_REFUSED, MAX_DEPTH, YamlProblem, parse_text, read_bounded
from engine.service import reevaluate as reevaluation
from engine.service.deciding import decide_quickly, validate_assessment
from engine.store import Database, Store
from engine.store.db import CHAIN_LOCK
from tests.conftest import ROOT, cli_token, load_case

runner = CliRunner()
KIOSK = ROOT / "case_studies" / "feedback-kiosk.yaml"
MEMORY = 1 << 30  # 1 GB of address space: DTPA needs about a third of it; the bomb wanted 6.3 GB

BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def dtpa_bounded(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`dtpa ARGS` in a child process limited to MEMORY; a run past `timeout` fails the test."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))

    try:
        return subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=ROOT, text=True,
                              capture_output=True, preexec_fn=limit, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`dtpa {' '.join(args)}` was still running after {timeout:g} s")


def assert_one_error(result: subprocess.CompletedProcess[str], says: str, code: int = 1) -> None:
    assert result.returncode == code, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr
    assert result.stderr.startswith("Error: "), result.stderr[-2000:]
    assert says in result.stderr, result.stderr[-2000:]


# --- files ----------------------------------------------------------------------------------------

def test_the_alias_bomb_is_refused_at_its_first_anchor_with_little_memory(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)
    assert bomb.stat().st_size < 400
    started = time.monotonic()
    result = dtpa_bounded("assess", str(bomb))
    assert_one_error(result, f"bomb.yaml:1: {ALIASES_REFUSED}")
    assert time.monotonic() - started < 60


@pytest.mark.parametrize("text, line", [
    ("a: &x 1\n", 1),                                    # an anchor alone
    ("a: 1\nb: [1, *x]\n", 2),                           # an alias (to nothing)
    ("base: &b {x: 1}\nuse:\n  <<: *b\n", 1),            # a merge key
    ('{"a": 1,\n "b": &c [1]}', 2),                      # in JSON-looking text
])
def test_anchors_and_aliases_are_refused_with_file_and_line(text, line):
    with pytest.raises(YamlProblem) as err:
        parse_text(text, "a.yaml")
    assert str(err.value) == f"a.yaml:{line}: {ALIASES_REFUSED}"


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_not_read_however_much_it_would_give(device):
    result = dtpa_bounded("assess", device)
    assert_one_error(result, f"{device}: not a regular file (a character device)")


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "assessment.yaml"
    os.mkfifo(fifo)
    result = dtpa_bounded("assess", str(fifo), timeout=60)  # opening it to read would wait
    assert_one_error(result, "assessment.yaml: not a regular file (a FIFO)")


def test_a_link_to_a_device_and_a_socket_are_refused(tmp_path):
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")
    with pytest.raises(InputInvalid, match=r"zero.yaml: not a regular file \(a character device\)"):
        service.load_assessment(link)
    listening = socket.socket(socket.AF_UNIX)
    try:
        listening.bind(str(tmp_path / "sock.yaml"))
        with pytest.raises(InputInvalid, match=r"sock.yaml: not a regular file \(a socket\)"):
            service.load_assessment(tmp_path / "sock.yaml")
    finally:
        listening.close()


def test_never_more_than_the_limit_plus_one_byte_is_read_whatever_the_size_says(tmp_path):
    # /proc files are regular files whose size says 0: only a bounded read sees they are larger
    status = Path("/proc/self/status")
    assert status.stat().st_size == 0 and len(status.read_bytes()) > 100
    with pytest.raises(YamlProblem, match="file is too large: the limit is 100 bytes"):
        read_bounded(status, max_bytes=100)
    exact = tmp_path / "exact.yaml"
    exact.write_bytes(b"a: 1\n" * 20)
    assert read_bounded(exact, max_bytes=100) == b"a: 1\n" * 20  # at the limit: read whole
    exact.write_bytes(b"a: 1\n" * 20 + b"\n")
    with pytest.raises(YamlProblem, match="too large"):
        read_bounded(exact, max_bytes=100)


def _deep_json(depth: int) -> str:
    return json.dumps({"context": "procurement", "title": "x"})[:-1] + ', "x": ' + \
        "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("depth", [MAX_DEPTH, 100_000])
def test_deep_json_is_an_input_error_not_a_traceback(tmp_path, depth):
    path = tmp_path / "deep.json"
    path.write_text(_deep_json(depth))
    result = runner.invoke(app, ["assess", str(path)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    assert f"nested more than {MAX_DEPTH} levels deep" in result.stderr, result.stderr


def test_deep_yaml_is_refused_at_the_line_where_it_goes_too_deep(tmp_path):
    lines = ["x:"] + [" " * (2 * i) + "- " for i in range(1, MAX_DEPTH + 2)]
    path = tmp_path / "deep.yaml"
    path.write_text("\n".join(lines) + "1\n")
    with pytest.raises(InputInvalid) as err:
        service.load_assessment(path)
    assert f"deep.yaml:{MAX_DEPTH + 1}: nested more than {MAX_DEPTH} levels deep" in str(err.value)
    nested_enough = "\n".join(["x:"] + [" " * (2 * i) + "- " for i in range(1, MAX_DEPTH)]) + "1\n"
    assert parse_text(nested_enough, "ok.yaml").data["x"]  # 64 levels are read


def test_a_json_file_with_an_escaped_emoji_is_read_as_json(tmp_path):
    # json.dumps escapes an emoji as a surrogate pair, which YAML does not accept
    data = load_case("feedback-kiosk.yaml").model_dump(mode="json", exclude_none=True)
    data["title"] = "Kiosk \U0001F600"
    path = tmp_path / "emoji.json"
    path.write_text(json.dumps(data))
    assert "\\ud83d\\ude00" in path.read_text()
    assert service.load_assessment(path).title == "Kiosk \U0001F600"
    # read as JSON, a key given twice is still refused (json.loads alone keeps the last one)
    path.write_text(json.dumps(data)[:-1] + ', "title": "again"}')
    with pytest.raises(InputInvalid, match="emoji.json: duplicate key 'title'"):
        service.load_assessment(path)


# --- NUL and database errors ----------------------------------------------------------------------

MARKER = "Confidential Ward Seven Product"


def _kiosk_with(**changes) -> dict:
    data = load_case("feedback-kiosk.yaml").model_dump(mode="json", exclude_none=True)
    data["technology"]["name"] = MARKER
    data.update(changes)
    return data


def test_a_nul_in_a_text_field_is_refused_before_the_save_and_the_input_is_not_printed(
        store, store_url, tmp_path):
    path = tmp_path / "nul.json"
    path.write_text(json.dumps(_kiosk_with(title="Night\u0000use")))
    token = cli_token(store, "panel_chair")
    result = runner.invoke(app, ["assess", str(path), "--save", "--db", store_url],
                           env={"DTPA_TOKEN": token})
    assert result.exit_code == 1, result.output
    assert "title: Value error, contains a NUL character (U+0000) at character 6" in result.stderr
    assert MARKER not in result.output and "INSERT" not in result.output
    assert store.count() == 0


def test_postgresql_refusing_a_value_says_so_in_one_line_without_the_input(store, store_url):
    if not store_url.startswith("postgresql"):
        pytest.skip("SQLite stores NUL characters: only PostgreSQL refuses them")
    # A record that reaches the store without today's validation (as one made before it would)
    assessment = validate_assessment(_kiosk_with(title="Night\u0000use"), lenient=True)
    record = service.evaluate(assessment)
    with pytest.raises(InputInvalid) as err:
        store.save(assessment.model_dump(mode="json"), record, "Dr Ada Obi", "panel_chair")
    message = str(err.value)
    assert message == ("the database refused a value (DataError: PostgreSQL text fields cannot "
                       "contain NUL (0x00) bytes); nothing was stored")
    assert store.count() == 0
    with pytest.raises(InputInvalid) as err, store.db.write() as session:
        session.execute(text("SELECT CAST(:v AS integer)"), {"v": MARKER})
    assert MARKER not in str(err.value) and "invalid input syntax for type integer" in str(err.value)


def test_an_integrity_error_is_trimmed_to_its_class_and_constraint(store, store_url):
    with pytest.raises(IntegrityError) as err, store.db.write() as session:
        session.execute(text("CREATE TEMPORARY TABLE secrets (name VARCHAR(80) PRIMARY KEY)"))
        for _ in range(2):
            session.execute(text("INSERT INTO secrets (name) VALUES (:n)"), {"n": MARKER})
    said = str(err.value)
    assert MARKER not in said and "INSERT" not in said and "parameters" not in said
    assert ("secrets_pkey" in said) if store_url.startswith("postgresql") else \
        ("UNIQUE constraint failed: secrets.name" in said)
    shown = database_error(err.value)  # as the command line shows it: exit code 1
    assert str(shown).startswith("the database refused the change (IntegrityError: ")
    assert MARKER not in str(shown)


def test_a_database_error_the_store_did_not_trim_is_named_by_its_class_only():
    raw = IntegrityError("INSERT INTO users VALUES (?)", (MARKER,), Exception(f"dup {MARKER}"))
    assert MARKER in str(raw)  # what used to reach standard error
    assert str(database_error(raw)) == ("the database refused the change (IntegrityError); "
                                        "nothing was stored")


# --- a writer behind a stuck lock ---------------------------------------------------------------

def _hold_lock(store_url: str, kind: str):
    """Another connection holding the lock a write needs, until `release()`."""
    if store_url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(store_url.split("///", 1)[1], isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        return lambda: (conn.execute("ROLLBACK"), conn.close())
    import psycopg

    conn = psycopg.connect(store_url.replace("postgresql+psycopg://", "postgresql://"))
    if kind == "advisory":
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK,))
    else:
        conn.execute("LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE")
    return lambda: (conn.rollback(), conn.close())


def _within(seconds: float, work):
    """Run `work` in a thread; (result or exception, seconds taken), or None if still waiting."""
    box: dict = {}

    def run() -> None:
        started = time.monotonic()
        try:
            box["out"] = work()
        except BaseException as exc:  # noqa: B036 - handed back to the test
            box["out"] = exc
        box["took"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    return (box["out"], box["took"]) if "took" in box else None


@pytest.mark.parametrize("kind", ["advisory", "table"])
def test_a_writer_behind_a_stuck_lock_fails_fast_with_store_busy(store_url, kind, monkeypatch):
    if kind == "table" and store_url.startswith("sqlite"):
        pytest.skip("SQLite has one lock for the whole database")
    monkeypatch.setenv("DTPA_LOCK_TIMEOUT", "1")
    store = Store(Database(store_url))
    release = _hold_lock(store_url, kind)
    try:
        outcome = _within(30, lambda: service.save_assessment(
            load_case("feedback-kiosk.yaml"), "Dr Ada Obi", "panel_chair", store))
        assert outcome is not None, "the writer waited behind the lock for more than 30 s"
        error, took = outcome
        assert isinstance(error, StoreBusy), error
        assert str(error).startswith("the store is busy; try again") and took < 10
        assert "DTPA_LOCK_TIMEOUT" in str(error)
    finally:
        release()
    service.save_assessment(load_case("feedback-kiosk.yaml"), "Dr Ada Obi", "panel_chair", store)
    assert store.count() == 1  # once the lock is gone, the write goes through
    store.db.dispose()


def test_the_command_line_says_busy_with_exit_code_4(store, store_url):
    token = cli_token(store, "panel_chair")
    release = _hold_lock(store_url, "advisory")
    try:
        outcome = _within(60, lambda: runner.invoke(
            app, ["assess", str(KIOSK), "--save", "--db", store_url],
            env={"DTPA_TOKEN": token, "DTPA_LOCK_TIMEOUT": "1"}))
        assert outcome is not None, "`dtpa assess --save` waited behind the lock for 60 s"
        result, _ = outcome
    finally:
        release()
    assert result.exit_code == 4, result.output
    assert result.stderr.startswith("Error: the store is busy; try again"), result.stderr
    assert "Traceback" not in result.output and store.count() == 0


# --- interrupted re-evaluation --------------------------------------------------------------------

@pytest.fixture
def changed_rules(tmp_path) -> Path:
    """A copy of rules/ in which vendor-only evidence is a blocker: every monitor record would
    change, no kiosk record would."""
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    path = rules / "p7_evidence.yaml"
    source = path.read_text()
    start = source.index("- id: P7-PRO-001")
    path.write_text(source[:start] + source[start:].replace("severity: condition",
                                                            "severity: blocker", 1))
    return rules


def _four_records(store) -> list[str]:
    """monitor, kiosk, monitor, kiosk (oldest first): the monitors would change."""
    cases = [load_case("vbm-individual-decision.yaml"), load_case("feedback-kiosk.yaml")]
    records = [service.evaluate(c) for c in cases]
    return [store.save(cases[i % 2].model_dump(mode="json"), records[i % 2], "Dr Ada Obi",
                       "panel_chair", f"r{i}").row.id for i in range(4)]


def _events(store, *actions: str) -> list[tuple[str, str | None, dict]]:
    with store.db.read() as session:
        rows = session.execute(text("SELECT action, record_id, detail FROM audit_events "
                                    "ORDER BY seq")).all()
    return [(a, r, d if isinstance(d, dict) else json.loads(d)) for a, r, d in rows
            if not actions or a in actions]


def _stops_at(call: int, stop: BaseException):
    calls = {"n": 0}

    def decide(assessment, pack):
        calls["n"] += 1
        if calls["n"] == call:
            raise stop
        return decide_quickly(assessment, pack)
    return decide


RUN_EVENTS = ("reevaluated", "reevaluation_started", "reevaluation_finished",
              "reevaluation_interrupted")


def test_an_interrupted_reevaluation_is_recorded_and_resumed_without_flagging_twice(
        store, changed_rules):
    ids = _four_records(store)
    pack = load_pack(changed_rules)
    with pytest.raises(Interrupted, match=r"interrupted after 2 of 4 record\(s\)"):
        reevaluation.reevaluate(store, pack, "Dr Ada Obi", "dpo", _stops_at(3, KeyboardInterrupt()))
    first = _events(store, *RUN_EVENTS)
    assert [(a, r) for a, r, _ in first] == [
        ("reevaluation_started", None), ("reevaluated", ids[0]), ("reevaluation_interrupted", None)]
    run = first[0][2]["run"]
    assert first[0][2]["rule_pack_hash"] == pack.hash and first[0][2]["records"] == 4
    assert first[2][2] == {"run": run, "rule_pack_hash": pack.hash, "checked": 2, "of": 4,
                           "newly_flagged": 1, "why": "interrupted (Ctrl-C)"}

    resumed = reevaluation.reevaluate(store, pack, "Dr Ada Obi", "dpo", decide_quickly)
    assert resumed.resumed is not None and resumed.resumed.run == run
    assert (resumed.resumed.checked, resumed.resumed.why) == (2, "interrupted (Ctrl-C)")
    assert sorted(c.record_id for c in resumed.changes) == sorted([ids[0], ids[2]])
    assert (resumed.already_flagged, resumed.newly_flagged, resumed.unchanged) == (1, 1, 2)

    again = reevaluation.reevaluate(store, pack, "Dr Ada Obi", "dpo", decide_quickly)
    assert again.resumed is None  # the last run finished
    assert (again.already_flagged, again.newly_flagged, len(again.changes)) == (2, 0, 2)

    flags = [r for a, r, _ in _events(store, "reevaluated")]
    assert sorted(flags) == sorted([ids[0], ids[2]])  # each record flagged once for this rule pack
    assert [store.get(i).review_flags != [] for i in ids] == [True, False, True, False]
    runs = _events(store, "reevaluation_started", "reevaluation_finished")
    assert [a for a, _, _ in runs] == ["reevaluation_started"] + [
        "reevaluation_started", "reevaluation_finished"] * 2
    assert runs[1][2]["resumes"] == run and runs[3][2]["resumes"] is None


def test_a_crash_mid_run_is_recorded_and_raised_as_it_was(store, changed_rules):
    _four_records(store)
    pack = load_pack(changed_rules)
    with pytest.raises(RuntimeError, match="the engine broke"):
        reevaluation.reevaluate(store, pack, "Dr Ada Obi", "dpo",
                                _stops_at(2, RuntimeError("the engine broke")))
    (stopped,) = [d for a, _, d in _events(store, "reevaluation_interrupted")]
    assert (stopped["checked"], stopped["why"]) == (1, "RuntimeError")


KILLED_RUN = """
import os, signal, sys
from engine.knowledge.pack import load_pack
from engine.service import reevaluate as r
from engine.service.deciding import decide_quickly
from engine.store import Database, Store

calls = []
def decide(assessment, pack):
    calls.append(1)
    if len(calls) == 3:  # after the first record was flagged: killed, no chance to say so
        os.kill(os.getpid(), signal.SIGKILL)
    return decide_quickly(assessment, pack)

r.reevaluate(Store(Database(sys.argv[1])), load_pack(sys.argv[2]), "Dr Ada Obi", "dpo", decide)
"""


def test_a_run_killed_outright_is_seen_as_unfinished_and_resumed(store, store_url, changed_rules):
    ids = _four_records(store)
    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, store_url, str(changed_rules)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert [a for a, _, _ in _events(store, *RUN_EVENTS)] == ["reevaluation_started", "reevaluated"]
    report = reevaluation.reevaluate(store, load_pack(changed_rules), "Dr Ada Obi", "dpo",
                                     decide_quickly)
    assert report.resumed is not None and report.resumed.why is None  # no end was recorded
    assert (report.already_flagged, report.newly_flagged) == (1, 1)
    assert sorted(r for _, r, _ in _events(store, "reevaluated")) == sorted([ids[0], ids[2]])


def test_dtpa_reevaluate_says_it_was_interrupted_and_that_it_resumes(
        store, store_url, changed_rules, monkeypatch):
    _four_records(store)
    token = cli_token(store, "dpo")
    env = {"DTPA_TOKEN": token, "DTPA_RULES_DIR": str(changed_rules)}
    args = ["reevaluate", "--workers", "1", "--db", store_url]
    monkeypatch.setattr(service.api, "decide_quickly", _stops_at(3, KeyboardInterrupt()))
    stopped = runner.invoke(app, args, env=env)
    assert stopped.exit_code == 130, stopped.output
    assert stopped.stderr.startswith("Error: re-evaluation interrupted after 2 of 4 record(s)")
    assert "Run the same command again: it resumes" in stopped.stderr
    monkeypatch.setattr(service.api, "decide_quickly", decide_quickly)
    resumed = runner.invoke(app, args, env=env)
    assert resumed.exit_code == 0, resumed.output
    assert "Resumed the re-evaluation " in resumed.stdout
    assert "which was interrupted after 2 record(s) (interrupted (Ctrl-C))" in resumed.stdout
    assert "2 would change (1 newly flagged for review, 1 flagged already for this rule pack)" \
        in resumed.stdout


# --- a stricter rule never makes a stored record unreadable ------------------------------------------

def test_a_record_stored_before_a_stricter_rule_is_listed_shown_exported_and_flagged(
        store, store_url, tmp_path):
    # Stored as a record saved before control characters were refused would have been
    data = _kiosk_with(title="Old\u0007 kiosk")
    data["technology"]["name"] = "Kiosk\u001b]0;renamed\u0007 two"
    data["technology"]["vendor"] = "Acme \u202egnp.exe\u202c Ltd\u200b"  # reorders what is shown
    data["data_protection"] = {**data.get("data_protection", {}), "dpia_review_due": "0001-01-01"}
    with pytest.raises(InputInvalid, match="technology.name: Value error, contains a control "
                                           r"character \(U\+001B\)"):
        validate_assessment(data)  # today it would be refused
    old = validate_assessment(data, lenient=True)
    saved = store.save(old.model_dump(mode="json"), service.evaluate(old), "Dr Ada Obi",
                       "panel_chair")
    ref = saved.row.id
    token = cli_token(store, "dpo")

    def dtpa(*args: str):
        result = runner.invoke(app, [*args, "--db", store_url], env={"DTPA_TOKEN": token})
        assert result.exit_code == 0, (args, result.output)
        return result.stdout

    listed = dtpa("records", "list")
    assert ref in listed and "Kiosk\\x1b]0;renamed\\x07 two" in listed  # shown, never acted on
    assert "\x1b" not in listed and "\x07" not in listed
    shown = dtpa("records", "show", ref)
    assert ref in shown and "\x1b" not in shown
    assert "Acme \\u202egnp.exe\\u202c Ltd\\u200b" in shown  # escaped: seen as stored, not reordered
    assert not any(c in shown for c in "\u202e\u202c\u200b")
    for kind in ("--pdf", "--json", "--fhir"):
        dtpa("export", ref, kind, "--out-dir", str(tmp_path / "out"))
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == [f"{ref}.fhir.json", f"{ref}.json", f"{ref}.pdf"]
    assert json.loads((tmp_path / "out" / f"{ref}.json").read_text())["title"] == "Old\u0007 kiosk"

    first = dtpa("reevaluate", "--workers", "1")
    assert f"{ref}: stored before a stricter input rule (kept as stored; flagged for review): " \
           "title: Value error, contains a control character (U+0007)" in first
    assert "data_protection.dpia_review_due: Value error, 0001-01-01 is outside the dates" in first
    assert "0 could not be re-evaluated" in first
    second = dtpa("reevaluate", "--workers", "1")
    assert "(kept as stored; flagged already)" in second
    flags = [e for e in store.get(ref).review_flags if e.action == "flagged"]
    assert len(flags) == 1 and flags[0].detail["kind"] == "stricter_input_rules"
    assert flags[0].detail["reason"].startswith("stored before a stricter input rule: title: ")
    assert ref in dtpa("records", "due")

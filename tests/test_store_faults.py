"""Faults: the database failing mid-write, and a full disk. Nothing already saved is lost, no
half record is left, and the message says what happened. (SQLite: the faults are real ones.)"""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from engine import service
from engine.errors import StoreUnavailable
from engine.store import Database, Store
from tests.conftest import load_case


@pytest.fixture
def sqlite_store(tmp_path):
    store = Store(Database(f"sqlite:///{tmp_path / 'faults.sqlite'}"))
    yield store
    store.db.dispose()


def save(store):
    return service.save_assessment(load_case("feedback-kiosk.yaml"), "Dr Ada Obi", "panel_chair", store)


def test_a_full_disk_is_reported_and_leaves_no_half_record(sqlite_store):
    first = save(sqlite_store)
    pages = {}

    @event.listens_for(sqlite_store.db.engine, "connect")
    def _limit(dbapi_connection, _record):  # the disk is "full" at its current size
        count = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        pages["limit"] = count
        dbapi_connection.execute(f"PRAGMA max_page_count = {count}").fetchone()

    sqlite_store.db.engine.dispose()  # new connections get the limit
    with pytest.raises(StoreUnavailable, match="full"):
        service.save_assessment(load_case("vbm-ward-wide-default.yaml"), "Dr Ada Obi",
                                "panel_chair", sqlite_store)
    assert pages
    event.remove(sqlite_store.db.engine, "connect", _limit)
    sqlite_store.db.engine.dispose()
    assert sqlite_store.count() == 1 and sqlite_store.get(first.row.id).record.outcome
    assert sqlite_store.verify().ok


def test_the_database_failing_at_commit_keeps_nothing_half_written(sqlite_store):
    save(sqlite_store)
    def failing_commit(conn):
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    event.listen(sqlite_store.db.engine, "commit", failing_commit)  # the database fails at commit
    with pytest.raises(StoreUnavailable, match="disk I/O error"):
        save(sqlite_store)
    event.remove(sqlite_store.db.engine, "commit", failing_commit)
    assert sqlite_store.count() == 1 and sqlite_store.verify().ok
    save(sqlite_store)  # and it works again once the database is back
    assert sqlite_store.count() == 2 and sqlite_store.verify().ok

"""The suite's own rule: what a test needs from the machine (a browser, a PostgreSQL server,
poppler's pdftoppm) skips the test, with the reason, on a developer's machine, and fails it in CI
(CI=true), so CI can never pass by skipping what it was meant to check."""

from __future__ import annotations

import shutil

import pytest

from tests import conftest
from tests import test_exports as exports
from tests.browser import conftest as browser


@pytest.fixture(params=["ci", "local"])
def where(request, monkeypatch) -> str:
    if request.param == "ci":
        monkeypatch.setenv("CI", "true")
    else:
        monkeypatch.delenv("CI", raising=False)
    return request.param


def outcome(where: str):
    return pytest.fail.Exception if where == "ci" else pytest.skip.Exception


def test_a_missing_browser(where):
    with pytest.raises(outcome(where), match="/usr/bin/chromium not found"):
        browser._missing("/usr/bin/chromium not found")


def test_a_missing_postgresql_server(where, monkeypatch):
    monkeypatch.delenv("DTPA_TEST_POSTGRES_URL", raising=False)
    with pytest.raises(outcome(where), match="PostgreSQL"):
        conftest._postgres_database()


def test_a_missing_pdftoppm(where, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(outcome(where), match="pdftoppm"):
        exports.render_first_page(b"%PDF-", "never-written")

"""Configuration: every DTPA_* variable is read through one settings object, where DTPA reads it,
and the README documents each one."""

from __future__ import annotations

from pathlib import Path

from engine.knowledge.lock import locked_versions
from engine.knowledge.pack import load_pack
from engine.settings import ROOT, Settings, settings
from engine.store import database_url, redact_url

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_defaults_without_environment(monkeypatch):
    for field in Settings.model_fields:
        monkeypatch.delenv(f"DTPA_{field.upper()}", raising=False)
    config = settings()
    assert config.database_url == f"sqlite:///{ROOT / 'data' / 'dtpa.sqlite'}"
    assert config.profile == "national-default"
    assert config.rules_dir == ROOT / "rules" and config.principles_dir == ROOT / "principles"
    assert config.token is None and config.config_dir.name == "dtpa"


def test_each_variable_is_read(monkeypatch, tmp_path, pack_copy):
    rules, principles = pack_copy
    monkeypatch.setenv("DTPA_DATABASE_URL", "postgresql+psycopg://dtpa:secret@db.example/dtpa")
    monkeypatch.setenv("DTPA_PROFILE", "example-trust")
    monkeypatch.setenv("DTPA_RULES_DIR", str(rules))
    monkeypatch.setenv("DTPA_PRINCIPLES_DIR", str(principles))
    monkeypatch.setenv("DTPA_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("DTPA_TOKEN", "dtpa_not-a-real-token")
    config = settings()
    assert config.config_dir == tmp_path / "config"
    assert config.token.get_secret_value() == "dtpa_not-a-real-token"
    assert "not-a-real-token" not in repr(config)  # a token is never printed by accident
    # ... and where DTPA reads them:
    assert database_url() == "postgresql+psycopg://dtpa:secret@db.example/dtpa"
    assert database_url("sqlite:///given.sqlite") == "sqlite:///given.sqlite"  # an argument wins
    pack = load_pack()
    assert pack.profile.name == "example-trust" and pack.files[0].startswith(str(rules))
    assert load_pack(profile="national-default").profile.name == "national-default"
    (rules / "pack.lock.yaml").write_text("versions:\n  9.9.9: abc\n")
    assert locked_versions() == {"9.9.9": "abc"}


def test_an_empty_variable_is_as_if_unset(monkeypatch):
    monkeypatch.setenv("DTPA_PROFILE", "")
    monkeypatch.setenv("DTPA_DATABASE_URL", "")
    assert settings().profile == "national-default"
    assert database_url().startswith("sqlite:///")


def test_passwords_are_hidden_by_sqlalchemys_url_rendering():
    assert redact_url("postgresql+psycopg://dtpa:s3cr%40t@db:5432/dtpa") == \
        "postgresql+psycopg://dtpa:***@db:5432/dtpa"
    assert redact_url("sqlite:////tmp/dtpa.sqlite") == "sqlite:////tmp/dtpa.sqlite"
    assert "secret" not in redact_url("not a url but secret")


def test_the_readme_documents_every_variable():
    for field in Settings.model_fields:
        assert f"| `DTPA_{field.upper()}` |" in README, f"README: document DTPA_{field.upper()}"

"""The command line: readable decisions, JSON records for scripts, exit codes, and the README as
its reference."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import shutil
from pathlib import Path

import typer
from pydantic_settings import BaseSettings
from typer.testing import CliRunner

from engine.cli import app
from engine.models.record import DecisionRecord
from tests.conftest import cli_token

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "case_studies"
runner = CliRunner()


def test_assess_prints_the_decision_with_reasons_remedies_and_citations():
    result = runner.invoke(app, ["assess", str(CASES / "vbm-ward-wide-default.yaml")])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "OUTCOME: Not supported: the product must not be deployed as proposed" in out
    assert "P2   Consent and capacity" in out
    assert "[blocker] P2-PRO-001" in out and "Why: The technology would be on" in out
    assert "Remedy: Deploy it off by default" in out
    assert "Cites: " in out and "Open questions (" in out


def test_assess_json_is_a_valid_sealed_record():
    result = runner.invoke(app, ["assess", "--json", str(CASES / "vbm-patient-refuses.yaml")])
    assert result.exit_code == 0
    record = DecisionRecord.model_validate(json.loads(result.stdout))
    assert record.outcome == "not_supported"
    assert record.record_type == "individual_use" and record.subject.patient_reference == "WIL-0042"


def test_invalid_input_exits_1_with_a_located_message(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("context: procurement\ntechnology:\n  name: X\n  category: toaster\n")
    result = runner.invoke(app, ["assess", str(bad)])
    assert result.exit_code == 1
    assert "Error: The assessment has 1 invalid field(s)." in result.stderr
    assert "bad.yaml:4: technology.category: Input should be" in result.stderr
    assert "Traceback" not in result.output


def test_invalid_rules_exit_2(tmp_path, monkeypatch):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    (rules / "p3_equity.yaml").write_text("rules:\n  - id: NOT-AN-ID\n")
    monkeypatch.setenv("DTPA_RULES_DIR", str(rules))
    result = runner.invoke(app, ["assess", str(CASES / "vbm-ward-wide-default.yaml")])
    assert result.exit_code == 2
    assert "p3_equity.yaml:2 NOT-AN-ID: id: String should match pattern" in result.stderr
    assert runner.invoke(app, ["rules", "check"]).exit_code == 2


def test_rules_check_shows_coverage_in_both_contexts():
    result = runner.invoke(app, ["rules", "check"])
    assert result.exit_code == 0, result.output
    assert "procurement" in result.output and "individual" in result.output
    for target in ("P1", "P8", "DP", "POL", "TRN", "REC"):
        assert any(line.startswith(target) for line in result.output.splitlines())
    assert "OK: every principle and practice area has rules in both contexts" in result.output


def test_rules_check_fails_on_a_coverage_gap(tmp_path, monkeypatch):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    for path in rules.glob("*.yaml"):
        path.write_text(path.read_text().replace("areas: [TRN]", "areas: [POL]")
                        .replace(", TRN]", "]").replace("[TRN, ", "["))
    (rules / "trn_training.yaml").unlink()
    monkeypatch.setenv("DTPA_RULES_DIR", str(rules))
    result = runner.invoke(app, ["rules", "check"])
    assert result.exit_code == 2
    assert "TRN has no rule in individual_use" in result.stderr


def test_rules_test_runs_every_case():
    result = runner.invoke(app, ["rules", "test"])
    assert result.exit_code == 0
    assert result.output.strip().endswith("0 failed")


def test_schema_command_writes_the_published_schemas(tmp_path):
    result = runner.invoke(app, ["schema", "--out", str(tmp_path)])
    assert result.exit_code == 0
    for path in (ROOT / "docs" / "schemas").glob("*.json"):
        assert json.loads((tmp_path / path.name).read_text()) == json.loads(path.read_text()), \
            f"{path.name} is stale: run `make schemas`"


# --- exit codes, JSON for scripts, and the README as the reference --------------------------


def test_an_unreadable_input_is_an_input_error_never_a_traceback(tmp_path):
    for path in (tmp_path / "missing.yaml", tmp_path):
        result = runner.invoke(app, ["assess", str(path)])
        assert result.exit_code == 1, (path, result.output)
        assert result.stderr.startswith("Error: ") and "Traceback" not in result.output
    for args in (["assess", str(CASES / "feedback-kiosk.yaml"), "--no-such-option"],
                 ["no-such-command"], ["records", "no-such-command"], [], ["--no-such-option"]):
        assert runner.invoke(app, args).exit_code == 1, args


def test_assess_save_json_says_where_the_record_is_stored(tmp_path):
    url = f"sqlite:///{tmp_path / 'dtpa.sqlite'}"
    chair = {"DTPA_TOKEN": cli_token(url, "panel_chair")}
    saved = runner.invoke(app, ["assess", str(CASES / "vbm-individual-decision.yaml"), "--save",
                                "--json", "--db", url], env=chair)
    assert saved.exit_code == 0, saved.output
    out = json.loads(saved.stdout)
    stored, record = out["stored"], DecisionRecord.model_validate(out["record"])
    assert stored["id"] == f"{stored['key']}@{stored['version']}" and stored["version"] == 1
    assert (stored["saved_by"], stored["role"]) == ("Person panel_chair", "panel_chair")
    assert stored["status"].startswith("awaiting sign-off")
    listed = json.loads(runner.invoke(app, ["records", "list", "--json", "--db", url],
                                      env=chair).stdout)
    assert [(r["id"], r["outcome"]) for r in listed] == [(stored["id"], record.outcome)]
    due = runner.invoke(app, ["records", "due", "--within", "4000d", "--json", "--db", url],
                        env=chair)
    assert [r["id"] for r in json.loads(due.stdout)] == [stored["id"]]
    assert "review" in json.loads(due.stdout)[0]["reason"]


def _commands(command, prefix: tuple[str, ...] = ()) -> list[str]:
    """Every command's full name ("records list"), walking the groups."""
    if hasattr(command, "commands"):
        return [c for name, sub in command.commands.items() for c in _commands(sub, (*prefix, name))]
    return [" ".join(prefix)]


def _environment_variables() -> set[str]:
    """Every DTPA_* variable engine/ reads: directly, or as a field of a pydantic-settings class."""
    names: set[str] = set()
    for path in (ROOT / "engine").rglob("*.py"):
        names |= set(re.findall(r"""(?:environ(?:\.get)?[\[(]|getenv\()\s*["'](DTPA_\w+)["']""",
                                path.read_text(encoding="utf-8")))
    if importlib.util.find_spec("engine.settings") is not None:
        module = importlib.import_module("engine.settings")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseSettings) and value is not BaseSettings:
                prefix = value.model_config.get("env_prefix", "")
                for name, field in value.model_fields.items():
                    alias = field.validation_alias if isinstance(field.validation_alias, str) else None
                    names.add((alias or f"{prefix}{name}").upper())
    return names


def test_the_readme_documents_every_command_and_environment_variable():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = _commands(typer.main.get_command(app))
    assert "login" in commands and "token create" in commands and "records due" in commands
    assert [c for c in commands if f"dtpa {c}" not in readme] == []
    variables = _environment_variables()
    assert {"DTPA_DATABASE_URL", "DTPA_TOKEN", "DTPA_CONFIG_DIR"} <= variables
    assert sorted(v for v in variables if f"`{v}`" not in readme) == []

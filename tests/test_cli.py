"""The command line: readable decisions, JSON records, and exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from engine.models.record import DecisionRecord

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

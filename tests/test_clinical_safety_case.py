"""DTPA's own clinical safety case (docs/clinical-safety/): every control in the hazard log names
tests that exist (collected by pytest itself, so a renamed or deleted test is caught), every hazard
has controls, every risk follows the log's matrix and is no worse after its controls, and the
safety case report names every hazard."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "docs" / "clinical-safety"
LOG = FOLDER / "hazard-log.yaml"
REPORT = FOLDER / "safety-case-report.md"


def load_log(path: Path = LOG) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def named_tests(log: dict) -> set[str]:
    return {t for h in log["hazards"] for c in h["controls"] for t in c["tests"]}


def collect(files: set[str]) -> set[str]:
    """The node ids pytest collects from these files (collection only: nothing runs)."""
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         *sorted(files)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    ids = {line.strip() for line in out.stdout.splitlines() if "::" in line}
    assert ids, f"pytest collected nothing:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
    return ids


def missing_tests(log: dict, collected: set[str]) -> list[str]:
    """Named tests that do not exist. A function-level id stands for all its parametrised cases."""
    missing = []
    for node in sorted(named_tests(log)):
        if node in collected or any(c.startswith(node + "[") for c in collected):
            continue
        missing.append(node)
    return missing


@pytest.fixture(scope="module")
def collected() -> set[str]:
    files = {t.split("::")[0] for t in named_tests(load_log())}
    absent = sorted(f for f in files if not (ROOT / f).is_file())
    assert not absent, f"the hazard log names test files that do not exist: {absent}"
    return collect(files)


def test_every_control_names_tests_that_exist(collected):
    log = load_log()
    assert len(log["hazards"]) >= 10  # found the log it expected
    assert missing_tests(log, collected) == []


def test_a_control_naming_a_missing_test_is_caught(collected):
    log = load_log()
    log["hazards"][0]["controls"][0]["tests"].append("tests/test_rule_cases.py::test_no_such_test")
    log["hazards"][1]["controls"][0]["tests"].append(
        "tests/test_rule_cases.py::test_rule_case[NO-SUCH-001:case 1:procurement]")
    assert missing_tests(log, collected) == [
        "tests/test_rule_cases.py::test_no_such_test",
        "tests/test_rule_cases.py::test_rule_case[NO-SUCH-001:case 1:procurement]"]


def test_every_hazard_has_causes_harm_controls_and_a_residual_risk():
    log = load_log()
    ids = [h["id"] for h in log["hazards"]]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"DTPA-HAZ-\d{3}", i) for i in ids)
    controls = [c["id"] for h in log["hazards"] for c in h["controls"]]
    assert len(controls) == len(set(controls))
    for hazard in log["hazards"]:
        assert hazard["causes"] and hazard["harm"].strip(), hazard["id"]
        assert hazard["controls"], hazard["id"]
        for control in hazard["controls"]:
            assert control["description"].strip() and control["tests"], control["id"]


def test_every_risk_follows_the_matrix_and_controls_never_make_it_worse():
    log = load_log()
    matrix = log["matrix"]
    for hazard in log["hazards"]:
        for when in ("initial", "residual"):
            r = hazard[when]
            expected = matrix["risk"][r["likelihood"]][matrix["severities"].index(r["severity"])]
            assert r["risk"] == expected, (hazard["id"], when)
        assert hazard["residual"]["risk"] <= hazard["initial"]["risk"], hazard["id"]


def test_the_report_names_every_hazard_and_says_it_is_unsigned_until_a_cso_signs():
    text = REPORT.read_text(encoding="utf-8")
    log = load_log()
    for hazard in log["hazards"]:
        assert hazard["id"] in text, f"{hazard['id']} is not in the safety case report"
    if log["status"] == "draft_unsigned":
        assert "not been signed" in text

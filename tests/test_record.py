"""The decision record: hashes, provenance of the rule pack, review dates, published schema."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema

from engine import service
from engine.hashing import RFC8785, digest
from engine.models.record import RECORD_SCHEMA_VERSION, seal

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2025, 3, 10, 12, 0, tzinfo=dt.UTC)


def record_of(name: str):
    return service.assess(service.load_assessment(ROOT / "case_studies" / name), now=NOW)


def test_record_hash_covers_everything_else():
    record = record_of("vbm-ward-wide-default.yaml")
    assert seal(record).record_hash == record.record_hash
    tampered = record.model_copy(update={"outcome": "supported"})
    assert seal(tampered).record_hash != record.record_hash


def test_same_input_same_pack_same_record():
    a, b = record_of("vbm-individual-decision.yaml"), record_of("vbm-individual-decision.yaml")
    assert a.record_hash == b.record_hash and a.input_hash == b.input_hash


def test_record_names_pack_profile_input_and_rules():
    record = record_of("vbm-adult-consents-night-use.yaml")
    pack = service.default_pack()
    assert record.rule_pack.hash == pack.hash and record.rule_pack.version == pack.header.version
    assert record.rule_pack.profile == "national-default"
    assert record.trace.ruleset == f"individual_use@{pack.hash[:12]}"
    assert record.hash_scheme == RFC8785
    assert record.input_hash == digest(
        service.load_assessment(ROOT / "case_studies" / "vbm-adult-consents-night-use.yaml")
        .model_dump(mode="json"), RFC8785)
    assert record.relies_on == "vbm-individual-decision"
    assert record.trace.rules_evaluated == len(pack.rules_for("individual_use"))


def test_review_date_is_the_earliest_due_date():
    individual = record_of("vbm-adult-consents-night-use.yaml")
    assert individual.review_date == dt.date(2025, 3, 17)
    assert individual.review_basis == "review.review_date"
    product = record_of("vbm-individual-decision.yaml")
    # Cyber Essentials expires 2025-11-30, the earliest of the assurance dates.
    assert product.review_date == dt.date(2025, 11, 30)
    assert product.review_basis == "assurance.cyber_essentials_expires"


def test_every_verdict_has_a_reason():
    for name in ("vbm-ward-wide-default.yaml", "vbm-patient-refuses.yaml"):
        record = record_of(name)
        assert [v.target for v in record.verdicts] == [
            "P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "DP", "POL", "TRN", "REC"]
        for v in record.verdicts:
            assert v.reason
            if v.verdict in ("not_met", "met_with_conditions", "unknown"):
                assert v.rule_ids


def test_out_of_scope_says_which_principles_still_apply():
    text = """\
context: procurement
technology: {name: Ward EPR, category: electronic_patient_record}
"""
    record = service.assess(service.parse_assessment(text))
    assert record.outcome == "out_of_scope"
    assert "Still worth applying" in record.scope_note
    principles = {f"P{i}" for i in range(1, 9)}
    assert all(v.verdict == "not_applicable" for v in record.verdicts if v.target in principles)


def test_exported_record_validates_against_the_published_schema():
    schema = json.loads((ROOT / "docs" / "schemas" /
                         f"decision-record-{RECORD_SCHEMA_VERSION}.schema.json").read_text())
    for name in ("vbm-ward-wide-default.yaml", "vbm-patient-refuses.yaml"):
        jsonschema.validate(record_of(name).model_dump(mode="json"), schema)
    bad = record_of("vbm-patient-refuses.yaml").model_dump(mode="json")
    bad["outcome"] = "probably_fine"
    try:
        jsonschema.validate(bad, schema)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("the schema accepted an unknown outcome")


def test_case_studies_validate_against_the_input_schema():
    schema = json.loads((ROOT / "docs" / "schemas" / "assessment.schema.json").read_text())
    import yaml

    for path in sorted((ROOT / "case_studies").glob("*.yaml")):
        jsonschema.validate(yaml.safe_load(path.read_text())["assessment"], schema)


def test_the_quick_decision_used_by_reevaluation_agrees_with_the_full_record():
    for path in sorted((ROOT / "case_studies").glob("*.yaml")):
        assessment = service.load_assessment(path)
        record = service.evaluate(assessment)
        outcome, verdicts, fired = service.decide_quickly(assessment)
        assert outcome == record.outcome, path.stem
        assert verdicts == {v.target: v.verdict for v in record.verdicts}, path.stem
        assert sorted(set(fired)) == sorted(record.trace.rules_fired), path.stem

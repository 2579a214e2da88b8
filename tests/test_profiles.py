"""A trust's local profile changes parameters, not the national rules; records name it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from engine import service
from engine.knowledge.pack import load_pack

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "case_studies" / "vbm-ward-wide-default.yaml"


def test_a_stricter_profile_changes_the_decision_and_is_named_in_the_record():
    national, trust = load_pack(), load_pack(profile="example-trust")
    assert national.hash != trust.hash
    assessment = service.load_assessment(CASE)  # keeps video for 72 hours
    a, b = service.evaluate(assessment, national), service.evaluate(assessment, trust)
    assert "DP-PRO-003" not in a.trace.rules_fired and "DP-PRO-003" in b.trace.rules_fired
    assert (a.rule_pack.profile, b.rule_pack.profile) == ("national-default", "example-trust")
    assert b.rule_pack.profile_hash != a.rule_pack.profile_hash
    assert b.trace.ruleset != a.trace.ruleset  # different parameters, different ruleset


def test_review_interval_by_technology_comes_from_the_profile():
    trust = load_pack(profile="example-trust")
    record = service.evaluate(service.load_assessment(CASE), trust)
    assert record.review_date == dt.date(2025, 3, 3) + dt.timedelta(days=180)
    assert "vision_based_monitoring" in record.review_basis and "example-trust" in record.review_basis


def test_profile_given_as_a_file(tmp_path):
    text = (ROOT / "rules" / "profiles" / "example-trust.yaml").read_text()
    path = tmp_path / "mine.yaml"
    path.write_text(text.replace("name: example-trust", "name: my-trust"))
    assert load_pack(profile=path).profile.name == "my-trust"


def test_a_bad_profile_is_reported(tmp_path):
    import pytest

    from engine.errors import RulesInvalid

    path = tmp_path / "bad.yaml"
    path.write_text((ROOT / "rules" / "profiles" / "example-trust.yaml").read_text()
                    .replace("vision_based_monitoring: 180", "crystal_ball: 180"))
    with pytest.raises(RulesInvalid) as err:
        load_pack(profile=path)
    assert "bad.yaml:" in str(err.value) and "crystal_ball" in str(err.value)


def test_condition_owners_must_name_principles_or_areas(tmp_path):
    import pytest

    from engine.errors import RulesInvalid

    path = tmp_path / "owners.yaml"
    path.write_text((ROOT / "rules" / "profiles" / "example-trust.yaml").read_text()
                    .replace("    P1: panel_chair", "    P9: panel_chair"))
    with pytest.raises(RulesInvalid, match="'P9' is not a principle or area"):
        load_pack(profile=path)

"""Property-based fuzzing of assessments: whatever arrives, the engine returns a decision record
or a clear validation error; it never crashes or hangs."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import service
from engine.errors import InputInvalid
from engine.models.record import DecisionRecord
from tests.conftest import load_case

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                    st.floats(allow_nan=True), st.text(max_size=50),
                    st.sampled_from(["procurement", "individual_use", "not_applicable", "2025-02-30",
                                     "opt_out", "refuses", "<b>x</b>", "\x00", "9434765919"]))
JSONISH = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=25)
BASES = [load_case(n).model_dump(mode="json", exclude_none=True)
         for n in ("vbm-ward-wide-default.yaml", "vbm-adult-consents-night-use.yaml")]


def decide(data) -> None:
    try:
        record = service.evaluate(service.validate_assessment(data))
    except InputInvalid as exc:
        assert exc.problems or exc.message  # a clear message, with the places when known
        return
    assert isinstance(record, DecisionRecord) and record.outcome


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(max_size=20), JSONISH, max_size=6))
def test_arbitrary_documents(data):
    decide(data)


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(BASES), section=st.text(max_size=3) | st.sampled_from(
    ["deployment", "decision", "patient", "technology", "data_protection", "proposed_use"]),
    field=st.sampled_from(["activation", "route", "reference", "functions", "video_retention_hours",
                           "duration_days", "name", "x"]), value=JSONISH)
def test_real_assessments_with_one_field_mutated(base, section, field, value):
    data = {**base, section: {**(base.get(section) or {}), field: value}} \
        if isinstance(base.get(section, {}), dict) else {**base, section: value}
    decide(data)

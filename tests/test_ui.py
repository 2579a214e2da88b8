"""The Streamlit page runs, reruns, and shows the decision for a chosen case study."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "ui" / "app.py")


def test_front_page_runs_and_lists_the_principles():
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "**P1**" in text and "**REC**" in text


def test_evaluating_a_case_study_shows_outcome_and_findings_and_survives_reruns():
    at = AppTest.from_file(APP, default_timeout=30).run()
    box = at.selectbox(key="case_study")
    box.select_index(box.options.index("vbm-ward-wide-default"))
    at.button(key="evaluate").click().run()
    assert not at.exception
    assert any("Not supported" in e.value for e in at.error)
    assert any("P2-PRO-001" in x.label for x in at.expander)
    at.run().run()  # reruns reuse the registered ruleset
    assert not at.exception

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import RulesInvalid
from engine.knowledge.catalog import COMMITMENT_IDS, load_catalogue

ROOT = Path(__file__).resolve().parent.parent


def test_catalogue_has_every_principle_area_and_commitment():
    cat = load_catalogue(ROOT / "principles")
    assert tuple(cat.principles) == ("P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8")
    assert tuple(cat.areas) == ("DP", "POL", "TRN", "REC")
    assert tuple(cat.commitments) == COMMITMENT_IDS
    assert cat.principles["P2"].title.lower().startswith("consent and capacity")
    assert cat.scope.excluded_categories == [
        "electronic_patient_record", "e_prescribing", "administrative_tool"]


def test_every_entry_is_cited_and_flagged():
    cat = load_catalogue(ROOT / "principles")
    for entry in [*cat.principles.values(), *cat.areas.values()]:
        assert entry.citations and entry.expectations
        for st in entry.expectations:
            assert st.provenance in {"nhse_stated", "nhse_reported", "statute",
                                     "regulator_guidance", "good_practice"}
            assert all(c.ref in cat.all_ids() for c in st.citations)
    # Honesty: the bodies of the principles could not be read, so nothing about them may claim
    # to be stated by NHS England except what the readable executive summary says.
    stated = [st for p in cat.principles.values() for st in p.expectations
              if st.provenance == "nhse_stated"]
    assert all(any(c.ref == "nhse-principles-2025" for c in st.citations) for st in stated)


def test_sources_have_urls():
    cat = load_catalogue(ROOT / "principles")
    assert "nhse-principles-2025" in cat.sources
    assert all(s.url.startswith("http") for s in cat.sources.values())


def test_unknown_source_is_reported_with_file(pack_copy):
    _, principles = pack_copy
    path = principles / "principles.yaml"
    path.write_text(path.read_text().replace("ref: htn-2025", "ref: no-such-source", 1))
    with pytest.raises(RulesInvalid) as err:
        load_catalogue(principles)
    assert "no-such-source" in str(err.value)


def test_missing_principle_is_reported(pack_copy):
    _, principles = pack_copy
    path = principles / "principles.yaml"
    text = path.read_text()
    path.write_text(text[:text.index("- id: P5")] + text[text.index("- id: P6"):])
    with pytest.raises(RulesInvalid) as err:
        load_catalogue(principles)
    assert "missing entries: P5" in str(err.value)


def test_principles_and_areas_come_from_the_catalogue(pack_copy):
    """A principle the catalogue adds is one rules may serve; one it lacks, they may not."""
    from engine.knowledge.pack import load_pack

    rules, principles = pack_copy
    path = principles / "principles.yaml"
    text = path.read_text()
    p8 = text[text.index("  - id: P8"):]
    path.write_text(text.rstrip("\n") + "\n" + p8.replace("- id: P8", "- id: P9", 1))
    assert "P9" in load_catalogue(principles).targets
    rule = rules / "p8_outcomes.yaml"
    rule.write_text(rule.read_text().replace("principles: [P8]", "principles: [P8, P9]", 1))
    assert load_pack(rules, principles).catalogue.principles["P9"]
    rule.write_text(rule.read_text().replace("principles: [P8, P9]", "principles: [P8, P10]", 1))
    with pytest.raises(RulesInvalid, match="principles: 'P10' is not a principle in the catalogue"):
        load_pack(rules, principles)


def test_bad_provenance_is_reported_with_line(pack_copy):
    _, principles = pack_copy
    path = principles / "practice_areas.yaml"
    text = path.read_text()
    first = text.index("provenance:")
    line = text[:first].count("\n") + 1
    end = text.index("\n", first)
    path.write_text(text[:first] + "provenance: rumour" + text[end:])
    with pytest.raises(RulesInvalid) as err:
        load_catalogue(principles)
    assert f"practice_areas.yaml:{line}" in str(err.value)

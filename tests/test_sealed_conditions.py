"""Condition owners and due dates are sealed into the record when it is decided, from the profile
that decided it; exports read them from the record, so a later change of profile does not
rewrite what was agreed. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from engine import service
from engine.export.documents import conditions_csv
from engine.knowledge.pack import load_pack
from engine.models.record import seal
from tests.conftest import load_case

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2025, 3, 10, 12, 0, tzinfo=dt.UTC)
CASE = "bodycam-picu.yaml"  # a product decision with conditions on several principles


@pytest.fixture(scope="module")
def changed_pack(tmp_path_factory):
    """The national profile with every condition owned by the DPO and due in 90 days."""
    folder = tmp_path_factory.mktemp("profile")
    text = (ROOT / "rules" / "profiles" / "national-default.yaml").read_text()
    owners = text[text.index("  condition_owners:"):text.index("  condition_due_days:")]
    lines = [owners.splitlines()[0]] + [f"{line.split(':')[0]}: dpo"
                                        for line in owners.splitlines()[1:] if ":" in line]
    text = text.replace(owners, "\n".join(lines) + "\n").replace("condition_due_days: 30",
                                                                 "condition_due_days: 90")
    path = folder / "changed.yaml"
    path.write_text(text)
    return load_pack(profile=path)


def test_each_condition_carries_its_owner_and_due_date_from_the_deciding_profile(pack,
                                                                                 changed_pack):
    record = service.assess(load_case(CASE), pack, NOW)
    assert record.conditions
    owners = pack.profile.condition_owners
    for c in record.conditions:
        assert c.owner == owners[[*c.principles, *c.areas][0]]
        assert c.due == dt.date(2025, 4, 9)  # 30 days after the decision
    assert {c.owner for c in record.conditions} - {"dpo"}  # not what the changed profile says
    assert seal(record).record_hash == record.record_hash  # they are covered by the hash
    again = service.assess(load_case(CASE), changed_pack, NOW)
    assert {c.owner for c in again.conditions} == {"dpo"}
    assert {c.due for c in again.conditions} == {dt.date(2025, 6, 8)}
    tampered = record.model_copy(update={"conditions": again.conditions})
    assert seal(tampered).record_hash != record.record_hash


def test_an_export_after_the_profile_changed_shows_the_sealed_owners(store_url, pack,
                                                                    changed_pack):
    saved = service.save_assessment(load_case(CASE), "Dr Ada Obi", "panel_chair",
                                    service.open_store(store_url, pack), pack, now=NOW)
    sealed = [(c.rule_id, c.owner, c.due.isoformat()) for c in saved.record.conditions]
    later = service.open_store(store_url, changed_pack)  # the trust changed its profile since
    view = later.get(saved.row.id)
    assert [(c.rule_id, c.owner, c.due.isoformat()) for c in view.record.conditions] == sealed

    pdf, _ = service.export_stored(saved.row.id, "pdf", "Sam Patel", "dpo", pack=changed_pack,
                                   store=later)
    reader = PdfReader(io.BytesIO(pdf))
    gov = json.loads(reader.attachments["governance.json"][0])
    assert [(c["rule"], c["owner"], c["due"]) for c in gov["conditions"]] == sealed
    text = "".join(p.extract_text() or "" for p in reader.pages)
    text = " ".join(text.replace("\u200b", "").replace("\x00", "").split())
    assert sealed[0][2] in text and "2025-06-08" not in text

    _, csv_text = service.export_bundle([view], "Bundle", "Sam Patel", "dpo", later)
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert [(r["rule"], r["owner"], r["due"]) for r in rows] == sealed
    assert conditions_csv([view]) == csv_text
    assert later.verify().ok
    later.db.dispose()

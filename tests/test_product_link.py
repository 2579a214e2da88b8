"""Issue 10, items 7 and 9: honest outcome wording (no outcome says a use is lawful; the legal
route recorded and what DTPA does not judge are on every record), and an individual use always
read against the stored product decision, saying plainly when it could not be."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fhir.resources.bundle import Bundle
from typer.testing import CliRunner

from engine import service
from engine.cli import app
from engine.decide.wording import NOT_JUDGED, OUTCOME_WORDS, outcome_line
from engine.export.pdf import audit_pdf
from engine.models.record import DecisionRecord, seal
from engine.store import redact_url
from tests.conftest import CASE_STUDIES, approve, cli_token, individual_for, load_case
from tests.test_exports import flat, text_of

runner = CliRunner()
UNREACHABLE = "postgresql+psycopg://dtpa:secret@127.0.0.1:1/none"
INDIVIDUAL = [p for p in CASE_STUDIES if "context: individual_use" in p.read_text()]


def save_product(store):
    product = service.save_assessment(load_case("vbm-individual-decision.yaml"), "Dr Ada Obi",
                                      "panel_chair", store)
    approve(store, product.row.id)
    return product


def write_check(tmp_path: Path, ref: str, **product_facts) -> Path:
    """An individual-use file naming `ref`, with the product facts it states itself."""
    data = individual_for(ref).model_dump(mode="json", exclude_none=True)
    stated = load_case("vbm-adult-consents-night-use.yaml").product.model_dump(
        mode="json", exclude_none=True)
    data["product"] = {**stated, **product_facts, "record_id": ref}
    path = tmp_path / "check.json"
    path.write_text(json.dumps(data))
    return path


def cli_record(*args: str) -> DecisionRecord:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return DecisionRecord.model_validate(json.loads(result.stdout))


# --- item 7: honest wording -----------------------------------------------------------------

def test_no_outcome_text_says_lawful():
    for context, words in OUTCOME_WORDS.items():
        for outcome, text in words.items():
            assert "lawful" not in text.lower(), (context, outcome)
    for path in INDIVIDUAL:
        record = service.assess(service.load_assessment(path))
        assert "lawful" not in outcome_line(record).lower(), path.name
    assert OUTCOME_WORDS["individual_use"]["supported"].startswith(
        "Supported: no rule DTPA checks found a reason not to proceed")


def test_every_record_carries_what_dtpa_does_not_judge_and_the_legal_route():
    product = service.assess(load_case("vbm-individual-decision.yaml"))
    assert product.not_judged == NOT_JUDGED and product.legal_route is None
    use = service.assess(load_case("vbm-adult-consents-night-use.yaml"))
    assert use.not_judged == NOT_JUDGED
    assert use.legal_route == "the patient's own consent; informal patient"
    assert use.outcome == "supported_with_conditions"  # a favourable outcome names the route
    assert outcome_line(use).endswith(f"(legal route recorded: {use.legal_route})")
    assert any("Legal advice" in item for item in use.not_judged)
    assert any("Clinical judgement" in item for item in use.not_judged)


def test_the_legal_route_names_the_basis_of_an_override():
    check = individual_for("PRO-00000000", patient__legal_status="detained_mental_health_act",
                           decision__route="best_interests", decision__patient_response="refuses",
                           override_of_refusal={"legal_basis": "mha_s63"})
    route = service.evaluate(check).legal_route
    assert route.startswith("a best-interests decision (MCA 2005 s4); detained under the Mental "
                            "Health Act 1983; refusal overridden relying on MHA 1983 s63")
    named = individual_for("PRO-00000000", override_of_refusal={
        "legal_basis": "other", "legal_basis_named": "Inherent jurisdiction order of 3 March"})
    assert "relying on Inherent jurisdiction order of 3 March (named power)" in \
        service.evaluate(named).legal_route


def test_a_record_stored_before_the_new_fields_keeps_its_hash():
    record = service.assess(load_case("vbm-adult-consents-night-use.yaml"))
    old = seal(record.model_copy(update={"not_judged": [], "legal_route": None}))
    stored = old.model_dump(mode="json")
    assert not {"not_judged", "legal_route", "product_source", "product_conditions"} & set(stored)
    assert seal(DecisionRecord.model_validate(stored)).record_hash == old.record_hash


# --- item 9: the stored product decision ------------------------------------------------------

def test_assess_reads_the_stored_product_decision(store, store_url, tmp_path):
    product = save_product(store)
    # the file states a product decision the store contradicts: the store wins
    path = write_check(tmp_path, product.row.key, outcome="not_supported", approved=False)
    record = cli_record("assess", str(path), "--db", store_url)
    assert record.product_source.kind == "store"
    assert (record.product_source.record_id, record.product_source.version) == (product.row.id, 1)
    assert record.product_source.store == redact_url(store_url)
    assert record.relies_on == product.row.id
    saved = service.save_assessment(service.load_assessment(path), "Nurse Kim", "clinician", store)
    assert record.outcome == saved.record.outcome and record.outcome != "not_supported"
    assert saved.record.product_source == record.product_source
    # the product decision's own conditions, by rule
    assert product.record.conditions
    assert [c.rule_id for c in record.product_conditions] == \
        [c.rule_id for c in product.record.conditions]
    assert [c.title for c in record.product_conditions] == \
        [c.title for c in product.record.conditions]

    out = runner.invoke(app, ["assess", str(path), "--db", store_url]).output
    assert f"Product facts read from the stored product decision {product.row.id} (version 1)." in out
    assert "The product decision's own conditions" in out
    for c in product.record.conditions:
        assert f"- {c.rule_id}: {c.title}"[:60] in out
    assert "What DTPA does not judge" in out


def test_a_missing_product_record_is_said_plainly(store, store_url, tmp_path):
    path = write_check(tmp_path, "PRO-00000000")
    record = cli_record("assess", str(path), "--db", store_url)
    source = record.product_source
    assert (source.kind, source.reason, source.record_id) == ("as_stated", "not_found",
                                                              "PRO-00000000")
    assert source.store == redact_url(store_url)
    assert record.product_conditions == []
    # decided on the facts as stated, never on product questions turned open
    as_stated = service.assess(service.load_assessment(path))
    assert record.outcome == as_stated.outcome
    assert not [q for q in record.open_questions if q.fact.startswith("product.")]

    out = runner.invoke(app, ["assess", str(path), "--db", store_url]).output
    assert "PRODUCT DECISION NOT READ: this decision uses the product facts as stated" in out
    assert f"Store: {redact_url(store_url)}" in out
    assert "Key: PRO-00000000" in out
    assert "Why: the store has no record 'PRO-00000000'" in out

    nurse = {"DTPA_TOKEN": cli_token(store, "clinician", ["Willow Ward"])}
    refused = runner.invoke(app, ["assess", str(path), "--db", store_url, "--save"], env=nurse)
    assert refused.exit_code == 1 and "not a stored product decision" in refused.stderr
    assert store.count() == 0


def test_an_individual_use_record_is_not_a_product_decision(store, store_url, tmp_path):
    product = save_product(store)
    use = service.save_assessment(individual_for(product.row.key), "Nurse Kim", "clinician", store)
    record = cli_record("assess", str(write_check(tmp_path, use.row.key)), "--db", store_url)
    assert (record.product_source.kind, record.product_source.reason) == (
        "as_stated", "not_a_product_decision")


@pytest.mark.parametrize("url", [UNREACHABLE, "nonsense://nowhere"])
def test_an_unreachable_store_is_said_plainly_with_the_password_hidden(url, tmp_path):
    path = write_check(tmp_path, "PRO-12345678")
    result = runner.invoke(app, ["assess", str(path), "--db", url])
    assert result.exit_code == 0, result.output
    assert "secret" not in result.output
    assert "PRODUCT DECISION NOT READ" in result.output and "Key: PRO-12345678" in result.output
    assert f"Store: {redact_url(url)}" in result.output
    record = cli_record("assess", str(path), "--db", url)
    assert (record.product_source.kind, record.product_source.reason) == ("as_stated",
                                                                          "store_unreachable")
    assert "secret" not in record.model_dump_json()
    saved = runner.invoke(app, ["assess", str(path), "--db", url, "--save"],
                          env={"DTPA_TOKEN": "dtpa_a-token-no-store-can-check"})
    assert saved.exit_code == 4 and "secret" not in saved.output


def test_reading_a_check_never_creates_a_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'absent.sqlite'}"
    record = cli_record("assess", str(write_check(tmp_path, "PRO-12345678")), "--db", url)
    assert record.product_source.reason == "store_unreachable"
    assert "no database file" in record.product_source.detail
    assert not (tmp_path / "absent.sqlite").exists()


def test_explain_reads_the_stored_product_decision_too(store, store_url, tmp_path):
    product = save_product(store)
    linked = runner.invoke(app, ["explain", str(write_check(tmp_path, product.row.key)),
                                 "--db", store_url])
    assert linked.exit_code == 0, linked.output
    assert f"read from the stored product decision {product.row.id}" in linked.output
    for c in product.record.conditions:
        assert c.rule_id in linked.output
    assert "legal route recorded:" in linked.output
    assert "What DTPA does not judge" in linked.output

    missing = runner.invoke(app, ["explain", str(write_check(tmp_path, "PRO-00000000")),
                                  "--db", store_url])
    assert missing.exit_code == 0, missing.output
    assert "PRODUCT DECISION NOT READ" in missing.output and "Key: PRO-00000000" in missing.output


def test_the_web_preview_and_exports_show_where_the_product_facts_came_from(store):
    product = save_product(store)
    _, linked = service.check_use(individual_for(product.row.key), store)
    assert linked.product_source.kind == "store" and linked.product_conditions
    _, unread = service.check_use(individual_for("PRO-00000000"), store)
    assert unread.product_source.kind == "as_stated"

    text = flat(text_of(audit_pdf(unread)))
    assert "PRODUCT DECISION NOT READ" in text and "Key: PRO-00000000" in text
    assert "What DTPA does not judge" in text and "Legal route recorded" in text
    text = flat(text_of(audit_pdf(linked)))
    assert linked.product_conditions[0].rule_id in text
    fhir = Bundle.model_validate(json.loads(service.render_export(linked, "fhir")))
    notes = " ".join(n.text for n in fhir.entry[0].resource.note)
    assert "read from the stored product decision" in notes and "DTPA does not judge" in notes


def test_case_studies_are_decided_as_written_without_a_store(monkeypatch, tmp_path):
    monkeypatch.setenv("DTPA_DATABASE_URL", f"sqlite:///{tmp_path / 'none.sqlite'}")
    for path in INDIVIDUAL:
        record = cli_record("assess", str(path))
        assert record.outcome == service.assess(service.load_assessment(path)).outcome, path.name
        assert record.product_source.kind == "as_stated"

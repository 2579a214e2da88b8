"""Exports read back: the audit PDF, easy-read summary, bundle, JSON and FHIR, hostile text, and
verification of an exported PDF against the store."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pdfplumber
import pytest
from fhir.resources.bundle import Bundle
from pypdf import PdfReader, PdfWriter
from typer.testing import CliRunner

from engine import service
from engine.cli import app
from engine.errors import InputInvalid
from engine.export.documents import safe_output
from engine.export.easyread import easy_read_pdf
from engine.export.pdf import ATTACHMENT, HASH_KEY, audit_pdf
from engine.export.verify import verify_pdf
from engine.models.record import RECORD_SCHEMA_VERSION
from tests.conftest import ALL_ATTESTATIONS, cli_token, load_case

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
runner = CliRunner()
NAMES = ["Human rights approach", "Consent and capacity", "Equity of access", "Co-production",
         "Therapeutic and personalised care", "Safety planning", "Evidence base",
         "Treatment outcomes", "Data protection", "Policy", "Staff training",
         "Recording in care and treatment plans"]


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    raw = "\n".join(page.extract_text() or "" for page in reader.pages)
    return raw.replace("\u200b", "").replace("\x00", "")


def flat(text: str) -> str:
    return " ".join(text.split())


def outline_titles(reader: PdfReader) -> list[str]:
    out = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                out.append(item.title)
    walk(reader.outline)
    return out


def render_first_page(pdf: bytes, name: str) -> Path:
    """Keep a PNG of the first page as a test artifact (pdftoppm, from poppler-utils)."""
    if not shutil.which("pdftoppm"):
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm is not installed: CI must render the PDFs (poppler-utils)")
        pytest.skip("pdftoppm not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    source = ARTIFACTS / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile",
                    str(source), str(ARTIFACTS / name)], check=True)
    png = ARTIFACTS / f"{name}.png"
    assert png.stat().st_size > 5_000
    return png


@pytest.fixture(scope="module")
def ward_wide():
    return service.assess(load_case("vbm-ward-wide-default.yaml"))


def test_audit_pdf_reads_back_completely(ward_wide):
    pdf = audit_pdf(ward_wide)
    reader = PdfReader(io.BytesIO(pdf))
    text = flat(text_of(pdf))
    for name in NAMES:
        assert name in text, name
    for finding in ward_wide.findings:
        assert finding.rule_id in text
        assert flat(finding.citations[0].title)[:40] in text
    assert "Not supported: the product must not be deployed as proposed" in text
    attached = json.loads(reader.attachments[ATTACHMENT][0])
    assert attached == ward_wide.model_dump(mode="json")
    assert reader.metadata[HASH_KEY] == ward_wide.record_hash
    assert reader.metadata.title.startswith("DTPA decision record")
    titles = outline_titles(reader)
    for section in ("Verdicts by principle and practice area", "Conditions (", "Open questions (",
                    "What would change this decision", "Sign-offs and overrides", "Audit trail (",
                    "Verification"):
        assert any(t.startswith(section) for t in titles), section
    assert f"page {len(reader.pages)}" in text_of(pdf)
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        rows = [r for page in doc.pages[:3] for t in page.extract_tables() for r in t]
    assert any(r[0] == "P2" and "not met" in (r[2] or "") for r in rows)
    render_first_page(pdf, "audit-pdf")


def test_fonts_are_embedded_and_no_base_14_font_is_used(ward_wide):
    reader = PdfReader(io.BytesIO(audit_pdf(ward_wide)))
    fonts = {}
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = font
    assert fonts
    for name, font in fonts.items():
        assert "Helvetica" not in name and "Times" not in name, name
        descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        descriptor = descendant["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, f"{name} is not embedded"


HOSTILE = ("<b>bold</b> & <font color='red'>red</font> <para>x</para> \x07\x1b[31m "
           "שלום עולם مرحبا 😀🧑‍⚕️ ") + "W" * 19_800


def test_hostile_text_renders_literally_and_never_breaks_the_pdf(tmp_path):
    data = load_case("vbm-adult-consents-night-use.yaml").model_dump(mode="json", exclude_none=True)
    data["title"] = "<b>Title</b> & <para>"
    data["justification"]["rationale"] = HOSTILE
    data["care_plan"]["patient_preferences"] = "</para><font size=40>BIG</font>" * 200
    with pytest.raises(InputInvalid, match="justification.rationale: Value error, contains a "
                                           r"control character \(U\+0007\)"):
        service.validate_assessment(data)  # refused today; a record stored before still exports:
    assessment = service.validate_assessment(data, lenient=True)
    record = service.assess(assessment)
    pdf = audit_pdf(record)
    text = flat(text_of(pdf))
    assert "<b>Title</b> & <para>" in text  # literal, not bold
    # The easy read never copies staff free text; the product name is the typed text it shows.
    assert "<b>bold</b>" not in flat(text_of(easy_read_pdf(record, assessment.model_dump(mode="json"))))
    data["technology"]["name"] = HOSTILE[:90] + "W" * 100
    assessment = service.validate_assessment(data, lenient=True)
    easy = easy_read_pdf(service.assess(assessment), assessment.model_dump(mode="json"))
    easy_text = flat(text_of(easy))
    assert "<b>bold</b> & <font color='red'>red</font> <para>x</para>" in easy_text
    assert "[U+1F600]" in easy_text  # an emoji beyond the font's reach is named, not a box
    assert "\x07" not in easy_text and "\x1b" not in easy_text
    assert easy_text.count("W") >= 2 * 100  # a long word is wrapped, not lost (title and text)
    # Hebrew is drawn in logical order (reportlab has no bidi here); text extraction may reverse it
    assert "שלום" in easy_text or "םולש" in easy_text
    render_first_page(easy, "easy-read-hostile")


def test_easy_read_is_for_individual_use_only(ward_wide):
    with pytest.raises(InputInvalid, match="one patient"):
        easy_read_pdf(ward_wide, {})
    individual = service.assess(load_case("camhs-gillick.yaml"))
    pdf = easy_read_pdf(individual, load_case("camhs-gillick.yaml").model_dump(mode="json"))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) <= 4  # a picture beside each point (it was 2 pages without)
    text = flat(text_of(pdf))
    for heading in ("What is it?", "Why?", "What does it see and keep?", "Who can look?",
                    "Can I say no?", "When will we look at it again?"):
        assert heading in text
    render_first_page(pdf, "easy-read")


def test_output_names_never_leave_the_folder(tmp_path):
    for name in ("../../etc/passwd", "/etc/passwd", "a/../../b.pdf", "..", "PRO-1@1.pdf"):
        path = safe_output(tmp_path, name)
        assert path.parent == tmp_path.resolve(), name
    result = runner.invoke(app, ["export", str(ROOT / "case_studies" / "feedback-kiosk.yaml"),
                                 "--json", "--out-dir", str(tmp_path), "-o", "../../escape.json"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path.parent / "escape.json").exists()
    (written,) = list(tmp_path.glob("*escape.json"))
    schema = json.loads((ROOT / "docs" / "schemas" /
                         f"decision-record-{RECORD_SCHEMA_VERSION}.schema.json").read_text())
    jsonschema.validate(json.loads(written.read_text()), schema)


def test_fhir_bundle_validates_with_consent_provenance_and_audit_events(store):
    product = service.save_assessment(load_case("vbm-individual-decision.yaml"), "Dr Ada Obi",
                                      "panel_chair", store)
    store.sign(product.row.id, "Sam Patel", "dpo", ALL_ATTESTATIONS)
    data, name = service.export_stored(product.row.id, "fhir", "Sam Patel", "dpo", store)
    bundle = Bundle.model_validate(json.loads(data))
    kinds = [e.resource.get_resource_type() for e in bundle.entry]
    assert kinds[0] == "GuidanceResponse" and "Provenance" in kinds
    assert kinds.count("AuditEvent") == 2  # created, signed
    use = service.assess(load_case("vbm-patient-refuses.yaml"))
    individual = Bundle.model_validate(json.loads(service.render_export(
        use, "fhir", None, load_case("vbm-patient-refuses.yaml").model_dump(mode="json"))))
    consent = next(e.resource for e in individual.entry if e.resource.get_resource_type() == "Consent")
    assert consent.decision == "deny"
    assert name.endswith(".fhir.json")
    assert [e.action for e in store.history(product.row.id)[1]][-1] == "exported"


def test_verify_pdf_against_the_store_and_after_tampering(store, tmp_path):
    view = service.save_assessment(load_case("vbm-individual-decision.yaml"), "Dr Ada Obi",
                                   "panel_chair", store)
    data, _ = service.export_stored(view.row.id, "pdf", "Sam Patel", "dpo", store)
    path = tmp_path / "record.pdf"
    path.write_bytes(data)
    good = verify_pdf(path, store)
    assert good.ok and good.record_id == view.row.id
    assert any("matches the stored record" in c for c in good.checks)

    # swap the attached record for an altered one
    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.add_metadata(dict(reader.metadata))
    altered = json.loads(reader.attachments[ATTACHMENT][0])
    altered["outcome"] = "supported"
    writer.add_attachment(ATTACHMENT, json.dumps(altered).encode())
    bad = tmp_path / "altered.pdf"
    with bad.open("wb") as fh:
        writer.write(fh)
    result = verify_pdf(bad, store)
    assert "the attached record was altered: its content no longer matches its record hash" in \
        result.problems
    cli = runner.invoke(app, ["verify-pdf", str(bad), "--no-store"])
    assert cli.exit_code == 5 and "FAILED: the attached record was altered" in cli.output


def test_bundle_pdf_and_conditions_csv(store, tmp_path, store_url):
    service.seed_case_studies(store)
    dpo = {"DTPA_TOKEN": cli_token(store, "dpo")}
    result = runner.invoke(app, ["export", "--bundle", "--product", "Contactless", "--out-dir",
                                 str(tmp_path), "--db", store_url], env=dpo)
    assert result.exit_code == 0, result.output
    pdf = (tmp_path / "dtpa-bundle.pdf").read_bytes()
    reader = PdfReader(io.BytesIO(pdf))
    records = json.loads(reader.attachments["bundle.json"][0])
    expected = sum("name: Contactless bedroom monitor" in p.read_text()
                   for p in (ROOT / "case_studies").glob("*.yaml"))
    assert len(records) == expected and all(r["subject"]["product"] == "Contactless bedroom monitor"
                                     for r in records)
    text = flat(text_of(pdf))
    assert "DTPA records: product Contactless" in text
    csv_text = (tmp_path / "dtpa-bundle.conditions.csv").read_text()
    header, *rows = csv_text.splitlines()
    assert header.startswith("record,subject,ward,outcome_in_force,rule")
    assert rows and all("Contactless bedroom monitor" in r for r in rows)
    render_first_page(pdf, "bundle")
    none = runner.invoke(app, ["export", "--bundle", "--product", "Nothing like this",
                               "--db", store_url, "--out-dir", str(tmp_path)], env=dpo)
    assert none.exit_code == 1 and "no stored records match" in none.stderr

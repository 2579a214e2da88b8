"""The `dtpa` command line. Each command calls one function of the engine and prints the result.

Exit codes: 0 decided (or checks passed), 1 input invalid, 2 rules invalid, 3 engine failure.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from engine import service
from engine.errors import (
    DTPAError,
    EngineFailure,
    InputInvalid,
    RecordNotFound,
    RulesInvalid,
    StoreConflict,
    StoreUnavailable,
)
from engine.render import governance_text, record_text

app = typer.Typer(help="DTPA: NHS England's digital technology principles as justified decisions.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
rules_app = typer.Typer(help="Check and test the principles catalogue and rule pack.",
                        no_args_is_help=True)
records_app = typer.Typer(help="Find, show and review stored decision records.", no_args_is_help=True)
audit_app = typer.Typer(help="Check the audit chain.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
app.add_typer(records_app, name="records")
app.add_typer(audit_app, name="audit")

EXIT = {InputInvalid: 1, RecordNotFound: 1, StoreConflict: 1, RulesInvalid: 2, EngineFailure: 3,
        StoreUnavailable: 4}
DbOpt = Annotated[str | None, typer.Option("--db", help="Database URL (default: $DTPA_DATABASE_URL "
                                                          "or data/dtpa.sqlite)")]
ByOpt = Annotated[str, typer.Option("--by", help="Your name, as it will stand in the audit trail")]
RoleOpt = Annotated[str, typer.Option("--role", help="Your role (panel_chair, dpo, clinician ...)")]


def _viewer() -> tuple[str, str]:
    import getpass

    return os.environ.get("DTPA_USER") or getpass.getuser(), os.environ.get("DTPA_ROLE", "auditor")
ProfileOpt = Annotated[str | None, typer.Option(
    "--profile", help="Local policy profile: a name in rules/profiles/ or a YAML file")]


def fail(exc: DTPAError) -> NoReturn:
    typer.echo(f"Error: {exc}", err=True)
    if exc.hint:
        typer.echo(exc.hint, err=True)
    raise typer.Exit(EXIT.get(type(exc), 1))


@app.command()
def assess(
    file: Annotated[Path, typer.Argument(help="Assessment or case study (YAML or JSON)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision record as JSON")] = False,
    profile: ProfileOpt = None,
    save: Annotated[bool, typer.Option("--save", help="Store the decision (needs --by and --role)")]
    = False,
    by: Annotated[str | None, typer.Option("--by", help="Who is saving it")] = None,
    role: Annotated[str | None, typer.Option("--role", help="Their role")] = None,
    idempotency_key: Annotated[str | None, typer.Option(
        "--idempotency-key", help="Saving twice with the same key stores it once")] = None,
    supersedes: Annotated[str | None, typer.Option(
        "--supersedes", help="Store as a new version of this record")] = None,
    db: DbOpt = None,
) -> None:
    """Evaluate an assessment; the context (procurement or individual_use) is read from the file."""
    try:
        pack = service.load_rules(profile=profile)
        assessment = service.load_assessment(file)
        if save:
            if not by or not role:
                raise InputInvalid("--save needs --by NAME and --role ROLE")
            view = service.save_assessment(assessment, by, role, service.open_store(db), pack,
                                           idempotency_key, supersedes)
            record = view.record
        else:
            record = service.assess(assessment, pack)
    except DTPAError as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False))
    else:
        typer.echo(record_text(record))
        if save:
            typer.echo("\n" + governance_text(view))


@rules_app.command("check")
def rules_check(profile: ProfileOpt = None) -> None:
    """Validate the catalogue and rules, and show coverage (principle/area x context)."""
    from engine.graph import graph_problems, unused_questions
    from engine.ruletests import coverage

    try:
        pack = service.load_rules(profile=profile)
    except DTPAError as exc:
        fail(exc)
    table = coverage(pack)
    typer.echo(f"Rule pack {pack.header.name} {pack.header.version}: {len(pack.rules)} rules, "
               f"catalogue {pack.catalogue.header.version}, profile {pack.profile.name}")
    typer.echo(f"{'':5}{'principle or area':<44}{'procurement':>12}{'individual':>12}")
    for target, row in table.items():
        name = pack.catalogue.targets[target]
        typer.echo(f"{target:<5}{name[:43]:<44}{row['procurement']:>12}{row['individual_use']:>12}")
    problems = graph_problems(pack)
    if problems:
        fail(RulesInvalid("The rule pack fails its traceability checks: " + "; ".join(problems)))
    for ctx in ("procurement", "individual_use"):
        unused = unused_questions(pack, ctx)
        typer.echo(f"{len(unused)} {ctx} question(s) are read by no rule (recorded, not judged)")
    typer.echo("OK: every principle and practice area has rules in both contexts; every rule is "
               "cited and reads only asked questions; no chaining cycles.")


@rules_app.command("test")
def rules_test(profile: ProfileOpt = None) -> None:
    """Run every rule's own cases through durable_rules."""
    from engine.ruletests import run_rule_cases

    try:
        results = run_rule_cases(service.load_rules(profile=profile))
    except DTPAError as exc:
        fail(exc)
    failed = [r for r in results if not r.ok]
    for r in failed:
        typer.echo(f"FAIL {r.rule_id} {r.case} ({r.context}): expected {r.expected}, got {r.actual}")
    typer.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise typer.Exit(2)


@rules_app.command("graph")
def rules_graph(out: Annotated[Path, typer.Option(help="Folder for dtpa-rules.dot and .svg")]
                = Path("docs/graph"), profile: ProfileOpt = None) -> None:
    """Write the traceability graph as Graphviz DOT and as an SVG drawing."""
    from engine.graph import build_graph, to_dot, to_svg

    try:
        graph = build_graph(service.load_rules(profile=profile))
    except DTPAError as exc:
        fail(exc)
    out.mkdir(parents=True, exist_ok=True)
    (out / "dtpa-rules.dot").write_text(to_dot(graph), encoding="utf-8")
    to_svg(graph, str(out / "dtpa-rules.svg"))
    typer.echo(f"wrote {out / 'dtpa-rules.dot'} and {out / 'dtpa-rules.svg'} "
               f"({graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges)")


@app.command()
def explain(file: Annotated[Path, typer.Argument(help="Assessment or case study (YAML or JSON)")],
            profile: ProfileOpt = None) -> None:
    """Show the chain from answers to rules to principles to the outcome."""
    from engine.explain import explain_text

    try:
        pack = service.load_rules(profile=profile)
        assessment = service.load_assessment(file)
        record = service.evaluate(assessment, pack)
    except DTPAError as exc:
        fail(exc)
    typer.echo(explain_text(record, assessment, pack))


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

    who = (by, role) if by and role else _viewer()
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
            data, name = service.export_file(Path(source), kinds[0])
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


@app.command()
def seed(db: DbOpt = None) -> None:
    """Load the case studies into the store (once; running it again changes nothing)."""
    try:
        views = service.seed_case_studies(service.open_store(db))
    except DTPAError as exc:
        fail(exc)
    typer.echo(f"{len(views)} case studies are in the store")


@app.command()
def schema(out: Annotated[Path, typer.Option(help="Folder to write the JSON Schemas to")]
           = Path("docs/schemas")) -> None:
    """Write the JSON Schemas of the inputs and the decision record."""
    from engine.schemas import write_schemas

    for path in write_schemas(out):
        typer.echo(f"wrote {path}")


@records_app.command("list")
def records_list(
    context: Annotated[str | None, typer.Option(help="procurement or individual_use")] = None,
    product: Annotated[str | None, typer.Option(help="Product name contains")] = None,
    ward: Annotated[str | None, typer.Option(help="Ward contains")] = None,
    outcome: Annotated[str | None, typer.Option(help="Engine outcome")] = None,
    db: DbOpt = None,
) -> None:
    """The current version of every stored record."""
    try:
        views = service.open_store(db).latest(context, product, ward, outcome)
    except DTPAError as exc:
        fail(exc)
    typer.echo(f"{'record':<16}{'kind':<15}{'outcome':<27}{'review by':<12}{'status':<34}subject")
    for v in views:
        subject = v.row.product + (f" / {v.row.patient_reference}" if v.row.patient_reference else "")
        status = "approved" if v.approved else v.status.split(" by ")[0]
        typer.echo(f"{v.row.id:<16}{v.row.context:<15}{v.effective_outcome:<27}"
                   f"{str(v.row.review_date or '-'):<12}{status[:33]:<34}{subject}")
    typer.echo(f"{len(views)} record(s)")


@records_app.command("show")
def records_show(ref: Annotated[str, typer.Argument(help="KEY or KEY@VERSION")], db: DbOpt = None,
                 as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a record with its sign-offs and overrides (opening a patient record is audited)."""
    try:
        view = service.open_store(db).get(ref, viewer=_viewer())
    except DTPAError as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps({"record": view.record.model_dump(mode="json"), "status": view.status,
                               "effective_outcome": view.effective_outcome,
                               "signoffs": [{"name": s.name, "role": s.role, "signed_at": s.signed_at,
                                             "attestations": s.attestations} for s in view.signoffs],
                               "overrides": [{"target": o.target, "engine": o.engine_value,
                                              "to": o.new_value, "by": o.name, "role": o.role,
                                              "reason": o.reason} for o in view.overrides]},
                              indent=2, ensure_ascii=False))
        return
    typer.echo(governance_text(view) + "\n\n" + record_text(view.record))


@records_app.command("history")
def records_history(ref: Annotated[str, typer.Argument(help="KEY or KEY@VERSION")],
                    db: DbOpt = None) -> None:
    """Every version of a record and every audit event about it."""
    try:
        rows, events = service.open_store(db).history(ref)
    except DTPAError as exc:
        fail(exc)
    for row in rows:
        typer.echo(f"{row.id}: {row.outcome}, saved {row.created_at[:16]} by {row.created_by} "
                   f"({row.created_role}), rule pack {row.rule_pack_version}")
    typer.echo("Events:")
    for e in events:
        typer.echo(f"  #{e.seq} {e.at[:19]} {e.action:<12} {e.record_id:<16} {e.actor} ({e.role})"
                   + (f": {e.detail.get('reason')}" if e.detail.get("reason") else ""))


@records_app.command("due")
def records_due(within: Annotated[str, typer.Option(help="Window, e.g. 14d or 2w")] = "14d",
                db: DbOpt = None) -> None:
    """Records whose review is due within the window, overdue, or flagged for review."""
    try:
        days = _days(within)
        items = service.open_store(db).due(days)
    except DTPAError as exc:
        fail(exc)
    for view, reason in items:
        typer.echo(f"{view.row.id:<16}{view.row.product[:30]:<32}{reason}")
    typer.echo(f"{len(items)} record(s) due within {days} days, overdue or flagged")


def _days(text: str) -> int:
    text = text.strip().lower()
    unit = {"d": 1, "w": 7}.get(text[-1:], None)
    number = text[:-1] if unit else text
    if not number.isdigit():
        raise InputInvalid(f"--within {text!r}: use a number of days, e.g. 14d or 2w")
    return int(number) * (unit or 1)


@app.command()
def sign(ref: Annotated[str, typer.Argument(help="KEY or KEY@VERSION")], by: ByOpt, role: RoleOpt,
         attest: Annotated[list[str], typer.Option(
             help="context_accurate, risks_understood, action_plan_agreed, actions_will_be_done, "
                  "or all")] = [],  # noqa: B006 - typer reads the default
         comment: Annotated[str | None, typer.Option(help="Optional comment")] = None,
         db: DbOpt = None) -> None:
    """Sign off a record, attesting the four statements of the ICO/CNIL validation pattern."""
    from engine.models.vocab import Attestation

    given = [a.value for a in Attestation] if attest == ["all"] else attest
    try:
        view = service.open_store(db).sign(ref, by, role, given, comment)
    except DTPAError as exc:
        fail(exc)
    typer.echo(f"Signed {view.row.id} as {role}. Status: {view.status}")


@app.command()
def override(ref: Annotated[str, typer.Argument(help="KEY or KEY@VERSION")],
             target: Annotated[str, typer.Option(help="A principle or area (P1-P8, DP, POL, TRN, "
                                                      "REC) or 'outcome'")],
             to: Annotated[str, typer.Option(help="The verdict or outcome you decide")],
             by: ByOpt, role: RoleOpt,
             reason: Annotated[str, typer.Option(help="Why you depart from the engine")],
             db: DbOpt = None) -> None:
    """Depart from the engine's verdict or outcome, with your name, role and reason."""
    try:
        view = service.open_store(db).override(ref, target, to, by, role, reason)
    except DTPAError as exc:
        fail(exc)
    typer.echo(f"Override recorded on {view.row.id}: {target} -> {to}. "
               f"Outcome in force: {view.effective_outcome}")


@audit_app.command("verify")
def audit_verify(db: DbOpt = None) -> None:
    """Check the hash chain of audit events and every stored record, sign-off and override."""
    try:
        result = service.open_store(db).verify()
    except DTPAError as exc:
        fail(exc)
    for problem in result.problems:
        typer.echo(f"TAMPERED: {problem}")
    if result.problems:
        typer.echo(f"Audit verification FAILED: {len(result.problems)} problem(s) in "
                   f"{result.events} events and {result.records} records", err=True)
        raise typer.Exit(5)
    typer.echo(f"Audit chain intact: {result.events} events, {result.records} records verified")


@app.command()
def reevaluate(by: ByOpt, role: RoleOpt, profile: ProfileOpt = None, db: DbOpt = None) -> None:
    """Run every current record against the current rule pack; flag those whose decision would
    change (decisions are never rewritten)."""
    from rich.progress import Progress

    try:
        pack = service.load_rules(profile=profile)
        store = service.open_store(db)
        with Progress(transient=True) as bar:
            task = bar.add_task("Re-evaluating", total=None)
            report = service.reevaluate_all(
                by, role, store, pack, lambda i, n: bar.update(task, completed=i, total=n))
    except DTPAError as exc:
        fail(exc)
    for c in report.changes:
        why = ", ".join(f"{t} {a}->{b}" for t, (a, b) in c.verdicts.items())
        typer.echo(f"{c.record_id}: {c.before} -> {c.after}" + (f" ({why})" if why else "")
                   + (f"; newly fired {', '.join(c.newly_fired)}" if c.newly_fired else "")
                   + (f"; no longer fired {', '.join(c.no_longer_fired)}" if c.no_longer_fired else ""))
    for rid, why in report.failed:
        typer.echo(f"{rid}: could not re-evaluate: {why}")
    typer.echo(f"{report.checked} record(s) checked against {pack.header.name} {pack.header.version}: "
               f"{len(report.changes)} would change (flagged for review), {report.unchanged} unchanged, "
               f"{len(report.failed)} could not be re-evaluated")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Records: list, show, history, reviews due, sign-off, overrides, re-evaluation, audit."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer

from engine import service
from engine.cli.base import (
    ByOpt,
    DbOpt,
    ProfileOpt,
    RoleOpt,
    app,
    audit_app,
    fail,
    records_app,
    viewer,
)
from engine.errors import DTPAError, InputInvalid
from engine.export.terminal import governance_text, record_text


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
        view = service.open_store(db).get(ref, viewer=viewer())
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
def reevaluate(by: ByOpt, role: RoleOpt, profile: ProfileOpt = None, db: DbOpt = None,
               workers: Annotated[int, typer.Option(help="Processes deciding in parallel "
                                                         "(default: one per core)")] = 0) -> None:
    """Run every current record against the current rule pack; flag those whose decision would
    change (decisions are never rewritten)."""
    from rich.progress import Progress

    try:
        pack = service.load_rules(profile=profile)
        store = service.open_store(db)
        with Progress(transient=True) as bar:
            task = bar.add_task("Re-evaluating", total=None)
            report = service.reevaluate_all(
                by, role, store, pack, lambda i, n: bar.update(task, completed=i, total=n),
                workers or os.cpu_count() or 1)
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


users_app = typer.Typer(help="Local user accounts (passwords stored as Argon2 hashes).",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(username: Annotated[str, typer.Argument(help="Login name")],
              name: Annotated[str, typer.Option(help="Full name, as it appears in records")],
              role: Annotated[str, typer.Option(help="Role (panel_chair, clinician, dpo ...)")],
              ward: Annotated[list[str], typer.Option(help="A ward a clinician works on "
                                                           "(repeat for several)")] = [],  # noqa: B006
              password_stdin: Annotated[bool, typer.Option(
                  "--password-stdin", help="Read the password from standard input")] = False,
              db: DbOpt = None) -> None:
    """Create a local account (run by the server's operator)."""
    import sys

    password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt(
        "Password (at least 12 characters)", hide_input=True, confirmation_prompt=True)
    try:
        service.open_store(db).add_user(username, name, role, ward, password)
    except DTPAError as exc:
        fail(exc)
    typer.echo(f"created {username} ({role})" + (f" for {', '.join(ward)}" if ward else ""))


@users_app.command("list")
def users_list(db: DbOpt = None) -> None:
    """The local accounts (never their passwords)."""
    try:
        users = service.open_store(db).users()
    except DTPAError as exc:
        fail(exc)
    for u in users:
        typer.echo(f"{u.username:<20}{u.name:<30}{u.role:<34}{', '.join(u.wards)}"
                   + ("" if u.active else "  (inactive)"))
    typer.echo(f"{len(users)} account(s)")

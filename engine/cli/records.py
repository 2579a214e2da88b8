"""Records: list, show, history, reviews due, sign-off, overrides, re-evaluation, audit. Reading
works without signing in for product decisions only; everything else acts as the signed-in
account."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import typer
from rich.progress import Progress

from engine import service
from engine.cli.base import (
    VERIFY_FAILED,
    DbOpt,
    JsonOpt,
    ProfileOpt,
    app,
    audit_app,
    records_app,
)
from engine.errors import InputInvalid
from engine.models.vocab import Attestation
from engine.service import accounts
from engine.service.session import Access
from engine.service.text import governance_text, record_text

RefArg = Annotated[str, typer.Argument(help="KEY or KEY@VERSION")]


def _reader(db: str | None, note: bool = False) -> Access | accounts.Guest:
    """Who reads: the signed-in account, or a guest; `note` says so when a list is cut short."""
    person = accounts.reader(db)
    if note and isinstance(person, accounts.Guest):
        typer.echo("Not signed in: product decisions only (`dtpa login` to see the patient "
                   "records your account may read).", err=True)
    return person


def _summary(view: Any) -> dict[str, Any]:
    return {"id": view.row.id, "key": view.row.key, "version": view.row.version,
            "context": view.row.context, "product": view.row.product,
            "product_version": view.row.product_version,
            "patient_reference": view.row.patient_reference, "ward": view.row.ward,
            "outcome": view.record.outcome, "outcome_in_force": view.effective_outcome,
            "status": view.status, "approved": view.approved,
            "review_date": str(view.row.review_date) if view.row.review_date else None}


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@records_app.command("list")
def records_list(
    context: Annotated[str | None, typer.Option(help="procurement or individual_use")] = None,
    product: Annotated[str | None, typer.Option(help="Product name contains")] = None,
    ward: Annotated[str | None, typer.Option(help="Ward contains")] = None,
    outcome: Annotated[str | None, typer.Option(help="Engine outcome")] = None,
    as_json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """The current version of every stored record you may see."""
    views = _reader(db, note=True).records(context=context, product=product, ward=ward, outcome=outcome)
    if as_json:
        _print_json([_summary(v) for v in views])
        return
    typer.echo(f"{'record':<16}{'kind':<15}{'outcome':<27}{'review by':<12}{'status':<34}subject")
    for v in views:
        subject = v.row.product + (f" / {v.row.patient_reference}" if v.row.patient_reference else "")
        status = "approved" if v.approved else v.status.split(" by ")[0]
        typer.echo(f"{v.row.id:<16}{v.row.context:<15}{v.effective_outcome:<27}"
                   f"{str(v.row.review_date or '-'):<12}{status[:33]:<34}{subject}")
    typer.echo(f"{len(views)} record(s)")


@records_app.command("show")
def records_show(ref: RefArg, as_json: JsonOpt = False, db: DbOpt = None) -> None:
    """Show a record with its sign-offs and overrides (opening a patient record is audited)."""
    view = _reader(db).open(ref)
    if as_json:
        _print_json({"record": view.record.model_dump(mode="json"), "status": view.status,
                     "effective_outcome": view.effective_outcome,
                     "signoffs": [{"name": s.name, "role": s.role, "signed_at": s.signed_at,
                                   "attestations": s.attestations} for s in view.signoffs],
                     "overrides": [{"target": o.target, "engine": o.engine_value,
                                    "to": o.new_value, "by": o.name, "role": o.role,
                                    "reason": o.reason} for o in view.overrides]})
        return
    typer.echo(governance_text(view) + "\n\n" + record_text(view.record))


@records_app.command("history")
def records_history(ref: RefArg, db: DbOpt = None) -> None:
    """Every version of a record and every audit event about it."""
    rows, events = _reader(db).history(ref)
    for row in rows:
        typer.echo(f"{row.id}: {row.outcome}, saved {row.created_at[:16]} by {row.created_by} "
                   f"({row.created_role}), rule pack {row.rule_pack_version}")
    typer.echo("Events:")
    for e in events:
        typer.echo(f"  #{e.seq} {e.at[:19]} {e.action:<12} {e.record_id:<16} {e.actor} ({e.role})"
                   + (f": {e.detail.get('reason')}" if e.detail.get("reason") else ""))


@records_app.command("due")
def records_due(within: Annotated[str, typer.Option(help="Window, e.g. 14d or 2w")] = "14d",
                as_json: JsonOpt = False, db: DbOpt = None) -> None:
    """Records whose review is due within the window, overdue, or flagged for review."""
    days = _days(within)
    items = _reader(db, note=True).due(days)
    if as_json:
        _print_json([{**_summary(view), "reason": reason} for view, reason in items])
        return
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
def sign(ref: RefArg,
         attest: Annotated[list[str], typer.Option(
             help="context_accurate, risks_understood, action_plan_agreed, actions_will_be_done, "
                  "or all")] = [],  # noqa: B006 - typer reads the default
         comment: Annotated[str | None, typer.Option(help="Optional comment")] = None,
         db: DbOpt = None) -> None:
    """Sign off a record as the signed-in account.

    You attest the four statements of the ICO/CNIL validation pattern."""
    given = [a.value for a in Attestation] if attest == ["all"] else attest
    person = accounts.current(db)
    view = person.sign(ref, given, comment)
    typer.echo(f"Signed {view.row.id} as {person.actor.name} ({person.actor.role.value}). "
               f"Status: {view.status}")


@app.command()
def override(ref: RefArg,
             target: Annotated[str, typer.Option(help="A principle or area (P1-P8, DP, POL, TRN, "
                                                      "REC) or 'outcome'")],
             to: Annotated[str, typer.Option(help="The verdict or outcome you decide")],
             reason: Annotated[str, typer.Option(help="Why you depart from the engine")],
             db: DbOpt = None) -> None:
    """Depart from the engine's verdict or outcome, as the signed-in account, with a reason."""
    view = accounts.current(db).override(ref, target, to, reason)
    typer.echo(f"Override recorded on {view.row.id}: {target} -> {to}. "
               f"Outcome in force: {view.effective_outcome}")


@audit_app.command("verify")
def audit_verify(db: DbOpt = None) -> None:
    """Check the hash chain of audit events and every stored record, sign-off and override."""
    result = accounts.current(db).verify()
    for problem in result.problems:
        typer.echo(f"TAMPERED: {problem}")
    if result.problems:
        typer.echo(f"Audit verification FAILED: {len(result.problems)} problem(s) in "
                   f"{result.events} events and {result.records} records", err=True)
        raise typer.Exit(VERIFY_FAILED)
    typer.echo(f"Audit chain intact: {result.events} events, {result.records} records verified")


@app.command()
def reevaluate(profile: ProfileOpt = None, db: DbOpt = None,
               workers: Annotated[int, typer.Option(help="Processes deciding in parallel "
                                                         "(default: one per core)")] = 0) -> None:
    """Run every current record against the current rule pack; flag those whose decision would
    change (decisions are never rewritten)."""
    pack = service.load_rules(profile=profile)
    person = accounts.current(db, pack)
    with Progress(transient=True) as bar:
        task = bar.add_task("Re-evaluating", total=None)
        report = person.reevaluate_all(pack, lambda i, n: bar.update(task, completed=i, total=n),
                                       workers or os.cpu_count() or 1)
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

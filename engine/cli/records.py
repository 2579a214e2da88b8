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
    printable,
    records_app,
)
from engine.errors import InputInvalid
from engine.models.vocab import Attestation
from engine.service import accounts, integrity, retention
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
            "review_date": str(view.row.review_date) if view.row.review_date else None,
            "erased_at": view.row.erased_at}


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
        status = v.status if retention.erased(v) else \
            "approved" if v.approved else v.status.split(" by ")[0]
        typer.echo(printable(f"{v.row.id:<16}{v.row.context:<15}{v.effective_outcome:<27}"
                             f"{str(v.row.review_date or '-'):<12}{status[:33]:<34}{subject}"))
    typer.echo(f"{len(views)} record(s)")


@records_app.command("show")
def records_show(ref: RefArg, as_json: JsonOpt = False, db: DbOpt = None) -> None:
    """Show a record with its sign-offs and overrides (opening a patient record is audited)."""
    view = _reader(db).open(ref)
    if retention.erased(view):  # a tombstone: what stays, never a stand-in decision
        if as_json:
            _print_json({"tombstone": retention.tombstone_json(view), "status": view.status})
        else:
            typer.echo(printable(governance_text(view)))
        return
    if as_json:
        _print_json({"record": view.record.model_dump(mode="json"), "status": view.status,
                     "effective_outcome": view.effective_outcome,
                     "signoffs": [{"name": s.name, "role": s.role, "signed_at": s.signed_at,
                                   "attestations": s.attestations} for s in view.signoffs],
                     "overrides": [{"target": o.target, "engine": o.engine_value,
                                    "to": o.new_value, "by": o.name, "role": o.role,
                                    "reason": o.reason} for o in view.overrides]})
        return
    typer.echo(printable(governance_text(view) + "\n\n" + record_text(view.record)))


@records_app.command("history")
def records_history(ref: RefArg, db: DbOpt = None) -> None:
    """Every version of a record and every audit event about it."""
    rows, events = _reader(db).history(ref)
    for row in rows:
        typer.echo(f"{row.id}: {row.outcome}, saved {row.created_at[:16]} by {row.created_by} "
                   f"({row.created_role}), rule pack {row.rule_pack_version}")
    typer.echo("Events:")
    for e in events:
        typer.echo(printable(f"  #{e.seq} {e.at[:19]} {e.action:<12} {e.record_id:<16} {e.actor} "
                             f"({e.role})" + (f": {e.detail.get('reason')}"
                                              if e.detail.get("reason") else "")))


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
        typer.echo(printable(f"{view.row.id:<16}{view.row.product[:30]:<32}{reason}"))
    typer.echo(f"{len(items)} record(s) due within {days} days, overdue or flagged")


@records_app.command("erase-expired")
def records_erase_expired(
        dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be erased and "
                                                                "change nothing")] = False,
        profile: ProfileOpt = None, db: DbOpt = None) -> None:
    """Erase the patient payloads of individual uses past their retention period.

    The period is the profile's retention.individual_use_years, from each record's last entry.
    Tombstones keep the hashes and audit events; each erasure is an audit event naming you (a
    DPO or an administrator). Product decisions are never erased."""
    run = accounts.current(db, service.load_rules(profile=profile)).erase_expired(dry_run)
    verb = "would be erased" if run.dry_run else "erased"
    for item in run.records:
        typer.echo(f"{item.record_id:<16} last entry {item.last_entry}, period ended {item.due}"
                   + (" (restored after an earlier erasure)" if item.again else ""))
    for record_id, problem in run.refused:
        typer.echo(f"{record_id:<16} NOT ERASED, it failed its integrity check (kept as evidence; "
                   f"run `dtpa audit verify`): {problem}")
    typer.echo(f"{'Dry run: ' if run.dry_run else ''}{len(run.records)} record version(s) and "
               f"{run.drafts} unsaved patient draft(s) {verb} under {run.rule}, as of {run.today}"
               + (f"; {len(run.refused)} not erased (integrity check failed)" if run.refused else ""))


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
def audit_verify(
    since_checkpoint: Annotated[bool, typer.Option(
        "--since-checkpoint", help="Only the events since the latest signed checkpoint, and what "
                                   "they wrote")] = False,
    db: DbOpt = None,
) -> None:
    """Check the audit chain against its key and the signed checkpoints, and every stored record,
    sign-off and override against its hash."""
    person = accounts.current(db)
    result = integrity.verify(person, since_checkpoint)
    for note in result.notes:  # what the chain was checked against (keys, checkpoints)
        typer.echo(f"NOTE: {note}")
    for warning in result.warnings:  # not tampering, but the chain is less anchored than it should be
        typer.echo(f"WARNING: {warning}")
    for problem in result.problems:
        typer.echo(f"TAMPERED: {problem}")
    for line in result.erased:  # authorised deletions under the retention rule
        typer.echo(f"ERASED: {line}")
    for line in result.restored:  # not tampering: the sealed bytes are back (a backup)
        typer.echo(f"RESTORED AFTER ERASURE: {line}")
    _privileged_changes(person)
    if result.problems:
        typer.echo(f"Audit verification FAILED: {len(result.problems)} problem(s) in "
                   f"{result.events} events and {result.records} records", err=True)
        raise typer.Exit(VERIFY_FAILED)
    typer.echo(("Audit chain intact" if result.since is None else
                f"Audit chain intact since the checkpoint at event {result.since}")
               + f": {result.events} events, {result.records} records verified"
               + (f" ({len(result.erased)} erased under the retention rule)" if result.erased else "")
               + (f"; {len(result.restored)} restored after erasure" if result.restored else ""))


def _privileged_changes(person: Access) -> None:
    """The report for the DPO: every change to an account (added, role, wards, deactivated,
    reactivated, password reset, identity linked, grants of patient access), oldest first."""
    changes = person.privileged_changes()
    opening = sum(c.patient_access for c in changes)
    typer.echo(f"PRIVILEGED CHANGES (accounts, oldest first): {len(changes)}"
               + (f", {opening} giving or asking access to patient records" if opening else ""))
    for change in changes:
        typer.echo(f"  {change}")


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
    for rid, problems, seen in report.stricter_rules:
        typer.echo(f"{rid}: stored before a stricter input rule (kept as stored; "
                   f"{'flagged already' if seen else 'flagged for review'}): {'; '.join(problems)}")
    if report.resumed:
        run = report.resumed
        got = f" after {run.checked} record(s)" if run.checked is not None else ""
        how = f"was interrupted{got} ({run.why})" if run.why else "never finished (no end recorded)"
        typer.echo(f"Resumed the re-evaluation {run.run} started {run.at} by {run.by}, which {how}: "
                   f"records it flagged were not flagged again.")
    typer.echo(f"{report.checked} record(s) checked against {pack.header.name} {pack.header.version}: "
               f"{len(report.changes)} would change ({report.newly_flagged} newly flagged for review, "
               f"{report.already_flagged} flagged already for this rule pack), {report.unchanged} "
               f"unchanged, {len(report.failed)} could not be re-evaluated"
               + (f"; {len(report.stricter_rules)} stored before a stricter input rule"
                  if report.stricter_rules else ""))

"""Deciding: assess, explain, the rule pack, schemas and seeding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from engine import service
from engine.cli.base import (
    RULES_INVALID,
    DbOpt,
    ProfileOpt,
    app,
    operator,
    rules_app,
)
from engine.errors import RulesInvalid
from engine.service import accounts, rulepack
from engine.service.text import explain_text, governance_text, record_text


@app.command()
def assess(
    file: Annotated[Path, typer.Argument(help="Assessment or case study (YAML or JSON)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision record as JSON (with "
                                                         "--save: {stored, record})")] = False,
    profile: ProfileOpt = None,
    save: Annotated[bool, typer.Option("--save", help="Store the decision as the signed-in "
                                                      "account")] = False,
    idempotency_key: Annotated[str | None, typer.Option(
        "--idempotency-key", help="Saving twice with the same key stores it once")] = None,
    supersedes: Annotated[str | None, typer.Option(
        "--supersedes", help="Store as a new version of this record")] = None,
    db: DbOpt = None,
) -> None:
    """Evaluate an assessment; the context (procurement or individual_use) is read from the file.

    An individual-use check is decided on the stored product decision it names (--db), which
    needs no sign-in; --save stores the decision as the signed-in account."""
    pack = service.load_rules(profile=profile)
    person = accounts.current(db, pack) if save else None  # refused before anything is decided
    assessment = service.load_assessment(file)
    if person is None:
        record = service.decide(assessment, pack, db)[1]
        typer.echo(json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False)
                   if as_json else record_text(record))
        return
    view = person.save(assessment, idempotency_key, supersedes)
    if as_json:
        stored = {"id": view.row.id, "key": view.row.key, "version": view.row.version,
                  "status": view.status, "saved_by": view.row.created_by,
                  "role": view.row.created_role}
        typer.echo(json.dumps({"stored": stored, "record": view.record.model_dump(mode="json")},
                              indent=2, ensure_ascii=False))
    else:
        typer.echo(record_text(view.record) + "\n\n" + governance_text(view))


@app.command()
def explain(file: Annotated[Path, typer.Argument(help="Assessment or case study (YAML or JSON)")],
            profile: ProfileOpt = None, db: DbOpt = None) -> None:
    """Show the chain from answers to rules to principles to the outcome."""
    pack = service.load_rules(profile=profile)
    assessment, record = service.decide(service.load_assessment(file), pack, db, quick=True)
    typer.echo(explain_text(record, assessment, pack))


@app.command()
def seed(db: DbOpt = None) -> None:
    """Load the case studies into the store (once; running it again changes nothing).

    An operator command: no sign-in; the audit event names your operating-system user."""
    views, added = accounts.seed(db, operator())
    typer.echo(f"{len(views)} case studies are in the store ({len(added)} added now)")


@rules_app.command("check")
def rules_check(profile: ProfileOpt = None) -> None:
    """Validate the catalogue and rules, and show coverage (principle/area x context)."""
    pack = service.load_rules(profile=profile)
    typer.echo(f"Rule pack {pack.header.name} {pack.header.version}: {len(pack.rules)} rules, "
               f"catalogue {pack.catalogue.header.version}, profile {pack.profile.name}")
    typer.echo(f"{'':5}{'principle or area':<44}{'procurement':>12}{'individual':>12}")
    for target, row in rulepack.coverage(pack).items():
        name = pack.catalogue.targets[target]
        typer.echo(f"{target:<5}{name[:43]:<44}{row['procurement']:>12}{row['individual_use']:>12}")
    problems = rulepack.problems(pack)
    if problems:
        raise RulesInvalid("The rule pack fails its traceability checks: " + "; ".join(problems))
    for ctx in ("procurement", "individual_use"):
        unused = rulepack.unused_questions(pack, ctx)
        typer.echo(f"{len(unused)} {ctx} question(s) are read by no rule (recorded, not judged)")
    typer.echo("OK: every principle and practice area has rules in both contexts; every rule is "
               "cited and reads only asked questions; no chaining cycles.")


@rules_app.command("test")
def rules_test(profile: ProfileOpt = None) -> None:
    """Run every rule's own cases through durable_rules."""
    results = rulepack.run_rule_cases(service.load_rules(profile=profile))
    failed = [r for r in results if not r.ok]
    for r in failed:
        typer.echo(f"FAIL {r.rule_id} {r.case} ({r.context}): expected {r.expected}, got {r.actual}")
    typer.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise typer.Exit(RULES_INVALID)


@rules_app.command("graph")
def rules_graph(out: Annotated[Path, typer.Option(help="Folder for dtpa-rules.dot and .svg")]
                = Path("docs/graph"), profile: ProfileOpt = None) -> None:
    """Write the traceability graph as Graphviz DOT and as an SVG drawing."""
    (dot, svg), nodes, edges = rulepack.write_graph(service.load_rules(profile=profile), out)
    typer.echo(f"wrote {dot} and {svg} ({nodes} nodes, {edges} edges)")


@rules_app.command("lock")
def rules_lock() -> None:
    """Record the current rule-pack version's content hash (refuses to change a released one)."""
    pack = service.load_rules()
    typer.echo(f"locked {pack.header.name} {pack.header.version}: {rulepack.lock(pack)}")


@app.command()
def schema(out: Annotated[Path, typer.Option(help="Folder to write the JSON Schemas to")]
           = Path("docs/schemas")) -> None:
    """Write the JSON Schemas of the inputs and the decision record."""
    for path in rulepack.write_schemas(out):
        typer.echo(f"wrote {path}")

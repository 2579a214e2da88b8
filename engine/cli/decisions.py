"""Deciding: assess, explain, the rule pack, schemas and seeding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from engine import service
from engine.cli.base import (
    DbOpt,
    ProfileOpt,
    app,
    fail,
    rules_app,
)
from engine.errors import DTPAError, InputInvalid, RulesInvalid
from engine.export.terminal import governance_text, record_text


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
    """Evaluate an assessment; the context (procurement or individual_use) is read from the file.
    An individual-use check is decided on the stored product decision it names (--db)."""
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
            _, record = service.decide(assessment, pack, db)
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
    from engine.knowledge.coverage import coverage
    from engine.knowledge.graph import graph_problems, unused_questions
    from engine.knowledge.pack import lock_problem
    from engine.knowledge.remedy_checks import remedy_problems

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
    problems = graph_problems(pack) + remedy_problems(pack)
    version = lock_problem(pack)
    if version:
        problems.append(version)
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
    from engine.runtime.cases import run_rule_cases

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
    from engine.knowledge.graph import build_graph, to_dot, to_svg

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
            profile: ProfileOpt = None, db: DbOpt = None) -> None:
    """Show the chain from answers to rules to principles to the outcome."""
    from engine.export.explain import explain_text

    try:
        pack = service.load_rules(profile=profile)
        assessment, record = service.decide(service.load_assessment(file), pack, db, quick=True)
    except DTPAError as exc:
        fail(exc)
    typer.echo(explain_text(record, assessment, pack))


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
    from engine.export.schemas import write_schemas

    for path in write_schemas(out):
        typer.echo(f"wrote {path}")


@rules_app.command("lock")
def rules_lock() -> None:
    """Record the current rule-pack version's content hash (refuses to change a released one)."""
    import yaml

    from engine.knowledge.pack import LOCK_FILE, ROOT, locked_versions

    try:
        pack = service.load_rules()
    except DTPAError as exc:
        fail(exc)
    versions = locked_versions()
    version = pack.header.version
    if versions.get(version) not in (None, pack.national_hash):
        fail(RulesInvalid(f"version {version} is already locked to other content: bump the "
                          "version in rules/pack.yaml (rule-pack changes change decisions)"))
    versions[version] = pack.national_hash
    path = ROOT / "rules" / LOCK_FILE
    path.write_text("# Rule-pack versions and the SHA-256 of their national content (rules, "
                    "decision policy,\n# catalogue; not the local profile). Written by "
                    "`dtpa rules lock`; never edit a released line.\n"
                    + yaml.safe_dump({"versions": versions}, sort_keys=True), encoding="utf-8")
    typer.echo(f"locked {pack.header.name} {version}: {pack.national_hash}")

"""The `dtpa` command line. Each command calls one function of the engine and prints the result.

Exit codes: 0 decided (or checks passed), 1 input invalid, 2 rules invalid, 3 engine failure.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from engine import service
from engine.errors import DTPAError, EngineFailure, InputInvalid, RulesInvalid
from engine.render import record_text

app = typer.Typer(help="DTPA: NHS England's digital technology principles as justified decisions.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
rules_app = typer.Typer(help="Check and test the principles catalogue and rule pack.",
                        no_args_is_help=True)
app.add_typer(rules_app, name="rules")

EXIT = {InputInvalid: 1, RulesInvalid: 2, EngineFailure: 3}
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
) -> None:
    """Evaluate an assessment; the context (procurement or individual_use) is read from the file."""
    try:
        pack = service.load_rules(profile=profile)
        record = service.assess(service.load_assessment(file), pack)
    except DTPAError as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False))
    else:
        typer.echo(record_text(record))


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
def schema(out: Annotated[Path, typer.Option(help="Folder to write the JSON Schemas to")]
           = Path("docs/schemas")) -> None:
    """Write the JSON Schemas of the inputs and the decision record."""
    from engine.schemas import write_schemas

    for path in write_schemas(out):
        typer.echo(f"wrote {path}")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The `dtpa` command line. Each command calls one function of the engine and prints the result.

Exit codes: 0 decided (or checks passed), 1 input invalid, 2 rules invalid, 3 engine failure.
"""

from __future__ import annotations

import os
from typing import Annotated, NoReturn

import typer

from engine.errors import (
    AccessDenied,
    DTPAError,
    EngineFailure,
    InputInvalid,
    RecordNotFound,
    RulesInvalid,
    StoreConflict,
    StoreUnavailable,
)

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
        AccessDenied: 6,
        StoreUnavailable: 4}
DbOpt = Annotated[str | None, typer.Option("--db", help="Database URL (default: $DTPA_DATABASE_URL "
                                                          "or data/dtpa.sqlite)")]
ByOpt = Annotated[str, typer.Option("--by", help="Your name, as it will stand in the audit trail")]
RoleOpt = Annotated[str, typer.Option("--role", help="Your role (panel_chair, dpo, clinician ...)")]


def viewer() -> tuple[str, str]:
    import getpass

    return os.environ.get("DTPA_USER") or getpass.getuser(), os.environ.get("DTPA_ROLE", "auditor")
ProfileOpt = Annotated[str | None, typer.Option(
    "--profile", help="Local policy profile: a name in rules/profiles/ or a YAML file")]


def fail(exc: DTPAError) -> NoReturn:
    typer.echo(f"Error: {exc}", err=True)
    if exc.hint:
        typer.echo(exc.hint, err=True)
    raise typer.Exit(EXIT.get(type(exc), 1))

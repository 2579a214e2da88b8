"""The `dtpa` command line: the shared app, its options, and the one place where an error becomes
an `Error:` line and an exit code (README, "Exit codes"). Commands raise; they never catch."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated, Any

import typer
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from typer.core import TyperGroup

from engine.errors import (
    AccessDenied,
    DTPAError,
    EngineFailure,
    InputInvalid,
    IntegrityFailure,
    Interrupted,
    RulesInvalid,
    StoreConflict,
    StoreUnavailable,
)
from engine.models.printable import UNSHOWABLE

OK, INPUT_INVALID, RULES_INVALID, ENGINE_FAILURE, STORE_UNAVAILABLE, VERIFY_FAILED, ACCESS_DENIED = \
    range(7)
# Exit code by error class (NotSignedIn is an AccessDenied); any other DTPAError is an input error.
INTERRUPTED = 130  # the shell's code for Ctrl-C; work that resumes says so (`dtpa reevaluate`)
EXIT = {RulesInvalid: RULES_INVALID, EngineFailure: ENGINE_FAILURE,
        StoreUnavailable: STORE_UNAVAILABLE, AccessDenied: ACCESS_DENIED, Interrupted: INTERRUPTED,
        IntegrityFailure: VERIFY_FAILED}
# click's UsageError (a wrong option or command), whether typer vendors click or imports it.
UsageError: Any = next(c for c in typer.BadParameter.__mro__
                       if c.__name__ == "UsageError")


def printable(text: str) -> str:
    """Stored text as a terminal should show it: a control character (ESC starts a sequence that
    can retitle the window or rewrite the screen) or a bidi or invisible one (it reorders or hides
    what is shown), kept in a record stored before they were refused, is written as an escape such
    as `\\x1b` or `\\u202e`, never sent to act."""
    return UNSHOWABLE.sub(lambda m: _escape(ord(m.group())), text)


def _escape(code: int) -> str:
    """A code point as Python writes it in a string: \\x1b, \\u202e, \\U000e0041."""
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def exit_code(exc: DTPAError) -> int:
    return next((code for kind, code in EXIT.items() if isinstance(exc, kind)), INPUT_INVALID)


def report(exc: DTPAError) -> None:
    typer.echo(f"Error: {exc}", err=True)
    if exc.hint:
        typer.echo(exc.hint, err=True)


class Commands(TyperGroup):
    """The top-level group: every command runs inside its `invoke`, so this is the one error
    handler. A file that cannot be read or written is an input error, and so is a wrong option
    (click would say 2, which here means the rules are invalid)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except UsageError as exc:  # `dtpa` alone, or a wrong top-level option
            exc.exit_code = INPUT_INVALID
            raise

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            exc.exit_code = INPUT_INVALID
            raise
        except DTPAError as exc:
            report(exc)
            raise typer.Exit(exit_code(exc)) from None
        except OSError as exc:
            report(InputInvalid(f"{exc.filename or 'a file'}: {exc.strerror or exc}"))
            raise typer.Exit(INPUT_INVALID) from None
        except SQLAlchemyError as exc:
            error = database_error(exc)
            report(error)
            raise typer.Exit(exit_code(error)) from None


def database_error(exc: SQLAlchemyError) -> DTPAError:
    """A database error the store did not turn into a DTPAError, named by its class only: its
    text carries the SQL statement and its parameters, which hold the input. An IntegrityError
    the store trimmed (no statement) keeps its trimmed cause (class and constraint)."""
    trimmed = getattr(exc, "statement", "") is None and getattr(exc, "orig", None) is not None
    said = f"{type(exc).__name__}: {getattr(exc, 'orig', '')}" if trimmed else type(exc).__name__
    if isinstance(exc, IntegrityError):
        return StoreConflict(f"the database refused the change ({said}); nothing was stored")
    return StoreUnavailable(f"the database refused the request ({said}); nothing was stored")


app = typer.Typer(cls=Commands, help="DTPA: NHS England's digital technology principles as "
                  "justified decisions.", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)


def group(name: str, help: str) -> typer.Typer:
    sub = typer.Typer(help=help, no_args_is_help=True)
    app.add_typer(sub, name=name)
    return sub


rules_app = group("rules", "Check and test the principles catalogue and rule pack.")
records_app = group("records", "Find, show and review stored decision records.")
audit_app = group("audit", "Check the audit chain.")
users_app = group("users", "Local user accounts (passwords stored as Argon2 hashes).")
token_app = group("token", "Tokens for scripts (DTPA_TOKEN), acting as your account.")

DbOpt = Annotated[str | None, typer.Option("--db", help="Database URL (default: $DTPA_DATABASE_URL "
                                                          "or data/dtpa.sqlite)")]
ProfileOpt = Annotated[str | None, typer.Option(
    "--profile", help="Local policy profile: a name in rules/profiles/ or a YAML file")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin",
                                             help="Read the password from standard input")]


def operator() -> str:
    """The operating-system user running an operator command (seed, the first administrator)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return "unknown"


def read_password(from_stdin: bool, confirm: bool = False) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password" + (" (at least 12 characters)" if confirm else ""),
                            hide_input=True, confirmation_prompt=confirm))

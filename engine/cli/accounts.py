"""Signing in and out, tokens for scripts, and local accounts. The command line acts as the
account signed in here; the role always comes from that account."""

from __future__ import annotations

from typing import Annotated

import typer

from engine import service
from engine.cli.base import (
    DbOpt,
    PasswordStdin,
    app,
    operator,
    read_password,
    token_app,
    users_app,
)
from engine.errors import InputInvalid
from engine.models.people import known_role
from engine.models.vocab import Role
from engine.service import accounts, credentials


def _until(timestamp: str) -> str:
    return timestamp[:16].replace("T", " ") + " UTC"


@app.command()
def login(username: Annotated[str, typer.Argument(help="Your DTPA username")],
          password_stdin: PasswordStdin = False, db: DbOpt = None) -> None:
    """Sign in: the next commands act as this account for 8 hours.

    The token is kept in $DTPA_CONFIG_DIR/token, readable by you only; the database keeps only
    its hash."""
    password = read_password(password_stdin)
    store = service.open_store(db)
    issued = accounts.sign_in(store, username, password)
    previous = credentials.file_token()
    path = credentials.save_token(issued.token)
    if previous:  # signing in again ends the earlier sign-in on this machine
        accounts.sign_out(store, previous)
    typer.echo(f"Signed in as {issued.username} until {_until(issued.expires_at)} "
               f"(token saved in {path})")
    if credentials.saved_token() != (issued.token, str(path)):
        typer.echo("Note: DTPA_TOKEN is set and takes precedence over this sign-in.", err=True)


@app.command()
def logout(db: DbOpt = None) -> None:
    """Sign out: revoke the saved token and delete its file."""
    token = credentials.file_token()
    if token is None:
        typer.echo("Not signed in on this machine.")
        return
    try:
        accounts.sign_out(service.open_store(db), token)
    finally:  # the file goes even when the database cannot be reached
        path = credentials.forget_token()
    typer.echo(f"Signed out; deleted {path}")
    if credentials.saved_token() is not None:
        typer.echo("Note: DTPA_TOKEN is still set; unset it too.", err=True)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="What the token is for (shown in `dtpa token list`)")],
    scope: Annotated[str, typer.Option(help="read (read and export) or write (everything your "
                                            "account may do)")] = "read",
    hours: Annotated[float, typer.Option(help="Hours until it expires (at most 2160, 90 days)")]
    = 24,
    db: DbOpt = None,
) -> None:
    """Issue a token for scripts, acting as your account.

    It is printed once, on standard output, to be used as DTPA_TOKEN."""
    issued = accounts.create_token(accounts.current(db), name, scope, hours)
    typer.echo(f"Token {issued.id} for {issued.username} ({', '.join(issued.scopes)}), valid until "
               f"{_until(issued.expires_at)}. It is shown only now:", err=True)
    typer.echo(issued.token)


@token_app.command("list")
def token_list(db: DbOpt = None) -> None:
    """Your tokens (an administrator's list holds everyone's); never the tokens themselves."""
    rows = accounts.token_list(accounts.current(db))
    typer.echo(f"{'id':<14}{'account':<22}{'name':<24}{'scopes':<12}{'expires':<22}state")
    for t in rows:
        state = f"revoked {_until(t.revoked_at)}" if t.revoked_at else "active"
        typer.echo(f"{t.id:<14}{t.username:<22}{t.name[:23]:<24}{','.join(t.scopes):<12}"
                   f"{_until(t.expires_at):<22}{state}")
    typer.echo(f"{len(rows)} token(s)")


@token_app.command("revoke")
def token_revoke(token_id: Annotated[str, typer.Argument(help="The token's id (dtpa token list)")],
                 db: DbOpt = None) -> None:
    """Revoke a token at once (yours; an administrator may revoke anyone's)."""
    row = accounts.revoke_token(accounts.current(db), token_id)
    typer.echo(f"Revoked token {row.id} ({row.name}) of {row.username}")


@users_app.command("add")
def users_add(username: Annotated[str, typer.Argument(help="Login name")],
              name: Annotated[str, typer.Option(help="Full name, as it appears in records")],
              role: Annotated[str, typer.Option(help="Role: " + ", ".join(r.value for r in Role))],
              ward: Annotated[list[str], typer.Option(help="A ward a clinician works on "
                                                           "(repeat for several)")] = [],  # noqa: B006
              password_stdin: PasswordStdin = False,
              db: DbOpt = None) -> None:
    """Create a local account, as a signed-in administrator.

    While no account exists, the operator creates the first administrator without signing in
    (audited with their operating-system user)."""
    chosen = known_role(role)
    store = service.open_store(db)
    if accounts.needs_first_administrator(store):
        if chosen is not Role.administrator:
            raise InputInvalid("no account exists yet: the first must be an administrator "
                               "(--role administrator), who then adds the others")
        if ward:
            raise InputInvalid("an administrator works on no ward: leave out --ward")
        password = read_password(password_stdin, confirm=True)
        accounts.first_administrator(store, username, name, password, operator())
        typer.echo(f"created {username} (administrator), the first account; `dtpa login "
                   f"{username}` to add the others")
        return
    person = accounts.current(db)
    person.actor.require("manage_users")  # refused before the password is asked for
    password = read_password(password_stdin, confirm=True)
    person.add_user(username, name, chosen.value, ward, password)
    typer.echo(f"created {username} ({chosen.value})" + (f" for {', '.join(ward)}" if ward else ""))


@users_app.command("list")
def users_list(db: DbOpt = None) -> None:
    """The local accounts (never their passwords)."""
    users = accounts.current(db).users()
    for u in users:
        typer.echo(f"{u.username:<20}{u.name:<30}{u.role:<34}{', '.join(u.wards)}"
                   + ("" if u.active else "  (inactive)"))
    typer.echo(f"{len(users)} account(s)")

"""Signing in and out, tokens for scripts, and local accounts. The command line acts as the
account signed in here; the role always comes from that account."""

from __future__ import annotations

from typing import Annotated

import typer

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
from engine.service.session import Access


def _until(timestamp: str) -> str:
    return timestamp[:16].replace("T", " ") + " UTC"


@app.command()
def login(username: Annotated[str, typer.Argument(help="Your DTPA username")],
          password_stdin: PasswordStdin = False, db: DbOpt = None) -> None:
    """Sign in: the next commands act as this account for 8 hours.

    The token is kept in $DTPA_CONFIG_DIR/token, readable by you only; the database keeps only
    its hash."""
    password = read_password(password_stdin)
    issued = accounts.sign_in(db, username, password, client=accounts.this_machine())
    previous = credentials.file_token()
    path = credentials.save_token(issued.token)
    if previous:  # signing in again ends the earlier sign-in on this machine
        accounts.sign_out(db, previous)
    typer.echo(f"Signed in as {issued.username} until {_until(issued.expires_at)} "
               f"(token saved in {path})")
    if credentials.saved_token() != (issued.token, str(path)):
        typer.echo("Note: DTPA_TOKEN is set and takes precedence over this sign-in.", err=True)


@app.command("setup-token")
def setup_token(db: DbOpt = None) -> None:
    """Print a one-time token for creating the first administrator on the web.

    Only while the store has no account (`make run` runs this before starting the app); the web
    form asks for it. It works once, for an hour, and only the newest works. An operator command:
    no sign-in. Once an account exists it prints nothing on standard output."""
    made = accounts.setup_token(db, operator())
    if made is None:
        typer.echo("Accounts exist: no setup token is needed (sign in on the web, or "
                   "`dtpa login`).", err=True)
        return
    token, expires = made
    typer.echo(f"No account exists yet. To create the first administrator on the web, enter this "
               f"one-time setup token in the form (valid once, until {_until(expires)}):",
               err=True)
    typer.echo(token)


@app.command()
def logout(db: DbOpt = None) -> None:
    """Sign out: revoke the saved token and delete its file."""
    token = credentials.file_token()
    if token is None:
        typer.echo("Not signed in on this machine.")
        return
    try:
        accounts.sign_out(db, token)
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
    if accounts.needs_first_administrator(db):
        if chosen is not Role.administrator:
            raise InputInvalid("no account exists yet: the first must be an administrator "
                               "(--role administrator), who then adds the others")
        if ward:
            raise InputInvalid("an administrator works on no ward: leave out --ward")
        password = read_password(password_stdin, confirm=True)
        accounts.first_administrator(db, username, name, password, operator())
        typer.echo(f"created {username} (administrator), the first account; `dtpa login "
                   f"{username}` to add the others")
        return
    person = accounts.current(db)
    person.actor.require("manage_users")  # refused before the password is asked for
    password = read_password(password_stdin, confirm=True)
    grant = person.add_user(username, name, chosen.value, ward, password)
    typer.echo(f"created {username} ({chosen.value})" + (f" for {', '.join(ward)}" if ward else "")
               + (f", inactive until a second administrator approves {grant}" if grant else ""))


@users_app.command("list")
def users_list(db: DbOpt = None) -> None:
    """The local accounts (never their passwords)."""
    users = accounts.current(db).users()
    for u in users:
        typer.echo(f"{u.username:<20}{u.name:<30}{u.role:<34}{', '.join(u.wards)}"
                   + ("" if u.active else "  (inactive)")
                   + ("  (organisation sign-in linked)" if u.oidc_subject else ""))
    typer.echo(f"{len(users)} account(s)")


Username = Annotated[str, typer.Argument(help="The account's username")]


@users_app.command("deactivate")
def users_deactivate(username: Username, db: DbOpt = None) -> None:
    """Stop an account signing in: its web sessions end and its tokens are revoked (audited)."""
    accounts.current(db).deactivate(username)
    typer.echo(f"deactivated {username}: its sessions ended and its tokens were revoked")


@users_app.command("reactivate")
def users_reactivate(username: Username, db: DbOpt = None) -> None:
    """Let a deactivated account sign in again, with a new sign-in (audited)."""
    person = accounts.current(db)
    person.reactivate(username)
    if not _waits(person, username):
        typer.echo(f"reactivated {username}")


@users_app.command("set-role")
def users_set_role(username: Username,
                   role: Annotated[str, typer.Option(help="Role: " + ", ".join(r.value for r in Role))],
                   db: DbOpt = None) -> None:
    """Give an account another role; it applies from the person's next action (audited)."""
    person = accounts.current(db)
    old = person.change_role(username, role)
    if not _waits(person, username):
        typer.echo(f"{username}: role {old} -> {known_role(role).value}")


@users_app.command("set-wards")
def users_set_wards(username: Username,
                    ward: Annotated[list[str], typer.Option(help="A ward the account works on "
                                                                 "(repeat for several; none "
                                                                 "clears them)")] = [],  # noqa: B006
                    db: DbOpt = None) -> None:
    """Set the wards an account works on, replacing the ones it had (audited)."""
    person = accounts.current(db)
    old = person.set_wards(username, ward)
    if not _waits(person, username):
        typer.echo(f"{username}: wards {', '.join(old) or 'none'} -> {', '.join(ward) or 'none'}")


# --- a second administrator's approval of patient access (the profile's
# second_approval_for_patient_access) ---------------------------------------------------------

def _waits(person: Access, username: str) -> bool:
    """Say so when the change was only asked for: it waits for a second administrator."""
    grant = person.pending_grant(username)
    if grant is not None:
        typer.echo(f"{username}: nothing changes until another administrator approves {grant} "
                   f"(`dtpa users approve {grant.id}`)")
    return grant is not None


@users_app.command("grants")
def users_grants(db: DbOpt = None) -> None:
    """Grants of access to patient records waiting for a second administrator's approval."""
    grants = accounts.current(db).pending_grants()
    for grant in grants:
        typer.echo(str(grant))
    typer.echo(f"{len(grants)} grant(s) waiting for approval")


@users_app.command("approve")
def users_approve(grant_id: Annotated[str, typer.Argument(help="The grant's id (`dtpa users grants`)")],
                  db: DbOpt = None) -> None:
    """Approve another administrator's grant of access to patient records (audited); never one
    you asked for, nor one for your own account."""
    grant = accounts.current(db).approve_grant(grant_id)
    typer.echo(f"approved grant {grant.id}: {grant.username} gets {grant.what}")


@users_app.command("refuse")
def users_refuse(grant_id: Annotated[str, typer.Argument(help="The grant's id (`dtpa users grants`)")],
                 reason: Annotated[str | None, typer.Option(help="Why (kept in the audit event)")] = None,
                 db: DbOpt = None) -> None:
    """Refuse a grant of access to patient records, or withdraw your own (audited): nothing
    changes, and a new account stays inactive."""
    grant = accounts.current(db).refuse_grant(grant_id, reason)
    typer.echo(f"refused grant {grant.id} for {grant.username}: nothing changed")


@users_app.command("reset-password")
def users_reset_password(username: Username, password_stdin: PasswordStdin = False,
                         db: DbOpt = None) -> None:
    """Set a new password for an account; its sessions end, its tokens are revoked and any
    lockout of its name is lifted (audited)."""
    person = accounts.current(db)
    person.actor.require("manage_users")  # refused before the password is asked for
    person.reset_password(username, read_password(password_stdin, confirm=True))
    typer.echo(f"reset the password of {username}: its sessions ended and its tokens were revoked")


@users_app.command("link-oidc")
def users_link_oidc(
    username: Username,
    issuer: Annotated[str | None, typer.Option(help="The identity provider's issuer URL (the ID "
                                                    "token's `iss`)")] = None,
    subject: Annotated[str | None, typer.Option(help="The person's subject at that provider (the "
                                                     "ID token's `sub`)")] = None,
    unlink: Annotated[bool, typer.Option("--unlink", help="Remove the link instead")] = False,
    db: DbOpt = None,
) -> None:
    """Link an account to a person's identity-provider account for OpenID Connect sign-in,
    matched on issuer and subject together, never on e-mail (audited)."""
    if unlink == bool(issuer or subject):
        raise InputInvalid("give --issuer and --subject, or --unlink")
    accounts.current(db).link_identity(username, None if unlink else issuer,
                                       None if unlink else subject)
    typer.echo(f"{username}: " + ("unlinked from its identity-provider account" if unlink else
                                  f"linked to {subject} at {issuer}"))

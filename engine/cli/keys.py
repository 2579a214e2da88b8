"""The audit chain's key and signed checkpoints: the operator's `dtpa keys` commands (run on the
host that holds the key folder, no sign-in, recorded with the operating-system user),
`dtpa audit checkpoint`, and `dtpa audit check-checkpoint` (a public key alone)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine.cli.base import VERIFY_FAILED, DbOpt, audit_app, group, operator
from engine.service import integrity

keys_app = group("keys", "The audit chain's key and checkpoint signing key (operator commands).")


def _said(change: integrity.KeyChange) -> None:
    ring = change.ring
    typer.echo(f"Audit key {ring.current.id} {change.action} in {ring.folder} "
               f"(audit event {change.event}, in force from event {ring.current.from_seq}).")
    typer.echo(f"Checkpoint signing key {ring.signer.fingerprint}; its public key, for your DPO: "
               f"{ring.folder / f'signing-{ring.signer.id}.pub.pem'} (`dtpa keys public-key`).")
    if change.checkpoint is not None:
        typer.echo(f"Signed checkpoint: {change.checkpoint.path}")
    typer.echo("Back up the key folder now, apart from the database and its backups.")


@keys_app.command("init")
def keys_init(
    adopt: Annotated[bool, typer.Option(
        "--adopt", help="For a store made before audit keys: verify its chain, then key every "
                        "event from now on (recorded as an event)")] = False,
    db: DbOpt = None,
) -> None:
    """Make the audit key of a store with no events (dtpa seed does this too).

    Never makes a key for a store whose events were keyed: restore that key instead."""
    _said(integrity.init_keys(db, operator(), adopt))


@keys_app.command("rotate")
def keys_rotate(
    signing_key: Annotated[bool, typer.Option(
        "--signing-key", help="Also make a new checkpoint signing key (give your DPO the new "
                              "public key)")] = False,
    db: DbOpt = None,
) -> None:
    """A new audit key for the events from now on; the old keys stay to verify older events."""
    _said(integrity.rotate_keys(db, operator(), signing_key))


@keys_app.command("show")
def keys_show() -> None:
    """The key ring and the latest checkpoint (ids and fingerprints, never a key)."""
    status = integrity.key_status()
    if status.ring is None:
        typer.echo(f"No audit key in {status.folder}.")
    else:
        typer.echo(f"Key folder: {status.folder}")
        for k in status.ring.keys:
            mark = " (current)" if k is status.ring.current else ""
            typer.echo(f"  audit key {k.id}: events from {k.from_seq}, made {k.created_at}{mark}")
        for s in status.ring.signing:
            mark = " (current)" if s is status.ring.signer else ""
            typer.echo(f"  signing key {s.fingerprint}: made {s.created_at}{mark}")
    typer.echo(f"Checkpoints: {status.checkpoint_folder}")
    cp = status.latest
    if cp is not None:
        typer.echo(f"  latest: {cp.events} events, head {cp.head}, signed {cp.at} ({cp.name})")
    for line in status.unusable:
        typer.echo(f"  cannot be relied on: {line}")


@keys_app.command("public-key")
def keys_public_key(
    all_keys: Annotated[bool, typer.Option("--all", help="Every signing key, old ones too")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write it to this file")] = None,
) -> None:
    """The checkpoint signing public key (PEM), for a DPO to check checkpoints with."""
    pem = integrity.public_key(all_keys)
    if out is None:
        typer.echo(pem.decode("ascii"), nl=False)
        return
    out.write_bytes(pem)
    typer.echo(f"Wrote {out}")


@audit_app.command("checkpoint")
def audit_checkpoint(db: DbOpt = None) -> None:
    """Sign a checkpoint of the audit chain now (an operator command; e.g. daily from cron).

    The events since the latest checkpoint are verified first."""
    cp = integrity.write_checkpoint(db)
    typer.echo(f"Signed checkpoint {cp.path}: {cp.events} events, head {cp.head}, at {cp.at}")


@audit_app.command("check-checkpoint")
def audit_check_checkpoint(
    file: Annotated[Path, typer.Argument(help="A checkpoint file (checkpoint-*.json)")],
    public_key: Annotated[Path, typer.Option("--public-key", help="The deployment's checkpoint "
                                             "signing public key (PEM, `dtpa keys public-key`)")],
) -> None:
    """Check a checkpoint with the public key alone: no database, no sign-in."""
    check = integrity.check_checkpoint(file, public_key)
    cp = check.checkpoint
    if check.problem:
        typer.echo(f"INVALID: {file}: {check.problem}")
        raise typer.Exit(VERIFY_FAILED)
    typer.echo(f"Checkpoint valid: {cp.events} events, head {cp.head}, first event {cp.first}, "
               f"signed {cp.at} by key {check.fingerprint}")

"""The audit chain's key and signed checkpoints, for the command line and any later API.

Operator commands (`dtpa keys init`, `dtpa keys rotate`, `dtpa audit checkpoint`) run on the
host that holds the key folder, without signing in; a change to the key ring is an audit event
naming the operating-system user. Verifying the chain is for a signed-in governance account or
administrator (`Access.verify`); checking a checkpoint file needs only the public key."""

from __future__ import annotations

from pathlib import Path

from engine.service.api import store_at
from engine.service.retention import Verification
from engine.service.session import Access
from engine.store import Store, audit, integrity
from engine.store.checkpoints import Checkpoint
from engine.store.integrity import CheckpointCheck, KeyChange, KeyStatus

__all__ = ["CheckpointCheck", "KeyChange", "KeyStatus", "check_checkpoint", "init_keys",
           "key_status", "public_key", "rotate_keys", "verify", "write_checkpoint"]


def init_keys(store: Store | str | None, os_user: str, adopt: bool = False) -> KeyChange:
    """The audit key of an empty store, or (adopt) of one made before audit keys."""
    store = store_at(store)
    return integrity.init(store.db, os_user, adopt)


def rotate_keys(store: Store | str | None, os_user: str, signing: bool = False) -> KeyChange:
    store = store_at(store)
    return integrity.rotate(store.db, os_user, signing)


def write_checkpoint(store: Store | str | None) -> Checkpoint:
    store = store_at(store)
    return integrity.checkpoint(store.db)


def key_status() -> KeyStatus:
    return integrity.status()


def public_key(all_keys: bool = False) -> bytes:
    return integrity.public_key_pem(all_keys)


def check_checkpoint(path: Path, public_key: Path) -> CheckpointCheck:
    """A checkpoint file against a public key: no database, no key folder, no account."""
    return integrity.check_file(path, public_key)


def verify(person: Access, since_checkpoint: bool = False) -> Verification:
    """The whole audit check as this person (governance or administrator), or, incrementally,
    the events since the latest signed checkpoint and what they wrote."""
    if since_checkpoint:
        with audit.since_latest_checkpoint():
            return person.verify()
    return person.verify()

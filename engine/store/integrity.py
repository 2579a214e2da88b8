"""The operator's work on the audit key ring and checkpoints: making the key of a new store,
adopting one for a store made before audit keys, rotating it, and writing a checkpoint on demand.
Each change to the ring is an audit event naming the operating-system user who made it, and is
followed by a signed checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import AuditChainBroken, AuditKeyMissing, InputInvalid, StoreConflict
from engine.store import audit, checkpoints, keys
from engine.store.checkpoints import Checkpoint
from engine.store.db import Database
from engine.store.keys import KEYED, KeyRing
from engine.store.tables import EventRow

OPERATOR_ROLE = "administrator"


@dataclass(frozen=True)
class KeyChange:
    """What an operator command did to the ring, for the command to say."""

    action: str
    ring: KeyRing
    event: int  # the audit event that records it
    checkpoint: Checkpoint | None


def _head(session: Session) -> EventRow | None:
    return session.execute(select(EventRow).order_by(EventRow.seq.desc()).limit(1)).scalar_one_or_none()


def _checkpoint_of(event: int) -> Checkpoint | None:
    cp = checkpoints.latest_signed()
    return cp if cp is not None and cp.events == event else None


def init(db: Database, os_user: str, adopt: bool = False) -> KeyChange:
    """The key ring of a store with no events (`dtpa keys init`), or, with `adopt`, of a store
    whose events were all made before audit keys: its chain is verified first, and keyed events
    start after its current head. Never makes a key for a store that has keyed events."""
    with db.write() as session:
        head = _head(session)
        ring = keys.load()
        if ring is not None:
            raise StoreConflict(f"this deployment has an audit key already ({ring.current.id}, in "
                                f"{ring.folder}); nothing was changed (`dtpa keys rotate` makes a "
                                "new one)")
        if head is None:
            keys.create(1, os_user)  # refuses if another process made one meanwhile
            row = audit.append(session, os_user, OPERATOR_ROLE, "keys_initialised", None,
                               _detail(os_user, keys.load()), checkpoint=True)
            action = "initialised"
        else:
            keyed = session.execute(select(EventRow.seq).where(EventRow.hash_scheme == KEYED)
                                    .limit(1)).scalar_one_or_none()
            if keyed is not None:
                raise keys.missing(head.seq)
            if not adopt:
                raise StoreConflict(f"this store holds {head.seq} audit event(s) made before audit "
                                    "keys: adopt a key for the events from now on with `dtpa keys "
                                    "init --adopt` (the chain is verified first)")
            result = audit.verify(session, since_checkpoint=False)
            if not result.ok:
                raise AuditChainBroken("the audit chain does not verify, so a key was not adopted "
                                       "(it would vouch for what was changed): "
                                       + "; ".join(result.problems[:5]))
            keys.create(head.seq + 1, os_user)
            row = audit.append(session, os_user, OPERATOR_ROLE, "keys_adopted", None,
                               {**_detail(os_user, keys.load()), "unkeyed_events": head.seq,
                                "unkeyed_head": head.hash}, checkpoint=True)
            action = "adopted"
        seq = row.seq
    ring = keys.load()
    assert ring is not None
    return KeyChange(action, ring, seq, _checkpoint_of(seq))


def rotate(db: Database, os_user: str, signing: bool = False) -> KeyChange:
    """A new audit key for the events from now on (and a new checkpoint signing key when asked);
    the old keys stay to verify what they made."""
    with db.write() as session:
        head = _head(session)
        ring = keys.load()
        if ring is None:
            if head is not None:
                raise keys.missing(head.seq)
            raise AuditKeyMissing(f"there is no audit key in {keys.ring_folder()} to rotate: "
                                  "`dtpa keys init` makes the first")
        previous = ring.current.id
        ring = keys.rotate((head.seq if head else 0) + 1, os_user, signing)
        row = audit.append(session, os_user, OPERATOR_ROLE, "key_rotated", None,
                           {**_detail(os_user, ring), "previous_key_id": previous,
                            "signing_key_rotated": signing}, checkpoint=True)
        seq = row.seq
    ring = keys.load()
    assert ring is not None
    return KeyChange("rotated", ring, seq, _checkpoint_of(seq))


def _detail(os_user: str, ring: KeyRing | None) -> dict[str, object]:
    assert ring is not None
    return {"operator": True, "os_user": os_user, "key_id": ring.current.id,
            "signing_key": ring.signer.fingerprint}


def checkpoint(db: Database) -> Checkpoint:
    """Sign a checkpoint of the chain as it is now, after checking the events since the latest
    checkpoint (a chain that fails is not vouched for)."""
    with db.read() as session:
        ring = keys.load()
        head = _head(session)
        if ring is None:
            if head is not None:
                raise keys.missing(head.seq)
            raise AuditKeyMissing(f"there is no audit key in {keys.ring_folder()}: nothing to sign "
                                  "a checkpoint with")
        if head is None:
            raise StoreConflict("the store holds no audit events: there is nothing to checkpoint")
        result = audit.verify(session, since_checkpoint=True)
        if not result.ok:
            raise AuditChainBroken("the audit chain does not verify since the latest checkpoint, "
                                   "so no checkpoint was signed: " + "; ".join(result.problems[:5]))
        first = session.execute(select(EventRow.hash).where(EventRow.seq == 1)).scalar_one_or_none()
        return checkpoints.write(ring, head.seq, head.hash, head.key_id, first or audit.GENESIS)


@dataclass(frozen=True)
class KeyStatus:
    folder: Path
    ring: KeyRing | None
    checkpoint_folder: Path
    latest: Checkpoint | None
    unusable: list[str]  # checkpoint files that cannot be relied on


def status() -> KeyStatus:
    """The key ring and the checkpoints, from the files alone (no database)."""
    ring = keys.load()
    marks = checkpoints.scan(ring)
    return KeyStatus(keys.ring_folder(), ring, checkpoints.folder(), checkpoints.latest(marks),
                     [f"{m.path.name}: {m.problem}" for m in marks if m.problem])


def public_key_pem(all_keys: bool = False) -> bytes:
    """The checkpoint signing public key(s), PEM, for a DPO to check checkpoints with."""
    ring = keys.load()
    if ring is None:
        raise AuditKeyMissing(f"there is no audit key ring in {keys.ring_folder()}")
    chosen = ring.signing if all_keys else (ring.signer,)
    return b"".join((ring.folder / f"signing-{s.id}.pub.pem").read_bytes() for s in chosen)


@dataclass(frozen=True)
class CheckpointCheck:
    checkpoint: Checkpoint
    fingerprint: str
    problem: str | None


def check_file(path: Path, public_key: Path) -> CheckpointCheck:
    """A checkpoint file checked with a public key alone: no database, no key folder."""
    try:
        pem = Path(public_key).read_bytes()
    except OSError as exc:
        raise InputInvalid(f"{public_key}: {exc.strerror or exc}") from None
    public = keys.load_public_key(pem, str(public_key))
    cp = checkpoints.read(path)
    return CheckpointCheck(cp, keys.fingerprint(public), checkpoints.problem(cp, public))

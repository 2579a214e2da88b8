"""Signed checkpoints of the audit chain, kept outside the database.

A checkpoint says "the audit chain had N events and event N's hash was H", at a time, signed with
the deployment's Ed25519 signing key (engine/store/keys.py). DTPA writes one after the first event,
after every DTPA_CHECKPOINT_EVERY events, after a key is adopted or rotated, and on demand
(`dtpa audit checkpoint`), as a JSON file in DTPA_CHECKPOINT_DIR (default KEY_DIR/checkpoints):

    {"format": "dtpa-audit-checkpoint-1", "events": N, "head": H, "head_key_id": K,
     "first": <hash of event 1>, "at": <UTC time>, "signing_key": <fingerprint>,
     "signature": <base64 Ed25519 signature>}

The signature covers the RFC 8785 canonical JSON of every field but `signature`. A checkpoint is
public (it holds hashes and a count, nothing about anyone): copy it off the host, print it in
every audit PDF; anyone holding the public key can check it without the database.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from engine.errors import CheckpointNotWritten, InputInvalid
from engine.hashing import canonical
from engine.settings import settings
from engine.store import keys
from engine.store.keys import KeyRing

FORMAT = "dtpa-audit-checkpoint-1"
FIELDS = ("format", "events", "head", "head_key_id", "first", "at", "signing_key", "signature")


@dataclass(frozen=True)
class Checkpoint:
    events: int
    head: str
    head_key_id: str | None
    first: str
    at: str
    signing_key: str  # the fingerprint of the public key that checks the signature
    signature: str  # base64
    path: Path | None = None

    def payload(self) -> dict[str, Any]:
        return {"format": FORMAT, "events": self.events, "head": self.head,
                "head_key_id": self.head_key_id, "first": self.first, "at": self.at,
                "signing_key": self.signing_key}

    def signed_bytes(self) -> bytes:
        return canonical(self.payload())

    @property
    def signature_fingerprint(self) -> str:
        """A short, comparable name for this signature (the SHA-256 of its bytes, 16 hex)."""
        return hashlib.sha256(self.signature.encode("ascii")).hexdigest()[:16]

    @property
    def name(self) -> str:
        return self.path.name if self.path else f"checkpoint of {self.events} events"

    def document(self) -> bytes:
        return json.dumps({**self.payload(), "signature": self.signature}, indent=2).encode() + b"\n"


@dataclass(frozen=True)
class Mark:
    """A checkpoint file as found: the checkpoint, or why it cannot be relied on."""

    path: Path
    checkpoint: Checkpoint | None
    problem: str | None


def folder() -> Path:
    config = settings()
    return Path(config.checkpoint_dir) if config.checkpoint_dir else Path(config.key_dir) / "checkpoints"


def due(seq: int) -> bool:
    """Is a checkpoint written after event `seq` (the first, then every DTPA_CHECKPOINT_EVERY)?"""
    every = settings().checkpoint_every
    return seq == 1 or (every > 0 and seq % every == 0)


def _stamp(at: str) -> str:
    return at.replace("-", "").replace(":", "").replace(".", "")


def write(ring: KeyRing, events: int, head: str, head_key_id: str | None, first: str) -> Checkpoint:
    """Sign and write a checkpoint of a chain whose event `events` has hash `head`."""
    at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    signer = ring.signer
    unsigned = Checkpoint(events, head, head_key_id, first, at, signer.fingerprint, "")
    signature = base64.b64encode(signer.sign(unsigned.signed_bytes())).decode("ascii")
    where = folder()
    path = where / f"checkpoint-{events:012d}-{_stamp(at)}.json"
    cp = Checkpoint(events, head, head_key_id, first, at, signer.fingerprint, signature, path)
    try:
        if not where.exists():
            where.mkdir(mode=0o700, parents=True, exist_ok=True)
        keys.write_atomic(path, cp.document(), 0o644)  # public: nothing secret in it
    except OSError as exc:
        raise CheckpointNotWritten(f"could not write the audit checkpoint of event {events} to "
                                   f"{where}: {exc.strerror or exc}") from None
    return cp


def parse(data: bytes, where: str) -> Checkpoint:
    """A checkpoint file's content, or InputInvalid saying what is wrong with it."""
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise InputInvalid(f"{where}: not a checkpoint (not JSON: {exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InputInvalid(f"{where}: not a DTPA audit checkpoint (format should be {FORMAT})")
    unknown = sorted(set(doc) - set(FIELDS))
    absent = sorted(set(FIELDS) - set(doc))
    if unknown or absent:
        raise InputInvalid(f"{where}: not a DTPA audit checkpoint ("
                           + "; ".join(([f"unknown field(s) {', '.join(unknown)}"] if unknown else [])
                                       + ([f"missing {', '.join(absent)}"] if absent else [])) + ")")
    ok = (isinstance(doc["events"], int) and not isinstance(doc["events"], bool) and doc["events"] >= 1
          and all(isinstance(doc[f], str) for f in ("head", "first", "at", "signing_key", "signature"))
          and (doc["head_key_id"] is None or isinstance(doc["head_key_id"], str)))
    if not ok:
        raise InputInvalid(f"{where}: a field of the checkpoint has the wrong type")
    return Checkpoint(doc["events"], doc["head"], doc["head_key_id"], doc["first"], doc["at"],
                      doc["signing_key"], doc["signature"], Path(where))


def read(path: Path) -> Checkpoint:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputInvalid(f"{path}: {exc.strerror or exc}") from None
    return parse(data, str(path))


def problem(cp: Checkpoint, public: Ed25519PublicKey) -> str | None:
    """Why the checkpoint cannot be relied on with this public key, or None when it is valid."""
    fp = keys.fingerprint(public)
    if fp != cp.signing_key:
        return (f"it names signing key {cp.signing_key[:16]}, not the key given ({fp[:16]}): "
                "signed by another key, or its key field was changed")
    try:
        signature = base64.b64decode(cp.signature, validate=True)
    except (binascii.Error, ValueError):
        return "its signature is not base64: altered or forged"
    if not keys.verify_signature(public, signature, cp.signed_bytes()):
        return "its signature does not match its content: altered or forged"
    return None


def scan(ring: KeyRing | None, where: Path | None = None) -> list[Mark]:
    """Every checkpoint file in the folder, each checked against the ring's signing keys."""
    where = where or folder()
    marks = []
    for path in sorted(where.glob("checkpoint-*.json")) if where.is_dir() else []:
        try:
            cp = read(path)
        except InputInvalid as exc:
            marks.append(Mark(path, None, exc.message.removeprefix(f"{path}: ")))
            continue
        public = ring.public_key(cp.signing_key) if ring else None
        if public is None:
            marks.append(Mark(path, cp, f"it is signed by key {cp.signing_key[:16]}, which is not "
                                        "one of this deployment's signing keys: forged"))
            continue
        marks.append(Mark(path, cp, problem(cp, public)))
    return marks


def latest(marks: list[Mark]) -> Checkpoint | None:
    """The valid checkpoint with the most events (the newest of those)."""
    valid = [m.checkpoint for m in marks if m.checkpoint is not None and m.problem is None]
    return max(valid, key=lambda c: (c.events, c.at)) if valid else None


def latest_signed() -> Checkpoint | None:
    """The deployment's latest valid checkpoint (for exports), or None. Cheap: file names sort by
    event count, so only the newest files are read and checked."""
    ring = keys.load()
    where = folder()
    if ring is None or not where.is_dir():
        return None
    for path in sorted(where.glob("checkpoint-*.json"), reverse=True):
        try:
            cp = read(path)
        except InputInvalid:
            continue
        public = ring.public_key(cp.signing_key)
        if public is not None and problem(cp, public) is None:
            return cp
    return None

"""The audit key ring: the HMAC keys that make event hashes, and the Ed25519 key that signs
checkpoints, kept outside the database in the deployment's key folder (DTPA_KEY_DIR).

    KEY_DIR/audit/                  0700, owner only
        ring.json                   which keys exist and from which event each is in force
        hmac-<id>.key               one HMAC-SHA256 key (32 random bytes, hex), 0600
        signing-<id>.pem            the checkpoint signing key (Ed25519, PKCS#8 PEM), 0600
        signing-<id>.pub.pem        its public key, for a DPO to check checkpoints with

A key's id is the first 16 hex digits of the SHA-256 of the key itself (of the raw public key for
a signing key), so a key file can be checked against its name. Keys are never deleted: rotation
adds a key in force from the next event and keeps the old ones to verify the events they made.
The ring is created only for a store with no events (engine/store/audit.py); with events and no
ring, writing and verifying stop with `AuditKeyMissing` and no key is made.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from engine.errors import AuditKeyMissing, InputInvalid, StoreConflict
from engine.settings import settings

KEYED = "rfc8785-hmac-sha256"  # the hash scheme of keyed audit events
RING_FORMAT = "dtpa-audit-key-ring-1"
SUBFOLDER = "audit"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def key_id(secret: bytes) -> str:
    return hashlib.sha256(secret).hexdigest()[:16]


def fingerprint(public: Ed25519PublicKey) -> str:
    """The SHA-256 of the raw 32-byte public key, in hex: what a DPO compares."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def load_public_key(pem: bytes, where: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise InputInvalid(f"{where}: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputInvalid(f"{where}: not an Ed25519 public key (DTPA signs checkpoints with Ed25519)")
    return key


def verify_signature(public: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        public.verify(signature, data)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class AuditKey:
    """One HMAC key, in force for events from `from_seq` until the next key's."""

    id: str
    from_seq: int
    created_at: str
    secret: bytes = field(repr=False)

    def mac(self, data: bytes) -> str:
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SigningKey:
    id: str  # first 16 hex digits of the fingerprint
    fingerprint: str
    created_at: str
    public: Ed25519PublicKey = field(repr=False)
    private_path: Path = field(repr=False)

    def sign(self, data: bytes) -> bytes:
        key = serialization.load_pem_private_key(_read_secret(self.private_path), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditKeyMissing(f"{self.private_path} is not an Ed25519 private key")
        return key.sign(data)


@dataclass(frozen=True)
class KeyRing:
    folder: Path
    keys: tuple[AuditKey, ...]  # oldest first
    signing: tuple[SigningKey, ...]  # oldest first; the last signs new checkpoints

    @property
    def current(self) -> AuditKey:
        return self.keys[-1]

    @property
    def keyed_from(self) -> int:
        """The first event that must be keyed: earlier events were made before the store had a
        key (a store that adopted one) and keep their old scheme."""
        return self.keys[0].from_seq

    def get(self, kid: str | None) -> AuditKey | None:
        return next((k for k in self.keys if k.id == kid), None)

    def in_force(self, seq: int) -> AuditKey | None:
        """The key that must have made event `seq` (None before the store had a key)."""
        found = None
        for k in self.keys:
            if k.from_seq <= seq:
                found = k
        return found

    @property
    def signer(self) -> SigningKey:
        return self.signing[-1]

    def public_key(self, fp: str) -> Ed25519PublicKey | None:
        return next((s.public for s in self.signing if s.fingerprint == fp), None)


# --- the folder --------------------------------------------------------------------------------

def key_dir() -> Path:
    return Path(settings().key_dir)


def ring_folder(base: Path | None = None) -> Path:
    return (base or key_dir()) / SUBFOLDER


def _insecure(path: Path, mask: int) -> str | None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & mask:
        return f"{path} is open to other users (mode {stat.S_IMODE(mode):04o})"
    return None


def _check_folder(folder: Path) -> None:
    """The key folder may be read by its owner only, and nobody else may replace what is in it."""
    problem = _insecure(folder.parent, 0o022) or _insecure(folder, 0o077)
    if problem:
        raise AuditKeyMissing(f"{problem}: the audit keys must be readable by their owner only "
                              f"(chmod 700 {folder}; chmod go-w {folder.parent})")


def _read_secret(path: Path) -> bytes:
    problem = _insecure(path, 0o077)
    if problem:
        raise AuditKeyMissing(f"{problem}: a key file must be readable by its owner only "
                              f"(chmod 600 {path})")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise AuditKeyMissing(f"cannot read the audit key {path}: {exc.strerror or exc}") from None


def _write_new(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write a file that must not exist yet, owner-only, and flush it to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, mode)  # whatever the umask said


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace `path` in one step (a reader sees the old file or the new, never half of one)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    _write_new(tmp, data, mode)
    os.replace(tmp, path)
    with contextlib.suppress(OSError):  # not every file system lets a folder be fsynced
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _make_folder(folder: Path) -> None:
    for path in (folder.parent, folder):
        if not path.exists():
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(path, 0o700)
    _check_folder(folder)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One process at a time changes the ring (two stores starting on one folder, a rotation)."""
    _make_folder(folder)
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


# --- reading the ring --------------------------------------------------------------------------

_CACHE: dict[Path, tuple[tuple[int, int, int], KeyRing]] = {}


def load(base: Path | None = None) -> KeyRing | None:
    """The ring in the key folder, or None when there is none. A ring that is there but cannot be
    used (open to other users, a key file missing or not matching its id) is an error."""
    folder = ring_folder(base)
    path = folder / "ring.json"
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
    cached = _CACHE.get(path)
    if cached and cached[0] == stamp:
        return cached[1]
    _check_folder(folder)
    ring = _parse(folder, _read_secret(path))
    _CACHE[path] = (stamp, ring)
    return ring


def _parse(folder: Path, data: bytes) -> KeyRing:
    where = folder / "ring.json"
    try:
        doc = json.loads(data)
        if doc.get("format") != RING_FORMAT:
            raise ValueError(f"format {doc.get('format')!r}, expected {RING_FORMAT}")
        keys = []
        for entry in doc["hmac"]:
            kid = str(entry["id"])
            secret = bytes.fromhex(_read_secret(folder / f"hmac-{kid}.key").decode().strip())
            if key_id(secret) != kid:
                raise AuditKeyMissing(f"{folder / f'hmac-{kid}.key'} does not hold audit key {kid} "
                                      "(it was replaced or damaged)")
            keys.append(AuditKey(kid, int(entry["from_seq"]), str(entry["created_at"]), secret))
        signing = []
        for entry in doc["signing"]:
            sid = str(entry["id"])
            pub_path = folder / f"signing-{sid}.pub.pem"
            try:
                public = load_public_key(pub_path.read_bytes(), str(pub_path))
            except InputInvalid as exc:
                raise AuditKeyMissing(exc.message) from None
            if fingerprint(public) != entry["fingerprint"] or not entry["fingerprint"].startswith(sid):
                raise AuditKeyMissing(f"{pub_path} does not hold signing key {sid}")
            signing.append(SigningKey(sid, str(entry["fingerprint"]), str(entry["created_at"]),
                                      public, folder / f"signing-{sid}.pem"))
    except FileNotFoundError as exc:
        raise AuditKeyMissing(f"the audit key ring {where} names {exc.filename}, which is "
                              "missing") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise AuditKeyMissing(f"the audit key ring {where} cannot be read ({exc})") from None
    if not keys or not signing:
        raise AuditKeyMissing(f"the audit key ring {where} holds no key")
    return KeyRing(folder, tuple(keys), tuple(signing))


def missing(events: int, base: Path | None = None) -> AuditKeyMissing:
    """The refusal when a store has events and its key is not there."""
    folder = ring_folder(base)
    return AuditKeyMissing(
        f"the audit chain holds {events} event(s) but its key is not in {folder} "
        f"(DTPA_KEY_DIR={folder.parent}); nothing was written or verified, and no new key was "
        "made. Restore the key folder from its backup, or point DTPA_KEY_DIR at it. A store made "
        "before audit keys adopts one with `dtpa keys init --adopt`")


# --- changing the ring -------------------------------------------------------------------------

def _ring_doc(ring_keys: list[dict[str, Any]], signing: list[dict[str, Any]]) -> bytes:
    return json.dumps({"format": RING_FORMAT, "hmac": ring_keys, "signing": signing},
                      indent=2).encode() + b"\n"


def _new_hmac(folder: Path, from_seq: int, by: str) -> dict[str, Any]:
    secret = secrets.token_bytes(32)
    kid = key_id(secret)
    _write_new(folder / f"hmac-{kid}.key", secret.hex().encode() + b"\n")
    return {"id": kid, "from_seq": from_seq, "created_at": _now(), "created_by": by}


def _new_signing(folder: Path, by: str) -> dict[str, Any]:
    private = Ed25519PrivateKey.generate()
    fp = fingerprint(private.public_key())
    sid = fp[:16]
    _write_new(folder / f"signing-{sid}.pem", private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    _write_new(folder / f"signing-{sid}.pub.pem", private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo), 0o644)
    return {"id": sid, "fingerprint": fp, "created_at": _now(), "created_by": by}


def create(from_seq: int, by: str, base: Path | None = None) -> KeyRing:
    """A new ring: an HMAC key in force from event `from_seq` (1 for a new store; the next event
    for a store adopting a key) and a checkpoint signing key. Refused when a ring exists."""
    folder = ring_folder(base)
    with _locked(folder):
        if (folder / "ring.json").exists():
            raise StoreConflict(f"an audit key ring exists already in {folder}; nothing was "
                                "changed (`dtpa keys rotate` makes a new key)")
        doc = _ring_doc([_new_hmac(folder, from_seq, by)], [_new_signing(folder, by)])
        write_atomic(folder / "ring.json", doc)
    ring = load(base)
    assert ring is not None
    return ring


def ensure(by: str, base: Path | None = None) -> KeyRing:
    """The ring of a store with no events: the one in the folder, else a new one (two stores
    starting at once on one folder share the first one made)."""
    folder = ring_folder(base)
    with _locked(folder):
        if not (folder / "ring.json").exists():
            doc = _ring_doc([_new_hmac(folder, 1, by)], [_new_signing(folder, by)])
            write_atomic(folder / "ring.json", doc)
    ring = load(base)
    assert ring is not None
    return ring


def rotate(from_seq: int, by: str, signing: bool = False, base: Path | None = None) -> KeyRing:
    """Add an HMAC key in force from event `from_seq` (and a new signing key when asked); the
    old keys stay, to verify what they made."""
    folder = ring_folder(base)
    with _locked(folder):
        current = load(base)
        if current is None:
            raise AuditKeyMissing(f"there is no audit key ring in {folder} to rotate")
        doc = json.loads(_read_secret(folder / "ring.json"))
        doc["hmac"].append(_new_hmac(folder, from_seq, by))
        if signing:
            doc["signing"].append(_new_signing(folder, by))
        write_atomic(folder / "ring.json", _ring_doc(doc["hmac"], doc["signing"]))
    ring = load(base)
    assert ring is not None
    return ring


# --- secrets the chain vouches for without holding them -------------------------------------------

def seal(key: AuditKey, value: str) -> str:
    """`<key id>:<HMAC-SHA256 of value>`: what an audit event keeps of a secret's stored form (a
    password hash, a token's digest), so that a column swapped in SQL is named while the chain,
    and anything exported from it, holds nothing that helps to guess the secret."""
    return f"{key.id}:{key.mac(value.encode('utf-8'))}"


def sealed_matches(ring: KeyRing | None, sealed: str, value: str) -> bool:
    """Does `value` still have the seal an event recorded (made with any key of the ring)? The
    caller loads the ring once (reading the settings for its folder is the slow part)."""
    if ring is None:
        raise AuditKeyMissing(f"there is no audit key in {ring_folder()}: the sealed password and "
                              "token digests cannot be checked")
    kid, _, mac = sealed.partition(":")
    key = ring.get(kid)
    return key is not None and hmac.compare_digest(key.mac(value.encode("utf-8")), mac)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")

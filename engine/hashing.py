"""Canonical JSON and SHA-256, so the same content always gives the same hash.

Two canonicalisation schemes, each named in what it hashes so a stored hash can always be checked:
- `rfc8785-sha256` (current): RFC 8785 JSON Canonicalization Scheme, a published standard any
  other tool can reproduce.
- `sorted-json-sha256` (records and events stored before it): Python's json.dumps with sorted
  keys and no spaces. Kept only so existing stores and exports still verify.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final

import rfc8785

RFC8785: Final = "rfc8785-sha256"
LEGACY: Final = "sorted-json-sha256"
SCHEMES = (RFC8785, LEGACY)


def canonical_json(value: Any) -> bytes:
    """The legacy canonical form (LEGACY)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def canonical(value: Any, scheme: str = RFC8785) -> bytes:
    """`value` (JSON-ready: dicts, lists, strings, numbers) in the scheme's canonical bytes."""
    if scheme == RFC8785:
        return rfc8785.dumps(value)
    if scheme == LEGACY:
        return canonical_json(value)
    raise ValueError(f"unknown hash scheme {scheme!r}; known: {', '.join(SCHEMES)}")


def digest(value: Any, scheme: str = RFC8785) -> str:
    return sha256_bytes(canonical(value, scheme))


def sha256_of(value: Any) -> str:
    """The legacy hash; new content is hashed with `digest` (RFC 8785)."""
    return sha256_bytes(canonical_json(value))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

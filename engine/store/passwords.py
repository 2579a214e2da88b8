"""Local account passwords, kept only as Argon2id hashes (argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

from engine.errors import InputInvalid

_HASHER = PasswordHasher()  # Argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    if len(password or "") < 12:
        raise InputInvalid("a password needs at least 12 characters")
    return _HASHER.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False

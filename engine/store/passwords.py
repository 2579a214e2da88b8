"""Local account passwords, kept only as Argon2id hashes (argon2-cffi), and the policy a new
password must meet: at least 12 characters and not easy to guess, as judged offline by zxcvbn
(Dropbox's strength estimator: dictionaries of common passwords, names and words, keyboard
patterns, repeats, sequences and dates, plus the person's own name and username)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

from engine.errors import InputInvalid

_HASHER = PasswordHasher()  # Argon2id with the library's current recommended parameters

MIN_LENGTH = 12
MAX_LENGTH = 256  # Argon2 would take more, but a sign-in form is no place for a novel
MIN_SCORE = 3  # zxcvbn's 0-4 scale: 3 is "safely unguessable" (about 10^8 to 10^10 guesses)
_ESTIMATED = 72  # zxcvbn refuses longer input; the first 72 characters are judged
_WORDS = ("dtpa", "nhs", "password", "ward", "trust")  # guessable in this setting
_ESTIMATOR = threading.Lock()  # zxcvbn keeps the user inputs in a module-level dictionary

# Checked when no account has the name given, so that an unknown name costs one Argon2
# verification like a known one: a hash of a random secret nobody knows, made with the
# hasher's parameters (tests/test_signin.py checks they still match the library's defaults).
DUMMY_HASH = ("$argon2id$v=19$m=65536,t=3,p=4$vTfzyu0a96e8tdvongVpXg$"
              "WSkAVO1H8ckH2cJYWuTv0dHxPPASxVyV7fiP/fJEczQ")


def check_strength(password: str, user_inputs: Iterable[str] = ()) -> None:
    """Refuse a password that is short or easy to guess, saying why and what to do instead.
    `user_inputs` are the person's own name and username, which make a password weaker."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        raise InputInvalid(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InputInvalid(f"a password has at most {MAX_LENGTH} characters")
    words: list[str] = []  # the person's own words first: zxcvbn ranks earlier ones likelier
    for value in user_inputs:
        if value and value.strip():
            words.append(value.strip())
            words += [part for part in re.split(r"[\s._@+-]+", value) if len(part) > 1]
    words += _WORDS
    with _ESTIMATOR:
        result: dict[str, Any] = zxcvbn(password[:_ESTIMATED], user_inputs=words)
    score = int(result["score"])
    if score >= MIN_SCORE:
        return
    feedback = result.get("feedback") or {}
    why = str(feedback.get("warning") or "it follows a pattern, or uses common words or names, "
                                         "that password-guessing tools try early").rstrip(".")
    raise InputInvalid(
        f"this password is too easy to guess ({why}; strength {score} of 4, at least "
        f"{MIN_SCORE} needed). Use a longer passphrase of four or more unrelated words, not "
        "your name or username, a common password, a keyboard pattern or a repeated character")


def hash_password(password: str, user_inputs: Iterable[str] = ()) -> str:
    """The Argon2id hash of a new password, after checking it meets the policy."""
    check_strength(password, user_inputs)
    return _HASHER.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False

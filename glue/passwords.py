"""Password hashing: bcrypt cost 12 over a keyed SHA-256 pre-hash.

bcrypt reads at most 72 bytes (bcrypt 5 raises past that), yet our passwords
may be 128 characters, up to 512 bytes of UTF-8. Each password is first
reduced to ``base64(HMAC-SHA256(key, password))`` (44 bytes), which bcrypt then
hashes. Two passwords that differ only after byte 72 stay different, and the
constant, project-specific HMAC key rules out "password shucking" (testing a
leaked table of plain SHA-256 hashes against ours). The key is not a secret
pepper: losing the database alone must not lose the passwords' strength, and
losing an environment variable must not lock every user out.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

import bcrypt

COST = 12
MIN_LENGTH = 12
MAX_LENGTH = 128
_PREHASH_KEY = b"veritas/password/v1"


class PasswordPolicyError(ValueError):
    """The password is not a string of the allowed length; the message says how."""


def check_policy(password: object) -> None:
    """Refuses (PasswordPolicyError) anything but a string of 12 to 128 characters."""
    if not isinstance(password, str):
        raise PasswordPolicyError("password must be a string")
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"password must be at most {MAX_LENGTH} characters long")


def _prehash(password: str) -> bytes:
    digest = hmac.new(_PREHASH_KEY, password.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest)


def hash_password(password: str, cost: int = COST) -> str:
    """The bcrypt hash to store (CPU-bound: call it off the event loop)."""
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds=cost)).decode("ascii")


def verify_password(password: str, stored_hash: str) -> bool:
    """Constant-time check of ``password`` against a stored hash."""
    try:
        return bcrypt.checkpw(_prehash(password), stored_hash.encode("ascii"))
    except ValueError:
        return False


@functools.cache
def dummy_hash() -> str:
    """Checked against when the email is unknown, so that an unknown email and a
    wrong password cost the same time."""
    return hash_password("unknown-user-placeholder-password")

"""Access tokens (JWT HS256) and opaque refresh tokens: a login's first is
random, each later one derived from the one it replaces (``refresh_successor``)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

ISSUER = "veritas"
AUDIENCE = "veritas-api"
ALGORITHM = "HS256"
ACCESS_TTL_SECONDS = 24 * 3600
LEEWAY_SECONDS = 30
ROLES = frozenset({"student", "teacher", "admin", "integration"})
REQUIRED_CLAIMS = ["sub", "role", "jti", "iat", "exp", "iss", "aud", "typ"]


class TokenError(Exception):
    """The token is not acceptable; the message says why (safe to show)."""


@dataclass(frozen=True)
class AccessClaims:
    sub: str
    role: str
    jti: str
    iat: int
    exp: int
    raw: dict[str, Any]

    @functools.cached_property
    def text(self) -> str:
        """The claims as JSON text (request.jwt.claims), rendered once per
        verified token: the token cache (glue/bearer.py) keeps this object."""
        return json.dumps(self.raw)


def issue_access_token(
    secret: bytes, user_id: str, role: str, now: float | None = None
) -> tuple[str, AccessClaims]:
    issued = int(now if now is not None else time.time())
    claims = _access_claims(user_id, role, str(uuid.uuid4()), issued, issued + ACCESS_TTL_SECONDS)
    token = jwt.encode(claims, secret, algorithm=ALGORITHM)
    return token, _claims(claims)


def sign_access_token(secret: bytes, *, user_id: str, role: str, jti: str, iat: int,
                      exp: int) -> str:
    """An access token whose id and lifetime were decided elsewhere: a service
    token recorded by the database (``internal.issue_service_token``)."""
    return jwt.encode(_access_claims(user_id, role, jti, iat, exp), secret, algorithm=ALGORITHM)


def _access_claims(user_id: str, role: str, jti: str, iat: int, exp: int) -> dict[str, Any]:
    return {"sub": user_id, "role": role, "jti": jti, "iat": iat, "exp": exp,
            "iss": ISSUER, "aud": AUDIENCE, "typ": "access"}


def _claims(payload: dict[str, Any]) -> AccessClaims:
    return AccessClaims(
        sub=str(payload["sub"]),
        role=str(payload["role"]),
        jti=str(payload["jti"]),
        iat=int(payload["iat"]),
        exp=int(payload["exp"]),
        raw=payload,
    )


def _decode(token: str, secret: bytes) -> dict[str, Any]:
    return jwt.decode(
        token,
        secret,
        algorithms=[ALGORITHM],
        audience=AUDIENCE,
        issuer=ISSUER,
        leeway=LEEWAY_SECONDS,
        options={"require": REQUIRED_CLAIMS},
    )


def verify_access_token(
    secret: bytes, token: str, previous_secret: bytes | None = None
) -> AccessClaims:
    """Decode and check an access token: signature, algorithm, claims, type.

    ``previous_secret``, during a rotation, is tried when the signature does
    not match the current secret; tokens are only ever issued with ``secret``.
    """
    try:
        try:
            payload = _decode(token, secret)
        except jwt.InvalidSignatureError:
            if previous_secret is None:
                raise
            payload = _decode(token, previous_secret)
    except jwt.ExpiredSignatureError:
        raise TokenError("the token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise TokenError(f"the token is invalid: {exc}") from None
    if payload.get("typ") != "access":
        raise TokenError("the token is not an access token")
    if payload.get("role") not in ROLES:
        raise TokenError("the token's role is unknown")
    try:
        uuid.UUID(str(payload["sub"]))
        uuid.UUID(str(payload["jti"]))
    except ValueError:
        raise TokenError("the token's subject or id is not a UUID") from None
    return _claims(payload)


def new_refresh_token() -> tuple[str, bytes]:
    """An opaque refresh token and the hash stored in its place."""
    token = secrets.token_urlsafe(32)
    return token, refresh_token_hash(token)


def refresh_token_hash(token: str) -> bytes:
    """SHA-256 of the token: the token has 256 random bits, so no salt or stretching."""
    return hashlib.sha256(token.encode("utf-8")).digest()


# The key of refresh_successor: derived from the JWT secret, so that no
# other setting has to be shared by the glue processes, and a key of its own
# (an HMAC of the JWT secret) so that no value is ever both a MAC and a
# signature key.
_SUCCESSOR_KEY_LABEL = b"veritas refresh-token successor v1"


def refresh_successor(secret: bytes, token: str, steps: int = 1) -> str:
    """The refresh token that replaces ``token`` at a refresh (``steps`` times over).

    HMAC-SHA-256 of the token, keyed from the server's secret: a refresh
    token is never stored, yet two concurrent refreshes of one token (two
    tabs) present the database with the same successor, which is how
    ``internal.refresh_rotate`` tells a twin inside the reuse interval from a
    replay. Without the secret, a token says nothing about its successor.
    """
    key = hmac.new(secret, _SUCCESSOR_KEY_LABEL, hashlib.sha256).digest()
    for _ in range(steps):
        mac = hmac.new(key, token.encode("utf-8"), hashlib.sha256).digest()
        token = base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")
    return token

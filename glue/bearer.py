"""Who is calling: the request's Bearer token, verified (and cached), or nobody.

The token format itself is glue/tokens.py; the routes that issue tokens are
glue/auth_routes.py.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from starlette.requests import Request

from glue.errors import UNAUTHENTICATED, ApiError
from glue.tokens import AccessClaims, TokenError, verify_access_token

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="veritas"'}


def unauthenticated(message: str) -> ApiError:
    return ApiError(401, UNAUTHENTICATED, message, headers=CHALLENGE)


def bearer_claims(request: Request, required: bool) -> AccessClaims | None:
    """The verified claims of the request's Bearer token.

    No token: ``None`` when ``required`` is false, else 401. A token that is
    present but bad is always 401: a client is never silently downgraded to anon.
    """
    header = request.headers.get("authorization")
    if not header:
        if required:
            raise unauthenticated("a Bearer token is required")
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("the Authorization header must be 'Bearer <token>'")
    token = token.strip()
    cache: VerifiedTokens = request.app.state.verified_tokens
    claims = cache.get(token)
    if claims is not None:
        return claims
    try:
        settings = request.app.state.settings
        claims = verify_access_token(settings.jwt_secret, token, settings.jwt_previous_secret)
    except TokenError as exc:
        raise unauthenticated(str(exc)) from None
    cache.put(token, claims)
    return claims


class VerifiedTokens:
    """Tokens whose signature and claims were verified, until they expire.

    Spares the HMAC and the claim checks on every request of the same token;
    revocation is still checked in the database on every request, so a cached
    token that was logged out is refused all the same.
    """

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self.entries: OrderedDict[str, AccessClaims] = OrderedDict()

    def get(self, token: str) -> AccessClaims | None:
        claims = self.entries.get(token)
        if claims is None:
            return None
        if claims.exp <= time.time():
            del self.entries[token]
            return None
        self.entries.move_to_end(token)
        return claims

    def put(self, token: str, claims: AccessClaims) -> None:
        self.entries[token] = claims
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)

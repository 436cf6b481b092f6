"""Who is calling: the Bearer token, verified, or nobody."""

from __future__ import annotations

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
    try:
        settings = request.app.state.settings
        return verify_access_token(
            settings.jwt_secret, token.strip(), settings.jwt_previous_secret
        )
    except TokenError as exc:
        raise unauthenticated(str(exc)) from None

"""The HTTP handlers of ``/auth/*``, ``POST /admin/users`` and ``POST
/admin/service-tokens``: register, login, refresh, logout, me, admin user
creation, and the service tokens an admin issues to integration accounts.

Passwords are hashed and checked here (bcrypt, off the event loop, on the
low-priority threads of glue/hashing.py, so that a login storm cannot starve
other requests);
everything else happens in SQL functions of the ``internal`` schema, called as
``anon`` (register, login, refresh) or as the caller (logout, me, admin).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from glue import passwords, request_path, tokens
from glue.bearer import bearer_claims, unauthenticated
from glue.dispatch import json_body
from glue.errors import BAD_REQUEST, TOO_MANY, ApiError
from glue.hashing import Hashing
from glue.request_log import request_id_of

BAD_LOGIN = "invalid email or password"
SERVICE_TOKEN_DEFAULT_DAYS = 90


async def _off_loop(request: Request, func: Any, *args: Any) -> Any:
    hashing: Hashing = request.app.state.hashing
    return await hashing.run(func, *args)


def _text(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, BAD_REQUEST, f"{field} must be a non-empty string")
    return value


def _optional_text(body: dict[str, Any], field: str) -> str | None:
    return None if body.get(field) is None else _text(body, field)


def _password(body: dict[str, Any]) -> str:
    value = body.get("password")
    try:
        passwords.check_policy(value)
    except passwords.PasswordPolicyError as exc:
        raise ApiError(400, BAD_REQUEST, str(exc)) from None
    return str(value)  # check_policy refused anything but a string


def _client_addr(request: Request) -> str | None:
    return request.client.host if request.client else None


async def _sql(
    request: Request, claims: tokens.AccessClaims | None, query: str, params: list[Any]
) -> Any:
    """One internal function call as the caller (or anon); its single value."""
    caller = request_path.Caller(claims, request.method, request.url.path,
                                 request_id_of(request.scope))
    state = request.app.state
    rows = await request_path.call(state.pool, caller, query, params,
                                   acquire_timeout=request_path.acquire_timeout(state))
    state.database_down = False
    return rows[0][0] if rows else None


def _tokens_body(request: Request, user: dict[str, Any], refresh_token: str) -> dict[str, Any]:
    access, _ = tokens.issue_access_token(
        request.app.state.settings.jwt_secret, str(user["id"]), str(user["role"])
    )
    return {
        "access_token": access,
        "refresh_token": refresh_token,
        "token_type": "bearer",
        "expires_in": tokens.ACCESS_TTL_SECONDS,
        "user": {k: user[k] for k in ("id", "email", "full_name", "role")},
    }


def _as_dict(value: Any) -> dict[str, Any]:
    """A function's JSON answer as a dict (parsed here when it came as text)."""
    result: dict[str, Any] = json.loads(value) if isinstance(value, str) else value
    return result


async def register(request: Request) -> Response:
    body = await json_body(request, required=True)
    email, full_name = _text(body, "email"), _text(body, "full_name")
    password = _password(body)
    hashed = await _off_loop(request, passwords.hash_password, password)
    user = _as_dict(await _sql(
        request, None, "SELECT internal.register_student(%s, %s, %s)", [email, hashed, full_name]
    ))
    refresh, refresh_hash = tokens.new_refresh_token()
    await _sql(
        request, None, "SELECT internal.login_record(%s, %s::inet, %s::uuid, true, %s)",
        [email, _client_addr(request), user["id"], refresh_hash],
    )
    return JSONResponse(_tokens_body(request, user, refresh), status_code=201)


async def login(request: Request) -> Response:
    body = await json_body(request, required=True)
    email = _text(body, "email")
    password = body.get("password")
    if not isinstance(password, str):
        raise ApiError(400, BAD_REQUEST, "password must be a string")
    addr = _client_addr(request)
    found = _as_dict(await _sql(
        request, None, "SELECT internal.login_lookup(%s, %s::inet)", [email, addr]
    ))
    if found["retry_after"]:
        await _sql(
            request, None, "SELECT internal.login_record(%s, %s::inet, NULL, false, NULL)",
            [email, addr],
        )
        retry = str(int(found["retry_after"]))
        raise ApiError(429, TOO_MANY, "too many failed logins; try again later",
                       headers={"Retry-After": retry})
    user = found.get("user")
    # An unknown email is checked against a dummy hash: both answers take as long.
    stored = user["password_hash"] if user else passwords.dummy_hash()
    ok = await _off_loop(request, passwords.verify_password, password, stored)
    ok = ok and user is not None and bool(user.get("is_active"))
    ok = ok and len(password) <= passwords.MAX_LENGTH
    refresh, refresh_hash = tokens.new_refresh_token()
    await _sql(
        request, None, "SELECT internal.login_record(%s, %s::inet, %s::uuid, %s, %s)",
        [email, addr, user["id"] if user else None, ok, refresh_hash if ok else None],
    )
    if not ok or user is None:  # ok implies a user; this says so to the type checker
        raise unauthenticated(BAD_LOGIN)
    return JSONResponse(_tokens_body(request, user, refresh))


async def refresh(request: Request) -> Response:
    """Rotate a refresh token. The new one is derived from the presented one
    (tokens.refresh_successor), so that a concurrent twin of this refresh,
    inside the reuse interval, is answered with the same token (or, if the
    family rotated again meanwhile, its live one: ``steps`` successors on)."""
    body = await json_body(request, required=True)
    presented = _text(body, "refresh_token")
    settings = request.app.state.settings
    successor = tokens.refresh_successor(settings.jwt_secret, presented)
    outcome = _as_dict(await _sql(
        request, None, "SELECT internal.refresh_rotate(%s, %s, %s)",
        [tokens.refresh_token_hash(presented), tokens.refresh_token_hash(successor),
         settings.refresh_reuse_seconds],
    ))
    if outcome.get("status") != "ok":
        raise unauthenticated("the refresh token is not valid")
    steps = int(outcome.get("steps", 1))
    live = successor if steps == 1 else tokens.refresh_successor(settings.jwt_secret, successor,
                                                                 steps - 1)
    return JSONResponse(_tokens_body(request, outcome["user"], live))


async def logout(request: Request) -> Response:
    claims = bearer_claims(request, required=True)
    body = await json_body(request)
    presented = _optional_text(body, "refresh_token")
    refresh_hash = tokens.refresh_token_hash(presented) if presented else None
    await _sql(request, claims, "SELECT internal.logout(%s)", [refresh_hash])
    return Response(status_code=204)


async def me(request: Request) -> Response:
    claims = bearer_claims(request, required=True)
    return JSONResponse(_as_dict(await _sql(request, claims, "SELECT api.me()", [])))


async def admin_create_user(request: Request) -> Response:
    claims = bearer_claims(request, required=True)
    body = await json_body(request, required=True)
    email, full_name = _text(body, "email"), _text(body, "full_name")
    role = _text(body, "role")
    if role not in tokens.ROLES:
        raise ApiError(400, BAD_REQUEST, f"role must be one of {', '.join(sorted(tokens.ROLES))}")
    department = _optional_text(body, "department")
    password = _password(body)
    hashed = await _off_loop(request, passwords.hash_password, password)
    user = _as_dict(await _sql(
        request, claims,
        "SELECT internal.create_user(%s, %s, %s, %s::auth.user_role, %s)",
        [email, hashed, full_name, role, department],
    ))
    return JSONResponse(user, status_code=201)



async def admin_issue_service_token(request: Request) -> Response:
    """POST /admin/service-tokens: the database records the token (its jti,
    lifetime and account); the glue signs it and hands it out once."""
    claims = bearer_claims(request, required=True)
    body = await json_body(request, required=True)
    user_id, label = _text(body, "user_id"), _text(body, "label")
    lifetime = body.get("lifetime_days", SERVICE_TOKEN_DEFAULT_DAYS)
    if isinstance(lifetime, bool) or not isinstance(lifetime, int):
        raise ApiError(400, BAD_REQUEST, "lifetime_days must be a whole number of days")
    record = _as_dict(await _sql(
        request, claims, "SELECT internal.issue_service_token(%s::uuid, %s, %s)",
        [user_id, label, lifetime],
    ))
    access = tokens.sign_access_token(
        request.app.state.settings.jwt_secret, user_id=str(record["user_id"]),
        role="integration", jti=str(record["jti"]), iat=int(record["iat"]),
        exp=int(record["exp"]),
    )
    answer = {k: record[k] for k in ("jti", "user_id", "email", "label", "issued_at",
                                     "expires_at")}
    return JSONResponse({"access_token": access, "token_type": "bearer",
                         "expires_in": int(record["exp"]) - int(record["iat"]), **answer},
                        status_code=201)

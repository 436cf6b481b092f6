"""The request path: token -> role and claims -> one call, in one round trip.

On one pooled connection, as ONE simple-protocol query string of three
statements (the parameters bound client-side by psycopg's ClientCursor, which
quotes every value as a literal):

1. ``set_config`` of ``role`` (the claim's role, or ``anon``), of
   ``request.jwt.claims``, ``request.method`` and ``request.path``, all
   transaction-local, ``transaction_read_only`` for STABLE functions, and
   ``application_name`` naming the request id (glue/request_log.py);
2. for a token, ``internal.assert_session_active()``: the token's ``jti`` is
   not revoked and its user is still active (raises SQLSTATE VT401);
3. the call: an API function with named arguments and, in the same
   statement, the next page's arguments it may have set (glue/pages.py); or,
   for the auth routes (glue/auth_routes.py), an ``internal`` function.

PostgreSQL runs the statements of one query string as one implicit
transaction: it commits after the last one, or rolls back entirely on the
first error, and nothing of the role or the claims outlives it on the
connection. One message out, one answer back; this costs the glue about a
third of the CPU of the same three statements in pipeline mode.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import AsyncClientCursor
from psycopg_pool import AsyncConnectionPool

from glue.bearer import CHALLENGE
from glue.errors import RETRY_AFTER_SECONDS, ApiError, is_outage, status_for_sqlstate
from glue.tokens import AccessClaims

CONTEXT_SQL = (
    "SELECT set_config('role', %s, true), set_config('request.jwt.claims', %s, true), "
    "set_config('request.method', %s, true), set_config('request.path', %s, true), "
    "set_config('transaction_read_only', %s, true), set_config('application_name', %s, true)"
)
SESSION_CHECK_SQL = "SELECT internal.assert_session_active()"


@dataclass(frozen=True)
class Caller:
    """Who is calling: the verified claims, or nobody (``anon``)."""

    claims: AccessClaims | None
    method: str
    path: str
    request_id: str = ""

    @property
    def role(self) -> str:
        return self.claims.role if self.claims else "anon"

    @property
    def claims_json(self) -> str:
        return self.claims.text if self.claims else "{}"

    @property
    def application_name(self) -> str:
        """What pg_stat_activity shows while the request runs (63 bytes at most)."""
        return f"veritas-glue {self.request_id}"[:63] if self.request_id else "veritas-glue"


@functools.lru_cache(maxsize=4096)
def _query_text(statement: str, with_session_check: bool) -> str:
    """The three statements as one query string (the same text for the same
    call shape, so the driver reuses its parse of it)."""
    parts = [CONTEXT_SQL, SESSION_CHECK_SQL] if with_session_check else [CONTEXT_SQL]
    return "; ".join([*parts, statement])


# While the database is known to be down, a request waits this long for a
# connection before answering 503 (the pool keeps reconnecting meanwhile).
DOWN_ACQUIRE_TIMEOUT = 1.0


def acquire_timeout(state: Any) -> float | None:
    return DOWN_ACQUIRE_TIMEOUT if getattr(state, "database_down", False) else None


def database_error(exc: psycopg.Error) -> ApiError:
    """The API's error (docs/api.md#errors) for an error the database raised."""
    diag = exc.diag
    sqlstate = diag.sqlstate or ""
    if not sqlstate and isinstance(exc, psycopg.DataError | psycopg.ProgrammingError):
        # refused by psycopg before it reached the server: a value that cannot
        # be sent (a NUL character in a string, a number out of range)
        return ApiError(400, "VT400", f"a value cannot be used: {exc}")
    status = status_for_sqlstate(sqlstate)
    message = diag.message_primary or "database error"
    if status == 500:
        message = "internal error"
    elif sqlstate in {"42883", "42P01"}:
        message = "not found"
    headers: dict[str, str] = {}
    if status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    detail: object = diag.message_detail
    if status == 429:
        try:
            parsed = json.loads(diag.message_detail or "{}")
            detail = parsed
            headers["Retry-After"] = str(int(parsed.get("retry_after", 60)))
        except (ValueError, AttributeError):
            headers["Retry-After"] = "60"
    return ApiError(status, sqlstate or "VT500", message, detail, diag.message_hint, headers)


async def call(
    pool: AsyncConnectionPool,
    caller: Caller,
    statement: str,
    params: list[Any],
    read_only: bool = False,
    acquire_timeout: float | None = None,
    session_check: bool = True,
) -> list[tuple[Any, ...]]:
    """Run ``statement`` (SQL text with ``%s`` placeholders for ``params``) as
    the caller; its rows. Errors become ``ApiError``.

    ``acquire_timeout`` bounds the wait for a pooled connection (None: the
    pool's own timeout). ``session_check`` False leaves out the session
    check: only for a call on the read replica, whose caller's session was
    just checked on the primary (glue/read_routing.py).
    """
    query = _query_text(statement, caller.claims is not None and session_check)
    values = [caller.role, caller.claims_json, caller.method, caller.path,
              "on" if read_only else "off", caller.application_name, *params]
    async with pool.connection(timeout=acquire_timeout) as conn:
        cursor = AsyncClientCursor(conn)
        try:
            await cursor.execute(query, values)
            while cursor.nextset():
                pass
            return await cursor.fetchall()
        except psycopg.Error as exc:
            # An outage goes up to the app's handler (503 "unreachable", and
            # requests wait less for a connection until one succeeds); any
            # other error is the database's answer, mapped by its SQLSTATE.
            if is_outage(exc, conn.broken):
                raise
            raise refusal_for(caller, database_error(exc)) from None


def refusal_for(caller: Caller, error: ApiError) -> ApiError:
    """PostgREST's rule: a refusal (403) of a caller who sent no token is 401,
    with the Bearer challenge: a token may well be allowed. A caller with a
    token keeps the 403. The code stays the database's (42501)."""
    if caller.claims is not None or error.status != 403:
        return error
    return ApiError(401, error.code, "a Bearer token is required", error.message,
                    "log in (POST /auth/login) and send Authorization: Bearer <access_token>",
                    {**error.headers, **CHALLENGE})

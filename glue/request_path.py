"""The request path: token -> role and claims -> one call, in one round trip.

On one pooled connection, in pipeline mode, up to a single Sync:

1. ``set_config`` of ``role`` (the claim's role, or ``anon``), of
   ``request.jwt.claims``, ``request.method`` and ``request.path``, all
   transaction-local, and ``transaction_read_only`` for GET;
2. for a token, ``internal.assert_session_active()``: the token's ``jti`` is
   not revoked and its user is still active (raises SQLSTATE VT401);
3. the API function, with named arguments bound as parameters.

The statements before a Sync run as one implicit transaction: it commits at
the Sync, or rolls back entirely on the first error, and nothing of the role
or the claims outlives it on the connection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from glue.errors import ApiError, status_for_sqlstate
from glue.tokens import AccessClaims

CONTEXT_SQL = (
    "SELECT set_config('role', %s, true), set_config('request.jwt.claims', %s, true), "
    "set_config('request.method', %s, true), set_config('request.path', %s, true), "
    "set_config('transaction_read_only', %s, true)"
)
SESSION_CHECK_SQL = "SELECT internal.assert_session_active()"


@dataclass(frozen=True)
class Caller:
    """Who is calling: the verified claims, or nobody (``anon``)."""

    claims: AccessClaims | None
    method: str
    path: str

    @property
    def role(self) -> str:
        return self.claims.role if self.claims else "anon"

    @property
    def claims_json(self) -> str:
        return json.dumps(self.claims.raw if self.claims else {})


def database_error(exc: psycopg.Error) -> ApiError:
    """The contract's error for an error the database raised."""
    diag = exc.diag
    sqlstate = diag.sqlstate or ""
    status = status_for_sqlstate(sqlstate)
    message = diag.message_primary or "database error"
    if status == 500:
        message = "internal error"
    elif sqlstate in {"42883", "42P01"}:
        message = "not found"
    headers: dict[str, str] = {}
    detail: object = diag.message_detail
    if status == 429:
        try:
            detail = json.loads(diag.message_detail or "{}")
            headers["Retry-After"] = str(int(detail.get("retry_after", 60)))  # type: ignore[union-attr]
        except (ValueError, AttributeError):
            headers["Retry-After"] = "60"
    return ApiError(status, sqlstate or "VT500", message, detail, diag.message_hint, headers)


async def call(
    pool: AsyncConnectionPool,
    caller: Caller,
    statement: sql.Composable,
    params: dict[str, Any] | list[Any],
    read_only: bool = False,
) -> list[tuple[Any, ...]]:
    """Run ``statement`` as the caller; its rows. Errors become ``ApiError``."""
    async with pool.connection() as conn:
        try:
            async with conn.pipeline() as pipeline:
                context = conn.cursor()
                await context.execute(
                    CONTEXT_SQL,
                    [caller.role, caller.claims_json, caller.method, caller.path,
                     "on" if read_only else "off"],
                )
                if caller.claims is not None:
                    await conn.cursor().execute(SESSION_CHECK_SQL)
                result = conn.cursor()
                await result.execute(statement, params)
                await pipeline.sync()
                return await result.fetchall()
        except psycopg.errors.QueryCanceled as exc:
            raise database_error(exc) from None
        except (psycopg.OperationalError, psycopg.InterfaceError):
            raise
        except psycopg.Error as exc:
            raise database_error(exc) from None

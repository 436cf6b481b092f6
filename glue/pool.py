"""The connection pool: psycopg_pool, tuned to recover quickly after an outage.

The glue connects as ``authenticator`` and switches role per request, so every
connection is interchangeable. ``reconnect_timeout`` is kept short on purpose:
psycopg_pool backs off exponentially while a reconnection keeps failing; a
short timeout ends such a streak, and the next request that finds the pool
empty starts a fresh attempt, so the service serves again within a second or
two of the database coming back instead of after the last long back-off.
"""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from glue.settings import Settings


def make_pool(settings: Settings) -> AsyncConnectionPool:
    return AsyncConnectionPool(
        settings.app_database_url,
        min_size=settings.pool_min,
        max_size=settings.pool_max,
        timeout=settings.pool_timeout,
        max_idle=settings.pool_max_idle,
        max_lifetime=settings.pool_max_lifetime,
        reconnect_timeout=2.0,
        check=AsyncConnectionPool.check_connection,
        kwargs={"autocommit": True, "connect_timeout": 3, "application_name": "veritas-glue"},
        open=False,
        name="veritas",
    )

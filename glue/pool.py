"""The connection pool: psycopg_pool, tuned to recover quickly after an outage.

The glue connects as ``authenticator`` and switches role per request, so every
connection is interchangeable. ``reconnect_timeout`` is kept short on purpose:
psycopg_pool backs off exponentially while a reconnection keeps failing; a
short timeout ends such a streak, and the next request that finds the pool
empty starts a fresh attempt, so the service serves again within a second or
two of the database coming back instead of after the last long back-off.

Connections are checked on checkout when they have been idle for a while
(see ``CHECK_AFTER_IDLE_SECONDS``), not on every request.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from glue.settings import Settings

# A connection used within this many seconds is handed out unchecked: on the
# hot path a ping per request would double the round trips. One idle longer
# (the database may have restarted meanwhile) is pinged first.
CHECK_AFTER_IDLE_SECONDS = 2.0
_last_returned: weakref.WeakKeyDictionary[AsyncConnection[Any], float] = (
    weakref.WeakKeyDictionary()
)


async def _check_if_idle(conn: AsyncConnection[Any]) -> None:
    returned = _last_returned.get(conn)
    if returned is None or time.monotonic() - returned > CHECK_AFTER_IDLE_SECONDS:
        await AsyncConnectionPool.check_connection(conn)


async def _note_return(conn: AsyncConnection[Any]) -> None:
    _last_returned[conn] = time.monotonic()


def make_pool(settings: Settings, url: str | None = None,
              name: str = "veritas") -> AsyncConnectionPool:
    """The glue's pool to ``url`` (default: the primary, ``app_database_url``;
    the read replica's pool is made the same way, glue/read_routing.py)."""
    return AsyncConnectionPool(
        url or settings.app_database_url,
        min_size=settings.pool_min,
        max_size=settings.pool_max,
        timeout=settings.pool_timeout,
        max_idle=settings.pool_max_idle,
        max_lifetime=settings.pool_max_lifetime,
        reconnect_timeout=2.0,
        check=_check_if_idle,
        reset=_note_return,
        # prepare_threshold None: no server-side prepared statement ever, so
        # that a transaction-mode pooler (PgBouncer) in front of PostgreSQL
        # can hand each transaction to any server connection.
        kwargs={"autocommit": True, "connect_timeout": 3, "application_name": "veritas-glue",
                "prepare_threshold": None},
        open=False,
        name=name,
    )

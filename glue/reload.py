"""Re-reading the API catalog when a migrate sends ``NOTIFY veritas_reload``."""

from __future__ import annotations

import asyncio
import contextlib
from time import monotonic
from typing import Any

import psycopg

from glue.catalog import RELOAD_CHANNEL, Catalog

# At most one reload per this many seconds (VERITAS_RELOAD_MIN_INTERVAL).
DEFAULT_MIN_INTERVAL = 5.0


class CatalogReloader:
    """Listens on its own connection; on a notification, loads a fresh catalog.

    Any login to the database may ``NOTIFY veritas_reload`` (PostgreSQL has no
    privilege for it, and a payload proves nothing), so a flood of them must
    not turn into a flood of catalog reads. Reloads are at most one per
    ``min_interval`` seconds: the first notification after a quiet spell
    reloads at once; those that arrive within ``min_interval`` of the last
    reload are coalesced into one reload when it has passed. None is lost:
    every notification is followed by a reload that starts after it arrived,
    so a migrate's change is read at most ``min_interval`` later.

    When the database is away it retries every second and keeps the catalog it
    has (functions only change through a migrate, which notifies); on
    reconnecting it reads the catalog anew, in case a notification was missed.
    """

    def __init__(
        self, state: Any, conninfo: str, min_interval: float = DEFAULT_MIN_INTERVAL
    ) -> None:
        self.state = state
        self.conninfo = conninfo
        self.min_interval = min_interval
        self.task: asyncio.Task[None] | None = None
        self._last_load = float("-inf")

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name="catalog-reloader")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def _run(self) -> None:
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True, connect_timeout=3
                )
                async with conn:
                    await conn.execute(f"LISTEN {RELOAD_CHANNEL}")
                    await self._load(conn)
                    while True:
                        await self._next_notification(conn)
                        await self._coalesce(conn)
                        await self._load(conn)
            except psycopg.Error:
                await asyncio.sleep(1.0)

    async def _load(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self._last_load = monotonic()
        self.state.catalog = await Catalog.load(conn)

    @staticmethod
    async def _next_notification(conn: psycopg.AsyncConnection[Any]) -> None:
        """Wait for one (the generator runs to its end: it holds the connection's lock)."""
        async for _ in conn.notifies(stop_after=1):
            pass

    async def _coalesce(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Swallow the notifications that arrive until the next reload is due.

        Those that arrive during a reload itself are kept by psycopg and
        trigger the next one.
        """
        remaining = self._last_load + self.min_interval - monotonic()
        if remaining > 0:
            async for _ in conn.notifies(timeout=remaining):
                pass

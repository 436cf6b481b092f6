"""Re-reading the API catalog when a migrate sends ``NOTIFY veritas_reload``."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import psycopg

from glue.rpc import RELOAD_CHANNEL, Catalog


class CatalogReloader:
    """Listens on its own connection; on a notification, loads a fresh catalog.

    When the database is away it retries every second and keeps the catalog it
    has (functions only change through a migrate, which notifies); on
    reconnecting it reads the catalog anew, in case a notification was missed.
    """

    def __init__(self, state: Any, conninfo: str) -> None:
        self.state = state
        self.conninfo = conninfo
        self.task: asyncio.Task[None] | None = None

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
                    self.state.catalog = await Catalog.load(conn)
                    async for _ in conn.notifies():
                        self.state.catalog = await Catalog.load(conn)
            except psycopg.Error:
                await asyncio.sleep(1.0)

"""The API catalog reloader (glue/reload.py): any login can NOTIFY
veritas_reload, so a flood of them, here from the analyst login, makes a
bounded number of catalog reloads; a migration's notification in the middle
of the flood still takes effect."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlsplit

import psycopg

from glue import migrate
from glue.catalog import RELOAD_CHANNEL
from glue.reload import CatalogReloader
from tests.databases import ANALYST_PASSWORD, PASSWORDS, app_url, with_db

INTERVAL = 1.0
FLOOD_SECONDS = 3.0


class CountingState:
    """The app state's one attribute the reloader writes, counting the writes."""

    def __init__(self) -> None:
        self._catalog: Any = None
        self.loads = 0

    @property
    def catalog(self) -> Any:
        return self._catalog

    @catalog.setter
    def catalog(self, value: Any) -> None:
        self._catalog = value
        self.loads += 1


async def _wait_for(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


async def _flood(analyst_url: str, seconds: float) -> int:
    sent = 0
    async with await psycopg.AsyncConnection.connect(analyst_url, autocommit=True) as conn:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await conn.execute(f"NOTIFY {RELOAD_CHANNEL}")
            sent += 1
            await asyncio.sleep(0.002)
    return sent


async def _migration(admin_url: str, after: float) -> None:
    """A DBA's change to the api schema, notified in the same transaction, as migrate does."""
    await asyncio.sleep(after)
    async with await psycopg.AsyncConnection.connect(admin_url) as conn:
        await conn.execute(
            "CREATE FUNCTION api.zz_reload_probe() RETURNS integer LANGUAGE sql AS 'SELECT 1'"
        )
        await conn.execute(f"NOTIFY {RELOAD_CHANNEL}")


async def _scenario(admin_url: str) -> tuple[CountingState, int, float]:
    name = urlsplit(admin_url).path.lstrip("/")
    analyst_url = with_db(admin_url, name, "analyst", ANALYST_PASSWORD)
    state = CountingState()
    reloader = CatalogReloader(state, app_url(admin_url), min_interval=INTERVAL)
    reloader.start()
    try:
        assert await _wait_for(lambda: state.loads == 1, 10), "the first catalog load"
        state.loads = 0
        started = time.monotonic()
        sent, _ = await asyncio.gather(
            _flood(analyst_url, FLOOD_SECONDS), _migration(admin_url, FLOOD_SECONDS / 2)
        )
        # the reload owed to the last notifications, at most one interval on
        await _wait_for(lambda: "zz_reload_probe" in state.catalog.functions, INTERVAL + 2)
        elapsed = time.monotonic() - started
        return state, sent, elapsed
    finally:
        await reloader.stop()


def test_a_flood_of_notifies_from_the_analyst_reloads_a_bounded_number_of_times(empty_db):
    migrate.bootstrap_roles(empty_db, PASSWORDS)  # the analyst and authenticator logins
    with psycopg.connect(empty_db) as conn:
        conn.execute("CREATE SCHEMA api")

    state, sent, elapsed = asyncio.run(_scenario(empty_db))

    assert sent > 100, f"the flood sent only {sent} notifications"
    # one at the flood's first notification, then at most one per interval
    assert 1 <= state.loads <= 1 + elapsed / INTERVAL + 1, (
        f"{sent} notifications in {elapsed:.1f} s made {state.loads} reloads"
    )
    assert "zz_reload_probe" in state.catalog.functions, (
        "the migration's notification, sent during the flood, took effect"
    )

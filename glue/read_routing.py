"""Which reads go to the read replica (``VERITAS_READ_DATABASE_URL``), and
the replica's health: the one place that decides (docs/scaling.md#2-a-read-replica).

A call goes to the replica only when all of these hold:

1. a replica is configured (unset: every call runs on the primary, as before);
2. the API function is named in ``STALE_OK`` below: a read whose answer may
   be a few seconds old without misleading its reader;
3. the catalog says the function is STABLE or IMMUTABLE (``read_only``): a
   function that writes (a disclosure row, an overdue attempt closed) never
   goes, even if someone lists it;
4. the caller has not changed anything (a POST or PUT whose function
   writes) through this process in the last
   ``max lag + READ_YOUR_WRITES_MARGIN`` seconds (read your own writes: a
   write older than that is on a replica that lags at most ``max lag``);
5. the replica monitor's last check (every second; a finding older than
   ``STATUS_TTL`` is not trusted) found it reachable, in recovery, and at
   most ``VERITAS_READ_MAX_LAG_SECONDS`` behind.

The session check (``internal.assert_session_active``: a revoked token, a
disabled user) still runs on the primary, before the call on the replica: a
replica's copy of the revocation list may be stale, and a logout takes effect
at once (docs/security.md#read-replicas-and-revoked-tokens).

If the replica fails the call (unreachable, the standby cancelled the query in
a conflict with recovery, or a migration has not reached it yet), the same
call runs on the primary: a replica that is down never turns a read into a
503. ``/health`` and ``/metrics`` (``veritas_replica_up``,
``veritas_replica_lag_seconds``) say how it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from glue import request_path
from glue.catalog import Function
from glue.errors import ApiError
from glue.pool import make_pool
from glue.settings import Settings

# The API functions whose answer may be stale (a few seconds behind the
# primary). Every one is STABLE and read by staff; each line says why.
STALE_OK: frozenset[str] = frozenset({
    # teacher exam analytics: read from the summary tables that the worker
    # refreshes every 5 s, so already a few seconds old by design (its
    # refreshed_at says how old)
    "get_teacher_exam_analytics",
    # the audit trail, security events and disclosure log (admin): history,
    # scanned and filtered; a row written a second ago shows a second later
    "get_audit_log",
    "get_security_events",
    "get_disclosure_log",
    # the staff directories (search by name or email): an account made a
    # moment ago is found a moment later
    "find_students",
    "find_teachers",
})

# How often the monitor checks the replica (reachable, in recovery, lag).
CHECK_EVERY = 1.0
# How long a stale-ok read waits for a replica connection before it runs on
# the primary instead (only while the monitor finds the replica up).
REPLICA_ACQUIRE_TIMEOUT = 1.0
# A finding older than this is not trusted (a check that hangs): the
# replica serves nothing until a check answers again.
STATUS_TTL = 3 * CHECK_EVERY
# Read your writes: a caller who wrote reads the primary for the max lag plus
# this margin (the age of the monitor's finding, and the log in transit).
READ_YOUR_WRITES_MARGIN = STATUS_TTL
# Errors of the replica after which the call is made on the primary: the
# standby cancelled the query in a conflict with recovery; or a migration
# the primary has and the replica has not replayed yet (a function, table
# or column missing there).
RETRY_ON_PRIMARY = frozenset({"40001", "40P01", "42883", "42P01", "42703"})

# Lag: 0 when a WAL receiver is streaming and everything it received is
# replayed (an idle primary is not lag); otherwise the age of the last
# transaction replayed (NULL, unknown, when none was since the replica
# started). NULL too when the server is not a standby (promoted, or the URL
# names a primary): never used for reads. pg_stat_wal_receiver shows the
# authenticator only whether the receiver runs (a row), none of its details.
LAG_SQL = """
SELECT pg_is_in_recovery(),
       CASE
           WHEN NOT pg_is_in_recovery() THEN NULL
           WHEN EXISTS (SELECT FROM pg_stat_wal_receiver)
                AND pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
           ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())
       END::float8
"""


@dataclass(frozen=True)
class ReplicaStatus:
    """The monitor's last finding."""

    up: bool = False
    in_recovery: bool = False
    lag_seconds: float | None = None
    checked_at: float = dataclasses.field(default_factory=time.monotonic)

    def usable(self, max_lag: float) -> bool:
        return (self.up and self.in_recovery and self.lag_seconds is not None
                and self.lag_seconds <= max_lag
                and time.monotonic() - self.checked_at <= STATUS_TTL)

    def health(self, max_lag: float) -> str:
        """What /health says: ``ok``, ``lagging`` (more than the max lag, or
        unknown), ``not a standby`` or ``down``."""
        if not self.up:
            return "down"
        if not self.in_recovery:
            return "not a standby"
        return "ok" if self.usable(max_lag) else "lagging"


class RecentWriters:
    """Subjects (token ``sub``) that wrote through this process lately."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._last: dict[str, float] = {}
        self._pruned_at = time.monotonic()

    def note(self, subject: str) -> None:
        now = time.monotonic()
        self._last[subject] = now
        # those outside the window forgotten once per window: O(1) per write
        # on average, however many students send events
        if now - self._pruned_at > self.window:
            self._last = {s: t for s, t in self._last.items() if now - t <= self.window}
            self._pruned_at = now

    def wrote_recently(self, subject: str) -> bool:
        wrote = self._last.get(subject)
        return wrote is not None and time.monotonic() - wrote <= self.window


class ReadReplica:
    """The replica's pool, its monitor, and the routing rule of this module."""

    def __init__(self, settings: Settings, url: str) -> None:
        self.pool: AsyncConnectionPool = make_pool(settings, url, name="veritas-read")
        self.max_lag = float(settings.read_max_lag_seconds)
        self.status = ReplicaStatus()
        self.writers = RecentWriters(self.max_lag + READ_YOUR_WRITES_MARGIN)
        self._task: asyncio.Task[None] | None = None

    # -- life -----------------------------------------------------------------

    async def start(self) -> None:
        await self.pool.open(wait=False)
        await self.check()
        self._task = asyncio.create_task(self._watch(), name="replica-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.pool.close()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(CHECK_EVERY)
            await self.check()

    async def check(self) -> None:
        """Read whether the replica is up, a standby, and its lag."""
        try:
            async with self.pool.connection(timeout=REPLICA_ACQUIRE_TIMEOUT) as conn:
                cursor = await conn.execute(LAG_SQL)
                row = await cursor.fetchone()
        except (PoolTimeout, psycopg.Error):
            self.status = ReplicaStatus()
            return
        if row is None:
            self.status = ReplicaStatus()
            return
        in_recovery, lag = bool(row[0]), row[1]
        self.status = ReplicaStatus(True, in_recovery, None if lag is None else float(lag))

    def mark_down(self) -> None:
        """A call on the replica failed as an outage: no more until a check finds it up."""
        self.status = ReplicaStatus()

    # -- the rule -------------------------------------------------------------

    def serves(self, function: Function, caller: request_path.Caller) -> bool:
        """True when this call goes to the replica (the rule above)."""
        if function.name not in STALE_OK or not function.read_only:
            return False
        if caller.claims is not None and self.writers.wrote_recently(caller.claims.sub):
            return False
        return self.status.usable(self.max_lag)


async def call(
    state: Any, function: Function, caller: request_path.Caller, statement: str,
    params: list[Any],
) -> list[tuple[Any, ...]]:
    """Call ``function`` as ``caller``: on the replica when the rule says so
    (and on the primary if the replica fails it), else on the primary."""
    replica: ReadReplica | None = getattr(state, "read_replica", None)
    acquire = request_path.acquire_timeout(state)
    if replica is not None and replica.serves(function, caller):
        if caller.claims is not None:
            # the session check on the primary: revocations take effect at once
            await request_path.call(state.pool, caller, "SELECT 1", [], read_only=True,
                                    acquire_timeout=acquire)
        try:
            return await request_path.call(
                replica.pool, caller, statement, params, read_only=True,
                acquire_timeout=REPLICA_ACQUIRE_TIMEOUT, session_check=False)
        except (PoolTimeout, psycopg.OperationalError, psycopg.InterfaceError):
            replica.mark_down()
        except ApiError as exc:
            if exc.code not in RETRY_ON_PRIMARY:
                raise
    rows = await request_path.call(state.pool, caller, statement, params,
                                   read_only=function.read_only, acquire_timeout=acquire)
    # A change the caller asked for (not a GET: the reads that write only log
    # a disclosure, which no stale-ok read shows the reader, and noting them
    # would keep every teacher who opened the dashboard off the replica).
    if (replica is not None and caller.claims is not None and not function.read_only
            and caller.method != "GET"):
        replica.writers.note(caller.claims.sub)
    return rows

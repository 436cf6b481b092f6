"""GET /metrics: Prometheus' text format, written by prometheus_client.

Per ``veritas serve`` (Prometheus sums the pods):

- ``veritas_http_requests_total{method, route, status}`` and
  ``veritas_http_request_duration_seconds{method, route}`` (a histogram), by
  route template, never by raw path, so ids do not explode the series;
- ``veritas_pool{stat}``: the connection pool's figures;
- ``veritas_glue_processes``: 1 per process serving.

With ``--workers N`` a scrape reaches one of the N processes, so the counts
and the histogram are kept in prometheus_client's multiprocess mode (files
in ``PROMETHEUS_MULTIPROC_DIR``, a directory of the run that
glue/supervisor.py makes empty and removes) and summed over every process,
those gone included; ``veritas_pool`` and ``veritas_glue_processes`` are
then one series per live process, labelled ``pid`` (the pool's figures
written every second, and at the scrape by the process that answers).

Read from the database at each scrape (``internal.operational_metrics()``,
as the ``worker`` role; cached for a couple of seconds, since the route
needs no token):

- ``veritas_database_up``: 1 when the figures could be read, else 0;
- ``veritas_analysis_jobs{status}``: live analysis jobs;
- ``veritas_analysis_oldest_queued_seconds``: how far analysis lags;
- ``veritas_analytics_staleness_seconds``: age of the analytics views (+Inf
  before their first refresh);
- ``veritas_monitoring_events_inserted_total``: events stored (since the
  database's statistics were last reset);
- ``veritas_audit_unsealed_rows{chain}``: audit rows awaiting their seal.

With a read replica (``VERITAS_READ_DATABASE_URL``, glue/read_routing.py), the
last check of this process's replica monitor (every second):

- ``veritas_replica_up``: 1 when the replica answered as a standby, else 0
  (the primary then serves every read);
- ``veritas_replica_lag_seconds``: how far its replay is behind (0 when it
  has replayed all it received; absent while it is down).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import psycopg
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from glue.read_routing import ReadReplica

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# The database figures are read at most once per this many seconds.
DATABASE_FIGURES_TTL = 2.0
# Two statements in one transaction: EXECUTE is checked before a statement
# runs, so the role must be switched by the one before.
AS_WORKER_SQL = (
    "SELECT set_config('role', 'worker', true), set_config('statement_timeout', '2s', true)"
)
FIGURES_SQL = "SELECT internal.operational_metrics()::text"
# In multiprocess mode, each process writes its pool's figures this often.
POOL_FIGURES_EVERY = 1.0
POOL_HELP = "Connection pool figures (psycopg_pool)."
PROCESSES_HELP = "1 per glue process serving (per process, labelled pid, with --workers N)."


def forget_process(pid: int, directory: str) -> None:
    """A process of a ``--workers N`` serve is gone: its live series go with it
    (its counts stay in the sums)."""
    mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]  # untyped upstream


def multiprocess_dir() -> str | None:
    """The directory of a ``--workers N`` serve's shared figures, or None: one process."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class DatabaseFigures(Collector):
    """The latest figures read from the database, as metric families."""

    def __init__(self) -> None:
        self.figures: dict[str, Any] | None = None
        self.read_at = float("-inf")

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("veritas_database_up",
                               "1 when the last scrape read the database's figures, else 0.")
        up.add_metric([], 0 if self.figures is None else 1)
        yield up
        figures = self.figures
        if figures is None:
            return
        jobs = GaugeMetricFamily("veritas_analysis_jobs", "Live analysis jobs by status.",
                                 labels=["status"])
        for status, count in sorted((figures.get("jobs") or {}).items()):
            jobs.add_metric([status], float(count))
        yield jobs
        yield GaugeMetricFamily(
            "veritas_analysis_oldest_queued_seconds",
            "Age of the oldest analysis job due to run (0 when none): the analysis lag.",
            value=float(figures.get("oldest_queued_seconds") or 0))
        staleness = figures.get("analytics_staleness_seconds")
        yield GaugeMetricFamily(
            "veritas_analytics_staleness_seconds",
            "Seconds since the oldest analytics view was known complete (+Inf: never).",
            value=float("inf") if staleness is None else float(staleness))
        yield CounterMetricFamily(
            "veritas_monitoring_events_inserted",
            "Monitoring events inserted (since the database's statistics were reset).",
            value=float(figures.get("events_inserted") or 0))
        unsealed = GaugeMetricFamily("veritas_audit_unsealed_rows",
                                     "Audit rows not yet sealed into their hash chain.",
                                     labels=["chain"])
        for chain, count in sorted((figures.get("unsealed") or {}).items()):
            unsealed.add_metric([chain], float(count))
        yield unsealed

    async def refresh(self, pool: AsyncConnectionPool) -> None:
        if time.monotonic() - self.read_at < DATABASE_FIGURES_TTL:
            return
        self.read_at = time.monotonic()
        try:
            async with pool.connection(timeout=1.0) as conn, conn.transaction():
                await conn.execute(AS_WORKER_SQL)
                cursor = await conn.execute(FIGURES_SQL)
                row = await cursor.fetchone()
            self.figures = json.loads(row[0]) if row else None
        except (PoolTimeout, psycopg.Error):
            self.figures = None


class ReplicaFigures(Collector):
    """The read replica's state as this process's monitor last found it;
    nothing when no replica is configured."""

    def __init__(self) -> None:
        self.replica: ReadReplica | None = None

    def collect(self) -> Iterator[Metric]:
        replica = self.replica
        if replica is None:
            return
        status = replica.status
        yield GaugeMetricFamily(
            "veritas_replica_up",
            "1 when the read replica answered as a standby at the last check, else 0.",
            value=1 if status.up and status.in_recovery else 0)
        if status.up and status.lag_seconds is not None:
            yield GaugeMetricFamily(
                "veritas_replica_lag_seconds",
                "How far the read replica's replay is behind the primary (0: all received "
                "is replayed).", value=status.lag_seconds)


class PoolFigures(Collector):
    """psycopg_pool's get_stats(), read at each scrape (one process serving)."""

    def __init__(self) -> None:
        self.pool: AsyncConnectionPool | None = None

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("veritas_pool", POOL_HELP, labels=["stat"])
        if self.pool is not None:
            for name, value in sorted(self.pool.get_stats().items()):
                family.add_metric([name], float(value))
        yield family


class Registry:
    """The metrics of this process, or of every process of a ``--workers N`` serve."""

    def __init__(self) -> None:
        self.directory = multiprocess_dir()
        self.registry = CollectorRegistry()
        # In multiprocess mode the metrics write to files; the collector reads them all.
        own = None if self.directory else self.registry
        self.requests = Counter("veritas_http_requests", "HTTP requests by route and status.",
                                ["method", "route", "status"], registry=own)
        self.latency = Histogram("veritas_http_request_duration_seconds",
                                 "HTTP request latency by route.", ["method", "route"],
                                 buckets=BUCKETS, registry=own)
        self.processes = Gauge("veritas_glue_processes", PROCESSES_HELP,
                               multiprocess_mode="liveall", registry=own)
        self.pool = PoolFigures()
        self.pool_figures = Gauge("veritas_pool", POOL_HELP, ["stat"],
                                  multiprocess_mode="liveall", registry=None)
        self.database = DatabaseFigures()
        self.replica = ReplicaFigures()
        if self.directory:
            MultiProcessCollector(self.registry, path=self.directory)  # type: ignore[no-untyped-call]
        else:
            self.registry.register(self.pool)
        # read by whichever process answers: never summed over the processes
        self.registry.register(self.database)
        self.registry.register(self.replica)
        self._writer: asyncio.Task[None] | None = None

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def start(self, pool: AsyncConnectionPool, replica: ReadReplica | None = None) -> None:
        """This process serves (the app's lifespan): counted, its pool's figures
        kept, and its read replica's state shown."""
        self.pool.pool = pool
        self.replica.replica = replica
        self.processes.set(1)
        if self.directory:
            self._writer = asyncio.create_task(self._write_pool_figures(), name="pool-figures")

    def record_pool(self) -> None:
        """This process's pool figures, where the other processes' scrapes read them."""
        if self.directory and self.pool.pool is not None:
            for name, value in self.pool.pool.get_stats().items():
                self.pool_figures.labels(name).set(value)

    async def _write_pool_figures(self) -> None:
        while True:
            self.record_pool()
            await asyncio.sleep(POOL_FIGURES_EVERY)

    async def stop(self) -> None:
        """This process stops serving: its live series go (its counts stay in the sums)."""
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        if self.directory:
            forget_process(os.getpid(), self.directory)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, registry: Registry) -> None:
        self.app = app
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            self.registry.observe(scope["method"], template, status,
                                  time.perf_counter() - started)


async def metrics(request: Request) -> Response:
    registry: Registry = request.app.state.metrics
    registry.pool.pool = request.app.state.pool
    registry.record_pool()
    await registry.database.refresh(request.app.state.pool)
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)

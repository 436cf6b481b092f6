"""``veritas worker``: the database's scheduled work, run as the ``worker`` role.

Each task is one SQL call to a SECURITY DEFINER function that the ``worker``
role may execute; the worker itself decides nothing. It wakes on
``NOTIFY veritas_jobs`` (queued analysis jobs) or on the next due task, and
survives the database going away (it reconnects every second). Several
workers may run at once: every task is safe to run concurrently.

Each task is one transaction, with the worker's own bounds set in it
(``WORKER_LIMITS``: longer than the ``authenticator`` login's, which are
sized for a request). Asked to stop (glue/shutdown.py), it finishes the task
in hand and closes its connection; a task still running after the grace
period is cancelled, and its transaction rolls back: the analysis jobs it
had claimed are queued again, as they were.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import psycopg

from glue.errors import is_outage
from glue.settings import listen_database_url
from glue.shutdown import Shutdown

JOBS_CHANNEL = "veritas_jobs"
MAX_DRAIN_ROUNDS = 50
APPLICATION_NAME = "veritas-worker"
# While waiting for the next task, look at the stop flag this often (seconds).
STOP_POLL_SECONDS = 0.25

# Set in each task's transaction (transaction-local, so a transaction-mode
# pooler's server session keeps nothing of them). The authenticator login's
# own bounds (sql/schema/00_roles.sql) are a request's; the worker's tasks
# may run longer: a refresh of the analytics, a batch of analyses, a new
# event partition waiting for its lock.
WORKER_LIMITS = {"statement_timeout": "15min", "lock_timeout": "30s"}
TASK_CONTEXT_SQL = "SELECT set_config('role', 'worker', true)" + "".join(
    f", set_config('{name}', %s, true)" for name in WORKER_LIMITS
)


@dataclass
class Task:
    name: str
    statement: str
    every_seconds: float
    wakes_on_notify: bool = False
    params: tuple[str, ...] = ()
    # Run again at once while a call returns at least this many (a full batch).
    drain_at: int | None = None
    last_run: float = float("-inf")

    def due(self, now: float) -> bool:
        return now - self.last_run >= self.every_seconds


def schedule(worker_name: str) -> list[Task]:
    """The scheduled work. Each statement is one call to a function that the
    ``worker`` role may execute; the analysis queue also runs as soon as a
    ``NOTIFY veritas_jobs`` arrives."""
    return [
        Task("expire overdue attempts", "SELECT internal.expire_overdue_attempts()", 5),
        Task("analysis jobs", "SELECT internal.process_analysis_jobs(%s, 20)", 5,
             wakes_on_notify=True, params=(worker_name,), drain_at=20),
        Task("refresh analytics", "SELECT internal.refresh_analytics()", 5),
        Task("seal the audit log", "SELECT internal.seal_audit_log()", 5),
        Task("create event partitions",
             "SELECT count(*) FROM internal.create_event_partitions()", 600),
        Task("purge expired auth records", "SELECT internal.purge_auth_records()", 600),
        Task("purge finished analysis jobs", "SELECT internal.purge_finished_jobs()", 600),
    ]


def run_due(conn: psycopg.Connection[Any], tasks: list[Task], now: float,
            stop: threading.Event | None = None) -> list[str]:
    """Run every due task, each in its own transaction; what failed, by name.

    An outage (the connection lost) is raised; any other error of a task is
    reported and the next task runs. Once ``stop`` is set, no task starts.
    """
    failed = []
    for task in tasks:
        if stop is not None and stop.is_set():
            break
        if not task.due(now):
            continue
        task.last_run = now
        try:
            for _ in range(MAX_DRAIN_ROUNDS):
                with conn.transaction():
                    # transaction-local: nothing of it outlives the task on
                    # the connection (or on a pooler's server connection)
                    conn.execute(TASK_CONTEXT_SQL, list(WORKER_LIMITS.values()))
                    row = conn.execute(task.statement, task.params).fetchone()
                done = row[0] if row else None
                if task.drain_at is None or not isinstance(done, int) or done < task.drain_at:
                    break
                if stop is not None and stop.is_set():
                    break
        except psycopg.Error as exc:
            if is_outage(exc, conn.broken):
                raise
            failed.append(f"{task.name}: {exc.diag.message_primary or exc}")
    return failed


# The server's answers to a login that retrying will not fix: a wrong
# password, an unknown role or database (a database never migrated).
LOGIN_REFUSED_SQLSTATES = {"28P01", "28000", "3D000"}
LOGIN_REFUSED_WORDS = ("password authentication failed", "does not exist")


class CannotStart(Exception):
    """Not an outage, so not retried: the database refused the worker's login
    before it ever ran, or it is not migrated."""


def _login_refused(exc: psycopg.OperationalError) -> bool:
    text = str(exc)
    return exc.sqlstate in LOGIN_REFUSED_SQLSTATES or any(w in text for w in LOGIN_REFUSED_WORDS)


def _assert_migrated(conn: psycopg.Connection) -> None:
    # from the catalog: the worker's login has no USAGE on internal itself
    row = conn.execute(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_proc AS p JOIN pg_catalog.pg_namespace AS n"
        " ON n.oid = p.pronamespace"
        " WHERE n.nspname = 'internal' AND p.proname = 'expire_overdue_attempts')"
    ).fetchone()
    if not (row and row[0]):
        raise CannotStart(
            f"The {_where(conn)} is not migrated (it has no internal.expire_overdue_attempts): "
            "run `veritas db migrate` (or `veritas up`, which also runs a worker)."
        )


def _where(conn: psycopg.Connection) -> str:
    info = conn.info
    return f"database {info.dbname} on {info.host}:{info.port} as {info.user}"


class Worker:
    """The worker's loop, which a ``Shutdown`` (or its ``stop`` event) ends."""

    def __init__(self, app_url: str, stop: threading.Event | None = None,
                 tasks: list[Task] | None = None) -> None:
        self.app_url = app_url
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.stop = stop or threading.Event()
        self.tasks = tasks if tasks is not None else schedule(self.name)
        self._conn: psycopg.Connection[Any] | None = None
        self.announced = False

    def cancel(self) -> None:
        """Cancel the statement running now, if any (from any thread)."""
        conn = self._conn
        if conn is not None and not conn.closed:
            with contextlib.suppress(psycopg.Error):
                conn.cancel_safe(timeout=5)

    def stop_with(self, shutdown: Shutdown, grace: float) -> None:
        """Stop when ``shutdown`` is asked: the task in hand may finish
        within ``grace`` seconds, then it is cancelled (at once if forced)."""

        def on_stop(forced: bool) -> None:
            self.stop.set()
            if forced:
                self.cancel()
            else:
                timer = threading.Timer(grace, self.cancel)
                timer.daemon = True
                timer.start()

        shutdown.on_stop(on_stop)

    def run(self, once: bool = False) -> None:
        tasks = self.tasks
        while not self.stop.is_set():
            try:
                self._serve(tasks, once)
                return
            except psycopg.OperationalError as exc:
                reason = str(exc).strip().splitlines()[:1] or ["database unreachable"]
                if not self.announced and _login_refused(exc):
                    raise CannotStart(
                        f"The database refused the worker's login ({reason[0].strip()}): "
                        "is it migrated? Run `veritas db migrate` (or `veritas up`, which also "
                        "runs a worker), or check VERITAS_APP_DATABASE_URL."
                    ) from None
                if once:
                    raise
                if self.stop.is_set():
                    return
                print(f"veritas worker: {reason[0]}; retrying in 1 s", file=sys.stderr)
                self.stop.wait(1.0)

    def _serve(self, tasks: list[Task], once: bool) -> None:
        # One session of its own, which LISTENs: VERITAS_LISTEN_DATABASE_URL
        # (PostgreSQL itself) when app_url is a transaction-mode pooler.
        with psycopg.connect(listen_database_url(self.app_url), autocommit=True,
                             connect_timeout=5, prepare_threshold=None,
                             application_name=APPLICATION_NAME) as conn:
            self._conn = conn
            try:
                conn.execute(f"LISTEN {JOBS_CHANNEL}")
                if not self.announced:
                    _assert_migrated(conn)
                    self.announced = True
                    print(f"veritas worker {self.name}: serving {_where(conn)}: "
                          f"{', '.join(t.name for t in tasks)}", file=sys.stderr, flush=True)
                while not self.stop.is_set():
                    for problem in run_due(conn, tasks, time.monotonic(), self.stop):
                        print(f"veritas worker: {problem}", file=sys.stderr)
                    if once:
                        return
                    now = time.monotonic()
                    wait = min(t.every_seconds - (now - t.last_run) for t in tasks)
                    timeout = min(max(0.05, wait), STOP_POLL_SECONDS)
                    for _ in conn.notifies(timeout=timeout, stop_after=1):
                        for task in tasks:
                            if task.wakes_on_notify:
                                task.last_run = float("-inf")
            finally:
                self._conn = None


def run(app_url: str, once: bool = False) -> None:
    """One worker until the process ends (or one round, with ``once``). Prints
    one line when it first connects; an outage is retried every second, but a
    login refused before the first connection, or a database not migrated,
    raises CannotStart."""
    Worker(app_url).run(once=once)

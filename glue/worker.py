"""``veritas worker``: the database's scheduled work, run as the ``worker`` role.

Each task is one SQL call to a SECURITY DEFINER function that the ``worker``
role may execute; the worker itself decides nothing. It wakes on
``NOTIFY veritas_jobs`` (queued analysis jobs) or on the next due task, and
survives the database going away (it reconnects every second). Several
workers may run at once: every task is safe to run concurrently.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from dataclasses import dataclass

import psycopg

from glue.settings import listen_database_url

JOBS_CHANNEL = "veritas_jobs"
MAX_DRAIN_ROUNDS = 50
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
    ]


def run_due(conn: psycopg.Connection, tasks: list[Task], now: float) -> list[str]:
    """Run every due task, each in its own transaction; what failed, by name."""
    failed = []
    for task in tasks:
        if not task.due(now):
            continue
        task.last_run = now
        try:
            for _ in range(MAX_DRAIN_ROUNDS):
                with conn.transaction():
                    # transaction-local: nothing of it outlives the task on
                    # the connection (or on a pooler's server connection)
                    conn.execute("SELECT set_config('role', 'worker', true)")
                    row = conn.execute(task.statement, task.params).fetchone()
                done = row[0] if row else None
                if task.drain_at is None or not isinstance(done, int) or done < task.drain_at:
                    break
        except psycopg.OperationalError:
            raise
        except psycopg.Error as exc:
            failed.append(f"{task.name}: {exc.diag.message_primary or exc}")
    return failed


def run(app_url: str, once: bool = False) -> None:
    """Run the schedule until stopped. Prints one line when it first connects;
    an outage is retried every second, but a login refused before the first
    connection, or a database not migrated, raises CannotStart."""
    name = f"{socket.gethostname()}:{os.getpid()}"
    tasks = schedule(name)
    announced = False
    while True:
        try:
            # One session of its own, which LISTENs: VERITAS_LISTEN_DATABASE_URL
            # (PostgreSQL itself) when app_url is a transaction-mode pooler.
            with psycopg.connect(listen_database_url(app_url), autocommit=True,
                                 connect_timeout=5, prepare_threshold=None) as conn:
                conn.execute(f"LISTEN {JOBS_CHANNEL}")
                if not announced:
                    _assert_migrated(conn)
                    announced = True
                    print(f"veritas worker {name}: serving {_where(conn)}: "
                          f"{', '.join(t.name for t in tasks)}", file=sys.stderr, flush=True)
                while True:
                    for problem in run_due(conn, tasks, time.monotonic()):
                        print(f"veritas worker: {problem}", file=sys.stderr)
                    if once:
                        return
                    now = time.monotonic()
                    wait = min(t.every_seconds - (now - t.last_run) for t in tasks)
                    for _ in conn.notifies(timeout=max(0.05, wait), stop_after=1):
                        for task in tasks:
                            if task.wakes_on_notify:
                                task.last_run = float("-inf")
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[:1] or ["database unreachable"]
            if not announced and _login_refused(exc):
                raise CannotStart(
                    f"The database refused the worker's login ({reason[0].strip()}): "
                    "is it migrated? Run `veritas db migrate` (or `veritas up`, which also "
                    "runs a worker), or check VERITAS_APP_DATABASE_URL."
                ) from None
            if once:
                raise
            print(f"veritas worker: {reason[0]}; retrying in 1 s", file=sys.stderr)
            time.sleep(1.0)

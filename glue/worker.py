"""``veritas worker``: the database's scheduled work, run as the ``worker`` role.

Each task is one SQL call to a SECURITY DEFINER function that the ``worker``
role may execute; the worker itself decides nothing. It wakes on
``NOTIFY veritas_jobs`` (queued analysis jobs) or on the next due task, and
survives the database going away (it reconnects every second). Several
workers may run at once: every task is safe to run concurrently.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import psycopg

JOBS_CHANNEL = "veritas_jobs"


@dataclass
class Task:
    name: str
    statement: str
    every_seconds: float
    last_run: float = 0.0

    def due(self, now: float) -> bool:
        return now - self.last_run >= self.every_seconds


def schedule() -> list[Task]:
    """The scheduled work, most frequent first."""
    return [
        Task("expire overdue attempts", "SELECT internal.expire_overdue_attempts()", 5),
        Task("create event partitions", "SELECT count(*) FROM internal.create_event_partitions()",
             600),
    ]


def run_due(conn: psycopg.Connection, tasks: list[Task], now: float) -> list[str]:
    """Run every due task, each in its own transaction; what failed, by name."""
    failed = []
    for task in tasks:
        if not task.due(now):
            continue
        task.last_run = now
        try:
            with conn.transaction():
                conn.execute(task.statement)  # type: ignore[arg-type]
        except psycopg.OperationalError:
            raise
        except psycopg.Error as exc:
            failed.append(f"{task.name}: {exc.diag.message_primary or exc}")
    return failed


def run(app_url: str, once: bool = False) -> None:
    tasks = schedule()
    while True:
        try:
            with psycopg.connect(app_url, autocommit=True, connect_timeout=5) as conn:
                conn.execute("SET ROLE worker")
                conn.execute(f"LISTEN {JOBS_CHANNEL}")
                while True:
                    for problem in run_due(conn, tasks, time.monotonic()):
                        print(f"veritas worker: {problem}", file=sys.stderr)
                    if once:
                        return
                    wait = min(t.every_seconds - (time.monotonic() - t.last_run) for t in tasks)
                    for _ in conn.notifies(timeout=max(0.1, wait), stop_after=1):
                        pass
        except psycopg.OperationalError as exc:
            if once:
                raise
            reason = str(exc).strip().splitlines()[:1] or ["database unreachable"]
            print(f"veritas worker: {reason[0]}; retrying in 1 s", file=sys.stderr)
            time.sleep(1.0)

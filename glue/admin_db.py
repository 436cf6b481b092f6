"""The DBA's connection: opening it, naming its errors in one sentence, and
asking the server its version.

Used by the commands that run as the DBA login (migrate, snapshot,
archive-events); each raises its own subclass of ``AdminDbError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg


class AdminDbError(Exception):
    """A command on the DBA's connection failed; the message names the step and the cause."""


def describe(exc: psycopg.Error) -> str:
    """The database's error as one line: SQLSTATE, message, and where it arose."""
    diag = exc.diag
    where = f" ({diag.context.splitlines()[0]})" if diag.context else ""
    return f"{diag.sqlstate or ''} {diag.message_primary or exc}{where}".strip()


@contextmanager
def connect(admin_url: str, autocommit: bool = False) -> Iterator[psycopg.Connection[Any]]:
    """A connection as the DBA, committed on leaving (unless ``autocommit``)."""
    try:
        conn = psycopg.connect(admin_url, autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "no answer"
        raise AdminDbError(f"Cannot connect to the database: {reason}") from None
    with conn:
        yield conn


def server_major(admin_url: str) -> int:
    """The server's major version (15 for 15.8)."""
    with connect(admin_url, autocommit=True) as conn:
        row = conn.execute("SHOW server_version_num").fetchone()
    return int(row[0]) // 10000 if row else 0

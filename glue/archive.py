"""``veritas db archive-events``: old monitoring-event partitions into ``archive``."""

from __future__ import annotations

import psycopg

from glue.admin_db import AdminDbError, connect, describe


class ArchiveError(AdminDbError):
    """Archiving failed; the message says why."""


def archive_event_partitions(admin_url: str, older_than: str) -> list[str]:
    """Detach event partitions older than ``older_than`` (a PostgreSQL interval)
    into the archive schema; their names."""
    with connect(admin_url) as conn:
        try:
            rows = conn.execute(
                "SELECT internal.archive_event_partitions(%s::interval)", [older_than]
            ).fetchall()
        except psycopg.Error as exc:
            raise ArchiveError(f"Archiving failed: {describe(exc)}") from None
    return [str(r[0]) for r in rows]

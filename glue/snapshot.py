"""The schema snapshot: a normalised ``pg_dump --schema-only`` of our schemas,
and where the committed one is kept (``veritas db snapshot`` rewrites it; a
test fails when it is stale)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from glue import resources
from glue.admin_db import AdminDbError
from glue.migrate import OUR_SCHEMAS


class SnapshotError(AdminDbError):
    """pg_dump failed; the message carries its own."""


_DUMP_NOISE = re.compile(r"^(--|SET |SELECT pg_catalog\.set_config|\\restrict|\\unrestrict)")
# pg_dump lists a policy's roles in pg_authid's physical order, which changes
# whenever a role's row is rewritten: sort them.
_POLICY_ROLES = re.compile(r"^(CREATE POLICY .*? TO )([\w, ]+?)( USING| WITH CHECK|;)")


def _sorted_roles(match: re.Match[str]) -> str:
    roles = sorted(r.strip() for r in match.group(2).split(","))
    return f"{match.group(1)}{', '.join(roles)}{match.group(3)}"


def schema_dump(admin_url: str, pg_dump: Path | str = "pg_dump") -> str:
    """A normalised ``pg_dump --schema-only`` of our schemas.

    Monthly event partitions are left out: they depend on today's date.
    """
    cmd = [
        str(pg_dump), "--schema-only", "--no-tablespaces",
        *[f"--schema={s}" for s in OUR_SCHEMAS],
        "--exclude-table=app.monitoring_events_p*",
        "--dbname", admin_url,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SnapshotError(f"pg_dump failed: {done.stderr.strip()}")
    lines = [
        _POLICY_ROLES.sub(_sorted_roles, line)
        for line in done.stdout.splitlines()
        if not _DUMP_NOISE.match(line)
    ]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def snapshot_path(major: int) -> Path:
    """The committed snapshot for a server of this major version."""
    return resources.sql_dir() / "snapshot" / f"schema.pg{major}.sql"

"""``veritas db backup FILE`` and ``veritas db restore FILE``: pg_dump's
custom format, restored with parallel jobs into a database left working.

A backup is ``pg_dump --format=custom`` of the whole database (our schemas
and yoyo's bookkeeping), taken as the DBA login, which must bypass
row-level security (a superuser, or a login WITH BYPASSRLS): every table
forces it, and pg_dump refuses to dump a table whose rows it would not all
see. It is written beside FILE and renamed into place when complete.

The roles are cluster-wide, so no dump holds them, and ``pg_restore --clean``
into a migrated database fails in many places (the old objects' dependencies,
then the materialized views' REFRESH, which pg_restore runs as their owner
with row_security off: FORCE row-level security refuses it, and the views
stay unpopulated). So a restore goes in steps:

1. the roles (``sql/schema/00_roles.sql``), with the passwords migrate sets
   (on Citus, with the owner's worker logins: ``migrate.prepare_roles``);
2. an empty database: every schema of ours dropped, yoyo's too;
3. ``pg_restore --jobs N --exit-on-error`` of every entry of the dump but the
   materialized views' data (a backup of a release before migration 0011,
   whose analytics were materialized views) and extensions;
4. ``veritas db migrate``: the migrations newer than the backup, and the
   functions, views, policies and grants of this release re-applied;
5. ``internal.refresh_analytics(true)``: the analytics summary tables
   recomputed from the restored tables, every exam.

A restore that fails part-way leaves the database partly restored: fix the
cause and run it again (it starts by emptying the database).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from psycopg import sql

from glue import migrate
from glue.admin_db import AdminDbError, connect
from glue.dbtarget import DbTarget

# The dump's entries pg_restore must not run: the materialized views' REFRESH
# of a backup taken before migration 0011 (which drops those views; step 5
# computes the analytics instead, with row-level security on), and extensions
# with their comments (pg_stat_statements on the private server): not ours,
# already there or not installable on the target, and owned by a superuser.
SKIPPED_ENTRIES = ("MATERIALIZED VIEW DATA", "EXTENSION")

# Rows counted after a restore, to say what came back.
COUNTED_TABLES = ("auth.users", "app.exam_attempts", "app.monitoring_events",
                  "app.behavior_analyses", "audit.log")


class BackupError(AdminDbError):
    """A backup or a restore failed; the message names the step and the cause."""


@dataclass
class RestoreReport:
    migrations_applied: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)


def _last_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no detail"


def backup(target: DbTarget, path: Path, pg_dump: Path) -> int:
    """Dump the target database into ``path`` (custom format); its size in bytes."""
    partial = path.with_name(path.name + ".partial")
    done = subprocess.run(
        [str(pg_dump), "--format=custom", "--file", str(partial), "--dbname", target.admin_url],
        capture_output=True, text=True,
    )
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        if "row-level security" in done.stderr:
            raise BackupError(
                "pg_dump was refused by row-level security: back up as a superuser or as a "
                "login WITH BYPASSRLS (the DBA login used here is neither)."
            )
        raise BackupError(f"pg_dump failed: {_last_line(done.stderr)}")
    partial.replace(path)
    return path.stat().st_size


def entries(pg_restore: Path, path: Path) -> list[str]:
    """The dump's table of contents (``pg_restore --list``), one entry a line."""
    if not path.is_file():
        raise BackupError(f"There is no file {path} to restore.")
    done = subprocess.run([str(pg_restore), "--list", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(
            f"{path} is not a backup pg_restore can read (veritas db backup writes one): "
            f"{_last_line(done.stderr)}"
        )
    return done.stdout.splitlines()


def holds_veritas(admin_url: str) -> bool:
    """True when the database has a schema of ours with a table in it."""
    with connect(admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_tables WHERE schemaname = ANY(%s))",
            [list(migrate.OUR_SCHEMAS)],
        ).fetchone()
    return bool(row and row[0])


def restore(target: DbTarget, path: Path, pg_restore: Path, jobs: int) -> RestoreReport:
    """Replace the target database's contents with the backup in ``path``."""
    listing = entries(pg_restore, path)
    kept = [line for line in listing if not any(f" {kind} " in line for kind in SKIPPED_ENTRIES)]
    # on Citus the owner drops the distributed events: it must reach the workers
    migrate.prepare_roles(target.admin_url, target.passwords)
    migrate.drop_schemas(target.admin_url, keep_meta=False)
    with tempfile.TemporaryDirectory(prefix="veritas-restore-") as folder:
        use_list = Path(folder) / "entries.list"
        use_list.write_text("\n".join(kept) + "\n")
        done = subprocess.run(
            [str(pg_restore), "--exit-on-error", f"--jobs={jobs}", f"--use-list={use_list}",
             "--dbname", target.admin_url, str(path)],
            capture_output=True, text=True,
        )
    if done.returncode != 0:
        raise BackupError(
            f"pg_restore failed, and the database is left partly restored (run the restore "
            f"again once the cause is fixed): {_last_line(done.stderr)}"
        )
    report = RestoreReport(
        migrations_applied=migrate.migrate(target.admin_url, target.passwords).applied
    )
    with connect(target.admin_url) as conn:
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(migrate.OWNER)))
        conn.execute("SELECT internal.refresh_analytics(TRUE)")
        conn.execute("RESET ROLE")
        sees_all = conn.execute(
            "SELECT rolsuper OR rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = current_user"
        ).fetchone()
        # a login under row-level security would count nothing: say nothing
        for table in COUNTED_TABLES if sees_all and sees_all[0] else ():
            schema, name = table.split(".")
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name))
            ).fetchone()
            report.rows[table] = int(row[0]) if row else 0
    return report


def default_jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))

"""Migrating a database: roles, versioned migrations, then the repeatable SQL.

1. ``sql/schema/00_roles.sql`` as the DBA login (idempotent: roles are
   cluster-wide and cannot live inside a migration that rolls back).
2. yoyo-migrations applies ``migrations/`` as ``veritas_owner``, so that role
   owns every object; yoyo keeps its bookkeeping in ``veritas_meta``.
3. ``sql/functions``, ``sql/views`` and ``sql/policies`` are re-applied in full,
   in one transaction, every time (not as a yoyo post-apply step, which runs
   only when a new migration was applied).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from glue import resources
from glue.rpc import RELOAD_CHANNEL

OWNER = "veritas_owner"
META_SCHEMA = "veritas_meta"
OUR_SCHEMAS = ("api", "app", "auth", "audit", "internal", "analytics", "archive")
REPEATABLE_KINDS = ("functions", "views", "policies")



class MigrationError(Exception):
    """A migration step failed; the message names the step and the cause."""


@dataclass
class MigrateReport:
    applied: list[str] = field(default_factory=list)
    repeatable_files: int = 0
    # WARNINGs raised while creating the roles (for example a bound on the
    # analyst login that this DBA login may not set), each with its hint.
    warnings: list[str] = field(default_factory=list)


def _describe(exc: psycopg.Error) -> str:
    diag = exc.diag
    where = f" ({diag.context.splitlines()[0]})" if diag.context else ""
    return f"{diag.sqlstate or ''} {diag.message_primary or exc}{where}".strip()


@contextmanager
def _connect(admin_url: str, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    try:
        conn = psycopg.connect(admin_url, autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "no answer"
        raise MigrationError(f"Cannot connect to the database: {reason}") from None
    with conn:
        yield conn


def bootstrap_roles(admin_url: str, passwords: dict[str, str] | None = None) -> list[str]:
    """Create the roles idempotently and set the login roles' passwords if given.

    Returns the WARNINGs the roles file raised, each with its hint.
    """
    text = (resources.sql_dir() / "schema" / "00_roles.sql").read_text()
    warnings: list[str] = []

    def collect(diag: psycopg.errors.Diagnostic) -> None:
        if diag.severity_nonlocalized == "WARNING":
            hint = f" {diag.message_hint}" if diag.message_hint else ""
            warnings.append(f"{diag.message_primary}.{hint}")

    with _connect(admin_url, autocommit=True) as conn:
        conn.add_notice_handler(collect)
        try:
            conn.execute(text)  # type: ignore[arg-type]
            for role, password in (passwords or {}).items():
                conn.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                        sql.Identifier(role), sql.Literal(password)
                    )
                )
        except psycopg.Error as exc:
            raise MigrationError(f"Creating the roles failed: {_describe(exc)}") from None
    return warnings


def yoyo_url(admin_url: str) -> str:
    """The DBA's URL in yoyo's form: psycopg 3, as ``veritas_owner``, in ``veritas_meta``."""
    parts = urlsplit(admin_url)
    query = dict(parse_qsl(parts.query))
    query["schema"] = META_SCHEMA
    query["options"] = (query.get("options", "") + f" -c role={OWNER}").strip()
    return urlunsplit(("postgresql+psycopg", parts.netloc, parts.path, urlencode(query), ""))


def _yoyo() -> tuple[object, object]:
    from yoyo import get_backend, read_migrations

    return get_backend, read_migrations


def apply_migrations(admin_url: str) -> list[str]:
    """Apply the versioned migrations not yet applied; their ids, in order."""
    get_backend, read_migrations = _yoyo()
    try:
        backend = get_backend(yoyo_url(admin_url))  # type: ignore[operator]
        migrations = read_migrations(str(resources.migrations_dir()))  # type: ignore[operator]
        with backend.lock():
            todo = backend.to_apply(migrations)
            backend.apply_migrations(todo)
        return [m.id for m in todo]
    except psycopg.Error as exc:
        raise MigrationError(f"A migration failed: {_describe(exc)}") from None


def rollback_last(admin_url: str) -> str | None:
    """Roll back the newest applied migration; its id, or None if none was applied."""
    get_backend, read_migrations = _yoyo()
    try:
        backend = get_backend(yoyo_url(admin_url))  # type: ignore[operator]
        migrations = read_migrations(str(resources.migrations_dir()))  # type: ignore[operator]
        with backend.lock():
            applied = backend.to_rollback(migrations)
            if not applied:
                return None
            last = applied[:1]
            backend.rollback_migrations(last)
        return last[0].id
    except psycopg.Error as exc:
        raise MigrationError(f"The rollback failed: {_describe(exc)}") from None


def repeatable_files() -> list[Path]:
    return resources.repeatable_files()


def apply_repeatable(admin_url: str) -> int:
    """Re-apply functions, views and policies in one transaction; the file count."""
    files = repeatable_files()
    with _connect(admin_url) as conn:
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER)))
        # Function bodies refer to each other across files: check them when
        # called, not in file order (pg_dump restores the same way).
        conn.execute("SET LOCAL check_function_bodies = off")
        for path in files:
            try:
                conn.execute(path.read_text())  # type: ignore[arg-type]
            except psycopg.Error as exc:
                raise MigrationError(f"{path.parent.name}/{path.name}: {_describe(exc)}") from None
        conn.execute("SELECT internal.create_event_partitions()")
        # running glue processes re-read the api catalog (see glue/rpc.py)
        conn.execute(sql.SQL("NOTIFY {}").format(sql.Identifier(RELOAD_CHANNEL)))
    return len(files)


def migrate(admin_url: str, passwords: dict[str, str] | None = None) -> MigrateReport:
    """Bring a database to current: roles, new migrations, all repeatable SQL."""
    warnings = bootstrap_roles(admin_url, passwords)
    report = MigrateReport(applied=apply_migrations(admin_url), warnings=warnings)
    report.repeatable_files = apply_repeatable(admin_url)
    return report


def reset(admin_url: str) -> None:
    """Drop every schema of ours and yoyo's bookkeeping (roles stay)."""
    with _connect(admin_url) as conn:
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER)))
        for schema in (*OUR_SCHEMAS, META_SCHEMA):
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(META_SCHEMA)))


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
        raise MigrationError(f"pg_dump failed: {done.stderr.strip()}")
    lines = [
        _POLICY_ROLES.sub(_sorted_roles, line)
        for line in done.stdout.splitlines()
        if not _DUMP_NOISE.match(line)
    ]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def archive_event_partitions(admin_url: str, older_than: str) -> list[str]:
    """Detach event partitions older than ``older_than`` into the archive schema."""
    with _connect(admin_url) as conn:
        try:
            rows = conn.execute(
                "SELECT internal.archive_event_partitions(%s::interval)", [older_than]
            ).fetchall()
        except psycopg.Error as exc:
            raise MigrationError(f"Archiving failed: {_describe(exc)}") from None
    return [r[0] for r in rows]


def server_major(admin_url: str) -> int:
    with _connect(admin_url, autocommit=True) as conn:
        row = conn.execute("SHOW server_version_num").fetchone()
    return int(row[0]) // 10000 if row else 0


def snapshot_path(major: int) -> Path:
    return resources.sql_dir() / "snapshot" / f"schema.pg{major}.sql"

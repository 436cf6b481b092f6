"""Migrating a database: roles, versioned migrations, then the repeatable SQL.

1. ``sql/schema/00_roles.sql`` as the DBA login (idempotent: roles are
   cluster-wide and cannot live inside a migration that rolls back).
2. yoyo-migrations applies ``migrations/`` as ``veritas_owner``, so that role
   owns every object; yoyo keeps its bookkeeping in ``veritas_meta``.
3. ``sql/functions``, ``sql/views`` and ``sql/policies`` are re-applied in full,
   in one transaction, every time (not as a yoyo post-apply step, which runs
   only when a new migration was applied).

``reset`` drops every schema of ours (``veritas db reset``) before a migrate
afresh; ``drop_schemas`` also empties a database for a restore
(glue/backup.py). The schema snapshot is glue/snapshot.py; archiving,
glue/archive.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from glue import resources
from glue.admin_db import AdminDbError, connect, describe
from glue.catalog import RELOAD_CHANNEL

OWNER = "veritas_owner"
META_SCHEMA = "veritas_meta"
OUR_SCHEMAS = ("api", "app", "auth", "audit", "internal", "analytics", "archive")
REPEATABLE_KINDS = ("functions", "views", "policies")


class MigrationError(AdminDbError):
    """A migration step failed; the message names the step and the cause."""


@dataclass
class MigrateReport:
    applied: list[str] = field(default_factory=list)
    repeatable_files: int = 0
    # WARNINGs raised while creating the roles (for example a bound on the
    # analyst login that this DBA login may not set), each with its hint.
    warnings: list[str] = field(default_factory=list)


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

    with connect(admin_url, autocommit=True) as conn:
        conn.add_notice_handler(collect)
        try:
            conn.execute(text)
            for role, password in (passwords or {}).items():
                conn.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                        sql.Identifier(role), sql.Literal(password)
                    )
                )
        except psycopg.Error as exc:
            raise MigrationError(f"Creating the roles failed: {describe(exc)}") from None
    return warnings


def yoyo_url(admin_url: str) -> str:
    """The DBA's URL in yoyo's form: psycopg 3, as ``veritas_owner``, in ``veritas_meta``."""
    parts = urlsplit(admin_url)
    query = dict(parse_qsl(parts.query))
    query["schema"] = META_SCHEMA
    query["options"] = (query.get("options", "") + f" -c role={OWNER}").strip()
    return urlunsplit(("postgresql+psycopg", parts.netloc, parts.path, urlencode(query), ""))


def _yoyo(admin_url: str) -> tuple[Any, Any]:
    """yoyo's backend for this database and the migrations of ``migrations/``.

    yoyo has no type information: both are ``Any``. It is imported here, not
    at the top, so that the commands that do not migrate never load it.
    """
    from yoyo import get_backend, read_migrations

    return get_backend(yoyo_url(admin_url)), read_migrations(str(resources.migrations_dir()))


def apply_migrations(admin_url: str) -> list[str]:
    """Apply the versioned migrations not yet applied; their ids, in order."""
    try:
        backend, migrations = _yoyo(admin_url)
        with backend.lock():
            todo = backend.to_apply(migrations)
            backend.apply_migrations(todo)
        return [str(m.id) for m in todo]
    except psycopg.Error as exc:
        raise MigrationError(f"A migration failed: {describe(exc)}") from None


def rollback_last(admin_url: str) -> str | None:
    """Roll back the newest applied migration; its id, or None if none was applied."""
    try:
        backend, migrations = _yoyo(admin_url)
        with backend.lock():
            applied = backend.to_rollback(migrations)
            if not applied:
                return None
            last = applied[:1]
            backend.rollback_migrations(last)
        return str(last[0].id)
    except psycopg.Error as exc:
        raise MigrationError(f"The rollback failed: {describe(exc)}") from None


def repeatable_files() -> list[Path]:
    return resources.repeatable_files()


def apply_repeatable(admin_url: str) -> int:
    """Re-apply functions, views and policies in one transaction; the file count."""
    files = repeatable_files()
    with connect(admin_url) as conn:
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER)))
        # Function bodies refer to each other across files: check them when
        # called, not in file order (pg_dump restores the same way).
        conn.execute("SET LOCAL check_function_bodies = off")
        for path in files:
            try:
                conn.execute(path.read_text())
            except psycopg.Error as exc:
                raise MigrationError(f"{path.parent.name}/{path.name}: {describe(exc)}") from None
        conn.execute("SELECT internal.create_event_partitions()")
        # running glue processes re-read the api catalog (glue/reload.py)
        conn.execute(sql.SQL("NOTIFY {}").format(sql.Identifier(RELOAD_CHANNEL)))
    return len(files)


# Citus connects to a worker as the role running the query. Only the owner
# queries a distributed table (the migrations, and the SECURITY DEFINER
# functions that alone touch the events: sql/policies/monitoring.sql), so it
# alone may log in on the workers, never on the coordinator
# (docs/security.md#citus-worker-logins).
WORKER_LOGIN_ROLES = ("veritas_owner",)


def has_citus(admin_url: str) -> bool:
    """Whether the database has the citus extension (Citus mode)."""
    with connect(admin_url, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'citus'").fetchone()
    return found is not None


# The roles of sql/schema/00_roles.sql.
ROLES = ("veritas_owner", "authenticator", "anon", "student", "teacher", "admin",
         "integration", "worker", "analyst")

# Citus records, per database, which roles the workers have (pg_dist_object).
# The roles are cluster-wide: in a second database on the same cluster they
# already exist, unrecorded, and the first object the owner makes there
# would have Citus create the owner on the workers as the owner itself,
# which it may not (only a superuser may say NOSUPERUSER). A type made and
# owned here by the DBA (a superuser), then given to the role, makes Citus
# record the role as the DBA; the type is dropped at once.
_RECORD_ROLES_WITH_CITUS = sql.SQL("""
DO $$
DECLARE
    v_role name;
BEGIN
    FOR v_role IN
        SELECT r.rolname FROM pg_catalog.pg_roles AS r
        WHERE r.rolname = ANY({roles}::name[])
          AND NOT EXISTS (
              SELECT 1 FROM pg_catalog.pg_dist_object AS o
              WHERE o.classid = 'pg_catalog.pg_authid'::regclass AND o.objid = r.oid
          )
    LOOP
        EXECUTE format('CREATE TYPE public.%I AS (unused integer)', 'veritas_role_' || v_role);
        EXECUTE format('ALTER TYPE public.%I OWNER TO %I', 'veritas_role_' || v_role, v_role);
        EXECUTE format('DROP TYPE public.%I', 'veritas_role_' || v_role);
    END LOOP;
END;
$$
""")


def record_roles_with_citus(admin_url: str) -> None:
    """Citus mode: have Citus record the roles in this database (see above)."""
    with connect(admin_url) as conn:
        try:
            conn.execute(_RECORD_ROLES_WITH_CITUS.format(roles=sql.Literal(list(ROLES))))
        except psycopg.Error as exc:
            raise MigrationError(
                f"Recording the roles with Citus failed: {describe(exc)}"
            ) from None


def allow_worker_logins(admin_url: str) -> None:
    """On every worker (and there only), let the roles of WORKER_LOGIN_ROLES log in.

    Run after the roles file at every migrate: it says NOLOGIN, and Citus
    propagates that to the workers. The ALTER ROLE runs on each worker with
    propagation off, so the coordinator keeps NOLOGIN.
    """
    command = "SET citus.enable_ddl_propagation TO off; " + "; ".join(
        f"ALTER ROLE {role} LOGIN" for role in WORKER_LOGIN_ROLES
    )
    with connect(admin_url, autocommit=True) as conn:
        try:
            rows = conn.execute(
                "SELECT nodename, nodeport, success, result FROM run_command_on_workers(%s)",
                [command],
            ).fetchall()
        except psycopg.Error as exc:
            raise MigrationError(
                f"Letting the roles log in on the workers failed: {describe(exc)}"
            ) from None
    failed = [f"{host}:{port}: {result}" for host, port, success, result in rows if not success]
    if failed:
        raise MigrationError(f"Letting the roles log in on the workers failed: {failed[0]}")


def distribute(admin_url: str) -> None:
    """Citus mode: distribute the tables (sql/functions/deploy/citus.sql)."""
    with connect(admin_url) as conn:
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER)))
        try:
            conn.execute("SELECT internal.citus_distribute()")
        except psycopg.Error as exc:
            raise MigrationError(
                f"Distributing the tables (Citus) failed: {describe(exc)}"
            ) from None


def prepare_roles(admin_url: str, passwords: dict[str, str] | None = None,
                  citus: bool | None = None) -> list[str]:
    """The roles (``bootstrap_roles``), and in Citus mode (``citus``; None:
    as the database says) recorded with Citus and the owner's worker logins
    given back: after this, the owner may touch a distributed table. The
    WARNINGs of the roles file."""
    warnings = bootstrap_roles(admin_url, passwords)
    if has_citus(admin_url) if citus is None else citus:
        record_roles_with_citus(admin_url)
        allow_worker_logins(admin_url)
    return warnings


def migrate(admin_url: str, passwords: dict[str, str] | None = None,
            require_citus: bool = False) -> MigrateReport:
    """Bring a database to current: roles, new migrations, all repeatable SQL,
    and in Citus mode (the database has the citus extension) the distribution
    of the tables."""
    citus = has_citus(admin_url)
    if require_citus and not citus:
        raise MigrationError(
            "--citus: the database has no citus extension (CREATE EXTENSION citus on the "
            "coordinator and every worker, then register the workers: docs/scaling.md#4-citus)."
        )
    warnings = prepare_roles(admin_url, passwords, citus)
    report = MigrateReport(applied=apply_migrations(admin_url), warnings=warnings)
    report.repeatable_files = apply_repeatable(admin_url)
    if citus:
        distribute(admin_url)
    return report


def drop_schemas(admin_url: str, keep_meta: bool = True) -> None:
    """Drop every schema of ours and yoyo's bookkeeping (roles stay); with
    ``keep_meta``, an empty bookkeeping schema is made again for a migrate."""
    with connect(admin_url) as conn:
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER)))
        for schema in (*OUR_SCHEMAS, META_SCHEMA):
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        if keep_meta:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(META_SCHEMA)))


def reset(admin_url: str) -> None:
    """Drop every schema of ours and yoyo's bookkeeping (roles stay), for a migrate afresh."""
    drop_schemas(admin_url)

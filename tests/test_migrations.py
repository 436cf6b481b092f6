"""Migrations: an empty database migrates, re-migrates as a no-op, rolls back
and migrates again; ``sql/schema/`` and ``migrations/`` give the same tables;
the committed schema snapshot is current."""

from __future__ import annotations

import psycopg
import pytest

from glue import migrate, resources
from tests.conftest import PASSWORDS


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT schemaname || '.' || tablename FROM pg_tables "
            "WHERE schemaname = ANY(%s)",
            [list(migrate.OUR_SCHEMAS)],
        ).fetchall()
    return {r[0] for r in rows}


def test_migrate_again_and_rollback(empty_db, cluster):
    pg_dump = cluster.tool("pg_dump")
    first = migrate.migrate(empty_db, PASSWORDS)
    assert first.applied, "an empty database gets every migration"
    assert "auth.users" in _tables(empty_db)
    dump = migrate.schema_dump(empty_db, pg_dump)

    again = migrate.migrate(empty_db, PASSWORDS)
    assert again.applied == []
    assert migrate.schema_dump(empty_db, pg_dump) == dump

    rolled = migrate.rollback_last(empty_db)
    assert rolled == first.applied[-1]
    assert migrate.migrate(empty_db, PASSWORDS).applied == [rolled]
    assert migrate.schema_dump(empty_db, pg_dump) == dump


def test_objects_are_owned_by_the_owner_role(migrated_db):
    with psycopg.connect(migrated_db) as conn:
        strays = conn.execute(
            """
            SELECT c.oid::regclass::text FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY(%s) AND pg_get_userbyid(c.relowner) <> 'veritas_owner'
            UNION ALL
            SELECT p.oid::regprocedure::text FROM pg_proc p
            JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = ANY(%s) AND pg_get_userbyid(p.proowner) <> 'veritas_owner'
            """,
            [list(migrate.OUR_SCHEMAS), list(migrate.OUR_SCHEMAS)],
        ).fetchall()
    assert strays == []


def test_declarative_schema_matches_migrations(cluster):
    """sql/schema/ (the current state) and migrations/ (the steps) cannot drift."""
    pg_dump = cluster.tool("pg_dump")
    by_steps = cluster.create_database("steps")
    by_state = cluster.create_database("state")
    try:
        migrate.bootstrap_roles(by_steps, PASSWORDS)
        migrate.apply_migrations(by_steps)
        migrate.bootstrap_roles(by_state, PASSWORDS)
        with psycopg.connect(by_state) as conn:
            conn.execute("SET LOCAL ROLE veritas_owner")
            for path in resources.sql_files("schema"):
                if path.name.startswith("00_"):
                    continue  # roles: cluster-wide, applied by bootstrap_roles
                conn.execute(path.read_text())
        assert migrate.schema_dump(by_state, pg_dump) == migrate.schema_dump(by_steps, pg_dump)
    finally:
        cluster.drop_database(by_steps)
        cluster.drop_database(by_state)


def test_schema_snapshot_is_current(migrated_db, cluster):
    major = migrate.server_major(migrated_db)
    path = migrate.snapshot_path(major)
    if not path.exists():
        pytest.skip(f"no snapshot is kept for PostgreSQL {major} (CI runs 15)")
    current = migrate.schema_dump(migrated_db, cluster.tool("pg_dump"))
    assert current == path.read_text(), (
        f"{path.name} is stale: run `veritas db snapshot` and commit the result"
    )

"""Migrations: an empty database migrates, re-migrates as a no-op, rolls back
and migrates again; ``sql/schema/`` and ``migrations/`` give the same tables
and the same reference rows; the committed schema snapshot is current."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import psycopg
import pytest

from glue import admin_db, migrate, resources, snapshot
from tests.databases import PASSWORDS, with_db


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
    dump = snapshot.schema_dump(empty_db, pg_dump)

    again = migrate.migrate(empty_db, PASSWORDS)
    assert again.applied == []
    assert snapshot.schema_dump(empty_db, pg_dump) == dump

    rolled = migrate.rollback_last(empty_db)
    assert rolled == first.applied[-1]
    assert migrate.migrate(empty_db, PASSWORDS).applied == [rolled]
    assert snapshot.schema_dump(empty_db, pg_dump) == dump


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
        migrate.prepare_roles(by_steps, PASSWORDS)
        migrate.apply_migrations(by_steps)
        migrate.prepare_roles(by_state, PASSWORDS)
        with psycopg.connect(by_state) as conn:
            conn.execute("SET LOCAL ROLE veritas_owner")
            for path in resources.sql_files("schema"):
                if path.name.startswith("00_"):
                    continue  # roles: cluster-wide, applied by prepare_roles
                conn.execute(path.read_text())
        assert snapshot.schema_dump(by_state, pg_dump) == snapshot.schema_dump(by_steps, pg_dump)
    finally:
        cluster.drop_database(by_steps)
        cluster.drop_database(by_state)


@pytest.mark.not_on_citus(reason="the snapshot is PostgreSQL's schema; on Citus the migration's "
                          "distribution step changes the events table (docs/scaling.md#4-citus)")
def test_schema_snapshot_is_current(migrated_db, cluster):
    major = admin_db.server_major(migrated_db)
    path = snapshot.snapshot_path(major)
    if not path.exists():
        pytest.skip(f"no snapshot is kept for PostgreSQL {major} (CI runs 15)")
    current = snapshot.schema_dump(migrated_db, cluster.tool("pg_dump"))
    assert current == path.read_text(), (
        f"{path.name} is stale: run `veritas db snapshot` and commit the result"
    )


@pytest.mark.not_on_citus(reason="its DBA login is made on the coordinator alone; on Citus the "
                          "DBA is the cluster's superuser, on every node")
def test_roles_by_a_dba_that_may_not_set_temp_file_limit_warn(cluster):
    """A CREATEROLE DBA that is no superuser (Neon's, a managed cluster's) may
    not set the analyst's temp_file_limit: the roles are still made, and the
    migrate says what a superuser must run."""
    dba = f"dba_{uuid.uuid4().hex[:8]}"
    url = cluster.create_database("dba")
    name = urlsplit(url).path.lstrip("/")
    roles = (
        "veritas_owner, authenticator, anon, student, teacher, admin, integration, worker, analyst"
    )
    migrate.bootstrap_roles(url, PASSWORDS)  # the roles exist, as a superuser made them
    with psycopg.connect(with_db(url, "postgres"), autocommit=True) as su:
        su.execute(f"CREATE ROLE {dba} LOGIN CREATEROLE PASSWORD 'dba-test-password'")
        su.execute(f'ALTER DATABASE "{name}" OWNER TO {dba}')
        # on 16+ a CREATEROLE login alters only the roles it administers
        su.execute(f"GRANT {roles} TO {dba} WITH ADMIN OPTION")
        su.execute("ALTER ROLE analyst RESET temp_file_limit")
        try:
            warnings = migrate.bootstrap_roles(with_db(url, name, dba, "dba-test-password"))
            limit = su.execute(
                "SELECT c FROM pg_db_role_setting AS s, unnest(s.setconfig) AS c "
                "WHERE s.setdatabase = 0 AND s.setrole = 'analyst'::regrole "
                "AND c LIKE 'temp_file_limit=%'"
            ).fetchone()
        finally:
            su.execute("ALTER ROLE analyst SET temp_file_limit = '1GB'")
            cluster.drop_database(url)
            su.execute(f"REVOKE {roles} FROM {dba}")
            su.execute(f"DROP ROLE {dba}")
    assert limit is None
    assert len(warnings) == 1, warnings
    assert "temp_file_limit" in warnings[0] and "As a superuser" in warnings[0], warnings[0]


# Defaults that differ from one database to the next (random, clock,
# sequence): such a column is left out of the row comparison.
_UNREPEATABLE_DEFAULT = r"gen_random_uuid|random|now\(|clock_timestamp|nextval"


def _rows(url: str) -> dict[str, list[str]]:
    """Every row of every table of ours (a partitioned table with its
    partitions), as sorted JSON texts without the columns whose default is
    unrepeatable: on a database fresh from the schema or the migrations, the
    reference rows they insert (event types, the role x permission matrix,
    the analyst settings)."""
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            """
            SELECT
                c.oid::regclass::text,
                coalesce(array_agg(a.attname::text) FILTER (WHERE a.attname IS NOT NULL), '{}')
            FROM pg_class AS c
            JOIN pg_namespace AS n ON n.oid = c.relnamespace
            LEFT JOIN pg_attrdef AS d ON d.adrelid = c.oid
                AND pg_get_expr(d.adbin, d.adrelid) ~ %s
            LEFT JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum = d.adnum
            WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            GROUP BY c.oid
            ORDER BY 1
            """,
            [_UNREPEATABLE_DEFAULT, list(migrate.OUR_SCHEMAS)],
        ).fetchall()
        return {
            table: sorted(
                r[0]
                for r in conn.execute(
                    # the table name is a regclass text: already quoted as needed
                    psycopg.sql.SQL("SELECT (to_jsonb(t) - %s::text[])::text FROM {} AS t").format(
                        psycopg.sql.SQL(table)
                    ),
                    [skipped],
                ).fetchall()
            )
            for table, skipped in tables
        }


def test_declarative_reference_rows_match_migrations(cluster):
    """The rows sql/schema/ inserts (event types, the role x permission
    matrix, the analyst settings) are the rows the migrations insert: the
    schema dumps above compare the DDL only."""
    by_steps = cluster.create_database("steps")
    by_state = cluster.create_database("state")
    try:
        migrate.prepare_roles(by_steps, PASSWORDS)
        migrate.apply_migrations(by_steps)
        migrate.prepare_roles(by_state, PASSWORDS)
        with psycopg.connect(by_state) as conn:
            conn.execute("SET LOCAL ROLE veritas_owner")
            for path in resources.sql_files("schema"):
                if path.name.startswith("00_"):
                    continue  # roles: cluster-wide, applied by prepare_roles
                conn.execute(path.read_text())
        state_rows = _rows(by_state)
        assert state_rows["app.event_types"], "the comparison sees the reference rows"
        assert state_rows == _rows(by_steps)
    finally:
        cluster.drop_database(by_steps)
        cluster.drop_database(by_state)

"""Runs every pgTAP file of tests/sql/ with pg_prove, one pytest item each.

The files run against the session's migrated database, as the superuser,
after the test helpers of tests/sql/setup/ are installed; each file wraps
itself in BEGIN ... ROLLBACK, so they leave nothing behind.

The catalog rules (05_catalog_rules.sql) run once more against a database
whose repeatable SQL was applied without the owner's default privileges, so
that a grant rule cannot pass only because of them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
import pytest

from glue import migrate
from tests.databases import CITUS

SQL_TESTS = Path(__file__).parent / "sql"
FILES = sorted(SQL_TESTS.glob("*.sql"))
CATALOG_RULES = SQL_TESTS / "05_catalog_rules.sql"


@pytest.fixture(scope="session")
def pgtap_db(migrated_db: str) -> str:
    with psycopg.connect(migrated_db, autocommit=True) as conn:
        available = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'pgtap'"
        ).fetchone()
        if not available:
            pytest.skip("pgTAP is not installed on this server (Debian: postgresql-15-pgtap)")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pgtap")
        for setup in sorted((SQL_TESTS / "setup").glob("*.sql")):
            conn.execute(setup.read_text())
    return migrated_db


# The Citus run: the files make probe functions and tables within one
# transaction, some as the superuser and some as the owner (two connections
# per worker, which Citus cannot keep consistent when both change objects
# there: a distributed deadlock, or "cannot run function command because
# there was a parallel operation"). One connection per worker, and objects
# created in the transaction propagated only when a shard needs them, keep
# each file one consistent transaction, as it is on PostgreSQL.
CITUS_OPTIONS = (
    "-c citus.multi_shard_modify_mode=sequential -c citus.create_object_propagation=deferred"
)


def _libpq_env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    return {
        **os.environ,
        **({"PGOPTIONS": CITUS_OPTIONS} if CITUS else {}),
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": unquote(parts.username or ""),
        "PGPASSWORD": unquote(parts.password or ""),
        "PGDATABASE": parts.path.lstrip("/"),
    }


def _prove(path: Path, url: str) -> None:
    pg_prove = shutil.which("pg_prove")
    assert pg_prove, "pg_prove is missing (Debian: libtap-parser-sourcehandler-pgtap-perl)"
    done = subprocess.run(
        [pg_prove, "--verbose", "--failures", str(path)],
        capture_output=True, text=True, env=_libpq_env(url), timeout=300,
    )
    output = done.stdout + done.stderr
    planned = re.search(r"^1\.\.(\d+)", output, re.MULTILINE)
    assert planned and int(planned.group(1)) > 0, f"no pgTAP plan in {path.name}:\n{output}"
    assert done.returncode == 0, output


# Files whose subject is different on Citus by design (docs/scaling.md#4-citus,
# "What behaves differently"), or that cannot run there as written.
CITUS_DIFFERS = {
    "01_structure.sql": "the events keep no foreign key to their attempt on Citus "
    "(a distributed table cannot reference a coordinator table)",
    "06_plpgsql_check.sql": "the events' statement-level audit triggers, which this file "
    "checks with their transition tables, do not exist on Citus",
    "70_audit.sql": "the events carry no statement-level audit triggers on Citus",
    "71_audit_trail.sql": "an UPDATE or DELETE of events is not audited per statement on "
    "Citus (no triggers on a distributed table); nobody but the owner may do either",
    "03_privileges.sql": "its probe functions are created and dropped in one transaction as "
    "the superuser and as the owner, which Citus propagates over two connections per "
    "worker (a distributed deadlock); the privileges it checks are the coordinator's, "
    "the same as on PostgreSQL",
}


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_pgtap_file(path: Path, pgtap_db: str) -> None:
    if CITUS and path.name in CITUS_DIFFERS:
        pytest.skip(f"on Citus: {CITUS_DIFFERS[path.name]}")
    _prove(path, pgtap_db)


@pytest.mark.not_on_citus(reason="a second database migrated by parts (roles, migrations, "
                          "repeatable) without the Citus step; 05_catalog_rules.sql itself runs "
                          "in the Citus run")
def test_catalog_rules_hold_without_the_owners_default_privileges(cluster, pgtap_db: str) -> None:
    """With PostgreSQL's built-in default (EXECUTE for PUBLIC on every new
    function) in place of the owner's, only each file's own REVOKE keeps
    PUBLIC out: the grant rules then check the files, not the default."""
    url = cluster.create_database("nodefaults")
    try:
        migrate.prepare_roles(url)  # the session made them; passwords stay as they are
        migrate.apply_migrations(url)
        with psycopg.connect(url) as conn:
            conn.execute(
                "ALTER DEFAULT PRIVILEGES FOR ROLE veritas_owner "
                "GRANT EXECUTE ON FUNCTIONS TO PUBLIC"
            )
            left = conn.execute("SELECT count(*) FROM pg_catalog.pg_default_acl").fetchone()
            assert left == (0,), "the owner's default privileges are still there"
            conn.execute("CREATE EXTENSION IF NOT EXISTS pgtap")
        migrate.apply_repeatable(url)
        _prove(CATALOG_RULES, url)
    finally:
        cluster.drop_database(url)

"""Citus mode (docs/scaling.md#4-citus): what the migration distributes, and who may
reach a worker (docs/security.md#citus-worker-logins).

These tests run in the Citus run only (scripts/test-citus, VERITAS_TEST_CITUS=1):
on PostgreSQL there is nothing distributed and no worker to reach.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from glue import migrate, seed_scale
from tests.accounts import bearer, register
from tests.commands import veritas
from tests.databases import (
    AUTHENTICATOR_PASSWORD,
    CITUS,
    PASSWORDS,
    CitusTestCluster,
    Cluster,
    with_db,
)
from tests.exams import create_exam

pytestmark = pytest.mark.skipif(not CITUS, reason="Citus run only (VERITAS_TEST_CITUS=1)")

RUNTIME_ROLES = ("veritas_owner", "anon", "student", "teacher", "admin", "integration", "worker")


def _worker_urls(cluster: Cluster, dbname: str, user: str, password: str) -> list[str]:
    assert isinstance(cluster, CitusTestCluster)
    citus = cluster.citus
    return [with_db(w.url(dbname=dbname), dbname, user, password) for w in citus.workers]


def test_only_the_events_are_distributed_by_attempt(migrated_db):
    with psycopg.connect(migrated_db) as conn:
        tables = conn.execute(
            "SELECT p.logicalrelid::text, a.attname FROM pg_dist_partition AS p "
            "JOIN pg_attribute AS a ON a.attrelid = p.logicalrelid "
            "AND a.attname = column_to_column_name(p.logicalrelid, p.partkey) "
            "WHERE p.partmethod = 'h' ORDER BY 1"
        ).fetchall()
        workers = conn.execute(
            "SELECT count(DISTINCT s.nodeport) FROM pg_dist_shard_placement AS s "
            "JOIN pg_dist_shard AS d USING (shardid) "
            "WHERE d.logicalrelid = 'app.monitoring_events'::regclass"
        ).fetchone()
    assert tables, "nothing is distributed"
    assert all(name.startswith("app.monitoring_events") for name, _ in tables), tables
    assert {column for _, column in tables} == {"attempt_id"}
    assert workers == (2,), "the events' shards are not spread over both workers"


def test_an_event_recorded_through_the_api_lands_in_a_shard(http, teacher, migrated_db):
    exam = create_exam(http, teacher)
    student = register(http)
    attempt = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(student)).json()
    answer = http.post("/monitor/events", headers=bearer(student), json={
        "attempt_id": attempt["attempt_id"], "event_type": "paste",
        "occurred_at": datetime.now(UTC).isoformat(), "client_event_id": "citus-1"})
    assert answer.status_code == 202, answer.text
    with psycopg.connect(migrated_db) as conn:
        shard = conn.execute(
            "SELECT get_shard_id_for_distribution_column('app.monitoring_events', %s::uuid)",
            [attempt["attempt_id"]],
        ).fetchone()
        # the owner reads the events (no request role, not even the DBA's
        # session, shares a transaction with the owner's writes here)
        conn.execute("SET ROLE veritas_owner")
        stored = conn.execute(
            "SELECT count(*) FROM app.monitoring_events WHERE attempt_id = %s",
            [attempt["attempt_id"]],
        ).fetchone()
    assert shard is not None and shard[0] is not None
    assert stored == (1,)


def test_a_batch_is_stored_verbatim_and_once(http, teacher, migrated_db):
    """On Citus a batch is one INSERT ... VALUES built as text
    (internal.record_events): quotes and SQL in the values are stored as
    they came, nothing runs, and a batch sent again is all duplicates."""
    exam = create_exam(http, teacher)
    student = register(http)
    attempt = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(student)).json()
    hostile = "x'); DROP TABLE app.exams; --"
    events = [{"attempt_id": attempt["attempt_id"], "event_type": "paste",
               "occurred_at": datetime.now(UTC).isoformat(), "client_event_id": f"{hostile}{n}",
               "payload": {"text": "it's \\ $$ 'quoted'", "n": n}} for n in range(3)]
    first = http.post("/monitor/events", headers=bearer(student), json={"events": events})
    again = http.post("/monitor/events", headers=bearer(student), json={"events": events})
    assert first.status_code == 202, first.text
    assert first.json() == {"accepted": 3, "duplicates": 0}
    assert again.json() == {"accepted": 0, "duplicates": 3}
    with psycopg.connect(migrated_db) as conn:
        conn.execute("SET ROLE veritas_owner")
        stored = conn.execute(
            "SELECT client_event_id, payload FROM app.monitoring_events "
            "WHERE attempt_id = %s ORDER BY client_event_id", [attempt["attempt_id"]],
        ).fetchall()
        exams = conn.execute("SELECT to_regclass('app.exams') IS NOT NULL").fetchone()
    assert [row[0] for row in stored] == [f"{hostile}{n}" for n in range(3)]
    assert [row[1] for row in stored] == [e["payload"] for e in events]
    assert exams == (True,)


def test_runtime_roles_may_not_log_in_to_the_coordinator(migrated_db):
    with psycopg.connect(migrated_db) as conn:
        rows = dict(conn.execute(
            "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ANY(%s)",
            [list(RUNTIME_ROLES)],
        ).fetchall())
    assert rows == {role: False for role in RUNTIME_ROLES}


def test_on_the_workers_only_the_owner_may_log_in(migrated_db):
    with psycopg.connect(migrated_db) as conn:
        rows = conn.execute(
            "SELECT result FROM run_command_on_workers($$SELECT string_agg(rolname, ',' "
            "ORDER BY rolname) FROM pg_roles WHERE rolcanlogin AND rolname = ANY("
            "ARRAY['veritas_owner','anon','student','teacher','admin','integration','worker'])$$)"
        ).fetchall()
    assert [r[0] for r in rows] == [",".join(sorted(migrate.WORKER_LOGIN_ROLES))] * 2


def test_a_migrate_again_keeps_the_coordinator_closed(migrated_db):
    """The roles file says NOLOGIN and Citus propagates it; the worker logins
    are given back on the workers alone, every time."""
    migrate.allow_worker_logins(migrated_db)
    with psycopg.connect(migrated_db) as conn:
        owner = conn.execute(
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'veritas_owner'"
        ).fetchone()
    assert owner == (False,)


def test_a_second_database_on_the_cluster_migrates(cluster, migrated_db):
    """The roles already exist (the session's database made them) but Citus
    has not recorded them in a new database: the migration has it record
    them as the DBA, or the owner's first object there would fail."""
    url = cluster.create_database("second")
    try:
        with psycopg.connect(url) as conn:
            before = conn.execute(
                "SELECT count(*) FROM pg_dist_object WHERE classid = 'pg_authid'::regclass "
                "AND objid = 'veritas_owner'::regrole"
            ).fetchone()
        assert before == (0,), "the new database already knows the owner: nothing to prove"
        migrate.migrate(url, PASSWORDS)
        with psycopg.connect(url) as conn:
            distributed = conn.execute(
                "SELECT count(*) FROM pg_dist_partition "
                "WHERE logicalrelid = 'app.monitoring_events'::regclass"
            ).fetchone()
            leftovers = conn.execute(
                "SELECT count(*) FROM pg_type WHERE typname LIKE 'veritas_role_%'"
            ).fetchone()
        assert distributed == (1,)
        assert leftovers == (0,)
    finally:
        cluster.drop_database(url)


def test_a_database_holding_events_is_distributed_with_them(cluster, migrated_db):
    """Moving an existing database (docs/scaling.md#moving-an-existing-database-to-citus):
    events recorded before the Citus step are copied into the shards, and
    the owner is again under the events' row-level security everywhere."""
    url = cluster.create_database("moving")
    try:
        migrate.prepare_roles(url, PASSWORDS)
        migrate.apply_migrations(url)
        migrate.apply_repeatable(url)
        seed_scale.seed_scale(url, seed_scale.Sizes(students=20, exams=1, events=400),
                              out=io.StringIO())
        with psycopg.connect(url) as conn:
            before = conn.execute(
                "SELECT count(*), count(DISTINCT attempt_id) FROM app.monitoring_events"
            ).fetchone()
        assert before is not None and before[0] == 400
        migrate.distribute(url)
        with psycopg.connect(url) as conn:
            after = conn.execute(
                "SELECT count(*), count(DISTINCT attempt_id) FROM app.monitoring_events"
            ).fetchone()
            on_coordinator = conn.execute(
                "SELECT count(*) FROM ONLY app.monitoring_events_default"
            ).fetchone()
            forced = conn.execute(
                "SELECT bool_and(c.relforcerowsecurity) FROM pg_class AS c "
                "WHERE c.oid = 'app.monitoring_events'::regclass OR c.oid IN "
                "(SELECT inhrelid FROM pg_inherits "
                "WHERE inhparent = 'app.monitoring_events'::regclass)"
            ).fetchone()
            shards = conn.execute(
                "SELECT bool_and(result::boolean), count(*) FROM run_command_on_shards("
                "'app.monitoring_events', 'SELECT relforcerowsecurity FROM pg_class "
                "WHERE oid = ''%s''::regclass')"
            ).fetchone()
        assert after == before
        assert internal_distributed(url)
        assert on_coordinator == (0,)
        assert forced == (True,)
        assert shards == (True, 32)
    finally:
        cluster.drop_database(url)


def internal_distributed(url: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT internal.citus_distributed('app.monitoring_events')"
        ).fetchone()
    return bool(row and row[0])


@pytest.mark.parametrize("user", ["authenticator", "analyst", "veritas_owner"])
def test_the_glue_and_analyst_logins_cannot_reach_a_worker(cluster, migrated_db, user):
    """Over TCP a worker admits its superuser only: the glue's login, the
    analyst (with their real passwords) and the owner are refused."""
    dbname = urlsplit(migrated_db).path.lstrip("/")
    password = AUTHENTICATOR_PASSWORD if user == "authenticator" else "analyst-test-password"
    for url in _worker_urls(cluster, dbname, user, password):
        with pytest.raises(psycopg.OperationalError, match=r"no pg_hba\.conf entry"):
            psycopg.connect(url, connect_timeout=5).close()


def test_the_citus_commands_start_report_and_stop_a_cluster():
    """veritas citus up|status|url|down, as a user meets them."""
    folder = Path(tempfile.mkdtemp(prefix="vcli-", dir="/tmp"))  # short: sockets live in it
    folder.chmod(0o755)
    try:
        assert veritas("--data-dir", str(folder), "citus", "status").returncode == 3
        not_running = veritas("--data-dir", str(folder), "citus", "url")
        assert not_running.returncode == 1
        assert "not running" in not_running.stderr and "Traceback" not in not_running.stderr
        up = veritas("--data-dir", str(folder), "citus", "up", timeout=180)
        assert up.returncode == 0, up.stderr
        assert "DATABASE_URL=postgresql://" in up.stdout
        status = veritas("--data-dir", str(folder), "citus", "status")
        assert status.returncode == 0 and status.stdout.count("running") == 3, status.stdout
        url = veritas("--data-dir", str(folder), "citus", "url").stdout.strip()
        with psycopg.connect(url) as conn:
            workers = conn.execute(
                "SELECT count(*) FROM pg_dist_node WHERE noderole = 'primary' AND groupid > 0"
            ).fetchone()
        assert workers == (2,)
    finally:
        down = veritas("--data-dir", str(folder), "citus", "down", timeout=120)
        shutil.rmtree(folder, ignore_errors=True)
    assert down.returncode == 0, down.stderr

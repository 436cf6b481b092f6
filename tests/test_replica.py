"""The read replica (docs/scaling.md#2-a-read-replica): a streaming replica of
the session's server made by pg_basebackup, a glue with
VERITAS_READ_DATABASE_URL pointed at it. Stale-ok reads are served there (shown
by pausing its replay), writes and must-see-own-writes reads never are, a
replica down or too far behind leaves reads to the primary, its lag is in
/metrics, and the analyst login reads the same secured views there, read-only."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from glue import read_routing
from glue.catalog import RELOAD_CHANNEL, Catalog
from glue.request_path import Caller
from glue.tokens import AccessClaims
from tests.accounts import bearer, create_user, login, unique_email
from tests.databases import ANALYST_PASSWORD, app_url, with_db
from tests.exams import create_exam
from tests.glue_server import LiveServer, settings_for
from tests.replicas import Replica, caught_up, pause_replay, resume_replay

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.not_on_citus(
    reason="a streaming replica of one server; on Citus every node needs its own, a follower "
           "cluster (docs/scaling.md#4-citus), which this test does not make")


def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return bool(condition())


@pytest.fixture(scope="module")
def replica(cluster: Any, migrated_db: str) -> Iterator[Replica]:
    if cluster.local is None:
        pytest.skip("TEST_DATABASE_URL names an outside server: no replica of it is made here")
    made = Replica(cluster.local)
    try:
        made.create()
        made.start()
        yield made
    finally:
        made.remove()


@pytest.fixture(scope="module")
def replica_su(replica: Replica, migrated_db: str) -> str:
    """The superuser URL of the session's migrated database on the replica."""
    return replica.url(migrated_db)


def glue_on(migrated_db: str, replica: Replica, max_lag: int) -> LiveServer:
    return LiveServer(settings_for(migrated_db, read_database_url=replica.url(app_url(migrated_db)),
                                   read_max_lag_seconds=max_lag))


@pytest.fixture(scope="module")
def reads(replica: Replica, migrated_db: str) -> Iterator[httpx.Client]:
    """A glue reading from the replica; a generous max lag, so that a paused
    replay does not send the reads back to the primary (that is tested below)."""
    with glue_on(migrated_db, replica, max_lag=3600) as server, server.client() as client:
        assert wait_for(lambda: client.get("/health").json().get("replica") == "ok")
        yield client


@pytest.fixture
def paused(replica_su: str, migrated_db: str) -> Iterator[None]:
    """Replay paused on the replica (it receives WAL, applies none) for one test."""
    caught_up(migrated_db, replica_su)
    # a fresh commit replayed just before the pause: the lag then counts from now
    create_user(migrated_db, "student")
    caught_up(migrated_db, replica_su)
    pause_replay(replica_su)
    try:
        yield
    finally:
        resume_replay(replica_su)
        caught_up(migrated_db, replica_su)


def colleagues(http: httpx.Client, tokens: dict[str, Any], email: str) -> list[str]:
    answer = http.get("/teacher/colleagues", params={"q": email}, headers=bearer(tokens))
    assert answer.status_code == 200, answer.text
    return [t["email"] for t in answer.json()]


def metric(http: httpx.Client, name: str) -> float | None:
    for family in text_string_to_metric_families(http.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    return None


def test_a_stale_ok_read_is_served_by_the_replica(reads, migrated_db, replica_su, paused):
    reader = login(reads, create_user(migrated_db, "teacher")["email"])
    writer = login(reads, create_user(migrated_db, "teacher")["email"])
    # reader and writer exist on the primary; the replica, paused, has neither
    newcomer = unique_email("newcomer")
    create_user(migrated_db, "teacher", email=newcomer)

    # the directory search (stale-ok) is answered by the replica: not there
    # yet; a GET that only logs disclosures (the dashboard, on the primary)
    # does not count as the reader's own write
    assert reads.get("/teacher/dashboard", headers=bearer(reader)).status_code == 200
    assert colleagues(reads, reader, newcomer) == []
    # a read that must see its writes (the user list: after an admin's change)
    # is answered by the primary
    admin = login(reads, create_user(migrated_db, "admin")["email"])
    users = reads.get("/admin/users", params={"q": newcomer}, headers=bearer(admin))
    assert users.status_code == 200, users.text
    assert newcomer in users.text
    # a caller who has just written reads the primary, stale-ok read or not
    create_exam(reads, writer)
    assert colleagues(reads, writer, newcomer) == [newcomer]

    resume_replay(replica_su)
    caught_up(migrated_db, replica_su)
    assert colleagues(reads, reader, newcomer) == [newcomer]


def test_writes_and_reads_that_write_never_go_to_the_replica(reads, migrated_db, paused):
    teacher = login(reads, create_user(migrated_db, "teacher")["email"])
    # a write: the replica would refuse it (read-only); the primary takes it
    exam = create_exam(reads, teacher)
    with psycopg.connect(migrated_db) as conn:
        row = conn.execute("SELECT title FROM app.exams WHERE id = %s", [exam["id"]]).fetchone()
    assert row is not None
    # a GET whose function writes (the teacher dashboard logs disclosures)
    dashboard = reads.get("/teacher/dashboard", headers=bearer(teacher))
    assert dashboard.status_code == 200, dashboard.text
    assert exam["id"] in dashboard.text  # written a moment ago, replay paused: the primary


def test_only_read_only_functions_listed_stale_ok_can_go_to_the_replica(migrated_db):
    async def load() -> Catalog:
        async with await psycopg.AsyncConnection.connect(app_url(migrated_db)) as conn:
            return await Catalog.load(conn)

    import asyncio

    catalog = asyncio.run(load())
    listed = {name: catalog.get(name) for name in read_routing.STALE_OK}
    assert all(listed.values()), [n for n, f in listed.items() if f is None]
    assert all(f.read_only for f in listed.values() if f is not None)

    settings = settings_for(migrated_db, read_database_url="postgresql://unused")
    replica = read_routing.ReadReplica(settings, "postgresql://unused")
    replica.status = read_routing.ReplicaStatus(up=True, in_recovery=True, lag_seconds=0.0)
    claims = AccessClaims("00000000-0000-4000-8000-000000000001", "admin", "j", 0, 0, {})
    caller = Caller(claims, "GET", "/x")
    served = {f.name for f in catalog.functions.values() if replica.serves(f, caller)}
    assert served == set(read_routing.STALE_OK)
    # a function that writes is never served there, even if someone lists it
    volatile = catalog.get("get_teacher_dashboard_data")
    assert volatile is not None and not volatile.read_only
    read_routing.STALE_OK = read_routing.STALE_OK | {"get_teacher_dashboard_data"}
    try:
        assert not replica.serves(volatile, caller)
    finally:
        read_routing.STALE_OK = read_routing.STALE_OK - {"get_teacher_dashboard_data"}
    # a replica too far behind serves nothing; the caller who wrote, nothing either
    replica.status = read_routing.ReplicaStatus(up=True, in_recovery=True,
                                                lag_seconds=settings.read_max_lag_seconds + 1)
    assert not any(replica.serves(f, caller) for f in catalog.functions.values())
    replica.status = read_routing.ReplicaStatus(up=True, in_recovery=True, lag_seconds=0.0)
    replica.writers.note(claims.sub)
    assert not any(replica.serves(f, caller) for f in catalog.functions.values())


def test_a_function_the_replica_has_not_replayed_yet_is_called_on_the_primary(
        reads, migrated_db, paused, monkeypatch):
    # a migration a moment old: on the primary (and in the glue's catalog),
    # not yet on the replica, whose replay is paused
    with psycopg.connect(migrated_db, autocommit=True) as conn:
        conn.execute("CREATE FUNCTION api.zz_replica_probe() RETURNS text LANGUAGE sql "
                     "STABLE AS $$ SELECT 'from the primary' $$")
        conn.execute("GRANT EXECUTE ON FUNCTION api.zz_replica_probe() TO teacher")
        conn.execute(f"NOTIFY {RELOAD_CHANNEL}")
    monkeypatch.setattr(read_routing, "STALE_OK", read_routing.STALE_OK | {"zz_replica_probe"})
    teacher = login(reads, create_user(migrated_db, "teacher")["email"])
    try:
        assert wait_for(lambda: reads.get("/rpc/zz_replica_probe",
                                          headers=bearer(teacher)).status_code != 404)
        answer = reads.get("/rpc/zz_replica_probe", headers=bearer(teacher))
        assert answer.status_code == 200, answer.text
        assert answer.json() == "from the primary"
    finally:
        with psycopg.connect(migrated_db, autocommit=True) as conn:
            conn.execute("DROP FUNCTION api.zz_replica_probe()")
            conn.execute(f"NOTIFY {RELOAD_CHANNEL}")


def test_the_lag_is_in_metrics_and_grows_while_replay_is_paused(reads, migrated_db, replica_su,
                                                                paused):
    create_user(migrated_db, "student")  # something to replay
    assert wait_for(lambda: (metric(reads, "veritas_replica_lag_seconds") or 0) > 0)
    first = metric(reads, "veritas_replica_lag_seconds") or 0
    assert wait_for(lambda: (metric(reads, "veritas_replica_lag_seconds") or 0) > first)
    assert metric(reads, "veritas_replica_up") == 1
    resume_replay(replica_su)
    assert wait_for(lambda: metric(reads, "veritas_replica_lag_seconds") == 0)


def test_a_replica_too_far_behind_leaves_the_reads_to_the_primary(replica, migrated_db,
                                                                  paused):
    with glue_on(migrated_db, replica, max_lag=1) as server, server.client() as http:
        reader = login(http, create_user(migrated_db, "teacher")["email"])
        newcomer = unique_email("late")
        create_user(migrated_db, "teacher", email=newcomer)
        assert wait_for(lambda: http.get("/health").json().get("replica") == "lagging")
        assert colleagues(http, reader, newcomer) == [newcomer]


def test_the_analyst_on_the_replica_sees_the_same_secured_views_and_cannot_write(
        migrated_db, replica_su):
    caught_up(migrated_db, replica_su)
    primary = with_db(migrated_db, migrated_db.rsplit("/", 1)[-1], "analyst", ANALYST_PASSWORD)
    standby = with_db(replica_su, replica_su.rsplit("/", 1)[-1], "analyst", ANALYST_PASSWORD)
    views_sql = ("SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n "
                 "ON n.oid = c.relnamespace WHERE n.nspname = 'analytics' "
                 "AND c.relkind IN ('v', 'm') ORDER BY 1")
    with psycopg.connect(primary) as p, psycopg.connect(standby) as s:
        assert s.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        views = [r[0] for r in p.execute(views_sql).fetchall()]
        assert views and views == [r[0] for r in s.execute(views_sql).fetchall()]
        for view in views:
            query = f"SELECT * FROM analytics.{view} ORDER BY 1"
            assert s.execute(query).fetchall() == p.execute(query).fetchall(), view
    # the same refusals: no base table, no identities
    with psycopg.connect(standby) as s, pytest.raises(psycopg.errors.InsufficientPrivilege):
        s.execute("SELECT email FROM auth.users")
    # and nothing can be written on a standby, not even a temporary table
    with psycopg.connect(standby) as s, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        s.execute("CREATE TEMP TABLE analyst_notes (note text)")
    # nor tell the glue to reload its catalog
    with psycopg.connect(standby) as s, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        s.execute("NOTIFY veritas_reload")
    # nor asked for a read-write transaction
    with psycopg.connect(standby, autocommit=True) as s, pytest.raises(
            psycopg.errors.FeatureNotSupported, match="read-write mode during recovery"):
        s.execute("BEGIN READ WRITE")


def test_the_replica_alert_rules_name_series_a_glue_with_a_replica_exports(reads):
    exported = {s.name for f in text_string_to_metric_families(reads.get("/metrics").text)
                for s in f.samples}
    text = (ROOT / "deploy" / "prometheus" / "alerts.yml").read_text()
    named = set(re.findall(r"\b(veritas_replica_[a-z_]+)\{", text))
    assert named, "no replica alert in alerts.yml"
    assert named <= exported, named - exported


def test_with_the_replica_down_reads_answer_from_the_primary(reads, replica, migrated_db):
    teacher = login(reads, create_user(migrated_db, "teacher")["email"])
    newcomer = unique_email("down")
    create_user(migrated_db, "teacher", email=newcomer)
    replica.stop(mode="immediate")
    try:
        # at once, before the monitor noticed: the failed call is made again on the primary
        assert colleagues(reads, teacher, newcomer) == [newcomer]
        assert wait_for(lambda: reads.get("/health").json().get("replica") == "down")
        health = reads.get("/health")
        assert health.status_code == 200
        assert health.json()["database"] == "ok"
        assert metric(reads, "veritas_replica_up") == 0
        assert metric(reads, "veritas_replica_lag_seconds") is None
        analytics = reads.get(f"/teacher/exams/{create_exam(reads, teacher)['id']}/analytics",
                              headers=bearer(teacher))
        assert analytics.status_code == 200, analytics.text
    finally:
        replica.start()
    # it comes back by itself
    assert wait_for(lambda: reads.get("/health").json().get("replica") == "ok")
    assert metric(reads, "veritas_replica_up") == 1

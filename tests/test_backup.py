"""``veritas db backup`` and ``veritas db restore`` leave a working system:
every row back, the audit chain verifying, the analytics recomputed and the
teacher views answering 200 through the glue, whether the target database
is fresh or already migrated and full of other data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from glue import migrate, worker
from tests.accounts import bearer, create_user, login, register
from tests.commands import clean_env, veritas
from tests.databases import AUTHENTICATOR_PASSWORD, PASSWORDS, app_url, with_db
from tests.exams import create_exam, right_answers

# Derived by internal.refresh_analytics, which a restore runs afresh: how
# many rows they hold depends on when the source's worker last ran (an
# attempt's events are counted a minute after it closed), so they are
# compared by what the analytics answer, not by rows.
ANALYTICS_TABLES = {"app.exam_stats", "app.flagged_attempts", "app.exam_event_counts",
                    "app.counted_attempts"}


def _env(admin_url: str) -> dict[str, str]:
    return clean_env(DATABASE_URL=admin_url, VERITAS_AUTHENTICATOR_PASSWORD=AUTHENTICATOR_PASSWORD,
                     VERITAS_ANALYST_PASSWORD=PASSWORDS["analyst"])


def _counts(url: str) -> dict[str, int]:
    """Rows of every table of ours and of yoyo's (a partitioned table with its partitions)."""
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT c.oid::regclass::text FROM pg_class AS c "
            "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
            "ORDER BY 1", [[*migrate.OUR_SCHEMAS, migrate.META_SCHEMA]]).fetchall()]
        return {t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.SQL(t))
                                ).fetchone()[0] for t in tables if t not in ANALYTICS_TABLES}


@pytest.fixture
def source(cluster, live_factory):
    """A database with a teacher's exam taken by three students: events,
    answers, submits, analyses, reviews, disclosures, sealed audit rows."""
    url = cluster.create_database("source")
    migrate.migrate(url, PASSWORDS)
    glue = live_factory(url)
    with glue.client() as http:
        email = create_user(url, "teacher")["email"]
        teacher = login(http, email)
        exam = create_exam(http, teacher)
        now = datetime.now(UTC)
        for n in range(3):
            student = bearer(register(http))
            attempt = http.post(f"/student/exams/{exam['id']}/start", headers=student).json()
            events = [{"attempt_id": attempt["attempt_id"], "client_event_id": uuid.uuid4().hex,
                       "event_type": kind, "payload": {},
                       "occurred_at": (now + timedelta(seconds=10 * k)).isoformat()}
                      for k, kind in enumerate(["heartbeat", "tab_hidden", "paste"][: n + 1])]
            assert http.post("/monitor/events", headers=student,
                             json={"events": events}).status_code == 202
            done = http.post(f"/student/exams/{attempt['attempt_id']}/submit", headers=student,
                             json={"answers": right_answers(exam)})
            assert done.status_code == 200, done.text
        worker.run(app_url(url), once=True)  # analyses, analytics, seals
        for path in ("/teacher/dashboard", f"/teacher/exams/{exam['id']}/flagged",
                     f"/teacher/attempts/{attempt['attempt_id']}/events"):  # a disclosure
            assert http.get(path, headers=bearer(teacher)).status_code == 200
        worker.run(app_url(url), once=True)  # the disclosures sealed too
    yield url, email, exam
    cluster.drop_database(url)


def _backup(url: str, folder: Path) -> Path:
    path = folder / "veritas.backup"
    done = veritas("db", "backup", str(path), env=_env(url))
    assert done.returncode == 0, done.stderr
    assert "backed up to" in done.stdout
    return path


def _assert_working(url: str, expected: dict[str, int], email: str, exam: dict,
                    live_factory) -> None:
    assert _counts(url) == expected
    verified = veritas("audit", "verify", env=_env(url))
    assert verified.returncode == 0, verified.stderr
    assert "audit chain intact" in verified.stdout
    glue = live_factory(url)
    with glue.client() as http:
        teacher = bearer(login(http, email))
        dashboard = http.get("/teacher/dashboard", headers=teacher)
        assert dashboard.status_code == 200, dashboard.text
        analytics = http.get(f"/teacher/exams/{exam['id']}/analytics", headers=teacher)
        assert analytics.status_code == 200, analytics.text
        assert analytics.json()["submitted"] == 3
        assert http.get(f"/teacher/exams/{exam['id']}/flagged",
                        headers=teacher).status_code == 200


def test_backup_then_restore_into_a_fresh_database(source, cluster, tmp_path, live_factory):
    url, email, exam = source
    expected = _counts(url)
    assert expected["app.monitoring_events"] == 6 and expected["app.behavior_analyses"] == 3
    assert expected["audit.log"] > 0 and expected["audit.disclosures"] > 0
    path = _backup(url, tmp_path)
    # the source's verification, for comparison: the same chain heads
    source_heads = veritas("audit", "verify", env=_env(url)).stdout

    fresh = cluster.create_database("restored")
    try:
        done = veritas("db", "restore", str(path), "--jobs", "2", env=_env(fresh))
        assert done.returncode == 0, done.stderr
        assert "analytics refreshed" in done.stdout
        # before anyone logs in (which the audit trail records)
        assert veritas("audit", "verify", env=_env(fresh)).stdout == source_heads
        _assert_working(fresh, expected, email, exam, live_factory)
    finally:
        cluster.drop_database(fresh)


def test_restore_over_a_migrated_database_with_other_data(source, cluster, tmp_path,
                                                          live_factory):
    """What `pg_restore --clean` into a migrated database got wrong: here the
    old contents go, the backup's come back, and the system works."""
    url, email, exam = source
    expected = _counts(url)
    path = _backup(url, tmp_path)

    other = cluster.create_database("other")
    try:
        migrate.migrate(other, PASSWORDS)
        create_user(other, "teacher")
        refused = veritas("db", "restore", str(path), env=_env(other))
        assert refused.returncode == 1
        assert refused.stderr.strip().count("\n") == 0, refused.stderr
        assert "--yes" in refused.stderr
        done = veritas("db", "restore", str(path), "--yes", env=_env(other))
        assert done.returncode == 0, done.stderr
        _assert_working(other, expected, email, exam, live_factory)
    finally:
        cluster.drop_database(other)


def test_restore_refuses_what_is_not_a_backup_before_dropping_anything(migrated_db, tmp_path):
    junk = tmp_path / "junk.backup"
    junk.write_text("not a dump")
    done = veritas("db", "restore", str(junk), "--yes", env=_env(migrated_db))
    assert done.returncode == 1
    assert "not a backup pg_restore can read" in done.stderr
    with psycopg.connect(migrated_db) as conn:
        assert conn.execute("SELECT to_regclass('auth.users') IS NOT NULL").fetchone() == (True,)


def test_backup_by_a_login_under_row_level_security_says_so(cluster, tmp_path):
    """A DBA that is neither superuser nor BYPASSRLS (a managed service's)
    cannot dump tables that force row-level security: one sentence says why."""
    url = cluster.create_database("rls")
    migrate.migrate(url, PASSWORDS)
    dba = f"dba_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as su:
        su.execute(f"CREATE ROLE {dba} LOGIN PASSWORD 'dba-test-password' IN ROLE veritas_owner")
    try:
        name = url.rsplit("/", 1)[-1]
        done = veritas("db", "backup", str(tmp_path / "b.backup"),
                       env=_env(with_db(url, name, dba, "dba-test-password")))
        assert done.returncode == 1
        assert "row-level security" in done.stderr and "BYPASSRLS" in done.stderr
        assert done.stderr.strip().count("\n") == 0, done.stderr
        assert not list(tmp_path.iterdir()), "no partial backup is left"
    finally:
        cluster.drop_database(url)
        with psycopg.connect(with_db(url, "postgres"), autocommit=True) as su:
            su.execute(f"DROP ROLE {dba}")

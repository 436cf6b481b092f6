"""``veritas seed scale`` on a small scale (300 students, 4 exams, 30,000
events): the asked counts, data the reads and the built-in analyser agree
with, seeded students and teachers using it over HTTP, a re-run that changes
nothing, an audit trail that still verifies, and the refusal to seed a
database holding real accounts."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from glue import migrate, seed_scale
from tests.accounts import bearer, create_user, login
from tests.databases import AUTHENTICATOR_PASSWORD, CITUS, PASSWORDS, Cluster, app_url
from tests.glue_server import LiveServer, settings_for

ROOT = Path(__file__).resolve().parent.parent
SIZES = seed_scale.Sizes(students=300, exams=4, events=30_000)
LIKE = f"%@{seed_scale.SEED_DOMAIN}"


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "VERITAS_"))}
    env.update(DATABASE_URL=url, VERITAS_AUTHENTICATOR_PASSWORD=AUTHENTICATOR_PASSWORD)
    return subprocess.run([sys.executable, "-m", "glue.cli", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=300)


def _one(url: str, sql: str, params: list[Any] | None = None) -> Any:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql, params or []).fetchone()
    assert row is not None
    return row[0]


def _snapshot(url: str) -> dict[str, int]:
    """Row counts of every table the seed writes, and of the audit trail."""
    tables = [*seed_scale.SEEDED_TABLES, "audit.log", "audit.security_events"]
    with psycopg.connect(url) as conn:
        return {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
                for t in tables}


@pytest.fixture(scope="module")
def seeded(cluster: Cluster) -> Iterator[tuple[str, seed_scale.Report, str]]:
    url = cluster.create_database("seed")
    migrate.migrate(url, PASSWORDS)
    progress = io.StringIO()
    report = seed_scale.seed_scale(url, SIZES, out=progress)
    try:
        yield url, report, progress.getvalue()
    finally:
        cluster.drop_database(url)


@pytest.fixture(scope="module")
def seeded_http(seeded: tuple[str, seed_scale.Report, str]) -> Iterator[httpx.Client]:
    with LiveServer(settings_for(seeded[0])) as server, server.client() as client:
        yield client


def test_the_asked_counts(seeded):
    url, report, progress = seeded
    assert report.seeded
    assert report.counts["students"] == 300 and report.counts["exams"] == 4
    assert _one(url, "SELECT count(*) FROM auth.users WHERE role = 'student' AND email LIKE %s",
                [LIKE]) == 300
    assert _one(url, "SELECT count(*) FROM app.monitoring_events") == 30_000
    assert _one(url, "SELECT count(*) FROM auth.users WHERE role = 'teacher' AND email LIKE %s",
                [LIKE]) >= 2
    # every stage reported its counts, the last one the analysis of the statistics
    assert "[7/12] events: 30,000 rows" in progress
    assert "statistics analysed, analytics views refreshed" in progress
    # ANALYZE ran: the planner knows the event table's size
    partition = _one(url, "SELECT 'app.monitoring_events_p' || to_char(now(), 'YYYYMM')")
    if CITUS:
        # On Citus the rows, and so the statistics, are in the partition's
        # shards on the workers; the coordinator's table is empty.
        estimate = _one(url, "SELECT sum(result::real) FROM run_command_on_shards(%s, "
                        "'SELECT reltuples FROM pg_class WHERE oid = ''%%s''::regclass')",
                        [partition])
    else:
        estimate = _one(url, "SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                        [partition])
    assert estimate > 20_000


def test_the_data_is_consistent(seeded):
    url = seeded[0]
    with psycopg.connect(url) as conn:
        def one(sql: str) -> Any:
            return conn.execute(sql).fetchone()[0]  # type: ignore[index]

        # each event carries its attempt's exam, student and start
        assert one("""SELECT count(*) FROM app.monitoring_events AS m
                      LEFT JOIN app.exam_attempts AS a ON a.id = m.attempt_id
                      WHERE a.id IS NULL OR a.exam_id <> m.exam_id OR a.student_id <> m.student_id
                         OR a.started_at <> m.attempt_started_at
                         OR m.occurred_at NOT BETWEEN a.started_at AND a.finished_at""") == 0
        # every attempt finished, graded on its answers, analysed, its job done
        assert one("SELECT count(*) FROM app.exam_attempts WHERE status NOT IN "
                   "('submitted', 'expired') OR score IS NULL") == 0
        assert one("""SELECT count(*) FROM app.exam_attempts AS a
                      WHERE a.score <> (SELECT sum(x.points_awarded) FROM app.attempt_answers AS x
                                        WHERE x.attempt_id = a.id)
                         OR NOT EXISTS (SELECT FROM app.behavior_analyses AS b
                                        WHERE b.attempt_id = a.id)
                         OR NOT EXISTS (SELECT FROM app.analysis_jobs AS j
                                        WHERE j.attempt_id = a.id AND j.status = 'done')""") == 0
        # the answers were graded as the project grades them
        assert one("""SELECT count(*) FROM app.attempt_answers AS x
                      INNER JOIN app.exam_attempts AS a ON a.id = x.attempt_id
                      CROSS JOIN LATERAL jsonb_array_elements(a.scored_against) AS q (value)
                      WHERE (q.value ->> 'id')::uuid = x.question_id
                        AND internal.grade_answer(q.value, x.answer) <> x.points_awarded""") == 0
        assert one("SELECT count(*) FROM app.attempt_answers WHERE points_awarded > 0") > 0
        # most attempts clean, some flagged; exams of very different sizes
        flagged = one("SELECT count(*) FROM app.behavior_analyses WHERE is_flagged")
        clean = one("SELECT count(*) FROM app.behavior_analyses WHERE flags = '[]'")
        attempts = one("SELECT count(*) FROM app.exam_attempts")
        assert 0 < flagged < attempts / 10 and clean > attempts * 0.8
        sizes = [r[0] for r in conn.execute(
            "SELECT count(*) FROM app.exam_attempts GROUP BY exam_id ORDER BY 1 DESC")]
        assert len(sizes) == 4 and sizes[0] >= 2.5 * sizes[-1]
        # the metrics are what the project's own functions compute
        assert one("SELECT count(*) FROM app.performance_metrics") == 300
        before = conn.execute("SELECT student_id, exams_taken, average_score, best_score, "
                              "average_integrity, flags_count, trend FROM app.performance_metrics "
                              "ORDER BY 1").fetchall()
        conn.execute("SELECT internal.refresh_student_metrics(array_agg(user_id)) "
                     "FROM app.student_profiles")
        after = conn.execute("SELECT student_id, exams_taken, average_score, best_score, "
                             "average_integrity, flags_count, trend FROM app.performance_metrics "
                             "ORDER BY 1").fetchall()
        assert after == before
        conn.rollback()


def test_the_built_in_analyser_agrees_with_every_seeded_analysis(seeded):
    url = seeded[0]
    with psycopg.connect(url) as conn:
        before = conn.execute("SELECT count(*) FROM app.behavior_analyses").fetchone()
        conn.execute("SELECT count(internal.analyse_attempt(id)) FROM app.exam_attempts")
        # the analyser stores nothing when the latest analysis says what it says
        assert conn.execute("SELECT count(*) FROM app.behavior_analyses").fetchone() == before
        conn.rollback()


def test_a_seeded_student_logs_in_and_sees_a_dashboard(seeded, seeded_http):
    url = seeded[0]
    email = _one(url, """SELECT u.email FROM auth.users AS u
                         INNER JOIN app.exam_attempts AS a ON a.student_id = u.id
                         WHERE u.email LIKE %s ORDER BY u.email LIMIT 1""", [LIKE])
    tokens = login(seeded_http, email, seed_scale.SEED_PASSWORD)
    answer = seeded_http.get("/student/dashboard", headers=bearer(tokens))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["recent_attempts"] and body["recent_attempts"][0]["score"] is not None
    assert body["metrics"]["exams_taken"] >= 1 and body["profile"]["integrity_score"] is not None
    wrong = seeded_http.post("/auth/login", json={"email": email, "password": "not-the-password"})
    assert wrong.status_code == 401


def test_a_teacher_of_a_seeded_exam_sees_analytics_flags_and_a_timeline(seeded, seeded_http):
    url = seeded[0]
    exam_id, email = psycopg.connect(url).execute(
        """SELECT e.id, u.email FROM app.exams AS e
           INNER JOIN auth.users AS u ON u.id = e.created_by
           INNER JOIN app.exam_attempts AS a ON a.exam_id = e.id
           INNER JOIN app.behavior_analyses AS b ON b.attempt_id = a.id AND b.is_flagged
           GROUP BY e.id, u.email ORDER BY count(*) DESC LIMIT 1""").fetchone()  # type: ignore[misc]
    teacher = login(seeded_http, email, seed_scale.SEED_PASSWORD)
    analytics = seeded_http.get(f"/teacher/exams/{exam_id}/analytics", headers=bearer(teacher))
    assert analytics.status_code == 200, analytics.text
    figures = analytics.json()
    assert figures["attempts"] > 0 and figures["flagged"] > 0
    assert sum(b["count"] for b in figures["score_histogram"]) == figures["graded"] > 0
    assert figures["events_by_type"]["heartbeat"] > 0 and figures["refreshed_at"]
    flagged = seeded_http.get(f"/teacher/exams/{exam_id}/flagged", headers=bearer(teacher))
    assert flagged.status_code == 200, flagged.text
    rows = flagged.json()
    assert rows and all(r["student_name"] and r["flags"] for r in rows)
    timeline = seeded_http.get(f"/teacher/attempts/{rows[0]['attempt_id']}/events",
                               headers=bearer(teacher))
    assert timeline.status_code == 200, timeline.text
    kinds = {e["event_type"] for e in timeline.json()}
    assert "heartbeat" in kinds and kinds & {"tab_hidden", "paste", "gaze_away"}
    dashboard = seeded_http.get("/teacher/dashboard", headers=bearer(teacher))
    assert dashboard.status_code == 200 and dashboard.json()["alerts"]
    # a teacher of no seeded exam sees none of it
    stranger = login(seeded_http, create_user(url, "teacher")["email"])
    assert seeded_http.get(f"/teacher/exams/{exam_id}/analytics",
                           headers=bearer(stranger)).status_code == 404


def test_a_second_run_changes_nothing(seeded):
    url = seeded[0]
    before = _snapshot(url)
    done = _cli(url, "seed", "scale", "--students", "300", "--exams", "4", "--events", "30000")
    assert done.returncode == 0, done.stderr
    assert "already seeded" in done.stdout and "nothing changed" in done.stdout
    assert _snapshot(url) == before


def test_the_audit_trail_records_the_seed_and_still_verifies(seeded):
    url = seeded[0]
    with psycopg.connect(url) as conn:
        entries = {(r[0], r[1]): r[2] for r in conn.execute(
            """SELECT operation, table_schema || '.' || table_name, (new_values ->> 'rows')::int
               FROM audit.log WHERE new_values ->> 'by' = 'veritas seed scale'""")}
        assert entries[("INSERT", "app.exam_attempts")] == conn.execute(
            "SELECT count(*) FROM app.exam_attempts").fetchone()[0]  # type: ignore[index]
        assert entries[("INSERT", "auth.users")] == conn.execute(
            "SELECT count(*) FROM auth.users WHERE email LIKE %s", [LIKE]).fetchone()[0]  # type: ignore[index]
        # one entry per table, not one per row; the triggers are all back on
        assert conn.execute("SELECT count(*) FROM audit.log WHERE table_name = 'attempt_answers'"
                            ).fetchone()[0] == 1  # type: ignore[index]
        assert conn.execute("""SELECT count(*) FROM pg_trigger
                               WHERE tgname LIKE '\\_500\\_audit%' AND tgenabled <> 'O'"""
                            ).fetchone()[0] == 0  # type: ignore[index]
        # each teacher account is a role_change security event, as any would be
        assert conn.execute("""SELECT count(*) FROM audit.security_events
                               WHERE kind = 'role_change' AND email LIKE %s""", [LIKE]
                            ).fetchone()[0] >= 2  # type: ignore[index]
    with psycopg.connect(app_url(url), autocommit=True) as conn:
        conn.execute("SET ROLE worker")
        while conn.execute("SELECT internal.seal_audit_log()").fetchone()[0]:  # type: ignore[index]
            pass
    verified = _cli(url, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "audit chain intact" in verified.stdout


def test_a_database_with_real_accounts_is_refused_unless_forced(cluster, empty_db):
    migrate.migrate(empty_db, PASSWORDS)
    create_user(empty_db, "student")  # an @example.org account: a real one
    before = _snapshot(empty_db)
    refused = _cli(empty_db, "seed", "scale", "--students", "20", "--exams", "2",
                   "--events", "400")
    assert refused.returncode == 1
    assert "neither demo nor seed accounts" in refused.stderr and "--force" in refused.stderr
    assert _snapshot(empty_db) == before
    forced = _cli(empty_db, "seed", "scale", "--students", "20", "--exams", "2",
                  "--events", "400", "--force")
    assert forced.returncode == 0, forced.stderr
    assert _one(empty_db, "SELECT count(*) FROM app.monitoring_events") == 400


def test_impossible_sizes_are_refused_before_anything_starts(empty_db):
    migrate.migrate(empty_db, PASSWORDS)
    done = _cli(empty_db, "seed", "scale", "--events", "3")
    assert done.returncode == 1 and "--events must be 8 or more" in done.stderr
    assert _one(empty_db, "SELECT count(*) FROM auth.users") == 0

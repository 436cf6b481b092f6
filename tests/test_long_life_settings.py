"""The time limits at work (tests/sql/80_long_life_settings.sql checks they
are set): a request waits at most lock_timeout for a lock, then answers 409
(not 503 "unreachable"); the glue's sessions carry the authenticator login's
limits whatever role a request switches to; the worker's transactions carry
its own, longer ones."""

from __future__ import annotations

import time

import psycopg

from glue import worker
from tests.accounts import bearer, register
from tests.databases import app_url
from tests.exams import create_exam


def test_a_request_blocked_by_a_lock_gives_up_after_lock_timeout_with_409(
        http, teacher, migrated_db):
    exam = create_exam(http, teacher)
    student = bearer(register(http))
    attempt = http.post(f"/student/exams/{exam['id']}/start", headers=student).json()
    question = exam["questions"][0]
    with psycopg.connect(migrated_db) as holder:
        # a session that holds a lock and does not let go (a stuck script)
        holder.execute("LOCK TABLE app.attempt_answers IN ACCESS EXCLUSIVE MODE")
        asked = time.monotonic()
        answer = http.put(f"/student/attempts/{attempt['attempt_id']}/answers/{question['id']}",
                          headers=student, json={"answer": "4"})
        waited = time.monotonic() - asked
        holder.rollback()
    assert answer.status_code == 409, answer.text
    assert answer.json()["code"] == "55P03"
    assert 2.5 < waited < 8, f"waited {waited:.1f} s for the lock"
    after = http.put(f"/student/attempts/{attempt['attempt_id']}/answers/{question['id']}",
                     headers=student, json={"answer": "4"})
    assert after.status_code == 200, after.text


def test_the_limits_come_with_the_login_not_with_the_role(migrated_db):
    with psycopg.connect(app_url(migrated_db), autocommit=True) as conn:
        with conn.transaction():
            conn.execute("SELECT set_config('role', 'student', true)")
            as_student = conn.execute(
                "SELECT current_user::text, current_setting('statement_timeout'), "
                "current_setting('lock_timeout'), "
                "current_setting('idle_in_transaction_session_timeout')").fetchone()
        with conn.transaction():
            conn.execute(worker.TASK_CONTEXT_SQL, list(worker.WORKER_LIMITS.values()))
            as_worker = conn.execute(
                "SELECT current_user::text, current_setting('statement_timeout'), "
                "current_setting('lock_timeout')").fetchone()
        after = conn.execute("SELECT current_setting('statement_timeout')").fetchone()
    assert as_student == ("student", "10s", "3s", "30s")
    assert as_worker == ("worker", "15min", "30s")
    assert after == ("10s",), "the worker's limits last one transaction"

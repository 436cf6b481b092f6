"""Analytics staleness after a submit is bounded by one worker round: the
worker's analysis jobs, then its incremental refresh pass, bring the
submitted attempt, its analysis and its events into the teacher's analytics
(no waiting on a clock); and what the incremental pass computed is what a
full recomputation gives."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg

from glue import worker
from tests.accounts import bearer, create_user, login, register
from tests.databases import app_url
from tests.exams import create_exam, right_answers


def _take_exam(http: httpx.Client, exam: dict[str, Any], events: list[str]) -> str:
    student = bearer(register(http))
    attempt = http.post(f"/student/exams/{exam['id']}/start", headers=student).json()
    start = datetime.now(UTC)
    sent = http.post("/monitor/events", headers=student, json={"events": [
        {"attempt_id": attempt["attempt_id"], "client_event_id": uuid.uuid4().hex,
         "event_type": kind, "payload": {},
         "occurred_at": (start + timedelta(seconds=k)).isoformat().replace("+00:00", "Z")}
        for k, kind in enumerate(events)]})
    assert sent.status_code == 202, sent.text
    done = http.post(f"/student/exams/{attempt['attempt_id']}/submit", headers=student,
                     json={"answers": right_answers(exam)})
    assert done.status_code == 200, done.text
    return str(attempt["attempt_id"])


def _analytics(http: httpx.Client, teacher: dict[str, Any], exam_id: str) -> dict[str, Any]:
    answer = http.get(f"/teacher/exams/{exam_id}/analytics", headers=bearer(teacher))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_one_worker_round_after_a_submit_brings_it_into_the_analytics(http, migrated_db):
    teacher = login(http, create_user(migrated_db, "teacher")["email"])
    exam = create_exam(http, teacher)
    worker.run(app_url(migrated_db), once=True)
    before = _analytics(http, teacher, exam["id"])
    assert before["submitted"] == 0 and before["analysed"] == 0

    _take_exam(http, exam, ["heartbeat", "heartbeat", "tab_hidden", "tab_visible", "paste"])
    with psycopg.connect(migrated_db) as conn:
        row = conn.execute("SELECT clock_timestamp()").fetchone()
        assert row is not None
        submitted_by = row[0]
    worker.run(app_url(migrated_db), once=True)

    after = _analytics(http, teacher, exam["id"])
    assert after["submitted"] == 1 and after["graded"] == 1 and after["analysed"] == 1
    assert sum(b["count"] for b in after["integrity_histogram"]) == 1, after
    assert [b["from"] for b in after["integrity_histogram"]] == list(range(0, 100, 10))
    assert after["events_by_type"]["heartbeat"] == 2 and after["events_by_type"]["paste"] == 1
    assert datetime.fromisoformat(after["refreshed_at"]) >= submitted_by, \
        "the figures hold everything committed before refreshed_at"


def test_the_incremental_pass_agrees_with_a_full_recomputation(http, migrated_db):
    teacher = login(http, create_user(migrated_db, "teacher")["email"])
    exam = create_exam(http, teacher, max_attempts=3)
    _take_exam(http, exam, ["heartbeat", "window_blur", "window_focus"])
    worker.run(app_url(migrated_db), once=True)
    _take_exam(http, exam, ["copy", "paste", "paste", "heartbeat"])
    worker.run(app_url(migrated_db), once=True)
    incremental = _analytics(http, teacher, exam["id"])

    with psycopg.connect(migrated_db, autocommit=True) as conn:
        conn.execute("SET ROLE worker")
        conn.execute("SELECT internal.refresh_analytics(true)")
    full = _analytics(http, teacher, exam["id"])
    assert incremental.pop("refreshed_at") <= full.pop("refreshed_at")
    assert incremental == full
    assert full["submitted"] == 2 and full["events_by_type"]["paste"] == 2


def test_an_other_teachers_exam_stays_out_of_reach(http, migrated_db):
    owner = login(http, create_user(migrated_db, "teacher")["email"])
    exam = create_exam(http, owner)
    _take_exam(http, exam, ["heartbeat"])
    worker.run(app_url(migrated_db), once=True)
    stranger = login(http, create_user(migrated_db, "teacher")["email"])
    answer = http.get(f"/teacher/exams/{exam['id']}/analytics", headers=bearer(stranger))
    assert answer.status_code == 404, answer.text
    assert "integrity_histogram" not in answer.text

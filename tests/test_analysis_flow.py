"""The whole integrity flow over HTTP: a student streams events and submits;
with no client call the worker analyses the attempt, updates the metrics, the
flagged list and the analytics; a teacher reviews; an integration account's
analysis becomes the latest."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from glue import worker
from tests.accounts import bearer, create_user, login, register
from tests.databases import app_url
from tests.exams import create_exam, right_answers

WAIT_SECONDS = 30


def _at(start: datetime, seconds: float) -> str:
    return (start + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def running_worker(migrated_db):
    """The real worker loop, as `veritas up` runs it, for this test only."""
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            worker.run(app_url(migrated_db), once=True)
            stop.wait(1)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=20)


def _eventually(fetch, ready, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        value = fetch()
        if ready(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not ready within {WAIT_SECONDS} s: {value}")
        time.sleep(0.5)


def _take_exam(http, exam, events):
    student = register(http)
    me = bearer(student)
    attempt = http.post(f"/student/exams/{exam['id']}/start", headers=me).json()
    answer = http.post("/monitor/events", headers=me, json={"events": [
        {"attempt_id": attempt["attempt_id"], "client_event_id": uuid.uuid4().hex,
         "payload": {}, **e} for e in events]})
    assert answer.status_code == 202, answer.text
    submitted = http.post(f"/student/exams/{attempt['attempt_id']}/submit", headers=me,
                          json={"answers": right_answers(exam)})
    assert submitted.status_code == 200, submitted.text
    return student, attempt["attempt_id"]


def test_submit_to_analysis_to_review(http, migrated_db, running_worker):
    teacher = login(http, create_user(migrated_db, "teacher")["email"])
    exam = create_exam(http, teacher)
    now = datetime.now(UTC)
    clean_events = [{"event_type": "heartbeat", "occurred_at": _at(now, 20 * k)}
                    for k in range(10)]
    heavy_events = [
        *clean_events,
        {"event_type": "tab_hidden", "occurred_at": _at(now, 30)},
        {"event_type": "tab_visible", "occurred_at": _at(now, 90)},
        {"event_type": "paste", "occurred_at": _at(now, 100)},
        {"event_type": "multiple_faces", "occurred_at": _at(now, 110)},
        {"event_type": "devtools_open", "occurred_at": _at(now, 120)},
        {"event_type": "tab_hidden", "occurred_at": _at(now, 130)},
        {"event_type": "tab_visible", "occurred_at": _at(now, 170)},
    ]
    clean_student, clean_attempt = _take_exam(http, exam, clean_events)
    heavy_student, heavy_attempt = _take_exam(http, exam, heavy_events)

    def analysis(student, attempt):
        answer = http.get(f"/analysis/behavior/{attempt}", headers=bearer(student))
        return answer.json() if answer.status_code == 200 else None

    clean = _eventually(lambda: analysis(clean_student, clean_attempt), bool, "clean analysis")
    heavy = _eventually(lambda: analysis(heavy_student, heavy_attempt), bool, "heavy analysis")
    assert float(heavy["integrity_score"]) < float(clean["integrity_score"])
    assert float(heavy["lmi_score"]) > float(clean["lmi_score"])
    assert heavy["flags"], "an anomaly-heavy attempt carries flags with evidence"

    flagged = _eventually(
        lambda: http.get(f"/teacher/exams/{exam['id']}/flagged", headers=bearer(teacher)).json(),
        lambda rows: any(r["attempt_id"] == heavy_attempt for r in rows), "flagged list")
    row = next(r for r in flagged if r["attempt_id"] == heavy_attempt)
    assert row["review_status"] == "pending"
    assert row["student_name"] == heavy_student["user"]["full_name"], "a teacher sees who it is"
    assert all(r["attempt_id"] != clean_attempt for r in flagged)

    analytics = _eventually(
        lambda: http.get(f"/teacher/exams/{exam['id']}/analytics",
                         headers=bearer(teacher)).json(),
        lambda a: a.get("submitted") == 2, "analytics")
    assert analytics["exam_id"] == exam["id"]
    assert analytics["refreshed_at"]

    dashboard = _eventually(
        lambda: http.get("/student/dashboard", headers=bearer(heavy_student)).json(),
        lambda d: d["profile"].get("integrity_score") is not None, "student profile")
    assert float(dashboard["profile"]["integrity_score"]) == float(heavy["integrity_score"])

    refused = http.post(f"/teacher/attempts/{heavy_attempt}/review", headers=bearer(teacher),
                        json={"decision": "confirmed"})
    assert refused.status_code == 400, "confirming needs a note"
    review = http.post(f"/teacher/attempts/{heavy_attempt}/review", headers=bearer(teacher),
                       json={"decision": "confirmed", "note": "two faces on camera"})
    assert review.status_code == 200, review.text
    flagged = http.get(f"/teacher/exams/{exam['id']}/flagged", headers=bearer(teacher)).json()
    assert next(r for r in flagged if r["attempt_id"] == heavy_attempt)[
        "review_status"] == "confirmed"

    service = login(http, create_user(migrated_db, "integration")["email"])
    external = http.post("/analysis/behavior", headers=bearer(service), json={
        "attempt_id": heavy_attempt, "integrity_score": 42, "lmi_score": 0.7,
        "flags": [{"code": "llm_review", "evidence": "summary"}], "summary": "LLM view",
        "model": "llm-engine-1"})
    assert external.status_code == 201, external.text
    latest = analysis(heavy_student, heavy_attempt)
    assert float(latest["integrity_score"]) == 42
    assert latest["model"] == "llm-engine-1"

    stranger = login(http, create_user(migrated_db, "teacher")["email"])
    assert http.get(f"/teacher/exams/{exam['id']}/flagged",
                    headers=bearer(stranger)).status_code == 404
    assert http.post(f"/teacher/attempts/{heavy_attempt}/review", headers=bearer(stranger),
                     json={"decision": "cleared"}).status_code == 404
    assert http.post("/analysis/behavior", headers=bearer(heavy_student), json={
        "attempt_id": heavy_attempt, "integrity_score": 100, "lmi_score": 0}).status_code == 403

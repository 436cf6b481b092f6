"""The Student and Teacher routes of docs/api.md, over HTTP: authoring,
the attempt life (start, resume, autosave, submit), races, expiry without any
caller, accommodations, and who may see what."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from glue import worker
from tests.accounts import bearer, create_user, login, register
from tests.databases import app_url
from tests.exams import create_exam, exam_body, iso, right_answers

ERROR_KEYS = {"code", "message", "details", "hint"}



def test_description_is_optional_and_the_required_settings_are_named(http, teacher):
    body = exam_body()
    del body["description"]
    answer = http.post("/teacher/exams", headers=bearer(teacher), json=body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["description"] is None
    for required in ("title", "duration_minutes", "opens_at", "closes_at", "max_attempts",
                     "questions"):
        body = exam_body()
        del body[required]
        missing = http.post("/teacher/exams", headers=bearer(teacher), json=body)
        assert missing.status_code == 400, missing.text
        assert required in missing.json()["message"]
    typo = http.post("/teacher/exams", headers=bearer(teacher),
                     json={**exam_body(), "descripton": "x"})
    assert typo.status_code == 400
    assert "create_exam has no argument named descripton" in typo.json()["message"]


def test_the_minimal_exam_of_the_docs_is_created(http, teacher):
    """docs/exams.md's minimal exam, its window moved to now."""
    now = datetime.now(UTC)
    body = {"title": "Quiz 1", "duration_minutes": 20, "opens_at": iso(now),
            "closes_at": iso(now + timedelta(hours=9)), "max_attempts": 1,
            "questions": [{"kind": "true_false",
                           "prompt": "Water boils at 100 °C at sea level.", "correct": True}]}
    answer = http.post("/teacher/exams", headers=bearer(teacher), json=body)
    assert answer.status_code == 201, answer.text
    exam = answer.json()
    assert (exam["grading_method"], exam["grace_seconds"], exam["published"]) == (
        "highest", 60, True)
    assert {"id", "created_by", "created_at", "updated_at", "max_score"} <= set(exam)

def test_full_student_flow(http, teacher):
    exam = create_exam(http, teacher)
    student = register(http)
    listed = http.get("/student/exams", headers=bearer(student)).json()
    assert exam["id"] in [e["id"] for e in listed]

    start = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(student))
    assert start.status_code == 201, start.text
    attempt = start.json()
    assert attempt["status"] == "in_progress"
    assert "correct" not in start.text
    assert len(attempt["questions"]) == 5

    resume = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(student))
    assert resume.status_code == 200
    assert resume.json()["attempt_id"] == attempt["attempt_id"]

    answers = right_answers(exam)
    first_q = exam["questions"][0]["id"]
    saved = http.put(f"/student/attempts/{attempt['attempt_id']}/answers/{first_q}",
                     headers=bearer(student), json={"answer": "3"})
    assert saved.status_code == 200, saved.text
    assert "saved_at" in saved.json()
    # last write wins
    saved = http.put(f"/student/attempts/{attempt['attempt_id']}/answers/{first_q}",
                     headers=bearer(student), json={"answer": answers[first_q]})
    assert saved.status_code == 200

    rest = {qid: a for qid, a in answers.items() if qid != first_q}
    submit = http.post(f"/student/exams/{attempt['attempt_id']}/submit", headers=bearer(student),
                       json={"answers": rest})
    assert submit.status_code == 200, submit.text
    result = submit.json()
    assert result["status"] == "submitted"
    assert result["score"] == result["max_score"] == 7

    again = http.post(f"/student/exams/{attempt['attempt_id']}/submit", headers=bearer(student))
    assert again.status_code in (200, 409)
    if again.status_code == 200:
        assert again.json()["score"] == result["score"]

    late = http.put(f"/student/attempts/{attempt['attempt_id']}/answers/{first_q}",
                    headers=bearer(student), json={"answer": "5"})
    assert late.status_code == 409

    dashboard = http.get("/student/dashboard", headers=bearer(student)).json()
    assert set(dashboard) >= {"profile", "metrics", "recent_attempts", "available_exams"}
    recent = [a for a in dashboard["recent_attempts"]
              if a.get("attempt_id", a.get("id")) == attempt["attempt_id"]]
    assert recent and float(recent[0]["score"]) == 7
    detail = http.get(f"/student/exams/{exam['id']}", headers=bearer(student))
    assert detail.status_code == 200
    assert "correct" not in detail.text


def test_scores_shown_agree_with_performance_metrics(http, teacher, migrated_db):
    exam = create_exam(http, teacher)
    student = register(http)
    attempt = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(student)).json()
    answers = right_answers(exam)
    half = dict(list(answers.items())[:2])  # 1 + 2 of 7 points
    result = http.post(f"/student/exams/{attempt['attempt_id']}/submit", headers=bearer(student),
                       json={"answers": half}).json()
    assert result["score"] == 3
    with psycopg.connect(migrated_db) as conn:
        best, average = conn.execute(
            "SELECT best_score, average_score FROM app.performance_metrics WHERE student_id = %s",
            [student["user"]["id"]],
        ).fetchone()
    expected = round(100 * 3 / 7, 2)
    assert round(float(best), 2) == expected
    assert round(float(average), 2) == expected


def test_thirty_concurrent_starts_make_one_attempt(http, teacher, live, migrated_db):
    exam = create_exam(http, teacher)
    student = register(http)
    results: list[tuple[int, str]] = []

    def start():
        with live.client() as client:
            answer = client.post(f"/student/exams/{exam['id']}/start", headers=bearer(student))
            results.append((answer.status_code, answer.json().get("attempt_id")))

    threads = [threading.Thread(target=start) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(code for code, _ in results).count(201) == 1
    assert {code for code, _ in results} <= {200, 201}
    assert len({attempt for _, attempt in results}) == 1
    with psycopg.connect(migrated_db) as conn:
        count = conn.execute(
            "SELECT count(*) FROM app.exam_attempts WHERE exam_id = %s AND student_id = %s",
            [exam["id"], student["user"]["id"]],
        ).fetchone()[0]
    assert count == 1


@pytest.mark.parametrize("case", ["not_yet_open", "closed", "unpublished"])
def test_start_outside_the_window_is_409(http, teacher, case):
    now = datetime.now(UTC)
    if case == "not_yet_open":
        exam = create_exam(http, teacher, opens_at=iso(now + timedelta(hours=1)),
                           closes_at=iso(now + timedelta(hours=2)))
    elif case == "closed":
        exam = create_exam(http, teacher, opens_at=iso(now - timedelta(hours=2)),
                           closes_at=iso(now - timedelta(hours=1)))
    else:
        exam = create_exam(http, teacher, published=False)
    student = register(http)
    answer = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(student))
    assert answer.status_code == 409, answer.text
    assert set(answer.json()) == ERROR_KEYS
    reason = {"not_yet_open": "not open yet", "closed": "closed", "unpublished": "not published"}
    assert reason[case] in answer.json()["message"]


def test_attempts_used_up_is_409(http, teacher):
    exam = create_exam(http, teacher, max_attempts=1)
    student = register(http)
    attempt = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(student)).json()
    http.post(f"/student/exams/{attempt['attempt_id']}/submit", headers=bearer(student))
    again = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(student))
    assert again.status_code == 409
    assert "attempt" in again.json()["message"]


@pytest.mark.parametrize("body,field", [
    ({"closes_at": "2020-01-01T00:00:00Z"}, "closes"),
    ({"questions": [{"kind": "single_choice", "prompt": "?", "options": ["a", "b"],
                     "correct": "c", "points": 1}]}, "question"),
    ({"questions": [{"kind": "true_false", "prompt": "?", "options": [], "correct": True,
                     "points": 0}]}, "point"),
    ({"questions": [{"kind": "essay", "prompt": "?", "options": [], "correct": "x"}]}, "kind"),
])
def test_invalid_exams_are_400_and_change_nothing(http, teacher, migrated_db, body, field):
    title = f"invalid-{field}-{time.time_ns()}"
    answer = http.post("/teacher/exams", headers=bearer(teacher),
                       json=exam_body(title=title, **body))
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["message"].lower()
    with psycopg.connect(migrated_db) as conn:
        assert conn.execute("SELECT count(*) FROM app.exams WHERE title = %s",
                            [title]).fetchone()[0] == 0


def test_students_cannot_author_exams(http):
    student = register(http)
    answer = http.post("/teacher/exams", headers=bearer(student), json=exam_body())
    assert answer.status_code == 403


def test_teacher_without_permission_gets_404_under_the_exam(http, teacher, migrated_db):
    exam = create_exam(http, teacher)
    stranger = login(http, create_user(migrated_db, "teacher")["email"])
    student = register(http)
    for method, path, body in [
        ("GET", f"/teacher/exams/{exam['id']}/analytics", None),
        ("GET", f"/teacher/exams/{exam['id']}/flagged", None),
        ("POST", f"/teacher/exams/{exam['id']}/permissions",
         {"teacher_id": stranger["user"]["id"]}),
        ("POST", f"/teacher/exams/{exam['id']}/accommodations",
         {"student_id": student["user"]["id"], "extra_minutes": 10}),
    ]:
        answer = http.request(method, path, headers=bearer(stranger), json=body)
        assert answer.status_code == 404, f"{method} {path}: {answer.status_code} {answer.text}"
    # once granted by the owner, the same teacher gets in
    grant = http.post(f"/teacher/exams/{exam['id']}/permissions", headers=bearer(teacher),
                      json={"teacher_id": stranger["user"]["id"]})
    assert grant.status_code == 201, grant.text
    answer = http.post(f"/teacher/exams/{exam['id']}/accommodations", headers=bearer(stranger),
                       json={"student_id": student["user"]["id"], "extra_minutes": 10})
    assert answer.status_code == 201, answer.text


def test_accommodation_mid_attempt_extends_the_deadline(http, teacher):
    exam = create_exam(http, teacher, duration_minutes=30)
    student = register(http)
    attempt = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(student)).json()
    before = datetime.fromisoformat(attempt["deadline"])
    answer = http.post(f"/teacher/exams/{exam['id']}/accommodations", headers=bearer(teacher),
                       json={"student_id": student["user"]["id"], "extra_minutes": 15})
    assert answer.status_code == 201, answer.text
    resumed = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(student)).json()
    after = datetime.fromisoformat(resumed["deadline"])
    assert after - before == timedelta(minutes=15)


def test_an_accommodation_is_no_licence_to_read_a_student(http, teacher, migrated_db):
    """A teacher sees a student through an attempt on an exam it may access;
    extra time set in advance, on any id, opens nothing."""
    sat = create_exam(http, teacher)
    student = register(http)
    student_id = student["user"]["id"]
    started = http.post(f"/student/exams/{sat['id']}/start", headers=bearer(student))
    assert started.status_code == 201, started.text

    other = login(http, create_user(migrated_db, "teacher")["email"])
    own = create_exam(http, other, duration_minutes=30)
    assert http.get(f"/teacher/students/{student_id}", headers=bearer(other)).status_code == 404
    answer = http.post(f"/teacher/exams/{own['id']}/accommodations", headers=bearer(other),
                       json={"student_id": student_id, "extra_minutes": 30})
    assert answer.status_code == 201, answer.text
    after = http.get(f"/teacher/students/{student_id}", headers=bearer(other))
    assert after.status_code == 404, after.text
    assert set(after.json()) == ERROR_KEYS
    # the exam's own teacher still sees the student it has an attempt from
    assert http.get(f"/teacher/students/{student_id}", headers=bearer(teacher)).status_code == 200

    # The extra time set in advance applies; once the student sits the exam,
    # its teacher sees them.
    attempt = http.post(f"/student/exams/{own['id']}/start", headers=bearer(student)).json()
    length = datetime.fromisoformat(attempt["deadline"]) - datetime.fromisoformat(
        attempt["started_at"])
    assert length == timedelta(minutes=60)
    assert http.get(f"/teacher/students/{student_id}", headers=bearer(other)).status_code == 200


def test_an_accommodation_does_not_tell_a_teacher_who_is_a_student(http, teacher, migrated_db):
    exam = create_exam(http, teacher)
    student = register(http)["user"]["id"]
    not_a_student = create_user(migrated_db, "teacher")["id"]
    nobody = str(uuid.uuid4())
    shapes = {}
    for label, target in [("student", student), ("teacher", not_a_student), ("nobody", nobody)]:
        answer = http.post(f"/teacher/exams/{exam['id']}/accommodations", headers=bearer(teacher),
                           json={"student_id": target, "extra_minutes": 20})
        body = answer.json()
        shapes[label] = (answer.status_code, sorted(body), body["student_id"] == target,
                         body["extra_minutes"], body["attempt_deadline"])
    assert shapes["student"] == shapes["teacher"] == shapes["nobody"], shapes
    assert shapes["student"][0] == 201
    with psycopg.connect(migrated_db) as conn:
        stored = conn.execute(
            "SELECT student_id::text FROM app.accommodations WHERE exam_id = %s",
            [exam["id"]]).fetchall()
    assert stored == [(student,)], "only the real student's extra time is stored"
    # An admin, who sees every user, is told plainly.
    admin = login(http, create_user(migrated_db, "admin")["email"])
    answer = http.post(f"/teacher/exams/{exam['id']}/accommodations", headers=bearer(admin),
                       json={"student_id": nobody, "extra_minutes": 20})
    assert answer.status_code == 404, answer.text


def test_an_abandoned_attempt_stays_abandoned(http, teacher):
    exam = create_exam(http, teacher)
    student = register(http)
    attempt = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(student)).json()
    answer = http.post(f"/student/attempts/{attempt['attempt_id']}/abandon",
                       headers=bearer(student))
    assert answer.status_code == 200
    assert answer.json() == {"attempt_id": attempt["attempt_id"], "status": "abandoned"}
    submit = http.post(f"/student/exams/{attempt['attempt_id']}/submit", headers=bearer(student))
    assert submit.status_code == 409


def test_another_students_attempt_is_404(http, teacher):
    exam = create_exam(http, teacher)
    owner, other = register(http), register(http)
    attempt = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(owner)).json()
    qid = exam["questions"][0]["id"]
    for method, path, body in [
        ("PUT", f"/student/attempts/{attempt['attempt_id']}/answers/{qid}", {"answer": "4"}),
        ("POST", f"/student/exams/{attempt['attempt_id']}/submit", {}),
        ("POST", f"/student/attempts/{attempt['attempt_id']}/abandon", {}),
    ]:
        answer = http.request(method, path, headers=bearer(other), json=body)
        assert answer.status_code == 404, f"{method} {path}: {answer.text}"
    status = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(owner))
    assert status.json()["status"] == "in_progress"


def test_a_one_minute_attempt_left_alone_expires_on_its_saved_answers(http, teacher, migrated_db):
    """Nobody calls anything after the answer is saved: the worker closes it."""
    exam = create_exam(http, teacher, duration_minutes=1, grace_seconds=0)
    student = register(http)
    attempt = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(student)).json()
    first = exam["questions"][0]
    http.put(f"/student/attempts/{attempt['attempt_id']}/answers/{first['id']}",
             headers=bearer(student), json={"answer": first["correct"]})
    stop = threading.Event()
    loop = threading.Thread(target=_worker_until, args=(app_url(migrated_db), stop), daemon=True)
    loop.start()
    try:
        deadline = datetime.fromisoformat(attempt["deadline"])
        row = None
        give_up = time.monotonic() + 120
        while time.monotonic() < give_up:
            with psycopg.connect(migrated_db) as conn:
                row = conn.execute(
                    "SELECT status::text, score, finished_at FROM app.exam_attempts WHERE id = %s",
                    [attempt["attempt_id"]],
                ).fetchone()
            if row[0] != "in_progress":
                break
            time.sleep(1)
    finally:
        stop.set()
        loop.join(timeout=15)
    assert row[0] == "expired"
    assert float(row[1]) == first["points"]
    assert row[2] == deadline


def _worker_until(url: str, stop: threading.Event) -> None:
    while not stop.is_set():
        worker.run(url, once=True)
        stop.wait(2)

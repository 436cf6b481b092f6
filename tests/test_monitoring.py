"""Recording monitoring events (docs/monitoring.md), and the timeline teachers read."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
import uuid
from datetime import UTC, datetime

import httpx
import psycopg
import pytest

from tests.accounts import bearer, create_user, login, register
from tests.exams import create_exam

ERROR_KEYS = {"code", "message", "details", "hint"}


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def event(attempt_id: str, event_type: str = "heartbeat", client_event_id: str | None = None,
          **extra) -> dict:
    body = {"attempt_id": attempt_id, "event_type": event_type, "occurred_at": _now(),
            "payload": {"source": "test"}, "client_event_id": client_event_id or uuid.uuid4().hex}
    body.update(extra)
    return body


@pytest.fixture
def running(http, teacher):
    """A student with an attempt in progress on the teacher's exam."""
    exam = create_exam(http, teacher)
    student = register(http)
    attempt = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(student)).json()
    return {"exam": exam, "student": student, "attempt_id": attempt["attempt_id"]}


def _count(migrated_db: str, attempt_id: str) -> int:
    with psycopg.connect(migrated_db) as conn:
        return conn.execute("SELECT count(*) FROM app.monitoring_events WHERE attempt_id = %s",
                            [attempt_id]).fetchone()[0]


def test_single_events_and_retries(http, running, migrated_db):
    me, attempt = bearer(running["student"]), running["attempt_id"]
    first = http.post("/monitor/events", headers=me, json=event(attempt, "tab_hidden", "e-1"))
    assert first.status_code == 202, first.text
    assert first.json()["duplicate"] is False
    again = http.post("/monitor/events", headers=me, json=event(attempt, "tab_hidden", "e-1"))
    assert again.status_code == 202
    assert again.json() == {"id": first.json()["id"], "duplicate": True}
    assert _count(migrated_db, attempt) == 1


def test_a_batch_with_duplicates(http, running, migrated_db):
    me, attempt = bearer(running["student"]), running["attempt_id"]
    http.post("/monitor/events", headers=me, json=event(attempt, "paste", "b-0"))
    batch = [event(attempt, "gaze_away", f"b-{n}") for n in range(10)]
    batch.append(event(attempt, "gaze_away", "b-3"))  # twice in the same batch
    answer = http.post("/monitor/events", headers=me, json={"events": batch})
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"accepted": 9, "duplicates": 2}
    assert _count(migrated_db, attempt) == 10


def test_is_anomaly_is_derived_not_trusted(http, running, migrated_db):
    me, attempt = bearer(running["student"]), running["attempt_id"]
    http.post("/monitor/events", headers=me,
              json=event(attempt, "devtools_open", "a-1", is_anomaly=False, severity=0))
    with psycopg.connect(migrated_db) as conn:
        row = conn.execute("SELECT is_anomaly, severity FROM app.monitoring_events "
                           "WHERE attempt_id = %s", [attempt]).fetchone()
    assert row == (True, 3)


@pytest.mark.parametrize("bad", [
    {"event_type": "mind_reading"},
    {"occurred_at": "yesterday-ish"},
    {"attempt_id": "not-a-uuid"},
    {"payload": [1, 2]},
    {"client_event_id": ""},
])
def test_bad_events_are_400_and_store_nothing(http, running, migrated_db, bad):
    me, attempt = bearer(running["student"]), running["attempt_id"]
    answer = http.post("/monitor/events", headers=me, json={"events": [
        event(attempt, "heartbeat", "ok-1"), {**event(attempt), **bad}]})
    assert answer.status_code == 400, answer.text
    assert set(answer.json()) == ERROR_KEYS
    assert _count(migrated_db, attempt) == 0


def test_an_unknown_event_type_names_the_event_and_the_valid_types(http, running, migrated_db):
    me, attempt = bearer(running["student"]), running["attempt_id"]
    answer = http.post("/monitor/events", headers=me, json={"events": [
        event(attempt, "heartbeat", "ok-1"), event(attempt, "sneeze")]})
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "22023"
    message = answer.json()["message"]
    assert message.startswith('event 2: unknown event_type "sneeze"; the event types are ')
    with psycopg.connect(migrated_db) as conn:
        types = [t for (t,) in conn.execute("SELECT unnest(enum_range(NULL::app.event_type))")]
    assert message.endswith(", ".join(types))
    single = http.post("/monitor/events", headers=me, json=event(attempt, "Heartbeat"))
    assert single.status_code == 400
    assert single.json()["message"].startswith('event 1: unknown event_type "Heartbeat"')
    assert _count(migrated_db, attempt) == 0


def test_a_bad_uuid_or_time_is_400_naming_the_value(http, running):
    me, attempt = bearer(running["student"]), running["attempt_id"]
    for bad, value in (({"attempt_id": "not-a-uuid"}, "not-a-uuid"),
                       ({"occurred_at": "yesterday-ish"}, "yesterday-ish")):
        answer = http.post("/monitor/events", headers=me, json={**event(attempt), **bad})
        assert answer.status_code == 400, answer.text
        assert value in answer.json()["message"]


def test_empty_and_oversized_batches_are_400(http, running):
    me, attempt = bearer(running["student"]), running["attempt_id"]
    assert http.post("/monitor/events", headers=me, json={"events": []}).status_code == 400
    big = [event(attempt) for _ in range(501)]
    assert http.post("/monitor/events", headers=me, json={"events": big}).status_code == 400


def test_another_students_attempt_is_404(http, running, migrated_db):
    intruder = register(http)
    answer = http.post("/monitor/events", headers=bearer(intruder),
                       json=event(running["attempt_id"], "paste"))
    assert answer.status_code == 404
    assert _count(migrated_db, running["attempt_id"]) == 0


def test_events_after_submit_are_409(http, running, migrated_db):
    me, attempt = bearer(running["student"]), running["attempt_id"]
    assert http.post(f"/student/exams/{attempt}/submit", headers=me).status_code == 200
    answer = http.post("/monitor/events", headers=me, json=event(attempt))
    assert answer.status_code == 409
    assert _count(migrated_db, attempt) == 0


def test_teachers_cannot_post_events(http, running, teacher):
    answer = http.post("/monitor/events", headers=bearer(teacher),
                       json=event(running["attempt_id"]))
    assert answer.status_code == 403


def test_an_integration_account_records_events(http, running, migrated_db):
    service = login(http, create_user(migrated_db, "integration")["email"])
    answer = http.post("/monitor/events", headers=bearer(service),
                       json=event(running["attempt_id"], "multiple_faces", "svc-1"))
    assert answer.status_code == 202, answer.text
    assert _count(migrated_db, running["attempt_id"]) == 1


def test_fifty_concurrent_posts_of_one_event_store_one_row(http, running, live, migrated_db):
    me, attempt = bearer(running["student"]), running["attempt_id"]
    body = event(attempt, "window_blur", "the-same-id")
    answers: list[dict] = []

    def post():
        with live.client() as client:
            answers.append(client.post("/monitor/events", headers=me, json=body).json())

    threads = [threading.Thread(target=post) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _count(migrated_db, attempt) == 1
    assert sum(1 for a in answers if a.get("duplicate") is False) == 1
    assert len({a["id"] for a in answers}) == 1


def test_a_flooding_client_gets_429_with_retry_after(http, running, migrated_db):
    me, attempt = bearer(running["student"]), running["attempt_id"]
    first = http.post("/monitor/events", headers=me,
                      json={"events": [event(attempt) for _ in range(500)]})
    assert first.status_code == 202
    second = http.post("/monitor/events", headers=me,
                       json={"events": [event(attempt) for _ in range(101)]})
    assert second.status_code == 429, second.text
    assert 1 <= int(second.headers["Retry-After"]) <= 60
    assert _count(migrated_db, attempt) == 500


def test_concurrent_single_events_meet_the_bound_exactly(http, running, live, migrated_db):
    """Single events (internal.admit_events) from eight clients at once: of
    640 in one minute for one attempt, 600 are stored and every one past
    them is 429, stored nowhere. Tried again if the run straddles a minute
    (the count starts again at each one)."""
    me, attempt = bearer(running["student"]), running["attempt_id"]
    for _ in range(3):
        minute = int(time.time() // 60)
        statuses: list[int] = []

        def post(worker: int, minute: int = minute, statuses: list[int] = statuses) -> None:
            with live.client() as client:
                for n in range(80):
                    statuses.append(client.post(
                        "/monitor/events", headers=me,
                        json=event(attempt, client_event_id=f"flood-{minute}-{worker}-{n}"),
                    ).status_code)

        threads = [threading.Thread(target=post, args=(w,)) for w in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if int(time.time() // 60) == minute:
            break
        with psycopg.connect(migrated_db) as conn:  # a fresh count for the next try
            conn.execute("DELETE FROM app.event_rate_windows WHERE attempt_id = %s", [attempt])
    else:
        pytest.skip("every try straddled a minute")
    with psycopg.connect(migrated_db) as conn:
        stored = conn.execute(
            "SELECT count(*) FROM app.monitoring_events WHERE attempt_id = %s "
            "AND client_event_id LIKE %s", [attempt, f"flood-{minute}-%"]).fetchone()[0]
    assert sorted(set(statuses)) == [202, 429]
    assert statuses.count(202) == 600
    assert statuses.count(429) == 40
    assert stored == 600


def test_a_revoked_token_or_disabled_student_records_nothing_at_once(http, running, migrated_db):
    """The verified-token cache spares the signature check, never the
    session check: the next event after a logout, or after an admin
    disables the student, is 401 and stores nothing."""
    me, attempt = bearer(running["student"]), running["attempt_id"]
    assert http.post("/monitor/events", headers=me, json=event(attempt)).status_code == 202
    assert http.post("/auth/logout", headers=me).status_code == 204
    answer = http.post("/monitor/events", headers=me, json=event(attempt))
    assert answer.status_code == 401, answer.text
    assert set(answer.json()) == ERROR_KEYS
    assert _count(migrated_db, attempt) == 1

    other = register(http)
    exam = create_exam(http, login(http, create_user(migrated_db, "teacher")["email"]))
    theirs = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(other)).json()
    assert http.post("/monitor/events", headers=bearer(other),
                     json=event(theirs["attempt_id"])).status_code == 202
    admin = login(http, create_user(migrated_db, "admin")["email"])
    assert http.post(f"/admin/users/{other['user']['id']}/active", headers=bearer(admin),
                     json={"active": False}).status_code == 200
    answer = http.post("/monitor/events", headers=bearer(other), json=event(theirs["attempt_id"]))
    assert answer.status_code == 401, answer.text
    assert _count(migrated_db, theirs["attempt_id"]) == 1


@pytest.mark.parametrize("raw", [b'{"attempt_id": ', b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_400(http, running, raw):
    """The body goes to the database as the client sent it (glue/dispatch.py,
    raw_json_body): malformed JSON, a list, a string or bad UTF-8 is still
    400 with the error body."""
    answer = http.post("/monitor/events", headers={**bearer(running["student"]),
                                                   "Content-Type": "application/json"},
                       content=raw)
    assert answer.status_code == 400, answer.text
    assert set(answer.json()) == ERROR_KEYS


def test_timeline_json_and_csv_agree_and_only_permitted_teachers_read_it(
        http, running, teacher, migrated_db):
    me, attempt = bearer(running["student"]), running["attempt_id"]
    for n, kind in enumerate(["heartbeat", "tab_hidden", "tab_visible", "paste"]):
        http.post("/monitor/events", headers=me, json=event(attempt, kind, f"t-{n}"))
    path = f"/teacher/attempts/{attempt}/events"
    timeline = http.get(path, headers=bearer(teacher))
    assert timeline.status_code == 200, timeline.text
    rows = timeline.json()
    assert [r["event_type"] for r in rows] == ["heartbeat", "tab_hidden", "tab_visible", "paste"]
    assert [r["is_anomaly"] for r in rows] == [False, True, False, True]
    assert rows == sorted(rows, key=lambda r: (r["occurred_at"], r["id"]))

    as_csv = http.get(path, headers={**bearer(teacher), "Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["id"] for r in parsed] == [r["id"] for r in rows]
    assert [r["event_type"] for r in parsed] == [r["event_type"] for r in rows]

    page = http.get(path, headers=bearer(teacher), params={
        "limit": 2, "after_occurred_at": rows[1]["occurred_at"], "after_id": rows[1]["id"]})
    assert [r["id"] for r in page.json()] == [r["id"] for r in rows[2:4]]

    stranger = login(http, create_user(migrated_db, "teacher")["email"])
    assert http.get(path, headers=bearer(stranger)).status_code == 404
    own = http.post("/rpc/get_attempt_monitoring_events", headers=me,
                    json={"attempt_id": attempt})
    assert own.status_code == 200
    assert [r["id"] for r in own.json()] == [r["id"] for r in rows]
    other = register(http)
    assert http.post("/rpc/get_attempt_monitoring_events", headers=bearer(other),
                     json={"attempt_id": attempt}).status_code == 404


# -- the timeline's pages ---------------------------------------------------------------

def _follow(http, url: str, headers: dict, params: dict | None = None) -> list[list[dict]]:
    """Every page from ``url``, following the Link headers to the last."""
    pages: list[list[dict]] = []
    answer = http.get(url, headers=headers, params=params)
    while True:
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        following = answer.links.get("next")
        if following is None:
            return pages
        assert len(pages) < 100, "the Link headers do not end"
        answer = http.get(following["url"], headers=headers)


@pytest.fixture
def six_events(http, running):
    """Six events of the running attempt, three of them at the same instant
    (the keyset breaks the tie by id), posted as one batch."""
    me, attempt = bearer(running["student"]), running["attempt_id"]
    tie = _now()
    batch = [event(attempt, "heartbeat", f"p-{n}", occurred_at=tie if n in (1, 2, 3) else _now())
             for n in range(6)]
    assert http.post("/monitor/events", headers=me, json={"events": batch}).status_code == 202
    return running


@pytest.mark.parametrize(("limit", "sizes"), [
    (1, [1] * 6), (2, [2, 2, 2]), (4, [4, 2]), (6, [6]), (7, [6])])
def test_timeline_pages_link_to_the_next_until_the_last(http, six_events, teacher, limit, sizes):
    path = f"/teacher/attempts/{six_events['attempt_id']}/events"
    pages = _follow(http, path, bearer(teacher), {"limit": limit})
    assert [len(p) for p in pages] == sizes  # exact: no empty last page, no missing Link
    whole = http.get(path, headers=bearer(teacher)).json()
    assert "link" not in http.get(path, headers=bearer(teacher)).headers
    assert [r["id"] for p in pages for r in p] == [r["id"] for r in whole]
    assert len({r["id"] for r in whole}) == 6


def test_a_link_keeps_the_callers_limit_and_path(http, six_events, teacher):
    path = f"/teacher/attempts/{six_events['attempt_id']}/events"
    answer = http.get(path, headers=bearer(teacher), params={"limit": 4})
    assert answer.headers["link"].endswith('>; rel="next"')
    url = httpx.URL(answer.links["next"]["url"])
    assert url.path == path
    last = answer.json()[-1]
    assert dict(url.params) == {"limit": "4", "after_occurred_at": last["occurred_at"],
                                "after_id": last["id"]}


def test_the_student_pages_their_own_timeline_through_rpc(http, six_events):
    me, attempt = bearer(six_events["student"]), six_events["attempt_id"]
    pages = _follow(http, "/rpc/get_attempt_monitoring_events", me,
                    {"attempt_id": attempt, "limit": 4})
    assert [len(p) for p in pages] == [4, 2]
    # by POST, the next page is linked by GET (the function is STABLE)
    posted = http.post("/rpc/get_attempt_monitoring_events", headers=me,
                       json={"attempt_id": attempt, "limit": 4})
    following = httpx.URL(posted.links["next"]["url"])
    assert following.path == "/rpc/get_attempt_monitoring_events"
    assert following.params["attempt_id"] == attempt
    assert http.get(following, headers=me).json() == pages[1]


@pytest.mark.parametrize("params", [
    {"limit": 0}, {"limit": 5001}, {"limit": "many"},
    {"after_id": str(uuid.uuid4())}, {"after_occurred_at": "2026-01-01T00:00:00Z"},
    {"after_occurred_at": "not a time", "after_id": str(uuid.uuid4())}])
@pytest.mark.parametrize("accept", ["application/json", "text/csv"])
def test_bad_page_arguments_are_400(http, running, teacher, params, accept):
    answer = http.get(f"/teacher/attempts/{running['attempt_id']}/events", params=params,
                      headers={**bearer(teacher), "Accept": accept})
    assert answer.status_code == 400, answer.text
    assert set(answer.json()) == ERROR_KEYS


BIG = 2345


@pytest.fixture
def big_timeline(running, migrated_db):
    """BIG events written straight into the table (the HTTP budget is 600 a
    minute), in threes at the same instant."""
    with psycopg.connect(migrated_db) as conn:
        conn.execute("""
            INSERT INTO app.monitoring_events (
                attempt_id, attempt_started_at, exam_id, student_id, event_type, occurred_at,
                severity, is_anomaly, payload, client_event_id)
            SELECT a.id, a.started_at, a.exam_id, a.student_id, 'heartbeat',
                   a.started_at + (n / 3) * interval '1 millisecond', 0, false,
                   jsonb_build_object('n', n), 'big-' || n
            FROM app.exam_attempts AS a, generate_series(1, %s) AS n
            WHERE a.id = %s""", [BIG, running["attempt_id"]])
    return running


@pytest.mark.parametrize("limit", [None, 700])
def test_csv_is_the_whole_timeline_streamed(http, big_timeline, teacher, limit):
    path = f"/teacher/attempts/{big_timeline['attempt_id']}/events"
    params = {} if limit is None else {"limit": limit}
    headers = {**bearer(teacher), "Accept": "text/csv"}
    with http.stream("GET", path, headers=headers, params=params) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/csv")
        assert "content-length" not in answer.headers  # streamed, not built whole
        text = "".join(answer.iter_text())
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == BIG
    assert len({r["id"] for r in rows}) == BIG
    assert sorted(int(json.loads(r["payload"])["n"]) for r in rows) == list(range(1, BIG + 1))
    assert rows == sorted(rows, key=lambda r: (datetime.fromisoformat(r["occurred_at"]), r["id"]))


def test_json_pages_of_a_large_timeline(http, big_timeline, teacher):
    path = f"/teacher/attempts/{big_timeline['attempt_id']}/events"
    pages = _follow(http, path, bearer(teacher))
    assert [len(p) for p in pages] == [1000, 1000, BIG - 2000]
    assert len({r["id"] for p in pages for r in p}) == BIG

"""The monitoring module (web/monitor/monitor.js) on its own, as another
frontend would embed it: its event types are the database's, it honours
Retry-After on 503 and 429, sends batches of at most 500, and keeps what it
could not send across a reload."""

from __future__ import annotations

import json
import re
import time

import psycopg

from tests.accounts import bearer, create_user, login, register
from tests.exams import create_exam
from tests.web.browser import REPO, eventually

MONITOR = REPO / "web" / "monitor" / "monitor.js"

START = """async ([attemptId, token, options]) => {
    const m = await import('/app/monitor/monitor.js');
    window.monitor = m.startMonitoring({attemptId, getToken: async () => token,
                                        heartbeatSeconds: 3600, flushSeconds: 3600, ...options});
    return window.monitor.buffer;
}"""


def mirrored_types() -> list[str]:
    text = MONITOR.read_text()
    block = re.search(r"export const EVENT_TYPES = Object\.freeze\(\[(.*?)\]\)", text, re.S)
    assert block, "EVENT_TYPES not found in monitor.js"
    return re.findall(r'"(\w+)"', block[1])


def test_the_event_types_are_the_databases(migrated_db):
    with psycopg.connect(migrated_db) as conn:
        enum = [t for (t,) in conn.execute(
            "SELECT unnest(enum_range(NULL::app.event_type))::text")]
        table = {t for (t,) in conn.execute("SELECT event_type::text FROM app.event_types")}
    assert mirrored_types() == enum
    assert set(enum) == table


def _attempt(http, migrated_db) -> tuple[str, str]:
    teacher = login(http, create_user(migrated_db, "teacher")["email"])
    exam = create_exam(http, teacher)
    student = register(http)
    attempt = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(student)).json()
    return attempt["attempt_id"], student["access_token"]


def _events(migrated_db: str, attempt_id: str) -> list[tuple[str, str]]:
    with psycopg.connect(migrated_db) as conn:
        return conn.execute(
            "SELECT event_type::text, client_event_id FROM app.monitoring_events"
            " WHERE attempt_id = %s", [attempt_id]).fetchall()


def _pending(page) -> int:
    return page.evaluate("() => window.monitor.pending()")


def test_retry_after_on_503_and_429_then_once_each(http, migrated_db, new_context):
    attempt_id, token = _attempt(http, migrated_db)
    page = new_context().new_page()
    calls: list[tuple[float, int]] = []

    def refuse(route, status: int, retry: str) -> None:
        route.fulfill(status=status, headers={"Retry-After": retry},
                      content_type="application/json",
                      body=json.dumps({"code": f"VT{status}", "message": "not now",
                                       "details": None, "hint": None}))

    def answer(route):
        calls.append((time.monotonic(), len(json.loads(route.request.post_data or "{}")
                                             .get("events", [None]))))
        if len(calls) == 1:
            refuse(route, 503, "2")
        elif len(calls) == 2:
            refuse(route, 429, "1")
        else:
            route.continue_()

    page.route("**/monitor/events", answer)
    page.goto("/")
    assert page.evaluate(START, [attempt_id, token, {}]) == "indexeddb"
    page.evaluate("() => { monitor.record('copy', {question_id: 'q1'}); monitor.record('paste'); }")
    page.evaluate("() => { monitor.flush(); }")
    eventually(lambda: _pending(page), lambda n: n == 0, "the buffer to empty")
    assert len(calls) == 3, calls
    assert calls[1][0] - calls[0][0] >= 2.0, "waited Retry-After (2 s) after the 503"
    assert calls[2][0] - calls[1][0] >= 1.0, "waited Retry-After (1 s) after the 429"
    kinds = sorted(kind for kind, _ in _events(migrated_db, attempt_id))
    assert kinds == ["copy", "heartbeat", "paste"]


def test_batches_of_at_most_500(http, migrated_db, new_context):
    attempt_id, token = _attempt(http, migrated_db)
    page = new_context().new_page()
    sizes: list[int] = []
    page.route("**/monitor/events", lambda route: (
        sizes.append(len(json.loads(route.request.post_data or "{}").get("events", [None]))),
        route.continue_()))
    page.goto("/")
    page.evaluate(START, [attempt_id, token, {}])
    page.evaluate("() => { for (let i = 0; i < 540; i++) monitor.record('window_blur'); }")
    page.evaluate("() => monitor.flush()")
    eventually(lambda: _pending(page), lambda n: n == 0, "the buffer to empty")
    assert max(sizes) == 500 and sum(sizes) == 541, sizes
    rows = _events(migrated_db, attempt_id)
    assert len(rows) == 541 == len({r[1] for r in rows})


def test_what_was_not_sent_survives_a_reload(http, migrated_db, new_context):
    attempt_id, token = _attempt(http, migrated_db)
    context = new_context()
    page = context.new_page()
    page.route("**/monitor/events", lambda route: route.abort("internetdisconnected"))
    page.goto("/")
    page.evaluate(START, [attempt_id, token, {}])
    page.evaluate("() => { monitor.record('tab_hidden'); monitor.record('tab_visible'); }")
    page.evaluate("() => monitor.flush()")
    assert _pending(page) == 3
    assert _events(migrated_db, attempt_id) == []

    page.unroute("**/monitor/events")
    page.reload()
    page.evaluate(START, [attempt_id, token, {}])
    page.evaluate("() => monitor.flush()")
    eventually(lambda: _pending(page), lambda n: n == 0, "the buffer to empty")
    kinds = sorted(kind for kind, _ in _events(migrated_db, attempt_id))
    assert kinds == ["heartbeat", "heartbeat", "tab_hidden", "tab_visible"]


def test_stop_flushes_and_a_finished_attempt_drops_the_rest(http, migrated_db, new_context):
    attempt_id, token = _attempt(http, migrated_db)
    page = new_context().new_page()
    page.goto("/")
    page.evaluate(START, [attempt_id, token, {}])
    page.evaluate("() => monitor.record('fullscreen_exit')")
    assert page.evaluate("() => monitor.stop({flush: true})") == {"left": 0}
    assert sorted(k for k, _ in _events(migrated_db, attempt_id)) == ["fullscreen_exit",
                                                                      "heartbeat"]
    http.post(f"/student/exams/{attempt_id}/submit", headers=bearer(token), json={})
    page.evaluate(START, [attempt_id, token, {}])  # a late start: the server answers 409
    page.evaluate("() => monitor.flush()")
    assert _pending(page) == 0, "events the server can no longer take are dropped, not retried"
    assert page.evaluate("() => monitor.record('copy')") is None


def test_what_it_watches(http, migrated_db, new_context):
    attempt_id, token = _attempt(http, migrated_db)
    page = new_context().new_page()
    page.goto("/")
    page.locator("main h1").wait_for()
    page.evaluate(START, [attempt_id, token, {"pauseSeconds": 1}])
    page.wait_for_timeout(1800)  # no input: one unusual_pause, however long the pause lasts
    page.mouse.move(10, 10)
    page.evaluate("() => { window.dispatchEvent(new Event('blur'));"
                  " window.dispatchEvent(new Event('focus')); }")
    page.locator("body").click()  # a user gesture: full screen may be asked for
    page.evaluate("() => document.documentElement.requestFullscreen()")
    page.wait_for_timeout(300)
    page.evaluate("() => document.exitFullscreen()")
    page.wait_for_timeout(300)
    assert page.evaluate("() => monitor.stop({flush: true})") == {"left": 0}
    with psycopg.connect(migrated_db) as conn:
        rows = conn.execute(
            "SELECT event_type::text, payload FROM app.monitoring_events WHERE attempt_id = %s"
            " ORDER BY occurred_at", [attempt_id]).fetchall()
    kinds = [kind for kind, _ in rows]
    for kind in ("heartbeat", "unusual_pause", "window_blur", "window_focus",
                 "fullscreen_enter", "fullscreen_exit"):
        assert kind in kinds, (kind, kinds)
    assert kinds.count("unusual_pause") == 1
    pause = next(payload for kind, payload in rows if kind == "unusual_pause")
    assert set(pause) == {"seconds"} and pause["seconds"] >= 1
    assert "devtools_open" not in kinds

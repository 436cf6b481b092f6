"""Every error answer, routing ones included, has the error body of docs/api.md."""

from __future__ import annotations

from tests.accounts import bearer

ERROR_KEYS = {"code", "message", "details", "hint"}


def test_unknown_route_is_404_with_error_body(http):
    answer = http.get("/no/such/route")
    assert answer.status_code == 404
    assert set(answer.json()) == ERROR_KEYS


def test_wrong_method_is_405_with_error_body(http):
    answer = http.post("/health")
    assert answer.status_code == 405
    body = answer.json()
    assert set(body) == ERROR_KEYS
    assert "POST" in body["message"]


def test_oversized_body_is_refused_with_413(live_factory, migrated_db):
    small = live_factory(migrated_db, max_body_bytes=1000)
    with small.client() as client:
        answer = client.post("/health", content=b"x" * 5000,
                             headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    assert set(answer.json()) == ERROR_KEYS


def test_metrics_counts_requests_by_route_template(http):
    http.get("/health")
    http.get("/no/such/route/abc")
    text = http.get("/metrics").text
    assert 'veritas_http_requests_total{method="GET",route="/health",status="200"}' in text
    assert 'route="unmatched",status="404"' in text
    assert "/no/such/route/abc" not in text
    assert 'veritas_pool{stat="pool_size"}' in text


def test_an_argument_may_not_override_the_path(http, teacher):
    """/teacher/attempts/A/events?attempt_id=B must not read B: 400, as a body
    field that names a path argument is."""
    a, b = "00000000-0000-4000-8000-0000000000a1", "00000000-0000-4000-8000-0000000000b2"
    answer = http.get(f"/teacher/attempts/{a}/events", params={"attempt_id": b},
                      headers=bearer(teacher))
    assert answer.status_code == 400, answer.text
    assert answer.json()["message"] == "attempt_id is set by the path"
    posted = http.post(f"/teacher/attempts/{a}/review", json={"attempt_id": b,
                       "decision": "cleared"}, headers=bearer(teacher))
    assert posted.status_code == 400, posted.text

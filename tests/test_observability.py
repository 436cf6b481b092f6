"""Observability: GET /metrics in Prometheus' format with the operational
figures read from the database, request ids carried from the client to the
database and into JSON log lines, and the alert rules checked by promtool."""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from glue.catalog import RELOAD_CHANNEL
from glue.request_log import JsonFormatter
from tests.accounts import bearer, register
from tests.exams import create_exam

ROOT = Path(__file__).resolve().parent.parent


def samples(http: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


def wait_for(condition, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return bool(condition())


def test_metrics_count_requests_by_route_template(http):
    student = register(http)
    http.get("/health")
    http.get(f"/student/exams/{'0' * 8}-0000-4000-8000-{'0' * 12}", headers=bearer(student))
    found = samples(http)
    assert (value(found, "veritas_http_requests_total", method="GET", route="/health",
                  status="200") or 0) >= 1
    assert value(found, "veritas_http_requests_total", method="GET",
                 route="/student/exams/{exam_id}", status="404") is not None
    assert not any("0000-4000-8000" in str(labels) for _, labels in found), "raw paths leak"
    assert (value(found, "veritas_http_request_duration_seconds_count", method="GET",
                  route="/health") or 0) >= 1
    assert value(found, "veritas_pool", stat="pool_size") is not None


def test_metrics_carry_the_databases_operational_figures(http, teacher, migrated_db):
    found = samples(http)
    assert value(found, "veritas_database_up") == 1
    for chain in ("log", "security_events", "disclosures"):
        assert value(found, "veritas_audit_unsealed_rows", chain=chain) is not None
    before = value(found, "veritas_monitoring_events_inserted_total") or 0

    # A submit queues an analysis job (no worker runs here); events are counted.
    exam = create_exam(http, teacher)
    student = register(http)
    attempt = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(student)).json()
    batch = {"events": [{"attempt_id": attempt["attempt_id"], "event_type": "heartbeat",
                         "occurred_at": "2026-11-25T10:00:00Z", "client_event_id": f"o-{n}"}
                        for n in range(7)]}
    assert http.post("/monitor/events", json=batch, headers=bearer(student)).status_code == 202
    submitted = http.post(f"/student/exams/{attempt['attempt_id']}/submit", json={},
                          headers=bearer(student))
    assert submitted.status_code == 200, submitted.text
    with psycopg.connect(migrated_db) as conn:
        queued = conn.execute("SELECT count(*) FROM app.analysis_jobs "
                              "WHERE status = 'queued'").fetchone()
    assert queued is not None and queued[0] >= 1

    assert wait_for(lambda: (value(samples(http), "veritas_analysis_jobs", status="queued")
                             or 0) >= 1)
    # the statistics collector reports inserts at most once a second per backend
    assert wait_for(lambda: (value(samples(http), "veritas_monitoring_events_inserted_total")
                             or 0) >= before + 7)
    assert (value(samples(http), "veritas_analysis_oldest_queued_seconds") or 0) >= 0


@pytest.fixture
def access_lines() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("veritas.access")
    handler = Keep()
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_a_request_id_is_answered_logged_and_named_in_the_database(http, migrated_db,
                                                                    access_lines):
    with psycopg.connect(migrated_db, autocommit=True) as conn:
        conn.execute("CREATE FUNCTION api.zz_application_name() RETURNS text LANGUAGE sql "
                     "STABLE AS $$ SELECT current_setting('application_name') $$")
        conn.execute("GRANT EXECUTE ON FUNCTION api.zz_application_name() TO anon")
        conn.execute(f"NOTIFY {RELOAD_CHANNEL}")
    try:
        answer = http.post("/rpc/zz_application_name", json={},
                           headers={"X-Request-Id": "exam-day.42"})
        assert wait_for(lambda: http.post("/rpc/zz_application_name", json={}).status_code
                        == 200, 15)
        answer = http.post("/rpc/zz_application_name", json={},
                           headers={"X-Request-Id": "exam-day.42"})
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-request-id"] == "exam-day.42"
        assert answer.json() == "veritas-glue exam-day.42"
    finally:
        with psycopg.connect(migrated_db, autocommit=True) as conn:
            conn.execute("DROP FUNCTION api.zz_application_name()")
            conn.execute(f"NOTIFY {RELOAD_CHANNEL}")
        # gone from the shared glue's catalog before the next test reads it
        assert wait_for(lambda: "/rpc/zz_application_name"
                        not in http.get("/openapi.json").json()["paths"], 15)

    # an id that is not a short token is replaced, never echoed
    odd = http.get("/health", headers={"X-Request-Id": "a b\" c" + "x" * 100})
    assert odd.headers["x-request-id"] != "a b\" c" + "x" * 100
    assert len(odd.headers["x-request-id"]) == 32

    lines = [json.loads(JsonFormatter().format(r)) for r in access_lines]
    mine = [line for line in lines if line.get("request_id") == "exam-day.42"]
    assert mine, lines[-3:]
    assert mine[-1]["route"] == "/rpc/{name}"
    assert mine[-1]["status"] == 200
    assert mine[-1]["method"] == "POST"
    assert mine[-1]["level"] == "info"
    assert isinstance(mine[-1]["duration_ms"], float)


def test_alert_rules_pass_promtool():
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing (Debian: apt-get install prometheus)"
    rules = ROOT / "deploy" / "prometheus"
    checked = subprocess.run([promtool, "check", "rules", str(rules / "alerts.yml")],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run([promtool, "test", "rules", str(rules / "alerts.test.yml")],
                            capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_alert_rules_only_name_series_the_glue_exports(http):
    exported = {name.removesuffix("_total") for name, _ in samples(http)} | {
        "veritas_http_requests"}
    text = (ROOT / "deploy" / "prometheus" / "alerts.yml").read_text()
    named = set(re.findall(r"\b(veritas_[a-z_]+)\{", text))
    assert named, "no series found in the rules"
    # the replica's series exist only with a read replica: checked against a
    # glue that has one in tests/test_replica.py
    named = {n for n in named if not n.startswith("veritas_replica_")}
    missing = {n for n in named if n.removesuffix("_total") not in exported}
    assert not missing, missing


def test_the_private_server_records_statement_statistics(cluster):
    if cluster.local is None:
        pytest.skip("TEST_DATABASE_URL names an outside server: its settings are its own")
    with psycopg.connect(cluster.local.url(dbname="veritas"), autocommit=True) as conn:
        preload = conn.execute("SHOW shared_preload_libraries").fetchone()
        assert preload is not None and "pg_stat_statements" in preload[0]
        conn.execute("SELECT 1 /* statement statistics probe */")
        row = conn.execute("SELECT count(*) FROM pg_stat_statements "
                           "WHERE query LIKE '%statement statistics probe%'").fetchone()
    assert row is not None and row[0] >= 1

"""Monitoring events in: one per request (at saturation, and paced at 500
requests/s), and batches of 500, each beside the database's ceilings.

The ceilings, through pgbench with the same number of clients:
- the API function, as the same students (role, claims, session check, call);
- a plain INSERT of the same row into app.monitoring_events, as its owner
  (the same indexes, foreign key and triggers; no policy, no API);
- for batches: one INSERT of 500 such rows.

``count`` students of the scale data each start an attempt on a fresh exam;
events go round those attempts. The per-attempt flood bound is raised for
the run (as bench/events.py does): a bench sends far more events per
attempt than a browser.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg

from bench import ceiling
from bench.replay import Request, replay
from bench.report import Figure
from bench.workload import (
    Bench,
    create_exam,
    now_iso,
    start_attempts,
    students_of_scale_data,
    teacher_of_scale_data,
)

PLAIN_INSERT = """\\set i random(1, {rows})
SELECT a1, a2, a3, a4 FROM bench.calls_rows WHERE i = :i \\gset
INSERT INTO app.monitoring_events (attempt_id, attempt_started_at, exam_id, student_id,
    event_type, occurred_at, received_at, severity, is_anomaly, payload, client_event_id)
VALUES (:a1::uuid, :a2::timestamptz, :a3::uuid, :a4::uuid, 'heartbeat', now(), now(),
    {severity}, false, '{{}}', gen_random_uuid()::text);
"""

BATCH_INSERT = """\\set i random(0, {rows} - 1)
INSERT INTO app.monitoring_events (attempt_id, attempt_started_at, exam_id, student_id,
    event_type, occurred_at, received_at, severity, is_anomaly, payload, client_event_id)
SELECT c.a1::uuid, c.a2::timestamptz, c.a3::uuid, c.a4::uuid, 'heartbeat', now(), now(),
    {severity}, false, '{{}}', gen_random_uuid()::text
FROM generate_series(0, 499) AS k
JOIN bench.calls_rows AS c ON c.i = 1 + (:i + k) % {rows};
"""

EVENT_CALL = ("api.record_monitoring_events(body => jsonb_build_object("
              "'attempt_id', :a1::text, 'event_type', 'heartbeat', 'occurred_at', now(), "
              "'payload', '{}'::jsonb, 'client_event_id', gen_random_uuid()::text))")


def event(attempt: str, client_id: str) -> dict[str, Any]:
    return {"attempt_id": attempt, "event_type": "heartbeat", "occurred_at": now_iso(),
            "payload": {}, "client_event_id": client_id}


def run(bench: Bench) -> list[Figure]:
    count = 200 if bench.quick else 2000
    with psycopg.connect(bench.admin_url, autocommit=True) as conn:
        conn.execute("ALTER DATABASE veritas SET veritas.events_per_attempt_minute = 1000000")
    exam = create_exam(bench, teacher_of_scale_data(bench))
    students = students_of_scale_data(bench, count)
    attempts = start_attempts(bench, exam["id"], students)
    rows = bench.rows("SELECT a.id, a.started_at, a.exam_id, a.student_id "
                      "FROM app.exam_attempts AS a WHERE a.exam_id = %s", (exam["id"],))
    ceiling.load_calls(bench.admin_url, "rows", [ceiling.Call("", tuple(str(v) for v in r))
                                                 for r in rows])
    (severity,), = bench.rows("SELECT severity FROM app.event_types "
                              "WHERE event_type = 'heartbeat'")
    # wrk cycles through the list; each request gets a new client_event_id.
    singles = [s.request("POST", "/monitor/events", event(attempts[s.user_id], "@@unique@@"))
               for s in students]
    figures = []

    saturated = replay(bench.base_url, singles, seconds=bench.seconds,
                       connections=bench.clients, expect=202, warmup=bench.warmup)
    function = ceiling.call_ceiling(
        bench.admin_url, "event", [s.call(attempts[s.user_id]) for s in students], "student",
        EVENT_CALL, clients=bench.clients, seconds=bench.seconds)
    plain = ceiling.run(bench.admin_url, PLAIN_INSERT.format(rows=len(rows), severity=severity),
                        clients=bench.clients, seconds=bench.seconds)
    figures += [
        Figure("ingest", "one event per request, saturation", saturated["rate"], "events/s",
               plain["tps"], "plain INSERT through pgbench", "≥ 0.3",
               detail={"http": saturated, "plain_insert": plain}),
        Figure("ingest", "one event per request, saturation", saturated["rate"], "events/s",
               function["tps"], "the API function through pgbench", "≥ 0.6",
               detail={"pgbench": function}),
        Figure("ingest", "the API function through pgbench", function["tps"], "events/s",
               plain["tps"], "plain INSERT through pgbench", "≥ 0.5"),
    ]

    # About 500 requests/s: 25 connections, each pausing 48 ms after an
    # answer (wrk paces by a delay, not a rate: the rate reached is reported).
    paced = replay(bench.base_url, singles, seconds=bench.seconds, connections=25, expect=202,
                   pace_ms=48)
    figures += [
        Figure("ingest", f"paced ({paced['rate']:.0f} req/s): p50", paced["p50_ms"], "ms",
               target="≤ 2 ms", detail=paced),
        Figure("ingest", f"paced ({paced['rate']:.0f} req/s): p99", paced["p99_ms"], "ms",
               target="≤ 5 ms"),
    ]

    service = service_token(bench)
    batches = []
    ordered = list(attempts.values())
    for k in range(max(4, 4000 // len(ordered))):
        body = {"events": [event(ordered[(k * 500 + j) % len(ordered)], f"@@unique@@-{j}")
                           for j in range(500)]}
        batches.append(Request("POST", "/monitor/events", service, json.dumps(body)))
    batched = replay(bench.base_url, batches, seconds=bench.seconds, connections=4, expect=202,
                     warmup=bench.warmup)
    batch_plain = ceiling.run(bench.admin_url,
                              BATCH_INSERT.format(rows=len(rows), severity=severity),
                              clients=4, seconds=bench.seconds)
    figures.append(Figure("ingest", "batches of 500", batched["rate"] * 500, "events/s",
                          batch_plain["tps"] * 500, "500-row INSERT through pgbench", "≥ 0.7",
                          detail={"http": batched, "plain_insert": batch_plain}))
    return figures


def service_token(bench: Bench) -> str:
    """An integration account of the run's own, and its access token."""
    from glue import tokens

    with psycopg.connect(bench.admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT id FROM auth.users WHERE email = 'harness-integration@bench.test'").fetchone()
        if row is None:
            row = conn.execute(
                "SELECT (internal.create_user('harness-integration@bench.test', 'x', "
                "'Harness', 'integration'))->>'id'").fetchone()
    assert row is not None
    token, _ = tokens.issue_access_token(bench.secret, str(row[0]), "integration")
    return token

"""Monitoring-event ingestion, each HTTP figure beside its database ceiling,
all measured in one run (the targets of issue 13 and docs/performance.md).

    python bench/events.py [--attempts 500] [--seconds 10] [--clients 8] [--workers 1]

On a private stack (bench/stack.py; the glue served by ``veritas serve
--workers N`` in a process of its own, N = 1 by default),
students with an attempt in progress each, then in turn:

1. ``plain_insert``: the same row straight into app.monitoring_events
   (pgbench, ``--clients`` clients, prepared; its indexes, foreign key and
   triggers as they are): what storing one event costs the database;
2. ``api_function``: the API function through pgbench with the same clients,
   as the glue sends it: one query string of role and claims, the session
   check and the call, one transaction each;
3. ``http_single``: one event per request over HTTP, closed loop (wrk, 2
   threads, 32 connections);
4. ``http_paced``: one event per request at a paced 500 requests/s (each wrk
   thread sends on a fixed schedule; latency percentiles);
5. ``multi_row_insert``: 500 rows in one INSERT (pgbench, same clients);
6. ``http_batches``: batches of 500 events over HTTP (integration account,
   4 connections).

Ratios (targets): HTTP single / plain INSERT (>= 0.3), API function / plain
INSERT (>= 0.5), HTTP single / API function (>= 0.6), HTTP batches / multi-row
INSERT, in events (>= 0.7); paced p50 <= 2 ms, p99 <= 5 ms.

wrk and pgbench must be installed (Debian: wrk, postgresql-<n>); the load
generators share the machine's cores with the server. The flood bound is
lifted for the run (many events per attempt in a short time).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import ceiling, cpu
from bench.replay import run_wrk
from bench.stack import Stack, scalar, stack
from glue import passwords, tokens

# The wrk script: %(...)s are filled in by lua(); a literal % is written %%.
LUA = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int, bench_timespec *);
]]
local clock = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end
local tokens, attempts = {}, {}
for line in io.lines("%(ids)s") do
  local a, t = line:match("([^ ]+) ([^ ]+)")
  attempts[#attempts + 1] = a
  tokens[#tokens + 1] = t
end
local n = #attempts
local tid = 0
function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
end
local counter = 0
local batch = %(batch)d
local service = "%(service)s"
local now = "%(now)s"
local run = "%(run)s"
-- Paced: this thread's requests leave on a fixed schedule, one every
-- interval ms, whichever of its connections is free (0: closed loop).
local interval = %(interval)f
local next_at = nil
function delay()
  if interval <= 0 then return 0 end
  local t = now_ms()
  next_at = math.max(next_at or t, t - 10 * interval) + interval
  return math.max(0, math.floor(next_at - t))
end
request = function()
  counter = counter + 1
  if batch > 0 then
    local parts = {}
    for k = 1, batch do
      local i = ((counter * batch + k) %% n) + 1
      parts[k] = string.format(
        '{"attempt_id":"%%s","event_type":"heartbeat","occurred_at":"%%s","payload":{},"client_event_id":"%%s-%%d-%%d-%%d"}',
        attempts[i], now, run, tid, counter, k)
    end
    local body = '{"events":[' .. table.concat(parts, ",") .. ']}'
    return wrk.format("POST", "/monitor/events",
      {["Authorization"] = "Bearer " .. service, ["Content-Type"] = "application/json"}, body)
  end
  local i = ((counter * 7 + tid) %% n) + 1
  local body = string.format(
    '{"attempt_id":"%%s","event_type":"heartbeat","occurred_at":"%%s","payload":{},"client_event_id":"%%s-%%d-%%d"}',
    attempts[i], now, run, tid, counter)
  return wrk.format("POST", "/monitor/events",
    {["Authorization"] = "Bearer " .. tokens[i], ["Content-Type"] = "application/json"}, body)
end
function done(summary, latency, requests)
  io.write(string.format("JSON {\"requests\":%%d,\"seconds\":%%f,\"errors\":%%d,\"non2xx\":%%d,",
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
  io.write(string.format("\"p50_ms\":%%f,\"p90_ms\":%%f,\"p99_ms\":%%f,\"max_ms\":%%f}\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""

COLUMNS = ("attempt_id, attempt_started_at, exam_id, student_id, event_type, occurred_at, "
           "severity, is_anomaly, payload, client_event_id")

# 1. The row the API function stores for a heartbeat, straight in.
PLAIN_INSERT = f"""\\set i random(1, {{n}})
INSERT INTO app.monitoring_events ({COLUMNS})
SELECT b.attempt_id, b.started_at, b.exam_id, b.student_id, 'heartbeat', now(), 0, false,
    '{{{{}}}}', gen_random_uuid()::text
FROM public.bench_rows AS b WHERE b.i = :i;
"""

# 2. One query string, as glue/request_path.py sends it (the claims and the
# event read from the bench's table in its first statement; `\;` keeps the
# three statements in one message, one implicit transaction).
API_FUNCTION = """\\set i random(1, {n})
SELECT set_config('role', 'student', true), set_config('request.jwt.claims', b.claims, true), \
set_config('request.method', 'POST', true), set_config('request.path', '/monitor/events', true), \
set_config('transaction_read_only', 'off', true), \
set_config('application_name', 'veritas-glue bench', true), \
set_config('bench.event', json_build_object('attempt_id', b.attempt_id, \
'event_type', 'heartbeat', 'occurred_at', now(), 'payload', '{{}}'::json, \
'client_event_id', gen_random_uuid())::text, true) \
FROM public.bench_rows AS b WHERE b.i = :i \\;
SELECT internal.assert_session_active() \\;
SELECT to_json(api.record_monitoring_events(body => current_setting('bench.event')::jsonb))::text, \
current_setting('response.next_page', true)
"""


@dataclass
class Ingest:
    """What the scenarios share: the attempts, their tokens, the service token."""

    folder: Path
    ids: Path
    attempts: int
    service_token: str
    # (attempt_id, started_at, exam_id, student_id), for the multi-row INSERT
    rows: list[tuple[Any, ...]]
    # (attempt_id, access token, claims JSON) of each student (bench/chaos.py)
    students: list[tuple[str, str, str]]


def _as(conn: psycopg.Connection[Any], secret: bytes, user: dict[str, Any], statement: str,
        args: list[object]) -> tuple[Any, str, str]:
    """Run ``statement`` as ``user`` (role and claims, as the glue does)."""
    token, claims = tokens.issue_access_token(secret, user["id"], user["role"])
    with conn.transaction():
        conn.execute("SELECT set_config('role', %s, true), "
                     "set_config('request.jwt.claims', %s, true)",
                     [user["role"], json.dumps(claims.raw)])
        result = scalar(conn, statement, args)
    return result, token, json.dumps(claims.raw)


def prepare(admin_url: str, secret: bytes, attempts: int, folder: Path | None = None) -> Ingest:
    """Students with an attempt in progress each; public.bench_rows holds, per
    attempt, the columns an event copies from it and the student's claims.
    The wrk scripts go to ``folder`` (a new temporary one by default)."""
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="veritas-events-"))
        folder.chmod(0o755)
    hashed = passwords.hash_password("bench-password-123", cost=4)
    create = "SELECT internal.create_user(%s, %s, %s, %s::auth.user_role)"
    students: list[tuple[str, str, str]] = []
    with psycopg.connect(admin_url, autocommit=True) as conn:
        # Many events per attempt in a short run: lift the flood bound for the bench.
        conn.execute("ALTER DATABASE veritas SET veritas.events_per_attempt_minute = 1000000")
        teacher = scalar(conn, create, ["t@bench.test", hashed, "Bench", "teacher"])
        service = scalar(conn, create, ["i@bench.test", hashed, "Svc", "integration"])
        exam, _, _ = _as(conn, secret, teacher,
                         "SELECT api.create_exam(title => 'Bench', description => 'b', "
                         "duration_minutes => 1440, opens_at => now() - interval '1 hour', "
                         "closes_at => now() + interval '2 days', max_attempts => 1, "
                         "questions => %s::jsonb)",
                         [json.dumps([{"kind": "true_false", "prompt": "?", "options": [],
                                       "correct": True}])])
        conn.execute("CREATE TABLE public.bench_rows (i int PRIMARY KEY, attempt_id uuid, "
                     "started_at timestamptz, exam_id uuid, student_id uuid, claims text)")
        for n in range(attempts):
            student = scalar(conn, create, [f"s{n}@bench.test", hashed, "Student", "student"])
            attempt, token, claims = _as(conn, secret, student,
                                         "SELECT api.create_exam_attempt(%s)", [exam["id"]])
            conn.execute("INSERT INTO public.bench_rows SELECT %s, a.id, a.started_at, a.exam_id, "
                         "a.student_id, %s FROM app.exam_attempts AS a WHERE a.id = %s",
                         [n + 1, claims, attempt["attempt_id"]])
            students.append((attempt["attempt_id"], token, claims))
        rows = conn.execute("SELECT attempt_id, started_at, exam_id, student_id "
                            "FROM public.bench_rows ORDER BY i").fetchall()
        conn.execute("ANALYZE public.bench_rows")
    service_token, _ = tokens.issue_access_token(secret, service["id"], "integration")
    ids = folder / "ids.txt"
    ids.write_text("".join(f"{a} {t}\n" for a, t, _ in students))
    return Ingest(folder, ids, attempts, service_token, rows, students)


def multi_row_insert(rows: list[tuple[Any, ...]], size: int = 500) -> str:
    """One INSERT of ``size`` heartbeat rows, one per attempt in turn (as a
    batch of the bench spreads its events), each with a fresh client_event_id."""
    values = []
    for k in range(size):
        attempt_id, started_at, exam_id, student_id = rows[k % len(rows)]
        values.append(f"('{attempt_id}', '{started_at.isoformat()}', '{exam_id}', '{student_id}', "
                      "'heartbeat', now(), 0, false, '{}', gen_random_uuid()::text)")
    return f"INSERT INTO app.monitoring_events ({COLUMNS}) VALUES\n" + ",\n".join(values) + ";\n"


def pgbench(url: str, script: Path, seconds: int, clients: int, protocol: str) -> dict[str, Any]:
    """Transactions per second of ``script`` (pgbench -M ``protocol``)."""
    return {**ceiling.run(url, script.read_text(), clients=clients, seconds=seconds,
                          protocol=protocol), "protocol": protocol}


def lua(ingest: Ingest, batch: int = 0, rate: float = 0, threads: int = 2) -> Path:
    """A wrk script: single events (``batch`` 0) or batches, closed loop
    (``rate`` 0) or paced at ``rate`` requests/s over ``threads`` threads.
    Each script has its own client_event_ids: no run replays another's."""
    run = uuid.uuid4().hex[:8]
    path = ingest.folder / f"events-{run}.lua"
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    interval = threads * 1000.0 / rate if rate else 0.0
    path.write_text(LUA % {"ids": ingest.ids, "batch": batch, "service": ingest.service_token,
                           "now": now, "run": run, "interval": interval})
    return path


def per_event(seconds_by_node: dict[str, float], events: float) -> dict[str, float]:
    """CPU milliseconds per event of each database server, and their sum."""
    if not events:
        return {}
    found = {name: round(1000 * spent / events, 4) for name, spent in seconds_by_node.items()}
    found["all"] = round(sum(found.values()), 4)
    return found


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def run_ingest(s: Stack, seconds: int = 10, attempts: int = 500, clients: int = 8,
               ingest: Ingest | None = None) -> dict[str, Any]:
    """Every ingest scenario on stack ``s``, each ``seconds`` long, with the ratios."""
    if ingest is None:
        secret = (s.data_dir / "jwt_secret").read_text().strip().encode()
        ingest = prepare(s.admin_url, secret, attempts)
        try:
            return run_ingest(s, seconds, attempts, clients, ingest)
        finally:
            shutil.rmtree(ingest.folder, ignore_errors=True)
    folder = ingest.folder
    n = ingest.attempts
    (folder / "plain.sql").write_text(PLAIN_INSERT.format(n=n))
    (folder / "api.sql").write_text(API_FUNCTION.format(n=n))
    (folder / "multi.sql").write_text(multi_row_insert(ingest.rows))
    report: dict[str, Any] = {}
    report["plain_insert"] = pgbench(s.admin_url, folder / "plain.sql", seconds, clients,
                                     "prepared")
    before = cpu.reading(s.nodes)
    report["api_function"] = pgbench(s.admin_url, folder / "api.sql", seconds, clients, "simple")
    report["api_function"]["cpu_ms_per_event"] = per_event(
        cpu.spent(before, cpu.reading(s.nodes)), report["api_function"]["transactions"] or 0)
    before = cpu.reading(s.nodes)
    report["http_single"] = run_wrk(s.base_url, lua(ingest), seconds, 32, 2)
    report["http_single"]["cpu_ms_per_event"] = per_event(
        cpu.spent(before, cpu.reading(s.nodes)), report["http_single"]["requests"])
    report["http_paced"] = run_wrk(s.base_url, lua(ingest, rate=500), seconds, 16, 2)
    report["multi_row_insert"] = pgbench(s.admin_url, folder / "multi.sql", seconds, clients,
                                         "prepared")
    report["multi_row_insert"]["events_per_second"] = round(
        report["multi_row_insert"]["tps"] * 500, 1)
    batches = run_wrk(s.base_url, lua(ingest, batch=500), seconds, 4, 2)
    batches["events_per_second"] = round(batches["rate"] * 500, 1)
    report["http_batches"] = batches
    plain, api = report["plain_insert"]["tps"], report["api_function"]["tps"]
    single = report["http_single"]["rate"]
    report["ratios"] = {
        "http_single_to_plain_insert": _ratio(single, plain),
        "api_function_to_plain_insert": _ratio(api, plain),
        "http_single_to_api_function": _ratio(single, api),
        "http_batches_to_multi_row_insert": _ratio(
            batches["events_per_second"], report["multi_row_insert"]["events_per_second"]),
    }
    report["paced"] = {"rate": report["http_paced"]["rate"],
                       "p50_ms": report["http_paced"]["p50_ms"],
                       "p99_ms": report["http_paced"]["p99_ms"]}
    report["targets"] = {"http_single_to_plain_insert": 0.3, "api_function_to_plain_insert": 0.5,
                         "http_single_to_api_function": 0.6,
                         "http_batches_to_multi_row_insert": 0.7,
                         "paced_p50_ms": 2.0, "paced_p99_ms": 5.0}
    non2xx = sum(report[k]["non2xx"] + report[k]["errors"]
                 for k in ("http_single", "http_paced", "http_batches"))
    report["http_errors"] = non2xx
    with psycopg.connect(s.admin_url) as conn:
        report["events_stored"] = scalar(conn, "SELECT count(*) FROM app.monitoring_events")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attempts", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8,
                        help="pgbench clients of the ceilings (default 8)")
    parser.add_argument("--workers", type=int, default=1,
                        help="API processes (veritas serve --workers; default 1)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (Debian: apt-get install wrk)")
    started = time.monotonic()
    with stack(args.workers) as s:
        report = run_ingest(s, args.seconds, args.attempts, args.clients)
    report["workers"] = args.workers
    report["seconds_total"] = round(time.monotonic() - started, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

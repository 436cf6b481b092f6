"""Monitoring-event ingestion, measured against the targets of docs/performance.md.

    python bench/events.py [--attempts 2000] [--seconds 15] [--workers 1]

On a private stack (bench/stack.py; the glue served by ``veritas serve
--workers N`` in a process of its own, N = 1 by default):

1. HTTP, one event per request, closed loop (wrk, 2 threads, 32 connections):
   the most events per second the glue sustains;
2. the same SQL function called directly (pgbench, same role switch, claims,
   session check and call, one transaction each): the database's ceiling,
   and the ratio HTTP / direct (target >= 0.6);
3. HTTP at a paced 500 requests/s (wrk with a per-connection delay): latency
   percentiles (target p50 <= 2 ms, p99 <= 5 ms);
4. batches of 500 events over HTTP (integration account): events per second
   (target >= 50,000).

wrk and pgbench must be installed (Debian: wrk, postgresql-<n>); the load
generator shares the machine's cores with the server.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import scalar, stack
from glue import passwords, tokens

LUA = r"""
local tokens, attempts = {}, {}
local idx = 0
for line in io.lines("%(ids)s") do
  local a, t = line:match("([^ ]+) ([^ ]+)")
  attempts[#attempts + 1] = a
  tokens[#tokens + 1] = t
end
local n = #attempts
local tid = 0
local counter = 0
local threads = {}
function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
end
function init(args)
  counter = 0
end
local batch = %(batch)d
local service = "%(service)s"
local now = "%(now)s"
local pace = %(pace)d
function delay()
  return pace
end
request = function()
  counter = counter + 1
  if batch > 0 then
    local parts = {}
    for k = 1, batch do
      local i = ((counter * batch + k) %% n) + 1
      parts[k] = string.format(
        '{"attempt_id":"%%s","event_type":"heartbeat","occurred_at":"%%s","payload":{},"client_event_id":"b%%d-%%d-%%d"}',
        attempts[i], now, tid, counter, k)
    end
    local body = '{"events":[' .. table.concat(parts, ",") .. ']}'
    return wrk.format("POST", "/monitor/events",
      {["Authorization"] = "Bearer " .. service, ["Content-Type"] = "application/json"}, body)
  end
  local i = ((counter * 7 + tid) %% n) + 1
  local body = string.format(
    '{"attempt_id":"%%s","event_type":"heartbeat","occurred_at":"%%s","payload":{},"client_event_id":"s%%d-%%d"}',
    attempts[i], now, tid, counter)
  return wrk.format("POST", "/monitor/events",
    {["Authorization"] = "Bearer " .. tokens[i], ["Content-Type"] = "application/json"}, body)
end
function done(summary, latency, requests)
  local codes = {}
  io.write(string.format("JSON {\"requests\":%%d,\"seconds\":%%f,\"errors\":%%d,\"non2xx\":%%d,",
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
  io.write(string.format("\"p50_ms\":%%f,\"p90_ms\":%%f,\"p99_ms\":%%f,\"max_ms\":%%f}\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""

PGBENCH = """\\set i random(1, {n})
SELECT attempt_id AS aid, claims AS cl FROM public.bench_ids WHERE i = :i \\gset
BEGIN;
SELECT set_config('role', 'student', true), set_config('request.jwt.claims', :cl::text, true);
SELECT internal.assert_session_active();
SELECT api.record_monitoring_events(jsonb_build_object(
    'attempt_id', :aid::text, 'event_type', 'heartbeat', 'occurred_at', now(),
    'payload', '{{}}'::jsonb, 'client_event_id', gen_random_uuid()::text));
END;
"""


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


def prepare(admin_url: str, secret: bytes, attempts: int) -> tuple[list[tuple[str, str, str]], str]:
    """Students with an attempt in progress each: (attempt, token, claims) rows."""
    hashed = passwords.hash_password("bench-password-123", cost=4)
    create = "SELECT internal.create_user(%s, %s, %s, %s::auth.user_role)"
    rows = []
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
        for n in range(attempts):
            student = scalar(conn, create, [f"s{n}@bench.test", hashed, "Student", "student"])
            attempt, token, claims = _as(conn, secret, student,
                                         "SELECT api.create_exam_attempt(%s)", [exam["id"]])
            rows.append((attempt["attempt_id"], token, claims))
        service_token, _ = tokens.issue_access_token(secret, service["id"], "integration")
        conn.execute("CREATE TABLE public.bench_ids (i int PRIMARY KEY, attempt_id text, "
                     "claims text)")
        with conn.cursor().copy("COPY public.bench_ids FROM STDIN") as copy:
            for i, (attempt_id, _, claims) in enumerate(rows, start=1):
                copy.write_row((i, attempt_id, claims))
    return rows, service_token


def wrk(base_url: str, script: Path, seconds: int, connections: int,
        threads: int = 2) -> dict[str, Any]:
    done = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
         "-s", str(script), base_url], capture_output=True, text=True, check=True)
    found = re.search(r"^JSON (.*)$", done.stdout, re.MULTILINE)
    assert found, done.stdout + done.stderr
    result: dict[str, Any] = json.loads(found.group(1))
    result["rate"] = round(result["requests"] / result["seconds"], 1)
    return result


def lua(folder: Path, ids: Path, batch: int, service: str, pace_ms: int) -> Path:
    path = folder / f"events-{batch}-{pace_ms}.lua"
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    path.write_text(LUA % {"ids": ids, "batch": batch, "service": service, "now": now,
                           "pace": pace_ms})
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--attempts", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=1,
                        help="API processes (veritas serve --workers; default 1)")
    args = parser.parse_args()
    for tool in ("wrk",):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed (Debian: apt-get install {tool})")
    report: dict[str, object] = {}
    folder = Path(tempfile.mkdtemp(prefix="veritas-events-"))
    report["workers"] = args.workers
    with stack(args.workers) as s:
        secret = (s.data_dir / "jwt_secret").read_text().strip().encode()
        started = time.monotonic()
        rows, service = prepare(s.admin_url, secret, args.attempts)
        report["setup_seconds"] = round(time.monotonic() - started, 1)
        ids = folder / "ids.txt"
        ids.write_text("".join(f"{a} {t}\n" for a, t, _ in rows))

        single = wrk(s.base_url, lua(folder, ids, 0, service, 0), args.seconds, 32)
        report["http_single_closed_loop"] = single

        pgbench = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"),
                                   reverse=True)), Path(shutil.which("pgbench") or "pgbench"))
        script = folder / "event.sql"
        script.write_text(PGBENCH.format(n=len(rows)))
        env = {**os.environ}
        out = subprocess.run(
            [str(pgbench), "-n", "-M", "prepared", "-c", "8", "-j", "2", "-T", str(args.seconds),
             "-f", str(script), s.admin_url], capture_output=True, text=True, env=env)
        tps = re.search(r"tps = ([\d.]+)", out.stdout)
        report["direct_sql_pgbench"] = {"tps": float(tps.group(1)) if tps else None,
                                        "detail": out.stdout.strip().splitlines()[-3:]
                                        if tps else out.stderr.strip()[-500:]}
        if tps:
            report["ratio_http_to_direct"] = round(single["rate"] / float(tps.group(1)), 3)

        # 500 requests/s: 10 connections, each waiting 20 ms between requests.
        paced = wrk(s.base_url, lua(folder, ids, 0, service, 20), args.seconds, 10)
        report["http_single_paced"] = paced

        batches = wrk(s.base_url, lua(folder, ids, 500, service, 0), args.seconds, 4)
        batches["events_per_second"] = round(batches["rate"] * 500, 1)
        report["http_batches_of_500"] = batches
        with psycopg.connect(s.admin_url) as conn:
            report["events_stored"] = scalar(conn, "SELECT count(*) FROM app.monitoring_events")
    shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

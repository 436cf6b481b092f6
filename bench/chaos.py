"""Faults under load: nothing acknowledged is lost, and service comes back.

    python bench/chaos.py [--cycles 5] [--clients 6] [--submitters 2] [--down 2]

Runs the stack (bench/stack.py) and a ``veritas worker`` process. Ingest
clients send single monitoring events, each with its own client_event_id,
and retry an event that got no 202 with the same id (as the monitoring
module does); submit clients submit attempts one after another and retry a
submit that got no answer. Each cycle injects one fault, in this order
(then again from the top):

1. ``postmaster-sigkill``: PostgreSQL's postmaster killed with SIGKILL, started
   again after --down seconds;
2. ``pg-immediate``: ``pg_ctl stop -m immediate``, started again after --down;
3. ``worker-sigkill``: the worker killed with SIGKILL while analysis jobs are
   queued (so, most likely, in the middle of one), started again;
4. ``glue-sigkill``: the API process killed with SIGKILL, started again.

Then the load stops, the worker drains the queue, and the run checks:

- every event answered 202 is stored, exactly once (a retried id never twice);
- every submit answered 200 (or 409 on a retry of one whose answer was lost)
  left its attempt submitted;
- every submitted attempt has exactly one built-in analysis: a job killed
  mid-run ran again, once;
- no answer was a 500;
- recovery: from the moment the failed part is back (the database started,
  the process started) to the first success of what it serves; the longest,
  against the goal of 5 s.

It prints JSON and exits non-zero when a check fails. A bounded run is part
of the test suite (tests/test_chaos.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.events import prepare
from bench.stack import ROOT, Stack, stack
from glue.localdb import LocalDbError, LocalServer

Rows = list[tuple[str, str, str]]  # (attempt, token, claims), from bench/events.py
FAULTS = ("postmaster-sigkill", "pg-immediate", "worker-sigkill", "glue-sigkill")


@dataclass
class Log:
    """What the clients saw: (sent, answered, status) rows, and what was acknowledged."""

    answers: list[tuple[float, float, str, str]] = field(default_factory=list)
    events_acknowledged: set[str] = field(default_factory=set)
    submits_acknowledged: set[str] = field(default_factory=set)


async def ingest(base: str, rows: Rows, stop: asyncio.Event, log: Log) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        n = 0
        while not stop.is_set():
            attempt, token, _ = rows[n % len(rows)]
            n += 1
            event_id = uuid.uuid4().hex
            body = {"attempt_id": attempt, "event_type": "heartbeat",
                    "occurred_at": "2026-11-25T12:00:00Z", "payload": {},
                    "client_event_id": event_id}
            while not stop.is_set():  # the same event until it is acknowledged
                sent = time.monotonic()
                try:
                    answer = await http.post("/monitor/events", json=body,
                                             headers={"Authorization": f"Bearer {token}"})
                    status = str(answer.status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                log.answers.append((sent, time.monotonic(), "event", status))
                if status == "202":
                    log.events_acknowledged.add(event_id)
                    break
                await asyncio.sleep(0.2)


async def submit(base: str, rows: Rows, stop: asyncio.Event, log: Log) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        for attempt, token, _ in rows:
            retried = False
            while not stop.is_set():
                sent = time.monotonic()
                try:
                    answer = await http.post(f"/student/exams/{attempt}/submit", json={},
                                             headers={"Authorization": f"Bearer {token}"})
                    status = str(answer.status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                log.answers.append((sent, time.monotonic(), "submit", status))
                if status == "200" or (status == "409" and retried):
                    log.submits_acknowledged.add(attempt)
                    break
                retried = True
                await asyncio.sleep(0.2)
            if stop.is_set():
                return
            await asyncio.sleep(0.3)


class Worker:
    """``veritas worker`` in a process of its own."""

    def __init__(self, data_dir: Path) -> None:
        self.command = [sys.executable, "-m", "glue.cli", "--data-dir", str(data_dir), "worker"]
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("DATABASE_URL", "VERITAS_"))}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.env, cwd=ROOT,
                                        stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def kill_postmaster(server: LocalServer) -> None:
    pid = int((server.pgdata / "postmaster.pid").read_text().splitlines()[0])
    os.kill(pid, signal.SIGKILL)


def start_again(server: LocalServer, within: float = 30) -> None:
    """Start the server again after a kill. Until the killed postmaster is
    reaped, ``pg_ctl status`` still finds its pid alive; and its orphaned
    backends may hold the old shared memory for a moment: wait for both."""
    deadline = time.monotonic() + within
    while True:
        try:
            if not server.running() and server.start():
                return
        except LocalDbError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("PostgreSQL did not start again")
        time.sleep(0.1)


def queue_caught_up(admin_url: str, since: float, within: float = 30) -> float | None:
    """Seconds from ``since`` (wall clock) until no analysis job queued or
    claimed before it is left (0 when none was): the restarted worker took
    over what the killed one had claimed or not reached."""
    deadline = time.monotonic() + within
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM app.analysis_jobs WHERE status IN ('queued', 'running') "
                "AND created_at < to_timestamp(%s)", [since]).fetchone()
            if row is not None and row[0] == 0:
                return max(0.0, time.time() - since)
            time.sleep(0.1)
    return None


async def cycle(fault: str, s: Stack, server: LocalServer, worker: Worker, log: Log,
                down: float, settle: float) -> dict[str, object]:
    await asyncio.sleep(settle)
    faulted = time.monotonic()
    if fault in ("postmaster-sigkill", "pg-immediate"):
        if fault == "postmaster-sigkill":
            await asyncio.to_thread(kill_postmaster, server)
        else:
            await asyncio.to_thread(server.kill)
        await asyncio.sleep(down)
        await asyncio.to_thread(start_again, server)
        kind = "event"
    elif fault == "worker-sigkill":
        await asyncio.to_thread(worker.kill)
        await asyncio.sleep(down)
        await asyncio.to_thread(worker.start)
        kind = "analysis"
    else:
        await asyncio.to_thread(s.glue.kill)
        await asyncio.sleep(down)
        await asyncio.to_thread(s.glue.start)
        kind = "event"
    back, back_wall = time.monotonic(), time.time()
    result: dict[str, object] = {"fault": fault, "back_after_s": round(back - faulted, 2)}
    if kind == "analysis":
        caught_up = await asyncio.to_thread(queue_caught_up, s.admin_url, back_wall)
        result["recovery_s"] = None if caught_up is None else round(caught_up, 2)
    else:
        result["back_at"] = back  # the first 202 after it is looked up at the end
    return result


async def run(s: Stack, rows: Rows, cycles: int, clients: int, submitters: int, down: float,
              settle: float) -> tuple[Log, list[dict[str, object]]]:
    server = LocalServer(s.data_dir)
    worker = Worker(s.data_dir)
    worker.start()
    log = Log()
    stop = asyncio.Event()
    ingest_rows, submit_rows = rows[:clients * 4], rows[clients * 4:]
    share = max(1, len(submit_rows) // max(1, submitters))
    tasks = [asyncio.create_task(ingest(s.base_url, ingest_rows[i::clients], stop, log))
             for i in range(clients)]
    tasks += [asyncio.create_task(submit(s.base_url, submit_rows[i * share:(i + 1) * share],
                                         stop, log)) for i in range(submitters)]
    results = []
    try:
        for n in range(cycles):
            results.append(await cycle(FAULTS[n % len(FAULTS)], s, server, worker, log, down,
                                       settle))
        await asyncio.sleep(settle)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    for result in results:
        back = result.pop("back_at", None)
        if isinstance(back, float):
            firsts = [answered for _, answered, what, status in log.answers
                      if what == "event" and status == "202" and answered >= back]
            result["recovery_s"] = round(min(firsts) - back, 2) if firsts else None
            until = min(firsts) if firsts else float("inf")
            seen: dict[str, int] = {}
            for _, answered, what, status in log.answers:
                if what == "event" and back <= answered < until:
                    seen[status] = seen.get(status, 0) + 1
            result["answers_before_first_202"] = seen
    # The queue drains: every submitted attempt gets its analysis.
    deadline = time.monotonic() + 60
    with psycopg.connect(s.admin_url) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT count(*) FROM app.analysis_jobs "
                               "WHERE status IN ('queued', 'running')").fetchone()
            if row is not None and row[0] == 0:
                break
            time.sleep(0.5)
    worker.stop()
    return log, results


def verify(admin_url: str, log: Log) -> dict[str, object]:
    with psycopg.connect(admin_url) as conn:
        stored: dict[str, int] = dict(conn.execute(
            "SELECT client_event_id, count(*)::int FROM app.monitoring_events "
            "GROUP BY client_event_id").fetchall())
        submitted = {str(r[0]) for r in conn.execute(
            "SELECT id FROM app.exam_attempts WHERE status = 'submitted'").fetchall()}
        analyses: dict[str, int] = dict(conn.execute(
            "SELECT a.id::text, count(b.id)::int FROM app.exam_attempts AS a "
            "LEFT JOIN app.behavior_analyses AS b ON b.attempt_id = a.id AND b.source = 'builtin' "
            "WHERE a.status = 'submitted' GROUP BY a.id").fetchall())
    return {
        "events_acknowledged": len(log.events_acknowledged),
        "events_acknowledged_but_lost": len(log.events_acknowledged - set(stored)),
        "events_stored_twice": sum(1 for c in stored.values() if c > 1),
        "submits_acknowledged": len(log.submits_acknowledged),
        "submits_acknowledged_but_not_submitted": len(log.submits_acknowledged - submitted),
        "submitted_without_one_analysis": sum(1 for c in analyses.values() if c != 1),
        "answers_500": sum(1 for e in log.answers if e[3] == "500"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--clients", type=int, default=6, help="ingest clients")
    parser.add_argument("--submitters", type=int, default=2, help="submit clients")
    parser.add_argument("--attempts", type=int, default=300,
                        help="attempts in progress; those past 4 per ingest client are submitted")
    parser.add_argument("--down", type=float, default=2.0,
                        help="seconds a killed part stays down")
    parser.add_argument("--settle", type=float, default=4.0,
                        help="seconds of load before each fault and after each recovery")
    parser.add_argument("--recovery-goal", type=float, default=5.0,
                        help="longest recovery, in seconds, that passes")
    args = parser.parse_args()
    with stack() as s:
        secret = (s.data_dir / "jwt_secret").read_text().strip().encode()
        rows = prepare(s.admin_url, secret, args.attempts).students
        log, cycles = asyncio.run(run(s, rows, args.cycles, args.clients, args.submitters,
                                      args.down, args.settle))
        result: dict[str, object] = {"cycles": cycles, **verify(s.admin_url, log)}
    recoveries = [c["recovery_s"] for c in cycles]
    result["longest_recovery_s"] = (None if any(r is None for r in recoveries)
                                    else max(recoveries))  # type: ignore[type-var]
    print(json.dumps(result, indent=2))
    failed = [name for name in ("events_acknowledged_but_lost", "events_stored_twice",
                                "submits_acknowledged_but_not_submitted",
                                "submitted_without_one_analysis", "answers_500")
              if result[name]]
    if result["longest_recovery_s"] is None:
        failed.append("a part never served again")
    elif float(result["longest_recovery_s"]) > args.recovery_goal:  # type: ignore[arg-type]
        failed.append(f"recovery over {args.recovery_goal} s")
    if failed:
        sys.exit(f"chaos: {', '.join(failed)}")


if __name__ == "__main__":
    main()

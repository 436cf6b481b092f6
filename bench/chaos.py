"""The database killed and restarted under load: no acknowledged event lost.

    python bench/chaos.py [--clients 8] [--down 3]

Runs the stack (bench/stack.py), streams single events from several clients,
each with its own client_event_id, kills PostgreSQL (immediate shutdown, as a
crash) in the middle, starts it again after --down seconds, keeps streaming,
then checks: every event answered 202 is in the database; while the database
was down the answers were 503 with Retry-After (never a 500 or a hang); and
how long after the database came back the first 202 arrived (target <= 5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.events import prepare
from bench.stack import stack
from glue.localdb import LocalServer

Row = tuple[str, str, str]  # (attempt id, access token, claims), from bench.events.prepare
# (sent, answered, status or exception name, client_event_id, attempt id, Retry-After)
Answer = tuple[float, float, int | str, str, str, str | None]


async def client(base: str, rows: list[Row], stop: asyncio.Event, log: list[Answer]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=15) as http:
        n = 0
        while not stop.is_set():
            attempt, token, _ = rows[n % len(rows)]
            n += 1
            cid = uuid.uuid4().hex
            body = {"attempt_id": attempt, "event_type": "heartbeat",
                    "occurred_at": "2026-11-25T12:00:00Z", "payload": {}, "client_event_id": cid}
            sent = time.monotonic()
            try:
                answer = await http.post("/monitor/events", json=body,
                                         headers={"Authorization": f"Bearer {token}"})
                log.append((sent, time.monotonic(), answer.status_code, cid, attempt,
                            answer.headers.get("retry-after")))
                if answer.status_code == 503:
                    await asyncio.sleep(0.2)
            except httpx.HTTPError as exc:
                log.append((sent, time.monotonic(), type(exc).__name__, cid, attempt, None))
                await asyncio.sleep(0.2)


async def run(base: str, rows: list[Row], server: LocalServer, clients: int,
              down: float) -> dict[str, Any]:
    stop = asyncio.Event()
    log: list[Answer] = []
    tasks = [asyncio.create_task(client(base, rows, stop, log)) for _ in range(clients)]
    await asyncio.sleep(3)
    killed = time.monotonic()
    await asyncio.to_thread(server.kill)
    await asyncio.sleep(down)
    await asyncio.to_thread(server.start)
    back = time.monotonic()
    await asyncio.sleep(8)
    stop.set()
    await asyncio.gather(*tasks)
    during = [e for e in log if killed <= e[0] < back]
    after_ok = [e for e in log if e[0] >= back and e[2] == 202]
    return {
        "log": log,
        "killed_at": killed,
        "back_at": back,
        "answers_while_down": sorted({str(e[2]) for e in during}),
        "503_without_retry_after": sum(1 for e in during if e[2] == 503 and not e[5]),
        "server_errors_500": sum(1 for e in log if e[2] == 500),
        "slowest_answer_while_down_s": round(max((e[1] - e[0] for e in during), default=0), 2),
        "first_202_after_restart_s": round(min(e[1] for e in after_ok) - back, 2)
        if after_ok else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--down", type=float, default=3.0)
    args = parser.parse_args()
    with stack() as s:
        secret = (s.data_dir / "jwt_secret").read_text().strip().encode()
        rows, _ = prepare(s.admin_url, secret, 200)
        result = asyncio.run(run(s.base_url, rows, LocalServer(s.data_dir), args.clients,
                                 args.down))
        acknowledged = {e[3] for e in result.pop("log") if e[2] == 202}
        with psycopg.connect(LocalServer(s.data_dir).url()) as conn:
            stored = {r[0] for r in conn.execute(
                "SELECT client_event_id FROM app.monitoring_events").fetchall()}
        result.pop("killed_at")
        result.pop("back_at")
        result["acknowledged"] = len(acknowledged)
        result["acknowledged_but_lost"] = len(acknowledged - stored)
    print(json.dumps(result, indent=2))
    if result["acknowledged_but_lost"] or result["server_errors_500"]:
        sys.exit("acknowledged events were lost, or a 500 was answered")


if __name__ == "__main__":
    main()

"""Login storm: N concurrent logins (bcrypt cost 12) while /health is sampled.

    python bench/login_storm.py [--logins 20] [--rounds 3] [--workers 1]

Prints /health latency percentiles before and during the storm, the
logins' own latency, and logins per second. The target (issue 3): /health stays under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import percentiles, stack
from glue import passwords

PASSWORD = "bench-password-123"


async def sample_health(client: httpx.AsyncClient, stop: asyncio.Event, out: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        answer = await client.get("/health")
        out.append(time.perf_counter() - started)
        assert answer.status_code == 200
        await asyncio.sleep(0.01)


async def storm(base_url: str, emails: list[str], rounds: int) -> dict[str, object]:
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        quiet: list[float] = []
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_health(client, stop, quiet))
        await asyncio.sleep(2)
        stop.set()
        await sampler

        during: list[float] = []
        logins: list[float] = []
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_health(client, stop, during))

        async def one(email: str) -> None:
            started = time.perf_counter()
            answer = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
            logins.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text

        storm_started = time.perf_counter()
        for _ in range(rounds):
            await asyncio.gather(*(one(e) for e in emails))
        storm_seconds = time.perf_counter() - storm_started
        stop.set()
        await sampler
    return {"health_quiet": percentiles(quiet), "health_during_storm": percentiles(during),
            "login": percentiles(logins), "concurrent_logins": len(emails), "rounds": rounds,
            "logins_per_second": round(len(logins) / storm_seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--logins", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1,
                        help="API processes (veritas serve --workers; default 1)")
    args = parser.parse_args()
    import psycopg

    with stack(args.workers) as s:
        hashed = passwords.hash_password(PASSWORD)
        emails = [f"storm{n}@bench.test" for n in range(args.logins)]
        with psycopg.connect(s.admin_url) as conn:
            for email in emails:
                conn.execute("SELECT internal.create_user(%s, %s, 'Storm', 'student', NULL)",
                             [email, hashed])
        result = asyncio.run(storm(s.base_url, emails, args.rounds))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""Logins, and what a login storm does to event latency.

20 users of the run's own (bcrypt cost 12, as any user) log in at once,
round after round, while students send single events at a light pace
(wrk, 4 connections each pausing 20 ms). Event latency is measured quiet
first, then during the storm. The logins' ceiling: bcrypt verifications per
second on this machine, every core hashing (what logins/s cannot exceed).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg

from bench.replay import replay
from bench.report import Figure
from bench.workload import (
    Bench,
    create_exam,
    event,
    start_attempts,
    students_of_scale_data,
    teacher_of_scale_data,
)
from glue import passwords

PASSWORD = "harness-login-password"
STORM = 20


def make_users(bench: Bench) -> list[str]:
    hashed = passwords.hash_password(PASSWORD)
    emails = [f"harness-storm{n}@bench.test" for n in range(STORM)]
    with psycopg.connect(bench.admin_url, autocommit=True) as conn:
        for email in emails:
            conn.execute("SELECT internal.create_user(%s, %s, 'Storm', 'student') "
                         "WHERE NOT EXISTS (SELECT FROM auth.users WHERE email = %s)",
                         [email, hashed, email])
    return emails


def bcrypt_ceiling(seconds: float) -> float:
    """Verifications per second with one thread per core."""
    stored = passwords.hash_password(PASSWORD)
    cores = max(1, len(os.sched_getaffinity(0)))
    done = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def verify() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            passwords.verify_password(PASSWORD, stored)
            with lock:
                done += 1

    started = time.monotonic()
    with ThreadPoolExecutor(cores) as pool:
        for _ in range(cores):
            pool.submit(verify)
    return done / (time.monotonic() - started)


async def storm(base_url: str, emails: list[str], stop: threading.Event) -> dict[str, Any]:
    logins: list[float] = []
    failed = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=60,
                                 limits=httpx.Limits(max_connections=STORM * 2)) as client:
        async def one(email: str) -> None:
            nonlocal failed
            started = time.perf_counter()
            answer = await client.post("/auth/login",
                                       json={"email": email, "password": PASSWORD})
            logins.append(time.perf_counter() - started)
            failed += answer.status_code != 200

        began = time.perf_counter()
        while not stop.is_set():
            await asyncio.gather(*(one(e) for e in emails))
        elapsed = time.perf_counter() - began
    return {"logins": len(logins), "failed": failed, "seconds": elapsed,
            "rate": len(logins) / elapsed if elapsed else 0.0}


def run(bench: Bench) -> list[Figure]:
    emails = make_users(bench)
    exam = create_exam(bench, teacher_of_scale_data(bench))
    students = students_of_scale_data(bench, 50)
    attempts = start_attempts(bench, exam["id"], students)
    events = [s.request("POST", "/monitor/events", event(attempts[s.user_id], "@@unique@@"))
              for s in students]
    quiet = replay(bench.base_url, events, seconds=bench.seconds, connections=4, expect=202,
                   pace_ms=20, warmup=bench.warmup)

    stop = threading.Event()
    result: dict[str, Any] = {}
    stormer = threading.Thread(
        target=lambda: result.update(asyncio.run(storm(bench.base_url, emails, stop))))
    stormer.start()
    try:
        time.sleep(1)  # the storm is under way
        during = replay(bench.base_url, events, seconds=bench.seconds, connections=4,
                        expect=202, pace_ms=20)
    finally:
        stop.set()
        stormer.join()
    hashing = bcrypt_ceiling(max(3.0, min(bench.seconds, 5.0)))
    return [
        Figure("logins", f"logins/s during a storm of {STORM}", result["rate"], "logins/s",
               hashing, "bcrypt verifications/s, every core", detail=result),
        Figure("logins", "single-event p99, quiet", quiet["p99_ms"], "ms", detail=quiet),
        Figure("logins", f"single-event p99 during {STORM} concurrent logins", during["p99_ms"],
               "ms", target="≤ 10 ms", detail=during),
    ]

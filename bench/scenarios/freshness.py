"""Analytics staleness after a submit: with ``veritas worker`` running (its
own process, as in production), a student submits over HTTP, and the
teacher's exam analytics are read every 50 ms until the submit shows in
them. The time between the submit's answer and that read is the
staleness, for the scale data's size of the events table. No ceiling: the
target is absolute (≤ 10 s).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import Any

import httpx

from bench.report import Figure
from bench.stack import ROOT
from bench.workload import (
    Bench,
    Caller,
    create_exam,
    start_attempts,
    students_of_scale_data,
    teacher_of_scale_data,
)

GIVE_UP_SECONDS = 60.0


def submitted(client: httpx.Client, teacher: Caller, exam_id: str) -> int:
    answer = client.get(f"/teacher/exams/{exam_id}/analytics",
                        headers={"Authorization": f"Bearer {teacher.token}"})
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return int(body.get("submitted") or 0)


def run(bench: Bench) -> list[Figure]:
    teacher = teacher_of_scale_data(bench)
    exam = create_exam(bench, teacher)
    students = students_of_scale_data(bench, 2 if bench.quick else 5)
    attempts = start_attempts(bench, exam["id"], students)
    worker = subprocess.Popen([sys.executable, "-m", "glue.cli", "--data-dir", bench.data_dir,
                               "worker"], env=bench.env, cwd=ROOT)
    delays: list[float] = []
    try:
        with httpx.Client(base_url=bench.base_url, timeout=30) as client:
            seen = submitted(client, teacher, exam["id"])
            for student in students:
                answer = client.post(f"/student/exams/{attempts[student.user_id]}/submit",
                                     json={}, headers={"Authorization": f"Bearer {student.token}"})
                answer.raise_for_status()
                done = time.monotonic()
                while submitted(client, teacher, exam["id"]) <= seen:
                    if time.monotonic() - done > GIVE_UP_SECONDS or worker.poll() is not None:
                        raise RuntimeError("a submit did not reach the analytics")
                    time.sleep(0.05)
                delays.append(time.monotonic() - done)
                seen += 1
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    return [Figure("freshness", "analytics staleness after a submit, worst",
                   max(delays), "s", target="≤ 10 s",
                   detail={"median_s": round(statistics.median(delays), 2),
                           "samples": [round(d, 2) for d in delays]})]

"""The five reads of the brief on the scale data, over HTTP (wrk, cycling
through many callers) beside the same API function through pgbench.

- the student dashboard, as students with attempts;
- the teacher dashboard, as teachers with exams;
- exam analytics and the flagged list, as a teacher of the exam;
- the timeline (its first page), as a teacher of the attempt's exam.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench import ceiling
from bench.replay import replay
from bench.report import Figure
from bench.workload import Bench, Caller, caller


@dataclass(frozen=True)
class Read:
    name: str
    role: str
    path: str  # with {a1} for the argument, if any
    statement: str  # the API call, with :a1 for the argument
    target: str


READS = (
    Read("student dashboard", "student", "/student/dashboard",
         "api.get_student_dashboard_data()", "p95 ≤ 10 ms"),
    Read("teacher dashboard", "teacher", "/teacher/dashboard",
         "api.get_teacher_dashboard_data()", ""),
    Read("exam analytics", "teacher", "/teacher/exams/{a1}/analytics",
         "api.get_teacher_exam_analytics(exam_id => :a1::uuid)", "p95 ≤ 20 ms"),
    Read("flagged list", "teacher", "/teacher/exams/{a1}/flagged",
         "api.get_flagged_students_for_exam(exam_id => :a1::uuid)", ""),
    Read("timeline (first page)", "teacher", "/teacher/attempts/{a1}/events",
         "api.get_monitoring_events_for_attempt(attempt_id => :a1::uuid)", ""),
)

# Who reads what, from the scale data: (user id, argument) pairs, at random.
PICK = {
    "student dashboard": """
        SELECT DISTINCT ON (a.student_id) a.student_id, NULL
        FROM app.exam_attempts AS a TABLESAMPLE SYSTEM (10)
        ORDER BY a.student_id LIMIT %s""",
    "teacher dashboard": """
        SELECT DISTINCT p.teacher_id, NULL FROM app.teacher_exam_permissions AS p LIMIT %s""",
    "exam analytics": """
        SELECT p.teacher_id, p.exam_id FROM app.teacher_exam_permissions AS p
        ORDER BY random() LIMIT %s""",
    "flagged list": """
        SELECT p.teacher_id, p.exam_id FROM app.teacher_exam_permissions AS p
        ORDER BY random() LIMIT %s""",
    "timeline (first page)": """
        SELECT p.teacher_id, a.id
        FROM (SELECT * FROM app.exam_attempts TABLESAMPLE SYSTEM (5) LIMIT %s) AS a
        JOIN LATERAL (SELECT teacher_id FROM app.teacher_exam_permissions
                      WHERE exam_id = a.exam_id LIMIT 1) AS p ON true""",
}


def callers_of(bench: Bench, read: Read, count: int) -> list[tuple[Caller, str]]:
    rows = bench.rows(PICK[read.name], (count,))
    if not rows:
        raise RuntimeError(f"the scale data has nobody to read the {read.name}")
    return [(caller(bench, user, read.role), "" if arg is None else str(arg))
            for user, arg in rows]


def run(bench: Bench) -> list[Figure]:
    """Per read: its latency at a light load (2 connections, each pausing
    10 ms between requests), its throughput at saturation, and the
    throughput of the same calls through pgbench."""
    figures = []
    count = 200 if bench.quick else 2000
    for read in READS:
        callers = callers_of(bench, read, count)
        requests = [c.request("GET", read.path.format(a1=arg)) for c, arg in callers]
        light = replay(bench.base_url, requests, seconds=bench.seconds, connections=2,
                       pace_ms=10, warmup=bench.warmup)
        http = replay(bench.base_url, requests, seconds=bench.seconds, connections=bench.clients)
        calls = [c.call(arg) if arg else c.call() for c, arg in callers]
        direct = ceiling.call_ceiling(
            bench.admin_url, "read", calls, read.role, read.statement, clients=bench.clients,
            seconds=bench.seconds, method="GET")
        figures.append(Figure("reads", f"{read.name}: p95 at a light load", light["p95_ms"], "ms",
                              target=read.target, detail=light))
        figures.append(Figure(
            "reads", f"{read.name}: saturation", http["rate"], "req/s", direct["tps"],
            "the API function through pgbench", detail={"http": http, "pgbench": direct}))
    return figures

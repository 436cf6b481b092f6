"""The five reads and the analytics refresh, on whatever data a database holds.

    python bench/reads.py --database-url URL [--seconds 10]

Meant for the scale data (``veritas seed scale``: 100k students, 200 exams,
10M events), on a migrated database reached as the DBA (``URL``: a login
that may SET ROLE to the request roles and to ``worker``). Writes: the
dashboards record disclosures, and the staleness scenario submits one
attempt in progress; run it on a benchmark database, never on a school's.

Each read is called as the glue calls it: one transaction holding the
role and claims (``set_config``, transaction-local), the session check,
then the API function, timed on the client from the first statement to the
commit. The callers are sampled from the data: students with attempts, the
teachers of the exams (the largest exams included), attempts with events.
``run_reads`` runs each read for ``seconds`` and answers p50/p95/p99 in
milliseconds.

``run_refresh`` measures ``internal.refresh_analytics`` as the worker
runs it: a full pass (``p_force``), a pass that finds nothing new, and
the staleness after a submit: an attempt in progress of the largest exam
is submitted by its student, the analysis queue runs once, and the next
pass is timed; the figures must then count it. The staleness bound is the
worker's period (5 s) plus the queue's run plus that pass.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import Stack, percentiles, scalar

WORKER_PERIOD_SECONDS = 5.0
SAMPLE = 200

CONTEXT_SQL = (
    "SELECT set_config('role', %s, true), set_config('request.jwt.claims', %s, true), "
    "set_config('transaction_read_only', %s, true)"
)

Conn = psycopg.Connection[Any]


def claims(user_id: str, role: str) -> str:
    now = int(time.time())
    return json.dumps({"sub": user_id, "role": role, "jti": str(uuid.uuid4()), "iat": now - 5,
                       "exp": now + 3600, "iss": "veritas", "aud": "veritas-api",
                       "typ": "access"})


def call_as(conn: Conn, user_id: str, role: str, statement: str,
            params: list[Any], read_only: bool = False) -> Any:
    """One call as the glue makes it: role, claims, session check, the call."""
    with conn.transaction():
        conn.execute(CONTEXT_SQL, [role, claims(user_id, role), "on" if read_only else "off"])
        conn.execute("SELECT internal.assert_session_active()")
        row = conn.execute(statement, params).fetchone()
    return row[0] if row else None


def as_worker(conn: Conn, statement: str, params: list[Any] | None = None) -> Any:
    with conn.transaction():
        conn.execute("SELECT set_config('role', 'worker', true)")
        row = conn.execute(statement, params or []).fetchone()
    return row[0] if row else None


def _callers(conn: Conn) -> dict[str, list[tuple[Any, ...]]]:
    """Who calls each read, sampled from the data."""
    rows = conn.execute
    students = rows(
        "SELECT a.student_id::text FROM app.exam_attempts AS a "
        "TABLESAMPLE SYSTEM (5) LIMIT %s", [SAMPLE]).fetchall()
    # Exams by size, the largest first: each with a teacher who may read it.
    exams = rows(
        "SELECT e.id::text, e.created_by::text FROM app.exams AS e "
        "JOIN (SELECT a.exam_id, count(*) AS n FROM app.exam_attempts AS a "
        "GROUP BY a.exam_id) AS s "
        "ON s.exam_id = e.id ORDER BY s.n DESC, e.id").fetchall()
    teachers = sorted({(t,) for _, t in exams})
    attempts = rows(
        "SELECT a.id::text, e.created_by::text FROM app.exam_attempts AS a "
        "TABLESAMPLE SYSTEM (5) JOIN app.exams AS e ON e.id = a.exam_id "
        "WHERE a.status <> 'in_progress' LIMIT %s", [SAMPLE]).fetchall()
    # The largest exams weigh as much as all the others together.
    weighted = exams[:5] * max(1, len(exams) // 5) + exams
    return {"students": students, "teachers": teachers, "exams": weighted,
            "attempts": attempts}


def _reads(callers: dict[str, list[tuple[Any, ...]]]) -> list[
        tuple[str, Callable[[Conn, random.Random], Any]]]:
    def student_dashboard(conn: Conn, rnd: random.Random) -> Any:
        (student,) = rnd.choice(callers["students"])
        return call_as(conn, student, "student", "SELECT api.get_student_dashboard_data()", [])

    def teacher_dashboard(conn: Conn, rnd: random.Random) -> Any:
        (teacher,) = rnd.choice(callers["teachers"])
        return call_as(conn, teacher, "teacher", "SELECT api.get_teacher_dashboard_data()", [])

    def exam_analytics(conn: Conn, rnd: random.Random) -> Any:
        exam, teacher = rnd.choice(callers["exams"])
        return call_as(conn, teacher, "teacher", "SELECT api.get_teacher_exam_analytics(%s)",
                       [exam], read_only=True)

    def flagged_list(conn: Conn, rnd: random.Random) -> Any:
        exam, teacher = rnd.choice(callers["exams"])
        return call_as(conn, teacher, "teacher", "SELECT api.get_flagged_students_for_exam(%s)",
                       [exam])

    def timeline(conn: Conn, rnd: random.Random) -> Any:
        attempt, teacher = rnd.choice(callers["attempts"])
        return call_as(conn, teacher, "teacher",
                       "SELECT api.get_monitoring_events_for_attempt(%s)", [attempt])

    return [("student dashboard", student_dashboard), ("teacher dashboard", teacher_dashboard),
            ("exam analytics", exam_analytics), ("flagged list", flagged_list),
            ("timeline", timeline)]


def _url(target: Stack | str) -> str:
    return target if isinstance(target, str) else target.admin_url


def run_reads(target: Stack | str, seconds: float) -> dict[str, Any]:
    """Each of the five reads, one client, for ``seconds`` each (after 50
    warm-up calls): percentiles in milliseconds."""
    rnd = random.Random(13)
    results: dict[str, Any] = {}
    with psycopg.connect(_url(target), autocommit=True) as conn:
        if scalar(conn, "SELECT count(*) FROM app.analytics_refreshes") == 0:
            as_worker(conn, "SELECT internal.refresh_analytics(true)")
        callers = _callers(conn)
        for name, read in _reads(callers):
            for _ in range(50):
                read(conn, rnd)
            samples: list[float] = []
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                started = time.perf_counter()
                read(conn, rnd)
                samples.append(time.perf_counter() - started)
            results[name] = {**percentiles(samples),
                             "mean_ms": round(statistics.fmean(samples) * 1000, 2)}
    return results


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    answer = action()
    return time.perf_counter() - started, answer


def run_refresh(target: Stack | str) -> dict[str, Any]:
    """The analytics refresh: full, quiet, and after one submit."""
    with psycopg.connect(_url(target), autocommit=True) as conn:
        full, _ = _timed(lambda: as_worker(conn, "SELECT internal.refresh_analytics(true)"))
        quiet = [_timed(lambda: as_worker(conn, "SELECT internal.refresh_analytics()"))[0]
                 for _ in range(3)]
        found = conn.execute(
            "SELECT a.id::text, a.student_id::text, a.exam_id::text, e.created_by::text "
            "FROM app.exam_attempts AS a JOIN app.exams AS e ON e.id = a.exam_id "
            "WHERE a.status = 'in_progress' AND a.deadline > now() + interval '1 minute' "
            "ORDER BY (SELECT count(*) FROM app.exam_attempts AS b WHERE b.exam_id = a.exam_id) "
            "DESC, a.id LIMIT 1").fetchone()
        result: dict[str, Any] = {
            "full_pass_s": round(full, 3),
            "quiet_pass_ms": round(statistics.median(quiet) * 1000, 1),
            "events": scalar(conn, "SELECT count(*) FROM app.monitoring_events"),
            "attempts": scalar(conn, "SELECT count(*) FROM app.exam_attempts"),
        }
        if found is None:
            result["after_submit"] = "no attempt in progress to submit"
            return result
        attempt, student, exam, teacher = found

        def submitted() -> int:
            answer = call_as(conn, teacher, "teacher",
                             "SELECT api.get_teacher_exam_analytics(%s)", [exam], read_only=True)
            return int(answer["submitted"])

        before = submitted()
        committed = time.perf_counter()
        call_as(conn, student, "student", "SELECT api.complete_exam_attempt(%s)", [attempt])
        jobs, ran = _timed(lambda: as_worker(
            conn, "SELECT internal.process_analysis_jobs(%s, 20)", ["bench-reads"]))
        refresh, _ = _timed(lambda: as_worker(conn, "SELECT internal.refresh_analytics()"))
        seen = time.perf_counter() - committed
        result["after_submit"] = {
            "exam_attempts": scalar(conn, "SELECT count(*) FROM app.exam_attempts "
                                          "WHERE exam_id = %s", [exam]),
            "analysis_jobs_ms": round(jobs * 1000, 1), "jobs_run": ran,
            "pass_ms": round(refresh * 1000, 1),
            "counted": submitted() == before + 1,
            "submit_to_figures_ms": round(seen * 1000, 1),
            "staleness_bound_s": round(WORKER_PERIOD_SECONDS + jobs + refresh, 2),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True,
                        help="a migrated database with data, as the DBA")
    parser.add_argument("--seconds", type=float, default=10, help="per read")
    parser.add_argument("--skip-refresh", action="store_true")
    args = parser.parse_args()
    out: dict[str, Any] = {"reads": run_reads(args.database_url, args.seconds)}
    if not args.skip_refresh:
        out["refresh"] = run_refresh(args.database_url)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

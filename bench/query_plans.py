"""EXPLAIN of the hot reads on a table of a million monitoring events.

    python bench/query_plans.py [--events 1000000] [--out docs/query-plans.md]

Builds a private database (bench/stack.py), fills it as the DBA with
2,000 attempts of 500 events each (plus exams, students and analyses), runs
ANALYZE, then EXPLAIN (ANALYZE, BUFFERS) of each read exactly as the API runs
it (role and claims set, the API function's own statement) and checks that
no plan scans the events table sequentially. Writes the plans to --out.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import scalar, stack

FILL = """
INSERT INTO auth.users (id, email, password_hash, full_name, role)
VALUES (%(teacher)s, 'plans-teacher@bench.test', 'x', 'Plan Teacher', 'teacher');
INSERT INTO app.exams (id, title, created_by, duration_minutes, opens_at, closes_at)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, 'Exam ' || n,
       %(teacher)s, 60, now() - interval '30 days', now() + interval '30 days'
FROM generate_series(1, 20) AS n;
INSERT INTO app.teacher_exam_permissions (exam_id, teacher_id, granted_by)
SELECT id, %(teacher)s, %(teacher)s FROM app.exams;
INSERT INTO auth.users (id, email, password_hash, full_name, role)
SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(n), 12, '0'))::uuid,
       'plans-s' || n || '@bench.test', 'x', 'Student ' || n, 'student'
FROM generate_series(1, %(attempts)s) AS n;
INSERT INTO auth.users (id, email, password_hash, full_name, role)
SELECT ('00000000-0000-4000-b000-' || lpad(to_hex(n), 12, '0'))::uuid,
       'plans-other' || n || '@bench.test', 'x', 'Other student ' || n, 'student'
FROM generate_series(1, %(others)s) AS n;
INSERT INTO app.student_profiles (user_id)
SELECT id FROM auth.users WHERE role = 'student';
INSERT INTO app.performance_metrics (student_id)
SELECT id FROM auth.users WHERE role = 'student';
INSERT INTO app.exam_attempts (id, exam_id, student_id, attempt_number, status, started_at,
    deadline, finished_at, score, max_score, question_order, scored_against)
SELECT ('00000000-0000-4000-a000-' || lpad(to_hex(n), 12, '0'))::uuid,
       ('00000000-0000-4000-8000-' || lpad(to_hex(1 + n %% 20), 12, '0'))::uuid,
       ('00000000-0000-4000-9000-' || lpad(to_hex(n), 12, '0'))::uuid,
       1, 'submitted', now() - interval '2 days', now() - interval '2 days' + interval '1 hour',
       now() - interval '2 days' + interval '50 minutes', n %% 10, 10, '[]', '[]'
FROM generate_series(1, %(attempts)s) AS n;
INSERT INTO app.monitoring_events (attempt_id, attempt_started_at, exam_id, student_id,
    event_type, occurred_at, received_at, severity, is_anomaly, payload, client_event_id)
SELECT a.id, a.started_at, a.exam_id, a.student_id, t.event_type,
       a.started_at + make_interval(secs => k * 6), a.started_at + make_interval(secs => k * 6),
       t.severity, t.is_anomaly, '{}', 'c' || k
FROM app.exam_attempts AS a
CROSS JOIN generate_series(1, %(per_attempt)s) AS k
JOIN app.event_types AS t
  ON t.event_type = (CASE WHEN k %% 25 = 0 THEN 'tab_hidden' ELSE 'heartbeat' END)::app.event_type;
"""


def as_user(conn: psycopg.Connection, user_id: str, role: str) -> None:
    now = int(time.time())
    claims = {"sub": user_id, "role": role, "jti": str(uuid.uuid4()), "iat": now,
              "exp": now + 3600, "iss": "veritas", "aud": "veritas-api", "typ": "access"}
    conn.execute("SELECT set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
                 [role, json.dumps(claims)])


def explain(conn: psycopg.Connection, statement: str, params: list[object]) -> str:
    """The plan of ``statement`` and, through auto_explain, of every statement
    run inside the functions it calls."""
    nested: list[str] = []

    def collect(diag: psycopg.errors.Diagnostic) -> None:
        nested.append(diag.message_primary or "")

    conn.add_notice_handler(collect)
    try:
        rows = conn.execute(
            f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement}", params
        ).fetchall()
    finally:
        conn.remove_notice_handler(collect)
    inner = [n.split("\n", 1)[1] if "\n" in n else n for n in nested if "Query Text" in n]
    return "\n".join(r[0] for r in rows) + "".join(f"\n\n-- inside:\n{p}" for p in inner)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--other-students", type=int, default=50_000,
                        help="students with no attempt on the teacher's exams")
    parser.add_argument("--out", type=Path, default=Path("docs/query-plans.md"))
    args = parser.parse_args()
    per_attempt = 500
    attempts = max(1, args.events // per_attempt)
    teacher = str(uuid.uuid4())
    with stack() as s, psycopg.connect(s.admin_url) as conn:
        started = time.monotonic()
        values = {"teacher": teacher, "attempts": attempts, "per_attempt": per_attempt,
                  "others": args.other_students}
        for part in FILL.split(";\n"):
            if part.strip():
                conn.execute(part, values)
        conn.commit()
        # The analytics summary tables, as the worker's first pass fills them.
        conn.execute("SET ROLE worker")
        conn.execute("SELECT internal.refresh_analytics(true)")
        conn.execute("RESET ROLE")
        conn.commit()
        conn.execute("ANALYZE")
        conn.commit()
        conn.execute("LOAD 'auto_explain'")
        for setting, value in [("auto_explain.log_min_duration", "0"),
                               ("auto_explain.log_nested_statements", "on"),
                               ("auto_explain.log_analyze", "on"),
                               ("auto_explain.log_buffers", "on"),
                               ("client_min_messages", "log")]:
            conn.execute("SELECT set_config(%s, %s, false)", [setting, value])
        conn.commit()
        fill_seconds = time.monotonic() - started
        total = scalar(conn, "SELECT count(*) FROM app.monitoring_events")
        attempt = conn.execute("SELECT id, student_id, exam_id FROM app.exam_attempts "
                               "ORDER BY id OFFSET %s LIMIT 1", [attempts // 2]).fetchone()
        assert attempt is not None, "the fill made no attempt"
        # The inner statements of the API functions, as their callers run them.
        reads = [
            ("teacher", teacher, "timeline (api.get_attempt_monitoring_events)",
             "SELECT internal.attempt_timeline(%s, NULL, NULL, 1000)", [attempt[0]]),
            ("teacher", teacher, "anomalies of one exam",
             "SELECT m.attempt_id, m.event_type, m.occurred_at FROM app.monitoring_events AS m "
             "WHERE m.exam_id = %s AND m.is_anomaly ORDER BY m.occurred_at DESC LIMIT 100",
             [attempt[2]]),
            ("student", str(attempt[1]), "student dashboard (api.get_student_dashboard_data)",
             "SELECT api.get_student_dashboard_data()", []),
            ("teacher", teacher, "flagged list (api.get_flagged_students_for_exam)",
             "SELECT api.get_flagged_students_for_exam(%s)", [attempt[2]]),
            ("teacher", teacher, "exam analytics (api.get_teacher_exam_analytics)",
             "SELECT api.get_teacher_exam_analytics(%s)", [attempt[2]]),
            # The teacher policies of auth.users, student_profiles and
            # performance_metrics: the teacher's exams once per statement, an
            # index probe of exam_attempts per row.
            ("teacher", teacher, "users a teacher may see (teachers_read_their_students)",
             "SELECT count(*) FROM auth.users", []),
            ("teacher", teacher, "student detail (api.get_student_detail_for_teacher)",
             "SELECT api.get_student_detail_for_teacher(%s)", [attempt[1]]),
        ]
        sections = [f"# Query plans on {total:,} monitoring events\n",
                    f"Made by `python bench/query_plans.py --events {args.events}` "
                    f"(fill took {fill_seconds:.0f} s): {attempts:,} attempts of "
                    f"{per_attempt} events over 20 exams, {args.other_students:,} more "
                    "students who never sat them, as the role and claims the API "
                    "uses. PostgreSQL "
                    f"{scalar(conn, 'SHOW server_version')}.\n"]
        failures = []
        for role, user, title, statement, params in reads:
            try:
                with conn.transaction():
                    as_user(conn, user, role)
                    plan = explain(conn, statement, params)
                    raise psycopg.Rollback()
            except psycopg.Error as exc:
                plan = f"(not run: {exc.diag.message_primary or exc})"
                conn.rollback()
            seq = any(
                "Seq Scan on monitoring_events" in line and "rows=0 " not in line
                for line in plan.splitlines()
            )
            if seq:
                failures.append(title)
            sections.append(f"## {title}\n\n```\n{plan}\n```\n")
            print(f"{'SEQ SCAN' if seq else 'ok':8} {title}")
        args.out.write_text("\n".join(sections))
        print(f"wrote {args.out}")
    if failures:
        sys.exit(f"sequential scans of the events table in: {', '.join(failures)}")


if __name__ == "__main__":
    main()

"""What every scenario of the harness (bench/run.py) is given: the stack,
the run's timing, and the callers it acts as (picked from the scale data,
with access tokens signed by the stack's own secret)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from bench.ceiling import Call
from bench.replay import Request
from bench.stack import Stack
from glue import tokens


@dataclass(frozen=True)
class Bench:
    admin_url: str
    base_url: str
    data_dir: str
    secret: bytes
    seconds: float
    warmup: float
    clients: int
    quick: bool
    env: dict[str, str]  # the stack's environment, for a process of veritas
    stack: Stack

    def rows(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            return conn.execute(statement, params).fetchall()


@dataclass(frozen=True)
class Caller:
    user_id: str
    role: str
    token: str
    claims: str

    def request(self, method: str, path: str, body: object = None) -> Request:
        return Request(method, path, self.token, "" if body is None else json.dumps(body))

    def call(self, *args: str) -> Call:
        return Call(self.claims, tuple(args))


def caller(bench: Bench, user_id: object, role: str) -> Caller:
    token, claims = tokens.issue_access_token(bench.secret, str(user_id), role)
    return Caller(str(user_id), role, token, json.dumps(claims.raw))


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


QUESTIONS = [
    {"kind": "single_choice", "prompt": "2 + 2?", "options": ["3", "4", "5"], "correct": "4",
     "points": 1},
    {"kind": "multiple_choice", "prompt": "Even?", "options": ["1", "2", "3", "4"],
     "correct": ["2", "4"], "points": 2},
    {"kind": "true_false", "prompt": "Green sky?", "options": [], "correct": False, "points": 1},
    {"kind": "numeric", "prompt": "Pi?", "options": [], "correct": 3.14, "tolerance": 0.01,
     "points": 2},
    {"kind": "short_text", "prompt": "Capital of France?", "options": [], "correct": ["Paris"],
     "points": 1},
]


def create_exam(bench: Bench, teacher: Caller) -> dict[str, Any]:
    """A new exam by ``teacher``, open now for a day: one question of every kind."""
    now = datetime.now(UTC)
    with psycopg.connect(bench.admin_url) as conn, conn.transaction():
        conn.execute("SELECT set_config('role', 'teacher', true), "
                     "set_config('request.jwt.claims', %s, true)", [teacher.claims])
        row = conn.execute(
            "SELECT api.create_exam(title => 'Harness exam', description => 'bench/run.py', "
            "duration_minutes => 120, opens_at => %s, closes_at => %s, max_attempts => 1, "
            "questions => %s::jsonb)",
            [now - timedelta(minutes=5), now + timedelta(days=1), json.dumps(QUESTIONS)],
        ).fetchone()
    assert row is not None
    exam: dict[str, Any] = row[0]
    return exam



def teacher_of_scale_data(bench: Bench) -> Caller:
    rows = bench.rows("SELECT id FROM auth.users WHERE role = 'teacher' AND is_active "
                      "ORDER BY created_at, id LIMIT 1")
    if not rows:
        raise RuntimeError("the scale data has no teacher: run veritas seed scale first")
    return caller(bench, rows[0][0], "teacher")


def students_of_scale_data(bench: Bench, count: int) -> list[Caller]:
    """``count`` active students at random (fewer if the data has fewer)."""
    return [caller(bench, row[0], "student") for row in bench.rows(
        "SELECT id FROM auth.users WHERE role = 'student' AND is_active "
        "ORDER BY random() LIMIT %s", (count,))]


def start_attempts(bench: Bench, exam_id: str, students: list[Caller]) -> dict[str, str]:
    """Each student starts the exam (the API function, as the student); student -> attempt."""
    started = {}
    with psycopg.connect(bench.admin_url) as conn:
        for student in students:
            with conn.transaction():
                conn.execute("SELECT set_config('role', 'student', true), "
                             "set_config('request.jwt.claims', %s, true)", [student.claims])
                row = conn.execute("SELECT api.create_exam_attempt(exam_id => %s)",
                                   [exam_id]).fetchone()
            assert row is not None
            started[student.user_id] = str(row[0]["attempt_id"])
    return started


def event(attempt: str, client_event_id: str) -> dict[str, Any]:
    """A heartbeat of ``attempt``, sent now."""
    return {"attempt_id": attempt, "event_type": "heartbeat", "occurred_at": now_iso(),
            "payload": {}, "client_event_id": client_event_id}

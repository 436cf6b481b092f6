"""Demo data for ``veritas up`` on an empty database.

An admin, two teachers, a dozen students, two exams with every question kind,
and some finished attempts with monitoring events. The users are made as
``veritas user add`` makes them (``internal.create_user``, as the DBA); the
exams and attempts through the same API functions the routes call, each as
the user who would call it (role and claims set as the request path sets
them), so they obey the same rules as real traffic; the monitoring events are
inserted directly, as the DBA.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from glue import passwords

DEMO_PASSWORD = "veritas-demo-2026"
ADMIN = ("admin@veritas.test", "Avery Admin", "admin", "Administration")
TEACHERS = [
    ("ada.lovelace@veritas.test", "Ada Lovelace", "teacher", "Mathematics"),
    ("alan.turing@veritas.test", "Alan Turing", "teacher", "Computer Science"),
]
STUDENT_NAMES = [
    "Amara Okafor", "Bruno Silva", "Chen Wei", "Dana Levi", "Elif Yilmaz", "Farah Haddad",
    "Gustav Berg", "Hana Sato", "Ivan Petrov", "Julia Rossi", "Kofi Mensah", "Lina Novak",
]


def _questions_algebra() -> list[dict[str, Any]]:
    return [
        {"kind": "single_choice", "prompt": "What is 7 x 8?", "options": ["54", "56", "64"],
         "correct": "56", "points": 1},
        {"kind": "multiple_choice", "prompt": "Which numbers are prime?",
         "options": ["2", "9", "11", "15"], "correct": ["2", "11"], "points": 2},
        {"kind": "true_false", "prompt": "The square root of 2 is rational.", "options": [],
         "correct": False, "points": 1},
        {"kind": "numeric", "prompt": "Give pi to two decimal places.", "options": [],
         "correct": 3.14, "tolerance": 0.005, "points": 2},
        {"kind": "short_text", "prompt": "Name the x in 2x + 3 = 7 (in words).", "options": [],
         "correct": ["two", "2"], "points": 1},
    ]


def _questions_computing() -> list[dict[str, Any]]:
    return [
        {"kind": "single_choice", "prompt": "Who wrote the first published program?",
         "options": ["Ada Lovelace", "Charles Babbage", "Grace Hopper"],
         "correct": "Ada Lovelace", "points": 1},
        {"kind": "multiple_choice", "prompt": "Which are programming languages?",
         "options": ["COBOL", "HTTP", "Lisp", "TCP"], "correct": ["COBOL", "Lisp"], "points": 2},
        {"kind": "true_false", "prompt": "The Turing test was proposed in 1950.", "options": [],
         "correct": True, "points": 1},
        {"kind": "numeric", "prompt": "How many bits are in a byte?", "options": [],
         "correct": 8, "points": 1},
        {"kind": "short_text", "prompt": "What does CPU stand for?", "options": [],
         "correct": ["central processing unit"], "points": 2},
    ]


class _As:
    """Runs SQL as one user, in one transaction, as the glue would."""

    def __init__(self, conn: psycopg.Connection, user: dict[str, Any]) -> None:
        self.conn = conn
        self.user = user

    def call(self, statement: str, params: list[Any]) -> Any:
        now = int(datetime.now(UTC).timestamp())
        claims = {"sub": str(self.user["id"]), "role": self.user["role"], "jti": str(uuid.uuid4()),
                  "iat": now, "exp": now + 3600, "iss": "veritas", "aud": "veritas-api",
                  "typ": "access"}
        with self.conn.transaction():
            self.conn.execute(
                "SELECT set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
                [self.user["role"], json.dumps(claims)],
            )
            row = self.conn.execute(statement, params).fetchone()
        return row[0] if row else None


def _create_user(conn: psycopg.Connection, hashed: str, email: str, name: str, role: str,
                 department: str | None) -> dict[str, Any]:
    row = conn.execute(
        "SELECT internal.create_user(%s, %s, %s, %s::auth.user_role, %s)",
        [email, hashed, name, role, department],
    ).fetchone()
    assert row is not None
    user: dict[str, Any] = row[0]
    return user


def _answers(questions: list[dict[str, Any]], skill: int) -> dict[str, Any]:
    """Answers of a student of a given skill (0-4): the first ``skill+1`` right."""
    wrong = {"single_choice": None, "multiple_choice": None, "true_false": None,
             "numeric": 0, "short_text": "no idea"}
    answers: dict[str, Any] = {}
    for index, q in enumerate(questions):
        if index <= skill:
            correct = q["correct"]
            short_list = q["kind"] == "short_text" and isinstance(correct, list)
            answers[q["id"]] = correct[0] if short_list else correct
        elif q["kind"] in ("single_choice", "multiple_choice"):
            answers[q["id"]] = q["options"][-1] if q["kind"] == "single_choice" else [
                q["options"][-1]]
        elif q["kind"] == "true_false":
            answers[q["id"]] = not q["correct"]
        else:
            answers[q["id"]] = wrong[q["kind"]]
    return answers


def _events(conn: psycopg.Connection, attempt: dict[str, Any], anomalies: int) -> None:
    started = datetime.fromisoformat(str(attempt["started_at"]))
    kinds = ["heartbeat", "tab_hidden", "tab_visible", "gaze_away", "paste", "window_blur"]
    rows = []
    for i in range(6 + anomalies * 2):
        kind = kinds[0] if i % 2 == 0 or i // 2 >= anomalies else kinds[1 + (i // 2) % 5]
        rows.append((kind, started + timedelta(seconds=20 * (i + 1)), f"demo-{i}"))
    for kind, occurred, client_id in rows:
        conn.execute(
            """
            INSERT INTO app.monitoring_events (attempt_id, attempt_started_at, exam_id,
                student_id, event_type, occurred_at, severity, is_anomaly, payload,
                client_event_id)
            SELECT a.id, a.started_at, a.exam_id, a.student_id, t.event_type, %s,
                   t.severity, t.is_anomaly, %s, %s
            FROM app.exam_attempts AS a, app.event_types AS t
            WHERE a.id = %s AND t.event_type = %s::app.event_type
            """,
            [occurred, Jsonb({"source": "demo"}), client_id, attempt["attempt_id"], kind],
        )


def load_if_empty(admin_url: str) -> list[tuple[str, str, str]]:
    """Load the demo when the database has no user; the logins, or [] if not loaded."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute("SELECT EXISTS (SELECT FROM auth.users)").fetchone()
        if row and row[0]:
            return []
        hashed = passwords.hash_password(DEMO_PASSWORD)
        _create_user(conn, hashed, *ADMIN)
        teachers = [_create_user(conn, hashed, *t) for t in TEACHERS]
        students = [
            _create_user(conn, hashed, f"student{n:02d}@veritas.test", name, "student", None)
            for n, name in enumerate(STUDENT_NAMES, start=1)
        ]
        now = datetime.now(UTC)
        exams = []
        for teacher, title, questions, shuffle in (
            (teachers[0], "Algebra basics", _questions_algebra(), False),
            (teachers[1], "A short history of computing", _questions_computing(), True),
        ):
            exams.append(_As(conn, teacher).call(
                "SELECT api.create_exam(title => %s, description => %s, duration_minutes => 30, "
                "opens_at => %s, closes_at => %s, max_attempts => 2, questions => %s, "
                "shuffle_questions => %s)",
                [title, f"Demo exam: {title.lower()}.", now - timedelta(days=1),
                 now + timedelta(days=30), Jsonb(questions), shuffle],
            ))
        for n, student in enumerate(students[:8]):
            exam = exams[n % 2]
            me = _As(conn, student)
            attempt = me.call("SELECT api.create_exam_attempt(%s)", [exam["id"]])
            _events(conn, attempt, anomalies=3 if n in (2, 5) else 0)
            me.call("SELECT api.complete_exam_attempt(%s, %s)",
                    [attempt["attempt_id"], Jsonb(_answers(exam["questions"], n % 5))])
    logins = [(ADMIN[0], DEMO_PASSWORD, "admin")]
    logins += [(t[0], DEMO_PASSWORD, "teacher") for t in TEACHERS]
    logins += [(f"student{n:02d}@veritas.test", DEMO_PASSWORD, "student")
               for n in range(1, len(STUDENT_NAMES) + 1)]
    return logins

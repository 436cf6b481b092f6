"""Audit overhead: submit throughput with the audit triggers on, and disabled.

    python bench/audit_overhead.py [--students 1000] [--questions 10] [--rounds 3]
                                   [--threads 4] [--no-seal] [--autosaved]
                                   [--http | --database-url URL]

A submit is ``api.complete_exam_attempt`` with every answer in the body, as
the student role with its claims, request method and path, in one
transaction, exactly as the glue runs it. By default it is called directly
(SQL, no HTTP: the database's work alone, the strictest ratio); with
``--http`` it is ``POST /student/exams/{attempt_id}/submit`` to the glue in
its own process (bench/stack.py), as clients see it. It saves the answers,
grades them, closes the attempt, queues its analysis and refreshes the
student's statistics: with the audit on, every one of those rows but the
derived ones is an audit.log entry (questions + 2 per submit: the answers
are stored graded). With ``--autosaved`` the answers are saved one by one
before the round (autosave, not timed, audited like any write) and the
submit carries none: it grades the saved answers instead, one UPDATE entry
each (again questions + 2 entries per submit), as for a client that
autosaves. Rounds
alternate on and off (``ALTER TABLE ... DISABLE TRIGGER`` of every trigger
running internal.tg__audit), on fresh attempts each time; with the audit
on, the sealer runs every 2 seconds beside the load, as the worker does
(``--no-seal`` leaves it out), after sealing what the untimed setup wrote.
The medians are compared; the goal (issue 6) is on / off >= 0.8.

Runs in a scratch database: a private server in a throwaway folder, or a new
database on the server of ``--database-url`` (a superuser URL; dropped after).
The load generator shares the machine's cores with the server.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import stack
from glue import dbtarget, migrate, tokens
from glue.settings import load_jwt_secret

FAKE_HASH = "$2b$12$benchbenchbenchbenchbeuJ8u3wbmTc3sTg0Vk0lC4Vj1rbA0Jg2"


@contextmanager
def scratch(database_url: str | None) -> Iterator[tuple[str, str]]:
    """(admin URL, glue URL) of a migrated scratch database."""
    if database_url:
        name = f"audit_bench_{uuid.uuid4().hex[:8]}"
        parts = urlsplit(database_url)
        admin = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
        password = uuid.uuid4().hex
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            migrate.migrate(admin, {"authenticator": password})
            host = parts.netloc.rsplit("@", 1)[-1]
            app = urlunsplit((parts.scheme, f"authenticator:{password}@{host}", f"/{name}",
                              parts.query, ""))
            yield admin, app
        finally:
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    folder = Path(tempfile.mkdtemp(prefix="veritas-audit-bench-"))
    folder.chmod(0o755)
    target = dbtarget.resolve(folder)
    try:
        migrate.migrate(target.admin_url, target.passwords)
        yield target.admin_url, target.app_url
    finally:
        target.close()
        if target.local is not None:
            target.local.stop()
        shutil.rmtree(folder, ignore_errors=True)


User = dict[str, Any]  # {"id": ..., "role": ...}
Attempt = tuple[User, str]  # (its student, attempt id)
Answers = dict[str, Any]  # question id -> answer


def as_user(conn: psycopg.Connection, user: dict[str, Any], path: str, statement: str,
            params: list[Any]) -> Any:
    """One call as the glue makes it: role, claims, method and path, one transaction."""
    now = int(time.time())
    claims = {"sub": user["id"], "role": user["role"], "jti": str(uuid.uuid4()), "iat": now,
              "exp": now + 3600, "iss": "veritas", "aud": "veritas-api", "typ": "access"}
    with conn.transaction():
        conn.execute(
            "SELECT set_config('role', %s, true), set_config('request.jwt.claims', %s, true), "
            "set_config('request.method', 'POST', true), set_config('request.path', %s, true)",
            [user["role"], json.dumps(claims), path],
        )
        row = conn.execute(statement, params).fetchone()
    return row[0] if row else None


def setup(admin: str, app: str, students: int, questions: int) -> tuple[str, list[User], Answers]:
    """A teacher's exam of true/false questions and the students; the exam id."""
    with psycopg.connect(admin, autocommit=True) as conn:
        def user(role: str) -> dict[str, Any]:
            row = conn.execute(
                "SELECT internal.create_user(%s, %s, %s, %s::auth.user_role)",
                [f"{role}-{uuid.uuid4().hex[:12]}@bench.example", FAKE_HASH, f"Bench {role}",
                 role],
            ).fetchone()
            assert row is not None
            return {"id": row[0]["id"], "role": role}

        teacher = user("teacher")
        pupils = [user("student") for _ in range(students)]
    now = datetime.now(UTC)
    body = [{"kind": "true_false", "prompt": f"Statement {n}?", "options": [],
             "correct": n % 2 == 0, "points": 1} for n in range(questions)]
    with psycopg.connect(app, autocommit=True) as conn:
        exam = as_user(
            conn, teacher, "/teacher/exams",
            "SELECT api.create_exam(title => 'Audit bench', description => NULL, "
            "duration_minutes => 600, opens_at => %s, closes_at => %s, max_attempts => 100, "
            "questions => %s::jsonb)",
            [now - timedelta(minutes=5), now + timedelta(days=1), json.dumps(body)],
        )
    answers = {q["id"]: True for q in exam["questions"]}
    return exam["id"], pupils, answers


def start_attempts(app: str, exam_id: str, pupils: list[User]) -> list[Attempt]:
    with psycopg.connect(app, autocommit=True) as conn:
        return [
            (p, as_user(conn, p, f"/student/exams/{exam_id}/start",
                        "SELECT api.create_exam_attempt(%s) ->> 'attempt_id'", [exam_id]))
            for p in pupils
        ]


def autosave(app: str, attempts: list[Attempt], answers: Answers) -> None:
    """Every answer of every attempt saved on its own, as an autosaving client does."""
    with psycopg.connect(app, autocommit=True) as conn:
        for pupil, attempt_id in attempts:
            for question_id, answer in answers.items():
                as_user(conn, pupil, f"/student/attempts/{attempt_id}/answers/{question_id}",
                        "SELECT api.save_answer(%s, %s, %s::jsonb)",
                        [attempt_id, question_id, json.dumps(answer)])


def set_audit(admin: str, on: bool) -> int:
    """Enable or disable the audit triggers (internal.tg__audit) everywhere; how many."""
    with psycopg.connect(admin, autocommit=True) as conn:
        triggers = conn.execute(
            "SELECT tgrelid::regclass::text, quote_ident(tgname) FROM pg_trigger "
            "WHERE tgfoid = 'internal.tg__audit()'::regprocedure"
        ).fetchall()
        verb = "ENABLE" if on else "DISABLE"
        for table, trigger in triggers:
            conn.execute(f"ALTER TABLE {table} {verb} TRIGGER {trigger}")
    return len(triggers)


def seal_backlog(app: str) -> None:
    """Seal what the untimed setup wrote (attempts started, answers autosaved),
    as the worker would have while it ran, so that a round seals only its own rows."""
    with psycopg.connect(app, autocommit=True) as conn:
        conn.execute("SET ROLE worker")
        while True:
            row = conn.execute("SELECT internal.seal_audit_log()").fetchone()
            if not row or not row[0]:
                return


def sealer(app: str, stop: threading.Event, sealed: list[int]) -> None:
    with psycopg.connect(app, autocommit=True) as conn:
        conn.execute("SET ROLE worker")
        while not stop.wait(2.0):
            row = conn.execute("SELECT internal.seal_audit_log()").fetchone()
            sealed.append(row[0] if row else 0)


def submit_round(app: str, attempts: list[Attempt], answers: Answers | None,
                 threads: int) -> float:
    """Submits every attempt from ``threads`` connections; submits per second."""
    body = json.dumps(answers)
    shares = [attempts[i::threads] for i in range(threads)]
    barrier = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def run(share: list[Attempt]) -> None:
        try:
            with psycopg.connect(app, autocommit=True) as conn:
                barrier.wait()
                for pupil, attempt_id in share:
                    result = as_user(
                        conn, pupil, f"/student/exams/{attempt_id}/submit",
                        "SELECT api.complete_exam_attempt(%s, %s::jsonb)", [attempt_id, body],
                    )
                    assert result["status"] == "submitted", result
        except BaseException as exc:  # surfaced below
            errors.append(exc)
            barrier.abort()

    workers = [threading.Thread(target=run, args=(s,)) for s in shares]
    for w in workers:
        w.start()
    barrier.wait()
    started = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return len(attempts) / elapsed


def http_round(base_url: str, secret: bytes, attempts: list[Attempt],
               answers: Answers | None, threads: int) -> float:
    """The same submits over HTTP, from ``threads`` keep-alive clients; submits per second."""
    shares = [attempts[i::threads] for i in range(threads)]
    barrier = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def run(share: list[Attempt]) -> None:
        try:
            with httpx.Client(base_url=base_url, timeout=60) as client:
                headers = [
                    {"Authorization": "Bearer "
                     + tokens.issue_access_token(secret, p["id"], "student")[0]}
                    for p, _ in share
                ]
                barrier.wait()
                for (_, attempt_id), header in zip(share, headers, strict=True):
                    answer = client.post(f"/student/exams/{attempt_id}/submit",
                                         headers=header,
                                         json={"answers": answers} if answers else {})
                    assert answer.status_code == 200, answer.text
        except BaseException as exc:  # surfaced below
            errors.append(exc)
            barrier.abort()

    workers = [threading.Thread(target=run, args=(s,)) for s in shares]
    for w in workers:
        w.start()
    barrier.wait()
    started = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return len(attempts) / elapsed


@contextmanager
def target(http: bool, database_url: str | None) -> Iterator[tuple[str, str, str, bytes]]:
    """(admin URL, glue URL, base URL, JWT secret); the last two only with the glue."""
    if http:
        with stack() as s:
            yield s.admin_url, s.app_url, s.base_url, load_jwt_secret(s.data_dir)
    else:
        with scratch(database_url) as (admin, app):
            yield admin, app, "", b""


def audit_rows(admin: str) -> int:
    with psycopg.connect(admin) as conn:
        row = conn.execute("SELECT count(*) FROM audit.log").fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000, help="submits per round")
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="rounds per condition")
    parser.add_argument("--threads", type=int, default=4, help="concurrent connections")
    parser.add_argument("--no-seal", action="store_true", help="no sealer beside the load")
    parser.add_argument("--autosaved", action="store_true",
                        help="answers autosaved before the round; the submit carries none")
    parser.add_argument("--database-url", default=None,
                        help="superuser URL of a server to make the scratch database on")
    parser.add_argument("--http", action="store_true",
                        help="submit over HTTP to the glue (a private stack)")
    args = parser.parse_args()

    with target(args.http, args.database_url) as (admin, app, base_url, secret):
        exam_id, pupils, answers = setup(admin, app, args.students, args.questions)
        results: dict[str, list[float]] = {"on": [], "off": []}
        rows_per_submit: list[float] = []
        sealed: list[int] = []
        for n in range(args.rounds):
            for condition in ("on", "off") if n % 2 == 0 else ("off", "on"):
                set_audit(admin, condition == "on")
                attempts = start_attempts(app, exam_id, pupils)
                if args.autosaved:
                    autosave(app, attempts, answers)
                final = None if args.autosaved else answers
                if condition == "on":
                    seal_backlog(app)
                before = audit_rows(admin)
                stop = threading.Event()
                seal_thread = None
                if condition == "on" and not args.no_seal:
                    seal_thread = threading.Thread(target=sealer, args=(app, stop, sealed))
                    seal_thread.start()
                rate = (http_round(base_url, secret, attempts, final, args.threads) if args.http
                        else submit_round(app, attempts, final, args.threads))
                stop.set()
                if seal_thread:
                    seal_thread.join()
                if condition == "on":
                    rows_per_submit.append((audit_rows(admin) - before) / len(attempts))
                results[condition].append(rate)
                print(f"round {n + 1} audit {condition:<3} {rate:8.1f} submits/s", flush=True)
        set_audit(admin, True)
        on, off = statistics.median(results["on"]), statistics.median(results["off"])
        print(json.dumps({
            "via": "http" if args.http else "sql", "submits_per_round": args.students,
            "answers": "autosaved before" if args.autosaved else "in the submit",
            "questions": args.questions,
            "threads": args.threads, "sealer": not args.no_seal,
            "audit_on_submits_per_s": round(on, 1), "audit_off_submits_per_s": round(off, 1),
            "ratio": round(on / off, 3), "goal": 0.8,
            "audit_rows_per_submit": round(statistics.mean(rows_per_submit), 1),
            "rows_sealed_during_load": sum(sealed),
        }, indent=2))


if __name__ == "__main__":
    main()

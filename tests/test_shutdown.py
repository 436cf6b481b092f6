"""SIGTERM and SIGINT stop ``veritas up``, ``serve`` and ``worker`` in order:
requests in flight finish, sessions are closed, claimed analysis jobs are
released, the private PostgreSQL stops; and a ``veritas up`` that finds a
server it did not start says so."""

from __future__ import annotations

import shutil
import signal
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from glue import migrate, worker
from glue.localdb import LocalServer
from glue.shutdown import Shutdown
from tests.accounts import bearer, create_user, login, register
from tests.commands import (
    clean_env,
    free_port,
    pid_alive,
    processes_naming,
    start,
    veritas,
    wait_healthy,
)
from tests.databases import PASSWORDS, app_url
from tests.exams import create_exam, right_answers
from tests.glue_server import JWT_SECRET

DEMO_PASSWORD = "veritas-demo-2026"


@pytest.fixture
def data_dir():
    folder = Path(tempfile.mkdtemp(prefix="veritas-stop-"))
    folder.chmod(0o755)  # the server runs as an unprivileged user when we are root
    yield folder
    if (folder / "pgdata").exists():
        LocalServer(folder).stop()
    shutil.rmtree(folder, ignore_errors=True)


def _postmaster_pid(folder: Path) -> int:
    return int((folder / "pgdata" / "postmaster.pid").read_text().splitlines()[0])


def _attempts_in_progress(base: str, students: int) -> list[tuple[str, str]]:
    """(attempt id, student token) of demo students, each in a new exam's attempt."""
    with httpx.Client(base_url=base, timeout=30) as http:
        teacher = login(http, "ada.lovelace@veritas.test", DEMO_PASSWORD)
        exam = create_exam(http, teacher, title="Shutdown drill")
        rows = []
        for n in range(1, students + 1):
            student = login(http, f"student{n:02d}@veritas.test", DEMO_PASSWORD)
            started = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(student))
            assert started.status_code in (200, 201), started.text
            rows.append((started.json()["attempt_id"], student["access_token"]))
    return rows


class Load:
    """Clients posting monitoring events one by one, each with its own id,
    until told to stop; what was acknowledged (202), and every status."""

    def __init__(self, base: str, rows: list[tuple[str, str]]) -> None:
        self.base = base
        self.rows = rows
        self.stop = threading.Event()
        self.acknowledged: list[tuple[float, str]] = []
        self.statuses: dict[str, int] = {}
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._client, args=(row,), daemon=True)
                        for row in rows]

    def _client(self, row: tuple[str, str]) -> None:
        attempt, token = row
        with httpx.Client(base_url=self.base, timeout=10,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            while not self.stop.is_set():
                event_id = uuid.uuid4().hex
                try:
                    answer = http.post("/monitor/events", json={
                        "attempt_id": attempt, "event_type": "heartbeat",
                        "occurred_at": "2026-11-25T12:00:00Z", "payload": {},
                        "client_event_id": event_id})
                    status = str(answer.status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                with self.lock:
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                    if status == "202":
                        self.acknowledged.append((time.monotonic(), event_id))
                if status not in ("202", "429"):
                    time.sleep(0.05)  # refused: the server is going away

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def test_up_stopped_by_sigterm_under_load_loses_nothing_and_leaves_nothing(data_dir):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    up = start("--data-dir", str(data_dir), "up", "--port", str(port))
    try:
        wait_healthy(port, up)
        postmaster = _postmaster_pid(data_dir)
        log_start = (data_dir / "postgres.log").stat().st_size
        rows = _attempts_in_progress(base, 4)
        with Load(base, rows) as load:
            time.sleep(2)
            signalled = time.monotonic()
            up.send_signal(signal.SIGTERM)
            out, _ = up.communicate(timeout=60)
            stopped_in = time.monotonic() - signalled
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()

    assert up.returncode == 0, out
    assert "veritas: stopped (SIGTERM)" in out, out
    assert stopped_in < 30, f"took {stopped_in:.1f} s to stop"
    assert load.acknowledged, f"no event was acknowledged: {load.statuses}"
    assert "500" not in load.statuses, load.statuses

    # No process left: the glue and its worker thread are gone with the
    # process, the private PostgreSQL (postmaster and backends) stopped.
    assert not pid_alive(postmaster), "the private PostgreSQL is still running"
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()
    assert processes_naming(str(data_dir)) == []
    # Every session was closed by its client before PostgreSQL stopped:
    # none was cut off by the stop (the pool and the worker closed theirs).
    with (data_dir / "postgres.log").open() as log:
        log.seek(log_start)
        tail = log.read()
    assert "terminating connection due to administrator command" not in tail, tail[-3000:]
    assert "unexpected EOF" not in tail, tail[-3000:]

    # Nothing acknowledged was lost.
    server = LocalServer(data_dir)
    server.start()
    try:
        with psycopg.connect(server.url()) as conn:
            stored = {r[0] for r in conn.execute(
                "SELECT client_event_id FROM app.monitoring_events WHERE attempt_id = ANY(%s)",
                [[uuid.UUID(a) for a, _ in rows]]).fetchall()}
    finally:
        server.stop()
    acknowledged = {event_id for _, event_id in load.acknowledged}
    assert acknowledged - stored == set()
    # requests in flight when the signal came were answered, not dropped
    assert any(at > signalled for at, _ in load.acknowledged) or stopped_in < 0.5, load.statuses


def test_up_takes_over_the_server_a_killed_up_left_and_stops_it_on_ctrl_c(data_dir):
    port = free_port()
    first = start("--data-dir", str(data_dir), "up", "--no-demo", "--port", str(port))
    try:
        wait_healthy(port, first)
        orphan = _postmaster_pid(data_dir)
    finally:
        first.kill()  # SIGKILL: nothing is cleaned up
        first.wait()
    assert pid_alive(orphan), "the killed up's PostgreSQL is left running"

    second = start("--data-dir", str(data_dir), "up", "--no-demo", "--port", str(port))
    try:
        wait_healthy(port, second)
        second.send_signal(signal.SIGINT)
        out, _ = second.communicate(timeout=60)
    finally:
        if second.poll() is None:
            second.kill()
            second.wait()
    assert "left running by a veritas process that is gone" in out, out
    assert "takes it over and stops it on exit" in out, out
    assert second.returncode == 0, out
    assert not pid_alive(orphan)
    assert processes_naming(str(data_dir)) == []


def test_up_leaves_running_a_server_it_did_not_start_and_says_so(data_dir):
    server = LocalServer(data_dir)
    server.start()  # started by this process, which is still running
    postmaster = _postmaster_pid(data_dir)
    port = free_port()
    up = start("--data-dir", str(data_dir), "up", "--no-demo", "--port", str(port))
    try:
        wait_healthy(port, up)
        up.send_signal(signal.SIGTERM)
        out, _ = up.communicate(timeout=60)
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    assert up.returncode == 0, out
    assert "started by another veritas process, still running (pid " in out, out
    assert "leaves it running on exit" in out, out
    assert pid_alive(postmaster), "up stopped a server it did not start"

    refused = veritas("--data-dir", str(data_dir), "db", "stop")
    assert refused.returncode == 1
    assert "in use by a running veritas" in refused.stderr

    server.disown()  # as if started by hand: nobody's
    done = veritas("--data-dir", str(data_dir), "db", "stop")
    assert done.returncode == 0, done.stderr
    assert not pid_alive(postmaster)
    again = veritas("--data-dir", str(data_dir), "db", "stop")
    assert again.returncode == 0 and "is not running" in again.stdout


@pytest.fixture
def own_db(cluster):
    url = cluster.create_database("stop")
    migrate.migrate(url, PASSWORDS)
    yield url
    cluster.drop_database(url)


def _sessions(admin_url: str, app_name: str) -> int:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = %s", [app_name]).fetchone()
    return int(row[0])


def _eventually(check, within: float = 15) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_serve_and_worker_stop_on_sigterm_and_close_their_sessions(own_db):
    env = clean_env(VERITAS_APP_DATABASE_URL=app_url(own_db),
                    VERITAS_JWT_SECRET=JWT_SECRET.decode())
    port = free_port()
    serve = start("serve", "--port", str(port), env=env)
    work = start("worker", env=env)
    try:
        wait_healthy(port, serve, within=60)
        assert _eventually(lambda: _sessions(own_db, "veritas-worker") == 1)
        assert _sessions(own_db, "veritas-glue") >= 1
        for process in (serve, work):
            process.send_signal(signal.SIGTERM)
        outs = [p.communicate(timeout=30)[0] for p in (serve, work)]
    finally:
        for process in (serve, work):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert serve.returncode == 0 and work.returncode == 0, outs
    assert all("veritas: stopped (SIGTERM)" in out for out in outs), outs
    assert _eventually(lambda: _sessions(own_db, "veritas-glue") == 0, within=5)
    assert _eventually(lambda: _sessions(own_db, "veritas-worker") == 0, within=5)


def test_a_stopped_worker_releases_the_jobs_it_claimed(own_db, live_factory):
    """The task in hand outlives the grace period: it is cancelled, its
    transaction rolls back, and the analysis job it claimed is queued again."""
    glue = live_factory(own_db)
    with glue.client() as http:
        teacher = login(http, create_user(own_db, "teacher")["email"])
        exam = create_exam(http, teacher)
        student = bearer(register(http))
        attempt = http.post(f"/student/exams/{exam['id']}/start", headers=student).json()
        for question_id, answer in right_answers(exam).items():
            http.put(f"/student/attempts/{attempt['attempt_id']}/answers/{question_id}",
                     headers=student, json={"answer": answer})
        submitted = http.post(f"/student/exams/{attempt['attempt_id']}/submit", headers=student)
        assert submitted.status_code == 200, submitted.text

    # The queue, then a long pause in the same transaction: the job stays
    # claimed (running, or done but not committed) for as long as it lasts.
    slow = [worker.Task("jobs, then a pause",
                        "SELECT internal.process_analysis_jobs('test', 20) + "
                        "(SELECT 0 FROM pg_sleep(60))", 5)]
    background = worker.Worker(app_url(own_db), tasks=slow)
    thread = threading.Thread(target=background.run, daemon=True)
    thread.start()
    with psycopg.connect(own_db, autocommit=True) as conn:
        def status() -> str:
            row = conn.execute("SELECT status::text FROM app.analysis_jobs WHERE attempt_id = %s",
                               [attempt["attempt_id"]]).fetchone()
            return str(row[0])

        assert status() == "queued"
        assert _eventually(lambda: conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'veritas-worker' AND query LIKE '%pg_sleep%'"
        ).fetchone()[0] == 1), "the slow task did not start"

        shutdown = Shutdown()
        background.stop_with(shutdown, grace=1)
        asked = time.monotonic()
        shutdown.request()
        thread.join(timeout=15)
        assert not thread.is_alive(), "the worker did not stop"
        assert time.monotonic() - asked < 10
        assert status() == "queued", "the claimed job was not released"
    assert _eventually(lambda: _sessions(own_db, "veritas-worker") == 0, within=5)

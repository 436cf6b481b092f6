"""The ``veritas`` command as a user meets it: one command brings the API up
with demo logins that work; every error ends in one readable sentence."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import httpx
import psycopg
import pytest

from glue.localdb import LocalServer

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "VERITAS_"))}
    env.update(extra)
    return env


def _veritas(*args: str, env: dict[str, str] | None = None, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "glue.cli", *args], capture_output=True, text=True,
        env=env or _env(), timeout=timeout, cwd=ROOT,
    )


@pytest.fixture
def data_dir():
    folder = Path(tempfile.mkdtemp(prefix="veritas-cli-"))
    folder.chmod(0o755)
    yield folder
    server = folder / "pgdata"
    if server.exists():
        LocalServer(folder).stop()
    shutil.rmtree(folder, ignore_errors=True)


def _one_sentence(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got:\n{stderr}"
    assert "Traceback" not in stderr
    return lines[0]


def test_up_with_the_port_taken_fails_in_one_sentence(data_dir):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _veritas("--data-dir", str(data_dir), "up", "--port", str(port))
    assert done.returncode != 0
    assert "already in use" in _one_sentence(done.stderr)


def test_up_with_database_url_pointing_nowhere_fails_in_one_sentence():
    env = _env(DATABASE_URL="postgresql://nobody:nothing@127.0.0.1:1/veritas",
               VERITAS_AUTHENTICATOR_PASSWORD="irrelevant-password")
    done = _veritas("up", "--port", str(_free_port()), env=env)
    assert done.returncode != 0
    assert "Cannot connect to the database" in _one_sentence(done.stderr)


def test_bad_database_url_scheme_fails_in_one_sentence():
    done = _veritas("db", "migrate", env=_env(DATABASE_URL="mysql://localhost/veritas"))
    assert done.returncode != 0
    assert "DATABASE_URL" in _one_sentence(done.stderr)


def _start_up(data_dir: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "glue.cli", "--data-dir", str(data_dir), "up", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(), cwd=ROOT,
    )


def _wait_healthy(port: int, process: subprocess.Popen[str], within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert process.poll() is None, f"veritas up exited:\n{process.stdout.read()}"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"/health did not answer 200 within {within} s")


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=60)
    return out


def test_up_serves_demo_logins_and_reuses_its_data(data_dir):
    port = _free_port()
    first = _start_up(data_dir, port)
    try:
        _wait_healthy(port, first, within=90)
        login = httpx.post(
            f"http://127.0.0.1:{port}/auth/login",
            json={"email": "student01@veritas.test", "password": "veritas-demo-2026"}, timeout=30,
        )
        assert login.status_code == 200, login.text
        with psycopg.connect(LocalServer(data_dir).url()) as conn:
            users = conn.execute("SELECT count(*) FROM auth.users").fetchone()[0]
    finally:
        output = _stop(first)
    assert "student01@veritas.test" in output
    assert users == 15

    second = _start_up(data_dir, port)
    try:
        _wait_healthy(port, second, within=90)
        with psycopg.connect(LocalServer(data_dir).url()) as conn:
            assert conn.execute("SELECT count(*) FROM auth.users").fetchone()[0] == users
    finally:
        output = _stop(second)
    assert "demo data not loaded" in output


def test_user_add_creates_a_user_who_can_log_in(live, migrated_db, http):
    env = _env(DATABASE_URL=migrated_db, VERITAS_AUTHENTICATOR_PASSWORD="unused-here")
    done = _veritas("user", "add", "--email", "Cli.Teacher@Example.org", "--password",
                    "a-long-enough-password", "--role", "teacher", env=env)
    assert done.returncode == 0, done.stderr
    login = http.post("/auth/login", json={"email": "cli.teacher@example.org",
                                           "password": "a-long-enough-password"})
    assert login.status_code == 200
    assert login.json()["user"]["role"] == "teacher"
    again = _veritas("user", "add", "--email", "cli.teacher@example.org", "--password",
                     "a-long-enough-password", "--role", "teacher", env=env)
    assert again.returncode != 0
    assert "already exists" in _one_sentence(again.stderr)


def test_wheel_carries_the_sql_and_the_migrations(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    wheel = next(tmp_path.glob("veritas-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "glue/sql/schema/00_roles.sql" in names
    assert "glue/migrations/0001.initial-schema.sql" in names
    assert "glue/sql/snapshot/schema.pg15.sql" in names
    assert any(n.startswith("glue/sql/functions/") for n in names)

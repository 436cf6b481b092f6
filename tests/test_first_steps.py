"""Where a new user got stuck (issue 16): ``--data-dir`` on either side of the
command, settings checked before anything starts, a worker or a glue that
says what is wrong instead of making a fresh database or a secret of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from glue.cli import build_parser
from glue.localdb import LocalServer
from tests.databases import app_url

ROOT = Path(__file__).resolve().parent.parent


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "VERITAS_"))}
    env.update(extra)
    return env


def _veritas(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT,
             timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "glue.cli", *args], capture_output=True, text=True,
        env=env or _env(), timeout=timeout, cwd=cwd,
    )


def _one_sentence(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got:\n{stderr}"
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture
def empty_folder():
    with tempfile.TemporaryDirectory(prefix="veritas-first-") as folder:
        yield Path(folder)


@pytest.mark.parametrize("argv", [
    ["--data-dir", "/tmp/x", "up"],
    ["up", "--data-dir", "/tmp/x"],
    ["db", "migrate", "--data-dir", "/tmp/x"],
    ["audit", "verify", "--data-dir", "/tmp/x"],
    ["worker", "--once", "--data-dir", "/tmp/x"],
])
def test_data_dir_goes_before_or_after_the_command(argv):
    assert build_parser().parse_args(argv).data_dir == Path("/tmp/x")


def test_data_dir_after_the_command_wins_and_absent_keeps_the_default():
    parser = build_parser()
    assert parser.parse_args(["--data-dir", "/a", "up", "--data-dir", "/b"]).data_dir == Path("/b")
    assert parser.parse_args(["up"]).data_dir is None


@pytest.mark.parametrize("command", [["up"], ["up", "--port", "8123"]])
def test_a_bad_setting_fails_before_any_database_starts(command, empty_folder):
    done = _veritas("--data-dir", str(empty_folder), *command,
                    env=_env(VERITAS_PORT="abc", VERITAS_POOL_SIZE="abc"))
    assert done.returncode == 1
    assert "must be a whole number" in _one_sentence(done.stderr)
    assert "migrated" not in done.stdout and "serving" not in done.stdout
    assert not (empty_folder / "pgdata").exists()


@pytest.mark.parametrize("command", ["worker", "serve"])
def test_worker_and_serve_in_a_folder_without_a_database_say_what_to_run(command, empty_folder):
    done = _veritas(command, cwd=empty_folder, timeout=30)
    assert done.returncode == 1
    sentence = _one_sentence(done.stderr)
    assert "no Veritas database" in sentence and "veritas up" in sentence
    assert not (empty_folder / ".veritas").exists()  # no fresh cluster, no secret


def test_worker_on_a_database_never_migrated_stops_and_says_so(cluster):
    url = cluster.create_database("unmigrated")
    try:
        env = _env(VERITAS_APP_DATABASE_URL=app_url(url))
        done = _veritas("worker", env=env, timeout=30)
    finally:
        cluster.drop_database(url)
    assert done.returncode == 1
    sentence = _one_sentence(done.stderr)
    # the cluster's roles may exist (another database migrated): then the
    # login works and the missing functions say it
    assert "refused the worker's login" in sentence or "is not migrated" in sentence
    assert "veritas db migrate" in sentence


def test_a_healthy_worker_says_what_it_serves(migrated_db):
    env = _env(VERITAS_APP_DATABASE_URL=app_url(migrated_db))
    process = subprocess.Popen(
        [sys.executable, "-m", "glue.cli", "worker"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )
    try:
        assert process.stderr is not None  # the worker's messages go to stderr, like its errors
        first = process.stderr.readline()
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert first.startswith("veritas worker ")
    dbname = migrated_db.rsplit("/", 1)[1]
    assert f"serving database {dbname} on 127.0.0.1:" in first
    assert "analysis jobs" in first


def test_serve_on_a_shared_database_needs_the_jwt_secret(migrated_db, empty_folder):
    env = _env(VERITAS_APP_DATABASE_URL=app_url(migrated_db))
    start = time.monotonic()
    done = _veritas("serve", "--port", "1", env=env, cwd=empty_folder, timeout=30)
    assert done.returncode == 1
    assert "Set VERITAS_JWT_SECRET" in _one_sentence(done.stderr)
    assert not (empty_folder / ".veritas").exists()
    assert time.monotonic() - start < 30


def test_login_passwords_from_the_environment_are_set_on_the_private_server_too():
    folder = Path(tempfile.mkdtemp(prefix="veritas-pw-"))
    folder.chmod(0o755)
    try:
        done = _veritas("--data-dir", str(folder), "db", "migrate", timeout=180,
                        env=_env(VERITAS_ANALYST_PASSWORD="analyst-from-the-environment"))
        assert done.returncode == 0, done.stderr
        again = _veritas("--data-dir", str(folder), "db", "migrate", timeout=180)
        assert again.returncode == 0, again.stderr  # remembered: not reset to the generated one
        server = LocalServer(folder)
        server.start()
        url = server.url("analyst", password="analyst-from-the-environment")
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("analyst",)
    finally:
        LocalServer(folder).stop()
        shutil.rmtree(folder, ignore_errors=True)

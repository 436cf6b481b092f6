"""``veritas serve --workers N`` and ``veritas up --workers N``: several API
processes under one supervisor. Two processes really serve and /metrics
sums their counts; a killed worker is replaced; SIGTERM stops them all in
order and leaves nothing behind; workers whose supervisor was killed stop
by themselves; the pool is shared out so the total stays what is configured."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from glue import migrate
from glue.hashing import Hashing
from glue.localdb import LocalServer
from glue.settings import Settings, SettingsError, workers_from_env
from tests.commands import clean_env, free_port, pid_alive, start, veritas, wait_healthy
from tests.databases import PASSWORDS, app_url
from tests.glue_server import JWT_SECRET


@pytest.fixture
def own_db(cluster):
    url = cluster.create_database("workers")
    migrate.migrate(url, PASSWORDS)
    yield url
    cluster.drop_database(url)


def _env(admin_url: str, **extra: str) -> dict[str, str]:
    return clean_env(VERITAS_APP_DATABASE_URL=app_url(admin_url),
                     VERITAS_JWT_SECRET=JWT_SECRET.decode(), **extra)


def _samples(port: int, name: str) -> list[tuple[dict[str, str], float]]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return [(s.labels, s.value) for family in text_string_to_metric_families(text)
            for s in family.samples if s.name == name]


def _worker_pids(port: int) -> set[int]:
    return {int(labels["pid"]) for labels, _ in _samples(port, "veritas_glue_processes")}


def _health_count(port: int) -> float:
    return sum(value for labels, value in _samples(port, "veritas_http_requests_total")
               if labels["route"] == "/health" and labels["status"] == "200")


def _pool_requests(port: int) -> dict[int, float]:
    """Connections handed out so far, per worker process (its own pool)."""
    return {int(labels["pid"]): value for labels, value in _samples(port, "veritas_pool")
            if labels["stat"] == "requests_num"}


def _parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[1])


def _sessions(admin_url: str) -> int:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name LIKE 'veritas-glue%'").fetchone()
    return int(row[0])


def _eventually(check, within: float = 20) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def _health_burst(port: int, requests: int) -> None:
    """``requests`` GET /health, each on a new connection, eight at a time."""
    async def burst() -> None:
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=10, limits=limits) as client:
            gate = asyncio.Semaphore(8)

            async def one() -> None:
                async with gate:
                    answer = await client.get(f"http://127.0.0.1:{port}/health")
                    assert answer.status_code == 200, answer.text

            await asyncio.gather(*(one() for _ in range(requests)))

    asyncio.run(burst())


def test_two_workers_serve_and_metrics_sum_over_both(own_db, tmp_path):
    port = free_port()
    serve = start("serve", "--port", str(port), "--workers", "2",
                  env=_env(own_db, TMPDIR=str(tmp_path)))
    try:
        wait_healthy(port, serve, within=60)
        assert _eventually(lambda: len(_worker_pids(port)) == 2), _worker_pids(port)
        pids = _worker_pids(port)
        assert {_parent_of(pid) for pid in pids} == {serve.pid}, "not workers of this serve"

        before_total = _health_count(port)
        before_pool = {pid: _pool_requests(port).get(pid, 0.0) for pid in pids}
        sent = 0
        # Until both processes have answered some (the kernel chooses who accepts).
        while sent < 2000:
            _health_burst(port, 100)
            sent += 100
            time.sleep(1.2)  # each process writes its pool's figures every second
            now = _pool_requests(port)
            if all(now.get(pid, 0.0) > before_pool[pid] for pid in pids):
                break
        now = _pool_requests(port)
        assert all(now.get(pid, 0.0) > before_pool[pid] for pid in pids), (before_pool, now)
        # Every request counted once, whichever process answers the scrape.
        assert _health_count(port) - before_total == sent
        assert _health_count(port) - before_total == sent
        # The database's figures are read by the process that answers: one series, not two.
        assert len(_samples(port, "veritas_database_up")) == 1
        assert len(_samples(port, "veritas_monitoring_events_inserted_total")) == 1
        # Each process's pool is its share of the configured one (15 at most: 7 each).
        maxima = [value for labels, value in _samples(port, "veritas_pool")
                  if labels["stat"] == "pool_max"]
        assert sorted(maxima) == [7.0, 7.0]

        serve.send_signal(signal.SIGTERM)
        out, _ = serve.communicate(timeout=60)
    finally:
        _stop(serve)
    assert serve.returncode == 0, out
    assert "veritas: stopped (SIGTERM)" in out, out
    assert not [pid for pid in pids if pid_alive(pid)], "a worker process outlived the stop"
    assert _eventually(lambda: _sessions(own_db) == 0, within=5)
    assert list(tmp_path.glob("veritas-metrics-*")) == [], "the run's metrics were left behind"


def test_a_killed_worker_is_replaced_and_the_counts_are_kept(own_db):
    port = free_port()
    serve = start("serve", "--port", str(port), "--workers", "2", env=_env(own_db))
    try:
        wait_healthy(port, serve, within=60)
        assert _eventually(lambda: len(_worker_pids(port)) == 2)
        _health_burst(port, 50)
        counted = _health_count(port)
        victim = min(_worker_pids(port))
        os.kill(victim, signal.SIGKILL)

        assert _eventually(lambda: victim not in _worker_pids(port)
                           and len(_worker_pids(port)) == 2), _worker_pids(port)
        replacement = (_worker_pids(port) - {victim}).pop()
        assert _parent_of(replacement) == serve.pid
        # the dead process's counts stay in the sums (+1 for each scrape since)
        assert _health_count(port) >= counted
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
        serve.send_signal(signal.SIGTERM)
        out, _ = serve.communicate(timeout=60)
    finally:
        _stop(serve)
    assert serve.returncode == 0, out


def test_workers_die_with_a_killed_supervisor_and_free_the_port(own_db):
    port = free_port()
    serve = start("serve", "--port", str(port), "--workers", "2", env=_env(own_db))
    try:
        wait_healthy(port, serve, within=60)
        assert _eventually(lambda: len(_worker_pids(port)) == 2)
        pids = _worker_pids(port)
        serve.kill()  # SIGKILL: the supervisor cannot stop anyone
        serve.wait()
        assert _eventually(lambda: not any(pid_alive(pid) for pid in pids), within=5), \
            "worker processes kept running without their supervisor"
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
        assert _eventually(lambda: _sessions(own_db) == 0, within=10)
    finally:
        _stop(serve)


@pytest.fixture
def data_dir():
    folder = Path(tempfile.mkdtemp(prefix="veritas-workers-"))
    folder.chmod(0o755)  # the server runs as an unprivileged user when we are root
    yield folder
    if (folder / "pgdata").exists():
        LocalServer(folder).stop()
    shutil.rmtree(folder, ignore_errors=True)


def test_up_with_workers_says_so_once_and_stops_them_before_postgresql(data_dir):
    port = free_port()
    up = start("--data-dir", str(data_dir), "up", "--no-demo", "--port", str(port),
               "--workers", "2")
    stop = threading.Event()
    answers: dict[int, int] = {}

    def load() -> None:
        with httpx.Client(timeout=10) as client:
            while not stop.is_set():
                try:
                    status = client.get(f"http://127.0.0.1:{port}/health").status_code
                except httpx.HTTPError:
                    status = 0
                    time.sleep(0.05)
                answers[status] = answers.get(status, 0) + 1

    try:
        wait_healthy(port, up)
        assert _eventually(lambda: len(_worker_pids(port)) == 2)
        pids = _worker_pids(port)
        log_start = (data_dir / "postgres.log").stat().st_size
        clients = [threading.Thread(target=load, daemon=True) for _ in range(4)]
        for client in clients:
            client.start()
        time.sleep(1)
        up.send_signal(signal.SIGTERM)
        out, _ = up.communicate(timeout=60)
    finally:
        stop.set()
        _stop(up)
    assert up.returncode == 0, out
    assert len(re.findall(r"serving on http://", out)) == 1, out
    assert f"serving on http://127.0.0.1:{port} with 2 processes" in out, out
    assert "veritas: stopped (SIGTERM)" in out, out
    assert answers.get(200), answers
    assert 500 not in answers and 503 not in answers, answers
    assert not [pid for pid in pids if pid_alive(pid)]
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()
    # every worker's pool closed its sessions before PostgreSQL stopped
    with (data_dir / "postgres.log").open() as log:
        log.seek(log_start)
        tail = log.read()
    assert "terminating connection due to administrator command" not in tail, tail[-3000:]
    assert "unexpected EOF" not in tail, tail[-3000:]


def test_workers_default_to_the_cores_and_refuse_nonsense(monkeypatch):
    monkeypatch.delenv("VERITAS_WORKERS", raising=False)
    assert workers_from_env() == os.cpu_count()
    assert workers_from_env(3) == 3
    monkeypatch.setenv("VERITAS_WORKERS", "4")
    assert workers_from_env() == 4
    assert workers_from_env(1) == 1  # the flag wins
    for bad in ("0", "-2", "many"):
        monkeypatch.setenv("VERITAS_WORKERS", bad)
        with pytest.raises(SettingsError, match="VERITAS_WORKERS"):
            workers_from_env()


def test_serve_refuses_zero_workers_in_one_sentence(own_db):
    done = veritas("serve", "--workers", "0", env=_env(own_db), timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "veritas: --workers (VERITAS_WORKERS) must be 1 or more, not 0."]


@pytest.mark.parametrize("workers", [1, 2, 3, 4, 7, 16, 40])
def test_the_pool_is_shared_out_within_the_configured_total(workers):
    whole = Settings(app_database_url="", jwt_secret=b"x" * 32, pool_min=5, pool_max=15,
                     hashing_threads=3)
    each = whole.divided_among(workers)
    assert 1 <= each.pool_min <= each.pool_max
    assert each.pool_max * workers <= max(whole.pool_max, workers)
    assert 1 <= each.hashing_threads <= whole.hashing_threads
    if workers == 1:
        assert each == whole


def test_passwords_are_hashed_on_lower_priority_threads():
    if not sys.platform.startswith("linux"):
        pytest.skip("per-thread priority is Linux's")
    hashing = Hashing(1)
    try:
        def nice_here() -> int:
            return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

        on_thread = asyncio.run(hashing.run(nice_here))
    finally:
        hashing.close()
    assert on_thread > os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

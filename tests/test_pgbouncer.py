"""Veritas behind PgBouncer in transaction pooling mode (the usual setup on a
managed PostgreSQL): the glue's pool talks to PgBouncer, which hands each
transaction to whichever server connection is free, so nothing of one
request's role or claims may survive into another client's transaction. The
catalog reloader LISTENs on a session of its own (VERITAS_LISTEN_DATABASE_URL:
PostgreSQL itself), since LISTEN cannot work through transaction pooling.

PgBouncer is Debian's (scripts/test installs it), started here on a free port
in front of the session's test server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from glue.catalog import RELOAD_CHANNEL
from tests.databases import AUTHENTICATOR_PASSWORD, app_url
from tests.interleaving import identity_mistakes

SERVER_CONNECTIONS = 2  # PgBouncer's pool: fewer server connections than clients


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pgbouncer(migrated_db: str) -> Iterator[str]:
    """PgBouncer (transaction mode) in front of the migrated database; the
    authenticator's URL through it."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    assert Path(binary).exists(), "pgbouncer is missing (Debian: apt-get install pgbouncer)"
    server = urlsplit(migrated_db)
    dbname = server.path.lstrip("/")
    port = _free_port()
    folder = Path(tempfile.mkdtemp(prefix="veritas-pgbouncer-"))
    folder.chmod(0o777)  # PgBouncer runs as an unprivileged user when we are root
    (folder / "users.txt").write_text(f'"authenticator" "{AUTHENTICATOR_PASSWORD}"\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"{dbname} = host={server.hostname} port={server.port} dbname={dbname}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = scram-sha-256\nauth_file = {folder / 'users.txt'}\n"
        f"pool_mode = transaction\ndefault_pool_size = {SERVER_CONNECTIONS}\n"
        "max_client_conn = 200\nserver_reset_query =\n"
        "ignore_startup_parameters = extra_float_digits,options\n"
        f"logfile = {folder / 'pgbouncer.log'}\npidfile = {folder / 'pgbouncer.pid'}\n"
    )
    for path in folder.iterdir():
        path.chmod(0o644)
    command = [binary, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"postgresql://authenticator:{AUTHENTICATOR_PASSWORD}@127.0.0.1:{port}/{dbname}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with psycopg.connect(url, connect_timeout=2, prepare_threshold=None) as conn:
                    conn.execute("SELECT 1")
                break
            except psycopg.OperationalError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = folder / "pgbouncer.log"
                    raise RuntimeError(
                        f"pgbouncer did not start: {log.read_text() if log.exists() else ''}"
                    ) from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def _pid(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT pg_backend_pid()").fetchone()
    assert row is not None
    return int(row[0])


def test_transactions_really_change_server_connections(pgbouncer):
    """The premise: through PgBouncer, one client's transactions land on
    different server sessions (else the tests below prove nothing)."""
    with psycopg.connect(pgbouncer, autocommit=True, prepare_threshold=None) as mover, \
            psycopg.connect(pgbouncer, prepare_threshold=None) as holder:
        first = _pid(mover)
        # holder's open transaction pins a server session: the first one is
        # free again, so holder may take it, and mover must then move
        held = _pid(holder)
        second = _pid(mover)
        holder.rollback()
    assert held == first, "the open transaction took the idle server session"
    assert second != first, "so the next transaction of the same client ran elsewhere"


def test_no_role_or_claim_survives_across_pgbouncer(live_factory, migrated_db, pgbouncer):
    """Many users' requests interleaved through PgBouncer, with more glue
    connections than server connections: each request sees exactly its own
    identity, an anonymous one none, and the health check answers every time
    (no server-side prepared statement that another session lacks)."""
    server = live_factory(migrated_db, app_database_url=pgbouncer,
                          listen_database_url=app_url(migrated_db), pool_min=4, pool_max=8)
    assert identity_mistakes(server, check_health=True) == []
    # and the server sessions PgBouncer keeps hold no role of a request
    with psycopg.connect(pgbouncer, prepare_threshold=None) as conn:
        for _ in range(2 * SERVER_CONNECTIONS):
            row = conn.execute(
                "SELECT current_user, current_setting('request.jwt.claims', true)"
            ).fetchone()
            assert row is not None
            assert row[0] == "authenticator"
            assert row[1] in (None, "")


def test_a_migration_reaches_a_glue_behind_pgbouncer(live_factory, migrated_db, pgbouncer):
    """The reloader listens on PostgreSQL itself: a function added (and
    announced) after the glue started is served through PgBouncer."""
    server = live_factory(migrated_db, app_database_url=pgbouncer,
                          listen_database_url=app_url(migrated_db), reload_min_interval=0.1)
    with server.client() as client:
        assert client.post("/rpc/zz_pgbouncer_probe", json={}).status_code == 404
        with psycopg.connect(migrated_db, autocommit=True) as conn:
            conn.execute("CREATE FUNCTION api.zz_pgbouncer_probe() RETURNS integer "
                         "LANGUAGE sql STABLE AS 'SELECT 42'")
            conn.execute("GRANT EXECUTE ON FUNCTION api.zz_pgbouncer_probe() TO anon")
            conn.execute(f"NOTIFY {RELOAD_CHANNEL}")
        try:
            deadline = time.monotonic() + 10
            answer = client.post("/rpc/zz_pgbouncer_probe", json={})
            while answer.status_code == 404 and time.monotonic() < deadline:
                time.sleep(0.1)
                answer = client.post("/rpc/zz_pgbouncer_probe", json={})
            assert answer.status_code == 200, answer.text
            assert answer.json() == 42
        finally:
            with psycopg.connect(migrated_db, autocommit=True) as conn:
                conn.execute("DROP FUNCTION api.zz_pgbouncer_probe()")
                conn.execute(f"NOTIFY {RELOAD_CHANNEL}")

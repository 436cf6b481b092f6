"""A streaming replica of the test session's private server, made with
``pg_basebackup -R`` and started on a port of its own, as the server's user.

The session server (glue/localdb.py) already allows it with PostgreSQL's
defaults: ``wal_level = replica``, ``max_wal_senders = 10``, initdb's
``pg_hba.conf`` line ``host replication all 127.0.0.1/32``, and the
``postgres`` superuser has REPLICATION.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import psycopg

from glue.localdb import SUPERUSER, LocalServer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Replica:
    """A hot standby of ``primary`` in a throwaway folder."""

    def __init__(self, primary: LocalServer) -> None:
        self.primary = primary
        self.folder = Path(tempfile.mkdtemp(prefix="veritas-replica-"))
        self.folder.chmod(0o755)
        self.pgdata = self.folder / "pgdata"
        self.log_file = self.folder / "postgres.log"
        self.port = _free_port()
        self.password = primary.secret(f"{SUPERUSER}_password")

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.primary.bindir / tool), *args], capture_output=True, text=True,
            user=self.primary.run_as, cwd="/",
            env={**os.environ, "LC_ALL": "C", "TZ": "UTC", "PGPASSWORD": self.password})

    def _give(self, path: Path) -> None:
        if self.primary.run_as is not None:
            shutil.chown(path, self.primary.run_as, self.primary.run_as)

    def create(self) -> None:
        """Copy the primary (a fast checkpoint, the WAL streamed alongside);
        ``-R`` writes ``standby.signal`` and ``primary_conninfo``."""
        self._give(self.folder)
        done = self._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary.port),
                         "-U", SUPERUSER, "-D", str(self.pgdata), "-R", "-X", "stream",
                         "-c", "fast")
        assert done.returncode == 0, done.stderr

    def start(self) -> None:
        """Start it and wait until it accepts connections (hot standby reached)."""
        self.log_file.touch()
        self._give(self.log_file)
        # max_connections may not be below the primary's (200) on a standby
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
                   "-c timezone=UTC -c shared_buffers=32MB -c max_connections=200 "
                   "-c hot_standby=on")
        done = self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.pgdata),
                         "-l", str(self.log_file), "-o", options)
        assert done.returncode == 0, done.stderr + self.log_file.read_text()[-2000:]

    def stop(self, mode: str = "fast") -> None:
        if self._run("pg_ctl", "status", "-D", str(self.pgdata)).returncode == 0:
            self._run("pg_ctl", "stop", "-w", "-t", "60", "-m", mode, "-D", str(self.pgdata))

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, primary_url: str) -> str:
        """``primary_url`` (same login, password and database) pointed at the replica."""
        parts = urlsplit(primary_url)
        credentials = parts.netloc.rsplit("@", 1)[0]
        return f"{parts.scheme}://{credentials}@127.0.0.1:{self.port}{parts.path}"

    def superuser_url(self, dbname: str) -> str:
        return (f"postgresql://{SUPERUSER}:{quote(self.password, safe='')}"
                f"@127.0.0.1:{self.port}/{quote(dbname, safe='')}")


def caught_up(primary_url: str, replica_url: str, within: float = 30.0) -> None:
    """Wait until the replica has replayed everything the primary wrote so far."""
    with psycopg.connect(primary_url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    target = row[0]
    deadline = time.monotonic() + within
    with psycopg.connect(replica_url, autocommit=True) as conn:
        while True:
            done = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn",
                                [target]).fetchone()
            if done is not None and done[0]:
                return
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.05)


def pause_replay(replica_superuser_url: str) -> None:
    """Stop applying WAL on the replica (it still receives it), and wait until paused."""
    with psycopg.connect(replica_superuser_url, autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
        deadline = time.monotonic() + 30
        while True:
            state = conn.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()
            if state is not None and state[0] == "paused":
                return
            assert time.monotonic() < deadline, "replay did not pause"
            time.sleep(0.05)


def resume_replay(replica_superuser_url: str) -> None:
    with psycopg.connect(replica_superuser_url, autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_resume()")

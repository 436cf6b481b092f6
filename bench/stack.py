"""The stack a benchmark runs against: a private PostgreSQL in a throwaway
folder (or, with ``citus``, the local Citus cluster of a coordinator and two
workers), migrated, and the glue served by ``veritas serve`` in a process of
its own (``--workers 1`` unless a benchmark asks for more)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from glue import dbtarget, migrate
from glue.citus_cluster import CitusCluster

ROOT = Path(__file__).resolve().parent.parent



def scalar(conn: psycopg.Connection[Any], statement: str, params: Sequence[Any] = ()) -> Any:
    """The first column of the statement's first row; an error when it has no row."""
    row = conn.execute(statement, params).fetchone()
    if row is None:
        raise RuntimeError(f"no row from: {statement}")
    return row[0]


@dataclass
class Stack:
    admin_url: str
    app_url: str
    base_url: str
    data_dir: Path
    glue: Glue
    # Each PostgreSQL server of the stack by name, its data folder: what
    # bench/cpu.py reads the servers' CPU time from.
    nodes: dict[str, Path]


class Glue:
    """``veritas serve --workers N`` in a session of its own, which a benchmark
    may kill and start again (bench/chaos.py)."""

    def __init__(self, folder: Path, port: int, env: dict[str, str], workers: int) -> None:
        self.command = [sys.executable, "-m", "glue.cli", "--data-dir", str(folder),
                        "serve", "--port", str(port), "--workers", str(workers)]
        # its access lines and warnings, kept out of the benchmark's output
        self.log = folder / "glue.log"
        self.env = {**env, "VERITAS_LOG_LEVEL": "warning"}
        self.base_url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, wait: float = 30) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, env=self.env, cwd=ROOT,
                                            stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + wait
        while True:
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the glue did not come up:\n{tail}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL to the supervisor and its worker processes at once, as a
        crash of the machine or the container would."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def stack(workers: int = 1, citus: bool = False) -> Iterator[Stack]:
    """The stack; the glue with ``workers`` processes (1: no supervisor). With
    ``citus``, the database is the local Citus cluster of
    glue/citus_cluster.py (a coordinator and two workers) instead of one
    private server, migrated in Citus mode."""
    folder = Path(tempfile.mkdtemp(prefix="veritas-bench-"))
    folder.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "VERITAS_"))}
    # a benchmark may compare with the access log off: VERITAS_ACCESS_LOG=off python bench/...
    if "VERITAS_ACCESS_LOG" in os.environ:
        env["VERITAS_ACCESS_LOG"] = os.environ["VERITAS_ACCESS_LOG"]
    os.environ.pop("DATABASE_URL", None)
    with _database(folder, citus, env) as (admin_url, app_url, nodes):
        glue = Glue(folder, _free_port(), env, workers)
        try:
            glue.start()
            yield Stack(admin_url, app_url, glue.base_url, folder, glue, nodes)
        finally:
            glue.stop()
    shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _database(folder: Path, citus: bool,
              env: dict[str, str]) -> Iterator[tuple[str, str, dict[str, Path]]]:
    """The migrated database of a stack in ``folder``: the DBA's URL, the
    glue's, and each server's data folder. On Citus the glue and the seed
    reach it through ``env`` (DATABASE_URL and the secrets), as a school's
    deployment would; the JWT secret is also kept in ``folder/jwt_secret``,
    where the benchmarks read it."""
    if not citus:
        target = dbtarget.resolve(folder)
        try:
            migrate.migrate(target.admin_url, target.passwords)
            yield target.admin_url, target.app_url, {"server": folder / "pgdata"}
        finally:
            target.close()
            if target.local is not None:
                target.local.stop()
        return
    cluster = CitusCluster(folder / "citus")
    try:
        cluster.start()
        admin_url = cluster.url("veritas")
        passwords = {role: secrets.token_urlsafe(18) for role in dbtarget.LOGIN_ROLES}
        migrate.migrate(admin_url, passwords, require_citus=True)
        secret = secrets.token_urlsafe(48)
        (folder / "jwt_secret").write_text(secret + "\n")
        env.update(DATABASE_URL=admin_url, VERITAS_JWT_SECRET=secret,
                   **{f"VERITAS_{role.upper()}_PASSWORD": password
                      for role, password in passwords.items()})
        app_url = dbtarget.with_credentials(admin_url, "authenticator", passwords["authenticator"])
        yield admin_url, app_url, {node.data_dir.name: node.pgdata for node in cluster.nodes}
    finally:
        cluster.stop()


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50, p95, p99 and max of latencies in seconds, reported in milliseconds."""
    if not samples:
        return {}
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"n": len(ordered), "p50_ms": round(pick(0.50), 2), "p95_ms": round(pick(0.95), 2),
            "p99_ms": round(pick(0.99), 2), "max_ms": round(ordered[-1] * 1000, 2)}

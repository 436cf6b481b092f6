"""The database's own ceiling for an HTTP figure: the same API function, as
the same callers, through pgbench with the same number of clients.

Each transaction does what the glue's request does (glue/request_path.py):
the six transaction-local settings (role, claims, method, path, read-only,
application name), the session check, and the call, with the arguments of
one prepared row of a table ``bench.calls_<name>``. Rows are picked at
random (``cycle``) or each used once, in order (``once``: starts and
submits). pgbench runs with prepared statements, one connection per client.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

CONTEXT = ("SELECT set_config('role', '{role}', true), "
           "set_config('request.jwt.claims', :cl::text, true), "
           "set_config('request.method', '{method}', true), "
           "set_config('request.path', '/bench', true), "
           "set_config('transaction_read_only', '{read_only}', true), "
           "set_config('application_name', 'veritas-bench', true);")


@dataclass(frozen=True)
class Call:
    """One API call as one caller: the claims (JSON text) and the arguments
    that ``statement`` names as ``:a1``, ``:a2``... (pgbench variables)."""

    claims: str
    args: tuple[str, ...] = ()


def pgbench_path() -> str:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"), reverse=True)
    if found:
        return str(found[0])
    on_path = shutil.which("pgbench")
    if on_path is None:
        raise SystemExit("pgbench is needed (Debian: postgresql-<n>)")
    return on_path


def load_calls(admin_url: str, name: str, calls: Sequence[Call]) -> None:
    """The table ``bench.calls_<name>`` (i, cl, a1...) and its sequence."""
    width = max((len(c.args) for c in calls), default=0)
    columns = "".join(f", a{k} text" for k in range(1, width + 1))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS bench")
        conn.execute(f"DROP TABLE IF EXISTS bench.calls_{name}")
        conn.execute(f"CREATE TABLE bench.calls_{name} (i int PRIMARY KEY, cl text{columns})")
        conn.execute(f"DROP SEQUENCE IF EXISTS bench.next_{name}")
        conn.execute(f"CREATE SEQUENCE bench.next_{name}")
        with conn.cursor().copy(f"COPY bench.calls_{name} FROM STDIN") as copy:
            for i, call in enumerate(calls, start=1):
                copy.write_row((i, call.claims, *call.args, *([None] * (width - len(call.args)))))


def script(name: str, rows: int, role: str, statement: str, *, once: bool,
           read_only: bool, method: str = "POST") -> str:
    """A pgbench script: pick a row, set the caller's context, check the session, call."""
    width = len(re.findall(r":a\d+", statement))
    picked = ", ".join(["cl", *(f"a{k}" for k in range(1, width + 1))])
    pick = (f"SELECT nextval('bench.next_{name}') AS i \\gset\n" if once
            else f"\\set i random(1, {rows})\n")
    return (pick
            + f"SELECT {picked} FROM bench.calls_{name} WHERE i = :i \\gset\n"
            + "BEGIN;\n"
            + CONTEXT.format(role=role, method=method, read_only="on" if read_only else "off")
            + "\nSELECT internal.assert_session_active();\n"
            + f"SELECT {statement};\n"
            + "END;\n")


def run(admin_url: str, text: str, *, clients: int, seconds: float | None = None,
        transactions: int | None = None, protocol: str = "prepared") -> dict[str, Any]:
    """Run a pgbench script (``protocol``: pgbench's -M); transactions per
    second and average latency."""
    with tempfile.TemporaryDirectory(prefix="veritas-pgbench-") as folder:
        path = Path(folder) / "script.sql"
        path.write_text(text)
        limit = (["-t", str(max(1, transactions))] if transactions is not None
                 else ["-T", str(max(1, round(seconds or 1)))])
        done = subprocess.run(
            [pgbench_path(), "-n", "-M", protocol, "-c", str(clients),
             "-j", str(min(clients, 2)), *limit, "-f", str(path), admin_url],
            capture_output=True, text=True, env={**os.environ})
    tps = re.search(r"tps = ([\d.]+)", done.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", done.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    processed = re.search(r"number of transactions actually processed: (\d+)", done.stdout)
    if tps is None or done.returncode != 0:
        raise RuntimeError(f"pgbench failed: {done.stdout[-800:]}{done.stderr[-800:]}")
    return {"tps": round(float(tps.group(1)), 1),
            "latency_avg_ms": float(latency.group(1)) if latency else None,
            "failed": int(failed.group(1)) if failed else 0, "clients": clients,
            "transactions": int(processed.group(1)) if processed else None}


def read_only(admin_url: str, statement: str) -> bool:
    """Whether the glue runs the API function that ``statement`` calls in a
    read-only transaction: it does for a STABLE or IMMUTABLE one (glue/catalog.py)."""
    found = re.search(r"\bapi\.(\w+)\(", statement)
    if found is None:
        raise ValueError(f"no API function called in: {statement}")
    with psycopg.connect(admin_url) as conn:
        row = conn.execute("SELECT provolatile <> 'v' FROM pg_proc WHERE proname = %s "
                           "AND pronamespace = 'api'::regnamespace", [found.group(1)]).fetchone()
    if row is None:
        raise ValueError(f"no API function api.{found.group(1)}")
    return bool(row[0])


def call_ceiling(admin_url: str, name: str, calls: Sequence[Call], role: str, statement: str,
                 *, clients: int, seconds: float, once: bool = False,
                 method: str = "POST") -> dict[str, Any]:
    """The same API function through pgbench: load the calls, run, report."""
    load_calls(admin_url, name, calls)
    text = script(name, len(calls), role, statement, once=once,
                  read_only=read_only(admin_url, statement), method=method)
    if once:
        return run(admin_url, text, clients=clients, transactions=len(calls) // clients)
    return run(admin_url, text, clients=clients, seconds=seconds)

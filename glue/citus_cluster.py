"""A local Citus cluster: a coordinator and two workers on this machine.

For tests and benchmarks (``veritas citus up|down|status``, and the Citus run of the tests,
tests/conftest.py); users run Citus from its own packages or container
image (docs/scaling.md#4-citus). Each node is a private server of glue/localdb.py
(``LocalServer``) in its own folder under one data folder, with ``citus``
preloaded:

    <data>/coordinator/   the node clients use (127.0.0.1, its own port)
    <data>/worker1/, <data>/worker2/
    <data>/sockets/       the nodes' Unix sockets, a folder only the server
                          user can open

The nodes reach each other through that socket folder, where every node
trusts every role (Citus connects to a worker as the user running the query,
and the runtime roles have no password). Over TCP a worker admits only its
superuser, with its password: a client of the coordinator cannot reach a
worker. docs/security.md says why this holds.

A database made by ``create_database`` exists on all three nodes, with the
extension in each, the workers registered in the coordinator's metadata and
the coordinator itself too (so that its local tables join reference tables).
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from glue.localdb import LocalDbError, LocalServer

PRELOAD = ("citus", "pg_stat_statements")
WORKERS = 2

# The nodes' own connections come through the private socket folder; TCP
# serves clients (coordinator) or the DBA only (workers).
COORDINATOR_HBA = """\
# glue/citus_cluster.py: the nodes' connections through the private socket folder
local all all trust
host all all 127.0.0.1/32 scram-sha-256
"""
WORKER_HBA = """\
# glue/citus_cluster.py: the nodes' connections through the private socket folder;
# over TCP, the superuser only (clients use the coordinator)
local all all trust
host all postgres 127.0.0.1/32 scram-sha-256
"""


@dataclass(frozen=True)
class NodeStatus:
    name: str
    port: int | None
    running: bool


class CitusCluster:
    """The coordinator and workers kept in ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self.socket_dir = self.data_dir / "sockets"
        self.coordinator = self._node("coordinator")
        self.workers = [self._node(f"worker{n}") for n in range(1, WORKERS + 1)]

    def _node(self, name: str) -> LocalServer:
        return LocalServer(self.data_dir / name, preload=PRELOAD, socket_dir=self.socket_dir)

    @property
    def nodes(self) -> list[LocalServer]:
        return [self.coordinator, *self.workers]

    # -- life cycle ---------------------------------------------------------------

    def _prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        self.socket_dir.chmod(0o700)
        run_as = self.coordinator.run_as
        if run_as is not None:
            entry = pwd.getpwnam(run_as)
            os.chown(self.socket_dir, entry.pw_uid, entry.pw_gid)
        if len(str(self.socket_dir)) > 80:
            raise LocalDbError(
                f"{self.socket_dir} is too long a path for a Unix socket; "
                "choose a shorter data folder."
            )
        # One superuser password on every node: Citus copies the coordinator's
        # roles, passwords included, to each worker it adds.
        self.coordinator.data_dir.mkdir(parents=True, exist_ok=True)
        password = self.coordinator.secret("postgres_password")
        for worker in self.workers:
            worker.data_dir.mkdir(parents=True, exist_ok=True)
            worker.remember_secret("postgres_password", password)
        for node in self.nodes:
            if node.initialise():
                hba = COORDINATOR_HBA if node is self.coordinator else WORKER_HBA
                (node.pgdata / "pg_hba.conf").write_text(hba)

    def running(self) -> bool:
        return all(node.running() for node in self.nodes)

    def start(self) -> bool:
        """Start every node that is not running; True when any was started now.

        The ``veritas`` database is made ready (on all nodes, workers
        registered), and the node ports in every Citus database's metadata
        follow the nodes (a port may change when it was taken meanwhile).
        """
        self._prepare()
        started = False
        try:
            for node in [*self.workers, self.coordinator]:
                started = node.start() or started
            self.create_database("veritas")
            self._follow_ports()
        except BaseException:
            if started:
                self.stop()
            raise
        return started

    def stop(self) -> None:
        for node in [self.coordinator, *self.workers]:
            node.stop()

    def status(self) -> list[NodeStatus]:
        out: list[NodeStatus] = []
        for node in self.nodes:
            running = (node.pgdata / "PG_VERSION").exists() and node.running()
            out.append(NodeStatus(node.data_dir.name, node.port if running else None, running))
        return out

    # -- databases ----------------------------------------------------------------

    def url(self, dbname: str = "veritas") -> str:
        """The superuser's URL of a database on the coordinator (the DBA's)."""
        return self.coordinator.url(dbname=dbname)

    def _databases(self) -> list[str]:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT datname FROM pg_database WHERE datallowconn AND datname <> 'postgres' "
                "AND NOT datistemplate"
            ).fetchall()
        return [str(r[0]) for r in rows]

    def create_database(self, name: str) -> str:
        """Make ``name`` a Citus database on all nodes (idempotent); its DBA URL."""
        for node in self.nodes:
            with psycopg.connect(node.url(dbname="postgres"), autocommit=True) as conn:
                # each node is told on its own: no propagation from the coordinator
                conn.execute("SET citus.enable_create_database_propagation = off")
                found = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", [name]
                ).fetchone()
                if not found:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            with psycopg.connect(node.url(dbname=name), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS citus")
                if node is self.coordinator:
                    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        with psycopg.connect(self.url(name), autocommit=True) as conn:
            conn.execute(
                "SELECT citus_set_coordinator_host(%s, %s)",
                [str(self.socket_dir), self.coordinator.port],
            )
            for worker in self.workers:
                known = conn.execute(
                    "SELECT 1 FROM pg_dist_node WHERE nodename = %s AND nodeport = %s",
                    [str(self.socket_dir), worker.port],
                ).fetchone()
                if not known:
                    conn.execute(
                        "SELECT citus_add_node(%s, %s)", [str(self.socket_dir), worker.port]
                    )
        return self.url(name)

    def drop_database(self, name: str) -> None:
        for node in self.nodes:
            with psycopg.connect(node.url(dbname="postgres"), autocommit=True) as conn:
                conn.execute("SET citus.enable_create_database_propagation = off")
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(name)
                    )
                )

    def _follow_ports(self) -> None:
        """Point each database's node metadata at the nodes' current ports."""
        ports = {f"worker{n}": w.port for n, w in enumerate(self.workers, 1)}
        for name in self._databases():
            with psycopg.connect(self.url(name), autocommit=True) as conn:
                has_citus = conn.execute(
                    "SELECT 1 FROM pg_extension WHERE extname = 'citus'"
                ).fetchone()
                if not has_citus:
                    continue
                rows = conn.execute(
                    "SELECT nodeid, nodeport, groupid FROM pg_dist_node ORDER BY groupid"
                ).fetchall()
                wanted = [self.coordinator.port, *ports.values()]
                for (nodeid, port, _group), want in zip(rows, wanted, strict=False):
                    if port != want:
                        conn.execute(
                            "SELECT citus_update_node(%s, %s, %s)",
                            [nodeid, str(self.socket_dir), want],
                        )

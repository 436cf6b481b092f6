"""The ``veritas`` command: run, migrate and operate the service.

Every error it can meet ends in one sentence on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from glue import admin_db, archive, dbtarget, http_server, migrate, role_urls, snapshot
from glue.localdb import LocalDbError, LocalServer
from glue.settings import (
    Settings,
    SettingsError,
    data_dir_from_env,
    load_jwt_secret,
    require_shared_jwt_secret,
    shutdown_grace,
    workers_from_env,
)
from glue.shutdown import Shutdown
from glue.users import UserAddError

if TYPE_CHECKING:
    from glue.citus_cluster import CitusCluster


class CliError(Exception):
    """Ends the command with this one sentence and exit status 1."""



@contextlib.contextmanager
def _target(
    args: argparse.Namespace, need_admin: bool = True, need_app: bool = True
) -> Iterator[dbtarget.DbTarget]:
    """The database of this command; a private server started for it stops after."""
    target = dbtarget.resolve(args.data_dir, need_admin=need_admin, need_app=need_app)
    try:
        yield target
    finally:
        target.close(keep=getattr(args, "keep_db", False))


def _note_found(target: dbtarget.DbTarget) -> None:
    if target.found:
        print(f"veritas: note: {target.found}", file=sys.stderr, flush=True)


def _settings(args: argparse.Namespace) -> Settings:
    """Every setting checked (before anything starts); the database URL comes later."""
    base = Settings.from_env("", load_jwt_secret(args.data_dir))
    return dataclasses.replace(base, host=args.host or base.host, port=args.port or base.port)


def _migrate(target: dbtarget.DbTarget, citus: bool = False) -> migrate.MigrateReport:
    report = migrate.migrate(target.admin_url, target.passwords, require_citus=citus)
    target.remember_passwords()
    applied = ", ".join(report.applied) if report.applied else "none new"
    print(f"migrated: {applied}; {report.repeatable_files} repeatable files re-applied")
    for warning in report.warnings:
        print(f"veritas: warning: {warning}", file=sys.stderr)
    return report


def cmd_up(args: argparse.Namespace) -> None:
    from glue import demo, worker

    settings = _settings(args)  # every setting checked before the database starts
    grace = shutdown_grace()
    workers = workers_from_env(args.workers)
    host, port = settings.host, settings.port
    http_server.check_port(host, port)
    shutdown = Shutdown()
    with shutdown.handling_signals():
        with _target(args) as target:
            _note_found(target)
            _migrate(target)
            if not args.no_demo:
                logins = demo.load_if_empty(target.admin_url)
                if logins:
                    print("demo data loaded; logins (email / password):")
                    for email, password, role in logins:
                        print(f"  {role:<12} {email:<28} {password}")
                else:
                    print("database already holds users: demo data not loaded")
            background = worker.Worker(target.app_url)
            background.stop_with(shutdown, grace)
            thread = threading.Thread(target=background.run, name="worker", daemon=True)
            thread.start()
            if not dbtarget.uses_private_server() and os.environ.get("VERITAS_JWT_SECRET") is None:
                print(f"veritas: warning: tokens are signed with the development secret in "
                      f"{args.data_dir / 'jwt_secret'}; set VERITAS_JWT_SECRET to share one "
                      "secret with the other glue processes of this database", file=sys.stderr)
            print(f"serving on http://{host}:{port} with {_processes(workers)} "
                  "(Ctrl-C to stop)", flush=True)
            try:
                http_server.serve(dataclasses.replace(settings, app_database_url=target.app_url),
                                  shutdown, grace, workers)
            finally:
                background.stop.set()
                # the worker's task in hand finishes, or is cancelled after grace
                thread.join(grace + 10)
        _stopped(shutdown)


def _processes(workers: int) -> str:
    return "1 process" if workers == 1 else f"{workers} processes"


def _stopped(shutdown: Shutdown) -> None:
    cause = f" ({shutdown.signal_name})" if shutdown.signal_name else ""
    print(f"veritas: stopped{cause}", file=sys.stderr, flush=True)


def cmd_serve(args: argparse.Namespace) -> None:
    if dbtarget.uses_private_server(need_admin=False):
        dbtarget.require_private_database(args.data_dir)
    else:
        require_shared_jwt_secret(args.data_dir)
    settings = _settings(args)
    grace = shutdown_grace()
    workers = workers_from_env(args.workers)
    shutdown = Shutdown()
    with shutdown.handling_signals():
        with _target(args, need_admin=False) as target:
            _note_found(target)
            http_server.serve(dataclasses.replace(settings, app_database_url=target.app_url),
                              shutdown, grace, workers)
        _stopped(shutdown)


def cmd_db_migrate(args: argparse.Namespace) -> None:
    with _target(args) as target:
        _migrate(target, citus=args.citus)


def cmd_db_rollback(args: argparse.Namespace) -> None:
    with _target(args) as target:
        rolled = migrate.rollback_last(target.admin_url)
    print(f"rolled back {rolled}" if rolled else "nothing to roll back")


def cmd_db_reset(args: argparse.Namespace) -> None:
    if not args.yes:
        raise CliError("db reset drops every table and its data; confirm with --yes.")
    with _target(args) as target:
        migrate.reset(target.admin_url)
        print("dropped every schema of ours")
        _migrate(target)


def cmd_db_snapshot(args: argparse.Namespace) -> None:
    with _target(args) as target:
        _migrate(target)
        major = admin_db.server_major(target.admin_url)
        pg_dump = target.local.tool("pg_dump") if target.local else "pg_dump"
        path = snapshot.snapshot_path(major)
        path.write_text(snapshot.schema_dump(target.admin_url, pg_dump))
    print(f"wrote {path}")


def cmd_db_archive_events(args: argparse.Namespace) -> None:
    with _target(args) as target:
        moved = archive.archive_event_partitions(target.admin_url, args.older_than)
    if moved:
        print(f"archived {len(moved)} event partition(s): {', '.join(moved)}")
    else:
        print(f"no event partition is older than {args.older_than}: nothing archived")


def cmd_user_add(args: argparse.Namespace) -> None:
    from glue import users

    with _target(args) as target:
        user = users.add_user(
            target.admin_url,
            email=args.email,
            password=args.password,
            role=args.role,
            full_name=args.full_name or args.email.split("@")[0],
            department=args.department,
        )
    print(f"created {args.role} {args.email} with id {user['id']}")


def cmd_audit_verify(args: argparse.Namespace) -> None:
    from glue import audit_verify

    try:
        anchors = [audit_verify.parse_anchor(a) for a in args.anchor]
    except ValueError as exc:  # a usage error (exit 2), never reported as tampering (exit 1)
        print(f"veritas: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    with _target(args) as target:
        try:
            report = audit_verify.verify(target.admin_url, anchors)
        except audit_verify.ChainBroken as exc:
            raise CliError(f"audit chain broken: {exc}") from None
    for line in report.lines():
        print(line)


def cmd_seed_scale(args: argparse.Namespace) -> None:
    from glue import seed_scale

    sizes = seed_scale.Sizes(args.students, args.exams, args.events)
    sizes.check()  # before a private server starts
    with _target(args) as target:
        report = seed_scale.seed_scale(target.admin_url, sizes, force=args.force)
    counts = ", ".join(f"{n:,} {what}" for what, n in report.counts.items())
    if not report.seeded:
        print(f"already seeded ({counts}): nothing changed. To seed other sizes, start from "
              "an empty database (veritas db reset --yes).")
        return
    print(f"seeded in {report.seconds:.0f} s: {counts}")
    print(f"every seeded account logs in with the password {seed_scale.SEED_PASSWORD}: "
          f"student-000001@{seed_scale.SEED_DOMAIN} ..., "
          f"teacher-0001@{seed_scale.SEED_DOMAIN} ...")


def cmd_worker(args: argparse.Namespace) -> None:
    from glue import worker

    grace = shutdown_grace()
    shutdown = Shutdown()
    with shutdown.handling_signals():
        with _target(args, need_admin=False) as target:
            _note_found(target)
            background = worker.Worker(target.app_url)
            if not args.once:
                background.stop_with(shutdown, grace)
            try:
                background.run(once=args.once)
            except worker.CannotStart as exc:
                raise CliError(str(exc)) from None
        if not args.once:
            _stopped(shutdown)


def _client(target: dbtarget.DbTarget, name: str) -> Path:
    from glue.localdb import client_tool

    return target.local.tool(name) if target.local else client_tool(name)


def cmd_db_backup(args: argparse.Namespace) -> None:
    from glue import backup

    path = Path(args.file).resolve()
    if path.is_dir() or not path.parent.is_dir():
        raise CliError(f"Cannot write a backup to {path}: name a file in an existing folder.")
    with _target(args, need_app=False) as target:
        size = backup.backup(target, path, _client(target, "pg_dump"))
    print(f"backed up to {path} ({size / 1_048_576:.1f} MiB, pg_dump custom format)")


def cmd_db_restore(args: argparse.Namespace) -> None:
    from glue import backup

    path = Path(args.file).resolve()
    jobs = backup.default_jobs() if args.jobs is None else args.jobs
    if jobs < 1:
        raise CliError("--jobs must be 1 or more.")
    with _target(args, need_app=False) as target:
        pg_restore = _client(target, "pg_restore")
        backup.entries(pg_restore, path)  # a readable backup, before anything is dropped
        if backup.holds_veritas(target.admin_url) and not args.yes:
            raise CliError(
                "This database already holds Veritas tables, which the restore drops with "
                "their data; confirm with --yes."
            )
        report = backup.restore(target, path, pg_restore, jobs)
    applied = ", ".join(report.migrations_applied) or "none new"
    counts = ", ".join(f"{table} {rows}" for table, rows in report.rows.items())
    print(f"restored {path}; migrations applied since the backup: {applied}; "
          "analytics refreshed" + (f"; rows: {counts}" if counts else ""))


def cmd_db_url(args: argparse.Namespace) -> None:
    private = not os.environ.get("DATABASE_URL") and not (
        args.role == "app" and os.environ.get("VERITAS_APP_DATABASE_URL"))
    if private and not (LocalServer(args.data_dir).pgdata / "PG_VERSION").exists():
        raise CliError(
            f"There is no private database in {args.data_dir} yet: run veritas up first "
            "(or set DATABASE_URL)."
        )
    # the private server is not started: its URL is read from its state file
    target = dbtarget.resolve(args.data_dir, start_local=False,
                              need_admin=args.role != "app", need_app=args.role == "app")
    print(role_urls.role_url(target, args.role))
    if target.local is not None and not target.local.running():
        print(f"veritas: note: the private PostgreSQL in {target.local.pgdata} is not running: "
              "start it with veritas up (it keeps its port when that is still free).",
              file=sys.stderr)


def cmd_psql(args: argparse.Namespace) -> int:
    import signal
    import subprocess

    with _target(args, need_admin=args.role != "app", need_app=args.role == "app") as target:
        url = role_urls.role_url(target, args.role)
        psql = _client(target, "psql")
        command, env = role_urls.psql_command(psql, url, args.extra)
        # Ctrl-C belongs to psql (it cancels the query), not to this process.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            return subprocess.run(command, env=env).returncode
        finally:
            signal.signal(signal.SIGINT, previous)


def cmd_db_stop(args: argparse.Namespace) -> None:
    if os.environ.get("DATABASE_URL"):
        raise CliError("db stop stops the private PostgreSQL only, and DATABASE_URL is set.")
    local = LocalServer(args.data_dir)
    if not local.running():
        print(f"the private PostgreSQL in {local.pgdata} is not running")
        return
    starter = local.starter()
    if starter.kind == "shared":
        raise CliError(
            f"The private PostgreSQL in {local.pgdata} is in use by a running veritas "
            f"(pid {starter.pid}); stop that process instead (Ctrl-C, or kill {starter.pid})."
        )
    local.stop()
    print(f"stopped the private PostgreSQL in {local.pgdata}")


def _citus(args: argparse.Namespace) -> CitusCluster:
    from glue.citus_cluster import CitusCluster

    return CitusCluster(args.data_dir / "citus")


def cmd_citus_up(args: argparse.Namespace) -> None:
    cluster = _citus(args)
    started = cluster.start()
    cluster.coordinator.disown()
    for worker in cluster.workers:
        worker.disown()
    state = "started" if started else "already running"
    print(f"{state}: the Citus cluster in {cluster.data_dir}")
    _print_citus_status(cluster)
    print(f"DATABASE_URL={cluster.url()}")


def cmd_citus_down(args: argparse.Namespace) -> None:
    cluster = _citus(args)
    cluster.stop()
    print(f"stopped the Citus cluster in {cluster.data_dir}")


def _print_citus_status(cluster: CitusCluster) -> None:
    for node in cluster.status():
        where = f"port {node.port}" if node.port else "-"
        print(f"{node.name:12} {'running' if node.running else 'stopped':8} {where}")


def cmd_citus_status(args: argparse.Namespace) -> int:
    cluster = _citus(args)
    _print_citus_status(cluster)
    return 0 if cluster.running() else 3


def cmd_citus_url(args: argparse.Namespace) -> None:
    cluster = _citus(args)
    if not cluster.running():
        raise CliError(f"The Citus cluster in {cluster.data_dir} is not running: veritas citus up")
    print(cluster.url(args.dbname))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="veritas", description=__doc__)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder of the private database and dev secret (default ./.veritas, "
        "or VERITAS_DATA_DIR); unused when DATABASE_URL is set",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    # argparse names the type of its subcommand groups only privately.
    def add(name: str, func: Callable[[argparse.Namespace], int | None], helptext: str,
            parent: argparse._SubParsersAction[argparse.ArgumentParser] | None = None,
            ) -> argparse.ArgumentParser:
        p = (parent or sub).add_parser(name, help=helptext, description=helptext)
        p.set_defaults(func=func)
        # also after the command (veritas up --data-dir X); SUPPRESS keeps the
        # value given before it when this one is absent
        p.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS,
                       help="as before the command")
        return p

    up = add("up", cmd_up, "start the database (private unless DATABASE_URL), migrate, "
             "load demo data when empty, and serve the API")
    serve = add("serve", cmd_serve, "serve the API on an already migrated database")
    for p in (up, serve):
        p.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
        p.add_argument("--port", type=int, default=None, help="port (default 8000)")
        p.add_argument("--workers", type=int, default=None,
                       help="API processes (default VERITAS_WORKERS, else one per core; "
                       "1 serves from this process, for debugging)")
    up.add_argument("--no-demo", action="store_true", help="never load demo data")
    up.add_argument("--keep-db", action="store_true",
                    help="leave the private database running on exit")

    db = sub.add_parser("db", help="database maintenance").add_subparsers(
        dest="db_command", required=True
    )
    db_migrate = add("migrate", cmd_db_migrate, "apply new migrations and re-apply functions, "
                     "views and policies (and, with the citus extension, distribute the "
                     "events: docs/scaling.md#4-citus)", db)
    db_migrate.add_argument("--citus", action="store_true",
                            help="require Citus mode: fail unless the database has the "
                            "citus extension")
    add("rollback", cmd_db_rollback, "roll back the newest migration", db)
    reset = add("reset", cmd_db_reset, "drop everything of ours and migrate afresh", db)
    reset.add_argument("--yes", action="store_true", help="confirm: all data is lost")
    url = add("url", cmd_db_url, "print the connection string of a login: analyst (read-only "
              "analytics), dba, or app (the glue's own)", db)
    url.add_argument("--role", choices=role_urls.ROLES, default="analyst",
                     help="whose login (default analyst)")
    backup = add("backup", cmd_db_backup, "dump the database to FILE (pg_dump custom format)", db)
    backup.add_argument("file", metavar="FILE")
    restore = add("restore", cmd_db_restore, "replace the database's contents with a backup: "
                  "roles, an emptied database, pg_restore in parallel, migrate, analytics "
                  "refreshed", db)
    restore.add_argument("file", metavar="FILE")
    restore.add_argument("--jobs", type=int, default=None,
                         help="parallel pg_restore jobs (default: the CPUs, at most 4)")
    restore.add_argument("--yes", action="store_true",
                         help="confirm when the database already holds Veritas data")
    add("stop", cmd_db_stop, "stop the private PostgreSQL of the data folder, when no "
        "running veritas uses it (one left running by --keep-db, or by a crash)", db)
    add("snapshot", cmd_db_snapshot, "migrate, then rewrite sql/snapshot/ from the database", db)
    archive = add("archive-events", cmd_db_archive_events, "detach monitoring-event "
                  "partitions older than an age into the archive schema", db)
    archive.add_argument("--older-than", default="180 days",
                         help="a PostgreSQL interval, e.g. '180 days' (default)")

    citus = sub.add_parser("citus", help="a local Citus cluster (coordinator and two "
                           "workers) for tests and benchmarks").add_subparsers(
        dest="citus_command", required=True
    )
    add("up", cmd_citus_up, "start the local Citus cluster in <data folder>/citus (made on "
        "first use) and leave it running; prints the DBA's DATABASE_URL", citus)
    add("down", cmd_citus_down, "stop the local Citus cluster", citus)
    add("status", cmd_citus_status, "each node, running or not (exit 3 unless all run)", citus)
    citus_url = add("url", cmd_citus_url, "print the DBA's URL of a database on the "
                    "coordinator", citus)
    citus_url.add_argument("--dbname", default="veritas", help="default veritas")

    user = sub.add_parser("user", help="user management").add_subparsers(
        dest="user_command", required=True
    )
    add_user = add("add", cmd_user_add, "create a user of any role", user)
    add_user.add_argument("--email", required=True)
    add_user.add_argument("--password", required=True)
    add_user.add_argument("--role", required=True,
                          choices=["student", "teacher", "admin", "integration"])
    add_user.add_argument("--full-name", default=None)
    add_user.add_argument("--department", default=None)

    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(
        dest="audit_command", required=True
    )
    verify = add("verify", cmd_audit_verify, "recompute the audit hash chains; exit 1 naming "
                 "the first broken link", audit)
    verify.add_argument("--anchor", action="append", default=[],
                        metavar="TABLE:POSITION:HASH",
                        help="a chain head printed by an earlier run and kept outside the "
                        "database: it must still be there (repeatable)")

    seed = sub.add_parser("seed", help="synthetic data").add_subparsers(
        dest="seed_command", required=True
    )
    scale = add("scale", cmd_seed_scale, "fill the database with school-scale synthetic data "
                "(students, exams, attempts, events, analyses, metrics) for measuring", seed)
    scale.add_argument("--students", type=int, default=100_000, help="default 100000")
    scale.add_argument("--exams", type=int, default=200, help="default 200")
    scale.add_argument("--events", type=int, default=10_000_000,
                       help="monitoring events in all (default 10000000)")
    scale.add_argument("--force", action="store_true",
                       help="seed even though the database holds real (non-.test) accounts")

    psql = add("psql", cmd_psql, "open psql on the database as a login (default analyst); "
               "psql's own arguments follow, e.g. -c 'select ...' (or after --)")
    psql.add_argument("--role", choices=role_urls.ROLES, default="analyst",
                      help="whose login (default analyst)")
    psql.set_defaults(passes_through=True)
    psql.allow_abbrev = False  # psql's --record-separator is not our --role

    worker = add("worker", cmd_worker, "run the background worker (analysis queue, "
                 "expiry, analytics refresh, partitions)")
    worker.add_argument("--once", action="store_true", help="one round, then exit")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line, as ``main`` reads it: a command that passes arguments
    through (``psql``) keeps the ones it does not know in ``args.extra``."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "passes_through", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra[1:] if extra[:1] == ["--"] else extra
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.data_dir = data_dir_from_env(str(args.data_dir) if args.data_dir else None)
    try:
        code = args.func(args)
    except KeyboardInterrupt:
        return 130
    except (CliError, SettingsError, LocalDbError, admin_db.AdminDbError, UserAddError,
            http_server.PortInUse) as exc:
        print(f"veritas: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the last resort: one sentence, never a traceback
        first = str(exc).strip().splitlines()[:1] or ["no detail"]
        print(f"veritas: unexpected {type(exc).__name__}: {first[0]}", file=sys.stderr)
        return 1
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())

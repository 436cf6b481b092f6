"""The benchmark harness: every scenario on a fresh stack with the scale data.

    python bench/run.py            # the scale data's defaults (about 15 minutes)
    python bench/run.py --quick    # small data, short runs (under 3 minutes)
    python bench/run.py --citus    # the same on the local Citus cluster (docs/scaling.md)

1. A private PostgreSQL and the glue (bench/stack.py: ``veritas serve
   --workers N``, one process per core unless ``--workers`` says), migrated;
   then ``veritas seed scale`` fills it (timed).
2. The scenarios (bench/scenarios/), in order: ingest, attempts (start,
   autosave, submit), analysis (the queue the submits filled), freshness
   (staleness after a submit), reads (the five reads of the brief) and
   logins (with event latency during a login storm). Each runs for a fixed
   time after a warm-up, wrk as the load generator, and puts its ceiling
   beside each HTTP figure: the same API function through pgbench with the
   same number of clients, or a plain INSERT of the same row.
3. ``bench/results/<date>.json`` and ``.md`` (``<date>-citus`` with
   ``--citus``, ``-quick`` with ``--quick``); the Markdown table is printed too.

wrk and pgbench must be installed (Debian: wrk, postgresql-<n>). The load
generator shares the machine's cores with the server: compare ratios, not
absolute figures, between days. A scenario that fails is reported with no
figure, the others still run, and the exit status is 1. A run whose
answers were not all as expected (a 429, a socket error, a failed pgbench
transaction) is named in the results' warnings.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import ceiling, replay, report
from bench.report import Figure
from bench.scenarios import analysis, attempts, freshness, ingest, logins, reads
from bench.stack import ROOT, stack
from bench.workload import Bench

SCENARIOS: dict[str, Callable[[Bench], list[Figure]]] = {
    "ingest": ingest.run,
    "attempts": attempts.run,
    "analysis": analysis.run,  # drains what the attempts scenario queued
    "freshness": freshness.run,
    "reads": reads.run,
    "logins": logins.run,
}

FULL = {"students": 100_000, "exams": 200, "events": 10_000_000, "seconds": 10.0,
        "warmup": 3.0}
QUICK = {"students": 500, "exams": 5, "events": 50_000, "seconds": 2.0, "warmup": 1.0}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Every scenario on a fresh stack with the scale data; "
                    "writes bench/results/<date>.json and .md")
    parser.add_argument("--quick", action="store_true",
                        help="small data and short runs (CI: checks that every scenario "
                             "produced a figure)")
    parser.add_argument("--students", type=int)
    parser.add_argument("--exams", type=int)
    parser.add_argument("--events", type=int)
    parser.add_argument("--seconds", type=float, help="each measured run")
    parser.add_argument("--warmup", type=float, help="the warm-up before a measured run")
    parser.add_argument("--clients", type=int, default=16,
                        help="HTTP connections and pgbench clients at saturation")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)),
                        help="API processes (veritas serve --workers; default one per core)")
    parser.add_argument("--citus", action="store_true",
                        help="on the local Citus cluster (a coordinator and two workers, "
                             "glue/citus_cluster.py) instead of one PostgreSQL")
    parser.add_argument("--only", help="comma-separated scenarios: " + ", ".join(SCENARIOS))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    chosen = args.only.split(",") if args.only else list(SCENARIOS)
    unknown = [name for name in chosen if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    args.chosen = chosen
    return args


def seed(data_dir: Path, env: dict[str, str], args: argparse.Namespace) -> Figure:
    command = [sys.executable, "-m", "glue.cli", "--data-dir", str(data_dir), "seed", "scale",
               "--students", str(args.students), "--exams", str(args.exams),
               "--events", str(args.events)]
    started = time.monotonic()
    subprocess.run(command, env=env, cwd=ROOT, check=True)
    elapsed = time.monotonic() - started
    target = "≤ 300 s" if not args.quick else ""
    return Figure("seed", "veritas seed scale", elapsed, "s", target=target,
                  detail={"students": args.students, "exams": args.exams,
                          "events": args.events})


def faults(found: object, where: str = "") -> list[str]:
    """Every run inside a figure's detail whose answers were not all as
    expected (wrk: another status, a socket error; pgbench: a failed
    transaction): the figure then measures something else."""
    if isinstance(found, dict):
        bad = [f"{where}: {key} = {found[key]}"
               for key in ("unexpected", "socket_errors", "failed", "non2xx", "errors")
               if isinstance(found.get(key), int) and found[key] > 0]
        for key, value in found.items():
            bad += faults(value, f"{where}/{key}" if where else str(key))
        return bad
    return []


def machine() -> str:
    cores = len(os.sched_getaffinity(0))
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return (f"{cores} cores, {memory:.0f} GiB, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, load average {load:.1f} at the start")


def measure(args: argparse.Namespace, command: str) -> tuple[dict[str, Any], list[Figure]]:
    """The chosen scenarios on a fresh stack seeded with the scale data: the
    run's description (``meta``) and its figures."""
    started = datetime.now(UTC)
    at_start = machine()
    figures: list[Figure] = []
    failed: list[str] = []
    warnings: list[str] = []
    with stack(args.workers, citus=args.citus) as s:
        figures.append(seed(s.data_dir, s.glue.env, args))
        bench = Bench(admin_url=s.admin_url, base_url=s.base_url, data_dir=str(s.data_dir),
                      secret=(s.data_dir / "jwt_secret").read_text().strip().encode(),
                      seconds=args.seconds, warmup=args.warmup, clients=args.clients,
                      quick=args.quick, env=s.glue.env, stack=s)
        for name in args.chosen:
            print(f"== {name}", file=sys.stderr, flush=True)
            began = time.monotonic()
            try:
                found = SCENARIOS[name](bench)
            except Exception as exc:
                traceback.print_exc()
                failed.append(name)
                found = [Figure(name, "failed", None, "", detail={"error": repr(exc)})]
            print(f"   {name}: {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
            for figure in found:
                warnings += [f"{figure.scenario} / {figure.measure}: {fault}"
                             for fault in faults(figure.detail)]
            figures += found
    meta = {"started": started.isoformat(timespec="seconds"), "machine": at_start,
            "data": f"{args.students:,} students, {args.exams:,} exams, {args.events:,} events",
            "command": command, "quick": args.quick, "failed": failed, "warnings": warnings,
            "seconds_per_run": args.seconds, "clients": args.clients, "workers": args.workers,
            "database": ("Citus: a coordinator and two workers on this machine" if args.citus
                         else "one PostgreSQL")}
    return meta, figures


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    replay.require_wrk()
    ceiling.pgbench_path()
    command = "python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    meta, figures = measure(args, command)
    warnings, failed = meta["warnings"], meta["failed"]
    stem = (meta["started"][:10] + ("-citus" if args.citus else "")
            + ("-quick" if args.quick else ""))
    as_json, as_md = report.write(args.out, stem, meta, figures)
    print(as_md.read_text())
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {as_json} and {as_md}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Monitoring events in, as bench/events.py measures them (its
``run_ingest``: one event per request at saturation and paced at 500
requests/s, batches of 500), each beside the database's ceilings measured
in the same run: a plain INSERT of the same row, the API function through
pgbench with the same clients, a 500-row INSERT."""

from __future__ import annotations

from typing import Any

from bench.events import run_ingest
from bench.report import Figure
from bench.workload import Bench

PLAIN = "plain INSERT through pgbench"
FUNCTION = "the API function through pgbench"


def cpu_figures(what: str, run: dict[str, Any]) -> list[Figure]:
    """The database servers' CPU milliseconds per event of a run
    (bench/cpu.py): all servers together and, on a cluster (Citus: the
    coordinator and its workers), each server."""
    by_server: dict[str, float] = run.get("cpu_ms_per_event", {})
    servers = [name for name in by_server if name != "all"]
    shown = ["all", *servers] if len(servers) > 1 else ["all"]
    return [Figure("ingest", f"database CPU per event, {what}"
                   + ("" if name == "all" else f": {name}"), by_server.get(name), "ms")
            for name in shown]


def run(bench: Bench) -> list[Figure]:
    found = run_ingest(bench.stack, seconds=max(1, round(bench.seconds)),
                       attempts=200 if bench.quick else 500, clients=8)
    plain, api = found["plain_insert"]["tps"], found["api_function"]["tps"]
    single, paced, batches = found["http_single"], found["http_paced"], found["http_batches"]
    return [
        Figure("ingest", "one event per request, saturation", single["rate"], "events/s",
               plain, PLAIN, "≥ 0.3", detail={"http": single, "plain_insert":
                                               found["plain_insert"]}),
        Figure("ingest", "one event per request, saturation", single["rate"], "events/s",
               api, FUNCTION, "≥ 0.6", detail={"pgbench": found["api_function"]}),
        Figure("ingest", "the API function through pgbench", api, "events/s", plain, PLAIN,
               "≥ 0.5"),
        Figure("ingest", f"paced ({paced['rate']:.0f} req/s): p50", paced["p50_ms"], "ms",
               target="≤ 2 ms", detail=paced),
        Figure("ingest", f"paced ({paced['rate']:.0f} req/s): p99", paced["p99_ms"], "ms",
               target="≤ 5 ms"),
        *cpu_figures("one per request", single),
        *cpu_figures("the API function through pgbench", found["api_function"]),
        Figure("ingest", "batches of 500", batches["events_per_second"], "events/s",
               found["multi_row_insert"]["events_per_second"], "500-row INSERT through pgbench",
               "≥ 0.7", detail={"http": batches, "multi_row_insert": found["multi_row_insert"]}),
    ]

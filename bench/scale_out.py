"""One node against Citus, in one sitting (docs/scaling.md#4-citus): the
harness's ingest and read scenarios (bench/run.py) on one PostgreSQL, then
on the local Citus cluster (a coordinator and two workers on this machine,
glue/citus_cluster.py), with the same data and settings; then both side by
side with their ratio, and the planning figures.

    python bench/scale_out.py --students 5000 --exams 20 --events 500000

On one machine the cluster's three servers share the cores that one server
had alone, with the load generator and the glue: this measures what Citus
costs (the extra hop from the coordinator to a worker, in latency and in
CPU), not the speed-up more machines would give. The planning figures come
from each server's CPU time per event (bench/cpu.py), which does not depend
on how many cores the servers shared:

- one node stores 1000 / S events/s per core, S its CPU ms per event;
- on Citus, each event costs W ms of CPU on the worker that holds its
  attempt and C ms on the coordinator: a cluster stores at most
  min(coordinator cores x 1000 / C, worker cores x 1000 / W) events/s.

Writes ``<date>-one-node``, ``<date>-citus`` and ``<date>-scale-out``
(``.json`` and ``.md``) to ``bench/results/`` (``--out``). The arguments are
bench/run.py's (``--only`` defaults to ``ingest,reads``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import ceiling, replay, report
from bench.report import Figure, number
from bench.run import measure, parse_args

ENGINES = ("one node", "Citus")
# What the planning figures are read from: the servers' CPU per event while
# the glue took one event per request at saturation.
CPU_MEASURE = "database CPU per event, one per request"


def _key(figure: Figure) -> tuple[str, str, str]:
    """What pairs a figure of one run with the other's: the paced rate in
    the measure's name is what each run reached, not part of the name."""
    return figure.scenario, re.sub(r" \(\d+ req/s\)", "", figure.measure), figure.ceiling_label


def compare(one: list[Figure], citus: list[Figure]) -> list[dict[str, Any]]:
    """Each measure both runs gave: both values and Citus / one node."""
    theirs = {_key(f): f for f in citus}
    rows = []
    shown = set()
    for mine in one:
        other = theirs.get(_key(mine))
        if other is None or mine.scenario == "seed":
            continue
        ratio = (round(other.value / mine.value, 3)
                 if mine.value and other.value is not None else None)
        # a value beside two ceilings is one row, and a row per ceiling
        if _key(mine)[:2] not in shown:
            shown.add(_key(mine)[:2])
            rows.append({"scenario": mine.scenario, "measure": _key(mine)[1], "unit": mine.unit,
                         "one_node": mine.value, "citus": other.value,
                         "citus_to_one_node": ratio})
        if mine.ceiling is not None and mine.ceiling_label:
            rows.append({"scenario": mine.scenario,
                         "measure": f"{_key(mine)[1]}: ratio to {mine.ceiling_label}",
                         "unit": "", "one_node": mine.ratio, "citus": other.ratio,
                         "citus_to_one_node": None})
    return rows


def _cpu(figures: list[Figure], server: str = "") -> float | None:
    name = CPU_MEASURE + (f": {server}" if server else "")
    found = [f.value for f in figures if f.scenario == "ingest" and f.measure == name]
    return found[0] if found else None


def planning(one: list[Figure], citus: list[Figure]) -> dict[str, Any]:
    """Events per second per core, from the servers' CPU per event."""
    single = _cpu(one)
    coordinator = _cpu(citus, "coordinator")
    workers = [v for v in (_cpu(citus, "worker1"), _cpu(citus, "worker2")) if v is not None]
    worker = round(sum(workers), 4) if workers else None

    def per_core(ms: float | None) -> float | None:
        return round(1000 / ms) if ms else None

    return {"one_node_cpu_ms_per_event": single,
            "one_node_events_per_second_per_core": per_core(single),
            "citus_coordinator_cpu_ms_per_event": coordinator,
            "citus_coordinator_events_per_second_per_core": per_core(coordinator),
            "citus_worker_cpu_ms_per_event": worker,
            "citus_events_per_second_per_worker_core": per_core(worker)}


def markdown(meta: dict[str, Any], rows: list[dict[str, Any]], plan: dict[str, Any]) -> str:
    lines = [f"# One node against Citus, {meta['started']}", "",
             f"{meta['machine']}; data: {meta['data']}; command: `{meta['command']}`", "",
             "| scenario | measure | one node | Citus (2 workers) | Citus / one node |",
             "| --- | --- | --- | --- | --- |"]
    for row in rows:
        ratio = "" if row["citus_to_one_node"] is None else f"{row['citus_to_one_node']:.2f}"
        lines.append(f"| {row['scenario']} | {row['measure']} | {number(row['one_node'])} "
                     f"{row['unit']} | {number(row['citus'])} {row['unit']} | {ratio} |")
    lines += ["", "Planning (server CPU per event, one event per request at saturation):", "",
              f"- one node: {number(plan['one_node_cpu_ms_per_event'])} ms per event, "
              f"{number(plan['one_node_events_per_second_per_core'])} events/s per core;",
              f"- Citus coordinator: {number(plan['citus_coordinator_cpu_ms_per_event'])} ms "
              f"per event, {number(plan['citus_coordinator_events_per_second_per_core'])} "
              "events/s per coordinator core;",
              f"- Citus workers: {number(plan['citus_worker_cpu_ms_per_event'])} ms per event "
              f"(on the one worker holding the attempt), "
              f"{number(plan['citus_events_per_second_per_worker_core'])} events/s per "
              "worker core."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    given = list(argv if argv is not None else sys.argv[1:])
    if "--only" not in given:
        given += ["--only", "ingest,reads"]
    if "--citus" in given:
        raise SystemExit("bench/scale_out.py runs both: leave --citus out")
    replay.require_wrk()
    ceiling.pgbench_path()
    command = "python bench/scale_out.py " + " ".join(given)
    args = parse_args(given)
    runs = {}
    for engine in ENGINES:
        args.citus = engine == "Citus"
        print(f"=== {engine}", file=sys.stderr, flush=True)
        runs[engine] = measure(args, command)
    (one_meta, one), (citus_meta, citus) = runs["one node"], runs["Citus"]
    day = one_meta["started"][:10] + ("-quick" if args.quick else "")
    report.write(args.out, f"{day}-one-node", one_meta, one)
    report.write(args.out, f"{day}-citus", citus_meta, citus)
    rows, plan = compare(one, citus), planning(one, citus)
    meta = {**one_meta, "citus_started": citus_meta["started"],
            "failed": one_meta["failed"] + citus_meta["failed"],
            "warnings": one_meta["warnings"] + citus_meta["warnings"]}
    text = markdown(meta, rows, plan)
    (args.out / f"{day}-scale-out.md").write_text(text)
    report.write_json(args.out / f"{day}-scale-out.json",
                      {"meta": meta, "comparison": rows, "planning": plan})
    print(text)
    for warning in meta["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    return 1 if meta["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())

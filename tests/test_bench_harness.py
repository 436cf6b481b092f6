"""The benchmark harness's quick mode, as CI runs it: every scenario on a
fresh stack with small scale data. No timing is asserted: only that every
scenario produced its figures, from answers that were all as expected."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench import scale_out
from bench.report import Figure
from bench.run import SCENARIOS

ROOT = Path(__file__).resolve().parent.parent


def test_quick_run_gives_every_scenario_its_figures(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "bench/run.py", "--quick", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    [as_json] = tmp_path.glob("*-quick.json")
    result = json.loads(as_json.read_text())
    assert result["meta"]["failed"] == []
    assert result["meta"]["warnings"] == []
    figures = result["figures"]
    for scenario in [*SCENARIOS, "seed"]:
        mine = [f for f in figures if f["scenario"] == scenario]
        assert mine, f"no figure from {scenario}"
        for figure in mine:
            assert isinstance(figure["value"], int | float), figure
            assert figure["value"] > 0, figure
            if figure["ceiling"] is not None:
                assert figure["ceiling"] > 0 and figure["ratio"] > 0, figure
    # every HTTP throughput has its ceiling beside it
    assert all(f["ceiling"] for f in figures
               if f["unit"] in {"req/s", "starts/s", "saves/s", "submits/s"})
    table = as_json.with_suffix(".md").read_text()
    assert "| scenario | measure | value | ceiling (same run) | ratio | target |" in table
    assert table.splitlines()[-1] in done.stdout  # and it was printed


def test_an_unknown_scenario_is_refused_before_anything_starts() -> None:
    done = subprocess.run([sys.executable, "bench/run.py", "--quick", "--only", "ingest,nope"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "unknown scenario(s): nope" in done.stderr


def test_one_node_and_citus_figures_are_paired_and_planned() -> None:
    """bench/scale_out.py pairs each measure of the two runs (the paced rate
    each reached is not part of the name), shows a value beside two
    ceilings once, and plans per core from the servers' CPU per event."""
    one = [
        Figure("ingest", "one event per request, saturation", 1000, "events/s", 2000, "plain"),
        Figure("ingest", "one event per request, saturation", 1000, "events/s", 1500, "api"),
        Figure("ingest", "paced (498 req/s): p50", 2.0, "ms"),
        Figure("ingest", "database CPU per event, one per request", 0.5, "ms"),
        Figure("seed", "veritas seed scale", 60, "s"),
    ]
    citus = [
        Figure("ingest", "one event per request, saturation", 600, "events/s", 1200, "plain"),
        Figure("ingest", "one event per request, saturation", 600, "events/s", 800, "api"),
        Figure("ingest", "paced (471 req/s): p50", 3.0, "ms"),
        Figure("ingest", "database CPU per event, one per request", 1.6, "ms"),
        Figure("ingest", "database CPU per event, one per request: coordinator", 0.8, "ms"),
        Figure("ingest", "database CPU per event, one per request: worker1", 0.25, "ms"),
        Figure("ingest", "database CPU per event, one per request: worker2", 0.15, "ms"),
        Figure("seed", "veritas seed scale", 90, "s"),
    ]
    rows = {row["measure"]: row for row in scale_out.compare(one, citus)}
    assert list(rows) == [
        "one event per request, saturation",
        "one event per request, saturation: ratio to plain",
        "one event per request, saturation: ratio to api",
        "paced: p50",
        "database CPU per event, one per request",
    ]
    assert rows["one event per request, saturation"]["citus_to_one_node"] == 0.6
    assert rows["one event per request, saturation: ratio to api"]["citus"] == 0.75
    assert rows["paced: p50"]["citus_to_one_node"] == 1.5
    plan = scale_out.planning(one, citus)
    assert plan["one_node_events_per_second_per_core"] == 2000
    assert plan["citus_coordinator_events_per_second_per_core"] == 1250
    # an event costs CPU on the one worker holding its attempt: both workers' share
    assert plan["citus_worker_cpu_ms_per_event"] == 0.4
    assert plan["citus_events_per_second_per_worker_core"] == 2500

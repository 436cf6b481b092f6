"""The benchmark harness's quick mode, as CI runs it: every scenario on a
fresh stack with small scale data. No timing is asserted: only that every
scenario produced its figures, from answers that were all as expected."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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

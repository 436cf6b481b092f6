"""A bounded run of bench/chaos.py: the database killed twice (SIGKILL of the
postmaster, then an immediate stop), the worker and the glue each killed
with SIGKILL, all under ingest and submit load. Nothing acknowledged may be
lost, nothing stored twice, no 500, every submitted attempt analysed exactly
once, and every part serves again. How fast it recovers is the benchmark's
business (docs/performance.md); here it only has to recover at all."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_faults_under_load_lose_nothing_acknowledged() -> None:
    done = subprocess.run(
        [sys.executable, "bench/chaos.py", "--cycles", "4", "--clients", "2",
         "--submitters", "1", "--attempts", "40", "--down", "1", "--settle", "1.5",
         "--recovery-goal", "60"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert [c["fault"] for c in result["cycles"]] == [
        "postmaster-sigkill", "pg-immediate", "worker-sigkill", "glue-sigkill"]
    assert result["events_acknowledged"] > 0 and result["submits_acknowledged"] > 0
    for check in ("events_acknowledged_but_lost", "events_stored_twice",
                  "submits_acknowledged_but_not_submitted",
                  "submitted_without_one_analysis", "answers_500"):
        assert result[check] == 0, (check, result)
    assert all(c["recovery_s"] is not None for c in result["cycles"]), result

"""Analysis throughput: how many submitted attempts per second the workers
analyse (the built-in analyser, the student's metrics and profile, the
exam's metrics: internal.process_analysis_jobs, as ``veritas worker`` runs
it), with one worker per core draining the queue that the attempts
scenario filled. No ceiling: the target is absolute (≥ 200 attempts/s).
"""

from __future__ import annotations

import os
import threading
import time

import psycopg

from bench.report import Figure
from bench.workload import Bench
from glue.worker import TASK_CONTEXT_SQL, WORKER_LIMITS

QUEUED = "SELECT count(*) FROM app.analysis_jobs WHERE status IN ('queued', 'failed')"


def drain(admin_url: str, name: str, errors: list[BaseException]) -> None:
    try:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            while True:
                with conn.transaction():
                    conn.execute(TASK_CONTEXT_SQL, list(WORKER_LIMITS.values()))
                    row = conn.execute("SELECT internal.process_analysis_jobs(%s, 20)",
                                       [name]).fetchone()
                if row is None or row[0] == 0:
                    return
    except BaseException as exc:
        errors.append(exc)


def run(bench: Bench) -> list[Figure]:
    (queued,), = bench.rows(QUEUED)
    if queued == 0:
        raise RuntimeError("no analysis job is queued: run the attempts scenario first")
    (done_before,), = bench.rows("SELECT count(*) FROM app.analysis_jobs WHERE status = 'done'")
    workers = max(1, len(os.sched_getaffinity(0)))
    errors: list[BaseException] = []
    threads = [threading.Thread(target=drain, args=(bench.admin_url, f"harness-{n}", errors))
               for n in range(workers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    if errors:
        raise errors[0]
    (done_after,), = bench.rows("SELECT count(*) FROM app.analysis_jobs WHERE status = 'done'")
    analysed = done_after - done_before
    return [Figure("analysis", f"attempts analysed ({workers} workers)", analysed / elapsed,
                   "attempts/s", target="≥ 200 attempts/s",
                   detail={"analysed": analysed, "seconds": round(elapsed, 2),
                           "workers": workers})]

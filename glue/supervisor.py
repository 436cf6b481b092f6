"""``veritas serve --workers N`` (and ``up``): N API processes on one socket,
under uvicorn's own supervisor (``uvicorn.supervisors.Multiprocess``).

- This process binds the socket once and spawns N worker processes, each
  running the app under uvicorn's ``Server``. Each has its own connection
  pool (its share of the configured one: ``Settings.divided_among``), its
  own catalog reloader session and verified-token cache (a revoked session
  is still refused at once: the request path checks it in the database on
  every request), and its own bcrypt threads.
- A worker process that dies (SIGKILL, a crash) is replaced: uvicorn checks
  each one every half second.
- SIGTERM and SIGINT stay glue/shutdown.py's here: a stop sends SIGTERM to
  every worker, whose uvicorn server stops accepting, lets the requests in
  flight finish within the grace period and closes the pool; this process
  waits for them all. A second signal sends them SIGINT, which uvicorn takes
  as a forced stop. (uvicorn's other signals keep their meaning: SIGHUP
  replaces the workers one by one, SIGTTIN and SIGTTOU add and remove one.)
- A worker whose supervisor is killed with SIGKILL dies with it, as the
  one process of ``--workers 1`` would (Linux: ``PR_SET_PDEATHSIG``, at
  once; elsewhere it notices within half a second and stops gracefully):
  none is left serving on its own, holding the port.
- ``/metrics``: prometheus_client's multiprocess mode, in a directory made
  empty for this run and removed after it; a dead worker's live series are
  removed (``mark_process_dead``). See glue/metrics.py.
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from typing import Any

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

from glue.metrics import forget_process
from glue.settings import Settings
from glue.shutdown import SIGNALS, Shutdown

# How often a worker checks that its supervisor is still there (not Linux).
ORPHAN_CHECK_SECONDS = 0.5
PR_SET_PDEATHSIG = 1  # <sys/prctl.h>


def worker_app(settings: Settings, supervisor_pid: int) -> Any:
    """The app, in a worker process (uvicorn calls this factory there)."""
    from glue.app import create_app

    _die_with(supervisor_pid)
    return create_app(settings)


def _die_with(supervisor_pid: int) -> None:
    """This worker process ends when its supervisor does."""
    if sys.platform.startswith("linux"):
        # The kernel sends SIGKILL the moment the supervisor (the thread that
        # spawned this process: always its main thread) exits.
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
            if os.getppid() != supervisor_pid:  # gone already, before the prctl
                os.kill(os.getpid(), signal.SIGKILL)
            return

    def watch() -> None:
        while os.getppid() == supervisor_pid:
            time.sleep(ORPHAN_CHECK_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)  # a graceful stop

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


class Supervisor(Multiprocess):
    """uvicorn's supervisor, stopped by glue/shutdown.py, cleaning up the metrics."""

    def __init__(self, config: uvicorn.Config, shutdown: Shutdown, metrics_dir: str) -> None:
        ours = {sig: signal.getsignal(sig) for sig in SIGNALS}
        super().__init__(config, [config.bind_socket()])
        for sig, handler in ours.items():  # uvicorn's __init__ took them
            signal.signal(sig, handler)
        self.metrics_dir = metrics_dir
        shutdown.on_stop(self._on_stop)

    def _on_stop(self, forced: bool) -> None:
        self.should_exit.set()
        if forced:
            for process in self.processes:
                if process.process.is_alive() and process.pid is not None:
                    os.kill(process.pid, signal.SIGINT)

    def _forget_gone(self, before: set[int | None]) -> None:
        for pid in before - {p.pid for p in self.processes}:
            if pid is not None:
                forget_process(pid, self.metrics_dir)

    def keep_subprocess_alive(self) -> None:
        before = {p.pid for p in self.processes}
        super().keep_subprocess_alive()
        self._forget_gone(before)

    def handle_signals(self) -> None:
        before = {p.pid for p in self.processes}
        super().handle_signals()
        self._forget_gone(before)

    def run(self) -> None:
        try:
            super().run()
        finally:
            for process in self.processes:
                if process.pid is not None:
                    forget_process(process.pid, self.metrics_dir)
            for sock in self.sockets:
                sock.close()


def serve(settings: Settings, shutdown: Shutdown, grace: float, workers: int,
          config_options: dict[str, Any]) -> None:
    """Serve the API from ``workers`` processes until ``shutdown``, then stop them in order."""
    metrics_dir = tempfile.mkdtemp(prefix="veritas-metrics-")
    # read by prometheus_client in each worker when it starts (spawned: a fresh interpreter)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        config = uvicorn.Config(
            functools.partial(worker_app, settings.divided_among(workers), os.getpid()),
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            timeout_graceful_shutdown=max(1, round(grace)),
            **config_options,
        )
        Supervisor(config, shutdown, metrics_dir).run()
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        shutil.rmtree(metrics_dir, ignore_errors=True)

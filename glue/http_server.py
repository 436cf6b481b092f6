"""The API under uvicorn, stopped by glue/shutdown.py.

uvicorn's own signal handling is left out: after its graceful stop it raises
the signal again, and a SIGTERM then ends the process on the spot, before
``veritas up`` has stopped its worker and its private PostgreSQL. Here a
stop closes the listening socket, lets the requests in flight finish (at
most ``grace`` seconds, then they are cancelled), and closes the pool
(the app's lifespan) before ``serve`` returns.

With ``workers`` above 1 the same happens in each of that many processes,
under glue/supervisor.py; with 1, in this process (nothing else to watch:
the simplest to debug, to profile with py-spy, and what the tests embed).
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

from glue.settings import Settings
from glue.shutdown import Shutdown


class PortInUse(Exception):
    """The port is taken; the message says which and what to do."""


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def check_port(host: str, port: int) -> None:
    if not port_free(host, port):
        raise PortInUse(
            f"Port {port} on {host} is already in use; choose another with --port or VERITAS_PORT."
        )


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Signals are glue/shutdown.py's (see the module's docstring).
        yield


def serve(settings: Settings, shutdown: Shutdown, grace: float, workers: int = 1) -> None:
    """Serve the API until ``shutdown`` is asked for, then stop in order."""
    from glue.request_log import log_config

    check_port(settings.host, settings.port)
    options: dict[str, Any] = {
        "log_config": log_config(os.environ.get("VERITAS_LOG_LEVEL", "warning")),
        "access_log": False,  # glue/request_log.py writes the access lines
    }
    if workers > 1:
        from glue import supervisor

        supervisor.serve(settings, shutdown, grace, workers, options)
        return

    from glue.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        timeout_graceful_shutdown=max(1, round(grace)),
        **options,
    )
    server = _Server(config)

    def on_stop(forced: bool) -> None:
        server.should_exit = True
        if forced:
            server.force_exit = True

    shutdown.on_stop(on_stop)
    server.run()

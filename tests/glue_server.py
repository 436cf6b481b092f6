"""The real glue under uvicorn, in a thread, on a free port, for the HTTP tests."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time

import httpx
import uvicorn

from glue.app import create_app
from glue.settings import Settings
from tests.databases import app_url

JWT_SECRET = b"test-secret-test-secret-test-secret-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """The real glue under uvicorn, in a thread, on a free port."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=settings.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.base_url = f"http://127.0.0.1:{settings.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the glue did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30)


def settings_for(admin_url: str, **overrides: object) -> Settings:
    """Settings of a test glue on a free port, connecting as ``authenticator``,
    with a refresh reuse interval of 5 s, as a school serving the web app over
    plain http sets it (the default, 0, is tested in tests/test_auth.py)."""
    base = Settings(app_database_url=app_url(admin_url), jwt_secret=JWT_SECRET,
                    port=_free_port(), pool_min=1, pool_max=5, refresh_reuse_seconds=5)
    return dataclasses.replace(base, **overrides)

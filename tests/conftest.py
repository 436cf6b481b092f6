"""The test session's own PostgreSQL, migrated databases and a live glue.

With ``TEST_DATABASE_URL`` (a superuser URL to any PostgreSQL 15-18) the tests
create their databases there; otherwise they start a private server exactly
as ``veritas up`` does, in a throwaway folder.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
import uvicorn

from glue import migrate
from glue.app import create_app
from glue.localdb import LocalServer
from glue.settings import Settings

AUTHENTICATOR_PASSWORD = "authenticator-test-password"
ANALYST_PASSWORD = "analyst-test-password"
PASSWORDS = {"authenticator": AUTHENTICATOR_PASSWORD, "analyst": ANALYST_PASSWORD}
JWT_SECRET = b"test-secret-test-secret-test-secret-0123456789"


def with_db(url: str, dbname: str, user: str | None = None, password: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if user is not None:
        host = netloc.rsplit("@", 1)[-1]
        netloc = f"{user}:{password}@{host}"
    return urlunsplit((parts.scheme, netloc, f"/{dbname}", parts.query, ""))


class Cluster:
    """A PostgreSQL server the tests may create and drop databases on."""

    def __init__(self, superuser_url: str, local: LocalServer | None) -> None:
        self.superuser_url = superuser_url
        self.local = local

    def create_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(with_db(self.superuser_url, "postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return with_db(self.superuser_url, name)

    def drop_database(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        with psycopg.connect(with_db(self.superuser_url, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def tool(self, name: str) -> str:
        if self.local is not None:
            return str(self.local.tool(name))
        found = shutil.which(name)
        if not found:
            pytest.fail(f"{name} is needed on PATH to test against TEST_DATABASE_URL")
        return found


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield Cluster(url, None)
        return
    folder = Path(tempfile.mkdtemp(prefix="veritas-test-"))
    folder.chmod(0o755)  # the server runs as an unprivileged user when we are root
    server = LocalServer(folder)
    server.start()
    try:
        yield Cluster(server.url(dbname="postgres"), server)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def empty_db(cluster: Cluster) -> Iterator[str]:
    """A new, empty database (superuser URL), dropped afterwards."""
    url = cluster.create_database("empty")
    try:
        yield url
    finally:
        cluster.drop_database(url)


@pytest.fixture(scope="session")
def migrated_db(cluster: Cluster) -> str:
    """The session's migrated database (superuser URL), shared by the HTTP tests."""
    url = cluster.create_database("veritas")
    migrate.migrate(url, PASSWORDS)
    return url


def app_url(admin_url: str) -> str:
    name = urlsplit(admin_url).path.lstrip("/")
    return with_db(admin_url, name, "authenticator", AUTHENTICATOR_PASSWORD)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    base = Settings(app_database_url=app_url(admin_url), jwt_secret=JWT_SECRET,
                    port=_free_port(), pool_min=1, pool_max=5)
    return dataclasses.replace(base, **overrides)


@pytest.fixture(scope="session")
def live(migrated_db: str) -> Iterator[LiveServer]:
    with LiveServer(settings_for(migrated_db)) as server:
        yield server


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with live.client() as client:
        yield client


@pytest.fixture
def live_factory() -> Iterator[Callable[..., LiveServer]]:
    """Start extra glue servers with their own settings; all stopped afterwards."""
    started: list[LiveServer] = []

    def start(admin_url: str, **overrides: object) -> LiveServer:
        server = LiveServer(settings_for(admin_url, **overrides)).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__()

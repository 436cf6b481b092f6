"""The fixtures: the test session's own PostgreSQL, migrated databases and a
live glue. Helpers live in modules of their own (tests/databases.py,
tests/glue_server.py, tests/accounts.py, tests/exams.py), imported from there.

With ``TEST_DATABASE_URL`` (a superuser URL to any PostgreSQL 15-18) the tests
create their databases there; otherwise they start a private server exactly
as ``veritas up`` does, in a throwaway folder. With ``VERITAS_TEST_CITUS=1``
(scripts/test-citus) that server is a local Citus cluster instead (a
coordinator and two workers, glue/citus_cluster.py), every database is a
Citus database and the migration distributes it; a test marked
``not_on_citus`` is skipped there, with its reason.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from glue import migrate
from glue.citus_cluster import CitusCluster
from glue.localdb import LocalServer
from tests.accounts import create_user, login
from tests.databases import CITUS, PASSWORDS, CitusTestCluster, Cluster
from tests.glue_server import LiveServer, settings_for


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "not_on_citus(reason): a test that cannot apply to the Citus run"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not CITUS:
        return
    for item in items:
        marker = item.get_closest_marker("not_on_citus")
        if marker is not None:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            item.add_marker(pytest.mark.skip(reason=f"not on Citus: {reason}"))


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    if CITUS:
        # a short folder: the nodes' Unix sockets live in it
        folder = Path(tempfile.mkdtemp(prefix="vc-", dir="/tmp"))
        folder.chmod(0o755)
        citus = CitusCluster(folder)
        citus.start()
        try:
            yield CitusTestCluster(citus)
        finally:
            citus.stop()
            shutil.rmtree(folder, ignore_errors=True)
        return
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


@pytest.fixture(scope="session")
def live(migrated_db: str) -> Iterator[LiveServer]:
    with LiveServer(settings_for(migrated_db)) as server:
        yield server


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with live.client() as client:
        yield client


@pytest.fixture
def teacher(http: httpx.Client, migrated_db: str) -> dict[str, Any]:
    """A new teacher, logged in: its tokens body."""
    return login(http, create_user(migrated_db, "teacher")["email"])


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

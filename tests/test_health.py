"""GET /health: 200 while the database answers, 503 + Retry-After while it does
not, and 200 again by itself soon after it returns (no restart of the glue)."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from glue import migrate
from glue.localdb import LocalServer
from tests.accounts import bearer, register
from tests.databases import PASSWORDS


def test_health_ok(http):
    answer = http.get("/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok"}


@pytest.fixture
def own_server() -> Iterator[LocalServer]:
    """A private server of this test's own, so stopping it disturbs no other test."""
    folder = Path(tempfile.mkdtemp(prefix="veritas-outage-"))
    folder.chmod(0o755)
    server = LocalServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for(client, status: int, within: float) -> float:
    started = time.monotonic()
    while True:
        answer = client.get("/health")
        if answer.status_code == status:
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise AssertionError(f"/health stayed {answer.status_code}, wanted {status}")
        time.sleep(0.1)


def test_health_503_while_database_down_then_recovers(own_server, live_factory):
    admin = own_server.url()
    migrate.migrate(admin, PASSWORDS)
    live = live_factory(admin)
    with live.client() as client:
        assert client.get("/health").status_code == 200
        student = register(client)

        own_server.kill()
        _wait_for(client, 503, within=10)
        answer = client.get("/health")
        assert answer.status_code == 503
        body = answer.json()
        assert set(body) == {"code", "message", "details", "hint"}
        assert body["code"] == "VT503"
        assert int(answer.headers["Retry-After"]) > 0
        for _ in range(3):  # API calls too: 503 with Retry-After, never a 500
            call = client.post("/rpc/me", headers=bearer(student), json={})
            assert call.status_code == 503, call.text
            assert int(call.headers["Retry-After"]) > 0

        time.sleep(3)  # stay down long enough for reconnection attempts to back off
        own_server.start()
        recovered_after = _wait_for(client, 200, within=5)
        assert recovered_after <= 5
        assert client.post("/rpc/me", headers=bearer(student), json={}).status_code == 200

"""Many users' requests interleaved over a glue's few connections: what each
request saw that was not its own identity (tests/test_rpc.py, test_pgbouncer.py)."""

from __future__ import annotations

import threading
from typing import Any

from tests.accounts import bearer, register
from tests.glue_server import LiveServer


def identity_mistakes(server: LiveServer, users: int = 6, rounds: int = 15,
                      check_health: bool = False) -> list[str]:
    """Each user calls /rpc/me and an anonymous /rpc/me in turn, from its own
    thread; every answer not exactly the caller's own identity (or, for an
    anonymous call, any identity at all) is a mistake, as is a failed /health."""
    with server.client() as client:
        accounts = [register(client) for _ in range(users)]
    mistakes: list[str] = []

    def hammer(user: dict[str, Any]) -> None:
        with server.client() as client:
            for _ in range(rounds):
                me = client.post("/rpc/me", headers=bearer(user), json={})
                if me.status_code != 200 or me.json()["id"] != user["user"]["id"]:
                    mistakes.append(f"{user['user']['id']}: {me.status_code} {me.text}")
                anon = client.post("/rpc/me", json={})
                if anon.status_code == 200:
                    mistakes.append(f"anonymous call answered {anon.text}")
                if check_health:
                    health = client.get("/health")
                    if health.status_code != 200:
                        mistakes.append(f"health: {health.status_code} {health.text}")

    threads = [threading.Thread(target=hammer, args=(u,)) for u in accounts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return mistakes

"""The refresh reuse interval (docs/security.md#tokens), over HTTP against the
real glue: concurrent refreshes of one token all get the same new token and
the session survives; a replay after the interval revokes the family."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg

from glue import tokens
from tests.accounts import bearer, register
from tests.glue_server import JWT_SECRET

TWINS = 10


def _family(migrated_db: str, refresh_token: str) -> tuple[str | None, int]:
    """The refresh family's revoked_reason (None: alive) and its number of tokens."""
    with psycopg.connect(migrated_db) as conn:
        row = conn.execute(
            """SELECT f.revoked_reason, (SELECT count(*) FROM auth.refresh_tokens AS n
                                          WHERE n.family_id = f.id)
               FROM auth.refresh_tokens AS t JOIN auth.refresh_token_families AS f
                 ON f.id = t.family_id
               WHERE t.token_hash = %s""",
            [tokens.refresh_token_hash(refresh_token)]).fetchone()
    assert row is not None
    return row[0], int(row[1])


def _concurrent_refreshes(base_url: str, refresh_token: str) -> list[httpx.Response]:
    """TWINS refreshes of one token, released at the same moment."""
    start = threading.Barrier(TWINS)

    def one(_: int) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            start.wait()
            return client.post("/auth/refresh", json={"refresh_token": refresh_token})

    with ThreadPoolExecutor(TWINS) as pool:
        return list(pool.map(one, range(TWINS)))


def test_concurrent_refreshes_all_get_the_same_token(http, live, migrated_db):
    student = register(http)
    answers = _concurrent_refreshes(live.base_url, student["refresh_token"])
    assert [a.status_code for a in answers] == [200] * TWINS, [a.text for a in answers]
    bodies = [a.json() for a in answers]
    new_tokens = {b["refresh_token"] for b in bodies}
    assert len(new_tokens) == 1, "every twin got the same new refresh token"
    (new_token,) = new_tokens
    assert new_token != student["refresh_token"]
    assert new_token == tokens.refresh_successor(JWT_SECRET, student["refresh_token"])
    for body in bodies:  # and an access token of its own that works
        assert body["user"]["id"] == student["user"]["id"]
        assert http.get("/auth/me", headers=bearer(body)).json()["id"] == student["user"]["id"]

    revoked, count = _family(migrated_db, new_token)
    assert revoked is None, "the family survived"
    assert count == 2, "one rotation: the first token and its one successor"
    with psycopg.connect(migrated_db) as conn:
        (reuses,) = conn.execute(
            "SELECT count(*) FROM audit.security_events WHERE user_id = %s"
            " AND kind = 'reuse_detected'", [student["user"]["id"]]).fetchone()
    assert reuses == 0

    # The winner's token keeps working: it rotates, and its successor too.
    after = http.post("/auth/refresh", json={"refresh_token": new_token})
    assert after.status_code == 200, after.text
    assert http.post("/auth/refresh",
                     json={"refresh_token": after.json()["refresh_token"]}).status_code == 200
    assert _family(migrated_db, new_token)[0] is None


def test_a_late_twin_gets_the_live_token(http, migrated_db):
    """A twin that arrives after the family rotated again (inside the interval)
    gets the family's live token, not a spent one."""
    student = register(http)
    first = http.post("/auth/refresh", json={"refresh_token": student["refresh_token"]}).json()
    second = http.post("/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    late = http.post("/auth/refresh", json={"refresh_token": student["refresh_token"]})
    assert late.status_code == 200, late.text
    assert late.json()["refresh_token"] == second["refresh_token"]
    assert http.post("/auth/refresh",
                     json={"refresh_token": second["refresh_token"]}).status_code == 200
    assert _family(migrated_db, second["refresh_token"])[0] is None


def test_a_replay_after_the_interval_revokes_the_family(migrated_db, live_factory):
    with live_factory(migrated_db, refresh_reuse_seconds=1).client() as http:
        student = register(http)
        winner = http.post("/auth/refresh", json={"refresh_token": student["refresh_token"]})
        assert winner.status_code == 200
        time.sleep(1.5)  # past the 1 s interval
        replay = http.post("/auth/refresh", json={"refresh_token": student["refresh_token"]})
        assert replay.status_code == 401
        assert replay.json()["code"] == "VT401"
        revoked, _ = _family(migrated_db, student["refresh_token"])
        assert revoked == "reuse_detected"
        refused = http.post("/auth/refresh", json={"refresh_token": winner.json()["refresh_token"]})
        assert refused.status_code == 401, "the winner's token died with the family"


def test_a_glue_with_another_secret_cannot_claim_a_twin(migrated_db, live_factory, http):
    """The twin must present the successor derived with the glues' shared
    secret: a process with another secret derives another one, and its
    second use of the token is a reuse."""
    student = register(http)
    assert http.post("/auth/refresh",
                     json={"refresh_token": student["refresh_token"]}).status_code == 200
    other = live_factory(migrated_db, jwt_secret=b"another-secret-another-secret-0123456789")
    with other.client() as stranger:
        answer = stranger.post("/auth/refresh", json={"refresh_token": student["refresh_token"]})
    assert answer.status_code == 401
    assert _family(migrated_db, student["refresh_token"])[0] == "reuse_detected"

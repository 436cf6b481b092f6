"""The RPC proxy: only functions of the api schema, by name, with bound
arguments; GET only for functions that change nothing; and no role or claim
ever survives from one request to the next on a pooled connection."""

from __future__ import annotations

import pytest

from tests.accounts import bearer, register
from tests.interleaving import identity_mistakes

ERROR_KEYS = {"code", "message", "details", "hint"}


@pytest.mark.parametrize("path", [
    "/rpc/pg_sleep",
    "/rpc/..%2Fsomething",
    "/rpc/create_user",           # internal.create_user: not in the api schema
    "/rpc/assert_session_active",  # internal
    "/rpc/version",
    "/rpc/me;drop",
])
def test_anything_outside_the_api_schema_is_404(http, path):
    answer = http.post(path, json={})
    assert answer.status_code == 404, answer.text
    assert set(answer.json()) == ERROR_KEYS


def test_api_function_by_rpc_post(http):
    student = register(http)
    answer = http.post("/rpc/me", headers=bearer(student), json={})
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == student["user"]["id"]


def test_get_on_a_stable_function_works(http):
    student = register(http)
    answer = http.get("/rpc/has_permission", headers=bearer(student),
                      params={"permission": "take_exam"})
    assert answer.status_code == 200, answer.text
    assert answer.json() is True


def test_get_on_a_volatile_function_is_405(http):
    admin_only = http.get("/rpc/set_user_active", params={})
    assert admin_only.status_code == 405
    assert set(admin_only.json()) == ERROR_KEYS


def test_unknown_argument_is_400(http):
    student = register(http)
    answer = http.post("/rpc/has_permission", headers=bearer(student),
                       json={"permission": "take_exam", "sql": "1; drop table x"})
    assert answer.status_code == 400
    assert set(answer.json()) == ERROR_KEYS


def test_wrongly_typed_argument_is_400(http):
    student = register(http)
    answer = http.post("/rpc/can_access_exam", headers=bearer(student),
                       json={"exam_id": "not-a-uuid"})
    assert answer.status_code == 400, answer.text


def test_no_role_or_claim_survives_on_a_shared_connection(live_factory, migrated_db):
    """Many users' requests interleaved over ONE pooled connection: each
    request sees exactly its own identity, and anonymous requests get none."""
    server = live_factory(migrated_db, pool_min=1, pool_max=1)
    assert identity_mistakes(server) == []


TRICKY = "O'Brien \\\\ \"quoted\" $$ dollar $$ ; SELECT pg_sleep(5); -- ünï 名前"


def test_values_travel_as_literals_never_as_sql(http):
    """Client-side binding: quotes, backslashes, dollar quotes and semicolons
    in a value arrive intact and run nothing."""
    from tests.accounts import PASSWORD, unique_email

    answer = http.post("/auth/register", json={
        "email": unique_email("tricky"), "password": PASSWORD, "full_name": TRICKY})
    assert answer.status_code == 201, answer.text
    me = http.get("/auth/me", headers=bearer(answer.json()))
    assert me.json()["full_name"] == TRICKY
    started = __import__("time").monotonic()
    check = http.get("/rpc/has_permission", headers=bearer(answer.json()),
                     params={"permission": TRICKY})
    assert check.status_code == 200
    assert check.json() is False
    assert __import__("time").monotonic() - started < 4


def test_a_nul_character_is_400_not_500(http):
    student = register(http)
    answer = http.post("/rpc/has_permission", headers=bearer(student),
                       json={"permission": "a\u0000b"})
    assert answer.status_code == 400, answer.text


def test_an_argument_of_the_wrong_json_type_is_400(http):
    """Found by bench/fuzz.py: a boolean where a number is due was a 500."""
    student = register(http)
    answer = http.post("/rpc/has_permission", headers=bearer(student),
                       json={"permission": False})
    assert answer.status_code in (200, 400), answer.text
    answer = http.post("/rpc/can_access_exam", headers=bearer(student),
                       json={"exam_id": True})
    assert answer.status_code == 400, answer.text
    assert set(answer.json()) == ERROR_KEYS

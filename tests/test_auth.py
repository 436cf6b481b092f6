"""The Authentication section of docs/api.md, over HTTP against the real glue."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from glue import tokens
from tests.accounts import PASSWORD, bearer, create_user, login, register, unique_email
from tests.glue_server import JWT_SECRET

ERROR_KEYS = {"code", "message", "details", "hint"}


def _assert_error(answer, status: int) -> dict:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == ERROR_KEYS
    return body


# -- register / login / me ---------------------------------------------------------

def test_register_returns_tokens_and_me_answers(http):
    email = unique_email("Mixed.Case")
    body = register(http, email=email, full_name="Rosa Parks")
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == tokens.ACCESS_TTL_SECONDS
    assert body["user"]["role"] == "student"
    assert body["user"]["email"] == email
    assert body["refresh_token"]
    me = http.get("/auth/me", headers=bearer(body))
    assert me.status_code == 200
    assert me.json()["id"] == body["user"]["id"]
    assert me.json()["full_name"] == "Rosa Parks"
    assert "password_hash" not in me.text


def test_duplicate_email_in_another_case_is_409(http):
    email = unique_email("dup")
    register(http, email=email)
    answer = http.post("/auth/register", json={
        "email": email.upper(), "password": PASSWORD, "full_name": "Someone Else"})
    assert _assert_error(answer, 409)["code"] == "23505"


@pytest.mark.parametrize("password", ["short-pw", "x" * 129])
def test_password_length_is_enforced(http, password):
    email = unique_email("pw")
    answer = http.post("/auth/register", json={
        "email": email, "password": password, "full_name": "Too Short"})
    _assert_error(answer, 400)
    assert http.post("/auth/login", json={"email": email, "password": PASSWORD}).status_code == 401


@pytest.mark.parametrize("body", [
    {"email": "a@b.c", "password": PASSWORD},  # no full_name
    {"email": 5, "password": PASSWORD, "full_name": "X"},
    {"email": "not-an-email", "password": PASSWORD, "full_name": "X"},
])
def test_bad_register_bodies_are_400(http, body):
    _assert_error(http.post("/auth/register", json=body), 400)


def test_malformed_json_is_400(http):
    answer = http.post("/auth/login", content=b"{not json",
                       headers={"Content-Type": "application/json"})
    _assert_error(answer, 400)


def test_wrong_password_and_unknown_email_answer_alike(http):
    email = unique_email("known")
    register(http, email=email)
    wrong = http.post("/auth/login", json={"email": email, "password": "wrong-password-123"})
    unknown = http.post("/auth/login", json={"email": unique_email("nobody"),
                                             "password": "wrong-password-123"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_password_longer_than_72_bytes_is_not_truncated(http):
    long_password = "p" * 72 + "-and-the-rest"
    email = unique_email("long")
    register(http, email=email, password=long_password)
    assert http.post("/auth/login", json={
        "email": email, "password": long_password[:72]}).status_code == 401
    assert http.post("/auth/login", json={
        "email": email, "password": long_password}).status_code == 200


def test_repeated_failures_lock_the_account_with_retry_after(http):
    email = unique_email("locked")
    register(http, email=email)
    for _ in range(5):
        assert http.post("/auth/login", json={
            "email": email, "password": "not-the-password"}).status_code == 401
    answer = http.post("/auth/login", json={"email": email, "password": PASSWORD})
    _assert_error(answer, 429)
    assert int(answer.headers["Retry-After"]) > 0


# -- tokens --------------------------------------------------------------------------

def _claims(user_id: str, **overrides) -> dict:
    now = int(time.time())
    claims = {"sub": user_id, "role": "student", "jti": str(uuid.uuid4()), "iat": now,
              "exp": now + 600, "iss": "veritas", "aud": "veritas-api", "typ": "access"}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.fixture
def student(http):
    return register(http)


def test_a_well_formed_token_is_accepted(http, student):
    token = jwt.encode(_claims(student["user"]["id"]), JWT_SECRET, algorithm="HS256")
    assert http.get("/auth/me", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("case", [
    "tampered", "alg_none", "wrong_key", "expired", "wrong_aud", "wrong_iss", "refresh_typ",
    "missing_jti", "admin_role_forged",
])
def test_bad_tokens_are_401(http, student, case):
    uid = student["user"]["id"]
    if case == "tampered":
        head, payload, sig = student["access_token"].split(".")
        token = f"{head}.{payload}.{sig[:-2]}{'AA' if sig[-2:] != 'AA' else 'BB'}"
    elif case == "alg_none":
        token = jwt.encode(_claims(uid), None, algorithm="none")
    elif case == "wrong_key":
        token = jwt.encode(_claims(uid), b"another-secret-of-32-bytes-or-more!!", algorithm="HS256")
    elif case == "expired":
        token = jwt.encode(_claims(uid, iat=int(time.time()) - 7200,
                                   exp=int(time.time()) - 3600), JWT_SECRET, algorithm="HS256")
    elif case == "wrong_aud":
        token = jwt.encode(_claims(uid, aud="someone-else"), JWT_SECRET, algorithm="HS256")
    elif case == "wrong_iss":
        token = jwt.encode(_claims(uid, iss="evil"), JWT_SECRET, algorithm="HS256")
    elif case == "refresh_typ":
        token = jwt.encode(_claims(uid, typ="refresh"), JWT_SECRET, algorithm="HS256")
    elif case == "missing_jti":
        token = jwt.encode(_claims(uid, jti=None), JWT_SECRET, algorithm="HS256")
    else:  # a token signed with another key cannot claim admin
        token = jwt.encode(_claims(uid, role="admin"), b"x" * 40, algorithm="HS256")
    _assert_error(http.get("/auth/me", headers=bearer(token)), 401)


def test_refresh_token_is_not_an_access_token(http, student):
    _assert_error(http.get("/auth/me", headers=bearer(student["refresh_token"])), 401)


def test_no_token_is_401(http):
    _assert_error(http.get("/auth/me"), 401)


ATTEMPT = "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/student/dashboard"),
    ("POST", "/monitor/events"),
    ("GET", "/teacher/dashboard"),
    ("GET", f"/teacher/attempts/{ATTEMPT}/events"),
    ("GET", "/admin/audit"),
    ("POST", "/rpc/get_student_dashboard_data"),
    ("GET", f"/rpc/get_attempt_monitoring_events?attempt_id={ATTEMPT}"),
])
def test_a_function_anon_may_not_call_is_401_without_a_token(http, method, path):
    """PostgREST's rule: the database refuses the anonymous role (42501); no
    token was sent, so the answer is 401 with the Bearer challenge."""
    body = {"attempt_id": ATTEMPT, "event_type": "heartbeat",
            "occurred_at": "2026-11-24T10:00:00Z"} if path == "/monitor/events" else None
    if method == "POST" and body is None:
        body = {}
    answer = http.request(method, path, json=body)
    error = _assert_error(answer, 401)
    assert error["code"] == "42501"
    assert answer.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/teacher/dashboard"), ("GET", "/admin/audit"),
    ("POST", "/rpc/get_teacher_dashboard_data")])
def test_a_caller_with_a_token_who_is_not_allowed_keeps_403(http, student, method, path):
    answer = http.request(method, path, headers=bearer(student),
                          json={} if method == "POST" else None)
    error = _assert_error(answer, 403)
    assert error["code"] == "42501"
    assert "www-authenticate" not in answer.headers


def test_logout_ends_the_access_token_and_the_refresh_family(http, student):
    answer = http.post("/auth/logout", headers=bearer(student),
                       json={"refresh_token": student["refresh_token"]})
    assert answer.status_code == 204
    _assert_error(http.get("/auth/me", headers=bearer(student)), 401)
    _assert_error(http.post("/auth/refresh", json={"refresh_token": student["refresh_token"]}), 401)


def test_refresh_rotates_and_reuse_revokes_the_family(migrated_db, live_factory):
    # Without the reuse interval (VERITAS_REFRESH_REUSE_SECONDS=0), any second
    # use is a reuse; with it, tests/test_refresh_reuse.py.
    with live_factory(migrated_db, refresh_reuse_seconds=0).client() as http:
        student = register(http)
        first = http.post("/auth/refresh", json={"refresh_token": student["refresh_token"]})
        assert first.status_code == 200
        rotated = first.json()
        assert rotated["refresh_token"] != student["refresh_token"]
        assert http.get("/auth/me", headers=bearer(rotated)).status_code == 200
        # the old refresh token again: reuse, so the whole family dies
        _assert_error(http.post("/auth/refresh",
                                json={"refresh_token": student["refresh_token"]}), 401)
        _assert_error(http.post("/auth/refresh",
                                json={"refresh_token": rotated["refresh_token"]}), 401)


def test_unknown_refresh_token_is_401(http):
    _assert_error(http.post("/auth/refresh", json={"refresh_token": "not-a-token"}), 401)


# -- admin user management -------------------------------------------------------------

def test_admin_creates_a_teacher_who_can_log_in(http, migrated_db):
    admin = create_user(migrated_db, "admin")
    admin_tokens = login(http, admin["email"])
    email = unique_email("teacher")
    answer = http.post("/admin/users", headers=bearer(admin_tokens), json={
        "email": email, "password": PASSWORD, "full_name": "Grace Hopper", "role": "teacher",
        "department": "Computing"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["role"] == "teacher"
    assert login(http, email)["user"]["role"] == "teacher"


@pytest.mark.parametrize("role", ["student", "teacher", "integration"])
def test_only_admins_create_users(http, migrated_db, role):
    caller = create_user(migrated_db, role)
    email = unique_email("sneaky")
    answer = http.post("/admin/users", headers=bearer(login(http, caller["email"])), json={
        "email": email, "password": PASSWORD, "full_name": "Mallory", "role": "admin"})
    _assert_error(answer, 403)
    assert http.post("/auth/login", json={"email": email, "password": PASSWORD}).status_code == 401


def test_admin_users_without_token_is_401(http):
    _assert_error(http.post("/admin/users", json={}), 401)


def test_disabling_a_user_ends_their_sessions(http, migrated_db):
    admin = login(http, create_user(migrated_db, "admin")["email"])
    victim = register(http)
    answer = http.post(f"/admin/users/{victim['user']['id']}/active", headers=bearer(admin),
                       json={"active": False})
    assert answer.status_code == 200, answer.text
    _assert_error(http.get("/auth/me", headers=bearer(victim)), 401)
    _assert_error(http.post("/auth/refresh", json={"refresh_token": victim["refresh_token"]}), 401)
    _assert_error(http.post("/auth/login", json={"email": victim["user"]["email"],
                                                 "password": PASSWORD}), 401)

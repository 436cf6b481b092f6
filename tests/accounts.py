"""Creating accounts for the HTTP tests, through the API itself."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import psycopg

from glue import passwords

PASSWORD = "correct-horse-battery"


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.org"


def register(http: httpx.Client, email: str | None = None, password: str = PASSWORD,
             full_name: str = "Test Student") -> dict[str, Any]:
    answer = http.post("/auth/register", json={
        "email": email or unique_email("student"), "password": password, "full_name": full_name,
    })
    assert answer.status_code == 201, answer.text
    return answer.json()


def bearer(tokens: dict[str, Any] | str) -> dict[str, str]:
    token = tokens if isinstance(tokens, str) else tokens["access_token"]
    return {"Authorization": f"Bearer {token}"}


_HASH_CACHE: dict[str, str] = {}


def create_user(admin_url: str, role: str, email: str | None = None,
                password: str = PASSWORD, department: str | None = None) -> dict[str, Any]:
    """A user of any role, made as the DBA (as ``veritas user add`` does)."""
    hashed = _HASH_CACHE.get(password) or passwords.hash_password(password)
    _HASH_CACHE[password] = hashed
    with psycopg.connect(admin_url) as conn:
        row = conn.execute(
            "SELECT internal.create_user(%s, %s, %s, %s::auth.user_role, %s)",
            [email or unique_email(role), hashed, f"Test {role.title()}", role, department],
        ).fetchone()
    assert row is not None
    return row[0]


def login(http: httpx.Client, email: str, password: str = PASSWORD) -> dict[str, Any]:
    answer = http.post("/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return answer.json()

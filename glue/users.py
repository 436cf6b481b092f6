"""Creating users from the command line (``veritas user add``), as the DBA."""

from __future__ import annotations

from typing import Any

import psycopg

from glue import passwords


class UserAddError(Exception):
    """The user could not be created; the message says why."""


def add_user(
    admin_url: str, email: str, password: str, role: str, full_name: str,
    department: str | None = None,
) -> dict[str, Any]:
    """Create one user with its profile; the new user as JSON."""
    try:
        passwords.check_policy(password)
    except passwords.PasswordPolicyError as exc:
        raise UserAddError(f"The {exc}.") from None
    hashed = passwords.hash_password(password)
    try:
        with psycopg.connect(admin_url, connect_timeout=10) as conn:
            row = conn.execute(
                "SELECT internal.create_user(%s, %s, %s, %s::auth.user_role, %s)",
                [email, hashed, full_name, role, department],
            ).fetchone()
    except psycopg.errors.UniqueViolation:
        raise UserAddError(f"A user with the email {email} already exists.") from None
    except psycopg.Error as exc:
        reason = exc.diag.message_primary or str(exc)
        raise UserAddError(f"Creating the user failed: {reason}") from None
    assert row is not None
    user: dict[str, Any] = row[0]
    return user

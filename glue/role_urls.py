"""Connection strings of a database's logins, for ``veritas db url`` and
``veritas psql``: for the private server, or for the one ``DATABASE_URL``
names.

- ``dba``: the DBA login (``DATABASE_URL``, or the private server's superuser);
- ``app``: the glue's own login, ``authenticator`` (it holds no privilege
  until it switches role: of little use in psql);
- ``analyst``: the analysts' login: reads the ``analytics`` schema only,
  pseudonymous, within the bounds of docs/security.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from glue.dbtarget import DbTarget, with_credentials
from glue.settings import SettingsError

ROLES = ("analyst", "dba", "app")


def role_url(target: DbTarget, role: str) -> str:
    """The connection string of ``role``'s login to the target database."""
    if role == "dba":
        if not target.admin_url:
            raise SettingsError("The dba URL is DATABASE_URL, which is not set.")
        return target.admin_url
    if role == "app":
        if not target.app_url:
            raise SettingsError(
                "With DATABASE_URL set, the app URL needs VERITAS_AUTHENTICATOR_PASSWORD "
                "(or VERITAS_APP_DATABASE_URL)."
            )
        return target.app_url
    if role == "analyst":
        if target.local is not None:
            return target.local.url("analyst", password=target.passwords["analyst"])
        password = os.environ.get("VERITAS_ANALYST_PASSWORD")
        if not target.admin_url or not password:
            raise SettingsError(
                "With DATABASE_URL set, the analyst URL needs VERITAS_ANALYST_PASSWORD "
                "(the password veritas db migrate set on the analyst login)."
            )
        return with_credentials(target.admin_url, "analyst", password)
    raise SettingsError(f"There is no role {role!r}: choose one of {', '.join(ROLES)}.")


def split_password(url: str) -> tuple[str, str | None]:
    """The URL without its password, and the password (for ``PGPASSWORD``, so
    that it never shows in the process list)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    credentials, host = parts.netloc.rsplit("@", 1)
    user, _, password = credentials.partition(":")
    netloc = f"{user}@{host}"
    bare = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return bare, unquote(password) if password else None


def psql_command(psql: Path, url: str, extra: list[str]) -> tuple[list[str], dict[str, str]]:
    """The psql command line on ``url`` (then ``extra``) and its environment."""
    bare, password = split_password(url)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = password
    env.setdefault("PGAPPNAME", "veritas-psql")
    return [str(psql), bare, *extra], env

"""Which database the commands use: ``DATABASE_URL``, or the private one."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from glue.localdb import LocalServer
from glue.settings import SettingsError

LOGIN_ROLES = ("authenticator", "analyst")


@dataclass
class DbTarget:
    """The DBA's URL (migrations, user management), the glue's URL, and passwords.

    ``passwords`` are set on the login roles at every migrate.
    """

    admin_url: str
    app_url: str
    passwords: dict[str, str]
    local: LocalServer | None = None
    started_here: bool = False

    def remember_passwords(self) -> None:
        """After a migrate set them: the private server's state keeps the passwords."""
        if self.local is not None:
            for role, password in self.passwords.items():
                self.local.remember_secret(f"{role}_password", password)

    def close(self) -> None:
        """Stop the private server if this process started it."""
        if self.local is not None and self.started_here:
            self.local.stop()


def _with_credentials(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def uses_private_server(need_admin: bool = True) -> bool:
    """Whether ``resolve`` (with this ``need_admin``) picks the private server."""
    if os.environ.get("DATABASE_URL"):
        return False
    return need_admin or not os.environ.get("VERITAS_APP_DATABASE_URL")


def require_private_database(data_dir: Path) -> None:
    """``serve`` and ``worker`` never create a private server: a new one is not migrated."""
    if not (data_dir / "pgdata" / "PG_VERSION").exists():
        raise SettingsError(
            f"There is no Veritas database in {data_dir}: run `veritas up` there (it also "
            "serves the API and runs a worker), or `veritas db migrate` first; or choose "
            "its folder with --data-dir, or set VERITAS_APP_DATABASE_URL."
        )


def resolve(data_dir: Path, start_local: bool = True, need_admin: bool = True) -> DbTarget:
    """``DATABASE_URL`` when set; else the private server in ``data_dir``, started.

    Commands that only serve (``serve``, ``worker``) pass ``need_admin=False``:
    ``VERITAS_APP_DATABASE_URL`` alone is then enough, with no DBA login at all;
    and they never create a private server, only use one that exists.
    """
    admin_url = os.environ.get("DATABASE_URL")
    app_only = os.environ.get("VERITAS_APP_DATABASE_URL")
    if not need_admin and app_only and not admin_url:
        return DbTarget(admin_url="", app_url=app_only, passwords={})
    if admin_url:
        if not admin_url.startswith(("postgresql://", "postgres://")):
            raise SettingsError("DATABASE_URL must start with postgresql:// (or postgres://).")
        passwords = {
            role: os.environ[f"VERITAS_{role.upper()}_PASSWORD"]
            for role in LOGIN_ROLES
            if os.environ.get(f"VERITAS_{role.upper()}_PASSWORD")
        }
        app_url = os.environ.get("VERITAS_APP_DATABASE_URL")
        if not app_url:
            if "authenticator" not in passwords:
                raise SettingsError(
                    "With DATABASE_URL set, set VERITAS_AUTHENTICATOR_PASSWORD "
                    "(or VERITAS_APP_DATABASE_URL) for the glue's own login."
                )
            app_url = _with_credentials(admin_url, "authenticator", passwords["authenticator"])
        return DbTarget(admin_url=admin_url, app_url=app_url, passwords=passwords)
    if not need_admin:
        require_private_database(data_dir)
    local = LocalServer(data_dir)
    started = local.start() if start_local else False
    # VERITAS_<ROLE>_PASSWORD overrides the generated one here too; a migrate
    # sets it on the login and remembers it (remember_passwords).
    passwords = {
        role: os.environ.get(f"VERITAS_{role.upper()}_PASSWORD") or local.secret(f"{role}_password")
        for role in LOGIN_ROLES
    }
    return DbTarget(
        admin_url=local.url(),
        app_url=local.url("authenticator", password=passwords["authenticator"]),
        passwords=passwords,
        local=local,
        started_here=started,
    )

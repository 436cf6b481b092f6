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
    # This process started the private server (or took over an orphan): it
    # stops it when done.
    started_here: bool = False
    # What was found running, when this process did not start it: one
    # sentence for ``veritas up`` to print.
    found: str | None = None

    def remember_passwords(self) -> None:
        """After a migrate set them: the private server's state keeps the passwords."""
        if self.local is not None:
            for role, password in self.passwords.items():
                self.local.remember_secret(f"{role}_password", password)

    def close(self, keep: bool = False) -> None:
        """Stop the private server if this process started it; with ``keep``,
        leave it running and forget who started it (a later command finds
        it kept, not orphaned)."""
        if self.local is None or not self.started_here:
            return
        if keep:
            self.local.disown()
        else:
            self.local.stop()


def with_credentials(url: str, user: str, password: str) -> str:
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


def resolve(data_dir: Path, start_local: bool = True, need_admin: bool = True,
            need_app: bool = True) -> DbTarget:
    """``DATABASE_URL`` when set; else the private server in ``data_dir``, started.

    Commands that only serve (``serve``, ``worker``) pass ``need_admin=False``:
    ``VERITAS_APP_DATABASE_URL`` alone is then enough, with no DBA login at all.
    Commands that never use the glue's login (``db url --role analyst``) pass
    ``need_app=False``: its password is then not required (``app_url`` empty).
    They never create a private server, only use one that exists.
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
        app_url = os.environ.get("VERITAS_APP_DATABASE_URL") or ""
        if not app_url and not need_app and "authenticator" not in passwords:
            return DbTarget(admin_url=admin_url, app_url="", passwords=passwords)
        if not app_url:
            if "authenticator" not in passwords:
                raise SettingsError(
                    "With DATABASE_URL set, set VERITAS_AUTHENTICATOR_PASSWORD "
                    "(or VERITAS_APP_DATABASE_URL) for the glue's own login."
                )
            app_url = with_credentials(admin_url, "authenticator", passwords["authenticator"])
        return DbTarget(admin_url=admin_url, app_url=app_url, passwords=passwords)
    if not need_admin:
        require_private_database(data_dir)
    local = LocalServer(data_dir)
    started = local.start() if start_local else False
    found = None
    if start_local and not started:
        started, found = _found_running(local)
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
        found=found,
    )


def _found_running(local: LocalServer) -> tuple[bool, str | None]:
    """A private server found running: whether this process now stops it
    when done, and what to tell the user."""
    starter = local.starter()
    where = f"The private PostgreSQL in {local.pgdata}"
    if starter.kind == "self":
        return True, None
    if starter.kind == "orphan":
        local.claim()
        return True, (
            f"{where} was left running by a veritas process that is gone (pid {starter.pid}): "
            "this one takes it over and stops it on exit."
        )
    if starter.kind == "shared":
        return False, (
            f"{where} was started by another veritas process, still running (pid "
            f"{starter.pid}): this one uses it too and leaves it running on exit."
        )
    return False, (
        f"{where} was already running, not started by a running veritas (started by hand, "
        "or kept with --keep-db): it is left running on exit; `veritas db stop` stops it."
    )

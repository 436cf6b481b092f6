"""Settings from the environment, with the defaults of a private dev setup."""

from __future__ import annotations

import dataclasses
import math
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

MIN_SECRET_BYTES = 32
# The refresh reuse interval (docs/security.md#tokens): the default, and the
# most the database accepts (internal.refresh_rotate caps it too).
# Off by default, as the HTTP contract says: a used refresh token is 401 and
# revokes its family. A school serving the web app over plain http (no Web
# Locks) sets a few seconds (docs/security.md#the-refresh-reuse-interval).
REFRESH_REUSE_SECONDS = 0
MAX_REFRESH_REUSE_SECONDS = 60
# A read replica serves the stale-ok reads only while it is at most this many
# seconds behind the primary (glue/read_routing.py); the analytics' own
# staleness goal is 10 s.
READ_MAX_LAG_SECONDS = 10


class SettingsError(Exception):
    """A setting is missing or unusable; the message says which and why."""


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}.") from None


def data_dir_from_env(explicit: str | None = None) -> Path:
    """The folder for the private database, the dev secret and local state."""
    return Path(explicit or os.environ.get("VERITAS_DATA_DIR") or ".veritas").resolve()


def load_jwt_secret(data_dir: Path) -> bytes:
    """``VERITAS_JWT_SECRET``, or a dev secret generated once and kept in ``data_dir``.

    Refuses a secret shorter than 32 bytes: HS256 with a short key can be
    brute-forced offline from any token.
    """
    raw = os.environ.get("VERITAS_JWT_SECRET")
    if raw is None:
        path = data_dir / "jwt_secret"
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        raw = path.read_text().strip()
    secret = raw.encode()
    if len(secret) < MIN_SECRET_BYTES:
        raise SettingsError(
            f"VERITAS_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes long "
            f"(it has {len(secret)})."
        )
    return secret


def require_shared_jwt_secret(data_dir: Path) -> None:
    """Refuse a glue process on a shared database without ``VERITAS_JWT_SECRET``.

    The development secret is a file in ``data_dir``: a process started from
    another folder would make its own, and refuse every token the others sign.
    """
    if os.environ.get("VERITAS_JWT_SECRET") is None:
        raise SettingsError(
            "Set VERITAS_JWT_SECRET (the secret every glue process of this database shares, "
            "e.g. openssl rand -base64 48): without it, against a database other than the "
            f"private one, this process would sign with a secret of its own in {data_dir}."
        )


def shutdown_grace() -> float:
    """``VERITAS_SHUTDOWN_GRACE``: seconds that requests in flight and the
    worker's task in hand get to finish after SIGTERM or SIGINT (default 10)."""
    grace = _int("VERITAS_SHUTDOWN_GRACE", 10)
    if grace < 0:
        raise SettingsError(f"VERITAS_SHUTDOWN_GRACE must be 0 or more seconds, not {grace}.")
    return float(grace)


def workers_from_env(given: int | None = None) -> int:
    """How many API processes: ``--workers``, else ``VERITAS_WORKERS``, else
    one per core (``os.cpu_count()``)."""
    workers = given if given is not None else _int("VERITAS_WORKERS", os.cpu_count() or 1)
    if workers < 1:
        raise SettingsError(f"--workers (VERITAS_WORKERS) must be 1 or more, not {workers}.")
    return workers


def default_hashing_threads() -> int:
    """bcrypt threads of one process serving alone: one per core but one."""
    return max(1, (os.cpu_count() or 2) - 1)


def listen_database_url(app_database_url: str) -> str:
    """The URL of a session that LISTENs (the reloader's, the worker's):
    ``VERITAS_LISTEN_DATABASE_URL``, else the glue's own URL."""
    return os.environ.get("VERITAS_LISTEN_DATABASE_URL") or app_database_url


@dataclass(frozen=True)
class Settings:
    """What the HTTP app needs to run."""

    app_database_url: str
    jwt_secret: bytes
    host: str = "127.0.0.1"
    port: int = 8000
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 1_048_576
    pool_min: int = 5
    pool_max: int = 15
    pool_timeout: float = 10.0
    pool_max_idle: float = 900.0
    pool_max_lifetime: float = 3600.0
    retry_after_seconds: int = 2
    # At most one API catalog reload per this many seconds (glue/reload.py):
    # any database login can send NOTIFY veritas_reload.
    reload_min_interval: float = 5.0
    # Accepted for verification only, during a secret rotation (see docs/security.md).
    jwt_previous_secret: bytes | None = None
    # Where the catalog reloader LISTENs: a session of its own, so PostgreSQL
    # itself (or a session-mode pool) when app_database_url is a
    # transaction-mode pooler such as PgBouncer. None: app_database_url.
    listen_database_url: str | None = None
    # One JSON line per request on standard error (glue/request_log.py).
    access_log: bool = True
    # A refresh token presented again this many seconds after its use, by a
    # concurrent twin of the refresh, gets the family's live token instead of
    # revoking the family (0: every second use is a reuse).
    refresh_reuse_seconds: int = REFRESH_REUSE_SECONDS
    # Threads that hash passwords (bcrypt) off the event loop (glue/hashing.py).
    hashing_threads: int = dataclasses.field(default_factory=default_hashing_threads)
    # A streaming replica of the database (as ``authenticator``) for the reads
    # that may be stale (glue/read_routing.py). None: everything on the primary.
    read_database_url: str | None = None
    # The replica serves those reads only while it lags at most this much.
    read_max_lag_seconds: int = READ_MAX_LAG_SECONDS

    def divided_among(self, workers: int) -> Settings:
        """The settings of one of ``workers`` processes serving together.

        The pool figures are totals for the whole serve (what the database
        must allow): each process gets its share, so N processes open at
        most what one process alone would (plus one LISTEN session each).
        The bcrypt threads, one per core but one in all, are shared out
        likewise (at least one each).
        """
        if workers == 1:
            return self
        pool_max = max(1, self.pool_max // workers)
        return dataclasses.replace(
            self,
            pool_max=pool_max,
            pool_min=min(pool_max, math.ceil(self.pool_min / workers)),
            hashing_threads=max(1, math.ceil(self.hashing_threads / workers)),
        )

    @classmethod
    def from_env(cls, app_database_url: str, jwt_secret: bytes) -> Settings:
        origins = os.environ.get("VERITAS_CORS_ORIGINS", "")
        previous = os.environ.get("VERITAS_JWT_SECRET_PREVIOUS")
        if previous is not None and len(previous.encode()) < MIN_SECRET_BYTES:
            raise SettingsError(
                f"VERITAS_JWT_SECRET_PREVIOUS must be at least {MIN_SECRET_BYTES} bytes long."
            )
        reuse = _int("VERITAS_REFRESH_REUSE_SECONDS", REFRESH_REUSE_SECONDS)
        if not 0 <= reuse <= MAX_REFRESH_REUSE_SECONDS:
            raise SettingsError(
                f"VERITAS_REFRESH_REUSE_SECONDS must be 0 to {MAX_REFRESH_REUSE_SECONDS} "
                f"seconds, not {reuse}."
            )
        max_lag = _int("VERITAS_READ_MAX_LAG_SECONDS", READ_MAX_LAG_SECONDS)
        if max_lag < 1:
            raise SettingsError(
                f"VERITAS_READ_MAX_LAG_SECONDS must be 1 or more seconds, not {max_lag}."
            )
        return cls(
            app_database_url=app_database_url,
            jwt_secret=jwt_secret,
            jwt_previous_secret=previous.encode() if previous else None,
            host=os.environ.get("VERITAS_HOST", "127.0.0.1"),
            port=_int("VERITAS_PORT", 8000),
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            max_body_bytes=_int("VERITAS_MAX_BODY_BYTES", 1_048_576),
            pool_min=_int("VERITAS_POOL_SIZE", 5),
            pool_max=_int("VERITAS_POOL_SIZE", 5) + _int("VERITAS_POOL_OVERFLOW", 10),
            pool_timeout=float(_int("VERITAS_POOL_TIMEOUT", 10)),
            pool_max_idle=float(_int("VERITAS_POOL_MAX_IDLE", 900)),
            pool_max_lifetime=float(_int("VERITAS_POOL_MAX_LIFETIME", 3600)),
            reload_min_interval=float(_int("VERITAS_RELOAD_MIN_INTERVAL", 5)),
            listen_database_url=os.environ.get("VERITAS_LISTEN_DATABASE_URL") or None,
            access_log=os.environ.get("VERITAS_ACCESS_LOG", "on").lower() not in {"off", "0", "no"},
            refresh_reuse_seconds=reuse,
            read_database_url=os.environ.get("VERITAS_READ_DATABASE_URL") or None,
            read_max_lag_seconds=max_lag,
        )

"""Request ids and structured (JSON) logs.

Every request gets an id: the client's ``X-Request-Id`` when it is a short
token of letters, digits, ``.``, ``_`` and ``-``, else a new one. The id is
answered in ``X-Request-Id``, written in the request's access-log line, and
carried into the database: the request's transaction sets
``application_name`` to ``veritas-glue <id>`` (glue/request_path.py), so a
slow query in ``pg_stat_activity`` or in the PostgreSQL log (``%a`` in
``log_line_prefix``) names the request it serves.

Logs are one JSON object a line on standard error, from the ``veritas``
loggers: ``ts``, ``level``, ``logger``, ``msg``, and the fields a record
carries (an access line: ``request_id``, ``method``, ``route``, ``path``,
``status``, ``duration_ms``). ``VERITAS_ACCESS_LOG=off`` leaves the access
lines out.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"
VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
ACCESS = logging.getLogger("veritas.access")
# Attributes every LogRecord has; anything else a record carries is a field.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}


def request_id_of(scope: Scope) -> str:
    """The request's id (set by RequestIdMiddleware), or '' outside one."""
    state = scope.get("state") or {}
    return str(state.get("request_id", ""))


class RequestIdMiddleware:
    """Gives each request its id, answers it, and logs the request."""

    def __init__(self, app: ASGIApp, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = dict(scope.get("headers") or []).get(HEADER, b"").decode("latin-1")
        request_id = offered if VALID_ID.fullmatch(offered) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (HEADER, request_id.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if self.access_log and ACCESS.isEnabledFor(logging.INFO):
                route = getattr(scope.get("route"), "path", "unmatched")
                ACCESS.info("request", extra={
                    "request_id": request_id, "method": scope["method"], "route": route,
                    "path": scope.get("path", ""), "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                })


class JsonFormatter(logging.Formatter):
    """One JSON object a line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def log_config(level: str = "warning") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn (at ``level``) and the
    ``veritas`` loggers (access lines at INFO): JSON lines on standard error."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                                "stream": "ext://sys.stderr"}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "veritas": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }

"""The web app (``web/``), served as it is: the page at ``/``, files under ``/app/``.

No build step: HTML, CSS and ES modules go out as they are on disk. Every
answer of the app carries a strict Content-Security-Policy (``'self'`` only:
no inline script or style, no other origin) and the usual hardening headers.
The API's own routes are untouched; these routes are not part of the API and
are not in the OpenAPI document (tests/test_openapi.py says so).
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIX = "/app"

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    # No hashed file names without a build step: revalidate (ETag) every time,
    # so a deploy is seen at the next load and an unchanged file costs a 304.
    "Cache-Control": "no-cache",
}
_RAW_HEADERS = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in HEADERS.items()]

_PACKAGE = Path(__file__).resolve().parent


def web_dir() -> Path:
    """``web/``: inside the installed wheel (``glue/webapp``, a name that
    cannot shadow this module), else beside the package (the source tree)."""
    for candidate in (_PACKAGE / "webapp", _PACKAGE.parent / "web"):
        if (candidate / "index.html").is_file():
            return candidate
    raise FileNotFoundError("the web/ folder is missing from this installation")


class WithHeaders:
    """Adds ``HEADERS`` to every answer of the wrapped ASGI app (replacing its own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in _RAW_HEADERS}
                kept = [(n, v) for n, v in message.get("headers", []) if n.lower() not in names]
                message = {**message, "headers": kept + _RAW_HEADERS}
            await send(message)

        await self.app(scope, receive, sending)


def routes(folder: Path | None = None) -> list[BaseRoute]:
    """``GET /`` (the app's one page; its views are ``#/...`` routes) and ``/app/...``."""
    root = folder or web_dir()
    index_file = root / "index.html"

    async def index(request: Request) -> Response:
        return FileResponse(index_file, media_type="text/html; charset=utf-8", headers=HEADERS)

    return [
        Route("/", index, methods=["GET"], name="web_index"),
        Mount(PREFIX, app=WithHeaders(StaticFiles(directory=root)), name="web"),
    ]

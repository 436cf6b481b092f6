"""The Starlette application: middleware, lifespan (the pool, the read
replica's pool and monitor, the catalog reloader) and routes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import psycopg
from psycopg_pool import PoolTimeout
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from glue import auth_routes, dispatch, errors, web
from glue.bearer import VerifiedTokens
from glue.hashing import Hashing
from glue.limits import BodySizeLimit
from glue.metrics import MetricsMiddleware, Registry, metrics
from glue.openapi import openapi
from glue.pool import make_pool
from glue.read_routing import ReadReplica
from glue.reload import CatalogReloader
from glue.request_log import RequestIdMiddleware
from glue.routes import ENDPOINTS
from glue.settings import Settings

HEALTH_TIMEOUT = 1.0


async def health(request: Request) -> Response:
    """200 when a pooled connection answers; 503 + Retry-After otherwise."""
    pool = request.app.state.pool
    try:
        async with pool.connection(timeout=HEALTH_TIMEOUT) as conn:
            await conn.execute("SELECT 1")
    except (PoolTimeout, psycopg.OperationalError, psycopg.InterfaceError):
        retry = request.app.state.settings.retry_after_seconds
        return errors.error_response(
            503,
            errors.UNAVAILABLE,
            "the database is unreachable; try again shortly",
            details={"status": "degraded", "database": "unreachable"},
            headers={"Retry-After": str(retry)},
        )
    body = {"status": "ok", "database": "ok"}
    replica: ReadReplica | None = getattr(request.app.state, "read_replica", None)
    if replica is not None:
        # the primary serves every read meanwhile: a replica down is not a 503
        body["replica"] = replica.status.health(replica.max_lag)
    return JSONResponse(body)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return errors.error_response(404, errors.NOT_FOUND, "no such route")
    if exc.status_code == 405:
        return errors.error_response(
            405, errors.METHOD_NOT_ALLOWED, f"{request.method} is not allowed here"
        )
    return errors.error_response(exc.status_code, f"VT{exc.status_code}", str(exc.detail))


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.ApiError)
    return exc.response()


async def _pool_timeout(request: Request, exc: Exception) -> Response:
    # Until a call succeeds again, requests wait only briefly for a connection
    # (see request_path.acquire_timeout): 503 at once, not after the full wait.
    request.app.state.database_down = True
    return errors.unavailable(request.app.state.settings.retry_after_seconds).response()


async def _unexpected(request: Request, exc: Exception) -> Response:
    return errors.error_response(500, errors.INTERNAL, "internal error")


def create_app(settings: Settings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = make_pool(settings)
        await pool.open(wait=False)
        app.state.pool = pool
        app.state.settings = settings
        app.state.catalog = None
        app.state.database_down = False
        app.state.verified_tokens = VerifiedTokens()
        app.state.hashing = Hashing(settings.hashing_threads)
        replica = (ReadReplica(settings, settings.read_database_url)
                   if settings.read_database_url else None)
        app.state.read_replica = replica
        if replica is not None:
            await replica.start()
        reloader = CatalogReloader(
            app.state, settings.listen_database_url or settings.app_database_url,
            settings.reload_min_interval
        )
        reloader.start()
        registry.start(pool, replica)
        try:
            yield
        finally:
            await registry.stop()
            await reloader.stop()
            if replica is not None:
                await replica.stop()
            await pool.close()
            app.state.hashing.close()

    registry = Registry()
    middleware = [
        Middleware(RequestIdMiddleware, access_log=settings.access_log),
        Middleware(MetricsMiddleware, registry=registry),
        Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "Accept"],
                max_age=600,
            )
        )
    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/auth/register", auth_routes.register, methods=["POST"]),
        Route("/auth/login", auth_routes.login, methods=["POST"]),
        Route("/auth/refresh", auth_routes.refresh, methods=["POST"]),
        Route("/auth/logout", auth_routes.logout, methods=["POST"]),
        Route("/auth/me", auth_routes.me, methods=["GET"]),
        Route("/admin/users", auth_routes.admin_create_user, methods=["POST"]),
        Route("/admin/service-tokens", auth_routes.admin_issue_service_token, methods=["POST"]),
        Route("/rpc/{name}", dispatch.rpc, methods=["GET", "POST"]),
    ]
    routes += [
        Route(e.path, dispatch.endpoint_handler(e), methods=[e.method], name=e.function)
        for e in ENDPOINTS
    ]
    app = Starlette(
        routes=[*routes, *web.routes()],  # the web app: / and /app/... (glue/web.py)
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            HTTPException: _http_error,
            errors.ApiError: _api_error,
            PoolTimeout: _pool_timeout,
            psycopg.OperationalError: _pool_timeout,
            psycopg.InterfaceError: _pool_timeout,
            Exception: _unexpected,
        },
    )
    app.state.metrics = registry
    return app

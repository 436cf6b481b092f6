"""GET /metrics: Prometheus text format. Request counts and latencies per
route template (never per raw path, so ids do not explode the series), and
the connection pool's figures."""

from __future__ import annotations

import time
from collections import defaultdict

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Registry:
    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.buckets: dict[tuple[str, str], list[int]] = defaultdict(
            lambda: [0] * (len(BUCKETS) + 1)
        )
        self.sums: dict[tuple[str, str], float] = defaultdict(float)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests[(method, route, status)] += 1
        key = (method, route)
        counts = self.buckets[key]
        for index, bound in enumerate(BUCKETS):
            if seconds <= bound:
                counts[index] += 1
                break
        else:
            counts[-1] += 1
        self.sums[key] += seconds

    def render(self, pool_stats: dict[str, int]) -> str:
        lines = ["# HELP veritas_http_requests_total HTTP requests by route and status.",
                 "# TYPE veritas_http_requests_total counter"]
        for (method, route, status), count in sorted(self.requests.items()):
            lines.append(f'veritas_http_requests_total{{method="{method}",route="{route}",'
                         f'status="{status}"}} {count}')
        lines += ["# HELP veritas_http_request_seconds HTTP request latency.",
                  "# TYPE veritas_http_request_seconds histogram"]
        for (method, route), counts in sorted(self.buckets.items()):
            labels = f'method="{method}",route="{route}"'
            running = 0
            for bound, count in zip((*BUCKETS, float("inf")), counts, strict=True):
                running += count
                le = "+Inf" if bound == float("inf") else repr(bound)
                lines.append(f'veritas_http_request_seconds_bucket{{{labels},le="{le}"}} {running}')
            total = self.sums[(method, route)]
            lines.append(f"veritas_http_request_seconds_sum{{{labels}}} {total}")
            lines.append(f"veritas_http_request_seconds_count{{{labels}}} {running}")
        lines += ["# HELP veritas_pool Connection pool figures (psycopg_pool get_stats).",
                  "# TYPE veritas_pool gauge"]
        for name, value in sorted(pool_stats.items()):
            lines.append(f'veritas_pool{{stat="{name}"}} {value}')
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, registry: Registry) -> None:
        self.app = app
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            self.registry.observe(scope["method"], template, status,
                                  time.perf_counter() - started)


async def metrics(request: Request) -> Response:
    stats = request.app.state.pool.get_stats()
    text = request.app.state.metrics.render(stats)
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

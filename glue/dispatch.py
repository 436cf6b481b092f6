"""Turning an HTTP request into one API function call, and its result into JSON.

Used by both the REST routes (glue/routes.py) and ``/rpc/{name}`` (docs/api.md).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from glue import pages, read_routing, request_path
from glue.bearer import bearer_claims
from glue.catalog import ArgumentError, Catalog, Function, JsonText, call_statement
from glue.errors import BAD_REQUEST, METHOD_NOT_ALLOWED, NOT_FOUND, ApiError
from glue.request_log import request_id_of
from glue.routes import Endpoint


class JsonResponseText(Response):
    """A JSON answer whose text the database already rendered."""

    media_type = "application/json"


async def json_body(request: Request, required: bool = False) -> dict[str, Any]:
    """The request body as a JSON object ({} when empty and not required)."""
    raw = await request.body()
    if not raw.strip():
        if required:
            raise ApiError(400, BAD_REQUEST, "a JSON object body is required")
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, BAD_REQUEST, "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, BAD_REQUEST, "the body must be a JSON object")
    return body


async def raw_json_body(request: Request) -> JsonText:
    """The request body as the client sent it, for a function that takes the
    whole body as one JSON argument: the database parses it once (malformed
    JSON is 400 all the same, 22P02; not an object, the function's 400).
    ``{}`` when empty. Spares parsing and rendering it again in Python: a
    batch of 500 events is about 75 kB."""
    raw = await request.body()
    if not raw.strip():
        return JsonText("{}")
    try:
        return JsonText(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, BAD_REQUEST, "the body is not valid JSON") from None


async def current_catalog(request: Request) -> Catalog:
    """The API catalog of this process, read on first use (the reloader keeps it fresh)."""
    state = request.app.state
    if state.catalog is None:
        async with state.pool.connection(timeout=request_path.acquire_timeout(state)) as conn:
            state.catalog = await Catalog.load(conn)
    loaded: Catalog = state.catalog
    return loaded


async def _lookup(request: Request, name: str) -> Function:
    function = (await current_catalog(request)).get(name)
    if function is None:
        raise ApiError(404, NOT_FOUND, f"no API function named {name}")
    return function


def wants_csv(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


async def invoke(
    request: Request, function: Function, args: dict[str, Any], status: int,
    status_if: tuple[str, int] | None = None, csv_columns: tuple[str, ...] = (),
    link_query: dict[str, Any] | None = None,
) -> Response:
    """Call ``function`` with ``args`` as the caller; its answer.

    ``link_query``: the query of a GET of this URL that gives the same page
    (the caller's arguments that are not in the path); None where the URL has
    no GET form, so a next page cannot be linked.
    """
    claims = bearer_claims(request, required=False)
    caller = request_path.Caller(claims, request.method, request.url.path,
                                 request_id_of(request.scope))
    state = request.app.state

    async def fetch(call_args: dict[str, Any]) -> pages.Page:
        try:
            statement, params = call_statement(function, call_args)
        except ArgumentError as exc:
            raise ApiError(400, BAD_REQUEST, str(exc)) from None
        # A function's volatility decides: STABLE and IMMUTABLE ones run in a
        # read-only transaction; a VOLATILE one read by a REST GET (a read that
        # records a disclosure, or closes an overdue attempt) may write.
        # glue/read_routing.py decides whether the read replica serves it.
        rows = await read_routing.call(state, function, caller, statement, params)
        state.database_down = False
        return pages.Page.of(*rows[0]) if rows else pages.Page.of(None, None)

    page = await fetch(args)
    if csv_columns and wants_csv(request):
        return pages.csv_response(page, args, fetch, csv_columns)
    if status_if is not None:
        field, other = status_if
        if json.loads(page.text).get(field) is True:
            status = other
    headers: dict[str, str] = {}
    if page.next is not None and link_query is not None:
        next_link = pages.link(request.url.path, link_query, page.next)
        if next_link is not None:
            headers["Link"] = next_link
    return JsonResponseText(page.text, status_code=status, headers=headers)


def _refuse_clash(given: dict[str, Any], path_args: dict[str, Any]) -> None:
    """A query or body argument may not override one the path sets (400)."""
    clash = set(given) & set(path_args)
    if clash:
        names = ", ".join(sorted(clash))
        raise ApiError(400, BAD_REQUEST, f"{names} is set by the path")


def endpoint_handler(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint of one REST route of the routes table."""

    async def handle(request: Request) -> Response:
        function = await _lookup(request, endpoint.function)
        args: dict[str, Any] = dict(request.path_params)
        link_query: dict[str, Any] | None = None
        if request.method == "GET":
            link_query = dict(request.query_params)
            _refuse_clash(link_query, args)
            args.update(link_query)
        elif endpoint.body_arg:
            args[endpoint.body_arg] = await raw_json_body(request)
        else:
            body = await json_body(request)
            _refuse_clash(body, args)
            args.update(body)
        return await invoke(request, function, args, endpoint.status, endpoint.status_if,
                            endpoint.csv_columns, link_query)

    handle.__name__ = endpoint.function
    return handle


async def rpc(request: Request) -> Response:
    """``POST /rpc/{name}`` (JSON object of named arguments) or ``GET`` (query)."""
    name = request.path_params["name"]
    function = await _lookup(request, name)
    if request.method == "GET":
        if not function.read_only:
            raise ApiError(405, METHOD_NOT_ALLOWED, f"{name} changes data: call it with POST")
        args: dict[str, Any] = dict(request.query_params)
    else:
        args = await json_body(request)
    # A next page is linked as GET /rpc/{name}?<arguments>: only a function
    # that may be called by GET (STABLE) has one.
    return await invoke(request, function, args, 200,
                        link_query=args if function.read_only else None)

"""GET /openapi.json: the OpenAPI 3 document of every route and RPC function.

Built from the routes table and the live API catalog, whose function comments
(``COMMENT ON FUNCTION``) become the operations' descriptions.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from glue.catalog import Function
from glue.dispatch import current_catalog
from glue.routes import ENDPOINTS, Endpoint

ERROR = {"$ref": "#/components/schemas/Error"}
_TYPES = {
    "uuid": {"type": "string", "format": "uuid"},
    "text": {"type": "string"},
    "integer": {"type": "integer"},
    "smallint": {"type": "integer"},
    "bigint": {"type": "integer"},
    "numeric": {"type": "number"},
    "boolean": {"type": "boolean"},
    "timestamp with time zone": {"type": "string", "format": "date-time"},
    "jsonb": {},
    "json": {},
}

# The routes served by Python, not by the routes table (glue/app.py).
GLUE_PATHS: dict[str, dict[str, Any]] = {
    "/auth/register": {"post": {"summary": "create a student account; 201 tokens",
                                "security": [], "responses": {"201": {"description": "tokens"}}}},
    "/auth/login": {"post": {"summary": "200 tokens; 401 bad credentials; 429 locked out",
                             "security": [], "responses": {"200": {"description": "tokens"}}}},
    "/auth/refresh": {"post": {"summary": "rotate a refresh token; 200 new tokens",
                               "security": [], "responses": {"200": {"description": "tokens"}}}},
    "/auth/logout": {"post": {"summary": "end this token and its refresh family",
                              "responses": {"204": {"description": "logged out"}}}},
    "/auth/me": {"get": {"summary": "the caller", "responses": {"200": {"description": "user"}}}},
    "/admin/users": {"post": {"summary": "create a user of any role (admin)",
                              "responses": {"201": {"description": "user"}}}},
    "/admin/service-tokens": {"post": {
        "summary": "issue a service token to an integration account (admin): {user_id, label, "
                   "lifetime_days (1 to 365, default 90)}; 201 {access_token, token_type, "
                   "expires_in, jti, user_id, email, label, issued_at, expires_at}",
        "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "required": ["user_id", "label"],
            "properties": {"user_id": {"type": "string", "format": "uuid"},
                           "label": {"type": "string"},
                           "lifetime_days": {"type": "integer", "minimum": 1,
                                             "maximum": 365}}}}}},
        "responses": {"201": {"description": "the token, shown once"}}}},
    "/health": {"get": {"summary": "200 when the database answers, else 503", "security": [],
                        "responses": {"200": {"description": "ok"}}}},
    "/metrics": {"get": {"summary": "request counts, latencies and pool figures", "security": [],
                         "responses": {"200": {"description": "Prometheus text format",
                                               "content": {"text/plain": {"schema": {
                                                   "type": "string"}}}}}}},
    "/openapi.json": {"get": {"summary": "this document", "security": [],
                              "responses": {"200": {"description": "OpenAPI 3"}}}},
}

LINK = {
    "description": 'On a page that is not the last: <url>; rel="next" (RFC 8288), the same '
                   "path with the next page's query (the caller's limit kept). The last page "
                   "has none.",
    "schema": {"type": "string"},
}


def _schema(pg_type: str) -> dict[str, Any]:
    if pg_type.endswith("[]"):
        return {"type": "array", "items": _schema(pg_type[:-2])}
    return dict(_TYPES.get(pg_type, {"type": "string"}))


def _body(function: Function, skip: set[str]) -> dict[str, Any]:
    props = {a.name: _schema(a.type) for a in function.arguments if a.name not in skip}
    required = [a.name for a in function.arguments if a.required and a.name not in skip]
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return {"content": {"application/json": {"schema": schema}}}


def _type_of(function: Function | None, name: str) -> str:
    """The PostgreSQL type of an argument (text when the function or argument is unknown)."""
    argument = function.argument(name) if function is not None else None
    return argument.type if argument is not None else "text"


def _operation(function: Function | None, summary: str, status: int,
               path_params: list[str], method: str) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary or (function.name if function else ""),
        "responses": {str(status): {"description": "the function's JSON result"},
                      "default": {"description": "error", "content": {
                          "application/json": {"schema": ERROR}}}},
    }
    if function is not None:
        op["operationId"] = function.name
        op["description"] = function.comment
    params = [{"name": p, "in": "path", "required": True, "schema": _schema(_type_of(function, p))}
              for p in path_params]
    if function is not None and method == "get":
        params += [{"name": a.name, "in": "query", "required": a.required,
                    "schema": _schema(a.type)}
                   for a in function.arguments if a.name not in path_params]
    elif function is not None:
        op["requestBody"] = _body(function, set(path_params))
    if params:
        op["parameters"] = params
    return op


def _answers(response: dict[str, Any], endpoint: Endpoint) -> None:
    """The success answer's pages (Link) and CSV form, where the route has them."""
    if endpoint.pages:
        response["headers"] = {"Link": {"$ref": "#/components/headers/Link"}}
    if endpoint.csv_columns:
        response["content"] = {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "text/csv": {"schema": {"type": "string", "description": (
                "with Accept: text/csv, the whole list (every page, streamed); columns "
                + ", ".join(endpoint.csv_columns))}},
        }


def _operation_id(method: str, path: str) -> str:
    """``post_auth_register`` for POST /auth/register: unique, as paths are."""
    return f"{method}_{re.sub(r'[^A-Za-z0-9]+', '_', path).strip('_')}"


async def document(request: Request) -> dict[str, Any]:
    functions = (await current_catalog(request)).functions
    paths: dict[str, dict[str, Any]] = copy.deepcopy(GLUE_PATHS)
    for e in ENDPOINTS:
        path_params = re.findall(r"{(\w+)}", e.path)
        op = _operation(
            functions.get(e.function), e.summary, e.status, path_params, e.method.lower()
        )
        _answers(op["responses"][str(e.status)], e)
        paths.setdefault(e.path, {})[e.method.lower()] = op
    for name, function in sorted(functions.items()):
        summary = function.comment.split("\n")[0]
        entry = {"post": _operation(function, summary, 200, [], "post")}
        if function.read_only:
            entry["get"] = _operation(function, summary, 200, [], "get")
        for method, op in entry.items():  # unique: the REST route has the function's name
            op["operationId"] = f"rpc_{method}_{name}"
        paths[f"/rpc/{name}"] = entry
    for path, ops in paths.items():  # the glue's own routes: named after method and path
        for method, op in ops.items():
            op.setdefault("operationId", _operation_id(method, path))
    return {
        "openapi": "3.0.3",
        "info": {"title": "Veritas API", "version": "1"},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "bearerFormat": "JWT"}},
            "headers": {"Link": LINK},
            "schemas": {"Error": {"type": "object", "required": ["code", "message"],
                                  "properties": {"code": {"type": "string"},
                                                 "message": {"type": "string"},
                                                 "details": {}, "hint": {}}}},
        },
        "security": [{"bearer": []}],
    }


async def openapi(request: Request) -> Response:
    return JSONResponse(await document(request))

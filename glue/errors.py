"""The API's error body, and the map from SQLSTATE to HTTP status (docs/api.md#errors)."""

from __future__ import annotations

from typing import Any

import psycopg
from starlette.responses import JSONResponse

# Project SQLSTATEs raised by the API functions (class VT) and their statuses.
PROJECT_STATUS = {
    "VT400": 400,
    "VT401": 401,
    "VT403": 403,
    "VT404": 404,
    "VT409": 409,
    "VT429": 429,
}

# Exact SQLSTATEs before classes: the table of docs/api.md#errors.
EXACT_STATUS = {
    "23502": 400,  # not_null_violation
    "23514": 400,  # check_violation
    "23503": 409,  # foreign_key_violation: the row it names is gone or not visible
    "23505": 409,  # unique_violation
    "23P01": 409,  # exclusion_violation
    "40001": 409,  # serialization_failure
    "40P01": 409,  # deadlock_detected
    "42501": 403,  # insufficient_privilege
    "42804": 400,  # datatype_mismatch: an argument of the wrong JSON type
    "42846": 400,  # cannot_coerce: e.g. a boolean where a number is due
    "42883": 404,  # undefined_function
    "42P01": 404,  # undefined_table
    "P0002": 404,  # no_data_found
    "55000": 503,  # object_not_in_prerequisite_state: e.g. analytics not computed yet
    "55P03": 409,  # lock_not_available (lock_timeout)
    "57014": 503,  # query_canceled (statement timeout)
}

CLASS_STATUS = {
    "22": 400,  # data exception: bad values, bad JSON, bad casts
    "08": 503,  # connection exception
    "53": 503,  # insufficient resources
    "57": 503,  # operator intervention (shutdown)
}


# The SQLSTATEs that mean the connection or the server is gone, not that a
# statement failed: the server shutting down or restarting (57P01-57P03), and
# every connection exception (class 08). psycopg raises these, and many a
# statement's error besides (lock_not_available, query_canceled, an
# unpopulated materialized view), as OperationalError: the class alone does
# not tell an outage from an answer.
OUTAGE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


def is_outage(exc: psycopg.Error, connection_broken: bool) -> bool:
    """True when an error means the database is unreachable (answered 503
    "the database is unreachable", and requests wait less for a connection
    until one succeeds), False when the database (or the driver, refusing a
    value) answered with an error."""
    if not isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return False
    sqlstate = exc.sqlstate
    if connection_broken or not sqlstate:
        return True
    return sqlstate.startswith("08") or sqlstate in OUTAGE_SQLSTATES


# Seconds a client is told to wait (Retry-After) after a 503.
RETRY_AFTER_SECONDS = 2


def status_for_sqlstate(sqlstate: str | None) -> int:
    if not sqlstate:
        return 500
    if sqlstate in PROJECT_STATUS:
        return PROJECT_STATUS[sqlstate]
    if sqlstate in EXACT_STATUS:
        return EXACT_STATUS[sqlstate]
    return CLASS_STATUS.get(sqlstate[:2], 500)


class ApiError(Exception):
    """An error answered with the API's error body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        hint: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.hint = hint
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return error_response(
            self.status, self.code, self.message, self.details, self.hint, self.headers
        )


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    hint: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"code": code, "message": message, "details": details, "hint": hint}
    return JSONResponse(body, status_code=status, headers=headers)


# Project codes for errors raised outside the database.
NOT_FOUND = "VT404"
METHOD_NOT_ALLOWED = "VT405"
TOO_MANY = "VT429"
BAD_REQUEST = "VT400"
UNAUTHENTICATED = "VT401"
TOO_LARGE = "VT413"
UNAVAILABLE = "VT503"
INTERNAL = "VT500"


def unavailable(retry_after: int) -> ApiError:
    return ApiError(
        503,
        UNAVAILABLE,
        "the database is unreachable; try again shortly",
        headers={"Retry-After": str(retry_after)},
    )

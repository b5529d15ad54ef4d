"""The one place errors become responses, and the app-wide error handlers.

API callers (paths under `/api`, or clients that prefer JSON) get
`{"error": {"code", "message"}}` with the right status; browsers get an HTML page. A 500
never shows internals, always rolls back and always records `error_unhandled`.
"""

from __future__ import annotations

import math
import time
from contextlib import suppress
from typing import Any

from flask import Flask, Response, current_app, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from talaro.errors import STATUS_CODES, Invalid, PasswordRefused, ServiceError
from talaro.extensions import db
from talaro.telemetry.catalogue import (
    DATABASE_UNAVAILABLE,
    ERROR_UNHANDLED,
    INPUT_VALIDATION_FAIL,
    SESSION_CSRF_FAIL,
)
from talaro.telemetry.events import FAILURE, capped_names, emit, exception_attributes


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.path == "/api":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def error_response(
    status: int, message: str, code: str | None = None, details: Any = None
) -> tuple[Response, int]:
    body: dict[str, Any] = {"code": code or STATUS_CODES.get(status, "error"), "message": message}
    if details:
        body["details"] = details
    return jsonify(error=body), status


def _respond(status: int, message: str, code: str | None, details: Any = None) -> Any:
    if wants_json():
        return error_response(status, message, code, details)
    return render_template("error.html", status=status, message=message), status


def _validation_message(messages: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Flatten webargs' {location: {field: [msg]}} into one sentence and a field map."""
    fields: dict[str, Any] = {}
    for location_errors in messages.values():
        if isinstance(location_errors, dict):
            fields.update(location_errors)
    shown, count = capped_names(fields)
    names = ", ".join(shown) or "request"
    more = f" and {count - len(shown)} more" if count > len(shown) else ""
    return f"Invalid or missing fields: {names}{more}", fields


SHORT_MESSAGES = {
    404: "Not found",
    405: "Method not allowed for this URL",
    413: "The request is larger than the configured limit",
}


def _input_rejected(reason: str, fields: list[str], status: int) -> None:
    """A request body failed validation: which fields (capped), never their values."""
    shown, count = capped_names(fields)
    emit(
        INPUT_VALIDATION_FAIL,
        outcome=FAILURE,
        reason=reason,
        attributes={
            "talaro.invalid_fields": shown,
            "talaro.invalid_field_count": count,
            "http.response.status_code": status,
        },
    )


# A missing or stale CSRF token is a refusal (403, as most frameworks answer), said so that
# the person can act on it; Flask-WTF's own sentence goes to the security record.
CSRF_MESSAGES = {
    "page": "This form has expired or did not come from Talaro. Reload the page and try again.",
    "api": (
        "Requests signed in with the session cookie must send the X-CSRFToken header "
        "(its value comes from GET /api/auth/csrf), or use an API token instead."
    ),
}


def _retry_after() -> int | None:
    """Seconds until the breached rate limit lets the client in again (as Retry-After)."""
    for limiter in current_app.extensions.get("limiter", ()):
        limit = limiter.current_limit
        if limit is not None:
            return max(1, math.ceil(limit.reset_at - time.time()))
    return None


def handle_http_exception(error: HTTPException) -> Any:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    if isinstance(error, CSRFError):
        # Flask-WTF's own sentence (token missing, invalid, expired), never the token.
        emit(
            SESSION_CSRF_FAIL,
            outcome=FAILURE,
            reason=str(error.description),
            attributes={"http.response.status_code": 403},
        )
        return _respond(403, CSRF_MESSAGES["api" if wants_json() else "page"], "csrf_failed")
    if status == 422 and "messages" in data:
        message, fields = _validation_message(data["messages"])
        _input_rejected(message, list(fields), 422)
        return _respond(422, message, "validation_error", {"fields": fields})
    if status == 400 and "messages" in data:  # webargs could not parse the body
        message = "The request body is not valid JSON"
        _input_rejected(message, [], 400)
        return _respond(400, message, "malformed_json")
    if status == 429:  # Flask-Limiter; its after_request hook adds Retry-After
        seconds = _retry_after()
        wait = f"Try again in {seconds} seconds." if seconds else "Try again later."
        message = f"Too many requests: the limit is {error.description}. {wait}"
        return _respond(429, message, "rate_limited")
    if status in SHORT_MESSAGES:
        return _respond(status, SHORT_MESSAGES[status], None)
    message = data.get("message") or error.description or STATUS_CODES.get(status, "Error")
    return _respond(status, str(message), None)


def handle_service_error(error: ServiceError) -> Any:
    if _input_invalid(error):
        _input_rejected(error.message, list(error.details["fields"]), error.status)
    return _respond(error.status, error.message, error.code, error.details)


def _input_invalid(error: ServiceError) -> bool:
    """Fields that broke a rule: an `input_validation_fail`. A refused password is an
    authentication failure, already recorded as such by the service."""
    return (
        isinstance(error, Invalid)
        and not isinstance(error, PasswordRefused)
        and isinstance(error.details, dict)
        and "fields" in error.details
    )


# SQLSTATE classes of a lost or refused connection: 08 connection exception, 53
# insufficient resources (too many connections), 57P operator intervention (shutdown).
UNAVAILABLE_SQLSTATES = ("08", "53", "57P")
UNAVAILABLE_SQLITE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR")
DATABASE_RETRY_AFTER_S = 5
DATABASE_MESSAGE = "The database is unavailable at the moment. Try again in a few seconds."


def database_unavailable(error: BaseException) -> bool:
    """The database was unreachable or dropped the connection (as opposed to refusing a
    statement): the request may succeed if tried again."""
    if isinstance(error, sa_exc.TimeoutError | sa_exc.InterfaceError):  # pool exhausted
        return True
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if not isinstance(error, sa_exc.OperationalError):
        return False
    state = getattr(error.orig, "sqlstate", None)  # psycopg
    if state:
        return str(state).startswith(UNAVAILABLE_SQLSTATES)
    sqlite_error = getattr(error.orig, "sqlite_errorname", None)
    if sqlite_error:
        return str(sqlite_error).startswith(UNAVAILABLE_SQLITE)
    return True  # the driver's own error, no server state: the connection failed


def _rolled_back() -> None:
    with suppress(sa_exc.SQLAlchemyError):  # a dead connection is discarded by the pool
        db.session.rollback()


def handle_database_unavailable(error: Exception) -> Any:
    """503 with Retry-After, built without the database: a page needing the user's row
    falls back to the JSON body."""
    current_app.logger.warning(
        "Database unavailable on %s %s: %s", request.method, request.path, type(error).__name__
    )
    _rolled_back()
    emit(
        DATABASE_UNAVAILABLE,
        outcome=FAILURE,
        reason="The database is unavailable",
        attributes=exception_attributes(error),
    )
    answer: Any = None
    if not wants_json():
        with suppress(sa_exc.SQLAlchemyError):
            answer = render_template("error.html", status=503, message=DATABASE_MESSAGE), 503
    response = make_response(
        answer or error_response(503, DATABASE_MESSAGE, "database_unavailable")
    )
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
    return response


def handle_unexpected(error: Exception) -> Any:
    if database_unavailable(error):
        return handle_database_unavailable(error)
    # Never show internals; never leave a half-done transaction behind.
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    _rolled_back()
    emit(
        ERROR_UNHANDLED,
        outcome=FAILURE,
        reason="Unhandled exception",
        attributes=exception_attributes(error),
    )
    return _respond(500, "An unexpected error occurred", "internal_error")


def init_error_handlers(app: Flask) -> None:
    app.register_error_handler(ServiceError, handle_service_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)

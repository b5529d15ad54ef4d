"""The one place errors become responses, and the app-wide error handlers.

API callers (paths under `/api`, or clients that prefer JSON) get
`{"error": {"code", "message"}}` with the right status; browsers get an HTML page. A 500
never shows internals, always rolls back and always records `error_unhandled`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from talaro.errors import STATUS_CODES, Invalid, ServiceError
from talaro.extensions import db
from talaro.telemetry.catalogue import ERROR_UNHANDLED, INPUT_VALIDATION_FAIL
from talaro.telemetry.events import FAILURE, emit, exception_attributes


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
    names = ", ".join(sorted(str(name) for name in fields)) or "request"
    return f"Invalid or missing fields: {names}", fields


SHORT_MESSAGES = {
    404: "Not found",
    405: "Method not allowed for this URL",
    413: "The request is larger than the configured limit",
}


def _input_rejected(reason: str, fields: list[str]) -> None:
    """A request body failed validation: which fields, never their values."""
    emit(
        INPUT_VALIDATION_FAIL,
        outcome=FAILURE,
        reason=reason,
        attributes={"talaro.invalid_fields": sorted(fields)},
    )


def handle_http_exception(error: HTTPException) -> Any:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    if isinstance(error, CSRFError):
        return _respond(400, f"CSRF check failed: {error.description}", "csrf_failed")
    if status == 422 and "messages" in data:
        message, fields = _validation_message(data["messages"])
        _input_rejected(message, list(fields))
        return _respond(422, message, "validation_error", {"fields": fields})
    if status == 400 and "messages" in data:  # webargs could not parse the body
        message = "The request body is not valid JSON"
        _input_rejected(message, [])
        return _respond(400, message, "malformed_json")
    if status == 429:  # Flask-Limiter; its after_request hook adds Retry-After
        message = f"Too many requests ({error.description}); retry after Retry-After seconds"
        return _respond(429, message, "rate_limited")
    if status in SHORT_MESSAGES:
        return _respond(status, SHORT_MESSAGES[status], None)
    message = data.get("message") or error.description or STATUS_CODES.get(status, "Error")
    return _respond(status, str(message), None)


def handle_service_error(error: ServiceError) -> Any:
    if isinstance(error, Invalid) and isinstance(error.details, dict) and "fields" in error.details:
        _input_rejected(error.message, list(error.details["fields"]))
    return _respond(error.status, error.message, error.code, error.details)


def handle_unexpected(error: Exception) -> Any:
    # Never show internals; never leave a half-done transaction behind.
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
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

"""Errors raised by the service layer, and the one place they become responses.

API callers (paths under `/api`, or clients that prefer JSON) get
`{"error": {"code", "message"}}` with the right status; browsers get an HTML page.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from talaro.extensions import db
from talaro.security import detection
from talaro.telemetry import events

STATUS_CODES = {
    400: "bad_request",
    401: "authentication_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
}


class ServiceError(Exception):
    """A request that cannot be carried out, with a message a person can read."""

    status = 400

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or STATUS_CODES.get(self.status, "error")
        self.details = details


class Unauthenticated(ServiceError):
    status = 401


class Forbidden(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class PayloadTooLarge(ServiceError):
    status = 413


class UnsupportedMediaType(ServiceError):
    status = 415


class Invalid(ServiceError):
    """Input that parsed but broke a rule; `details` maps field names to messages."""

    status = 422


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


def handle_http_exception(error: HTTPException) -> Any:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    if isinstance(error, CSRFError):
        return _respond(400, f"CSRF check failed: {error.description}", "csrf_failed")
    if status == 422 and "messages" in data:
        message, fields = _validation_message(data["messages"])
        events.input_rejected(message, list(fields))
        return _respond(422, message, "validation_error", {"fields": fields})
    if status == 400 and "messages" in data:  # webargs could not parse the body
        message = "The request body is not valid JSON"
        events.input_rejected(message, [])
        return _respond(400, message, "malformed_json")
    if status == 429:  # Flask-Limiter; its after_request hook adds Retry-After
        message = f"Too many requests ({error.description}); retry after Retry-After seconds"
        return _respond(429, message, "rate_limited")
    if status == 404:
        detection.not_found()
    if status in SHORT_MESSAGES:
        return _respond(status, SHORT_MESSAGES[status], None)
    message = data.get("message") or error.description or STATUS_CODES.get(status, "Error")
    return _respond(status, str(message), None)


def handle_service_error(error: ServiceError) -> Any:
    if isinstance(error, Invalid) and isinstance(error.details, dict) and "fields" in error.details:
        events.input_rejected(error.message, list(error.details["fields"]))
    if error.status == 404:
        detection.not_found()
    return _respond(error.status, error.message, error.code, error.details)


def handle_unexpected(error: Exception) -> Any:
    # Never show internals; never leave a half-done transaction behind.
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    events.unhandled_error(error)
    return _respond(500, "An unexpected error occurred", "internal_error")


def init_error_handlers(app: Flask) -> None:
    app.register_error_handler(ServiceError, handle_service_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)

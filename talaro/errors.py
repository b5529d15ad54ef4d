"""Errors raised by the service layer: plain Python, importable from any layer.

Each carries the HTTP status it means, a machine-readable `code` and a `message` a person
can read; talaro/error_handlers.py turns them into responses.
"""

from __future__ import annotations

from typing import Any

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


class PasswordRefused(Invalid):
    """A 422 for a password that is not the account's (or an account locked, said alike):
    an authentication failure, which the service records as one; not input that broke a
    rule, so the error handler writes no `input_validation_fail` for it."""

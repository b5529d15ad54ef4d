"""Size and shape limits on request bodies, checked before anything parses them.

Uploads keep MAX_CONTENT_LENGTH; every other body (JSON, forms) is held to
TALARO_MAX_BODY_BYTES. A JSON body is scanned (strings skipped, brackets counted) before
any parser sees it: nesting deeper than TALARO_MAX_JSON_DEPTH is refused, as is a number
longer than MAX_NUMBER_DIGITS, so neither Python's recursive `json` (RecursionError on
100,000 `[`) nor its integer conversion (ValueError past 4,300 digits) can turn a body
into a 500. Each refusal is a 4xx and an `input_validation_fail` record naming the limit,
never the body.
"""

from __future__ import annotations

import re

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from talaro.errors import PayloadTooLarge, ServiceError
from talaro.telemetry.catalogue import INPUT_VALIDATION_FAIL
from talaro.telemetry.events import FAILURE, emit

# The endpoints that take files; tests/test_request_limits.py checks they exist.
UPLOAD_ENDPOINTS = frozenset({"resumes.upload", "resumes.bulk_upload", "pages.resume_upload"})
MAX_NUMBER_DIGITS = 100  # no field takes more; Python's int() stops at 4,300
# A string (its closing quote optional, so an unterminated one is consumed in one pass and
# the scan stays linear), a bracket, or a run of digits.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{}]|\d+', re.DOTALL)
_OPENERS = frozenset(b"[{")
_CLOSERS = frozenset(b"]}")


class BodyRefused(ServiceError):
    status = 400


def json_problem(body: bytes, max_depth: int) -> str | None:
    """Why `body` may not be parsed (too deep, a number too long), or None."""
    depth = 0
    for match in _TOKENS.finditer(body):
        first = body[match.start()]
        if first in _OPENERS:
            depth += 1
            if depth > max_depth:
                return f"JSON nested deeper than {max_depth} levels"
        elif first in _CLOSERS:
            depth -= 1
        elif first != 0x22 and match.end() - match.start() > MAX_NUMBER_DIGITS:  # not a string
            return f"JSON number longer than {MAX_NUMBER_DIGITS} digits"
    return None


def _refuse(error: ServiceError, limit: str) -> ServiceError:
    emit(
        INPUT_VALIDATION_FAIL,
        outcome=FAILURE,
        reason=error.message,
        attributes={"talaro.limit": limit, "http.response.status_code": error.status},
    )
    return error


def check_body() -> None:
    """Before every view: hold the body to its size (uploads keep theirs), and a JSON body,
    wherever it is sent, to its shape (later hooks parse it)."""
    config = current_app.config
    limit = config["TALARO_MAX_BODY_BYTES"]
    if request.endpoint in UPLOAD_ENDPOINTS:
        limit = request.max_content_length or limit
    else:
        request.max_content_length = limit  # also stops a chunked body without a length
    too_large = PayloadTooLarge(
        f"The request body is larger than the {limit // 1024} KiB limit",
        code="payload_too_large",
    )
    if request.content_length is not None and request.content_length > limit:
        raise _refuse(too_large, "TALARO_MAX_BODY_BYTES")
    if not request.is_json:
        return
    try:
        body = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise _refuse(too_large, "TALARO_MAX_BODY_BYTES") from None
    problem = json_problem(body, config["TALARO_MAX_JSON_DEPTH"])
    if problem is not None:
        limit_name = "TALARO_MAX_JSON_DEPTH" if "nested" in problem else "MAX_NUMBER_DIGITS"
        raise _refuse(BodyRefused(problem, code="json_too_complex"), limit_name)


def init_app(app: Flask) -> None:
    """Called by auth.init_auth: after the principal is loaded (records name the user),
    before CSRF enforcement reads a form body."""
    app.before_request(check_body)

"""One function per event: what the service layer calls when something happens.

Names, streams, severities and required attributes are in catalogue.py; this
module adds the request's context (context.py) and emits through the
OpenTelemetry logs API. Candidates are referred to by id; no function here
accepts a password, a token secret or resume content.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from talaro.telemetry.catalogue import (
    CATALOGUE,
    ERROR,
    INFO,
    SEVERITY_TEXT,
    STREAM_ATTRIBUTE,
    WARN,
    SeverityNumber,
)
from talaro.telemetry.context import (
    PATH_LIMIT,
    acting_user_attributes,
    keyed_hash,
    request_attributes,
)
from talaro.telemetry.redaction import redact
from talaro.telemetry.runtime import current_runtime

if TYPE_CHECKING:
    from talaro.errors import ServiceError
    from talaro.models import ApiToken, User

SUCCESS, FAILURE = "success", "failure"


def emit(
    name: str,
    *,
    outcome: str = SUCCESS,
    reason: str | None = None,
    severity: SeverityNumber | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> None:
    """Emit catalogue event `name` with the request context; a no-op when telemetry is off."""
    runtime = current_runtime()
    if runtime is None:
        return
    if runtime.trail_pending:
        runtime.trail_pending = False
        system_started()
    spec = CATALOGUE[name]
    if severity is None:
        failed = outcome == FAILURE and spec.failure_severity is not None
        severity = spec.failure_severity if failed else spec.severity
    record: dict[str, Any] = {
        **request_attributes(),
        "event.action": name,
        "event.category": list(spec.category),
        "event.type": list(spec.type),
        "event.outcome": outcome,
    }
    if reason is not None:
        record["reason"] = reason
    if attributes:
        record.update({key: value for key, value in attributes.items() if value is not None})
    body = reason or name.replace("_", " ")
    timestamp = time.time_ns()
    for stream in spec.streams:
        runtime.logger.emit(
            timestamp=timestamp,
            event_name=name,
            severity_number=severity,
            severity_text=SEVERITY_TEXT.get(severity, severity.name),
            body=body,
            attributes={**record, STREAM_ATTRIBUTE: stream},
        )
    runtime.instruments.record_event(spec, outcome, record)


@contextmanager
def recorded(name: str, **attributes: Any) -> Iterator[dict[str, Any]]:
    """Emit `name` once for the block: success when it completes, failure with the reason
    when it raises a ServiceError. The block may add attributes to the yielded dict."""
    from talaro.errors import ServiceError

    details: dict[str, Any] = dict(attributes)
    try:
        yield details
    except ServiceError as exc:
        emit(name, outcome=FAILURE, reason=exc.message, attributes=_error_details(exc, details))
        raise
    emit(name, attributes=details)


def _error_details(exc: ServiceError, details: dict[str, Any]) -> dict[str, Any]:
    return {**details, "error.type": exc.code, "http.response.status_code": exc.status}


# Security events ---------------------------------------------------------------


def authz_changed(user: User, changes: Mapping[str, Any], via: str = "api") -> None:
    emit(
        "authz_change",
        attributes={
            "target.user.id": user.id,
            "target.user.roles": [user.role],
            "talaro.changes": sorted(f"{key}={value}" for key, value in changes.items()),
            "talaro.via": via,
        },
    )


def login_succeeded(user: User) -> None:
    emit("authn_login_success", attributes=acting_user_attributes(user, "password"))


def login_failed(email: str, reason: str, *, account_exists: bool) -> None:
    """Bad credentials: the attempted identity is recorded only as a keyed hash."""
    emit(
        "authn_login_fail",
        outcome=FAILURE,
        reason=reason,
        attributes={
            "user.hash": keyed_hash(email),
            "talaro.login.account_exists": account_exists,
        },
    )


def session_ended(reason: str = "logout") -> None:
    emit("session_expired", reason=reason)


def token_created(token: ApiToken) -> None:
    emit("authn_token_created", attributes={"talaro.token.id": token.id})


def token_reused(token: ApiToken) -> None:
    """A revoked token was presented (its id, never its secret); one record per use."""
    emit(
        "authn_token_reuse",
        outcome=FAILURE,
        reason="Revoked API token presented",
        attributes={
            "security_rule.name": "revoked_token_reuse",
            "talaro.token.id": token.id,
            "target.user.id": token.user_id,
            "talaro.token.revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
        },
    )


# Detection rules (talaro/security/detection.py): the rule's name and its evidence.


def login_fail_max(rule: str, reason: str, evidence: Mapping[str, Any]) -> None:
    emit(
        "authn_login_fail_max",
        outcome=FAILURE,
        reason=reason,
        attributes={"security_rule.name": rule, **evidence},
    )


def login_locked(user_hash: str, seconds: float, failures: int) -> None:
    """The account (by keyed hash, existing or not) refuses sign-ins for `seconds`."""
    emit(
        "authn_login_lock",
        outcome=FAILURE,
        reason=f"Sign-in locked for {seconds}s after {failures} failures",
        attributes={
            "security_rule.name": "brute_force_one_account",
            "user.hash": user_hash,
            "talaro.lock.seconds": seconds,
            "talaro.login.failures": failures,
        },
    )


def login_succeeded_after_fail(user: User, failures: int) -> None:
    emit(
        "authn_login_successafterfail",
        reason=f"Signed in after {failures} failed attempts",
        attributes={
            **acting_user_attributes(user, "password"),
            "security_rule.name": "success_after_failures",
            "talaro.login.failures": failures,
        },
    )


def rate_limit_exceeded(reason: str, evidence: Mapping[str, Any]) -> None:
    """A limit (Flask-Limiter's, or a detection rule's count) was exceeded."""
    emit("excess_rate_limit_exceeded", outcome=FAILURE, reason=reason, attributes=evidence)


def excess_404(rule: str, reason: str, evidence: Mapping[str, Any]) -> None:
    emit(
        "malicious_excess_404",
        outcome=FAILURE,
        reason=reason,
        attributes={"security_rule.name": rule, **evidence},
    )


def direct_reference(rule: str, reason: str, evidence: Mapping[str, Any]) -> None:
    emit(
        "malicious_direct_reference",
        outcome=FAILURE,
        reason=reason,
        attributes={"security_rule.name": rule, **evidence},
    )


def permission_denied(action: str, reason: str, target: Mapping[str, Any] | None = None) -> None:
    emit(
        "authz_fail",
        outcome=FAILURE,
        reason=reason,
        attributes={"talaro.action": action, **(target or {})},
    )


def authentication_required(reason: str) -> None:
    emit("authn_required", outcome=FAILURE, reason=reason)


def upload_rejected(filename: str, size: int, check: str, reason: str) -> None:
    """An uploaded file failed validation; `check` names the check that failed."""
    emit(
        "upload_validation",
        outcome=FAILURE,
        reason=reason,
        attributes={
            "file.name": filename,
            "file.size": size,
            "talaro.check": check,
        },
    )


def input_rejected(reason: str, fields: list[str]) -> None:
    """A request body failed validation: which fields, never their values."""
    emit(
        "input_validation_fail",
        outcome=FAILURE,
        reason=reason,
        attributes={"talaro.invalid_fields": sorted(fields)},
    )


# System events -------------------------------------------------------------------


def system_started() -> None:
    """The process's trail starts: its pid and where its telemetry goes."""
    runtime = current_runtime()
    outputs = runtime.providers.outputs if runtime is not None else []
    emit(
        "sys_startup", attributes={"process.pid": os.getpid(), "talaro.telemetry.outputs": outputs}
    )


def system_stopping() -> None:
    emit("sys_shutdown", attributes={"process.pid": os.getpid()})


def request_finished(status: int, duration_s: float, path: str, size: int | None) -> None:
    severity = ERROR if status >= 500 else WARN if status >= 400 else INFO
    emit(
        "http_request",
        outcome=FAILURE if status >= 400 else SUCCESS,
        severity=severity,
        attributes={
            "http.response.status_code": status,
            "http.server.request.duration": round(duration_s, 6),
            "url.path": path[:PATH_LIMIT],
            "http.response.body.size": size,
        },
    )


def unhandled_error(exc: BaseException) -> None:
    """An exception reached the error handler: type, message and stack trace, redacted."""
    stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    emit(
        "error_unhandled",
        outcome=FAILURE,
        reason="Unhandled exception",
        attributes={
            "exception.type": f"{type(exc).__module__}.{type(exc).__qualname__}",
            "exception.message": redact(str(exc)),
            "exception.stacktrace": redact(stack),
        },
    )

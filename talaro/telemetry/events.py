"""Emitting catalogue events: what the service layer calls when something happens.

    emit(JOB_CREATE, attributes={"job.id": job.id})
    with recorded(RESUME_VIEW, **{"resume.id": resume_id}) as details:
        ...  # success when the block completes, failure (with the reason) when it refuses

Names, streams, severities, required attributes and metrics are on the specs
(catalogue.py); this module adds the request's context (context.py) and emits through
the OpenTelemetry logs API. Candidates are referred to by id; callers never pass a
password, a token secret or resume content.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol, runtime_checkable

from opentelemetry._logs import LogRecord

from talaro.telemetry.catalogue import (
    ERROR,
    FAILURE,
    HTTP_REQUEST,
    INFO,
    SEVERITY_TEXT,
    STREAM_ATTRIBUTE,
    SUCCESS,
    SYS_SHUTDOWN,
    SYS_STARTUP,
    WARN,
    EventSpec,
    SeverityNumber,
    lookup,
)
from talaro.telemetry.context import PATH_LIMIT, request_attributes
from talaro.telemetry.records import PreparedRecord, Unprepared, prepare
from talaro.telemetry.redaction import masked, redact
from talaro.telemetry.runtime import Runtime, current_runtime

__all__ = ["FAILURE", "SUCCESS", "MissingAttributes", "capped_names", "emit", "recorded"]

NAMES_SHOWN = 20  # client-chosen names (unknown fields) listed in one record
SUPPRESSED = "security_suppressed"  # the /readyz `dropped` key of suppressed records
NAME_LENGTH = 64  # characters kept of each


class MissingAttributes(AssertionError):
    """An emitted record lacks attributes its spec requires (checked when testing)."""


@runtime_checkable
class Refusal(Protocol):
    """An exception that refuses a request with a reason a person can read (the service
    layer's errors are; telemetry does not import them)."""

    status: int
    code: str
    message: str


def emit(
    spec: EventSpec,
    *,
    outcome: str = SUCCESS,
    reason: str | None = None,
    severity: SeverityNumber | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> None:
    """Emit catalogue event `spec` with the request context; a no-op when telemetry is off.
    An event missing from the catalogue raises UnknownEvent, telemetry on or off."""
    spec = lookup(spec)
    runtime = current_runtime()
    if runtime is None:
        return
    if runtime.trail_pending:
        runtime.trail_pending = False
        system_started()
    if severity is None:
        failed = outcome == FAILURE and spec.failure_severity is not None
        severity = spec.failure_severity if failed else spec.severity
    shared = request_attributes()
    own: dict[str, Any] = {
        "event.action": spec.name,
        "event.category": spec.category,
        "event.type": spec.type,
        "event.outcome": outcome,
    }
    if reason is not None:
        own["reason"] = reason
    if attributes:
        own.update({key: value for key, value in attributes.items() if value is not None})
    record = {**shared, **own}
    if runtime.check_events:
        _check_required(spec, outcome, record)
    if spec.audited and runtime.admit is not None and not runtime.admit(spec, record):
        # A flooding source's routine record (security/detection.py): counted, not written.
        runtime.providers.health.record_drop(SUPPRESSED, reason="flood")
        runtime.instruments.record_event(spec, outcome)
        return
    body = reason or spec.name.replace("_", " ")
    timestamp = time.time_ns()
    for stream in spec.streams:
        _write(runtime, spec, severity, body, timestamp, shared, {**own, STREAM_ATTRIBUTE: stream})
    runtime.instruments.record_event(spec, outcome)


def _write(
    runtime: Runtime,
    spec: EventSpec,
    severity: SeverityNumber,
    body: str,
    timestamp: int,
    shared: Mapping[str, Any],
    own: Mapping[str, Any],
) -> None:
    """One record, built ready (records.py) or, for a value of an unusual type, through
    the SDK's generic path (RecordMasking masks it there)."""
    logger = runtime.logger
    limits = runtime.providers.log_limits
    severity_text = SEVERITY_TEXT.get(severity, severity.name)
    try:
        attributes = prepare(shared, own, limits)
    except Unprepared:
        logger.emit(
            timestamp=timestamp,
            event_name=spec.name,
            severity_number=severity,
            severity_text=severity_text,
            body=body,
            attributes={**shared, **own},
        )
        return
    record = LogRecord(
        timestamp=timestamp,
        severity_number=severity,
        severity_text=severity_text,
        body=masked(body, limits.max_log_record_attribute_length),
        attributes=attributes,
        event_name=spec.name,
    )
    resource = runtime.providers.logger_provider.resource
    logger.emit(PreparedRecord(record, resource, runtime.scope, limits))


def _check_required(spec: EventSpec, outcome: str, record: Mapping[str, Any]) -> None:
    """A success carries the spec's attributes; a failure may have stopped before the
    object existed, so it carries what the spec asks of failures (its reason)."""
    required = spec.required if outcome == SUCCESS else spec.failure_required
    missing = [key for key in required if key not in record]
    if missing:
        raise MissingAttributes(f"{spec.name} ({outcome}) emitted without {', '.join(missing)}")


@contextmanager
def recorded(spec: EventSpec, **attributes: Any) -> Iterator[dict[str, Any]]:
    """Emit `spec` once for the block: success when it completes, failure with the reason
    when it raises a refusal (a 4xx of the service layer). The block may add attributes to
    the yielded dict."""
    details: dict[str, Any] = dict(attributes)
    try:
        yield details
    except Exception as exc:
        if isinstance(exc, Refusal):
            failure = {**details, "error.type": exc.code, "http.response.status_code": exc.status}
            emit(spec, outcome=FAILURE, reason=exc.message, attributes=failure)
        raise
    emit(spec, attributes=details)


# Telemetry's own events: the process's trail, each request, and the unexpected --------


def system_started() -> None:
    """The process's trail starts: its pid and where its telemetry goes."""
    runtime = current_runtime()
    outputs = runtime.providers.outputs if runtime is not None else []
    emit(SYS_STARTUP, attributes={"process.pid": os.getpid(), "talaro.telemetry.outputs": outputs})


def system_stopping(
    pending: Mapping[str, int] | None = None, dropped: Mapping[str, int] | None = None
) -> None:
    """The process's trail stops. When telemetry lost records, how many: still queued
    for an exporter now (`talaro.telemetry.undelivered`, likely lost at exit) and not
    written or delivered during the run (`talaro.telemetry.dropped`), by signal."""
    attributes: dict[str, Any] = {"process.pid": os.getpid()}
    if pending:
        attributes["talaro.telemetry.undelivered"] = sum(pending.values())
        attributes["talaro.telemetry.undelivered_signals"] = sorted(pending)
    lost = {signal: n for signal, n in (dropped or {}).items() if signal != SUPPRESSED}
    if lost:
        attributes["talaro.telemetry.dropped"] = sum(lost.values())
        attributes["talaro.telemetry.dropped_signals"] = sorted(lost)
    emit(SYS_SHUTDOWN, attributes=attributes)


def request_finished(status: int, duration_s: float, path: str, size: int | None) -> None:
    severity = ERROR if status >= 500 else WARN if status >= 400 else INFO
    emit(
        HTTP_REQUEST,
        outcome=FAILURE if status >= 400 else SUCCESS,
        severity=severity,
        attributes={
            "http.response.status_code": status,
            "http.server.request.duration": round(duration_s, 6),
            "url.path": path[:PATH_LIMIT],
            "http.response.body.size": size,
        },
    )


def capped_names(names: Iterable[Any]) -> tuple[list[str], int]:
    """Client-chosen names (unknown fields), sorted, as recorded: the first NAMES_SHOWN,
    each cut to NAME_LENGTH characters, and how many there were. A client picks any
    number of names of any length; the record must not grow with them."""
    every = sorted({str(name) for name in names})
    return [name[:NAME_LENGTH] for name in every[:NAMES_SHOWN]], len(every)


def exception_attributes(exc: BaseException) -> dict[str, str]:
    """Type, message and stack trace of `exc`, with credentials redacted. A stack trace
    over the value limit keeps its end, where the raising frame and the message are (the
    limit would keep its start); redacted first, so the cut cannot halve a token."""
    stack = redact("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    runtime = current_runtime()
    limit = runtime.providers.log_limits.max_log_record_attribute_length if runtime else None
    if limit is not None and len(stack) > limit:
        stack = stack[-limit:]
    return {
        "exception.type": f"{type(exc).__module__}.{type(exc).__qualname__}",
        "exception.message": redact(str(exc)),
        "exception.stacktrace": stack,
    }

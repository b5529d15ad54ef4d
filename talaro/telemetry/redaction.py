"""The one place secrets and personal data are scrubbed from telemetry.

`redact` replaces what looks like a credential in any text: URL credentials, bearer and
API tokens (``tlr_...``), signed values (the session cookie, CSRF tokens, JWTs),
``key=value`` secrets, and the values PostgreSQL quotes in an error's ``DETAIL`` line
(and SQLAlchemy's ``[parameters: ...]``, should an engine not hide them). Every string of
every log record passes through it in `RecordMasking` (before the audit chain hashes
it), and every string of every span in `SpanMasking`; both also hold each value to the
attribute length limit (LogRecordLimits / SpanLimits), the body and status included.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import Status

REDACTED = "[REDACTED]"
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@")
_BEARER = re.compile(r"(?i)\b(bearer(?:\s+|%20|\+))[A-Za-z0-9._~+/=%-]+")
_TOKENS = re.compile(r"tlr_[A-Za-z0-9_%-]*")  # no \b: "idtlr_..." must not slip through
# itsdangerous values (Flask's session cookie `eyJ...`/`.eJ...`, Flask-WTF's CSRF token
# `Ij...`/`Im...`) and JWTs: base64url payload, timestamp or body, signature (or the end
# of a value the length limit cut short).
_SIGNED = re.compile(
    r"(?:\.eJ|eyJ|\bI[jm])[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.(?:[A-Za-z0-9_-]{20,}|[A-Za-z0-9_-]*\Z)"
)
_KEY_VALUE = re.compile(
    r"(?i)\b([\w-]*?(?:password|passwd|secret|token|api[_-]?key|authorization|cookie|session"
    r"|csrf)[\w-]*)(\s*[=:]\s*)(['\"]?)[^\s'\",;&]+\3"
)
# Values Talaro makes itself (the catalogue, route templates, its own ids and enums), never
# from request text: not worth a look, and skipping them halves the cost per record.
TRUSTED_KEYS = frozenset(
    {
        "event.action",
        "event.category",
        "event.type",
        "event.outcome",
        "talaro.stream",
        "http.route",
        "user.id",
        "user.roles",
        "talaro.auth.method",
    }
)
# PostgreSQL quotes the offending row or value (`DETAIL:  Key (email)=(...)`, `Failing row
# contains (...)`, `invalid input syntax for type uuid: "..."`); SQLAlchemy appends the
# statement's parameters unless the engine hides them (hide_parameters=True, config.py).
_DB_DETAIL = re.compile(r"(?m)^(DETAIL:\s*).*$")
_DB_PARAMETERS = re.compile(r"\[parameters: [^\n]*\]")
_DB_INPUT = re.compile(r"(invalid input (?:syntax|value) for [^:\n]*: )\"[^\"\n]*\"")


def _names_a_secret(lowered: str) -> bool:
    # An `or` chain rather than any() over a tuple: this runs for most values with a ':'.
    return (
        "pass" in lowered
        or "secret" in lowered
        or "token" in lowered
        or "key" in lowered
        or "auth" in lowered
        or "cookie" in lowered
        or "session" in lowered
        or "csrf" in lowered
    )


def redact(text: str) -> str:
    """`text` with every credential, signed value and database-quoted value replaced by
    [REDACTED]. Each pattern runs only on text holding its cheap marker, so a string
    with none of them (most attributes) costs a few substring checks."""
    if "://" in text:
        text = _URL_CREDENTIALS.sub(rf"\g<scheme>{REDACTED}@", text)
    if "earer" in text or "EARER" in text:
        text = _BEARER.sub(rf"\1{REDACTED}", text)
    if "tlr_" in text:
        text = _TOKENS.sub(REDACTED, text)
    if len(text) >= 30 and ("eyJ" in text or ".eJ" in text or "Ij" in text or "Im" in text):
        text = _SIGNED.sub(REDACTED, text)
    if ":" in text or "=" in text:  # every pattern below needs one of them
        if _names_a_secret(text.lower()):
            text = _KEY_VALUE.sub(rf"\1\2\3{REDACTED}\3", text)
        if "DETAIL:" in text:
            text = _DB_DETAIL.sub(rf"\1{REDACTED}", text)
        if "[parameters: " in text:
            text = _DB_PARAMETERS.sub(f"[parameters: {REDACTED}]", text)
        if "invalid input" in text:
            text = _DB_INPUT.sub(rf'\1"{REDACTED}"', text)
    return text


def redact_query(args: Mapping[str, Any]) -> str:
    """A query string with every value replaced: `q=REDACTED&page=REDACTED`."""
    return "&".join(f"{key}=REDACTED" for key in args)


def masked(value: Any, limit: int | None) -> Any:
    """`value` redacted and held to `limit` characters: a string, or each string of a list
    (redacting can lengthen a short value, so the limit is applied again after it)."""
    if isinstance(value, str):
        text = redact(value)
        return text if limit is None or len(text) <= limit else text[:limit]
    if isinstance(value, list | tuple):
        return tuple(masked(item, limit) for item in value)
    return value


def _masked_items(attributes: Mapping[str, Any] | None, limit: int | None) -> dict[str, Any]:
    """The attributes whose masked value differs, masked."""
    changed = {}
    for key, value in (attributes or {}).items():
        if key in TRUSTED_KEYS:
            continue
        if type(value) is str:  # most values: redact inline, without masked()'s dispatch
            new = redact(value)
            if limit is not None and len(new) > limit:
                new = new[:limit]
        elif isinstance(value, (list, tuple)):
            new = masked(value, limit)
        else:
            continue
        if new is not value and new != (tuple(value) if isinstance(value, list) else value):
            changed[key] = new
    return changed


class RecordMasking(LogRecordProcessor):
    """The first log processor: masks every string attribute and the body of each record
    in place, before the audit chain hashes it and any output sees it."""

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        if getattr(log_record, "prepared", False):  # masked when built (records.py)
            return
        record = log_record.log_record
        limit = log_record.limits.max_log_record_attribute_length
        attributes = record.attributes
        if attributes is not None:
            for key, value in _masked_items(attributes, limit).items():
                attributes[key] = value  # type: ignore[index]
        if isinstance(record.body, str):
            record.body = masked(record.body, limit)

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class _MaskedSpan(ReadableSpan):
    """A copy of an ended span with masked strings, keeping its dropped counts."""

    def __init__(
        self,
        span: ReadableSpan,
        name: str,
        attributes: Mapping[str, Any],
        events: Sequence[Event],
        status: Status,
    ) -> None:
        super().__init__(
            name=name,
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes=attributes,
            events=events,
            links=span.links,
            kind=span.kind,
            status=status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )
        self._counts = (span.dropped_attributes, span.dropped_events, span.dropped_links)

    @property
    def dropped_attributes(self) -> int:
        return self._counts[0]

    @property
    def dropped_events(self) -> int:
        return self._counts[1]

    @property
    def dropped_links(self) -> int:
        return self._counts[2]


class SpanMasking(SpanProcessor):
    """Hands each ended span on to `downstream` with its name, attributes, event
    attributes and status masked. An ended span cannot change, so a span that needs
    masking is handed on as a copy (the SDK makes one per span anyway); the others as
    they are."""

    def __init__(self, downstream: Sequence[SpanProcessor], limit: int | None) -> None:
        self.downstream = list(downstream)
        self.limit = limit

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        for processor in self.downstream:
            processor.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        shown = self.masked_span(span)
        for processor in self.downstream:
            processor.on_end(shown)

    def masked_span(self, span: ReadableSpan) -> ReadableSpan:
        limit = self.limit
        name = masked(span.name, limit)
        attributes = span.attributes
        changed = _masked_items(attributes, limit)
        events = original = span.events
        if original:  # exception events: their message and stack trace
            found = [_masked_items(event.attributes, limit) for event in original]
            if any(found):
                events = tuple(
                    Event(event.name, {**(event.attributes or {}), **new}, event.timestamp)
                    if new
                    else event
                    for event, new in zip(original, found, strict=True)
                )
        status = span.status
        if status.description:
            description = masked(status.description, limit)
            if description != status.description:
                status = Status(status.status_code, description)
        if name == span.name and not changed and events is original and status is span.status:
            return span
        return _MaskedSpan(span, name, {**attributes, **changed}, events, status)

    def shutdown(self) -> None:
        for processor in self.downstream:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all([p.force_flush(timeout_millis) for p in self.downstream])

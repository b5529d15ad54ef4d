"""OTLP JSON Lines for the files, encoded straight from the SDK's records with orjson.

The first-party file exporters (``opentelemetry-exporter-otlp-json-file``) build an
``ExportLogsServiceRequest`` / ``ExportTraceServiceRequest`` of message objects, turn it
into dicts (``to_dict``) and then into text with the standard ``json`` module: three
passes, and the resource encoded again (and hashed) for every record. On the service's
export threads that was the largest single cost of telemetry (BENCHMARKS.md). These
exporters write the same OTLP JSON (the same fields, the same names, int64 as strings,
hex ids, integer enums, empty fields left out as the message classes leave them out) in
one pass: plain dicts and lists from the SDK's public fields, the resource and the scope
encoded once per process, and orjson for the text. A batch the fast path cannot encode
(a string that is not valid Unicode, a value of a type no encoder knows) is encoded by
the first-party encoder instead, so it fails or succeeds exactly as before.

tests/telemetry/test_encoding.py holds every line to the first-party encoder's, decoded
with the OTLP JSON message classes (``opentelemetry.proto_json``).
"""

from __future__ import annotations

import base64
import json
import logging
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

import orjson
from opentelemetry.exporter.otlp.json.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.json.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind

from talaro.telemetry.files import TelemetryWriteError

_logger = logging.getLogger(__name__)

_KINDS = {  # SpanKind -> the OTLP enum's number (SPAN_KIND_INTERNAL = 1 ...)
    SpanKind.INTERNAL: 1,
    SpanKind.SERVER: 2,
    SpanKind.CLIENT: 3,
    SpanKind.PRODUCER: 4,
    SpanKind.CONSUMER: 5,
}
_HAS_IS_REMOTE = 0x100  # SpanFlags.SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK
_IS_REMOTE = 0x200  # SpanFlags.SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK


# Values ------------------------------------------------------------------------------


def any_value(value: Any) -> dict[str, Any]:
    """The OTLP JSON of an AnyValue, as `_encode_value` + `to_dict` make it (same order of
    checks: a bool is not an int, a str and bytes are not sequences)."""
    kind = type(value)
    if kind is str:  # most values: skip the isinstance chain
        return {"stringValue": value}
    if value is None:
        return {}
    if kind is bool:
        return {"boolValue": value}
    if kind is int:
        return {"intValue": str(value)}
    if isinstance(value, bool):
        return {"boolValue": bool(value)}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": _double(value)}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode("ascii")}
    if isinstance(value, Sequence):
        items = [any_value(item) for item in value]
        return {"arrayValue": {"values": items} if items else {}}
    if isinstance(value, Mapping):
        pairs = [{"key": str(k), "value": any_value(v)} for k, v in value.items()]
        return {"kvlistValue": {"values": pairs} if pairs else {}}
    raise TypeError(f"Invalid type {type(value)} of value {value}")


def _double(value: float) -> float | str:
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return number


# Most attribute values repeat from record to record (the route, the user, the event's
# names): each such key-value pair is encoded once and reused as an orjson.Fragment, the
# JSON orjson writes as it is. A value that does not repeat (an id) costs one more encoding
# on its first use, so the cache is bounded and emptied when full.
_PAIRS: dict[tuple[str, Any], orjson.Fragment] = {}
PAIRS_KEPT = 8192
_PAIR_VALUE_LIMIT = 256  # characters: longer values (stack traces, queries) are not kept


def attributes(pairs: Mapping[str, Any] | None) -> list[Any]:
    """Key-value pairs; one whose value cannot be encoded is left out (logged), as the
    first-party encoder leaves it out. An empty key is left out of its pair, as `to_dict`
    leaves it out. Pairs of a string or of a tuple of strings come as Fragments."""
    if not pairs:
        return []
    encoded: list[Any] = []
    append = encoded.append
    cache = _PAIRS
    for key, value in _plain(pairs).items():
        kind = type(value)  # the common types inline; any_value decides the rest
        if kind is str:
            if len(value) <= _PAIR_VALUE_LIMIT:
                fragment = cache.get((key, value))
                if fragment is None:
                    fragment = _remember((key, value), {"stringValue": value})
                append(fragment)
                continue
            item: dict[str, Any] = {"stringValue": value}
        elif kind is int:
            item = {"intValue": str(value)}
        elif kind is tuple and all(type(v) is str for v in value):  # the SDK's sequences
            fragment = cache.get((key, value))
            if fragment is None:
                values = {"values": [{"stringValue": v} for v in value]} if value else {}
                fragment = _remember((key, value), {"arrayValue": values})
            append(fragment)
            continue
        elif kind is float and value - value == 0:  # finite
            item = {"doubleValue": value}
        else:
            try:
                item = any_value(value)
            except Exception as error:  # the first-party encoder's catch, as broad
                _logger.exception("Failed to encode key %s: %s", key, error)
                continue
        append({"key": key, "value": item} if key else {"value": item})
    return encoded


def _remember(pair: tuple[str, Any], item: dict[str, Any]) -> orjson.Fragment:
    """The pair's JSON as a Fragment, kept for next time. orjson refuses what JSON cannot
    hold (a lone surrogate) here, as it would in the whole line: the caller's fallback."""
    key = pair[0]
    fragment = orjson.Fragment(
        orjson.dumps({"key": key, "value": item} if key else {"value": item})
    )
    if len(_PAIRS) >= PAIRS_KEPT:
        _PAIRS.clear()
    _PAIRS[pair] = fragment
    return fragment


def _plain(pairs: Mapping[str, Any]) -> Mapping[str, Any]:
    """The plain dict behind the SDK's BoundedAttributes, when there is one: iterating it
    is several times cheaper than the Mapping protocol's Python-level __iter__ and
    __getitem__. Anything else (or a later SDK without it) is iterated as a Mapping."""
    if type(pairs) is dict:
        return pairs
    items = getattr(pairs, "_dict", None)
    return items if type(items) is dict else pairs


def _scope(scope: Any) -> dict[str, Any]:
    if scope is None:
        return {}
    found: dict[str, Any] = {}
    if scope.name:
        found["name"] = scope.name
    if scope.version:
        found["version"] = scope.version
    if encoded := attributes(scope.attributes):
        found["attributes"] = encoded
    return found


def _resource(resource: Any) -> dict[str, Any]:
    encoded = attributes(resource.attributes)
    return {"attributes": encoded} if encoded else {}


class _Envelopes:
    """The resource and scope parts of a payload, encoded once per object (a process has
    one resource and a few scopes; the objects are kept, so their ids stay theirs)."""

    def __init__(self) -> None:
        self._resources: dict[int, tuple[Any, dict[str, Any]]] = {}
        self._scopes: dict[int, tuple[Any, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def resource(self, resource: Any) -> dict[str, Any]:
        known = self._resources.get(id(resource))
        if known is None or known[0] is not resource:
            known = (resource, _resource(resource))
            with self._lock:
                if len(self._resources) > 64:  # a test making many providers
                    self._resources.clear()
                self._resources[id(resource)] = known
        return known[1]

    def scope(self, scope: Any) -> dict[str, Any]:
        known = self._scopes.get(id(scope))
        if known is None or known[0] is not scope:
            known = (scope, _scope(scope))
            with self._lock:
                if len(self._scopes) > 256:
                    self._scopes.clear()
                self._scopes[id(scope)] = known
        return known[1]


_ENVELOPES = _Envelopes()


def _payload(
    items: Sequence[Any],
    encode: Callable[[Any], dict[str, Any]],
    scope_of: Callable[[Any], Any],
    names: tuple[str, str, str, str],
) -> dict[str, Any]:
    """Group `items` by resource, then scope (first seen first, as the first-party
    encoders group them) and wrap them. `names`: the payload's, the resource's, the
    scope's and the items' keys."""
    top, per_resource, per_scope, inner = names
    groups: dict[int, tuple[Any, dict[int, tuple[Any, list[dict[str, Any]]]]]] = {}
    for item in items:
        resource = item.resource
        scope = scope_of(item) or None
        scopes = groups.get(id(resource))
        if scopes is None:
            scopes = groups[id(resource)] = (resource, {})
        found = scopes[1].get(id(scope))
        if found is None:
            found = scopes[1][id(scope)] = (scope, [])
        found[1].append(encode(item))
    payload = []
    for resource, scopes in groups.values():
        scoped = []
        for scope, encoded in scopes.values():
            entry: dict[str, Any] = {
                "scope": _ENVELOPES.scope(scope) if scope is not None else {},
                inner: encoded,
            }
            if scope is not None and scope.schema_url:
                entry["schemaUrl"] = scope.schema_url
            scoped.append(entry)
        group: dict[str, Any] = {}
        if resource is not None:
            group["resource"] = _ENVELOPES.resource(resource)
        group[per_scope] = scoped
        if resource is not None and resource.schema_url:
            group["schemaUrl"] = resource.schema_url
        payload.append(group)
    return {top: payload} if payload else {}


# Logs --------------------------------------------------------------------------------


def log_record(readable: ReadableLogRecord) -> dict[str, Any]:
    """One LogRecord as `_encode_log` + `to_dict` write it (their field order)."""
    record = readable.log_record
    found: dict[str, Any] = {}
    if record.timestamp:
        found["timeUnixNano"] = str(record.timestamp)
    if record.observed_timestamp:
        found["observedTimeUnixNano"] = str(record.observed_timestamp)
    severity = getattr(record.severity_number, "value", None)
    if severity:
        found["severityNumber"] = int(severity)
    if record.severity_text:
        found["severityText"] = record.severity_text
    found["body"] = any_value(record.body)
    if encoded := attributes(record.attributes):
        found["attributes"] = encoded
    if dropped := readable.dropped_attributes:
        found["droppedAttributesCount"] = dropped
    if flags := int(record.trace_flags):
        found["flags"] = flags
    if record.trace_id:
        found["traceId"] = record.trace_id.to_bytes(16, "big").hex()
    if record.span_id:
        found["spanId"] = record.span_id.to_bytes(8, "big").hex()
    if record.event_name:
        found["eventName"] = record.event_name
    return found


def logs_payload(batch: Sequence[ReadableLogRecord]) -> dict[str, Any]:
    """The ExportLogsServiceRequest of `batch` as a dict (empty for an empty batch)."""
    return _payload(
        batch,
        log_record,
        lambda item: item.instrumentation_scope,
        ("resourceLogs", "resource", "scopeLogs", "logRecords"),
    )


def _first_party_logs(batch: Sequence[ReadableLogRecord]) -> dict[str, Any]:
    request = encode_logs(batch)
    return request.to_dict() if request.resource_logs else {}


# Spans -------------------------------------------------------------------------------


def _span_flags(context: Any) -> int:
    remote = context is not None and context.is_remote
    return _HAS_IS_REMOTE | _IS_REMOTE if remote else _HAS_IS_REMOTE


def span(readable: ReadableSpan) -> dict[str, Any]:
    """One Span as `_encode_span` + `to_dict` write it (their field order)."""
    context = readable.get_span_context()
    trace_id = context.trace_id if context else 0
    span_id = context.span_id if context else 0
    found: dict[str, Any] = {
        "traceId": trace_id.to_bytes(16, "big").hex(),
        "spanId": span_id.to_bytes(8, "big").hex(),
    }
    state = context.trace_state if context else None
    if state:
        found["traceState"] = ",".join(f"{key}={value}" for key, value in state.items())
    parent = readable.parent
    if parent is not None:
        found["parentSpanId"] = parent.span_id.to_bytes(8, "big").hex()
    found["flags"] = _span_flags(parent)
    if readable.name:
        found["name"] = readable.name
    found["kind"] = _KINDS[readable.kind]
    if readable.start_time:
        found["startTimeUnixNano"] = str(readable.start_time)
    if readable.end_time:
        found["endTimeUnixNano"] = str(readable.end_time)
    # ReadableSpan.attributes is a read-only proxy of what the span holds: encode what it
    # holds (the same items) without the proxy's Mapping protocol.
    held = getattr(readable, "_attributes", None)
    if not isinstance(held, Mapping) or len(held) != len(readable.attributes):
        held = readable.attributes
    if encoded := attributes(held):
        found["attributes"] = encoded
    if dropped := readable.dropped_attributes:
        found["droppedAttributesCount"] = dropped
    if readable.events:
        found["events"] = [_event(event) for event in readable.events]
    if dropped := readable.dropped_events:
        found["droppedEventsCount"] = dropped
    if readable.links:
        found["links"] = [_link(link) for link in readable.links]
    if dropped := readable.dropped_links:
        found["droppedLinksCount"] = dropped
    status = readable.status
    if status is not None:
        encoded_status: dict[str, Any] = {}
        if status.description:
            encoded_status["message"] = status.description
        if code := int(status.status_code.value):
            encoded_status["code"] = code
        found["status"] = encoded_status
    return found


def _event(event: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if event.timestamp:
        found["timeUnixNano"] = str(event.timestamp)
    if event.name:
        found["name"] = event.name
    if encoded := attributes(event.attributes):
        found["attributes"] = encoded
    if dropped := event.dropped_attributes:
        found["droppedAttributesCount"] = dropped
    return found


def _link(link: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if trace_id := link.context.trace_id.to_bytes(16, "big"):
        found["traceId"] = trace_id.hex()
    if span_id := link.context.span_id.to_bytes(8, "big"):
        found["spanId"] = span_id.hex()
    if encoded := attributes(link.attributes):
        found["attributes"] = encoded
    if dropped := link.dropped_attributes:
        found["droppedAttributesCount"] = dropped
    found["flags"] = _span_flags(link.context)
    return found


def spans_payload(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """The ExportTraceServiceRequest of `spans` as a dict (empty for no spans)."""
    return _payload(
        spans,
        span,
        lambda item: item.instrumentation_scope,
        ("resourceSpans", "resource", "scopeSpans", "spans"),
    )


def _first_party_spans(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    request = encode_spans(spans)
    return request.to_dict() if request.resource_spans else {}


# Lines and exporters -------------------------------------------------------------------


# Characters that JSON leaves raw but that some line readers take for a line break
# (Python's str.splitlines, JavaScript's line terminators): written escaped, as the
# standard json module writes every non-ASCII character, so a value can never look like
# the end of a line to any reader.
_LINE_BREAKS = (
    (b"\xc2\x85", b"\\u0085"),
    (b"\xe2\x80\xa8", b"\\u2028"),
    (b"\xe2\x80\xa9", b"\\u2029"),
)


def dumps_line(payload: dict[str, Any]) -> str:
    """`payload` as one compact JSON line with its newline."""
    data = orjson.dumps(payload, option=orjson.OPT_APPEND_NEWLINE)
    if b"\xc2\x85" in data or b"\xe2\x80" in data:
        for raw, escaped in _LINE_BREAKS:
            data = data.replace(raw, escaped)
    return data.decode("utf-8")


def json_line(
    items: Sequence[Any],
    fast: Callable[[Sequence[Any]], dict[str, Any]],
    first_party: Callable[[Sequence[Any]], dict[str, Any]],
) -> str | None:
    """One OTLP JSON line (with its newline) for `items`, None for nothing to write. A
    batch the fast path cannot encode (a string with a lone surrogate, which orjson
    refuses; a value of an unknown type) is encoded as the first-party exporter encodes
    it, standard json module included, and raises what it raises."""
    try:
        payload = fast(items)
        return dumps_line(payload) if payload else None
    except Exception:
        payload = first_party(items)
        return json.dumps(payload, separators=(",", ":")) + "\n" if payload else None


class _LineWriter:
    """Writes one line per export to `stream` (a SharedJsonLinesFile); a failure is the
    export's failure, logged unless the file's health counters report it already."""

    def __init__(self, stream: IO[str], kind: str) -> None:
        self.stream = stream
        self.kind = kind
        self.stopped = False

    def write(self, encode: Callable[[], str | None]) -> bool:
        if self.stopped:
            return False
        try:
            line = encode()
            if line is not None:
                self.stream.write(line)
        except TelemetryWriteError:
            return False  # counted and reported once per cause (health.py)
        except Exception as error:  # as the first-party exporter: logged, a failed export
            _logger.exception(
                "Failed to write %s batch to stream: %s: %s", self.kind, type(error).__name__, error
            )
            return False
        return True


class JsonLinesLogExporter(LogRecordExporter):
    """`FileLogExporter(stream=...)`'s lines, from `logs_payload`."""

    def __init__(self, *, stream: IO[str]) -> None:
        self._writer = _LineWriter(stream, "logs")

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        written = self._writer.write(lambda: json_line(batch, logs_payload, _first_party_logs))
        return LogRecordExportResult.SUCCESS if written else LogRecordExportResult.FAILURE

    def shutdown(self) -> None:
        self._writer.stopped = True

    def force_flush(self, timeout_millis: int = 10_000) -> bool:
        return True


class JsonLinesSpanExporter(SpanExporter):
    """`FileSpanExporter(stream=...)`'s lines, from `spans_payload`."""

    def __init__(self, *, stream: IO[str]) -> None:
        self._writer = _LineWriter(stream, "spans")

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        written = self._writer.write(lambda: json_line(spans, spans_payload, _first_party_spans))
        return SpanExportResult.SUCCESS if written else SpanExportResult.FAILURE

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._writer.stopped = True

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

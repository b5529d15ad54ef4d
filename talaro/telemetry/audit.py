"""The tamper-evident security stream: every security record is chained to the one before.

`AuditChain` wraps the log processors of one process. For each record of the security
stream it adds, under one lock that also covers handing the record on (so records reach
the queues, and the files, in sequence order):

``talaro.audit.seq``
    0, 1, 2 ... per process (``service.instance.id``); 0 is ``sys_startup``.
``talaro.audit.prev``
    the ``talaro.audit.hash`` of the record before (empty on seq 0).
``talaro.audit.hash``
    SHA-256, or HMAC-SHA256 keyed with ``TALARO_AUDIT_KEY``, over ``prev``, a newline and
    `canonical` of the record: the resource's ``service.instance.id``, ``service.name``,
    ``service.version`` and ``deployment.environment.name``, the scope name, both times,
    severity, event name, trace and span ids and flags, body, and every attribute except
    the hash itself.

Two functions give the same bytes for one record: `record_canonical` on the writer's
side, from the public fields of the SDK record (typed as the OTLP JSON encoder types
them: bool before int, a sequence as an array, a mapping as a key-value list), and
`canonical` on the verifier's side (audit_verify.py), from the record decoded out of the
lines of the files, the service's or the collector's, into the OTLP JSON message classes
(``opentelemetry.proto_json``); so both sides hash the same bytes whatever way the JSON
spelled the values (int64 as strings or numbers, ``2.0`` or ``2``, hex case).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from opentelemetry.proto_json.common.v1.common import AnyValue, KeyValue
from opentelemetry.proto_json.logs.v1.logs import LogRecord as JsonLogRecord
from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk.resources import Resource

from talaro.telemetry.catalogue import SECURITY, STREAM_ATTRIBUTE

SEQ = "talaro.audit.seq"
PREV = "talaro.audit.prev"
HASH = "talaro.audit.hash"
INSTANCE = "service.instance.id"
# The resource attributes the service sets itself; a collector may add others.
RESOURCE_KEYS = frozenset(
    {INSTANCE, "service.name", "service.version", "deployment.environment.name"}
)
OPENS, CLOSES = "sys_startup", "sys_shutdown"
VERSION = "talaro-audit-1"


def canonical(record: JsonLogRecord, resource: Iterable[KeyValue], scope: str) -> bytes:
    """The bytes a record's hash covers: compact JSON with typed values, sorted keys
    (from a record decoded out of the files)."""
    return _encode(
        [
            VERSION,
            _pairs(pair for pair in resource if pair.key in RESOURCE_KEYS),
            scope,
            int(record.time_unix_nano or 0),
            int(record.observed_time_unix_nano or 0),
            int(record.severity_number or 0),
            record.severity_text or "",
            record.event_name or "",
            (record.trace_id or b"").hex(),
            (record.span_id or b"").hex(),
            int(record.flags or 0),
            _value(record.body),
            _pairs(pair for pair in record.attributes if pair.key != HASH),
        ]
    )


def record_canonical(
    log_record: ReadWriteLogRecord, resource: list[list[Any]] | None = None
) -> bytes:
    """`canonical` of the record the exporters will write for `log_record`, from its
    public fields. `resource` is `resource_canonical` of its resource, when already known.
    Raises (TypeError mostly) when the body or the ids cannot be encoded, as the OTLP
    JSON encoder would; an attribute that cannot be is left out, as the encoder leaves
    it out."""
    record = log_record.log_record
    if resource is None:
        resource = resource_canonical(log_record.resource)
    severity = getattr(record.severity_number, "value", None)  # as the encoder reads it
    return _encode(
        [
            VERSION,
            resource,
            _scope(log_record),
            int(record.timestamp or 0),
            int(record.observed_timestamp or 0),
            int(severity or 0),
            record.severity_text or "",
            record.event_name or "",
            record.trace_id.to_bytes(16, "big").hex() if record.trace_id else "",
            record.span_id.to_bytes(8, "big").hex() if record.span_id else "",
            int(record.trace_flags),
            _python_value(record.body),
            _python_pairs(
                (key, value) for key, value in (record.attributes or {}).items() if key != HASH
            ),
        ]
    )


def resource_canonical(resource: Resource | None) -> list[list[Any]]:
    """The resource part of `record_canonical`: the attributes the service sets itself."""
    if resource is None:
        return []
    return _python_pairs(
        (key, value) for key, value in resource.attributes.items() if key in RESOURCE_KEYS
    )


def _encode(content: list[Any]) -> bytes:
    """Compact JSON, every non-ASCII character and DEL escaped: the bytes the chain hashes.
    orjson writes the same bytes for content without them (the common case, and 6 times
    faster); json.dumps writes the rest, so the hash never depends on which one ran."""
    try:
        data = orjson.dumps(content)
    except TypeError:  # what orjson refuses (a lone surrogate) json may still write
        data = b"\x80"
    if data.isascii() and b"\x7f" not in data:
        return data
    return json.dumps(content, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _pairs(pairs: Iterable[KeyValue]) -> list[list[Any]]:
    return sorted(([pair.key or "", _value(pair.value)] for pair in pairs), key=lambda p: p[0])


def _python_pairs(pairs: Iterable[tuple[Any, Any]]) -> list[list[Any]]:
    """Like `_pairs`, from Python keys and values. A value the encoder cannot write is
    left out with its key, as the encoder leaves it out of the record's attributes."""
    found = []
    for key, value in pairs:
        try:
            found.append([str(key), _python_value(value)])
        except Exception:  # the encoder's catch, as broad
            continue
    return sorted(found, key=lambda pair: pair[0])


def _value(value: AnyValue | None) -> Any:
    """An AnyValue as a one-key dict naming its type (so 1, 1.0, "1" and true differ).
    An empty value counts as the empty string: JSON encoders differ on writing either."""
    if value is None:
        return {"s": ""}
    if value.string_value is not None:
        return {"s": value.string_value}
    if value.bool_value is not None:
        return {"b": bool(value.bool_value)}
    if value.int_value is not None:
        return {"i": str(int(value.int_value))}
    if value.double_value is not None:
        number = float(value.double_value)
        return {"d": repr(number) if math.isfinite(number) else str(number)}
    if value.bytes_value is not None:
        return {"y": bytes(value.bytes_value).hex()}
    if value.array_value is not None:
        return {"a": [_value(item) for item in value.array_value.values]}
    if value.kvlist_value is not None:
        return {"k": _pairs(value.kvlist_value.values)}
    return {"s": ""}


def _python_value(value: Any) -> Any:
    """`_value` of the AnyValue the OTLP JSON encoder makes of a Python value (same order
    of checks: a bool is not an int, bytes are not a sequence)."""
    kind = type(value)
    if kind is str:  # most values: skip the isinstance chain
        return {"s": value}
    if kind is tuple:
        return {"a": [_python_value(item) for item in value]}
    if value is None:
        return {"s": ""}
    if isinstance(value, bool):
        return {"b": value}
    if isinstance(value, str):
        return {"s": value}
    if isinstance(value, int):
        return {"i": str(int(value))}
    if isinstance(value, float):
        number = float(value)
        return {"d": repr(number) if math.isfinite(number) else str(number)}
    if isinstance(value, bytes):
        return {"y": bytes(value).hex()}
    if isinstance(value, Sequence):
        return {"a": [_python_value(item) for item in value]}
    if isinstance(value, Mapping):
        return {"k": _python_pairs_strict(value)}
    raise TypeError(f"cannot encode a {type(value).__name__} as an OTLP value")


def _python_pairs_strict(mapping: Mapping[Any, Any]) -> list[list[Any]]:
    # Inside a value one bad item fails the whole value (the encoder has no try there).
    pairs = [[str(key), _python_value(value)] for key, value in mapping.items()]
    return sorted(pairs, key=lambda pair: pair[0])


def chain_hash(prev: str, content: bytes, key: bytes | None) -> str:
    """SHA-256 (or HMAC-SHA256 with `key`) of the previous hash, a newline and `content`."""
    message = prev.encode("ascii", "replace") + b"\n" + content
    if key:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def _scope(log_record: ReadWriteLogRecord) -> str:
    scope = log_record.instrumentation_scope
    return scope.name if scope is not None else ""


def audit_key(config_value: str | bytes | None) -> bytes | None:
    if not config_value:
        return None
    return config_value if isinstance(config_value, bytes) else config_value.encode("utf-8")


class AuditChain(LogRecordProcessor):
    """Chains the security records of this process, then hands every record to `downstream`
    (the OTLP processor, the files' stream router, or both). A wrapper, not a sibling:
    numbering and queueing happen under one lock, so the queues see sequence order."""

    def __init__(
        self,
        downstream: Sequence[LogRecordProcessor],
        key: bytes | None = None,
        checkpointer: Any = None,
    ) -> None:
        self.downstream = list(downstream)
        self._key = key
        self.checkpointer = checkpointer  # checkpoints.Checkpointer, or None without a store
        self._lock = threading.Lock()
        self._seq = 0
        self._prev = ""
        self._resource_content: tuple[Resource, list[list[Any]]] | None = None

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        attributes = log_record.log_record.attributes
        if attributes is None or attributes.get(STREAM_ATTRIBUTE) != SECURITY:
            self._hand_on(log_record)
            return
        with self._lock:
            attributes[SEQ] = self._seq
            attributes[PREV] = self._prev
            try:
                content = record_canonical(log_record, self._resource(log_record))
            except Exception:  # never fail the request: write it unchained
                del attributes[SEQ], attributes[PREV]
            else:
                self._prev = attributes[HASH] = chain_hash(self._prev, content, self._key)
                self._seq += 1
            self._hand_on(log_record)
            if self.checkpointer is not None and HASH in attributes:
                self._checkpoint(log_record)

    def _checkpoint(self, log_record: ReadWriteLogRecord) -> None:
        # After the hand-on: the security file holds the record before its checkpoint exists.
        resource = log_record.resource.attributes if log_record.resource is not None else {}
        self.checkpointer.on_record(
            str(resource.get(INSTANCE, "")),
            self._seq - 1,
            self._prev,
            log_record.log_record.timestamp or 0,
            log_record.log_record.event_name or "",
        )

    def _resource(self, log_record: ReadWriteLogRecord) -> list[list[Any]]:
        resource = log_record.resource
        if resource is None:
            return []
        if self._resource_content is None or self._resource_content[0] is not resource:
            self._resource_content = (resource, resource_canonical(resource))
        return self._resource_content[1]

    def _hand_on(self, log_record: ReadWriteLogRecord) -> None:
        for processor in self.downstream:
            processor.on_emit(log_record)

    def shutdown(self) -> None:
        for processor in self.downstream:
            processor.shutdown()
        if self.checkpointer is not None:
            self.checkpointer.shutdown(5.0)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        flushed = all([p.force_flush(timeout_millis) for p in self.downstream])
        if self.checkpointer is not None:
            flushed = self.checkpointer.flush(timeout_millis / 1000) and flushed
        return flushed

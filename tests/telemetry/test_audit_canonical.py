"""The chain's two sides hash the same bytes: the writer canonicalises the SDK record from
its public fields, the verifier the record decoded out of the file exporter's lines."""

from __future__ import annotations

import hashlib
import io
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.json.file._log_exporter import FileLogExporter
from opentelemetry.proto_json.collector.logs.v1.logs_service import ExportLogsServiceRequest
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, set_span_in_context

from talaro.telemetry.audit import VERSION, _encode, canonical, record_canonical
from tests.telemetry.recording import KeepRecords

RESOURCE = {
    "service.name": "talaro",
    "service.version": "1.2.3",
    "deployment.environment.name": "test",
    "service.instance.id": "0f0e0d0c-0b0a-4908-8706-050403020100",
    "host.name": "not hashed",
}
NESTED = {"s": "x", "i": 7, "f": 2.0, "b": False, "l": [1, 2], "m": {"deeper": [True, "y"]}}
EVERY_TYPE: dict[str, Any] = {
    "str": 'héllo \u2028 \x00 "quoted"',
    "empty str": "",
    "true": True,
    "false": False,
    "int": 42,
    "zero": 0,
    "negative": -5,
    "int64 max": 2**63 - 1,
    "float": 0.1,
    "float two": 2.0,
    "float zero": 0.0,
    "negative zero": -0.0,
    "nan": math.nan,
    "infinity": math.inf,
    "minus infinity": -math.inf,
    "bytes": b"\x00\xff binary",
    "empty bytes": b"",
    "list of str": ["a", "", "c"],
    "list of int": [1, -2, 2**40],
    "list of float": [1.5, 2.0],
    "list of bool": [True, False],
    "empty list": [],
    "nested": NESTED,
    "empty mapping": {},
    "list of mappings": [{"a": 1}, {"b": [b"\x01"]}],
    "talaro.audit.seq": 3,
    "talaro.audit.prev": "ab" * 32,
}
BODIES: list[Any] = ["a body", None, 12, 2.0, True, b"\x01\x02", ["x", 1], {"k": {"v": [1.0]}}]


class Capture(LogRecordProcessor):
    """The writer's side: the canonical bytes of each record, computed at emit time."""

    def __init__(self) -> None:
        self.contents: list[bytes] = []

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        self.contents.append(record_canonical(log_record))

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def write(
    records: list[dict[str, Any]], first: LogRecordProcessor | None = None
) -> tuple[list[bytes], str]:
    """Emit `records` through the real file exporter; the writer's bytes and the lines."""
    capture, stream = Capture(), io.StringIO()
    provider = LoggerProvider(resource=Resource.create(RESOURCE), shutdown_on_exit=False)
    if first is not None:
        provider.add_log_record_processor(first)
    provider.add_log_record_processor(capture)
    provider.add_log_record_processor(SimpleLogRecordProcessor(FileLogExporter(stream=stream)))
    logger = provider.get_logger("talaro")
    for record in records:
        logger.emit(**record)
    provider.shutdown()
    return capture.contents, stream.getvalue()


def read(lines: str) -> list[bytes]:
    """The verifier's side: each line decoded with proto_json, each record canonicalised."""
    contents = []
    for line in lines.splitlines():
        request = ExportLogsServiceRequest.from_json(line)
        for resource_logs in request.resource_logs:
            resource = resource_logs.resource.attributes if resource_logs.resource else []
            for scope_logs in resource_logs.scope_logs:
                scope = (scope_logs.scope.name if scope_logs.scope else None) or ""
                for record in scope_logs.log_records:
                    contents.append(canonical(record, resource, scope))
    return contents


def in_span(trace_id: int, span_id: int, sampled: bool = True) -> Any:
    flags = TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT)
    return set_span_in_context(NonRecordingSpan(SpanContext(trace_id, span_id, False, flags)))


def records() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [
        {  # everything set
            "timestamp": 1_780_000_000_123_456_789,
            "observed_timestamp": 1_780_000_000_123_456_999,
            "context": in_span(0x0AF7651916CD43DD8448EB211C80319C, 0x00F067AA0BA902B7),
            "severity_number": SeverityNumber.WARN,
            "severity_text": "WARN",
            "body": "every type",
            "attributes": EVERY_TYPE,
            "event_name": "authz_fail",
        },
        {"observed_timestamp": 1, "attributes": {"only": "this"}},  # nothing else set
        {  # an unsampled span; a severity without text
            "timestamp": 5,
            "observed_timestamp": 6,
            "context": in_span(1, 2, sampled=False),
            "severity_number": SeverityNumber.FATAL4,
        },
    ]
    found.extend(
        {"timestamp": 10 + index, "observed_timestamp": 10, "body": body, "attributes": NESTED}
        for index, body in enumerate(BODIES)
    )
    return found


def test_writer_and_verifier_canonicalise_every_value_type_alike() -> None:
    written, lines = write(records())
    assert len(written) == 3 + len(BODIES)
    assert read(lines) == written
    first = json.loads(written[0])
    assert first[0] == VERSION
    # Only the service's own resource attributes, and every attribute of every type.
    assert [key for key, _ in first[1]] == sorted(set(RESOURCE) - {"host.name"})
    assert len(first[-1]) == len(EVERY_TYPE)


def test_verifier_reads_any_spelling_of_the_same_record() -> None:
    """A collector may spell int64 as numbers and hex in capitals: same bytes."""
    written, lines = write(records()[:1])
    payload = json.loads(lines)
    record = payload["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    record["timeUnixNano"] = int(record["timeUnixNano"])
    record["traceId"] = record["traceId"].upper()
    for pair in record["attributes"]:
        if "intValue" in pair["value"]:
            pair["value"]["intValue"] = int(pair["value"]["intValue"])
    assert read(json.dumps(payload)) == written


class Spoil(LogRecordProcessor):
    """Sets an attribute past the SDK's own checks, as a processor before ours could."""

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        attributes = log_record.log_record.attributes
        log_record.log_record.attributes = {**(attributes or {}), "bad": [1, object()]}

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def test_an_attribute_the_encoder_cannot_write_is_left_out_on_both_sides() -> None:
    record = {"observed_timestamp": 1, "body": "b", "attributes": {"ok": 1}}
    clean, _ = write([record])
    spoiled, lines = write([record], first=Spoil())
    assert "bad" not in lines
    assert read(lines) == spoiled == clean


# The bytes of the records above, as the chain hashed them before (computed with the
# encoder-based writer this replaced) and hashes them now: a change here breaks the
# verification of every trail written before.
GOLDEN_SHA256 = "b380e5a785bdabc450bdf70f05cb03e39b92baafaddd886f2ef6329f1a5e6521"


def test_canonical_bytes_are_those_of_talaro_audit_1() -> None:
    written, _ = write(records())
    digest = hashlib.sha256(b"\n".join(written)).hexdigest()
    assert digest == GOLDEN_SHA256


@pytest.mark.parametrize("body", [object(), {1, 2}])
def test_a_body_the_encoder_cannot_write_raises(body: Any) -> None:
    provider = LoggerProvider(resource=Resource.create(RESOURCE), shutdown_on_exit=False)
    keep = KeepRecords()
    seen = keep.records

    provider.add_log_record_processor(keep)
    provider.get_logger("talaro").emit(observed_timestamp=1, body=body)
    provider.shutdown()
    with pytest.raises(TypeError):
        record_canonical(seen[0])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec=None)), max_size=4))
def test_the_fast_encoding_writes_the_bytes_json_writes(texts: list[str]) -> None:
    """orjson writes what it can; any text (control characters, DEL, non-ASCII, lone
    surrogates) gives the bytes `json.dumps(ensure_ascii=True)` gives."""
    content = [VERSION, [["k", {"s": text}] for text in texts], {"a": [{"s": t} for t in texts]}]
    expected = json.dumps(content, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    assert _encode(content) == expected

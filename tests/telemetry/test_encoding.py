"""encoding.py writes what the first-party OTLP JSON file exporters write: every line
parses with OpenTelemetry's OTLP JSON message classes and decodes to the same message."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

import orjson
import pytest
from opentelemetry.exporter.otlp.json.common._internal import _encode_attributes
from opentelemetry.exporter.otlp.json.file._log_exporter import FileLogExporter
from opentelemetry.exporter.otlp.json.file.trace_exporter import FileSpanExporter
from opentelemetry.proto_json.collector.logs.v1.logs_service import ExportLogsServiceRequest
from opentelemetry.proto_json.collector.trace.v1.trace_service import ExportTraceServiceRequest
from opentelemetry.sdk._logs import LoggerProvider, ReadWriteLogRecord
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
    set_span_in_context,
)

from talaro.telemetry import encoding
from talaro.telemetry.files import SharedJsonLinesFile
from tests.telemetry.recording import KeepRecords

ODD_VALUES: dict[str, Any] = {
    "text": "plain",
    "empty": "",
    "unicode": "Zoë 日本 \U0001f600",
    "line breaks": "a\nb\r\nc\u2028d\u2029e\x85f\x0bg",
    "json": '{"forged": "record"}\n{"x": 1}',
    "int": 42,
    "negative": -7,
    "int64": 2**63 - 1,
    "float": 0.000123,
    "whole float": 2.0,
    "nan": float("nan"),
    "infinity": float("inf"),
    "minus infinity": float("-inf"),
    "bool": True,
    "false": False,
    "bytes": b"\x00\xffbinary",
    "strings": ["a", "b", "Zoë"],
    "ints": [1, 2, 3],
    "floats": [1.5, 2.5],
    "bools": [True, False],
    "no items": [],
}


class KeepSpans(SpanProcessor):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.spans.append(span)


RESOURCE = Resource.create({"service.name": "talaro", "service.instance.id": "test"})


def log_records() -> list[ReadWriteLogRecord]:
    provider = LoggerProvider(resource=RESOURCE, shutdown_on_exit=False)
    keep = KeepRecords()
    provider.add_log_record_processor(keep)
    logger = provider.get_logger("talaro", "1.0", schema_url="https://example.com/s")
    other = provider.get_logger("other")
    tracer = TracerProvider(resource=RESOURCE, shutdown_on_exit=False).get_tracer("t")
    with tracer.start_as_current_span("request"):
        logger.emit(
            event_name="resume_upload",
            severity_text="INFO",
            body="resume upload",
            attributes=ODD_VALUES,
        )
    other.emit(body={"nested": {"list": [1, "two", None, 3.5], "map": {"k": b"v"}}})
    other.emit(body=None, attributes={"only": "one"})
    other.emit(body=["a", 1, True], event_name="x", severity_text="WARN")
    logger.emit(body=7, attributes={"talaro.audit.seq": 0, "user.roles": ("ADMIN",)})
    return keep.records


def spans() -> list[ReadableSpan]:
    provider = TracerProvider(resource=RESOURCE, shutdown_on_exit=False)
    keep = KeepSpans()
    provider.add_span_processor(keep)
    tracer = provider.get_tracer("flask", "0.66b1")
    db = provider.get_tracer("sqlalchemy")
    remote = SpanContext(
        0x0AF7651916CD43DD8448EB211C80319C,
        0xB7AD6B7169203331,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState([("vendor", "value"), ("other", "x")]),
    )
    linked = SpanContext(0x1, 0x2, is_remote=False)
    parent = set_span_in_context(NonRecordingSpan(remote))
    with tracer.start_as_current_span(
        "GET /api/resumes/<id>",
        context=parent,
        kind=SpanKind.SERVER,
        attributes=ODD_VALUES,
        links=[Link(linked, {"why": "retry"}), Link(remote)],
    ) as server:
        server.add_event("exception", {"exception.type": "ValueError", "n": 1})
        server.add_event("bare")
        with db.start_as_current_span("SELECT", kind=SpanKind.CLIENT) as child:
            child.set_attribute("db.statement", "SELECT 1")
        server.set_status(Status(StatusCode.ERROR, "it failed"))
    with tracer.start_as_current_span("ok") as ok:
        ok.set_status(Status(StatusCode.OK))
    for kind in (SpanKind.PRODUCER, SpanKind.CONSUMER, SpanKind.INTERNAL):
        with tracer.start_as_current_span(kind.name, kind=kind):
            pass
    return keep.spans


def first_party_line(exporter_class: Any, items: Sequence[Any]) -> str:
    stream = io.StringIO()
    exporter_class(stream=stream).export(items)
    return stream.getvalue()


def ours(exporter_class: Any, items: Sequence[Any]) -> str:
    stream = io.StringIO()
    exporter_class(stream=stream).export(items)
    return stream.getvalue()


@pytest.mark.parametrize(
    ("make", "theirs", "mine", "message"),
    [
        (log_records, FileLogExporter, encoding.JsonLinesLogExporter, ExportLogsServiceRequest),
        (spans, FileSpanExporter, encoding.JsonLinesSpanExporter, ExportTraceServiceRequest),
    ],
    ids=["logs", "spans"],
)
def test_every_line_decodes_to_the_first_party_encoders_message(
    make: Any, theirs: Any, mine: Any, message: Any
) -> None:
    items = make()
    expected, written = first_party_line(theirs, items), ours(mine, items)
    assert written.endswith("\n") and written.count("\n") == 1
    assert len(written.splitlines()) == 1  # no character any reader takes for a line break
    # The same JSON document (int64 as strings, hex ids, the same fields left out) ...
    assert json.loads(written) == json.loads(expected)
    # ... and the same message for OpenTelemetry's own OTLP JSON classes.
    decoded = message.from_dict(json.loads(written))
    assert decoded == message.from_dict(json.loads(expected))
    assert decoded.to_dict() == json.loads(expected)


@pytest.mark.parametrize("kept", [1, 3, encoding.PAIRS_KEPT])
def test_pairs_reused_from_the_cache_write_the_same_lines(
    kept: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Encoded twice (the second time from the kept pairs), with a cache that empties
    itself many times over or never: every line is the first-party encoder's."""
    monkeypatch.setattr(encoding, "PAIRS_KEPT", kept)
    monkeypatch.setattr(encoding, "_PAIRS", {})
    for make, theirs, mine in [
        (log_records, FileLogExporter, encoding.JsonLinesLogExporter),
        (spans, FileSpanExporter, encoding.JsonLinesSpanExporter),
    ]:
        items = make()
        expected = json.loads(first_party_line(theirs, items))
        assert json.loads(ours(mine, items)) == expected
        assert json.loads(ours(mine, items)) == expected
        assert len(encoding._PAIRS) <= kept


def test_batches_are_split_by_resource_and_scope_as_the_first_party_encoder_splits_them() -> None:
    records = log_records()
    payload = json.loads(ours(encoding.JsonLinesLogExporter, records))
    scopes = [scope["scope"].get("name") for scope in payload["resourceLogs"][0]["scopeLogs"]]
    assert scopes == ["talaro", "other"]


def test_a_value_the_fast_path_cannot_encode_is_written_as_the_first_party_exporter_writes_it() -> (
    None
):
    records = log_records()
    records[0].log_record.attributes["lone surrogate"] = "bad \ud800 text"  # orjson refuses it
    written = ours(encoding.JsonLinesLogExporter, records)
    assert written == first_party_line(FileLogExporter, records)


def test_an_attribute_of_an_unknown_type_is_left_out_as_the_first_party_encoder_leaves_it_out() -> (
    None
):
    # The SDK turns such values into strings first; a plain mapping can still hold one.
    values = {"object": object(), "text": "kept", "set": {1, 2}, "list": [object()], **ODD_VALUES}
    theirs = [pair.to_dict() for pair in _encode_attributes(values)]
    mine = orjson.loads(orjson.dumps(encoding.attributes(values)))  # pairs may be Fragments
    assert mine == json.loads(json.dumps(theirs))
    assert [pair["key"] for pair in mine] == [
        key for key in values if key not in {"object", "set", "list"}
    ]


def test_an_empty_batch_writes_nothing(tmp_path: Any) -> None:
    file = SharedJsonLinesFile(tmp_path / "application.jsonl")
    exporter = encoding.JsonLinesLogExporter(stream=file)
    assert exporter.export([]).name == "SUCCESS"
    assert (
        not (tmp_path / "application.jsonl").exists()
        or not (tmp_path / "application.jsonl").read_bytes()
    )


def test_a_write_that_fails_is_a_failed_export(tmp_path: Any) -> None:
    file = SharedJsonLinesFile(tmp_path / "traces.jsonl")
    file.close()
    assert encoding.JsonLinesSpanExporter(stream=file).export(spans()).name == "FAILURE"

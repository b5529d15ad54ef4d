"""In-process OTLP receivers for tests: real OTLP/HTTP and OTLP/gRPC endpoints.

They stand in for the OpenTelemetry Collector, which cannot run here: the app's
real OTLP exporters send to them over the network exactly as they would to a
collector's ``otlp`` receiver (ports 4318 and 4317), and the tests read back what
was decoded. Decoding uses the generated protobuf classes of ``opentelemetry-proto``
(``Export*ServiceRequest``), so a payload a collector would reject fails here too.

Usage::

    with OtlpHttpReceiver() as receiver:          # or the `otlp_receiver` fixture
        app = make_app(... OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url ...)
        ...
        receiver.wait_for(lambda r: r.log_records())
        receiver.log_records(), receiver.spans(), receiver.metric_names()

Records are flattened into the dataclasses of ``otlp_json`` so assertions read the
same whether the records came from the files or from the wire.
"""

from __future__ import annotations

import gzip
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
import pytest
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from tests.telemetry.otlp_json import LogRecord, Span

# signal -> (request class, response class), as the OTLP/HTTP paths name them.
MESSAGES: dict[str, tuple[type[Message], type[Message]]] = {
    "traces": (
        trace_service_pb2.ExportTraceServiceRequest,
        trace_service_pb2.ExportTraceServiceResponse,
    ),
    "logs": (
        logs_service_pb2.ExportLogsServiceRequest,
        logs_service_pb2.ExportLogsServiceResponse,
    ),
    "metrics": (
        metrics_service_pb2.ExportMetricsServiceRequest,
        metrics_service_pb2.ExportMetricsServiceResponse,
    ),
}
PROTOBUF = "application/x-protobuf"


def any_value(value: AnyValue) -> Any:
    """Decode an OTLP protobuf AnyValue into a plain Python value."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    return getattr(value, kind)


def attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: any_value(pair.value) for pair in pairs}


def _hex(raw: bytes) -> str:
    return raw.hex() if raw else ""


class _Store:
    """Decoded export requests by signal, with helpers that flatten them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[str, list[Message]] = {signal: [] for signal in MESSAGES}
        self._resume = threading.Event()
        self._resume.set()
        self._held: Counter[str] = Counter()

    def _store(self, signal: str, message: Message) -> None:
        with self._lock:
            self._requests[signal].append(message)

    def _wait_if_stalled(self, signal: str) -> None:
        if self._resume.is_set():
            return
        with self._lock:
            self._held[signal] += 1
        try:
            self._resume.wait(30)
        finally:
            with self._lock:
                self._held[signal] -= 1

    def held(self, signal: str) -> int:
        """How many export calls of `signal` are being held open by `stall()` right now."""
        with self._lock:
            return self._held[signal]

    def stall(self) -> None:
        """Hold every export call open (until `resume()`), like a collector that hangs."""
        self._resume.clear()

    def resume(self) -> None:
        self._resume.set()

    def requests(self, signal: str) -> list[Message]:
        with self._lock:
            return list(self._requests[signal])

    def clear(self) -> None:
        with self._lock:
            for found in self._requests.values():
                found.clear()

    def log_records(self) -> list[LogRecord]:
        found = []
        for request in self.requests("logs"):
            for resource_logs in request.resource_logs:
                resource = attributes(resource_logs.resource.attributes)
                for scope_logs in resource_logs.scope_logs:
                    for record in scope_logs.log_records:
                        found.append(
                            LogRecord(
                                event_name=record.event_name,
                                severity_number=record.severity_number,
                                severity_text=record.severity_text,
                                body=any_value(record.body),
                                attributes=attributes(record.attributes),
                                resource=resource,
                                trace_id=_hex(record.trace_id),
                                span_id=_hex(record.span_id),
                                time_unix_nano=record.time_unix_nano,
                            )
                        )
        return found

    def spans(self) -> list[Span]:
        found = []
        for request in self.requests("traces"):
            for resource_spans in request.resource_spans:
                resource = attributes(resource_spans.resource.attributes)
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        found.append(
                            Span(
                                name=span.name,
                                trace_id=_hex(span.trace_id),
                                span_id=_hex(span.span_id),
                                parent_span_id=_hex(span.parent_span_id),
                                kind=span.kind,
                                attributes=attributes(span.attributes),
                                resource=resource,
                            )
                        )
        return found

    def metric_names(self) -> set[str]:
        names = set()
        for request in self.requests("metrics"):
            for resource_metrics in request.resource_metrics:
                for scope_metrics in resource_metrics.scope_metrics:
                    names.update(metric.name for metric in scope_metrics.metrics)
        return names

    def metric_points(self, name: str) -> list[tuple[dict[str, Any], float]]:
        """(attributes, value) of every data point of metric `name`, in arrival order; the
        value of a histogram point is its count."""
        points = []
        for request in self.requests("metrics"):
            for resource_metrics in request.resource_metrics:
                for scope_metrics in resource_metrics.scope_metrics:
                    for metric in scope_metrics.metrics:
                        if metric.name != name:
                            continue
                        data = getattr(metric, metric.WhichOneof("data"))
                        for point in data.data_points:
                            if hasattr(point, "as_int"):
                                value = getattr(point, point.WhichOneof("value") or "as_int")
                            else:
                                value = point.count
                            points.append((attributes(point.attributes), value))
        return points

    def metric_resources(self) -> list[dict[str, Any]]:
        return [
            attributes(resource_metrics.resource.attributes)
            for request in self.requests("metrics")
            for resource_metrics in request.resource_metrics
        ]

    def wait_for(self, predicate: Callable[[Any], Any], timeout: float = 10.0) -> Any:
        """Poll until `predicate(self)` is truthy and return its value; fail at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate(self)
            if result:
                return result
            if time.monotonic() > deadline:
                pytest.fail(f"OTLP receiver: condition not met within {timeout} s")
            time.sleep(0.02)


class OtlpHttpReceiver(_Store):
    """An OTLP/HTTP endpoint (protobuf encoding) standing in for the collector's
    ``otlp`` receiver on port 4318: POST /v1/traces, /v1/logs, /v1/metrics with
    ``Content-Type: application/x-protobuf``, optionally gzip- or deflate-encoded,
    answered 200 with an empty Export*ServiceResponse. Anything else gets the status
    a collector would answer (404, 415, 400), and is remembered in `rejected`."""

    def __init__(self) -> None:
        super().__init__()
        self.rejected: list[tuple[str, int]] = []
        self.content_encodings: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="otlp-http-receiver",
            daemon=True,
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The base endpoint, as OTEL_EXPORTER_OTLP_ENDPOINT takes it."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> OtlpHttpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.resume()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> OtlpHttpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the exporters' sessions expect

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                signal = self.path.removeprefix("/v1/")
                if signal not in MESSAGES:
                    return self._reject(404)
                if self.headers.get_content_type() != PROTOBUF:
                    return self._reject(415)
                encoding = (self.headers.get("Content-Encoding") or "").strip().lower()
                receiver.content_encodings.append(encoding)
                try:
                    if encoding == "gzip":
                        body = gzip.decompress(body)
                    elif encoding == "deflate":
                        body = zlib.decompress(body)
                    elif encoding not in ("", "identity"):
                        return self._reject(415)
                    request_class, response_class = MESSAGES[signal]
                    message = request_class.FromString(body)
                except (OSError, zlib.error, DecodeError):
                    return self._reject(400)
                receiver._wait_if_stalled(signal)
                receiver._store(signal, message)
                self._answer(200, response_class().SerializeToString())

            def _reject(self, status: int) -> None:
                receiver.rejected.append((self.path, status))
                self._answer(status, b"")

            def _answer(self, status: int, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", PROTOBUF)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output quiet

        return Handler


class OtlpGrpcReceiver(_Store):
    """An OTLP/gRPC endpoint standing in for the collector's ``otlp`` receiver on port
    4317: the TraceService, LogsService and MetricsService ``Export`` methods of
    ``opentelemetry-proto``, on an insecure channel at 127.0.0.1."""

    def __init__(self) -> None:
        super().__init__()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        store = self

        class Traces(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(self, request: Message, context: Any) -> Message:  # noqa: N802
                return store._receive("traces", request)

        class Logs(logs_service_pb2_grpc.LogsServiceServicer):
            def Export(self, request: Message, context: Any) -> Message:  # noqa: N802
                return store._receive("logs", request)

        class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
            def Export(self, request: Message, context: Any) -> Message:  # noqa: N802
                return store._receive("metrics", request)

        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), self._server)
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(Logs(), self._server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")

    def _receive(self, signal: str, request: Message) -> Message:
        self._wait_if_stalled(signal)
        self._store(signal, request)
        return MESSAGES[signal][1]()

    @property
    def url(self) -> str:
        """The endpoint, as OTEL_EXPORTER_OTLP_ENDPOINT takes it for grpc."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> OtlpGrpcReceiver:
        self._server.start()
        return self

    def stop(self) -> None:
        self.resume()
        self._server.stop(grace=None).wait(5)

    def __enter__(self) -> OtlpGrpcReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture(name="otlp_receiver")
def otlp_receiver_fixture() -> Iterator[OtlpHttpReceiver]:
    """Import this into a test module (or a conftest) to get the `otlp_receiver` fixture."""
    with OtlpHttpReceiver() as receiver:
        yield receiver


@pytest.fixture(name="otlp_grpc_receiver")
def otlp_grpc_receiver_fixture() -> Iterator[OtlpGrpcReceiver]:
    with OtlpGrpcReceiver() as receiver:
        yield receiver


__all__ = [
    "OtlpGrpcReceiver",
    "OtlpHttpReceiver",
    "any_value",
    "attributes",
    "otlp_grpc_receiver_fixture",
    "otlp_receiver_fixture",
]

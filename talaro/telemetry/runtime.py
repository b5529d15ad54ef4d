"""Providers, processors and exporters for one application process.

Embedded mode (no OTLP endpoint): OTLP JSON Lines files in the telemetry folder,
log records split by stream. Collector mode: OTLP over http/protobuf or grpc,
optionally with the files kept too. All export happens on background threads
behind bounded queues; what cannot be queued or exported is counted.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context

# The logs signal's exporters live in `_log_exporter` modules: that is their documented
# import path (the package's own usage docs name it), as the SDK's is `sdk._logs`. The
# one place such a path is imported at module level; the OTLP ones are in _otlp_exporters.
from opentelemetry.exporter.otlp.json.file import FileMetricExporter, FileSpanExporter
from opentelemetry.exporter.otlp.json.file._log_exporter import FileLogExporter
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter
from opentelemetry.sdk.environment_variables import (
    OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION,
    OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE,
)
from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    MeterProvider,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.metrics.view import (
    Aggregation,
    ExplicitBucketHistogramAggregation,
    ExponentialBucketHistogramAggregation,
)
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from talaro.telemetry.audit import AuditChain, audit_key
from talaro.telemetry.catalogue import APPLICATION, SECURITY, STREAM_ATTRIBUTE
from talaro.telemetry.files import SharedJsonLinesFile
from talaro.telemetry.health import (
    CountingLogExporter,
    CountingMetricExporter,
    CountingSpanExporter,
    QueueSlots,
    TelemetryHealth,
)

FILE_NAMES = {
    SECURITY: "security.jsonl",
    APPLICATION: "application.jsonl",
    "traces": "traces.jsonl",
    "metrics": "metrics.jsonl",
}
SCOPE = "talaro"
EXTENSION = "talaro.telemetry"  # the app.extensions key of the Runtime


def _service_version() -> str:
    try:
        return version("talaro")
    except PackageNotFoundError:
        return "0+unknown"


def build_resource(environment: str) -> Resource:
    """`service.*` and `deployment.environment.name`; OTEL_SERVICE_NAME and
    OTEL_RESOURCE_ATTRIBUTES override the defaults, never the per-process instance id."""
    from_env = OTELResourceDetector().detect().attributes
    return Resource.create(
        {
            "service.name": "talaro",
            "service.version": _service_version(),
            "deployment.environment.name": environment,
            **from_env,
            "service.instance.id": str(uuid.uuid4()),
        }
    )


# The SDK's batch processors drop the oldest record when their queue is full, and count
# it only in self-metrics that are opt-in for the whole process (and not exact when two
# threads emit at once). So each of ours holds as many `QueueSlots` as the queue has
# room: a record takes a slot here, before the queue, and gives it back when the batch
# that carries it reaches the exporter (health.py). The queue never holds more records
# than slots are taken, so it never overflows; a record that finds every slot taken is
# not queued, and counted as dropped.


class CountingBatchSpanProcessor(BatchSpanProcessor):
    def __init__(
        self, exporter: SpanExporter, health: TelemetryHealth, *, max_queue_size: int, **kw: Any
    ) -> None:
        self.slots = QueueSlots(max_queue_size)
        exporter = CountingSpanExporter(exporter, health, self.slots)
        super().__init__(exporter, max_queue_size=max_queue_size, **kw)
        self.health = health
        self.stopped = False

    def on_end(self, span: ReadableSpan) -> None:
        sampled = span.context is not None and span.context.trace_flags.sampled
        if sampled and not self.stopped and not self.slots.take():
            self.health.record_drop("traces")
            return
        super().on_end(span)

    def shutdown(self) -> None:
        self.stopped = True  # the SDK ignores records from now on: take no slot for them
        super().shutdown()


class CountingBatchLogProcessor(BatchLogRecordProcessor):
    def __init__(
        self,
        exporter: LogRecordExporter,
        health: TelemetryHealth,
        signal: str,
        *,
        max_queue_size: int,
        **kw: Any,
    ) -> None:
        self.slots = QueueSlots(max_queue_size)
        exporter = CountingLogExporter(exporter, health, signal, self.slots)
        super().__init__(exporter, max_queue_size=max_queue_size, **kw)
        self.health, self.signal = health, signal
        self.stopped = False

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        if not self.stopped and not self.slots.take():
            self.health.record_drop(self.signal)
            return
        try:
            super().on_emit(log_record)
        except BaseException:
            self.slots.release(1)  # never queued
            raise

    def shutdown(self) -> None:
        self.stopped = True
        super().shutdown()


class StreamRouter(LogRecordProcessor):
    """Sends each record to its stream's processor, decided from `talaro.stream` at emit
    time (the batch processor drops the context before export)."""

    def __init__(self, routes: Mapping[str, LogRecordProcessor]) -> None:
        self.routes = dict(routes)

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        attributes = log_record.log_record.attributes or {}
        stream = attributes.get(STREAM_ATTRIBUTE, APPLICATION)
        self.routes.get(stream, self.routes[APPLICATION]).on_emit(log_record)

    def shutdown(self) -> None:
        for processor in self.routes.values():
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all(p.force_flush(timeout_millis) for p in self.routes.values())


@dataclass
class Providers:
    tracer_provider: TracerProvider
    logger_provider: LoggerProvider
    meter_provider: MeterProvider
    health: TelemetryHealth
    files: list[SharedJsonLinesFile] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    def force_flush(self, timeout_millis: int = 5000) -> None:
        self.tracer_provider.force_flush(timeout_millis)
        self.logger_provider.force_flush(timeout_millis)
        self.meter_provider.force_flush(timeout_millis)

    def shutdown(self, timeout_s: float) -> bool:
        """Flush and stop every provider, giving up after `timeout_s` (a dead collector
        must not hang a stop); True when everything finished in time."""

        def stop() -> None:
            self.tracer_provider.shutdown()
            self.logger_provider.shutdown()
            self.meter_provider.shutdown(timeout_millis=timeout_s * 1000)
            for stream in self.files:
                stream.close()

        worker = threading.Thread(target=stop, name="talaro-telemetry-shutdown", daemon=True)
        worker.start()
        worker.join(timeout_s)
        return not worker.is_alive()


def _otlp_endpoint(config: Mapping[str, Any], signal: str, grpc: bool) -> str | None:
    specific = os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
    if specific:
        return specific
    base = config.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if not base:
        return None
    return base if grpc else base.rstrip("/") + f"/v1/{signal}"


_TEMPORALITY = {  # OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, as the exporters read it
    "DELTA": (Counter, Histogram, ObservableCounter),
    "LOWMEMORY": (Counter, Histogram),
    "CUMULATIVE": (),
}


def metric_preferences() -> tuple[dict[type, AggregationTemporality], dict[type, Aggregation]]:
    """Temporality and aggregation per instrument class, from the OTLP environment
    variables, complete: given to the metric exporters (the file's and OTLP's) and to
    the `CountingMetricExporter` in front of them, so that all agree."""
    preference = os.environ.get(OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, "")
    delta = _TEMPORALITY.get(preference.strip().upper(), ())
    temporality = {
        cls: AggregationTemporality.DELTA if cls in delta else AggregationTemporality.CUMULATIVE
        for cls in (
            Counter,
            UpDownCounter,
            Histogram,
            ObservableCounter,
            ObservableUpDownCounter,
            ObservableGauge,
        )
    }
    histogram = os.environ.get(OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION, "")
    exponential = histogram == "base2_exponential_bucket_histogram"
    aggregation: dict[type, Aggregation] = {
        Histogram: ExponentialBucketHistogramAggregation()
        if exponential
        else ExplicitBucketHistogramAggregation()
    }
    return temporality, aggregation


def _otlp_exporters(config: Mapping[str, Any]) -> dict[str, Any]:
    grpc = config.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf") == "grpc"
    if grpc:
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    classes = {"traces": OTLPSpanExporter, "logs": OTLPLogExporter, "metrics": OTLPMetricExporter}
    temporality, aggregation = metric_preferences()
    exporters = {}
    for signal, cls in classes.items():
        endpoint = _otlp_endpoint(config, signal, grpc)
        if endpoint:
            kwargs: dict[str, Any] = {"endpoint": endpoint}
            if grpc and endpoint.startswith("http://"):
                kwargs["insecure"] = True
            if signal == "metrics":
                kwargs["preferred_temporality"] = temporality
                kwargs["preferred_aggregation"] = aggregation
            exporters[signal] = cls(**kwargs)
    return exporters


def build_providers(config: Mapping[str, Any]) -> Providers:
    """Build the three providers from the app's telemetry settings (see settings.py)."""
    resource = build_resource(config["TALARO_ENVIRONMENT"])
    health = TelemetryHealth()
    size = config["TALARO_TELEMETRY_QUEUE_SIZE"]
    # The SDK rejects a batch larger than the queue, and its default batch is 512.
    batch = int(os.environ.get("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE") or 512)
    queue = {"max_queue_size": size, "max_export_batch_size": min(size, batch)}
    temporality, aggregation = metric_preferences()
    span_processors: list[Any] = []
    log_processors: list[LogRecordProcessor] = []
    metric_exporters: list[MetricExporter] = []
    files: list[SharedJsonLinesFile] = []
    outputs: list[str] = []

    otlp = _otlp_exporters(config)
    if otlp:
        outputs.append("otlp:" + config.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"))
        if "traces" in otlp:
            span_processors.append(CountingBatchSpanProcessor(otlp["traces"], health, **queue))
        if "logs" in otlp:
            # Both streams travel together; the collector routes them by `talaro.stream`.
            log_processors.append(CountingBatchLogProcessor(otlp["logs"], health, "logs", **queue))
        if "metrics" in otlp:
            metric_exporters.append(otlp["metrics"])

    keep_files = config["TALARO_TELEMETRY_FILES"]
    if keep_files == "always" or (keep_files == "auto" and not otlp):
        folder = Path(config["TALARO_TELEMETRY_DIR"])
        outputs.append(f"files:{folder}")

        def stream(name: str) -> SharedJsonLinesFile:
            handle = SharedJsonLinesFile(
                folder / FILE_NAMES[name],
                max_bytes=config["TALARO_TELEMETRY_MAX_BYTES"],
                backups=config["TALARO_TELEMETRY_BACKUPS"],
            )
            files.append(handle)
            return handle

        span_processors.append(
            CountingBatchSpanProcessor(FileSpanExporter(stream=stream("traces")), health, **queue)
        )
        routes = {
            name: CountingBatchLogProcessor(
                FileLogExporter(stream=stream(name)), health, name, **queue
            )
            for name in (SECURITY, APPLICATION)
        }
        log_processors.append(StreamRouter(routes))
        metric_exporters.append(
            FileMetricExporter(
                stream=stream("metrics"),
                preferred_temporality=temporality,
                preferred_aggregation=aggregation,
            )
        )

    readers = [
        PeriodicExportingMetricReader(
            CountingMetricExporter(
                exporter,
                health,
                preferred_temporality=temporality,
                preferred_aggregation=aggregation,
            ),
            export_interval_millis=config["TALARO_METRIC_EXPORT_INTERVAL_MS"],
        )
        for exporter in metric_exporters
    ]
    meter_provider = MeterProvider(
        resource=resource, metric_readers=readers, shutdown_on_exit=False
    )
    tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    for processor in span_processors:
        tracer_provider.add_span_processor(processor)
    logger_provider = LoggerProvider(
        resource=resource, shutdown_on_exit=False, meter_provider=meter_provider
    )
    if log_processors:
        # One chain in front of every log output (see audit.py), so OTLP and the files
        # carry the same sequence numbers and hashes.
        chain = AuditChain(log_processors, audit_key(config.get("TALARO_AUDIT_KEY")))
        logger_provider.add_log_record_processor(chain)
    return Providers(tracer_provider, logger_provider, meter_provider, health, files, outputs)


@dataclass
class Runtime:
    """What the rest of the app reaches through `current_runtime()`."""

    providers: Providers
    logger: Any
    tracer: Any
    instruments: Any
    stopped: bool = False
    trail_pending: bool = False  # sys_startup not written yet (command-line tools)
    check_events: bool = False  # raise on a record missing required attributes (tests)

    def status(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "outputs": self.providers.outputs,
            **self.providers.health.snapshot(),
        }


def current_runtime() -> Runtime | None:
    """The running app's telemetry, or None outside an app or with telemetry off."""
    return current_app.extensions.get(EXTENSION) if has_app_context() else None

"""Providers, processors and exporters for one application process.

Embedded mode (no OTLP endpoint): OTLP JSON Lines files in the telemetry folder,
log records split by stream. Collector mode: OTLP over http/protobuf or grpc,
optionally with the files kept too, and the security stream's file kept unless files
are `never`. Export happens on background threads behind bounded queues, except the
security stream's file, written inline so that a killed worker loses none of it; what
cannot be queued or exported is counted.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context

# Spans and log records go to the files through encoding.py's exporters (the same OTLP
# JSON as the first-party ones, several times cheaper); metrics, once a minute, through
# the first-party one.
from opentelemetry.exporter.otlp.json.file import FileMetricExporter
from opentelemetry.sdk._logs import (
    LoggerProvider,
    LogRecordLimits,
    LogRecordProcessor,
    ReadWriteLogRecord,
)
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    SimpleLogRecordProcessor,
)
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
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from talaro.telemetry.audit import AuditChain, audit_key
from talaro.telemetry.catalogue import APPLICATION, SECURITY, STREAM_ATTRIBUTE, EventSpec
from talaro.telemetry.checkpoints import Checkpointer, CheckpointStore
from talaro.telemetry.encoding import JsonLinesLogExporter, JsonLinesSpanExporter
from talaro.telemetry.files import SharedJsonLinesFile, TelemetryWriteError
from talaro.telemetry.health import (
    COLLECTOR,
    IO_ERROR,
    SHUTDOWN,
    CountingLogExporter,
    CountingMetricExporter,
    CountingSpanExporter,
    Output,
    QueueSlots,
    TelemetryHealth,
    failure_reason,
)
from talaro.telemetry.host import HostHealth, default_folder
from talaro.telemetry.redaction import RecordMasking, SpanMasking

FILE_NAMES = {
    SECURITY: "security.jsonl",
    APPLICATION: "application.jsonl",
    "traces": "traces.jsonl",
    "metrics": "metrics.jsonl",
}
SCOPE = "talaro"
EXTENSION = "talaro.telemetry"  # the app.extensions key of the Runtime
DEGRADED_FOR_S = 300.0  # /readyz says `degraded` this long after a drop
# Records per export to the files: a line of 512 records costs two to three times the CPU
# per record of a line of 64 to encode and write, the garbage collector going over the
# batch's many objects (BENCHMARKS.md, issue #14).
FILE_BATCH = 64
STARTUP = "the telemetry folder"  # the cause of a problem found before any write


class _CountedElsewhere(logging.Filter):
    """The file exporters log every failed batch with its stack; ours are counted by
    health.py and logged once per cause, so those lines are left out."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, TelemetryWriteError)


_quiet = _CountedElsewhere()
for _name in ("_internal", "_log_exporter", "trace_exporter", "metric_exporter"):
    logging.getLogger(f"opentelemetry.exporter.otlp.json.file.{_name}").addFilter(_quiet)


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
        self,
        exporter: SpanExporter,
        health: TelemetryHealth,
        *,
        max_queue_size: int,
        output: Output | None = None,
        **kw: Any,
    ) -> None:
        self.slots = QueueSlots(max_queue_size)
        self.counting = CountingSpanExporter(exporter, health, self.slots, output)
        super().__init__(self.counting, max_queue_size=max_queue_size, **kw)
        self.health, self.signal = health, "traces"
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

    def pending(self) -> int:
        """Spans queued or being exported: lost if the process stopped now."""
        return self.slots.held + self.counting.in_flight


class CountingBatchLogProcessor(BatchLogRecordProcessor):
    def __init__(
        self,
        exporter: LogRecordExporter,
        health: TelemetryHealth,
        signal: str,
        *,
        max_queue_size: int,
        output: Output | None = None,
        **kw: Any,
    ) -> None:
        self.slots = QueueSlots(max_queue_size)
        self.counting = CountingLogExporter(exporter, health, signal, self.slots, output)
        super().__init__(self.counting, max_queue_size=max_queue_size, **kw)
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

    def pending(self) -> int:
        """Records queued or being exported: lost if the process stopped now."""
        return self.slots.held + self.counting.in_flight


def file_output(file: SharedJsonLinesFile) -> Output:
    """A file as health.py names it, and how to tell why its last write failed."""

    def reason() -> str:
        error = file.failure()
        return failure_reason(error) if error is not None else IO_ERROR

    return Output(
        name=file.path.name,
        cause=f"the telemetry folder {file.path.parent}",
        reason=reason,
        detail=lambda: str(file.failure() or "the write failed"),
    )


def security_file_processor(file: SharedJsonLinesFile, health: TelemetryHealth) -> Any:
    """The security stream's file, written inline: `AuditChain` calls it under its lock, so
    the line is in the file (write(2) on an O_APPEND descriptor, in sequence order) before
    the code that emitted the record, and the response it answers, carries on. A record
    that cannot be written is counted (health.py), never raised to the request."""
    return SimpleLogRecordProcessor(
        CountingLogExporter(
            JsonLinesLogExporter(stream=file), health, SECURITY, output=file_output(file)
        )
    )


def probe_folder(folder: Path) -> OSError | None:
    """Why the telemetry folder cannot be written now (it is made if missing), or None.
    Creates nothing in it: reading the logs must not write to them."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return exc
    if not os.access(folder, os.W_OK | os.X_OK):  # EROFS too, for root
        read_only = os.statvfs(folder).f_flag & os.ST_RDONLY
        code = errno.EROFS if read_only else errno.EACCES
        return OSError(code, os.strerror(code), str(folder))
    return None


class StreamRouter(LogRecordProcessor):
    """Sends each record to its stream's processor, decided from `talaro.stream` at emit
    time (the batch processor drops the context before export)."""

    def __init__(self, routes: Mapping[str, LogRecordProcessor]) -> None:
        self.routes = dict(routes)

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        attributes = log_record.log_record.attributes or {}
        stream = attributes.get(STREAM_ATTRIBUTE, APPLICATION)
        route = self.routes.get(stream, self.routes.get(APPLICATION))
        if route is not None:  # None: this stream is not written here
            route.on_emit(log_record)

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
    log_limits: LogRecordLimits = field(default_factory=LogRecordLimits)
    # The batch processors, for what they still hold at exit.
    queues: list[CountingBatchSpanProcessor | CountingBatchLogProcessor] = field(
        default_factory=list
    )
    host: HostHealth | None = None  # the host's counters (host.py)
    folder: Path | None = None  # the telemetry folder, when files are written

    @property
    def instance_id(self) -> str:
        return str(self.logger_provider.resource.attributes.get("service.instance.id", ""))

    def force_flush(self, timeout_millis: int = 5000) -> None:
        self.tracer_provider.force_flush(timeout_millis)
        self.logger_provider.force_flush(timeout_millis)
        self.meter_provider.force_flush(timeout_millis)

    def pending(self) -> dict[str, int]:
        """Records (spans) queued or being exported, by signal: what a stop now would lose."""
        found: dict[str, int] = {}
        for queue in self.queues:
            if count := queue.pending():
                found[queue.signal] = found.get(queue.signal, 0) + count
        return found

    def drain(self, timeout_s: float) -> dict[str, int]:
        """Flush for at most `timeout_s`; what is still pending after it."""
        worker = threading.Thread(
            target=self.force_flush, args=(int(timeout_s * 1000),), daemon=True
        )
        worker.start()
        worker.join(timeout_s)
        return self.pending()

    def shutdown(self, timeout_s: float) -> bool:
        """Flush and stop every provider, giving up after `timeout_s` (a dead collector
        must not hang a stop); True when everything finished in time. What was still
        queued for an exporter then is counted as dropped (`shutdown`), and every record
        this process did not deliver is reported on stderr."""

        def stop() -> None:
            self.tracer_provider.shutdown()
            self.logger_provider.shutdown()
            self.meter_provider.shutdown(timeout_millis=timeout_s * 1000)

        worker = threading.Thread(target=stop, name="talaro-telemetry-shutdown", daemon=True)
        worker.start()
        worker.join(timeout_s)
        lost = self.pending()
        for queue in self.queues:
            queue.counting.settled = True
        for signal, count in lost.items():
            self.health.record_drop(signal, count, SHUTDOWN)
        if not worker.is_alive():
            for stream in self.files:
                stream.close()
        self._report_at_exit(lost)
        if self.host is not None:
            self.host.close()
        return not worker.is_alive()

    def _report_at_exit(self, lost: dict[str, int]) -> None:
        dropped = self.health.snapshot()["dropped_by_reason"]
        if not dropped:
            return
        parts = [
            f"{signal}/{reason}={count}"
            for signal, reasons in dropped.items()
            for reason, count in reasons.items()
        ]
        with contextlib.suppress(Exception):  # stderr may be gone at exit
            queued = sum(lost.values())
            sys.stderr.write(
                f"talaro telemetry (pid {os.getpid()}, instance {self.instance_id}): "
                + (f"{queued} records still queued at exit were not delivered; " if queued else "")
                + f"records not written or delivered, by signal/reason: {', '.join(parts)}\n"
            )
            sys.stderr.flush()

    def recheck(self) -> None:
        """A folder found unwritable before any write is probed again (a write clears
        the problem of its own file)."""
        if self.folder is None:
            return
        startup = [
            name
            for name, problem in self.health.snapshot()["problems"].items()
            if problem["detail"].startswith(STARTUP)
        ]
        if startup and probe_folder(self.folder) is None:
            for name in startup:
                self.health.record_ok(name)


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


def build_providers(
    config: Mapping[str, Any], checkpoint_store: CheckpointStore | None = None
) -> Providers:
    """Build the three providers from the app's telemetry settings (see settings.py);
    with `checkpoint_store`, the audit chain's checkpoints go there (checkpoints.py)."""
    resource = build_resource(config["TALARO_ENVIRONMENT"])
    health = TelemetryHealth()
    size = config["TALARO_TELEMETRY_QUEUE_SIZE"]
    # The SDK rejects a batch larger than the queue. OTLP keeps the SDK's default batch
    # (512); the files take FILE_BATCH records at a time, unless
    # OTEL_BLRP_MAX_EXPORT_BATCH_SIZE sets every batch.
    chosen = os.environ.get("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE")
    batch, file_batch = int(chosen or 512), int(chosen or FILE_BATCH)
    queue = {"max_queue_size": size, "max_export_batch_size": min(size, batch)}
    file_queue = {"max_queue_size": size, "max_export_batch_size": min(size, file_batch)}
    temporality, aggregation = metric_preferences()
    span_processors: list[Any] = []
    log_processors: list[LogRecordProcessor] = []
    metric_exporters: list[MetricExporter] = []
    files: list[SharedJsonLinesFile] = []
    outputs: list[str] = []

    queues: list[CountingBatchSpanProcessor | CountingBatchLogProcessor] = []
    metric_outputs: list[Output | None] = []

    def collector(signal: str) -> Output:
        grpc = config.get("OTEL_EXPORTER_OTLP_PROTOCOL") == "grpc"
        return Output(
            f"otlp:{signal}",
            f"the collector at {_otlp_endpoint(config, signal, grpc)}",
            reason=lambda: COLLECTOR,
            detail=lambda: "export failed (see the exporter's log)",
        )

    otlp = _otlp_exporters(config)
    if otlp:
        outputs.append("otlp:" + config.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"))
        if "traces" in otlp:
            spans = CountingBatchSpanProcessor(
                otlp["traces"], health, output=collector("traces"), **queue
            )
            span_processors.append(spans)
            queues.append(spans)
        if "logs" in otlp:
            # Both streams travel together; the collector routes them by `talaro.stream`.
            logs = CountingBatchLogProcessor(
                otlp["logs"], health, "logs", output=collector("logs"), **queue
            )
            log_processors.append(logs)
            queues.append(logs)
        if "metrics" in otlp:
            metric_exporters.append(otlp["metrics"])
            metric_outputs.append(collector("metrics"))

    keep_files = config["TALARO_TELEMETRY_FILES"]
    folder = Path(config["TALARO_TELEMETRY_DIR"])

    def stream(name: str, **options: Any) -> SharedJsonLinesFile:
        handle = SharedJsonLinesFile(
            folder / FILE_NAMES[name],
            max_bytes=config["TALARO_TELEMETRY_MAX_BYTES"],
            backups=config["TALARO_TELEMETRY_BACKUPS"],
            **options,
        )
        files.append(handle)
        return handle

    writes_files = keep_files in ("always", "auto")
    if writes_files and (problem := probe_folder(folder)) is not None:
        # Counted, not fatal: the service starts and /readyz says why (or, with
        # TALARO_REQUIRE_AUDIT_TRAIL, that the host is not ready).
        names = [FILE_NAMES[SECURITY]]
        if keep_files == "always" or not otlp:
            names += [FILE_NAMES[n] for n in (APPLICATION, "traces", "metrics")]
        for name in names:
            signal = next(key for key, value in FILE_NAMES.items() if value == name)
            health.record_problem(
                name,
                signal,
                failure_reason(problem),
                f"{STARTUP} cannot be written: {problem}",
                f"the telemetry folder {folder}",
            )
    routes: dict[str, LogRecordProcessor] = {}
    if writes_files:
        # With a collector, `auto` still writes the security stream here: the collector is
        # batched over the network, this file is the copy a SIGKILL cannot lose.
        routes[SECURITY] = security_file_processor(
            stream(SECURITY, keep_rotated=True, fsync=config.get("TALARO_SECURITY_FSYNC", False)),
            health,
        )
        if keep_files == "auto" and otlp:
            outputs.append(f"security-file:{folder}")
    if keep_files == "always" or (keep_files == "auto" and not otlp):
        outputs.append(f"files:{folder}")
        traces_file = stream("traces")
        spans = CountingBatchSpanProcessor(
            JsonLinesSpanExporter(stream=traces_file),
            health,
            output=file_output(traces_file),
            **file_queue,
        )
        span_processors.append(spans)
        application_file = stream(APPLICATION)
        application = CountingBatchLogProcessor(
            JsonLinesLogExporter(stream=application_file),
            health,
            APPLICATION,
            output=file_output(application_file),
            **file_queue,
        )
        routes[APPLICATION] = application
        queues += [spans, application]
        metrics_file = stream("metrics")
        metric_exporters.append(
            FileMetricExporter(
                stream=metrics_file,
                preferred_temporality=temporality,
                preferred_aggregation=aggregation,
            )
        )
        metric_outputs.append(file_output(metrics_file))
    if routes:
        log_processors.append(StreamRouter(routes))

    readers = [
        PeriodicExportingMetricReader(
            CountingMetricExporter(
                exporter,
                health,
                preferred_temporality=temporality,
                preferred_aggregation=aggregation,
                output=output,
            ),
            export_interval_millis=config["TALARO_METRIC_EXPORT_INTERVAL_MS"],
        )
        for exporter, output in zip(metric_exporters, metric_outputs, strict=True)
    ]
    meter_provider = MeterProvider(
        resource=resource, metric_readers=readers, shutdown_on_exit=False
    )
    # OpenTelemetry's limits bound every attribute (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
    # OTEL_ATTRIBUTE_COUNT_LIMIT, with Talaro's defaults in config.py; the per-signal
    # OTEL_LOGRECORD_* / OTEL_SPAN_* variables still win), so no request makes a record large.
    count = config.get("OTEL_ATTRIBUTE_COUNT_LIMIT")
    length = config.get("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT")
    log_limits = LogRecordLimits(max_attributes=count, max_attribute_length=length)
    span_limits = SpanLimits(max_attributes=count, max_attribute_length=length)
    tracer_provider = TracerProvider(
        resource=resource, shutdown_on_exit=False, span_limits=span_limits
    )
    if span_processors:
        masking = SpanMasking(span_processors, span_limits.max_span_attribute_length)
        tracer_provider.add_span_processor(masking)
    logger_provider = LoggerProvider(
        resource=resource,
        shutdown_on_exit=False,
        meter_provider=meter_provider,
        log_record_limits=log_limits,
    )
    if log_processors:
        # Secrets masked first (redaction.py), so the chain hashes what the outputs write.
        logger_provider.add_log_record_processor(RecordMasking())
        # One chain in front of every log output (see audit.py), so OTLP and the files
        # carry the same sequence numbers and hashes.
        key = audit_key(config.get("TALARO_AUDIT_KEY"))
        checkpointer = None
        if checkpoint_store is not None:
            checkpointer = Checkpointer(
                checkpoint_store,
                health,
                key=key,
                location=str(folder.resolve()) if SECURITY in routes else "",
                every_records=config.get("TALARO_AUDIT_CHECKPOINT_RECORDS", 100),
                every_seconds=config.get("TALARO_AUDIT_CHECKPOINT_SECONDS", 10.0),
            )
        chain = AuditChain(log_processors, key, checkpointer)
        logger_provider.add_log_record_processor(chain)
    instance = str(resource.attributes.get("service.instance.id", ""))
    health_dir = config.get("TALARO_TELEMETRY_HEALTH_DIR") or default_folder(folder)
    return Providers(
        tracer_provider,
        logger_provider,
        meter_provider,
        health,
        files,
        outputs,
        log_limits=log_limits,
        queues=queues,
        host=HostHealth(Path(health_dir), health, instance),
        folder=folder if writes_files else None,
    )


@dataclass
class Runtime:
    """What the rest of the app reaches through `current_runtime()`."""

    providers: Providers
    logger: Any
    tracer: Any
    instruments: Any
    scope: Any = None  # the logger's InstrumentationScope, for records built ready (records.py)
    stopped: bool = False
    trail_pending: bool = False  # sys_startup not written yet (command-line tools)
    check_events: bool = False  # raise on a record missing required attributes (tests)
    # Asked before a security record is written; False: not written, counted as suppressed.
    # Set by the detection rules (talaro/security), which telemetry does not import.
    admit: Callable[[EventSpec, Mapping[str, Any]], bool] | None = None

    require_audit_trail: bool = False  # TALARO_REQUIRE_AUDIT_TRAIL

    def status(self) -> dict[str, Any]:
        """For /readyz: `ok`; `degraded` while an output fails or for DEGRADED_FOR_S after
        a drop; `unavailable` when security records cannot be written and the audit trail
        is required. Counters are the host's (every worker's, host.py)."""
        providers = self.providers
        providers.recheck()
        if providers.host is not None:
            found = providers.host.gather()
        else:
            found = {"workers": 1, **providers.health.snapshot()}
        problems = found["problems"]
        recent = time.time() - found.pop("last_drop", 0.0) < DEGRADED_FOR_S
        status = "degraded" if problems or recent else "ok"
        if self.require_audit_trail and any(p["signal"] == SECURITY for p in problems.values()):
            status = "unavailable"
        return {"status": status, "outputs": providers.outputs, **found}


def current_runtime() -> Runtime | None:
    """The running app's telemetry, or None outside an app or with telemetry off."""
    return current_app.extensions.get(EXTENSION) if has_app_context() else None

"""Telemetry's own health, without an app: drops counted exactly in front of the SDK's
batch queues, and the metric exporters' preferences honoured through the counting one."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from talaro.telemetry.health import TelemetryHealth
from talaro.telemetry.runtime import (
    CountingBatchLogProcessor,
    CountingBatchSpanProcessor,
    build_providers,
)
from tests.telemetry.recording import KeepRecords

QUEUE = 8
THREADS, PER_THREAD = 4, 300


class Held:
    """An exporter that holds its first export until released, then counts records."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.exported = 0

    def export(self, batch: Sequence[Any]) -> Any:
        self.started.set()
        self.release.wait(10)
        self.exported += len(batch)
        return self.result

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class HeldLogs(Held, LogRecordExporter):
    result = LogRecordExportResult.SUCCESS


class HeldSpans(Held, SpanExporter):
    result = SpanExportResult.SUCCESS


def flood(emit: Any) -> None:
    threads = [
        threading.Thread(target=lambda: [emit() for _ in range(PER_THREAD)]) for _ in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_every_log_record_is_exported_or_counted_as_dropped() -> None:
    health, exporter = TelemetryHealth(), HeldLogs()
    processor = CountingBatchLogProcessor(
        exporter, health, "security", max_queue_size=QUEUE, max_export_batch_size=QUEUE
    )
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(processor)
    logger = provider.get_logger("test")
    logger.emit(body="first")  # taken by the export thread, which then hangs on it
    for _ in range(QUEUE):
        logger.emit(body="fills the queue")
    assert exporter.started.wait(10)
    flood(lambda: logger.emit(body="flood"))
    exporter.release.set()
    provider.force_flush()
    dropped = health.snapshot()["dropped"]["security"]
    assert dropped >= THREADS * PER_THREAD - QUEUE
    assert exporter.exported + dropped == 1 + QUEUE + THREADS * PER_THREAD
    assert processor.slots.held == 0
    provider.shutdown()


def test_every_sampled_span_is_exported_or_counted_as_dropped() -> None:
    health, exporter = TelemetryHealth(), HeldSpans()
    processor = CountingBatchSpanProcessor(
        exporter, health, max_queue_size=QUEUE, max_export_batch_size=QUEUE
    )
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("test")
    tracer.start_span("first").end()
    assert exporter.started.wait(10)
    flood(lambda: tracer.start_span("flood").end())
    exporter.release.set()
    provider.force_flush()
    dropped = health.snapshot()["dropped"]["traces"]
    assert dropped >= THREADS * PER_THREAD - QUEUE
    assert exporter.exported + dropped == 1 + THREADS * PER_THREAD
    provider.shutdown()


def test_records_after_shutdown_take_no_slot() -> None:
    health, exporter = TelemetryHealth(), HeldLogs()
    exporter.release.set()
    processor = CountingBatchLogProcessor(
        exporter, health, "logs", max_queue_size=QUEUE, max_export_batch_size=QUEUE
    )
    keep = KeepRecords()
    seen = keep.records

    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(keep)
    provider.add_log_record_processor(processor)
    provider.get_logger("test").emit(body="before")
    provider.shutdown()
    for _ in range(2 * QUEUE):
        processor.on_emit(seen[0])  # ignored by the SDK from now on
    assert exporter.exported == 1
    assert processor.slots.held == 0 and health.snapshot()["dropped"] == {}


@pytest.mark.parametrize(("preference", "expected"), [("DELTA", 1), ("CUMULATIVE", 2)])
def test_the_temporality_preference_reaches_the_metric_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, preference: str, expected: int
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", preference)
    providers = build_providers(
        {
            "TALARO_ENVIRONMENT": "test",
            "TALARO_TELEMETRY_QUEUE_SIZE": 64,
            "TALARO_TELEMETRY_FILES": "auto",
            "TALARO_TELEMETRY_DIR": str(tmp_path),
            "TALARO_TELEMETRY_MAX_BYTES": 0,
            "TALARO_TELEMETRY_BACKUPS": 0,
            "TALARO_METRIC_EXPORT_INTERVAL_MS": 60_000,
        }
    )
    counter = providers.meter_provider.get_meter("test").create_counter("test.count")
    counter.add(3)
    providers.force_flush()
    assert providers.shutdown(5)
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    sums = [
        metric["sum"]
        for line in lines
        for resource in json.loads(line)["resourceMetrics"]
        for scope in resource["scopeMetrics"]
        for metric in scope["metrics"]
        if metric["name"] == "test.count"
    ]
    assert sums and all(found["aggregationTemporality"] == expected for found in sums)

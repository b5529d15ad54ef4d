"""Telemetry's own health: what was dropped or failed to export, for /readyz and metrics."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


class TelemetryHealth:
    """Counters of records dropped (queue full or export failed) and export failures."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.dropped: Counter[str] = Counter()
        self.export_failures: Counter[str] = Counter()

    def record_drop(self, signal: str, count: int = 1) -> None:
        with self._lock:
            self.dropped[signal] += count

    def record_export_failure(self, signal: str, lost: int) -> None:
        with self._lock:
            self.export_failures[signal] += 1
            self.dropped[signal] += lost

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "dropped": dict(self.dropped),
                "export_failures": dict(self.export_failures),
            }


class CountingSpanExporter(SpanExporter):
    def __init__(self, inner: SpanExporter, health: TelemetryHealth) -> None:
        self.inner, self.health = inner, health

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        result = _export(self.inner, spans, self.health, "traces", SpanExportResult.FAILURE)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


class CountingLogExporter(LogRecordExporter):
    def __init__(self, inner: LogRecordExporter, health: TelemetryHealth, signal: str) -> None:
        self.inner, self.health, self.signal = inner, health, signal

    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        return _export(self.inner, batch, self.health, self.signal, LogRecordExportResult.FAILURE)

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


class CountingMetricExporter(MetricExporter):
    def __init__(self, inner: MetricExporter, health: TelemetryHealth) -> None:
        super().__init__(
            preferred_temporality=inner._preferred_temporality,
            preferred_aggregation=inner._preferred_aggregation,
        )
        self.inner, self.health = inner, health

    def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kwargs: Any) -> Any:
        try:
            result = self.inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
        except Exception:  # an exporter must never take the reader thread down
            result = MetricExportResult.FAILURE
        if result is MetricExportResult.FAILURE:
            self.health.record_export_failure("metrics", 1)
        return result

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.inner.shutdown(timeout_millis=timeout_millis, **kwargs)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self.inner.force_flush(timeout_millis)


def _export(
    inner: Any, batch: Sequence[Any], health: TelemetryHealth, signal: str, failure: Any
) -> Any:
    try:
        result = inner.export(batch)
    except Exception:  # an exporter must never take the export thread down
        result = failure
    if result == failure:
        health.record_export_failure(signal, len(batch))
    return result

"""Telemetry's own health: what was dropped or failed to export, for /readyz and metrics."""

from __future__ import annotations

import os
import threading
import weakref
from collections import Counter
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    MetricExportResult,
)
from opentelemetry.sdk.metrics.view import Aggregation
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


class QueueSlots:
    """The records one batch processor holds, counted on the way in (our processor,
    before the SDK's queue) and on the way out (its exporter, when the batch arrives).

    What is held is never less than what the SDK's queue holds, so with `size` equal to
    that queue's ``max_queue_size`` the SDK never finds its queue full (it would drop
    the oldest record and count it only in its opt-in self-metrics): a record that finds
    no slot is refused before it reaches the queue, and counted by the caller."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._held = 0
        # A forked child starts with an empty SDK queue (the SDK clears it) and no slots.
        reset = weakref.WeakMethod(self._reset)
        os.register_at_fork(after_in_child=lambda: (method := reset()) and method())

    def take(self) -> bool:
        """One slot for a record about to be queued; False when every slot is held."""
        with self._lock:
            if self._held >= self.size:
                return False
            self._held += 1
            return True

    def release(self, count: int) -> None:
        with self._lock:
            self._held = max(0, self._held - count)

    @property
    def held(self) -> int:
        return self._held

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._held = 0


class CountingSpanExporter(SpanExporter):
    def __init__(
        self, inner: SpanExporter, health: TelemetryHealth, slots: QueueSlots | None = None
    ) -> None:
        self.inner, self.health, self.slots = inner, health, slots

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        if self.slots is not None:
            self.slots.release(len(spans))
        return _export(self.inner, spans, self.health, "traces", SpanExportResult.FAILURE)

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


class CountingLogExporter(LogRecordExporter):
    def __init__(
        self,
        inner: LogRecordExporter,
        health: TelemetryHealth,
        signal: str,
        slots: QueueSlots | None = None,
    ) -> None:
        self.inner, self.health, self.signal, self.slots = inner, health, signal, slots

    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        if self.slots is not None:
            self.slots.release(len(batch))
        return _export(self.inner, batch, self.health, self.signal, LogRecordExportResult.FAILURE)

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


class CountingMetricExporter(MetricExporter):
    """Counts the failed exports of `inner`. The reader asks the exporter it is given
    for temporality and aggregation, so give this one the same preferences `inner` was
    built with (`runtime.metric_preferences`)."""

    def __init__(
        self,
        inner: MetricExporter,
        health: TelemetryHealth,
        *,
        preferred_temporality: dict[type, AggregationTemporality] | None = None,
        preferred_aggregation: dict[type, Aggregation] | None = None,
    ) -> None:
        super().__init__(
            preferred_temporality=preferred_temporality,
            preferred_aggregation=preferred_aggregation,
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

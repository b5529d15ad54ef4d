"""Telemetry's own health: what was dropped or failed to export, for /readyz and metrics."""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    MetricExportResult,
)
from opentelemetry.sdk.metrics.view import Aggregation
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

logger = logging.getLogger("talaro.telemetry")


# Why a record was not written or delivered: the reasons /readyz and the metric
# `talaro.telemetry.dropped` split drops by.
QUEUE_FULL = "queue_full"  # the bounded queue in front of an exporter was full
DISK_FULL = "disk_full"  # ENOSPC, EDQUOT, EFBIG
PERMISSION = "permission"  # EACCES, EPERM, EROFS: the folder or file cannot be written
IO_ERROR = "io_error"  # any other error of the file system (e.g. the folder is a file)
COLLECTOR = "collector"  # the OTLP endpoint refused or did not answer
SHUTDOWN = "shutdown"  # still queued (or being sent) when the process stopped
NOT_DEGRADING = frozenset({"flood"})  # drops by design (detection.py), not a fault


def failure_reason(exc: BaseException) -> str:
    """The drop reason of a failed write."""
    number = getattr(exc, "errno", None)
    if number in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return DISK_FULL
    if number in (errno.EACCES, errno.EPERM, errno.EROFS):
        return PERMISSION
    return IO_ERROR


@dataclass(frozen=True)
class Problem:
    """An output that cannot be written now (cleared by its next success)."""

    signal: str
    reason: str
    detail: str
    cause: str  # what the log line named (a folder, an endpoint)
    since: float  # wall-clock seconds


class TelemetryHealth:
    """This process's counters: records dropped (by signal and reason), failed exports,
    and the outputs failing now. `on_change` (host.py) publishes them for the host."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.dropped: Counter[tuple[str, str]] = Counter()
        self.export_failures: Counter[str] = Counter()
        self.problems: dict[str, Problem] = {}
        self.last_drop = 0.0  # wall clock of the last drop that degrades
        self._logged: set[tuple[str, str]] = set()  # causes logged while they last
        self.on_change: Callable[[], None] | None = None

    def record_drop(self, signal: str, count: int = 1, reason: str = QUEUE_FULL) -> None:
        if count <= 0:
            return
        with self._lock:
            self.dropped[signal, reason] += count
            if reason not in NOT_DEGRADING:
                self.last_drop = time.time()
        self._changed()

    def record_export_failure(
        self,
        signal: str,
        lost: int,
        reason: str = COLLECTOR,
        *,
        output: str | None = None,
        detail: str = "",
        cause: str = "",
    ) -> None:
        """An export failed and `lost` records with it; with `output`, that output is a
        problem until it succeeds again (logged once per `cause`, not per batch)."""
        with self._lock:
            self.export_failures[signal] += 1
            if lost > 0:
                self.dropped[signal, reason] += lost
            self.last_drop = time.time()
        if output is not None:
            self.record_problem(output, signal, reason, detail, cause)
        self._changed()

    def record_problem(
        self, output: str, signal: str, reason: str, detail: str, cause: str = ""
    ) -> None:
        with self._lock:
            known = self.problems.get(output)
            if known is not None and known.reason == reason:
                return
            cause = cause or output
            self.problems[output] = Problem(signal, reason, detail, cause, time.time())
            first = (reason, cause) not in self._logged
            self._logged.add((reason, cause))
        if first:
            logger.warning(
                "telemetry cannot write %s (%s: %s); its records are counted as dropped "
                "until it can (GET /readyz)",
                cause,
                reason,
                detail,
            )
        self._changed()

    def record_ok(self, output: str) -> None:
        """`output` wrote or delivered a batch: it is no longer a problem."""
        if output not in self.problems:  # the common case, without the lock
            return
        with self._lock:
            problem = self.problems.pop(output, None)
            if problem is None:
                return
            if not any(p.cause == problem.cause for p in self.problems.values()):
                self._logged.discard((problem.reason, problem.cause))
                recovered = True
            else:
                recovered = False
        if recovered:
            logger.warning("telemetry writes %s again (after %s)", problem.cause, problem.reason)
        self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def snapshot(self) -> dict[str, Any]:
        """`dropped` by signal; `dropped_by_reason` by signal then reason; failed exports
        by signal; `problems` by output."""
        with self._lock:
            dropped: Counter[str] = Counter()
            by_reason: dict[str, dict[str, int]] = {}
            for (signal, reason), count in sorted(self.dropped.items()):
                dropped[signal] += count
                by_reason.setdefault(signal, {})[reason] = count
            return {
                "dropped": dict(dropped),
                "dropped_by_reason": by_reason,
                "export_failures": dict(self.export_failures),
                "problems": {
                    output: {"signal": p.signal, "reason": p.reason, "detail": p.detail}
                    for output, p in sorted(self.problems.items())
                },
                "last_drop": self.last_drop,
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


@dataclass(frozen=True)
class Output:
    """Where an exporter writes, for the health counters: its name (`output` in
    /readyz `problems`), the cause its failures are logged under (its folder or
    endpoint), and how to tell why a failed export failed."""

    name: str
    cause: str
    reason: Callable[[], str] = lambda: COLLECTOR
    detail: Callable[[], str] = lambda: ""


class _Counting:
    """What the counting exporters share: records handed to the exporter and not yet
    back (`in_flight`, lost if the process stops now), and the accounting of a result."""

    health: TelemetryHealth
    signal: str
    output: Output | None
    slots: QueueSlots | None

    def _export(self, batch: Sequence[Any], export: Callable[[], Any], failure: Any) -> Any:
        if self.slots is not None:
            self.slots.release(len(batch))
        with self._flight_lock:
            self.in_flight += len(batch)
        try:
            try:
                result = export()
            except Exception:  # an exporter must never take the export thread down
                result = failure
            self._account(result == failure, len(batch))
        finally:
            with self._flight_lock:
                self.in_flight -= len(batch)
        return result

    def _account(self, failed: bool, lost: int) -> None:
        output = self.output
        if self.settled:  # counted as lost at shutdown already: an export that ends late
            return
        if not failed:
            if output is not None:
                self.health.record_ok(output.name)
            return
        if output is None:
            self.health.record_export_failure(self.signal, lost)
            return
        self.health.record_export_failure(
            self.signal,
            lost,
            output.reason(),
            output=output.name,
            detail=output.detail(),
            cause=output.cause,
        )

    def _init_counting(
        self,
        health: TelemetryHealth,
        signal: str,
        slots: QueueSlots | None,
        output: Output | None,
    ) -> None:
        self.health, self.signal, self.slots, self.output = health, signal, slots, output
        self.in_flight = 0
        self.settled = False  # set at shutdown, once what is in flight is counted
        self._flight_lock = threading.Lock()


class CountingSpanExporter(_Counting, SpanExporter):
    def __init__(
        self,
        inner: SpanExporter,
        health: TelemetryHealth,
        slots: QueueSlots | None = None,
        output: Output | None = None,
    ) -> None:
        self.inner = inner
        self._init_counting(health, "traces", slots, output)

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        return self._export(  # type: ignore[no-any-return]
            spans, lambda: self.inner.export(spans), SpanExportResult.FAILURE
        )

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


class CountingLogExporter(_Counting, LogRecordExporter):
    def __init__(
        self,
        inner: LogRecordExporter,
        health: TelemetryHealth,
        signal: str,
        slots: QueueSlots | None = None,
        output: Output | None = None,
    ) -> None:
        self.inner = inner
        self._init_counting(health, signal, slots, output)

    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        return self._export(  # type: ignore[no-any-return]
            batch, lambda: self.inner.export(batch), LogRecordExportResult.FAILURE
        )

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
        output: Output | None = None,
    ) -> None:
        super().__init__(
            preferred_temporality=preferred_temporality,
            preferred_aggregation=preferred_aggregation,
        )
        self.inner, self.health, self.output = inner, health, output

    def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kwargs: Any) -> Any:
        try:
            result = self.inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
        except Exception:  # an exporter must never take the reader thread down
            result = MetricExportResult.FAILURE
        output = self.output
        if result is not MetricExportResult.FAILURE:
            if output is not None:
                self.health.record_ok(output.name)
        elif output is None:
            self.health.record_export_failure("metrics", 1)
        else:
            self.health.record_export_failure(
                "metrics",
                1,
                output.reason(),
                output=output.name,
                detail=output.detail(),
                cause=output.cause,
            )
        return result

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.inner.shutdown(timeout_millis=timeout_millis, **kwargs)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self.inner.force_flush(timeout_millis)

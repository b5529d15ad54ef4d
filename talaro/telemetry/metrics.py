"""Every metric instrument Talaro creates, created once per process's providers.

Request duration and active requests come from the Flask instrumentation; these
are the domain counters, telemetry self-health and process CPU and memory.
"""

from __future__ import annotations

import os
import resource
import threading
from collections.abc import Iterable
from functools import partial

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from talaro.telemetry.catalogue import EventSpec
from talaro.telemetry.health import TelemetryHealth

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except OSError:  # not Linux: the peak is the best the standard library offers
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Instruments:
    def __init__(self, meter: Meter, health: TelemetryHealth) -> None:
        self._meter = meter
        # The catalogue's counters, by instrument, then by attribute (made on first use).
        self._counts: dict[str, dict[tuple[str, str] | None, int]] = {}
        self._counts_lock = threading.Lock()
        self._health = health
        meter.create_observable_counter(
            "talaro.telemetry.dropped",
            callbacks=[self._observe_dropped],
            unit="{record}",
            description="Telemetry records dropped (queue full or export failed), by signal",
        )
        meter.create_observable_counter(
            "talaro.telemetry.export.failures",
            callbacks=[self._observe_failures],
            unit="{export}",
            description="Failed export calls, by signal",
        )
        # Process metrics by hand: the system-metrics instrumentor is process-global
        # and binds to the first meter provider only.
        meter.create_observable_counter(
            "process.cpu.time",
            callbacks=[self._observe_cpu],
            unit="s",
            description="CPU seconds used by this process",
        )
        meter.create_observable_up_down_counter(
            "process.memory.usage",
            callbacks=[self._observe_memory],
            unit="By",
            description="Resident memory of this process",
        )

    def record_event(self, spec: EventSpec, outcome: str) -> None:
        """Add one to each counter `spec` declares (catalogue.py) for this outcome.

        Counted here and reported by an observable counter's callback at each export: the
        same cumulative sums as a synchronous Counter (without its exemplars), for a dict
        update instead of the SDK's measurement path on every request (BENCHMARKS.md)."""
        for counted in spec.counted:
            if outcome not in counted.outcomes:
                continue
            value = {"event.name": spec.name, "event.outcome": outcome}.get(counted.by or "")
            split = (counted.by, value) if counted.by and value else None
            with self._counts_lock:
                counts = self._counts.get(counted.instrument)
                if counts is None:
                    counts = self._counts[counted.instrument] = {}
                    self._meter.create_observable_counter(
                        counted.instrument,
                        callbacks=[partial(self._observe_counts, counts)],
                        unit=counted.unit,
                        description=counted.description,
                    )
                counts[split] = counts.get(split, 0) + 1

    def _observe_counts(
        self, counts: dict[tuple[str, str] | None, int], options: CallbackOptions
    ) -> Iterable[Observation]:
        with self._counts_lock:
            found = list(counts.items())
        return [Observation(n, dict([split]) if split else None) for split, n in found]

    def _observe_dropped(self, options: CallbackOptions) -> Iterable[Observation]:
        dropped = self._health.snapshot()["dropped_by_reason"]
        return [
            Observation(count, {"signal": signal, "reason": reason})
            for signal, reasons in dropped.items()
            for reason, count in reasons.items()
        ]

    def _observe_failures(self, options: CallbackOptions) -> Iterable[Observation]:
        failures = self._health.snapshot()["export_failures"]
        return [Observation(count, {"signal": signal}) for signal, count in failures.items()]

    def _observe_cpu(self, options: CallbackOptions) -> Iterable[Observation]:
        times = os.times()
        return [
            Observation(times.user, {"cpu.mode": "user"}),
            Observation(times.system, {"cpu.mode": "system"}),
        ]

    def _observe_memory(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(_resident_bytes())]

"""Every metric instrument Talaro creates, created once per process's providers.

Request duration and active requests come from the Flask instrumentation; these
are the domain counters, telemetry self-health and process CPU and memory.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from talaro.telemetry.catalogue import SECURITY, EventSpec
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
        self.resumes = meter.create_counter(
            "talaro.resumes.uploaded",
            unit="{resume}",
            description="Resume files processed by upload, by event.outcome",
        )
        self.interviews = meter.create_counter(
            "talaro.interviews.scheduled",
            unit="{interview}",
            description="Interviews scheduled successfully",
        )
        self.security_events = meter.create_counter(
            "talaro.security.events",
            unit="{event}",
            description="Security events by event.name",
        )
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

    def record_event(self, spec: EventSpec, outcome: str, attributes: Mapping[str, Any]) -> None:
        if spec.name == "resume_upload":
            self.resumes.add(1, {"event.outcome": outcome})
        elif spec.name == "interview_schedule" and outcome == "success":
            self.interviews.add(1)
        if spec.streams == (SECURITY,):
            self.security_events.add(1, {"event.name": spec.name})

    def _observe_dropped(self, options: CallbackOptions) -> Iterable[Observation]:
        dropped = self._health.snapshot()["dropped"]
        return [Observation(count, {"signal": signal}) for signal, count in dropped.items()]

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

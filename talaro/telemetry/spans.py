"""Child spans around work that costs time or can fail."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace

from talaro.telemetry.runtime import current_runtime

_NO_OP = trace.NoOpTracer()


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[trace.Span]:
    """A child span of the current one (a no-op when telemetry is off)."""
    runtime = current_runtime()
    tracer = runtime.tracer if runtime is not None else _NO_OP
    with tracer.start_as_current_span(name, attributes=attributes or None) as current:
        yield current


def span_between(name: str, start_ns: int, end_ns: int) -> None:
    """A child span for work done elsewhere (a worker process), placed at the times it ran."""
    runtime = current_runtime()
    if runtime is not None:
        runtime.tracer.start_span(name, start_time=start_ns).end(end_time=end_ns)

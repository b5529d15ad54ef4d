"""Where a request's telemetry CPU goes: the same app with one part of telemetry switched
off at a time, against telemetry off, in ONE process.

    .venv/bin/python -m bench.telemetry_parts [--groups detail,list,upload,mix]
        [--requests 300] [--rounds 5]    (or `make bench-parts`)

Built as `bench.telemetry_cpu` builds its apps (the Flask test client, process CPU with
the export threads, a flush at the end of each measurement). Variants of the `files`
app, each measured in turn with `off` in every round:

- `all`: everything on.
- `no-records`: `events.emit` does nothing (the catalogue records, their encoding and
  writing, the event counters).
- `no-span-output`: spans are made but handed to no processor (masking, queue, encoding).
- `no-metrics`: the SDK's synchronous instruments do nothing (the instrumentation's
  `http.server.*` measurements).
- `no-records-spans-metrics`: the three together: what is left is the Flask
  instrumentation's own work (the server span's making, its attributes, the hooks) and
  the statement counting.
- `bare`: the Flask instrumentation removed as well (`uninstrument_app`): the statement
  counting and the `http_request` hook.

Each variant is its own app, and every app gets the same requests in the same order.

The variants switch SDK internals off in this process only (`_active_span_processor`,
the instruments' methods); they are measurement tools, not settings. Results go to
bench-results/telemetry-parts.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench-results" / "telemetry-parts.json"
Switch = Callable[[], Iterator[None]]


def switches(app: Any) -> dict[str, Switch]:
    """Each variant as a context manager that switches its parts off and back on."""
    from opentelemetry.sdk.metrics._internal import instrument

    from talaro.telemetry import events
    from talaro.telemetry.runtime import current_runtime

    with app.app_context():
        runtime = current_runtime()
    assert runtime is not None
    spans = runtime.providers.tracer_provider._active_span_processor

    @contextmanager
    def no_records() -> Iterator[None]:
        emit, events.emit = events.emit, lambda *a, **k: None  # type: ignore[assignment]
        try:
            yield
        finally:
            events.emit = emit  # type: ignore[assignment]

    @contextmanager
    def no_span_output() -> Iterator[None]:
        held, spans._span_processors = spans._span_processors, ()
        try:
            yield
        finally:
            spans._span_processors = held

    @contextmanager
    def no_metrics() -> Iterator[None]:
        methods = [
            (instrument.Histogram, "record"),
            (instrument.UpDownCounter, "add"),
            (instrument.Counter, "add"),
        ]
        saved = [(kind, name, getattr(kind, name)) for kind, name in methods]
        for kind, name, _ in saved:
            setattr(kind, name, _nothing)
        try:
            yield
        finally:
            for kind, name, method in saved:
                setattr(kind, name, method)

    @contextmanager
    def together() -> Iterator[None]:
        with no_records(), no_span_output(), no_metrics():
            yield

    @contextmanager
    def everything() -> Iterator[None]:
        yield

    return {
        "all": everything,
        "no-records": no_records,
        "no-span-output": no_span_output,
        "no-metrics": no_metrics,
        "no-records-spans-metrics": together,
    }


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


VARIANTS = ("all", "no-records", "no-span-output", "no-metrics", "no-records-spans-metrics")


def run(groups: list[str], requests: int, rounds: int) -> dict[str, Any]:
    """One app per variant, all given the same requests in the same order, so their
    databases grow alike (a list gets slower as uploads add resumes); each variant's
    switch is on only while its own app is measured (some switch a whole module)."""
    from opentelemetry.instrumentation.flask import FlaskInstrumentor

    from bench.telemetry_cpu import Bench

    names = ("off", *VARIANTS, "bare")
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="talaro-bench-parts-") as root:
        apps = {}
        for name in names:
            folder = Path(root) / name
            folder.mkdir()
            apps[name] = Bench("off" if name == "off" else "files", folder)
        FlaskInstrumentor().uninstrument_app(apps["bare"].app)

        def measure(name: str, group: str, count: int) -> float:
            if name == "off":
                return float(apps[name].measure(group, count))
            variant = "no-records-spans-metrics" if name == "bare" else name
            with switches(apps[name].app)[variant]():
                return float(apps[name].measure(group, count))

        for group in groups:
            for name in names:
                measure(name, group, 30)  # warm-up
        for group in groups:
            found = results[group] = {name: [] for name in names}
            for round_no in range(rounds):
                turn = round_no % len(names)  # each round starts one place further on
                for name in names[turn:] + names[:turn]:
                    found[name].append(measure(name, group, requests) * 1e6)
                print(f"  {group}: round {round_no + 1}/{rounds} done, load {_load()}", flush=True)
        for bench in apps.values():
            bench.close()
    return {"requests": requests, "rounds": rounds, "results": results}


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def report(result: dict[str, Any]) -> str:
    lines = ["CPU per request, µs (median of rounds), and what telemetry adds over `off`"]
    for group, found in result["results"].items():
        base = statistics.median(found["off"])
        lines.append(f"{group}: off {base:,.0f}")
        whole = statistics.median(found["all"]) - base
        for name, values in found.items():
            if name == "off":
                continue
            added = statistics.median(values) - base
            saved = f"  (the part switched off: {whole - added:+,.0f})" if name != "all" else ""
            lines.append(f"  {name:26} {statistics.median(values):8,.0f}  +{added:6,.0f}{saved}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", default="detail,list,upload,mix")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result = run(args.groups.split(","), args.requests, args.rounds)
    result["load_after"] = _load()
    text = report(result)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**result, "report": text}, indent=2))
    print(f"\nWrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

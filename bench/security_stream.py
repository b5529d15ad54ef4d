"""What does the durable security stream cost? The same request, its security record
written inline (the service's way) or batched on a background thread (the old way).

    .venv/bin/python -m bench.security_stream [--requests 2000] [--rounds 3]

Each round builds one app per set-up (telemetry to files in a temporary folder, SQLite)
and sends `--requests` unauthenticated `GET /api/resumes` through the Flask test client:
each is a 401 with one `authn_required` security record and one `http_request`
application record. It reports the wall time and the process CPU per request (the export
threads included), the best of the rounds, and the difference between the set-ups.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from talaro import create_app, telemetry
from talaro.extensions import db
from talaro.telemetry import runtime

SETUPS = ("durable", "batched")


@contextmanager
def security_processor(setup: str) -> Iterator[None]:
    """The security file's processor as the service builds it, or batched as before."""
    original = runtime.security_file_processor
    if setup == "batched":

        def batched(file: Any, health: Any) -> Any:
            exporter = runtime.JsonLinesLogExporter(stream=file)
            return runtime.CountingBatchLogProcessor(
                exporter, health, runtime.SECURITY, max_queue_size=2048
            )

        runtime.security_file_processor = batched
    try:
        yield
    finally:
        runtime.security_file_processor = original


def measure(setup: str, requests: int, folder: Path) -> tuple[float, float]:
    """(wall µs, CPU µs) per request."""
    with security_processor(setup):
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench-security-stream",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite",
                "TALARO_TELEMETRY_DIR": str(folder / "logs"),
                "TALARO_RATELIMIT_ENABLED": False,
                "TALARO_TELEMETRY_CHECK_EVENTS": False,
                "TALARO_METRIC_EXPORT_INTERVAL_MS": 3_600_000,
            }
        )
    with app.app_context():
        db.create_all()
    client = app.test_client()
    for _ in range(50):  # warm-up
        client.get("/api/resumes")
    telemetry.flush(app)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        assert client.get("/api/resumes").status_code == 401
    telemetry.flush(app)  # the batched records are written too before the clock stops
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    telemetry.shutdown(app)
    return wall / requests * 1e6, cpu / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {setup: [] for setup in SETUPS}
    for round_ in range(args.rounds):
        for setup in SETUPS if round_ % 2 == 0 else reversed(SETUPS):
            with tempfile.TemporaryDirectory(prefix=f"talaro-bench-{setup}-") as folder:
                results[setup].append(measure(setup, args.requests, Path(folder)))
    best = {setup: min(runs, key=lambda run: run[1]) for setup, runs in results.items()}
    for setup in SETUPS:
        wall, cpu = best[setup]
        spread = statistics.pstdev(run[1] for run in results[setup])
        print(f"{setup:8} wall {wall:7.0f} µs/request  cpu {cpu:7.0f} µs/request (±{spread:.0f})")
    extra_wall = best["durable"][0] - best["batched"][0]
    extra_cpu = best["durable"][1] - best["batched"][1]
    print(f"durable - batched: wall {extra_wall:+.0f} µs, cpu {extra_cpu:+.0f} µs per request")


if __name__ == "__main__":
    main()

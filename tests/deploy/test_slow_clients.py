"""50 slow or idle connections against the served configuration (gunicorn.conf.py): normal
requests keep their throughput, and the connections the server gives up on are recorded,
counted and, from one address, detected."""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from pathlib import Path

from bench.slow_clients import HostileClients
from tests.deploy.test_gunicorn import gunicorn
from tests.telemetry import otlp_json

NORMAL_CLIENTS = 4
WINDOW_S = 4.0
HOSTILE = {"slow": 20, "idle": 15, "silent": 15}
KEEPALIVE_S = 2  # also how long a request's headers may take: keeps the test short
# Generous: the benchmark (BENCHMARKS.md) holds the 0.90 goal; threaded workers reach 0.
FLOOR = 0.5


def normal_throughput(port: int, seconds: float) -> tuple[float, list[str]]:
    """Requests per second of NORMAL_CLIENTS keep-alive clients on /readyz (the database
    and the app's stack), and what went wrong."""
    done: list[int] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds

    def client() -> None:
        count = 0
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            while time.monotonic() < deadline:
                try:
                    conn.request("GET", "/readyz")
                    answer = conn.getresponse()
                    answer.read()
                except (OSError, http.client.HTTPException) as exc:
                    errors.append(type(exc).__name__)
                    conn.close()
                    continue
                if answer.status != 200:
                    errors.append(str(answer.status))
                count += 1
        finally:
            conn.close()
            done.append(count)

    threads = [threading.Thread(target=client) for _ in range(NORMAL_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 15)
    return sum(done) / seconds, errors


def test_fifty_slow_connections_leave_normal_throughput(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    settings = {
        "WEB_CONCURRENCY": "2",  # the served default (the helper's is 3)
        "GUNICORN_KEEPALIVE": str(KEEPALIVE_S),
        "TALARO_TELEMETRY_DIR": str(logs),
        "TALARO_DETECT_SLOW_CONNECTIONS": "10",  # counted in each worker (no Redis here)
    }
    with gunicorn(tmp_path, **settings) as base:
        port = int(base.rsplit(":", 1)[1])
        before, before_errors = normal_throughput(port, WINDOW_S)
        hostile = HostileClients(port, HOSTILE)
        hostile.start()
        try:
            time.sleep(1)  # every hostile connection open before the measured window
            during, during_errors = normal_throughput(port, WINDOW_S)
        finally:
            hostile.stop()
        after, after_errors = normal_throughput(port, WINDOW_S)
    baseline = statistics.fmean([before, after])
    assert not before_errors + during_errors + after_errors
    assert during >= FLOOR * baseline, (before, during, after)
    assert hostile.stats.closed_by_server["slow"] >= HOSTILE["slow"], "headers have a deadline"

    timeouts = [
        r
        for r in otlp_json.log_records(logs / "application.jsonl")
        if r.event_name == "http_connection_timeout"
    ]
    states = {r.attributes["talaro.connection.state"] for r in timeouts}
    assert states == {"incomplete", "silent"}, "a kept-alive connection gone quiet is normal"
    assert {r.attributes["client.address"] for r in timeouts} == {"127.0.0.1"}
    detected = [
        r
        for r in otlp_json.log_records(logs / "security.jsonl")
        if r.event_name == "malicious_slow_connections"
    ]
    assert detected
    assert detected[0].attributes["client.address"] == "127.0.0.1"
    assert detected[0].attributes["security_rule.name"] == "slow_connections_one_address"
    assert "talaro.http.connections.timed_out" in otlp_json.metric_names(logs / "metrics.jsonl")

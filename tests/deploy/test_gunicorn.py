"""gunicorn with three workers: telemetry built after the fork, flushed on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from tests.telemetry import otlp_json
from tests.telemetry.otlp_receiver import OtlpHttpReceiver

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3
REQUESTS = 36
# For the tests that need every worker to serve some of the load: one connection per
# gevent worker at a time, since a gevent worker (the default) takes every connection it
# can accept. Not for the slow-client tests, whose point is many connections per worker.
SPREAD = {"GUNICORN_WORKER_CONNECTIONS": "1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(tmp_path: Path, **env: str) -> Iterator[str]:
    """Serve `talaro:create_app()` with gunicorn.conf.py; stop it with SIGTERM on exit."""
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/gunicorn.sqlite",
        "SECRET_KEY": "gunicorn-test",
        "WEB_CONCURRENCY": str(WORKERS),
        "GUNICORN_THREADS": "1",  # one request per worker at a time (gthread); see SPREAD
        "OTEL_BSP_SCHEDULE_DELAY": "60000",  # the stop, not the timer, must flush
        "OTEL_BLRP_SCHEDULE_DELAY": "60000",
        "TALARO_RATELIMIT_ENABLED": "false",  # the load comes from one address on purpose
        **env,
    }
    flask = [sys.executable, "-m", "flask", "--app", "talaro", "db", "upgrade"]
    subprocess.run(flask, env=environment, check=True, capture_output=True, cwd=tmp_path)
    port = free_port()
    environment["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(ROOT / "gunicorn.conf.py"),
        "talaro:create_app()",
    ]
    server = subprocess.Popen(
        command, env=environment, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read().decode()
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        yield base
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        assert server.returncode == 0, server.stderr.read().decode()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def send_requests(base: str) -> set[str]:
    """REQUESTS sign-in attempts, twelve at a time, each told apart by its user agent.
    Password hashing makes each take a while, so the load spreads over the workers."""

    def attempt(agent: str) -> int:
        request = urllib.request.Request(
            f"{base}/api/auth/login",
            data=json.dumps({"email": f"{agent}@example.com", "password": "nope"}).encode(),
            headers={"Content-Type": "application/json", "User-Agent": agent},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status
        except urllib.error.HTTPError as answer:
            return answer.code

    agents = {f"burst-{index}" for index in range(REQUESTS)}
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(attempt, sorted(agents)))
    assert set(statuses) == {401}
    return agents


def test_every_request_reaches_the_collector_from_three_workers(tmp_path) -> None:
    with OtlpHttpReceiver() as receiver:
        with gunicorn(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, **SPREAD) as base:
            sent = send_requests(base)
        records = receiver.log_records()
    requests = [
        r
        for r in records
        if r.event_name == "http_request" and r.attributes["url.path"] == "/api/auth/login"
    ]
    assert Counter(r.attributes["user_agent.original"] for r in requests) == Counter(sent)
    instances = {r.resource["service.instance.id"] for r in requests}
    assert len(instances) == WORKERS, "each worker builds its own providers after the fork"
    shutdowns = [r for r in records if r.event_name == "sys_shutdown"]
    stopped = {r.resource["service.instance.id"] for r in shutdowns}
    assert instances <= stopped, "every worker flushed and closed its trail"


def test_workers_share_the_telemetry_files_without_loss(tmp_path) -> None:
    logs = tmp_path / "logs"
    with gunicorn(
        tmp_path,
        TALARO_TELEMETRY_DIR=str(logs),
        TALARO_TELEMETRY_MAX_BYTES=str(16 * 1024),
        **SPREAD,
    ) as base:
        sent = send_requests(base)
    records = []
    for path in sorted(logs.glob("application.jsonl*")):
        if path.suffix != ".lock":
            records.extend(otlp_json.log_records(path))  # a broken line fails here
    requests = [
        r
        for r in records
        if r.event_name == "http_request" and r.attributes["url.path"] == "/api/auth/login"
    ]
    assert Counter(r.attributes["user_agent.original"] for r in requests) == Counter(sent)
    assert len({r.resource["service.instance.id"] for r in requests}) == WORKERS


def workers_serving(port: str) -> list[int]:
    """The gunicorn workers bound to `port`: processes with that bind in their environment
    whose parent (the master) has it too."""
    marker = f"GUNICORN_BIND=127.0.0.1:{port}".encode()
    bound: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker in (proc / "environ").read_bytes().split(b"\0"):
                stat = (proc / "stat").read_text()
                bound[int(proc.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
    return [pid for pid, parent in bound.items() if parent in bound]


def test_a_worker_killed_after_answering_loses_no_security_record(tmp_path) -> None:
    """SIGKILL right after the answers: every failed sign-in is in the security file (written
    before the response), while the batched application stream lost what it held."""
    logs = tmp_path / "logs"
    with gunicorn(tmp_path, TALARO_TELEMETRY_DIR=str(logs)) as base:
        sent = send_requests(base)
        workers = workers_serving(base.rsplit(":", 1)[1])
        assert len(workers) == WORKERS
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{pid}").exists() for pid in workers):
            assert time.monotonic() < deadline, "a killed worker is still there"
            time.sleep(0.05)
    security = [
        record
        for path in logs.iterdir()
        if path.name.startswith("security") and path.name.endswith(".jsonl")
        for record in otlp_json.log_records(path)
    ]
    failed = [r for r in security if r.event_name == "authn_login_fail"]
    assert Counter(r.attributes["user_agent.original"] for r in failed) == Counter(sent)
    assert {r.resource["service.instance.id"] for r in failed} <= {
        r.resource["service.instance.id"] for r in security if r.event_name == "sys_startup"
    }
    answered = [
        r
        for r in otlp_json.log_records(logs / "application.jsonl")
        if r.event_name == "http_request" and r.attributes["url.path"] == "/api/auth/login"
    ]
    assert len(answered) < len(sent), "the kill came before the application batches were written"

"""A server stopped with SIGTERM right after a burst has every request in its files."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.telemetry import otlp_json


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, deadline_s: float = 30) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"server at {url} did not start")


def test_sigterm_after_a_burst_flushes_every_request(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/server.sqlite",
        "SECRET_KEY": "sigterm-test",
        "TALARO_TELEMETRY_DIR": str(logs),
        "OTEL_BSP_SCHEDULE_DELAY": "30000",  # nothing leaves the queues before the stop
        "OTEL_BLRP_SCHEDULE_DELAY": "30000",
    }
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    flask = [sys.executable, "-m", "flask", "--app", "talaro"]
    subprocess.run([*flask, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "talaro.serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/healthz", server)
        burst = 40
        for index in range(burst):
            request = urllib.request.Request(f"{base}/api/jobs?n={index}")
            try:
                urllib.request.urlopen(request, timeout=5)
            except urllib.error.HTTPError as answer:
                assert answer.code == 401
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) is not None
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    records = otlp_json.log_records(logs / "application.jsonl")
    paths = [r.attributes["url.path"] for r in records if r.event_name == "http_request"]
    assert len(paths) == burst
    security = otlp_json.log_records(logs / "security.jsonl")
    assert sum(r.event_name == "authn_required" for r in security) == burst
    # The server's own trail (the migration command before it has its own instance id).
    (server_id,) = {
        r.resource["service.instance.id"] for r in records if r.event_name == "http_request"
    }
    for stream in (records, security):
        names = [r.event_name for r in stream if r.resource["service.instance.id"] == server_id]
        assert names[0] == "sys_startup" and names[-1] == "sys_shutdown"


def test_command_line_tools_open_a_trail_only_when_they_record_something(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/cli.sqlite",
        "SECRET_KEY": "cli-test",
        "TALARO_TELEMETRY_DIR": str(logs),
    }
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    flask = [sys.executable, "-m", "flask", "--app", "talaro"]
    for command in (["db", "upgrade"], ["logs"], ["--help"]):
        subprocess.run([*flask, *command], env=env, check=True, capture_output=True)
    assert otlp_json.log_records(logs / "security.jsonl") == []

    create = [
        "users",
        "create",
        "ops@example.com",
        "--role",
        "ADMIN",
        "--password",
        "a-long-enough-passphrase",
    ]
    subprocess.run([*flask, *create], env=env, check=True, capture_output=True)
    names = [r.event_name for r in otlp_json.log_records(logs / "security.jsonl")]
    assert names == ["sys_startup", "user_created", "sys_shutdown"]

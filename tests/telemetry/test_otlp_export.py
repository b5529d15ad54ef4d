"""OTLP export end to end: the app's real OTLP exporters against an in-process receiver.

The receivers (otlp_receiver.py) stand in for the OpenTelemetry Collector, which
cannot run here. Each test drives real API requests, flushes, and asserts on what
arrived over the wire: server spans with the user, log records of both streams
correlated to their request's trace, the resource, and metrics. The last tests
take the collector away (a closed port, a hung collector) and check that requests
neither slow down nor fail, that what is lost is counted, and that shutdown stays
bounded.
"""

from __future__ import annotations

import os
import socket
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

from talaro import telemetry
from talaro.models import Role, User
from talaro.telemetry.catalogue import (
    APPLICATION,
    INFO,
    SECURITY,
    STREAM_ATTRIBUTE,
    WARN,
)
from tests.conftest import telemetry_config
from tests.factories import PASSWORD, ApiClient, Factory, file_part, resume_text
from tests.telemetry import otlp_json
from tests.telemetry.otlp_receiver import (
    OtlpGrpcReceiver,
    OtlpHttpReceiver,
    otlp_grpc_receiver_fixture,  # noqa: F401 - the `otlp_grpc_receiver` fixture
    otlp_receiver_fixture,  # noqa: F401 - the `otlp_receiver` fixture
)

SERVER = ProtoSpan.SPAN_KIND_SERVER
STREAM_FILES = ("security.jsonl", "application.jsonl", "traces.jsonl", "metrics.jsonl")
REQUEST_DURATION = {"http.server.request.duration", "http.server.duration"}  # stable / old


@pytest.fixture(autouse=True)
def clean_otel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exporters read OTEL_* from the environment: a developer's own settings (a signal
    endpoint, a service name, a timeout) must not leak into these tests."""
    for name in list(os.environ):
        if name.startswith("OTEL_") and name != "OTEL_SEMCONV_STABILITY_OPT_IN":
            monkeypatch.delenv(name)


def otlp_settings(tmp_path: Path, endpoint: str, **overrides: Any) -> dict[str, Any]:
    settings = {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", **overrides}
    return telemetry_config(tmp_path / "logs", OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, **settings)


def closed_port() -> int:
    """A port on 127.0.0.1 that nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api_client(app: Flask, role: str) -> ApiClient:
    make = Factory(app)
    user = make.user(role)
    return ApiClient(app.test_client(), user, make.token(user))


# The scenario every export test drives ------------------------------------------


@dataclass
class Scenario:
    manager: User
    admin: User
    job_id: str


def drive(app: Flask) -> Scenario:
    """A manager signs in with a password and opens a job (session + CSRF); an admin's
    token tries to upload a resume (403); an anonymous client lists resumes (401)."""
    make = Factory(app)
    manager = make.user(Role.HIRING_MANAGER)
    admin = make.user(Role.ADMIN)
    admin_api = ApiClient(app.test_client(), admin, make.token(admin))

    browser = app.test_client()
    login = browser.post("/api/auth/login", json={"email": manager.email, "password": PASSWORD})
    assert login.status_code == 200, login.json
    job = browser.post(
        "/api/jobs",
        json={"title": "Platform Engineer", "department": "Infra"},
        headers={"X-CSRFToken": login.json["csrf_token"]},
    )
    assert job.status_code == 201, job.json

    upload = file_part(resume_text("Ada Lovelace", "ada@example.org"), "ada.txt")
    denied = admin_api.post(
        "/api/resumes", data={"file": upload}, content_type="multipart/form-data"
    )
    assert denied.status_code == 403, denied.json
    anonymous = app.test_client().get("/api/resumes")
    assert anonymous.status_code == 401, anonymous.json
    return Scenario(manager, admin, job.json["id"])


# Which records each request must produce, correlated by its server span:
# (server span name, event_name, stream, severity, event.outcome, who, status).
EXPECTED_RECORDS = (
    ("POST /api/auth/login", "authn_login_success", SECURITY, INFO, "success", "manager", 200),
    ("POST /api/auth/login", "http_request", APPLICATION, INFO, "success", "manager", 200),
    ("POST /api/jobs", "job_create", APPLICATION, INFO, "success", "manager", 201),
    ("POST /api/jobs", "http_request", APPLICATION, INFO, "success", "manager", 201),
    ("POST /api/resumes", "authz_fail", SECURITY, WARN, "failure", "admin", 403),
    ("POST /api/resumes", "http_request", APPLICATION, WARN, "failure", "admin", 403),
    ("GET /api/resumes", "authn_required", SECURITY, WARN, "failure", None, 401),
    ("GET /api/resumes", "http_request", APPLICATION, WARN, "failure", None, 401),
)


def server_spans(spans: list[otlp_json.Span]) -> dict[str, otlp_json.Span]:
    found: dict[str, otlp_json.Span] = {}
    for span in spans:
        if span.kind == SERVER:
            assert span.name not in found, f"two server spans named {span.name}"
            found[span.name] = span
    return found


def status_code(span: otlp_json.Span) -> Any:
    return span.attributes.get("http.response.status_code", span.attributes.get("http.status_code"))


def assert_user(attributes: dict[str, Any], user: User | None) -> None:
    if user is None:
        assert "user.id" not in attributes and "user.email" not in attributes
        return
    assert attributes["user.id"] == user.id
    assert attributes["user.email"] == user.email
    assert attributes["user.roles"] == [user.role]


def assert_scenario_spans(spans: list[otlp_json.Span], scenario: Scenario) -> None:
    servers = server_spans(spans)
    expected = {
        "POST /api/auth/login": (scenario.manager, None, 200),
        "POST /api/jobs": (scenario.manager, "session", 201),
        "POST /api/resumes": (scenario.admin, "token", 403),
        "GET /api/resumes": (None, None, 401),
    }
    assert set(expected) <= set(servers), sorted(servers)
    for name, (user, method, status) in expected.items():
        span = servers[name]
        assert span.attributes["http.route"] == name.split()[1]
        assert status_code(span) == status
        assert_user(span.attributes, user)
        if method is not None:
            assert span.attributes["talaro.auth.method"] == method
        if user is None:
            assert "talaro.auth.method" not in span.attributes
    # Work inside a request is a child of its server span (password check, database).
    login = servers["POST /api/auth/login"]
    children = [s for s in spans if s.trace_id == login.trace_id and s is not login]
    assert children and all(s.parent_span_id for s in children)
    assert "password.verify" in {s.name for s in children}


def assert_scenario_records(
    records: list[otlp_json.LogRecord], spans: list[otlp_json.Span], scenario: Scenario
) -> None:
    servers = server_spans(spans)
    users = {"manager": scenario.manager, "admin": scenario.admin, None: None}
    for span_name, event, stream, severity, outcome, who, status in EXPECTED_RECORDS:
        span = servers[span_name]
        method, route = span_name.split()
        matching = [r for r in records if r.event_name == event and r.trace_id == span.trace_id]
        assert len(matching) == 1, (span_name, event, [r.event_name for r in records])
        record = matching[0]
        where = f"{event} of {span_name}"
        # The record belongs to the request's server span (the same trace and span).
        assert record.span_id == span.span_id, where
        assert record.attributes[STREAM_ATTRIBUTE] == stream, where
        assert record.severity_number == severity.value, where
        assert record.severity_text, where
        assert record.attributes["event.outcome"] == outcome, where
        assert record.attributes["event.action"] == event, where
        assert record.attributes["client.address"] == "127.0.0.1", where
        assert record.attributes["http.request.method"] == method, where
        assert record.attributes["http.route"] == route, where
        assert record.attributes["user_agent.original"], where
        assert_user(record.attributes, users[who])
        if outcome == "failure" and event != "http_request":
            assert record.attributes["reason"], where
        if event == "http_request":
            assert record.attributes["http.response.status_code"] == status, where
            assert record.attributes["url.path"] == route, where
    by_event = {r.event_name: r for r in records}
    assert by_event["job_create"].attributes["job.id"] == scenario.job_id
    assert by_event["authz_fail"].attributes["talaro.action"] == "resume upload"
    assert by_event["authz_fail"].attributes["talaro.auth.method"] == "token"
    assert by_event["job_create"].attributes["talaro.auth.method"] == "session"
    # sys_startup opens both trails; it belongs to no request.
    startup = [r for r in records if r.event_name == "sys_startup"]
    assert sorted(r.attributes[STREAM_ATTRIBUTE] for r in startup) == [APPLICATION, SECURITY]
    assert all(r.trace_id == "" for r in startup)


def assert_resources(app: Flask, resources: list[dict[str, Any]]) -> None:
    """One resource for the whole process, on every signal."""
    assert resources
    first = resources[0]
    assert first["service.name"] == "talaro"
    assert first["service.version"] == version("talaro")
    assert first["deployment.environment.name"] == app.config["TALARO_ENVIRONMENT"]
    assert first["service.instance.id"]
    assert all(resource == first for resource in resources)


def assert_metrics(receiver: OtlpHttpReceiver | OtlpGrpcReceiver) -> None:
    names = receiver.metric_names()
    assert {"talaro.security.events", "process.cpu.time", "process.memory.usage"} <= names
    assert names & REQUEST_DURATION, sorted(names)
    security = {}
    for attributes, value in receiver.metric_points("talaro.security.events"):
        security[attributes["event.name"]] = value  # cumulative: the last point counts
    for event in ("authn_login_success", "authz_fail", "authn_required"):
        assert security.get(event) == 1, security
    # Self-health: nothing lost, so the drop counter is zero (or absent, when zero).
    assert all(value == 0 for _, value in receiver.metric_points("talaro.telemetry.dropped"))
    assert all(value > 0 for _, value in receiver.metric_points("process.memory.usage"))


def readiness(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.json
    return response.json["telemetry"]


def stream_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.jsonl*")) if folder.exists() else []


# With an endpoint, files default to off ("auto") but for the security stream's durable copy.
DURABLE_COPY = ["security.jsonl", "security.jsonl.lock"]


def local_files(folder: Path) -> list[str]:
    return [path.name for path in stream_files(folder)]


# Tests --------------------------------------------------------------------------


def test_http_protobuf_export_reaches_the_collector(
    make_app: Callable[..., Flask], otlp_receiver: OtlpHttpReceiver, tmp_path: Path
) -> None:
    app = make_app(**otlp_settings(tmp_path, otlp_receiver.url))
    assert readiness(app)["outputs"] == [
        "otlp:http/protobuf",
        f"security-file:{tmp_path / 'logs'}",
    ]

    scenario = drive(app)
    telemetry.flush(app)

    spans, records = otlp_receiver.spans(), otlp_receiver.log_records()
    assert_scenario_spans(spans, scenario)
    assert_scenario_records(records, spans, scenario)
    assert_resources(
        app,
        [s.resource for s in spans]
        + [r.resource for r in records]
        + otlp_receiver.metric_resources(),
    )
    assert_metrics(otlp_receiver)
    assert otlp_receiver.rejected == []
    health = readiness(app)
    assert health["dropped"] == {} and health["export_failures"] == {}

    # Shutdown flushes: sys_shutdown closes both trails at the collector.
    assert telemetry.shutdown(app) is True
    stopped = [r for r in otlp_receiver.log_records() if r.event_name == "sys_shutdown"]
    assert sorted(r.attributes[STREAM_ATTRIBUTE] for r in stopped) == [APPLICATION, SECURITY]
    # With an endpoint, files default to off ("auto"), but for the security stream's copy.
    assert local_files(tmp_path / "logs") == DURABLE_COPY


def test_files_always_keeps_the_files_next_to_the_collector(
    make_app: Callable[..., Flask],
    otlp_receiver: OtlpHttpReceiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")  # read by the exporters
    app = make_app(**otlp_settings(tmp_path, otlp_receiver.url, TALARO_TELEMETRY_FILES="always"))
    folder = tmp_path / "logs"
    assert readiness(app)["outputs"] == ["otlp:http/protobuf", f"files:{folder}"]

    scenario = drive(app)
    telemetry.flush(app)

    assert otlp_receiver.content_encodings and set(otlp_receiver.content_encodings) == {"gzip"}
    wire_spans, wire_records = otlp_receiver.spans(), otlp_receiver.log_records()
    assert_scenario_spans(wire_spans, scenario)
    assert_scenario_records(wire_records, wire_spans, scenario)

    # The files hold the same records, split by stream, and the same spans.
    def key(record: otlp_json.LogRecord) -> tuple[str, str, str, str]:
        return (
            record.event_name,
            record.trace_id,
            record.span_id,
            repr(sorted(record.attributes.items())),
        )

    for stream in (SECURITY, APPLICATION):
        in_file = otlp_json.log_records(folder / f"{stream}.jsonl")
        assert in_file and all(r.attributes[STREAM_ATTRIBUTE] == stream for r in in_file)
        on_wire = [r for r in wire_records if r.attributes[STREAM_ATTRIBUTE] == stream]
        assert sorted(map(key, in_file)) == sorted(map(key, on_wire)), stream
    file_spans = otlp_json.spans(folder / "traces.jsonl")
    assert {(s.trace_id, s.span_id, s.name) for s in file_spans} == {
        (s.trace_id, s.span_id, s.name) for s in wire_spans
    }
    file_records = otlp_json.log_records(folder / "security.jsonl")
    assert (
        file_records[0].resource["service.instance.id"]
        == (wire_records[0].resource["service.instance.id"])
    )
    assert otlp_receiver.metric_names() <= otlp_json.metric_names(folder / "metrics.jsonl")
    assert_metrics(otlp_receiver)
    assert telemetry.shutdown(app) is True


def test_grpc_export_reaches_the_collector(
    make_app: Callable[..., Flask], otlp_grpc_receiver: OtlpGrpcReceiver, tmp_path: Path
) -> None:
    app = make_app(
        **otlp_settings(tmp_path, otlp_grpc_receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL="grpc")
    )
    assert readiness(app)["outputs"] == ["otlp:grpc", f"security-file:{tmp_path / 'logs'}"]

    scenario = drive(app)
    telemetry.flush(app)

    spans, records = otlp_grpc_receiver.spans(), otlp_grpc_receiver.log_records()
    assert_scenario_spans(spans, scenario)
    assert_scenario_records(records, spans, scenario)
    assert_resources(
        app,
        [s.resource for s in spans]
        + [r.resource for r in records]
        + otlp_grpc_receiver.metric_resources(),
    )
    assert_metrics(otlp_grpc_receiver)
    assert telemetry.shutdown(app) is True
    assert "sys_shutdown" in {r.event_name for r in otlp_grpc_receiver.log_records()}
    assert local_files(tmp_path / "logs") == DURABLE_COPY


def test_dead_collector_neither_slows_nor_fails_requests(
    make_app: Callable[..., Flask], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The OTLP/HTTP exporter reads its per-export deadline (seconds) at construction;
    # 0.5 s is shorter than its first retry backoff, so each failed export ends at once.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "0.5")
    dead = f"http://127.0.0.1:{closed_port()}"
    on = make_app(
        **otlp_settings(
            tmp_path,
            dead,
            TALARO_TELEMETRY_QUEUE_SIZE=8,  # below the SDK's default batch of 512
            TALARO_TELEMETRY_SHUTDOWN_TIMEOUT=2.0,
        ),
    )
    off = make_app(TALARO_TELEMETRY_ENABLED=False)  # the baseline
    clients = {"on": api_client(on, Role.RECRUITER), "off": api_client(off, Role.RECRUITER)}
    anonymous = on.test_client()
    durations: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(3):  # warm up both
        for client in clients.values():
            client.get("/api/jobs")
    for _ in range(50):  # interleaved, so both see the same machine load
        for name, client in clients.items():
            started = time.perf_counter()
            response = client.get("/api/jobs")
            durations[name].append(time.perf_counter() - started)
            assert response.status_code == 200
        assert anonymous.get("/api/resumes").status_code == 401

    assert max(durations["on"]) < 1.0, max(durations["on"])
    median_on, median_off = statistics.median(durations["on"]), statistics.median(durations["off"])
    assert median_on < 5 * median_off + 0.05, (median_on, median_off)

    # What could not be delivered is counted, and /readyz shows it (still 200).
    deadline = time.monotonic() + 10
    while not sum(readiness(on)["dropped"].values()):
        assert time.monotonic() < deadline, readiness(on)
        time.sleep(0.02)
    telemetry.flush(on)
    health = readiness(on)
    for signal in ("traces", "logs", "metrics"):
        assert health["export_failures"].get(signal, 0) > 0, health
        assert health["dropped"].get(signal, 0) > 0, health
    # Every one of the 100+ http_request records is lost, and counted as lost.
    assert health["dropped"]["logs"] >= 2 * 50

    started = time.perf_counter()
    telemetry.shutdown(on)
    assert time.perf_counter() - started < 4.0
    telemetry.shutdown(off)
    assert local_files(tmp_path / "logs") == DURABLE_COPY


class CountingLogger:
    """Wraps the app's OpenTelemetry logger to count the records it was handed."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.emitted = inner, 0

    def emit(self, *args: Any, **kwargs: Any) -> None:
        self.emitted += 1
        self.inner.emit(*args, **kwargs)


def test_hung_collector_drops_and_counts_exactly_and_shutdown_stays_bounded(
    make_app: Callable[..., Flask], otlp_receiver: OtlpHttpReceiver, tmp_path: Path
) -> None:
    app = make_app(
        **otlp_settings(
            tmp_path,
            otlp_receiver.url,
            TALARO_TELEMETRY_QUEUE_SIZE=8,
            TALARO_TELEMETRY_SHUTDOWN_TIMEOUT=2.0,
        )
    )
    client = api_client(app, Role.RECRUITER)
    telemetry.flush(app)
    otlp_receiver.clear()
    runtime = telemetry.get_runtime(app)
    assert runtime is not None
    counting = CountingLogger(runtime.logger)
    runtime.logger = counting

    # The collector accepts connections but never answers (until resumed).
    otlp_receiver.stall()
    slowest = 0.0

    def request() -> None:
        nonlocal slowest
        started = time.perf_counter()
        assert client.get("/api/jobs").status_code == 200
        slowest = max(slowest, time.perf_counter() - started)

    # Until the export thread has taken its first batch and hangs on it...
    deadline = time.monotonic() + 10
    while not otlp_receiver.held("logs"):
        assert time.monotonic() < deadline, "the log export never reached the receiver"
        request()
        time.sleep(0.01)
    # ...then the queue (8) fills and everything after it is dropped, and counted.
    for _ in range(30):
        request()
    assert slowest < 1.0, slowest
    health = readiness(app)
    assert health["export_failures"] == {}, health  # nothing failed: it was dropped
    assert health["dropped"]["logs"] >= 30 - 8, health
    assert health["dropped"].get("traces", 0) > 0, health

    # The collector comes back: everything not dropped arrives, nothing twice.
    otlp_receiver.resume()
    telemetry.flush(app)
    health = readiness(app)
    assert health["export_failures"] == {}, health
    received = otlp_receiver.log_records()
    assert len(received) + health["dropped"]["logs"] == counting.emitted
    assert len({(r.trace_id, r.event_name) for r in received}) == len(received)
    reported = dict(
        (attributes["signal"], value)
        for attributes, value in otlp_receiver.metric_points("talaro.telemetry.dropped")
    )
    assert reported["logs"] == health["dropped"]["logs"]

    # A hung collector at shutdown: stop within TALARO_TELEMETRY_SHUTDOWN_TIMEOUT anyway.
    otlp_receiver.stall()
    for _ in range(3):
        request()
    started = time.perf_counter()
    finished = telemetry.shutdown(app)
    elapsed = time.perf_counter() - started
    otlp_receiver.resume()
    assert elapsed < 4.0, elapsed
    assert finished is False  # it gave up rather than wait for the collector

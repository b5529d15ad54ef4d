"""docker-compose.yml and the Dockerfile, checked by structure (no Docker engine here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def collector() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "otel-collector.yaml").read_text())


def test_every_image_is_pinned_to_a_version(compose) -> None:
    for name, service in compose["services"].items():
        if "build" in service:
            continue
        image = service["image"]
        assert re.fullmatch(r"[\w./-]+:\d+(\.\d+)+[\w.-]*", image), f"{name}: {image} not pinned"


def test_the_service_exports_to_the_collectors_receiver(compose, collector) -> None:
    env = compose["services"]["talaro"]["environment"]
    endpoint = env["OTEL_EXPORTER_OTLP_ENDPOINT"]
    host, port = re.fullmatch(r"http://([\w-]+):(\d+)", endpoint).groups()
    assert host in compose["services"]
    assert "opentelemetry-collector-contrib" in compose["services"][host]["image"]
    protocol = env["OTEL_EXPORTER_OTLP_PROTOCOL"]
    receiver = collector["receivers"]["otlp"]["protocols"]
    kind = "grpc" if protocol == "grpc" else "http"
    assert protocol in ("grpc", "http/protobuf")
    assert receiver[kind]["endpoint"].endswith(f":{port}")
    assert receiver[kind]["endpoint"].startswith("0.0.0.0:")


def test_collector_mounts_its_config_and_the_log_folder(compose) -> None:
    service = compose["services"]["otel-collector"]
    mounts = dict(volume.split(":")[:2] for volume in service["volumes"])
    config_path = next(arg.split("=", 1)[1] for arg in service["command"] if "--config" in arg)
    assert mounts["./otel-collector.yaml"] == config_path
    assert mounts["./logs"] == "/var/log/talaro"
    collector_paths = yaml.safe_load((ROOT / "otel-collector.yaml").read_text())["exporters"]
    for exporter in collector_paths.values():
        if "path" in exporter:
            assert exporter["path"].startswith("/var/log/talaro/")


def test_log_folder_is_handed_to_the_collectors_uid_first(compose) -> None:
    collector = compose["services"]["otel-collector"]
    waits_for = collector["depends_on"]
    (init,) = [
        n for n, c in waits_for.items() if c["condition"] == "service_completed_successfully"
    ]
    assert "10001" in " ".join(compose["services"][init]["command"])
    assert "./logs:/var/log/talaro" in compose["services"][init]["volumes"]


def test_service_waits_for_a_healthy_postgres_and_uses_it(compose) -> None:
    talaro = compose["services"]["talaro"]
    assert talaro["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in compose["services"]["postgres"]
    assert talaro["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert talaro["environment"]["DATABASE_URL"].split("@")[1].startswith("postgres:")
    assert talaro["environment"]["TALARO_REDIS_URL"].startswith("redis://redis:")
    assert any("postgresql" in v for v in compose["services"]["postgres"]["volumes"])
    assert "postgres-data" in compose["volumes"]


def test_jaeger_ui_is_published(compose) -> None:
    assert "16686:16686" in compose["services"]["jaeger"]["ports"]


def test_secrets_are_never_hard_coded(compose) -> None:
    value = compose["services"]["talaro"]["environment"]["SECRET_KEY"]
    assert value.startswith("${") and ":?" in value
    password = compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert password.startswith("${TALARO_DB_PASSWORD:?")
    url = compose["services"]["talaro"]["environment"]["DATABASE_URL"]
    assert "${TALARO_DB_PASSWORD" in url


def test_dockerfile_runs_gunicorn_as_non_root_with_migrations_and_health_check() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim", dockerfile, re.M)
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text()
    upgrade, server = entrypoint.index("db upgrade"), entrypoint.index("exec gunicorn")
    assert upgrade < server
    assert "gunicorn.conf.py" in entrypoint

"""otel-collector.yaml, checked as the collector would check it (no collector binary here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from talaro.telemetry.catalogue import APPLICATION, SECURITY, STREAM_ATTRIBUTE
from talaro.telemetry.runtime import FILE_NAMES

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("receivers", "processors", "exporters", "connectors", "extensions")


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "otel-collector.yaml").read_text())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def pipelines(config: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    return config["service"]["pipelines"]


def test_every_component_used_is_defined_and_every_defined_one_is_used(config) -> None:
    used: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for pipeline in pipelines(config).values():
        used["receivers"].update(pipeline.get("receivers", []))
        used["processors"].update(pipeline.get("processors", []))
        used["exporters"].update(pipeline.get("exporters", []))
    used["extensions"].update(config["service"].get("extensions", []))
    # A connector is an exporter of one pipeline and a receiver of another.
    connectors = set(config.get("connectors", {}))
    used["connectors"] = (used["receivers"] | used["exporters"]) & connectors
    used["receivers"] -= connectors
    used["exporters"] -= connectors
    for kind in KINDS:
        defined = set(config.get(kind, {}))
        assert used[kind] <= defined, f"{kind} used but not defined: {used[kind] - defined}"
        assert defined <= used[kind], f"{kind} defined but unused: {defined - used[kind]}"
    for name in connectors:
        as_exporter = [p for p, d in pipelines(config).items() if name in d.get("exporters", [])]
        as_receiver = [p for p, d in pipelines(config).items() if name in d.get("receivers", [])]
        assert as_exporter and as_receiver, f"connector {name} must join two pipelines"


def test_pipelines_have_memory_limiter_first_and_batch_last_before_files(config) -> None:
    for name, pipeline in pipelines(config).items():
        processors = pipeline.get("processors", [])
        assert processors and processors[0] == "memory_limiter", name
        if any(e.startswith("file/") for e in pipeline.get("exporters", [])):
            assert processors[-1] == "batch", f"{name}: the file exporter has no queue"


def test_routing_uses_the_log_context_and_the_services_own_attribute(config) -> None:
    (router,) = [c for name, c in config["connectors"].items() if name.startswith("routing")]
    (route,) = router["table"]
    assert route["context"] == "log"
    assert route["condition"] == f'attributes["{STREAM_ATTRIBUTE}"] == "{SECURITY}"'
    (security_pipeline,) = route["pipelines"]
    (default_pipeline,) = router["default_pipelines"]
    files = {
        name: config["exporters"][exporter]["path"]
        for name in (security_pipeline, default_pipeline)
        for exporter in pipelines(config)[name]["exporters"]
    }
    assert Path(files[security_pipeline]).name == FILE_NAMES[SECURITY]
    assert Path(files[default_pipeline]).name == FILE_NAMES[APPLICATION]


def test_file_exporters_write_the_embedded_file_names_as_otlp_json(config) -> None:
    names = set()
    for name, exporter in config["exporters"].items():
        if name.startswith("file/"):
            assert exporter["format"] == "json"
            assert not (exporter.get("append") and exporter.get("rotation")), name
            assert exporter["rotation"]["max_megabytes"] > 0
            names.add(Path(exporter["path"]).name)
    assert names == set(FILE_NAMES.values())
    traces = pipelines(config)["traces"]["exporters"]
    assert any(
        Path(config["exporters"][e]["path"]).name == FILE_NAMES["traces"]
        for e in traces
        if e.startswith("file/")
    )


def test_traces_reach_jaegers_otlp_port_named_in_compose(config, compose) -> None:
    jaeger = [e for e in pipelines(config)["traces"]["exporters"] if e.startswith("otlp")]
    (exporter,) = jaeger
    host, port = config["exporters"][exporter]["endpoint"].rsplit(":", 1)
    assert host in compose["services"]
    assert "jaeger" in compose["services"][host]["image"]
    exposed = {str(p).split(":")[-1] for p in compose["services"][host].get("expose", [])}
    assert port == "4317" and port in exposed
    assert config["exporters"][exporter]["tls"]["insecure"] is True


def test_health_check_listens_on_all_interfaces(config) -> None:
    assert config["extensions"]["health_check"]["endpoint"] == "0.0.0.0:13133"


def secret_key_pattern(config: dict[str, Any]) -> re.Pattern[str]:
    statements = config["processors"]["transform/drop_secrets"]["log_statements"][0]
    (statement,) = statements["statements"]
    match = re.fullmatch(r'delete_matching_keys\(attributes, "(.*)"\)', statement)
    assert match, statement
    # RE2 and Python agree on this subset (no look-arounds, no backreferences).
    pattern = match.group(1)
    assert "(?=" not in pattern and "(?!" not in pattern and "(?<" not in pattern
    return re.compile(pattern)


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "user.password",
        "http.request.header.authorization",
        "session_id",
        "csrf_token",
        "token",
        "api_key",
        "http.request.header.cookie",
        "client_secret",
        "file.name",  # it usually names the candidate; the service never sends it
    ],
)
def test_redaction_deletes_credential_looking_keys(config, key) -> None:
    assert secret_key_pattern(config).search(key)


@pytest.mark.parametrize(
    "key",
    [
        "talaro.token.id",
        "user.id",
        "user.email",
        "event.action",
        "http.route",
        "reason",
        "file.extension",
        "file.hash.sha256",
        "file.size",
        STREAM_ATTRIBUTE,
    ],
)
def test_redaction_keeps_what_the_service_records(config, key) -> None:
    assert not secret_key_pattern(config).search(key)


def test_the_same_rule_guards_spans(config) -> None:
    spans = config["processors"]["transform/drop_secrets"]["trace_statements"][0]
    logs = config["processors"]["transform/drop_secrets"]["log_statements"][0]
    assert spans["context"] == "span" and logs["context"] == "log"
    assert spans["statements"] == logs["statements"]

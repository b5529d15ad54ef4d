"""Read OTLP JSON Lines files back for assertions, straight from the raw JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def any_value(value: dict[str, Any]) -> Any:
    """Decode an OTLP JSON AnyValue."""
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return value["doubleValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "arrayValue" in value:
        return [any_value(v) for v in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return attributes(value["kvlistValue"].get("values", []))
    return None


def attributes(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    return {pair["key"]: any_value(pair.get("value", {})) for pair in pairs}


@dataclass
class LogRecord:
    event_name: str
    severity_number: int
    severity_text: str
    body: Any
    attributes: dict[str, Any]
    resource: dict[str, Any]
    trace_id: str
    span_id: str
    time_unix_nano: int


@dataclass
class Span:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    attributes: dict[str, Any]
    resource: dict[str, Any]


def lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a file, each parsed as JSON (a broken line fails the caller's test)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def log_records(path: Path) -> list[LogRecord]:
    records = []
    for payload in lines(path):
        for resource_logs in payload.get("resourceLogs", []):
            resource = attributes(resource_logs.get("resource", {}).get("attributes", []))
            for scope_logs in resource_logs.get("scopeLogs", []):
                for record in scope_logs.get("logRecords", []):
                    records.append(
                        LogRecord(
                            event_name=record.get("eventName", ""),
                            severity_number=record.get("severityNumber", 0),
                            severity_text=record.get("severityText", ""),
                            body=any_value(record.get("body", {})),
                            attributes=attributes(record.get("attributes", [])),
                            resource=resource,
                            trace_id=record.get("traceId", ""),
                            span_id=record.get("spanId", ""),
                            time_unix_nano=int(record.get("timeUnixNano", 0)),
                        )
                    )
    return records


def spans(path: Path) -> list[Span]:
    found = []
    for payload in lines(path):
        for resource_spans in payload.get("resourceSpans", []):
            resource = attributes(resource_spans.get("resource", {}).get("attributes", []))
            for scope_spans in resource_spans.get("scopeSpans", []):
                for span in scope_spans.get("spans", []):
                    found.append(
                        Span(
                            name=span["name"],
                            trace_id=span["traceId"],
                            span_id=span["spanId"],
                            parent_span_id=span.get("parentSpanId", ""),
                            kind=span.get("kind", 0),
                            attributes=attributes(span.get("attributes", [])),
                            resource=resource,
                        )
                    )
    return found


def metric_names(path: Path) -> set[str]:
    names = set()
    for payload in lines(path):
        for resource_metrics in payload.get("resourceMetrics", []):
            for scope_metrics in resource_metrics.get("scopeMetrics", []):
                names.update(metric["name"] for metric in scope_metrics.get("metrics", []))
    return names

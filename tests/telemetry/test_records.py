"""Catalogue records built ready (talaro/telemetry/records.py): masked, cut and typed as
the SDK's generic path would hold them, and that path still taken for unusual values."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

from flask import Flask

from talaro import telemetry
from talaro.telemetry import events
from talaro.telemetry.catalogue import RESUME_VIEW
from tests.telemetry import otlp_json

TOKEN = "tlr_Sup3rSecretTokenValue1234567890"


class Colour(StrEnum):
    SECRET = f"Bearer {TOKEN}"


def written(app: Flask) -> tuple[list[otlp_json.LogRecord], list[dict[str, Any]]]:
    """The application stream's records, decoded, and as the raw OTLP JSON dicts."""
    telemetry.flush(app)
    path = Path(app.config["TALARO_TELEMETRY_DIR"]) / "application.jsonl"
    raw = [
        record
        for line in otlp_json.lines(path)
        for resource in line["resourceLogs"]
        for scope in resource["scopeLogs"]
        for record in scope["logRecords"]
    ]
    views = [r for r in otlp_json.log_records(path) if r.event_name == "resume_view"]
    return views, [r for r in raw if r.get("eventName") == "resume_view"]


def test_records_are_masked_cut_and_typed(make_app: Callable[..., Flask]) -> None:
    app = make_app(OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT=100)
    agent = f"curl/8 Bearer {TOKEN}"
    with app.test_request_context("/api/resumes/r1", headers={"User-Agent": agent}):
        for n in range(2):  # the second record reuses the request's masked attributes
            events.emit(
                RESUME_VIEW,
                attributes={
                    "resume.id": f"r{n}",
                    "talaro.note": "x" * 500,
                    "talaro.tags": ["a", TOKEN],
                    "talaro.nested": [["b", TOKEN], []],
                    "talaro.text": f"password={TOKEN}",
                    "talaro.colour": Colour.SECRET,
                    "talaro.count": 3,
                    "talaro.flag": True,
                },
            )
    with app.test_request_context("/api/resumes/r2", headers={"User-Agent": "Firefox/140"}):
        events.emit(RESUME_VIEW, attributes={"resume.id": "r2"})
    views, raw = written(app)
    assert [v.attributes["resume.id"] for v in views] == ["r0", "r1", "r2"]
    for view in views[:2]:
        assert view.attributes["user_agent.original"] == "curl/8 Bearer [REDACTED]"
        assert view.attributes["talaro.note"] == "x" * 100
        assert view.attributes["talaro.tags"] == ["a", "[REDACTED]"]
        assert view.attributes["talaro.nested"] == [["b", "[REDACTED]"], []]
        assert view.attributes["talaro.text"] == "password=[REDACTED]"
        assert view.attributes["talaro.colour"] == "Bearer [REDACTED]"
        assert view.attributes["talaro.count"] == 3 and view.attributes["talaro.flag"] is True
        assert view.attributes["event.category"] == ["database"]
        assert view.attributes["talaro.stream"] == "application"
    assert views[2].attributes["user_agent.original"] == "Firefox/140"
    assert "talaro.note" not in views[2].attributes
    assert TOKEN not in json.dumps(raw)


def test_count_limit_drops_the_oldest_and_says_so(make_app: Callable[..., Flask]) -> None:
    app = make_app(OTEL_ATTRIBUTE_COUNT_LIMIT=6)
    with app.test_request_context("/api/resumes/r1"):
        events.emit(RESUME_VIEW, attributes={"resume.id": "r1", "talaro.a": "1", "talaro.b": "2"})
    views, raw = written(app)
    kept = list(views[0].attributes)
    assert len(kept) == 6
    assert kept[-4:] == ["resume.id", "talaro.a", "talaro.b", "talaro.stream"]
    assert raw[0]["droppedAttributesCount"] > 0


def test_an_unusual_value_takes_the_generic_path(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    agent = f"Bearer {TOKEN}"
    with app.test_request_context("/api/resumes/r1", headers={"User-Agent": agent}):
        events.emit(RESUME_VIEW, attributes={"resume.id": "r1", "talaro.raw": b"\x00\x01"})
    views, raw = written(app)
    assert views[0].attributes["user_agent.original"] == "Bearer [REDACTED]"
    raw_value = next(a["value"] for a in raw[0]["attributes"] if a["key"] == "talaro.raw")
    assert raw_value == {"bytesValue": "AAE="}

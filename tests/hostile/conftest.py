"""Hostile uploads go through the real extraction pool with tight, fast limits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from talaro import telemetry
from tests.telemetry import otlp_json


@pytest.fixture(autouse=True)
def tight_limits(app: Flask) -> None:
    app.config.update(TALARO_EXTRACT_TIMEOUT_S=3.0, TALARO_EXTRACT_MEMORY_MB=512)


@pytest.fixture
def security_records(app: Flask) -> Callable[[str], list[otlp_json.LogRecord]]:
    """`security_records("upload_validation")`: flush, then that event's records."""

    def read(event: str) -> list[otlp_json.LogRecord]:
        telemetry.flush(app)
        path = Path(app.config["TALARO_TELEMETRY_DIR"]) / "security.jsonl"
        return [r for r in otlp_json.log_records(path) if r.event_name == event]

    return read

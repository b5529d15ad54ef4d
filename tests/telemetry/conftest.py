"""Fixtures for telemetry tests: the app's telemetry folder and a flush-and-read helper."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from talaro import telemetry
from tests.telemetry import otlp_json


@pytest.fixture
def telemetry_dir(app: Flask) -> Path:
    return Path(app.config["TALARO_TELEMETRY_DIR"])


@pytest.fixture
def read_stream(app: Flask, telemetry_dir: Path) -> Callable[[str], list[otlp_json.LogRecord]]:
    """`read_stream("security")`: flush the exporters, then parse that stream's file."""

    def read(stream: str) -> list[otlp_json.LogRecord]:
        telemetry.flush(app)
        return otlp_json.log_records(telemetry_dir / f"{stream}.jsonl")

    return read

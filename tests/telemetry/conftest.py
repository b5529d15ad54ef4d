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


@pytest.fixture
def make_app_with(tmp_path: Path):
    """Build extra apps with telemetry settings of the test's choosing; all shut down after."""
    from talaro import create_app
    from talaro.extensions import db
    from tests.conftest import base_config, telemetry_config

    made: list[Flask] = []

    def build(folder: Path, **settings: object) -> Flask:
        database = tmp_path / f"app{len(made)}.sqlite"
        app = create_app(
            base_config(
                SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
                **telemetry_config(folder, **settings),
            )
        )
        with app.app_context():
            db.create_all()
        made.append(app)
        return app

    yield build
    for app in made:
        telemetry.shutdown(app)

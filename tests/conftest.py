"""Shared fixtures: an app per test on a real database, clients per role, data factories."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from talaro import create_app, telemetry
from talaro.config import normalise_database_url
from talaro.extensions import db
from tests import factories

# What the process entry points (gunicorn.conf.py, make run) set for the service.
os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")

REQUIRE_SERVICES = os.environ.get("TALARO_REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get(
    "TALARO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def unavailable(reason: str) -> None:
    """Skip on a laptop without the service; fail in CI, where it must be there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (TALARO_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def base_config(**overrides: Any) -> dict[str, Any]:
    """Settings for a test app; telemetry stays off unless a test turns it on."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-only-" + uuid.uuid4().hex,
        "TALARO_MAX_FILE_SIZE": 512 * 1024,
        "TALARO_MAX_BULK_FILES": 10,
        "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
        "TALARO_TELEMETRY_ENABLED": False,
    }
    config.update(overrides)
    return config


def telemetry_config(folder: Any, **overrides: Any) -> dict[str, Any]:
    """Telemetry on, written to files in `folder` (the embedded default)."""
    return {
        "TALARO_TELEMETRY_ENABLED": True,
        "TALARO_TELEMETRY_DIR": str(folder),
        "TALARO_TELEMETRY_FILES": "auto",
        "TALARO_METRIC_EXPORT_INTERVAL_MS": 3_600_000,  # tests flush explicitly
        # The host's shared counters (telemetry/host.py) next to the folder, not in /dev/shm.
        "TALARO_TELEMETRY_HEALTH_DIR": f"{folder}-health",
        # Every SQL statement's span, as the tests of spans expect (the default, 1 ms,
        # keeps only slow and failed ones; the server span counts them all either way).
        "TALARO_TELEMETRY_DB_SPAN_MIN_MS": 0.0,
        **overrides,
    }


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    admin_url = normalise_database_url(POSTGRES_URL)
    name = f"talaro_test_{uuid.uuid4().hex[:12]}"
    try:
        engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        unavailable(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc.orig}")
    parts = urlsplit(admin_url)
    url = urlunsplit(parts._replace(path=f"/{name}"))
    yield url
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


_postgres_schema_ready: set[str] = set()


def stop_and_empty(app: Flask) -> None:
    """Flush the app's telemetry, then empty every table of its shared PostgreSQL database
    (the schema stays for the next app on the same database)."""
    telemetry.shutdown(app)
    with app.app_context():
        db.session.remove()
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {tables} CASCADE"))
        db.engine.dispose()


@pytest.fixture
def backend() -> str:
    """The database under test; tests/blueprints runs every test on both."""
    return "sqlite"


@pytest.fixture
def make_app(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> Iterator[Callable[..., Flask]]:
    """`make_app(**overrides)`: an app on the test's database (SQLite in tmp_path, or the
    run's PostgreSQL database when `backend` says so), schema created, with `base_config`
    and telemetry to files in tmp_path/"logs"; `overrides` win over both. Several apps in
    one test share the database, like workers, and each writes to its own folder ("logs",
    "logs1", ...) unless told otherwise. All are shut down afterwards, and PostgreSQL's
    tables emptied."""
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_database")
    else:
        url = f"sqlite:///{tmp_path}/test.sqlite"
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        logs = tmp_path / (f"logs{len(made)}" if made else "logs")
        app = create_app(
            base_config(**{"SQLALCHEMY_DATABASE_URI": url, **telemetry_config(logs), **overrides})
        )
        made.append(app)
        with app.app_context():
            database = app.config["SQLALCHEMY_DATABASE_URI"]
            if database.startswith("sqlite") or database not in _postgres_schema_ready:
                db.create_all()
                if not database.startswith("sqlite"):
                    _postgres_schema_ready.add(database)
        return app

    yield make
    for app in made:
        if backend == "postgresql" and app is made[-1]:
            stop_and_empty(app)  # last, once the other apps have let go of their connections
        else:
            telemetry.shutdown(app)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make(app: Flask) -> factories.Factory:
    """Data factories bound to the app: `make.user(role)`, `make.job()`, `make.resume()`..."""
    return factories.Factory(app)


@pytest.fixture
def as_role(app: Flask, make: factories.Factory) -> factories.RoleClients:
    """`as_role("RECRUITER")` is an API client signed in with a fresh user's bearer token."""
    return factories.RoleClients(app, make)

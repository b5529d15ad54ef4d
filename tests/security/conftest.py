"""Apps with low detection thresholds, on a shared database and (for the Redis tests) a
shared Redis under a private key prefix; helpers to read the security telemetry file."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from argon2 import PasswordHasher
from flask import Flask

from talaro import telemetry
from talaro.extensions import db
from talaro.models import Role, User
from talaro.security import EXTENSION
from talaro.services import passwords
from tests import factories
from tests.conftest import unavailable
from tests.telemetry import otlp_json

REDIS_URL = os.environ.get("TALARO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "correct horse battery staple"
# Low thresholds so a test reaches each rule in a few requests; limits out of the way.
LOW_THRESHOLDS: dict[str, Any] = {
    "TALARO_DETECT_ACCOUNT_FAILURES": 3,
    "TALARO_DETECT_ACCOUNT_WINDOW": 60,
    "TALARO_LOCK_SECONDS": 60,
    "TALARO_DETECT_STUFFING_ACCOUNTS": 4,
    "TALARO_DETECT_STUFFING_WINDOW": 60,
    "TALARO_DETECT_SERVICE_MIN_FAILURES": 1000,
    "TALARO_DETECT_REGISTRATIONS": 3,
    "TALARO_DETECT_REGISTRATIONS_WINDOW": 60,
    "TALARO_DETECT_404": 4,
    "TALARO_DETECT_404_WINDOW": 60,
    "TALARO_DETECT_403": 3,
    "TALARO_DETECT_403_WINDOW": 60,
    "TALARO_RATELIMIT_SIGNIN": "1000 per minute",
    "TALARO_RATELIMIT_REGISTER": "1000 per minute",
    "TALARO_RATELIMIT_TOKENS": "1000 per minute",
    "TALARO_RATELIMIT_UPLOAD": "1000 per minute",
    "TALARO_RATELIMIT_BULK_UPLOAD": "1000 per minute",
}


class FakeClock:
    """An injectable clock for the in-process store: tests move time instead of sleeping."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fast_passwords(monkeypatch: pytest.MonkeyPatch) -> PasswordHasher:
    """A cheap Argon2 for tests that count many sign-ins (the timing test keeps the real one):
    the stored hashes and the dummy hash use the same cheap parameters."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    dummy = cheap.hash("not-a-real-password")
    monkeypatch.setattr(passwords, "_hasher", lambda: cheap)
    monkeypatch.setattr(passwords, "_dummy_hash", lambda: dummy)
    return cheap


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The test Redis, cleaned of this test's keys afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable(f"Redis is not reachable at {REDIS_URL}: {exc}")
    yield REDIS_URL
    client.close()


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    prefix = f"talaro-test-{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"*{prefix}*", count=500))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def build(make_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """`build(**settings)`: an app (a worker) with the low thresholds on the test's database,
    with its own telemetry folder; several built in one test play several workers."""
    return lambda **settings: make_app(**{**LOW_THRESHOLDS, **settings})


@pytest.fixture
def app(build: Callable[..., Flask]) -> Flask:
    return build()


@pytest.fixture
def make_for() -> Callable[[Flask], factories.Factory]:
    """Data factories for an app the test built."""
    return factories.Factory


def fake_clock(app: Flask) -> FakeClock:
    """Drive the app's in-process store with a fake clock."""
    fake = FakeClock()
    app.extensions[EXTENSION].store.clock = fake
    return fake


@pytest.fixture
def clock(app: Flask) -> FakeClock:
    return fake_clock(app)


def security_records(app: Flask, name: str | None = None) -> list[otlp_json.LogRecord]:
    """Flush, then read the app's security file (optionally only events called `name`)."""
    telemetry.flush(app)
    path = Path(app.config["TALARO_TELEMETRY_DIR"]) / "security.jsonl"
    records = otlp_json.log_records(path)
    return [r for r in records if name is None or r.event_name == name]


def add_user(
    app: Flask, hasher: PasswordHasher, email: str, role: str = Role.INTERVIEWER, **kw: Any
) -> str:
    """A user whose password hash uses `hasher` (cheap in detection tests); its id."""
    with app.app_context():
        user = User(email=email, name=email, password_hash=hasher.hash(PASSWORD), role=role, **kw)
        db.session.add(user)
        db.session.commit()
        return user.id


def csrf_from(client: Any, path: str = "/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: Any, email: str, password: str = "wrong password", addr: str = "") -> Any:
    environ = {"REMOTE_ADDR": addr} if addr else {}
    return client.post(
        "/api/auth/login", json={"email": email, "password": password}, environ_base=environ
    )

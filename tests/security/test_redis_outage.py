"""Redis stopped under two workers (a Redis this test starts on its own port, then kills):
a lock made before holds (in the database, also for a worker started during the outage),
the sign-in limit still holds across both workers (each enforces its share), losing and
regaining Redis are `sys_monitor_disabled` then `sys_monitor_enabled`, and /readyz shows
Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from talaro.security import store as store_module
from tests.factories import PASSWORD
from tests.security.conftest import add_user, login, security_records

ACCOUNTS = ("ada@example.com", "bob@example.com", "cy@example.com")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OwnRedis:
    """A redis-server of this test's own, on a port nobody else uses."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        client.close()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def own_redis(monkeypatch: pytest.MonkeyPatch) -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    monkeypatch.setattr(store_module, "RETRY_AFTER", 0.2)  # notice the recovery soon
    server = OwnRedis()
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_locks_limits_and_monitor_events_survive_a_redis_outage(build, own_redis, fast_passwords):
    settings = {
        "TALARO_REDIS_URL": own_redis.url,
        "TALARO_REDIS_PREFIX": f"outage-{uuid.uuid4().hex}:",
        "SECRET_KEY": "shared-" + uuid.uuid4().hex,  # the same account keys in every worker
        "TALARO_WORKERS": 2,
        "TALARO_RATELIMIT_SIGNIN": "4 per minute",
    }
    first, second = build(**settings), build(**settings)
    a, b = first.test_client(), second.test_client()
    for n, email in enumerate(ACCOUNTS):
        add_user(first, fast_passwords, email)
        for _ in range(3):  # the brute-force threshold: locked
            assert login(a, email, addr=f"198.51.100.{n}").status_code == 401
    assert len(security_records(first, "authn_login_lock")) == 3
    assert a.get("/readyz").json["redis"] == "ok"

    own_redis.kill()
    # The lock holds on the other worker: the right password is refused on every account.
    for n, email in enumerate(ACCOUNTS):
        assert login(b, email, PASSWORD, addr=f"198.51.100.{10 + n}").status_code == 401
    refused = security_records(second, "authn_login_fail")[-3:]
    assert [r.attributes["reason"] for r in refused] == ["locked"] * 3
    # ...and on a worker started during the outage (a restart).
    restarted = build(**settings)
    for n, email in enumerate(ACCOUNTS):
        answer = login(restarted.test_client(), email, PASSWORD, addr=f"198.51.100.{20 + n}")
        assert answer.status_code == 401

    # The sign-in limit (4 a minute) still holds across both workers: 2 each.
    clients = [a, b, a, b, a, b]
    statuses = [login(c, "x@example.com", addr="203.0.113.50").status_code for c in clients]
    assert statuses == [401, 401, 401, 401, 429, 429]
    ready = a.get("/readyz")
    assert ready.status_code == 200 and ready.json["redis"] == "unavailable"

    own_redis.start()
    time.sleep(0.3)  # past RETRY_AFTER
    assert a.get("/readyz").json["redis"] == "ok"
    names = [
        r.event_name for r in security_records(first) if r.event_name.startswith("sys_monitor_")
    ]
    assert names == ["sys_monitor_disabled", "sys_monitor_enabled"]
    (disabled,) = security_records(first, "sys_monitor_disabled")
    assert disabled.attributes["talaro.monitor"] == "shared_state"
    assert "1/2" in disabled.attributes["reason"]
    assert security_records(second, "sys_monitor_disabled")

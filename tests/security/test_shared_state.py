"""Several workers sharing the real Redis count together; without Redis, or with Redis
gone, the service keeps answering (counting in the process) and says so in its log."""

from __future__ import annotations

import logging
import threading
import time
import uuid

import pytest
import redis

from talaro.security import EXTENSION, detection
from talaro.security.store import MemoryStore, RedisStore, Store
from tests.factories import PASSWORD
from tests.security.conftest import add_user, login, security_records

UNREACHABLE = "redis://127.0.0.1:1/0"


@pytest.fixture
def workers(build, redis_url, redis_prefix):
    """Two apps (workers) on the same database, Redis and key prefix, and with the same
    secret key (from which the keyed hash of an account is derived), as in production."""
    settings = {
        "TALARO_REDIS_URL": redis_url,
        "TALARO_REDIS_PREFIX": redis_prefix,
        "SECRET_KEY": "shared-" + uuid.uuid4().hex,
    }
    return build(**settings), build(**settings)


def fired(apps, event: str, rule: str | None = None) -> list:
    return [
        r
        for app in apps
        for r in security_records(app, event)
        if rule is None or r.attributes.get("security_rule.name") == rule
    ]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_workers_reach_the_brute_force_threshold_together(
    workers, fast_passwords, redis_url, redis_prefix
):
    first, second = workers
    add_user(first, fast_passwords, "ada@example.com")
    a, b = first.test_client(), second.test_client()
    login(a, "ada@example.com")
    login(b, "ada@example.com")
    assert fired(workers, "authn_login_fail_max") == []
    login(a, "ada@example.com")  # the third failure, counted across both workers
    assert len(fired(workers, "authn_login_fail_max", detection.BRUTE_FORCE)) == 1
    assert len(fired([first], "authn_login_lock")) == 1
    # The other worker sees the lock: the right password is refused there too.
    assert login(b, "ada@example.com", PASSWORD).status_code == 401
    assert security_records(second, "authn_login_fail")[-1].attributes["reason"] == "locked"
    client = redis.Redis.from_url(redis_url)
    assert any(key.startswith(redis_prefix.encode()) for key in client.scan_iter(count=1000))
    client.close()


def test_two_workers_share_stuffing_and_probe_counts(workers, fast_passwords):
    first, second = workers
    clients = [first.test_client(), second.test_client()]
    for n in range(4):
        login(clients[n % 2], f"victim{n}@example.com", addr="203.0.113.3")
    assert len(fired(workers, "authn_login_fail_max", detection.CREDENTIAL_STUFFING)) == 1
    for n in range(5):
        clients[n % 2].get(f"/missing/{n}", environ_base={"REMOTE_ADDR": "203.0.113.4"})
    assert len(fired(workers, "malicious_excess_404")) == 1


def test_the_lock_expires_in_redis(build, redis_url, redis_prefix, fast_passwords):
    app = build(
        TALARO_REDIS_URL=redis_url,
        TALARO_REDIS_PREFIX=redis_prefix,
        TALARO_DETECT_ACCOUNT_WINDOW=1,
        TALARO_LOCK_SECONDS=1,
    )
    add_user(app, fast_passwords, "ada@example.com")
    client = app.test_client()
    for _ in range(3):
        login(client, "ada@example.com")
    assert login(client, "ada@example.com", PASSWORD).status_code == 401
    time.sleep(1.2)
    assert login(client, "ada@example.com", PASSWORD).status_code == 200
    (after,) = security_records(app, "authn_login_successafterfail")
    assert after.attributes["talaro.login.failures"] == 4


def test_two_workers_share_a_rate_limit(build, redis_url, redis_prefix, fast_passwords):
    settings = {
        "TALARO_REDIS_URL": redis_url,
        "TALARO_REDIS_PREFIX": redis_prefix,
        "TALARO_RATELIMIT_SIGNIN": "3 per minute",
    }
    first, second = build(**settings), build(**settings)
    a, b = first.test_client(), second.test_client()
    statuses = [login(client, "x@example.com").status_code for client in (a, b, a, b, a)]
    assert statuses == [401, 401, 401, 429, 429]
    assert int(b.post("/api/auth/login", json={}).headers["Retry-After"]) > 0
    # One event for the key and window, whichever worker refused first.
    events = fired([first, second], "excess_rate_limit_exceeded", "rate_limit")
    assert len(events) == 1
    assert events[0].attributes["talaro.rate_limit.key"] == "127.0.0.1"


def race(store: Store, prefix: str) -> list[int]:
    """Twenty threads hit one counter at once; returns the counts they saw."""
    seen: list[int] = []
    start = threading.Barrier(20)

    def hit() -> None:
        start.wait()
        seen.append(store.incr(f"{prefix}race", 60))

    threads = [threading.Thread(target=hit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return seen


def test_racing_workers_see_each_count_once(redis_url, redis_prefix):
    for store in (RedisStore(redis_url, redis_prefix), MemoryStore()):
        assert sorted(race(store, "")) == list(range(1, 21))
        assert store.ttl("race") > 55
        new, size = store.add("set", "a", 60)
        assert (new, size) == (True, 1)
        assert store.add("set", "a", 60) == (False, 1)
        assert store.flag("flag", 60) is True
        assert store.flag("flag", 60) is False
        assert store.take("race") == 20
        assert store.take("race") == 0


def test_memory_windows_expire_with_the_clock():
    now = [0.0]
    store = MemoryStore(clock=lambda: now[0])
    assert store.incr("k", 10) == 1
    now[0] = 9.9
    assert store.incr("k", 10) == 2
    now[0] = 10.0
    assert store.incr("k", 10) == 1  # a new window
    assert store.flag("f", 5) and store.has_flag("f")
    now[0] = 15.0
    assert not store.has_flag("f")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_unreachable_redis_never_breaks_a_request(build, fast_passwords, caplog):
    caplog.set_level(logging.WARNING)
    app = build(TALARO_REDIS_URL=UNREACHABLE, TALARO_RATELIMIT_SIGNIN="4 per minute")
    add_user(app, fast_passwords, "ada@example.com")
    client = app.test_client()
    started = time.perf_counter()
    statuses = [login(client, "ada@example.com").status_code for _ in range(5)]
    assert time.perf_counter() - started < 10
    # Limits and detection carry on in the process: the lock fires, the limit holds.
    assert statuses == [401, 401, 401, 401, 429]
    assert len(security_records(app, "authn_login_lock")) == 1
    assert client.get("/api/missing").status_code == 404
    account = {"email": "n@example.com", "password": "long enough pw", "name": "N"}
    assert client.post("/api/auth/register", json=account).status_code == 201
    messages = " ".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    assert "Redis unreachable" in messages
    assert "falling back to in-memory storage" in messages
    assert isinstance(app.extensions[EXTENSION].store, RedisStore)

"""Where detection counters, distinct-member sets, locks and once-per-window flags live.

`MemoryStore` keeps them in the process (one worker); `RedisStore` in Redis, so every
worker and machine sees the same counts. Each window starts at the first hit of its key
and ends when the key expires, which re-arms the rule. A Redis that cannot be reached
fails open: the process counts on its own for a while, with a logged warning, and the
client never sees an error.

Written here rather than on the `limits` storages: those only count, and the rules also
need distinct-member sets, set-if-absent flags and read-and-reset.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import redis

logger = logging.getLogger("talaro.security")
EXTENSION = "talaro_security"  # the app.extensions key of the SecurityState
Clock = Callable[[], float]
T = TypeVar("T")
RETRY_AFTER = 5.0  # seconds on the in-process fallback after Redis fails
SWEEP_EVERY = 1000  # operations between sweeps of expired keys in memory


class Store(Protocol):
    clock: Clock

    def incr(self, key: str, ttl: float) -> int:
        """Add one to `key` and return the new count; the first hit opens a `ttl` window."""

    def incr_by(self, key: str, amount: int, ttl: float) -> int:
        """Like `incr`, adding `amount`."""

    def add(self, key: str, member: str, ttl: float) -> tuple[bool, int]:
        """Add `member` to the set `key`: (whether it was new, the set's size)."""

    def members(self, key: str) -> list[str]: ...

    def get_many(self, keys: Sequence[str]) -> list[int]: ...

    def take(self, key: str) -> int:
        """Read a counter and delete it."""

    def flag(self, key: str, ttl: float) -> bool:
        """Raise a flag for `ttl` seconds; True only for the caller that raised it."""

    def has_flag(self, key: str) -> bool: ...

    def ttl(self, key: str) -> float:
        """Seconds until `key` expires (0 when absent)."""


@dataclass
class _Entry:
    value: Any
    expires: float


@dataclass
class MemoryStore:
    """One process's state; `clock` is injectable so tests can move time."""

    # Wall time, as RedisStore's: account locks (locks.py) keep these times in the database.
    clock: Clock = time.time
    _data: dict[str, _Entry] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ops: int = 0

    def _live(self, key: str) -> _Entry | None:
        entry = self._data.get(key)
        if entry is not None and entry.expires <= self.clock():
            del self._data[key]
            return None
        return entry

    def _entry(self, key: str, ttl: float, empty: Callable[[], Any]) -> _Entry:
        self._ops += 1
        if self._ops % SWEEP_EVERY == 0:
            now = self.clock()
            for stale in [k for k, e in self._data.items() if e.expires <= now]:
                del self._data[stale]
        entry = self._live(key)
        if entry is None:
            entry = self._data[key] = _Entry(empty(), self.clock() + ttl)
        return entry

    def incr(self, key: str, ttl: float) -> int:
        return self.incr_by(key, 1, ttl)

    def incr_by(self, key: str, amount: int, ttl: float) -> int:
        with self._lock:
            entry = self._entry(key, ttl, int)
            entry.value += amount
            return int(entry.value)

    def add(self, key: str, member: str, ttl: float) -> tuple[bool, int]:
        with self._lock:
            entry = self._entry(key, ttl, set)
            new = member not in entry.value
            entry.value.add(member)
            return new, len(entry.value)

    def members(self, key: str) -> list[str]:
        with self._lock:
            entry = self._live(key)
            return sorted(entry.value) if entry else []

    def get_many(self, keys: Sequence[str]) -> list[int]:
        with self._lock:
            return [int(e.value) if (e := self._live(k)) else 0 for k in keys]

    def take(self, key: str) -> int:
        with self._lock:
            entry = self._live(key)
            self._data.pop(key, None)
            return int(entry.value) if entry else 0

    def flag(self, key: str, ttl: float) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._data[key] = _Entry(True, self.clock() + ttl)
            return True

    def has_flag(self, key: str) -> bool:
        with self._lock:
            return self._live(key) is not None

    def ttl(self, key: str) -> float:
        with self._lock:
            entry = self._live(key)
            return max(0.0, entry.expires - self.clock()) if entry else 0.0


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class RedisStore:
    """State shared through Redis: MULTI/EXEC pipelines make each step atomic, so of many
    workers racing to a threshold exactly one sees the count that reaches it.

    When Redis cannot be reached the store falls back to this process's own counters (as
    Flask-Limiter's in-memory fallback does) and retries Redis after `RETRY_AFTER` seconds.
    Losing and regaining Redis calls `on_change(available, reason)` once each (the
    security package emits `sys_monitor_disabled` / `sys_monitor_enabled` from it).
    """

    def __init__(self, url: str, prefix: str, timeout: float = 0.5) -> None:
        self.client = redis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout
        )
        self.prefix = prefix
        self.clock: Clock = time.time  # shared windows need a clock every machine agrees on
        self.fallback = MemoryStore(clock=time.time)
        self._down_until = 0.0
        self.available = True
        self.on_change: Callable[[bool, str], None] | None = None
        self._state_lock = threading.Lock()

    def _run(self, op: Callable[[], T], name: str, *args: Any) -> T:
        if time.monotonic() >= self._down_until:
            try:
                result = op()
            except redis.RedisError as exc:
                self._lost(exc)
            else:
                if not self.available:
                    self._changed(True, "")
                return result
        return getattr(self.fallback, name)(*args)  # type: ignore[no-any-return]

    def ping(self) -> bool:
        """Whether Redis answers now (not asked again within `RETRY_AFTER` of a failure)."""
        if time.monotonic() < self._down_until:
            return False
        try:
            self.client.ping()
        except redis.RedisError as exc:
            self._lost(exc)
            return False
        if not self.available:
            self._changed(True, "")
        return True

    def _lost(self, exc: redis.RedisError) -> None:
        self._down_until = time.monotonic() + RETRY_AFTER
        if self.available:
            logger.warning(
                "Redis unreachable; detection counts in this process (retried every %ss): %s",
                RETRY_AFTER,
                exc,
            )
        self._changed(False, str(exc))

    def _changed(self, available: bool, reason: str) -> None:
        with self._state_lock:
            if self.available == available:
                return
            self.available = available
        if available:
            logger.warning("Redis reachable again; detection counts are shared again")
        if self.on_change is not None:
            self.on_change(available, reason)

    def _k(self, key: str) -> str:
        return self.prefix + key

    def incr(self, key: str, ttl: float) -> int:
        return self.incr_by(key, 1, ttl)

    def incr_by(self, key: str, amount: int, ttl: float) -> int:
        def op() -> int:
            pipe = self.client.pipeline()
            pipe.incrby(self._k(key), amount)
            pipe.pexpire(self._k(key), _ms(ttl), nx=True)
            return int(pipe.execute()[0])

        return self._run(op, "incr_by", key, amount, ttl)

    def add(self, key: str, member: str, ttl: float) -> tuple[bool, int]:
        def op() -> tuple[bool, int]:
            pipe = self.client.pipeline()
            pipe.sadd(self._k(key), member)
            pipe.scard(self._k(key))
            pipe.pexpire(self._k(key), _ms(ttl), nx=True)
            added, size, _ = pipe.execute()
            return bool(added), int(size)

        return self._run(op, "add", key, member, ttl)

    def members(self, key: str) -> list[str]:
        def op() -> list[str]:
            return sorted(m.decode() for m in self.client.smembers(self._k(key)))

        return self._run(op, "members", key)

    def get_many(self, keys: Sequence[str]) -> list[int]:
        def op() -> list[int]:
            if not keys:
                return []
            return [int(v or 0) for v in self.client.mget([self._k(k) for k in keys])]

        return self._run(op, "get_many", keys)

    def take(self, key: str) -> int:
        return self._run(lambda: int(self.client.getdel(self._k(key)) or 0), "take", key)

    def flag(self, key: str, ttl: float) -> bool:
        def op() -> bool:
            return bool(self.client.set(self._k(key), 1, px=_ms(ttl), nx=True))

        return self._run(op, "flag", key, ttl)

    def has_flag(self, key: str) -> bool:
        return self._run(lambda: bool(self.client.exists(self._k(key))), "has_flag", key)

    def ttl(self, key: str) -> float:
        def op() -> float:
            return float(max(0, self.client.pttl(self._k(key))) / 1000)

        return self._run(op, "ttl", key)

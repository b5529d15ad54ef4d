"""Detection rules, rate limits and the state they share (in the process or in Redis).

`init_security(app)` runs after the views are registered: it picks the store
(TALARO_REDIS_URL), binds the rate limiter and wraps the limited views (limits.py). The
service layer reports sign-ins and registrations to `detection`, and after-request hooks
count 404s and object denials, and each source's security records (telemetry asks
`detection.admit_security_record` before writing one); a rule emits its catalogue event
when its threshold is reached.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask_limiter import Limiter

from talaro import telemetry
from talaro.security import shared
from talaro.security.detection import (
    admit_security_record,
    count_response,
    count_security_records,
)
from talaro.security.limits import init_limits
from talaro.security.store import EXTENSION, MemoryStore, RedisStore, Store

__all__ = ["EXTENSION", "SecurityState", "init_security"]


@dataclass
class SecurityState:
    store: Store
    limiter: Limiter


def init_security(app: Flask) -> SecurityState:
    url = app.config["TALARO_REDIS_URL"]
    store: Store = MemoryStore()
    if url:
        store = redis_store = RedisStore(url, app.config["TALARO_REDIS_PREFIX"])
        redis_store.on_change = shared.changed
    state = SecurityState(store=store, limiter=init_limits(app, store))
    app.extensions[EXTENSION] = state
    app.after_request(count_security_records)  # after-request hooks run last first
    app.after_request(count_response)
    runtime = telemetry.get_runtime(app)
    if runtime is not None:
        runtime.admit = admit_security_record
    return state

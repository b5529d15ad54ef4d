"""Rate limits (Flask-Limiter), applied from one table keyed by endpoint name.

Over a limit the client gets 429 with `Retry-After` in the error envelope (errors.py),
and `excess_rate_limit_exceeded` is emitted once per key and window (later 429s still
appear as `http_request` records). Limits count in Redis when TALARO_REDIS_URL is set,
else in the process; if Redis goes away they count in the process until it is back. While
they count in the process, each of the host's TALARO_WORKERS workers enforces its share of
each limit (shared.per_worker), so the host never allows more than the limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, request
from flask_limiter import Limiter, RequestLimit
from flask_login import current_user

from talaro.security.shared import per_worker
from talaro.security.store import Store
from talaro.telemetry.catalogue import EXCESS_RATE_LIMIT_EXCEEDED
from talaro.telemetry.events import FAILURE, emit


def by_address() -> str:
    # ProxyFix (TALARO_TRUSTED_PROXIES) has already made remote_addr the real client.
    return request.remote_addr or "unknown"


def by_user() -> str:
    """The signed-in user (each user has their own allowance), else the address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return by_address()


@dataclass(frozen=True)
class RateLimit:
    setting: str  # the config key holding the limit, e.g. "10 per minute; 100 per hour"
    key: Callable[[], str]
    endpoints: tuple[str, ...]  # API and page endpoints share the scope's counter


# The one place to read which requests are limited: scope -> limit (POST only).
RATE_LIMITS: dict[str, RateLimit] = {
    "signin": RateLimit("TALARO_RATELIMIT_SIGNIN", by_address, ("auth.login", "pages.login")),
    "registration": RateLimit(
        "TALARO_RATELIMIT_REGISTER", by_address, ("auth.register", "pages.register")
    ),
    "token_creation": RateLimit("TALARO_RATELIMIT_TOKENS", by_user, ("auth.create_token",)),
    "upload": RateLimit("TALARO_RATELIMIT_UPLOAD", by_user, ("resumes.upload",)),
    "bulk_upload": RateLimit(
        "TALARO_RATELIMIT_BULK_UPLOAD", by_user, ("resumes.bulk_upload", "pages.resume_upload")
    ),
}


def init_limits(app: Flask, store: Store) -> Limiter:
    """Bind a limiter to `app` and wrap every view named in RATE_LIMITS with its limit."""
    url = app.config["TALARO_REDIS_URL"]

    def breached(limit: RequestLimit) -> None:
        key, scope = limit.request_args[-2], limit.request_args[-1]
        window = limit.limit.get_expiry()
        # Once per key and window: a flood of 429s is not a flood of security records.
        if store.flag(f"ratelimit:{scope}:{key}", window):
            emit(
                EXCESS_RATE_LIMIT_EXCEEDED,
                outcome=FAILURE,
                reason=f"Rate limit {limit.limit} exceeded",
                attributes={
                    "security_rule.name": "rate_limit",
                    "talaro.rate_limit": str(limit.limit),
                    "talaro.rate_limit.key": key,
                    "talaro.rate_limit.scope": scope,
                    "http.response.status_code": 429,
                },
            )

    limiter = Limiter(
        by_address,
        storage_uri=url or "memory://",
        storage_options={"socket_connect_timeout": 0.5, "socket_timeout": 0.5} if url else {},
        key_prefix=app.config["TALARO_REDIS_PREFIX"] + "limits",
        headers_enabled=True,
        swallow_errors=True,  # a broken limiter never turns into a 500
        in_memory_fallback_enabled=True,
        on_breach=breached,
        enabled=app.config["TALARO_RATELIMIT_ENABLED"],
    )
    limiter.init_app(app)

    def counted_here() -> bool:
        # Flask-Limiter has no public flag for its fallback; the store's flag backs it up.
        dead = getattr(limiter, "_storage_dead", False) or not getattr(store, "available", True)
        return not url or dead

    def limit_of(setting: str) -> Callable[[], str]:
        def limit() -> str:
            workers = app.config["TALARO_WORKERS"]
            if workers > 1 and counted_here():
                return per_worker(app.config[setting], workers)
            return str(app.config[setting])

        return limit

    for scope, rule in RATE_LIMITS.items():
        decorate = limiter.shared_limit(
            limit_of(rule.setting), scope=scope, key_func=rule.key, methods=["POST"]
        )
        for endpoint in rule.endpoints:
            view = app.view_functions.get(endpoint)
            if view is None:
                raise LookupError(f"RATE_LIMITS names an unknown endpoint: {endpoint}")
            app.view_functions[endpoint] = decorate(view)
    return limiter

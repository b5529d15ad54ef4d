"""Shared state (Redis) coming and going: what the service does without it.

Without Redis the rate limits count in each worker, so each enforces its share of a limit
(`per_worker`: the limit divided by TALARO_WORKERS), and the host as a whole never allows
more than the limit; locks stay in the database (locks.py). Losing and regaining Redis are
the OWASP events `sys_monitor_disabled` and `sys_monitor_enabled`; /readyz shows it.
"""

from __future__ import annotations

from flask import Flask, current_app, has_app_context
from limits import parse_many

from talaro.security.store import EXTENSION, RedisStore
from talaro.telemetry.catalogue import SYS_MONITOR_DISABLED, SYS_MONITOR_ENABLED
from talaro.telemetry.events import FAILURE, emit

MONITOR = "shared_state"  # `talaro.monitor`: what was lost or regained


def per_worker(limit: str, workers: int) -> str:
    """Each worker's share of `limit` ("10 per minute; 100 per hour"), at least 1."""
    return "; ".join(
        f"{max(1, item.amount // workers)} per {item.multiples} {item.GRANULARITY.name}"
        for item in parse_many(limit)
    )


def changed(available: bool, reason: str) -> None:
    """RedisStore.on_change: one security record per loss and per recovery (per worker)."""
    if not has_app_context():
        return
    workers = current_app.config["TALARO_WORKERS"]
    if available:
        emit(
            SYS_MONITOR_ENABLED,
            reason="Shared state (Redis) reachable: detection and rate limits count together",
            attributes={"talaro.monitor": MONITOR},
        )
        return
    emit(
        SYS_MONITOR_DISABLED,
        outcome=FAILURE,
        reason=(
            f"Shared state (Redis) unreachable: {reason}. Detection counts in each worker, "
            f"rate limits are each worker's share (1/{workers}), locks stay in the database"
        ),
        attributes={"talaro.monitor": MONITOR, "talaro.workers": workers},
    )


def status(app: Flask | None = None) -> str:
    """For /readyz: `ok`, `unavailable` (counting per worker), or `off` (not configured)."""
    state = (app or current_app).extensions.get(EXTENSION)
    store = state.store if state is not None else None
    if not isinstance(store, RedisStore):
        return "off"
    return "ok" if store.ping() else "unavailable"

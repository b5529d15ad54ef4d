"""Talaro's telemetry: spans, log records and metrics through OpenTelemetry.

Usage: ``init_app(app)`` from the app factory (before any hook that can refuse a
request, so every request gets its server span), then the service layer calls
``talaro.telemetry.events`` once per event. ``shutdown(app)`` flushes and stops.

What it records
    A server span per request (Flask instrumentation) carrying ``user.id``,
    ``user.email`` (or ``user.hash``), ``user.roles`` and ``talaro.auth.method``;
    child spans for database calls and for costly work; one log record per event of
    the catalogue (catalogue.py), each with ``talaro.stream`` = security or
    application; metrics (metrics.py).

Where it goes (settings come from the environment, see talaro/config.py)
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` unset: OTLP JSON Lines files in
    ``TALARO_TELEMETRY_DIR`` (default ``logs/``): security.jsonl, application.jsonl,
    traces.jsonl, metrics.jsonl, rotated at ``TALARO_TELEMETRY_MAX_BYTES`` keeping
    ``TALARO_TELEMETRY_BACKUPS``. Set: OTLP over ``OTEL_EXPORTER_OTLP_PROTOCOL``
    (``http/protobuf`` or ``grpc``); ``TALARO_TELEMETRY_FILES=always`` keeps the files
    too. ``OTEL_SDK_DISABLED=true`` turns everything off.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import os
import re
import signal
import threading
import time
import weakref
from typing import Any

import click
from flask import Flask, Response, current_app, g, request
from flask_login import current_user
from opentelemetry import trace
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import NoOpMeter

from talaro.telemetry import events
from talaro.telemetry.context import IDENTITY_MODES
from talaro.telemetry.metrics import Instruments
from talaro.telemetry.redaction import redact_query
from talaro.telemetry.runtime import EXTENSION, SCOPE, Runtime, build_providers

__all__ = ["events", "init_app", "runtime", "shutdown", "status"]


def init_app(app: Flask) -> None:
    """Wire providers, instrumentation and hooks into `app`; safe to call twice."""
    app.config.setdefault("TALARO_TELEMETRY_HASH_KEY", _derived_hash_key(app))
    identity = app.config["TALARO_TELEMETRY_USER_IDENTITY"]
    if identity not in IDENTITY_MODES:  # a typo must not silently drop who did what
        raise ValueError(f"TALARO_TELEMETRY_USER_IDENTITY must be one of {IDENTITY_MODES}")
    if EXTENSION in app.extensions or not app.config["TALARO_TELEMETRY_ENABLED"]:
        return
    # Spans use the stable HTTP names our records use (http.request.method, url.path, ...).
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    providers = build_providers(app.config)
    runtime = Runtime(
        providers=providers,
        logger=providers.logger_provider.get_logger(SCOPE),
        tracer=providers.tracer_provider.get_tracer(SCOPE),
        instruments=Instruments(providers.meter_provider.get_meter(SCOPE), providers.health),
    )
    app.extensions[EXTENSION] = runtime
    excluded = app.config["TALARO_TELEMETRY_EXCLUDED_PATHS"]
    FlaskInstrumentor().instrument_app(
        app,
        tracer_provider=providers.tracer_provider,
        meter_provider=providers.meter_provider,
        excluded_urls=excluded,
        enable_commenter=False,
    )
    if app.config["TALARO_TELEMETRY_DB_SPANS"]:
        _instrument_database(app, runtime)
    # After the instrumentation's own before_request, which starts the server span.
    excluded_paths = [re.compile(p) for p in excluded.split(",") if p.strip()]
    app.before_request(_begin_request(excluded_paths))
    app.after_request(_finish_request(excluded_paths))
    if _is_command_line_tool():
        # `flask --app talaro logs|users|db ...`: open the trail only if the command
        # records something, so reading the logs does not write to them.
        runtime.trail_pending = True
    else:
        with app.app_context():
            events.system_started()
    _stop_on_exit(app)


def _is_command_line_tool() -> bool:
    """True under `flask <command>` for any command but `run` (which serves requests)."""
    context = click.get_current_context(silent=True)
    return context is not None and context.command.name != "run"


def runtime(app: Flask | None = None) -> Runtime | None:
    return (app or current_app).extensions.get(EXTENSION)


def status(app: Flask | None = None) -> dict[str, Any]:
    """For /readyz: outputs, records dropped and export failures."""
    current = runtime(app)
    return {"status": "disabled"} if current is None else current.status()


def flush(app: Flask, timeout_millis: int = 5000) -> None:
    current = runtime(app)
    if current is not None:
        current.providers.force_flush(timeout_millis)


def shutdown(app: Flask) -> bool:
    """Emit sys_shutdown, flush and stop within TALARO_TELEMETRY_SHUTDOWN_TIMEOUT seconds."""
    current = runtime(app)
    if current is None or current.stopped:
        return True
    current.stopped = True
    if not current.trail_pending:
        with app.app_context():
            events.system_stopping()
    return current.providers.shutdown(app.config["TALARO_TELEMETRY_SHUTDOWN_TIMEOUT"])


def _derived_hash_key(app: Flask) -> str:
    """A pseudonymisation key of its own, derived from the secret key unless set."""
    secret = str(app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"talaro telemetry user hash", hashlib.sha256).hexdigest()


def _instrument_database(app: Flask, runtime: Runtime) -> None:
    from talaro.extensions import db

    # The pool-usage metric costs two measurements per request for little insight: off.
    usage = NoOpMeter("talaro").create_up_down_counter("db.client.connections.usage")
    with app.app_context():
        # Per engine, not the process-global instrumentor: each app has its own providers.
        EngineTracer(runtime.tracer, db.engine, usage)


def _is_excluded(excluded: list[re.Pattern[str]]) -> bool:
    return any(pattern.search(request.path) for pattern in excluded)


def _begin_request(excluded: list[re.Pattern[str]]) -> Any:
    def begin() -> None:
        g.telemetry_started = time.perf_counter()
        if request.query_string:
            # Search text can name a candidate: keep the parameter names, never the values.
            span = trace.get_current_span()
            if span.is_recording():
                span.set_attribute("url.query", redact_query(request.args))
        if not _is_excluded(excluded):
            # Load the user up front, so the span and every record of the request carry it.
            current_user.is_authenticated  # noqa: B018

    return begin


def _finish_request(excluded: list[re.Pattern[str]]) -> Any:
    def finish(response: Response) -> Response:
        if not _is_excluded(excluded):
            started = g.get("telemetry_started", time.perf_counter())
            events.request_finished(
                response.status_code,
                time.perf_counter() - started,
                request.path,
                response.calculate_content_length(),
            )
        return response

    return finish


def _stop_on_exit(app: Flask) -> None:
    """Shut down at interpreter exit, and turn SIGTERM into a normal exit when nobody
    else (gunicorn) handles it, so the queues are flushed either way."""
    ref = weakref.ref(app)

    def at_exit() -> None:
        if (target := ref()) is not None:
            shutdown(target)

    atexit.register(at_exit)
    if (
        app.config["TALARO_TELEMETRY_SIGTERM"]
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None)
    ):
        signal.signal(signal.SIGTERM, _exit_on_sigterm)


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)

"""Talaro's telemetry: spans, log records and metrics through OpenTelemetry.

Usage: ``init_app(app)`` from the app factory (before any hook that can refuse a
request, so every request gets its server span), then the service layer calls
``talaro.telemetry.events`` once per event. ``shutdown(app)`` flushes and stops.

What it records
    A server span per request (Flask instrumentation) carrying ``user.id``,
    ``user.email`` (or ``user.hash``), ``user.roles`` and ``talaro.auth.method``;
    child spans for database calls (of TALARO_TELEMETRY_DB_SPAN_MIN_MS or more, and
    failed ones) and for costly work; one log record per event of
    the catalogue (catalogue.py), each with ``talaro.stream`` = security or
    application; metrics (metrics.py).

Where it goes (settings come from the environment, see talaro/config.py)
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` unset: OTLP JSON Lines files in
    ``TALARO_TELEMETRY_DIR`` (default ``logs/``): security.jsonl, application.jsonl,
    traces.jsonl, metrics.jsonl, rotated at ``TALARO_TELEMETRY_MAX_BYTES`` keeping
    ``TALARO_TELEMETRY_BACKUPS``, but for security.jsonl: written inline, its rotated
    files kept until retention (retention.py). Set: OTLP over
    ``OTEL_EXPORTER_OTLP_PROTOCOL`` (``http/protobuf`` or ``grpc``), and security.jsonl
    still; ``TALARO_TELEMETRY_FILES=always`` keeps every file too, ``never`` none.
    ``OTEL_SDK_DISABLED=true`` turns everything off.
"""

from __future__ import annotations

import atexit
import logging
import os
import time
import weakref
from typing import Any
from urllib.parse import parse_qsl

import click
from flask import Flask, Response, current_app, request
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.metrics import NoOpMeter
from opentelemetry.trace import Span
from opentelemetry.util.http import ExcludeList, parse_excluded_urls

from talaro.telemetry import events
from talaro.telemetry.checkpoints import STORE as CHECKPOINT_STORE
from talaro.telemetry.context import IDENTITY_MODES, user_attributes
from talaro.telemetry.database import StatementSpans, statement_attributes
from talaro.telemetry.metrics import Instruments
from talaro.telemetry.redaction import redact_query
from talaro.telemetry.runtime import EXTENSION, SCOPE, Runtime, build_providers

__all__ = ["events", "get_runtime", "init_app", "shutdown", "status"]

logger = logging.getLogger("talaro.telemetry")
_STARTED = "talaro.request.started"  # the WSGI environ key of a request's start time


def init_app(app: Flask) -> None:
    """Wire providers, instrumentation and hooks into `app`; safe to call twice."""
    identity = app.config["TALARO_TELEMETRY_USER_IDENTITY"]
    if identity not in IDENTITY_MODES:  # a typo must not silently drop who did what
        raise ValueError(f"TALARO_TELEMETRY_USER_IDENTITY must be one of {IDENTITY_MODES}")
    if EXTENSION in app.extensions or not app.config["TALARO_TELEMETRY_ENABLED"]:
        return
    if "http" not in os.environ.get("OTEL_SEMCONV_STABILITY_OPT_IN", "") and not (
        _is_command_line_tool()  # serves no request, so makes no HTTP span
    ):
        # Set by the entry points (gunicorn.conf.py, make run, the Dockerfile).
        logger.warning("OTEL_SEMCONV_STABILITY_OPT_IN=http is not set: spans use old HTTP names")
    # The app factory registers where the audit chain's checkpoints go (checkpoints.py).
    providers = build_providers(app.config, app.extensions.get(CHECKPOINT_STORE))
    records = providers.logger_provider.get_logger(SCOPE)
    runtime = Runtime(
        providers=providers,
        logger=records,
        scope=records.instrumentation_scope,
        tracer=providers.tracer_provider.get_tracer(SCOPE),
        instruments=Instruments(providers.meter_provider.get_meter(SCOPE), providers.health),
        check_events=app.config.get("TALARO_TELEMETRY_CHECK_EVENTS", app.testing),
        require_audit_trail=app.config.get("TALARO_REQUIRE_AUDIT_TRAIL", False),
    )
    app.extensions[EXTENSION] = runtime
    # One list, read by the instrumentation (spans) and by our hook (http_request records).
    excluded = parse_excluded_urls(app.config["TALARO_TELEMETRY_EXCLUDED_PATHS"])
    FlaskInstrumentor().instrument_app(
        app,
        tracer_provider=providers.tracer_provider,
        meter_provider=providers.meter_provider,
        excluded_urls=app.config["TALARO_TELEMETRY_EXCLUDED_PATHS"],
        request_hook=_on_request_start,
        response_hook=_on_response_start,
        enable_commenter=False,
    )
    if app.config["TALARO_TELEMETRY_DB_SPANS"]:
        _instrument_database(app, runtime)
    app.after_request(_record_request(excluded))
    if _is_command_line_tool():
        # `flask --app talaro logs|users|db ...`: open the trail only if the command
        # records something, so reading the logs does not write to them.
        runtime.trail_pending = True
    else:
        with app.app_context():
            events.system_started()
    _stop_at_exit(app)


def _is_command_line_tool() -> bool:
    """True under `flask <command>` for any command but `run` (which serves requests)."""
    context = click.get_current_context(silent=True)
    return context is not None and context.command.name != "run"


def get_runtime(app: Flask | None = None) -> Runtime | None:
    """The app's telemetry runtime, or None with telemetry off."""
    return (app or current_app).extensions.get(EXTENSION)


def status(app: Flask | None = None) -> dict[str, Any]:
    """For /readyz: outputs, records dropped and export failures."""
    current = get_runtime(app)
    return {"status": "disabled"} if current is None else current.status()


def flush(app: Flask, timeout_millis: int = 5000) -> None:
    current = get_runtime(app)
    if current is not None:
        current.providers.force_flush(timeout_millis)


def shutdown(app: Flask) -> bool:
    """Flush, emit sys_shutdown (with what is still undelivered), stop; all within
    TALARO_TELEMETRY_SHUTDOWN_TIMEOUT seconds. What could not be delivered is counted as
    dropped (`shutdown`) and reported on stderr (runtime.Providers.shutdown)."""
    current = get_runtime(app)
    if current is None or current.stopped:
        return True
    current.stopped = True
    timeout = app.config["TALARO_TELEMETRY_SHUTDOWN_TIMEOUT"]
    started = time.monotonic()
    if not current.trail_pending:
        # Flushed first, so the record says what the stop will really lose.
        pending = current.providers.drain(timeout / 2)
        with app.app_context():
            events.system_stopping(pending, current.providers.health.snapshot()["dropped"])
    left = max(0.5, timeout - (time.monotonic() - started))
    return current.providers.shutdown(left)


def _instrument_database(app: Flask, runtime: Runtime) -> None:
    """Spans for the SQL statements of the app's Flask-SQLAlchemy engine (database.py):
    those that took at least TALARO_TELEMETRY_DB_SPAN_MIN_MS, and every failed one; the
    server span counts them all."""
    # The pool-usage metric costs two measurements per request for little insight: off.
    usage = NoOpMeter("talaro").create_up_down_counter("db.client.connections.usage")
    min_ms = float(app.config["TALARO_TELEMETRY_DB_SPAN_MIN_MS"])
    with app.app_context():
        # Per engine, not the process-global instrumentor: each app has its own providers.
        StatementSpans(runtime.tracer, app.extensions["sqlalchemy"].engine, usage, min_ms)


def _on_request_start(span: Span, environ: dict[str, Any]) -> None:
    """The instrumentation's request hook (not called for excluded URLs)."""
    environ[_STARTED] = time.perf_counter()


def _on_response_start(span: Span | None, status: str, headers: list[Any]) -> None:
    """The instrumentation's response hook: the span gets the user known by now, and the
    query string with its values removed (search text can name a candidate)."""
    if span is None or not span.is_recording():
        return
    attributes = dict(user_attributes(acting=True))  # one set_attributes: one lock, one loop
    if current_app.config["TALARO_TELEMETRY_DB_SPANS"]:
        attributes.update(statement_attributes())
    query = request.environ.get("QUERY_STRING")
    if query:
        names = dict.fromkeys(key for key, _ in parse_qsl(query, keep_blank_values=True))
        attributes["url.query"] = redact_query(names)
    span.set_attributes(attributes)


def _record_request(excluded: ExcludeList) -> Any:
    def record(response: Response) -> Response:
        if not excluded.url_disabled(request.url):
            started = request.environ.get(_STARTED, time.perf_counter())
            events.request_finished(
                response.status_code,
                time.perf_counter() - started,
                request.path,
                response.calculate_content_length(),
            )
        return response

    return record


def _stop_at_exit(app: Flask) -> None:
    """Shut down at interpreter exit. SIGTERM becomes an exit in the process entry points
    (gunicorn's worker_exit, talaro.serve), not here."""
    ref = weakref.ref(app)

    def at_exit() -> None:
        if (target := ref()) is not None:
            shutdown(target)

    atexit.register(at_exit)

"""The anchor: what the stock OpenTelemetry set-up costs, on the design document's endpoint.

shared/design/telemetry.md measured it: a minimal Flask endpoint (one SQLite query, 20
rows as JSON), telemetry off against FlaskInstrumentor, a BatchSpanProcessor, one log
record per request, and the first-party OTLP JSON file exporters. `create_stock_app`
builds that app, with or without telemetry, so a benchmark can measure it in the same
run as Talaro's own set-ups (bench/telemetry_cpu.py). Nothing of Talaro is used.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from flask import Flask, jsonify

ROWS = 20


def create_stock_app(folder: Path, telemetry: bool) -> tuple[Flask, Any]:
    """(app, flush) for the stock endpoint `/items`; `flush()` exports what is queued."""
    database = folder / "stock.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY, name TEXT)")
        connection.executemany(
            "INSERT INTO item (name) VALUES (?)", [(f"item {n}",) for n in range(100)]
        )
    local = threading.local()
    app = Flask("stock")
    flush: Any = lambda: None  # noqa: E731
    logger: Any = None
    if telemetry:
        from opentelemetry.exporter.otlp.json.file import FileSpanExporter
        from opentelemetry.exporter.otlp.json.file._log_exporter import FileLogExporter
        from opentelemetry.instrumentation.flask import FlaskInstrumentor
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        resource = Resource.create({"service.name": "stock"})
        tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
        spans = open(folder / "traces.jsonl", "a", encoding="utf-8")  # noqa: SIM115
        logs = open(folder / "logs.jsonl", "a", encoding="utf-8")  # noqa: SIM115
        tracer_provider.add_span_processor(BatchSpanProcessor(FileSpanExporter(stream=spans)))
        logger_provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
        logger_provider.add_log_record_processor(
            BatchLogRecordProcessor(FileLogExporter(stream=logs))
        )
        FlaskInstrumentor().instrument_app(app, tracer_provider=tracer_provider)
        logger = logger_provider.get_logger("stock")

        def flush() -> None:
            tracer_provider.force_flush()
            logger_provider.force_flush()

    @app.get("/items")
    def items() -> Any:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = sqlite3.connect(database)
        rows = connection.execute("SELECT id, name FROM item LIMIT ?", (ROWS,)).fetchall()
        if logger is not None:
            logger.emit(
                event_name="http_request",
                body="http request",
                attributes={"http.route": "/items", "http.response.status_code": 200},
            )
        return jsonify([{"id": row[0], "name": row[1]} for row in rows])

    return app, flush


def wsgi() -> Flask:
    """`gunicorn 'bench.stock_app:wsgi()'` (bench/telemetry_overhead.py): the stock app in
    STOCK_DIR, with telemetry unless STOCK_TELEMETRY=false, plus the /healthz its readiness
    check asks for. Built in each worker, after the fork, as Talaro's app is."""
    import os

    folder = Path(os.environ["STOCK_DIR"])
    app, _flush = create_stock_app(folder, os.environ.get("STOCK_TELEMETRY") != "false")
    app.add_url_rule("/healthz", "healthz", lambda: "ok")
    return app

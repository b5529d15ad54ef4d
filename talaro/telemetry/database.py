"""Spans for SQL statements, cheaper than the instrumentation's, and optionally only slow ones.

`StatementSpans` is the SQLAlchemy instrumentation's `EngineTracer` (the same span names,
kinds and attributes, built by its own code) with three changes:

- the span is made when the statement has finished, with the statement's start and end
  times, instead of being opened, entered as the current span and closed around it; no
  code runs inside a statement, so its parent and its times are the same;
- its attributes are worked out once per distinct statement (the application runs a
  few dozen) and handed to the span whole, instead of one `set_attribute` at a time;
- with ``TALARO_TELEMETRY_DB_SPAN_MIN_MS`` above 0, only statements that took at least
  that long, or failed, get a span.

Whatever the threshold, every statement of a request is counted: the request's server
span carries ``talaro.db.statement.count`` and ``talaro.db.statement.duration`` (seconds,
all statements together), so the database's share of a request is known without a span
per statement.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import g, has_request_context
from opentelemetry import trace
from opentelemetry.instrumentation.sqlalchemy.engine import (
    EngineTracer,
    _get_attributes_from_cursor_or_conn,
    _get_attributes_from_url,
    _get_db_name_from_cursor_or_conn,
)
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.trace import Span
from opentelemetry.trace.status import Status, StatusCode

logger = logging.getLogger(__name__)
COUNT = "talaro.db.statement.count"
DURATION = "talaro.db.statement.duration"  # seconds, every statement of the request
_STARTED = "_talaro_started_ns"  # on SQLAlchemy's execution context
_STATS = "talaro_db_statements"  # on flask.g: [count, nanoseconds]
_CACHED_STATEMENTS = 1024


class _Collected:
    """Stands in for a span to collect what `EngineTracer` sets on one."""

    def __init__(self) -> None:
        self.attributes: dict[str, Any] = {}

    def set_attribute(self, key: str, value: Any) -> None:
        self.attributes[key] = value


class StatementSpans(EngineTracer):
    """`EngineTracer`, spans made after each statement (see the module's docstring)."""

    def __init__(self, tracer: Any, engine: Any, connections_usage: Any, min_ms: float) -> None:
        self.min_ns = int(max(0.0, min_ms) * 1_000_000)
        self._connection: tuple[dict[str, Any], Any] | None = None
        self._statements: dict[tuple[str, Any], tuple[str, dict[str, Any]]] = {}
        super().__init__(tracer, engine, connections_usage)
        # Registered after EngineTracer's own: theirs find no span of theirs and return.
        self._register_event_listener(engine, "after_cursor_execute", self._after_statement)
        self._register_event_listener(engine, "handle_error", self._on_error)

    def _before_cur_exec(
        self, conn: Any, cursor: Any, statement: Any, params: Any, context: Any, many: Any
    ) -> tuple[Any, Any]:
        if context is not None and is_instrumentation_enabled():
            setattr(context, _STARTED, time.time_ns())
        return statement, params

    def _after_statement(
        self, conn: Any, cursor: Any, statement: Any, params: Any, context: Any, many: Any
    ) -> None:
        started = getattr(context, _STARTED, None)
        if started is None:
            return
        ended = time.time_ns()
        try:  # telemetry never fails a statement
            _count(ended - started)
            if ended - started >= self.min_ns:
                self._span(conn, cursor, statement, started).end(end_time=ended)
        except Exception:
            logger.exception("no span for an SQL statement")

    def _on_error(self, exception_context: Any) -> None:
        """A failed statement always gets its span, with the error, whatever its time."""
        context = exception_context.execution_context
        started = getattr(context, _STARTED, None)
        if started is None:
            return
        ended = time.time_ns()
        try:  # nor changes the error SQLAlchemy raises
            _count(ended - started)
            span = self._span(context.root_connection, context.cursor, context.statement, started)
            if span.is_recording():
                error = str(exception_context.original_exception)
                span.set_status(Status(StatusCode.ERROR, error))
            span.end(end_time=ended)
        except Exception:
            logger.exception("no span for a failed SQL statement")

    def _span(self, conn: Any, cursor: Any, statement: Any, started: int) -> Span:
        """A span for a statement that ran from `started`, as EngineTracer would make it."""
        attrs, db_name = self._connection_attributes(conn, cursor)
        key = (statement, db_name)
        known = self._statements.get(key)
        if known is None:
            collected = _Collected()
            self._set_db_client_span_attributes(collected, statement, db_name, attrs)
            known = (self._operation_name(db_name, statement), collected.attributes)
            if len(self._statements) >= _CACHED_STATEMENTS:
                self._statements.clear()
            self._statements[key] = known
        name, attributes = known
        return self.tracer.start_span(
            name, kind=trace.SpanKind.CLIENT, attributes=attributes, start_time=started
        )

    def _connection_attributes(self, conn: Any, cursor: Any) -> tuple[dict[str, Any], Any]:
        """What `EngineTracer._before_cur_exec` reads from the connection, read once (an
        engine's address and database do not change)."""
        if self._connection is None:
            attrs, found = _get_attributes_from_url(
                conn.engine.url, self._sem_conv_opt_in_mode_db, self._sem_conv_opt_in_mode_http
            )
            if not found:
                attrs = _get_attributes_from_cursor_or_conn(
                    self.vendor,
                    conn,
                    cursor,
                    attrs,
                    self._sem_conv_opt_in_mode_db,
                    self._sem_conv_opt_in_mode_http,
                )
            self._connection = (attrs, _get_db_name_from_cursor_or_conn(self.vendor, conn, cursor))
        return self._connection


def _count(duration_ns: int) -> None:
    if not has_request_context():
        return
    stats = g.get(_STATS)
    if stats is None:
        g.setdefault(_STATS, [1, duration_ns])
    else:
        stats[0] += 1
        stats[1] += duration_ns


def statement_attributes() -> dict[str, Any]:
    """The request's statement count and total time, for its server span."""
    stats = g.get(_STATS) if has_request_context() else None
    count, total_ns = stats if stats is not None else (0, 0)
    return {COUNT: count, DURATION: round(total_ns / 1e9, 6)}

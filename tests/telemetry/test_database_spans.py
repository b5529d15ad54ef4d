"""SQL statement spans (telemetry/database.py): the instrumentation's spans, made after each
statement; with TALARO_TELEMETRY_DB_SPAN_MIN_MS only slow or failed ones; and every
request's server span counts its statements and their time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from talaro import telemetry
from talaro.extensions import db
from talaro.models import Role
from tests.factories import Factory, RoleClients
from tests.telemetry import otlp_json

SERVER, CLIENT = 2, 3


def _spans(app: Any) -> list[otlp_json.Span]:
    telemetry.flush(app)
    return otlp_json.spans(Path(app.config["TALARO_TELEMETRY_DIR"]) / "traces.jsonl")


def test_each_statement_gets_a_child_span_of_its_request_and_the_server_span_counts_them(
    make_app: Any,
) -> None:
    app = make_app()
    jobs = RoleClients(app, Factory(app))(Role.RECRUITER)
    assert jobs.get("/api/jobs").status_code == 200
    spans = _spans(app)
    server = next(s for s in spans if s.kind == SERVER and s.name == "GET /api/jobs")
    children = [s for s in spans if s.trace_id == server.trace_id and s.kind == CLIENT]
    assert children and all(s.parent_span_id for s in children)
    assert {s.name.split()[0] for s in children} >= {"SELECT"}
    assert all(
        s.attributes.get("db.statement") or s.attributes.get("db.query.text") for s in children
    )
    assert all(
        s.attributes.get("db.system") or s.attributes.get("db.system.name") for s in children
    )
    assert server.attributes["talaro.db.statement.count"] == len(children)
    assert server.attributes["talaro.db.statement.duration"] >= 0


def test_above_a_threshold_only_slow_or_failed_statements_get_a_span(make_app: Any) -> None:
    app = make_app(TALARO_TELEMETRY_DB_SPAN_MIN_MS=60_000.0)
    client = RoleClients(app, Factory(app))(Role.RECRUITER)
    assert client.get("/api/jobs").status_code == 200
    with app.test_request_context("/"), app.app_context():
        try:
            db.session.execute(sa.text("SELECT * FROM no_such_table"))
        except sa.exc.SQLAlchemyError:
            db.session.rollback()
    spans = _spans(app)
    server = next(s for s in spans if s.kind == SERVER and s.name == "GET /api/jobs")
    assert not [s for s in spans if s.trace_id == server.trace_id and s.kind == CLIENT]
    assert server.attributes["talaro.db.statement.count"] >= 1  # counted all the same
    failed = [s for s in spans if s.kind == CLIENT]
    assert len(failed) == 1
    assert "no_such_table" in str(failed[0].attributes)

"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from talaro import telemetry
from talaro.extensions import db
from talaro.security import shared

blp = Blueprint("health", __name__, description="Probes")


class HealthSchema(Schema):
    status = fields.String(required=True)


class ReadinessSchema(Schema):
    status = fields.String(required=True)
    database = fields.String(required=True)
    # Shared state: ok, unavailable (limits and detection count per worker), off (unset).
    redis = fields.String(required=True)
    telemetry = fields.Dict(required=True)


@blp.route("/healthz", methods=["GET"])
@blp.response(200, HealthSchema)
def healthz() -> Any:
    """The process is up."""
    return {"status": "ok"}


@blp.route("/readyz", methods=["GET"])
@blp.response(200, ReadinessSchema)
@blp.alt_response(503, schema=ReadinessSchema, description="A dependency is not ready")
def readyz() -> Any:
    """Ready to serve: the database answers (and, with TALARO_REQUIRE_AUDIT_TRAIL, security
    records can be written); telemetry: status, outputs, the host's drops by signal and
    reason, export failures, the outputs failing now."""
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        db.session.rollback()
        database = "unavailable"
    telemetry_status = telemetry.status()
    # A degraded telemetry keeps the node (200); one that cannot keep the audit trail
    # when TALARO_REQUIRE_AUDIT_TRAIL asks for it does not.
    ready = database == "ok" and telemetry_status["status"] != "unavailable"
    status = "ok" if ready else "unavailable"
    body = {
        "status": status,
        "database": database,
        "redis": shared.status(),  # without it the service degrades safely: still ready
        "telemetry": telemetry_status,
    }
    return body, (200 if ready else 503)

"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from talaro import telemetry
from talaro.extensions import db

blp = Blueprint("health", __name__, description="Probes")


class HealthSchema(Schema):
    status = fields.String(required=True)


class ReadinessSchema(Schema):
    status = fields.String(required=True)
    database = fields.String(required=True)
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
    """Ready to serve: the database answers; telemetry outputs, drops and export failures."""
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        db.session.rollback()
        database = "unavailable"
    telemetry_status = telemetry.status()
    status = "ok" if database == "ok" else "unavailable"
    body = {"status": status, "database": database, "telemetry": telemetry_status}
    return body, (200 if status == "ok" else 503)

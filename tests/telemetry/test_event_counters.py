"""The catalogue's event counters (metrics.py): each event counted once, by its split,
cumulative from export to export, in the metrics file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from talaro import telemetry
from talaro.models import Role
from tests.factories import PASSWORD, Factory
from tests.telemetry import otlp_json


def latest_sums(path: Path, name: str) -> dict[str, int]:
    """The last exported value of each data point of counter `name`, by its attributes."""
    found: dict[str, int] = {}
    for payload in otlp_json.lines(path):
        for resource in payload.get("resourceMetrics", []):
            for scope in resource.get("scopeMetrics", []):
                for metric in scope.get("metrics", []):
                    if metric["name"] != name:
                        continue
                    assert metric["sum"]["isMonotonic"] is True
                    for point in metric["sum"]["dataPoints"]:
                        split = otlp_json.attributes(point.get("attributes", []))
                        found[",".join(f"{k}={v}" for k, v in split.items())] = int(point["asInt"])
    return found


def test_security_events_are_counted_by_name_and_stay_cumulative(
    app: Flask, make: Factory, telemetry_dir: Path
) -> None:
    user = make.user(Role.RECRUITER)
    client = app.test_client()

    def fail(times: int) -> None:
        for _ in range(times):
            wrong: dict[str, Any] = {"email": user.email, "password": PASSWORD + "x"}
            assert client.post("/api/auth/login", json=wrong).status_code == 401

    metrics = telemetry_dir / "metrics.jsonl"
    fail(2)
    assert client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    telemetry.flush(app)
    sums = latest_sums(metrics, "talaro.security.events")
    assert sums["event.name=authn_login_fail"] == 2
    assert sums["event.name=authn_login_successafterfail"] == 1
    fail(3)
    telemetry.flush(app)
    assert latest_sums(metrics, "talaro.security.events")["event.name=authn_login_fail"] == 5

"""A telemetry folder that cannot be created or written does not stop the service: it
serves, every record it cannot write is counted (`permission`, `io_error`), the cause is
logged once, and /readyz says `degraded` with the reason, summed over the host's workers.
With TALARO_REQUIRE_AUDIT_TRAIL the host is not ready (503); requests still succeed."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from talaro.telemetry.catalogue import SECURITY
from talaro.telemetry.host import PUBLISH_EVERY_S
from tests.mounts import tmpfs

REQUESTS = 5


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody can write: a read-only tmpfs as root (permissions do not stop
    root), a mode 0555 folder otherwise."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    with tmpfs(folder, "ro,size=1m", "a read-only tmpfs"):
        yield folder


def serve(app) -> None:
    client = app.test_client()
    for index in range(REQUESTS):
        assert client.get(f"/api/jobs?n={index}").status_code == 401  # authn_required
    account = {"email": "new@example.com", "password": "long enough pw", "name": "New"}
    assert client.post("/api/auth/register", json=account).status_code == 201


def test_a_read_only_folder_serves_degraded_and_logs_the_cause_once(
    make_app, read_only_folder, tmp_path, caplog
):
    caplog.set_level(logging.WARNING, logger="talaro.telemetry")
    app = make_app(
        TALARO_TELEMETRY_DIR=str(read_only_folder),
        TALARO_TELEMETRY_HEALTH_DIR=str(tmp_path / "health"),
    )
    serve(app)
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 200, "a degraded telemetry keeps the node"
    health = ready.json["telemetry"]
    assert health["status"] == "degraded"
    problem = health["problems"]["security.jsonl"]
    assert problem["reason"] == "permission"
    assert str(read_only_folder) in problem["detail"]
    # sys_startup, one authn_required per request, user_created: none written, all counted.
    assert health["dropped_by_reason"][SECURITY] == {"permission": REQUESTS + 2}
    # This app's warnings only: another test's app, still exporting metrics to its
    # collector from a background thread, may log to the same logger meanwhile.
    causes = [
        r
        for r in caplog.records
        if "telemetry cannot write" in r.getMessage() and str(read_only_folder) in r.getMessage()
    ]
    assert len(causes) == 1, [r.getMessage() for r in causes]
    assert list(read_only_folder.iterdir()) == []


def test_a_folder_that_cannot_be_created_does_not_stop_the_service(make_app, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app = make_app(
        TALARO_TELEMETRY_DIR=str(blocker / "logs"),
        TALARO_TELEMETRY_HEALTH_DIR=str(tmp_path / "health"),
    )
    serve(app)
    health = app.test_client().get("/readyz").json["telemetry"]
    assert health["status"] == "degraded"
    assert health["problems"]["security.jsonl"]["reason"] == "io_error"
    assert "Not a directory" in health["problems"]["security.jsonl"]["detail"]
    assert sum(health["dropped"].values()) >= REQUESTS + 2


def test_with_the_audit_trail_required_the_host_is_not_ready(make_app, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app = make_app(
        TALARO_TELEMETRY_DIR=str(blocker / "logs"),
        TALARO_TELEMETRY_HEALTH_DIR=str(tmp_path / "health"),
        TALARO_REQUIRE_AUDIT_TRAIL=True,
    )
    serve(app)  # requests still succeed
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.json["status"] == "unavailable"
    assert ready.json["database"] == "ok"
    assert ready.json["telemetry"]["status"] == "unavailable"
    assert "security.jsonl" in ready.json["telemetry"]["problems"]


def test_readyz_sums_the_workers_of_the_host(make_app, read_only_folder, tmp_path):
    """Whichever worker answers, /readyz shows the host: here one worker cannot write its
    folder and the other can, and both answer with the same counters."""
    shared = {"TALARO_TELEMETRY_HEALTH_DIR": str(tmp_path / "health")}
    broken = make_app(TALARO_TELEMETRY_DIR=str(read_only_folder), **shared)
    fine = make_app(TALARO_TELEMETRY_DIR=str(tmp_path / "fine"), **shared)
    serve(broken)
    time.sleep(2 * PUBLISH_EVERY_S)  # each worker publishes its counters at most this often
    answers = [app.test_client().get("/readyz").json["telemetry"] for app in (fine, broken)]
    for health in answers:
        assert health["workers"] == 2
        assert health["status"] == "degraded"
        assert health["dropped_by_reason"][SECURITY]["permission"] == REQUESTS + 2
        assert health["problems"]["security.jsonl"]["workers"] == 1

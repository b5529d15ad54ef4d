"""Every event of the catalogue, driven through the API, lands once in its stream's file
with its severity, its attributes, the acting user and the trace of its request."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from talaro import telemetry
from talaro.models import Role
from talaro.telemetry.catalogue import CATALOGUE, SECURITY, STREAM_ATTRIBUTE
from tests.factories import PASSWORD, Factory, resume_text
from tests.telemetry import otlp_json
from tests.telemetry.test_severity import DETECTIONS

# Driven by the scenario below; the rest of the catalogue is emitted only when a detection
# rule fires (tests/security), and ordinary use like this scenario must fire none.
DRIVEN = {
    "user_created": 1,
    "authz_change": 1,
    "authn_login_success": 1,
    "authn_login_successafterfail": 1,  # the manager's sign-in after one wrong password
    "authn_login_fail": 1,
    "session_expired": 1,
    "authn_token_created": 1,
    "authn_token_revoked": 1,
    "authn_token_reuse": 1,
    "authz_fail": 1,
    "authn_required": 1,
    "upload_validation": 1,
    "input_validation_fail": 1,
    "sys_startup": 1,
    "sys_shutdown": 1,
    "resume_upload": 3,
    "resume_bulk_upload": 1,
    "resume_text_extract": 2,
    "resume_list": 1,
    "resume_view": 1,
    "resume_update": 1,
    "resume_delete": 1,
    "interview_schedule": 1,
    "interview_update": 1,
    "interview_feedback": 1,
    "interview_list": 1,
    "interview_view": 1,
    "interview_delete": 1,
    "job_create": 1,
    "job_update": 1,
    "error_unhandled": 1,
}
FIRED_BY_RULES = {
    "authn_login_fail_max",
    "authn_login_lock",
    "excess_rate_limit_exceeded",
    "malicious_excess_404",
    "malicious_direct_reference",
    "malicious_log_flood",
    "authn_token_fail_max",  # tests/blueprints/test_auth.py
}
# Emitted outside a request, by a command with its own tests (tests/blueprints/test_reparse.py),
# or driven by their own tests (tests/security/test_hostile_records.py).
# The shared-state events by tests/security/test_redis_outage.py.
DRIVEN_ELSEWHERE = {
    "resume_reparse",
    "user_hash_resolve",
    "session_csrf_fail",
    "sensitive_delete",
    "sys_monitor_disabled",
    "sys_monitor_enabled",
}
# The server's, and a database outage's (tests/deploy/test_slow_clients.py,
# tests/test_database_outage.py).
DRIVEN_ELSEWHERE |= {
    "http_connection_timeout",
    "malicious_slow_connections",
    "database_unavailable",
}
# Sessions, passwords, registration and feedback versions: tests/blueprints/test_sessions.py,
# test_passwords.py, test_auth.py and test_interviews.py.
DRIVEN_ELSEWHERE |= {
    "session_use_after_expire",
    "user_create_existing",
    "authn_password_change",
    "authn_password_change_fail",
    "authn_password_reset",
    "interview_feedback_versions",
}
SERVER = 2  # OTLP SpanKind SERVER


class Scenario:
    """Runs the requests, remembering who made each and how many were made."""

    def __init__(self, app: Any, make: Factory) -> None:
        self.app, self.make = app, make
        self.requests = 0
        self.actor_of: dict[str, str | None] = {}

    def call(self, client: Any, method: str, path: str, actor: Any = None, **kw: Any) -> Any:
        self.requests += 1
        headers = kw.pop("headers", {})
        if getattr(client, "token", None):
            headers["Authorization"] = f"Bearer {client.token}"
        target = getattr(client, "client", client)
        return target.open(path, method=method, headers=headers, **kw)


@pytest.fixture
def boom_app(app):
    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("exploded while talking to postgresql://talaro:hunter2@db/talaro")

    return app


def run_scenario(app: Any, make: Factory, as_role: Any) -> tuple[Scenario, dict[str, Any]]:
    s = Scenario(app, make)
    manager = make.user(Role.HIRING_MANAGER)
    admin, recruiter = as_role(Role.ADMIN), as_role(Role.RECRUITER)
    interviewer = as_role(Role.INTERVIEWER)
    browser = app.test_client()
    ids: dict[str, Any] = {
        "manager": manager.id,
        "admin": admin.user.id,
        "recruiter": recruiter.user.id,
        "interviewer": interviewer.user.id,
    }

    created = s.call(
        browser,
        "POST",
        "/api/auth/register",
        json={"email": "new@example.com", "password": "long enough pw", "name": "N"},
    )
    assert created.status_code == 201
    bad = {"email": manager.email, "password": "wrong password"}
    assert s.call(browser, "POST", "/api/auth/login", json=bad).status_code == 401
    login = s.call(
        browser, "POST", "/api/auth/login", json={"email": manager.email, "password": PASSWORD}
    )
    csrf = {"X-CSRFToken": login.json["csrf_token"]}
    job = s.call(browser, "POST", "/api/jobs", json={"title": "SRE"}, headers=dict(csrf))
    assert job.status_code == 201
    ids["job"] = job.json["id"]
    assert (
        s.call(
            browser,
            "PATCH",
            f"/api/jobs/{ids['job']}",
            json={"title": "Senior SRE"},
            headers=dict(csrf),
        ).status_code
        == 200
    )
    assert s.call(browser, "POST", "/api/jobs", json={}, headers=dict(csrf)).status_code == 422
    token = s.call(browser, "POST", "/api/auth/tokens", json={"name": "ci"}, headers=dict(csrf))
    ids["token"] = token.json["id"]
    assert (
        s.call(
            browser, "DELETE", f"/api/auth/tokens/{ids['token']}", headers=dict(csrf)
        ).status_code
        == 204
    )
    revoked = {"Authorization": f"Bearer {token.json['token']}"}
    assert s.call(app.test_client(), "GET", "/api/auth/me", headers=revoked).status_code == 401

    assert (
        s.call(
            admin, "PATCH", f"/api/users/{created.json['id']}", json={"role": "RECRUITER"}
        ).status_code
        == 200
    )
    upload = {"file": (io.BytesIO(resume_text("Ana Lima", "ana@example.org").encode()), "a.txt")}
    assert s.call(admin, "POST", "/api/resumes", data=upload).status_code == 403

    upload = {"file": (io.BytesIO(resume_text("Ana Lima", "ana@example.org").encode()), "a.txt")}
    resume = s.call(recruiter, "POST", "/api/resumes", data=upload)
    assert resume.status_code == 201
    ids["resume"], ids["candidate"] = resume.json["id"], resume.json["candidate_id"]
    files = [
        (io.BytesIO(resume_text("Bo Chen", "bo@example.org").encode()), "b.txt"),
        (io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(300)), "c.pdf"),
    ]
    bulk = s.call(recruiter, "POST", "/api/resumes/bulk", data={"files": files})
    assert [r["status"] for r in bulk.json["results"]] == ["created", "failed"]
    assert s.call(recruiter, "GET", "/api/resumes").status_code == 200
    assert s.call(recruiter, "GET", f"/api/resumes/{ids['resume']}").status_code == 200
    assert (
        s.call(
            recruiter,
            "PATCH",
            f"/api/resumes/{ids['resume']}",
            json={"fields": {"name": "Ana Lima"}},
        ).status_code
        == 200
    )
    started = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    interview = s.call(
        recruiter,
        "POST",
        "/api/interviews",
        json={
            "candidate_id": ids["candidate"],
            "job_id": ids["job"],
            "interviewer_id": interviewer.user.id,
            "starts_at": started,
            "duration_minutes": 30,
            "past_record": True,
        },
    )
    assert interview.status_code == 201
    ids["interview"] = interview.json["id"]
    assert s.call(recruiter, "GET", "/api/interviews").status_code == 200
    assert s.call(recruiter, "GET", f"/api/interviews/{ids['interview']}").status_code == 200
    assert (
        s.call(
            recruiter, "PATCH", f"/api/interviews/{ids['interview']}", json={"round": "final"}
        ).status_code
        == 200
    )
    assert (
        s.call(
            interviewer,
            "PUT",
            f"/api/interviews/{ids['interview']}/feedback",
            json={"rating": 4, "recommendation": "yes"},
        ).status_code
        == 200
    )
    assert s.call(recruiter, "DELETE", f"/api/interviews/{ids['interview']}").status_code == 204
    assert s.call(recruiter, "DELETE", f"/api/resumes/{ids['resume']}").status_code == 204
    assert s.call(recruiter, "GET", "/api/boom").status_code == 500
    assert s.call(browser, "POST", "/api/auth/logout", headers=dict(csrf)).status_code == 204
    return s, ids


def expected_actor(name: str, ids: dict[str, Any]) -> str | None:
    by_manager = {
        "authn_login_success",
        "authn_login_successafterfail",
        "job_create",
        "job_update",
        "input_validation_fail",
        "authn_token_created",
        "authn_token_revoked",
        "session_expired",
    }
    if name in by_manager:
        return ids["manager"]
    if name in {"authz_change", "authz_fail"}:
        return ids["admin"]
    if name == "interview_feedback":
        return ids["interviewer"]
    if name.startswith(("resume_", "interview_")) or name in {
        "upload_validation",
        "error_unhandled",
    }:
        return ids["recruiter"]
    return None  # anonymous: registration, failed login, token reuse, process events


def test_every_catalogue_event_lands_once_in_its_stream(boom_app, make, as_role, telemetry_dir):
    app = boom_app
    scenario, ids = run_scenario(app, make, as_role)
    telemetry.shutdown(app)  # flushes, and writes sys_shutdown

    assert set(DRIVEN) | FIRED_BY_RULES | DRIVEN_ELSEWHERE | {"http_request"} == set(CATALOGUE)
    server_spans = {
        span.trace_id: span
        for span in otlp_json.spans(telemetry_dir / "traces.jsonl")
        if span.kind == SERVER
    }
    for stream in ("security", "application"):
        records = [
            # Test set-up (factory tokens) happens outside any request: not the scenario's.
            r
            for r in otlp_json.log_records(telemetry_dir / f"{stream}.jsonl")
            if r.event_name.startswith("sys_") or "http.request.method" in r.attributes
        ]
        assert {r.attributes[STREAM_ATTRIBUTE] for r in records} == {stream}
        counts = Counter(r.event_name for r in records)
        for name, spec in CATALOGUE.items():
            if stream not in spec.streams:
                assert counts[name] == 0, f"{name} leaked into {stream}"
                continue
            expected = scenario.requests if name == "http_request" else DRIVEN.get(name, 0)
            assert counts[name] == expected, f"{name} in {stream}: {counts[name]} != {expected}"
        for record in records:
            check_record(record, ids, server_spans)


def check_record(record: otlp_json.LogRecord, ids: dict[str, Any], server_spans: dict) -> None:
    spec = CATALOGUE[record.event_name]
    attrs = record.attributes
    context = f"{record.event_name}: {attrs}"
    # A success carries the spec's attributes, a failure what the spec asks of failures.
    required = spec.required if attrs["event.outcome"] == "success" else spec.failure_required
    for key in required:
        assert key in attrs, f"{context} lacks {key}"
    assert attrs["event.action"] == record.event_name
    assert attrs["event.category"] == list(spec.category)
    assert attrs["event.outcome"] in ("success", "failure")
    if record.event_name == "http_request":
        status = attrs["http.response.status_code"]
        assert record.severity_text == (
            "ERROR" if status >= 500 else "WARN" if status >= 400 else "INFO"
        ), context
    elif attrs["event.outcome"] == "failure" and spec.failure_severity is not None:
        assert record.severity_number == spec.failure_severity.value, context
    else:
        assert record.severity_number == spec.severity.value, context
    assert record.resource["service.name"] == "talaro"
    if record.event_name in ("sys_startup", "sys_shutdown"):
        assert record.trace_id == ""
        return
    assert {"client.address", "user_agent.original", "http.request.method"} <= attrs.keys()
    span = server_spans.get(record.trace_id)
    assert span is not None, f"{context}: trace {record.trace_id} has no server span"
    if record.event_name != "http_request":
        actor = expected_actor(record.event_name, ids)
        assert attrs.get("user.id") == actor, context
        if actor is not None:
            assert attrs["user.roles"] and attrs["talaro.auth.method"] in (
                "session",
                "token",
                "password",
            )
            assert "user.email" in attrs
            assert span.attributes.get("user.id") == actor, f"{context}: span {span.attributes}"
        if attrs.get("talaro.auth.method") == "token":  # which token, on record and span
            assert attrs["talaro.token.id"], context
            assert span.attributes.get("talaro.token.id") == attrs["talaro.token.id"], context
        else:
            assert "talaro.token.id" not in attrs or record.event_name.startswith("authn_token")
    if spec.streams == (SECURITY,) and attrs["event.outcome"] == "failure":
        assert attrs.get("reason"), context
        if record.event_name not in DETECTIONS:  # a rule describes a pattern, not a response
            assert 400 <= attrs["http.response.status_code"] < 500, context


def test_denial_reason_matches_the_403(as_role, read_stream) -> None:
    admin = as_role(Role.ADMIN)
    data = {"file": (io.BytesIO(b"Some One\nsome@example.org\n"), "cv.txt")}
    response = admin.post("/api/resumes", data=data)
    assert response.status_code == 403
    denials = [r for r in read_stream("security") if r.event_name == "authz_fail"]
    assert len(denials) == 1
    assert denials[0].attributes["reason"] == response.json["error"]["message"]
    assert denials[0].attributes["reason"] == 'User role "ADMIN" not allowed for resume upload'
    assert denials[0].attributes["user.roles"] == ["ADMIN"]
    assert denials[0].severity_text == "WARN"  # one denial; probing is what rules are for


def test_unhandled_error_record_has_type_message_and_redacted_stack(boom_app, read_stream):
    response = boom_app.test_client().get("/api/boom")
    assert response.status_code == 500
    (record,) = [r for r in read_stream("application") if r.event_name == "error_unhandled"]
    assert record.attributes["exception.type"] == "builtins.RuntimeError"
    assert "exploded while talking to" in record.attributes["exception.message"]
    assert "hunter2" not in record.attributes["exception.message"]
    assert "Traceback" in record.attributes["exception.stacktrace"]
    assert "hunter2" not in record.attributes["exception.stacktrace"]

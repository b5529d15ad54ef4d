"""Spans: a server span per request carrying the user, child spans for the costly work."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from talaro import telemetry
from talaro.models import Role
from tests.factories import PASSWORD, resume_text
from tests.telemetry import otlp_json

SERVER, INTERNAL, CLIENT = 2, 1, 3


def test_work_inside_a_request_gets_child_spans_of_its_server_span(
    app, make, as_role, telemetry_dir
) -> None:
    manager = make.user(Role.HIRING_MANAGER)
    login = app.test_client().post(
        "/api/auth/login", json={"email": manager.email, "password": PASSWORD}
    )
    assert login.status_code == 200
    recruiter = as_role(Role.RECRUITER)
    text = resume_text("Ines Costa", "ines@example.org")
    upload = recruiter.post("/api/resumes", data={"file": (io.BytesIO(text.encode()), "i.txt")})
    assert upload.status_code == 201
    booking = {
        "candidate_id": upload.json["candidate_id"],
        "job_id": make.job().id,
        "interviewer_id": make.user(Role.INTERVIEWER).id,
        "starts_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        "duration_minutes": 45,
    }
    assert recruiter.post("/api/interviews", json=booking).status_code == 201
    assert recruiter.get("/api/resumes?q=ines").status_code == 200
    telemetry.flush(app)

    spans = otlp_json.spans(telemetry_dir / "traces.jsonl")
    servers = {s.name: s for s in spans if s.kind == SERVER}
    assert {
        "POST /api/auth/login",
        "POST /api/resumes",
        "POST /api/interviews",
        "GET /api/resumes",
    } <= servers.keys()

    def children(server_name: str) -> set[str]:
        server = servers[server_name]
        return {s.name for s in spans if s.trace_id == server.trace_id and s is not server}

    assert "password.verify" in children("POST /api/auth/login")
    upload_work = children("POST /api/resumes")
    assert {"resume.duplicate_check", "resume.extract_text", "resume.extract_fields"} <= upload_work
    assert "interview.conflict_check" in children("POST /api/interviews")
    database = [
        s for s in spans if s.kind == CLIENT and s.trace_id == servers["POST /api/resumes"].trace_id
    ]
    assert database, "database calls have spans"

    upload_span = servers["POST /api/resumes"]
    assert upload_span.attributes["user.id"] == recruiter.user.id
    assert upload_span.attributes["user.roles"] == ["RECRUITER"]
    assert upload_span.attributes["talaro.auth.method"] == "token"
    assert upload_span.attributes["http.route"] == "/api/resumes"
    assert upload_span.attributes["http.response.status_code"] == 201
    search = servers["GET /api/resumes"]
    assert search.attributes["url.query"] == "q=REDACTED"
    login_span = servers["POST /api/auth/login"]
    assert login_span.attributes["user.id"] == manager.id
    assert login_span.attributes["talaro.auth.method"] == "session"


def test_health_checks_are_not_recorded(app, telemetry_dir) -> None:
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/auth/me").status_code == 401
    telemetry.flush(app)
    spans = otlp_json.spans(telemetry_dir / "traces.jsonl")
    assert not [s for s in spans if "healthz" in s.name]
    records = otlp_json.log_records(telemetry_dir / "application.jsonl")
    paths = [r.attributes["url.path"] for r in records if r.event_name == "http_request"]
    assert paths == ["/api/auth/me"]

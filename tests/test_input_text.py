"""Text PostgreSQL cannot store (NUL, lone surrogates) is refused with a 422, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from talaro import telemetry
from talaro.input_text import MESSAGE, unstorable_fields
from talaro.models import Role
from tests import factories
from tests.telemetry import otlp_json


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def validation_events(app: Flask) -> list[otlp_json.LogRecord]:
    telemetry.flush(app)
    path = Path(app.config["TALARO_TELEMETRY_DIR"]) / "security.jsonl"
    return [r for r in otlp_json.log_records(path) if r.event_name == "input_validation_fail"]


def test_finds_bad_text_in_nested_values() -> None:
    body = {"title": "ok", "tags": ["fine", "bad\x00"], "nested": {"x": "\ud800"}}
    assert unstorable_fields(body) == ["tags[1]", "nested.x"]
    assert unstorable_fields({"name": "Zoë 👩‍💻"}) == []


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "field"),
    [
        ("POST", "/api/jobs", {"json": {"title": "Back\x00end", "department": "Eng"}}, "title"),
        ("GET", "/api/resumes", {"query_string": {"q": "ada\x00"}}, "q"),
        (  # a lone surrogate can only come in as a JSON escape
            "POST",
            "/api/jobs",
            {"data": '{"title": "x", "department": "\\udc80"}', "content_type": "application/json"},
            "department",
        ),
        ("GET", "/api/resumes/abc%00def", {}, "resume_id"),
    ],
)
def test_nul_and_lone_surrogates_are_a_422_not_a_500(
    app: Flask,
    as_role: factories.RoleClients,
    method: str,
    path: str,
    kwargs: dict,
    field: str,
) -> None:
    client = as_role(Role.HIRING_MANAGER if method == "POST" else Role.RECRUITER)
    response = client.open(method, path, **kwargs)
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"] == MESSAGE
    assert list(error["details"]["fields"]) == [field]
    [event] = validation_events(app)
    assert event.attributes["talaro.invalid_fields"] == [field]
    assert "\x00" not in str(event.attributes)


def test_a_form_with_a_nul_is_refused_on_the_page(app: Flask, make: factories.Factory) -> None:
    client = app.test_client()
    user = make.user(Role.RECRUITER)
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/login", data={"email": user.email + "\x00", "password": "x", "csrf_token": token}
    )
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert len(validation_events(app)) == 1

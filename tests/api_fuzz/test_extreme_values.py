"""Extreme values against every operation of the OpenAPI document, on SQLite and PostgreSQL:
huge and deeply nested JSON, numbers far out of range, boundary dates, very long strings,
long ids and query values. Every answer is a 4xx with a JSON error or a success, never a
5xx. Schemathesis (test_openapi_fuzz.py) keeps to the documented shapes; this covers the
extremes it rarely reaches.

Each JSON operation starts from a valid body (BASES); one value at a time is swapped for
each extreme of its kind, so the request gets past "missing field" to the schemas, the
services and the database. A JSON operation added to the API without a base fails
`test_every_json_operation_has_a_base`.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from talaro.models import Role
from tests.factories import PASSWORD, ApiClient, Factory, RoleClients, resume_text

HUGE = 10**30
STRINGS = [
    "x" * 5000,
    "é" * 20_000,  # 40 KB of UTF-8
    "9" * 5000,
    "a" * 300 + "@example.com",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "2031-05-06T09:00:00+99:00",
    "1e99999",
    "",
    " ",
]
NUMBERS = [HUGE, -HUGE, 1e308, -1e308, 2**63, 2**31, -1, 0, 0.5]
OTHERS = [None, True, [], {}, ["x"] * 1000, {"x" * 1000: "y"}]
RAW_BODIES = [
    b"[" * 100_000,
    b'{"a":' * 50_000,
    b'{"rating": ' + b"9" * 5000 + b"}",
    b'{"rating": 1e99999, "duration_minutes": -1e99999}',
    b'{"name": "' + b"x" * 300_000 + b'"}',  # larger than the body limit
    b'"' + b"\\" * 10_000,  # an unterminated string of escapes
    b"\xff\xfe\x00{",
    b"9" * 5000,
]
LONG_ID = "x" * 3000
QUERY_VALUES = ["9" * 5000, "-1", "0", "1e400", "x" * 5000, "%00"]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@dataclass
class Target:
    app: Flask
    callers: dict[str, ApiClient]
    ids: dict[str, str]


@pytest.fixture
def target(make_app: Callable[..., Flask]) -> Target:
    # Rate limits off: the point is to reach the schemas, services and database each time.
    app = make_app(TALARO_RATELIMIT_ENABLED=False)
    make = Factory(app)
    roles = RoleClients(app, make)
    manager = roles(Role.HIRING_MANAGER)
    interviewer = roles(Role.INTERVIEWER)
    resume = make.resume(by=manager.user)
    interview = make.interview(
        interviewer=interviewer.user,
        scheduled_by=manager.user,
        starts_at=datetime.now(UTC) - timedelta(hours=1),
    )
    callers = {"manager": manager, "interviewer": interviewer, "admin": roles(Role.ADMIN)}
    ids = {
        "job_id": make.job().id,
        "resume_id": resume.id,
        "candidate_id": resume.candidate_id,
        "interview_id": interview.id,
        "interviewer_id": interviewer.user.id,
        "user_id": make.user(Role.INTERVIEWER).id,
        "token_id": "0" * 32,
    }
    return Target(app, callers, ids)


# A valid body per JSON operation; "{name}" strings are filled from Target.ids.
BASES: dict[str, dict[str, Any]] = {
    "POST /api/auth/register": {
        "email": "new@example.com",
        "password": "a long enough password",
        "name": "New",
    },
    "POST /api/auth/login": {"email": "x@example.com", "password": "not the password"},
    "POST /api/auth/tokens": {"name": "ci"},
    "POST /api/auth/password": {
        "current_password": PASSWORD,
        "new_password": "a completely new passphrase",
    },
    "PATCH /api/auth/me": {"time_zone": "Asia/Kolkata"},
    "PATCH /api/users/{user_id}": {"role": "RECRUITER", "active": True},
    "POST /api/users/{user_id}/password": {"password": "temporary passphrase 7", "temporary": True},
    "POST /api/jobs": {"title": "T", "department": "D", "description": "x"},
    "PATCH /api/jobs/{job_id}": {"title": "T2", "department": "D", "description": "y"},
    "PATCH /api/resumes/{resume_id}": {
        "job_id": "{job_id}",
        "fields": {
            "name": "N",
            "email": "n@example.com",
            "phone": "+14155550100",
            "location": "Berlin",
            "links": ["https://example.org"],
            "skills": ["Python"],
            "education": ["BSc"],
            "experience": [{"employer": "A", "title": "B", "start": "2019-01", "end": "present"}],
            "years_experience": 3,
        },
    },
    "POST /api/interviews": {
        "candidate_id": "{candidate_id}",
        "job_id": "{job_id}",
        "interviewer_id": "{interviewer_id}",
        "starts_at": "2031-05-06T09:00:00+02:00",
        "duration_minutes": 60,
        "round": "technical",
    },
    "PATCH /api/interviews/{interview_id}": {
        "starts_at": "2031-06-06T09:00:00+02:00",
        "duration_minutes": 45,
        "round": "final",
        "status": "scheduled",
    },
    "PUT /api/interviews/{interview_id}/feedback": {
        "rating": 4,
        "recommendation": "yes",
        "notes": "ok",
    },
}


def caller_for(operation: str) -> str:
    if "/api/users" in operation:
        return "admin"
    if operation.endswith("/feedback") or operation.endswith("/feedback/versions"):
        return "interviewer"
    return "manager"


def operations(target: Target) -> dict[str, dict[str, Any]]:
    spec = target.callers["manager"].get("/api/openapi.json").get_json()
    found = {}
    for path, items in spec["paths"].items():
        for method, operation in items.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                found[f"{method.upper()} {path}"] = operation
    return found


def fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids.get(value[1:-1], value)
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, ids) for item in value]
    return value


def extremes_for(value: Any) -> list[Any]:
    if isinstance(value, bool) or value is None:
        return [*NUMBERS[:3], STRINGS[0]]
    if isinstance(value, int | float):
        return [*NUMBERS, STRINGS[0], STRINGS[2]]
    if isinstance(value, str):
        return [*STRINGS, HUGE]
    return OTHERS


def mutations(body: Any) -> Iterator[tuple[str, Any]]:
    """(where, body with one value swapped) for every value of `body`, recursively, and an
    unknown key with a huge value in every object."""
    if isinstance(body, dict):
        yield "<extra key>", {**body, "x" * 200: STRINGS[0]}
        for key, value in body.items():
            for extreme in extremes_for(value) + (OTHERS if isinstance(value, str) else []):
                yield key, {**body, key: extreme}
            for where, inner in mutations(value):
                yield f"{key}.{where}", {**body, key: inner}
    elif isinstance(body, list) and body:
        yield "[]", body * 500
        for where, inner in mutations(body[0]):
            yield f"[0].{where}", [inner, *body[1:]]
        if not isinstance(body[0], dict | list):
            for extreme in extremes_for(body[0]):
                yield "[0]", [extreme, *body[1:]]


def send(target: Target, operation: str, **kw: Any) -> TestResponse:
    method, path = operation.split(" ", 1)
    path = path.format(**{**target.ids, **kw.pop("path_ids", {})})
    return target.callers[caller_for(operation)].open(method, path, **kw)


def problem(response: TestResponse) -> str | None:
    """Why the answer breaks the contract (a 5xx, or a 4xx without a JSON error), or None."""
    if response.status_code >= 500:
        return f"{response.status_code}"
    if response.status_code >= 400:
        body = response.get_json(silent=True) or {}
        error = body.get("error") if isinstance(body, dict) else None
        if not (isinstance(error, dict) and error.get("code") and error.get("message")):
            return f"{response.status_code} without a JSON error"
    return None


def test_every_json_operation_has_a_base(target: Target) -> None:
    with_json = {
        name
        for name, operation in operations(target).items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    }
    assert with_json == set(BASES)


def test_extreme_values_never_cause_a_server_error(target: Target) -> None:
    failures: list[str] = []
    sent = 0

    def check(label: str, response: TestResponse) -> None:
        nonlocal sent
        sent += 1
        found = problem(response)
        if found is not None:
            failures.append(f"{label}: {found} {response.get_data(as_text=True)[:200]}")

    for operation, spec in operations(target).items():
        method = operation.split(" ", 1)[0]
        base = fill(BASES.get(operation), target.ids)
        if base is not None:
            for where, body in mutations(base):
                check(f"{operation} {where}", send(target, operation, json=body))
        if method != "GET":
            for raw in RAW_BODIES:
                response = send(target, operation, data=raw, content_type="application/json")
                check(f"{operation} raw {raw[:12]!r}", response)
        for parameter in spec.get("parameters", []):
            if parameter.get("in") == "query":
                for value in QUERY_VALUES:
                    response = send(target, operation, query_string={parameter["name"]: value})
                    check(f"{operation} ?{parameter['name']}={value[:12]}", response)
            elif parameter.get("in") == "path" and method != "DELETE":
                response = send(target, operation, path_ids={parameter["name"]: LONG_ID})
                check(f"{operation} long {parameter['name']}", response)
    assert sent > 800
    assert not failures, "\n".join(failures[:40])


def test_one_bulk_file_the_database_refuses_fails_alone(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row the database refuses fails that file only; the good files of the upload are
    stored. PostgreSQL refuses a value longer than its column (DataError); SQLite checks no
    lengths, so there the row breaks NOT NULL instead (IntegrityError)."""
    from talaro.services import ingestion

    real_add = ingestion._add
    postgres = target.app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")

    def add(user: Any, job: Any, checked: Any, done: Any) -> Any:
        resume = real_add(user, job, checked, done)
        if checked.upload.filename == "bad.txt":
            if postgres:
                resume.content_type = "x" * 500
            else:
                resume.size = None
        return resume

    monkeypatch.setattr(ingestion, "_add", add)
    files = [
        (resume_text("Good One", "good1@example.org"), "good1.txt"),
        (resume_text("Bad Person", "bad@example.org"), "bad.txt"),
        (resume_text("Good Two", "good2@example.org"), "good2.txt"),
    ]
    response = target.callers["manager"].post(
        "/api/resumes/bulk",
        data={"files": [(io.BytesIO(text.encode()), name) for text, name in files]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.get_json()["results"]
    statuses = [(r["filename"], r["status"]) for r in results]
    assert statuses == [("good1.txt", "created"), ("bad.txt", "failed"), ("good2.txt", "created")]
    assert results[1]["error"] == "The file's extracted values could not be stored"
    listed = target.callers["manager"].get("/api/resumes?per_page=100").get_json()["items"]
    names = {item["filename"] for item in listed}
    assert {"good1.txt", "good2.txt"} <= names and "bad.txt" not in names

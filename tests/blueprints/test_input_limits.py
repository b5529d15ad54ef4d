"""The inputs that used to answer 500, each now a 4xx with a JSON error (SQLite and
PostgreSQL): 100,000 `[`, a 5,000-digit number, interview times in year 9999 or year 1
with an offset, a correction longer than its column; and the body limits behind them."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from talaro import telemetry
from talaro.models import Role
from talaro.request_limits import UPLOAD_ENDPOINTS, json_problem
from tests.factories import Factory, resume_text
from tests.telemetry import otlp_json

JSON = "application/json"


def assert_json_error(response: TestResponse, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == JSON
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"], error
    return error


def validation_records(app: Flask) -> list[otlp_json.LogRecord]:
    telemetry.flush(app)
    path = Path(app.config["TALARO_TELEMETRY_DIR"]) / "security.jsonl"
    return [r for r in otlp_json.log_records(path) if r.event_name == "input_validation_fail"]


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/register"])
def test_deeply_nested_json_is_refused_before_parsing_without_signing_in(
    app, client, path: str
) -> None:
    response = client.post(path, data="[" * 100_000, content_type=JSON)
    error = assert_json_error(response, 400, "json_too_complex")
    assert "nested deeper than 32" in error["message"]
    [record] = validation_records(app)
    assert record.attributes["talaro.limit"] == "TALARO_MAX_JSON_DEPTH"
    assert "[[" not in str(record.attributes)


def test_a_five_thousand_digit_number_is_refused(app, client, as_role) -> None:
    body = '{"email": "a@example.com", "password": ' + "9" * 5000 + "}"
    assert_json_error(
        client.post("/api/auth/login", data=body, content_type=JSON), 400, "json_too_complex"
    )
    manager = as_role(Role.HIRING_MANAGER)
    job = '{"title": "x", "department": ' + "1" * 5000 + "}"
    response = manager.post("/api/jobs", data=job, content_type=JSON)
    assert_json_error(response, 400, "json_too_complex")


@pytest.mark.parametrize(
    "starts_at",
    ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+05:00", "9999-12-31T23:59:00+00:00"],
)
def test_interview_times_at_the_ends_of_the_calendar_are_a_422(
    as_role, make: Factory, starts_at: str
) -> None:
    recruiter = as_role(Role.RECRUITER)
    body = {
        "candidate_id": make.candidate().id,
        "job_id": make.job().id,
        "interviewer_id": make.user(Role.INTERVIEWER).id,
        "starts_at": starts_at,
        "duration_minutes": 480,
    }
    error = assert_json_error(recruiter.post("/api/interviews", json=body), 422, "validation_error")
    assert list(error["details"]["fields"]) == ["starts_at"]
    interview = make.interview(scheduled_by=recruiter.user)
    patched = recruiter.patch(f"/api/interviews/{interview.id}", json={"starts_at": starts_at})
    assert_json_error(patched, 422, "validation_error")


def test_a_correction_longer_than_its_column_is_a_422_naming_the_field(
    as_role, make: Factory
) -> None:
    recruiter = as_role(Role.RECRUITER)
    resume = make.resume(by=recruiter.user)
    long_email = "a" * 300 + "@example.com"
    response = recruiter.patch(f"/api/resumes/{resume.id}", json={"fields": {"email": long_email}})
    error = assert_json_error(response, 422, "validation_error")
    assert "email" in error["details"]["fields"]["fields"]
    assert recruiter.get(f"/api/resumes/{resume.id}").json["fields"]["email"] != long_email


def test_an_over_long_extracted_value_is_left_out_and_the_file_stored(as_role) -> None:
    recruiter = as_role(Role.RECRUITER)
    name = "Name " + "x" * 300  # longer than the candidate name column
    data = resume_text(name, "long.name@example.org").encode()
    response = recruiter.post(
        "/api/resumes",
        data={"file": (io.BytesIO(data), "cv.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    assert response.json["candidate"]["name"] != name


def test_json_and_form_bodies_are_held_to_a_small_limit_but_uploads_are_not(
    make_app,
) -> None:
    app = make_app(TALARO_MAX_BODY_BYTES=64 * 1024)
    make = Factory(app)
    client = app.test_client()
    big = {"email": "a@example.com", "password": "x" * 70_000}
    error = assert_json_error(client.post("/api/auth/login", json=big), 413, "payload_too_large")
    assert "64 KiB" in error["message"]
    form = client.post("/login", data={"email": "a@example.com", "password": "x" * 70_000})
    assert form.status_code == 413
    [json_record, form_record] = validation_records(app)
    assert json_record.attributes["talaro.limit"] == "TALARO_MAX_BODY_BYTES"
    assert "xxxx" not in str(json_record.attributes) + str(form_record.attributes)
    # A resume of 100 KiB still uploads (TALARO_MAX_FILE_SIZE is 512 KiB in tests).
    recruiter = make.user(Role.RECRUITER)
    data = resume_text("Big File", "big.file@example.org").encode() + b"Skills\n" * 15_000
    upload = client.post(
        "/api/resumes",
        data={"file": (io.BytesIO(data), "big.txt")},
        content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {make.token(recruiter)}"},
    )
    assert upload.status_code == 201, upload.json


def test_the_upload_endpoints_exist(app) -> None:
    assert set(app.view_functions) >= UPLOAD_ENDPOINTS


def test_the_json_scan_skips_strings_and_stays_linear() -> None:
    assert json_problem(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', 32) is None
    assert json_problem(b'{"a": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', 32) is None
    assert json_problem(b'{"a": "' + b"9" * 500 + b'"}', 32) is None  # digits in a string
    assert json_problem(b"[" * 33, 32) is not None
    assert json_problem(b"[" * 32 + b"]" * 32, 32) is None
    assert json_problem(b"[1.5e10, -3]", 32) is None
    started = time.perf_counter()
    for hostile in (b'"\\' * 131_072, b'"' * 262_144, b"[]" * 131_072, b"\\" * 262_144):
        json_problem(hostile, 32)
    assert time.perf_counter() - started < 2

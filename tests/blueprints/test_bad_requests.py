"""Every kind of bad request gets the right 4xx and a JSON error body, never a 500.

The contract: `{"error": {"code", "message"}}` with 400, 401, 404, 405, 409, 413, 415 or
422; a 422 names the offending fields in `error.details.fields`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from talaro.models import Role
from tests.factories import PASSWORD, ApiClient, Factory, RoleClients, resume_text

MISSING = "0" * 32  # a well-formed id that names nothing
MULTIPART = "multipart/form-data"
KIB = 1024
MAX_FILE_SIZE = 512 * KIB  # TALARO_MAX_FILE_SIZE in the test config
MAX_CONTENT_LENGTH = 8 * 1024 * KIB  # MAX_CONTENT_LENGTH in the test config
MAX_BULK_FILES = 10  # TALARO_MAX_BULK_FILES in the test config
ACCOUNT = {"email": "ada@example.com", "password": "long enough pw", "name": "Ada"}
FEEDBACK = {"rating": 4, "recommendation": "yes", "notes": "Solid."}
BOOKING = {  # "{...}" values are filled in from World.ids
    "candidate_id": "{candidate}",
    "job_id": "{job}",
    "interviewer_id": "{interviewer}",
    "starts_at": "2031-05-06T09:00:00+02:00",
    "duration_minutes": 60,
}


class Anonymous(ApiClient):
    """Sends no credentials at all."""

    def open(self, method: str, path: str, **kw: Any) -> Any:
        return self.client.open(path, method=method, **kw)


@dataclass
class World:
    """One caller per role, and one of each object for the requests to point at."""

    callers: dict[str, ApiClient]
    ids: dict[str, str]  # job, resume, candidate, interview, interviewer, user

    def send(self, who: str, method: str, path: str, **kw: Any) -> TestResponse:
        if isinstance(kw.get("json"), dict):
            kw["json"] = {k: fill(v, self.ids) for k, v in kw["json"].items()}
        return self.callers[who].open(method, fill(path, self.ids), **kw)


def fill(value: Any, ids: dict[str, str]) -> Any:
    return value.format(**ids) if isinstance(value, str) else value


@pytest.fixture
def world(app: Flask, as_role: RoleClients, make: Factory) -> World:
    manager = as_role(Role.HIRING_MANAGER)
    recruiter = as_role(Role.RECRUITER)
    interviewer = as_role(Role.INTERVIEWER)
    resume = make.resume(by=recruiter.user)
    interview = make.interview(  # already started, so feedback is open
        interviewer=interviewer.user,
        scheduled_by=recruiter.user,
        starts_at=datetime.now(UTC) - timedelta(hours=1),
    )
    callers = {
        "anonymous": Anonymous(app.test_client(), make.user(Role.INTERVIEWER), ""),
        "admin": as_role(Role.ADMIN),
        "manager": manager,
        "recruiter": recruiter,
        "interviewer": interviewer,
    }
    ids = {
        "job": make.job().id,
        "resume": resume.id,
        "candidate": resume.candidate_id,
        "interview": interview.id,
        "interviewer": interviewer.user.id,
        "user": make.user(Role.INTERVIEWER).id,
        "missing": MISSING,
    }
    return World(callers, ids)


def assert_error(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    """The response is `status` with a JSON error body of `code`; returns the error."""
    body = response.get_data(as_text=True)
    assert response.status_code == status, (response.status_code, body)
    assert response.mimetype == "application/json", body
    error = response.get_json()["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"], error
    return error


def assert_invalid_fields(response: TestResponse, fields: list[str]) -> None:
    error = assert_error(response, 422, "validation_error")
    assert sorted(error["details"]["fields"]) == sorted(fields), error


def file_part(data: bytes, filename: str = "cv.txt") -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), filename


def upload(client: ApiClient, data: bytes, filename: str = "cv.txt") -> TestResponse:
    return client.post(
        "/api/resumes", data={"file": file_part(data, filename)}, content_type=MULTIPART
    )


def text_resume(n: int) -> bytes:
    return resume_text(f"Person Number{n}", f"person{n}@example.org").encode()


def resume_count(client: ApiClient) -> int:
    return int(client.get("/api/resumes").get_json()["total"])


# 422: missing fields, wrong types, unknown ids in bodies ----------------------------------


@pytest.mark.parametrize(
    ("who", "method", "path", "request_kw", "fields"),
    [
        pytest.param(
            "anonymous", "POST", "/api/auth/register", {"json": {}}, ["email", "name", "password"],
            id="register",
        ),
        pytest.param(
            "anonymous", "POST", "/api/auth/login", {"json": {}}, ["email", "password"], id="login"
        ),
        pytest.param("recruiter", "POST", "/api/auth/tokens", {"json": {}}, ["name"], id="token"),
        pytest.param(
            "manager", "POST", "/api/jobs", {"json": {"department": "R&D"}}, ["title"], id="job"
        ),
        pytest.param(
            "recruiter", "POST", "/api/interviews", {"json": {"round": "first"}},
            ["candidate_id", "duration_minutes", "interviewer_id", "job_id", "starts_at"],
            id="interview",
        ),
        pytest.param(
            "interviewer", "PUT", "/api/interviews/{interview}/feedback",
            {"json": {"notes": "no rating"}}, ["rating", "recommendation"],
            id="feedback",
        ),
        pytest.param(
            "recruiter", "POST", "/api/resumes", {"data": {}, "content_type": MULTIPART}, ["file"],
            id="upload",
        ),
        pytest.param(
            "recruiter", "POST", "/api/resumes/bulk", {"data": {}, "content_type": MULTIPART},
            ["files"],
            id="bulk_upload",
        ),
    ],
)  # fmt: skip
def test_missing_fields_are_422_naming_them(
    world: World, who: str, method: str, path: str, request_kw: dict[str, Any], fields: list[str]
) -> None:
    response = world.send(who, method, path, **request_kw)
    assert_invalid_fields(response, fields)
    message = response.get_json()["error"]["message"]
    assert all(field in message for field in fields), message


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "field"),
    [
        pytest.param(
            "anonymous", "POST", "/api/auth/register", {**ACCOUNT, "email": "not an email"},
            "email",
            id="register_email_invalid",
        ),
        pytest.param(
            "anonymous", "POST", "/api/auth/register", {**ACCOUNT, "password": "short"},
            "password",
            id="register_password_short",
        ),
        pytest.param(
            "anonymous", "POST", "/api/auth/login", {"email": ["a"], "password": PASSWORD},
            "email",
            id="login_email_list",
        ),
        pytest.param("manager", "POST", "/api/jobs", {"title": 42}, "title", id="job_title_number"),
        pytest.param(
            "manager", "PATCH", "/api/jobs/{job}", {"title": ["a", "list"]}, "title",
            id="job_title_list",
        ),
        pytest.param(
            "recruiter", "POST", "/api/interviews", {**BOOKING, "duration_minutes": "an hour"},
            "duration_minutes",
            id="duration_text",
        ),
        pytest.param(
            "recruiter", "POST", "/api/interviews", {**BOOKING, "duration_minutes": 0},
            "duration_minutes",
            id="duration_zero",
        ),
        pytest.param(
            "recruiter", "POST", "/api/interviews", {**BOOKING, "starts_at": "next tuesday"},
            "starts_at",
            id="starts_at_text",
        ),
        pytest.param(
            "recruiter", "PATCH", "/api/interviews/{interview}", {"status": "postponed"},
            "status",
            id="interview_status_unknown",
        ),
        pytest.param(
            "interviewer", "PUT", "/api/interviews/{interview}/feedback",
            {**FEEDBACK, "rating": "five"}, "rating",
            id="rating_text",
        ),
        pytest.param(
            "interviewer", "PUT", "/api/interviews/{interview}/feedback",
            {**FEEDBACK, "recommendation": "maybe"}, "recommendation",
            id="recommendation_unknown",
        ),
        pytest.param(
            "admin", "PATCH", "/api/users/{user}", {"active": "perhaps"}, "active",
            id="user_active_text",
        ),
        pytest.param(
            "recruiter", "PATCH", "/api/resumes/{resume}", {"fields": {"skills": "Python"}},
            "fields",
            id="resume_skills_not_a_list",
        ),
        pytest.param(
            "recruiter", "PATCH", "/api/resumes/{resume}", {"fields": {"email": "not an email"}},
            "fields",
            id="resume_email_invalid",
        ),
    ],
)  # fmt: skip
def test_wrong_types_are_422_naming_the_field(
    world: World, who: str, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    assert_invalid_fields(world.send(who, method, path, json=body), [field])


@pytest.mark.parametrize(
    "body", [["a", "list"], "a string", 42, True], ids=["list", "string", "number", "boolean"]
)
def test_a_json_body_that_is_not_an_object_is_422(world: World, body: Any) -> None:
    response = world.send("manager", "POST", "/api/jobs", json=body)
    assert_error(response, 422, "validation_error")


@pytest.mark.parametrize(
    ("query", "field"),
    [("page=0", "page"), ("per_page=101", "per_page"), ("per_page=many", "per_page")],
)
@pytest.mark.parametrize("kind", ["jobs", "resumes", "candidates", "interviews"])
def test_bad_paging_is_422(world: World, kind: str, query: str, field: str) -> None:
    """Pages count from 1 and hold 1 to 100 items."""
    assert_invalid_fields(world.send("manager", "GET", f"/api/{kind}?{query}"), [field])


def test_unknown_interview_status_filter_is_422(world: World) -> None:
    response = world.send("manager", "GET", "/api/interviews?status=postponed")
    assert_invalid_fields(response, ["status"])


@pytest.mark.parametrize("field", ["candidate_id", "job_id", "interviewer_id"])
def test_scheduling_with_an_unknown_id_is_422(world: World, field: str) -> None:
    body = {**BOOKING, field: MISSING}
    assert_invalid_fields(world.send("recruiter", "POST", "/api/interviews", json=body), [field])


@pytest.mark.parametrize("path", ["/api/resumes", "/api/resumes/bulk"])
def test_uploading_to_an_unknown_job_is_422(as_role: RoleClients, path: str) -> None:
    recruiter = as_role(Role.RECRUITER)
    field = "files" if path.endswith("bulk") else "file"
    data = {field: file_part(text_resume(1)), "job_id": MISSING}
    response = recruiter.post(path, data=data, content_type=MULTIPART)
    assert_invalid_fields(response, ["job_id"])
    assert resume_count(recruiter) == 0


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/resumes/{resume}", {"job_id": MISSING}, "job_id"),
        ("/api/interviews/{interview}", {"interviewer_id": MISSING}, "interviewer_id"),
    ],
)
def test_changing_to_an_unknown_id_is_422(
    world: World, path: str, body: dict[str, Any], field: str
) -> None:
    assert_invalid_fields(world.send("manager", "PATCH", path, json=body), [field])


NAIVE_TIME = "2031-05-06T09:00:00"  # no timezone offset


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/interviews", {**BOOKING, "starts_at": NAIVE_TIME}),
        ("PATCH", "/api/interviews/{interview}", {"starts_at": NAIVE_TIME}),
    ],
    ids=["schedule", "reschedule"],
)
def test_starts_at_without_a_timezone_offset_is_422(
    world: World, method: str, path: str, body: dict[str, Any]
) -> None:
    assert_invalid_fields(world.send("recruiter", method, path, json=body), ["starts_at"])


@pytest.mark.parametrize("rating", [0, 6])
def test_rating_outside_1_to_5_is_422(world: World, rating: int) -> None:
    body = {**FEEDBACK, "rating": rating}
    path = "/api/interviews/{interview}/feedback"
    assert_invalid_fields(world.send("interviewer", "PUT", path, json=body), ["rating"])


def test_unknown_role_is_422(world: World) -> None:
    response = world.send("admin", "PATCH", "/api/users/{user}", json={"role": "SUPERUSER"})
    assert_invalid_fields(response, ["role"])


# 404: unknown ids in paths ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "method", "path", "request_kw", "message"),
    [
        pytest.param("manager", "GET", "/api/jobs/{missing}", {}, "Job not found", id="job_get"),
        pytest.param(
            "manager", "PATCH", "/api/jobs/{missing}", {"json": {"title": "x"}}, "Job not found",
            id="job_patch",
        ),
        pytest.param(
            "manager", "GET", "/api/resumes/{missing}", {}, "Resume not found", id="resume_get"
        ),
        pytest.param(
            "manager", "GET", "/api/resumes/{missing}/file", {}, "Resume not found",
            id="resume_file",
        ),
        pytest.param(
            "manager", "PATCH", "/api/resumes/{missing}", {"json": {"fields": {"location": "x"}}},
            "Resume not found",
            id="resume_patch",
        ),
        pytest.param(
            "manager", "DELETE", "/api/resumes/{missing}", {}, "Resume not found",
            id="resume_delete",
        ),
        pytest.param(
            "manager", "GET", "/api/candidates/{missing}", {}, "Candidate not found",
            id="candidate_get",
        ),
        pytest.param(
            "manager", "GET", "/api/interviews/{missing}", {}, "Interview not found",
            id="interview_get",
        ),
        pytest.param(
            "manager", "PATCH", "/api/interviews/{missing}", {"json": {"round": "final"}},
            "Interview not found",
            id="interview_patch",
        ),
        pytest.param(
            "manager", "DELETE", "/api/interviews/{missing}", {}, "Interview not found",
            id="interview_delete",
        ),
        pytest.param(
            "interviewer", "PUT", "/api/interviews/{missing}/feedback", {"json": FEEDBACK},
            "Interview not found",
            id="feedback",
        ),
        pytest.param(
            "admin", "PATCH", "/api/users/{missing}", {"json": {"role": "RECRUITER"}},
            "User not found",
            id="user_patch",
        ),
        pytest.param(
            "recruiter", "DELETE", "/api/auth/tokens/{missing}", {}, "Token not found",
            id="token_delete",
        ),
        pytest.param("manager", "GET", "/api/no-such-thing", {}, "Not found", id="unknown_url"),
    ],
)  # fmt: skip
def test_unknown_ids_in_paths_are_404(
    world: World, who: str, method: str, path: str, request_kw: dict[str, Any], message: str
) -> None:
    error = assert_error(world.send(who, method, path, **request_kw), 404, "not_found")
    assert error["message"] == message


# 400, 401, 405 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "method", "path"),
    [
        ("anonymous", "POST", "/api/auth/register"),
        ("anonymous", "POST", "/api/auth/login"),
        ("recruiter", "POST", "/api/auth/tokens"),
        ("manager", "POST", "/api/jobs"),
        ("manager", "PATCH", "/api/jobs/{job}"),
        ("recruiter", "POST", "/api/interviews"),
        ("recruiter", "PATCH", "/api/interviews/{interview}"),
        ("interviewer", "PUT", "/api/interviews/{interview}/feedback"),
        ("recruiter", "PATCH", "/api/resumes/{resume}"),
        ("admin", "PATCH", "/api/users/{user}"),
    ],
)
def test_malformed_json_is_400(world: World, who: str, method: str, path: str) -> None:
    response = world.send(who, method, path, data='{"title": ', content_type="application/json")
    assert_error(response, 400, "malformed_json")


@pytest.mark.parametrize(
    ("who", "method", "path"),
    [
        ("anonymous", "POST", "/api/auth/login"),
        ("manager", "POST", "/api/jobs"),
        ("recruiter", "PATCH", "/api/interviews/{interview}"),
    ],
)
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("title=Designer", "application/x-www-form-urlencoded"),
        ('{"title": "Designer"}', "text/plain"),
        ('{"title": "Designer"}', None),
    ],
    ids=["form", "text", "no_content_type"],
)
def test_a_body_that_is_not_json_is_415(
    world: World, who: str, method: str, path: str, body: str, content_type: str | None
) -> None:
    response = world.send(who, method, path, data=body, content_type=content_type)
    error = assert_error(response, 415, "unsupported_media_type")
    assert "Content-Type: application/json" in error["message"]


@pytest.mark.parametrize(
    ("email", "password"),
    [("nobody@example.com", PASSWORD), ("{user_email}", "wrong password"), ("", "")],
    ids=["unknown_user", "wrong_password", "empty"],
)
def test_bad_login_is_401(client: FlaskClient, make: Factory, email: str, password: str) -> None:
    user = make.user(Role.RECRUITER)
    body = {"email": email.format(user_email=user.email), "password": password}
    error = assert_error(client.post("/api/auth/login", json=body), 401, "invalid_credentials")
    assert error["message"] == "Invalid email or password"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/jobs"),
        ("PUT", "/api/resumes"),
        ("POST", "/api/auth/me"),
        ("GET", "/api/auth/logout"),
        ("PATCH", "/api/candidates/{candidate}"),
        ("POST", "/api/interviews/{interview}"),
        ("GET", "/api/interviews/{interview}/feedback"),
        ("DELETE", "/api/users"),
    ],
)
def test_method_not_allowed_is_405(world: World, method: str, path: str) -> None:
    assert_error(world.send("manager", method, path), 405, "method_not_allowed")


# 409: conflicts ---------------------------------------------------------------------------


def test_duplicate_email_on_register_answers_like_a_new_one(client: FlaskClient) -> None:
    # Registration tells nobody whether an address has an account (test_auth.py).
    assert client.post("/api/auth/register", json=ACCOUNT).status_code == 201
    again = {**ACCOUNT, "email": "ADA@Example.com"}
    assert client.post("/api/auth/register", json=again).status_code == 201


def test_duplicate_file_upload_is_409_with_the_existing_id(as_role: RoleClients) -> None:
    recruiter = as_role(Role.RECRUITER)
    first = upload(recruiter, text_resume(1), "first.txt")
    assert first.status_code == 201, first.get_json()
    again = upload(as_role(Role.HIRING_MANAGER), text_resume(1), "renamed.txt")
    error = assert_error(again, 409, "duplicate")
    assert error["details"]["id"] == first.get_json()["id"]
    assert resume_count(recruiter) == 1


@pytest.mark.parametrize("who", ["interviewer", "candidate"])
def test_double_booking_is_409(world: World, make: Factory, who: str) -> None:
    first = world.send("recruiter", "POST", "/api/interviews", json=BOOKING)
    assert first.status_code == 201, first.get_json()
    clash = {**BOOKING, "starts_at": "2031-05-06T09:30:00+02:00"}  # overlaps the first
    if who == "interviewer":
        clash["candidate_id"] = make.candidate().id
    else:
        clash["interviewer_id"] = make.user(Role.INTERVIEWER).id
    error = assert_error(
        world.send("manager", "POST", "/api/interviews", json=clash), 409, "schedule_conflict"
    )
    assert error["details"]["who"] == who


def test_rescheduling_into_a_booked_slot_is_409(world: World) -> None:
    assert world.send("recruiter", "POST", "/api/interviews", json=BOOKING).status_code == 201
    later = {**BOOKING, "starts_at": "2031-05-06T14:00:00+02:00"}
    second = world.send("recruiter", "POST", "/api/interviews", json=later)
    assert second.status_code == 201, second.get_json()
    path = f"/api/interviews/{second.get_json()['id']}"
    moved = world.send("recruiter", "PATCH", path, json={"starts_at": BOOKING["starts_at"]})
    assert_error(moved, 409, "schedule_conflict")


def test_feedback_before_the_interview_starts_is_409(world: World, make: Factory) -> None:
    interviewer = world.callers["interviewer"]
    upcoming = make.interview(interviewer=interviewer.user)
    response = interviewer.put(f"/api/interviews/{upcoming.id}/feedback", json=FEEDBACK)
    assert_error(response, 409, "interview_not_started")


def test_feedback_on_a_cancelled_interview_is_409(world: World) -> None:
    path = "/api/interviews/{interview}"
    cancelled = world.send(
        "recruiter", "PATCH", path, json={"status": "cancelled", "cancel_reason": "Role filled"}
    )
    assert cancelled.status_code == 200, cancelled.get_json()
    response = world.send("interviewer", "PUT", path + "/feedback", json=FEEDBACK)
    assert_error(response, 409, "interview_cancelled")


# Uploads: 413, 415, 422 -------------------------------------------------------------------


def padded_resume(size: int) -> bytes:
    """A plain-text resume of exactly `size` bytes."""
    text = text_resume(7)
    return text + b"x" * (size - len(text))


def test_a_file_over_the_size_limit_is_413(as_role: RoleClients) -> None:
    recruiter = as_role(Role.RECRUITER)
    response = upload(recruiter, padded_resume(MAX_FILE_SIZE + 1))
    assert_error(response, 413, "file_too_large")
    assert resume_count(recruiter) == 0


def test_a_file_at_the_size_limit_is_accepted(as_role: RoleClients) -> None:
    response = upload(as_role(Role.RECRUITER), padded_resume(MAX_FILE_SIZE))
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("path", ["/api/resumes", "/api/resumes/bulk"])
def test_a_request_over_max_content_length_is_413(as_role: RoleClients, path: str) -> None:
    recruiter = as_role(Role.RECRUITER)
    field = "files" if path.endswith("bulk") else "file"
    data = {field: file_part(padded_resume(MAX_CONTENT_LENGTH + 1))}
    response = recruiter.post(path, data=data, content_type=MULTIPART)
    assert_error(response, 413, "payload_too_large")
    assert resume_count(recruiter) == 0


ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + bytes(200)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06" + bytes(64)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(64)
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04" + bytes(32)
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(64)  # a ZIP header, not a DOCX


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (ELF, "cv.pdf"),
        (PNG, "cv.pdf"),
        (JPEG, "cv.pdf"),
        (GIF, "cv.docx"),
        (ZIP, "cv.docx"),
        (PNG, "cv.txt"),
    ],
    ids=["elf_as_pdf", "png_as_pdf", "jpeg_as_pdf", "gif_as_docx", "zip_as_docx", "png_as_txt"],
)
def test_a_file_that_is_not_a_resume_is_415(
    as_role: RoleClients, data: bytes, filename: str
) -> None:
    recruiter = as_role(Role.RECRUITER)
    assert_error(upload(recruiter, data, filename), 415, "unsupported_file_type")
    assert resume_count(recruiter) == 0


def test_an_empty_file_is_422(as_role: RoleClients) -> None:
    recruiter = as_role(Role.RECRUITER)
    assert_error(upload(recruiter, b"", "cv.txt"), 422, "empty_file")
    assert resume_count(recruiter) == 0


def test_more_files_than_the_bulk_limit_is_422(as_role: RoleClients) -> None:
    recruiter = as_role(Role.RECRUITER)
    files = [file_part(text_resume(n), f"cv-{n}.txt") for n in range(MAX_BULK_FILES + 1)]
    response = recruiter.post("/api/resumes/bulk", data={"files": files}, content_type=MULTIPART)
    assert_error(response, 422, "too_many_files")
    assert resume_count(recruiter) == 0


def test_exactly_the_bulk_limit_is_accepted(as_role: RoleClients) -> None:
    recruiter = as_role(Role.RECRUITER)
    files = [file_part(text_resume(n), f"cv-{n}.txt") for n in range(MAX_BULK_FILES)]
    response = recruiter.post("/api/resumes/bulk", data={"files": files}, content_type=MULTIPART)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["success_count"] == MAX_BULK_FILES

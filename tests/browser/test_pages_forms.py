"""Fast checks of the pages with Flask's test client: redirects, CSRF, status codes."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from talaro.models import Role, User
from tests import factories


def csrf_from(client: FlaskClient, path: str = "/login") -> str:
    body = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', body)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: FlaskClient, user: User) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    token = csrf_from(client)
    response = client.post(
        "/login",
        data={"email": user.email, "password": factories.PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return csrf_from(client, "/")  # the token changes at sign-in


def alert_text(page: str) -> str:
    match = re.search(r'role="alert">\s*(.*?)\s*</div>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip() if match else ""


@pytest.mark.parametrize("path", ["/", "/resumes", "/interviews/new", "/users"])
def test_anonymous_pages_redirect_to_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.startswith(f"/login?next={path}")


def test_a_form_post_without_csrf_token_is_refused(
    client: FlaskClient, make: factories.Factory
) -> None:
    user = make.user(Role.RECRUITER)
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 403
    assert "This form has expired or did not come from Talaro" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/candidates?q=ada", "/candidates?q=ada"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ],
)
def test_sign_in_follows_only_a_local_next(
    client: FlaskClient, make: factories.Factory, next_url: str, expected: str
) -> None:
    user = make.user(Role.RECRUITER)
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": factories.PASSWORD,
            "next": next_url,
            "csrf_token": csrf_from(client),
        },
    )
    assert response.status_code == 302
    assert response.location == expected


def test_wrong_password_shows_the_service_message(
    client: FlaskClient, make: factories.Factory
) -> None:
    user = make.user(Role.RECRUITER)
    response = client.post(
        "/login", data={"email": user.email, "password": "nope", "csrf_token": csrf_from(client)}
    )
    assert response.status_code == 401
    assert alert_text(response.get_data(as_text=True)) == "Invalid email or password"


def test_registration_creates_an_interviewer_or_is_disabled(
    app: Flask, client: FlaskClient
) -> None:
    token = csrf_from(client, "/register")
    short = client.post(
        "/register",
        data={"name": "Pat", "email": "pat@example.org", "password": "short", "csrf_token": token},
    )
    assert short.status_code == 422
    assert "Length must be between 12 and 128." in short.get_data(as_text=True)

    ok = client.post(
        "/register",
        data={
            "name": "Pat",
            "email": "pat@example.org",
            "password": factories.PASSWORD,
            "csrf_token": token,
        },
        follow_redirects=True,
    )
    # The same answer whether or not the address had an account: sign in next.
    assert ok.status_code == 200 and ok.request.path == "/login"
    assert "Registration received" in ok.get_data(as_text=True)
    signed_in = client.post(
        "/login",
        data={
            "email": "pat@example.org",
            "password": factories.PASSWORD,
            "csrf_token": csrf_from(client, "/login"),
        },
        follow_redirects=True,
    )
    assert "Interviewer" in signed_in.get_data(as_text=True)

    app.config["TALARO_ALLOW_REGISTRATION"] = False
    assert app.test_client().get("/register").status_code == 403


def test_admin_upload_is_denied_with_the_reason(
    client: FlaskClient, make: factories.Factory
) -> None:
    token = sign_in(client, make.user(Role.ADMIN))
    response = client.post(
        "/resumes/upload",
        data={"csrf_token": token, "files": [factories.file_part("Ada\n", "ada.txt")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert alert_text(response.get_data(as_text=True)) == (
        'User role "ADMIN" not allowed for resume upload'
    )


def test_upload_without_files_is_a_422(client: FlaskClient, make: factories.Factory) -> None:
    token = sign_in(client, make.user(Role.RECRUITER))
    response = client.post("/resumes/upload", data={"csrf_token": token})
    assert response.status_code == 422
    assert "No files were sent" in response.get_data(as_text=True)


def test_invalid_schedule_form_is_a_422_with_field_messages(
    client: FlaskClient, make: factories.Factory
) -> None:
    recruiter = make.user(Role.RECRUITER)
    candidate, job = make.candidate(recruiter), make.job()
    token = sign_in(client, recruiter)
    response = client.post(
        "/interviews/new",
        data={
            "csrf_token": token,
            "candidate_id": candidate.id,
            "job_id": job.id,
            "interviewer_id": make.user(Role.INTERVIEWER).id,
            "starts_at": "tomorrow",
            "duration_minutes": "1000",
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a date and time" in body
    assert 'id="f-duration_minutes-error"' in body
    assert 'aria-invalid="true"' in body


def test_schedule_reads_the_time_in_the_users_zone(
    client: FlaskClient, make: factories.Factory
) -> None:
    recruiter = make.user(Role.RECRUITER, time_zone="Asia/Kolkata")
    candidate, job, interviewer = make.candidate(recruiter), make.job(), make.user()
    token = sign_in(client, recruiter)
    response = client.post(
        "/interviews/new",
        data={
            "csrf_token": token,
            "candidate_id": candidate.id,
            "job_id": job.id,
            "interviewer_id": interviewer.id,
            "starts_at": "2031-03-04T09:30",
            "duration_minutes": "45",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Interview scheduled for 2031-03-04 09:30 IST (Asia/Kolkata)." in page
    assert 'datetime="2031-03-04T04:00:00+00:00"' in page  # stored and marked up in UTC


def test_feedback_before_the_start_is_a_409_and_others_get_403(
    client: FlaskClient, make: factories.Factory
) -> None:
    interviewer = make.user(Role.INTERVIEWER)
    interview = make.interview(
        interviewer=interviewer, starts_at=datetime.now(UTC) + timedelta(days=1)
    )
    data = {"rating": "4", "recommendation": "yes", "notes": ""}
    token = sign_in(client, interviewer)
    early = client.post(f"/interviews/{interview.id}/feedback", data={**data, "csrf_token": token})
    assert early.status_code == 409
    assert alert_text(early.get_data(as_text=True)) == "Feedback opens when the interview starts"

    other = FlaskClient(client.application, client.response_wrapper, use_cookies=True)
    token = sign_in(other, make.user(Role.HIRING_MANAGER))
    denied = other.post(f"/interviews/{interview.id}/feedback", data={**data, "csrf_token": token})
    assert denied.status_code == 403
    assert "Only the assigned interviewer may submit feedback" in denied.get_data(as_text=True)


def test_bad_correction_is_a_422_and_nothing_is_saved(
    client: FlaskClient, make: factories.Factory
) -> None:
    recruiter = make.user(Role.RECRUITER)
    resume = make.resume(recruiter, name="Ada Lovelace")
    token = sign_in(client, recruiter)
    values = {
        "csrf_token": token,
        "name": "Ada Lovelace",
        "email": resume.fields["email"],
        "phone": "12",
        "location": "",
        "skills": "",
        "years_experience": "-3",
    }
    response = client.post(f"/resumes/{resume.id}/fields", data=values)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Must be greater than or equal to 0" in body
    assert client.get(f"/resumes/{resume.id}").get_data(as_text=True).count("Corrected") == 0


def test_interviewer_cannot_open_a_resume_of_someone_they_do_not_interview(
    client: FlaskClient, make: factories.Factory
) -> None:
    resume = make.resume()
    sign_in(client, make.user(Role.INTERVIEWER))
    response = client.get(f"/resumes/{resume.id}")
    assert response.status_code == 403
    assert "Interviewers may only see resumes of candidates they interview" in (
        response.get_data(as_text=True)
    )

"""Security headers on every kind of response, and cookie flags behind HTTPS."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from werkzeug.http import parse_dict_header
from werkzeug.test import TestResponse

from talaro.models import Role
from talaro.web_security import CONTENT_SECURITY_POLICY
from tests import factories

EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
ALWAYS = {
    "Content-Security-Policy": EXPECTED_CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def build_app(make_app: Callable[..., Flask], **overrides: object) -> Flask:
    """An app with telemetry off and a route that fails with an unexpected error."""
    app = make_app(TALARO_TELEMETRY_ENABLED=False, **overrides)

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("an unexpected failure")

    return app


@pytest.fixture
def plain_app(make_app: Callable[..., Flask]) -> Flask:
    return build_app(make_app)


@pytest.fixture
def https_app(make_app: Callable[..., Flask]) -> Flask:
    return build_app(make_app, TALARO_SECURE_COOKIES=True)


def assert_security_headers(response: TestResponse, hsts: bool) -> None:
    headers = response.headers
    for name, value in ALWAYS.items():
        assert headers.get(name) == value, f"{name} on {response}"
    if hsts:
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    else:
        assert "Strict-Transport-Security" not in headers


def test_the_policy_allows_no_inline_code() -> None:
    assert CONTENT_SECURITY_POLICY == EXPECTED_CSP
    assert "unsafe" not in CONTENT_SECURITY_POLICY


ANONYMOUS = [
    ("GET", "/login", 200, "text/html"),
    ("GET", "/", 302, None),
    ("GET", "/static/talaro.css", 200, "text/css"),
    ("GET", "/no/such/page", 404, "text/html"),
    ("GET", "/api/no/such/endpoint", 404, "application/json"),
    ("GET", "/api/jobs", 401, "application/json"),
    ("DELETE", "/api/jobs", 405, "application/json"),
    ("POST", "/login", 403, "text/html"),  # no CSRF token
    ("GET", "/api/openapi.json", 200, "application/json"),
    ("GET", "/healthz", 200, "application/json"),
    ("GET", "/boom", 500, "text/html"),
]


@pytest.mark.parametrize(("method", "path", "status", "mimetype"), ANONYMOUS)
def test_every_kind_of_response_carries_the_headers(
    plain_app: Flask, method: str, path: str, status: int, mimetype: str | None
) -> None:
    response = plain_app.test_client().open(path, method=method)
    assert response.status_code == status
    if mimetype:
        assert response.mimetype == mimetype
    assert_security_headers(response, hsts=False)


def test_signed_in_api_and_pages_carry_the_headers(plain_app: Flask) -> None:
    make = factories.Factory(plain_app)
    api = factories.RoleClients(plain_app, make)(Role.RECRUITER)
    for path, status in [
        ("/api/auth/me", 200),
        ("/api/resumes", 200),
        ("/api/resumes/does-not-exist", 404),
        ("/api/users", 403),
    ]:
        response = api.get(path)
        assert response.status_code == status, path
        assert response.mimetype == "application/json"
        assert_security_headers(response, hsts=False)
    response = api.post("/api/jobs", data="{not json", content_type="application/json")
    assert response.status_code in (400, 403)
    assert_security_headers(response, hsts=False)

    browser = plain_app.test_client()
    signed_in = browser.post(
        "/api/auth/login", json={"email": api.user.email, "password": factories.PASSWORD}
    )
    assert signed_in.status_code == 200
    for path in ("/", "/resumes", "/candidates", "/interviews"):
        response = browser.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response, hsts=False)


def test_https_setting_adds_hsts_everywhere(https_app: Flask) -> None:
    client = https_app.test_client()
    for path in ("/login", "/static/talaro.css", "/api/jobs", "/no/such/page", "/boom"):
        assert_security_headers(client.get(path, base_url="https://localhost"), hsts=True)


def session_cookie(response: TestResponse) -> dict[str, str | None]:
    """The attributes of the session cookie set by `response`, names lower-cased."""
    cookies = response.headers.getlist("Set-Cookie")
    [cookie] = [c for c in cookies if c.startswith("session=")]
    _, _, attributes = cookie.partition(";")
    parsed = parse_dict_header(attributes.replace(";", ","))
    return {name.strip().lower(): value for name, value in parsed.items()}


def sign_in(app: Flask, base_url: str) -> TestResponse:
    user = factories.Factory(app).user(Role.RECRUITER)
    response = app.test_client().post(
        "/api/auth/login",
        json={"email": user.email, "password": factories.PASSWORD},
        base_url=base_url,
    )
    assert response.status_code == 200
    return response


def test_session_cookie_is_secure_behind_https(https_app: Flask) -> None:
    flags = session_cookie(sign_in(https_app, "https://localhost"))
    assert "secure" in flags
    assert "httponly" in flags
    assert flags["samesite"] == "Lax"


def test_session_cookie_is_not_secure_without_the_setting(plain_app: Flask) -> None:
    flags = session_cookie(sign_in(plain_app, "http://localhost"))
    assert "secure" not in flags
    assert "httponly" in flags
    assert flags["samesite"] == "Lax"


def test_the_login_form_sets_the_same_flags(https_app: Flask) -> None:
    client = https_app.test_client()
    page = client.get("/login", base_url="https://localhost")
    flags = session_cookie(page)
    assert {"secure", "httponly"} <= flags.keys()
    assert flags["samesite"] == "Lax"

"""Passwords: changing one's own (other sessions end), an admin's temporary password that
must be changed at the next sign-in, and the policy (length, common passwords)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from talaro import telemetry
from talaro.models import Role, User
from talaro.services.passwords import common_passwords, password_problem
from tests.browser.test_pages_forms import sign_in as sign_in_page
from tests.factories import PASSWORD, Factory
from tests.telemetry import otlp_json

NEW = "a completely new passphrase"


def records(app: Flask, name: str) -> list[otlp_json.LogRecord]:
    telemetry.flush(app)
    path = Path(app.config["TALARO_TELEMETRY_DIR"]) / "security.jsonl"
    return [r for r in otlp_json.log_records(path) if r.event_name == name]


def sign_in(app: Flask, email: str, password: str = PASSWORD) -> tuple[FlaskClient, dict]:
    client = app.test_client()
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.json
    return client, response.json


def change(client: FlaskClient, csrf: str, current: str, new: str):
    return client.post(
        "/api/auth/password",
        json={"current_password": current, "new_password": new},
        headers={"X-CSRFToken": csrf},
    )


def test_changing_ones_password_ends_the_other_sessions_but_not_this_one(
    app, make: Factory
) -> None:
    user = make.user(Role.RECRUITER)
    laptop, signed = sign_in(app, user.email)
    phone, _ = sign_in(app, user.email)
    stolen = phone.get_cookie("session").value
    assert change(laptop, signed["csrf_token"], PASSWORD, NEW).status_code == 204
    assert laptop.get("/api/auth/me").status_code == 200
    assert phone.get("/api/auth/me").status_code == 401
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/api/auth/me").status_code == 401
    [reuse, *_] = records(app, "session_use_after_expire")
    assert reuse.attributes["talaro.session.ended_reason"] == "password change"
    [changed] = records(app, "authn_password_change")
    assert changed.attributes["talaro.session.ended_count"] == 1
    assert changed.attributes["user.id"] == user.id
    assert (
        app.test_client()
        .post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
        .status_code
        == 401
    )
    sign_in(app, user.email, NEW)


@pytest.mark.parametrize(
    ("current", "new", "field", "reason"),
    [
        ("not my password", NEW, "current_password", "wrong password"),
        (PASSWORD, PASSWORD, "new_password", "same password"),
        (PASSWORD, "short", "new_password", "policy"),
        (PASSWORD, "Password2024!", "new_password", "policy"),
    ],
)
def test_a_refused_password_change_names_the_field_and_is_recorded(
    app, make: Factory, current: str, new: str, field: str, reason: str
) -> None:
    user = make.user(Role.RECRUITER)
    client, signed = sign_in(app, user.email)
    response = change(client, signed["csrf_token"], current, new)
    assert response.status_code == 422
    assert list(response.json["error"]["details"]["fields"]) == [field]
    [failed] = records(app, "authn_password_change_fail")
    assert failed.attributes["reason"] == reason
    assert new not in str(failed.attributes) and current not in str(failed.attributes)
    assert client.get("/api/auth/me").status_code == 200  # nothing ended


def security_events(app: Flask) -> list[str]:
    """The names of every record in the security stream so far, in order."""
    telemetry.flush(app)
    path = Path(app.config["TALARO_TELEMETRY_DIR"]) / "security.jsonl"
    return [r.event_name for r in otlp_json.log_records(path)]


@pytest.mark.parametrize(
    ("current", "new", "written"),
    [
        # An authentication failure, recorded once as such, not as a validation failure.
        ("not my password", NEW, ["authn_password_change_fail"]),
        # A new password the rules refuse is both.
        (PASSWORD, "short", ["authn_password_change_fail", "input_validation_fail"]),
    ],
)
def test_a_wrong_current_password_is_one_authentication_failure_record(
    app, make: Factory, current: str, new: str, written: list[str]
) -> None:
    user = make.user(Role.RECRUITER)
    client, signed = sign_in(app, user.email)
    before = len(security_events(app))
    assert change(client, signed["csrf_token"], current, new).status_code == 422
    assert security_events(app)[before:] == written
    [failed] = records(app, "authn_password_change_fail")
    assert failed.attributes["http.response.status_code"] == 422  # found by --status 4xx


def test_a_wrong_current_password_on_the_page_is_one_authentication_failure_record(
    app, client: FlaskClient, make: Factory
) -> None:
    csrf = sign_in_page(client, make.user(Role.RECRUITER))
    before = len(security_events(app))
    form = {"csrf_token": csrf, "current_password": "not my password", "new_password": NEW}
    refused = client.post("/account/password", data=form)
    assert refused.status_code == 422
    assert "The current password is not right" in refused.get_data(as_text=True)
    assert security_events(app)[before:] == ["authn_password_change_fail"]


def test_guessing_the_current_password_through_a_session_meets_the_lock(make_app) -> None:
    app = make_app(TALARO_DETECT_ACCOUNT_FAILURES=3)
    user = Factory(app).user(Role.RECRUITER)
    client, signed = sign_in(app, user.email)
    for n in range(3):
        assert change(client, signed["csrf_token"], f"guess {n}", NEW).status_code == 422
    # Locked now: even the right current password is refused.
    assert change(client, signed["csrf_token"], PASSWORD, NEW).status_code == 422
    assert records(app, "authn_login_lock")


def test_an_admins_temporary_password_must_be_changed_at_the_next_sign_in(
    app, make: Factory, as_role
) -> None:
    user = make.user(Role.HIRING_MANAGER)
    admin = as_role(Role.ADMIN)
    old_browser, _ = sign_in(app, user.email)
    temporary = "temporary passphrase 7"
    reset = admin.post(f"/api/users/{user.id}/password", json={"password": temporary})
    assert reset.status_code == 204
    assert old_browser.get("/api/auth/me").status_code == 401  # every session ended
    [record] = records(app, "authn_password_reset")
    assert record.attributes["target.user.id"] == user.id
    assert record.attributes["talaro.password.temporary"] is True

    browser, signed = sign_in(app, user.email, temporary)
    assert signed["user"]["password_change_required"] is True
    assert browser.get("/api/auth/me").status_code == 200
    refused = browser.get("/api/jobs")
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "password_change_required"
    token = Factory(app).token(User(id=user.id))  # an API token is held back as well
    held = app.test_client().get("/api/jobs", headers={"Authorization": f"Bearer {token}"})
    assert held.status_code == 403
    assert change(browser, signed["csrf_token"], temporary, NEW).status_code == 204
    assert browser.get("/api/jobs").status_code == 200
    assert browser.get("/api/auth/me").json["password_change_required"] is False


def test_only_admins_set_passwords_and_not_their_own(app, make: Factory, as_role) -> None:
    target = make.user(Role.INTERVIEWER)
    recruiter = as_role(Role.RECRUITER)
    admin = as_role(Role.ADMIN)
    body = {"password": "temporary passphrase 7"}
    assert recruiter.post(f"/api/users/{target.id}/password", json=body).status_code == 403
    own = admin.post(f"/api/users/{admin.user.id}/password", json=body)
    assert own.status_code == 409 and own.json["error"]["code"] == "own_password"
    weak = admin.post(f"/api/users/{target.id}/password", json={"password": "password1234"})
    assert weak.status_code == 422
    missing = admin.post("/api/users/" + "0" * 32 + "/password", json=body)
    assert missing.status_code == 404


def test_the_temporary_password_page_sends_a_browser_to_the_change_form(
    app, make: Factory, as_role
) -> None:
    user = make.user(Role.RECRUITER)
    as_role(Role.ADMIN).post(
        f"/api/users/{user.id}/password", json={"password": "temporary passphrase 7"}
    )
    browser, _ = sign_in(app, user.email, "temporary passphrase 7")
    page = browser.get("/resumes")
    assert page.status_code == 302 and page.headers["Location"].endswith("/account/password")
    assert browser.get("/account/password").status_code == 200


def test_registration_applies_the_policy(client) -> None:
    body = {"email": "pat@example.com", "name": "Pat"}
    short = client.post("/api/auth/register", json={**body, "password": "eleven char"})
    assert short.status_code == 422
    common = client.post("/api/auth/register", json={**body, "password": "qwerty123456"})
    assert common.status_code == 422
    assert "too common" in common.json["error"]["message"]
    fine = client.post("/api/auth/register", json={**body, "password": "four random words here"})
    assert fine.status_code == 201


def test_the_policy_has_no_composition_rules_and_a_shipped_common_list() -> None:
    assert len(common_passwords()) > 10_000
    assert password_problem("all lower case words") is None  # no composition rules
    assert password_problem("🙂" * 12) is None  # any characters
    assert password_problem("a" * 128) is None and password_problem("a" * 129) is not None
    assert password_problem("a   b   c   d") is not None  # spaces in a row count once
    for weak in ("password1234", "Password2024!", "qwerty123456", "dragondragon"):
        assert password_problem(weak) is not None, weak
    assert password_problem("ada.lovelace-rocks", email="ada.lovelace@example.com")

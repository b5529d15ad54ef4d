"""Sessions end for real: a copied cookie is useless after logout, a password change,
deactivation (and reactivation) or an admin's "sign out everywhere"; idle and absolute
lifetimes; the CSRF token changes at sign-in."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from talaro import telemetry
from talaro.extensions import db
from talaro.models import Role, User, UserSession, utcnow
from tests.factories import PASSWORD, Factory
from tests.telemetry import otlp_json

COOKIE = "session"


def records(app: Flask, name: str) -> list[otlp_json.LogRecord]:
    telemetry.flush(app)
    path = Path(app.config["TALARO_TELEMETRY_DIR"]) / "security.jsonl"
    return [r for r in otlp_json.log_records(path) if r.event_name == name]


def sign_in(app: Flask, user: User, password: str = PASSWORD) -> tuple[FlaskClient, str]:
    """A browser signed in as `user`, and its CSRF token."""
    client = app.test_client()
    response = client.post("/api/auth/login", json={"email": user.email, "password": password})
    assert response.status_code == 200, response.json
    return client, response.json["csrf_token"]


def copy_of(client: FlaskClient) -> str:
    """A copy of `client`'s session cookie (what an attacker would take)."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def holding(app: Flask, cookie: str) -> FlaskClient:
    """Another browser replaying the copied cookie."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie)
    return thief


def assert_replay_refused(app: Flask, cookie: str, csrf: str, user: User) -> None:
    """The copied cookie gets 401 on reads and on minting a token, and is recorded."""
    before = len(records(app, "session_use_after_expire"))
    me = holding(app, cookie).get("/api/auth/me")
    assert me.status_code == 401, me.json
    assert me.json["error"]["code"] == "authentication_required"
    minted = holding(app, cookie).post(
        "/api/auth/tokens", json={"name": "x"}, headers={"X-CSRFToken": csrf}
    )
    assert minted.status_code in (400, 401), minted.json  # never 201
    found = records(app, "session_use_after_expire")[before:]
    assert found, "no security record of the replay"
    assert found[0].attributes["target.user.id"] == user.id
    assert found[0].attributes["event.outcome"] == "failure"


def test_cookie_replayed_after_logout_is_refused(app, make: Factory) -> None:
    user = make.user(Role.RECRUITER)
    browser, csrf = sign_in(app, user)
    thief = copy_of(browser)
    assert holding(app, thief).get("/api/auth/me").status_code == 200  # works while signed in
    assert browser.post("/api/auth/logout", headers={"X-CSRFToken": csrf}).status_code == 204
    assert_replay_refused(app, thief, csrf, user)
    ended = records(app, "session_use_after_expire")[0]
    assert ended.attributes["talaro.session.ended_reason"] == "logout"


def test_logout_ends_the_users_other_sessions_too(app, make: Factory) -> None:
    user = make.user(Role.RECRUITER)
    laptop, csrf = sign_in(app, user)
    phone, _ = sign_in(app, user)
    assert laptop.post("/api/auth/logout", headers={"X-CSRFToken": csrf}).status_code == 204
    assert phone.get("/api/auth/me").status_code == 401


def test_cookie_replayed_after_deactivation_and_after_reactivation_is_refused(
    app, make: Factory, as_role
) -> None:
    user = make.user(Role.RECRUITER)
    admin = as_role(Role.ADMIN)
    browser, csrf = sign_in(app, user)
    thief = copy_of(browser)
    token = make.token(user)
    assert admin.patch(f"/api/users/{user.id}", json={"active": False}).status_code == 200
    assert_replay_refused(app, thief, csrf, user)
    assert admin.patch(f"/api/users/{user.id}", json={"active": True}).status_code == 200
    assert_replay_refused(app, thief, csrf, user)
    assert browser.get("/api/auth/me").status_code == 401
    # The API token issued before the deactivation stays revoked as well.
    assert app.test_client().get("/api/auth/me", headers=bearer(token)).status_code == 401
    again, _ = sign_in(app, user)  # reactivated: a new sign-in works
    assert again.get("/api/auth/me").status_code == 200


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_admin_signs_a_user_out_everywhere(app, make: Factory, as_role) -> None:
    user = make.user(Role.HIRING_MANAGER)
    admin = as_role(Role.ADMIN)
    browser, csrf = sign_in(app, user)
    token = make.token(user)
    other = as_role(Role.RECRUITER)
    refused = other.delete(f"/api/users/{user.id}/sessions")
    assert refused.status_code == 403
    assert admin.delete(f"/api/users/{user.id}/sessions").status_code == 204
    assert_replay_refused(app, copy_of(browser), csrf, user)
    assert app.test_client().get("/api/auth/me", headers=bearer(token)).status_code == 401
    [ended] = [
        r
        for r in records(app, "session_expired")
        if r.attributes.get("reason") == "signed out everywhere"
    ]
    assert ended.attributes["target.user.id"] == user.id
    assert ended.attributes["talaro.session.ended_count"] == 1
    assert admin.delete("/api/users/" + "0" * 32 + "/sessions").status_code == 404


def _age_sessions(app: Flask, user: User, **fields: object) -> None:
    with app.app_context():
        db.session.execute(
            update(UserSession).where(UserSession.user_id == user.id).values(**fields)
        )
        db.session.commit()


def test_idle_lifetime_ends_a_session(make_app) -> None:
    app = make_app(TALARO_SESSION_IDLE_SECONDS=600)
    user = Factory(app).user(Role.RECRUITER)
    browser, _ = sign_in(app, user)
    assert browser.get("/api/auth/me").status_code == 200
    _age_sessions(app, user, last_seen_at=utcnow() - timedelta(seconds=601))
    assert browser.get("/api/auth/me").status_code == 401
    [expired] = records(app, "session_expired")
    assert expired.attributes["reason"] == "idle lifetime"


def test_requests_keep_a_session_alive_until_its_absolute_lifetime(make_app) -> None:
    app = make_app(TALARO_SESSION_IDLE_SECONDS=600, TALARO_SESSION_ABSOLUTE_SECONDS=3600)
    user = Factory(app).user(Role.RECRUITER)
    browser, _ = sign_in(app, user)
    _age_sessions(app, user, last_seen_at=utcnow() - timedelta(seconds=300))
    assert browser.get("/api/auth/me").status_code == 200  # active: last seen is refreshed
    _age_sessions(app, user, created_at=utcnow() - timedelta(seconds=3601))
    assert browser.get("/api/auth/me").status_code == 401
    [expired] = records(app, "session_expired")
    assert expired.attributes["reason"] == "absolute lifetime"
    # Presented again, the ended session is a use after expiry.
    assert browser.get("/api/auth/me").status_code == 401


def test_a_csrf_token_issued_before_sign_in_is_refused_after_it(app, make: Factory) -> None:
    user = make.user(Role.HIRING_MANAGER)
    browser = app.test_client()
    early = browser.get("/api/auth/csrf").json["csrf_token"]
    response = browser.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    fresh = response.json["csrf_token"]
    assert fresh != early
    refused = browser.post("/api/jobs", json={"title": "Designer"}, headers={"X-CSRFToken": early})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "csrf_failed"
    ok = browser.post("/api/jobs", json={"title": "Designer"}, headers={"X-CSRFToken": fresh})
    assert ok.status_code == 201


def test_a_session_fixed_before_sign_in_is_not_the_signed_in_one(app, make: Factory) -> None:
    user = make.user(Role.RECRUITER)
    browser = app.test_client()
    browser.get("/api/auth/csrf")
    planted = browser.get_cookie(COOKIE)
    assert planted is not None
    browser.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    victim_cookie = browser.get_cookie(COOKIE)
    assert victim_cookie is not None and victim_cookie.value != planted.value
    attacker = app.test_client()
    attacker.set_cookie(COOKIE, planted.value)
    assert attacker.get("/api/auth/me").status_code == 401

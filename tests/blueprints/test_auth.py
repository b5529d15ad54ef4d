"""Sign-in, sessions, CSRF and API tokens."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import func, select

from talaro import telemetry
from talaro.extensions import db
from talaro.models import ApiToken, Role, User
from tests.factories import PASSWORD, Factory
from tests.telemetry import otlp_json


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> dict:
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.json
    return response.json


def test_register_creates_lowest_privilege_user_with_case_insensitive_email(app, client) -> None:
    body = {"email": "Ada@Example.com", "password": "long enough pw", "name": "Ada"}
    response = client.post("/api/auth/register", json=body)
    assert response.status_code == 201
    assert response.json["role"] == "INTERVIEWER"
    assert response.json["email"] == "ada@example.com"
    again = client.post("/api/auth/register", json={**body, "email": "ADA@example.com"})
    assert again.status_code == 201  # the same answer: registration tells nobody
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def security_records(app, name: str) -> list:
    telemetry.flush(app)
    path = Path(app.config["TALARO_TELEMETRY_DIR"]) / "security.jsonl"
    return [r for r in otlp_json.log_records(path) if r.event_name == name]


def test_registering_a_taken_address_answers_like_a_new_one_and_tells_the_owner(
    app, client, make: Factory
) -> None:
    owner = make.user(Role.HIRING_MANAGER)
    fresh = client.post(
        "/api/auth/register",
        json={"email": "new@example.com", "password": "a long new password", "name": "Nea"},
    )
    attacker = {"email": owner.email.upper(), "password": "attackers password", "name": "Eve"}
    taken = client.post("/api/auth/register", json=attacker)
    assert (taken.status_code, fresh.status_code) == (201, 201)
    assert sorted(taken.json) == sorted(fresh.json)
    assert taken.json["id"] != owner.id and taken.json["role"] == "INTERVIEWER"
    assert taken.json["email"] == owner.email and taken.json["name"] == "Eve"
    # Nothing changed: the attacker's password does not sign in, the owner's still does.
    refused = client.post(
        "/api/auth/login", json={"email": owner.email, "password": "attackers password"}
    )
    assert refused.status_code == 401
    [record] = security_records(app, "user_create_existing")
    assert record.attributes["target.user.id"] == owner.id
    assert record.attributes["event.outcome"] == "failure"
    assert "attackers password" not in str(record.attributes)
    # The owner is told once, at their next sign-in.
    notices = login(app.test_client(), owner.email)["notices"]
    assert len(notices) == 1 and "register" in notices[0]
    assert login(app.test_client(), owner.email)["notices"] == []


def test_repeated_invalid_bearer_tokens_from_one_address_fire_a_rule(make_app) -> None:
    app = make_app(TALARO_DETECT_BAD_TOKENS=3, TALARO_DETECT_BAD_TOKENS_WINDOW=60)
    client = app.test_client()
    for n in range(5):
        headers = {"Authorization": f"Bearer tlr_guess{n}"}
        assert client.get("/api/auth/me", headers=headers).status_code == 401
    [fired] = security_records(app, "authn_token_fail_max")
    assert fired.attributes["security_rule.name"] == "invalid_bearer_tokens_one_address"
    assert fired.attributes["talaro.rule.count"] == 3
    assert "tlr_guess" not in str(fired.attributes)


def test_register_can_be_disabled(app, client) -> None:
    app.config["TALARO_ALLOW_REGISTRATION"] = False
    body = {"email": "x@example.com", "password": "long enough pw", "name": "X"}
    response = client.post("/api/auth/register", json=body)
    assert response.status_code == 403
    assert response.json["error"]["message"] == "Registration is disabled"


def test_login_sets_httponly_samesite_session_and_me_returns_user(client, make: Factory) -> None:
    user = make.user(Role.RECRUITER)
    response = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.json["user"]["id"] == user.id
    assert response.json["csrf_token"]
    assert client.get("/api/auth/me").json["email"] == user.email


def test_unknown_user_wrong_password_and_inactive_user_get_the_same_answer(
    client, make: Factory
) -> None:
    active = make.user(Role.RECRUITER)
    inactive = make.user(Role.RECRUITER, active=False)
    answers = [
        client.post("/api/auth/login", json={"email": "nobody@example.com", "password": "x"}),
        client.post("/api/auth/login", json={"email": active.email, "password": "wrong pw"}),
        client.post("/api/auth/login", json={"email": inactive.email, "password": PASSWORD}),
    ]
    assert {r.status_code for r in answers} == {401}
    assert {r.json["error"]["message"] for r in answers} == {"Invalid email or password"}


def test_session_json_calls_need_the_csrf_token(client, make: Factory) -> None:
    user = make.user(Role.HIRING_MANAGER)
    token = login(client, user.email)["csrf_token"]
    refused = client.post("/api/jobs", json={"title": "Designer"})
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "csrf_failed"
    assert "X-CSRFToken" in refused.json["error"]["message"]
    ok = client.post("/api/jobs", json={"title": "Designer"}, headers={"X-CSRFToken": token})
    assert ok.status_code == 201
    fresh = client.get("/api/auth/csrf").json["csrf_token"]
    assert client.post("/api/auth/logout", headers={"X-CSRFToken": fresh}).status_code == 204
    assert client.get("/api/auth/me").status_code == 401


def test_token_is_shown_once_stored_hashed_and_revocable(client, make: Factory, app) -> None:
    user = make.user(Role.RECRUITER)
    csrf = login(client, user.email)["csrf_token"]
    created = client.post("/api/auth/tokens", json={"name": "ci"}, headers={"X-CSRFToken": csrf})
    assert created.status_code == 201
    secret = created.json["token"]
    listed = client.get("/api/auth/tokens").json
    assert [t["name"] for t in listed] == ["ci"]
    assert "token" not in listed[0]
    with app.app_context():
        hashes = list(db.session.scalars(select(ApiToken.token_hash)))
    assert secret not in hashes and len(hashes) == 1

    api = app.test_client()
    bearer = {"Authorization": f"Bearer {secret}"}
    me = api.get("/api/auth/me", headers=bearer)
    assert me.status_code == 200 and me.json["id"] == user.id
    assert "Set-Cookie" not in me.headers  # token clients get no session
    # Bearer requests need no CSRF token.
    token_id = created.json["id"]
    assert api.delete(f"/api/auth/tokens/{token_id}", headers=bearer).status_code == 204
    assert api.get("/api/auth/me", headers=bearer).status_code == 401


def test_a_user_cannot_revoke_someone_elses_token(as_role, make: Factory) -> None:
    owner = as_role(Role.RECRUITER)
    other = as_role(Role.RECRUITER)
    token_id = owner.post("/api/auth/tokens", json={"name": "mine"}).json["id"]
    assert other.delete(f"/api/auth/tokens/{token_id}").status_code == 404
    assert owner.delete(f"/api/auth/tokens/{token_id}").status_code == 204


def test_garbage_bearer_tokens_are_401(client) -> None:
    for header in ["Bearer nope", "Bearer tlr_unknown", "Basic abc", "Bearer "]:
        response = client.get("/api/auth/me", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.json["error"]["code"] == "authentication_required"


def test_deactivated_users_token_stops_working(as_role, app) -> None:
    recruiter = as_role(Role.RECRUITER)
    admin = as_role(Role.ADMIN)
    assert recruiter.get("/api/auth/me").status_code == 200
    response = admin.patch(f"/api/users/{recruiter.user.id}", json={"active": False})
    assert response.status_code == 200 and response.json["active"] is False
    assert recruiter.get("/api/auth/me").status_code == 401


def test_admin_grants_roles_but_cannot_demote_themself(as_role) -> None:
    admin = as_role(Role.ADMIN)
    target = as_role(Role.INTERVIEWER)
    granted = admin.patch(f"/api/users/{target.user.id}", json={"role": "RECRUITER"})
    assert granted.status_code == 200 and granted.json["role"] == "RECRUITER"
    assert target.get("/api/resumes").status_code == 200
    users = admin.get("/api/users").json
    assert {u["id"] for u in users} >= {admin.user.id, target.user.id}
    self_demote = admin.patch(f"/api/users/{admin.user.id}", json={"role": "RECRUITER"})
    assert self_demote.status_code == 409


def test_token_last_used_is_recorded_at_minute_precision(app, make: Factory) -> None:
    from datetime import timedelta

    from talaro.models import utcnow
    from talaro.services import accounts

    user = make.user(Role.RECRUITER)
    secret = make.token(user)
    start = utcnow()
    with app.app_context():
        assert accounts.user_for_token(secret, now=start).id == user.id
        assert accounts.user_for_token(secret, now=start + timedelta(seconds=30)) is not None
        stored = db.session.scalar(select(ApiToken.last_used_at))
        assert stored == start  # the second use, 30 s later, wrote nothing
        later = start + timedelta(minutes=2)
        accounts.user_for_token(secret, now=later)
        assert db.session.scalar(select(ApiToken.last_used_at)) == later

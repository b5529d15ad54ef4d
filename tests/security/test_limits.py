"""Rate limits: 429 in the error envelope with Retry-After, one security record per key and
window, limits read from settings and applied from the one table in security/limits.py."""

from __future__ import annotations

import io

import pytest

from talaro.models import Role
from talaro.security.limits import RATE_LIMITS
from tests.factories import resume_text
from tests.security.conftest import csrf_from, login, security_records


def rate_records(app) -> list:
    return [
        r
        for r in security_records(app, "excess_rate_limit_exceeded")
        if r.attributes["security_rule.name"] == "rate_limit"
    ]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sign_in_over_the_limit_is_429_with_retry_after_and_one_event(build, fast_passwords):
    app = build(TALARO_RATELIMIT_SIGNIN="3 per minute")
    client = app.test_client()
    for _ in range(3):
        assert login(client, "someone@example.com").status_code == 401
    assert rate_records(app) == []

    for _ in range(2):
        refused = login(client, "someone@example.com")
        assert refused.status_code == 429
        wait = int(refused.headers["Retry-After"])
        assert 0 < wait <= 60
        assert refused.json["error"]["code"] == "rate_limited"
        message = refused.json["error"]["message"]
        assert message.startswith("Too many requests: the limit is 3 per 1 minute. Try again in ")
        # The same number of seconds as the header, give or take the second it took.
        assert int(message.split("Try again in ")[1].split()[0]) in (wait, wait + 1)
    # Refused before the password is checked: no further failures were counted.
    assert len(security_records(app, "authn_login_fail")) == 3
    (event,) = rate_records(app)
    assert event.attributes["talaro.rate_limit"] == "3 per 1 minute"
    assert event.attributes["talaro.rate_limit.key"] == "127.0.0.1"
    assert event.attributes["talaro.rate_limit.scope"] == "signin"
    assert event.attributes["http.response.status_code"] == 429
    assert event.attributes["client.address"] == "127.0.0.1"
    # Another address has its own allowance.
    assert login(client, "someone@example.com", addr="192.0.2.8").status_code == 401


def test_the_sign_in_page_shares_the_api_allowance_and_get_is_free(build, fast_passwords):
    app = build(TALARO_RATELIMIT_SIGNIN="2 per minute")
    client = app.test_client()
    for _ in range(3):
        assert client.get("/login").status_code == 200
    token = csrf_from(client)
    assert login(client, "someone@example.com").status_code == 401
    form = {"email": "a@example.com", "password": "wrong password", "csrf_token": token}
    assert client.post("/login", data=form).status_code == 401  # the form's own answer
    page = client.post("/login", data=form)
    assert page.status_code == 429
    assert int(page.headers["Retry-After"]) > 0
    assert "text/html" in page.content_type


def test_registration_limit(build):
    app = build(TALARO_RATELIMIT_REGISTER="2 per hour")
    client = app.test_client()
    statuses = [
        client.post(
            "/api/auth/register",
            json={"email": f"n{n}@example.com", "password": "long enough pw", "name": "N"},
        ).status_code
        for n in range(3)
    ]
    assert statuses == [201, 201, 429]
    (event,) = rate_records(app)
    assert event.attributes["talaro.rate_limit.scope"] == "registration"
    assert event.attributes["talaro.rate_limit"] == "2 per 1 hour"


def test_token_creation_is_limited_per_user(build, make_for, fast_passwords):
    app = build(TALARO_RATELIMIT_TOKENS="2 per minute")
    make = make_for(app)
    first, second = make.user(Role.RECRUITER), make.user(Role.RECRUITER)
    clients = {}
    for user in (first, second):
        clients[user.id] = {"Authorization": f"Bearer {make.token(user)}"}
    client = app.test_client()
    statuses = [
        client.post("/api/auth/tokens", json={"name": "t"}, headers=clients[first.id]).status_code
        for _ in range(3)
    ]
    assert statuses == [201, 201, 429]
    again = client.post("/api/auth/tokens", json={"name": "t"}, headers=clients[second.id])
    assert again.status_code == 201
    (event,) = rate_records(app)
    assert event.attributes["talaro.rate_limit.key"] == f"user:{first.id}"
    assert event.attributes["user.id"] == first.id


def test_single_and_bulk_uploads_have_their_own_limits(build, make_for):
    app = build(TALARO_RATELIMIT_UPLOAD="1 per minute", TALARO_RATELIMIT_BULK_UPLOAD="1 per minute")
    make = make_for(app)
    headers = {"Authorization": f"Bearer {make.token(make.user(Role.RECRUITER))}"}
    client = app.test_client()

    def files(n: int) -> io.BytesIO:
        return io.BytesIO(resume_text(f"Ana Lima{n}", f"ana{n}@example.org").encode())

    single = [
        client.post("/api/resumes", data={"file": (files(n), f"{n}.txt")}, headers=headers)
        for n in range(2)
    ]
    assert [r.status_code for r in single] == [201, 429]
    bulk = [
        client.post("/api/resumes/bulk", data={"files": [(files(n), f"b{n}.txt")]}, headers=headers)
        for n in range(2, 4)
    ]
    assert [r.status_code for r in bulk] == [200, 429]
    assert {r.attributes["talaro.rate_limit.scope"] for r in rate_records(app)} == {
        "upload",
        "bulk_upload",
    }


def test_limits_can_be_turned_off(build, fast_passwords):
    app = build(TALARO_RATELIMIT_SIGNIN="1 per minute", TALARO_RATELIMIT_ENABLED=False)
    client = app.test_client()
    assert {login(client, "a@example.com").status_code for _ in range(3)} == {401}


def test_every_limited_endpoint_exists_and_accepts_post(app):
    endpoints = {rule.endpoint: rule.methods for rule in app.url_map.iter_rules()}
    for limit in RATE_LIMITS.values():
        assert limit.setting in app.config
        for endpoint in limit.endpoints:
            assert "POST" in endpoints[endpoint]

"""Each detection rule: nothing below its threshold, one event with its evidence at it,
nothing more within the window, and again once the window has passed."""

from __future__ import annotations

import io

import pytest

from talaro.models import Role
from talaro.security import detection
from talaro.services import accounts
from tests.factories import resume_text
from tests.security.conftest import PASSWORD, add_user, fake_clock, login, security_records

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgresql"])


def rule_records(app, event: str, rule: str) -> list:
    return [
        r for r in security_records(app, event) if r.attributes.get("security_rule.name") == rule
    ]


@both_databases
def test_brute_force_fires_once_at_the_threshold_then_locks(app, fast_passwords) -> None:
    add_user(app, fast_passwords, "ada@example.com")
    client = app.test_client()
    for _ in range(2):
        assert login(client, "ada@example.com").status_code == 401
    assert rule_records(app, "authn_login_fail_max", detection.BRUTE_FORCE) == []
    assert security_records(app, "authn_login_lock") == []

    for _ in range(3):  # the third failure reaches the threshold; two more after it
        assert login(client, "ada@example.com").status_code == 401

    (fired,) = rule_records(app, "authn_login_fail_max", detection.BRUTE_FORCE)
    (lock,) = security_records(app, "authn_login_lock")
    failures = security_records(app, "authn_login_fail")
    user_hash = failures[0].attributes["user.hash"]
    assert fired.attributes["user.hash"] == user_hash
    assert fired.attributes["talaro.rule.count"] == 3
    assert fired.attributes["talaro.rule.threshold"] == 3
    assert fired.attributes["talaro.rule.window_s"] == 60
    assert fired.attributes["talaro.login.account_exists"] is True
    assert fired.attributes["client.address"] == "127.0.0.1"
    assert lock.attributes["user.hash"] == user_hash
    assert lock.attributes["talaro.lock.seconds"] == 60
    assert lock.attributes["talaro.login.failures"] == 3
    # Locked: even the right password is refused, exactly like a wrong one.
    refused = login(client, "ada@example.com", PASSWORD)
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "invalid_credentials"
    assert [r.attributes["reason"] for r in security_records(app, "authn_login_fail")][-3:] == [
        "locked",
        "locked",
        "locked",
    ]
    for record in security_records(app):
        assert PASSWORD not in str(record.attributes)
        assert "ada@example.com" not in str(record.attributes)


def test_unknown_accounts_are_locked_the_same_way(app, fast_passwords) -> None:
    client = app.test_client()
    for _ in range(3):
        login(client, "nobody@example.com")
    (fired,) = rule_records(app, "authn_login_fail_max", detection.BRUTE_FORCE)
    assert fired.attributes["talaro.login.account_exists"] is False
    assert len(security_records(app, "authn_login_lock")) == 1
    assert (
        security_records(app, "authn_login_fail")[-1].attributes["talaro.login.account_exists"]
        is False
    )


def test_lock_expires_and_the_success_reports_the_failures(app, clock, fast_passwords) -> None:
    add_user(app, fast_passwords, "ada@example.com")
    client = app.test_client()
    for _ in range(4):
        login(client, "ada@example.com")
    assert login(client, "ada@example.com", PASSWORD).status_code == 401  # locked
    clock.advance(59)
    assert login(client, "ada@example.com", PASSWORD).status_code == 401  # still locked
    clock.advance(2)
    assert login(client, "ada@example.com", PASSWORD).status_code == 200

    (after,) = security_records(app, "authn_login_successafterfail")
    assert after.attributes["talaro.login.failures"] == 6
    assert after.attributes["user.email"] == "ada@example.com"  # staff identity, as configured
    # A success ends the window: the next failures start from zero again.
    for _ in range(2):
        login(client, "ada@example.com")
    assert len(rule_records(app, "authn_login_fail_max", detection.BRUTE_FORCE)) == 1


def test_brute_force_rearms_after_the_window(app, clock, fast_passwords) -> None:
    client = app.test_client()
    for _ in range(3):
        login(client, "eve@example.com")
    clock.advance(61)  # window and lock both over
    for _ in range(2):
        login(client, "eve@example.com")
    assert len(rule_records(app, "authn_login_fail_max", detection.BRUTE_FORCE)) == 1
    login(client, "eve@example.com")
    assert len(rule_records(app, "authn_login_fail_max", detection.BRUTE_FORCE)) == 2
    assert len(security_records(app, "authn_login_lock")) == 2


def test_a_single_typo_before_signing_in_is_reported(app, fast_passwords) -> None:
    add_user(app, fast_passwords, "ada@example.com")
    client = app.test_client()
    assert login(client, "ada@example.com", PASSWORD).status_code == 200
    assert security_records(app, "authn_login_successafterfail") == []
    login(client, "ada@example.com")
    assert login(client, "ada@example.com", PASSWORD).status_code == 200
    (after,) = security_records(app, "authn_login_successafterfail")
    assert after.attributes["talaro.login.failures"] == 1


def test_credential_stuffing_from_one_address(app, fast_passwords) -> None:
    client = app.test_client()
    for n in range(3):
        login(client, f"victim{n}@example.com", addr="203.0.113.9")
    login(client, "other@example.com", addr="198.51.100.1")  # another address
    assert rule_records(app, "authn_login_fail_max", detection.CREDENTIAL_STUFFING) == []
    login(client, "victim0@example.com", addr="203.0.113.9")  # the same account again
    assert rule_records(app, "authn_login_fail_max", detection.CREDENTIAL_STUFFING) == []

    for n in range(3, 6):
        login(client, f"victim{n}@example.com", addr="203.0.113.9")

    (fired,) = rule_records(app, "authn_login_fail_max", detection.CREDENTIAL_STUFFING)
    hashes = {
        r.attributes["user.hash"]
        for r in security_records(app, "authn_login_fail")
        if r.attributes["client.address"] == "203.0.113.9"
    }
    assert fired.attributes["client.address"] == "203.0.113.9"
    assert fired.attributes["talaro.rule.count"] == 4
    assert set(fired.attributes["talaro.rule.accounts"]) < hashes
    assert len(fired.attributes["talaro.rule.accounts"]) == 4
    assert "victim" not in str(fired.attributes)


def test_distributed_stuffing_compares_the_window_with_the_usual_rate(
    build, fast_passwords
) -> None:
    app = build(
        TALARO_DETECT_SERVICE_MIN_FAILURES=5,
        TALARO_DETECT_SERVICE_FACTOR=3.0,
        TALARO_DETECT_SERVICE_WINDOW=60,
        TALARO_DETECT_SERVICE_BASELINE=4,
    )
    clock = fake_clock(app)
    clock.now = 60 * 1000.0  # the start of a window
    client = app.test_client()
    n = 0

    def fail_from_new_place() -> None:
        nonlocal n
        n += 1  # one failure per account and per address: no other rule sees anything
        login(client, f"user{n}@example.com", addr=f"10.0.{n // 250}.{n % 250}")

    for _ in range(4):  # the usual rate: 3 failures a window, so 3 x 3 = 9 is "far above"
        for _ in range(3):
            fail_from_new_place()
        clock.advance(60)
    for _ in range(8):
        fail_from_new_place()
    assert rule_records(app, "authn_login_fail_max", detection.DISTRIBUTED_STUFFING) == []
    for _ in range(3):
        fail_from_new_place()

    (fired,) = rule_records(app, "authn_login_fail_max", detection.DISTRIBUTED_STUFFING)
    assert fired.attributes["talaro.rule.count"] == 9
    assert fired.attributes["talaro.rule.baseline"] == 3.0
    assert fired.attributes["talaro.rule.accounts_count"] == 9
    assert fired.attributes["talaro.rule.addresses_count"] == 9
    assert len(fired.attributes["talaro.rule.addresses"]) == 9
    assert fired.attributes["talaro.rule.window_s"] == 60
    for rule in (detection.BRUTE_FORCE, detection.CREDENTIAL_STUFFING):
        assert rule_records(app, "authn_login_fail_max", rule) == []


def test_a_quiet_service_needs_the_minimum_count(build, fast_passwords) -> None:
    app = build(TALARO_DETECT_SERVICE_MIN_FAILURES=4, TALARO_DETECT_SERVICE_BASELINE=10)
    fake_clock(app).now = 60 * 1000.0
    client = app.test_client()
    for n in range(3):
        login(client, f"user{n}@example.com", addr=f"10.1.0.{n}")
    assert rule_records(app, "authn_login_fail_max", detection.DISTRIBUTED_STUFFING) == []
    login(client, "user9@example.com", addr="10.1.0.9")
    assert len(rule_records(app, "authn_login_fail_max", detection.DISTRIBUTED_STUFFING)) == 1


@both_databases
def test_many_registrations_from_one_address(app) -> None:
    client = app.test_client()

    def register(n: int, addr: str) -> None:
        body = {"email": f"new{n}@example.com", "password": "long enough pw", "name": "N"}
        response = client.post("/api/auth/register", json=body, environ_base={"REMOTE_ADDR": addr})
        assert response.status_code == 201

    register(0, "203.0.113.5")
    register(1, "203.0.113.5")
    register(2, "198.51.100.7")
    assert rule_records(app, "excess_rate_limit_exceeded", detection.MANY_REGISTRATIONS) == []
    register(3, "203.0.113.5")
    register(4, "203.0.113.5")
    (fired,) = rule_records(app, "excess_rate_limit_exceeded", detection.MANY_REGISTRATIONS)
    assert fired.attributes["client.address"] == "203.0.113.5"
    assert fired.attributes["talaro.rule.count"] == 3
    assert fired.attributes["talaro.rule.window_s"] == 60
    assert fired.severity_text == "ERROR"  # a rule firing, unlike one rate-limit hit (WARN)
    assert "new" not in str(fired.attributes)


def test_excess_404_from_one_user_then_rearms(app, make, clock) -> None:
    token = make.token(make.user(Role.RECRUITER))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    for n in range(3):
        assert client.get(f"/api/resumes/missing{n}", headers=headers).status_code == 404
    assert client.get("/api/nothing-here", headers=headers).status_code == 404
    (fired,) = security_records(app, "malicious_excess_404")
    assert fired.attributes["security_rule.name"] == detection.EXCESS_404
    assert fired.attributes["talaro.rule.source"] == "user"
    assert fired.attributes["talaro.rule.count"] == 4
    assert fired.attributes["user.roles"] == ["RECRUITER"]
    assert fired.attributes["url.path"] == "/api/nothing-here"
    for n in range(3):
        client.get(f"/api/resumes/again{n}", headers=headers)
    assert len(security_records(app, "malicious_excess_404")) == 1
    clock.advance(61)
    for n in range(4):
        client.get(f"/api/resumes/later{n}", headers=headers)
    assert len(security_records(app, "malicious_excess_404")) == 2


def test_excess_404_from_one_address_on_pages_and_api(app) -> None:
    client = app.test_client()
    for path in ("/wp-admin", "/.env", "/api/x"):
        assert client.get(path, environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 404
    client.get("/.git/config", environ_base={"REMOTE_ADDR": "192.0.2.2"})
    assert security_records(app, "malicious_excess_404") == []
    client.get("/.git/config", environ_base={"REMOTE_ADDR": "192.0.2.1"})
    (fired,) = security_records(app, "malicious_excess_404")
    assert fired.attributes["talaro.rule.source"] == "address"
    assert fired.attributes["client.address"] == "192.0.2.1"


@both_databases
def test_denied_object_references_from_one_user(app, make) -> None:
    interviewer = make.user(Role.INTERVIEWER)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {make.token(interviewer)}"}
    resumes = [make.resume() for _ in range(4)]
    admin = {"Authorization": f"Bearer {make.token(make.user(Role.ADMIN))}"}
    upload = {"file": (io.BytesIO(resume_text("A B", "a@example.org").encode()), "a.txt")}
    assert client.post("/api/resumes", data=upload, headers=admin).status_code == 403
    for resume in resumes[:2]:
        assert client.get(f"/api/resumes/{resume.id}", headers=headers).status_code == 403
    assert security_records(app, "malicious_direct_reference") == []  # the role denial: no object
    assert client.get(f"/api/resumes/{resumes[2].id}", headers=headers).status_code == 403
    client.get(f"/api/resumes/{resumes[3].id}", headers=headers)

    (fired,) = security_records(app, "malicious_direct_reference")
    assert fired.attributes["security_rule.name"] == detection.DIRECT_REFERENCE
    assert fired.attributes["user.id"] == interviewer.id
    assert fired.attributes["talaro.rule.count"] == 3
    assert fired.attributes["talaro.rule.source"] == "user"
    assert fired.attributes["url.path"] == f"/api/resumes/{resumes[2].id}"
    assert fired.severity_text == "ERROR"


def test_revoked_token_reuse_is_one_record_per_use(app, make) -> None:
    user = make.user(Role.RECRUITER)
    secret = make.token(user)
    with app.app_context():
        token_id = accounts.list_tokens(accounts.get_user(user.id))[0].id
        accounts.revoke_token(accounts.get_user(user.id), token_id)
    client = app.test_client()
    for _ in range(2):
        response = client.get("/api/resumes", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 401
    records = security_records(app, "authn_token_reuse")
    assert len(records) == 2
    for record in records:
        assert record.attributes["talaro.token.id"] == token_id
        assert record.attributes["target.user.id"] == user.id
        assert record.attributes["security_rule.name"] == "revoked_token_reuse"
        assert record.attributes["talaro.token.revoked_at"]
        assert secret not in str(record.attributes)


def test_normal_use_fires_no_rule(app, fast_passwords) -> None:
    add_user(app, fast_passwords, "ada@example.com")
    client = app.test_client()
    login(client, "ada@example.com")
    assert login(client, "ada@example.com", PASSWORD).status_code == 200
    client.get("/api/nothing")
    names = {r.event_name for r in security_records(app)}
    assert not names & {
        "authn_login_fail_max",
        "authn_login_lock",
        "malicious_excess_404",
        "malicious_direct_reference",
        "excess_rate_limit_exceeded",
    }

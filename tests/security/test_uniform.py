"""Unknown user, wrong password, inactive and locked account: the same answer, the same
work (one Argon2 verification each) and, measured loosely, the same time."""

from __future__ import annotations

import statistics
import time
from typing import Any, Literal

import pytest
from argon2 import PasswordHasher

from talaro.identity import account_key
from talaro.models import Role
from talaro.security import EXTENSION
from talaro.services import passwords
from tests.factories import PASSWORD
from tests.security.conftest import add_user, login, security_records

CASES = ("unknown", "wrong", "inactive", "locked")


def prepare(app: Any, add: Any) -> dict[str, tuple[str, str]]:
    """(email, password) per case; the locked account is given its right password."""
    add("wrong@example.com")
    add("inactive@example.com", active=False)
    add("locked@example.com")
    with app.app_context():
        app.extensions[EXTENSION].store.flag(f"lock:{account_key('locked@example.com')}", 600)
    return {
        "unknown": ("nobody@example.com", PASSWORD),
        "wrong": ("wrong@example.com", "not the password"),
        "inactive": ("inactive@example.com", PASSWORD),
        "locked": ("locked@example.com", PASSWORD),
    }


def test_every_refusal_answers_the_same(build, make_for) -> None:
    app = build(TALARO_DETECT_ACCOUNT_FAILURES=100)
    make = make_for(app)
    cases = prepare(app, lambda email, **kw: make.user(Role.RECRUITER, email=email, **kw))
    client = app.test_client()
    answers = {}
    for case, (email, password) in cases.items():
        response = login(client, email, password)
        answers[case] = (response.status_code, response.get_json(), sorted(response.headers.keys()))
    assert answers["unknown"][:2] == (
        401,
        {"error": {"code": "invalid_credentials", "message": "Invalid email or password"}},
    )
    for case in CASES:
        assert answers[case] == answers["unknown"], case
    reasons = {
        r.attributes["reason"]: r.attributes["talaro.login.account_exists"]
        for r in security_records(app, "authn_login_fail")
    }
    assert reasons == {
        "unknown user": False,
        "wrong password": True,
        "inactive": True,
        "locked": True,
    }


def test_every_refusal_verifies_one_password(build, fast_passwords, monkeypatch) -> None:
    """The deterministic half of the timing claim: each path pays one Argon2 verification."""
    app = build(TALARO_DETECT_ACCOUNT_FAILURES=100)
    cases = prepare(app, lambda email, **kw: add_user(app, fast_passwords, email, **kw))
    calls: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            calls.append(str(hash))
            return super().verify(hash, password)

    counting = Counting(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", lambda: counting)
    client = app.test_client()
    for case, (email, password) in cases.items():
        calls.clear()
        assert login(client, email, password).status_code == 401
        assert len(calls) == 1, case
        assert (calls[0] == passwords._dummy_hash()) == (case == "unknown"), case


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_unknown_user_and_wrong_password_take_the_same_time(build, make_for) -> None:
    """Real Argon2; medians of interleaved samples, compared within a generous factor so a
    busy machine cannot make it flaky while a skipped verification (~100x faster) fails."""
    app = build(TALARO_DETECT_ACCOUNT_FAILURES=100)
    make = make_for(app)
    cases = prepare(app, lambda email, **kw: make.user(Role.RECRUITER, email=email, **kw))
    client = app.test_client()
    for email, password in cases.values():  # warm up: the dummy hash, connections
        login(client, email, password)
    samples: dict[str, list[float]] = {case: [] for case in CASES}
    for _ in range(5):
        for case, (email, password) in cases.items():
            started = time.perf_counter()
            login(client, email, password)
            samples[case].append(time.perf_counter() - started)
    medians = {case: statistics.median(values) for case, values in samples.items()}
    fastest, slowest = min(medians.values()), max(medians.values())
    assert slowest / fastest < 2.5, medians

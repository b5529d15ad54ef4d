"""Schemathesis against `/api/openapi.json`: every operation, as every role and anonymous.

One app on the real PostgreSQL database with telemetry on, seeded with a few rows of
everything so that a share of the generated path ids hit real objects (random ids alone
would only ever exercise the 404 branch). Examples are derandomised so CI is stable;
`TALARO_FUZZ_EXAMPLES` raises the count for a longer local run.
"""

from __future__ import annotations

import os
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from talaro import create_app, telemetry
from talaro.extensions import db
from talaro.models import Role
from talaro.services import accounts
from tests import factories
from tests.conftest import base_config, stop_and_empty, telemetry_config
from tests.telemetry import otlp_json

EXAMPLES = int(os.environ.get("TALARO_FUZZ_EXAMPLES", "12"))
ROLES = ["ADMIN", "RECRUITER", "HIRING_MANAGER", "INTERVIEWER", "anonymous"]
SEEDED = 3  # rows of each kind; DELETE cases use some of them up

# The spec documents every answer, errors included (ErrorEnvelope), so status codes, content
# types, headers and bodies are checked against it as well as "no 5xx". Not enabled:
# negative_data_rejection, because marshmallow deliberately coerces "1" -> 1 and
# "true" -> true and flask-smorest marks every PATCH body `required` while an empty PATCH is
# a valid no-op; use_after_free / ensure_resource_availability, because the spec has no
# OpenAPI links for them to follow; ignored_auth, because no security scheme is declared.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class FuzzTarget:
    """The app under test, a token per role, and ids of real rows to put in the requests."""

    app: Flask
    tokens: dict[str, str] = field(default_factory=dict)
    # Path and body id names -> real ids; DELETE takes its ids from a pool of its own so that
    # the other operations still find their rows after it has run.
    known_ids: dict[str, list[str]] = field(default_factory=dict)
    deletable_ids: dict[str, list[str]] = field(default_factory=dict)
    own_token_ids: dict[str, list[str]] = field(default_factory=dict)
    # (role, "METHOD /path") -> status codes seen, to show the run got past the 4xx.
    statuses: dict[tuple[str, str], Counter[int]] = field(
        default_factory=lambda: defaultdict(Counter)
    )

    feedback_ids: list[str] = field(default_factory=list)

    def ids_for(self, name: str, case: Any, role: str) -> list[str]:
        if name == "token_id":  # only a token of one's own can be revoked
            return self.own_token_ids.get(role, [])
        if case.path.endswith("/feedback"):  # the INTERVIEWER's own, untouched by PATCH
            return self.feedback_ids
        pool = self.deletable_ids if case.method.upper() == "DELETE" else self.known_ids
        return pool.get(name, [])


def seed(app: Flask) -> FuzzTarget:
    make = factories.Factory(app)
    target = FuzzTarget(app)
    clients = {role: make.user(role) for role in ROLES[:-1]}
    for role, user in clients.items():
        target.tokens[role] = make.token(user)
        with app.app_context():
            spare = [accounts.create_token(user, f"spare {n}")[0].id for n in range(SEEDED)]
        target.own_token_ids[role] = spare
    # Users for the user_id paths, apart from the clients, so that an ADMIN deactivating
    # "a user" never locks a fuzzing client out.
    users = [make.user(role) for role in (Role.INTERVIEWER, Role.RECRUITER, Role.HIRING_MANAGER)]
    panel = [make.user(Role.INTERVIEWER), clients["INTERVIEWER"]]

    def rows(first_day: int) -> dict[str, list[str]]:
        resumes = [make.resume() for _ in range(SEEDED)]
        jobs = [make.job() for _ in range(SEEDED)]
        # In the past, so that feedback is open.
        interviews = [
            make.interview(
                interviewer=panel[n % 2],
                starts_at=datetime.now(UTC) - timedelta(days=first_day + n),
            )
            for n in range(SEEDED)
        ]
        return {
            "user_id": [user.id for user in users],
            "interviewer_id": [user.id for user in panel],
            "job_id": [job.id for job in jobs],
            "resume_id": [resume.id for resume in resumes],
            "candidate_id": [resume.candidate_id for resume in resumes],
            "interview_id": [interview.id for interview in interviews],
        }

    target.known_ids = rows(1)
    target.deletable_ids = rows(1 + SEEDED)
    target.feedback_ids = [
        make.interview(
            interviewer=clients["INTERVIEWER"],
            starts_at=datetime.now(UTC) - timedelta(days=1 + 2 * SEEDED + n),
        ).id
        for n in range(SEEDED)
    ]
    return target


@pytest.fixture(scope="module")
def fuzz_target(
    postgres_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzTarget]:
    folder: Path = tmp_path_factory.mktemp("api-fuzz")
    # One seeded app for the whole module; make_app is per test, so create_app is called here.
    app = create_app(
        base_config(
            SQLALCHEMY_DATABASE_URI=postgres_database,
            # The rate limits would answer 429 long before the examples run out.
            TALARO_RATELIMIT_ENABLED=False,
            **telemetry_config(folder / "logs"),
        )
    )
    with app.app_context():
        db.create_all()
    yield seed(app)
    stop_and_empty(app)


@pytest.fixture(params=ROLES)
def role(request: pytest.FixtureRequest) -> str:
    return request.param


def published_spec() -> dict[str, Any]:
    """The spec exactly as the app serves it; it depends on no data, so a throwaway app will do.

    (schemathesis' fixture-based lazy loading breaks on pytest 9, hence an eager schema and
    the real app passed with each call.)
    """
    # Called at import, to parametrize the tests, where no fixture can run.
    app = create_app(base_config(SQLALCHEMY_DATABASE_URI="sqlite://"))
    return app.test_client().get("/api/openapi.json").get_json()


schema = schemathesis.openapi.from_dict(published_spec())


def pick_known(value: Any, choices: list[str]) -> str | None:
    """A real id for about half the generated values, chosen from the value itself so that
    the choice is as reproducible as the generation."""
    pick = zlib.crc32(repr(value).encode())
    return choices[pick // 2 % len(choices)] if choices and pick % 2 else None


def use_known_ids(case: Any, target: FuzzTarget, role: str) -> None:
    """Put real ids in the path and in the top level of a JSON body."""
    for name, value in list((case.path_parameters or {}).items()):
        known = pick_known(value, target.ids_for(name, case, role))
        if known:
            case.path_parameters[name] = known
    if isinstance(case.body, dict):
        for name, value in list(case.body.items()):
            if name.endswith("_id"):
                known = pick_known(value, target.ids_for(name, case, role))
                if known:
                    case.body[name] = known


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # The generators are slow on the multipart and nested bodies; that is not a failure.
    suppress_health_check=list(HealthCheck),
)
@schema.parametrize()
def test_no_server_error_for_any_role(case: Any, fuzz_target: FuzzTarget, role: str) -> None:
    use_known_ids(case, fuzz_target, role)
    token = fuzz_target.tokens.get(role)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = case.call_and_validate(headers=headers, checks=CHECKS, app=fuzz_target.app)
    if case.method.upper() == case.operation.method.upper():  # not a probe with another verb
        fuzz_target.statuses[role, case.operation.label][response.status_code] += 1


PUBLIC = {
    "POST /api/auth/register",
    "POST /api/auth/login",
    "GET /api/auth/csrf",
    "GET /healthz",
    "GET /readyz",
}


# Operations whose success random input rarely reaches; each has its own tests.
RARELY_SUCCEED = {
    "POST /api/auth/login",  # needs a real password (tests/blueprints/test_auth.py)
    "POST /api/auth/register",  # needs a password strong enough (tests/blueprints/test_auth.py)
    # Need the real current password, or a random one that passes the policy
    # (tests/blueprints/test_passwords.py).
    "POST /api/auth/password",
    "POST /api/users/{user_id}/password",
    # The generated part is named "file" with no extension and random bytes, which the
    # upload checks mostly refuse (tests/blueprints/test_resumes.py uploads real files).
    "POST /api/resumes",
}


def test_the_run_reached_the_success_paths(fuzz_target: FuzzTarget) -> None:
    """The run got past validation (every operation answered 2xx to some role), and the
    anonymous client got a 2xx only from the public operations."""
    if not fuzz_target.statuses:
        pytest.skip("reads what the schemathesis test above recorded in the same run")
    operations = {operation for _, operation in fuzz_target.statuses}
    succeeded = {
        operation
        for (role, operation), seen in fuzz_target.statuses.items()
        if any(200 <= status < 300 for status in seen)
    }
    assert operations - succeeded <= RARELY_SUCCEED
    anonymous_succeeded = {
        operation
        for operation in succeeded
        if any(200 <= s < 300 for s in fuzz_target.statuses.get(("anonymous", operation), {}))
    }
    assert anonymous_succeeded <= PUBLIC

    # Telemetry was on throughout, and no exception reached the error handler unseen.
    telemetry.flush(fuzz_target.app)
    folder = Path(fuzz_target.app.config["TALARO_TELEMETRY_DIR"])
    events = [
        record.event_name
        for stream in ("security", "application")
        for record in otlp_json.log_records(folder / f"{stream}.jsonl")
    ]
    assert "input_validation_fail" in events
    assert "authz_fail" in events  # roles were refused what they may not do, and logged
    assert "error_unhandled" not in events

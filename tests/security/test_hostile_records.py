"""The security stream an attacker cannot fill, flood or erase: hostile requests get a 4xx
and bounded records, a flooding source's routine records are counted instead of written
(never anyone else's, never a lock), and CSRF failures are security events."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from talaro import telemetry
from talaro.models import Role
from talaro.security import detection
from talaro.telemetry.events import NAME_LENGTH, NAMES_SHOWN, SUPPRESSED
from tests.factories import ApiClient, Factory
from tests.security.conftest import (
    PASSWORD,
    add_user,
    csrf_from,
    fake_clock,
    login,
    security_records,
)
from tests.telemetry import otlp_json

VALUE_LIMIT = 2048  # the defaults (config.py): characters per value, attributes per record
COUNT_LIMIT = 64
MEGABYTE = 1024 * 1024


def verify(app: Flask, folder: Path) -> tuple[int, str]:
    """`flask audit verify FOLDER`: exit code and output."""
    result = app.test_cli_runner().invoke(args=["audit", "verify", str(folder)])
    return result.exit_code, result.output


def values(value: Any) -> Iterator[Any]:
    """An OTLP JSON AnyValue's leaves (a list's items, a map's values)."""
    if "arrayValue" in value:
        for item in value["arrayValue"].get("values", []):
            yield from values(item)
    elif "kvlistValue" in value:
        for pair in value["kvlistValue"].get("values", []):
            yield from values(pair.get("value", {}))
    else:
        yield from value.values()


def over_the_limits(folder: Path) -> list[str]:
    """Every record, span and span event of every file that breaks a limit: more than
    COUNT_LIMIT attributes, a list longer than the names shown, or a string (body and span
    status included) longer than VALUE_LIMIT."""
    found = []

    def check(where: str, pairs: list[dict[str, Any]], *texts: str) -> None:
        if len(pairs) > COUNT_LIMIT:
            found.append(f"{where}: {len(pairs)} attributes")
        for pair in pairs:
            value = pair.get("value", {})
            items = value.get("arrayValue", {}).get("values", [])
            if len(items) > max(NAMES_SHOWN, detection.EVIDENCE_LIST_LIMIT):
                found.append(f"{where}: {pair['key']} lists {len(items)}")
            texts += tuple(str(leaf) for leaf in values(value))
        found.extend(f"{where}: {len(t)} characters" for t in texts if len(t) > VALUE_LIMIT)

    for path in sorted(folder.glob("*.jsonl*")):
        for number, payload in enumerate(otlp_json.lines(path), start=1):
            where = f"{path.name}:{number}"
            for resource in payload.get("resourceLogs", []):
                for scope in resource.get("scopeLogs", []):
                    for record in scope.get("logRecords", []):
                        body = record.get("body", {}).get("stringValue", "")
                        check(f"{where} {record.get('eventName')}", record["attributes"], body)
            for resource in payload.get("resourceSpans", []):
                for scope in resource.get("scopeSpans", []):
                    for span in scope.get("spans", []):
                        status = span.get("status", {}).get("message", "")
                        check(f"{where} {span['name']}", span.get("attributes", []), status)
                        for event in span.get("events", []):
                            check(f"{where} {span['name']} event", event.get("attributes", []))
    return found


def written(folder: Path, name: str) -> list[otlp_json.LogRecord]:
    """The `name` records of the security file, read without a flush (after shutdown)."""
    return [r for r in otlp_json.log_records(folder / "security.jsonl") if r.event_name == name]


@pytest.fixture
def folder(app: Flask) -> Path:
    return Path(app.config["TALARO_TELEMETRY_DIR"])


def test_hostile_requests_get_a_4xx_and_only_bounded_records(app, folder, fast_passwords):
    # Earlier records the attack must not push out or break: a lock and its fail_max.
    add_user(app, fast_passwords, "ada@example.com")
    client = app.test_client()
    for _ in range(3):
        assert login(client, "ada@example.com").status_code == 401
    assert security_records(app, "authn_login_lock")

    anonymous = app.test_client()
    unknown_field = "k" * (3 * MEGABYTE)
    long_field = "k" * 200_000  # under the body limit (#12): it reaches validation
    many_fields = {f"field{n:06d}" + "x" * 90: 1 for n in range(2_000)}
    make = Factory(app)
    recruiter = make.user(Role.RECRUITER)
    api = ApiClient(app.test_client(), recruiter, make.token(recruiter))
    resume_id = make.resume(recruiter).id
    answers = {
        "megabyte field name": anonymous.post(
            "/api/auth/login",
            data=json.dumps({unknown_field: 1, "email": "ada@example.com", "password": "x"}),
            content_type="application/json",
        ),
        "200 kB field name": anonymous.post("/api/auth/register", json={long_field: 1}),
        "two thousand field names": anonymous.post("/api/auth/register", json=many_fields),
        "signed-in, unknown fields": api.patch(f"/api/resumes/{resume_id}", json=many_fields),
        "huge headers": anonymous.get(
            "/api/resumes",
            headers={
                "User-Agent": "U" * MEGABYTE,
                "Authorization": "Bearer tlr_" + "A" * MEGABYTE,
                "Cookie": "session=" + "s" * MEGABYTE,
                "X-Forwarded-For": "203.0.113.9, " * 50_000,
                "X-Anything": "h" * MEGABYTE,
            },
        ),
        "megabyte path": anonymous.get("/api/resumes/" + "p" * MEGABYTE),
        "signed-in megabyte path": api.get("/api/resumes/" + "p" * MEGABYTE),
        "100 kB file name": api.post(
            "/api/resumes", data={"file": (io.BytesIO(b""), "n" * 100_000 + ".pdf")}
        ),
        "deep JSON": anonymous.post(
            "/api/auth/login", data="[" * 100_000 + "]" * 100_000, content_type="application/json"
        ),
    }
    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert all(400 <= status < 500 for status in statuses.values()), statuses

    assert telemetry.shutdown(app)
    assert over_the_limits(folder) == []
    rejected = [
        r
        for r in written(folder, "input_validation_fail")
        if r.attributes.get("talaro.invalid_field_count")
    ]
    assert max(r.attributes["talaro.invalid_field_count"] for r in rejected) >= 2_000
    for record in rejected:
        assert len(record.attributes["talaro.invalid_fields"]) <= NAMES_SHOWN
        assert all(len(name) <= NAME_LENGTH for name in record.attributes["talaro.invalid_fields"])
    (refused_file,) = written(folder, "upload_validation")
    assert refused_file.attributes["file.extension"] == "pdf"
    assert "file.name" not in refused_file.attributes
    # The earlier records are all there, and the chain over them and the attack is whole.
    assert len(written(folder, "authn_login_fail_max")) == 1
    assert len(written(folder, "authn_login_lock")) == 1
    code, output = verify(app, folder)
    assert code == 0, output


FLOOD = {"TALARO_DETECT_FLOOD_RECORDS": 10, "TALARO_DETECT_FLOOD_WINDOW": 60}


def flood_records(app: Flask) -> list[otlp_json.LogRecord]:
    return security_records(app, "malicious_log_flood")


def required_from(app: Flask, address: str) -> list[otlp_json.LogRecord]:
    return [
        r
        for r in security_records(app, "authn_required")
        if r.attributes["client.address"] == address
    ]


def test_a_flooding_address_is_counted_not_written_and_no_one_else_is(
    build, folder, fast_passwords
) -> None:
    app = build(**FLOOD)
    clock = fake_clock(app)
    add_user(app, fast_passwords, "ada@example.com")
    flooder = {"REMOTE_ADDR": "198.51.100.7"}
    client = app.test_client()
    for _ in range(30):
        assert client.get("/api/resumes", environ_base=flooder).status_code == 401

    (fired,) = flood_records(app)
    assert fired.attributes["security_rule.name"] == detection.LOG_FLOOD
    assert fired.attributes["client.address"] == "198.51.100.7"
    assert fired.attributes["talaro.rule.count"] == 11  # the request that crossed 10
    assert fired.attributes["talaro.rule.source"] == "address"
    assert fired.attributes["talaro.rule.bytes"] > 0
    assert "authn_required" in fired.attributes["talaro.rule.suppressed_events"]
    assert len(required_from(app, "198.51.100.7")) == 11
    assert telemetry.status(app)["dropped"][SUPPRESSED] == 19

    # Others are untouched: another address, one forging X-Forwarded-For (no proxies are
    # trusted), a signed-in user on the flooding address.
    assert client.get("/api/resumes", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 401
    forged = {"REMOTE_ADDR": "192.0.2.2"}
    spoofed = client.get(
        "/api/resumes", environ_base=forged, headers={"X-Forwarded-For": "198.51.100.7"}
    )
    assert spoofed.status_code == 401
    assert len(required_from(app, "192.0.2.1")) == len(required_from(app, "192.0.2.2")) == 1
    make = Factory(app)
    interviewer = make.user(Role.INTERVIEWER)
    api = ApiClient(app.test_client(), interviewer, make.token(interviewer))
    denied = api.post("/api/jobs", json={"title": "x"}, environ_base=flooder)
    assert denied.status_code == 403
    assert security_records(app, "authz_fail")

    # From the flooding address, sign-in failures, the fail_max and the lock are written.
    before = len(security_records(app, "authn_login_fail"))
    for _ in range(3):
        assert login(client, "ada@example.com", addr="198.51.100.7").status_code == 401
    assert len(security_records(app, "authn_login_fail")) == before + 3
    assert len(security_records(app, "authn_login_fail_max")) == 1
    assert len(security_records(app, "authn_login_lock")) == 1
    assert len(flood_records(app)) == 1  # once per window

    clock.advance(61)  # the window is over: written again
    assert client.get("/api/resumes", environ_base=flooder).status_code == 401
    assert len(required_from(app, "198.51.100.7")) == 12
    assert telemetry.shutdown(app)
    code, output = verify(app, Path(app.config["TALARO_TELEMETRY_DIR"]))
    assert code == 0, output


def test_a_flooding_user_counts_across_workers_in_redis(build, redis_url, redis_prefix):
    settings = {**FLOOD, "TALARO_REDIS_URL": redis_url, "TALARO_REDIS_PREFIX": redis_prefix}
    first, second = build(**settings), build(**settings)
    make = Factory(first)
    interviewer = make.user(Role.INTERVIEWER)
    token = make.token(interviewer)
    for index in range(20):  # interviewers may not create jobs: one authz_fail each
        worker = (first, second)[index % 2]
        api = ApiClient(worker.test_client(), interviewer, token)
        assert api.post("/api/jobs", json={"title": "x"}).status_code == 403
    fired = flood_records(first) + flood_records(second)
    assert len(fired) == 1
    assert fired[0].attributes["talaro.rule.source"] == "user"
    assert fired[0].attributes["user.id"] == interviewer.id
    written = security_records(first, "authz_fail") + security_records(second, "authz_fail")
    assert len(written) == 11


def test_csrf_failures_are_security_events_with_route_and_user(app, fast_passwords):
    add_user(app, fast_passwords, "ada@example.com", Role.HIRING_MANAGER)
    browser = app.test_client()
    assert login(browser, "ada@example.com", PASSWORD).status_code == 200
    missing = browser.post("/api/auth/tokens", json={"name": "ci"})
    assert missing.status_code == 403 and missing.json["error"]["code"] == "csrf_failed"
    wrong = browser.post("/api/auth/tokens", json={"name": "ci"}, headers={"X-CSRFToken": "nope"})
    assert wrong.status_code == 403
    anonymous = app.test_client()
    csrf_from(anonymous)  # a session with a token, which the form then leaves out
    assert anonymous.post("/login", data={"email": "a@b.c", "password": "x"}).status_code == 403

    records = security_records(app, "session_csrf_fail")
    assert [r.attributes["http.route"] for r in records] == [
        "/api/auth/tokens",
        "/api/auth/tokens",
        "/login",
    ]
    signed_in, wrong_token, anonymous_form = records
    assert signed_in.attributes["user.email"] == "ada@example.com"
    assert signed_in.attributes["talaro.auth.method"] == "session"
    assert signed_in.attributes["reason"] == "The CSRF token is missing."
    assert wrong_token.attributes["reason"] == "The CSRF token is invalid."
    assert "user.id" not in anonymous_form.attributes
    assert {r.severity_text for r in records} == {"WARN"}
    assert all(r.attributes["event.outcome"] == "failure" for r in records)

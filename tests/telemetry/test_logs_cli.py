"""`flask --app talaro logs`: the original document's questions, answered from the real files."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import Result
from flask import Flask
from flask.cli import FlaskGroup
from flask.testing import FlaskClient

from talaro import create_app, telemetry
from talaro.models import Role
from talaro.telemetry import reader
from tests.conftest import base_config, telemetry_config
from tests.factories import ApiClient, Factory, RoleClients, resume_text

HTTP = "http_request"


def invoke(app: Flask, *args: str) -> Result:
    telemetry.flush(app)
    return app.test_cli_runner().invoke(args=["logs", *args])


def logs(app: Flask, *args: str) -> list[dict[str, Any]]:
    """Run the command and parse its output, one JSON object per line."""
    result = invoke(app, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return [json.loads(line) for line in result.stdout.splitlines()]


def events_of(records: list[dict[str, Any]]) -> list[str]:
    return [record["event"] for record in records]


def upload(client: ApiClient, data: bytes, filename: str) -> Any:
    return client.post(
        "/api/resumes",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


@dataclass
class Activity:
    manager: ApiClient
    recruiter: ApiClient
    interviewer: ApiClient
    upload_trace_id: str


@pytest.fixture
def activity(app: Flask, as_role: RoleClients, client: FlaskClient) -> Activity:
    """A morning at work: uploads that succeed and fail, a denial, an anonymous call, a
    missing resume and a failed login, each flushed so that the files hold several lines."""
    manager, recruiter = as_role(Role.HIRING_MANAGER), as_role(Role.RECRUITER)
    interviewer = as_role(Role.INTERVIEWER)
    text = resume_text("Amara Okafor", "amara@example.org").encode()
    assert upload(manager, text, "amara.txt").status_code == 201
    telemetry.flush(app)
    assert upload(manager, b"\x00\x01\x02 not a document", "tool.exe").status_code == 415
    other = resume_text("Jun Sato", "jun@example.org").encode()
    assert upload(recruiter, other, "jun.txt").status_code == 201
    telemetry.flush(app)
    assert upload(interviewer, text, "amara.txt").status_code == 403
    assert client.get("/api/resumes").status_code == 401
    assert recruiter.get("/api/resumes/0123456789abcdef").status_code == 404
    login = {"email": manager.user.email, "password": "not the password"}
    assert client.post("/api/auth/login", json=login).status_code == 401
    digest = hashlib.sha256(text).hexdigest()  # files are recorded by hash, never by name
    uploads = [r for r in logs(app, "--event", "resume_upload") if r["file.hash.sha256"] == digest]
    return Activity(manager, recruiter, interviewer, uploads[0]["trace_id"])


# The original document's usage examples, one command each ------------------------


def test_all_resume_uploads(app: Flask, activity: Activity) -> None:
    records = logs(app, "--event", "resume_upload")
    assert [r["file.extension"] for r in records] == ["txt", "exe", "txt"]
    assert not any("file.name" in r for r in records)
    assert {r["stream"] for r in records} == {"application"}
    assert [r["event.outcome"] for r in records] == ["success", "failure", "success"]


def test_failed_uploads(app: Flask, activity: Activity) -> None:
    records = logs(app, "--event", "resume_upload", "--outcome", "failure")
    assert [(r["file.extension"], r["http.response.status_code"]) for r in records] == [
        ("exe", 415)
    ]
    assert records[0]["reason"] == "File content is not a PDF, DOCX or plain-text document"
    assert records[0]["severity"] == "WARN"


def test_everything_one_user_did(app: Flask, activity: Activity) -> None:
    email = activity.manager.user.email
    records = logs(app, "--user", email)
    assert {"resume_upload", "resume_text_extract", HTTP, "authn_login_fail"} <= set(
        events_of(records)
    )
    failed_login = next(r for r in records if r["event"] == "authn_login_fail")
    assert "user.email" not in failed_login  # only the keyed hash of the attempted identity
    signed_in = [r for r in records if r is not failed_login]
    assert {r["user.email"] for r in signed_in} == {email}
    assert {r["user.id"] for r in signed_in} == {activity.manager.user.id}
    by_id = logs(app, "--user", activity.manager.user.id)
    assert by_id == signed_in
    assert logs(app, "--user", failed_login["user.hash"]) == [failed_login]


def test_all_permission_denials(app: Flask, activity: Activity) -> None:
    records = logs(app, "--event", "authz_fail")
    assert len(records) == 1
    denial = records[0]
    assert denial["stream"] == "security"
    assert denial["severity"] == "WARN"
    assert denial["reason"] == 'User role "INTERVIEWER" not allowed for resume upload'
    assert denial["user.id"] == activity.interviewer.user.id
    assert logs(app, "--event", "PERMISSION_DENIED") == records  # the old name


def test_unauthenticated_attempts(app: Flask, activity: Activity) -> None:
    records = logs(app, "--event", "authn_required")
    assert len(records) == 1
    assert records[0]["http.route"] == "/api/resumes"
    assert records[0]["event.outcome"] == "failure"
    assert "user.id" not in records[0]
    assert logs(app, "--event", "UNAUTHENTICATED_ACCESS") == records


def test_warnings_and_worse(app: Flask, activity: Activity) -> None:
    everything = logs(app)
    warnings = logs(app, "--min-severity", "WARN")
    assert warnings == [r for r in everything if r["severity_number"] >= 13]
    assert {"authz_fail", "authn_required", "authn_login_fail", "upload_validation"} <= set(
        events_of(warnings)
    )
    assert "INFO" not in {r["severity"] for r in warnings}
    security_warnings = logs(app, "--stream", "security", "--min-severity", "warn")
    assert security_warnings == [r for r in warnings if r["stream"] == "security"]
    # One mistaken click is a warning; nothing in this activity is an error or worse.
    assert logs(app, "--min-severity", "ERROR") == []


def test_slower_than_compares_the_request_duration(app: Flask, activity: Activity) -> None:
    requests = logs(app, "--event", HTTP)
    assert len(requests) == 7
    assert logs(app, "--slower-than", "0s") == requests
    assert logs(app, "--event", HTTP, "--slower-than", "1h") == []


def test_requests_slower_than_a_second(app: Flask, activity: Activity, tmp_path: Path) -> None:
    """A real http_request record, copied twice, once with its duration set to 1.5 s."""
    lines = (Path(app.config["TALARO_TELEMETRY_DIR"]) / "application.jsonl").read_text()
    payload = json.loads(next(line for line in lines.splitlines() if "http_request" in line))
    scope = payload["resourceLogs"][0]["scopeLogs"][0]
    scope["logRecords"] = [r for r in scope["logRecords"] if r["eventName"] == HTTP][:1]
    fast = json.dumps(payload)
    for attribute in scope["logRecords"][0]["attributes"]:
        if attribute["key"] == "http.server.request.duration":
            attribute["value"] = {"doubleValue": 1.5}
    slow = json.dumps(payload)
    folder = tmp_path / "slow"
    folder.mkdir()
    (folder / "application.jsonl").write_text(f"{fast}\n{slow}\n")
    records = logs(app, str(folder), "--event", HTTP, "--slower-than", "1s")
    assert [r["http.server.request.duration"] for r in records] == [1.5]
    assert len(logs(app, str(folder), "--slower-than", "250ms")) == 1
    assert len(logs(app, str(folder), "--slower-than", "0.001ms")) == 2


def test_api_errors(app: Flask, activity: Activity) -> None:
    records = logs(app, "--status", "4xx", "--status", "5xx")
    requests = [r for r in records if r["event"] == HTTP]
    assert sorted(r["http.response.status_code"] for r in requests) == [401, 401, 403, 404, 415]
    assert all(400 <= r["http.response.status_code"] < 600 for r in records)
    # Failed events carry the status they answered with too.
    assert set(events_of(records)) == {
        *(HTTP, "resume_upload", "resume_view", "authz_fail", "authn_required"),
        *("authn_login_fail", "upload_validation"),
    }
    assert all(isinstance(r["http.response.status_code"], int) for r in records)
    not_found = logs(app, "--event", HTTP, "--status", "404")
    assert [r["url.path"] for r in not_found] == ["/api/resumes/0123456789abcdef"]
    assert logs(app, "--status", "5xx") == []


# The other filters ---------------------------------------------------------------


def test_trace_id_gathers_one_request(app: Flask, activity: Activity) -> None:
    records = logs(app, "--trace-id", activity.upload_trace_id.upper())
    assert events_of(records) == ["resume_text_extract", "resume_upload", HTTP]
    assert {r["trace_id"] for r in records} == {activity.upload_trace_id}
    assert records[-1]["http.response.status_code"] == 201


def test_time_window(app: Flask, activity: Activity) -> None:
    everything = logs(app)
    middle = everything[len(everything) // 2]["time"]
    assert logs(app, "--since", "1h") == everything
    assert logs(app, "--until", "1h") == []
    assert logs(app, "--since", middle) == [r for r in everything if r["time"] >= middle]
    assert logs(app, "--until", middle) == [r for r in everything if r["time"] <= middle]
    assert logs(app, "--since", middle[:10]) == everything  # a date is midnight UTC
    times = [r["time"] for r in everything]
    assert times == sorted(times)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--since", "yesterday-ish", "neither an ISO 8601 time"),
        ("--until", "soon", "neither an ISO 8601 time"),
        ("--slower-than", "fast", "not a duration"),
        ("--status", "6xx", "not an HTTP status"),
        ("--min-severity", "LOUD", "not a severity"),
        ("--trace-id", "abc", "not a trace id"),
        ("--event", "resume_uplod", "did you mean resume_upload"),
        ("--stream", "audit", "audit"),
    ],
)
def test_bad_values_are_usage_errors(app: Flask, option: str, value: str, message: str) -> None:
    result = invoke(app, option, value)
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.stderr
    assert message in result.stderr
    assert result.stdout == ""


def test_since_after_until_is_a_usage_error(app: Flask) -> None:
    result = invoke(app, "--since", "1h", "--until", "2h")
    assert result.exit_code == 2
    assert "--since is later than --until" in result.stderr


def test_nothing_matching_is_not_an_error(app: Flask, activity: Activity, tmp_path: Path) -> None:
    assert logs(app, "--event", "job_create") == []
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke(app, str(empty))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert f"no telemetry log files in {empty}" in result.stderr


# Output --------------------------------------------------------------------------


def test_table_format(app: Flask, activity: Activity) -> None:
    result = invoke(app, "--format", "table", "--event", "resume_upload", "--event", HTTP)
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    columns = header.split()
    assert columns == [
        *("TIME", "STREAM", "SEVERITY", "EVENT", "OUTCOME"),
        *("USER", "ADDRESS", "STATUS", "DURATION", "ROUTE", "REASON"),
    ]
    starts = [header.index(column) for column in columns]
    assert len(rows) == 3 + 7
    for row in rows:
        for start in starts[1:]:
            assert row[start - 2 : start] == "  " and row[start] != " ", row
    cells = [
        [row[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)] for row in rows
    ]
    failed = next(c for c in cells if c[3] == "resume_upload" and c[4] == "failure")
    assert failed[5] == activity.manager.user.email
    assert failed[6] == "127.0.0.1"
    assert failed[7] == "415"
    assert failed[10] == "File content is not a PDF, DOCX or plain-text document"
    request = next(c for c in cells if c[3] == HTTP and c[7] == "404")
    assert re.fullmatch(r"\d+\.\dms", request[8])
    assert request[9] == "/api/resumes/<resume_id>"
    assert request[10] == "-"


def test_address_filter(app: Flask, activity: Activity) -> None:
    local = logs(app, "--address", "127.0.0.1", "--event", "authz_fail")
    assert events_of(local) == ["authz_fail"]
    assert logs(app, "--address", "192.0.2.1") == []


def test_fields_pick_keys_and_columns(app: Flask, activity: Activity) -> None:
    records = logs(app, "--event", "authz_fail", "--fields", "event,user,user.roles,talaro.action")
    assert records == [
        {
            "event": "authz_fail",
            "user": activity.interviewer.user.email,
            "user.roles": ["INTERVIEWER"],
            "talaro.action": "resume upload",
        }
    ]
    result = invoke(app, "--format", "table", "--fields", "event,status", "--status", "403")
    # The denial carries its status too (README: failed events carry their status).
    assert result.stdout.splitlines() == [
        "EVENT         STATUS",
        "authz_fail    403",
        "http_request  403",
    ]


def test_records_are_flat_with_resource_and_trace(app: Flask, activity: Activity) -> None:
    record = logs(app, "--event", "authz_fail")[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", record["time"])
    assert record["severity_number"] == 13  # WARN: one denial
    assert re.fullmatch(r"[0-9a-f]{16}", record["span_id"])
    assert record["service.name"] == "talaro"
    assert record["service.instance.id"]
    assert record["event.category"] == ["iam", "intrusion_detection"]
    assert record["body"] == record["reason"]


def test_table_escapes_control_characters(app: Flask, activity: Activity, tmp_path: Path) -> None:
    """A logged value can never move the cursor or clear the terminal of whoever reads it."""
    lines = (Path(app.config["TALARO_TELEMETRY_DIR"]) / "security.jsonl").read_text()
    payload = json.loads(next(line for line in lines.splitlines() if "authz_fail" in line))
    for record in payload["resourceLogs"][0]["scopeLogs"][0]["logRecords"]:
        for attribute in record["attributes"]:
            if attribute["key"] == "reason":
                attribute["value"] = {"stringValue": "evil\x1b[2J\nname"}
    copied = tmp_path / "security.jsonl"
    copied.write_text(json.dumps(payload) + "\n")
    result = invoke(app, str(copied), "--format", "table", "--event", "authz_fail")
    assert result.stdout.splitlines()[1].endswith("evil\\x1b[2J\\nname")
    assert "\x1b" not in result.stdout
    assert logs(app, str(copied), "--event", "authz_fail")[0]["reason"] == "evil\x1b[2J\nname"


def test_table_escapes_what_reorders_or_hides_text(app: Flask, client: FlaskClient) -> None:
    """Bidi controls, zero-width characters and line separators in a user agent and a path
    are shown as escapes in the table, as the JSON output shows them."""
    hidden = "a\u202eb\u202ac\u2066d\u2069e\u200bf\u200dg\ufeffh\u2028i\u2029j\u061ck"
    client.get("/api/resumes/%E2%80%AEexe.pdf", headers={"User-Agent": hidden})
    telemetry.flush(app)
    fields = "user_agent.original,url.path"
    table = invoke(app, "--format", "table", "--event", HTTP, "--fields", fields).stdout
    json_lines = invoke(app, "--event", HTTP, "--fields", fields).stdout
    for output in (table, json_lines):
        assert "\\u202eb\\u202ac\\u2066d\\u2069e\\u200bf\\u200dg\\ufeffh\\u2028i\\u2029j" in output
        assert "/api/resumes/\\u202eexe.pdf" in output
        assert all(ch.isprintable() for ch in output.replace("\n", ""))
    assert logs(app, "--event", HTTP)[-1]["user_agent.original"] == hidden


# Files: rotated, collector-written, broken ---------------------------------------


@pytest.fixture
def small_files_app(make_app: Callable[..., Flask], tmp_path: Path) -> Flask:
    """An app whose files rotate every 4 KiB."""
    return make_app(
        **telemetry_config(
            tmp_path / "small-logs", TALARO_TELEMETRY_MAX_BYTES=4096, TALARO_TELEMETRY_BACKUPS=50
        )
    )


def test_reads_rotated_files_in_order(small_files_app: Flask) -> None:
    app = small_files_app
    recruiter = RoleClients(app, Factory(app))(Role.RECRUITER)
    paths = [f"/api/resumes/{n:032x}" for n in range(8)]
    for path in paths:
        assert recruiter.get(path).status_code == 404
        telemetry.flush(app)
    folder = Path(app.config["TALARO_TELEMETRY_DIR"])
    rotated = sorted(p.name for p in folder.glob("application.jsonl.*") if p.suffix != ".lock")
    assert len(rotated) >= 3, rotated
    records = logs(app, "--event", HTTP)
    assert [r["url.path"] for r in records] == paths
    assert [r["event"] for r in logs(app, "--event", "sys_startup")] == ["sys_startup"] * 2


def test_reads_collector_rotated_files(app: Flask, activity: Activity, tmp_path: Path) -> None:
    lines = (Path(app.config["TALARO_TELEMETRY_DIR"]) / "security.jsonl").read_text().splitlines()
    assert len(lines) >= 3
    folder = tmp_path / "collector"
    folder.mkdir()
    (folder / "security-2026-11-26T10-00-00.000.jsonl").write_text(lines[0] + "\n")
    (folder / "security-2026-11-26T11-30-00.000.jsonl").write_text(lines[1] + "\n")
    (folder / "security.jsonl").write_text("\n".join(lines[2:]) + "\n")
    expected = logs(app, "--stream", "security")
    assert logs(app, str(folder)) == expected
    assert logs(app, str(folder), "--event", "authz_fail") == logs(app, "--event", "authz_fail")


def test_stream_files_order(tmp_path: Path) -> None:
    names = [
        "security.jsonl",
        "security.jsonl.1",
        "security.jsonl.2",
        "security.jsonl.lock",
        "security-2026-11-26T11-00-00.000.jsonl",
        "security-2026-11-26T10-00-00.000.jsonl",
        "application.jsonl",
        "traces.jsonl",
        "metrics.jsonl.1",
        "notes.txt",
    ]
    for name in names:
        (tmp_path / name).write_text("")
    assert [p.name for p in reader.stream_files(tmp_path)] == [
        "security-2026-11-26T10-00-00.000.jsonl",
        "security-2026-11-26T11-00-00.000.jsonl",
        "security.jsonl.2",
        "security.jsonl.1",
        "security.jsonl",
        "application.jsonl",
    ]
    assert [p.name for p in reader.stream_files(tmp_path, ["application"])] == ["application.jsonl"]


def test_broken_lines_are_reported_and_skipped(
    app: Flask, activity: Activity, tmp_path: Path
) -> None:
    lines = (Path(app.config["TALARO_TELEMETRY_DIR"]) / "security.jsonl").read_text().splitlines()
    broken = tmp_path / "security.jsonl"
    broken.write_bytes(
        "\n".join(
            [lines[0], lines[1][: len(lines[1]) // 2], lines[2], "[1, 2]", '{"resourceLogs": 5}']
        ).encode()
        + b"\n\xff\xfe garbage\n"
    )
    result = invoke(app, str(broken))
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    expected = [
        *reader.payload_records(json.loads(lines[0])),
        *reader.payload_records(json.loads(lines[2])),
    ]
    assert records == [record for _, record in expected]
    for number in (2, 4, 5, 6):
        assert f"{broken}:{number}: skipped" in result.stderr
    assert f"{broken}:1:" not in result.stderr
    assert f"{broken}:3:" not in result.stderr


def test_explicit_files_keep_the_filters(app: Flask, activity: Activity) -> None:
    folder = Path(app.config["TALARO_TELEMETRY_DIR"])
    records = logs(app, str(folder / "application.jsonl"), "--stream", "security")
    assert records == []
    twice = logs(app, str(folder / "application.jsonl"), str(folder))  # each file read once
    assert sorted(map(json.dumps, twice)) == sorted(map(json.dumps, logs(app)))


# The command line's own app ---------------------------------------------------------


def test_the_command_line_prints_what_the_app_command_prints(
    app: Flask, activity: Activity, tmp_path: Path
) -> None:
    """`flask --app talaro logs` builds only what reading needs (settings, the hash key,
    telemetry), not the web app: the same output, warnings included."""
    folder = tmp_path / "copy"
    folder.mkdir()
    for path in Path(app.config["TALARO_TELEMETRY_DIR"]).glob("*.jsonl"):
        (folder / path.name).write_bytes(path.read_bytes())
    with (folder / "application.jsonl").open("ab") as handle:
        handle.write(b'{"resourceLogs": [{"scopeLogs": 5}]}\n{"broken\n')
    env = {
        **os.environ,
        "SECRET_KEY": app.config["SECRET_KEY"],  # the same key for a hashed email
        "DATABASE_URL": "sqlite://",
        "OTEL_SDK_DISABLED": "true",
    }
    for options in (
        ["--user", activity.manager.user.email, "--format", "table"],
        ["--event", HTTP, "--status", "4xx", "--fields", "time,event,status,url.path"],
        [],
    ):
        command = [sys.executable, "-m", "flask", "--app", "talaro", "logs", str(folder), *options]
        process = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        expected = invoke(app, str(folder), *options)
        assert process.stdout == expected.stdout
        assert process.stderr == expected.stderr
        assert process.stdout.strip(), options
    assert "skipped a broken line" in process.stderr


@pytest.mark.parametrize(
    ("argv", "reads_only"),
    [
        (["--app", "talaro", "logs", "--event", "authz_fail"], True),
        (["-A", "talaro", "--debug", "-e", "users", "logs"], True),  # -e takes a value
        (["--app=talaro", "users", "create", "logs"], False),
        (["--app", "talaro", "--help", "logs"], False),  # lists every command
        (["--app", "talaro", "logz"], False),
    ],
)
def test_only_the_logs_command_skips_the_web_app(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], reads_only: bool
) -> None:
    monkeypatch.setattr(sys, "argv", ["flask", *argv])
    with click.Context(FlaskGroup()):  # as when `flask` loads the app to find a command
        app = create_app(base_config())
    assert "logs" in app.cli.commands
    assert ("users" not in app.cli.commands) == reads_only
    assert (not app.blueprints) == reads_only
    assert create_app(base_config()).blueprints  # outside Flask's command line: all of it

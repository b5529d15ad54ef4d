"""The embedded OTLP JSON Lines files: forged lines impossible, several writers, rotation."""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter
from pathlib import Path
from urllib.parse import quote

from talaro import create_app, telemetry
from talaro.models import Role
from talaro.telemetry import events
from talaro.telemetry.catalogue import AUTHZ_FAIL, JOB_CREATE
from talaro.telemetry.files import SharedJsonLinesFile
from tests.conftest import base_config, telemetry_config
from tests.telemetry import otlp_json

FORGED = 'x"\r\n{"resourceLogs":[{"forged":true}]}\n\u2028"}'


def all_lines(folder: Path) -> list[dict]:
    """Every line of every file, rotated ones too; json.loads fails the test on a broken one."""
    parsed = []
    for path in sorted(folder.glob("*.jsonl*")):
        if path.suffix == ".lock":
            continue
        parsed.extend(otlp_json.lines(path))
    return parsed


BOUNDARY = "talaro-test-boundary"


def multipart_with_filename(filename: str, content: bytes) -> bytes:
    """A multipart body whose file name keeps its quotes and line breaks (RFC 5987
    `filename*`), which the test client's own encoder would mangle."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f"filename*=UTF-8''{quote(filename, safe='')}\r\n"
        "Content-Type: text/plain\r\n\r\n"
    )
    return head.encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode()


def test_crlf_quotes_and_fake_json_never_forge_or_break_a_line(app, as_role, telemetry_dir):
    recruiter = as_role(Role.RECRUITER)
    client = app.test_client()
    sent = 0
    registered = client.post(
        "/api/auth/register",
        json={"email": "odd@example.com", "password": "long enough pw", "name": FORGED},
        environ_overrides={"HTTP_USER_AGENT": FORGED},
    )
    sent += 1
    assert registered.status_code == 201
    upload = recruiter.post(
        "/api/resumes",
        data=multipart_with_filename(f"cv{FORGED}.txt", b"Odd Name\nodd@example.org\n"),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        environ_overrides={"HTTP_USER_AGENT": FORGED},
    )
    sent += 1
    assert upload.status_code == 201
    telemetry.shutdown(app)

    for line in all_lines(telemetry_dir):
        assert "forged" not in json.dumps(list(line))  # only OTLP top-level keys
    records = otlp_json.log_records(telemetry_dir / "application.jsonl")
    requests = [r for r in records if r.event_name == "http_request"]
    assert len(requests) == sent
    assert {r.attributes["user_agent.original"] for r in requests} == {FORGED}
    (uploaded,) = [r for r in records if r.event_name == "resume_upload"]
    assert "file.name" not in uploaded.attributes  # recorded by extension, size and hash
    assert uploaded.attributes["file.size"] > 0
    security = otlp_json.log_records(telemetry_dir / "security.jsonl")
    assert Counter(r.event_name for r in security)["user_created"] == 1


def write_records(folder: str, worker: int, count: int) -> None:
    """One process: its own app and providers, `count` records into the shared files."""
    # A spawned child process has no pytest fixtures, so it calls create_app itself.
    app = create_app(
        base_config(
            SQLALCHEMY_DATABASE_URI="sqlite://",
            **telemetry_config(
                folder,
                TALARO_TELEMETRY_MAX_BYTES=64 * 1024,
                TALARO_TELEMETRY_BACKUPS=1000,
                TALARO_TELEMETRY_QUEUE_SIZE=count + 10,
            ),
        )
    )
    with app.app_context():
        for index in range(count):
            events.emit(
                AUTHZ_FAIL,
                outcome="failure",
                reason=f"worker {worker} #{index}",
                attributes={
                    "talaro.action": "bench",
                    "talaro.worker": worker,
                    "talaro.index": index,
                },
            )
            events.emit(JOB_CREATE, attributes={"talaro.worker": worker, "talaro.index": index})
    assert telemetry.shutdown(app)


def test_four_processes_share_the_files_without_losing_or_breaking_a_line(tmp_path):
    folder = tmp_path / "shared"
    count = 600
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=write_records, args=(str(folder), n, count)) for n in range(4)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
        assert process.exitcode == 0

    # Rotated while shared: the security stream to time-named files no count deletes.
    assert len(list(folder.glob("security-*.jsonl"))) > 1
    assert len(list(folder.glob("application.jsonl.*"))) > 1
    for stream, event in (("security", "authz_fail"), ("application", "job_create")):
        records = []
        for path in [*folder.glob(f"{stream}.jsonl*"), *folder.glob(f"{stream}-*.jsonl")]:
            if path.suffix != ".lock":
                records.extend(otlp_json.log_records(path))
        seen = Counter(
            (r.attributes["talaro.worker"], r.attributes["talaro.index"])
            for r in records
            if r.event_name == event
        )
        assert len(seen) == 4 * count, f"{stream}: {4 * count - len(seen)} records lost"
        assert set(seen.values()) == {1}, f"{stream}: duplicated records"
        instances = {r.resource["service.instance.id"] for r in records}
        assert len(instances) == 4


def test_rotation_keeps_the_configured_number_of_backups(tmp_path):
    path = tmp_path / "x.jsonl"
    stream = SharedJsonLinesFile(path, max_bytes=120, backups=2)  # two lines a file
    for index in range(10):
        stream.write(json.dumps({"n": index, "pad": "x" * 40}) + "\n")
    stream.close()
    files = sorted(p.name for p in tmp_path.glob("x.jsonl*") if p.suffix != ".lock")
    assert files == ["x.jsonl", "x.jsonl.1", "x.jsonl.2"]
    newest = [json.loads(line)["n"] for line in path.read_text().splitlines()]
    assert newest == [8, 9]
    assert [json.loads(x)["n"] for x in (tmp_path / "x.jsonl.2").read_text().splitlines()] == [
        4,
        5,
    ]


def test_kept_rotation_renames_by_time_and_never_deletes(tmp_path):
    path = tmp_path / "security.jsonl"
    stream = SharedJsonLinesFile(path, max_bytes=120, backups=1, keep_rotated=True)
    for index in range(10):
        stream.write(json.dumps({"n": index, "pad": "x" * 40}) + "\n")
    stream.close()
    rotated = sorted(p.name for p in tmp_path.glob("security-*.jsonl"))
    assert len(rotated) == 4, "backups counts for nothing: every rotated file is kept"
    assert rotated == sorted(set(rotated))  # distinct, and in rotation order by name
    lines = [
        line for name in [*rotated, "security.jsonl"] for line in otlp_json.lines(tmp_path / name)
    ]
    assert [line["n"] for line in lines] == list(range(10))

"""A selective query skips lines and records before decoding them (reader.Search): it
must find exactly what decoding everything and filtering would find."""

from __future__ import annotations

import itertools
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from talaro.telemetry import reader
from talaro.telemetry.reader import Filter

START = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
EVENTS = ("resume_upload", "http_request", "authz_fail", "resume_view")
USERS = ("ana@example.com", "Bob@Example.com", "c3f1")


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value if value == value else "NaN"}
    if isinstance(value, list):
        return {"arrayValue": {"values": [_value(v) for v in value]}}
    return {"stringValue": value}


def _record(n: int) -> dict[str, Any]:
    event = EVENTS[n % len(EVENTS)]
    moment = START + timedelta(seconds=n * 7)
    ns = int(moment.timestamp()) * 1_000_000_000 + n * 1_000 + (n % 3)
    attributes = {
        "talaro.stream": "security" if event == "authz_fail" else "application",
        "event.action": event,
        "event.outcome": "failure" if n % 5 == 0 else "success",
        "client.address": f"10.0.0.{n % 4}",
        "http.response.status_code": 200 + (n % 3) * 100,
        "http.server.request.duration": n / 1000,
        "talaro.flag": n % 2 == 0,
        "user.roles": ["RECRUITER", "ADMIN"][: n % 3],
    }
    if n % 6:
        attributes["user.email" if n % 2 else "user.id"] = USERS[n % len(USERS)]
    if n % 13 == 0:  # what only the message classes decode: NaN, bytes
        attributes["odd"] = float("nan")
    record: dict[str, Any] = {
        "severityNumber": 9 + (n % 3) * 4,
        "severityText": "INFO",
        "body": {"stringValue": event.replace("_", " ")},
        "attributes": [{"key": k, "value": _value(v)} for k, v in attributes.items()]
        + ([{"key": "blob", "value": {"bytesValue": "AAE="}}] if n % 17 == 0 else []),
        "traceId": f"{n:032x}".upper() if n % 7 == 0 else f"{n:032x}",
        "spanId": f"{n:016x}",
    }
    if n % 9 == 0:  # the event only in event.action
        pass
    else:
        record["eventName"] = event
    if n % 11 == 0:  # only an observed time
        record["observedTimeUnixNano"] = str(ns)
    else:
        record["timeUnixNano"] = ns if n % 2 else str(ns)
    return record


def _line(records: list[dict[str, Any]]) -> str:
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "talaro"}}]}
    payload = {
        "resourceLogs": [
            {
                "resource": resource,
                "scopeLogs": [{"scope": {"name": "talaro"}, "logRecords": records}],
            }
        ]
    }
    return json.dumps(payload) + "\n"


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    numbers = list(range(400))
    old = tmp_path / "application.jsonl.1"
    live = tmp_path / "application.jsonl"
    old.write_text(
        "".join(_line([_record(n) for n in numbers[i : i + 5]]) for i in range(0, 200, 5))
    )
    live.write_text(
        "".join(_line([_record(n) for n in numbers[i : i + 3]]) for i in range(200, 400, 3))
    )
    stamp = (START + timedelta(seconds=199 * 7)).timestamp()
    os.utime(old, (stamp, stamp))
    return reader.stream_files(tmp_path)


QUERIES = [
    Filter(events=("resume_upload",)),
    Filter(events=("authz_fail", "resume_view"), outcome="failure"),
    Filter(users=("ana@example.com",)),
    Filter(users=("bob@example.com", "C3F1")),
    Filter(addresses=("10.0.0.2",)),
    Filter(trace_id=f"{14:032x}"),
    Filter(trace_id=f"{15:032x}"),
    Filter(since=START + timedelta(seconds=2000)),
    Filter(since=START + timedelta(seconds=700), until=START + timedelta(seconds=1400)),
    Filter(until=START + timedelta(seconds=77, microseconds=11)),
    Filter(events=("http_request",), since=START + timedelta(seconds=1500), min_severity=13),
    Filter(events=("resume_upload",), users=("C3F1",), statuses=((400, 499),)),
]


@pytest.mark.parametrize("where", QUERIES, ids=[str(n) for n in range(len(QUERIES))])
def test_a_selective_query_finds_what_filtering_everything_finds(
    files: list[Path], where: Filter
) -> None:
    everything = list(reader.read_records(files))
    assert len(everything) == 400
    expected = [record for record in everything if where.matches(record)]
    assert expected, "each query matches something"
    assert list(reader.read_records(files, where)) == expected


def test_a_file_last_written_long_before_since_is_not_opened(files: list[Path]) -> None:
    search = reader.Search.of(Filter(since=START + timedelta(hours=2)))
    assert [path.name for path in files if search.may_hold(path)] == ["application.jsonl"]


def test_broken_lines_that_cannot_match_are_skipped_unread(tmp_path: Path) -> None:
    path = tmp_path / "application.jsonl"
    # Line 1 cannot match (the name is cut short): not read, so not reported either.
    path.write_text('{"resume_upl\n' + _line([_record(1)]) + '{"broken": "resume_upload"\n')
    warnings: list[str] = []
    found = list(reader.read_records([path], Filter(events=("resume_upload",)), warnings.append))
    assert [record["event"] for record in found] == []
    assert len(warnings) == 1 and ":3: skipped a broken line" in warnings[0]


def test_records_decoded_straight_from_json_are_those_of_the_otlp_json_classes(
    files: list[Path],
) -> None:
    from opentelemetry.proto_json.logs.v1.logs import LogRecord

    checked = 0
    for path in files:
        for _, payload in reader.read_payloads(path):
            resource_logs = payload["resourceLogs"][0]
            resource = reader._resource_attributes(resource_logs["resource"])
            for raw in resource_logs["scopeLogs"][0]["logRecords"]:
                record = LogRecord.from_dict(raw)
                expected = (reader.record_time_ns(record), reader.flatten_record(record, resource))
                try:
                    fast = reader._flat_record(raw, resource)
                except (TypeError, ValueError):  # NaN, bytes: left to the message classes
                    assert "NaN" in json.dumps(raw) or "bytesValue" in json.dumps(raw)
                    continue
                assert json.dumps(fast, sort_keys=True) == json.dumps(expected, sort_keys=True)
                checked += 1
            try:
                fast_payload = reader._fast_payload(payload)
            except (TypeError, ValueError):
                continue
            assert json.dumps(fast_payload) == json.dumps(reader.payload_records(payload))
    assert checked > 300


# Newest first (the security events page): `read_records` reversed, read backward --------


@pytest.mark.parametrize("block", [64, 1000, 1 << 20], ids=["64B", "1000B", "1MB"])
@pytest.mark.parametrize(
    "where", [Filter(), *QUERIES], ids=[str(n) for n in range(-1, len(QUERIES))]
)
def test_newest_first_is_read_records_reversed(
    files: list[Path], where: Filter, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Blocks shorter than a line (64 B): every line is put together from several reads.
    monkeypatch.setattr(reader, "BACKWARD_BLOCK", block)
    forward = list(reader.read_records(files, where))
    assert list(reader.read_records_newest_first(files, where)) == forward[::-1]


def test_newest_first_starts_with_the_newest_file(files: list[Path]) -> None:
    opened: list[str] = []
    search_backward = reader.Search.file_records_backward

    def spy(self: reader.Search, path: Path, warn: Any = None) -> Any:
        opened.append(path.name)
        return search_backward(self, path, warn or reader.warn_to_stderr)

    reader.Search.file_records_backward = spy  # type: ignore[method-assign]
    try:
        newest = list(itertools.islice(reader.read_records_newest_first(files), 3))
    finally:
        reader.Search.file_records_backward = search_backward  # type: ignore[method-assign]
    assert opened == ["application.jsonl"]  # the rotated file's last write is older
    assert newest == list(reader.read_records(files))[::-1][:3]


LINES = [
    b'{"a": 1}\n',
    b"\n",
    b"   \n",
    b'{"crlf": true}\r\n',
    b'{"forged": "a\rb"}\r{"second": 2}\n',  # a lone CR does not end a line
    b'{"long": "' + b"x" * 5000 + b'"}\n',
    b'{"a": 2}\n',
    b'{"partial": "no newline',
]


@pytest.mark.parametrize("block", [1, 7, 64, 4096, 1 << 20])
@pytest.mark.parametrize("ending", ["partial", "newline", "empty"])
def test_backward_lines_are_the_forward_lines_reversed(
    tmp_path: Path, block: int, ending: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "BACKWARD_BLOCK", block)
    content = b"".join(LINES)
    if ending == "newline":
        content += b"\n"
    elif ending == "empty":
        content = content[: content.rindex(b"\n") + 1]
    path = tmp_path / "security.jsonl"
    path.write_bytes(content)
    forward, offset = [], 0
    for line in content.splitlines(keepends=True) if b"\r" not in content else _lf_lines(content):
        forward.append((offset, line[:-1] if line.endswith(b"\n") else line))
        offset += len(line)
    assert list(reader._backward_lines(path, reader.warn_to_stderr)) == forward[::-1]


def _lf_lines(content: bytes) -> list[bytes]:
    pieces = content.split(b"\n")
    lines = [piece + b"\n" for piece in pieces[:-1]]
    return lines + ([pieces[-1]] if pieces[-1] else [])


def test_newest_first_reports_broken_lines_as_reading_forward_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "BACKWARD_BLOCK", 100)
    path = tmp_path / "application.jsonl"
    path.write_text(
        _line([_record(1)])
        + '{"broken": \n'
        + _line([_record(2), _record(3)])
        + "[1, 2]\n"
        + '{"resourceLogs": 5}\n'
        + _line([_record(4)])
        + '{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": "x'
    )
    for where in (Filter(), Filter(events=("http_request", "authz_fail", "resume_view"))):
        forward: list[str] = []
        backward: list[str] = []
        found = list(reader.read_records([path], where, forward.append))
        assert (
            list(reader.read_records_newest_first([path], where, backward.append)) == (found[::-1])
        )
        assert sorted(backward) == sorted(forward)
        assert len(forward) == (4 if where == Filter() else 0)  # the others cannot match


def test_the_typed_fast_path_decodes_as_the_message_classes(files: list[Path]) -> None:
    """Every line through msgspec's structs, against the OTLP JSON classes' decoding."""
    checked = 0
    for path in files:
        expected = list(reader.file_records(path))  # the message classes, every record
        everything = reader.Search.of(Filter())
        assert json.dumps(list(everything.file_records(path))) == json.dumps(expected)
        for _, payload in reader.read_payloads(path):
            resource = reader._resource_attributes(payload["resourceLogs"][0]["resource"])
            for raw in payload["resourceLogs"][0]["scopeLogs"][0]["logRecords"]:
                try:
                    fast = reader._struct_record(reader._RECORD.decode(json.dumps(raw)), resource)
                except (TypeError, ValueError):  # NaN, bytes: left to the message classes
                    assert "NaN" in json.dumps(raw) or "bytesValue" in json.dumps(raw)
                    continue
                assert json.dumps(fast) == json.dumps(reader._flat_record(raw, resource))
                checked += 1
    assert checked > 300


@pytest.mark.parametrize(
    "record",
    [
        {"a": 1, "b": "plain", "c": [1.5, None, True], "d": {"e": 1e-05}},
        {"agent": "evil\x1b[2J\nname", "del": "\x7f"},
        {"hidden": "a\u202eb\u2066c\u200bd\u2028e\x85f", "name": "Zoë"},
        {"nan": float("nan"), "inf": [float("-inf")], "none": None},
        {"big": 2**70, "nested": {"nan": float("nan")}},
    ],
)
def test_json_lines_are_json_dumps_in_printable_ascii(record: dict[str, Any]) -> None:
    from talaro.telemetry.cli import json_line

    text = json_line(record)
    assert all(" " <= ch <= "~" for ch in text)
    assert repr(json.loads(text)) == repr(json.loads(json.dumps(record, default=str)))

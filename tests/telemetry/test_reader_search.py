"""A selective query skips lines and records before decoding them (reader.Search): it
must find exactly what decoding everything and filtering would find."""

from __future__ import annotations

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

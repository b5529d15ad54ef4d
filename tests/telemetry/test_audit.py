"""The tamper-evident security stream: chained records written by a real app, then
tampered with the way an intruder would, and `flask --app talaro audit verify`."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from google.protobuf.json_format import MessageToDict

from talaro import telemetry
from talaro.telemetry import events
from talaro.telemetry.audit import HASH, PREV, SEQ
from talaro.telemetry.audit_verify import read_entries
from talaro.telemetry.catalogue import AUTHZ_FAIL
from tests.conftest import telemetry_config
from tests.telemetry.otlp_receiver import (
    OtlpHttpReceiver,
    otlp_receiver_fixture,  # noqa: F401 - the `otlp_receiver` fixture
)

REQUESTS = 6
Payload = dict[str, Any]


# Reading and rewriting the files as an intruder would ------------------------------


def load(path: Path) -> list[Payload]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def save(path: Path, payloads: list[Payload]) -> None:
    path.write_text("".join(json.dumps(payload) + "\n" for payload in payloads))


def log_records(payload: Payload) -> list[Payload]:
    return [
        record
        for resource_logs in payload["resourceLogs"]
        for scope_logs in resource_logs["scopeLogs"]
        for record in scope_logs["logRecords"]
    ]


def attribute(record: Payload, key: str) -> Any:
    for pair in record["attributes"]:
        if pair["key"] == key:
            value = pair["value"]
            return int(value["intValue"]) if "intValue" in value else value.get("stringValue")
    return None


def set_attribute(record: Payload, key: str, value: Any) -> None:
    typed = {"intValue": str(value)} if isinstance(value, int) else {"stringValue": value}
    for pair in record["attributes"]:
        if pair["key"] == key:
            pair["value"] = typed
            return
    record["attributes"].append({"key": key, "value": typed})


def seq(record: Payload) -> int:
    return attribute(record, SEQ)


def line_of(payloads: list[Payload], wanted: int) -> int:
    """The 1-based line holding the record with seq `wanted`."""
    for number, payload in enumerate(payloads, start=1):
        if any(seq(record) == wanted for record in log_records(payload)):
            return number
    raise AssertionError(f"no record with seq {wanted}")


def verify(app: Flask, *args: str) -> tuple[int, list[str]]:
    """Run `flask --app talaro audit verify ARGS`: (exit code, output lines)."""
    result = app.test_cli_runner().invoke(args=["audit", "verify", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output.splitlines()


def findings(lines: list[str]) -> list[str]:
    return [line.strip() for line in lines if line.startswith("  ")]


@pytest.fixture
def trail(app: Flask, telemetry_dir: Path) -> Path:
    """A closed security trail written by a real app: sys_startup, one `authn_required`
    per refused request, each flushed onto its own line, then sys_shutdown."""
    client = app.test_client()
    telemetry.flush(app)
    for index in range(REQUESTS):
        assert (
            client.get("/api/resumes", headers={"User-Agent": f"probe-{index}"}).status_code == 401
        )
        telemetry.flush(app)
    telemetry.shutdown(app)
    path = telemetry_dir / "security.jsonl"
    assert len(load(path)) >= REQUESTS + 2
    return path


def record_with_event(payloads: list[Payload], event: str, skip: int = 0) -> Payload:
    matching = [r for p in payloads for r in log_records(p) if r.get("eventName") == event]
    return matching[skip]


# An untouched trail ----------------------------------------------------------------------


def test_untouched_trail_verifies_and_every_security_record_is_chained(
    app: Flask, trail: Path
) -> None:
    code, lines = verify(app, str(trail.parent))
    assert code == 0, lines
    records = [r for p in load(trail) for r in log_records(p)]
    assert [seq(r) for r in records] == list(range(len(records)))
    assert records[0]["eventName"] == "sys_startup" and records[-1]["eventName"] == "sys_shutdown"
    assert attribute(records[0], PREV) == ""
    for before, after in zip(records, records[1:], strict=False):
        assert attribute(after, PREV) == attribute(before, HASH)
        assert len(attribute(after, HASH)) == 64
    instance = load(trail)[0]["resourceLogs"][0]["resource"]["attributes"]
    (instance_id,) = [
        a["value"]["stringValue"] for a in instance if a["key"] == "service.instance.id"
    ]
    assert lines[0].startswith(f"chain {instance_id} (pid {os.getpid()}): ")
    assert lines[0].endswith(f"seq 0-{len(records) - 1}, {len(records)} records: whole")
    assert lines[-1] == "result: 1 chains: 1 whole, 0 broken, 0 incomplete; 0 unreadable lines"
    application = [r for p in load(trail.parent / "application.jsonl") for r in log_records(p)]
    assert all(seq(r) is None for r in application), "only the security stream is chained"


def test_logs_command_shows_the_chain_attributes(app: Flask, trail: Path) -> None:
    result = app.test_cli_runner().invoke(
        args=[
            "logs",
            str(trail.parent),
            "--stream",
            "security",
            "--fields",
            "event,talaro.audit.seq",
        ]
    )
    assert result.exit_code == 0, result.output
    shown = [json.loads(line) for line in result.output.splitlines()]
    assert [row["talaro.audit.seq"] for row in shown] == list(range(len(shown)))
    assert shown[0]["event"] == "sys_startup"


# Tampering --------------------------------------------------------------------------------


def test_a_changed_byte_is_reported_with_its_seq_event_and_line(app: Flask, trail: Path) -> None:
    payloads = load(trail)
    target = record_with_event(payloads, "authn_required", skip=2)
    text = trail.read_text()
    agent = "probe-2"
    assert text.count(agent) == 1
    trail.write_text(text.replace(agent, "probe-7"))  # one byte
    code, lines = verify(app, str(trail))
    assert code == 1
    assert findings(lines) == [
        f"changed: seq {seq(target)} authn_required at {trail}:{line_of(payloads, seq(target))}: "
        "does not match its hash (its content was altered)"
    ]
    assert "1 broken" in lines[-1]


def test_a_changed_hash_is_reported_as_the_record_it_belongs_to(app: Flask, trail: Path) -> None:
    payloads = load(trail)
    target = record_with_event(payloads, "authn_required", skip=1)
    stated = attribute(target, HASH)
    set_attribute(target, HASH, stated[:-1] + ("0" if stated[-1] != "0" else "1"))
    save(trail, payloads)
    code, lines = verify(app, str(trail))
    assert code == 1
    assert findings(lines) == [
        f"changed: seq {seq(target)} authn_required at {trail}:{line_of(payloads, seq(target))}: "
        "does not match its hash (its hash was altered)"
    ]


def test_a_removed_record_is_reported_as_a_gap(app: Flask, trail: Path) -> None:
    payloads = load(trail)
    gone = seq(record_with_event(payloads, "authn_required", skip=3))
    line = line_of(payloads, gone)
    del payloads[line - 1]  # its line held only it
    save(trail, payloads)
    code, lines = verify(app, str(trail))
    assert code == 1
    (finding,) = findings(lines)
    assert finding.startswith(f"removed: seq {gone}, missing between seq {gone - 1} authn_required")
    assert f"and seq {gone + 1} authn_required ({trail}:{line})" in finding


def test_a_swapped_pair_is_reported_as_reordered(app: Flask, trail: Path) -> None:
    payloads = load(trail)
    first = seq(record_with_event(payloads, "authn_required", skip=1))
    at = line_of(payloads, first) - 1
    payloads[at], payloads[at + 1] = payloads[at + 1], payloads[at]
    save(trail, payloads)
    code, lines = verify(app, str(trail))
    assert code == 1
    assert findings(lines) == [
        f"reordered: seq {first} authn_required at {trail}:{at + 2}: "
        f"appears after seq {first + 1} authn_required ({trail}:{at + 1})"
    ]


def test_json_report_and_a_replayed_copy(app: Flask, trail: Path) -> None:
    payloads = load(trail)
    copied = seq(record_with_event(payloads, "authn_required", skip=0))
    payloads.append(payloads[line_of(payloads, copied) - 1])  # replayed at the end
    save(trail, payloads)
    result = app.test_cli_runner().invoke(args=["audit", "verify", "--json", str(trail)])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["exit_code"] == 1
    (chain,) = report["chains"]
    assert chain["status"] == "broken"
    assert [(f["kind"], f["seq"], f["location"]) for f in chain["findings"]] == [
        ("inserted", copied, f"{trail}:{len(payloads)}")
    ]
    assert chain["findings"][0]["detail"].startswith("a copy of the record at ")


def test_records_without_chain_fields_are_unchained(app: Flask, trail: Path) -> None:
    payloads = load(trail)
    for record in (r for p in payloads for r in log_records(p)):
        record["attributes"] = [
            a for a in record["attributes"] if not a["key"].startswith("talaro.audit.")
        ]
    save(trail, payloads)
    code, lines = verify(app, str(trail))
    assert code == 1
    assert findings(lines)[0].startswith("unchained: seq ? sys_startup at")


def test_an_inserted_forged_record_is_reported(app: Flask, trail: Path) -> None:
    payloads = load(trail)
    genuine = record_with_event(payloads, "authn_required", skip=2)
    at = line_of(payloads, seq(genuine))
    forged = json.loads(json.dumps(payloads[at - 1]))
    record = log_records(forged)[0]
    record["body"] = {"stringValue": "Sign-in required (nothing to see)"}
    set_attribute(record, HASH, hashlib.sha256(b"plausible").hexdigest())
    payloads.insert(at, forged)  # right after the genuine one, same seq and prev
    save(trail, payloads)
    code, lines = verify(app, str(trail))
    assert code == 1
    assert findings(lines) == [
        f"inserted: seq {seq(genuine)} authn_required at {trail}:{at + 1}: "
        f"a second record with seq {seq(genuine)}; it does not match its hash"
    ]


def test_a_record_rewritten_with_a_recomputed_hash_breaks_the_link(app: Flask, trail: Path) -> None:
    """Without a key anyone can recompute one record's hash; the next record no longer
    chains from it."""
    payloads = load(trail)
    target = record_with_event(payloads, "authn_required", skip=1)
    target["body"] = {"stringValue": "nothing happened"}
    save(trail, payloads)
    (entry,) = [e for e in read_entries([trail], None, []) if e.seq == seq(target)]
    set_attribute(target, HASH, entry.recomputed)
    save(trail, payloads)
    code, lines = verify(app, str(trail))
    assert code == 1
    next_line = line_of(payloads, seq(target) + 1)
    assert findings(lines) == [
        f"replaced: seq {seq(target) + 1} authn_required at {trail}:{next_line}: does not "
        f"chain from seq {seq(target)} ({trail}:{line_of(payloads, seq(target))}): one of the "
        "two was rewritten with a recomputed hash"
    ]


def test_a_truncated_tail_leaves_the_chain_open(app: Flask, trail: Path) -> None:
    payloads = load(trail)
    last = seq(log_records(payloads[-3])[-1])
    save(trail, payloads[:-2])  # sys_shutdown and the record before it are gone
    code, lines = verify(app, "--no-checkpoints", str(trail))
    assert code == 3
    assert findings(lines) == [
        f"not closed: seq {last} authn_required at {trail}:{len(payloads) - 2}: the last "
        "record; no sys_shutdown (the process is running or was killed, or the tail was cut)"
    ]
    assert "1 incomplete" in lines[-1]
    assert verify(app, "--no-checkpoints", "--allow-open", str(trail))[0] == 0
    # The database saw sys_shutdown: held to the checkpoints, the cut shows.
    code, lines = verify(app, "--allow-open", str(trail))
    assert code == 1
    (finding,) = findings(lines)
    assert finding.startswith(
        f"cut: seq {last} authn_required at {trail}:{len(payloads) - 2}: the files end here, "
        f"but a checkpoint says the chain reached seq {last + 2}, closed by sys_shutdown at "
    )

    cut = trail.read_bytes()
    trail.write_bytes(cut[: len(cut) - 40])  # and a half-written last line
    code, lines = verify(app, "--no-checkpoints", "--allow-open", str(trail))
    assert code == 1
    assert any(line.startswith(f"unreadable: {trail}:{len(payloads) - 2}:") for line in lines)


def test_a_lost_head_is_reported_unless_rotation_is_allowed(app: Flask, trail: Path) -> None:
    payloads = load(trail)
    save(trail, payloads[2:])
    code, lines = verify(app, "--no-checkpoints", str(trail))
    assert code == 3
    assert findings(lines)[0].startswith(f"not opened: seq {seq(log_records(payloads[2])[0])} ")
    assert verify(app, "--no-checkpoints", "--allow-rotated", str(trail))[0] == 0
    # The database has the start's checkpoint, and no retention removed anything.
    code, lines = verify(app, "--allow-rotated", str(trail))
    assert code == 1
    assert findings(lines)[0].startswith(
        f"rotated away: seq {seq(log_records(payloads[2])[0])} authn_required at {trail}:1: "
        "the chain starts here, but a checkpoint has seq 0 at "
    )


# Rotation, collector files, keys -------------------------------------------------------


def emit_denials(app: Flask, count: int, threads: int = 1) -> None:
    """`count` authz_fail records per thread, emitted from `threads` threads at once."""

    def work(worker: int) -> None:
        with app.app_context():
            for index in range(count):
                events.emit(
                    AUTHZ_FAIL,
                    outcome=events.FAILURE,
                    reason="not yours",
                    attributes={
                        "talaro.action": "resume.view",
                        "resume.id": worker * count + index,
                    },
                )

    pool = [threading.Thread(target=work, args=(worker,)) for worker in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()


def test_rotated_files_verify_across_rotation_in_any_given_order(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    folder = tmp_path / "rotating"
    app = make_app(
        **telemetry_config(folder, TALARO_TELEMETRY_MAX_BYTES=8 * 1024, TALARO_TELEMETRY_BACKUPS=20)
    )
    for _ in range(8):
        emit_denials(app, 5)
        telemetry.flush(app)
    telemetry.shutdown(app)
    files = security_files(folder)
    assert len(files) >= 3, "the trail spans several rotated files"
    assert files[-1].name == "security.jsonl" and files[0].name.startswith("security-20")
    code, lines = verify(app, str(folder))
    assert code == 0, lines
    code, lines = verify(app, *(str(p) for p in reversed(files)))  # newest first
    assert code == 0, lines

    files[0].unlink()  # the oldest, by hand: not by retention
    code, lines = verify(app, "--no-checkpoints", str(folder))
    assert code == 3 and "not opened" in "\n".join(lines)
    assert verify(app, "--no-checkpoints", "--allow-rotated", str(folder))[0] == 0
    code, lines = verify(app, "--allow-rotated", str(folder))
    assert code == 1
    assert [f.split(":")[0] for f in findings(lines)] == ["rotated away"], lines


def security_files(folder: Path) -> list[Path]:
    """The security stream's files, oldest first: rotated ones (named by the time they were
    rotated, never deleted by count), then the live one."""
    return [p for p in sorted(folder.glob("security*.jsonl")) if p.suffix == ".jsonl"]


def test_threads_of_one_process_write_one_ordered_chain(app: Flask, telemetry_dir: Path) -> None:
    emit_denials(app, 40, threads=8)
    telemetry.shutdown(app)
    records = [r for p in load(telemetry_dir / "security.jsonl") for r in log_records(p)]
    assert sum(r["eventName"] == "authz_fail" for r in records) == 8 * 40
    assert [seq(r) for r in records] == list(range(len(records))), "files hold sequence order"
    assert verify(app, str(telemetry_dir))[0] == 0


def collector_lines(sources: list[list[Payload]], batch: int, seed: int) -> list[Payload]:
    """Re-group the records of several processes the way a collector's file exporter
    may: batches of `batch` records mixing processes, one resourceLogs per process per
    line, attributes in another order; each process's own records keep their order."""
    queues = []
    for payloads in sources:
        queue = []
        for payload in payloads:
            for resource_logs in payload["resourceLogs"]:
                for scope_logs in resource_logs["scopeLogs"]:
                    for record in scope_logs["logRecords"]:
                        queue.append((resource_logs["resource"], scope_logs["scope"], record))
        queues.append(queue)
    rng = random.Random(seed)
    merged = []
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        merged.append(queue.pop(0))
    lines = []
    for start in range(0, len(merged), batch):
        grouped: dict[str, Payload] = {}
        for resource, scope, record in merged[start : start + batch]:
            key = json.dumps(resource, sort_keys=True)
            entry = grouped.setdefault(
                key, {"resource": resource, "scopeLogs": [{"scope": scope, "logRecords": []}]}
            )
            record = dict(record, attributes=list(reversed(record["attributes"])))
            entry["scopeLogs"][0]["logRecords"].append(record)
        lines.append({"resourceLogs": list(grouped.values())})
    return lines


def test_collector_style_files_mixing_processes_verify(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    sources = []
    for name in ("one", "two", "three"):
        app = make_app(**telemetry_config(tmp_path / name))
        emit_denials(app, 7)
        telemetry.shutdown(app)
        sources.append(load(tmp_path / name / "security.jsonl"))
    folder = tmp_path / "collector"
    folder.mkdir()
    lines = collector_lines(sources, batch=5, seed=7)
    save(folder / "security-2026-11-26T10-00-00.000.jsonl", lines[: len(lines) // 2])
    save(folder / "security.jsonl", lines[len(lines) // 2 :])
    assert any(len(line["resourceLogs"]) > 1 for line in lines), "lines mix processes"
    code, report = verify(app, str(folder))
    assert code == 0, report
    assert report[-1] == "result: 3 chains: 3 whole, 0 broken, 0 incomplete; 0 unreadable lines"

    # One record removed from the middle of a mixed line: only its chain is broken.
    mixed = next(line for line in lines[1:-1] if len(line["resourceLogs"]) > 1)
    victim = mixed["resourceLogs"][0]["scopeLogs"][0]["logRecords"].pop()
    save(folder / "security.jsonl", lines[len(lines) // 2 :])
    save(folder / "security-2026-11-26T10-00-00.000.jsonl", lines[: len(lines) // 2])
    code, report = verify(app, str(folder))
    assert code == 1
    assert [f.split(",")[0] for f in findings(report)] == [f"removed: seq {seq(victim)}"]
    assert report[-1].startswith("result: 3 chains: 2 whole, 1 broken")


def test_hmac_chain_needs_its_key(make_app: Callable[..., Flask], tmp_path: Path) -> None:
    folder = tmp_path / "keyed"
    key = "audit-key-" + os.urandom(8).hex()
    app = make_app(**telemetry_config(folder, TALARO_AUDIT_KEY=key))
    emit_denials(app, 4)
    telemetry.flush(app)
    emit_denials(app, 4)
    telemetry.shutdown(app)
    assert verify(app, str(folder))[0] == 0
    key_file = tmp_path / "key"
    key_file.write_text(key + "\n")
    unkeyed = make_app(**telemetry_config(tmp_path / "other"))
    assert verify(unkeyed, "--key-file", str(key_file), str(folder))[0] == 0
    code, lines = verify(unkeyed, str(folder))  # no key: nothing verifies
    assert code == 1 and any("hint: no record matches its hash" in line for line in lines)

    # An intruder rewrites a record and re-hashes it without the key (plain SHA-256
    # over the same encoding, chained from the stated previous hash).
    path = folder / "security.jsonl"
    payloads = load(path)
    target = [r for p in payloads for r in log_records(p)][3]
    target["body"] = {"stringValue": "nothing happened"}
    save(path, payloads)
    (entry,) = [e for e in read_entries([path], None, []) if e.seq == seq(target)]
    set_attribute(target, HASH, entry.recomputed)
    save(path, payloads)
    code, lines = verify(app, str(folder))
    assert code == 1
    assert findings(lines) == [
        f"changed: seq {seq(target)} authz_fail at {path}:{line_of(payloads, seq(target))}: "
        "does not match its hash (content or hash altered)"
    ]


# OTLP -------------------------------------------------------------------------------------------


def as_collector_json(message: Any) -> Payload:
    """An export request as the collector's file exporter writes it: OTLP JSON with hex
    trace and span ids and integer enums (protobuf's JSON mapping uses base64 for ids)."""
    payload = MessageToDict(message, use_integers_for_enums=True)
    for resource_logs in payload.get("resourceLogs", []):
        for scope_logs in resource_logs.get("scopeLogs", []):
            for record in scope_logs.get("logRecords", []):
                for key in ("traceId", "spanId"):
                    if key in record:
                        record[key] = base64.b64decode(record[key]).hex()
    return payload


def test_chain_travels_over_otlp_and_verifies_as_collector_json(
    make_app: Callable[..., Flask], otlp_receiver: OtlpHttpReceiver, tmp_path: Path
) -> None:
    """Over OTLP/HTTP, with the files kept too: one chain, the same in both outputs."""
    files = tmp_path / "embedded"
    app = make_app(
        **telemetry_config(
            files,
            OTEL_EXPORTER_OTLP_ENDPOINT=otlp_receiver.url,
            OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
            TALARO_TELEMETRY_FILES="always",
        )
    )
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/resumes").status_code == 401
    emit_denials(app, 3)
    telemetry.shutdown(app)
    wire = otlp_receiver.log_records()
    security = [r for r in wire if r.attributes.get("talaro.stream") == "security"]
    assert [r.attributes[SEQ] for r in security] == list(range(len(security)))
    assert {"sys_startup", "authn_required", "authz_fail", "sys_shutdown"} <= {
        r.event_name for r in security
    }
    assert all(SEQ not in r.attributes for r in wire if r not in security)
    on_disk = [r for p in load(files / "security.jsonl") for r in log_records(p)]
    assert [attribute(r, HASH) for r in on_disk] == [r.attributes[HASH] for r in security]

    folder = tmp_path / "collector"
    folder.mkdir()
    save(folder / "security.jsonl", [as_collector_json(m) for m in otlp_receiver.requests("logs")])
    for where in (folder, files):
        code, lines = verify(app, str(where))
        assert code == 0, lines
        assert lines[-1] == "result: 1 chains: 1 whole, 0 broken, 0 incomplete; 0 unreadable lines"


# Checkpoints in the database --------------------------------------------------------------


def instance_of(payload: Payload) -> str:
    (found,) = [
        pair["value"]["stringValue"]
        for pair in payload["resourceLogs"][0]["resource"]["attributes"]
        if pair["key"] == "service.instance.id"
    ]
    return found


def test_a_deleted_command_line_chain_is_missing(app: Flask, telemetry_dir: Path) -> None:
    """`users create --role ADMIN` is a chain of its own (sys_startup, user_created,
    sys_shutdown) with checkpoints; deleting its three records leaves the files valid on
    their own, but not against the database."""
    environment = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "TALARO_TELEMETRY_DIR": str(telemetry_dir),
    }
    environment.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    create = ["users", "create", "root@example.com", "--role", "ADMIN", "--password", "x" * 16]
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "talaro", *create],
        env=environment,
        check=True,
        capture_output=True,
    )
    path = telemetry_dir / "security.jsonl"
    payloads = load(path)
    ours = instance_of(payloads[0])
    cli = [p for p in payloads if instance_of(p) != ours]
    assert [r["eventName"] for p in cli for r in log_records(p)] == [
        "sys_startup",
        "user_created",
        "sys_shutdown",
    ]
    telemetry.flush(app)  # the app's own start checkpoint too
    code, lines = verify(app, "--allow-open", str(telemetry_dir))  # the app's chain is open
    assert code == 0, lines
    assert lines[-2] == "checkpoints: 3 read from the database"

    save(path, [p for p in payloads if p not in cli])
    assert verify(app, "--no-checkpoints", "--allow-open", str(telemetry_dir))[0] == 0
    code, lines = verify(app, "--allow-open", str(telemetry_dir))
    assert code == 1
    gone = instance_of(cli[0])
    assert f"chain {gone} (pid " in "\n".join(lines)
    (finding,) = [f for f in findings(lines) if not f.startswith("not closed")]
    assert finding.startswith(
        "missing: seq 0-2, none of its records is in the files; the database has its "
        "checkpoints up to seq 0-2 (end at "
    )


def test_a_tail_cut_while_running_is_found(make_app: Callable[..., Flask], tmp_path: Path) -> None:
    folder = tmp_path / "running"
    app = make_app(**telemetry_config(folder, TALARO_AUDIT_CHECKPOINT_RECORDS=5))
    emit_denials(app, 12)  # seq 1-12, after sys_startup; checkpoints at 0, 5 and 10
    telemetry.flush(app)
    assert verify(app, "--allow-open", str(folder))[0] == 0
    path = folder / "security.jsonl"
    payloads = load(path)
    save(path, [p for p in payloads if all(seq(r) <= 7 for r in log_records(p))])
    code, lines = verify(app, "--no-checkpoints", "--allow-open", str(folder))
    assert code == 0, "the files alone look like a process still running"
    code, lines = verify(app, "--allow-open", str(folder))
    assert code == 1
    (finding,) = findings(lines)
    assert finding.startswith(
        f"cut: seq 7 authz_fail at {path}:8: the files end here, but a checkpoint says the "
        "chain reached seq 10 at "
    )


def test_retention_removes_old_rotated_files_and_says_so(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    folder = tmp_path / "kept"
    settings = telemetry_config(folder, TALARO_TELEMETRY_MAX_BYTES=6 * 1024)
    app = make_app(**settings)
    for _ in range(6):
        emit_denials(app, 5)
    telemetry.shutdown(app)
    rotated = security_files(folder)[:-1]
    assert len(rotated) >= 3
    time.sleep(1.2)
    pruner = make_app(**settings)  # an operator's `flask audit prune`, a process of its own
    runner = pruner.test_cli_runner()
    assert runner.invoke(args=["audit", "prune"]).exit_code == 2  # no retention set
    result = runner.invoke(args=["audit", "prune", "--days", "0.00001"])  # under a second
    assert result.exit_code == 0, result.output
    assert all(not path.exists() for path in rotated)
    assert f"{len(rotated)} rotated security files removed" in result.output
    telemetry.shutdown(pruner)
    records = [
        r for p in security_files(folder) for payload in load(p) for r in log_records(payload)
    ]
    (note,) = [r for r in records if r["eventName"] == "sensitive_delete"]
    assert attribute(note, "reason") == "retention"

    code, lines = verify(pruner, str(folder))
    assert code == 0, lines
    assert any("removed by retention" in line for line in lines)
    assert "rotated away" not in "\n".join(lines)


def test_keyed_checkpoints_cannot_be_forged(make_app: Callable[..., Flask], tmp_path: Path) -> None:
    import sqlalchemy as sa

    folder = tmp_path / "keyed-checkpoints"
    app = make_app(**telemetry_config(folder, TALARO_AUDIT_KEY="checkpoint-key"))
    emit_denials(app, 3)
    telemetry.shutdown(app)
    assert verify(app, str(folder))[0] == 0
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as connection:  # an intruder with the database moves the end back
        connection.execute(sa.text("UPDATE audit_checkpoints SET seq = seq + 1 WHERE kind = 'end'"))
    engine.dispose()
    code, lines = verify(app, str(folder))
    assert code == 1
    assert [f.split(":")[0] for f in findings(lines)] == ["forged checkpoint"]

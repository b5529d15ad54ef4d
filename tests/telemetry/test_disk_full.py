"""A telemetry folder on a disk that fills up under load and then frees: every line of
every file still parses, and for each stream what was written plus what was counted as
dropped is what was emitted; /readyz says `degraded` with the reason meanwhile.

The small disk is a tmpfs the test mounts, so it runs as root (CI does) and is skipped
otherwise."""

from __future__ import annotations

import errno
import os
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from talaro import telemetry
from talaro.telemetry.catalogue import APPLICATION, SECURITY, STREAM_ATTRIBUTE
from tests.mounts import tmpfs
from tests.telemetry import otlp_json

THREADS, PER_PHASE = 4, 60


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs, unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    mount = tmp_path / "small"
    mount.mkdir()
    with tmpfs(mount, "size=8m,mode=0755"):
        yield mount


class CountRecords(LogRecordProcessor):
    """Every log record emitted, by stream (added after the chain, so it sees them all)."""

    def __init__(self) -> None:
        self.emitted: Counter[str] = Counter()
        self._lock = threading.Lock()

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        stream = (log_record.log_record.attributes or {}).get(STREAM_ATTRIBUTE)
        with self._lock:
            self.emitted[str(stream)] += 1

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class CountSpans(SpanProcessor):
    def __init__(self) -> None:
        self.ended = 0
        self._lock = threading.Lock()

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is not None and span.context.trace_flags.sampled:
            with self._lock:
                self.ended += 1


def fill(folder: Path) -> Path:
    """Take every free byte of the disk."""
    ballast = folder / "ballast"
    with open(ballast, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return ballast


def load(app: Flask) -> None:
    """Requests from several threads: each writes an `authn_required` (security, inline)
    and an `http_request` (application, batched) record, and spans."""

    def requests() -> None:
        client = app.test_client()
        for index in range(PER_PHASE // THREADS):
            assert client.get(f"/api/jobs?n={index}").status_code == 401

    threads = [threading.Thread(target=requests) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_a_full_disk_loses_no_line_and_counts_every_record(make_app, small_disk, tmp_path):
    app = make_app(
        TALARO_TELEMETRY_DIR=str(small_disk),
        TALARO_TELEMETRY_HEALTH_DIR=str(tmp_path / "health"),
        TALARO_DETECT_FLOOD_RECORDS=1_000_000,  # every authn_required is written
    )
    providers = telemetry.get_runtime(app).providers
    telemetry.flush(app)  # the spans of making the schema, before the counter
    spans_before = len(otlp_json.spans(small_disk / "traces.jsonl"))
    records, spans = CountRecords(), CountSpans()
    providers.logger_provider.add_log_record_processor(records)
    providers.tracer_provider.add_span_processor(spans)

    load(app)
    telemetry.flush(app)
    ballast = fill(small_disk)
    for _ in range(3):  # several batches meet the full disk
        load(app)
        telemetry.flush(app)
    full = app.test_client().get("/readyz")
    assert full.status_code == 200, "degraded telemetry keeps the node"
    health = full.json["telemetry"]
    assert health["status"] == "degraded"
    assert health["problems"]["security.jsonl"]["reason"] == "disk_full"
    assert health["dropped_by_reason"][SECURITY]["disk_full"] > 0
    assert health["dropped_by_reason"][APPLICATION]["disk_full"] > 0

    ballast.unlink()
    load(app)
    telemetry.flush(app)
    after = app.test_client().get("/readyz").json["telemetry"]
    assert after["problems"] == {}, "a successful write ends the problem"
    assert after["status"] == "degraded", "a recent drop still shows"
    assert telemetry.shutdown(app)

    for path in small_disk.iterdir():
        if path.suffix != ".lock":
            assert path.stat().st_size == 0 or path.read_bytes().endswith(b"\n"), path
            otlp_json.lines(path)  # every line parses
    dropped = providers.health.snapshot()["dropped_by_reason"]
    for stream in (SECURITY, APPLICATION):
        written = len(otlp_json.log_records(small_disk / f"{stream}.jsonl"))
        counted = sum(dropped.get(stream, {}).values())
        emitted = records.emitted[stream] + 1  # sys_startup, before the counter was added
        assert written + counted == emitted, (stream, written, dropped)
        assert written > 0 and counted > 0, (stream, written, dropped)
    written_spans = len(otlp_json.spans(small_disk / "traces.jsonl"))
    assert written_spans + sum(dropped.get("traces", {}).values()) == spans_before + spans.ended
    # The last request of the run got through (the disk was freed): nothing glued or lost.
    security = otlp_json.log_records(small_disk / "security.jsonl")
    assert security[-1].event_name == "sys_shutdown"

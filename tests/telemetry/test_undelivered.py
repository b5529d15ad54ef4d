"""Records that cannot be written or delivered are counted, with the reason: a write cut
short is rolled back, a fragment is repaired before the next line, records still queued
for a hung collector at exit are counted (`shutdown`) and reported on stderr and in the
security file's `sys_shutdown`."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from talaro import telemetry
from talaro.telemetry import files
from talaro.telemetry.files import SharedJsonLinesFile, TelemetryWriteError
from talaro.telemetry.health import DISK_FULL, SHUTDOWN, failure_reason
from tests.telemetry import otlp_json
from tests.telemetry.otlp_receiver import OtlpHttpReceiver, otlp_receiver_fixture
from tests.telemetry.test_otlp_export import otlp_settings

__all__ = ["otlp_receiver_fixture"]


def test_a_write_cut_short_by_a_full_disk_is_rolled_back(tmp_path, monkeypatch):
    path = tmp_path / "x.jsonl"
    stream = SharedJsonLinesFile(path)
    stream.write('{"n":1}\n')
    real_write = os.write

    def half_then_full(fd: int, data: bytes) -> int:
        if len(data) > 4:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "write", half_then_full)
    with pytest.raises(TelemetryWriteError) as raised:
        stream.write('{"n":2,"pad":"xxxxxxxxxxxxxxxx"}\n')
    assert raised.value.errno == errno.ENOSPC
    assert failure_reason(stream.failure()) == DISK_FULL
    assert path.read_text() == '{"n":1}\n', "nothing of the failed line is left"
    monkeypatch.setattr(files.os, "write", real_write)
    stream.write('{"n":3}\n')  # space is back: the next line is a line of its own
    assert [json.loads(line)["n"] for line in path.read_text().splitlines()] == [1, 3]
    stream.close()


def test_a_fragment_left_by_another_writer_is_cut_before_the_next_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"n":1}\n{"n":2,"cut he')  # a writer killed in the middle of a line
    stream = SharedJsonLinesFile(path)
    stream.write('{"n":3}\n')
    stream.close()
    assert [json.loads(line)["n"] for line in path.read_text().splitlines()] == [1, 3]
    assert stream.repaired_bytes == len('{"n":2,"cut he')


def test_records_queued_for_a_hung_collector_at_exit_are_counted_and_reported(
    make_app, otlp_receiver: OtlpHttpReceiver, tmp_path: Path, capfd, monkeypatch
):
    monkeypatch.setenv("OTEL_BLRP_SCHEDULE_DELAY", "60000")  # nothing leaves before the stop
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "60000")
    app = make_app(
        **otlp_settings(
            tmp_path,
            otlp_receiver.url,
            TALARO_TELEMETRY_SHUTDOWN_TIMEOUT=1.0,
            TALARO_TELEMETRY_HEALTH_DIR=str(tmp_path / "health"),
        )
    )
    otlp_receiver.stall()
    client = app.test_client()
    try:
        for index in range(10):
            assert client.get(f"/api/jobs?n={index}").status_code == 401
        assert telemetry.shutdown(app) is False  # gave up on the collector
    finally:
        otlp_receiver.resume()

    health = telemetry.get_runtime(app).providers.health.snapshot()
    # 10 requests: an http_request and an authn_required each, both to the collector.
    assert health["dropped_by_reason"]["logs"][SHUTDOWN] >= 20, health
    assert health["dropped_by_reason"]["traces"][SHUTDOWN] >= 10, health
    stderr = capfd.readouterr().err
    assert "records still queued at exit were not delivered" in stderr
    assert "logs/shutdown=" in stderr
    # The durable copy says so too, on the record that closes the trail.
    security = otlp_json.log_records(tmp_path / "logs" / "security.jsonl")
    stopped = security[-1]
    assert stopped.event_name == "sys_shutdown"
    assert stopped.attributes["talaro.telemetry.undelivered"] >= 20
    assert "logs" in stopped.attributes["talaro.telemetry.undelivered_signals"]

"""The extraction pool: real worker processes with real limits."""

from __future__ import annotations

import os
import signal
import time

import pytest

from talaro.extraction import DOCX, PDF, sandbox
from talaro.extraction.text import ExtractionError
from tests.hostile.files import operator_flood_pdf

LIMITS = sandbox.Limits(timeout_s=2.0, memory_mb=512, workers=2)


def _sleep_forever(*_: object) -> None:
    time.sleep(3600)


def _allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def _limited_allocate(limits: sandbox.Limits, megabytes: int) -> int:
    sandbox._limit_this_task(limits)
    return _allocate(megabytes)


def _die(*_: object) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _worker_pid() -> int:
    return os.getpid()


def test_text_and_fields_come_back_from_a_worker(make_pdf, make_docx):
    pdf = sandbox.extract(make_pdf([["Jane Doe", "jane@example.org"]]), PDF, LIMITS)
    assert pdf.text.text == "Jane Doe\njane@example.org"
    assert pdf.fields is not None and pdf.fields.values["email"] == "jane@example.org"
    assert pdf.text_ns[0] <= pdf.text_ns[1] <= pdf.fields_ns[0] <= pdf.fields_ns[1]
    docx = sandbox.extract(make_docx(["Li Wei", "li.wei@example.org"]), DOCX, LIMITS)
    assert docx.fields is not None and docx.fields.values["email"] == "li.wei@example.org"


def test_parse_errors_keep_their_check_across_the_process_boundary(make_pdf):
    with pytest.raises(ExtractionError) as caught:
        sandbox.extract(make_pdf([["a"], ["b"], ["c"]]), PDF, sandbox.Limits(max_pages=2))
    assert caught.value.check == "pages"
    assert "more than 2 pages" in str(caught.value)


def test_a_file_over_the_time_limit_is_stopped_and_the_pool_carries_on(make_pdf):
    started = time.monotonic()
    with pytest.raises(ExtractionError) as caught:
        sandbox.extract(operator_flood_pdf(), PDF, sandbox.Limits(timeout_s=1.0, workers=2))
    assert caught.value.check in {"time_limit", "memory_limit"}
    assert time.monotonic() - started < 10
    assert sandbox.extract(make_pdf([["After Flood"]]), PDF, LIMITS).text.text == "After Flood"


def test_a_task_that_hangs_is_killed_at_the_timeout():
    pool = sandbox._pool(LIMITS.workers)
    future = pool.schedule(_sleep_forever, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(ExtractionError) as caught:
        sandbox.result(future, sandbox.Limits(timeout_s=1.0))
    assert caught.value.check == "time_limit"
    assert time.monotonic() - started < 5


def test_the_memory_limit_holds_in_the_worker():
    """The limits `_extract` applies, then a gigabyte asked for: MemoryError, mapped."""
    pool = sandbox._pool(LIMITS.workers)
    limits = sandbox.Limits(memory_mb=300)
    future = pool.schedule(_limited_allocate, args=(limits, 1024), timeout=10)
    with pytest.raises(ExtractionError) as caught:
        sandbox.result(future, limits)
    assert caught.value.check == "memory_limit"
    assert "300 MiB" in str(caught.value)
    small = pool.schedule(_limited_allocate, args=(limits, 16), timeout=10)
    assert sandbox.result(small, limits) == 16 * 1024 * 1024


def test_a_worker_that_dies_is_reported_and_replaced(make_pdf):
    pool = sandbox._pool(LIMITS.workers)
    with pytest.raises(ExtractionError) as caught:
        sandbox.result(pool.schedule(_die), LIMITS)
    assert caught.value.check == "worker_crash"
    pids = {pool.schedule(_worker_pid).result() for _ in range(8)}
    assert os.getpid() not in pids
    assert sandbox.extract(make_pdf([["Still Here"]]), PDF, LIMITS).text.text == "Still Here"


def test_zero_workers_extracts_in_process(make_pdf):
    done = sandbox.extract(make_pdf([["In Process"]]), PDF, sandbox.Limits(workers=0))
    assert done.text.text == "In Process"
    with pytest.raises(ExtractionError):
        sandbox.extract(b"%PDF-1.7\n" + bytes(300), PDF, sandbox.Limits(workers=0))

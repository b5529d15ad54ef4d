"""Text extraction in a pool of worker processes, each task bounded in memory, CPU and time.

A hostile file can make a parser allocate without end, loop, or crash in C code; in a
worker process that costs only the worker. pebble's ProcessPool gives a per-task timeout
and replaces a worker that was killed or died. Workers come from a forkserver, not a fork
of the web process: the web process runs telemetry export threads that a fork would copy
mid-flight, and the forkserver imports the parsers once so a replacement starts in
milliseconds. One pool per process, started on first use.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import resource
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from pebble import ProcessExpired, ProcessPool

from talaro.extraction.fields import ExtractedFields, extract_fields
from talaro.extraction.text import ExtractedText, ExtractionError, extract_text

_PRELOAD = ["talaro.extraction.text", "talaro.extraction.fields"]
_RECYCLE_AFTER_TASKS = 500  # bounds what a long-lived worker may accumulate
_SIGXCPU = 24


@dataclass(frozen=True)
class Limits:
    """Per task: wall-clock seconds (CPU seconds as well), address space, pages; and the
    region for phone numbers written without a country code."""

    timeout_s: float = 10.0
    memory_mb: int = 512
    max_pages: int = 20
    workers: int = 2  # 0: extract in the calling process, without these limits
    phone_region: str = "US"


@dataclass(frozen=True)
class Extraction:
    """What a worker sends back: the text and fields, and when it worked on each
    (time.time_ns(), so the web process can place the work on its trace)."""

    text: ExtractedText
    fields: ExtractedFields | None
    text_ns: tuple[int, int]
    fields_ns: tuple[int, int]

    @property
    def seconds(self) -> float:
        return (self.text_ns[1] - self.text_ns[0]) / 1e9


def submit(data: bytes, content_type: str, limits: Limits) -> Future[Extraction]:
    """Start extracting ``data``; collect the outcome with ``result``."""
    if limits.workers <= 0:
        future: Future[Extraction] = Future()
        try:
            future.set_result(_extract(data, content_type, limits, apply_limits=False))
        except ExtractionError as exc:
            future.set_exception(exc)
        return future
    return _pool(limits.workers).schedule(
        _extract, args=(data, content_type, limits), timeout=limits.timeout_s
    )


def result(future: Future[Extraction], limits: Limits) -> Extraction:
    """The extraction, or ExtractionError naming the limit a worker hit."""
    try:
        return future.result()
    except BrokenProcessPool:
        _discard_pool()  # not the file's fault: the next call starts a fresh pool
        raise
    except FutureTimeout as exc:
        raise ExtractionError(
            f"Extraction took longer than the {limits.timeout_s:g} s limit", "time_limit"
        ) from exc
    except MemoryError as exc:
        raise ExtractionError(
            f"Extraction needed more than the {limits.memory_mb} MiB memory limit",
            "memory_limit",
        ) from exc
    except ProcessExpired as exc:
        if exc.exitcode == -_SIGXCPU:
            raise ExtractionError(
                f"Extraction used more than {limits.timeout_s:g} s of CPU", "time_limit"
            ) from exc
        raise ExtractionError(
            "The extraction process ended abnormally on this file", "worker_crash"
        ) from exc


def extract(data: bytes, content_type: str, limits: Limits) -> Extraction:
    return result(submit(data, content_type, limits), limits)


def _extract(
    data: bytes, content_type: str, limits: Limits, *, apply_limits: bool = True
) -> Extraction:
    """Runs in a worker (or in-process when workers is 0)."""
    if apply_limits:
        _limit_this_task(limits)
    started = time.time_ns()
    text = extract_text(data, content_type, max_pages=limits.max_pages)
    extracted = time.time_ns()
    # Fields here too: pure CPU work that would otherwise queue in the web process.
    fields = extract_fields(text.text, default_region=limits.phone_region) if text.text else None
    return Extraction(text, fields, (started, extracted), (extracted, time.time_ns()))


def _limit_this_task(limits: Limits) -> None:
    # Soft limits only, so the next task may set its own: RLIMIT_AS makes allocations fail
    # with MemoryError; RLIMIT_CPU (cumulative per process, hence "used + budget") ends a
    # worker by SIGXCPU should the parent's wall-clock timer ever fail to.
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (_within(memory, hard), hard))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(usage.ru_utime + usage.ru_stime + limits.timeout_s) + 2
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (_within(cpu, hard), hard))


def _within(value: int, hard: int) -> int:
    return value if hard == resource.RLIM_INFINITY else min(value, hard)


_lock = threading.Lock()
_current: tuple[int, int, ProcessPool] | None = None  # (pid, workers, pool)


def _pool(workers: int) -> ProcessPool:
    global _current
    with _lock:
        if _current is not None and _current[:2] == (os.getpid(), workers):
            return _current[2]
        if _current is not None and _current[0] == os.getpid():
            _stop(_current[2])
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        pool = ProcessPool(max_workers=workers, max_tasks=_RECYCLE_AFTER_TASKS, context=context)
        _current = (os.getpid(), workers, pool)
        return pool


def _discard_pool() -> None:
    global _current
    with _lock:
        if _current is not None and _current[0] == os.getpid():
            _stop(_current[2])
            _current = None


def _stop(pool: ProcessPool) -> None:
    pool.stop()
    pool.join(timeout=5)


@atexit.register
def shutdown() -> None:
    """Stop this process's pool (also on interpreter exit)."""
    global _current
    with _lock:
        if _current is not None and _current[0] == os.getpid():
            _stop(_current[2])
        _current = None

"""OTLP JSON Lines files that rotate by size and that several processes may share.

The first-party OTLP JSON file exporters write one JSON payload per line to any
text stream; `SharedJsonLinesFile` is that stream. Each line is written with a
single `write(2)` on an `O_APPEND` descriptor while holding an exclusive `flock`
on a sidecar lock file, so lines from different processes never interleave, and
the process that finds the file over its size rotates it (`x.jsonl` ->
`x.jsonl.1` -> ... `x.jsonl.N`) while the others notice by inode and reopen.
With `keep_rotated` (the security stream) no count ever deletes a file: it is renamed to
`x-<UTC time>.jsonl`, the collector's (lumberjack's) naming, which the readers already
order, and only retention (`audit prune`) removes it.
Written here because no library rotates a file shared by processes for a
non-`logging` writer (concurrent-log-handler does it only as a logging.Handler).

Whole lines or nothing: a write that fails half-way (disk full) is truncated back to the
size before it, and a file that still ends in a fragment (the truncate failed too, or a
writer was killed mid-line) is cut back to its last newline before the next line is
written, so every line of every file parses. A failed write raises `TelemetryWriteError`
after the rollback; `failure_reason()` tells the exporter's thread why (health.py).
A folder that cannot be created or written never fails the constructor: each write tries
again, so the files come back by themselves when the folder does.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
import weakref
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_BACKUPS = 5
_STAMP = "%Y-%m-%dT%H-%M-%S.%f"  # cut to milliseconds when written
_REPAIR_CHUNK = 64 * 1024


class TelemetryWriteError(OSError):
    """A line was not written (and nothing of it is left in the file)."""


class SharedJsonLinesFile:
    """A write-only text stream of whole lines, safe across threads and processes."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        backups: int = DEFAULT_BACKUPS,
        keep_rotated: bool = False,
        fsync: bool = False,
    ) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self.keep_rotated = keep_rotated
        # write(2) alone survives the process being killed; fsync also survives power loss.
        self.fsync = fsync
        with contextlib.suppress(OSError):  # tried again by every write; health.py reports it
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._lock_fd: int | None = None
        self._clean_end = -1  # the size after our last whole line, -1: check the end
        self._failure = threading.local()
        self.repaired_bytes = 0  # fragments cut off before writing
        self.closed = False
        reopen = weakref.WeakMethod(self._reopen_in_child)
        os.register_at_fork(after_in_child=lambda: (method := reopen()) and method())

    # The io.TextIOBase subset the OTLP JSON file exporters use.
    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        with self._thread_lock:
            if self.closed:
                raise ValueError("write to a closed telemetry file")
            self._failure.error = None
            try:
                self._write_line(data)
            except OSError as exc:
                self._failure.error = exc
                raise TelemetryWriteError(exc.errno, f"{self.path}: {exc.strerror or exc}") from exc
        return len(text)

    def failure(self) -> OSError | None:
        """Why this thread's last write failed (read by the exporter that called it)."""
        return getattr(self._failure, "error", None)

    def flush(self) -> None:
        """Every write already reached the kernel; nothing is buffered here."""

    def close(self) -> None:
        with self._thread_lock:
            self.closed = True
            for fd in (self._fd, self._lock_fd):
                if fd is not None:
                    os.close(fd)
            self._fd = self._lock_fd = None

    # Internals, called with both locks held --------------------------------

    def _write_line(self, data: bytes) -> None:
        lock_fd = self._lock_descriptor()
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        try:
            fd = self._current_descriptor()
            size = self._repair(fd, os.fstat(fd).st_size)
            if self.max_bytes and size > 0 and size + len(data) > self.max_bytes:
                fd = self._rotate()
                size = self._repair(fd, os.fstat(fd).st_size)
            try:
                _write_all(fd, data)
                if self.fsync:
                    os.fsync(fd)
            except OSError:
                self._roll_back(fd, size)
                raise
            self._clean_end = size + len(data)
        finally:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)

    def _roll_back(self, fd: int, size: int) -> None:
        """Cut what a failed write left; if even that fails, `_repair` does it next time."""
        self._clean_end = -1
        try:
            os.ftruncate(fd, size)
        except OSError:
            return
        self._clean_end = size

    def _repair(self, fd: int, size: int) -> int:
        """The file's size once a trailing fragment (no final newline) is cut off."""
        if size == 0 or size == self._clean_end:
            return size
        if os.pread(fd, 1, size - 1) == b"\n":
            self._clean_end = size
            return size
        end = size
        while end > 0:
            start = max(0, end - _REPAIR_CHUNK)
            newline = os.pread(fd, end - start, start).rfind(b"\n")
            if newline >= 0:
                end = start + newline + 1
                break
            end = start
        os.ftruncate(fd, end)
        self.repaired_bytes += size - end
        self._clean_end = end
        return end

    def _lock_descriptor(self) -> int:
        if self._lock_fd is None:
            try:
                self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o640)
            except FileNotFoundError:  # the folder is gone or was never made: make it
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o640)
        return self._lock_fd

    def _current_descriptor(self) -> int:
        """The descriptor of the file now at `path`, reopened if another process rotated it."""
        if self._fd is not None:
            try:
                same = os.stat(self.path).st_ino == os.fstat(self._fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                return self._fd
            os.close(self._fd)
            self._fd = None
        # Read as well as append: `_repair` reads the end of the file.
        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        self._clean_end = -1
        return self._fd

    def _rotate(self) -> int:
        if self.keep_rotated:
            os.replace(self.path, self._timestamped_name())
        elif self.backups > 0:
            for index in range(self.backups - 1, 0, -1):
                older = self.path.with_name(f"{self.path.name}.{index}")
                if older.exists():
                    os.replace(older, self.path.with_name(f"{self.path.name}.{index + 1}"))
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        else:
            os.truncate(self.path, 0)
        return self._current_descriptor()

    def _timestamped_name(self) -> Path:
        """`x-2026-11-26T15-13-23.123.jsonl` (UTC, milliseconds), later than any such name
        already there (also when the clock went back), so names sort in rotation order."""
        stem, _, extension = self.path.name.rpartition(".")
        prefix, suffix = f"{stem}-", f".{extension}"
        millis = time.time_ns() // 1_000_000
        for taken in self.path.parent.glob(f"{prefix}*{suffix}"):
            try:
                when = datetime.strptime(taken.name[len(prefix) : -len(suffix)], _STAMP)
            except ValueError:
                continue
            millis = max(millis, int(when.replace(tzinfo=UTC).timestamp() * 1000) + 1)
        name = datetime.fromtimestamp(millis / 1000, UTC).strftime(_STAMP)[:-3]
        return self.path.with_name(f"{prefix}{name}{suffix}")

    def _reopen_in_child(self) -> None:
        # flock belongs to the open file description, which a forked child shares with
        # its parent: the child must open its own or the two would not exclude each other.
        self._thread_lock = threading.Lock()
        for fd in (self._fd, self._lock_fd):
            if fd is not None:
                os.close(fd)
        self._fd = self._lock_fd = None
        self._clean_end = -1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]

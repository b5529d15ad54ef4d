"""OTLP JSON Lines files that rotate by size and that several processes may share.

The first-party OTLP JSON file exporters write one JSON payload per line to any
text stream; `SharedJsonLinesFile` is that stream. Each line is written with a
single `write(2)` on an `O_APPEND` descriptor while holding an exclusive `flock`
on a sidecar lock file, so lines from different processes never interleave, and
the process that finds the file over its size rotates it (`x.jsonl` ->
`x.jsonl.1` -> ... `x.jsonl.N`) while the others notice by inode and reopen.
Written here because no library rotates a file shared by processes for a
non-`logging` writer (concurrent-log-handler does it only as a logging.Handler).
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from pathlib import Path

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_BACKUPS = 5


class SharedJsonLinesFile:
    """A write-only text stream of whole lines, safe across threads and processes."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        backups: int = DEFAULT_BACKUPS,
    ) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._lock_fd: int | None = None
        self.closed = False
        reopen = weakref.WeakMethod(self._reopen_in_child)
        os.register_at_fork(after_in_child=lambda: (method := reopen()) and method())

    # The io.TextIOBase subset the OTLP JSON file exporters use.
    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        with self._thread_lock:
            if self.closed:
                raise ValueError("write to a closed telemetry file")
            lock_fd = self._lock_descriptor()
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            try:
                fd = self._current_descriptor()
                size = os.fstat(fd).st_size
                if self.max_bytes and size > 0 and size + len(data) > self.max_bytes:
                    fd = self._rotate()
                _write_all(fd, data)
            finally:
                fcntl.flock(lock_fd, fcntl.LOCK_UN)
        return len(text)

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

    def _lock_descriptor(self) -> int:
        if self._lock_fd is None:
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
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        return self._fd

    def _rotate(self) -> int:
        if self.backups > 0:
            for index in range(self.backups - 1, 0, -1):
                older = self.path.with_name(f"{self.path.name}.{index}")
                if older.exists():
                    os.replace(older, self.path.with_name(f"{self.path.name}.{index + 1}"))
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        else:
            os.truncate(self.path, 0)
        return self._current_descriptor()

    def _reopen_in_child(self) -> None:
        # flock belongs to the open file description, which a forked child shares with
        # its parent: the child must open its own or the two would not exclude each other.
        self._thread_lock = threading.Lock()
        for fd in (self._fd, self._lock_fd):
            if fd is not None:
                os.close(fd)
        self._fd = self._lock_fd = None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]

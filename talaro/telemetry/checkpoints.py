"""Chain checkpoints: where each process's security chain stood, kept outside the files.

The files can be cut, emptied or deleted by whoever can write the log folder; a
checkpoint (instance id, sequence number, hash, time) written to the database lets
`audit verify` tell a chain that is missing from the files, a tail cut before its last
checkpoint and a head removed by something other than retention (audit_verify.py).

`Checkpointer` takes one at a chain's start (``sys_startup``), every
``TALARO_AUDIT_CHECKPOINT_RECORDS`` records or ``TALARO_AUDIT_CHECKPOINT_SECONDS``
seconds, and at its end (``sys_shutdown``), and writes them on a background thread: a
request never waits on the database. Retention (retention.py) writes a ``prune`` note
with the newest time of the files it removes, so verify knows which losses it explains.

Telemetry does not know the application's models: the app factory hands it a
`CheckpointStore` (talaro/audit_store.py), kept in ``app.extensions[STORE]``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from talaro.telemetry.audit import CLOSES, OPENS
from talaro.telemetry.health import TelemetryHealth

STORE = "talaro.audit.checkpoints"  # the app.extensions key of the CheckpointStore
START, MARK, END, PRUNE = "start", "mark", "end", "prune"
SIGNAL = "checkpoints"  # in /readyz's dropped: checkpoints lost for good
MAX_PENDING = 10_000  # checkpoints kept for a retry while the database is away

logger = logging.getLogger("talaro.telemetry")


@dataclass(frozen=True)
class Checkpoint:
    """One chain's position (`kind` start, mark, end), or a retention note (`prune`:
    files up to `time_unix_nano` removed, their names in `note`)."""

    instance: str
    seq: int
    hash: str
    time_unix_nano: int
    kind: str
    location: str  # the folder of the chain's security file, "" when it writes none
    pid: int | None = None
    note: str = ""
    mac: str = ""  # HMAC-SHA256 of the rest with TALARO_AUDIT_KEY, "" without a key

    def content(self) -> bytes:
        fields = dataclasses.asdict(self)
        del fields["mac"]
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def signed(self, key: bytes | None) -> Checkpoint:
        return dataclasses.replace(self, mac=self.expected_mac(key))

    def expected_mac(self, key: bytes | None) -> str:
        return hmac.new(key, self.content(), hashlib.sha256).hexdigest() if key else ""

    def genuine(self, key: bytes | None) -> bool:
        return not key or hmac.compare_digest(self.mac, self.expected_mac(key))


class CheckpointStore(Protocol):
    """Where checkpoints are kept (the database); `write` raises when it cannot."""

    def write(self, checkpoints: Sequence[Checkpoint]) -> None: ...

    def read(self) -> list[Checkpoint]: ...

    def close(self) -> None: ...


class Checkpointer:
    """Takes the checkpoints of one process's chain and writes them in the background."""

    def __init__(
        self,
        store: CheckpointStore,
        health: TelemetryHealth,
        *,
        key: bytes | None,
        location: str,
        every_records: int,
        every_seconds: float,
    ) -> None:
        self.store, self.health, self.key, self.location = store, health, key, location
        self.every_records = max(1, every_records)
        self.every_seconds = max(0.05, every_seconds)
        self._condition = threading.Condition()
        self._pending: deque[Checkpoint] = deque()
        self._writing = 0
        self._latest: tuple[str, int, str, int] | None = None  # not checkpointed yet
        self._last_seq = -1
        self._last_time = time.monotonic()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._failures = 0

    def on_record(self, instance: str, seq: int, digest: str, time_ns: int, event: str) -> None:
        """Called by the chain, under its lock, once the record is written."""
        kind = START if event == OPENS else END if event == CLOSES else None
        if kind is None and seq - self._last_seq >= self.every_records:
            kind = MARK
        with self._condition:
            if kind is None:
                self._latest = (instance, seq, digest, time_ns)
            else:
                self._queue(instance, seq, digest, time_ns, kind)
            self._start()

    def _queue(self, instance: str, seq: int, digest: str, time_ns: int, kind: str) -> None:
        point = Checkpoint(instance, seq, digest, time_ns, kind, self.location, os.getpid()).signed(
            self.key
        )
        if len(self._pending) >= MAX_PENDING:
            self._pending.popleft()
            self.health.record_drop(SIGNAL, reason="database")
        self._pending.append(point)
        self._latest = None
        self._last_seq, self._last_time = seq, time.monotonic()
        self._condition.notify_all()

    def _start(self) -> None:
        if self._thread is None and not self._stopped:
            self._thread = threading.Thread(
                target=self._run, name="talaro-audit-checkpoints", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._condition:
                if not self._pending and not self._stopped:
                    self._condition.wait(self.every_seconds)
                due = time.monotonic() - self._last_time >= self.every_seconds
                if self._latest is not None and (due or self._stopped):
                    self._queue(*self._latest, MARK)
                if self._stopped and not self._pending:
                    return
                batch = list(self._pending)
                self._pending.clear()
                self._writing = len(batch)
            if batch and not self._write(batch):
                with self._condition:
                    self._pending.extendleft(reversed(batch))  # retried on the next turn
                    self._writing = 0
                    self._condition.notify_all()
                    if self._stopped:
                        return
                    self._condition.wait(self.every_seconds)
                continue
            with self._condition:
                self._writing = 0
                self._condition.notify_all()

    def _write(self, batch: list[Checkpoint]) -> bool:
        try:
            self.store.write(batch)
        except Exception as exc:  # never take the thread down; keep them for a retry
            if not self._failures:
                reason = getattr(exc, "orig", None) or exc  # SQLAlchemy's text repeats the SQL
                logger.warning("audit checkpoints not written (kept for a retry): %s", reason)
            with self._condition:
                self._failures += 1
            return False
        self._failures = 0
        return True

    def flush(self, timeout_s: float) -> bool:
        """Wait until every checkpoint taken so far is written (or `timeout_s` passed)."""
        deadline = time.monotonic() + timeout_s
        with self._condition:
            failures = self._failures
            self._condition.notify_all()
            while self._pending or self._writing:
                left = deadline - time.monotonic()
                alive = self._thread is not None and self._thread.is_alive()
                if left <= 0 or not alive or self._failures > failures:
                    return False
                self._condition.wait(min(left, 0.1))
        return True

    def shutdown(self, timeout_s: float) -> bool:
        """Checkpoint the last record, write what is pending, stop the thread."""
        with self._condition:
            self._stopped = True
            if self._latest is not None:
                self._queue(*self._latest, MARK)
            self._condition.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
        elif self._pending and self._write(list(self._pending)):  # no thread: write inline
            self._pending.clear()
        written = not self._pending and (thread is None or not thread.is_alive())
        if self._pending and (thread is None or not thread.is_alive()):
            self.health.record_drop(SIGNAL, len(self._pending), "database")  # lost for good
        self.store.close()
        return written

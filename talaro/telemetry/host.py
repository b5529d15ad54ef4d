"""Telemetry health summed over the worker processes of one host, for /readyz.

Each process publishes its counters (health.py: drops by signal and reason, failed
exports, outputs failing now) to a small JSON file of its own, `<pid>-<instance>.json`,
in a folder shared by the host's workers: `TALARO_TELEMETRY_HEALTH_DIR`, by default one in
/dev/shm (memory, so neither a full disk nor a read-only telemetry folder stops it) named
after the telemetry folder, so the workers of one service find each other and two
services on one machine do not mix. Whichever worker answers /readyz sums every file.

A file whose process is gone is folded into `retired.json` (its drops still happened on
this host; its problems ended with it) and removed, so the folder does not grow with
restarts and pid reuse cannot overwrite a dead worker's counts. A process that dropped
nothing removes its own file at exit.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import threading
import time
import weakref
from collections import Counter
from pathlib import Path
from typing import Any

from talaro.telemetry.health import TelemetryHealth

RETIRED = "retired.json"
PUBLISH_EVERY_S = 0.2  # at most this often per process, however many drops


def default_folder(telemetry_dir: str | os.PathLike[str]) -> Path:
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())
    digest = hashlib.sha256(str(Path(telemetry_dir).resolve()).encode()).hexdigest()[:16]
    return base / f"talaro-telemetry-{os.getuid()}-{digest}"


class HostHealth:
    """Publishes one process's `TelemetryHealth` and sums the host's."""

    def __init__(self, folder: Path, health: TelemetryHealth, instance: str) -> None:
        self.folder, self.health, self.instance = folder, health, instance
        self._condition = threading.Condition()
        self._dirty = False
        self._stopped = False
        self._thread: threading.Thread | None = None
        health.on_change = self.changed
        reset = weakref.WeakMethod(self._reset)
        os.register_at_fork(after_in_child=lambda: (method := reset()) and method())

    @property
    def name(self) -> str:
        return f"{os.getpid()}-{self.instance}.json"

    def changed(self) -> None:
        """The counters changed: publish soon (a background thread, throttled)."""
        with self._condition:
            self._dirty = True
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(
                    target=self._run, name="talaro-telemetry-health", daemon=True
                )
                self._thread.start()
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._dirty and not self._stopped:
                    self._condition.wait()
                if self._stopped:
                    return
                self._dirty = False
            self.publish()
            time.sleep(PUBLISH_EVERY_S)

    def publish(self) -> bool:
        """Write this process's counters; False when the folder cannot be written."""
        data = {"pid": os.getpid(), "instance": self.instance, **self.health.snapshot()}
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            _write_json(self.folder / self.name, data)
        except OSError:
            return False
        return True

    def gather(self) -> dict[str, Any]:
        """The host's counters: every live worker's, plus those of workers gone."""
        self.publish()
        live = [{"pid": os.getpid(), "instance": self.instance, **self.health.snapshot()}]
        with contextlib.suppress(OSError):
            for path in sorted(self.folder.glob("*.json")):
                if path.name in (RETIRED, self.name):
                    continue
                found = _read_json(path)
                if found is None:
                    continue
                if _alive(int(found.get("pid", 0))):
                    live.append(found)
                else:
                    self._retire(path)
        retired = _read_json(self.folder / RETIRED) or {}
        return _summed(live, retired)

    def _retire(self, path: Path) -> None:
        with contextlib.suppress(OSError), open(self.folder / "retired.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            gone = _read_json(path)
            if gone is None:  # folded by another worker meanwhile
                return
            retired = _read_json(self.folder / RETIRED) or {}
            summed = _summed([gone], retired)
            summed["workers_retired"] = retired.get("workers_retired", 0) + 1
            del summed["problems"], summed["workers"]
            _write_json(self.folder / RETIRED, summed)
            path.unlink()

    def close(self) -> None:
        """At exit: the final counters, or no file at all if nothing was ever dropped."""
        with self._condition:
            self._stopped = True
            self._condition.notify()
        snapshot = self.health.snapshot()
        if snapshot["dropped"] or snapshot["export_failures"] or snapshot["problems"]:
            self.publish()
            return
        with contextlib.suppress(OSError):
            (self.folder / self.name).unlink(missing_ok=True)
            self.folder.rmdir()  # only when no other worker is there

    def _reset(self) -> None:
        self._condition = threading.Condition()
        self._thread = None
        self._dirty = False


def _summed(workers: list[dict[str, Any]], retired: dict[str, Any]) -> dict[str, Any]:
    by_reason: dict[str, Counter[str]] = {}
    failures: Counter[str] = Counter(retired.get("export_failures", {}))
    problems: dict[str, dict[str, Any]] = {}
    last_drop = float(retired.get("last_drop", 0.0))
    for source in [retired, *workers]:
        for signal, reasons in source.get("dropped_by_reason", {}).items():
            by_reason.setdefault(signal, Counter()).update(reasons)
    for worker in workers:
        failures.update(worker.get("export_failures", {}))
        last_drop = max(last_drop, float(worker.get("last_drop", 0.0)))
        for output, problem in worker.get("problems", {}).items():
            seen = problems.setdefault(output, {**problem, "workers": 0})
            seen["workers"] += 1
    return {
        "workers": len(workers),
        "dropped": {signal: sum(reasons.values()) for signal, reasons in sorted(by_reason.items())},
        "dropped_by_reason": {s: dict(sorted(r.items())) for s, r in sorted(by_reason.items())},
        "export_failures": dict(sorted(failures.items())),
        "problems": dict(sorted(problems.items())),
        "last_drop": last_drop,
    }


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Whole or not at all: written aside, then renamed over the old one."""
    aside = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        aside.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
        os.replace(aside, path)
    except OSError:
        aside.unlink(missing_ok=True)
        raise

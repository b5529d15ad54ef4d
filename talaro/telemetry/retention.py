"""Retention of the security stream: the only way its rotated files are removed.

The security file is never deleted by a rotation count (files.py keeps every rotated
file), so no flood of requests can push records out. `prune` removes the rotated files
last written more than `days` ago: it first writes a ``prune`` note to the checkpoint
store (the newest time it removes, and the names), so `audit verify` tells these losses
from any other, then removes them, then records a ``sensitive_delete`` security event.
If the note cannot be written, nothing is removed.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from talaro.telemetry import events
from talaro.telemetry.catalogue import SECURITY, SENSITIVE_DELETE
from talaro.telemetry.checkpoints import PRUNE, Checkpoint, CheckpointStore
from talaro.telemetry.reader import format_time, stream_files
from talaro.telemetry.runtime import FILE_NAMES

DAY_S = 86_400


def expired(folder: Path, days: float, now: float | None = None) -> list[Path]:
    """The rotated security files of `folder` last written more than `days` ago, oldest
    first; never the live file."""
    cutoff = (time.time() if now is None else now) - days * DAY_S
    live = FILE_NAMES[SECURITY]
    return [
        path
        for path in stream_files(folder, (SECURITY,))
        if path.name != live and path.stat().st_mtime < cutoff
    ]


def prune(
    folder: Path,
    days: float,
    store: CheckpointStore,
    key: bytes | None,
    instance: str,
    now: float | None = None,
) -> list[Path]:
    """Remove the expired files (see the module's docstring); returns them."""
    files = expired(folder, days, now)
    if not files:
        return []
    names = [path.name for path in files]
    until = max(path.stat().st_mtime_ns for path in files)
    note = Checkpoint(
        instance,
        0,
        "",
        until,
        PRUNE,
        str(folder.resolve()),
        os.getpid(),
        json.dumps(names),
    ).signed(key)
    store.write([note])
    for path in files:
        path.unlink(missing_ok=True)
    events.emit(
        SENSITIVE_DELETE,
        reason="retention",
        attributes={
            "talaro.audit.files": names,
            "talaro.audit.retention_days": days,
            "talaro.audit.removed_until": format_time(until),
        },
    )
    return files

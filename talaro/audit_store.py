"""The audit chain's checkpoints in the database (table `audit_checkpoints`).

Telemetry writes checkpoints through this store from its own background thread; it
uses SQLAlchemy Core on an engine of its own (no pool: one short connection per batch),
so it never joins a request's session or transaction, and Flask-SQLAlchemy's engine (and
its spans) never see it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import fields

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.pool import NullPool

from talaro.models import AuditCheckpoint
from talaro.telemetry.checkpoints import STORE, Checkpoint

TABLE = AuditCheckpoint.__table__
COLUMNS = tuple(field.name for field in fields(Checkpoint))


class SqlCheckpointStore:
    """`CheckpointStore` (telemetry/checkpoints.py) over the application's database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._engine: sa.Engine | None = None
        self._pid = 0

    def _connect(self) -> sa.Engine:
        with self._lock:
            if self._engine is None or self._pid != os.getpid():  # made after a fork
                self._engine = sa.create_engine(self.url, poolclass=NullPool)
                self._pid = os.getpid()
            return self._engine

    def write(self, checkpoints: Sequence[Checkpoint]) -> None:
        rows = [{name: getattr(point, name) for name in COLUMNS} for point in checkpoints]
        with self._connect().begin() as connection:
            connection.execute(sa.insert(TABLE), rows)

    def read(self) -> list[Checkpoint]:
        query = sa.select(*(TABLE.c[name] for name in COLUMNS)).order_by(TABLE.c.id)
        with self._connect().connect() as connection:
            return [Checkpoint(**row._mapping) for row in connection.execute(query)]

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


def init_app(app: Flask) -> None:
    """Register the store, before telemetry is built, so the audit chain finds it."""
    app.extensions[STORE] = SqlCheckpointStore(app.config["SQLALCHEMY_DATABASE_URI"])

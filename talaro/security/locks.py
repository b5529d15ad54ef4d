"""Sign-in locks in the database (table `account_locks`), where every worker sees them,
through a Redis outage and a restart; the store (Redis or memory) keeps the counters.

Each step is one statement in a short transaction of its own (never the request's
session), so of several workers locking one account at once exactly one sets the lock
(and records it). Times come from the detection store's clock, so tests that move that
clock move the locks too. A database that cannot be reached returns None: the caller
falls back to the store's lock flag.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from talaro.extensions import db
from talaro.models import AccountLock

TABLE = AccountLock.__table__
KEEP_EXPIRED_S = 86_400  # an expired lock row is removed a day later
logger = logging.getLogger("talaro.security")


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def locked_until(account: str) -> float | None:
    """When the account's lock ends (clock seconds), None without one or without the
    database."""
    query = sa.select(TABLE.c.locked_until).where(TABLE.c.account == account)
    try:
        with db.engine.connect() as connection:
            until = connection.execute(query).scalar()
    except SQLAlchemyError as exc:
        logger.warning("account locks not readable (the store's are used): %s", _reason(exc))
        return None
    return until.timestamp() if until is not None else None


def lock_account(account: str, *, until: float, now: float, failures: int) -> bool | None:
    """Lock `account` until `until` unless a lock holds already: True for the caller that
    set it, False when one held, None when the database could not be written."""
    row = {"account": account, "locked_until": _at(until), "failures": failures}
    try:
        try:
            with db.engine.begin() as connection:
                connection.execute(sa.insert(TABLE).values(**row))
            return True
        except IntegrityError:
            pass  # locked before: take it over only if that lock has ended
        with db.engine.begin() as connection:
            renewed = connection.execute(
                sa.update(TABLE)
                .where(TABLE.c.account == account, TABLE.c.locked_until <= _at(now))
                .values(locked_until=row["locked_until"], failures=failures)
            ).rowcount
            connection.execute(
                sa.delete(TABLE).where(TABLE.c.locked_until < _at(now - KEEP_EXPIRED_S))
            )
        return renewed == 1
    except SQLAlchemyError as exc:
        logger.warning("account lock not written (the store's is used): %s", _reason(exc))
        return None


def _reason(exc: SQLAlchemyError) -> object:
    return getattr(exc, "orig", None) or exc  # SQLAlchemy's text repeats the SQL

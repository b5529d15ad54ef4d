"""Server-side sessions: the cookie carries a session id, and the row decides.

The session cookie is signed but would otherwise stay valid forever; each sign-in opens a
`UserSession` row and every request checks it (ended, idle or past its absolute lifetime:
TALARO_SESSION_IDLE_SECONDS, TALARO_SESSION_ABSOLUTE_SECONDS). Logout, a password change,
deactivation and an admin's "sign out everywhere" end the rows, so a copied cookie is
useless afterwards; presenting it is a `session_use_after_expire` security event.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, update

from talaro.extensions import db
from talaro.models import User, UserSession, utcnow
from talaro.telemetry.catalogue import SESSION_EXPIRED, SESSION_USE_AFTER_EXPIRE
from talaro.telemetry.events import FAILURE, emit

LAST_SEEN_PRECISION = 60  # seconds: at most one write per session per minute


class EndReason:
    LOGOUT = "logout"
    PASSWORD_CHANGE = "password change"
    PASSWORD_RESET = "password reset by an admin"
    DEACTIVATED = "deactivated"
    SIGNED_OUT_EVERYWHERE = "signed out everywhere"
    IDLE = "idle lifetime"
    ABSOLUTE = "absolute lifetime"


def _lifetimes() -> tuple[timedelta, timedelta]:
    config = current_app.config
    idle = timedelta(seconds=config["TALARO_SESSION_IDLE_SECONDS"])
    absolute = timedelta(seconds=config["TALARO_SESSION_ABSOLUTE_SECONDS"])
    return idle, absolute


def public_id(session_id: str) -> str:
    """What records say about a session: a digest, never the id the cookie carries."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:16]


def open_session(user: User) -> UserSession:
    """A new session row for `user` (committed); the user's long-dead rows are pruned."""
    now = utcnow()
    _idle, absolute = _lifetimes()
    # Past its absolute lifetime a row can only refuse; its cookie is refused without it too.
    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id, UserSession.created_at < now - absolute
        )
    )
    row = UserSession(user_id=user.id, created_at=now, last_seen_at=now)
    db.session.add(row)
    db.session.commit()
    return row


def resume(user: User, session_id: object, now: datetime | None = None) -> bool:
    """Whether the cookie's session of `user` is live; refreshes its last-seen time.

    A refusal is recorded: `session_use_after_expire` for a session that was ended (or
    never existed), `session_expired` the first time a lifetime runs out."""
    row = db.session.get(UserSession, session_id) if isinstance(session_id, str) else None
    if row is None or row.user_id != user.id:
        _refused(user, "unknown session", None)
        return False
    if row.ended_at is not None:
        _refused(user, row.end_reason or "ended", row.id)
        return False
    if not user.active:
        _refused(user, EndReason.DEACTIVATED, row.id)
        return False
    now = now or utcnow()
    idle, absolute = _lifetimes()
    lapsed = (
        EndReason.ABSOLUTE
        if now - row.created_at >= absolute
        else EndReason.IDLE
        if now - row.last_seen_at >= idle
        else None
    )
    if lapsed is not None:
        _end(row, lapsed, now)
        db.session.commit()
        emit(
            SESSION_EXPIRED,
            reason=lapsed,
            attributes={"target.user.id": user.id, "talaro.session.id": public_id(row.id)},
        )
        return False
    precision = min(timedelta(seconds=LAST_SEEN_PRECISION), idle / 4)
    if now - row.last_seen_at >= precision:
        row.last_seen_at = now
        db.session.commit()
    return True


def _refused(user: User, ended_reason: str, session_id: str | None) -> None:
    emit(
        SESSION_USE_AFTER_EXPIRE,
        outcome=FAILURE,
        reason=f"A session that was ended ({ended_reason}) was presented",
        attributes={
            "target.user.id": user.id,
            "talaro.session.ended_reason": ended_reason,
            "talaro.session.id": public_id(session_id) if session_id else None,
        },
    )


def _end(row: UserSession, reason: str, now: datetime) -> None:
    row.ended_at = now
    row.end_reason = reason


def end_sessions(user_id: str, reason: str, *, keep: str | None = None) -> int:
    """End every live session of a user (but `keep`); returns how many. Not committed."""
    query = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.ended_at.is_(None)
    )
    if keep is not None:
        query = query.where(UserSession.id != keep)
    result = db.session.execute(
        query.values(ended_at=utcnow(), end_reason=reason).execution_options(
            synchronize_session=False
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

"""Database models (SQLAlchemy 2 typed mappings)."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from talaro.extensions import db


def new_id() -> str:
    """An opaque identifier for a new row."""
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC and hands back aware UTC, identically on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Role(enum.StrEnum):
    ADMIN = "ADMIN"
    HIRING_MANAGER = "HIRING_MANAGER"
    RECRUITER = "RECRUITER"
    INTERVIEWER = "INTERVIEWER"


class InterviewStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    COMPLETED = "completed"  # set when feedback is saved, never by hand
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class Recommendation(enum.StrEnum):
    STRONG_YES = "strong_yes"
    YES = "yes"
    NO = "no"
    STRONG_NO = "strong_no"


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # Stored lower-cased, so the unique index makes email unique case-insensitively.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.INTERVIEWER)
    active: Mapped[bool] = mapped_column(default=True)
    # Set by an ADMIN's temporary password: nothing but a password change until it is done.
    password_must_change: Mapped[bool] = mapped_column(default=False, server_default=false())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Someone tried to register this address: told to the owner at their next sign-in.
    registration_attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # IANA name the pages show times in; None until set (the pages then use UTC).
    time_zone: Mapped[str | None] = mapped_column(String(64))

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # flask-login refuses sessions of inactive users
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the token: tokens are 256 random bits, so a fast hash is enough.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")


class UserSession(db.Model):
    """One signed-in browser session; the cookie carries its id, so ending the row ends
    the cookie (logout, password change, deactivation, "sign out everywhere")."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(40))


class Job(TimestampMixin, db.Model):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"))


class Candidate(TimestampMixin, db.Model):
    __tablename__ = "candidates"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)

    resumes: Mapped[list[Resume]] = relationship(
        back_populates="candidate", order_by="Resume.created_at"
    )
    interviews: Mapped[list[Interview]] = relationship(
        back_populates="candidate", order_by="Interview.starts_at"
    )


class Resume(TimestampMixin, db.Model):
    __tablename__ = "resumes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("candidates.id"), index=True)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    uploaded_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    text: Mapped[str] = deferred(mapped_column(Text, default=""))
    pages: Mapped[int] = mapped_column(Integer, default=1)
    extracted_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    confidence: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    # Human corrections are kept apart so a re-parse never overwrites them.
    corrections: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Lower-cased text plus field values, for portable LIKE search on SQLite and PostgreSQL.
    search_text: Mapped[str] = deferred(mapped_column(Text, default=""))

    candidate: Mapped[Candidate] = relationship(back_populates="resumes")
    job: Mapped[Job | None] = relationship()
    uploaded_by: Mapped[User] = relationship()

    @property
    def fields(self) -> dict[str, Any]:
        """Extracted fields with human corrections laid over them."""
        return {**(self.extracted_fields or {}), **(self.corrections or {})}


class Interview(TimestampMixin, db.Model):
    __tablename__ = "interviews"
    __table_args__ = (
        Index("ix_interviews_interviewer_time", "interviewer_id", "starts_at"),
        Index("ix_interviews_candidate_time", "candidate_id", "starts_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("candidates.id"))
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    interviewer_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    scheduled_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    round: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(20), default=InterviewStatus.SCHEDULED)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    candidate: Mapped[Candidate] = relationship(back_populates="interviews")
    job: Mapped[Job] = relationship()
    interviewer: Mapped[User] = relationship(foreign_keys=[interviewer_id])
    scheduled_by: Mapped[User] = relationship(foreign_keys=[scheduled_by_id])
    feedback: Mapped[Feedback | None] = relationship(
        back_populates="interview", cascade="all, delete-orphan"
    )


class Feedback(TimestampMixin, db.Model):
    __tablename__ = "feedback"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    interview_id: Mapped[str] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), unique=True
    )
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    rating: Mapped[int] = mapped_column(Integer)
    recommendation: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    interview: Mapped[Interview] = relationship(back_populates="feedback")
    earlier: Mapped[list[FeedbackVersion]] = relationship(
        back_populates="feedback",
        cascade="all, delete-orphan",
        order_by="FeedbackVersion.version",
    )


class FeedbackVersion(db.Model):
    """An earlier version of a feedback, kept when its author edits it."""

    __tablename__ = "feedback_versions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    feedback_id: Mapped[str] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    rating: Mapped[int] = mapped_column(Integer)
    recommendation: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str] = mapped_column(Text, default="")
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when this version was saved
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    feedback: Mapped[Feedback] = relationship(back_populates="earlier")


class AuditCheckpoint(db.Model):
    """Where a process's security chain stood (talaro/telemetry/checkpoints.py), or a
    retention note (`kind` prune); written by talaro/audit_store.py, never by the ORM."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    instance: Mapped[str] = mapped_column(String(64), index=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    time_unix_nano: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    location: Mapped[str] = mapped_column(String(1024), default="")
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    mac: Mapped[str] = mapped_column(String(64), default="")


class AccountLock(db.Model):
    """A sign-in lock (security/detection.py), kept where every worker sees it, through a
    Redis outage and a restart. Keyed by `identity.account_key` (a keyed hash, the same for
    unknown accounts), never the email."""

    __tablename__ = "account_locks"

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    locked_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)

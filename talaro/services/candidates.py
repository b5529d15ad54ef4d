"""Candidates: one person, however many resumes, matched by email then phone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from talaro.errors import NotFound
from talaro.extensions import db
from talaro.models import Candidate, User
from talaro.permissions import (
    Action,
    check_candidate,
    interviews_visible_to,
    visible_candidates,
)


def _fitting(value: str | None, column: str) -> str | None:
    """An extracted value the column can hold; a longer one is no real name, address or
    number, and storing it would fail the upload (PostgreSQL checks lengths)."""
    limit = Candidate.__table__.c[column].type.length
    return value if value is None or len(value) <= limit else None


def match_or_create(name: str | None, email: str | None, phone: str | None) -> Candidate:
    """The existing candidate with this email (else phone), or a new one."""
    name, email, phone = _fitting(name, "name"), _fitting(email, "email"), _fitting(phone, "phone")
    candidate = None
    if email:
        candidate = db.session.scalar(select(Candidate).where(Candidate.email == email.lower()))
    if candidate is None and phone:
        candidate = db.session.scalar(select(Candidate).where(Candidate.phone == phone))
    if candidate is None:
        candidate = Candidate(name=name, email=email.lower() if email else None, phone=phone)
        db.session.add(candidate)
        return candidate
    # Fill what the earlier resume lacked; never overwrite what is known.
    candidate.name = candidate.name or name
    candidate.email = candidate.email or (email.lower() if email else None)
    candidate.phone = candidate.phone or phone
    return candidate


def get_candidate(user: User, candidate_id: str) -> Candidate:
    candidate = db.session.get(Candidate, candidate_id)
    if candidate is None:
        raise NotFound("Candidate not found")
    check_candidate(user, candidate, Action.CANDIDATE_VIEW)
    return candidate


def list_candidates(
    user: User, q: str = "", page: int = 1, per_page: int = 20
) -> tuple[list[Candidate], int]:
    query = visible_candidates(select(Candidate), user)
    if q:
        pattern = f"%{escape_like(q.lower())}%"
        query = query.where(
            func.lower(func.coalesce(Candidate.name, "")).like(pattern, escape="\\")
            | func.coalesce(Candidate.email, "").like(pattern, escape="\\")
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(
        query.options(selectinload(Candidate.resumes), selectinload(Candidate.interviews))
        .order_by(Candidate.created_at.desc(), Candidate.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(items), total


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def delete_if_orphaned(candidate: Candidate) -> None:
    """Remove a candidate left with no resume and no interview."""
    if not candidate.resumes and not candidate.interviews:
        db.session.delete(candidate)


def present(user: User, candidate: Candidate) -> dict[str, Any]:
    """A candidate as `user` may see them: interviewers only see their own interviews."""
    return {
        "id": candidate.id,
        "name": candidate.name,
        "email": candidate.email,
        "phone": candidate.phone,
        "resumes": candidate.resumes,
        "interviews": interviews_visible_to(user, candidate.interviews),
        "created_at": candidate.created_at,
    }

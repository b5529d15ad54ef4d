"""Resumes once stored: view, list and search, corrections, deletion (uploads: ingestion)."""

from __future__ import annotations

from typing import Any

import phonenumbers
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from talaro.errors import Invalid, NotFound
from talaro.extensions import db
from talaro.models import Job, Resume, User
from talaro.permissions import Action, check_resume, visible_resumes
from talaro.services import candidates
from talaro.telemetry.catalogue import RESUME_DELETE, RESUME_LIST, RESUME_UPDATE, RESUME_VIEW
from talaro.telemetry.events import recorded

EXPERIENCE_KEYS = ("employer", "title", "start", "end")


def job_for(job_id: str | None) -> Job | None:
    """The job a resume is to be attached to (None for none); an unknown id is Invalid."""
    if not job_id:
        return None
    job = db.session.get(Job, job_id)
    if job is None:
        raise Invalid("Unknown job", details={"fields": {"job_id": ["no such job"]}})
    return job


def get_resume(user: User, resume_id: str, action: Action = Action.RESUME_VIEW) -> Resume:
    resume = db.session.get(Resume, resume_id)
    if resume is None:
        raise NotFound("Resume not found")
    check_resume(user, resume, action)
    return resume


def view_resume(user: User, resume_id: str, *, download: bool = False) -> Resume:
    """A resume the user may see (the `resume_view` event)."""
    with recorded(RESUME_VIEW, **{"resume.id": resume_id, "talaro.download": download}) as details:
        resume = get_resume(user, resume_id)
        details["candidate.id"] = resume.candidate_id
    return resume


def list_resumes(
    user: User, q: str = "", page: int = 1, per_page: int = 20
) -> tuple[list[Resume], int]:
    """A page of the resumes `user` may see; the search text is not recorded."""
    with recorded(RESUME_LIST, **{"talaro.page": page}) as details:
        items, total = _search(user, q, page, per_page)
        details.update(
            {
                "talaro.result_count": len(items),
                "talaro.total": total,
                "talaro.searched": bool(q.strip()),
            }
        )
    return items, total


def _search(user: User, q: str, page: int, per_page: int) -> tuple[list[Resume], int]:
    query = visible_resumes(select(Resume), user)
    for term in q.lower().split():
        pattern = f"%{candidates.escape_like(term)}%"
        query = query.where(Resume.search_text.like(pattern, escape="\\"))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(
        query.options(selectinload(Resume.candidate))  # one query, not one per resume
        .order_by(Resume.created_at.desc(), Resume.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(items), total


def update_resume(user: User, resume_id: str, changes: dict[str, Any]) -> Resume:
    """Record human corrections (kept apart from extracted values) and the job link."""
    with recorded(RESUME_UPDATE, **{"resume.id": resume_id}) as details:
        resume = get_resume(user, resume_id, Action.RESUME_UPDATE)
        details["talaro.corrected_fields"] = sorted(changes.get("fields") or {})
        _apply_changes(resume, changes)
    return resume


def _apply_changes(resume: Resume, changes: dict[str, Any]) -> None:
    if "job_id" in changes:
        resume.job = job_for(changes["job_id"])
    corrected = changes.get("fields") or {}
    if "phone" in corrected and corrected["phone"]:
        corrected["phone"] = normalise_phone(corrected["phone"])
    if corrected.get("experience"):  # every job with the keys an extracted one has
        corrected["experience"] = [
            {key: job.get(key) for key in EXPERIENCE_KEYS} for job in corrected["experience"]
        ]
    if corrected:
        resume.corrections = {**(resume.corrections or {}), **corrected}
        for name in ("name", "email", "phone"):
            if corrected.get(name):
                setattr(resume.candidate, name, corrected[name])
        resume.search_text = search_text(resume.text, resume.fields)
    db.session.commit()


def normalise_phone(raw: str) -> str:
    region = current_app.config["TALARO_PHONE_REGION"]
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise Invalid("Invalid phone number", details={"fields": {"phone": [str(exc)]}}) from exc
    if not phonenumbers.is_valid_number(number):
        raise Invalid("Invalid phone number", details={"fields": {"phone": ["not a valid number"]}})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def delete_resume(user: User, resume_id: str) -> None:
    """Delete a resume, and its candidate when nothing else refers to them."""
    with recorded(RESUME_DELETE, **{"resume.id": resume_id}):
        resume = get_resume(user, resume_id, Action.RESUME_DELETE)
        candidate = resume.candidate
        db.session.delete(resume)
        db.session.flush()
        db.session.refresh(candidate)
        candidates.delete_if_orphaned(candidate)
        db.session.commit()


def search_text(text: str, fields: dict[str, Any]) -> str:
    """What the resume search matches: the text and every field value, lower-cased."""
    parts = [text]
    for value in fields.values():
        if isinstance(value, list):
            parts.extend(str(v) for v in value)
        elif value is not None:
            parts.append(str(value))
    return "\n".join(parts).lower()

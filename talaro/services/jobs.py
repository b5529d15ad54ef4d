"""Jobs: the openings resumes and interviews are attached to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from talaro.errors import NotFound
from talaro.extensions import db
from talaro.models import Job, User
from talaro.telemetry.catalogue import JOB_CREATE, JOB_UPDATE
from talaro.telemetry.events import recorded


def get_job(job_id: str) -> Job:
    job = db.session.get(Job, job_id)
    if job is None:
        raise NotFound("Job not found")
    return job


def list_jobs(page: int = 1, per_page: int = 20) -> tuple[list[Job], int]:
    total = db.session.scalar(select(func.count()).select_from(Job)) or 0
    query = select(Job).order_by(Job.created_at.desc(), Job.id)
    items = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page))
    return list(items), total


def create_job(user: User, title: str, department: str = "", description: str = "") -> Job:
    with recorded(JOB_CREATE) as details:
        job = Job(
            title=title.strip(),
            department=department.strip(),
            description=description,
            created_by_id=user.id,
        )
        db.session.add(job)
        db.session.commit()
        details["job.id"] = job.id
    return job


def update_job(job_id: str, changes: dict[str, Any]) -> Job:
    attributes = {"job.id": job_id, "talaro.changed_fields": sorted(changes)}
    with recorded(JOB_UPDATE, **attributes):
        job = get_job(job_id)
        for name in ("title", "department", "description"):
            if name in changes:
                setattr(job, name, changes[name])
        db.session.commit()
    return job

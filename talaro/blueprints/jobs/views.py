"""Jobs (`/api/jobs`)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from talaro.permissions import Action, require, signed_in_user
from talaro.schemas import PageArgsSchema, page_body
from talaro.services import jobs

from .schemas import JobCreateSchema, JobPageSchema, JobSchema, JobUpdateSchema

blp = Blueprint("jobs", __name__, url_prefix="/api/jobs", description="Jobs")


@blp.route("", methods=["GET"])
@require(Action.JOB_VIEW)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, JobPageSchema)
def list_jobs(args: dict[str, Any]) -> Any:
    """A page of jobs, newest first."""
    items, total = jobs.list_jobs(args["page"], args["per_page"])
    return page_body(items, total, args)


@blp.route("", methods=["POST"])
@require(Action.JOB_CREATE)
@blp.arguments(JobCreateSchema)
@blp.response(201, JobSchema)
def create_job(body: dict[str, Any]) -> Any:
    """Open a job (HIRING_MANAGER)."""
    return jobs.create_job(signed_in_user(), **body)


@blp.route("/<job_id>", methods=["GET"])
@require(Action.JOB_VIEW)
@blp.response(200, JobSchema)
def get_job(job_id: str) -> Any:
    """One job."""
    return jobs.get_job(job_id)


@blp.route("/<job_id>", methods=["PATCH"])
@require(Action.JOB_UPDATE)
@blp.arguments(JobUpdateSchema)
@blp.response(200, JobSchema)
def update_job(body: dict[str, Any], job_id: str) -> Any:
    """Change a job (HIRING_MANAGER)."""
    return jobs.update_job(job_id, body)

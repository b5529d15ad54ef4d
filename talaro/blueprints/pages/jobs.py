"""Jobs: the list for everyone, and the form that opens one (HIRING_MANAGER)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from talaro.blueprints.jobs.schemas import JobCreateSchema
from talaro.blueprints.pages import forms
from talaro.blueprints.pages.forms import PER_PAGE, page_number
from talaro.blueprints.pages.views import bp
from talaro.errors import ServiceError
from talaro.permissions import Action, authorize, require, signed_in_user
from talaro.services import jobs

JOB_FIELDS = ("title", "department", "description")


def jobs_page(**context: Any) -> dict[str, Any]:
    page = page_number()
    items, total = jobs.list_jobs(page, PER_PAGE)
    return {"jobs": items, "total": total, "page": page, "per_page": PER_PAGE, **context}


@bp.route("/jobs")
@login_required
@require(Action.JOB_VIEW)
def job_list() -> Any:
    """A page of jobs, newest first, with the form to open one."""
    return render_template("jobs/list.html", **jobs_page(values={}, errors={}))


@bp.route("/jobs", methods=["POST"])
@login_required
def job_create() -> Any:
    """Open a job.

    :raise 403: for a role that may not create jobs (shown on the page).
    """
    user = signed_in_user()
    values = {name: request.form.get(name, "") for name in JOB_FIELDS}
    try:
        authorize(user, Action.JOB_CREATE)
        job = jobs.create_job(user, **forms.load(JobCreateSchema(), values))
    except ServiceError as exc:
        return forms.failed(exc, "jobs/list.html", **jobs_page(values=values))
    flash(f"Job “{job.title}” created.", "success")
    return redirect(url_for("pages.job_list"))

"""Resumes: search and list, bulk upload, details with extracted fields, corrections."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from talaro.blueprints.pages import forms
from talaro.blueprints.pages.display import can, field_text
from talaro.blueprints.pages.forms import PER_PAGE, page_number
from talaro.blueprints.pages.views import bp
from talaro.blueprints.resumes.schemas import ResumeFieldsSchema
from talaro.errors import ServiceError
from talaro.models import Resume
from talaro.permissions import Action, authorize, require, signed_in_user
from talaro.services import ingestion, jobs, resumes

# The fields a person may correct on the page, in form order.
CORRECTABLE = ("name", "email", "phone", "location", "skills", "years_experience")
LIST_FIELDS = frozenset({"skills"})


def job_choices() -> list[Any]:
    return jobs.list_jobs(per_page=100)[0] if can("JOB_VIEW") else []


@bp.route("/resumes")
@login_required
@require(Action.RESUME_VIEW)
def resume_list() -> Any:
    """A page of resumes, searchable by text and fields, with the upload form."""
    q = request.args.get("q", "").strip()[:200]
    page = page_number()
    items, total = resumes.list_resumes(signed_in_user(), q, page, PER_PAGE)
    return render_template(
        "resumes/list.html",
        resumes=items,
        total=total,
        q=q,
        page=page,
        per_page=PER_PAGE,
        jobs=job_choices(),
    )


@bp.route("/resumes/upload", methods=["GET", "POST"])
@login_required
def resume_upload() -> Any:
    """Upload one or more resumes; one result per file, in order.

    The form is shown to anyone signed in; submitting it is what is authorised.

    :raise 403: for a role that may not upload (shown on the form).
    """
    if request.method == "GET":
        return render_template("resumes/upload.html", jobs=job_choices(), results=None, errors={})
    user = signed_in_user()
    files = [f for f in request.files.getlist("files") if f.filename]
    job_id = request.form.get("job_id") or None
    try:
        authorize(user, Action.RESUME_UPLOAD)
        batch = ingestion.bulk_upload(user, [(f.filename, f.stream) for f in files], job_id)
    except ServiceError as exc:
        return forms.failed(exc, "resumes/upload.html", jobs=job_choices(), results=None)
    flash(
        f"{batch.created} of {len(batch.results)} files uploaded.",
        "error" if batch.failed else "success",
    )
    return render_template(
        "resumes/upload.html", jobs=job_choices(), results=batch.results, errors={}
    )


@bp.route("/resumes/<resume_id>")
@login_required
def resume_detail(resume_id: str) -> Any:
    """A resume with every extracted field, its confidence, and the correction form."""
    resume = resumes.view_resume(signed_in_user(), resume_id)
    context = detail_context(resume, form_values(resume))
    return render_template("resumes/detail.html", errors={}, **context)


@bp.route("/resumes/<resume_id>/fields", methods=["POST"])
@login_required
def resume_correct(resume_id: str) -> Any:
    """Record corrections for the fields the person changed (others stay as extracted).

    :raise 403: for a role, or an uploader, that may not change this resume.
    """
    user = signed_in_user()
    resume = resumes.get_resume(user, resume_id)  # to show the page again on failure
    submitted = {name: request.form.get(name, "") for name in CORRECTABLE}
    try:
        resume = resumes.get_resume(user, resume_id, Action.RESUME_UPDATE)
        changes = changed_fields(resume, submitted)
        if changes:
            resumes.update_resume(user, resume_id, {"fields": changes})
    except ServiceError as exc:
        return forms.failed(exc, "resumes/detail.html", **detail_context(resume, submitted))
    if changes:
        flash(f"Corrected {', '.join(sorted(changes))}.", "success")
    else:
        flash("Nothing changed.", "info")
    return redirect(url_for("pages.resume_detail", resume_id=resume.id))


def form_values(resume: Resume) -> dict[str, str]:
    fields = resume.fields
    return {name: field_text(fields.get(name)) for name in CORRECTABLE}


def changed_fields(resume: Resume, submitted: dict[str, str]) -> dict[str, Any]:
    """Validated values of the fields whose text differs from what the form showed.

    :raise 422: `Invalid` with a message per bad field.
    """
    shown = form_values(resume)
    raw: dict[str, Any] = {}
    for name, text in submitted.items():
        text = text.strip()
        if text == shown[name]:
            continue
        if name in LIST_FIELDS:
            raw[name] = [item.strip() for item in text.split(",") if item.strip()]
        else:
            raw[name] = text or None
    return forms.load(ResumeFieldsSchema(partial=True), raw) if raw else {}


def detail_context(resume: Resume, values: dict[str, str]) -> dict[str, Any]:
    return {"resume": resume, "values": values, "correctable": CORRECTABLE}

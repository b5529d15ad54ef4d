"""Resumes: search and list, bulk upload, details with extracted fields, corrections."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from talaro.blueprints.pages import forms
from talaro.blueprints.pages.display import can, field_text
from talaro.blueprints.pages.forms import PER_PAGE, page_number
from talaro.blueprints.pages.views import bp
from talaro.blueprints.resumes.schemas import MAX_EXPERIENCE, ResumeFieldsSchema
from talaro.errors import Invalid, ServiceError
from talaro.models import Resume
from talaro.permissions import Action, authorize, may_change_resume, require, signed_in_user
from talaro.services import ingestion, jobs, resumes

# The fields a person may correct on the page with one input each, in form order;
# education (a line per entry) and experience (a row of inputs per job) follow.
CORRECTABLE = ("name", "email", "phone", "location", "skills", "years_experience")
LIST_FIELDS = frozenset({"skills"})
JOB_PARTS = ("title", "employer", "start", "end")
BLANK_JOBS = 2  # empty rows under the jobs, to add one
_JOB_INPUT = re.compile(r"experience-(\d{1,3})-(title|employer|start|end)")


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

    :raise 403: for a role that may not upload: the form is not shown to it, and a
        submission anyway is refused with the reason.
    """
    if request.method == "GET":
        authorize(signed_in_user(), Action.RESUME_UPLOAD)
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


@bp.route("/resumes/<resume_id>/delete", methods=["GET", "POST"])
@login_required
@require(Action.RESUME_DELETE)
def resume_delete(resume_id: str) -> Any:
    """Delete a resume: GET asks for confirmation, POST deletes.

    :raise 403: for a role, or an uploader, that may not delete this resume.
    """
    user = signed_in_user()
    resume = resumes.get_resume(user, resume_id, Action.RESUME_DELETE)
    if request.method == "GET":
        return render_template("resumes/delete.html", resume=resume)
    name = resume.fields.get("name") or resume.filename
    resumes.delete_resume(user, resume_id)
    flash(f"Deleted the resume of {name}.", "success")
    return redirect(url_for("pages.resume_list"))


@bp.route("/resumes/<resume_id>/fields", methods=["POST"])
@login_required
def resume_correct(resume_id: str) -> Any:
    """Record corrections for the fields the person changed (others stay as extracted).

    :raise 403: for a role, or an uploader, that may not change this resume.
    """
    user = signed_in_user()
    resume = resumes.get_resume(user, resume_id)  # to show the page again on failure
    submitted = submitted_values(request.form)
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
    """What the correction form shows: one text per input (``experience-<row>-<part>``)."""
    fields = resume.fields
    values = {name: field_text(fields.get(name)) for name in CORRECTABLE}
    values["education"] = "\n".join(fields.get("education") or [])
    for row, job in enumerate(fields.get("experience") or []):
        for part in JOB_PARTS:
            values[f"experience-{row}-{part}"] = job.get(part) or ""
    return values


def submitted_values(form: Mapping[str, str]) -> dict[str, str]:
    values = {name: form.get(name, "") for name in (*CORRECTABLE, "education")}
    for name, text in form.items():
        match = _JOB_INPUT.fullmatch(name)
        if match and int(match[1]) < MAX_EXPERIENCE + BLANK_JOBS:
            values[name] = text
    return values


def _jobs(values: Mapping[str, str]) -> tuple[list[int], list[dict[str, str | None]]]:
    """The form rows that hold a job (an empty row is a removed or unused one), and the
    jobs, with empty parts as None."""
    rows = sorted({int(m[1]) for name in values if (m := _JOB_INPUT.fullmatch(name))})
    kept, jobs = [], []
    for row in rows:
        job = {
            part: values.get(f"experience-{row}-{part}", "").strip() or None for part in JOB_PARTS
        }
        if any(job.values()):
            kept.append(row)
            jobs.append(job)
    return kept, jobs


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def changed_fields(resume: Resume, submitted: dict[str, str]) -> dict[str, Any]:
    """Validated values of the fields whose text differs from what the form showed.

    :raise 422: `Invalid` with a message per bad field (per input for the jobs).
    """
    shown = form_values(resume)
    raw: dict[str, Any] = {}
    for name in CORRECTABLE:
        text = submitted.get(name, "").strip()
        if text == shown[name]:
            continue
        if name in LIST_FIELDS:
            raw[name] = [item.strip() for item in text.split(",") if item.strip()]
        else:
            raw[name] = text or None
    if _lines(submitted.get("education", "")) != _lines(shown["education"]):
        raw["education"] = _lines(submitted["education"])
    rows, jobs = _jobs(submitted)
    if jobs != _jobs(shown)[1]:
        raw["experience"] = jobs
    if not raw:
        return {}
    try:
        return forms.load(ResumeFieldsSchema(partial=True), raw)
    except Invalid as exc:
        raise forms.invalid(_job_errors(forms.field_errors(exc), exc, rows)) from exc


def _job_errors(flat: dict[str, list[str]], error: Invalid, rows: list[int]) -> dict[str, Any]:
    """Messages about a job's part put on that row's input (``experience-<row>-<part>``)."""
    nested = error.details["fields"].get("experience")
    if not isinstance(nested, Mapping):
        return flat
    messages = {name: text for name, text in flat.items() if name != "experience"}
    for index, parts in nested.items():
        for part, text in parts.items():
            messages[f"experience-{rows[int(index)]}-{part}"] = text
    return messages


def detail_context(resume: Resume, values: dict[str, str]) -> dict[str, Any]:
    job_rows = max(
        (int(m[1]) + 1 for name in values if (m := _JOB_INPUT.fullmatch(name))), default=0
    )
    return {
        "resume": resume,
        # The correction form and the delete button only for those who may use them.
        "may_change": may_change_resume(signed_in_user(), resume),
        "values": values,
        "correctable": CORRECTABLE,
        "job_rows": range(min(job_rows, MAX_EXPERIENCE) + BLANK_JOBS),
    }

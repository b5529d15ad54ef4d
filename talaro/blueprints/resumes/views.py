"""Resumes (`/api/resumes`)."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import send_file
from flask_smorest import Blueprint

from talaro.permissions import Action, require, signed_in_user
from talaro.schemas import page_body
from talaro.services import ingestion, resumes

from .schemas import (
    BulkFilesSchema,
    BulkResponseSchema,
    ResumePageSchema,
    ResumeSchema,
    ResumeSearchArgsSchema,
    ResumeUpdateSchema,
    SingleFileSchema,
    UploadFormSchema,
)

blp = Blueprint("resumes", __name__, url_prefix="/api/resumes", description="Resumes")


@blp.route("", methods=["POST"])
@require(Action.RESUME_UPLOAD)
@blp.arguments(UploadFormSchema, location="form")
@blp.arguments(SingleFileSchema, location="files")
@blp.response(201, ResumeSchema)
@blp.alt_response(409, description="An identical file was already uploaded")
@blp.alt_response(413, description="The file is over the size limit")
@blp.alt_response(415, description="Not a PDF, DOCX or plain-text file")
def upload(form: dict[str, Any], files: dict[str, Any]) -> Any:
    """Upload one resume; its text and fields are extracted and its candidate matched."""
    file = files["file"]
    return ingestion.upload_resume(signed_in_user(), file.filename, file.stream, form.get("job_id"))


@blp.route("/bulk", methods=["POST"])
@require(Action.RESUME_UPLOAD)
@blp.arguments(UploadFormSchema, location="form")
@blp.arguments(BulkFilesSchema, location="files")
@blp.response(200, BulkResponseSchema)
def bulk_upload(form: dict[str, Any], files: dict[str, Any]) -> Any:
    """Upload many resumes; one result per file, in order."""
    pairs = [(file.filename, file.stream) for file in files["files"]]
    batch = ingestion.bulk_upload(signed_in_user(), pairs, form.get("job_id"))
    return {"results": batch.results, "success_count": batch.created, "failed_count": batch.failed}


@blp.route("", methods=["GET"])
@require(Action.RESUME_VIEW)
@blp.arguments(ResumeSearchArgsSchema, location="query")
@blp.response(200, ResumePageSchema)
def list_resumes(args: dict[str, Any]) -> Any:
    """A page of resumes, searchable by extracted text and fields (`q`)."""
    items, total = resumes.list_resumes(signed_in_user(), args["q"], args["page"], args["per_page"])
    return page_body(items, total, args)


@blp.route("/<resume_id>", methods=["GET"])
@require(Action.RESUME_VIEW)
@blp.response(200, ResumeSchema)
def get_resume(resume_id: str) -> Any:
    """One resume with its fields."""
    return resumes.view_resume(signed_in_user(), resume_id)


@blp.route("/<resume_id>/file", methods=["GET"])
@require(Action.RESUME_VIEW)
@blp.response(200, description="The original file")
def download(resume_id: str) -> Any:
    """The original file, as uploaded."""
    resume = resumes.view_resume(signed_in_user(), resume_id, download=True)
    return send_file(
        BytesIO(resume.content),
        mimetype=resume.content_type,
        as_attachment=True,
        download_name=resume.filename,
    )


@blp.route("/<resume_id>", methods=["PATCH"])
@require(Action.RESUME_UPDATE)
@blp.arguments(ResumeUpdateSchema)
@blp.response(200, ResumeSchema)
def update(body: dict[str, Any], resume_id: str) -> Any:
    """Correct fields (kept apart from extracted values) or attach to a job."""
    changes = {"fields": body.get("fields_") or {}}
    if "job_id" in body:
        changes["job_id"] = body["job_id"]
    return resumes.update_resume(signed_in_user(), resume_id, changes)


@blp.route("/<resume_id>", methods=["DELETE"])
@require(Action.RESUME_DELETE)
@blp.response(204)
def delete(resume_id: str) -> None:
    """Delete a resume (and its candidate, when nothing else refers to them)."""
    resumes.delete_resume(signed_in_user(), resume_id)

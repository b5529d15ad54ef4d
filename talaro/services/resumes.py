"""Resumes: upload (single and bulk), extraction, search, corrections, deletion."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

import phonenumbers
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from talaro.errors import Conflict, Invalid, NotFound, PayloadTooLarge, UnsupportedMediaType
from talaro.extensions import db
from talaro.extraction import (
    ExtractionError,
    UnsupportedFileType,
    detect_type,
    extract_fields,
    extract_text,
)
from talaro.models import Job, Resume, User
from talaro.permissions import Action, check_resume, visible_resumes
from talaro.services import candidates

MAX_FILENAME_LENGTH = 255


@dataclass(frozen=True)
class Upload:
    """One uploaded file as received: its name as the client gave it, and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class BulkResult:
    filename: str
    status: str  # "created", "duplicate" or "failed"
    id: str | None = None
    error: str | None = None


def read_upload(stream: IO[bytes], filename: str | None) -> Upload:
    """Read at most the size limit plus one byte, so an oversized file is refused cheaply."""
    limit = current_app.config["TALARO_MAX_FILE_SIZE"]
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(
            f"File is larger than the {limit // 1024} KiB limit", code="file_too_large"
        )
    return Upload(clean_filename(filename or ""), data)


def clean_filename(name: str) -> str:
    """A display name: no directories, control characters or runaway length."""
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    name = name.lstrip(".") or "resume"
    return name[:MAX_FILENAME_LENGTH]


def create_resume(user: User, upload: Upload, job_id: str | None = None) -> Resume:
    """Validate, extract and store one resume with its candidate, all or nothing."""
    job = _job_for(job_id)
    if not upload.data:
        raise Invalid("File is empty", code="empty_file")
    try:
        content_type = detect_type(upload.data)
    except UnsupportedFileType as exc:
        raise UnsupportedMediaType(str(exc), code="unsupported_file_type") from exc
    digest = hashlib.sha256(upload.data).hexdigest()
    existing = db.session.scalar(select(Resume.id).where(Resume.sha256 == digest))
    if existing is not None:
        raise _duplicate(existing)
    try:
        extracted = extract_text(
            upload.data, content_type, max_pages=current_app.config["TALARO_MAX_PAGES"]
        )
    except ExtractionError as exc:
        raise Invalid(str(exc), code="unreadable_file") from exc
    found = extract_fields(extracted.text, default_region=current_app.config["TALARO_PHONE_REGION"])
    values = found.values
    candidate = candidates.match_or_create(
        values.get("name"), values.get("email"), values.get("phone")
    )
    resume = Resume(
        candidate=candidate,
        job=job,
        uploaded_by_id=user.id,
        filename=upload.filename,
        size=len(upload.data),
        content_type=content_type,
        sha256=digest,
        content=upload.data,
        text=extracted.text,
        pages=extracted.pages,
        extracted_fields=values,
        confidence=found.confidence,
        corrections={},
    )
    resume.search_text = _search_text(extracted.text, values)
    db.session.add(resume)
    try:
        db.session.commit()
    except IntegrityError as exc:  # the same file committed by a concurrent request
        db.session.rollback()
        existing = db.session.scalar(select(Resume.id).where(Resume.sha256 == digest))
        if existing is None:
            raise
        raise _duplicate(existing) from exc
    return resume


def _duplicate(resume_id: str) -> Conflict:
    return Conflict(
        "An identical file was already uploaded", code="duplicate", details={"id": resume_id}
    )


def _job_for(job_id: str | None) -> Job | None:
    if not job_id:
        return None
    job = db.session.get(Job, job_id)
    if job is None:
        raise Invalid("Unknown job", details={"fields": {"job_id": ["no such job"]}})
    return job


def bulk_create(
    user: User, files: Sequence[tuple[str | None, IO[bytes]]], job_id: str | None = None
) -> list[BulkResult]:
    """Store each `(filename, stream)`; one result per file, in order, a bad file failing alone."""
    limit = current_app.config["TALARO_MAX_BULK_FILES"]
    if not files:
        raise Invalid("No files were sent", details={"fields": {"files": ["required"]}})
    if len(files) > limit:
        raise Invalid(f"At most {limit} files per bulk upload", code="too_many_files")
    _job_for(job_id)
    results = []
    for filename, stream in files:
        try:
            upload = read_upload(stream, filename)
            resume = create_resume(user, upload, job_id)
        except Conflict as exc:
            db.session.rollback()
            results.append(
                BulkResult(
                    clean_filename(filename or ""), "duplicate", exc.details["id"], exc.message
                )
            )
        except (Invalid, UnsupportedMediaType, PayloadTooLarge) as exc:
            db.session.rollback()
            results.append(BulkResult(clean_filename(filename or ""), "failed", None, exc.message))
        else:
            results.append(BulkResult(upload.filename, "created", resume.id))
    return results


def get_resume(user: User, resume_id: str, action: Action = Action.RESUME_VIEW) -> Resume:
    resume = db.session.get(Resume, resume_id)
    if resume is None:
        raise NotFound("Resume not found")
    check_resume(user, resume, action)
    return resume


def list_resumes(
    user: User, q: str = "", page: int = 1, per_page: int = 20
) -> tuple[list[Resume], int]:
    query = visible_resumes(select(Resume), user)
    for term in q.lower().split():
        pattern = f"%{candidates.escape_like(term)}%"
        query = query.where(Resume.search_text.like(pattern, escape="\\"))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(
        query.order_by(Resume.created_at.desc(), Resume.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(items), total


def update_resume(resume: Resume, changes: dict[str, Any]) -> Resume:
    """Record human corrections (kept apart from extracted values) and the job link."""
    if "job_id" in changes:
        resume.job = _job_for(changes["job_id"])
    corrected = changes.get("fields") or {}
    if "phone" in corrected and corrected["phone"]:
        corrected["phone"] = normalise_phone(corrected["phone"])
    if corrected:
        resume.corrections = {**(resume.corrections or {}), **corrected}
        for name in ("name", "email", "phone"):
            if corrected.get(name):
                setattr(resume.candidate, name, corrected[name])
        resume.search_text = _search_text(resume.text, resume.fields)
    db.session.commit()
    return resume


def normalise_phone(raw: str) -> str:
    region = current_app.config["TALARO_PHONE_REGION"]
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise Invalid("Invalid phone number", details={"fields": {"phone": [str(exc)]}}) from exc
    if not phonenumbers.is_valid_number(number):
        raise Invalid("Invalid phone number", details={"fields": {"phone": ["not a valid number"]}})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def delete_resume(resume: Resume) -> None:
    candidate = resume.candidate
    db.session.delete(resume)
    db.session.flush()
    db.session.refresh(candidate)
    candidates.delete_if_orphaned(candidate)
    db.session.commit()


def _search_text(text: str, fields: dict[str, Any]) -> str:
    parts = [text]
    for value in fields.values():
        if isinstance(value, list):
            parts.extend(str(v) for v in value)
        elif value is not None:
            parts.append(str(value))
    return "\n".join(parts).lower()

"""Resumes: upload (single and bulk), extraction, search, corrections, deletion."""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

import phonenumbers
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from talaro.errors import (
    Conflict,
    Invalid,
    NotFound,
    PayloadTooLarge,
    ServiceError,
    UnsupportedMediaType,
)
from talaro.extensions import db
from talaro.extraction import (
    ExtractedText,
    ExtractionError,
    UnsupportedFileType,
    detect_type,
    extract_fields,
    extract_text,
)
from talaro.models import Job, Resume, User
from talaro.permissions import Action, check_resume, visible_resumes
from talaro.services import candidates
from talaro.telemetry import events
from talaro.telemetry.spans import span

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


def upload_resume(
    user: User, filename: str | None, stream: IO[bytes], job_id: str | None = None
) -> Resume:
    """Read, validate, extract and store one uploaded file (the `resume_upload` event)."""
    name = clean_filename(filename or "")
    with events.recorded("resume_upload", **{"file.name": name, "file.size": 0}) as details:
        upload = read_upload(stream, name)
        details["file.size"] = len(upload.data)
        resume = create_resume(user, upload, job_id)
        details.update(
            {
                "resume.id": resume.id,
                "candidate.id": resume.candidate_id,
                "job.id": resume.job_id,
                "file.mime_type": resume.content_type,
            }
        )
    return resume


def read_upload(stream: IO[bytes], filename: str) -> Upload:
    """Read at most the size limit plus one byte, so an oversized file is refused cheaply."""
    limit = current_app.config["TALARO_MAX_FILE_SIZE"]
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise _rejected(
            PayloadTooLarge(
                f"File is larger than the {limit // 1024} KiB limit", code="file_too_large"
            ),
            Upload(filename, data),
            "size",
        )
    return Upload(filename, data)


def clean_filename(name: str) -> str:
    """A display name: no directories, control characters or runaway length."""
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    name = name.lstrip(".") or "resume"
    return name[:MAX_FILENAME_LENGTH]


def _rejected(error: ServiceError, upload: Upload, check: str) -> ServiceError:
    """Record an `upload_validation` security event naming the failed check."""
    events.upload_rejected(upload.filename, len(upload.data), check, error.message)
    return error


def create_resume(user: User, upload: Upload, job_id: str | None = None) -> Resume:
    """Validate, extract and store one resume with its candidate, all or nothing."""
    job = _job_for(job_id)
    if not upload.data:
        raise _rejected(Invalid("File is empty", code="empty_file"), upload, "empty")
    try:
        content_type = detect_type(upload.data)
    except UnsupportedFileType as exc:
        error = UnsupportedMediaType(str(exc), code="unsupported_file_type")
        raise _rejected(error, upload, "type") from exc
    digest = hashlib.sha256(upload.data).hexdigest()
    with span("resume.duplicate_check"):
        existing = db.session.scalar(select(Resume.id).where(Resume.sha256 == digest))
    if existing is not None:
        raise _duplicate(existing)
    extracted = _extract_text(upload, content_type)
    with span("resume.extract_fields"):
        region = current_app.config["TALARO_PHONE_REGION"]
        found = extract_fields(extracted.text, default_region=region)
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


def _extract_text(upload: Upload, content_type: str) -> ExtractedText:
    """Text extraction in its own span, with its `resume_text_extract` event."""
    started = time.perf_counter()
    with events.recorded("resume_text_extract", **{"file.mime_type": content_type}) as details:
        with span("resume.extract_text", **{"file.mime_type": content_type}):
            try:
                extracted = extract_text(
                    upload.data, content_type, max_pages=current_app.config["TALARO_MAX_PAGES"]
                )
            except ExtractionError as exc:
                error = Invalid(str(exc), code="unreadable_file")
                raise _rejected(error, upload, "extraction") from exc
        details.update(
            {
                "talaro.pages": extracted.pages,
                "talaro.characters": len(extracted.text),
                "talaro.duration_ms": round((time.perf_counter() - started) * 1000, 3),
            }
        )
    return extracted


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
    with events.recorded("resume_bulk_upload", **{"talaro.file_count": len(files)}) as details:
        if not files:
            raise Invalid("No files were sent", details={"fields": {"files": ["required"]}})
        if len(files) > limit:
            raise Invalid(f"At most {limit} files per bulk upload", code="too_many_files")
        _job_for(job_id)
        results = [_bulk_one(user, filename, stream, job_id) for filename, stream in files]
        created = sum(result.status == "created" for result in results)
        details.update(
            {"talaro.success_count": created, "talaro.failed_count": len(results) - created}
        )
    return results


def _bulk_one(
    user: User, filename: str | None, stream: IO[bytes], job_id: str | None
) -> BulkResult:
    try:
        resume = upload_resume(user, filename, stream, job_id)
    except Conflict as exc:
        db.session.rollback()
        return BulkResult(
            clean_filename(filename or ""), "duplicate", exc.details["id"], exc.message
        )
    except (Invalid, UnsupportedMediaType, PayloadTooLarge) as exc:
        db.session.rollback()
        return BulkResult(clean_filename(filename or ""), "failed", None, exc.message)
    return BulkResult(resume.filename, "created", resume.id)


def get_resume(user: User, resume_id: str, action: Action = Action.RESUME_VIEW) -> Resume:
    resume = db.session.get(Resume, resume_id)
    if resume is None:
        raise NotFound("Resume not found")
    check_resume(user, resume, action)
    return resume


def view_resume(user: User, resume_id: str, *, download: bool = False) -> Resume:
    """A resume the user may see (the `resume_view` event)."""
    with events.recorded(
        "resume_view", **{"resume.id": resume_id, "talaro.download": download}
    ) as details:
        resume = get_resume(user, resume_id)
        details["candidate.id"] = resume.candidate_id
    return resume


def list_resumes(
    user: User, q: str = "", page: int = 1, per_page: int = 20
) -> tuple[list[Resume], int]:
    """A page of the resumes `user` may see; the search text is not recorded."""
    with events.recorded("resume_list", **{"talaro.page": page}) as details:
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
    with events.recorded("resume_update", **{"resume.id": resume_id}) as details:
        resume = get_resume(user, resume_id, Action.RESUME_UPDATE)
        details["talaro.corrected_fields"] = sorted(changes.get("fields") or {})
        _apply_changes(resume, changes)
    return resume


def _apply_changes(resume: Resume, changes: dict[str, Any]) -> None:
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
    with events.recorded("resume_delete", **{"resume.id": resume_id}):
        resume = get_resume(user, resume_id, Action.RESUME_DELETE)
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

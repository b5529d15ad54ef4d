"""Resumes: upload (single and bulk), extraction, search, corrections, deletion."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from concurrent.futures import Future
from contextlib import suppress
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
    ExtractionError,
    UnsupportedFileType,
    detect_type,
    sandbox,
)
from talaro.models import Job, Resume, User
from talaro.permissions import Action, check_resume, visible_resumes
from talaro.services import candidates
from talaro.telemetry import events
from talaro.telemetry.spans import span, span_between

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
        details.update(_stored_attributes(resume))
    return resume


def _stored_attributes(resume: Resume) -> dict[str, Any]:
    """What a `resume_upload` event says of the stored resume (ids, never its content)."""
    return {
        "resume.id": resume.id,
        "candidate.id": resume.candidate_id,
        "job.id": resume.job_id,
        "file.mime_type": resume.content_type,
    }


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
    if len(name) <= MAX_FILENAME_LENGTH:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix) > 16:
        return name[:MAX_FILENAME_LENGTH]
    return f"{stem[: MAX_FILENAME_LENGTH - len(suffix) - 1]}.{suffix}"  # keep the extension


def _rejected(error: ServiceError, upload: Upload, check: str) -> ServiceError:
    """Record an `upload_validation` security event naming the failed check."""
    events.upload_rejected(upload.filename, len(upload.data), check, error.message)
    return error


def create_resume(user: User, upload: Upload, job_id: str | None = None) -> Resume:
    """Validate, extract and store one resume with its candidate, all or nothing."""
    job = _job_for(job_id)
    content_type, digest = _validate(upload)
    _check_not_stored(digest)
    limits = extraction_limits()
    extracted = _extract_text(
        upload, content_type, sandbox.submit(upload.data, content_type, limits)
    )
    return _store(user, upload, job, content_type, digest, extracted)


def extraction_limits() -> sandbox.Limits:
    config = current_app.config
    return sandbox.Limits(
        timeout_s=config["TALARO_EXTRACT_TIMEOUT_S"],
        memory_mb=config["TALARO_EXTRACT_MEMORY_MB"],
        max_pages=config["TALARO_MAX_PAGES"],
        workers=config["TALARO_EXTRACT_WORKERS"],
        phone_region=config["TALARO_PHONE_REGION"],
    )


def _validate(upload: Upload) -> tuple[str, str]:
    """The checks that need no parsing: empty, type from the bytes; (content type, sha256)."""
    if not upload.data:
        raise _rejected(Invalid("File is empty", code="empty_file"), upload, "empty")
    try:
        content_type = detect_type(upload.data)
    except UnsupportedFileType as exc:
        error = UnsupportedMediaType(str(exc), code="unsupported_file_type")
        raise _rejected(error, upload, "type") from exc
    return content_type, hashlib.sha256(upload.data).hexdigest()


def _check_not_stored(digest: str) -> None:
    with span("resume.duplicate_check"):
        existing = db.session.scalar(select(Resume.id).where(Resume.sha256 == digest))
    if existing is not None:
        raise _duplicate(existing)


def _add(
    user: User,
    upload: Upload,
    job: Job | None,
    content_type: str,
    digest: str,
    done: sandbox.Extraction,
) -> Resume:
    """The resume and its (matched or new) candidate, added to the session uncommitted."""
    extracted, found = done.text, done.fields
    assert found is not None  # _extract_text refuses a file without text
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
    resume.search_text = search_text(extracted.text, values)
    db.session.add(resume)
    return resume


def _store(
    user: User,
    upload: Upload,
    job: Job | None,
    content_type: str,
    digest: str,
    done: sandbox.Extraction,
) -> Resume:
    resume = _add(user, upload, job, content_type, digest, done)
    try:
        db.session.commit()
    except IntegrityError as exc:  # the same file committed by a concurrent request
        db.session.rollback()
        existing = db.session.scalar(select(Resume.id).where(Resume.sha256 == digest))
        if existing is None:
            raise
        raise _duplicate(existing) from exc
    return resume


def _extract_text(
    upload: Upload, content_type: str, pending: Future[sandbox.Extraction]
) -> sandbox.Extraction:
    """Wait for an extraction started on the pool: its span and `resume_text_extract` event
    (the duration is the worker's own time on the file), and the span of the worker's
    field extraction placed where it ran."""
    limits = extraction_limits()
    with events.recorded("resume_text_extract", **{"file.mime_type": content_type}) as details:
        with span("resume.extract_text", **{"file.mime_type": content_type}):
            try:
                done = sandbox.result(pending, limits)
                if not done.text.text:
                    # Nothing to search or match on: an image-only scan, or a damaged file
                    # the parser skipped over.
                    raise ExtractionError(
                        "No text could be extracted from the file (an image-only scan or a "
                        "damaged file)",
                        "no_text",
                    )
            except ExtractionError as exc:
                error = Invalid(str(exc), code="unreadable_file")
                raise _rejected(error, upload, exc.check) from exc
        details.update(
            {
                "talaro.pages": done.text.pages,
                "talaro.characters": len(done.text.text),
                "talaro.duration_ms": round(done.seconds * 1000, 3),
            }
        )
    span_between("resume.extract_fields", *done.fields_ns)
    return done


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


@dataclass
class _Pending:
    """One file of a bulk request between its checks and its storing."""

    upload: Upload
    error: ServiceError | None = None
    content_type: str = ""
    digest: str = ""
    first: int | None = None  # index of an earlier file with the same bytes
    extraction: Future[sandbox.Extraction] | None = None
    outcome: ServiceError | None = None  # how storing it failed, if it did

    @property
    def refusal(self) -> ServiceError | None:
        return self.error or self.outcome


def bulk_create(
    user: User, files: Sequence[tuple[str | None, IO[bytes]]], job_id: str | None = None
) -> list[BulkResult]:
    """Store each `(filename, stream)`; one result per file, in order, a bad file failing
    alone. All files are checked first and their extractions started together on the pool
    (as many at once as it has workers); storing then happens here, in order."""
    limit = current_app.config["TALARO_MAX_BULK_FILES"]
    with events.recorded("resume_bulk_upload", **{"talaro.file_count": len(files)}) as details:
        if not files:
            raise Invalid("No files were sent", details={"fields": {"files": ["required"]}})
        if len(files) > limit:
            error = Invalid(f"At most {limit} files per bulk upload", code="too_many_files")
            raise _rejected(error, Upload(f"{len(files)} files", b""), "bulk_count")
        job = _job_for(job_id)
        pending = _read_all(files)
        limits = extraction_limits()
        for index, item in enumerate(pending):
            _check_one(item, index, pending, limits)
        results = _store_all(user, job, pending)
        created = sum(result.status == "created" for result in results)
        details.update(
            {"talaro.success_count": created, "talaro.failed_count": len(results) - created}
        )
    return results


def _read_all(files: Sequence[tuple[str | None, IO[bytes]]]) -> list[_Pending]:
    """Read every file (each up to its own limit), then hold the total to its limit."""
    pending = []
    for filename, stream in files:
        name = clean_filename(filename or "")
        try:
            pending.append(_Pending(read_upload(stream, name)))
        except PayloadTooLarge as exc:
            pending.append(_Pending(Upload(name, b""), error=exc))
    total_limit = current_app.config["TALARO_MAX_BULK_BYTES"]
    total = sum(len(item.upload.data) for item in pending)
    if total > total_limit:
        error = PayloadTooLarge(
            f"The files together are larger than the {total_limit // 2**20} MiB bulk limit",
            code="bulk_too_large",
        )
        raise _rejected(error, Upload(f"{len(files)} files", b"\0" * total), "bulk_size")
    return pending


def _check_one(item: _Pending, index: int, pending: list[_Pending], limits: sandbox.Limits) -> None:
    """Checks before parsing; a file that passes starts extracting on the pool."""
    if item.error is not None:
        return
    try:
        item.content_type, item.digest = _validate(item.upload)
        for earlier, other in enumerate(pending[:index]):
            if other.digest == item.digest:
                item.first = earlier  # stored (or refused) once, when its turn comes
                return
        _check_not_stored(item.digest)
    except ServiceError as exc:
        item.error = exc
        return
    item.extraction = sandbox.submit(item.upload.data, item.content_type, limits)


def _store_all(user: User, job: Job | None, pending: list[_Pending]) -> list[BulkResult]:
    """Store the files that passed in one transaction (a commit each would cost an fsync
    each): a file that fails does so before it writes anything, so nothing needs undoing.
    Should a concurrent request store one of these files first, the unique sha256 fails
    the commit; then each file is stored in its own transaction instead."""
    try:
        outcomes = [_stage(user, job, item, pending) for item in pending]
        db.session.flush()  # ids, before the commit expires every row
        results = [_result(item, outcome) for item, outcome in zip(pending, outcomes, strict=True)]
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        for item in pending:
            item.outcome = None
        return [_store_one(user, job, item, pending) for item in pending]
    for item, outcome in zip(pending, outcomes, strict=True):
        _record_upload(item, outcome)
    return results


def _stage(
    user: User, job: Job | None, item: _Pending, pending: list[_Pending]
) -> Resume | ServiceError:
    try:
        done = _extracted(item, pending)
        return _add(user, item.upload, job, item.content_type, item.digest, done)
    except ServiceError as exc:
        item.outcome = exc
        return exc


def _extracted(item: _Pending, pending: list[_Pending]) -> sandbox.Extraction:
    """The file's finished extraction, or the refusal it earned (its own or its twin's)."""
    if item.first is not None:
        _repeat_of(pending[item.first], item.digest)
    if item.error is not None:
        raise item.error
    assert item.extraction is not None
    return _extract_text(item.upload, item.content_type, item.extraction)


def _result(item: _Pending, outcome: Resume | ServiceError) -> BulkResult:
    name = item.upload.filename
    if isinstance(outcome, Conflict):
        return BulkResult(name, "duplicate", outcome.details["id"], outcome.message)
    if isinstance(outcome, ServiceError):
        return BulkResult(name, "failed", None, outcome.message)
    return BulkResult(name, "created", outcome.id)


def _record_upload(item: _Pending, outcome: Resume | ServiceError) -> None:
    """The file's `resume_upload` event, once its outcome is committed."""
    upload = item.upload
    with (
        suppress(ServiceError),
        events.recorded(
            "resume_upload", **{"file.name": upload.filename, "file.size": len(upload.data)}
        ) as details,
    ):
        if isinstance(outcome, ServiceError):
            raise outcome
        details.update(_stored_attributes(outcome))


def _store_one(user: User, job: Job | None, item: _Pending, pending: list[_Pending]) -> BulkResult:
    """One file in its own transaction, with its `resume_upload` event and its result."""
    upload = item.upload
    try:
        with events.recorded(
            "resume_upload", **{"file.name": upload.filename, "file.size": len(upload.data)}
        ) as details:
            done = _extracted(item, pending)
            resume = _store(user, upload, job, item.content_type, item.digest, done)
            details.update(_stored_attributes(resume))
    except ServiceError as exc:
        db.session.rollback()
        item.outcome = exc
        return _result(item, exc)
    return _result(item, resume)


def _repeat_of(first: _Pending, digest: str) -> None:
    """A file with the same bytes as an earlier one of the request: it shares that file's
    refusal (its event was recorded once), or is a duplicate of what was stored."""
    if first.refusal is not None and not isinstance(first.refusal, Conflict):
        raise first.refusal
    _check_not_stored(digest)
    raise Invalid("The same file earlier in this request could not be stored")


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
    with events.recorded("resume_delete", **{"resume.id": resume_id}):
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

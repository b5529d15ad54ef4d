"""Ingestion: an uploaded file read and checked, its text and fields extracted in the
sandbox, its candidate matched and the resume stored, with its events; one file or many."""

from __future__ import annotations

import hashlib
import mimetypes
import re
import unicodedata
from collections.abc import Sequence
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass, field
from typing import IO, Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError

from talaro.errors import Conflict, Invalid, PayloadTooLarge, ServiceError, UnsupportedMediaType
from talaro.extensions import db
from talaro.extraction import ExtractionError, UnsupportedFileType, detect_type, sandbox
from talaro.models import Job, Resume, User
from talaro.services import candidates
from talaro.services.resumes import job_for, search_text
from talaro.telemetry.catalogue import (
    RESUME_BULK_UPLOAD,
    RESUME_TEXT_EXTRACT,
    RESUME_UPLOAD,
    UPLOAD_VALIDATION,
)
from talaro.telemetry.events import FAILURE, emit, recorded
from talaro.telemetry.spans import span, span_between

MAX_FILENAME_LENGTH = 255
# What the database may refuse about one file's rows (not an outage: that stays a 500).
STORING_ERRORS = (IntegrityError, DataError)
# Extensions recorded as `file.extension`: Python's built-in table (not the host's
# mime.types) and the office formats it lacks, so "resume.jane" records none rather than
# a piece of a name.
KNOWN_EXTENSIONS = frozenset(
    extension.lstrip(".") for extension in mimetypes.MimeTypes(filenames=()).types_map[True]
) | {"docx", "docm", "dotx", "odt", "rtf", "pages", "xlsx", "pptx"}


@dataclass(frozen=True)
class Upload:
    """One uploaded file as received: its name as the client gave it, and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class _Checked:
    """A file past the checks that need no parsing: its type from its bytes, its sha256."""

    upload: Upload
    content_type: str
    digest: str


@dataclass(frozen=True)
class Ingested:
    """What became of one uploaded file: a row of the bulk answer (filename, status, id,
    error), and what its `resume_upload` event records (size, stored resume or refusal)."""

    filename: str
    status: str  # "created", "duplicate" or "failed"
    id: str | None = None  # the stored resume, or the one a duplicate repeats
    error: str | None = None
    size: int = 0
    sha256: str | None = None
    resume: Resume | None = field(default=None, compare=False, repr=False)
    refusal: ServiceError | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Batch:
    """A bulk upload's results, one per file in order, and their counts."""

    results: tuple[Ingested, ...]
    created: int
    failed: int  # duplicates included: every file not created


def upload_resume(
    user: User, filename: str | None, stream: IO[bytes], job_id: str | None = None
) -> Resume:
    """Read, validate, extract and store one uploaded file, with its `resume_upload` event."""
    upload = Upload(clean_filename(filename or ""), b"")
    try:
        upload = read_upload(stream, upload.filename)
        result = _result(upload, create_resume(user, upload, job_id))
    except ServiceError as exc:
        result = _result(upload, exc)
    _record_upload(result)
    if result.refusal is not None:
        raise result.refusal
    assert result.resume is not None
    return result.resume


def create_resume(user: User, upload: Upload, job_id: str | None = None) -> Resume:
    """Validate, extract and store one resume with its candidate, all or nothing."""
    job = job_for(job_id)
    checked = _validate(upload)
    _check_not_stored(checked.digest)
    limits = extraction_limits()
    pending = sandbox.submit(upload.data, checked.content_type, limits)
    return _store(user, job, checked, _extract_text(checked, pending))


def read_upload(stream: IO[bytes], filename: str) -> Upload:
    """Read at most the size limit plus one byte, so an oversized file is refused cheaply."""
    limit = current_app.config["TALARO_MAX_FILE_SIZE"]
    data = stream.read(limit + 1)
    if len(data) > limit:
        error = PayloadTooLarge(
            f"File is larger than the {limit // 1024} KiB limit", code="file_too_large"
        )
        # Only the first bytes were read: a hash of them would name no file.
        raise _rejected(error, "size", file_attributes(filename, len(data)))
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


def extraction_limits() -> sandbox.Limits:
    """The sandbox's limits from the app's settings (uploads and re-parse alike)."""
    config = current_app.config
    return sandbox.Limits(
        timeout_s=config["TALARO_EXTRACT_TIMEOUT_S"],
        memory_mb=config["TALARO_EXTRACT_MEMORY_MB"],
        max_pages=config["TALARO_MAX_PAGES"],
        workers=config["TALARO_EXTRACT_WORKERS"],
        phone_region=config["TALARO_PHONE_REGION"],
    )


def file_attributes(filename: str, size: int, sha256: str | None = None) -> dict[str, Any]:
    """What telemetry records of an uploaded file (ECS `file.*`): its extension, size and
    SHA-256, never its name, which usually names the candidate (the database keeps it)."""
    attributes: dict[str, Any] = {"file.size": size}
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    if extension in KNOWN_EXTENSIONS:
        attributes["file.extension"] = extension
    if sha256 is not None:
        attributes["file.hash.sha256"] = sha256
    return attributes


def _rejected(error: ServiceError, check: str, attributes: dict[str, Any]) -> ServiceError:
    """Record an `upload_validation` security event naming the failed check."""
    emit(
        UPLOAD_VALIDATION,
        outcome=FAILURE,
        reason=error.message,
        attributes={
            **attributes,
            "talaro.check": check,
            "http.response.status_code": error.status,
        },
    )
    return error


def _validate(upload: Upload) -> _Checked:
    """The checks that need no parsing: empty, type from the bytes."""
    if not upload.data:
        error = Invalid("File is empty", code="empty_file")
        raise _rejected(error, "empty", file_attributes(upload.filename, 0))
    digest = hashlib.sha256(upload.data).hexdigest()
    try:
        content_type = detect_type(upload.data)
    except UnsupportedFileType as exc:
        error = UnsupportedMediaType(str(exc), code="unsupported_file_type")
        attributes = file_attributes(upload.filename, len(upload.data), digest)
        raise _rejected(error, "type", attributes) from exc
    return _Checked(upload, content_type, digest)


def _check_not_stored(digest: str) -> None:
    with span("resume.duplicate_check"):
        existing = db.session.scalar(select(Resume.id).where(Resume.sha256 == digest))
    if existing is not None:
        raise _duplicate(existing)


def _duplicate(resume_id: str) -> Conflict:
    return Conflict(
        "An identical file was already uploaded", code="duplicate", details={"id": resume_id}
    )


def _extract_text(checked: _Checked, pending: Future[sandbox.Extraction]) -> sandbox.Extraction:
    """Wait for an extraction started on the pool: its span and `resume_text_extract` event
    (the duration is the worker's own time on the file), and the span of the worker's
    field extraction placed where it ran."""
    upload, content_type, limits = checked.upload, checked.content_type, extraction_limits()
    with recorded(RESUME_TEXT_EXTRACT, **{"file.mime_type": content_type}) as details:
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
                attributes = file_attributes(upload.filename, len(upload.data), checked.digest)
                raise _rejected(error, exc.check, attributes) from exc
        details.update(
            {
                "talaro.pages": done.text.pages,
                "talaro.characters": len(done.text.text),
                "talaro.duration_ms": round(done.seconds * 1000, 3),
            }
        )
    span_between("resume.extract_fields", *done.fields_ns)
    return done


def _add(user: User, job: Job | None, checked: _Checked, done: sandbox.Extraction) -> Resume:
    """The resume and its (matched or new) candidate, added to the session uncommitted."""
    extracted, found = done.text, done.fields
    assert found is not None  # _extract_text refuses a file without text
    upload, values = checked.upload, found.values
    candidate = candidates.match_or_create(
        values.get("name"), values.get("email"), values.get("phone")
    )
    resume = Resume(
        candidate=candidate,
        job=job,
        uploaded_by_id=user.id,
        filename=upload.filename,
        size=len(upload.data),
        content_type=checked.content_type,
        sha256=checked.digest,
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


def _store(user: User, job: Job | None, checked: _Checked, done: sandbox.Extraction) -> Resume:
    """Add and commit one resume; a concurrent request's identical file is a duplicate."""
    resume = _add(user, job, checked, done)
    try:
        _commit_keeping_values()
    except STORING_ERRORS as exc:
        # The same file committed by a concurrent request (the unique sha256), or a value
        # the database refuses: this file fails, alone, and nothing of it is left behind.
        db.session.rollback()
        digest = checked.digest
        existing = db.session.scalar(select(Resume.id).where(Resume.sha256 == digest))
        if existing is None:
            raise Invalid(
                "The file's extracted values could not be stored", code="unstorable_file"
            ) from exc
        raise _duplicate(existing) from exc
    return resume


def _commit_keeping_values() -> None:
    """Commit without expiring the stored rows: the events and the answer are built from
    memory, so the commit is the last thing the upload needs the database for, and a
    connection lost after it cannot turn a stored resume into an error the client sees."""
    session = db.session()
    kept, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = kept


def _result(upload: Upload, outcome: Resume | ServiceError) -> Ingested:
    """The file's result: created, or refused (a duplicate names the stored resume)."""
    size = len(upload.data)
    if isinstance(outcome, Resume):
        return Ingested(
            upload.filename, "created", outcome.id, size=size, sha256=outcome.sha256, resume=outcome
        )
    if isinstance(outcome, Conflict):
        status, resume_id = "duplicate", outcome.details["id"]
    else:
        status, resume_id = "failed", None
    digest = hashlib.sha256(upload.data).hexdigest() if upload.data else None
    return Ingested(
        upload.filename, status, resume_id, outcome.message, size, digest, refusal=outcome
    )


def _record_upload(result: Ingested) -> None:
    """A file's `resume_upload` event, once its outcome is committed (or refused): the one
    place it is opened, for a single upload and for each file of a bulk one."""
    with (
        suppress(ServiceError),
        recorded(
            RESUME_UPLOAD, **file_attributes(result.filename, result.size, result.sha256)
        ) as details,
    ):
        if result.refusal is not None:
            raise result.refusal
        assert result.resume is not None
        details.update(
            {
                "resume.id": result.resume.id,
                "candidate.id": result.resume.candidate_id,
                "job.id": result.resume.job_id,
                "file.mime_type": result.resume.content_type,
            }
        )


# Bulk ------------------------------------------------------------------------------------


@dataclass
class _Pending:
    """One file of a bulk request between its checks and its storing."""

    upload: Upload
    error: ServiceError | None = None
    checked: _Checked | None = None
    first: int | None = None  # index of an earlier file with the same bytes
    extraction: Future[sandbox.Extraction] | None = None
    outcome: ServiceError | None = None  # how storing it failed, if it did

    @property
    def refusal(self) -> ServiceError | None:
        return self.error or self.outcome


def bulk_upload(
    user: User, files: Sequence[tuple[str | None, IO[bytes]]], job_id: str | None = None
) -> Batch:
    """Store each `(filename, stream)`; one result per file, in order, a bad file failing
    alone. All files are checked first and their extractions started together on the pool
    (as many at once as it has workers); storing then happens here, in order."""
    limit = current_app.config["TALARO_MAX_BULK_FILES"]
    with recorded(RESUME_BULK_UPLOAD, **{"talaro.file_count": len(files)}) as details:
        if not files:
            raise Invalid("No files were sent", details={"fields": {"files": ["required"]}})
        if len(files) > limit:
            error = Invalid(f"At most {limit} files per bulk upload", code="too_many_files")
            raise _rejected(error, "bulk_count", {"talaro.file_count": len(files)})
        job = job_for(job_id)
        pending = _read_all(files)
        limits = extraction_limits()
        for index, item in enumerate(pending):
            _check_one(item, index, pending, limits)
        results = _store_all(user, job, pending)
        created = sum(result.status == "created" for result in results)
        batch = Batch(tuple(results), created, len(results) - created)
        details.update({"talaro.success_count": batch.created, "talaro.failed_count": batch.failed})
    return batch


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
        attributes = {"talaro.file_count": len(files), "file.size": total}
        raise _rejected(error, "bulk_size", attributes)
    return pending


def _check_one(item: _Pending, index: int, pending: list[_Pending], limits: sandbox.Limits) -> None:
    """Checks before parsing; a file that passes starts extracting on the pool."""
    if item.error is not None:
        return
    try:
        checked = item.checked = _validate(item.upload)
        for earlier, other in enumerate(pending[:index]):
            if other.checked is not None and other.checked.digest == checked.digest:
                item.first = earlier  # stored (or refused) once, when its turn comes
                return
        _check_not_stored(checked.digest)
    except ServiceError as exc:
        item.error = exc
        return
    item.extraction = sandbox.submit(item.upload.data, checked.content_type, limits)


def _store_all(user: User, job: Job | None, pending: list[_Pending]) -> list[Ingested]:
    """Store the files that passed in one transaction (a commit each would cost an fsync
    each): a file that fails does so before it writes anything, so nothing needs undoing.
    Should a concurrent request store one of these files first, the unique sha256 fails
    the commit; then each file is stored in its own transaction instead."""
    try:
        outcomes = [_stage(user, job, item, pending) for item in pending]
        db.session.flush()  # ids, before the commit expires every row
        pairs = zip(pending, outcomes, strict=True)
        results = [_result(item.upload, outcome) for item, outcome in pairs]
        _commit_keeping_values()
    except STORING_ERRORS:  # one file's fault: store each alone, so only it fails
        db.session.rollback()
        for item in pending:
            item.outcome = None
        return [_store_one(user, job, item, pending) for item in pending]
    for result in results:
        _record_upload(result)
    return results


def _stage(
    user: User, job: Job | None, item: _Pending, pending: list[_Pending]
) -> Resume | ServiceError:
    """One file's resume added to the session, or the refusal it earned."""
    try:
        return _add(user, job, *_extracted(item, pending))
    except ServiceError as exc:
        item.outcome = exc
        return exc


def _store_one(user: User, job: Job | None, item: _Pending, pending: list[_Pending]) -> Ingested:
    """One file in its own transaction, with its `resume_upload` event."""
    try:
        resume = _store(user, job, *_extracted(item, pending))
        result = _result(item.upload, resume)
    except ServiceError as exc:
        db.session.rollback()
        item.outcome = exc
        result = _result(item.upload, exc)
    _record_upload(result)
    return result


def _extracted(item: _Pending, pending: list[_Pending]) -> tuple[_Checked, sandbox.Extraction]:
    """The file's finished extraction, or the refusal it earned (its own or its twin's)."""
    if item.error is not None:
        raise item.error
    assert item.checked is not None
    if item.first is not None:
        _repeat_of(pending[item.first], item.checked.digest)
    assert item.extraction is not None
    return item.checked, _extract_text(item.checked, item.extraction)


def _repeat_of(first: _Pending, digest: str) -> None:
    """A file with the same bytes as an earlier one of the request: it shares that file's
    refusal (its event was recorded once), or is a duplicate of what was stored."""
    if first.refusal is not None and not isinstance(first.refusal, Conflict):
        raise first.refusal
    _check_not_stored(digest)
    raise Invalid("The same file earlier in this request could not be stored")

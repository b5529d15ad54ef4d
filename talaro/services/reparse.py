"""Re-parse: run the current extractor over stored resumes, keeping human corrections.

Extracted values and corrections are stored apart (`Resume.extracted_fields` and
`Resume.corrections`; `Resume.fields` lays the second over the first), so a re-parse
replaces only the extracted values and their confidence: a corrected field keeps showing
the person's value. The candidate a resume belongs to is left alone (matching people is
decided at upload and by people, not by a parser upgrade).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import undefer

from talaro.extensions import db
from talaro.extraction import ExtractionError, extract_fields, sandbox
from talaro.models import Resume
from talaro.services.ingestion import extraction_limits
from talaro.services.resumes import search_text
from talaro.telemetry.catalogue import RESUME_REPARSE
from talaro.telemetry.events import recorded

BATCH_SIZE = 50


@dataclass
class ReparseReport:
    """What a re-parse did; ``failed`` and ``missing`` hold resume ids."""

    checked: int = 0
    updated: int = 0
    unchanged: int = 0
    corrections_kept: int = 0  # corrected fields that still override the new values
    failed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.missing


def reparse(
    resume_ids: Sequence[str] | None = None, *, from_content: bool = True, via: str = "cli"
) -> ReparseReport:
    """Re-extract the resumes with ``resume_ids`` (all resumes when None) and emit one
    `resume_reparse` event with the counts. ``from_content`` re-reads the stored file (text
    extraction improves too); otherwise the stored text is parsed again."""
    report = ReparseReport()
    with recorded(
        RESUME_REPARSE,
        **{"talaro.all": resume_ids is None, "talaro.from_content": from_content},
    ) as details:
        for resume in _selected(resume_ids, report):
            _reparse_one(resume, from_content, report)
        details.update(
            {
                "talaro.resume_count": report.checked,
                "talaro.updated_count": report.updated,
                "talaro.unchanged_count": report.unchanged,
                "talaro.failed_count": len(report.failed),
                "talaro.missing_count": len(report.missing),
                "talaro.corrections_kept": report.corrections_kept,
                "talaro.via": via,
            }
        )
    return report


def _selected(resume_ids: Sequence[str] | None, report: ReparseReport) -> Iterator[Resume]:
    """The resumes to re-parse, a batch at a time, committing after each batch."""
    query = select(Resume).options(undefer(Resume.text), undefer(Resume.content))
    if resume_ids is not None:
        wanted = list(dict.fromkeys(resume_ids))
        for start in range(0, len(wanted), BATCH_SIZE):
            batch = wanted[start : start + BATCH_SIZE]
            found = {r.id: r for r in db.session.scalars(query.where(Resume.id.in_(batch)))}
            report.missing += [resume_id for resume_id in batch if resume_id not in found]
            yield from (found[resume_id] for resume_id in batch if resume_id in found)
            db.session.commit()
            db.session.expunge_all()  # a long run holds one batch of files in memory
        return
    last_id = ""
    while True:
        batch = list(
            db.session.scalars(
                query.where(Resume.id > last_id).order_by(Resume.id).limit(BATCH_SIZE)
            )
        )
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id
        db.session.commit()
        db.session.expunge_all()


def _reparse_one(resume: Resume, from_content: bool, report: ReparseReport) -> None:
    report.checked += 1
    text, pages, found = resume.text, resume.pages, None
    if from_content:
        try:
            # The upload path's worker pool and limits: a stored file is parsed as warily
            # as a new one.
            done = sandbox.extract(resume.content, resume.content_type, extraction_limits())
        except ExtractionError:
            report.failed.append(resume.id)  # stored before a stricter check: left as it was
            return
        text, pages, found = done.text.text, done.text.pages, done.fields
    if found is None:
        found = extract_fields(text, default_region=current_app.config["TALARO_PHONE_REGION"])
    corrections = resume.corrections or {}
    report.corrections_kept += len(corrections)
    if (found.values, found.confidence, text, pages) == (
        resume.extracted_fields,
        resume.confidence,
        resume.text,
        resume.pages,
    ):
        report.unchanged += 1
        return
    resume.text, resume.pages = text, pages
    resume.extracted_fields = found.values
    resume.confidence = found.confidence
    # `corrections` is not touched: `fields` still shows the person's values over these.
    resume.search_text = search_text(text, resume.fields)
    report.updated += 1

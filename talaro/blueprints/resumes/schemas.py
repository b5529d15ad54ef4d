from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from talaro.models import Candidate
from talaro.schemas import PageArgsSchema, page_of

MAX_EXPERIENCE = 50
MAX_EDUCATION = 20
# "2019-03", or "2019" when the resume shows the year only.
_MONTH = r"(?:19|20)\d\d(?:-(?:0[1-9]|1[0-2]))?"
_DATE_MESSAGE = "Use YYYY-MM or YYYY"


def column_length(name: str) -> int:
    """The length of a candidate column: a correction longer than it is a 422, not a 500."""
    return int(Candidate.__table__.c[name].type.length)


class ExperienceSchema(Schema):
    """One job; ``start`` and ``end`` are "YYYY-MM", or "YYYY" for a year written alone."""

    employer = fields.String(allow_none=True, validate=validate.Length(max=200))
    title = fields.String(allow_none=True, validate=validate.Length(max=200))
    start = fields.String(
        allow_none=True,
        validate=validate.Regexp(f"^{_MONTH}$", error=_DATE_MESSAGE),
        metadata={"example": "2019-01"},
    )
    end = fields.String(
        allow_none=True,
        validate=validate.Regexp(f"^(?:{_MONTH}|present)$", error=f"{_DATE_MESSAGE} or present"),
        metadata={"example": "present"},
    )

    @validates_schema
    def _start_before_end(self, data: dict[str, Any], **_: Any) -> None:
        if not (data.get("employer") or data.get("title")):
            raise ValidationError("Give the employer, the title or both.", "title")
        start, end = data.get("start"), data.get("end")
        if start and end and end != "present" and _month(end, 12) < _month(start, 1):
            raise ValidationError("The end is before the start.", "end")


def _month(value: str, month_of_year_alone: int) -> tuple[int, int]:
    """(2019, 3) for "2019-03"; for "2019", (2019, month_of_year_alone): a year written
    alone stands for any month of it."""
    year, _, month = value.partition("-")
    return int(year), int(month) if month else month_of_year_alone


class ResumeFieldsSchema(Schema):
    """Extracted fields; on PATCH, the corrections a person makes."""

    name = fields.String(allow_none=True, validate=validate.Length(max=column_length("name")))
    email = fields.Email(allow_none=True, validate=validate.Length(max=column_length("email")))
    phone = fields.String(allow_none=True, metadata={"description": "E.164"})
    links = fields.List(fields.String(validate=validate.Length(max=500)))
    location = fields.String(allow_none=True, validate=validate.Length(max=200))
    skills = fields.List(fields.String(validate=validate.Length(max=100)))
    education = fields.List(
        fields.String(validate=validate.Length(min=1, max=500)),
        validate=validate.Length(max=MAX_EDUCATION),
    )
    experience = fields.List(
        fields.Nested(ExperienceSchema), validate=validate.Length(max=MAX_EXPERIENCE)
    )
    years_experience = fields.Float(allow_none=True, validate=validate.Range(min=0, max=80))


class CandidateRefSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(allow_none=True)


class ResumeSchema(Schema):
    id = fields.String(required=True)
    candidate_id = fields.String(required=True)
    candidate = fields.Nested(CandidateRefSchema, required=True)
    job_id = fields.String(allow_none=True)
    uploaded_by_id = fields.String(required=True)
    filename = fields.String(required=True)
    size = fields.Integer(required=True)
    content_type = fields.String(required=True)
    sha256 = fields.String(required=True)
    pages = fields.Integer(required=True)
    fields_ = fields.Dict(data_key="fields", attribute="fields", required=True)
    confidence = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    corrected_fields = fields.Function(
        lambda resume: sorted(resume.corrections or {}), required=True
    )
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


ResumePageSchema = page_of(ResumeSchema)


class ResumeSearchArgsSchema(PageArgsSchema):
    q = fields.String(load_default="", validate=validate.Length(max=200))


class UploadFormSchema(Schema):
    job_id = fields.String(load_default=None, allow_none=True)


class SingleFileSchema(Schema):
    file = Upload(required=True)


class BulkFilesSchema(Schema):
    files = fields.List(Upload(), required=True)


class BulkResultSchema(Schema):
    filename = fields.String(required=True)
    status = fields.String(
        required=True, validate=validate.OneOf(["created", "duplicate", "failed"])
    )
    id = fields.String(allow_none=True)
    error = fields.String(allow_none=True)


class BulkResponseSchema(Schema):
    results = fields.List(fields.Nested(BulkResultSchema), required=True)
    success_count = fields.Integer(required=True)
    failed_count = fields.Integer(required=True)


class ResumeUpdateSchema(Schema):
    fields_ = fields.Nested(ResumeFieldsSchema, data_key="fields")
    job_id = fields.String(allow_none=True)

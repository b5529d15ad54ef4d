from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from talaro.schemas import PageArgsSchema, page_of


class ExperienceSchema(Schema):
    employer = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    start = fields.String(allow_none=True, metadata={"example": "2019-01"})
    end = fields.String(allow_none=True, metadata={"example": "present"})


class ResumeFieldsSchema(Schema):
    """Extracted fields; on PATCH, the corrections a person makes."""

    name = fields.String(allow_none=True, validate=validate.Length(max=200))
    email = fields.Email(allow_none=True)
    phone = fields.String(allow_none=True, metadata={"description": "E.164"})
    links = fields.List(fields.String(validate=validate.Length(max=500)))
    location = fields.String(allow_none=True, validate=validate.Length(max=200))
    skills = fields.List(fields.String(validate=validate.Length(max=100)))
    education = fields.List(fields.String(validate=validate.Length(max=500)))
    experience = fields.List(fields.Nested(ExperienceSchema))
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

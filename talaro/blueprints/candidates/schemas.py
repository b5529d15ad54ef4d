from marshmallow import Schema, fields, validate

from talaro.schemas import PageArgsSchema, page_of


class ResumeRefSchema(Schema):
    id = fields.String(required=True)
    filename = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class InterviewRefSchema(Schema):
    id = fields.String(required=True)
    job_id = fields.String(required=True)
    interviewer_id = fields.String(required=True)
    starts_at = fields.AwareDateTime(required=True)
    status = fields.String(required=True)


class CandidateSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    resumes = fields.List(fields.Nested(ResumeRefSchema), required=True)
    interviews = fields.List(fields.Nested(InterviewRefSchema), required=True)
    created_at = fields.DateTime(required=True)


CandidatePageSchema = page_of(CandidateSchema)


class CandidateSearchArgsSchema(PageArgsSchema):
    q = fields.String(load_default="", validate=validate.Length(max=200))

from marshmallow import Schema, fields, validate

from talaro.schemas import page_of


class JobSchema(Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    department = fields.String(required=True)
    description = fields.String(required=True)
    created_at = fields.DateTime(required=True)


JobPageSchema = page_of(JobSchema)


class JobCreateSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    department = fields.String(load_default="", validate=validate.Length(max=200))
    description = fields.String(load_default="", validate=validate.Length(max=20000))


class JobUpdateSchema(Schema):
    title = fields.String(validate=validate.Length(min=1, max=200))
    department = fields.String(validate=validate.Length(max=200))
    description = fields.String(validate=validate.Length(max=20000))

from marshmallow import Schema, fields, validate

from talaro.models import Role


class UserUpdateSchema(Schema):
    role = fields.String(validate=validate.OneOf([r.value for r in Role]))
    active = fields.Boolean()

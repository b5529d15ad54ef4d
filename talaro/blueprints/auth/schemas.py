from marshmallow import Schema, ValidationError, fields, validate

from talaro.services import time_zones
from talaro.services.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH


class UserSchema(Schema):
    id = fields.String(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    active = fields.Boolean(required=True)
    password_change_required = fields.Boolean(
        attribute="password_must_change",
        required=True,
        metadata={"description": "A temporary password: change it before anything else"},
    )
    time_zone = fields.String(
        allow_none=True,
        metadata={
            "description": "IANA time zone the pages show times in; null: none chosen yet "
            "(the pages use UTC). Times in the API are always ISO 8601 with an offset."
        },
    )


def _iana_zone(value: str) -> None:
    if not time_zones.is_zone(value):
        raise ValidationError(time_zones.NOT_A_ZONE)


class UserSettingsSchema(Schema):
    time_zone = fields.String(
        required=True,
        allow_none=True,
        validate=_iana_zone,
        metadata={"description": "An IANA zone name, e.g. Europe/Paris; null forgets it"},
    )


class RegisterSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(
        required=True,
        validate=validate.Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH),
        metadata={"description": "Any characters; not a common password"},
    )
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class LoginSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(max=1024))


class LoginResultSchema(Schema):
    user = fields.Nested(UserSchema, required=True)
    csrf_token = fields.String(required=True)
    notices = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Things to tell the user once, e.g. a registration attempt"},
    )


class CsrfSchema(Schema):
    csrf_token = fields.String(required=True)


class TokenCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class TokenSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    last_used_at = fields.DateTime(allow_none=True)


class NewTokenSchema(TokenSchema):
    token = fields.String(required=True, metadata={"description": "Shown once; store it now."})


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, validate=validate.Length(max=1024))
    new_password = fields.String(
        required=True,
        validate=validate.Length(max=1024),
        metadata={"description": "12 to 128 characters, any; not a common password"},
    )


class PasswordResetSchema(Schema):
    password = fields.String(required=True, validate=validate.Length(max=1024))
    temporary = fields.Boolean(
        load_default=True,
        metadata={"description": "The user must change it at their next sign-in"},
    )

from marshmallow import Schema, fields


class InterviewerSchema(Schema):
    """Who can be booked: the id to book them by, their name and email, nothing more."""

    id = fields.String(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)

from marshmallow import Schema, fields, validate

from talaro.models import InterviewStatus, Recommendation
from talaro.schemas import BoundedAwareDateTime, PageArgsSchema, page_of
from talaro.services.interviews import SETTABLE_STATUSES

DURATION = validate.Range(min=5, max=8 * 60)
CANCEL_REASON = validate.Length(min=1, max=1000)


class FeedbackSchema(Schema):
    rating = fields.Integer(required=True)
    recommendation = fields.String(required=True)
    notes = fields.String(required=True)
    author_id = fields.String(required=True)
    version = fields.Integer(
        required=True, metadata={"description": "1, plus one for each edit by its author"}
    )
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class FeedbackVersionSchema(Schema):
    version = fields.Integer(required=True)
    rating = fields.Integer(required=True)
    recommendation = fields.String(required=True)
    notes = fields.String(required=True)
    author_id = fields.String(required=True)
    written_at = fields.DateTime(required=True)
    replaced_at = fields.DateTime(required=True)


class FeedbackInSchema(Schema):
    rating = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    recommendation = fields.String(
        required=True, validate=validate.OneOf([r.value for r in Recommendation])
    )
    notes = fields.String(load_default="", validate=validate.Length(max=20000))


class InterviewSchema(Schema):
    id = fields.String(required=True)
    candidate_id = fields.String(required=True)
    job_id = fields.String(required=True)
    interviewer_id = fields.String(required=True)
    scheduled_by_id = fields.String(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    duration_minutes = fields.Integer(required=True)
    round = fields.String(required=True)
    status = fields.String(
        required=True,
        metadata={"description": "scheduled, completed (feedback is in), cancelled or no_show"},
    )
    cancel_reason = fields.String(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)
    feedback = fields.Nested(FeedbackSchema, allow_none=True)
    created_at = fields.DateTime(required=True)


InterviewPageSchema = page_of(InterviewSchema)


class InterviewCreateSchema(Schema):
    candidate_id = fields.String(required=True)
    job_id = fields.String(required=True)
    interviewer_id = fields.String(required=True)
    starts_at = BoundedAwareDateTime(
        required=True, metadata={"description": "ISO 8601 with an offset, years 2000-2099"}
    )
    duration_minutes = fields.Integer(required=True, validate=DURATION)
    round = fields.String(load_default="", validate=validate.Length(max=100))
    past_record = fields.Boolean(
        load_default=False,
        metadata={
            "description": "true to record an interview that already took place: a start "
            "time in the past is otherwise refused (422 naming starts_at)"
        },
    )


class InterviewUpdateSchema(Schema):
    interviewer_id = fields.String()
    starts_at = BoundedAwareDateTime()
    duration_minutes = fields.Integer(validate=DURATION)
    round = fields.String(validate=validate.Length(max=100))
    status = fields.String(
        validate=validate.OneOf([s.value for s in SETTABLE_STATUSES]),
        metadata={"description": "completed is set by saving feedback, not here"},
    )
    cancel_reason = fields.String(
        validate=CANCEL_REASON,
        metadata={"description": "required with status cancelled (422 without it)"},
    )
    past_record = fields.Boolean(
        metadata={"description": "true to move the start to a time in the past"}
    )


class InterviewListArgsSchema(PageArgsSchema):
    candidate_id = fields.String()
    status = fields.String(validate=validate.OneOf([s.value for s in InterviewStatus]))

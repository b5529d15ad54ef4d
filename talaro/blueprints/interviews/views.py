"""Interviews (`/api/interviews`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import url_for
from flask_smorest import Blueprint

from talaro.errors import Conflict
from talaro.permissions import Action, require, signed_in_user
from talaro.schemas import page_body
from talaro.services import interviews

from .schemas import (
    FeedbackInSchema,
    FeedbackSchema,
    FeedbackVersionSchema,
    InterviewCreateSchema,
    InterviewListArgsSchema,
    InterviewPageSchema,
    InterviewSchema,
    InterviewUpdateSchema,
)

blp = Blueprint("interviews", __name__, url_prefix="/api/interviews", description="Interviews")


@contextmanager
def linked_conflict() -> Iterator[None]:
    """A 409 `schedule_conflict` also gives the clashing interview's URLs: `url` in the
    API, `page_url` in the pages."""
    try:
        yield
    except Conflict as exc:
        clash = exc.details.get("conflicting_interview") if isinstance(exc.details, dict) else None
        if exc.code == "schedule_conflict" and isinstance(clash, dict):
            clash["url"] = url_for("interviews.get_interview", interview_id=clash["id"])
            clash["page_url"] = url_for("pages.interview_detail", interview_id=clash["id"])
        raise


@blp.route("", methods=["POST"])
@require(Action.INTERVIEW_SCHEDULE)
@blp.arguments(InterviewCreateSchema)
@blp.response(201, InterviewSchema)
@blp.alt_response(409, description="The interviewer or the candidate is already booked then")
def schedule(body: dict[str, Any]) -> Any:
    """Schedule an interview (a start in the past only with `past_record: true`)."""
    with linked_conflict():
        return interviews.schedule(signed_in_user(), body)


@blp.route("", methods=["GET"])
@require(Action.INTERVIEW_VIEW)
@blp.arguments(InterviewListArgsSchema, location="query")
@blp.response(200, InterviewPageSchema)
def list_interviews(args: dict[str, Any]) -> Any:
    """A page of interviews (interviewers see their own), soonest first."""
    items, total = interviews.list_interviews(signed_in_user(), **args)
    return page_body(items, total, args)


@blp.route("/<interview_id>", methods=["GET"])
@require(Action.INTERVIEW_VIEW)
@blp.response(200, InterviewSchema)
def get_interview(interview_id: str) -> Any:
    """One interview with its feedback."""
    return interviews.view_interview(signed_in_user(), interview_id)


@blp.route("/<interview_id>", methods=["PATCH"])
@require(Action.INTERVIEW_UPDATE)
@blp.arguments(InterviewUpdateSchema)
@blp.response(200, InterviewSchema)
@blp.alt_response(
    409,
    description="The new time or interviewer clashes with another interview; the "
    "interview has feedback and cannot be reassigned (`feedback_exists`) or is completed "
    "(`interview_completed`); a no-show before the start (`interview_not_started`)",
)
def update_interview(body: dict[str, Any], interview_id: str) -> Any:
    """Reschedule, reassign, cancel (`status: cancelled` with a `cancel_reason`), mark a
    no-show (`status: no_show`, once started) or reinstate (`status: scheduled`)."""
    with linked_conflict():
        return interviews.update(signed_in_user(), interview_id, body)


@blp.route("/<interview_id>/feedback", methods=["PUT"])
@require(Action.INTERVIEW_FEEDBACK)
@blp.arguments(FeedbackInSchema)
@blp.response(200, FeedbackSchema)
@blp.alt_response(409, description="The interview has not started, was cancelled or was a no-show")
def put_feedback(body: dict[str, Any], interview_id: str) -> Any:
    """Submit or edit feedback (the assigned interviewer, once the interview has started;
    then only its author, and each edit keeps the previous version). The first feedback
    makes the interview `completed`."""
    feedback, _created = interviews.submit_feedback(signed_in_user(), interview_id, body)
    return feedback


@blp.route("/<interview_id>/feedback/versions", methods=["GET"])
@require(Action.FEEDBACK_VERSIONS)
@blp.response(200, FeedbackVersionSchema(many=True))
def feedback_versions(interview_id: str) -> Any:
    """The earlier versions of the feedback, oldest first (hiring managers and its author)."""
    return interviews.feedback_versions(signed_in_user(), interview_id)


@blp.route("/<interview_id>", methods=["DELETE"])
@require(Action.INTERVIEW_DELETE)
@blp.response(204)
def delete_interview(interview_id: str) -> None:
    """Delete an interview."""
    interviews.delete(signed_in_user(), interview_id)

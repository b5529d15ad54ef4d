"""The interviewer directory for schedulers (`/api/interviewers`)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from talaro.permissions import Action, require
from talaro.services import directory

from .schemas import InterviewerSchema

blp = Blueprint(
    "directory",
    __name__,
    url_prefix="/api/interviewers",
    description="Who can be booked as an interviewer",
)


@blp.route("", methods=["GET"])
@require(Action.INTERVIEWER_DIRECTORY)
@blp.response(200, InterviewerSchema(many=True))
def list_interviewers() -> Any:
    """Everyone who can be booked as an interviewer, by name: the `interviewer_id` to book
    them by, their name and email (HIRING_MANAGER and RECRUITER)."""
    return directory.interviewers()

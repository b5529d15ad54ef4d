"""Candidates (`/api/candidates`)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from talaro.permissions import Action, require, signed_in_user
from talaro.schemas import page_body
from talaro.services import candidates

from .schemas import CandidatePageSchema, CandidateSchema, CandidateSearchArgsSchema

blp = Blueprint("candidates", __name__, url_prefix="/api/candidates", description="Candidates")


@blp.route("", methods=["GET"])
@require(Action.CANDIDATE_VIEW)
@blp.arguments(CandidateSearchArgsSchema, location="query")
@blp.response(200, CandidatePageSchema)
def list_candidates(args: dict[str, Any]) -> Any:
    """A page of candidates (interviewers see the ones they interview)."""
    user = signed_in_user()
    items, total = candidates.list_candidates(user, args["q"], args["page"], args["per_page"])
    return page_body([candidates.present(user, candidate) for candidate in items], total, args)


@blp.route("/<candidate_id>", methods=["GET"])
@require(Action.CANDIDATE_VIEW)
@blp.response(200, CandidateSchema)
def get_candidate(candidate_id: str) -> Any:
    """One candidate with their resumes and interviews."""
    user = signed_in_user()
    return candidates.present(user, candidates.get_candidate(user, candidate_id))

"""Candidates: one person with all their resumes and interviews."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_login import login_required

from talaro.blueprints.pages.forms import PER_PAGE, page_number
from talaro.blueprints.pages.views import bp
from talaro.permissions import Action, require, signed_in_user
from talaro.services import candidates


@bp.route("/candidates")
@login_required
@require(Action.CANDIDATE_VIEW)
def candidate_list() -> Any:
    """A page of candidates, searchable by name or email."""
    q = request.args.get("q", "").strip()[:200]
    page = page_number()
    user = signed_in_user()
    items, total = candidates.list_candidates(user, q, page, PER_PAGE)
    return render_template(
        "candidates/list.html",
        candidates=[candidates.present(user, candidate) for candidate in items],
        total=total,
        q=q,
        page=page,
        per_page=PER_PAGE,
    )


@bp.route("/candidates/<candidate_id>")
@login_required
def candidate_detail(candidate_id: str) -> Any:
    """One candidate with their resumes and interviews."""
    user = signed_in_user()
    candidate = candidates.get_candidate(user, candidate_id)
    return render_template("candidates/detail.html", candidate=candidates.present(user, candidate))

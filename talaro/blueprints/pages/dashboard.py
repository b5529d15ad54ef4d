"""The landing page: counts and shortcuts for what the user's role may do."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, send_from_directory
from flask_login import login_required

from talaro.blueprints.pages.display import can
from talaro.blueprints.pages.views import bp
from talaro.models import InterviewStatus
from talaro.permissions import signed_in_user
from talaro.services import accounts, candidates, interviews, jobs, resumes


@bp.route("/favicon.ico")
def favicon() -> Any:
    """Browsers ask for it whatever the page says: answering spares a 404 per visit."""
    return send_from_directory(str(current_app.static_folder), "favicon.ico", max_age=86400)


@bp.route("/")
@login_required
def dashboard() -> Any:
    """Counts of what the user can see, and the first scheduled interviews."""
    user = signed_in_user()
    counts: dict[str, int] = {}
    scheduled: list[Any] = []
    if can("RESUME_VIEW"):
        counts["resumes"] = resumes.list_resumes(user, per_page=1)[1]
    if can("CANDIDATE_VIEW"):
        counts["candidates"] = candidates.list_candidates(user, per_page=1)[1]
    if can("INTERVIEW_VIEW"):
        scheduled, counts["interviews"] = interviews.list_interviews(
            user, per_page=5, status=InterviewStatus.SCHEDULED
        )
    if can("JOB_VIEW"):
        counts["jobs"] = jobs.list_jobs(per_page=1)[1]
    if can("USER_MANAGE"):
        counts["users"] = len(accounts.list_users())
    return render_template("dashboard.html", counts=counts, scheduled=scheduled)

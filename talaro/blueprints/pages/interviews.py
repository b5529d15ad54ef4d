"""Interviews: the list, the scheduling form, details, and the interviewer's feedback."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from talaro.blueprints.interviews.schemas import DURATION, FeedbackInSchema, InterviewCreateSchema
from talaro.blueprints.pages import forms
from talaro.blueprints.pages.display import can, format_utc
from talaro.blueprints.pages.forms import PER_PAGE, page_number
from talaro.blueprints.pages.views import bp
from talaro.errors import ServiceError
from talaro.models import Interview, Recommendation, User
from talaro.permissions import Action, may_see_feedback_versions, require, signed_in_user
from talaro.services import candidates, directory, interviews, jobs

UTC_OFFSET = "+00:00"


def _minutes(offset: str) -> int:
    sign = -1 if offset.startswith("-") else 1
    return sign * (int(offset[1:3]) * 60 + int(offset[4:]))


# Offsets in use somewhere in the world, for the `datetime-local` start time.
UTC_OFFSETS = tuple(
    sorted(
        {f"-{h:02d}:00" for h in range(1, 13)}
        | {f"+{h:02d}:00" for h in range(0, 15)}
        | {"-09:30", "-03:30", "+03:30", "+04:30", "+05:30", "+05:45", "+06:30", "+09:30"}
        | {"+10:30", "+12:45"},
        key=_minutes,
    )
)
SCHEDULE_FIELDS = (
    "candidate_id",
    "job_id",
    "interviewer_id",
    "starts_at",
    "tz_offset",
    "duration_minutes",
    "round",
)
FEEDBACK_FIELDS = ("rating", "recommendation", "notes")
RECOMMENDATIONS = {
    Recommendation.STRONG_YES: "Strong yes",
    Recommendation.YES: "Yes",
    Recommendation.NO: "No",
    Recommendation.STRONG_NO: "Strong no",
}


@bp.route("/interviews")
@login_required
@require(Action.INTERVIEW_VIEW)
def interview_list() -> Any:
    """A page of interviews (interviewers see their own), soonest first."""
    page = page_number()
    items, total = interviews.list_interviews(signed_in_user(), page=page, per_page=PER_PAGE)
    return render_template(
        "interviews/list.html", interviews=items, total=total, page=page, per_page=PER_PAGE
    )


@bp.route("/interviews/new", methods=["GET", "POST"])
@login_required
@require(Action.INTERVIEW_SCHEDULE)
def interview_new() -> Any:
    """Schedule an interview; a clash with another booking is shown on the form (409)."""
    user = signed_in_user()
    if request.method == "GET":
        values = {"candidate_id": request.args.get("candidate_id", ""), "duration_minutes": "60"}
        return render_template("interviews/new.html", **schedule_context(user, values), errors={})
    values = {name: request.form.get(name, "") for name in SCHEDULE_FIELDS}
    try:
        interview = interviews.schedule(user, schedule_data(values))
    except ServiceError as exc:
        return forms.failed(exc, "interviews/new.html", **schedule_context(user, values))
    flash(f"Interview scheduled for {format_utc(interview.starts_at)}.", "success")
    return redirect(url_for("pages.interview_detail", interview_id=interview.id))


def schedule_data(values: dict[str, str]) -> dict[str, Any]:
    """The service's input from the form: the local start time joined to its UTC offset.

    :raise 422: `Invalid` with a message per bad field.
    """
    offset = values["tz_offset"] or UTC_OFFSET
    if offset not in UTC_OFFSETS:
        raise forms.invalid({"tz_offset": ["Choose an offset from the list."]})
    local = values["starts_at"].strip()
    raw = {name: values[name] for name in SCHEDULE_FIELDS if name != "tz_offset"}
    raw["starts_at"] = f"{local}{offset}" if local else ""
    try:
        return forms.load(InterviewCreateSchema(), raw)
    except ServiceError as exc:
        fields = forms.field_errors(exc)
        if "starts_at" in fields:  # the schema's wording is about ISO strings, not this form
            fields["starts_at"] = ["Enter a date and time, e.g. 2030-01-31 14:30."]
        raise forms.invalid(fields) from exc


def schedule_context(user: User, values: dict[str, str]) -> dict[str, Any]:
    """The choices the scheduling form offers, and the values to show."""
    people = candidates.list_candidates(user, per_page=100)[0]
    return {
        "values": {"tz_offset": UTC_OFFSET, **{k: v for k, v in values.items() if v}},
        "candidate_options": [
            (c.id, " – ".join(filter(None, [c.name or "Unnamed candidate", c.email])))
            for c in people
        ],
        "job_options": [(job.id, job.title) for job in jobs.list_jobs(per_page=100)[0]],
        # The interviewer directory: name and email, as the API shows schedulers.
        "interviewer_options": [(u.id, f"{u.name} <{u.email}>") for u in directory.interviewers()],
        "offset_options": [(o, "UTC" if o == UTC_OFFSET else f"UTC{o}") for o in UTC_OFFSETS],
        "duration": DURATION,
    }


@bp.route("/interviews/<interview_id>")
@login_required
def interview_detail(interview_id: str) -> Any:
    """One interview with its feedback, and the feedback form for its interviewer."""
    user = signed_in_user()
    interview = interviews.view_interview(user, interview_id)
    context = feedback_context(interview, feedback_values(interview))
    edited = interview.feedback is not None and interview.feedback.version > 1
    earlier = []
    if edited and may_see_feedback_versions(user, interview):
        earlier = interviews.feedback_versions(user, interview_id)
    return render_template("interviews/detail.html", errors={}, earlier=earlier, **context)


@bp.route("/interviews/<interview_id>/feedback", methods=["GET", "POST"])
@login_required
def interview_feedback(interview_id: str) -> Any:
    """Submit or edit feedback: the assigned interviewer only, once the interview started.

    :raise 403: for anyone but the assigned interviewer. :raise 409: too early, or cancelled.
    """
    user = signed_in_user()
    interview = interviews.get_interview(user, interview_id, Action.INTERVIEW_FEEDBACK)
    if request.method == "GET":
        context = feedback_context(interview, feedback_values(interview))
        return render_template("interviews/feedback.html", errors={}, **context)
    values = {name: request.form.get(name, "") for name in FEEDBACK_FIELDS}
    try:
        data = forms.load(FeedbackInSchema(), values)
        _feedback, created = interviews.submit_feedback(user, interview_id, data)
    except ServiceError as exc:
        return forms.failed(exc, "interviews/feedback.html", **feedback_context(interview, values))
    flash("Feedback submitted." if created else "Feedback updated.", "success")
    if can("INTERVIEW_VIEW"):
        return redirect(url_for("pages.interview_detail", interview_id=interview.id))
    return redirect(url_for("pages.interview_feedback", interview_id=interview.id))


def feedback_values(interview: Interview) -> dict[str, str]:
    feedback = interview.feedback
    if feedback is None:
        return {"rating": "", "recommendation": "", "notes": ""}
    return {
        "rating": str(feedback.rating),
        "recommendation": feedback.recommendation,
        "notes": feedback.notes,
    }


def feedback_context(interview: Interview, values: Any) -> dict[str, Any]:
    return {
        "interview": interview,
        "values": values,
        "recommendations": RECOMMENDATIONS,
    }

"""Interviews: the list, the scheduling form, details, and the interviewer's feedback."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from markupsafe import Markup

from talaro.blueprints.interviews.schemas import (
    DURATION,
    FeedbackInSchema,
    InterviewCreateSchema,
    InterviewUpdateSchema,
)
from talaro.blueprints.pages import forms
from talaro.blueprints.pages.display import can, format_local, user_zone
from talaro.blueprints.pages.forms import PER_PAGE, page_number
from talaro.blueprints.pages.views import bp
from talaro.errors import Conflict, Invalid, ServiceError
from talaro.models import Interview, InterviewStatus, Recommendation, User, utcnow
from talaro.permissions import (
    Action,
    may_change_interview,
    may_see_feedback_versions,
    may_submit_feedback,
    require,
    signed_in_user,
)
from talaro.services import candidates, directory, interviews, jobs

SCHEDULE_FIELDS = (
    "candidate_id",
    "job_id",
    "interviewer_id",
    "starts_at",
    "duration_minutes",
    "round",
    "past_record",
)
RESCHEDULE_FIELDS = ("starts_at", "duration_minutes", "interviewer_id", "round", "past_record")
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
        exc = page_error(user, exc)
        return forms.failed(exc, "interviews/new.html", **schedule_context(user, values))
    flash(f"Interview scheduled for {format_local(interview.starts_at)}.", "success")
    return redirect(url_for("pages.interview_detail", interview_id=interview.id))


def schedule_data(values: dict[str, str]) -> dict[str, Any]:
    """The service's input from the form: the start time read in the user's time zone.

    :raise 422: `Invalid` with a message per bad field.
    """
    raw = {name: values[name] for name in SCHEDULE_FIELDS}
    problems: dict[str, list[str]] = {}
    try:
        raw["starts_at"] = forms.local_time(values["starts_at"], user_zone())
    except ServiceError as exc:
        problems, raw["starts_at"] = forms.field_errors(exc), ""
    try:
        data = forms.load(InterviewCreateSchema(), raw)
    except ServiceError as exc:  # every field's message at once
        raise forms.invalid({**forms.field_errors(exc), **problems}) from exc
    if problems:
        raise forms.invalid(problems)
    return data


def conflict_named(user: User, error: ServiceError) -> ServiceError:
    """A `schedule_conflict` as the pages say it: with whom the clashing interview is and
    when, in the user's zone, linked to it. The service's own message, the one recorded,
    names no candidate."""
    clash = interviews.clashing(user, error)
    if clash is None:
        return error
    message = Markup(
        'The {who} is already booked then: <a href="{url}">the interview with {candidate} '
        "at {start}</a> ({minutes} minutes)."
    ).format(
        who=error.details.get("who", "interviewer"),
        url=url_for("pages.interview_detail", interview_id=clash.id),
        candidate=clash.candidate.name or "an unnamed candidate",
        start=format_local(clash.starts_at),
        minutes=clash.duration_minutes,
    )
    return Conflict(message, code=error.code, details=error.details)


def schedule_context(user: User, values: dict[str, str]) -> dict[str, Any]:
    """The choices the scheduling form offers, and the values to show."""
    people = candidates.list_candidates(user, per_page=100)[0]
    return {
        "values": {k: v for k, v in values.items() if v},
        "candidate_options": [
            (c.id, " – ".join(filter(None, [c.name or "Unnamed candidate", c.email])))
            for c in people
        ],
        "job_options": [(job.id, job.title) for job in jobs.list_jobs(per_page=100)[0]],
        # The interviewer directory: name and email, as the API shows schedulers.
        "interviewer_options": [(u.id, f"{u.name} <{u.email}>") for u in directory.interviewers()],
        "duration": DURATION,
    }


@bp.route("/interviews/<interview_id>")
@login_required
def interview_detail(interview_id: str) -> Any:
    """One interview with its feedback, and the feedback form for its interviewer."""
    user = signed_in_user()
    interview = interviews.view_interview(user, interview_id)
    return render_detail(user, interview)


def render_detail(
    user: User,
    interview: Interview,
    errors: dict[str, list[str]] | None = None,
    change: dict[str, str] | None = None,
) -> str:
    """The interview page; after a refused change, `errors` and the values sent back."""
    context = feedback_context(interview, feedback_values(interview))
    edited = interview.feedback is not None and interview.feedback.version > 1
    earlier = []
    if edited and may_see_feedback_versions(user, interview):
        earlier = interviews.feedback_versions(user, interview.id)
    return render_template(
        "interviews/detail.html",
        errors=errors or {},
        earlier=earlier,
        **context,
        **change_context(user, interview, change),
    )


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
    user = signed_in_user()
    refusal = interviews.feedback_refusal(interview)
    return {
        "interview": interview,
        "values": values,
        "recommendations": RECOMMENDATIONS,
        # The form only when it can be sent; otherwise why not (e.g. not started yet).
        "feedback_open": may_submit_feedback(user, interview) and refusal is None,
        "feedback_closed": refusal.message if refusal is not None else "",
    }


# Changes to an interview: reschedule or reassign, cancel with a reason, no-show -------


def change_context(
    user: User, interview: Interview, values: dict[str, str] | None = None
) -> dict[str, Any]:
    """What the change forms show, and which of them this user may use now."""
    may_change = may_change_interview(user, interview)
    status = interview.status
    shown = {
        "starts_at": forms.local_input(interview.starts_at, user_zone()),
        "duration_minutes": str(interview.duration_minutes),
        "interviewer_id": interview.interviewer_id,
        "round": interview.round,
        "cancel_reason": "",
    }
    return {
        "change": {**shown, **(values or {})},
        "may_reschedule": may_change and status == InterviewStatus.SCHEDULED,
        "may_reassign": interview.feedback is None,
        "may_cancel": may_change and status in (InterviewStatus.SCHEDULED, InterviewStatus.NO_SHOW),
        "may_mark_no_show": may_change
        and status == InterviewStatus.SCHEDULED
        and interview.starts_at <= utcnow(),
        "interviewer_options": (
            [(u.id, f"{u.name} <{u.email}>") for u in directory.interviewers()]
            if may_change
            else []
        ),
        "duration": DURATION,
    }


def _change(interview_id: str, changes: dict[str, Any], values: dict[str, str]) -> Any:
    """Apply `changes` through the service; the interview page again on refusal."""
    user = signed_in_user()
    try:
        changed = interviews.update(user, interview_id, changes)
    except ServiceError as exc:
        exc = page_error(user, exc)
        flash(exc.message, "error")
        interview = interviews.get_interview(user, interview_id)
        return render_detail(user, interview, forms.field_errors(exc), values), exc.status
    return changed


@bp.route("/interviews/<interview_id>/reschedule", methods=["POST"])
@login_required
@require(Action.INTERVIEW_UPDATE)
def interview_reschedule(interview_id: str) -> Any:
    """Move an interview (times in the user's zone) or hand it to another interviewer.

    :raise 422: a bad or past time (unless a past record). :raise 409: a clash.
    """
    values = {name: request.form.get(name, "") for name in RESCHEDULE_FIELDS}
    interview = interviews.get_interview(signed_in_user(), interview_id)
    try:
        raw = {**values, "starts_at": forms.local_time(values["starts_at"], user_zone())}
        if values["starts_at"] == forms.local_input(interview.starts_at, user_zone()):
            raw["starts_at"] = ""  # the time shown, unchanged (it may have had seconds)
        changes = forms.load(InterviewUpdateSchema(), raw)
    except ServiceError as exc:
        return _change_refused(interview_id, exc, values)
    result = _change(interview_id, changes, values)
    if not isinstance(result, Interview):
        return result
    flash(f"Interview rescheduled for {format_local(result.starts_at)}.", "success")
    return redirect(url_for("pages.interview_detail", interview_id=interview_id))


@bp.route("/interviews/<interview_id>/cancel", methods=["POST"])
@login_required
@require(Action.INTERVIEW_UPDATE)
def interview_cancel(interview_id: str) -> Any:
    """Cancel an interview; the reason is required, stored and shown."""
    values = {"cancel_reason": request.form.get("cancel_reason", "")}
    try:
        changes = forms.load(InterviewUpdateSchema(), {**values, "status": "cancelled"})
        interviews.check_cancel_reason(changes.get("cancel_reason"), required=True)
    except ServiceError as exc:
        return _change_refused(interview_id, exc, values)
    result = _change(interview_id, changes, values)
    if not isinstance(result, Interview):
        return result
    flash("Interview cancelled.", "success")
    return redirect(url_for("pages.interview_detail", interview_id=interview_id))


@bp.route("/interviews/<interview_id>/no-show", methods=["POST"])
@login_required
@require(Action.INTERVIEW_UPDATE)
def interview_no_show(interview_id: str) -> Any:
    """Record that the candidate did not come (once the interview has started)."""
    result = _change(interview_id, {"status": InterviewStatus.NO_SHOW.value}, {})
    if not isinstance(result, Interview):
        return result
    flash("Interview marked as a no-show.", "success")
    return redirect(url_for("pages.interview_detail", interview_id=interview_id))


PAST_START = (
    "This time has already passed. To record an interview that took place, tick "
    "“This is a record of an interview that already took place”."
)
CANCEL_REASON_MISSING = "Give a reason to cancel the interview"


def page_error(user: User, error: ServiceError) -> ServiceError:
    """A service refusal in the pages' words: a clash names the other interview, a past
    start points at the form's checkbox rather than the API's `past_record`, a missing
    reason names no API field."""
    if error.code == "start_in_past":
        return Invalid(PAST_START, code=error.code, details={"fields": {"starts_at": [PAST_START]}})
    if error.code == "cancel_reason_required":
        return Invalid(CANCEL_REASON_MISSING, code=error.code, details=error.details)
    return conflict_named(user, error)


def _change_refused(interview_id: str, error: ServiceError, values: dict[str, str]) -> Any:
    """A change form that did not validate: the page again with its field messages."""
    user = signed_in_user()
    interview = interviews.get_interview(user, interview_id)
    error = page_error(user, error)
    flash(error.message, "error")
    return render_detail(user, interview, forms.field_errors(error), values), error.status

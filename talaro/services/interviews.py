"""Interviews: scheduling without double bookings, changes, feedback."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from talaro.errors import Conflict, Invalid, NotFound, ServiceError
from talaro.extensions import db
from talaro.models import (
    Candidate,
    Feedback,
    FeedbackVersion,
    Interview,
    InterviewStatus,
    Job,
    User,
    utcnow,
)
from talaro.permissions import Action, check_interview, interviews_visible_to, visible_interviews
from talaro.telemetry.catalogue import (
    INTERVIEW_DELETE,
    INTERVIEW_FEEDBACK,
    INTERVIEW_FEEDBACK_VERSIONS,
    INTERVIEW_LIST,
    INTERVIEW_SCHEDULE,
    INTERVIEW_UPDATE,
    INTERVIEW_VIEW,
)
from talaro.telemetry.events import recorded
from talaro.telemetry.spans import span

# Statuses that hold the slot: a completed interview happened then; a no-show freed it.
BOOKED = (InterviewStatus.SCHEDULED, InterviewStatus.COMPLETED)
# What PATCH may set; `completed` follows from feedback alone.
SETTABLE_STATUSES = (InterviewStatus.SCHEDULED, InterviewStatus.CANCELLED, InterviewStatus.NO_SHOW)
PAST_START = "The start time is in the past; send past_record: true to record a past interview"
# An interview booked as it begins (a slow form, a clock a little behind) is not "past".
PAST_GRACE = timedelta(minutes=15)
CANCEL_REASON_MISSING = "Give a reason to cancel the interview (cancel_reason)"


def _must_exist(model: type[Any], ident: str, field: str) -> Any:
    row = db.session.get(model, ident)
    if row is None:
        raise Invalid(
            f"Unknown {field.removesuffix('_id')}", details={"fields": {field: ["not found"]}}
        )
    return row


def _interviewer(user_id: str) -> User:
    user = _must_exist(User, user_id, "interviewer_id")
    if not user.active:
        raise Invalid(
            "The interviewer is deactivated", details={"fields": {"interviewer_id": ["inactive"]}}
        )
    return user


def find_overlapping_interviews(
    *,
    interviewer_id: str,
    candidate_id: str,
    starts_at: datetime,
    ends_at: datetime,
    exclude_id: str | None = None,
) -> list[Interview]:
    """Scheduled interviews of this interviewer or candidate that overlap [starts_at, ends_at)."""
    query = select(Interview).where(
        Interview.status.in_(BOOKED),
        or_(Interview.interviewer_id == interviewer_id, Interview.candidate_id == candidate_id),
        Interview.starts_at < ends_at,
        Interview.ends_at > starts_at,
    )
    if exclude_id is not None:
        query = query.where(Interview.id != exclude_id)
    return list(db.session.scalars(query.order_by(Interview.starts_at)))


def _refuse_double_booking(interview: Interview) -> None:
    with span("interview.conflict_check"):
        # Lock both people's rows (PostgreSQL) so concurrent bookings are checked one at a time.
        db.session.execute(
            select(User.id).where(User.id == interview.interviewer_id).with_for_update()
        )
        db.session.execute(
            select(Candidate.id).where(Candidate.id == interview.candidate_id).with_for_update()
        )
        clashes = find_overlapping_interviews(
            interviewer_id=interview.interviewer_id,
            candidate_id=interview.candidate_id,
            starts_at=interview.starts_at,
            ends_at=interview.ends_at,
            exclude_id=interview.id,
        )
    if clashes:
        clash = clashes[0]
        who = "interviewer" if clash.interviewer_id == interview.interviewer_id else "candidate"
        db.session.rollback()
        raise Conflict(
            f"The {who} already has an interview from {clash.starts_at.isoformat()} "
            f"to {clash.ends_at.isoformat()}",
            code="schedule_conflict",
            # The clash by id and time only (the message is also the record's reason):
            # the pages look up whom it is with (`clashing`).
            details={
                "conflicting_interview_id": clash.id,
                "conflicting_interview": {
                    "id": clash.id,
                    "starts_at": clash.starts_at.isoformat(),
                    "ends_at": clash.ends_at.isoformat(),
                },
                "who": who,
            },
        )


def schedule(user: User, data: dict[str, Any]) -> Interview:
    """Book an interview; 409 when the interviewer or candidate is already booked then."""
    attributes = {
        "candidate.id": data["candidate_id"],
        "job.id": data["job_id"],
        "talaro.interviewer.id": data["interviewer_id"],
    }
    if data.get("past_record"):
        attributes["talaro.past_record"] = True
    with recorded(INTERVIEW_SCHEDULE, **attributes) as details:
        _refuse_past_start(data["starts_at"], data.get("past_record", False))
        interview = _book(user, data)
        details["interview.id"] = interview.id
    return interview


def _refuse_past_start(starts_at: datetime, past_record: bool) -> None:
    """422 naming `starts_at` for a start time already gone, unless the caller says the
    interview is a record of one that took place."""
    if starts_at < utcnow() - PAST_GRACE and not past_record:
        raise Invalid(
            PAST_START, code="start_in_past", details={"fields": {"starts_at": [PAST_START]}}
        )


def _book(user: User, data: dict[str, Any]) -> Interview:
    candidate = _must_exist(Candidate, data["candidate_id"], "candidate_id")
    job = _must_exist(Job, data["job_id"], "job_id")
    interviewer = _interviewer(data["interviewer_id"])
    starts_at = data["starts_at"]
    interview = Interview(
        candidate_id=candidate.id,
        job_id=job.id,
        interviewer_id=interviewer.id,
        scheduled_by_id=user.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=data["duration_minutes"]),
        duration_minutes=data["duration_minutes"],
        round=data.get("round", ""),
        status=InterviewStatus.SCHEDULED,
    )
    _refuse_double_booking(interview)
    db.session.add(interview)
    db.session.commit()
    return interview


def get_interview(
    user: User, interview_id: str, action: Action = Action.INTERVIEW_VIEW
) -> Interview:
    interview = db.session.get(Interview, interview_id)
    if interview is None:
        raise NotFound("Interview not found")
    check_interview(user, interview, action)
    return interview


def clashing(user: User, error: ServiceError) -> Interview | None:
    """The interview a `schedule_conflict` names, when `user` may see it (None otherwise;
    asking records nothing)."""
    details = error.details if isinstance(error.details, dict) else {}
    ident = details.get("conflicting_interview_id") if error.code == "schedule_conflict" else None
    interview = db.session.get(Interview, ident) if isinstance(ident, str) else None
    if interview is None or not interviews_visible_to(user, [interview]):
        return None
    return interview


def view_interview(user: User, interview_id: str) -> Interview:
    """An interview the user may see (the `interview_view` event)."""
    with recorded(INTERVIEW_VIEW, **{"interview.id": interview_id}):
        return get_interview(user, interview_id)


def list_interviews(
    user: User,
    *,
    page: int = 1,
    per_page: int = 20,
    candidate_id: str | None = None,
    status: str | None = None,
) -> tuple[list[Interview], int]:
    with recorded(INTERVIEW_LIST, **{"talaro.page": page}) as details:
        items, total = _filtered(user, page, per_page, candidate_id, status)
        details.update({"talaro.result_count": len(items), "talaro.total": total})
    return items, total


def _filtered(
    user: User, page: int, per_page: int, candidate_id: str | None, status: str | None
) -> tuple[list[Interview], int]:
    query = visible_interviews(select(Interview), user)
    if candidate_id:
        query = query.where(Interview.candidate_id == candidate_id)
    if status:
        query = query.where(Interview.status == status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(
        query.options(selectinload(Interview.feedback))
        .order_by(Interview.starts_at, Interview.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(items), total


def update(user: User, interview_id: str, changes: dict[str, Any]) -> Interview:
    """Reschedule, reassign, change the round, cancel (with a reason), mark a no-show or
    reinstate. A new start time in the past needs `past_record`."""
    fields = sorted(name for name in changes if name != "past_record")
    attributes: dict[str, Any] = {"interview.id": interview_id, "talaro.changed_fields": fields}
    if changes.get("past_record"):
        attributes["talaro.past_record"] = True
    with recorded(INTERVIEW_UPDATE, **attributes) as details:
        interview = get_interview(user, interview_id, Action.INTERVIEW_UPDATE)
        details["talaro.interview.previous_status"] = str(interview.status)
        _apply(interview, changes)
        details["talaro.interview.status"] = str(interview.status)
    return interview


def _apply(interview: Interview, changes: dict[str, Any]) -> None:
    _check_lifecycle(interview, changes)
    if "interviewer_id" in changes and changes["interviewer_id"] != interview.interviewer_id:
        if interview.feedback is not None:
            # Feedback belongs to its author: reassigning would hand it to someone else.
            raise Conflict(
                "The interview has feedback from its interviewer, so it cannot be reassigned",
                code="feedback_exists",
            )
        interview.interviewer_id = _interviewer(changes["interviewer_id"]).id
    if "starts_at" in changes:
        interview.starts_at = changes["starts_at"]
    if "duration_minutes" in changes:
        interview.duration_minutes = changes["duration_minutes"]
    interview.ends_at = interview.starts_at + timedelta(minutes=interview.duration_minutes)
    if "round" in changes:
        interview.round = changes["round"]
    _set_status(interview, changes)
    if interview.status == InterviewStatus.SCHEDULED:
        _refuse_double_booking(interview)
    db.session.commit()


def _check_lifecycle(interview: Interview, changes: dict[str, Any]) -> None:
    """Refuse what the interview's state forbids, before anything is changed."""
    status = changes.get("status", interview.status)
    if "cancel_reason" in changes and status != InterviewStatus.CANCELLED:
        message = "A cancel_reason goes only with status cancelled"
        raise Invalid(
            message,
            code="cancel_reason_unexpected",
            details={"fields": {"cancel_reason": [message]}},
        )
    if interview.status == InterviewStatus.COMPLETED:
        moved = any(
            name in changes and changes[name] != getattr(interview, name)
            for name in ("starts_at", "duration_minutes")
        )
        if moved or status != InterviewStatus.COMPLETED:
            raise Conflict(
                "The interview has feedback, so it is completed: it cannot be rescheduled, "
                "cancelled or marked a no-show",
                code="interview_completed",
            )
    if "starts_at" in changes and changes["starts_at"] != interview.starts_at:
        _refuse_past_start(changes["starts_at"], changes.get("past_record", False))
    starts_at = changes.get("starts_at", interview.starts_at)
    if status == InterviewStatus.NO_SHOW and utcnow() < starts_at:
        raise Conflict(
            "An interview can be marked a no-show only once it has started",
            code="interview_not_started",
        )
    if status == InterviewStatus.CANCELLED:
        check_cancel_reason(changes.get("cancel_reason"))


def check_cancel_reason(reason: str | None, *, required: bool = False) -> None:
    """The rule for cancelling an interview: a reason given must say something. The pages
    always ask for one (`required`); API clients written before reasons existed may still
    cancel without one (None), and the page then says no reason was given.

    :raise 422: `Invalid` with code `cancel_reason_required`.
    """
    if reason is None and not required:
        return
    if not (reason or "").strip():
        raise Invalid(
            CANCEL_REASON_MISSING,
            code="cancel_reason_required",
            details={"fields": {"cancel_reason": ["Give the reason for cancelling."]}},
        )


def _set_status(interview: Interview, changes: dict[str, Any]) -> None:
    status = changes.get("status", interview.status)
    if status == InterviewStatus.CANCELLED:
        if interview.status != InterviewStatus.CANCELLED:
            interview.cancelled_at = utcnow()
        # API clients written before reasons existed may cancel without one (the pages
        # always ask); the page then says no reason was given.
        reason = changes.get("cancel_reason") or interview.cancel_reason
        interview.cancel_reason = reason.strip() if reason else None
    else:
        interview.cancel_reason = None
        interview.cancelled_at = None
    interview.status = status


def delete(user: User, interview_id: str) -> None:
    with recorded(INTERVIEW_DELETE, **{"interview.id": interview_id}):
        interview = get_interview(user, interview_id, Action.INTERVIEW_DELETE)
        db.session.delete(interview)
        db.session.commit()


FEEDBACK_FIELDS = ("rating", "recommendation", "notes")


def submit_feedback(user: User, interview_id: str, data: dict[str, Any]) -> tuple[Feedback, bool]:
    """Create or edit the one feedback of an interview (its author only); returns it and
    whether it is new. An edit keeps the previous version. The record says which fields
    changed and the version, never their values: they are about a candidate."""
    with recorded(INTERVIEW_FEEDBACK, **{"interview.id": interview_id}) as details:
        interview = get_interview(user, interview_id, Action.INTERVIEW_FEEDBACK)
        feedback, created, changed = _save_feedback(user, interview, data)
        details.update(
            {
                "talaro.created": created,
                "talaro.changed_fields": changed,
                "talaro.feedback.version": feedback.version,
                "talaro.interview.status": str(interview.status),
            }
        )
    return feedback, created


def feedback_versions(user: User, interview_id: str) -> list[FeedbackVersion]:
    """The earlier versions of an interview's feedback, oldest first (hiring managers and
    the author)."""
    with recorded(INTERVIEW_FEEDBACK_VERSIONS, **{"interview.id": interview_id}) as details:
        interview = get_interview(user, interview_id, Action.FEEDBACK_VERSIONS)
        versions = list(interview.feedback.earlier) if interview.feedback is not None else []
        details["talaro.result_count"] = len(versions)
    return versions


def feedback_refusal(interview: Interview) -> Conflict | None:
    """Why feedback cannot be given on the interview now (None when it can): the API's 409,
    and what the pages ask before showing the form."""
    if interview.status == InterviewStatus.CANCELLED:
        return Conflict("The interview was cancelled", code="interview_cancelled")
    if interview.status == InterviewStatus.NO_SHOW:
        return Conflict("The candidate did not show up (no_show)", code="interview_no_show")
    if utcnow() < interview.starts_at:
        return Conflict("Feedback opens when the interview starts", code="interview_not_started")
    return None


def _save_feedback(
    user: User, interview: Interview, data: dict[str, Any]
) -> tuple[Feedback, bool, list[str]]:
    refusal = feedback_refusal(interview)
    if refusal is not None:
        raise refusal
    new = {"rating": data["rating"], "recommendation": data["recommendation"]}
    new["notes"] = data.get("notes", "")
    feedback = interview.feedback
    if feedback is None:
        feedback = Feedback(interview=interview, author_id=user.id, version=1, **new)
        db.session.add(feedback)
        interview.status = InterviewStatus.COMPLETED
        db.session.commit()
        return feedback, True, list(FEEDBACK_FIELDS)
    changed = [name for name in FEEDBACK_FIELDS if getattr(feedback, name) != new[name]]
    if changed:
        feedback.earlier.append(
            FeedbackVersion(
                version=feedback.version,
                author_id=feedback.author_id,
                written_at=feedback.updated_at,
                **{name: getattr(feedback, name) for name in FEEDBACK_FIELDS},
            )
        )
        for name in changed:
            setattr(feedback, name, new[name])
        feedback.version += 1
        db.session.commit()
    return feedback, False, changed

"""Who may do what: the roles table of the product design, in one place.

Role rules are checked by `require(action)` on views; object rules (own uploads,
own scheduled interviews, assigned interviewer, interviewers see only the
candidates they interview) by the `check_*` helpers and `visible_*` filters that
the service layer calls. Every denial goes through `deny()`, whose reason is
both the 403 body and the `authz_fail` security event.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from flask import g, has_request_context
from flask_login import current_user
from sqlalchemy import Select, exists, select

from talaro.errors import Forbidden, Unauthenticated
from talaro.models import Candidate, Interview, InterviewStatus, Resume, Role, User
from talaro.telemetry.catalogue import AUTHN_REQUIRED, AUTHZ_FAIL
from talaro.telemetry.events import FAILURE, emit

F = TypeVar("F", bound=Callable[..., Any])
UNAUTHENTICATED = "Sign in or send a valid API token to use this endpoint"
DENIED_TARGET = "talaro_denied_target"  # g: the object a 403 was about (detection reads it)


class Action(enum.StrEnum):
    RESUME_UPLOAD = "resume upload"
    RESUME_VIEW = "resume view"
    RESUME_UPDATE = "resume update"
    RESUME_DELETE = "resume delete"
    CANDIDATE_VIEW = "candidate view"
    JOB_CREATE = "job create"
    JOB_UPDATE = "job update"
    JOB_VIEW = "job view"
    INTERVIEW_SCHEDULE = "interview scheduling"
    INTERVIEW_VIEW = "interview view"
    INTERVIEW_UPDATE = "interview update"
    INTERVIEW_DELETE = "interview delete"
    INTERVIEW_FEEDBACK = "interview feedback"
    FEEDBACK_VERSIONS = "feedback versions"
    USER_MANAGE = "user management"
    INTERVIEWER_DIRECTORY = "interviewer directory"
    SECURITY_EVENTS_VIEW = "security events view"
    TOKEN_MANAGE = "token management"


ADMIN, MANAGER, RECRUITER, INTERVIEWER = (
    Role.ADMIN,
    Role.HIRING_MANAGER,
    Role.RECRUITER,
    Role.INTERVIEWER,
)
EVERYONE = frozenset(Role)

# Which roles may attempt each action at all; object rules narrow it further.
ROLE_RULES: dict[Action, frozenset[Role]] = {
    Action.RESUME_UPLOAD: frozenset({MANAGER, RECRUITER}),
    Action.RESUME_VIEW: frozenset({MANAGER, RECRUITER, INTERVIEWER}),
    Action.RESUME_UPDATE: frozenset({MANAGER, RECRUITER}),
    Action.RESUME_DELETE: frozenset({MANAGER, RECRUITER}),
    Action.CANDIDATE_VIEW: frozenset({MANAGER, RECRUITER, INTERVIEWER}),
    Action.JOB_CREATE: frozenset({MANAGER}),
    Action.JOB_UPDATE: frozenset({MANAGER}),
    Action.JOB_VIEW: EVERYONE,
    Action.INTERVIEW_SCHEDULE: frozenset({MANAGER, RECRUITER}),
    Action.INTERVIEW_VIEW: frozenset({MANAGER, RECRUITER, INTERVIEWER}),
    Action.INTERVIEW_UPDATE: frozenset({MANAGER, RECRUITER}),
    Action.INTERVIEW_DELETE: frozenset({MANAGER, RECRUITER}),
    # Any role may give feedback; only the assigned interviewer (an object rule).
    Action.INTERVIEW_FEEDBACK: EVERYONE,
    # Hiring managers, and the feedback's author whatever their role (an object rule).
    Action.FEEDBACK_VERSIONS: EVERYONE,
    Action.USER_MANAGE: frozenset({ADMIN}),
    # Names and emails of the people one can book as interviewers (schedulers only).
    Action.INTERVIEWER_DIRECTORY: frozenset({MANAGER, RECRUITER}),
    Action.SECURITY_EVENTS_VIEW: frozenset({ADMIN}),
    Action.TOKEN_MANAGE: EVERYONE,
}

# Roles that may act on every object of a kind rather than only their own.
SEES_ALL = frozenset({MANAGER, RECRUITER})
CHANGES_ALL = frozenset({MANAGER})


def deny(action: Action, reason: str, target: dict[str, str] | None = None) -> Forbidden:
    """The single exit for a denial: an `authz_fail` event and a 403, with one reason."""
    emit(
        AUTHZ_FAIL,
        outcome=FAILURE,
        reason=reason,
        attributes={
            "talaro.action": str(action),
            "http.response.status_code": Forbidden.status,
            **(target or {}),
        },
    )
    if target and has_request_context():
        setattr(g, DENIED_TARGET, target)
    return Forbidden(reason, code="forbidden", details={"action": str(action)})


def role_reason(role: str, action: Action) -> str:
    return f'User role "{role}" not allowed for {action}'


def authorize(user: User, action: Action) -> None:
    """Raise 403 unless the user's role may attempt `action`."""
    if user.role not in ROLE_RULES[action]:
        raise deny(action, role_reason(user.role, action))


def signed_in_user() -> User:
    """The current user, or a 401 for a request without valid credentials."""
    if not current_user.is_authenticated:
        authentication_required()
        raise Unauthenticated(UNAUTHENTICATED)
    return current_user._get_current_object()  # type: ignore[no-any-return]


def authentication_required(status: int = Unauthenticated.status) -> None:
    """Record a request refused for want of credentials (the response is the caller's: a
    401, or a page's redirect to the sign-in form)."""
    emit(
        AUTHN_REQUIRED,
        outcome=FAILURE,
        reason=UNAUTHENTICATED,
        attributes={"http.response.status_code": status},
    )


def require(action: Action) -> Callable[[F], F]:
    """Decorator: a signed-in user whose role may attempt `action` (401 / 403 otherwise)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            authorize(signed_in_user(), action)
            return view(*args, **kwargs)

        wrapped.required_action = action  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


# Object rules ---------------------------------------------------------------


def _interviews_candidate(user: User, candidate_id: str) -> Any:
    # Only an interview that still stands: a cancelled one grants its interviewer nothing.
    return exists().where(
        Interview.candidate_id == candidate_id,
        Interview.interviewer_id == user.id,
        Interview.status != InterviewStatus.CANCELLED,
    )


def visible_resumes(query: Select[Any], user: User) -> Select[Any]:
    if user.role in SEES_ALL:
        return query
    return query.where(_interviews_candidate(user, Resume.candidate_id))


def visible_candidates(query: Select[Any], user: User) -> Select[Any]:
    if user.role in SEES_ALL:
        return query
    return query.where(_interviews_candidate(user, Candidate.id))


def visible_interviews(query: Select[Any], user: User) -> Select[Any]:
    if user.role in SEES_ALL:
        return query
    return query.where(Interview.interviewer_id == user.id)


def interviews_visible_to(user: User, interviews: Iterable[Interview]) -> list[Interview]:
    """The interviews of a loaded collection that `user` may see."""
    if user.role in SEES_ALL:
        return list(interviews)
    return [interview for interview in interviews if interview.interviewer_id == user.id]


def _interviews(user: User, candidate_id: str) -> bool:
    from talaro.extensions import db

    return bool(db.session.scalar(select(_interviews_candidate(user, candidate_id))))


def check_candidate(user: User, candidate: Candidate, action: Action) -> None:
    authorize(user, action)
    if user.role not in SEES_ALL and not _interviews(user, candidate.id):
        raise deny(
            action,
            "Interviewers may only see candidates they interview",
            {"candidate.id": candidate.id},
        )


def check_resume(user: User, resume: Resume, action: Action) -> None:
    authorize(user, action)
    target = {"resume.id": resume.id, "candidate.id": resume.candidate_id}
    if action is Action.RESUME_VIEW:
        if user.role not in SEES_ALL and not _interviews(user, resume.candidate_id):
            reason = "Interviewers may only see resumes of candidates they interview"
            raise deny(action, reason, target)
        return
    if user.role not in CHANGES_ALL and resume.uploaded_by_id != user.id:
        reason = f'User role "{user.role}" may only change resumes they uploaded'
        raise deny(action, reason, target)


def check_interview(user: User, interview: Interview, action: Action) -> None:
    target = {"interview.id": interview.id}
    author = interview.feedback.author_id if interview.feedback is not None else None
    if action is Action.INTERVIEW_FEEDBACK:
        if interview.interviewer_id != user.id:
            raise deny(action, "Only the assigned interviewer may submit feedback", target)
        if author is not None and author != user.id:
            raise deny(action, "Only the author of the feedback may edit it", target)
        return
    if action is Action.FEEDBACK_VERSIONS:
        if not may_see_feedback_versions(user, interview):
            reason = "Only hiring managers and the feedback's author may see its earlier versions"
            raise deny(action, reason, target)
        return
    authorize(user, action)
    if action is Action.INTERVIEW_VIEW:
        if user.role not in SEES_ALL and interview.interviewer_id != user.id:
            raise deny(action, "Interviewers may only see their own interviews", target)
        return
    if user.role not in CHANGES_ALL and interview.scheduled_by_id != user.id:
        reason = f'User role "{user.role}" may only change interviews they scheduled'
        raise deny(action, reason, target)


def may_change_interview(user: User, interview: Interview) -> bool:
    """Whether `user` may reschedule, reassign, cancel or delete the interview (pages ask
    before showing those forms; the service's check is `check_interview`)."""
    allowed = user.role in ROLE_RULES[Action.INTERVIEW_UPDATE]
    return allowed and (user.role in CHANGES_ALL or interview.scheduled_by_id == user.id)


def may_submit_feedback(user: User, interview: Interview) -> bool:
    """The assigned interviewer, and once there is feedback only its author (the page's
    question; the timing rules are the service's `feedback_refusal`)."""
    author = interview.feedback.author_id if interview.feedback is not None else None
    return interview.interviewer_id == user.id and author in (None, user.id)


def may_change_resume(user: User, resume: Resume) -> bool:
    """Whether `user` may correct or delete the resume (pages ask before showing the
    forms; the service's check is `check_resume`)."""
    allowed = user.role in ROLE_RULES[Action.RESUME_UPDATE]
    return allowed and (user.role in CHANGES_ALL or resume.uploaded_by_id == user.id)


def may_see_feedback_versions(user: User, interview: Interview) -> bool:
    """Hiring managers and the feedback's author see its earlier versions (pages ask
    before showing them; the API's check is `check_interview`)."""
    author = interview.feedback.author_id if interview.feedback is not None else None
    return user.role == MANAGER or (author is not None and author == user.id)


PASSWORD_CHANGE_REQUIRED = "Change your temporary password before anything else"


def require_own_password(user: User) -> None:
    """A user with a temporary password may only change it (or sign out). A plain 403
    rather than `deny()`: it is no attempt on anything, so no `authz_fail`."""
    if user.password_must_change:
        raise Forbidden(PASSWORD_CHANGE_REQUIRED, code="password_change_required")

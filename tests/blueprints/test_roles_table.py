"""The product's roles table, cell by cell, against every endpoint of the API contract.

`TABLE` is the roles table of /work/shared/design/product.md as data: rows grouped by
action, one row per endpoint or per object rule of an endpoint, one column per role. A cell
is the success status the role gets, `NO` (403 with the role rule's reason, e.g. exactly
'User role "ADMIN" not allowed for resume upload') or a `Deny(reason)` (403 with an object
rule's reason). Every row is also run with no credentials: always a 401. Each cell is its
own test, `<row>-<role>`, on fresh data. "cancelled" rows: the caller's interview with the
candidate was cancelled, which no longer lets its interviewer see the candidate.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from talaro.extensions import db
from talaro.models import Candidate, Interview, InterviewStatus, Resume, Role, User
from talaro.services import accounts
from tests.factories import ApiClient, Factory, RoleClients, resume_text

ROLES = [Role.ADMIN, Role.HIRING_MANAGER, Role.RECRUITER, Role.INTERVIEWER]
ANONYMOUS = "anonymous"
_upload_numbers = itertools.count(1)


class Anonymous(ApiClient):
    """Sends no credentials at all; `user` is only someone to build data around."""

    def open(self, method: str, path: str, **kw: Any) -> Any:
        return self.client.open(path, method=method, **kw)


def caller(app: Flask, as_role: RoleClients, make: Factory, role: str) -> ApiClient:
    if role == ANONYMOUS:
        return Anonymous(app.test_client(), make.user(Role.RECRUITER), "")
    return as_role(role)


def token_id(make: Factory, user: User) -> str:
    """The id of a new API token of `user`."""
    with make.app.app_context():
        token, _secret = accounts.create_token(user, "spare")
        return token.id


def candidate_of(make: Factory, resume: Resume) -> Candidate:
    """The (detached) candidate of a factory-made resume."""
    with make.app.app_context():
        candidate = db.session.get(Candidate, resume.candidate_id)
        assert candidate is not None
        db.session.expunge(candidate)
        return candidate


@dataclass(frozen=True)
class Deny:
    """A 403 whose `error.message` is `reason`, or the role rule's message when None."""

    reason: str | None = None


Cell = int | Deny
Send = Callable[[Factory, ApiClient], TestResponse]

NO = Deny()  # the role may not attempt this at all: 'User role "X" not allowed for <action>'
# Object rules: the role may attempt it, but not on this object.
ONLY_UPLOADER = Deny('User role "RECRUITER" may only change resumes they uploaded')
ONLY_SCHEDULER = Deny('User role "RECRUITER" may only change interviews they scheduled')
ONLY_CANDIDATES = Deny("Interviewers may only see candidates they interview")
ONLY_RESUMES = Deny("Interviewers may only see resumes of candidates they interview")
ONLY_THEIR_OWN = Deny("Interviewers may only see their own interviews")
UNASSIGNED = Deny("Only the assigned interviewer may submit feedback")


@dataclass(frozen=True)
class Row:
    send: Send  # builds fresh data around the caller and sends the request
    admin: Cell
    hiring_manager: Cell
    recruiter: Cell
    interviewer: Cell

    @property
    def name(self) -> str:
        return self.send.__name__

    def expected(self, role: str) -> Cell:
        return getattr(self, role.lower())


# Building each request ------------------------------------------------------------------


def upload_file() -> tuple[io.BytesIO, str]:
    n = next(_upload_numbers)
    text = resume_text(f"Uploaded Person{n}", f"uploaded{n}@example.org")
    return io.BytesIO(text.encode()), f"cv-{n}.txt"


def started_interview(make: Factory, interviewer: User) -> Interview:
    return make.interview(interviewer=interviewer, starts_at=datetime.now(UTC) - timedelta(hours=1))


FEEDBACK = {"rating": 4, "recommendation": "yes", "notes": "Clear and thorough."}
MULTIPART = "multipart/form-data"


def auth_me(make: Factory, me: ApiClient) -> TestResponse:
    return me.get("/api/auth/me")


def auth_logout(make: Factory, me: ApiClient) -> TestResponse:
    return me.post("/api/auth/logout")


def token_create(make: Factory, me: ApiClient) -> TestResponse:
    return me.post("/api/auth/tokens", json={"name": "ci"})


def token_list(make: Factory, me: ApiClient) -> TestResponse:
    return me.get("/api/auth/tokens")


def token_revoke_own(make: Factory, me: ApiClient) -> TestResponse:
    return me.delete(f"/api/auth/tokens/{token_id(make, me.user)}")


def token_revoke_others(make: Factory, me: ApiClient) -> TestResponse:
    return me.delete(f"/api/auth/tokens/{token_id(make, make.user(Role.RECRUITER))}")


def users_list(make: Factory, me: ApiClient) -> TestResponse:
    return me.get("/api/users")


def interviewers_list(make: Factory, me: ApiClient) -> TestResponse:
    return me.get("/api/interviewers")


def users_patch(make: Factory, me: ApiClient) -> TestResponse:
    target = make.user(Role.INTERVIEWER)
    return me.patch(f"/api/users/{target.id}", json={"role": "RECRUITER"})


def jobs_list(make: Factory, me: ApiClient) -> TestResponse:
    make.job()
    return me.get("/api/jobs")


def jobs_create(make: Factory, me: ApiClient) -> TestResponse:
    return me.post("/api/jobs", json={"title": "x"})


def jobs_get(make: Factory, me: ApiClient) -> TestResponse:
    return me.get(f"/api/jobs/{make.job().id}")


def jobs_patch(make: Factory, me: ApiClient) -> TestResponse:
    return me.patch(f"/api/jobs/{make.job().id}", json={"title": "Staff Engineer"})


def resume_upload(make: Factory, me: ApiClient) -> TestResponse:
    return me.post("/api/resumes", data={"file": upload_file()}, content_type=MULTIPART)


def resume_bulk(make: Factory, me: ApiClient) -> TestResponse:
    files = [upload_file(), upload_file()]
    return me.post("/api/resumes/bulk", data={"files": files}, content_type=MULTIPART)


def resume_list(make: Factory, me: ApiClient) -> TestResponse:
    make.resume()
    return me.get("/api/resumes")


def resume_get(make: Factory, me: ApiClient) -> TestResponse:
    return me.get(f"/api/resumes/{make.resume().id}")


def resume_get_interviewed(make: Factory, me: ApiClient) -> TestResponse:
    resume = make.resume()
    make.interview(interviewer=me.user, candidate=candidate_of(make, resume))
    return me.get(f"/api/resumes/{resume.id}")


def resume_file(make: Factory, me: ApiClient) -> TestResponse:
    return me.get(f"/api/resumes/{make.resume().id}/file")


def resume_file_interviewed(make: Factory, me: ApiClient) -> TestResponse:
    resume = make.resume()
    make.interview(interviewer=me.user, candidate=candidate_of(make, resume))
    return me.get(f"/api/resumes/{resume.id}/file")


def cancelled(make: Factory, interview: Interview) -> None:
    with make.app.app_context():
        db.session.get(Interview, interview.id).status = InterviewStatus.CANCELLED
        db.session.commit()


def resume_get_cancelled(make: Factory, me: ApiClient) -> TestResponse:
    resume = make.resume()
    cancelled(make, make.interview(interviewer=me.user, candidate=candidate_of(make, resume)))
    return me.get(f"/api/resumes/{resume.id}")


def resume_file_cancelled(make: Factory, me: ApiClient) -> TestResponse:
    resume = make.resume()
    cancelled(make, make.interview(interviewer=me.user, candidate=candidate_of(make, resume)))
    return me.get(f"/api/resumes/{resume.id}/file")


def resume_patch_own(make: Factory, me: ApiClient) -> TestResponse:
    resume = make.resume(by=me.user)
    return me.patch(f"/api/resumes/{resume.id}", json={"fields": {"location": "Berlin"}})


def resume_patch_others(make: Factory, me: ApiClient) -> TestResponse:
    resume = make.resume(by=make.user(Role.RECRUITER))
    return me.patch(f"/api/resumes/{resume.id}", json={"fields": {"location": "Berlin"}})


def resume_delete_own(make: Factory, me: ApiClient) -> TestResponse:
    return me.delete(f"/api/resumes/{make.resume(by=me.user).id}")


def resume_delete_others(make: Factory, me: ApiClient) -> TestResponse:
    return me.delete(f"/api/resumes/{make.resume(by=make.user(Role.RECRUITER)).id}")


def candidate_list(make: Factory, me: ApiClient) -> TestResponse:
    make.candidate()
    return me.get("/api/candidates")


def candidate_get(make: Factory, me: ApiClient) -> TestResponse:
    return me.get(f"/api/candidates/{make.candidate().id}")


def candidate_get_interviewed(make: Factory, me: ApiClient) -> TestResponse:
    candidate = make.candidate()
    make.interview(interviewer=me.user, candidate=candidate)
    return me.get(f"/api/candidates/{candidate.id}")


def candidate_get_cancelled(make: Factory, me: ApiClient) -> TestResponse:
    candidate = make.candidate()
    cancelled(make, make.interview(interviewer=me.user, candidate=candidate))
    return me.get(f"/api/candidates/{candidate.id}")


def interview_schedule(make: Factory, me: ApiClient) -> TestResponse:
    body = {
        "candidate_id": make.candidate().id,
        "job_id": make.job().id,
        "interviewer_id": make.user(Role.INTERVIEWER).id,
        "starts_at": datetime(2031, 3, 4, 10, 0, tzinfo=timezone(timedelta(hours=2))).isoformat(),
        "duration_minutes": 45,
        "round": "technical",
    }
    return me.post("/api/interviews", json=body)


def interview_list(make: Factory, me: ApiClient) -> TestResponse:
    make.interview()
    return me.get("/api/interviews")


def interview_get(make: Factory, me: ApiClient) -> TestResponse:
    return me.get(f"/api/interviews/{make.interview().id}")


def interview_get_own(make: Factory, me: ApiClient) -> TestResponse:
    return me.get(f"/api/interviews/{make.interview(interviewer=me.user).id}")


def interview_patch_own(make: Factory, me: ApiClient) -> TestResponse:
    interview = make.interview(scheduled_by=me.user)
    return me.patch(f"/api/interviews/{interview.id}", json={"round": "final"})


def interview_patch_others(make: Factory, me: ApiClient) -> TestResponse:
    return me.patch(f"/api/interviews/{make.interview().id}", json={"round": "final"})


def interview_cancel_own(make: Factory, me: ApiClient) -> TestResponse:
    interview = make.interview(scheduled_by=me.user)
    return me.patch(
        f"/api/interviews/{interview.id}",
        json={"status": "cancelled", "cancel_reason": "Role filled"},
    )


def interview_cancel_others(make: Factory, me: ApiClient) -> TestResponse:
    return me.patch(
        f"/api/interviews/{make.interview().id}",
        json={"status": "cancelled", "cancel_reason": "Role filled"},
    )


def interview_delete_own(make: Factory, me: ApiClient) -> TestResponse:
    return me.delete(f"/api/interviews/{make.interview(scheduled_by=me.user).id}")


def interview_delete_others(make: Factory, me: ApiClient) -> TestResponse:
    return me.delete(f"/api/interviews/{make.interview().id}")


def feedback_assigned(make: Factory, me: ApiClient) -> TestResponse:
    interview = started_interview(make, interviewer=me.user)
    return me.put(f"/api/interviews/{interview.id}/feedback", json=FEEDBACK)


def feedback_unassigned(make: Factory, me: ApiClient) -> TestResponse:
    interview = started_interview(make, interviewer=make.user(Role.INTERVIEWER))
    return me.put(f"/api/interviews/{interview.id}/feedback", json=FEEDBACK)


def feedback_before_start(make: Factory, me: ApiClient) -> TestResponse:
    interview = make.interview(interviewer=me.user)  # starts in the future
    return me.put(f"/api/interviews/{interview.id}/feedback", json=FEEDBACK)


# The table ------------------------------------------------------------------------------
# Rows are grouped by the action a role-rule 403 names ('User role "X" not allowed for
# <action>'). In row names, "own"/"others" means uploaded or scheduled by the caller or by
# another recruiter, and "interviewed" that the caller interviews the candidate.

# fmt: off
TABLE: dict[str, list[Row]] = {
    # action  request                  ADMIN       HIRING_MGR  RECRUITER       INTERVIEWER
    "signed in": [
        Row(auth_me,                   200,        200,        200,            200),
        Row(auth_logout,               204,        204,        204,            204),
    ],
    "token management": [
        Row(token_create,              201,        201,        201,            201),
        Row(token_list,                200,        200,        200,            200),
        Row(token_revoke_own,          204,        204,        204,            204),
        Row(token_revoke_others,       404,        404,        404,            404),
    ],
    "user management": [
        Row(users_list,                200,        NO,         NO,             NO),
        Row(users_patch,               200,        NO,         NO,             NO),
    ],
    "job view": [
        Row(jobs_list,                 200,        200,        200,            200),
        Row(jobs_get,                  200,        200,        200,            200),
    ],
    "job create": [
        Row(jobs_create,               NO,         201,        NO,             NO),
    ],
    "job update": [
        Row(jobs_patch,                NO,         200,        NO,             NO),
    ],
    "resume upload": [
        Row(resume_upload,             NO,         201,        201,            NO),
        Row(resume_bulk,               NO,         200,        200,            NO),
    ],
    "resume view": [
        Row(resume_list,               NO,         200,        200,            200),
        Row(resume_get,                NO,         200,        200,            ONLY_RESUMES),
        Row(resume_get_interviewed,    NO,         200,        200,            200),
        Row(resume_file,               NO,         200,        200,            ONLY_RESUMES),
        Row(resume_file_interviewed,   NO,         200,        200,            200),
        Row(resume_get_cancelled,      NO,         200,        200,            ONLY_RESUMES),
        Row(resume_file_cancelled,     NO,         200,        200,            ONLY_RESUMES),
    ],
    "resume update": [
        Row(resume_patch_own,          NO,         200,        200,            NO),
        Row(resume_patch_others,       NO,         200,        ONLY_UPLOADER,  NO),
    ],
    "resume delete": [
        Row(resume_delete_own,         NO,         204,        204,            NO),
        Row(resume_delete_others,      NO,         204,        ONLY_UPLOADER,  NO),
    ],
    "candidate view": [
        Row(candidate_list,            NO,         200,        200,            200),
        Row(candidate_get,             NO,         200,        200,            ONLY_CANDIDATES),
        Row(candidate_get_interviewed, NO,         200,        200,            200),
        Row(candidate_get_cancelled,   NO,         200,        200,            ONLY_CANDIDATES),
    ],
    "interview scheduling": [
        Row(interview_schedule,        NO,         201,        201,            NO),
    ],
    "interviewer directory": [
        Row(interviewers_list,         NO,         200,        200,            NO),
    ],
    "interview view": [
        Row(interview_list,            NO,         200,        200,            200),
        Row(interview_get,             NO,         200,        200,            ONLY_THEIR_OWN),
        Row(interview_get_own,         NO,         200,        200,            200),
    ],
    "interview update": [
        Row(interview_patch_own,       NO,         200,        200,            NO),
        Row(interview_patch_others,    NO,         200,        ONLY_SCHEDULER, NO),
        Row(interview_cancel_own,      NO,         200,        200,            NO),
        Row(interview_cancel_others,   NO,         200,        ONLY_SCHEDULER, NO),
    ],
    "interview delete": [
        Row(interview_delete_own,      NO,         204,        204,            NO),
        Row(interview_delete_others,   NO,         204,        ONLY_SCHEDULER, NO),
    ],
    "interview feedback": [
        Row(feedback_assigned,         200,        200,        200,            200),
        Row(feedback_unassigned,       UNASSIGNED, UNASSIGNED, UNASSIGNED,     UNASSIGNED),
        Row(feedback_before_start,     409,        409,        409,            409),
    ],
}
# fmt: on

CELLS = [
    pytest.param(row, action, role, id=f"{row.name}-{role}")
    for action, rows in TABLE.items()
    for row in rows
    for role in [*ROLES, ANONYMOUS]
]


def assert_status(response: TestResponse, status: int) -> None:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))


def assert_error(response: TestResponse, status: int, code: str, message: str) -> None:
    assert_status(response, status)
    error = response.get_json()["error"]
    assert (error["code"], error["message"]) == (code, message)


@pytest.mark.parametrize(("row", "action", "role"), CELLS)
def test_roles_table(
    row: Row, action: str, role: str, app: Flask, as_role: RoleClients, make: Factory
) -> None:
    me = caller(app, as_role, make, role)
    response = row.send(make, me)
    if role == ANONYMOUS:
        message = "Sign in or send a valid API token to use this endpoint"
        assert_error(response, 401, "authentication_required", message)
        return
    expected = row.expected(role)
    if isinstance(expected, Deny):
        reason = expected.reason or f'User role "{role}" not allowed for {action}'
        assert_error(response, 403, "forbidden", reason)
    else:
        assert_status(response, expected)


# What a list shows ----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.HIRING_MANAGER, Role.RECRUITER, Role.INTERVIEWER])
@pytest.mark.parametrize("kind", ["resumes", "candidates", "interviews"])
def test_lists_show_exactly_what_the_role_may_see(
    kind: str, role: str, as_role: RoleClients, make: Factory
) -> None:
    """Managers and recruiters see everything; an interviewer only what they interview."""
    me = as_role(role)
    mine = make.resume()  # the caller interviews this candidate
    theirs = make.resume()  # someone else interviews this one
    unbooked = make.resume()  # nobody interviews this one yet
    my_interview = make.interview(interviewer=me.user, candidate=candidate_of(make, mine))
    their_interview = make.interview(candidate=candidate_of(make, theirs))
    everything = {
        "resumes": {mine.id, theirs.id, unbooked.id},
        "candidates": {mine.candidate_id, theirs.candidate_id, unbooked.candidate_id},
        "interviews": {my_interview.id, their_interview.id},
    }
    only_mine = {
        "resumes": {mine.id},
        "candidates": {mine.candidate_id},
        "interviews": {my_interview.id},
    }
    expected = only_mine[kind] if role == Role.INTERVIEWER else everything[kind]

    response = me.get(f"/api/{kind}")

    assert_status(response, 200)
    page = response.get_json()
    assert {item["id"] for item in page["items"]} == expected
    assert page["total"] == len(expected)


def test_interviewer_sees_only_their_own_interviews_of_a_candidate(
    as_role: RoleClients, make: Factory
) -> None:
    """A candidate's page must not show an interviewer the rounds of other interviewers."""
    me = as_role(Role.INTERVIEWER)
    candidate = make.candidate()
    mine = make.interview(interviewer=me.user, candidate=candidate)
    make.interview(candidate=candidate)  # another interviewer's round

    response = me.get(f"/api/candidates/{candidate.id}")

    assert_status(response, 200)
    assert [i["id"] for i in response.get_json()["interviews"]] == [mine.id]
    filtered = me.get(f"/api/interviews?candidate_id={candidate.id}").get_json()
    assert [i["id"] for i in filtered["items"]] == [mine.id]

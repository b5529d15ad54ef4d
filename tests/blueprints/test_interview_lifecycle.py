"""The interview lifecycle through the API: past start times, cancel with a reason,
completed by feedback, no-shows, and the records each change leaves."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from talaro import telemetry
from talaro.errors import Invalid
from talaro.models import Role
from talaro.services import interviews
from tests.browser.test_pages_forms import alert_text, sign_in
from tests.factories import Factory
from tests.telemetry import otlp_json

FEEDBACK = {"rating": 4, "recommendation": "yes", "notes": "Solid."}


def records(app, stream: str, name: str) -> list[otlp_json.LogRecord]:
    telemetry.flush(app)
    path = Path(app.config["TALARO_TELEMETRY_DIR"]) / f"{stream}.jsonl"
    return [r for r in otlp_json.log_records(path) if r.event_name == name]


def iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).replace(microsecond=0).isoformat()


def booking(make: Factory, starts_at: str, **extra: object) -> dict:
    return {
        "candidate_id": make.candidate().id,
        "job_id": make.job().id,
        "interviewer_id": make.user(Role.INTERVIEWER).id,
        "starts_at": starts_at,
        "duration_minutes": 60,
        **extra,
    }


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.json
    error = response.json["error"]
    assert error["code"] == code
    return error


def test_a_past_start_is_refused_unless_it_is_a_past_record(app, as_role, make) -> None:
    recruiter = as_role(Role.RECRUITER)
    body = booking(make, iso(-timedelta(days=1)))
    error = assert_error(recruiter.post("/api/interviews", json=body), 422, "start_in_past")
    assert list(error["details"]["fields"]) == ["starts_at"]
    assert "past_record: true" in error["message"]

    recorded = recruiter.post("/api/interviews", json={**body, "past_record": True})
    assert recorded.status_code == 201, recorded.json
    assert recorded.json["status"] == "scheduled"

    schedules = records(app, "application", "interview_schedule")
    refused, accepted = schedules[-2:]
    assert refused.attributes["error.type"] == "start_in_past"
    assert refused.attributes["http.response.status_code"] == 422
    assert accepted.attributes["talaro.past_record"] is True
    assert records(app, "security", "interview_schedule") == []


def test_an_interview_booked_as_it_begins_is_not_past(as_role, make) -> None:
    recruiter = as_role(Role.RECRUITER)
    started = recruiter.post("/api/interviews", json=booking(make, iso(-timedelta(minutes=5))))
    assert started.status_code == 201, started.json
    late = recruiter.post("/api/interviews", json=booking(make, iso(-timedelta(minutes=20))))
    assert_error(late, 422, "start_in_past")


def test_moving_an_interview_into_the_past_needs_past_record(as_role, make) -> None:
    recruiter = as_role(Role.RECRUITER)
    interview = make.interview(scheduled_by=recruiter.user)
    url = f"/api/interviews/{interview.id}"
    yesterday = iso(-timedelta(days=1))
    error = assert_error(recruiter.patch(url, json={"starts_at": yesterday}), 422, "start_in_past")
    assert list(error["details"]["fields"]) == ["starts_at"]
    moved = recruiter.patch(url, json={"starts_at": yesterday, "past_record": True})
    assert moved.status_code == 200, moved.json
    # Sending the start it already has is no move: no past_record needed.
    again = recruiter.patch(url, json={"starts_at": yesterday, "round": "onsite"})
    assert again.status_code == 200, again.json


def test_cancel_keeps_its_reason_which_is_cleared_on_reinstating(app, as_role, make) -> None:
    recruiter = as_role(Role.RECRUITER)
    interview = make.interview(scheduled_by=recruiter.user)
    url = f"/api/interviews/{interview.id}"

    # A client written before reasons existed still cancels (the pages always ask).
    bare = recruiter.patch(url, json={"status": "cancelled"})
    assert bare.status_code == 200, bare.json
    assert (bare.json["status"], bare.json["cancel_reason"]) == ("cancelled", None)
    assert recruiter.patch(url, json={"status": "scheduled"}).status_code == 200
    blank = recruiter.patch(url, json={"status": "cancelled", "cancel_reason": ""})
    assert blank.status_code == 422

    cancelled = recruiter.patch(
        url, json={"status": "cancelled", "cancel_reason": "The candidate withdrew"}
    )
    assert cancelled.status_code == 200, cancelled.json
    assert cancelled.json["status"] == "cancelled"
    assert cancelled.json["cancel_reason"] == "The candidate withdrew"
    assert cancelled.json["cancelled_at"] is not None
    assert recruiter.get(url).json["cancel_reason"] == "The candidate withdrew"

    misplaced = recruiter.patch(url, json={"status": "scheduled", "cancel_reason": "x"})
    assert_error(misplaced, 422, "cancel_reason_unexpected")
    reinstated = recruiter.patch(url, json={"status": "scheduled"})
    assert reinstated.status_code == 200
    assert (reinstated.json["cancel_reason"], reinstated.json["cancelled_at"]) == (None, None)

    updates = records(app, "application", "interview_update")
    ok = [r for r in updates if "reason" not in r.attributes]
    cancel, reinstate = ok[-2:]
    assert cancel.attributes["talaro.changed_fields"] == ["cancel_reason", "status"]
    assert cancel.attributes["talaro.interview.previous_status"] == "scheduled"
    assert cancel.attributes["talaro.interview.status"] == "cancelled"
    assert reinstate.attributes["talaro.interview.status"] == "scheduled"
    assert "The candidate withdrew" not in str([r.attributes for r in updates])
    refused = [r.attributes["error.type"] for r in updates if "reason" in r.attributes]
    # The blank reason never reached the service: the schema refused it.
    assert refused == ["cancel_reason_unexpected"]


def test_the_cancel_reason_rule_is_the_services_for_the_api_and_the_pages() -> None:
    interviews.check_cancel_reason(None)  # the API: a client older than reasons
    interviews.check_cancel_reason("Role filled", required=True)
    for reason, required in ((None, True), ("", True), ("  ", True), ("  ", False)):
        with pytest.raises(Invalid) as refused:
            interviews.check_cancel_reason(reason, required=required)
        assert refused.value.code == "cancel_reason_required"
        assert refused.value.details == {
            "fields": {"cancel_reason": ["Give the reason for cancelling."]}
        }


def test_the_cancel_form_needs_a_reason_and_the_api_may_cancel_without(app, client, make) -> None:
    recruiter = make.user(Role.RECRUITER)
    interview = make.interview(scheduled_by=recruiter)
    csrf = sign_in(client, recruiter)
    page = f"/interviews/{interview.id}"

    for blank in ("", "   "):
        refused = client.post(f"{page}/cancel", data={"csrf_token": csrf, "cancel_reason": blank})
        assert refused.status_code == 422
        shown = refused.get_data(as_text=True)
        assert alert_text(shown) == "Give a reason to cancel the interview"
        assert "Give the reason for cancelling." in shown
    assert '<span class="badge badge-scheduled">' in client.get(page).get_data(as_text=True)
    # The form refused them before the service: no interview_update was attempted.
    assert records(app, "application", "interview_update") == []

    done = client.post(
        f"{page}/cancel", data={"csrf_token": csrf, "cancel_reason": " Role filled "}
    )
    assert (done.status_code, done.location) == (302, page)
    shown = html.unescape(client.get(page).get_data(as_text=True))
    assert "Interview cancelled." in shown
    assert '<dd class="notes" id="cancel-reason">Role filled</dd>' in shown

    # An API client older than reasons cancels without one; the page says so.
    other = make.interview(scheduled_by=recruiter)
    api = f"/api/interviews/{other.id}"
    headers = {"X-CSRFToken": csrf}
    blank = client.patch(api, json={"status": "cancelled", "cancel_reason": " "}, headers=headers)
    error = assert_error(blank, 422, "cancel_reason_required")
    assert error["message"] == "Give a reason to cancel the interview (cancel_reason)"
    bare = client.patch(api, json={"status": "cancelled"}, headers=headers)
    assert bare.status_code == 200, bare.json
    assert bare.json["cancel_reason"] is None
    shown = client.get(f"/interviews/{other.id}").get_data(as_text=True)
    assert '<dd class="notes" id="cancel-reason">No reason given</dd>' in shown
    updates = records(app, "application", "interview_update")
    refusals = [r.attributes["error.type"] for r in updates if "error.type" in r.attributes]
    assert refusals == ["cancel_reason_required"]  # the API's blank reason only


def test_feedback_completes_the_interview_which_then_stays_put(app, as_role, make) -> None:
    manager = as_role(Role.HIRING_MANAGER)
    interviewer = as_role(Role.INTERVIEWER)
    started = datetime.now(UTC) - timedelta(hours=2)
    interview = make.interview(interviewer=interviewer.user, starts_at=started)
    url = f"/api/interviews/{interview.id}"
    assert interviewer.put(f"{url}/feedback", json=FEEDBACK).status_code == 200
    assert manager.get(url).json["status"] == "completed"
    feedback = records(app, "application", "interview_feedback")[-1]
    assert feedback.attributes["talaro.interview.status"] == "completed"
    listed = manager.get("/api/interviews?status=completed").json
    assert [i["id"] for i in listed["items"]] == [interview.id]

    for change in (
        {"status": "cancelled", "cancel_reason": "Changed our minds"},
        {"status": "no_show"},
        {"status": "scheduled"},
        {"starts_at": iso(timedelta(days=3))},
    ):
        assert_error(manager.patch(url, json=change), 409, "interview_completed")
    assert_error(
        manager.patch(url, json={"interviewer_id": manager.user.id}), 409, "feedback_exists"
    )
    error = assert_error(manager.patch(url, json={"status": "completed"}), 422, "validation_error")
    assert "status" in error["details"]["fields"]
    assert manager.patch(url, json={"round": "final"}).status_code == 200
    # Editing the feedback keeps it completed.
    assert interviewer.put(f"{url}/feedback", json={**FEEDBACK, "rating": 5}).status_code == 200
    assert manager.get(url).json["status"] == "completed"


def test_a_completed_interview_still_holds_its_slot(as_role, make) -> None:
    recruiter = as_role(Role.RECRUITER)
    interviewer = as_role(Role.INTERVIEWER)
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    interview = make.interview(interviewer=interviewer.user, starts_at=started)
    assert (
        interviewer.put(f"/api/interviews/{interview.id}/feedback", json=FEEDBACK).status_code
        == 200
    )
    clash = booking(make, (started + timedelta(minutes=15)).isoformat(), past_record=True) | {
        "interviewer_id": interviewer.user.id
    }
    assert_error(recruiter.post("/api/interviews", json=clash), 409, "schedule_conflict")


def test_no_show_only_once_started_and_then_no_feedback(app, as_role, make) -> None:
    recruiter = as_role(Role.RECRUITER)
    interviewer = as_role(Role.INTERVIEWER)
    upcoming = make.interview(interviewer=interviewer.user, scheduled_by=recruiter.user)
    early = recruiter.patch(f"/api/interviews/{upcoming.id}", json={"status": "no_show"})
    error = assert_error(early, 409, "interview_not_started")
    assert error["message"] == "An interview can be marked a no-show only once it has started"

    started = make.interview(
        interviewer=interviewer.user,
        scheduled_by=recruiter.user,
        starts_at=datetime.now(UTC) - timedelta(minutes=20),
    )
    url = f"/api/interviews/{started.id}"
    marked = recruiter.patch(url, json={"status": "no_show"})
    assert marked.status_code == 200 and marked.json["status"] == "no_show"
    record = records(app, "application", "interview_update")[-1]
    assert record.attributes["talaro.interview.status"] == "no_show"
    assert_error(interviewer.put(f"{url}/feedback", json=FEEDBACK), 409, "interview_no_show")
    listed = recruiter.get("/api/interviews?status=no_show").json
    assert [i["id"] for i in listed["items"]] == [started.id]


def test_only_schedulers_of_the_interview_change_its_status(app, as_role, make) -> None:
    recruiter = as_role(Role.RECRUITER)
    interviewer = as_role(Role.INTERVIEWER)
    interview = make.interview(
        interviewer=interviewer.user, starts_at=datetime.now(UTC) - timedelta(minutes=5)
    )
    url = f"/api/interviews/{interview.id}"
    cancel = {"status": "cancelled", "cancel_reason": "No longer hiring"}
    for client, message in (
        (interviewer, 'User role "INTERVIEWER" not allowed for interview update'),
        (recruiter, 'User role "RECRUITER" may only change interviews they scheduled'),
    ):
        error = assert_error(client.patch(url, json=cancel), 403, "forbidden")
        assert error["message"] == message
        assert_error(client.patch(url, json={"status": "no_show"}), 403, "forbidden")
    denials = [
        r
        for r in records(app, "security", "authz_fail")
        if r.attributes.get("talaro.action") == "interview update"
    ]
    assert len(denials) == 4
    assert {r.attributes["http.response.status_code"] for r in denials} == {403}

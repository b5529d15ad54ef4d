"""Scheduling without double bookings, changes, cancellation and feedback through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from talaro.models import Role
from tests.factories import ApiClient, Factory


def at(hours: float) -> str:
    """An ISO 8601 time with an offset, `hours` from a fixed future day."""
    base = datetime(2031, 3, 10, 9, 0, tzinfo=UTC)
    return (base + timedelta(hours=hours)).isoformat()


def booking(make: Factory, **overrides: str) -> dict:
    body = {
        "candidate_id": make.candidate().id,
        "job_id": make.job().id,
        "interviewer_id": make.user(Role.INTERVIEWER).id,
        "starts_at": at(0),
        "duration_minutes": 60,
        "round": "technical",
    }
    body.update(overrides)
    return body


def schedule(client: ApiClient, body: dict):
    return client.post("/api/interviews", json=body)


def test_schedule_stores_utc_and_returns_the_interview(as_role, make: Factory) -> None:
    recruiter = as_role(Role.RECRUITER)
    body = booking(make, starts_at="2031-03-10T11:30:00+02:00")
    response = schedule(recruiter, body)
    assert response.status_code == 201, response.json
    created = response.json
    assert created["starts_at"] == "2031-03-10T09:30:00+00:00"
    assert created["ends_at"] == "2031-03-10T10:30:00+00:00"
    assert created["status"] == "scheduled"
    assert created["scheduled_by_id"] == recruiter.user.id
    fetched = recruiter.get(f"/api/interviews/{created['id']}").json
    assert fetched["starts_at"] == created["starts_at"]


def test_overlap_for_interviewer_or_candidate_is_409(as_role, make: Factory) -> None:
    recruiter = as_role(Role.RECRUITER)
    first = booking(make)
    assert schedule(recruiter, first).status_code == 201
    same_interviewer = booking(make, interviewer_id=first["interviewer_id"], starts_at=at(0.5))
    clash = schedule(recruiter, same_interviewer)
    assert clash.status_code == 409
    assert clash.json["error"]["code"] == "schedule_conflict"
    assert clash.json["error"]["details"]["who"] == "interviewer"
    same_candidate = booking(make, candidate_id=first["candidate_id"], starts_at=at(-0.5))
    clash = schedule(recruiter, same_candidate)
    assert clash.status_code == 409
    assert clash.json["error"]["details"]["who"] == "candidate"


def test_back_to_back_interviews_do_not_clash(as_role, make: Factory) -> None:
    recruiter = as_role(Role.RECRUITER)
    first = booking(make)
    assert schedule(recruiter, first).status_code == 201
    right_after = booking(make, interviewer_id=first["interviewer_id"], starts_at=at(1))
    assert schedule(recruiter, right_after).status_code == 201


def test_cancelled_interview_frees_the_slot_and_reinstating_rechecks(as_role, make) -> None:
    recruiter = as_role(Role.RECRUITER)
    first = booking(make)
    created = schedule(recruiter, first).json
    cancel = recruiter.patch(
        f"/api/interviews/{created['id']}",
        json={"status": "cancelled", "cancel_reason": "Role filled"},
    )
    assert cancel.status_code == 200 and cancel.json["status"] == "cancelled"
    replacement = booking(make, interviewer_id=first["interviewer_id"])
    assert schedule(recruiter, replacement).status_code == 201
    reinstate = recruiter.patch(f"/api/interviews/{created['id']}", json={"status": "scheduled"})
    assert reinstate.status_code == 409


def test_reschedule_and_reassign_check_conflicts(as_role, make: Factory) -> None:
    manager = as_role(Role.HIRING_MANAGER)
    a = schedule(manager, booking(make)).json
    b = schedule(manager, booking(make, starts_at=at(3))).json
    moved = manager.patch(f"/api/interviews/{b['id']}", json={"starts_at": at(5)})
    assert moved.status_code == 200 and moved.json["starts_at"] == at(5)
    onto_a = manager.patch(
        f"/api/interviews/{b['id']}",
        json={"interviewer_id": a["interviewer_id"], "starts_at": at(0.25)},
    )
    assert onto_a.status_code == 409
    unchanged = manager.get(f"/api/interviews/{b['id']}").json
    assert unchanged["interviewer_id"] == b["interviewer_id"]
    assert unchanged["starts_at"] == at(5)


def test_feedback_by_assigned_interviewer_once_started_editable(as_role, make) -> None:
    interviewer = as_role(Role.INTERVIEWER)
    started = make.interview(
        interviewer=interviewer.user, starts_at=datetime.now(UTC) - timedelta(minutes=10)
    )
    path = f"/api/interviews/{started.id}/feedback"
    first = interviewer.put(path, json={"rating": 4, "recommendation": "yes", "notes": "good"})
    assert first.status_code == 200, first.json
    assert first.json["author_id"] == interviewer.user.id
    edited = interviewer.put(path, json={"rating": 2, "recommendation": "no"})
    assert edited.status_code == 200 and edited.json["rating"] == 2
    shown = interviewer.get(f"/api/interviews/{started.id}").json["feedback"]
    assert shown["rating"] == 2 and shown["recommendation"] == "no"


def test_feedback_before_start_or_after_cancel_is_refused(as_role, make) -> None:
    interviewer = as_role(Role.INTERVIEWER)
    future = make.interview(interviewer=interviewer.user)
    early = interviewer.put(
        f"/api/interviews/{future.id}/feedback", json={"rating": 5, "recommendation": "yes"}
    )
    assert early.status_code == 409
    assert early.json["error"]["code"] == "interview_not_started"


def test_feedback_from_anyone_but_the_interviewer_is_403(as_role, make) -> None:
    interviewer = make.user(Role.INTERVIEWER)
    started = make.interview(
        interviewer=interviewer, starts_at=datetime.now(UTC) - timedelta(hours=1)
    )
    manager = as_role(Role.HIRING_MANAGER)
    response = manager.put(
        f"/api/interviews/{started.id}/feedback", json={"rating": 5, "recommendation": "yes"}
    )
    assert response.status_code == 403
    assert response.json["error"]["message"] == "Only the assigned interviewer may submit feedback"


def test_interviewer_lists_only_own_interviews(as_role, make) -> None:
    interviewer = as_role(Role.INTERVIEWER)
    mine = make.interview(interviewer=interviewer.user)
    make.interview()
    listed = interviewer.get("/api/interviews").json
    assert [i["id"] for i in listed["items"]] == [mine.id]
    assert listed["total"] == 1


def test_delete_interview(as_role, make) -> None:
    recruiter = as_role(Role.RECRUITER)
    created = schedule(recruiter, booking(make)).json
    assert recruiter.delete(f"/api/interviews/{created['id']}").status_code == 204
    assert recruiter.get(f"/api/interviews/{created['id']}").status_code == 404


def application_records(app, name: str) -> list:
    from pathlib import Path

    from talaro import telemetry
    from tests.telemetry import otlp_json

    telemetry.flush(app)
    path = Path(app.config["TALARO_TELEMETRY_DIR"]) / "application.jsonl"
    return [r for r in otlp_json.log_records(path) if r.event_name == name]


def test_a_scheduler_cannot_forge_the_interviewers_feedback(app, as_role, make) -> None:
    """The attack: reassign to oneself, overwrite the verdict, reassign back."""
    recruiter = as_role(Role.RECRUITER)
    interviewer = as_role(Role.INTERVIEWER)
    manager = as_role(Role.HIRING_MANAGER)
    started = datetime.now(UTC) - timedelta(hours=2)
    interview = make.interview(
        interviewer=interviewer.user, scheduled_by=recruiter.user, starts_at=started
    )
    url = f"/api/interviews/{interview.id}"
    honest = {"rating": 5, "recommendation": "strong_yes", "notes": "Excellent."}
    assert interviewer.put(f"{url}/feedback", json=honest).status_code == 200

    takeover = recruiter.patch(url, json={"interviewer_id": recruiter.user.id})
    assert takeover.status_code == 409
    assert takeover.json["error"]["code"] == "feedback_exists"
    assert "cannot be reassigned" in takeover.json["error"]["message"]
    forged = {"rating": 1, "recommendation": "strong_no", "notes": "Weak."}
    overwrite = recruiter.put(f"{url}/feedback", json=forged)
    assert overwrite.status_code == 403
    # A hiring manager cannot take it over either.
    assert manager.patch(url, json={"interviewer_id": manager.user.id}).status_code == 409

    seen = manager.get(url).json
    assert seen["interviewer_id"] == interviewer.user.id
    assert seen["feedback"]["author_id"] == interviewer.user.id
    assert (seen["feedback"]["rating"], seen["feedback"]["recommendation"]) == (5, "strong_yes")
    assert seen["feedback"]["version"] == 1
    assert manager.get(f"{url}/feedback/versions").json == []
    refused = [
        r for r in application_records(app, "interview_update") if r.attributes.get("reason")
    ]
    assert [r.attributes["error.type"] for r in refused] == ["feedback_exists"] * 2


def test_only_the_author_edits_feedback_and_each_edit_keeps_the_previous_version(
    app, as_role, make
) -> None:
    interviewer = as_role(Role.INTERVIEWER)
    manager = as_role(Role.HIRING_MANAGER)
    recruiter = as_role(Role.RECRUITER)
    interview = make.interview(
        interviewer=interviewer.user, starts_at=datetime.now(UTC) - timedelta(hours=2)
    )
    url = f"/api/interviews/{interview.id}/feedback"
    first = {"rating": 3, "recommendation": "yes", "notes": "Good."}
    assert interviewer.put(url, json=first).json["version"] == 1
    assert interviewer.put(url, json=first).json["version"] == 1  # nothing changed
    second = {"rating": 2, "recommendation": "no", "notes": "Good."}
    edited = interviewer.put(url, json=second).json
    assert (edited["version"], edited["rating"]) == (2, 2)

    versions = manager.get(f"{url}/versions")
    assert versions.status_code == 200
    [earlier] = versions.json
    assert (earlier["version"], earlier["rating"], earlier["recommendation"]) == (1, 3, "yes")
    assert earlier["author_id"] == interviewer.user.id
    assert interviewer.get(f"{url}/versions").status_code == 200  # the author
    refused = recruiter.get(f"{url}/versions")
    assert refused.status_code == 403
    assert "earlier versions" in refused.json["error"]["message"]

    records = application_records(app, "interview_feedback")
    assert [r.attributes["talaro.changed_fields"] for r in records[-2:]] == [
        [],
        ["rating", "recommendation"],
    ]
    assert records[-1].attributes["talaro.feedback.version"] == 2
    assert "Good." not in str([r.attributes for r in records])  # never the notes


def test_a_cancelled_interview_no_longer_shows_its_interviewer_the_candidate(as_role, make) -> None:
    recruiter = as_role(Role.RECRUITER)
    interviewer = as_role(Role.INTERVIEWER)
    resume = make.resume(by=recruiter.user)
    interview = make.interview(
        interviewer=interviewer.user,
        scheduled_by=recruiter.user,
        candidate=make_candidate(make, resume.candidate_id),
    )
    assert interviewer.get(f"/api/candidates/{resume.candidate_id}").status_code == 200
    assert interviewer.get("/api/resumes").json["total"] == 1
    cancel = recruiter.patch(
        f"/api/interviews/{interview.id}",
        json={"status": "cancelled", "cancel_reason": "Role filled"},
    )
    assert cancel.status_code == 200
    assert interviewer.get(f"/api/candidates/{resume.candidate_id}").status_code == 403
    assert interviewer.get(f"/api/resumes/{resume.id}/file").status_code == 403
    assert interviewer.get("/api/resumes").json["total"] == 0
    assert interviewer.get("/api/candidates").json["total"] == 0
    # Reinstated, it grants access again.
    back = recruiter.patch(f"/api/interviews/{interview.id}", json={"status": "scheduled"})
    assert back.status_code == 200
    assert interviewer.get(f"/api/resumes/{resume.id}").status_code == 200


def make_candidate(make: Factory, candidate_id: str):
    from talaro.extensions import db
    from talaro.models import Candidate

    with make.app.app_context():
        candidate = db.session.get(Candidate, candidate_id)
        db.session.expunge(candidate)
        return candidate

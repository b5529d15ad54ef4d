"""The interview lifecycle and resume deletion from the pages, in headless Chromium."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from talaro.models import Role
from talaro.services import accounts, ingestion, interviews
from tests.browser.conftest import LiveServer, Person, sign_in, sign_out
from tests.browser.test_pages_browser import candidate_with_job
from tests.factories import resume_text

pytestmark = pytest.mark.browser


def booked(server: LiveServer, by: Person, interviewer: Person, days: float = 2) -> str:
    """An interview `days` from now, scheduled by `by`, through the service."""
    candidate_id, job_id = candidate_with_job(server, by)

    def make() -> str:
        start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=days)
        data = {
            "candidate_id": candidate_id,
            "job_id": job_id,
            "interviewer_id": interviewer.id,
            "starts_at": start,
            "duration_minutes": 60,
            "round": "technical",
        }
        return interviews.schedule(accounts.get_user(by.id), data).id

    return server.run(make)


def test_reschedule_then_cancel_with_a_reason(
    page: Page, live_server: LiveServer, screenshot: Any
) -> None:
    recruiter = live_server.user(Role.RECRUITER, "Rita Recruiter")
    interviewer = live_server.user(Role.INTERVIEWER, "Ivan Interviewer")
    interview_id = booked(live_server, recruiter, interviewer)
    url = f"{live_server.url}/interviews/{interview_id}"

    # The interviewer sees neither the change forms nor a feedback form that would refuse.
    sign_in(page, live_server, interviewer)
    page.goto(url)
    expect(page.get_by_role("button", name="Reschedule interview")).to_have_count(0)
    expect(page.get_by_role("button", name="Cancel interview")).to_have_count(0)
    expect(page.get_by_role("button", name="Submit feedback")).to_have_count(0)
    expect(page.locator("#feedback-closed")).to_have_text(
        "Feedback opens when the interview starts."
    )
    sign_out(page)

    sign_in(page, live_server, recruiter)
    page.goto(url)
    start = page.get_by_label("New start")
    shown = datetime.strptime(start.input_value(), "%Y-%m-%dT%H:%M")
    later = shown + timedelta(days=1, hours=2)
    start.fill(later.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Duration in minutes").fill("45")
    with page.expect_response(lambda r: r.request.method == "POST") as response:
        page.get_by_role("button", name="Reschedule interview").click()
    assert response.value.status == 302
    expect(page.get_by_role("status").first).to_contain_text(
        f"Interview rescheduled for {later:%Y-%m-%d %H:%M}"
    )
    expect(page.get_by_text("(45 minutes)")).to_be_visible()

    # A start in the past is refused on the form, unless marked as a past record.
    page.get_by_label("New start").fill((shown - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"))
    with page.expect_response(lambda r: r.request.method == "POST") as response:
        page.get_by_role("button", name="Reschedule interview").click()
    assert response.value.status == 422
    expect(page.locator("#f-starts_at-error")).to_contain_text("This time has already passed")

    # Cancelling needs a reason (the browser asks first; the server checks too).
    page.get_by_label("Reason for cancelling").fill("The candidate took another offer")
    with page.expect_response(lambda r: r.request.method == "POST") as response:
        page.get_by_role("button", name="Cancel interview").click()
    assert response.value.status == 302
    expect(page.get_by_role("status").first).to_contain_text("Interview cancelled.")
    expect(page.locator(".facts .badge")).to_have_text("Cancelled")
    expect(page.locator("#cancel-reason")).to_have_text("The candidate took another offer")
    expect(page.get_by_role("button", name="Reschedule interview")).to_have_count(0)
    expect(page.get_by_role("button", name="Cancel interview")).to_have_count(0)
    screenshot("cancelled")


def test_cancel_without_a_reason_is_refused_by_the_server(
    page: Page, live_server: LiveServer
) -> None:
    manager = live_server.user(Role.HIRING_MANAGER, "Mia Manager")
    interview_id = booked(live_server, manager, live_server.user(Role.INTERVIEWER))
    sign_in(page, live_server, manager)
    page.goto(f"{live_server.url}/interviews/{interview_id}")
    reason = page.get_by_label("Reason for cancelling")
    reason.evaluate("area => area.required = false")
    reason.fill("   ")
    with page.expect_response(lambda r: r.request.method == "POST") as response:
        page.get_by_role("button", name="Cancel interview").click()
    assert response.value.status == 422
    expect(page.get_by_role("alert").first).to_contain_text("Give a reason to cancel")
    expect(page.locator(".facts .badge")).to_have_text("Scheduled")


def test_another_recruiter_sees_no_change_forms(page: Page, live_server: LiveServer) -> None:
    owner = live_server.user(Role.RECRUITER)
    other = live_server.user(Role.RECRUITER)
    interview_id = booked(live_server, owner, live_server.user(Role.INTERVIEWER))
    sign_in(page, live_server, other)
    page.goto(f"{live_server.url}/interviews/{interview_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Interview with")
    expect(page.get_by_role("heading", name="Change this interview")).to_have_count(0)


def test_delete_a_resume_after_confirming(
    page: Page, live_server: LiveServer, screenshot: Any
) -> None:
    recruiter = live_server.user(Role.RECRUITER, "Rita Recruiter")
    colleague = live_server.user(Role.RECRUITER, "Carl Colleague")

    def upload() -> str:
        text = resume_text("Ada Lovelace", "ada@example.org", "+1 415 555 0101")
        user = accounts.get_user(recruiter.id)
        return ingestion.create_resume(user, ingestion.Upload("ada.txt", text.encode())).id

    resume_id = live_server.run(upload)

    # Only those who may delete it see the button (a recruiter: their own uploads).
    sign_in(page, live_server, colleague)
    page.goto(f"{live_server.url}/resumes/{resume_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ada Lovelace")
    expect(page.get_by_role("link", name="Delete this resume")).to_have_count(0)
    expect(page.get_by_role("button", name="Save corrections")).to_have_count(0)
    sign_out(page)

    sign_in(page, live_server, recruiter)
    page.goto(f"{live_server.url}/resumes/{resume_id}")
    page.get_by_role("link", name="Delete this resume").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete the resume of Ada Lovelace?")
    screenshot("confirm")
    page.get_by_role("link", name="Keep it").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ada Lovelace")

    page.get_by_role("link", name="Delete this resume").click()
    with page.expect_response(lambda r: r.request.method == "POST") as response:
        page.get_by_role("button", name="Delete resume").click()
    assert response.value.status == 302
    expect(page.get_by_role("status").first).to_contain_text("Deleted the resume of Ada Lovelace.")
    expect(page.get_by_text("0 resumes.")).to_be_visible()
    assert page.goto(f"{live_server.url}/resumes/{resume_id}").status == 404

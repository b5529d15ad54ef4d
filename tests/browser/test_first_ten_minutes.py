"""The README's "first ten minutes", walked in headless Chromium as a new team would:
a hiring manager sets her time zone, opens a job, uploads a resume, schedules an
interview and meets a double booking; the interviewer leaves feedback; the admin reads
the failed sign-ins on the security page. `make screenshots` keeps the pictures the
README shows (docs/screenshots)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from talaro.models import Role
from talaro.services import interviews
from talaro.services.accounts import get_user
from tests.browser.conftest import PASSWORD, LiveServer, Person, sign_in, sign_out

pytestmark = pytest.mark.browser

CORPUS = Path(__file__).parents[1] / "corpus" / "files"
BERLIN = ZoneInfo("Europe/Berlin")


def test_first_ten_minutes(page: Page, live_server: LiveServer, screenshot: Any) -> None:
    admin = live_server.user(Role.ADMIN, "Ada Admin")
    grace = live_server.user(Role.HIRING_MANAGER, "Grace Hopper")
    alan = live_server.user(Role.INTERVIEWER, "Alan Turing")

    # Someone guesses Grace's password before she arrives.
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email").fill(grace.email)
    page.get_by_label("Password").fill("is it grace1234?")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert").first).to_contain_text("Invalid email or password")

    # 1. Grace signs in and sets her time zone.
    sign_in(page, live_server, grace)
    screenshot("1-dashboard")
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").first).to_contain_text("Europe/Berlin")

    # 2. She opens a job and uploads a resume; Talaro reads its fields.
    page.get_by_role("link", name="Jobs", exact=True).click()
    page.get_by_label("Title").fill("Compiler Engineer")
    page.get_by_role("button", name="Create job").click()
    expect(page.get_by_role("table")).to_contain_text("Compiler Engineer")
    page.get_by_role("link", name="Upload", exact=True).click()
    page.get_by_label("Files").set_input_files([str(CORPUS / "000-elodie-rossi.pdf")])
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status").first).to_contain_text("1 of 1 files uploaded")
    page.get_by_role("table").get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Élodie Rossi")
    screenshot("2-resume")

    # 3. She schedules an interview with Alan, in her own zone, and tries to book him twice.
    tomorrow = (datetime.now(BERLIN) + timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    schedule(page, live_server, "Élodie Rossi", alan, tomorrow)
    expect(page.get_by_role("status").first).to_contain_text("Interview scheduled for")
    expect(page.locator("main")).to_contain_text("Europe/Berlin")
    expect(page.locator("main")).to_contain_text("10:00")
    screenshot("3-interview")
    first_interview = page.url
    schedule(page, live_server, "Élodie Rossi", alan, tomorrow + timedelta(minutes=30))
    alert = page.get_by_role("alert").first
    expect(alert).to_contain_text("Élodie Rossi")
    expect(alert).to_contain_text("10:00")
    expect(alert.get_by_role("link")).to_have_attribute("href", urlsplit(first_interview).path)
    screenshot("4-conflict")
    sign_out(page)

    # 4. Alan leaves feedback on an interview that took place this morning.
    candidate_id = live_server.run(_candidate_id, "Élodie Rossi")
    past_id = live_server.run(_past_interview, grace.id, candidate_id, alan.id)
    sign_in(page, live_server, alan)
    page.get_by_role("link", name="Interviews", exact=True).click()
    page.locator(f"a[href$='/interviews/{past_id}']").first.click()
    page.get_by_label("4 – above the bar").check()
    page.get_by_label("Recommendation").select_option("yes")
    page.get_by_label("Notes").fill("Clear thinker; strong on compilers.")
    page.get_by_role("button", name="Submit feedback").click()
    expect(page.get_by_role("status").first).to_contain_text("Feedback submitted.")
    screenshot("5-feedback")
    sign_out(page)

    # 5. Ada, the admin, sees the guess at Grace's password on the security page.
    sign_in(page, live_server, admin)
    page.get_by_role("link", name="Security", exact=True).click()
    page.get_by_label("Event", exact=True).select_option("authn_login_fail")
    page.get_by_role("button", name="Show events").click()
    expect(page.locator("table.events tbody tr")).to_have_count(1)
    screenshot("6-security-events")
    assert PASSWORD not in page.content()


def schedule(
    page: Page, server: LiveServer, candidate: str, interviewer: Person, at: datetime
) -> None:
    page.goto(f"{server.url}/interviews/new")
    page.get_by_label("Candidate").select_option(server.run(_candidate_id, candidate))
    page.get_by_label("Job").select_option(label="Compiler Engineer")
    page.get_by_label("Interviewer").select_option(interviewer.id)
    page.get_by_label("Starts at").fill(at.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Duration in minutes").fill("60")
    page.get_by_label("Round").fill("technical")
    page.get_by_role("button", name="Schedule interview").click()


def _candidate_id(name: str) -> str:
    from talaro.extensions import db
    from talaro.models import Candidate

    return db.session.query(Candidate.id).filter_by(name=name).scalar()


def _past_interview(manager_id: str, candidate_id: str, interviewer_id: str) -> str:
    from talaro.extensions import db
    from talaro.models import Job

    job_id = db.session.query(Job.id).filter_by(title="Compiler Engineer").scalar()
    return interviews.schedule(
        get_user(manager_id),
        {
            "candidate_id": candidate_id,
            "job_id": job_id,
            "interviewer_id": interviewer_id,
            "starts_at": datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3),
            "duration_minutes": 45,
            "round": "phone screen",
            "past_record": True,
        },
    ).id

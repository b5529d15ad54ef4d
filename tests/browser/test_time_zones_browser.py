"""Time zones in headless Chromium: a browser in New York or Kolkata (Playwright's
`timezone_id`) sees times on its own wall clock with the zone's name, and the schedule
page's conflict error names and links the interview it clashes with."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from talaro.models import Role
from talaro.services import accounts, ingestion, interviews, jobs
from tests.browser.conftest import LiveServer, Person, sign_in
from tests.factories import resume_text

pytestmark = pytest.mark.browser

# A fixed future instant: 14:00 UTC is 09:00 in New York (EST) and 19:30 in Kolkata (IST).
BOOKED_AT = datetime(2031, 12, 2, 14, 0, tzinfo=UTC)
BROWSER_ZONE_URL = "**/account/browser-time-zone"


@pytest.fixture
def zoned_page(browser: Browser) -> Iterator[Callable[[str], Page]]:
    """`zoned_page("Asia/Kolkata")`: a fresh page whose browser lives in that zone."""
    contexts = []

    def open_page(zone: str) -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id=zone)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def snapshot(page: Page, tmp_path: Path, name: str) -> None:
    folder = Path(os.environ.get("TALARO_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"time-zones-{name}.png"), full_page=True)


def booked_interview(server: LiveServer, by: Person, interviewer: Person) -> tuple[str, str]:
    """An interview with Grace Hopper at BOOKED_AT, made through the services: its id,
    and the job's id for another booking."""

    def make() -> tuple[str, str]:
        scheduler = accounts.get_user(by.id)
        job = jobs.create_job(scheduler, "Backend Engineer", "Engineering")
        text = resume_text("Grace Hopper", "grace@example.org", "+1 415 555 0177")
        resume = ingestion.create_resume(scheduler, ingestion.Upload("grace.txt", text.encode()))
        interview = interviews.schedule(
            scheduler,
            {
                "candidate_id": resume.candidate_id,
                "job_id": job.id,
                "interviewer_id": interviewer.id,
                "starts_at": BOOKED_AT,
                "duration_minutes": 60,
                "round": "technical",
            },
        )
        return interview.id, job.id

    return server.run(make)


def another_candidate(server: LiveServer, by: Person) -> str:
    def make() -> str:
        text = resume_text("Alan Turing", "alan@example.org", "+44 20 7946 0958")
        upload = ingestion.Upload("alan.txt", text.encode())
        return ingestion.create_resume(accounts.get_user(by.id), upload).candidate_id

    return server.run(make)


def sign_in_from(page: Page, server: LiveServer, user: Person) -> None:
    """Sign in and let the first page send the browser's zone (the user has none yet)."""
    with page.expect_response(BROWSER_ZONE_URL) as sent:
        sign_in(page, server, user)
    assert sent.value.status == 204


def test_an_interview_is_shown_in_the_browsers_zone(
    zoned_page: Callable[[str], Page], live_server: LiveServer, tmp_path: Path
) -> None:
    page = zoned_page("America/New_York")
    recruiter = live_server.user(Role.RECRUITER, "Rita Recruiter")
    interviewer = live_server.user(Role.INTERVIEWER, "Ivan Interviewer")
    interview_id, _job_id = booked_interview(live_server, recruiter, interviewer)

    sign_in_from(page, live_server, recruiter)
    page.get_by_role("link", name="Interviews", exact=True).click()
    row = page.get_by_role("row", name=re.compile("Grace Hopper"))
    expect(row).to_contain_text("2031-12-02 09:00 EST (America/New_York)")
    expect(page.get_by_text("UTC", exact=False)).to_have_count(0)
    snapshot(page, tmp_path, "interview-list-new-york")

    row.get_by_role("link").click()
    expect(page).to_have_url(re.compile(f"/interviews/{interview_id}$"))
    when = page.locator("dl.facts dd").first
    expect(when).to_contain_text(
        "2031-12-02 09:00 EST (America/New_York) to 2031-12-02 10:00 EST (America/New_York)"
    )
    expect(page.locator("time").first).to_have_attribute("datetime", "2031-12-02T14:00:00+00:00")

    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_label("Time zone")).to_have_value("America/New_York")


def test_the_settings_page_changes_the_zone(
    zoned_page: Callable[[str], Page], live_server: LiveServer, tmp_path: Path
) -> None:
    page = zoned_page("America/New_York")
    recruiter = live_server.user(Role.RECRUITER, "Rita Recruiter")
    booked_interview(live_server, recruiter, live_server.user(Role.INTERVIEWER))

    sign_in_from(page, live_server, recruiter)
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_text("Your browser's zone is America/New_York.")).to_be_visible()
    field = page.get_by_label("Time zone")
    expect(field).to_have_value("America/New_York")

    field.fill("Asia/Kolkatta")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    expect(page.locator("#f-time_zone-error")).to_contain_text("Not an IANA time zone name")

    field.fill("Asia/Calcutta ")  # the old name (what Chromium reports), with a stray space
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").first).to_contain_text("Times are now shown in Asia/Kolkata.")
    expect(field).to_have_value("Asia/Kolkata")
    snapshot(page, tmp_path, "settings")
    page.get_by_role("link", name="Interviews", exact=True).click()
    expect(page.get_by_role("row", name=re.compile("Grace Hopper"))).to_contain_text(
        "2031-12-02 19:30 IST (Asia/Kolkata)"
    )


def test_the_conflict_error_names_and_links_the_other_interview(
    zoned_page: Callable[[str], Page], live_server: LiveServer, tmp_path: Path
) -> None:
    page = zoned_page("Asia/Kolkata")
    recruiter = live_server.user(Role.RECRUITER, "Rita Recruiter")
    interviewer = live_server.user(Role.INTERVIEWER, "Ivan Interviewer")
    first_id, job_id = booked_interview(live_server, recruiter, interviewer)
    candidate_id = another_candidate(live_server, recruiter)

    sign_in_from(page, live_server, recruiter)

    def book(local_start: str) -> int:
        page.goto(f"{live_server.url}/interviews/new")
        expect(page.get_by_text("In your time zone, Asia/Kolkata")).to_be_visible()
        page.get_by_label("Candidate").select_option(candidate_id)
        page.get_by_label("Job").select_option(job_id)
        page.get_by_label("Interviewer").select_option(interviewer.id)
        page.get_by_label("Starts at").fill(local_start)
        page.get_by_label("Duration in minutes").fill("45")
        page.get_by_label("Round").fill("onsite")
        with page.expect_response(lambda r: r.request.method == "POST") as response:
            page.get_by_role("button", name="Schedule interview").click()
        return response.value.status

    assert book("2031-12-02T20:00") == 409  # 14:30 UTC: Ivan is with Grace Hopper then
    alert = page.get_by_role("alert").first
    expect(alert).to_have_text(
        "The interviewer is already booked then: the interview with Grace Hopper at "
        "2031-12-02 19:30 IST (Asia/Kolkata) (60 minutes)."
    )
    expect(page.get_by_label("Round")).to_have_value("onsite")  # the form keeps its values
    snapshot(page, tmp_path, "schedule-conflict")

    link = alert.get_by_role("link", name=re.compile("the interview with Grace Hopper"))
    expect(link).to_have_attribute("href", f"/interviews/{first_id}")
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Interview with Grace Hopper")
    expect(page.locator("dl.facts dd").first).to_contain_text("2031-12-02 19:30 IST (Asia/Kolkata)")

    # Half an hour later fits: the success message speaks the same zone.
    assert book("2031-12-02T20:30") == 302
    expect(page.get_by_role("status").first).to_contain_text(
        "Interview scheduled for 2031-12-02 20:30 IST (Asia/Kolkata)."
    )

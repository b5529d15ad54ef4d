"""The pages in headless Chromium: sign-in, bulk upload, corrections, scheduling, feedback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from talaro.models import Role
from talaro.services import accounts, ingestion, jobs
from tests.browser.conftest import LiveServer, Person, sign_in, sign_out
from tests.factories import resume_text

pytestmark = pytest.mark.browser


def write_pdf(path: Path, text: str) -> Path:
    pdf = canvas.Canvas(str(path), pagesize=A4)
    y = 800
    for line in text.splitlines():
        pdf.drawString(72, y, line)
        y -= 16
    pdf.save()
    return path


def candidate_with_job(server: LiveServer, by: Person) -> tuple[str, str]:
    """A candidate (from an uploaded resume) and a job, made through the services."""

    def make() -> tuple[str, str]:
        by = accounts.get_user(by_id)
        job = jobs.create_job(by, "Backend Engineer", "Engineering")
        text = resume_text("Grace Hopper", "grace@example.org", "+1 415 555 0177")
        resume = ingestion.create_resume(by, ingestion.Upload("grace.txt", text.encode()))
        return resume.candidate_id, job.id

    by_id = by.id
    return server.run(make)


def test_sign_in_honours_next_and_sign_out(
    page: Page, live_server: LiveServer, screenshot: Any
) -> None:
    recruiter = live_server.user(Role.RECRUITER, "Rita Recruiter")
    page.goto(f"{live_server.url}/candidates")
    expect(page).to_have_url(f"{live_server.url}/login?next=/candidates?")

    page.get_by_label("Email").fill(recruiter.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert").first).to_contain_text("Invalid email or password")

    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/candidates")
    expect(page.get_by_role("status").first).to_contain_text("Signed in as Rita Recruiter")
    expect(page.get_by_role("link", name="Candidates")).to_have_attribute("aria-current", "page")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("link", name="Upload resumes")).to_be_visible()
    screenshot("dashboard")
    sign_out(page)
    expect(page.get_by_role("status").first).to_contain_text("You are signed out")


def test_bulk_upload_then_correct_a_field(
    page: Page, live_server: LiveServer, tmp_path: Path, screenshot: Any
) -> None:
    recruiter = live_server.user(Role.RECRUITER, "Rita Recruiter")
    ada = tmp_path / "ada.txt"
    ada.write_text(resume_text("Ada Lovelace", "ada@example.org", "+1 415 555 0101"))
    alan = tmp_path / "alan.txt"
    alan.write_text(resume_text("Alan Turing", "alan@example.org", "+1 415 555 0102", "Go, Rust"))
    grace = write_pdf(
        tmp_path / "grace.pdf",
        resume_text("Grace Hopper", "grace@example.org", "+1 415 555 0103", "COBOL, SQL"),
    )
    sign_in(page, live_server, recruiter)

    page.get_by_role("link", name="Upload", exact=True).click()
    page.get_by_label("Files").set_input_files([ada, alan, grace])
    page.get_by_role("button", name="Upload").click()

    rows = page.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(4)  # the header and one row per file, in order
    for index, name in enumerate(["ada.txt", "alan.txt", "grace.pdf"], start=1):
        expect(rows.nth(index)).to_contain_text(name)
        expect(rows.nth(index)).to_contain_text("Created")
    expect(page.get_by_role("status").first).to_contain_text("3 of 3 files uploaded")
    screenshot("upload-results")

    # The same file again is reported as a duplicate, next to a new one.
    page.get_by_label("Files").set_input_files([ada])
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("table")).to_contain_text("Duplicate")
    expect(page.get_by_role("table")).to_contain_text("An identical file was already uploaded")

    page.get_by_role("link", name="Resumes", exact=True).click()
    page.get_by_label("Search resumes").fill("rust")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 resume match “rust”.")).to_be_visible()
    page.get_by_role("link", name="Alan Turing").click()

    fields = page.get_by_role("table")
    # Shown in international format (phonenumbers), stored as E.164.
    expect(fields.get_by_role("row", name="Phone")).to_contain_text("+1 415-555-0102")
    expect(fields.get_by_role("row", name="Email")).to_contain_text("99%")
    expect(fields.get_by_role("row", name="Skills")).to_contain_text("Go, Rust")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the original file").click()
    assert download.value.suggested_filename == "alan.txt"
    assert "Alan Turing" in Path(download.value.path()).read_text()

    page.get_by_label("Phone", exact=True).fill("(415) 555-0199")
    page.get_by_label("Name", exact=True).fill("Alan M. Turing")
    page.get_by_role("button", name="Save corrections").click()

    expect(page.get_by_role("status").first).to_contain_text("Corrected name, phone.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Alan M. Turing")
    phone_row = page.get_by_role("table").get_by_role("row", name="Phone")
    expect(phone_row).to_contain_text("+1 415-555-0199")
    expect(phone_row).to_contain_text("Corrected")
    expect(page.get_by_label("Phone", exact=True)).to_have_value("+14155550199")
    screenshot("resume-corrected")

    # An invalid correction is refused on the form, with the field's message.
    page.get_by_label("Years of experience").fill("")
    page.get_by_label("Email", exact=True).evaluate("input => input.type = 'text'")
    page.get_by_label("Email", exact=True).fill("not-an-email")
    with page.expect_response(lambda r: r.request.method == "POST") as response:
        page.get_by_role("button", name="Save corrections").click()
    assert response.value.status == 422
    expect(page.get_by_role("alert").first).to_contain_text("Please correct the highlighted fields")
    expect(page.get_by_text("Not a valid email address.")).to_be_visible()


def test_schedule_conflict_then_feedback(
    page: Page, live_server: LiveServer, screenshot: Any
) -> None:
    recruiter = live_server.user(Role.RECRUITER, "Rita Recruiter")
    interviewer = live_server.user(Role.INTERVIEWER, "Ivan Interviewer")
    candidate_id, job_id = candidate_with_job(live_server, recruiter)
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")

    sign_in(page, live_server, recruiter)

    def book() -> int:
        page.goto(f"{live_server.url}/interviews/new")
        page.get_by_label("Candidate").select_option(candidate_id)
        page.get_by_label("Job").select_option(job_id)
        page.get_by_label("Interviewer").select_option(interviewer.id)
        page.get_by_label("Starts at").fill(an_hour_ago)
        page.get_by_label("Duration in minutes").fill("60")
        page.get_by_label("Round").fill("technical")
        # An hour ago: a record of a past interview, or the start is refused.
        page.get_by_label("This is a record of an interview that already took place").check()
        with page.expect_response(lambda r: r.request.method == "POST") as response:
            page.get_by_role("button", name="Schedule interview").click()
        return response.value.status

    assert book() == 302
    expect(page.get_by_role("status").first).to_contain_text("Interview scheduled for")
    expect(page.get_by_role("heading", level=1)).to_have_text("Interview with Grace Hopper")

    assert book() == 409
    expect(page.get_by_role("alert").first).to_contain_text(
        "The interviewer is already booked then: the interview with Grace Hopper at"
    )
    expect(page.get_by_label("Round")).to_have_value("technical")  # the form keeps its values
    screenshot("schedule-conflict")

    sign_out(page)
    sign_in(page, live_server, interviewer)
    expect(page.get_by_role("link", name="Upload", exact=True)).to_have_count(0)
    page.get_by_role("link", name="Interviews", exact=True).click()
    page.get_by_role("table").get_by_role("link").first.click()

    page.get_by_label("4 – above the bar").check()
    page.get_by_label("Recommendation").select_option("yes")
    page.get_by_label("Notes").fill("Clear thinker; strong on compilers.")
    page.get_by_role("button", name="Submit feedback").click()

    expect(page.get_by_role("status").first).to_contain_text("Feedback submitted.")
    expect(page.get_by_text("4 of 5")).to_be_visible()
    expect(page.get_by_text("Clear thinker; strong on compilers.").first).to_be_visible()
    screenshot("feedback")


def test_admin_upload_is_denied_on_the_page(
    page: Page, live_server: LiveServer, screenshot: Any
) -> None:
    admin = live_server.user(Role.ADMIN, "Alex Admin")
    sign_in(page, live_server, admin)
    expect(page.get_by_role("link", name="Upload", exact=True)).to_have_count(0)

    # The form is not shown to a role that may not use it: the page says why.
    response = page.goto(f"{live_server.url}/resumes/upload")
    assert response is not None and response.status == 403
    expect(page.locator(".error-message")).to_have_text(
        'User role "ADMIN" not allowed for resume upload'
    )
    expect(page.get_by_label("Files")).to_have_count(0)
    expect(page.get_by_role("button", name="Upload")).to_have_count(0)
    screenshot("admin-denied")


def test_admin_grants_a_role(page: Page, live_server: LiveServer, screenshot: Any) -> None:
    admin = live_server.user(Role.ADMIN, "Alex Admin")
    live_server.user(Role.INTERVIEWER, "Nora Newcomer")
    sign_in(page, live_server, admin)
    page.get_by_role("link", name="Users", exact=True).click()

    page.get_by_label("Role of Nora Newcomer").select_option("RECRUITER")
    page.get_by_role("button", name="Change role of Nora Newcomer").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Nora Newcomer is now Recruiter, active."
    )
    page.get_by_role("button", name="Deactivate Nora Newcomer").click()
    expect(page.get_by_role("status").first).to_contain_text("deactivated")

    page.get_by_role("button", name="Deactivate Alex Admin").click()
    expect(page.get_by_role("alert").first).to_contain_text(
        "Admins cannot demote or deactivate themselves"
    )
    screenshot("users")


def test_hiring_manager_opens_a_job(page: Page, live_server: LiveServer) -> None:
    manager = live_server.user(Role.HIRING_MANAGER, "Mia Manager")
    sign_in(page, live_server, manager)
    page.get_by_role("link", name="Open a job").click()
    page.get_by_label("Title").fill("Site Reliability Engineer")
    page.get_by_label("Department").fill("Platform")
    page.get_by_label("Description").fill("Keep the lights on.")
    page.get_by_role("button", name="Create job").click()
    expect(page.get_by_role("status").first).to_contain_text("Site Reliability Engineer")
    expect(page.get_by_role("table")).to_contain_text("Platform")

"""The pages under the strict content security policy: nothing blocked, nothing reported.

Chromium fires `securitypolicyviolation` for everything the policy blocks and logs a
"Refused to ..." console error; both are collected on every page the test opens.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from talaro.models import Role
from talaro.services import accounts, interviews
from talaro.web_security import CONTENT_SECURITY_POLICY
from tests.browser.conftest import LiveServer, sign_in
from tests.browser.test_pages_browser import candidate_with_job
from tests.factories import resume_text

pytestmark = pytest.mark.browser

# Runs in every document before the page's own code; the list lives on the window.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


@dataclass
class CspWatch:
    page: Page
    console: list[str] = field(default_factory=list)

    def violations(self) -> list[str]:
        """Violations on the current document plus every CSP console error so far."""
        reported = self.page.evaluate("window.__cspViolations || []")
        return [*reported, *self.console]

    def open(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None and response.ok, f"{url}: {response and response.status}"
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        self.assert_clean(url)

    def assert_clean(self, where: str) -> None:
        self.page.wait_for_load_state("load")
        # The stylesheet really applied: blocked CSS would leave the document unstyled.
        loaded_rules = self.page.evaluate(
            "[...document.styleSheets].reduce((n, sheet) => n + sheet.cssRules.length, 0)"
        )
        assert loaded_rules > 0, f"no stylesheet applied on {where}"
        assert self.violations() == [], f"CSP violations on {where}"


@pytest.fixture
def csp(page: Page) -> Iterator[CspWatch]:
    watch = CspWatch(page)
    page.add_init_script(RECORD_VIOLATIONS)

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            watch.console.append(message.text)

    page.on("console", on_console)
    yield watch


def nav_links(page: Page) -> list[str]:
    return page.eval_on_selector_all("nav[aria-label=Main] a", "links => links.map(a => a.href)")


def first_row_links(page: Page) -> list[str]:
    """The first page-to-page link in a list's table: a detail page to open next."""
    links = page.eval_on_selector_all("main table tbody a", "links => links.map(a => a.href)")
    return [url for url in links if "/api/" not in url][:1]


def test_the_watch_sees_a_blocked_inline_script(live_server: LiveServer, csp: CspWatch) -> None:
    """The control: an inline script and an inline style are refused, and the test notices."""
    csp.open(f"{live_server.url}/login")
    csp.page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__ran = true";
            document.body.append(script);
            document.body.insertAdjacentHTML("beforeend", '<p style="color: red">inline</p>');
        }"""
    )
    csp.page.wait_for_function("window.__cspViolations.length >= 2")
    assert csp.page.evaluate("window.__ran === undefined")
    violations = csp.violations()
    assert any(v.startswith("script-src") for v in violations), violations
    assert any(v.startswith("style-src") for v in violations), violations


@pytest.mark.parametrize("role", list(Role))
def test_every_page_in_the_menu_passes_the_policy(
    live_server: LiveServer, csp: CspWatch, role: Role
) -> None:
    recruiter = live_server.user(Role.RECRUITER)
    candidate_id, job_id = candidate_with_job(live_server, recruiter)
    user = live_server.user(role)
    # Something in every role's lists, so that each opens a detail page too.
    live_server.run(
        lambda: interviews.schedule(
            accounts.get_user(recruiter.id),
            {
                "candidate_id": candidate_id,
                "job_id": job_id,
                "interviewer_id": user.id if role == Role.INTERVIEWER else recruiter.id,
                "starts_at": datetime.now(UTC) + timedelta(days=3),
                "duration_minutes": 45,
                "round": "technical",
            },
        )
    )
    csp.open(f"{live_server.url}/login")
    sign_in(csp.page, live_server, user)
    csp.assert_clean("the dashboard after signing in")
    links = nav_links(csp.page)
    assert len(links) >= 2, links
    details = []
    for url in links:
        csp.open(url)
        details += first_row_links(csp.page)
    if role != Role.ADMIN:  # an admin's lists (jobs, users) have no detail pages
        assert details, f"no list had a row to open as {role}"
    for url in details:
        csp.open(url)
    missing = csp.page.goto(f"{live_server.url}/no/such/page")
    assert missing is not None and missing.status == 404
    csp.assert_clean("the 404 page")


def test_forms_work_under_the_policy(
    live_server: LiveServer, csp: CspWatch, tmp_path: Path
) -> None:
    recruiter = live_server.user(Role.RECRUITER, "Rita Recruiter")
    page = csp.page
    csp.open(f"{live_server.url}/login")
    sign_in(page, live_server, recruiter)

    resume = tmp_path / "ada.txt"
    resume.write_text(resume_text("Ada Lovelace", "ada@example.org", "+1 415 555 0101"))
    page.get_by_role("link", name="Upload", exact=True).click()
    page.get_by_label("Files").set_input_files([resume])
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status").first).to_contain_text("1 of 1 files uploaded")
    csp.assert_clean("the upload results")

    page.get_by_role("link", name="Resumes", exact=True).click()
    page.get_by_role("link", name="Ada Lovelace").click()
    page.get_by_label("Name", exact=True).fill("Ada King Lovelace")
    page.get_by_role("button", name="Save corrections").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ada King Lovelace")
    csp.assert_clean("the corrected resume")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    csp.assert_clean("the sign-in page after signing out")


def test_api_docs_render_offline_under_the_policy(live_server: LiveServer, csp: CspWatch) -> None:
    """Swagger UI from our own server (no CDN, no inline script), the whole document shown."""
    requested: list[str] = []
    csp.page.on("request", lambda request: requested.append(request.url))
    csp.open(f"{live_server.url}/api/docs")
    page = csp.page
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() >= 20
    expect(page.locator(".opblock-summary-path", has_text="/api/jobs").first).to_be_visible()
    page.locator(".opblock-summary", has_text="/api/auth/login").first.click()
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    csp.assert_clean("the API docs, one operation open")
    assert requested and all(url.startswith(live_server.url) for url in requested), requested

"""The ADMIN's security events page in headless Chromium: the security stream filtered to
one user's failed sign-ins, a record's details, and the audit chains' state."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from talaro.identity import account_key
from talaro.models import Role
from tests.browser.conftest import LiveServer, sign_in

pytestmark = pytest.mark.browser


def fail_sign_in(server: LiveServer, email: str, address: str) -> None:
    client = server.app.test_client()
    answer = client.post(
        "/api/auth/login",
        json={"email": email, "password": "not the password"},
        environ_base={"REMOTE_ADDR": address},
    )
    assert answer.status_code == 401


def test_admin_filters_the_security_stream_to_one_users_failed_sign_ins(
    page: Page, live_server: LiveServer, screenshot: Any
) -> None:
    admin = live_server.user(Role.ADMIN, "Ada Admin")
    manager = live_server.user(Role.HIRING_MANAGER, "Hal Manager")
    recruiter = live_server.user(Role.RECRUITER, "Rita Recruiter")
    fail_sign_in(live_server, manager.email, "203.0.113.5")
    fail_sign_in(live_server, recruiter.email, "203.0.113.5")
    fail_sign_in(live_server, manager.email, "198.51.100.7")
    manager_hash = live_server.run(account_key, manager.email)
    recruiter_hash = live_server.run(account_key, recruiter.email)

    sign_in(page, live_server, admin)
    page.get_by_role("link", name="Security", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Security events")
    events = page.locator("table.events tbody tr")
    expect(events.first).to_be_visible()
    # Newest first: the admin's own sign-in comes before the failures.
    expect(events.first.get_by_role("rowheader")).to_have_text("authn_login_success")

    page.get_by_label("Event", exact=True).select_option("authn_login_fail")
    page.get_by_label("Outcome", exact=True).select_option("failure")
    page.get_by_label("User", exact=True).fill(manager.email)
    page.get_by_role("button", name="Show events").click()

    expect(page.locator("#events-count")).to_have_text("2 events match the filters.")
    expect(events).to_have_count(2)
    expect(page.locator("table.events td.user")).to_have_text([manager_hash, manager_hash])
    expect(page.locator("table.events")).not_to_contain_text(recruiter_hash)
    # Newest first, each with its address and the status the client got.
    expect(events.nth(0)).to_contain_text("198.51.100.7")
    expect(events.nth(1)).to_contain_text("203.0.113.5")
    expect(events.nth(0)).to_contain_text("401")

    events.nth(0).get_by_text("Details").click()
    details = events.nth(0).locator("dl.attributes")
    expect(details).to_be_visible()
    expect(details).to_contain_text("talaro.login.account_exists")
    expect(details).to_contain_text("wrong password")

    page.get_by_label("Address", exact=True).fill("203.0.113.5")
    page.get_by_role("button", name="Show events").click()
    expect(events).to_have_count(1)

    page.get_by_role("button", name="Check the audit chains").click()
    expect(page.locator("#audit-result")).to_contain_text("0 broken")
    expect(page.locator("table.audit")).to_contain_text("whole")
    expect(events).to_have_count(1)  # the filters survive the check
    screenshot("security-events")


def test_security_events_are_for_admins_only(page: Page, live_server: LiveServer) -> None:
    manager = live_server.user(Role.HIRING_MANAGER)
    sign_in(page, live_server, manager)
    expect(page.get_by_role("link", name="Security", exact=True)).to_have_count(0)
    answer = page.goto(f"{live_server.url}/security")
    assert answer is not None and answer.status == 403

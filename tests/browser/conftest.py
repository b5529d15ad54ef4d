"""Browser fixtures: the real app served over HTTP, driven by Debian's headless Chromium.

`live_server` serves the test's app (`make_app`, on a fresh SQLite file) with werkzeug's
threaded server; `page` is a fresh Chromium context per test. Without /usr/bin/chromium
the tests skip (or fail under TALARO_REQUIRE_SERVICES=1). Set
TALARO_SCREENSHOT_DIR to keep the screenshots the tests take.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, request
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from talaro.models import Role
from talaro.services import accounts
from tests.conftest import unavailable

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


@dataclass(frozen=True)
class Person:
    """A user's identity, detached from any database session."""

    id: str
    email: str
    name: str


@dataclass
class LiveServer:
    """The served app, its base URL, and the 5xx responses it has sent."""

    app: Flask
    url: str
    server_errors: list[str]

    def user(self, role: Role, name: str | None = None) -> Person:
        """A new active user who signs in with `PASSWORD`."""
        n = next(_numbers)
        with self.app.app_context():
            user = accounts.create_user(
                f"{role.lower()}{n}@example.org", PASSWORD, name or f"{role.title()} {n}", role
            )
            return Person(user.id, user.email, user.name)

    def run(self, work: Any, *args: Any, **kwargs: Any) -> Any:
        """Call `work(*args, **kwargs)` inside an app context (service calls for set-up)."""
        with self.app.app_context():
            return work(*args, **kwargs)


@pytest.fixture
def live_server(make_app: Callable[..., Flask]) -> Iterator[LiveServer]:
    app = make_app(TESTING=False)
    server_errors: list[str] = []

    @app.after_request
    def record_server_errors(response: Response) -> Response:
        if response.status_code >= 500:
            server_errors.append(f"{response.status_code} {request.method} {request.path}")
        return response

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="talaro-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}", server_errors)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    assert not server_errors, f"the server answered with errors: {server_errors}"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(page: Page, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    """`screenshot("name")` saves a full-page PNG (to TALARO_SCREENSHOT_DIR when set)."""
    folder = Path(os.environ.get("TALARO_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    prefix = re.sub(r"\W+", "-", request.node.name).strip("-")

    def take(name: str) -> Path:
        path = folder / f"{prefix}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def sign_in(page: Page, server: LiveServer, user: Person) -> None:
    """Sign in through the login form and wait for the dashboard."""
    page.goto(f"{server.url}/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {user.name}")


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")

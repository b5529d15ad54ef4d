"""The security events page (ADMIN) over the real files: trace links, newest-first pages,
bad filter values. The browser test (tests/browser/test_security_page.py) filters it."""

from __future__ import annotations

import io
import re

from talaro import telemetry
from talaro.blueprints.pages import security
from talaro.models import Role
from talaro.telemetry import reader


def test_trace_ids_link_to_the_trace_viewer_when_it_is_set(app, as_role) -> None:
    admin = as_role(Role.ADMIN)
    upload = {"file": (io.BytesIO(b"Some One\nsome@example.org\n"), "cv.txt")}
    assert admin.post("/api/resumes", data=upload).status_code == 403
    telemetry.flush(app)

    page = admin.get("/security?event=authz_fail").get_data(as_text=True)
    assert "1 event matches the filters." in page
    assert "/trace/" not in page  # no viewer configured: the id is plain text
    (trace_id,) = re.findall(r"<dt>trace_id</dt>\s*<dd>([0-9a-f]{32})</dd>", page)

    app.config["TALARO_TRACE_VIEWER_URL"] = "http://127.0.0.1:16686/"
    page = admin.get("/security?event=authz_fail").get_data(as_text=True)
    assert f'href="http://127.0.0.1:16686/trace/{trace_id}"' in page
    app.config["TALARO_TRACE_VIEWER_URL"] = "https://tempo.example/explore?trace={trace_id}"
    page = admin.get("/security?event=authz_fail").get_data(as_text=True)
    assert f'href="https://tempo.example/explore?trace={trace_id}"' in page


def test_bad_filter_values_are_explained_not_fatal(app, as_role) -> None:
    admin = as_role(Role.ADMIN)
    answer = admin.get("/security?since=yesterday-ish&event=no_such_event")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "Enter a time like 2026-11-26T10:00Z" in page
    assert "Choose an event from the list." in page


def test_pages_are_newest_first(app, as_role) -> None:
    admin = as_role(Role.ADMIN)
    for _ in range(5):
        admin.get("/api/resumes")  # five denials
    telemetry.flush(app)
    with app.app_context():
        files = security.security_files()
        where = reader.Filter(events=("authz_fail",))
        everything = list(reader.read_records(files, where))
        first = security.newest_first(files, where, page=1, per_page=2)
        third = security.newest_first(files, where, page=3, per_page=2)
    # The first page stops one record past itself: more, not how many; the last knows.
    assert first.total is None and first.more
    assert third.total == 5 and not third.more
    times = [r["time"] for r in reversed(everything)]
    assert [r["time"] for r in first.records] == times[:2]
    assert [r["time"] for r in third.records] == times[4:]


def test_others_are_refused(as_role) -> None:
    for role in (Role.HIRING_MANAGER, Role.RECRUITER, Role.INTERVIEWER):
        assert as_role(role).get("/security").status_code == 403

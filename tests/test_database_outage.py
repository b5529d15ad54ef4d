"""PostgreSQL connections dropped under the app: between requests they are replaced, in the
middle of one the answer is 503 `database_unavailable` (JSON, Retry-After), never a 500,
and an upload stored before the drop still answers 201."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

from talaro import telemetry
from talaro.error_handlers import database_unavailable
from talaro.extensions import db
from talaro.models import Resume
from tests.factories import PASSWORD, RoleClients, file_part, resume_text
from tests.telemetry import otlp_json

pytestmark = pytest.mark.postgres


@pytest.fixture
def backend() -> str:
    return "postgresql"


def terminate_backends(app: Flask) -> int:
    """End every other session on the app's database, as a failover or restart would, and
    wait for them to be gone."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


@contextmanager
def dropped_at(app: Flask, when: Callable[[str], bool]) -> Iterator[list[str]]:
    """Drop every connection just before the first statement for which `when(statement)`
    holds (the request is then in the middle of its work); yields the statements seen."""
    seen: list[str] = []
    fired: list[bool] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)
        if not fired and when(statement):
            fired.append(True)
            terminate_backends(app)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


def records(app: Flask, stream: str, name: str) -> list[otlp_json.LogRecord]:
    telemetry.flush(app)
    path = Path(app.config["TALARO_TELEMETRY_DIR"]) / f"{stream}.jsonl"
    return [r for r in otlp_json.log_records(path) if r.event_name == name]


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.data[:500]
    assert response.mimetype == "application/json"
    assert response.json["error"]["code"] == "database_unavailable"
    assert int(response.headers["Retry-After"]) > 0


def test_connections_dropped_between_requests_are_replaced(app, as_role: RoleClients) -> None:
    recruiter = as_role("RECRUITER")
    assert recruiter.get("/api/jobs").status_code == 200
    assert terminate_backends(app) >= 1  # the app's pooled connection, at least
    assert recruiter.get("/api/jobs").status_code == 200
    assert not records(app, "application", "error_unhandled")


def test_connections_dropped_mid_request_answer_503_json(app, as_role: RoleClients) -> None:
    recruiter = as_role("RECRUITER")
    with dropped_at(app, lambda sql: "FROM resumes" in sql) as seen:
        response = recruiter.get("/api/resumes")
    assert any("FROM resumes" in sql for sql in seen)
    assert_unavailable(response)
    assert "OperationalError" not in response.get_data(as_text=True)  # no internals
    (record,) = records(app, "application", "database_unavailable")
    assert record.attributes["exception.type"] == "sqlalchemy.exc.OperationalError"
    assert record.attributes["event.outcome"] == "failure"
    assert not records(app, "application", "error_unhandled")
    (answered,) = [
        r
        for r in records(app, "application", "http_request")
        if r.attributes["url.path"] == "/api/resumes"
    ]
    assert answered.attributes["http.response.status_code"] == 503
    assert recruiter.get("/api/resumes").status_code == 200  # the next request reconnects


@contextmanager
def database_down(app: Flask, down: Callable[[], bool] = lambda: True) -> Iterator[None]:
    """Every statement fails as with the server gone, while `down()` holds."""
    with app.app_context():
        engine = db.engine

    def refuse(*args: Any) -> None:
        if down():
            raise sa.exc.OperationalError("", {}, psycopg.OperationalError("server down"))

    sa.event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        sa.event.remove(engine, "before_cursor_execute", refuse)


def test_a_database_down_for_the_whole_request_is_still_503_json(app, as_role) -> None:
    """Every statement of the request, the error path's own included, finds the database
    gone: still our JSON 503, not a server's HTML page."""
    recruiter = as_role("RECRUITER")
    with database_down(app):
        response = recruiter.get("/api/resumes")
    assert_unavailable(response)


@pytest.mark.parametrize("down_from", ["the session lookup", "the page's query"])
def test_a_page_answers_503_not_500(app, make, down_from: str) -> None:
    """A browser signed in with the session cookie: the outage is a 503 with Retry-After
    (our page, or our JSON when the page itself needs the user's row), never a 500."""
    user = make.user("RECRUITER")
    browser = app.test_client()
    signed_in = browser.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert signed_in.status_code == 200
    if down_from == "the session lookup":
        with database_down(app):
            response = browser.get("/candidates", headers={"Accept": "text/html"})
    else:
        with dropped_at(app, lambda sql: "FROM candidates" in sql):
            response = browser.get("/candidates", headers={"Accept": "text/html"})
    assert response.status_code == 503, response.data[:300]
    assert int(response.headers["Retry-After"]) > 0
    assert response.mimetype in {"text/html", "application/json"}
    assert b"The database is unavailable" in response.data


def test_an_upload_stored_before_the_outage_answers_201(app, as_role: RoleClients) -> None:
    """The commit is the last thing the upload needs the database for: the database gone
    right after it leaves the client with its 201 and the resume it describes."""
    recruiter = as_role("RECRUITER")
    text = resume_text("Ada Drop", "ada.drop@example.com")
    committed: list[bool] = []

    def after_commit(session: Any) -> None:
        stored = any(isinstance(row, Resume) for row in session.identity_map.values())
        if stored and not committed:  # the resume's commit, not the token's last use
            committed.append(True)
            terminate_backends(app)

    with app.app_context():
        session_class = db.session.session_factory.class_
    sa.event.listen(session_class, "after_commit", after_commit)
    try:
        with database_down(app, lambda: bool(committed)):
            response = recruiter.post(
                "/api/resumes",
                data={"file": file_part(text, "ada.txt")},
                content_type="multipart/form-data",
            )
    finally:
        sa.event.remove(session_class, "after_commit", after_commit)
    assert committed
    assert response.status_code == 201, response.data[:500]
    with app.app_context():
        stored = db.session.get(Resume, response.json["id"])
        assert stored is not None and stored.filename == "ada.txt"
    (upload,) = records(app, "application", "resume_upload")
    assert upload.attributes["event.outcome"] == "success"
    assert upload.attributes["resume.id"] == response.json["id"]


def test_only_a_lost_database_counts_as_unavailable() -> None:
    """A statement the database refuses stays a 500 (a bug to fix, not to retry)."""
    engine = sa.create_engine("sqlite://")
    with pytest.raises(sa.exc.OperationalError) as refused, engine.connect() as conn:
        conn.execute(sa.text("SELECT missing FROM nowhere"))
    engine.dispose()
    assert not database_unavailable(refused.value)
    assert not database_unavailable(sa.exc.IntegrityError("", {}, Exception("duplicate")))
    shutdown = psycopg.errors.AdminShutdown("terminating connection")
    assert database_unavailable(sa.exc.OperationalError("", {}, shutdown))
    assert database_unavailable(sa.exc.TimeoutError("QueuePool limit reached"))

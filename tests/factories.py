"""Test data factories (`gen_*` in CTFd's words) and per-role API clients."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache, wraps
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from talaro.extensions import db
from talaro.models import Candidate, Interview, Job, Resume, Role, User
from talaro.services import accounts, interviews
from talaro.services.ingestion import Upload, create_resume
from talaro.services.passwords import hash_password

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)
FIRST_NAMES = ("Amara", "Bruno", "Chen", "Dagny", "Emeka", "Farah", "Goran", "Hana", "Ines", "Jun")
LAST_NAMES = ("Okafor", "Silva", "Li", "Berg", "Nwosu", "Haddad", "Petrovic", "Sato", "Costa")


@cache
def password_hash() -> str:
    """Hashing once per run keeps Argon2's deliberate cost out of every fixture."""
    return hash_password(PASSWORD)


def resume_text(name: str, email: str, phone: str = "+1 415 555 0134", skills: str = "") -> str:
    return (
        f"{name}\n{email} | {phone}\nSan Francisco, CA\n\n"
        f"Experience\nSenior Engineer, Acme Corp\nJan 2018 - Present\n\n"
        f"Education\nBSc Computer Science, State University\n\n"
        f"Skills\n{skills or 'Python, SQL, Docker'}\n"
    )


def _detached(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run a factory in its own app context and hand back a detached, fully loaded row.

    Holding an app context open across test requests would make them share `g` (Flask
    reuses an open context of the same app), so factories never keep one open.
    """

    @wraps(method)
    def wrapper(self: Factory, *args: Any, **kwargs: Any) -> Any:
        with self.app.app_context():
            row = method(self, *args, **kwargs)
            if isinstance(row, db.Model):
                db.session.refresh(row)
                db.session.expunge(row)
            return row

    return wrapper


class Factory:
    def __init__(self, app: Flask) -> None:
        self.app = app

    @_detached
    def user(self, role: str = Role.INTERVIEWER, *, email: str | None = None, **kw: Any) -> User:
        n = next(_counter)
        user = User(
            email=(email or f"{role.lower()}{n}@example.com").lower(),
            name=kw.pop("name", f"{role.title()} {n}"),
            password_hash=password_hash(),
            role=role,
            **kw,
        )
        db.session.add(user)
        db.session.commit()
        return user

    @_detached
    def token(self, user: User) -> str:
        return accounts.create_token(user, "tests")[1]

    @_detached
    def job(self, by: User | None = None, title: str = "Backend Engineer") -> Job:
        by = by or self.user(Role.HIRING_MANAGER)
        job = Job(title=title, department="Engineering", description="", created_by_id=by.id)
        db.session.add(job)
        db.session.commit()
        return job

    @_detached
    def resume(self, by: User | None = None, *, name: str | None = None) -> Resume:
        by = by or self.user(Role.RECRUITER)
        n = next(_counter)
        first, last = FIRST_NAMES[n % 10], LAST_NAMES[n // 10 % len(LAST_NAMES)]
        name = name or f"{first} {last}"
        text = resume_text(name, f"candidate{n}@example.org", f"+1 415 555 {n % 10000:04d}")
        return create_resume(by, Upload(f"resume-{n}.txt", text.encode()))

    @_detached
    def candidate(self, by: User | None = None) -> Candidate:
        return db.session.get(Candidate, self.resume(by).candidate_id)

    @_detached
    def interview(
        self,
        *,
        interviewer: User | None = None,
        scheduled_by: User | None = None,
        candidate: Candidate | None = None,
        starts_at: datetime | None = None,
        duration_minutes: int = 60,
    ) -> Interview:
        scheduled_by = scheduled_by or self.user(Role.RECRUITER)
        return interviews.schedule(
            scheduled_by,
            {
                "candidate_id": (candidate or self.candidate()).id,
                "job_id": self.job().id,
                "interviewer_id": (interviewer or self.user(Role.INTERVIEWER)).id,
                "starts_at": starts_at or datetime.now(UTC) + timedelta(days=next(_counter)),
                "duration_minutes": duration_minutes,
                "round": "technical",
                # A start in the past is a record of a past interview (the API's rule).
                "past_record": starts_at is not None and starts_at < datetime.now(UTC),
            },
        )


class ApiClient:
    """A test client that sends one user's bearer token with every request."""

    def __init__(self, client: FlaskClient, user: User, token: str) -> None:
        self.client, self.user, self.token = client, user, token

    def open(self, method: str, path: str, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.open("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.open("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Any:
        return self.open("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> Any:
        return self.open("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.open("DELETE", path, **kw)


class RoleClients:
    def __init__(self, app: Flask, make: Factory) -> None:
        self.app, self.make = app, make

    def __call__(self, role: str, user: User | None = None) -> ApiClient:
        user = user or self.make.user(role)
        return ApiClient(self.app.test_client(), user, self.make.token(user))


def file_part(data: bytes | str, filename: str) -> tuple[io.BytesIO, str]:
    """A multipart file for the test client."""
    raw = data.encode() if isinstance(data, str) else data
    return io.BytesIO(raw), filename

"""A normalised snapshot of the telemetry one scripted session writes, to prove a refactor
left the log records the same, record for record.

The session runs through `app.test_client()` on a temporary SQLite database with
telemetry writing files to a temporary folder; it covers most of the event catalogue
(talaro/telemetry/catalogue.py). The security and application streams are then read back
and every record reduced to what is stable from run to run: ids become the name of what
they identify (`<user:admin>`, `<resume:ana>`), keyed hashes the email they hash, and
times, durations, sizes, pids, audit-chain fields and temporary paths a placeholder.

    python -m bench.telemetry_snapshot --out before.json
    python -m bench.telemetry_snapshot --out after.json --compare before.json  # 1: different
    python -m bench.telemetry_snapshot --compare-files before.json after.json   # no new run

Run it from the repository root. It imports only `talaro` (no test code).
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import hmac
import io
import json
import os
import re
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Fixed keys: the keyed hashes of emails (`user.hash`) are then the same in every run.
SECRET_KEY = "telemetry-snapshot-secret-key-not-for-production"
HASH_KEY = "telemetry-snapshot-hash-key"
PASSWORD = "correct horse battery staple"
WRONG_PASSWORD = "not the right password"
NEW_PASSWORD = "a brand new passphrase"
TEMPORARY_PASSWORD = "a temporary passphrase"
STREAMS = ("security", "application")
# Interviews in the past, at fixed times: feedback is open and nothing depends on today.
DAY = "2024-03-04"

STAFF = {  # label: (email, role)
    "admin": ("admin@example.com", "ADMIN"),
    "manager": ("manager@example.com", "HIRING_MANAGER"),
    "recruiter": ("recruiter@example.com", "RECRUITER"),
    "interviewer": ("interviewer@example.com", "INTERVIEWER"),
    "victim": ("victim@example.com", "RECRUITER"),
}
UNKNOWN_EMAIL = "ghost@example.com"
NO_SUCH_TOKEN = "0123456789abcdef0123456789abcdef"
NO_SUCH_RESUME = "ffffffffffffffffffffffffffffffff"
REGISTERED = {"newcomer": "newcomer@example.com", "leaver": "leaver@example.com"}


def snapshot_config(folder: Path) -> dict[str, Any]:
    """The app's settings: as in tests/conftest.py (base_config + telemetry_config), with
    fixed keys and thresholds low enough for a short session to fire the detection rules."""
    return {
        "TESTING": True,
        "SECRET_KEY": SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/snapshot.sqlite",
        "TALARO_MAX_FILE_SIZE": 512 * 1024,
        "TALARO_MAX_BULK_FILES": 3,
        "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
        "TALARO_TELEMETRY_ENABLED": True,
        "TALARO_TELEMETRY_DIR": str(folder / "logs"),
        "TALARO_TELEMETRY_FILES": "auto",
        "TALARO_TELEMETRY_USER_IDENTITY": "email",
        "TALARO_TELEMETRY_HASH_KEY": HASH_KEY,
        "TALARO_METRIC_EXPORT_INTERVAL_MS": 3_600_000,
        # Detection: every rule whose window opens at its first hit (deterministic).
        "TALARO_DETECT_ACCOUNT_FAILURES": 3,
        "TALARO_DETECT_ACCOUNT_WINDOW": 3600,
        "TALARO_LOCK_SECONDS": 3600,
        "TALARO_DETECT_SUCCESS_AFTER_FAILURES": 1,
        "TALARO_DETECT_STUFFING_ACCOUNTS": 3,
        "TALARO_DETECT_STUFFING_WINDOW": 3600,
        "TALARO_DETECT_REGISTRATIONS": 2,
        "TALARO_DETECT_REGISTRATIONS_WINDOW": 3600,
        "TALARO_DETECT_404": 3,
        "TALARO_DETECT_404_WINDOW": 3600,
        "TALARO_DETECT_403": 2,
        "TALARO_DETECT_403_WINDOW": 3600,
        "TALARO_DETECT_BAD_TOKENS": 3,
        "TALARO_DETECT_BAD_TOKENS_WINDOW": 3600,
        # Rate limits: only token creation is meant to trip (the 4th token of one user).
        "TALARO_RATELIMIT_SIGNIN": "1000 per hour",
        "TALARO_RATELIMIT_REGISTER": "1000 per hour",
        "TALARO_RATELIMIT_TOKENS": "3 per hour",
    }


def resume_text(name: str, email: str, phone: str, skills: str = "Python, SQL, Docker") -> bytes:
    return (
        f"{name}\n{email} | {phone}\nSan Francisco, CA\n\n"
        f"Experience\nSenior Engineer, Acme Corp\nJan 2018 - Present\n\n"
        f"Education\nBSc Computer Science, State University\n\n"
        f"Skills\n{skills}\n"
    ).encode()


def keyed_hash(value: str) -> str:
    """`user.hash` as the service computes it under HASH_KEY (talaro/telemetry/context.py)."""
    digest = hmac.new(HASH_KEY.encode(), value.strip().lower().encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


# The session ------------------------------------------------------------------------------


class Actor:
    """A test client of its own, with a bearer token once it has one."""

    def __init__(self, session: Session, name: str, token: str | None = None) -> None:
        self.session, self.name, self.token = session, name, token
        self.client = session.app.test_client()
        self.csrf: str | None = None

    def call(self, method: str, path: str, expect: int, **kw: Any) -> Any:
        headers = dict(kw.pop("headers", {}))
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.csrf and method != "GET":
            headers["X-CSRFToken"] = self.csrf
        response = self.client.open(path, method=method, headers=headers, **kw)
        self.session.check(self.name, method, path, expect, response)
        return response

    def login(self, email: str, password: str, expect: int = 200) -> Any:
        response = self.call(
            "POST", "/api/auth/login", expect, json={"email": email, "password": password}
        )
        if response.status_code == 200:
            self.csrf = response.json["csrf_token"]
        return response


class Session:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.labels: dict[str, str] = {}  # id -> "<kind:name>"
        self.surprises: list[str] = []

    def label(self, value: str | None, kind: str, name: str) -> str | None:
        if value:
            self.labels.setdefault(value, f"<{kind}:{name}>")
        return value

    def check(self, actor: str, method: str, path: str, expect: int, response: Any) -> None:
        if response.status_code != expect:
            note = f"{actor} {method} {path}: {response.status_code}, expected {expect}"
            self.surprises.append(note)
            print(f"warning: {note}: {response.get_data(as_text=True)[:300]}", file=sys.stderr)

    def signed_in(self, name: str, email: str, password: str = PASSWORD) -> Actor:
        """Sign in with a session, create an API token, and use the token from then on."""
        actor = Actor(self, name)
        actor.login(email, password)
        created = actor.call("POST", "/api/auth/tokens", 201, json={"name": f"{name} script"})
        self.label(created.json.get("id"), "token", name)
        # From here on a fresh client with the token alone: no session cookie, no CSRF.
        return Actor(self, name, created.json.get("token"))


def create_staff(app: Any, session: Session) -> None:
    """Staff accounts through the service, as `flask users create` makes them."""
    from talaro.extensions import db
    from talaro.models import Role
    from talaro.services.accounts import create_user

    with app.app_context():
        for name, (email, role) in STAFF.items():
            user = create_user(email, PASSWORD, name.title(), Role(role), via="cli")
            session.label(user.id, "user", name)
        db.session.remove()


def upload(actor: Actor, name: str, data: bytes, filename: str, expect: int, **form: str) -> Any:
    response = actor.call(
        "POST", "/api/resumes", expect, data={"file": (io.BytesIO(data), filename), **form}
    )
    if response.status_code == 201:
        actor.session.label(response.json["id"], "resume", name)
        actor.session.label(response.json["candidate_id"], "candidate", name)
    return response


def interview_body(session: Session, candidate: str, job: str, starts: str, minutes: int) -> dict:
    ids = {label: value for value, label in session.labels.items()}
    return {
        "candidate_id": ids[f"<candidate:{candidate}>"],
        "job_id": ids[f"<job:{job}>"],
        "interviewer_id": ids["<user:interviewer>"],
        "starts_at": f"{DAY}T{starts}:00+00:00",
        "duration_minutes": minutes,
        "round": "technical",
        "past_record": True,  # a record of a past interview (a past start needs it)
    }


def run_session(app: Any) -> Session:
    """The scripted session: the same requests in the same order every run."""
    s = Session(app)
    s.label(NO_SUCH_TOKEN, "token", "nonexistent")
    s.label(NO_SUCH_RESUME, "resume", "nonexistent")
    create_staff(app, s)
    anonymous = Actor(s, "anonymous")

    # Anonymous: a 401, registrations (one taken email, answered like a new one; one
    # too-short password).
    anonymous.call("GET", "/api/auth/me", 401)
    for name, email in REGISTERED.items():
        body = {"email": email, "password": PASSWORD, "name": name.title()}
        created = anonymous.call("POST", "/api/auth/register", 201, json=body)
        s.label(created.json.get("id"), "user", name)
    taken = {"email": STAFF["admin"][0], "password": PASSWORD, "name": "Again"}
    anonymous.call("POST", "/api/auth/register", 201, json=taken)  # tells nothing: no 409
    short = {"email": "short@example.com", "password": "short", "name": "Short"}
    anonymous.call("POST", "/api/auth/register", 422, json=short)

    # Brute force on one account: 3 wrong passwords (fail_max, lock), then the right one
    # is refused while locked; an unknown account; a third account failing trips the
    # one-address credential-stuffing rule; its next success is a success-after-fail.
    victim_email = STAFF["victim"][0]
    for _ in range(3):
        anonymous.login(victim_email, WRONG_PASSWORD, 401)
    anonymous.login(victim_email, PASSWORD, 401)
    anonymous.login(UNKNOWN_EMAIL, PASSWORD, 401)
    anonymous.login(STAFF["recruiter"][0], WRONG_PASSWORD, 401)

    # Hiring manager on a browser session: jobs, tokens (one revoked then reused, the 4th
    # refused by the rate limit), bad input.
    browser = Actor(s, "manager-browser")
    browser.login(STAFF["manager"][0], PASSWORD)
    browser.call("GET", "/api/auth/me", 200)
    browser.call("GET", "/api/auth/csrf", 200)
    job = browser.call("POST", "/api/jobs", 201, json={"title": "Site Reliability Engineer"})
    s.label(job.json.get("id"), "job", "sre")
    browser.call("PATCH", f"/api/jobs/{job.json.get('id')}", 200, json={"title": "Senior SRE"})
    job = browser.call("POST", "/api/jobs", 201, json={"title": "Data Engineer"})
    s.label(job.json.get("id"), "job", "data")
    browser.call("POST", "/api/jobs", 422, json={})
    browser.call(
        "POST", "/api/jobs", 400, data="{not json", headers={"Content-Type": "application/json"}
    )
    browser.call("GET", "/api/jobs", 200)
    kept = browser.call("POST", "/api/auth/tokens", 201, json={"name": "kept"})
    s.label(kept.json.get("id"), "token", "manager-kept")
    revoked = browser.call("POST", "/api/auth/tokens", 201, json={"name": "revoked"})
    s.label(revoked.json.get("id"), "token", "manager-revoked")
    browser.call("GET", "/api/auth/tokens", 200)
    browser.call("DELETE", f"/api/auth/tokens/{revoked.json.get('id')}", 204)
    browser.call("DELETE", f"/api/auth/tokens/{NO_SUCH_TOKEN}", 404)
    Actor(s, "revoked-token", revoked.json.get("token")).call("GET", "/api/auth/me", 401)
    # Two made-up tokens after the revoked one: the invalid-bearer-token rule fires.
    for guess in ("tlr_guessed-one", "tlr_guessed-two"):
        Actor(s, "token-guesser", guess).call("GET", "/api/auth/me", 401)
    third = browser.call("POST", "/api/auth/tokens", 201, json={"name": "third"})
    s.label(third.json.get("id"), "token", "manager-third")
    browser.call("POST", "/api/auth/tokens", 429, json={"name": "one too many"})
    manager = Actor(s, "manager", kept.json.get("token"))

    # Everyone else signs in and works with a token; the recruiter after its failure.
    recruiter = s.signed_in("recruiter", STAFF["recruiter"][0])
    interviewer = s.signed_in("interviewer", STAFF["interviewer"][0])
    admin = s.signed_in("admin", STAFF["admin"][0])

    # Admin: user management (authz_change), then denied recruiting work (authz_fail).
    ids = {label: value for value, label in s.labels.items()}
    admin.call("GET", "/api/users", 200)
    admin.call("PATCH", f"/api/users/{ids['<user:newcomer>']}", 200, json={"role": "RECRUITER"})
    admin.call("PATCH", f"/api/users/{ids['<user:leaver>']}", 200, json={"active": False})
    admin.call("PATCH", f"/api/users/{ids['<user:leaver>']}", 422, json={"role": "KING"})
    Actor(s, "leaver").login(REGISTERED["leaver"], PASSWORD, 401)  # inactive
    newcomer = Actor(s, "newcomer")
    newcomer.login(REGISTERED["newcomer"], PASSWORD)
    newcomer.call("GET", "/api/resumes", 200)
    admin.call("POST", "/api/resumes", 403, data={"file": (io.BytesIO(b"x"), "cv.txt")})
    # A temporary password for the newcomer ends their session: replaying it is refused.
    reset = {"password": TEMPORARY_PASSWORD}
    admin.call("POST", f"/api/users/{ids['<user:newcomer>']}/password", 204, json=reset)
    newcomer.call("GET", "/api/resumes", 401)

    # Recruiter: uploads (one to a job, a duplicate, refused files), bulk, resume work.
    ana = resume_text("Ana Lima", "ana.lima@example.org", "+1 415 555 0134")
    upload(recruiter, "ana", ana, "ana-lima.txt", 201)
    upload(recruiter, "ana-again", ana, "copy-of-ana.txt", 409)
    bo = resume_text("Bo Chen", "bo.chen@example.org", "+1 415 555 0177", "Go, Kubernetes")
    upload(recruiter, "bo", bo, "bo-chen.txt", 201, job_id=ids["<job:sre>"])
    upload(recruiter, "image", b"\x89PNG\r\n\x1a\n" + bytes(300), "photo.pdf", 415)
    upload(recruiter, "empty", b"", "empty.txt", 422)
    recruiter.call("POST", "/api/resumes", 422, data={})
    files = [
        (io.BytesIO(resume_text("Cleo Park", "cleo.park@example.org", "+1 415 555 0190")), "c.txt"),
        (io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(300)), "scan.pdf"),
        (io.BytesIO(ana), "ana-duplicate.txt"),
    ]
    bulk = recruiter.call("POST", "/api/resumes/bulk", 200, data={"files": files})
    for result in bulk.json.get("results", []):
        s.label(result.get("id"), "resume", f"bulk-{result['filename']}")
    too_many = [
        (io.BytesIO(resume_text(f"P{i}", f"p{i}@example.org", "")), f"{i}.txt") for i in "abcd"
    ]
    recruiter.call("POST", "/api/resumes/bulk", 422, data={"files": too_many})

    ids = {label: value for value, label in s.labels.items()}
    ana_id, bo_id = ids["<resume:ana>"], ids["<resume:bo>"]
    recruiter.call("GET", "/api/resumes", 200, query_string={"q": "python"})
    recruiter.call("GET", f"/api/resumes/{ana_id}", 200)
    recruiter.call("GET", f"/api/resumes/{ana_id}/file", 200)
    fix = {"fields": {"phone": "+1 415 555 0100", "skills": ["Python", "Rust"]}}
    recruiter.call("PATCH", f"/api/resumes/{ana_id}", 200, json=fix)
    recruiter.call("PATCH", f"/api/resumes/{ana_id}", 422, json={"fields": {"email": "nope"}})
    recruiter.call("GET", "/api/candidates", 200, query_string={"q": "chen"})
    recruiter.call("GET", f"/api/candidates/{ids['<candidate:ana>']}", 200)

    # Interviews: schedule, a conflict, list/view/update, feedback, cancel, delete.
    first = recruiter.call(
        "POST", "/api/interviews", 201, json=interview_body(s, "ana", "sre", "10:00", 60)
    )
    s.label(first.json.get("id"), "interview", "ana")
    recruiter.call("POST", "/api/interviews", 409, json=interview_body(s, "bo", "sre", "10:30", 60))
    second = recruiter.call(
        "POST", "/api/interviews", 201, json=interview_body(s, "bo", "data", "11:00", 45)
    )
    s.label(second.json.get("id"), "interview", "bo")
    first_id, second_id = first.json.get("id"), second.json.get("id")
    recruiter.call("GET", "/api/interviews", 200)
    recruiter.call("GET", f"/api/interviews/{first_id}", 200)
    recruiter.call("PATCH", f"/api/interviews/{first_id}", 200, json={"round": "final"})
    recruiter.call(
        "PATCH",
        f"/api/interviews/{second_id}",
        409,
        json={"starts_at": f"{DAY}T10:15:00+00:00", "past_record": True},
    )
    feedback = {"rating": 4, "recommendation": "yes", "notes": "Clear thinker."}
    interviewer.call("PUT", f"/api/interviews/{first_id}/feedback", 200, json=feedback)
    interviewer.call("PUT", f"/api/interviews/{first_id}/feedback", 422, json={"rating": 9})
    edited = {**feedback, "rating": 3}  # an edit keeps the previous version
    interviewer.call("PUT", f"/api/interviews/{first_id}/feedback", 200, json=edited)
    manager.call("GET", f"/api/interviews/{first_id}/feedback/versions", 200)
    # Feedback belongs to its author: the interview can no longer be reassigned.
    reassign = {"interviewer_id": ids["<user:recruiter>"]}
    recruiter.call("PATCH", f"/api/interviews/{first_id}", 409, json=reassign)
    interviewer.call("GET", "/api/interviews", 200)
    interviewer.call("GET", f"/api/interviews/{first_id}", 200)
    interviewer.call(
        "POST", "/api/interviews", 403, json=interview_body(s, "bo", "sre", "15:00", 30)
    )
    cancel = {"status": "cancelled", "cancel_reason": "The candidate withdrew"}
    recruiter.call("PATCH", f"/api/interviews/{second_id}", 200, json=cancel)
    manager.call("DELETE", f"/api/interviews/{second_id}", 204)

    # Denials on object URLs (two: direct-reference rule), 404s (three: excess-404 rule).
    admin.call("GET", f"/api/resumes/{bo_id}", 403)
    admin.call("GET", f"/api/interviews/{first_id}", 403)
    for path in (f"/api/resumes/{NO_SUCH_RESUME}", "/api/interviews/missing", "/api/no-such"):
        recruiter.call("GET", path, 404)
    recruiter.call("PUT", "/api/jobs", 405)

    # An unhandled error (the route is the script's own, added before the first request).
    print("note: the traceback that follows is the deliberate 500", file=sys.stderr)
    recruiter.call("GET", "/api/_snapshot/boom", 500)

    recruiter.call("DELETE", f"/api/resumes/{bo_id}", 204)
    manager.call("GET", "/api/resumes", 200, query_string={"q": "ana", "per_page": 5})

    # A password change: a wrong current password, then the change (the session stays).
    change = {"current_password": WRONG_PASSWORD, "new_password": NEW_PASSWORD}
    browser.call("POST", "/api/auth/password", 422, json=change)
    change["current_password"] = PASSWORD
    browser.call("POST", "/api/auth/password", 204, json=change)

    # Sign out, then the old session is gone.
    browser.call("POST", "/api/auth/logout", 204)
    browser.call("GET", "/api/auth/me", 401)

    # A command outside any request: re-extract every stored resume.
    result = app.test_cli_runner().invoke(args=["resumes", "reparse", "--all"])
    if result.exit_code != 0:
        s.surprises.append(f"resumes reparse --all: exit {result.exit_code}")
        print(f"warning: reparse exited {result.exit_code}: {result.output}", file=sys.stderr)
    label_stored_rows(app, s)
    return s


def label_stored_rows(app: Any, session: Session) -> None:
    """Name the ids no response showed (the candidate of a bulk-uploaded resume)."""
    from sqlalchemy import select

    from talaro.extensions import db
    from talaro.models import Resume

    with app.app_context():
        for resume in db.session.scalars(select(Resume).order_by(Resume.filename)):
            session.label(resume.id, "resume", f"file-{resume.filename}")
            session.label(resume.candidate_id, "candidate", f"of-{resume.filename}")
        db.session.remove()


def add_failing_route(app: Any) -> None:
    def boom() -> None:
        raise RuntimeError("snapshot route exploded on purpose")

    app.add_url_rule("/api/_snapshot/boom", "snapshot_boom", boom)


# Reading and normalising --------------------------------------------------------------------


def any_value(value: dict[str, Any]) -> Any:
    """Decode an OTLP JSON AnyValue."""
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return value["boolValue"]
    if "arrayValue" in value:
        return [any_value(v) for v in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return {
            p["key"]: any_value(p.get("value", {})) for p in value["kvlistValue"].get("values", [])
        }
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def log_records(path: Path) -> Iterator[dict[str, Any]]:
    """The log records of one OTLP JSON Lines file, in file order."""
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        for resource_logs in json.loads(line).get("resourceLogs", []):
            for scope_logs in resource_logs.get("scopeLogs", []):
                yield from scope_logs.get("logRecords", [])


# Attributes that differ every run whatever their value: the placeholder says what they are.
VOLATILE_KEYS = {
    "process.pid": "<pid>",
    "process.owner": "<os-user>",
    "http.server.request.duration": "<duration>",
    "http.response.body.size": "<size>",
    "exception.stacktrace": "<stacktrace>",
    "talaro.session.id": "<session>",  # a pseudonym of the session row, new every run
}
VOLATILE_PREFIXES = {"talaro.audit.": "<audit>"}
VOLATILE_SUFFIXES = {
    ".duration": "<duration>",
    ".duration_s": "<duration>",
    "_ms": "<duration>",
    ".time": "<time>",
    ".timestamp": "<time>",
    ".pid": "<pid>",
}
HEX32 = re.compile(r"\b[0-9a-f]{32}\b")
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
ISO_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
LONG_HEX = re.compile(r"\b[0-9a-f]{40,}\b")


class Normaliser:
    def __init__(self, labels: dict[str, str], paths: dict[str, str]) -> None:
        self.labels = dict(labels)
        for email, _role in STAFF.values():
            self.labels.setdefault(keyed_hash(email), f"<hash:{email}>")
        for email in [*REGISTERED.values(), UNKNOWN_EMAIL]:
            self.labels.setdefault(keyed_hash(email), f"<hash:{email}>")
        # Longest first: a folder inside another is replaced as itself.
        self.paths = sorted(paths.items(), key=lambda item: -len(item[0]))

    def text(self, value: str) -> str:
        for path, name in self.paths:
            value = value.replace(path, name)
        value = UUID.sub("<uuid>", value)
        value = LONG_HEX.sub("<hex>", value)
        value = HEX32.sub(lambda m: self.labels.get(m.group(0), "<id>"), value)
        return ISO_TIME.sub(lambda m: m.group(0) if m.group(0).startswith(DAY) else "<time>", value)

    def value(self, key: str, value: Any) -> Any:
        if key in VOLATILE_KEYS:
            return VOLATILE_KEYS[key]
        for prefix, placeholder in VOLATILE_PREFIXES.items():
            if key.startswith(prefix):
                return placeholder
        for suffix, placeholder in VOLATILE_SUFFIXES.items():
            if key.endswith(suffix):
                return placeholder
        return self.plain(value)

    def plain(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.plain(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(k, v) for k, v in value.items()}
        return value

    def record(self, stream: str, raw: dict[str, Any]) -> dict[str, Any]:
        attributes = {
            pair["key"]: any_value(pair.get("value", {})) for pair in raw.get("attributes", [])
        }
        entry: dict[str, Any] = {
            "stream": stream,
            "event": raw.get("eventName", ""),
            "severity_text": raw.get("severityText", ""),
            "severity_number": raw.get("severityNumber", 0),
        }
        body = any_value(raw.get("body", {}))
        if body is not None and self.plain(body) == body:  # no id, time or path in it
            entry["body"] = body
        entry["has_trace_id"] = bool(raw.get("traceId"))
        entry["attributes"] = {k: self.value(k, v) for k, v in sorted(attributes.items())}
        return entry


def read_snapshot(folder: Path, normaliser: Normaliser) -> list[dict[str, Any]]:
    return [
        normaliser.record(stream, raw)
        for stream in STREAMS
        for raw in log_records(folder / f"{stream}.jsonl")
    ]


def take_snapshot(keep: Path | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """Run the session on a fresh app and return its normalised records (and surprises)."""
    from talaro import create_app, telemetry
    from talaro.extensions import db

    folder = Path(tempfile.mkdtemp(prefix="talaro-snapshot-"))
    try:
        app = create_app(snapshot_config(folder))
        add_failing_route(app)
        with app.app_context():
            db.create_all()
        try:
            session = run_session(app)
        finally:
            telemetry.shutdown(app)
            with app.app_context():
                db.engine.dispose()
        logs = folder / "logs"
        if keep is not None:
            shutil.copytree(logs, keep, dirs_exist_ok=True)
        paths = {str(folder.resolve()): "<tmp>", str(folder): "<tmp>"}
        paths[str(Path.cwd().resolve())] = "<cwd>"
        normaliser = Normaliser(session.labels, paths)
        return read_snapshot(logs, normaliser), session.surprises
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# Comparing ----------------------------------------------------------------------------------


def _key(entry: dict[str, Any]) -> tuple[Any, ...]:
    attrs = entry["attributes"]
    return (
        entry["event"],
        attrs.get("http.request.method"),
        attrs.get("http.route"),
        attrs.get("url.path"),
        attrs.get("event.outcome"),
    )


def _describe(entry: dict[str, Any]) -> str:
    attrs = entry["attributes"]
    parts = [entry["event"], entry["severity_text"], str(attrs.get("event.outcome", ""))]
    if "http.request.method" in attrs:
        parts.append(
            f"{attrs['http.request.method']} {attrs.get('url.path', attrs.get('http.route', ''))}"
        )
    if "http.response.status_code" in attrs:
        parts.append(str(attrs["http.response.status_code"]))
    if "reason" in attrs:
        parts.append(repr(attrs["reason"]))
    return " ".join(p for p in parts if p)


def _changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    lines = []
    for field in ("event", "severity_text", "severity_number", "body", "has_trace_id"):
        if old.get(field, "<absent>") != new.get(field, "<absent>"):
            lines.append(
                f"    {field}: {old.get(field, '<absent>')!r} -> {new.get(field, '<absent>')!r}"
            )
    before, after = old["attributes"], new["attributes"]
    for key in sorted(set(before) | set(after)):
        if key not in after:
            lines.append(f"    - {key}: {before[key]!r}")
        elif key not in before:
            lines.append(f"    + {key}: {after[key]!r}")
        elif before[key] != after[key]:
            lines.append(f"    ~ {key}: {before[key]!r} -> {after[key]!r}")
    return lines


def compare(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    """A readable per-record diff, stream by stream; empty when the snapshots are equal."""
    out: list[str] = []
    for stream in STREAMS:
        a = [e for e in old if e["stream"] == stream]
        b = [e for e in new if e["stream"] == stream]
        matcher = difflib.SequenceMatcher(
            a=[_key(e) for e in a], b=[_key(e) for e in b], autojunk=False
        )
        lines: list[str] = []
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                    changed = _changes(a[i], b[j])
                    if changed:
                        lines.append(f"  ~ #{i} -> #{j} {_describe(a[i])}")
                        lines.extend(changed)
                continue
            if op == "replace" and i2 - i1 == j2 - j1:
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                    lines.append(f"  ~ #{i} -> #{j} {_describe(a[i])}  =>  {_describe(b[j])}")
                    lines.extend(_changes(a[i], b[j]))
                continue
            lines.extend(f"  - #{i} {_describe(a[i])}" for i in range(i1, i2))
            lines.extend(f"  + #{j} {_describe(b[j])}" for j in range(j1, j2))
        if lines:
            out.append(f"{stream}: {len(a)} records before, {len(b)} after")
            out.extend(lines)
    return out


def summary(entries: list[dict[str, Any]]) -> str:
    from collections import Counter

    counts = Counter((e["stream"], e["event"]) for e in entries)
    events = {e["event"] for e in entries}
    per_stream = ", ".join(
        f"{s} {sum(n for (st, _), n in counts.items() if st == s)}" for s in STREAMS
    )
    return f"{len(entries)} records ({per_stream}), {len(events)} distinct events"


def missing_events(entries: list[dict[str, Any]]) -> list[str]:
    try:
        from talaro.telemetry.catalogue import CATALOGUE
    except ImportError:
        return []
    seen = {e["event"] for e in entries}
    return sorted(set(CATALOGUE) - seen)


def load(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")  # as the entry points do
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="write the snapshot (JSON) here")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="OTHER.json",
        help="diff against a saved snapshot; exit 1 on differences",
    )
    parser.add_argument(
        "--compare-files",
        nargs=2,
        type=Path,
        metavar=("OLD", "NEW"),
        help="diff two saved snapshots without running the session",
    )
    parser.add_argument(
        "--keep-logs", type=Path, metavar="DIR", help="copy the raw telemetry files here"
    )
    args = parser.parse_args(argv)

    if args.compare_files:
        old, new = (load(p) for p in args.compare_files)
    else:
        warnings.simplefilter("ignore", DeprecationWarning)
        new, surprises = take_snapshot(args.keep_logs)
        print(summary(new))
        missing = missing_events(new)
        if missing:
            print("catalogue events not covered: " + ", ".join(missing))
        if surprises:
            print(f"{len(surprises)} responses with an unexpected status (see warnings above)")
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(
                json.dumps(new, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
            )
            print(f"snapshot written to {args.out}")
        if not args.compare:
            return 0
        old = load(args.compare)
    diff = compare(old, new)
    if diff:
        print("\n".join(diff))
        changed = sum(1 for line in diff if re.match(r"  [-+~] #", line))
        print(f"DIFFERENT: {changed} records removed, added or changed")
        return 1
    print(f"same: {len(new)} records, record for record")
    return 0


if __name__ == "__main__":
    sys.exit(main())

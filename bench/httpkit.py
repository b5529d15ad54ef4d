"""A small keep-alive HTTP client for the benchmark (standard library only).

Shared by the load generator (`load.py`) and the orchestrator
(`telemetry_overhead.py`, for seeding). Only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

LOCALHOST = "127.0.0.1"
PASSWORD = "correct horse battery staple"  # tests/factories.py uses the same one


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """One keep-alive connection; a broken connection is reopened on the next request."""

    def __init__(self, port: int, timeout: float = 30.0, token: str | None = None) -> None:
        self.port, self.timeout, self.token = port, timeout, token
        self._conn: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> Response:
        """Send one request and read the whole response; raise OSError/HTTPException on
        a connection failure (the connection is then dropped, never retried)."""
        sent = dict(headers or {})
        bearer = token or self.token
        if bearer:
            sent["Authorization"] = f"Bearer {bearer}"
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=sent)
            reply = conn.getresponse()
            data = reply.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        return Response(reply.status, data, {k.lower(): v for k, v in reply.getheaders()})

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post_json(self, path: str, payload: Any, **kw: Any) -> Response:
        headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
        return self.request("POST", path, json.dumps(payload).encode(), headers, **kw)

    def post_file(self, path: str, filename: str, content: bytes, **kw: Any) -> Response:
        body, content_type = multipart({}, "file", filename, content)
        return self.request("POST", path, body, {"Content-Type": content_type}, **kw)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(LOCALHOST, self.port, timeout=self.timeout)
        return self._conn


def multipart(
    fields: dict[str, str], file_field: str, filename: str, content: bytes
) -> tuple[bytes, str]:
    """A multipart/form-data body with plain fields and one file; returns (body, type)."""
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{filename}"\r\nContent-Type: text/plain\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def resume_text(name: str, email: str, phone: str = "+1 415 555 0134", skills: str = "") -> str:
    """A plain-text resume, the same shape as `tests.factories.resume_text` (copied so the
    load generator stays standard-library only and never imports the app)."""
    return (
        f"{name}\n{email} | {phone}\nSan Francisco, CA\n\n"
        f"Experience\nSenior Engineer, Acme Corp\nJan 2018 - Present\n\n"
        f"Education\nBSc Computer Science, State University\n\n"
        f"Skills\n{skills or 'Python, SQL, Docker'}\n"
    )


def session_token(port: int, email: str, password: str, name: str) -> tuple[dict[str, Any], str]:
    """Sign in with JSON, then create an API token with the session cookie and CSRF
    header; returns (the user, the token secret)."""
    client = Client(port)
    try:
        login = client.post_json("/api/auth/login", {"email": email, "password": password})
        expect(login, 200, "login")
        cookie = login.headers["set-cookie"].split(";", 1)[0]
        headers = {"Cookie": cookie, "X-CSRFToken": login.json()["csrf_token"]}
        created = client.post_json("/api/auth/tokens", {"name": name}, headers=headers)
        expect(created, 201, "token")
        return login.json()["user"], created.json()["token"]
    finally:
        client.close()


def expect(response: Response, status: int, what: str) -> None:
    if response.status != status:
        raise RuntimeError(f"{what}: HTTP {response.status}: {response.body[:300]!r}")

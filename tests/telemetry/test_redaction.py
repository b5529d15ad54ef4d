"""The one masking step (talaro/telemetry/redaction.py): what it replaces, what it leaves
alone, and that spans get it on their name, attributes, events and status."""

from __future__ import annotations

import secrets

import pytest
from flask import Flask
from itsdangerous import URLSafeTimedSerializer
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from talaro.telemetry.redaction import REDACTED, SpanMasking, redact

TOKEN = "tlr_" + secrets.token_urlsafe(32)


def session_cookie() -> str:
    app = Flask(__name__)
    app.secret_key = "test"
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return serializer.dumps({"_user_id": "u1", "csrf_token": secrets.token_hex(20)})


def csrf_token() -> str:  # as Flask-WTF signs it
    return URLSafeTimedSerializer("test", salt="wtf-csrf-token").dumps(secrets.token_hex(20))


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"/api/resumes/{TOKEN}", TOKEN),
        (f"/api/resumes/x{TOKEN}/file", TOKEN.removeprefix("tlr_")),
        (f"Authorization: Bearer {TOKEN}", TOKEN),
        ("GET /x?h=Bearer%20abcdefghijkl", "abcdefghijkl"),
        (f"cookie session={session_cookie()}", "eyJ"),
        (f"/no/such/page/{session_cookie()}", "eyJ"),
        (f"/api/resumes/{csrf_token()}", "."),
        ("X-CSRFToken: abcdef0123456789", "abcdef0123456789"),
        ("connect to postgresql://talaro:hunter2@db/talaro failed", "hunter2"),
        ("DETAIL:  Key (email)=(zofia@example.org) already exists.", "zofia"),
        ("DETAIL:  Failing row contains (c1, Zofia, null).", "Zofia"),
        ("[SQL: UPDATE x]\n[parameters: {'phone': '+4822123'}]\n(Background", "+4822123"),
        ('invalid input syntax for type uuid: "zofia@example.org"', "zofia"),
    ],
)
def test_secrets_are_replaced(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert REDACTED in cleaned
    assert secret not in cleaned.replace(REDACTED, "")


@pytest.mark.parametrize(
    "text",
    [
        "psycopg.errors.StringDataRightTruncation",
        "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/119.0",
        "Invalid or missing fields: csrf_token, password",
        "/api/resumes/0123456789abcdef0123456789abcdef",
        "value too long for type character varying(32)",
        "2026-11-26T10:00:00Z",
    ],
)
def test_ordinary_values_are_left_alone(text: str) -> None:
    assert redact(text) is text or redact(text) == text


def test_a_cut_signed_value_is_still_replaced() -> None:
    cookie = session_cookie()
    cut = cookie[: cookie.rindex(".") + 5]  # the length limit cut the signature short
    assert redact(f"path /x/{cut}") == f"path /x/{REDACTED}"


def test_spans_are_masked_name_attributes_events_and_status() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SpanMasking([SimpleSpanProcessor(exporter)], limit=64))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span(
        f"GET /x/{TOKEN}", attributes={"url.path": f"/x/{TOKEN}"}
    ) as span:
        span.set_attribute("user_agent.original", "u" * 500)
        span.record_exception(RuntimeError(f"bad Bearer {TOKEN}"))
        span.set_status(Status(StatusCode.ERROR, "DETAIL:  Key (email)=(zofia@example.org)"))
    with tracer.start_as_current_span("GET /fine", attributes={"url.path": "/fine"}):
        pass
    masked, fine = exporter.get_finished_spans()
    assert masked.name == f"GET /x/{REDACTED}"
    assert masked.attributes["url.path"] == f"/x/{REDACTED}"
    assert len(masked.attributes["user_agent.original"]) == 64
    (event,) = masked.events
    assert (
        TOKEN not in str(dict(event.attributes))
        and REDACTED in event.attributes["exception.message"]
    )
    assert masked.status.description == f"DETAIL:  {REDACTED}"
    assert masked.context == span.get_span_context()
    assert fine.attributes["url.path"] == "/fine"

"""The event catalogue: every event's name, stream, severity, ECS categorisation and
the attributes it must carry, on one screen.

Security events use the names of the OWASP Application Logging Vocabulary; the
categorisation follows ECS (`event.category`, `event.type`). `required` lists the
event-specific attributes on top of the ones every record carries (see context.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry._logs import SeverityNumber

STREAM_ATTRIBUTE = "talaro.stream"
SECURITY = "security"
APPLICATION = "application"
BOTH = (SECURITY, APPLICATION)

INFO = SeverityNumber.INFO
WARN = SeverityNumber.WARN
ERROR = SeverityNumber.ERROR
CRITICAL = SeverityNumber.FATAL  # OpenTelemetry's highest level; OWASP calls it CRITICAL

SEVERITY_TEXT = {INFO: "INFO", WARN: "WARN", ERROR: "ERROR", CRITICAL: "CRITICAL"}


@dataclass(frozen=True)
class EventSpec:
    name: str
    streams: tuple[str, ...]
    severity: SeverityNumber
    category: tuple[str, ...]
    type: tuple[str, ...]
    required: tuple[str, ...] = ()
    failure_severity: SeverityNumber | None = None  # when the outcome is a failure


def _security(
    name: str,
    severity: SeverityNumber,
    category: tuple[str, ...],
    type_: tuple[str, ...],
    *required: str,
) -> EventSpec:
    return EventSpec(name, (SECURITY,), severity, category, type_, required)


def _app(
    name: str,
    category: tuple[str, ...],
    type_: tuple[str, ...],
    *required: str,
    failure: SeverityNumber = WARN,
) -> EventSpec:
    return EventSpec(name, (APPLICATION,), INFO, category, type_, required, failure)


AUTHN = ("authentication",)
IAM = ("iam",)
IDS = ("intrusion_detection",)
WEB = ("web",)
FILE = ("file",)
DATA = ("database",)

EVENTS: tuple[EventSpec, ...] = (
    # Security stream ---------------------------------------------------------
    _security("user_created", WARN, IAM, ("user", "creation"), "target.user.id", "talaro.via"),
    _security("authz_change", WARN, IAM, ("user", "change"), "target.user.id"),
    _security("authn_login_success", INFO, AUTHN, ("start",)),
    _security("authn_login_successafterfail", INFO, AUTHN, ("start",), "talaro.login.failures"),
    _security("authn_login_fail", WARN, AUTHN, ("start",), "user.hash", "reason"),
    _security("authn_login_fail_max", WARN, AUTHN + IDS, ("info",), "security_rule.name"),
    _security("authn_login_lock", WARN, AUTHN + IAM, ("user", "change"), "reason"),
    _security("session_expired", INFO, AUTHN + ("session",), ("end",), "reason"),
    _security("authn_token_created", INFO, AUTHN + IAM, ("creation",), "talaro.token.id"),
    _security("authn_token_revoked", INFO, AUTHN + IAM, ("deletion",), "talaro.token.id"),
    _security("authn_token_reuse", CRITICAL, AUTHN + IDS, ("denied",), "talaro.token.id"),
    _security("authz_fail", CRITICAL, IAM + IDS, ("denied",), "talaro.action", "reason"),
    _security("authn_required", WARN, AUTHN, ("denied",), "reason"),
    _security("upload_validation", WARN, FILE + IDS, ("denied",), "file.name", "reason"),
    _security("input_validation_fail", WARN, WEB, ("error",), "reason"),
    _security("excess_rate_limit_exceeded", WARN, WEB + IDS, ("denied",), "reason"),
    _security("malicious_excess_404", WARN, WEB + IDS, ("info",), "security_rule.name"),
    _security("malicious_direct_reference", CRITICAL, WEB + IDS, ("denied",), "security_rule.name"),
    # Both streams: each file shows where its trail starts and stops -----------
    EventSpec("sys_startup", BOTH, WARN, ("process",), ("start",), ("process.pid",)),
    EventSpec("sys_shutdown", BOTH, WARN, ("process",), ("end",), ("process.pid",)),
    # Application stream --------------------------------------------------------
    _app("resume_upload", FILE, ("creation",), "file.name", "file.size"),
    _app(
        "resume_bulk_upload",
        FILE,
        ("creation",),
        "talaro.file_count",
        "talaro.success_count",
        "talaro.failed_count",
    ),
    _app("resume_text_extract", FILE, ("info",), "file.mime_type", failure=ERROR),
    _app("resume_list", DATA, ("access",), "talaro.result_count"),
    _app("resume_view", DATA, ("access",), "resume.id"),
    _app("resume_update", DATA, ("change",), "resume.id"),
    _app("resume_delete", DATA, ("deletion",), "resume.id"),
    _app(
        "resume_reparse",
        DATA,
        ("change",),
        "talaro.resume_count",
        "talaro.updated_count",
        "talaro.failed_count",
    ),
    _app("interview_schedule", DATA, ("creation",), "candidate.id"),
    _app("interview_update", DATA, ("change",), "interview.id"),
    _app("interview_feedback", DATA, ("change",), "interview.id"),
    _app("interview_list", DATA, ("access",), "talaro.result_count"),
    _app("interview_view", DATA, ("access",), "interview.id"),
    _app("interview_delete", DATA, ("deletion",), "interview.id"),
    _app("job_create", DATA, ("creation",)),
    _app("job_update", DATA, ("change",), "job.id"),
    _app(
        "http_request",
        WEB,
        ("access",),
        "http.response.status_code",
        "http.server.request.duration",
        "url.path",
    ),
    _app(
        "error_unhandled",
        WEB,
        ("error",),
        "exception.type",
        "exception.message",
        "exception.stacktrace",
        failure=ERROR,
    ),
)

CATALOGUE: dict[str, EventSpec] = {spec.name: spec for spec in EVENTS}

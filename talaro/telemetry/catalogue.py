"""The event catalogue: every event's name, stream, severity, ECS categorisation, the
attributes it must carry and the metric it counts in, on one screen.

Security events use the names of the OWASP Application Logging Vocabulary; the
categorisation follows ECS (`event.category`, `event.type`). `required` lists the
event-specific attributes of a success on top of the ones every record carries (see
context.py); a failure must carry its `reason`. Both are checked at emit time when
TALARO_TELEMETRY_CHECK_EVENTS is on (it is when the app is testing).

Code emits the constants below (`emit(JOB_CREATE, ...)`), so a misspelt event fails at
import; an event not registered here cannot be emitted. Adding an event: one line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from opentelemetry._logs import SeverityNumber

STREAM_ATTRIBUTE = "talaro.stream"
SECURITY = "security"
APPLICATION = "application"
BOTH = (SECURITY, APPLICATION)

# Severity says how soon a person should look, not OWASP's example level (README, "Severity"):
# one denial or failure is WARN, a detection rule firing or a lock ERROR, starts, stops and
# account administration INFO (tests/telemetry/test_severity.py holds every event to it).
INFO = SeverityNumber.INFO
WARN = SeverityNumber.WARN
ERROR = SeverityNumber.ERROR
CRITICAL = SeverityNumber.FATAL  # OpenTelemetry's highest level; OWASP calls it CRITICAL

SEVERITY_TEXT = {INFO: "INFO", WARN: "WARN", ERROR: "ERROR", CRITICAL: "CRITICAL"}
SUCCESS, FAILURE = "success", "failure"


@dataclass(frozen=True)
class Counted:
    """A counter an event adds one to (metrics.py creates it once per process)."""

    instrument: str
    unit: str
    description: str
    by: Literal["event.name", "event.outcome"] | None = None  # the split, if any
    outcomes: tuple[str, ...] = (SUCCESS, FAILURE)  # which outcomes count


SECURITY_EVENTS = Counted(
    "talaro.security.events", "{event}", "Security events by event.name", by="event.name"
)
RESUMES_UPLOADED = Counted(
    "talaro.resumes.uploaded",
    "{resume}",
    "Resume files processed by upload, by event.outcome",
    by="event.outcome",
)
CONNECTIONS_TIMED_OUT = Counted(
    "talaro.http.connections.timed_out",
    "{connection}",
    "Connections the server closed before they sent a complete request",
)
INTERVIEWS_SCHEDULED = Counted(
    "talaro.interviews.scheduled",
    "{interview}",
    "Interviews scheduled successfully",
    outcomes=(SUCCESS,),
)


@dataclass(frozen=True)
class EventSpec:
    name: str
    streams: tuple[str, ...]
    severity: SeverityNumber
    category: tuple[str, ...]
    type: tuple[str, ...]
    required: tuple[str, ...] = ()
    failure_severity: SeverityNumber | None = None  # when the outcome is a failure
    counted: tuple[Counted, ...] = ()
    failure_required: tuple[str, ...] = ("reason",)  # what a failure record must carry

    @property
    def audited(self) -> bool:
        """Written to the security stream, so chained by the audit trail (audit.py)."""
        return SECURITY in self.streams


CATALOGUE: dict[str, EventSpec] = {}


class UnknownEvent(LookupError):
    """An event that is not in the catalogue was emitted."""


def register(spec: EventSpec) -> EventSpec:
    """Add `spec` to the catalogue; a name can be registered once."""
    if spec.name in CATALOGUE:
        raise ValueError(f"event {spec.name!r} is already in the catalogue")
    CATALOGUE[spec.name] = spec
    return spec


def lookup(spec: EventSpec | str) -> EventSpec:
    """The registered spec for `spec` (or a name); UnknownEvent for anything else."""
    name = spec if isinstance(spec, str) else spec.name
    found = CATALOGUE.get(name)
    if found is None or (not isinstance(spec, str) and found is not spec):
        raise UnknownEvent(f"{name!r} is not in the event catalogue (catalogue.py)")
    return found


def _security(
    name: str,
    severity: SeverityNumber,
    category: tuple[str, ...],
    type_: tuple[str, ...],
    *required: str,
) -> EventSpec:
    return register(
        EventSpec(name, (SECURITY,), severity, category, type_, required, None, (SECURITY_EVENTS,))
    )


def _app(
    name: str,
    category: tuple[str, ...],
    type_: tuple[str, ...],
    *required: str,
    failure: SeverityNumber = WARN,
    counted: tuple[Counted, ...] = (),
) -> EventSpec:
    return register(
        EventSpec(name, (APPLICATION,), INFO, category, type_, required, failure, counted)
    )


def _both(name: str, type_: tuple[str, ...], *required: str) -> EventSpec:
    """Written to both streams: each file shows where its trail starts and stops."""
    return register(EventSpec(name, BOTH, INFO, ("process",), type_, required))


AUTHN = ("authentication",)
IAM = ("iam",)
IDS = ("intrusion_detection",)
WEB = ("web",)
FILE = ("file",)
DATA = ("database",)
CONFIG = ("configuration",)

# Security stream -------------------------------------------------------------------
USER_CREATED = _security(
    "user_created", INFO, IAM, ("user", "creation"), "target.user.id", "talaro.via"
)
AUTHZ_CHANGE = _security("authz_change", INFO, IAM, ("user", "change"), "target.user.id")
# An operator turned a `user.hash` back into its account (`flask users which`).
USER_HASH_RESOLVE = _security(
    "user_hash_resolve", INFO, IAM, ("user", "access"), "target.user.hash", "target.user.id"
)
USER_CREATE_EXISTING = _security(
    "user_create_existing", WARN, IAM + IDS, ("user", "denied"), "user.hash"
)
AUTHN_PASSWORD_CHANGE = _security(
    "authn_password_change", INFO, AUTHN + IAM, ("user", "change"), "talaro.session.ended_count"
)
AUTHN_PASSWORD_CHANGE_FAIL = _security(
    "authn_password_change_fail", WARN, AUTHN + IAM, ("user", "change"), "reason"
)
AUTHN_PASSWORD_RESET = _security(
    "authn_password_reset", INFO, AUTHN + IAM, ("user", "change"), "target.user.id", "talaro.via"
)
AUTHN_LOGIN_SUCCESS = _security("authn_login_success", INFO, AUTHN, ("start",))
AUTHN_LOGIN_SUCCESSAFTERFAIL = _security(
    "authn_login_successafterfail", INFO, AUTHN, ("start",), "talaro.login.failures"
)
AUTHN_LOGIN_FAIL = _security("authn_login_fail", WARN, AUTHN, ("start",), "user.hash", "reason")
AUTHN_LOGIN_FAIL_MAX = _security(
    "authn_login_fail_max", ERROR, AUTHN + IDS, ("info",), "security_rule.name"
)
AUTHN_LOGIN_LOCK = _security("authn_login_lock", ERROR, AUTHN + IAM, ("user", "change"), "reason")
SESSION_EXPIRED = _security("session_expired", INFO, AUTHN + ("session",), ("end",), "reason")
SESSION_USE_AFTER_EXPIRE = _security(
    "session_use_after_expire", WARN, AUTHN + ("session",), ("denied",), "target.user.id"
)
AUTHN_TOKEN_CREATED = _security(
    "authn_token_created", INFO, AUTHN + IAM, ("creation",), "talaro.token.id"
)
AUTHN_TOKEN_REVOKED = _security(
    "authn_token_revoked", INFO, AUTHN + IAM, ("deletion",), "talaro.token.id"
)
AUTHN_TOKEN_REUSE = _security(
    "authn_token_reuse", ERROR, AUTHN + IDS, ("denied",), "talaro.token.id"
)
AUTHN_TOKEN_FAIL_MAX = _security(
    "authn_token_fail_max", ERROR, AUTHN + IDS, ("info",), "security_rule.name"
)
AUTHZ_FAIL = _security("authz_fail", WARN, IAM + IDS, ("denied",), "talaro.action", "reason")
AUTHN_REQUIRED = _security("authn_required", WARN, AUTHN, ("denied",), "reason")
UPLOAD_VALIDATION = _security(
    "upload_validation", WARN, FILE + IDS, ("denied",), "talaro.check", "reason"
)
INPUT_VALIDATION_FAIL = _security("input_validation_fail", WARN, WEB, ("error",), "reason")
SESSION_CSRF_FAIL = _security("session_csrf_fail", WARN, WEB + IDS, ("denied",), "reason")
EXCESS_RATE_LIMIT_EXCEEDED = _security(
    "excess_rate_limit_exceeded", WARN, WEB + IDS, ("denied",), "reason"
)
MALICIOUS_EXCESS_404 = _security(
    "malicious_excess_404", ERROR, WEB + IDS, ("info",), "security_rule.name"
)
MALICIOUS_DIRECT_REFERENCE = _security(
    "malicious_direct_reference", ERROR, WEB + IDS, ("denied",), "security_rule.name"
)
MALICIOUS_SLOW_CONNECTIONS = _security(
    "malicious_slow_connections", ERROR, WEB + IDS, ("info",), "security_rule.name"
)
MALICIOUS_LOG_FLOOD = _security(
    "malicious_log_flood", ERROR, WEB + IDS, ("denied",), "security_rule.name", "talaro.rule.bytes"
)
# Rotated security files removed by retention (`audit prune`): which, and the days kept.
SENSITIVE_DELETE = _security("sensitive_delete", INFO, FILE, ("deletion",), "talaro.audit.files")
# Shared state (Redis) lost and back: detection and limits count per worker meanwhile.
SYS_MONITOR_DISABLED = _security(
    "sys_monitor_disabled", ERROR, CONFIG, ("change",), "talaro.monitor", "reason"
)
SYS_MONITOR_ENABLED = _security("sys_monitor_enabled", INFO, CONFIG, ("change",), "talaro.monitor")

# Both streams ----------------------------------------------------------------------
SYS_STARTUP = _both("sys_startup", ("start",), "process.pid")
SYS_SHUTDOWN = _both("sys_shutdown", ("end",), "process.pid")

# Application stream ----------------------------------------------------------------
RESUME_UPLOAD = _app(
    "resume_upload",
    FILE,
    ("creation",),
    "file.size",
    "file.hash.sha256",
    "resume.id",
    counted=(RESUMES_UPLOADED,),
)
RESUME_BULK_UPLOAD = _app(
    "resume_bulk_upload",
    FILE,
    ("creation",),
    "talaro.file_count",
    "talaro.success_count",
    "talaro.failed_count",
)
RESUME_TEXT_EXTRACT = _app("resume_text_extract", FILE, ("info",), "file.mime_type", failure=ERROR)
RESUME_LIST = _app("resume_list", DATA, ("access",), "talaro.result_count")
RESUME_VIEW = _app("resume_view", DATA, ("access",), "resume.id")
RESUME_UPDATE = _app("resume_update", DATA, ("change",), "resume.id")
RESUME_DELETE = _app("resume_delete", DATA, ("deletion",), "resume.id")
RESUME_REPARSE = _app(
    "resume_reparse",
    DATA,
    ("change",),
    "talaro.resume_count",
    "talaro.updated_count",
    "talaro.failed_count",
)
INTERVIEW_SCHEDULE = _app(
    "interview_schedule", DATA, ("creation",), "candidate.id", counted=(INTERVIEWS_SCHEDULED,)
)
INTERVIEW_UPDATE = _app("interview_update", DATA, ("change",), "interview.id")
INTERVIEW_FEEDBACK = _app("interview_feedback", DATA, ("change",), "interview.id")
INTERVIEW_FEEDBACK_VERSIONS = _app("interview_feedback_versions", DATA, ("access",), "interview.id")
INTERVIEW_LIST = _app("interview_list", DATA, ("access",), "talaro.result_count")
INTERVIEW_VIEW = _app("interview_view", DATA, ("access",), "interview.id")
INTERVIEW_DELETE = _app("interview_delete", DATA, ("deletion",), "interview.id")
JOB_CREATE = _app("job_create", DATA, ("creation",))
JOB_UPDATE = _app("job_update", DATA, ("change",), "job.id")
HTTP_REQUEST = register(
    EventSpec(
        "http_request",
        (APPLICATION,),
        INFO,
        WEB,
        ("access",),
        ("http.response.status_code", "http.server.request.duration", "url.path"),
        WARN,  # 4xx; 5xx are emitted as ERROR
        failure_required=("http.response.status_code", "url.path"),
    )
)
ERROR_UNHANDLED = _app(
    "error_unhandled",
    WEB,
    ("error",),
    "exception.type",
    "exception.message",
    "exception.stacktrace",
    failure=ERROR,
)
# The server closed a connection that sent nothing, or part of a request, within its
# keep-alive timeout (gunicorn.conf.py): slow or idle clients, never a worker held.
HTTP_CONNECTION_TIMEOUT = _app(
    "http_connection_timeout",
    WEB,
    ("connection", "end"),
    "client.address",
    "talaro.connection.state",
    counted=(CONNECTIONS_TIMED_OUT,),
)
# The database could not be reached or dropped the connection: answered 503, not a 500.
DATABASE_UNAVAILABLE = _app(
    "database_unavailable", DATA, ("error",), "exception.type", "exception.message", failure=ERROR
)

EVENTS: tuple[EventSpec, ...] = tuple(CATALOGUE.values())

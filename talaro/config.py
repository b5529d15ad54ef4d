"""Configuration from environment variables, with safe defaults.

`create_app(config)` layers a mapping over these values, so tests never have to
switch modes through the environment.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
DEFAULT_MAX_BULK_FILES = 100


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):  # Linux: the CPUs this process may run on
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _bool_env(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment() -> dict[str, Any]:
    """Settings read from the process environment (`TALARO_*`, `DATABASE_URL`, `SECRET_KEY`)."""
    max_file = _int_env("TALARO_MAX_FILE_SIZE", DEFAULT_MAX_FILE_SIZE)
    max_files = _int_env("TALARO_MAX_BULK_FILES", DEFAULT_MAX_BULK_FILES)
    settings: dict[str, Any] = {
        "TALARO_MAX_FILE_SIZE": max_file,
        "TALARO_MAX_BULK_FILES": max_files,
        "TALARO_MAX_PAGES": _int_env("TALARO_MAX_PAGES", 20),
        "TALARO_MAX_BULK_BYTES": _int_env("TALARO_MAX_BULK_BYTES", 100 * 1024 * 1024),
        # Extraction runs in worker processes, each task bounded (talaro/extraction/sandbox.py);
        # 0 workers extracts in the web process without those bounds (debugging only).
        "TALARO_EXTRACT_WORKERS": _int_env("TALARO_EXTRACT_WORKERS", _usable_cpus()),
        "TALARO_EXTRACT_TIMEOUT_S": float(os.environ.get("TALARO_EXTRACT_TIMEOUT_S") or 10),
        "TALARO_EXTRACT_MEMORY_MB": _int_env("TALARO_EXTRACT_MEMORY_MB", 512),
        "TALARO_ALLOW_REGISTRATION": _bool_env("TALARO_ALLOW_REGISTRATION", True),
        "TALARO_PHONE_REGION": os.environ.get("TALARO_PHONE_REGION", "US"),
        # The whole request may carry a full bulk upload plus form overhead.
        "MAX_CONTENT_LENGTH": _int_env(
            "TALARO_MAX_REQUEST_SIZE", max_file * min(max_files, 20) + 1024 * 1024
        ),
        # Served over HTTPS: Secure cookies and HSTS (talaro/web_security.py).
        "TALARO_SECURE_COOKIES": _bool_env("TALARO_SECURE_COOKIES", False),
        "TALARO_HSTS_MAX_AGE": _int_env("TALARO_HSTS_MAX_AGE", 365 * 24 * 3600),
        "SESSION_COOKIE_SECURE": _bool_env("TALARO_SECURE_COOKIES", False),
        "REMEMBER_COOKIE_SECURE": _bool_env("TALARO_SECURE_COOKIES", False),
        # A database error's text must not carry the statement's values (candidate data,
        # token hashes); telemetry/redaction.py also masks what PostgreSQL quotes itself.
        # pool_pre_ping: a pooled connection the server dropped (restart, failover) is
        # replaced at checkout instead of failing the request that drew it.
        "SQLALCHEMY_ENGINE_OPTIONS": {"hide_parameters": True, "pool_pre_ping": True},
    }
    settings.update(telemetry_from_environment())
    settings.update(security_from_environment())
    settings.update(accounts_from_environment())
    if os.environ.get("SECRET_KEY"):
        settings["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if os.environ.get("DATABASE_URL"):
        settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(os.environ["DATABASE_URL"])
    return settings


def telemetry_from_environment() -> dict[str, Any]:
    """Telemetry settings: the standard OTEL_* variables plus Talaro's own."""
    env = os.environ.get
    settings: dict[str, Any] = {
        "TALARO_TELEMETRY_ENABLED": not _bool_env("OTEL_SDK_DISABLED", False),
        "TALARO_ENVIRONMENT": env("TALARO_ENV", "development"),
        "TALARO_TELEMETRY_DIR": env("TALARO_TELEMETRY_DIR", "logs"),
        "TALARO_TELEMETRY_MAX_BYTES": _int_env("TALARO_TELEMETRY_MAX_BYTES", 50 * 1024 * 1024),
        "TALARO_TELEMETRY_BACKUPS": _int_env("TALARO_TELEMETRY_BACKUPS", 5),
        # The security stream is never rotated away by count: only retention removes it.
        "TALARO_SECURITY_RETENTION_DAYS": _int_env("TALARO_SECURITY_RETENTION_DAYS", 0),
        "TALARO_SECURITY_FSYNC": _bool_env("TALARO_SECURITY_FSYNC", False),
        "TALARO_AUDIT_CHECKPOINT_RECORDS": _int_env("TALARO_AUDIT_CHECKPOINT_RECORDS", 100),
        "TALARO_AUDIT_CHECKPOINT_SECONDS": float(env("TALARO_AUDIT_CHECKPOINT_SECONDS", "10")),
        # auto: files unless an OTLP endpoint is set; always: files as well; never.
        "TALARO_TELEMETRY_FILES": env("TALARO_TELEMETRY_FILES", "auto"),
        "TALARO_TELEMETRY_USER_IDENTITY": env("TALARO_TELEMETRY_USER_IDENTITY", "email"),
        "TALARO_TELEMETRY_EXCLUDED_PATHS": env(
            "TALARO_TELEMETRY_EXCLUDED_PATHS", "/healthz$,/readyz$,/static/"
        ),
        "TALARO_TELEMETRY_DB_SPANS": _bool_env("TALARO_TELEMETRY_DB_SPANS", True),
        # A span only for a statement that took at least this long (or failed); 0: all.
        # The server span counts every statement either way (telemetry/database.py). 1 ms:
        # a span per statement was 40 % of telemetry's instructions (BENCHMARKS.md, #14).
        "TALARO_TELEMETRY_DB_SPAN_MIN_MS": float(env("TALARO_TELEMETRY_DB_SPAN_MIN_MS", "1")),
        "TALARO_TELEMETRY_QUEUE_SIZE": _int_env("OTEL_BLRP_MAX_QUEUE_SIZE", 2048),
        "TALARO_METRIC_EXPORT_INTERVAL_MS": _int_env("OTEL_METRIC_EXPORT_INTERVAL", 60_000),
        "TALARO_TELEMETRY_SHUTDOWN_TIMEOUT": float(env("TALARO_TELEMETRY_SHUTDOWN_TIMEOUT", "5")),
        # No service without an audit trail: security records that cannot be written make
        # /readyz answer 503 (requests still succeed). Off: /readyz says `degraded`, 200.
        "TALARO_REQUIRE_AUDIT_TRAIL": _bool_env("TALARO_REQUIRE_AUDIT_TRAIL", False),
        # Where the workers of this host share their telemetry counters (telemetry/host.py);
        # unset: a folder in /dev/shm named after TALARO_TELEMETRY_DIR.
        "TALARO_TELEMETRY_HEALTH_DIR": env("TALARO_TELEMETRY_HEALTH_DIR") or None,
        "TALARO_TRUSTED_PROXIES": _int_env("TALARO_TRUSTED_PROXIES", 0),
        # OpenTelemetry's attribute limits (LogRecordLimits, SpanLimits), with our defaults:
        # characters per value (body and span status too) and attributes per record or span.
        "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": _int_env("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", 2048),
        "OTEL_ATTRIBUTE_COUNT_LIMIT": _int_env("OTEL_ATTRIBUTE_COUNT_LIMIT", 64),
        "OTEL_EXPORTER_OTLP_PROTOCOL": env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        # The security events page: the folder it reads (a collector's output folder; unset:
        # TALARO_TELEMETRY_DIR), and the trace viewer its trace ids link to (Jaeger's UI).
        "TALARO_SECURITY_EVENTS_DIR": env("TALARO_SECURITY_EVENTS_DIR") or None,
        "TALARO_TRACE_VIEWER_URL": env("TALARO_TRACE_VIEWER_URL") or None,
    }
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "TALARO_TELEMETRY_HASH_KEY", "TALARO_AUDIT_KEY"):
        if env(name):
            settings[name] = env(name)
    if env("TALARO_TELEMETRY_CHECK_EVENTS"):  # unset: on when the app is testing
        settings["TALARO_TELEMETRY_CHECK_EVENTS"] = _bool_env(
            "TALARO_TELEMETRY_CHECK_EVENTS", False
        )
    return settings


def security_from_environment() -> dict[str, Any]:
    """Rate limits, detection thresholds (count within window seconds) and shared state.

    Rate limits use Flask-Limiter's notation ("10 per minute; 100 per hour")."""
    env = os.environ.get
    return {
        # Unset: counters and limits live in the process; set: shared by every worker.
        "TALARO_REDIS_URL": env("TALARO_REDIS_URL") or None,
        "TALARO_REDIS_PREFIX": env("TALARO_REDIS_PREFIX", "talaro:"),
        # Worker processes serving this host (gunicorn.conf.py reads the same variable):
        # without Redis each enforces its share of a rate limit (limits.py).
        "TALARO_WORKERS": max(1, _int_env("TALARO_WORKERS", _int_env("WEB_CONCURRENCY", 1))),
        "TALARO_RATELIMIT_ENABLED": _bool_env("TALARO_RATELIMIT_ENABLED", True),
        "TALARO_RATELIMIT_SIGNIN": env("TALARO_RATELIMIT_SIGNIN", "10 per minute; 100 per hour"),
        "TALARO_RATELIMIT_REGISTER": env("TALARO_RATELIMIT_REGISTER", "10 per hour"),
        "TALARO_RATELIMIT_TOKENS": env("TALARO_RATELIMIT_TOKENS", "20 per hour"),
        "TALARO_RATELIMIT_UPLOAD": env("TALARO_RATELIMIT_UPLOAD", "120 per minute"),
        "TALARO_RATELIMIT_BULK_UPLOAD": env("TALARO_RATELIMIT_BULK_UPLOAD", "10 per minute"),
        "TALARO_DETECT_ACCOUNT_FAILURES": _int_env("TALARO_DETECT_ACCOUNT_FAILURES", 5),
        "TALARO_DETECT_ACCOUNT_WINDOW": _int_env("TALARO_DETECT_ACCOUNT_WINDOW", 900),
        "TALARO_LOCK_SECONDS": _int_env("TALARO_LOCK_SECONDS", 900),
        "TALARO_DETECT_SUCCESS_AFTER_FAILURES": _int_env("TALARO_DETECT_SUCCESS_AFTER_FAILURES", 1),
        "TALARO_DETECT_STUFFING_ACCOUNTS": _int_env("TALARO_DETECT_STUFFING_ACCOUNTS", 10),
        "TALARO_DETECT_STUFFING_WINDOW": _int_env("TALARO_DETECT_STUFFING_WINDOW", 600),
        "TALARO_DETECT_SERVICE_MIN_FAILURES": _int_env("TALARO_DETECT_SERVICE_MIN_FAILURES", 50),
        "TALARO_DETECT_SERVICE_FACTOR": float(env("TALARO_DETECT_SERVICE_FACTOR", "5")),
        "TALARO_DETECT_SERVICE_WINDOW": _int_env("TALARO_DETECT_SERVICE_WINDOW", 60),
        "TALARO_DETECT_SERVICE_BASELINE": _int_env("TALARO_DETECT_SERVICE_BASELINE", 60),
        "TALARO_DETECT_REGISTRATIONS": _int_env("TALARO_DETECT_REGISTRATIONS", 5),
        "TALARO_DETECT_REGISTRATIONS_WINDOW": _int_env("TALARO_DETECT_REGISTRATIONS_WINDOW", 3600),
        "TALARO_DETECT_404": _int_env("TALARO_DETECT_404", 20),
        "TALARO_DETECT_404_WINDOW": _int_env("TALARO_DETECT_404_WINDOW", 60),
        "TALARO_DETECT_403": _int_env("TALARO_DETECT_403", 5),
        "TALARO_DETECT_403_WINDOW": _int_env("TALARO_DETECT_403_WINDOW", 300),
        # Connections from one address closed before a complete request (slow or idle).
        "TALARO_DETECT_SLOW_CONNECTIONS": _int_env("TALARO_DETECT_SLOW_CONNECTIONS", 20),
        "TALARO_DETECT_SLOW_CONNECTIONS_WINDOW": _int_env(
            "TALARO_DETECT_SLOW_CONNECTIONS_WINDOW", 60
        ),
        # Security records (or their bytes) one source may cause per window before its
        # routine ones are counted instead of written (detection.py, malicious_log_flood).
        "TALARO_DETECT_FLOOD_RECORDS": _int_env("TALARO_DETECT_FLOOD_RECORDS", 300),
        "TALARO_DETECT_FLOOD_BYTES": _int_env("TALARO_DETECT_FLOOD_BYTES", 1024 * 1024),
        "TALARO_DETECT_FLOOD_WINDOW": _int_env("TALARO_DETECT_FLOOD_WINDOW", 60),
    }


def accounts_from_environment() -> dict[str, Any]:
    """Session lifetimes, and the size and depth limits of request bodies."""
    return {
        # A session ends after this long without a request, and this long after sign-in.
        "TALARO_SESSION_IDLE_SECONDS": _int_env("TALARO_SESSION_IDLE_SECONDS", 30 * 60),
        "TALARO_SESSION_ABSOLUTE_SECONDS": _int_env("TALARO_SESSION_ABSOLUTE_SECONDS", 12 * 3600),
        # Non-upload request bodies (JSON, forms); uploads keep MAX_CONTENT_LENGTH.
        "TALARO_MAX_BODY_BYTES": _int_env("TALARO_MAX_BODY_BYTES", 256 * 1024),
        "TALARO_MAX_JSON_DEPTH": _int_env("TALARO_MAX_JSON_DEPTH", 32),
        "TALARO_DETECT_BAD_TOKENS": _int_env("TALARO_DETECT_BAD_TOKENS", 10),
        "TALARO_DETECT_BAD_TOKENS_WINDOW": _int_env("TALARO_DETECT_BAD_TOKENS_WINDOW", 300),
    }


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain `postgres://` / `postgresql://` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret_key(instance_path: str) -> str:
    """Return the secret key kept in the instance folder, generating it on first use."""
    path = Path(instance_path) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write aside, then hard-link into place: the link either creates the whole file or
    # fails because another worker won the race, so nobody ever reads a half-written key.
    tmp = path.with_name(f".secret_key.{os.getpid()}")
    tmp.write_text(secrets.token_hex(32))
    tmp.chmod(0o600)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()

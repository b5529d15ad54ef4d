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
        "TALARO_ALLOW_REGISTRATION": _bool_env("TALARO_ALLOW_REGISTRATION", True),
        "TALARO_PHONE_REGION": os.environ.get("TALARO_PHONE_REGION", "US"),
        # The whole request may carry a full bulk upload plus form overhead.
        "MAX_CONTENT_LENGTH": _int_env(
            "TALARO_MAX_REQUEST_SIZE", max_file * min(max_files, 20) + 1024 * 1024
        ),
        "SESSION_COOKIE_SECURE": _bool_env("TALARO_SECURE_COOKIES", False),
        "REMEMBER_COOKIE_SECURE": _bool_env("TALARO_SECURE_COOKIES", False),
    }
    settings.update(telemetry_from_environment())
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
        # auto: files unless an OTLP endpoint is set; always: files as well; never.
        "TALARO_TELEMETRY_FILES": env("TALARO_TELEMETRY_FILES", "auto"),
        "TALARO_TELEMETRY_USER_IDENTITY": env("TALARO_TELEMETRY_USER_IDENTITY", "email"),
        "TALARO_TELEMETRY_EXCLUDED_PATHS": env(
            "TALARO_TELEMETRY_EXCLUDED_PATHS", "/healthz$,/readyz$,/static/"
        ),
        "TALARO_TELEMETRY_DB_SPANS": _bool_env("TALARO_TELEMETRY_DB_SPANS", True),
        "TALARO_TELEMETRY_QUEUE_SIZE": _int_env("OTEL_BLRP_MAX_QUEUE_SIZE", 2048),
        "TALARO_METRIC_EXPORT_INTERVAL_MS": _int_env("OTEL_METRIC_EXPORT_INTERVAL", 60_000),
        "TALARO_TELEMETRY_SHUTDOWN_TIMEOUT": float(env("TALARO_TELEMETRY_SHUTDOWN_TIMEOUT", "5")),
        "TALARO_TELEMETRY_SIGTERM": _bool_env("TALARO_TELEMETRY_SIGTERM", True),
        "TALARO_TRUSTED_PROXIES": _int_env("TALARO_TRUSTED_PROXIES", 0),
        "OTEL_EXPORTER_OTLP_PROTOCOL": env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
    }
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "TALARO_TELEMETRY_HASH_KEY"):
        if env(name):
            settings[name] = env(name)
    return settings


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

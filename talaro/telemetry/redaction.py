"""Scrub secrets from free text that must reach telemetry (exception messages, stacks)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")
_TOKENS = re.compile(r"\btlr_[A-Za-z0-9_-]+")
_KEY_VALUE = re.compile(
    r"(?i)\b(password|passwd|secret|token|api[_-]?key|authorization|cookie|session)"
    r"(\s*[=:]\s*)(['\"]?)[^\s'\",;]+\3"
)


def redact(text: str) -> str:
    """Replace credentials in URLs, bearer tokens, API tokens and key=value secrets."""
    text = _URL_CREDENTIALS.sub(r"\g<scheme>[REDACTED]@", text)
    text = _BEARER.sub(r"\1[REDACTED]", text)
    text = _TOKENS.sub("[REDACTED]", text)
    return _KEY_VALUE.sub(r"\1\2\3[REDACTED]\3", text)


def redact_query(args: Mapping[str, Any]) -> str:
    """A query string with every value replaced: `q=REDACTED&page=REDACTED`."""
    return "&".join(f"{key}=REDACTED" for key in args)

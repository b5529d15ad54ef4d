"""What templates need besides data: `can()` for navigation, and value formatting."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from flask_login import current_user

from talaro.blueprints.pages.views import bp
from talaro.models import Role
from talaro.permissions import ROLE_RULES, Action

ROLE_LABELS: dict[str, str] = {
    Role.ADMIN: "Admin",
    Role.HIRING_MANAGER: "Hiring manager",
    Role.RECRUITER: "Recruiter",
    Role.INTERVIEWER: "Interviewer",
}


def can(action: str) -> bool:
    """Whether the signed-in user's role may attempt `action` (an `Action` name).

    Only decides what navigation and forms to show; every view still enforces the
    rule through the service layer or `permissions.authorize`. It reads the role
    table rather than calling `authorize`, so drawing a menu never records a denial.
    """
    if not current_user.is_authenticated:
        return False
    return current_user.role in ROLE_RULES[Action[action]]


@bp.app_context_processor
def template_helpers() -> dict[str, Any]:
    return {"can": can, "role_labels": ROLE_LABELS}


@bp.app_template_filter("utc")
def format_utc(value: datetime | None) -> str:
    """`2030-01-01 10:00 UTC`, or an empty string."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@bp.app_template_filter("role_label")
def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


@bp.app_template_filter("percent")
def percent(value: float | None) -> str:
    return "–" if value is None else f"{round(float(value) * 100)}%"


@bp.app_template_filter("phone")
def phone_text(value: str | None) -> str:
    """A stored E.164 number as people write it ("+1 415-555-0132"); the stored value when
    it does not parse."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def field_text(value: Any) -> str:
    """A field value as a form shows it (and as a correction is compared to it)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


bp.add_app_template_filter(field_text, "field_text")


@bp.app_template_filter("options")
def options(items: Iterable[Any], value: str, text: str) -> list[tuple[Any, Any]]:
    """`(value, text)` pairs for a select, from attributes of each item."""
    return [(getattr(item, value), getattr(item, text)) for item in items]


@bp.app_template_test("web_link")
def is_web_link(value: Any) -> bool:
    """Only http(s) links extracted from a resume become clickable."""
    return isinstance(value, str) and urlsplit(value).scheme in {"http", "https"}

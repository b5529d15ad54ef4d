"""What templates need besides data: `can()` for navigation, and value formatting."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import phonenumbers
from flask_login import current_user

from talaro.blueprints.pages.views import bp
from talaro.models import Role
from talaro.permissions import ROLE_RULES, Action
from talaro.services import time_zones

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
    return {"can": can, "role_labels": ROLE_LABELS, "user_zone": user_zone}


def user_zone() -> ZoneInfo:
    """The zone the signed-in user sees times in: theirs, else UTC."""
    name = current_user.time_zone if current_user.is_authenticated else None
    return time_zones.zone(name)


def format_local(value: datetime | None, tz: ZoneInfo | None = None) -> str:
    """The one way the pages write a time: on the user's wall clock (or `tz`'s), with the
    zone's abbreviation and name, e.g. `2030-01-01 05:00 EST (America/New_York)`,
    `2030-01-01 10:00 UTC`; an empty string for None."""
    if value is None:
        return ""
    tz = tz or user_zone()
    local = time_zones.to_local(value, tz)
    abbreviation = local.tzname() or ""
    if abbreviation[:1] in ("+", "-"):  # zones without a letter abbreviation: "+0545"
        hours, minutes = abbreviation[:3], abbreviation[3:]
        abbreviation = f"UTC{hours}:{minutes}" if minutes else f"UTC{hours}"
    if abbreviation in ("", tz.key):
        return f"{local:%Y-%m-%d %H:%M} {tz.key}"
    return f"{local:%Y-%m-%d %H:%M} {abbreviation} ({tz.key})"


bp.add_app_template_filter(format_local, "local_time")


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

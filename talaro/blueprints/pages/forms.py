"""Request handling shared by the pages: validate a form, show a failed action, paging.

Forms are validated with the API's marshmallow schemas, so a page accepts exactly
what the JSON API accepts. A form that does not validate raises the service
layer's own `Invalid`, so every failure (bad input, a 403, a 409 from a service)
takes one path: `failed()` flashes the message and re-renders the form with the
field messages and the error's status.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, render_template, request
from marshmallow import Schema, ValidationError

from talaro.errors import Invalid, ServiceError
from talaro.services import time_zones

PER_PAGE = 20
CHECK_FIELDS = "Please correct the highlighted fields"
_FRIENDLIER = {
    "Missing data for required field.": "This field is required.",
    "Field may not be null.": "This field is required.",
}


def load(schema: Schema, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate form values with `schema`; blank text counts as not given.

    :raise 422: `Invalid` whose details map each bad field to its messages.
    """
    data = {name: value.strip() if isinstance(value, str) else value for name, value in raw.items()}
    data = {name: value for name, value in data.items() if value != ""}
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise invalid(exc.normalized_messages()) from exc


def invalid(messages: Mapping[str, Any], message: str = CHECK_FIELDS) -> Invalid:
    """A 422 for the form, with one or more messages per field."""
    return Invalid(message, details={"fields": dict(messages)})


def field_errors(error: ServiceError) -> dict[str, list[str]]:
    """`{field: [message, ...]}` from an error's details (service or form validation)."""
    details = error.details if isinstance(error.details, Mapping) else {}
    fields = details.get("fields") or {}
    return {str(name): _flatten(messages) for name, messages in fields.items()}


def _flatten(messages: Any) -> list[str]:
    if isinstance(messages, str):
        return [_FRIENDLIER.get(messages, messages)]
    if isinstance(messages, Mapping):
        messages = list(messages.values())
    flat: list[str] = []
    for item in messages:
        flat.extend(_flatten(item))
    return list(dict.fromkeys(flat))


def failed(error: ServiceError, template: str, **context: Any) -> tuple[str, int]:
    """Re-render a form after `error`: its message flashed, its field messages inline."""
    flash(error.message, "error")
    page = render_template(template, errors=field_errors(error), **context)
    return page, error.status


DATE_TIME_EXPECTED = "Enter a date and time, e.g. 2030-01-31 14:30."


def local_time(text: str, tz: ZoneInfo, field: str = "starts_at") -> str:
    """A `datetime-local` value (`2030-01-31T14:30`) read on the wall clock of `tz` (the
    user's zone), as ISO 8601 in UTC for the API's schemas; blank stays blank.

    :raise 422: `Invalid` naming `field`: not a date and time, or one the clocks skip.
    """
    text = text.strip()
    if not text:
        return ""
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        raise invalid({field: [DATE_TIME_EXPECTED]}) from None
    if local.tzinfo is not None:  # the form sends none; an offset typed in is refused
        raise invalid({field: [DATE_TIME_EXPECTED]})
    return time_zones.to_utc(local, tz, field).isoformat()


def local_input(value: datetime | None, tz: ZoneInfo) -> str:
    """The value of a `datetime-local` field showing `value` on the wall clock of `tz`."""
    return "" if value is None else f"{time_zones.to_local(value, tz):%Y-%m-%dT%H:%M}"


def page_number() -> int:
    """`?page=` as a positive number; anything else is the first page."""
    return max(request.args.get("page", 1, type=int) or 1, 1)

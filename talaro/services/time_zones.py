"""Time zones: which names are IANA zones, and a local wall-clock time as a UTC instant.

Times are stored and exchanged (the API) in UTC with an offset; only the pages speak a
user's zone (`User.time_zone`, UTC when none is saved).
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime
from functools import cache

from talaro.errors import Invalid

DEFAULT_ZONE = "UTC"
MAX_NAME_LENGTH = 64
# Files of a system's zoneinfo folder that are not zones of their own: the host's zone
# under another name, and tzcode's placeholder.
NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})
NOT_A_ZONE = "Not an IANA time zone name, e.g. Europe/Paris, America/New_York or UTC."
# Old names that browsers still report (their ICU keeps CLDR's ids: Chromium says
# Asia/Calcutta), saved under today's IANA name.
RENAMED = {
    "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
    "America/Catamarca": "America/Argentina/Catamarca",
    "America/Cordoba": "America/Argentina/Cordoba",
    "America/Godthab": "America/Nuuk",
    "America/Indianapolis": "America/Indiana/Indianapolis",
    "America/Jujuy": "America/Argentina/Jujuy",
    "America/Louisville": "America/Kentucky/Louisville",
    "America/Mendoza": "America/Argentina/Mendoza",
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Rangoon": "Asia/Yangon",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Atlantic/Faeroe": "Atlantic/Faroe",
    "Europe/Kiev": "Europe/Kyiv",
    "Pacific/Enderbury": "Pacific/Kanton",
    "Pacific/Ponape": "Pacific/Pohnpei",
    "Pacific/Truk": "Pacific/Chuuk",
}


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name this installation knows (system zoneinfo or `tzdata`), sorted."""
    return tuple(sorted(zoneinfo.available_timezones() - NOT_ZONES))


@cache
def _known() -> frozenset[str]:
    return frozenset(zone_names())


def is_zone(name: object) -> bool:
    """Whether `name` is exactly an IANA zone name (case matters: `Asia/Kolkata`)."""
    return isinstance(name, str) and len(name) <= MAX_NAME_LENGTH and name in _known()


def checked(name: str, field: str = "time_zone") -> str:
    """`name` when it is an IANA zone name (an old name as today's, `Asia/Calcutta` as
    `Asia/Kolkata`).

    :raise 422: `Invalid` naming `field`.
    """
    if not is_zone(name):
        raise Invalid(NOT_A_ZONE, details={"fields": {field: [NOT_A_ZONE]}})
    current = RENAMED.get(name, name)
    return current if is_zone(current) else name


def zone(name: str | None) -> zoneinfo.ZoneInfo:
    """The zone called `name`; UTC for none (or a name this installation no longer has)."""
    if name and is_zone(name):
        return zoneinfo.ZoneInfo(name)
    return zoneinfo.ZoneInfo(DEFAULT_ZONE)


def to_utc(local: datetime, tz: zoneinfo.ZoneInfo, field: str = "starts_at") -> datetime:
    """The UTC instant of the wall-clock time `local` (naive) in `tz`.

    A time the clocks skip (spring forward) does not exist: refused. A time they repeat
    (fall back) means its first occurrence, the one still on summer time.

    :raise 422: `Invalid` naming `field`, for a skipped time (or one out of range).
    """
    aware = local.replace(tzinfo=tz, fold=0)
    try:
        instant = aware.astimezone(UTC)
        back = instant.astimezone(tz).replace(tzinfo=None)
    except (OverflowError, ValueError):  # within hours of year 1 or 9999
        message = "The time is out of range."
        raise Invalid(message, details={"fields": {field: [message]}}) from None
    if back != local:
        message = (
            f"{local:%Y-%m-%d %H:%M} does not exist in {tz.key}: the clocks go forward "
            "then. Choose another time."
        )
        raise Invalid(message, details={"fields": {field: [message]}})
    return instant


def to_local(value: datetime, tz: zoneinfo.ZoneInfo) -> datetime:
    """`value` (aware; naive counts as UTC) on the wall clock of `tz`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(tz)

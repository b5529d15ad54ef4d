"""Catalogue records built ready for the log processors: checked, held to the limits and
masked in one pass.

Through the SDK's generic path (`Logger.emit(attributes=...)`) every record's attributes
are copied into a BoundedAttributes that checks each value's type, then RecordMasking
walks them again to redact: per request that was the largest part of telemetry's cost
(BENCHMARKS.md, issue 14). The service's own records hold values of a few plain types,
so `prepare` checks, masks and cuts them here, once, and events.py hands the SDK a
finished `PreparedRecord` through `Logger.emit(record)`, the SDK's public path for a
record made by its caller. A value of any other type sends the whole record down the
generic path instead, so nothing reaches an output unchecked.

The request's shared attributes (context.request_attributes: client, user agent, route,
user), the same object for every record of a request, are masked once per request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk._logs import LogRecordLimits, ReadWriteLogRecord

from talaro.telemetry.redaction import TRUSTED_KEYS, masked

_PLAIN = (int, bool, float, type(None))  # kept as they are, as the SDK keeps them


class Unprepared(Exception):
    """A value `prepare` does not know: the record takes the SDK's generic path."""


class PreparedRecord(ReadWriteLogRecord):
    """A record whose attributes arrive checked and masked (`prepare`): the SDK's
    re-wrapping of them in a BoundedAttributes, which checks each value again, is skipped,
    and RecordMasking lets it through."""

    prepared = True  # RecordMasking's cue (redaction.py does not import this module)

    def __post_init__(self) -> None:
        pass


def prepare(
    shared: Mapping[str, Any], own: Mapping[str, Any], limits: LogRecordLimits
) -> BoundedAttributes:
    """`shared` then `own` as the SDK would hold them (sequences as tuples, at most the
    count limit, the oldest dropped first), every string masked then cut to the length
    limit. Raises Unprepared for a value of another type."""
    limit, maxlen = limits.max_log_record_attribute_length, limits.max_log_record_attributes
    values = dict(_shared_masked(shared, limit))
    for key, value in own.items():
        values[key] = _clean(key, value, limit)
    attributes = BoundedAttributes(maxlen=maxlen, immutable=False, max_value_len=limit)
    if maxlen is not None and len(values) > maxlen:
        dropped = len(values) - maxlen
        values = dict(list(values.items())[dropped:])
        attributes.dropped = dropped
    # Filled directly, as the SDK's own BoundedAttributes.__deepcopy__ does: the values
    # are checked already, and checking them again is the cost this module removes.
    attributes._dict = values
    return attributes


def _clean(key: str, value: Any, limit: int | None) -> Any:
    """`value` as the SDK holds it (a sequence as a tuple, at any depth), its strings
    masked and cut; Unprepared for a mapping, bytes or any other type."""
    kind = type(value)
    if kind is str and key in TRUSTED_KEYS:
        return value if limit is None or len(value) <= limit else value[:limit]
    if isinstance(value, str):  # an enum's or other subclass's text is written as text
        return masked(str(value), limit)
    if kind in _PLAIN:
        return value
    if kind is list or kind is tuple:
        return tuple(_clean(key, item, limit) for item in value)
    raise Unprepared(key)


_last_shared: tuple[Mapping[str, Any], int | None, dict[str, Any]] | None = None


def _shared_masked(shared: Mapping[str, Any], limit: int | None) -> dict[str, Any]:
    """`shared` cleaned and masked, remembered for the next record of the same request (a
    request's records share the one object; the entry holds it, so `is` cannot be fooled
    by a reused id)."""
    global _last_shared
    last = _last_shared
    if last is not None and last[0] is shared and last[1] == limit:
        return last[2]
    cleaned = {key: _clean(key, value, limit) for key, value in shared.items()}
    _last_shared = (shared, limit, cleaned)
    return cleaned

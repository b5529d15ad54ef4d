"""Read the telemetry log files back: find them, parse them, flatten and filter records.

Pure functions over files, no application needed. The files are OTLP JSON Lines, one
``ExportLogsServiceRequest`` payload per line, as written by the service itself
(runtime.py) and by the OpenTelemetry Collector's file exporter with ``format: json``.

Usage::

    paths = stream_files(Path("logs"))                    # both streams, rotated ones included
    where = Filter(events=("resume_upload",), outcome="failure")
    for record in read_records(paths, where):             # flat dicts, in time order
        print(record["time"], record["event"], record.get("reason"))

Files
    ``security.jsonl`` and ``application.jsonl`` are the live files. The service rotates
    them to ``security.jsonl.1`` ... ``.N`` (highest is oldest); the collector (lumberjack)
    to ``security-2026-11-26T15-13-23.123.jsonl``. `stream_files` returns a stream's
    rotated files oldest first, then its live file.

Records
    Each line is decoded with the OTLP JSON message classes (``opentelemetry.proto_json``,
    `read_requests`), as the audit verifier decodes it. `flatten_record` turns one log
    record into one flat dict: ``time`` (ISO 8601 UTC), ``stream``, ``event``,
    ``severity``, ``severity_number``, ``trace_id``, ``span_id``, ``body``, then every
    attribute under its own key (arrays stay lists, bytes stay base64 text), then the
    resource's ``service.name`` and ``service.instance.id``.

Broken lines
    A line that is not a JSON payload (a partial write, a truncated copy), or not an
    OTLP logs payload, is reported through ``warn`` as ``path:line: ...`` and skipped;
    reading carries on.

Order
    Records come out in time order across files: each file is read through a bounded
    reorder buffer (`REORDER_WINDOW` records, which absorbs the interleaving of batches
    from several worker processes sharing one file), and the files are merged.
"""

from __future__ import annotations

import base64
import difflib
import heapq
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from opentelemetry.proto_json.collector.logs.v1.logs_service import ExportLogsServiceRequest
from opentelemetry.proto_json.common.v1.common import AnyValue, KeyValue
from opentelemetry.proto_json.logs.v1.logs import LogRecord

from talaro.telemetry.catalogue import APPLICATION, CATALOGUE, SECURITY, STREAM_ATTRIBUTE
from talaro.telemetry.runtime import FILE_NAMES

STREAMS = (SECURITY, APPLICATION)
RESOURCE_KEYS = ("service.name", "service.instance.id")
USER_KEYS = ("user.id", "user.email", "user.hash")
STATUS_KEY = "http.response.status_code"
DURATION_KEY = "http.server.request.duration"
REORDER_WINDOW = 4096

# The names of the original logging document, for people who know those.
LEGACY_EVENT_NAMES = {
    "PERMISSION_DENIED": "authz_fail",
    "UNAUTHENTICATED_ACCESS": "authn_required",
    "API_REQUEST": "http_request",
}
SEVERITY_NUMBERS = {
    "TRACE": 1,
    "DEBUG": 5,
    "INFO": 9,
    "WARN": 13,
    "WARNING": 13,
    "ERROR": 17,
    "FATAL": 21,
    "CRITICAL": 21,
}
TIME_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
DURATION_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
COLLECTOR_TIMESTAMP = r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?"

Warn = Callable[[str], None]
Record = dict[str, Any]


def warn_to_stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


# Finding the files ---------------------------------------------------------------


def stream_files(folder: Path, streams: Sequence[str] = STREAMS) -> list[Path]:
    """The log files of `streams` in `folder`: per stream, rotated files oldest first
    (the collector's by timestamp, then the service's ``.N`` from highest), then the live one."""
    if not folder.is_dir():
        return []
    names = sorted(path.name for path in folder.iterdir() if path.is_file())
    found: list[Path] = []
    for stream in streams:
        found.extend(folder / name for name in _stream_file_names(names, FILE_NAMES[stream]))
    return found


def _stream_file_names(names: Iterable[str], live: str) -> list[str]:
    stem, extension = (re.escape(part) for part in live.rsplit(".", 1))
    collector = re.compile(rf"{stem}-({COLLECTOR_TIMESTAMP})\.{extension}")
    embedded = re.compile(rf"{re.escape(live)}\.(\d+)")
    rotated: list[tuple[tuple[int, str, int], str]] = []
    for name in names:
        if match := collector.fullmatch(name):
            rotated.append(((0, match[1], 0), name))
        elif match := embedded.fullmatch(name):
            rotated.append(((1, "", -int(match[1])), name))
    ordered = [name for _, name in sorted(rotated)]
    return ordered + [live] if live in names else ordered


def expand_paths(paths: Iterable[Path], streams: Sequence[str] = STREAMS) -> list[Path]:
    """Folders replaced by their stream files, files kept as given, each path once."""
    seen: set[Path] = set()
    result: list[Path] = []
    for path in paths:
        for file in stream_files(path, streams) if path.is_dir() else [path]:
            if (key := file.resolve()) not in seen:
                seen.add(key)
                result.append(file)
    return result


# Parsing and flattening --------------------------------------------------------


def read_payloads(path: Path, warn: Warn = warn_to_stderr) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, payload)`` for each JSON object line of `path`; others are reported."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        warn(f"{path}: cannot be read ({exc.strerror or exc})")
        return
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                payload = json.loads(line)
            except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
                warn(f"{path}:{number}: skipped a broken line ({getattr(exc, 'msg', exc)})")
                continue
            if not isinstance(payload, dict):
                warn(f"{path}:{number}: skipped a line that is not an OTLP payload")
                continue
            yield number, payload


def read_requests(
    path: Path, warn: Warn = warn_to_stderr
) -> Iterator[tuple[int, ExportLogsServiceRequest]]:
    """``(line number, request)`` for each line of `path` that is an OTLP logs payload,
    decoded with the OTLP JSON message classes; the other lines are reported."""
    for number, payload in read_payloads(path, warn):
        try:
            request = ExportLogsServiceRequest.from_dict(payload)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            warn(f"{path}:{number}: skipped a malformed OTLP payload ({type(exc).__name__}: {exc})")
            continue
        yield number, request


def any_value(value: AnyValue | None) -> Any:
    """An OTLP AnyValue as a Python value (bytes as their base64 text, as in the files)."""
    if value is None:
        return None
    if value.string_value is not None:
        return value.string_value
    if value.int_value is not None:
        return value.int_value
    if value.double_value is not None:
        return value.double_value
    if value.bool_value is not None:
        return value.bool_value
    if value.array_value is not None:
        return [any_value(item) for item in value.array_value.values]
    if value.kvlist_value is not None:
        return decode_attributes(value.kvlist_value.values)
    if value.bytes_value is not None:
        return base64.b64encode(value.bytes_value).decode("ascii")
    return None


def decode_attributes(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    return {pair.key or "": any_value(pair.value) for pair in pairs}


def record_time_ns(record: LogRecord) -> int:
    """``timeUnixNano``, or ``observedTimeUnixNano`` when the event time is unset."""
    return (record.time_unix_nano or 0) or (record.observed_time_unix_nano or 0)


def format_time(time_ns: int) -> str:
    """ISO 8601 in UTC to the microsecond, e.g. ``2026-11-26T10:00:00.123456Z``."""
    seconds, nanos = divmod(time_ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=nanos // 1000)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _severity_number(record: LogRecord) -> int | None:
    if record.severity_number:
        return int(record.severity_number)
    return SEVERITY_NUMBERS.get((record.severity_text or "").upper())


def flatten_record(record: LogRecord, resource: Mapping[str, Any]) -> Record:
    """One OTLP log record (and its resource's attributes) as one flat dict."""
    attributes = decode_attributes(record.attributes)
    time_ns = record_time_ns(record)
    flat: Record = {
        "time": format_time(time_ns) if time_ns else None,
        "stream": attributes.get(STREAM_ATTRIBUTE),
        "event": record.event_name or attributes.get("event.action"),
        "severity": record.severity_text or None,
        "severity_number": _severity_number(record),
        "trace_id": record.trace_id.hex() if record.trace_id else None,
        "span_id": record.span_id.hex() if record.span_id else None,
        "body": any_value(record.body),
    }
    for key, value in attributes.items():
        flat.setdefault(key, value)
    for key in RESOURCE_KEYS:
        flat.setdefault(key, resource.get(key))
    return flat


def request_records(request: ExportLogsServiceRequest) -> list[tuple[int, Record]]:
    """``(time in ns, flat record)`` for every log record of one decoded payload."""
    found = []
    for resource_logs in request.resource_logs:
        resource = decode_attributes(
            resource_logs.resource.attributes if resource_logs.resource else []
        )
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                found.append((record_time_ns(record), flatten_record(record, resource)))
    return found


def payload_records(payload: dict[str, Any]) -> list[tuple[int, Record]]:
    """`request_records` of one payload as parsed from its JSON line."""
    return request_records(ExportLogsServiceRequest.from_dict(payload))


def file_records(path: Path, warn: Warn = warn_to_stderr) -> Iterator[tuple[int, Record]]:
    """``(time in ns, flat record)`` for every log record of one file, in file order."""
    for _, request in read_requests(path, warn):
        yield from request_records(request)


# Filtering -----------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """What to keep; every field left empty keeps everything. Several values of one
    field (events, users, statuses) mean any of them; different fields must all match."""

    streams: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    outcome: str | None = None
    users: tuple[str, ...] = ()  # each matched against user.id, user.email and user.hash
    min_severity: int | None = None
    since: datetime | None = None  # inclusive, to the microsecond
    until: datetime | None = None  # inclusive, to the microsecond
    trace_id: str | None = None
    slower_than: float | None = None  # seconds, against http.server.request.duration
    statuses: tuple[tuple[int, int], ...] = ()  # inclusive ranges of status codes

    def matches(self, record: Mapping[str, Any]) -> bool:
        """True when `record` (a flat record) passes every filter that is set."""
        return all(check(record) for check in self._checks())

    def _checks(self) -> Iterator[Callable[[Mapping[str, Any]], bool]]:
        if self.streams:
            yield lambda r: r.get("stream") in self.streams
        if self.events:
            yield lambda r: r.get("event") in self.events
        if self.outcome:
            yield lambda r: r.get("event.outcome") == self.outcome
        if self.users:
            wanted = {user.strip().lower() for user in self.users}
            yield lambda r: any(str(r.get(k, "")).lower() in wanted for k in USER_KEYS)
        if self.min_severity is not None:
            yield lambda r: (r.get("severity_number") or 0) >= self.min_severity
        if self.since is not None or self.until is not None:
            yield self._in_window
        if self.trace_id:
            trace_id = self.trace_id.lower()
            yield lambda r: str(r.get("trace_id") or "").lower() == trace_id
        if self.slower_than is not None:
            yield lambda r: _number(r.get(DURATION_KEY), -1.0) > self.slower_than
        if self.statuses:
            yield self._has_status

    def _has_status(self, record: Mapping[str, Any]) -> bool:
        status = _number(record.get(STATUS_KEY), 0)
        return any(low <= status <= high for low, high in self.statuses)

    def _in_window(self, record: Mapping[str, Any]) -> bool:
        if not record.get("time"):
            return False
        moment = datetime.fromisoformat(record["time"])
        return (self.since is None or moment >= self.since) and (
            self.until is None or moment <= self.until
        )


def _number(value: Any, default: float) -> float:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else default


# Reading -------------------------------------------------------------------------


def read_records(
    paths: Iterable[Path], where: Filter | None = None, warn: Warn = warn_to_stderr
) -> Iterator[Record]:
    """Every record of `paths` that `where` keeps, in time order across the files."""
    where = where or Filter()
    ordered = [
        _in_time_order((time_ns, index, record) for time_ns, record in file_records(path, warn))
        for index, path in enumerate(paths)
    ]
    for _, _, record in heapq.merge(*ordered, key=lambda entry: entry[:2]):
        if where.matches(record):
            yield record


def _in_time_order(
    entries: Iterable[tuple[int, int, Record]], window: int = REORDER_WINDOW
) -> Iterator[tuple[int, int, Record]]:
    """Sorts a nearly sorted sequence, holding at most `window` entries; stable."""
    heap: list[tuple[int, int, int, Record]] = []
    for sequence, (time_ns, index, record) in enumerate(entries):
        item = (time_ns, index, sequence, record)
        if len(heap) < window:
            heapq.heappush(heap, item)
            continue
        time_ns, index, _, record = heapq.heappushpop(heap, item)
        yield time_ns, index, record
    while heap:
        time_ns, index, _, record = heapq.heappop(heap)
        yield time_ns, index, record


# Option values -------------------------------------------------------------------


def parse_event(name: str) -> str:
    """A catalogue event name (or an old name of the original document)."""
    name = name.strip()
    if name in CATALOGUE:
        return name
    if name.upper() in LEGACY_EVENT_NAMES:
        return LEGACY_EVENT_NAMES[name.upper()]
    close = difflib.get_close_matches(name.lower(), CATALOGUE, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else "; see the event catalogue"
    raise ValueError(f"unknown event {name!r}{hint}")


def parse_severity(text: str) -> int:
    """A severity name (INFO, WARN, ERROR, CRITICAL...) or number (1-24)."""
    text = text.strip().upper()
    if text.isdigit() and 1 <= int(text) <= 24:
        return int(text)
    if text in SEVERITY_NUMBERS:
        return SEVERITY_NUMBERS[text]
    raise ValueError(f"{text!r} is not a severity: use INFO, WARN, ERROR, CRITICAL or 1-24")


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 date or date-time (UTC unless it says otherwise), or a time ago:
    ``30s``, ``15m``, ``2h``, ``1d``, ``1w``."""
    text = text.strip()
    if match := re.fullmatch(r"(\d+)\s*([smhdw])", text):
        return (now or datetime.now(UTC)) - timedelta(**{TIME_UNITS[match[2]]: int(match[1])})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is neither an ISO 8601 time (2026-11-26T10:00:00Z) "
            "nor a time ago (15m, 2h, 1d)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_duration(text: str) -> float:
    """A duration in seconds from ``1s``, ``250ms``, ``1.5s``, ``2m`` (a bare number is seconds)."""
    match = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)\s*(us|ms|s|m|h)?", text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration: use e.g. 1s, 250ms, 1.5s, 2m")
    return float(match[1]) * DURATION_UNITS[match[2] or "s"]


def parse_status(text: str) -> tuple[int, int]:
    """An HTTP status (``404``) or class (``4xx``) as an inclusive range."""
    text = text.strip().lower()
    if re.fullmatch(r"[1-5]\d\d", text):
        return int(text), int(text)
    if re.fullmatch(r"[1-5]xx", text):
        low = int(text[0]) * 100
        return low, low + 99
    raise ValueError(f"{text!r} is not an HTTP status: use a code (404) or a class (4xx, 5xx)")


def parse_trace_id(text: str) -> str:
    """A trace id: 32 hexadecimal digits, as in the files and in Jaeger."""
    text = text.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{32}", text):
        raise ValueError(f"{text!r} is not a trace id (32 hexadecimal digits)")
    return text

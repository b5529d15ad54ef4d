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
    ``application.jsonl`` to ``.1`` ... ``.N`` (highest is oldest), and ``security.jsonl``,
    as the collector (lumberjack) rotates both, to
    ``security-2026-11-26T15-13-23.123.jsonl``. `stream_files` returns a stream's rotated
    files oldest first, then its live file.

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

import msgspec
import orjson
from opentelemetry.proto_json.collector.logs.v1.logs_service import ExportLogsServiceRequest
from opentelemetry.proto_json.common.v1.common import AnyValue, KeyValue
from opentelemetry.proto_json.logs.v1.logs import LogRecord

from talaro.telemetry.catalogue import APPLICATION, CATALOGUE, SECURITY, STREAM_ATTRIBUTE
from talaro.telemetry.runtime import FILE_NAMES

STREAMS = (SECURITY, APPLICATION)
RESOURCE_KEYS = ("service.name", "service.instance.id")
USER_KEYS = ("user.id", "user.email", "user.hash", "process.owner")
ADDRESS_KEY = "client.address"
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


def read_payloads(
    path: Path,
    warn: Warn = warn_to_stderr,
    may_match: Callable[[bytes], bool] | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, payload)`` for each JSON object line of `path`; others are reported.
    `may_match` skips, undecoded, the lines it shows cannot match (a `Search`'s)."""
    try:
        handle = path.open("rb", buffering=1 << 20)  # lines of up to a few MB
    except OSError as exc:
        warn(f"{path}: cannot be read ({exc.strerror or exc})")
        return
    with handle:
        for number, line in enumerate(handle, start=1):
            if (may_match is not None and not may_match(line)) or not line.strip():
                continue
            try:
                payload = loads(line)
            except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
                warn(f"{path}:{number}: skipped a broken line ({getattr(exc, 'msg', exc)})")
                continue
            if not isinstance(payload, dict):
                warn(f"{path}:{number}: skipped a line that is not an OTLP payload")
                continue
            yield number, payload


def loads(line: bytes) -> Any:
    """One JSON line: orjson, several times faster; the standard json module for what
    orjson refuses and json accepts (NaN, integers over 64 bits, lone surrogates), and
    for json's own error message."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


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
    day, second = divmod(seconds, 86_400)
    date = _DATES.get(day)
    if date is None:  # a datetime once per day: the rest is arithmetic, 4 times faster
        date = datetime.fromtimestamp(day * 86_400, UTC).date().isoformat()
        if len(_DATES) > 4096:
            _DATES.clear()
        _DATES[day] = date
    hour, second = divmod(second, 3600)
    minute, second = divmod(second, 60)
    return f"{date}T{hour:02d}:{minute:02d}:{second:02d}.{nanos // 1000:06d}Z"


_DATES: dict[int, str] = {}


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
    users: tuple[str, ...] = ()  # each matched against USER_KEYS
    addresses: tuple[str, ...] = ()  # client.address, exactly
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
        if self.addresses:
            addresses = {address.strip().lower() for address in self.addresses}
            yield lambda r: str(r.get(ADDRESS_KEY, "")).lower() in addresses
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
    search = Search.of(where)
    ordered = [
        _in_time_order(
            (time_ns, index, record) for time_ns, record in search.file_records(path, warn)
        )
        for index, path in enumerate(paths)
        if search.may_hold(path)
    ]
    for _, _, record in heapq.merge(*ordered, key=lambda entry: entry[:2]):
        if where.matches(record):
            yield record


def read_records_newest_first(
    paths: Iterable[Path], where: Filter | None = None, warn: Warn = warn_to_stderr
) -> Iterator[Record]:
    """`read_records` backward: newest first, what it would give, reversed (the security
    events page). Lazy: a file is opened only when it may hold a record newer than those
    still to come, and read from its last line back, so the first page of a large folder
    costs the newest few blocks of the newest file. A file holds nothing newer than its
    last write (mtime, with FILE_TIME_MARGIN_S for clocks): rotation order for free."""
    where = where or Filter()
    search = Search.of(where)
    waiting = []  # (newest possible time, index, path), newest first
    for index, path in enumerate(paths):
        if search.may_hold(path):
            try:
                newest = int((path.stat().st_mtime + FILE_TIME_MARGIN_S) * 1e9)
            except OSError:
                newest = 1 << 126  # reading it reports why
            waiting.append((newest, index, path))
    waiting.sort(key=lambda entry: (-entry[0], -entry[1]))
    waiting.reverse()  # popped from the end
    heap: list[tuple[int, int, int, int, Record, Iterator[Any]]] = []

    def start(index: int, path: Path) -> None:
        entries = _in_time_order_backward(
            (-time_ns, -index, -offset, -position, record)
            for time_ns, offset, position, record in search.file_records_backward(path, warn)
        )
        _push(heap, entries)

    while heap or waiting:
        # Open every file that may hold something newer than the newest record in hand.
        while waiting and (not heap or waiting[-1][0] >= -heap[0][0]):
            _, index, path = waiting.pop()
            start(index, path)
        if not heap:
            continue
        *_, record, entries = heapq.heappop(heap)
        _push(heap, entries)
        if where.matches(record):
            yield record


def _push(heap: list[Any], entries: Iterator[Any]) -> None:
    entry = next(entries, None)
    if entry is not None:
        heapq.heappush(heap, (*entry, entries))


def _in_time_order_backward(
    entries: Iterable[tuple[int, int, int, int, Record]], window: int = REORDER_WINDOW
) -> Iterator[tuple[int, int, int, int, Record]]:
    """`_in_time_order` of keys that sort newest first; the record is never compared
    (keys are unique: a line's offset and a record's place in it)."""
    heap: list[tuple[int, int, int, int, Record]] = []
    for entry in entries:
        if len(heap) < window:
            heapq.heappush(heap, entry)
        else:
            yield heapq.heappushpop(heap, entry)
    while heap:
        yield heapq.heappop(heap)


# Skipping what cannot match --------------------------------------------------------
#
# A selective query (an event, a user, an address, a trace id, a time range) decodes only
# what can match: a file whose last write is older than `since` is not opened; a line
# that lacks the bytes every match must hold (the event's name in quotes, the user, the
# address or the trace id in any case, a time in the range) is not decoded; of a line
# that is, only the records whose event, trace id and time can match are decoded with the
# OTLP JSON classes and flattened, and `Filter.matches` has the last word on those. A
# record that the query skips is not checked either, so a malformed record is reported
# only when it could have matched. A broad query decodes every line, as `file_records`.

_TIME_VALUES = re.compile(rb'[tT]imeUnixNano"\s*:\s*"?(\d+)')  # time and observed time
# A value that any JSON encoder writes as it is (no escapes), so a byte search finds it.
_PLAIN = re.compile(r"[A-Za-z0-9@._+:%=~ -]+")
# Clocks of the hosts that write the files and of the one that stamps their names may
# differ; and a batch reaches its file a little after its records' times.
FILE_TIME_MARGIN_S = 600.0
_SLACK_NS = 1_000  # the flat record's time is cut to the microsecond


@dataclass(frozen=True)
class Search:
    """What a `Filter` allows to skip before decoding (see above)."""

    where: Filter
    needles: tuple[Callable[[bytes], bool], ...] = ()
    events: frozenset[str] = frozenset()
    trace_id: str | None = None
    users: frozenset[str] = frozenset()
    addresses: frozenset[str] = frozenset()
    since_ns: int | None = None
    until_ns: int | None = None
    # Bytes one of which every line that can match holds (in lower case when scan_lower),
    # searched for in whole blocks of a file: the lines around them are the only ones
    # split off and checked (`_scanned_lines`).
    scan: tuple[bytes, ...] = ()
    scan_lower: bool = False

    @classmethod
    def of(cls, where: Filter) -> Search:
        needles: list[Callable[[bytes], bool]] = []
        scan: tuple[bytes, ...] = ()
        scan_lower = False
        if where.events:
            quoted = [f'"{event}"'.encode() for event in where.events if _PLAIN.fullmatch(event)]
            if len(quoted) == len(where.events):
                needles.append(_holds_any(quoted))
                # Without the closing quote: the search skips on the needle's last byte,
                # and a quote is in every few bytes of JSON.
                scan = tuple(name[:-1] for name in quoted)
        for values in (where.users, where.addresses, (where.trace_id,) if where.trace_id else ()):
            wanted = [value.strip().lower().encode() for value in values]
            if wanted and all(_PLAIN.fullmatch(value.decode()) for value in wanted):
                # Any case: searched in the line in lower case (ASCII, a C loop per line).
                needles.append(_holds_any(wanted, lower=True))
                if not scan and all(wanted):
                    scan, scan_lower = tuple(wanted), True
        since = _ns(where.since) - _SLACK_NS if where.since is not None else None
        until = _ns(where.until) + _SLACK_NS if where.until is not None else None
        return cls(
            where,
            tuple(needles),
            frozenset(where.events),
            where.trace_id.lower() if where.trace_id else None,
            frozenset(user.strip().lower() for user in where.users),
            frozenset(address.strip().lower() for address in where.addresses),
            since,
            until,
            scan,
            scan_lower,
        )

    @property
    def selective(self) -> bool:
        return bool(self.needles or self.events or self.trace_id or self.since_ns or self.until_ns)

    def may_hold(self, path: Path) -> bool:
        """False for a file last written before `since` (with a margin for clocks)."""
        if self.since_ns is None:
            return True
        try:
            modified = path.stat().st_mtime
        except OSError:
            return True  # reading it reports why
        return modified + FILE_TIME_MARGIN_S >= self.since_ns / 1e9

    def line_may_match(self, line: bytes) -> bool:
        for needle in self.needles:
            if not needle(line):
                return False
        if self.since_ns is None and self.until_ns is None:
            return True
        return any(self._in_window(int(value)) for value in _TIME_VALUES.findall(line))

    def _in_window(self, time_ns: int) -> bool:
        return (self.since_ns is None or time_ns >= self.since_ns) and (
            self.until_ns is None or time_ns <= self.until_ns
        )

    def record_may_match(self, raw: dict[str, Any]) -> bool:
        """Cheap checks on a record as parsed from JSON, before it is decoded: never False
        for a record that `Filter.matches` would keep once decoded and flattened."""
        if self.events:
            event = raw.get("eventName") or _raw_attribute(raw, "event.action")
            if event not in self.events:
                return False
        if self.users and not _may_hold(raw, USER_KEYS, self.users):
            return False
        if self.addresses and not _may_hold(raw, (ADDRESS_KEY,), self.addresses):
            return False
        if self.trace_id is not None:
            trace_id = raw.get("traceId")
            if not isinstance(trace_id, str) or trace_id.lower() != self.trace_id:
                return False
        if self.since_ns is not None or self.until_ns is not None:
            try:
                time_ns = int(raw.get("timeUnixNano") or 0) or int(
                    raw.get("observedTimeUnixNano") or 0
                )
            except (TypeError, ValueError):
                return True  # decoding reports it
            if not self._in_window(time_ns):
                return False
        return True

    def file_records(self, path: Path, warn: Warn = warn_to_stderr) -> Iterator[tuple[int, Record]]:
        """`file_records` of `path`, less what this search can skip."""
        lines = (
            _scanned_lines(path, warn, self.scan, self.scan_lower)
            if self.scan
            else _forward_lines(path, warn)
        )
        for number, line in lines:
            yield from self.line_records(line, lambda n=number: f"{path}:{n}", warn)

    def file_records_backward(
        self, path: Path, warn: Warn = warn_to_stderr
    ) -> Iterator[tuple[int, int, int, Record]]:
        """``(time in ns, line offset, record's place in its line, record)``, last line
        first (each line's records last first): `file_records` of `path` backward."""
        numbers = _LineNumbers(path)
        for offset, line in _backward_lines(path, warn):
            place = lambda o=offset: f"{path}:{numbers.at(o)}"  # noqa: E731 (read on warning)
            found = list(self.line_records(line, place, warn))
            for position in range(len(found) - 1, -1, -1):
                time_ns, record = found[position]
                yield time_ns, offset, position, record

    def line_records(
        self, line: bytes, place: Callable[[], str], warn: Warn
    ) -> Iterator[tuple[int, Record]]:
        """``(time in ns, flat record)`` of one line that this search cannot skip; the
        line's problems reported through `warn` as ``place(): ...``.

        Fast path: msgspec checks the whole line's JSON and decodes its records into typed
        structs, which are flattened without a check per value (`_struct_record`); a
        selective search keeps the records undecoded and decodes only those holding its
        bytes. Anything the fast path does not take (a broken line, a value of another
        type, NaN, bytes) goes the way it went before: orjson or json, the OTLP JSON
        classes for what is unusual, the same warnings."""
        if not self.selective:
            try:
                found = _typed_line(line)
            except Exception:  # broken or unusual: decoded and reported as before
                found = None
            if found is None:
                found = self._slow_broad(line, place, warn)
            yield from found
            return
        if not self.line_may_match(line) or not line.strip():
            return
        try:
            payload = _RAW_LINE.decode(line)
        except (msgspec.DecodeError, msgspec.ValidationError):
            yield from self._slow_selective(line, place, warn)
            return
        for resource_logs in payload.resourceLogs:
            resource: Mapping[str, Any] | None = None
            for scope_logs in resource_logs.scopeLogs:
                for raw in scope_logs.logRecords:
                    data = bytes(raw)
                    if not self.line_may_match(data):
                        continue
                    try:
                        if resource is None:
                            resource = _resource_attributes_of(resource_logs.resource)
                        yield from self._raw_record(data, resource)
                    except (AttributeError, KeyError, TypeError, ValueError) as exc:
                        warn(f"{place()}: skipped a malformed OTLP payload ({_problem(exc)})")
                        return

    def _raw_record(self, data: bytes, resource: Mapping[str, Any]) -> Iterator[tuple[int, Record]]:
        try:
            found = _struct_record(_RECORD.decode(data), resource)
        except Exception:  # anything unusual: the dict path, then the message classes
            raw = loads(data)
            if not isinstance(raw, dict):
                raise TypeError("a log record that is not an object") from None
            yield from self._dict_records(raw, resource)
        else:
            yield found

    def _dict_records(
        self, raw: dict[str, Any], resource: Mapping[str, Any]
    ) -> Iterator[tuple[int, Record]]:
        if not self.record_may_match(raw):
            return
        try:
            yield _flat_record(raw, resource)
        except Exception:  # anything unusual: the message classes decide
            record = LogRecord.from_dict(raw)
            yield record_time_ns(record), flatten_record(record, resource)

    def _slow_broad(self, line: bytes, place: Callable[[], str], warn: Warn) -> list[Any]:
        payload = _payload_of(line, place, warn)
        if payload is None:
            return []
        try:
            return _fast_payload(payload)
        except Exception:  # anything unusual: the message classes decide, as before
            try:
                return payload_records(payload)
            except (AttributeError, KeyError, TypeError, ValueError) as exc:
                warn(f"{place()}: skipped a malformed OTLP payload ({_problem(exc)})")
                return []

    def _slow_selective(
        self, line: bytes, place: Callable[[], str], warn: Warn
    ) -> Iterator[tuple[int, Record]]:
        payload = _payload_of(line, place, warn)
        if payload is None:
            return
        try:
            yield from self._payload_records(payload)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            warn(f"{place()}: skipped a malformed OTLP payload ({_problem(exc)})")

    def _payload_records(self, payload: dict[str, Any]) -> Iterator[tuple[int, Record]]:
        for resource_logs in payload.get("resourceLogs") or ():
            resource: Mapping[str, Any] | None = None
            for scope_logs in resource_logs.get("scopeLogs") or ():
                for raw in scope_logs.get("logRecords") or ():
                    if not self.record_may_match(raw):
                        continue
                    if resource is None:
                        resource = _resource_attributes(resource_logs.get("resource"))
                    try:
                        yield _flat_record(raw, resource)
                    except Exception:  # anything unusual: the message classes decide
                        record = LogRecord.from_dict(raw)
                        yield record_time_ns(record), flatten_record(record, resource)


def _holds_any(needles: Sequence[bytes], lower: bool = False) -> Callable[[bytes], bool]:
    """Whether a line holds one of `needles` (in lower case if `lower`). Asked of every
    record of a line that holds a match (9 a line for an event), hence no generator for
    the usual single needle."""
    if len(needles) == 1:
        (needle,) = needles
        return (lambda line: needle in line.lower()) if lower else (lambda line: needle in line)
    if lower:
        return lambda line: any(needle in line.lower() for needle in needles)
    return lambda line: any(needle in line for needle in needles)


def _fast_payload(payload: dict[str, Any]) -> list[tuple[int, Record]]:
    """`payload_records(payload)` straight from the parsed JSON for a well-formed payload
    (the records' fields as the message classes check them; the scopes are not read);
    raises on anything else."""
    found = []
    for resource_logs in _list(payload.get("resourceLogs")):
        resource = _resource_attributes(_dict(resource_logs).get("resource"))
        for scope_logs in _list(resource_logs.get("scopeLogs")):
            for raw in _list(_dict(scope_logs).get("logRecords")):
                found.append(_flat_record(_dict(raw), resource))
    return found


# The fast path: msgspec structs of the OTLP JSON a log line holds (the fields the flat
# record reads; others, the scopes among them, are checked as JSON and skipped). A line or
# a record they do not take goes the dict way, then the message classes' (above).


_NULL = msgspec.Raw(b"null")


class _ArrayValue(msgspec.Struct):
    values: list[_AnyValue] = []


class _KeyValueList(msgspec.Struct):
    values: list[_KeyValue] = []


class _AnyValue(msgspec.Struct):
    stringValue: str | None = None  # noqa: N815 (the OTLP JSON names)
    intValue: int | str | None = None  # noqa: N815
    doubleValue: float | str | None = None  # noqa: N815
    boolValue: bool | None = None  # noqa: N815
    arrayValue: _ArrayValue | None = None  # noqa: N815
    kvlistValue: _KeyValueList | None = None  # noqa: N815
    bytesValue: str | None = None  # noqa: N815


class _KeyValue(msgspec.Struct):
    key: str | None = None
    value: _AnyValue | None = None


class _LogRecord(msgspec.Struct):
    timeUnixNano: int | str | None = None  # noqa: N815
    observedTimeUnixNano: int | str | None = None  # noqa: N815
    severityNumber: int | None = None  # noqa: N815
    severityText: str | None = None  # noqa: N815
    body: _AnyValue | None = None
    attributes: list[_KeyValue] | None = None
    traceId: str | None = None  # noqa: N815
    spanId: str | None = None  # noqa: N815
    eventName: str | None = None  # noqa: N815


class _ScopeLogs(msgspec.Struct):
    logRecords: list[_LogRecord] | None = None  # noqa: N815


class _ResourceLogs(msgspec.Struct):
    resource: msgspec.Raw = _NULL  # absent: null, as the dict path reads it
    scopeLogs: list[_ScopeLogs] | None = None  # noqa: N815


class _Payload(msgspec.Struct):
    resourceLogs: list[_ResourceLogs] | None = None  # noqa: N815


class _RawScopeLogs(msgspec.Struct):
    logRecords: list[msgspec.Raw] = []  # noqa: N815


class _RawResourceLogs(msgspec.Struct):
    resource: msgspec.Raw = _NULL  # absent: null, as the dict path reads it
    scopeLogs: list[_RawScopeLogs] = []  # noqa: N815


class _RawPayload(msgspec.Struct):
    resourceLogs: list[_RawResourceLogs] = []  # noqa: N815


_LINE = msgspec.json.Decoder(_Payload)
_RAW_LINE = msgspec.json.Decoder(_RawPayload)  # records kept as their bytes
_RECORD = msgspec.json.Decoder(_LogRecord)
_FIXED_KEYS = frozenset(
    ("time", "stream", "event", "severity", "severity_number", "trace_id", "span_id", "body")
)


def _typed_line(line: bytes) -> list[tuple[int, Record]]:
    """`_fast_payload(loads(line))` through the structs; raises on anything else."""
    found = []
    for resource_logs in _LINE.decode(line).resourceLogs or ():
        resource = _resource_attributes_of(resource_logs.resource)
        for scope_logs in resource_logs.scopeLogs or ():
            for record in scope_logs.logRecords or ():
                found.append(_struct_record(record, resource))
    return found


def _resource_attributes_of(raw: msgspec.Raw) -> dict[str, Any]:
    key = bytes(raw)
    found = _RESOURCES.get(key)
    if found is None:
        found = _RESOURCES[key] = _resource_attributes(orjson.loads(key))
    return found


def _struct_record(record: _LogRecord, resource: Mapping[str, Any]) -> tuple[int, Record]:
    """`_flat_record` of a record decoded into `_LogRecord`; raises where it raises."""
    attributes: dict[str, Any] = {}
    for pair in record.attributes or ():
        value = pair.value
        if value is not None and value.stringValue is not None:
            attributes[pair.key or ""] = value.stringValue
        else:
            attributes[pair.key or ""] = _struct_value(value)
    time_ns = _int64(record.timeUnixNano) or _int64(record.observedTimeUnixNano)
    severity = record.severityNumber
    if severity is not None and not 0 <= severity <= 24:
        raise ValueError("severityNumber")
    text = record.severityText
    trace_id, span_id = record.traceId, record.spanId  # _hex, inline: twice a record
    flat: Record = {
        "time": format_time(time_ns) if time_ns else None,
        "stream": attributes.get(STREAM_ATTRIBUTE),
        "event": record.eventName or attributes.get("event.action"),
        "severity": text or None,
        "severity_number": severity or SEVERITY_NUMBERS.get((text or "").upper()),
        "trace_id": (bytes.fromhex(trace_id).hex() or None) if trace_id else None,
        "span_id": (bytes.fromhex(span_id).hex() or None) if span_id else None,
        "body": _struct_value(record.body),
    }
    if _FIXED_KEYS.isdisjoint(attributes):
        flat.update(attributes)
    else:
        for key, value in attributes.items():
            flat.setdefault(key, value)
    for key in RESOURCE_KEYS:
        if key not in flat:
            flat[key] = resource.get(key)
    return time_ns, flat


def _struct_value(value: _AnyValue | None) -> Any:
    """`_flat_value` of an `_AnyValue`, same order of fields."""
    if value is None:
        return None
    if value.stringValue is not None:
        return value.stringValue
    if value.intValue is not None:
        return _int64(value.intValue)
    if (double := value.doubleValue) is not None:
        if type(double) is float:
            return double
        raise TypeError("doubleValue")  # "NaN" and the like: the message class
    if value.boolValue is not None:
        return value.boolValue
    if value.arrayValue is not None:
        return [_struct_value(item) for item in value.arrayValue.values]
    if value.kvlistValue is not None:
        return {(pair.key or ""): _struct_value(pair.value) for pair in value.kvlistValue.values}
    if value.bytesValue is not None:
        raise TypeError("bytesValue")  # re-encoded by the message class
    return None


def _problem(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _payload_of(line: bytes, place: Callable[[], str], warn: Warn) -> dict[str, Any] | None:
    """A line's JSON object, as `read_payloads` decodes and reports it; None for an empty
    or reported line."""
    if not line.strip():
        return None
    try:
        payload = loads(line)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        warn(f"{place()}: skipped a broken line ({getattr(exc, 'msg', exc)})")
        return None
    if not isinstance(payload, dict):
        warn(f"{place()}: skipped a line that is not an OTLP payload")
        return None
    return payload


def _forward_lines(path: Path, warn: Warn) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)`` from the first line on."""
    try:
        handle = path.open("rb", buffering=1 << 20)  # lines of up to a few MB
    except OSError as exc:
        warn(f"{path}: cannot be read ({exc.strerror or exc})")
        return
    with handle:
        yield from enumerate(handle, start=1)


SCAN_BLOCK = 256 << 10  # within the L2 cache: each block is copied, lowered, searched


def _scanned_lines(
    path: Path, warn: Warn, needles: tuple[bytes, ...], lower: bool
) -> Iterator[tuple[int, bytes]]:
    """`_forward_lines` that hold one of `needles` (others may come too): each block is
    searched whole (in lower case if `lower`), and only the lines around a find are split
    off; the newlines between them are counted for the line numbers. Python's own bytes
    search does it at several hundred MB/s, as grep -F would."""
    try:
        handle = path.open("rb", buffering=0)
    except OSError as exc:
        warn(f"{path}: cannot be read ({exc.strerror or exc})")
        return
    with handle:
        number, carry = 1, b""  # number: the line at the start of carry
        while True:
            block = handle.read(SCAN_BLOCK)
            data = carry + block if carry else block
            if not block:
                if data and any(needle in (data.lower() if lower else data) for needle in needles):
                    yield number, data  # the last line, unterminated
                return
            cut = data.rfind(b"\n") + 1
            if cut == 0:  # a line longer than a block
                carry = data
                continue
            searched = data.lower() if lower else data
            found = [searched.find(needle, 0, cut) for needle in needles]
            counted = 0
            while True:
                hits = [hit for hit in found if hit >= 0]
                if not hits:
                    break
                hit = min(hits)
                start = data.rfind(b"\n", 0, hit) + 1
                end = data.find(b"\n", hit) + 1
                number += data.count(b"\n", counted, start)
                counted = start
                yield number, data[start:end]
                found = [
                    searched.find(needle, end, cut) if 0 <= at < end else at
                    for needle, at in zip(needles, found, strict=True)
                ]
            number += data.count(b"\n", counted, cut)
            carry = data[cut:]


BACKWARD_BLOCK = 1 << 20


def _backward_lines(path: Path, warn: Warn) -> Iterator[tuple[int, bytes]]:
    """``(offset, line)`` from the last line back to the first, each line as the forward
    reading gives it (split at b"\\n" only, without it; an unterminated last line too);
    a line longer than a block (BACKWARD_BLOCK) is put together from several reads."""
    block = BACKWARD_BLOCK
    try:
        handle = path.open("rb", buffering=0)
    except OSError as exc:
        warn(f"{path}: cannot be read ({exc.strerror or exc})")
        return
    with handle:
        end = handle.seek(0, 2)
        carry = b""  # the end of a line whose start is in an earlier block
        while end > 0:
            start = max(0, end - block)
            handle.seek(start)
            data = handle.read(end - start) + carry
            end = start
            if start > 0:
                cut = data.find(b"\n")
                if cut < 0:
                    carry = data
                    continue
                carry, data, start = data[: cut + 1], data[cut + 1 :], start + cut + 1
            else:
                carry = b""
            lines = data.split(b"\n")
            position = start + len(data)
            last = lines.pop()  # after the last newline: an unterminated line, or b""
            if last:
                position -= len(last)
                yield position, last
            for line in reversed(lines):
                position -= len(line) + 1
                yield position, line


class _LineNumbers:
    """A line's number from its offset, worked out only when a warning needs it: the
    newlines before it are counted once over the whole reading (offsets come backward)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.known: tuple[int, int] | None = None  # (offset, newlines before it)

    def at(self, offset: int) -> int | str:
        try:
            with self.path.open("rb") as handle:
                if self.known is None or offset > self.known[0]:
                    self.known = (offset, _count_newlines(handle, 0, offset))
                else:
                    later, count = self.known
                    self.known = (offset, count - _count_newlines(handle, offset, later))
        except OSError:
            return f"byte {offset}"
        return self.known[1] + 1


def _count_newlines(handle: Any, start: int, end: int) -> int:
    handle.seek(start)
    count = 0
    while start < end:
        chunk = handle.read(min(BACKWARD_BLOCK, end - start))
        if not chunk:
            break
        count += chunk.count(b"\n")
        start += len(chunk)
    return count


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if type(value) is not list:
        raise TypeError("not a list")
    return value


_RESOURCES: dict[bytes, dict[str, Any]] = {}


def _resource_attributes(raw: Any) -> dict[str, Any]:
    """A resource's attributes, decoded once per distinct resource (a file has a few)."""
    key = orjson.dumps(raw)
    found = _RESOURCES.get(key)
    if found is None:
        decoded = ExportLogsServiceRequest.from_dict(
            {"resourceLogs": [{"resource": raw or {}}]}
        ).resource_logs[0]
        found = decode_attributes(decoded.resource.attributes if decoded.resource else [])
        if len(_RESOURCES) > 256:
            _RESOURCES.clear()
        _RESOURCES[key] = found
    return found


def _flat_record(raw: dict[str, Any], resource: Mapping[str, Any]) -> tuple[int, Record]:
    """`flatten_record(LogRecord.from_dict(raw), resource)` and its time, straight from the
    parsed JSON, for a well-formed record; raises on anything else (the caller then asks
    the message classes, which decode or report it)."""
    attributes: dict[str, Any] = {}
    for pair in raw.get("attributes") or ():
        key = pair.get("key")
        if key is not None and type(key) is not str:
            raise TypeError("key")
        attributes[key or ""] = _flat_value(pair.get("value"))
    time_ns = _int64(raw.get("timeUnixNano")) or _int64(raw.get("observedTimeUnixNano"))
    severity = raw.get("severityNumber")
    if severity is not None and (type(severity) is not int or not 0 <= severity <= 24):
        raise ValueError("severityNumber")
    text = _str(raw.get("severityText"))
    event = _str(raw.get("eventName"))
    trace_id, span_id = _hex(raw.get("traceId")), _hex(raw.get("spanId"))
    flat: Record = {
        "time": format_time(time_ns) if time_ns else None,
        "stream": attributes.get(STREAM_ATTRIBUTE),
        "event": event or attributes.get("event.action"),
        "severity": text or None,
        "severity_number": severity or SEVERITY_NUMBERS.get((text or "").upper()),
        "trace_id": trace_id or None,
        "span_id": span_id or None,
        "body": _flat_value(raw.get("body")),
    }
    for key, value in attributes.items():
        flat.setdefault(key, value)
    for key in RESOURCE_KEYS:
        flat.setdefault(key, resource.get(key))
    return time_ns, flat


def _flat_value(value: Any) -> Any:
    """`any_value(AnyValue.from_dict(value))`, same order of fields; raises where the
    message class would, or where it is not sure to decode the same way."""
    if value is None:
        return None
    if type(value) is not dict:
        raise TypeError("value")
    if (text := value.get("stringValue")) is not None:
        return _str(text)
    if (number := value.get("intValue")) is not None:
        return _int64(number)
    if (double := value.get("doubleValue")) is not None:
        if type(double) is float or type(double) is int:
            return float(double)
        raise TypeError("doubleValue")  # "NaN" and the like: the message class
    if (flag := value.get("boolValue")) is not None:
        if type(flag) is not bool:
            raise TypeError("boolValue")
        return flag
    if (array := value.get("arrayValue")) is not None:
        return [_flat_value(_dict(item)) for item in _dict(array).get("values") or ()]
    if (pairs := value.get("kvlistValue")) is not None:
        found = {}
        for pair in _dict(pairs).get("values") or ():
            found[_str(_dict(pair).get("key")) or ""] = _flat_value(pair.get("value"))
        return found
    if value.get("bytesValue") is not None:
        raise TypeError("bytesValue")  # re-encoded by the message class
    return None


def _dict(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise TypeError("not an object")
    return value


def _str(value: Any) -> str | None:
    if value is not None and type(value) is not str:
        raise TypeError("not a string")
    return value


def _int64(value: Any) -> int:
    if value is None:
        return 0
    if type(value) is int:
        return value
    if type(value) is str:
        return int(value)
    raise TypeError("not an int64")


def _hex(value: Any) -> str:
    if not value:
        return ""
    return bytes.fromhex(_str(value) or "").hex()


def _may_hold(raw: dict[str, Any], keys: Sequence[str], wanted: frozenset[str]) -> bool:
    """False when none of `keys` holds one of `wanted` (lower case) as `Filter` compares
    them (an absent key is ""); True also when a value is of a kind not checked here."""
    found = dict.fromkeys(keys, "")
    for pair in raw.get("attributes") or ():
        key = pair.get("key") if isinstance(pair, dict) else None
        if key not in found:
            continue
        value = pair.get("value") or {}
        if not isinstance(value, dict) or set(value) - {"stringValue", "intValue"}:
            return True
        if not value:  # decoded as None, compared as "None"
            found[key] = "None"
        elif "stringValue" in value:
            found[key] = value["stringValue"]
        elif "intValue" in value:
            try:
                found[key] = str(int(value["intValue"]))
            except (TypeError, ValueError):
                return True
    return any(str(text).lower() in wanted for text in found.values())


def _raw_attribute(raw: dict[str, Any], key: str) -> Any:
    for pair in raw.get("attributes") or ():
        if isinstance(pair, dict) and pair.get("key") == key:
            return (pair.get("value") or {}).get("stringValue")
    return None


def _ns(moment: datetime) -> int:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


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
